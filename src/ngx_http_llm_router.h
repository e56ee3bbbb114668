
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 */


#ifndef _NGX_HTTP_LLM_ROUTER_H_INCLUDED_
#define _NGX_HTTP_LLM_ROUTER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_llm_router_json.h"


#define NGX_HTTP_LLM_API_OPENAI        0
#define NGX_HTTP_LLM_API_ANTHROPIC     1
#define NGX_HTTP_LLM_API_GEMINI        2   /* native generateContent */
#define NGX_HTTP_LLM_API_AZURE         3   /* OpenAI's, deployment URLs */

/* inbound endpoints, relative to the location */
#define NGX_HTTP_LLM_EP_CHAT           0
#define NGX_HTTP_LLM_EP_COMPLETIONS    1
#define NGX_HTTP_LLM_EP_EMBEDDINGS     2
#define NGX_HTTP_LLM_EP_RESPONSES      3
#define NGX_HTTP_LLM_EP_MESSAGES       4
#define NGX_HTTP_LLM_EP_MODELS         5
#define NGX_HTTP_LLM_EP_UNKNOWN        6

/* attempt outcomes that are not HTTP statuses */
#define NGX_HTTP_LLM_OUT_ERROR         1
#define NGX_HTTP_LLM_OUT_TIMEOUT       2
#define NGX_HTTP_LLM_OUT_DOWN          3
#define NGX_HTTP_LLM_OUT_HEDGED        4   /* the other attempt won */

#define NGX_HTTP_LLM_DEFAULT_ZONE_SIZE  (10 * 1024 * 1024)
#define NGX_HTTP_LLM_ANTHROPIC_VERSION  "2023-06-01"
#define NGX_HTTP_LLM_MAX_ATTEMPTS       16
#define NGX_HTTP_LLM_MAX_RESERVATIONS   48
#define NGX_HTTP_LLM_HIST_BUCKETS       10
#define NGX_HTTP_LLM_DEFAULT_MAX_TOKENS 4096
#define NGX_HTTP_LLM_MODEL_MAX          256
#define NGX_HTTP_LLM_RETRY_AFTER_MAX    600     /* seconds */

/* ngx_cpymem() of a string that may be empty, whose data is then NULL */
#define ngx_http_llm_cpystr(dst, s)                                           \
    ((s)->len ? ngx_cpymem(dst, (s)->data, (s)->len) : (u_char *) (dst))

/*
 * data (len bytes) starts with the lowercase literal lit, in any case:
 * compared at once as clients and providers send it, else byte by byte
 */
#define ngx_http_llm_prefix_ci(data, len, lit)                                \
    ((len) >= sizeof(lit) - 1                                                 \
     && (ngx_memcmp(data, lit, sizeof(lit) - 1) == 0                          \
         || ngx_strncasecmp(data, (u_char *) lit, sizeof(lit) - 1) == 0))

/* kinds of series in the zone; labels are fields separated by '\0' */
#define NGX_HTTP_LLM_SERIES_REQUESTS    1   /* route provider model status */
#define NGX_HTTP_LLM_SERIES_TENANT      2   /* tenant model */
#define NGX_HTTP_LLM_SERIES_BUDGET      3   /* budget key metric */

/* values of REQUESTS and TENANT series */
#define NGX_HTTP_LLM_V_REQUESTS         0
#define NGX_HTTP_LLM_V_PROMPT           1
#define NGX_HTTP_LLM_V_COMPLETION       2
#define NGX_HTTP_LLM_V_CACHED           3
#define NGX_HTTP_LLM_V_COST             4   /* nano-USD */
#define NGX_HTTP_LLM_V_USAGE_MISSING    5
#define NGX_HTTP_LLM_V_ERRORS           6   /* fleet counters only */

/* values of BUDGET series */
#define NGX_HTTP_LLM_V_USED             0
#define NGX_HTTP_LLM_V_RESERVED         1
#define NGX_HTTP_LLM_V_REJECTED         2
#define NGX_HTTP_LLM_V_LIMIT            3   /* copied for status pages */
#define NGX_HTTP_LLM_V_WINDOW_END       4   /* end of the current window */

#define NGX_HTTP_LLM_SERIES_NVALUES     8

/* budget metrics; their names: ngx_http_llm_budget_metric_names[] */
#define NGX_HTTP_LLM_METRIC_TOKENS      0
#define NGX_HTTP_LLM_METRIC_REQUESTS    1
#define NGX_HTTP_LLM_METRIC_COST        2
#define NGX_HTTP_LLM_NMETRICS           3
/* the metrics with rate-limit headers: tokens and requests */
#define NGX_HTTP_LLM_RL_METRICS         2

/* fail_on statuses 400..655, a bit each */
#define NGX_HTTP_LLM_FAIL_STATUS_WORDS  4

/* budget windows */
#define NGX_HTTP_LLM_WINDOW_MONTH       0   /* calendar month, UTC */

/* llm_route_weighted select= */
#define NGX_HTTP_LLM_SELECT_WEIGHTED    0
#define NGX_HTTP_LLM_SELECT_LATENCY     1
#define NGX_HTTP_LLM_SELECT_COST        2
#define NGX_HTTP_LLM_SELECT_HASH        3


/*
 * What active health checks know of one thing probed: a provider, one of
 * its servers or one of its keys.  Written by the prober under the zone's
 * lock; "down" is read without it by requests.
 */
typedef struct {
    ngx_atomic_t                     down;
    ngx_uint_t                       passes;     /* consecutive */
    ngx_uint_t                       fails;      /* consecutive */
    time_t                           since;      /* of the current state */
    time_t                           checked;    /* last probe, 0: none */
    ngx_uint_t                       last;       /* status or OUT_* */
    ngx_msec_t                       latency;    /* of the last probe */
    ngx_atomic_t                     probes;
    ngx_atomic_t                     probe_failures;
} ngx_http_llm_health_t;


/* per provider, in the zone; matched by name across reloads */
typedef struct {
    ngx_queue_t                      queue;
    ngx_uint_t                       fails;
    ngx_msec_t                       fail_start;
    ngx_msec_t                       open_until;     /* 0: closed */
    ngx_msec_t                       trial_until;    /* a trial in flight */
    ngx_uint_t                       circuit_pending;  /* llm_redis: this
                                                          node's last change
                                                          is not on Redis
                                                          yet */
    ngx_atomic_t                     key_next;
    ngx_uint_t                       nkeys;
    ngx_msec_t                      *key_cool;

    /* active health checks */
    ngx_http_llm_health_t            health;
    ngx_uint_t                       nservers;
    ngx_atomic_t                     servers_down;
    ngx_http_llm_health_t           *servers;
    ngx_uint_t                       nhkeys;
    ngx_http_llm_health_t           *keys;
    uint64_t                         fleet_version;  /* llm_redis: of the
                                                        last health change
                                                        known */
    int64_t                          fleet_changed;  /* ms, wall clock, of
                                                        this node's last
                                                        change */
    ngx_uint_t                       fleet_pending;  /* that change is not
                                                        on Redis yet */

    /* statistics */
    ngx_atomic_t                     attempts;
    ngx_atomic_t                     failures;
    int64_t                          circuit_opened;
    int64_t                          latency[NGX_HTTP_LLM_HIST_BUCKETS];
    int64_t                          latency_sum;    /* ms */
    int64_t                          latency_count;
    int64_t                          ttft[NGX_HTTP_LLM_HIST_BUCKETS];
    int64_t                          ttft_sum;       /* ms */
    int64_t                          ttft_count;

    size_t                           name_len;
    u_char                           name[1];
} ngx_http_llm_shm_provider_t;


typedef struct {
    ngx_rbtree_node_t                node;   /* key: hash of type, label */
    ngx_queue_t                      queue;  /* least recently used last */
    uint64_t                         generation;  /* of the last use */
    uint32_t                         type;
    uint32_t                         len;    /* of label */
    time_t                           window; /* budgets: window start */
    int64_t                          v[NGX_HTTP_LLM_SERIES_NVALUES];
    u_char                           label[1];
} ngx_http_llm_series_t;


/*
 * llm_redis: this node's request counters on their way to the fleet's
 * totals (REQUESTS values, and errors), and those totals as last read
 */
typedef struct {
    int64_t                          pending[NGX_HTTP_LLM_SERIES_NVALUES];
    int64_t                          batch[NGX_HTTP_LLM_SERIES_NVALUES];
    uint64_t                         batch_id;   /* sent, not answered */
    int64_t                          node[NGX_HTTP_LLM_SERIES_NVALUES];
    int64_t                          total[NGX_HTTP_LLM_SERIES_NVALUES];
    time_t                           synced;     /* total read; 0: never */
    int64_t                          nodes;
} ngx_http_llm_fleet_counts_t;


typedef struct {
    uint32_t                         magic;
    uint32_t                         version;
    ngx_queue_t                      providers;
    ngx_rbtree_t                     series;
    ngx_rbtree_node_t                sentinel;
    ngx_queue_t                      lru;
    uint64_t                         generation;  /* of the lock holder */
    int64_t                          nseries;
    int64_t                          evicted;
    int64_t                          failovers;
    int64_t                          budget_rejections;
    int64_t                          usage_missing;
    time_t                           started;
    ngx_msec_t                       state_saved;
    ngx_queue_t                      latency;  /* ngx_http_llm_latency_t */
    ngx_pid_t                        prober;         /* lease holder */
    ngx_msec_t                       prober_until;   /* lease expiry */
    ngx_http_llm_fleet_counts_t      fleet;
} ngx_http_llm_shctx_t;


/* select=latency: time to first byte of one target, in the zone */
typedef struct {
    ngx_queue_t                      queue;
    ngx_atomic_t                     ewma;      /* microseconds */
    ngx_atomic_t                     samples;
    ngx_atomic_t                     updated;   /* msec of the last sample */
    ngx_atomic_t                     explore;   /* msec of the last probe */
    size_t                           len;
    u_char                           name[1];   /* provider '\0' model */
} ngx_http_llm_latency_t;


/*
 * The kinds of series (NGX_HTTP_LLM_SERIES_*), by type: the fields of
 * their labels and what each may hold, whether they have a window and
 * which value lives only as long as the requests; the state file (load
 * and save) and the status pages read them here.
 */
#define NGX_HTTP_LLM_SERIES_NTYPES      4
#define NGX_HTTP_LLM_SERIES_MAXFIELDS   4

/* what a label field may hold (checked when a state file is loaded) */
#define NGX_HTTP_LLM_FIELD_ANY          0
#define NGX_HTTP_LLM_FIELD_NONEMPTY     1
#define NGX_HTTP_LLM_FIELD_STATUS       2   /* 1 to 3 digits */
#define NGX_HTTP_LLM_FIELD_METRIC       3   /* a budget metric's name */

typedef struct {
    ngx_str_t                        name;
    ngx_uint_t                       nfields;
    const char                      *fields[NGX_HTTP_LLM_SERIES_MAXFIELDS];
    ngx_uint_t                       check[NGX_HTTP_LLM_SERIES_MAXFIELDS];
    ngx_uint_t                       window;     /* a window start */
    ngx_int_t                        transient;  /* a value, or -1 */
} ngx_http_llm_series_type_t;

extern const ngx_http_llm_series_type_t
    ngx_http_llm_series_types[NGX_HTTP_LLM_SERIES_NTYPES];

/* "tokens", "requests", "cost", by NGX_HTTP_LLM_METRIC_* */
extern ngx_str_t  ngx_http_llm_budget_metric_names[NGX_HTTP_LLM_NMETRICS];


/* histogram bucket bounds, in milliseconds; the last bucket is +Inf */
extern ngx_msec_t  ngx_http_llm_hist_bounds[NGX_HTTP_LLM_HIST_BUCKETS - 1];


/* llm_upstream's check parameters */
typedef struct {
    ngx_str_t                        uri;       /* as sent */
    ngx_str_t                        body;      /* check_body: POST it */
    ngx_msec_t                       interval;
    ngx_msec_t                       timeout;
    ngx_uint_t                       rise;
    ngx_uint_t                       fall;
    ngx_str_t                        given_uri; /* check=, if any */
    ngx_str_t                        body_file;
    unsigned                         on:1;
} ngx_http_llm_check_t;


typedef struct {
    ngx_str_t                        name;
    ngx_str_t                        label;     /* name, as series label */
    ngx_uint_t                       api;
    ngx_http_upstream_srv_conf_t    *uscf;

    ngx_str_t                        host;         /* SNI and TLS check */
    ngx_str_t                        host_header;  /* host[:port] */
    in_port_t                        port;
    ngx_flag_t                       tls;
    ngx_str_t                        path;         /* no trailing '/' */
    ngx_str_t                        uri[NGX_HTTP_LLM_EP_MODELS];

    ngx_array_t                     *keys;    /* ngx_str_t, header values */

    ngx_int_t                        max_tokens_default;  /* api=anthropic */
    ngx_str_t                        api_version;  /* api=azure: the args */
    /* serves the Responses API itself (else it gets chat completions) */
    ngx_flag_t                       responses;

    ngx_uint_t                       max_fails;
    ngx_msec_t                       fail_timeout;
    uint64_t                        fail_status[NGX_HTTP_LLM_FAIL_STATUS_WORDS];
    unsigned                         fail_error:1;
    unsigned                         fail_timeout_on:1;

    ngx_msec_t                       connect_timeout;  /* UNSET: location's */
    ngx_msec_t                       read_timeout;

    ngx_http_llm_check_t            *check;    /* NULL: no active checks */
    void                            *probes;   /* this worker's, by server */
    ngx_uint_t                       nprobes;

    ngx_http_llm_shm_provider_t     *shm;
    ngx_slab_pool_t                 *shpool;
    ngx_uint_t                       index;

    u_char                          *file_name;
    ngx_uint_t                       line;
} ngx_http_llm_provider_t;


typedef struct {
    ngx_str_t                        provider_name;
    ngx_str_t                        model;       /* "*": any model */
    int64_t                          input;       /* micro-USD per 1M */
    int64_t                          output;
    int64_t                          cached_input;
    u_char                          *file_name;
    ngx_uint_t                       line;
} ngx_http_llm_price_t;


typedef struct {
    int64_t                          limit;   /* tokens, requests, nano-USD */
    time_t                           window;      /* seconds; 0: month */
    unsigned                         set:1;
} ngx_http_llm_limit_t;


typedef struct {
    ngx_str_t                        name;
    ngx_http_complex_value_t         key;
    ngx_http_llm_limit_t             limit[NGX_HTTP_LLM_NMETRICS];
    unsigned                         dry_run:1;
    u_char                          *file_name;
    ngx_uint_t                       line;
} ngx_http_llm_budget_t;


/* what a request reserved under one budget limit */
typedef struct {
    ngx_http_llm_budget_t           *budget;
    ngx_uint_t                       metric;
    ngx_str_t                        key;
    int64_t                          amount;
} ngx_http_llm_reservation_t;


typedef struct {
    ngx_str_t                        provider_name;
    ngx_http_llm_provider_t         *provider;
    ngx_str_t                        model;     /* empty: client's model */
    ngx_str_t                        model_label;
    ngx_http_llm_price_t            *price;     /* for "model", if any */
    ngx_int_t                        weight;
    ngx_int_t                        current_weight;  /* per worker */
    ngx_http_llm_latency_t          *latency;   /* select=latency */
    unsigned                         backup:1;
} ngx_http_llm_target_t;


/* select=hash: one point of the ring */
typedef struct {
    uint32_t                         hash;
    ngx_http_llm_target_t           *target;
} ngx_http_llm_point_t;


typedef struct {
    ngx_str_t                        name;      /* as written */
    ngx_str_t                        label;     /* name, as series label */
    ngx_http_regex_t                *regex;
    ngx_array_t                      targets;   /* ngx_http_llm_target_t */
    ngx_uint_t                       nprimary;
    ngx_uint_t                       select;    /* NGX_HTTP_LLM_SELECT_* */
    ngx_http_complex_value_t        *hash;      /* hash= */
    ngx_msec_t                       hedge;     /* hedge=, 0: off */
    ngx_http_llm_point_t            *points;    /* select=hash ring */
    ngx_uint_t                       npoints;
    unsigned                         weighted:1;  /* block form */
    unsigned                         select_set:1;
    u_char                          *file_name;
    ngx_uint_t                       line;
} ngx_http_llm_route_t;


typedef struct {
    ngx_array_t                      exact;   /* ngx_http_llm_route_t */
    ngx_array_t                      regex;   /* ngx_http_llm_route_t */
    ngx_http_llm_route_t            *dflt;
    unsigned                         resolved:1;
} ngx_http_llm_routes_t;


typedef struct {
    ngx_array_t                      providers;  /* ngx_http_llm_provider_t */
    ngx_array_t                      prices;     /* ngx_http_llm_price_t */
    ngx_array_t                      budgets;    /* ngx_http_llm_budget_t * */
    ngx_shm_zone_t                  *shm_zone;
    ngx_http_llm_shctx_t            *sh;
    ngx_slab_pool_t                 *shpool;
    ngx_str_t                        state_path;    /* full name; or empty */
    ngx_msec_t                       state_interval;
    ngx_event_t                     *state_event;
    ngx_http_upstream_srv_conf_t    *router_upstream;
    ngx_array_t                      latency;   /* select=latency targets */
    void                           **probe_loc_conf;  /* a router location */
    ngx_msec_t                       probe_tick;   /* 0: no active checks */
    void                            *redis;   /* llm_redis, or NULL */
} ngx_http_llm_main_conf_t;


typedef struct ngx_http_llm_client_keys_s  ngx_http_llm_client_keys_t;
typedef struct ngx_http_llm_client_key_s   ngx_http_llm_client_key_t;


typedef struct {
    ngx_flag_t                       enabled;
    ngx_http_llm_routes_t           *routes;
    ngx_http_complex_value_t        *route_key;
    ngx_http_llm_client_keys_t      *client_keys;  /* NULL: off */
    ngx_array_t                     *budgets;  /* ngx_http_llm_budget_t */
    ngx_uint_t                       status_format;  /* llm_status */
    u_char                          *file_name;     /* of llm_router */
    ngx_uint_t                       line;
} ngx_http_llm_loc_conf_t;


/* one attempt at one provider */
typedef struct {
    ngx_http_llm_target_t           *target;
    ngx_uint_t                       status;  /* HTTP status or OUT_* */
    ngx_uint_t                       key;     /* position + 1; 0: one key */
} ngx_http_llm_attempt_t;


typedef struct ngx_http_llm_ctx_s  ngx_http_llm_ctx_t;

/* the usage scanner of a JSON answer (usage.c) */
typedef struct ngx_http_llm_json_usage_s  ngx_http_llm_json_usage_t;

/* a hedged request's held attempt (hedge.c) */
typedef struct ngx_http_llm_hedge_s  ngx_http_llm_hedge_t;


/*
 * The router's peer data: the current provider's balancer, whose
 * callbacks and data are saved here and called by the router's own
 * (as ngx_http_upstream_keepalive_module does).
 */
typedef struct {
    ngx_http_llm_ctx_t              *ctx;
    void                            *data;
    ngx_event_get_peer_pt            get;
    ngx_event_free_peer_pt           free;
    ngx_event_notify_peer_pt         notify;
#if (NGX_HTTP_SSL)
    ngx_event_set_peer_session_pt    set_session;
    ngx_event_save_peer_session_pt   save_session;
#endif
} ngx_http_llm_peer_t;


/*
 * The provider's balancer is done with the request's connection (a hedge
 * that won took it over): nothing is delegated to it any more.  The
 * router's ctx stays.
 */
static ngx_inline void
ngx_http_llm_peer_forget(ngx_http_llm_peer_t *peer)
{
    peer->data = NULL;
    peer->get = NULL;
    peer->free = NULL;
    peer->notify = NULL;
#if (NGX_HTTP_SSL)
    peer->set_session = NULL;
    peer->save_session = NULL;
#endif
}


/*
 * A tree's key for a string: 8 bytes a round (a zone series' label, a
 * lease's Redis key: tens of bytes, hashed for every request).  Equal
 * hashes are told apart by comparing the strings, so a collision costs a
 * compare, never a wrong node; the value never leaves the process' memory
 * and zone.
 */
static ngx_inline uint32_t
ngx_http_llm_hash(uint64_t seed, u_char *p, size_t len)
{
    uint64_t  h, w;

    h = seed * 0x9e3779b97f4a7c15ULL ^ len;

    for ( /* void */ ; len >= 8; len -= 8, p += 8) {
        ngx_memcpy(&w, p, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }

    for (w = 0; len; len--) {
        w = (w << 8) | p[len - 1];
    }

    h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 29;

    return (uint32_t) (h ^ (h >> 32));
}


/* usage and cost of the answer, read by the filters */
typedef struct {
    int64_t                          prompt_tokens;
    int64_t                          completion_tokens;
    int64_t                          cached_tokens;
    int64_t                          cost;          /* nano-USD */
    ngx_msec_t                       ttft;          /* ms */
    ngx_http_llm_json_usage_t       *json;     /* scanner of a JSON answer */
    unsigned                         seen:1;
    unsigned                         ttft_set:1;
    unsigned                         json_watch:1;  /* a JSON answer */
} ngx_http_llm_usage_t;


/* the event stream filter: a partial event held or inspected */
typedef struct {
    ngx_chain_t                     *free;       /* copies, reused */
    ngx_chain_t                     *busy;
    u_char                          *carry;      /* partial event */
    size_t                           carry_len;
    size_t                           carry_size;
    u_char                          *join;       /* joined data lines */
    size_t                           join_size;
    unsigned                         active:1;   /* text/event-stream */
    unsigned                         done:1;     /* terminal event seen */
    unsigned                         unframed:1; /* close-delimited */
    unsigned                         line_started:1;
    unsigned                         cr:1;       /* read ended with CR */
    unsigned                         cr_ended:1; /* ... ending an event */
    unsigned                         cr_drop:1;  /* ... that was dropped */
    unsigned                         carry_overflow:1;
} ngx_http_llm_sse_t;


/* the router's own JSON error, in the client's API format */
typedef struct {
    ngx_buf_t                       *body;     /* to send */
    ngx_str_t                        message;
    ngx_str_t                        code;
    ngx_str_t                        param;
    unsigned                         sent:1;
} ngx_http_llm_error_t;


/* what the request reserved in its budgets, and the rate-limit headers */
typedef struct {
    ngx_http_llm_reservation_t      *reservations;
    ngx_uint_t                       nreservations;
    int64_t                          rl_limit[NGX_HTTP_LLM_RL_METRICS];
    int64_t                          rl_remaining[NGX_HTTP_LLM_RL_METRICS];
    time_t                           rl_reset[NGX_HTTP_LLM_RL_METRICS];
    ngx_uint_t                       retry_after;   /* of a refusal, s */
    void                            *fleet;  /* ngx_http_llm_fleet_req_t */
    /* a reservation answered later (Redis): the request goes on here */
    void                           (*done)(ngx_http_request_t *r,
                                           ngx_http_llm_ctx_t *ctx,
                                           ngx_int_t rc);
    unsigned                         rl_set:NGX_HTTP_LLM_RL_METRICS;
    unsigned                         rl_sent:1;
    unsigned                         fleet_local:1; /* Redis down: share */
} ngx_http_llm_budget_state_t;


/*
 * The request context.  Its parts: the client's request and its plan;
 * the balancer's wrapping of the provider's balancer (peer); the budgets'
 * reservations (budget); the answer's usage (usage); the event stream
 * (sse); the router's error (error).
 */
struct ngx_http_llm_ctx_s {
    ngx_http_request_t              *request;
    ngx_http_llm_loc_conf_t         *lcf;
    ngx_uint_t                       endpoint;
    ngx_uint_t                       api;       /* inbound API style */

    /* the client's body and what the scanner found in it */
    u_char                          *body;
    size_t                           body_len;
    ngx_http_llm_json_doc_t          doc;
    ngx_str_t                        model;
    ngx_str_t                        route_key;
    ngx_http_llm_route_t            *route;
    ngx_str_t                        tenant;     /* from llm_client_keys */
    ngx_str_t                        cache_key;  /* $llm_cache_key */
    ngx_http_llm_client_key_t       *client_key;

    /* candidate order for this request */
    ngx_http_llm_target_t           *plan[NGX_HTTP_LLM_MAX_ATTEMPTS];
    ngx_uint_t                       nplan;
    ngx_uint_t                       next;      /* next plan index */
    ngx_http_llm_target_t           *target;    /* current target */
    ngx_http_llm_target_t           *built;     /* body built for */
    ngx_str_t                        upstream_model;
    ngx_str_t                        key;       /* current key value */
    ngx_uint_t                       key_index;
    ngx_uint_t                       key_retry_index;  /* with key_retry */
    uint64_t                         keys_tried;       /* of the target */
    ngx_http_upstream_conf_t        *conf;      /* the location's */
    ngx_http_upstream_conf_t        *conf_copy; /* provider's timeouts */

    ngx_http_llm_attempt_t           attempts[NGX_HTTP_LLM_MAX_ATTEMPTS];
    ngx_uint_t                       nattempts;

    /* the balancer's wrapping of the provider's, and proxy's callbacks */
    ngx_http_llm_peer_t              peer;
    ngx_int_t                      (*process_header)(ngx_http_request_t *r);
    ngx_int_t                      (*reinit_request)(ngx_http_request_t *r);
    ngx_uint_t                       tries;
    ngx_uint_t                       log_level;
    ngx_msec_t                       retry_after;   /* from a 429/503 */
    ngx_http_llm_hedge_t            *hedge;         /* hedge= state */

    /* API translation (ngx_http_llm_xlate_ctx_t), NULL: never needed */
    void                            *xlate;

    ngx_http_llm_budget_state_t      budget;
    ngx_http_llm_usage_t             usage;
    ngx_http_llm_sse_t               sse;
    ngx_http_llm_error_t             error;

    unsigned                         stream:1;
    unsigned                         strip_usage:1;
    unsigned                         client_usage:1;
    unsigned                         got_first_get:1;
    unsigned                         recorded:1;   /* attempt classified */
    unsigned                         key_retry:1;  /* same target, next key */
    unsigned                         stop:1;       /* no more attempts */
    unsigned                         refused:1;    /* 401/402/403 */
    unsigned                         forced_502:1; /* failure as a 502 */
    unsigned                         force:1;      /* all circuits open */
    unsigned                         exhausted:1;
    unsigned                         log_muted:1;
    unsigned                         proxied:1;    /* reached proxy_pass */
    unsigned                         finalized:1;
    unsigned                         served:1;     /* 2xx from a provider */
    unsigned                         answer_open:1; /* its end decides the
                                                       provider's circuit */
    unsigned                         body_ready:1;
    unsigned                         waiting_body:1;
    unsigned                         cache_hit:1;  /* from proxy_cache */
    unsigned                         xlate_on:1;   /* answer translated */
    ngx_int_t                        status;  /* rewrite handler's result */
};


typedef struct {
    const char                      *name;
    ngx_uint_t                       api;
    const char                      *host;
    in_port_t                        port;
    ngx_flag_t                       tls;
    const char                      *path;
    /* the provider's Anthropic-compatible endpoint, for api=anthropic */
    const char                      *anthropic_host;   /* NULL: host */
    const char                      *anthropic_path;   /* NULL: none */
} ngx_http_llm_preset_t;


/* module */
extern ngx_module_t  ngx_http_llm_router_module;
extern ngx_str_t     ngx_http_llm_endpoint_names[];

/* helpers shared by the layers (util.c) */
ngx_http_llm_ctx_t *ngx_http_llm_get_ctx(ngx_http_request_t *r);
ngx_http_llm_ctx_t *ngx_http_llm_create_ctx(ngx_http_request_t *r);
ngx_table_elt_t *ngx_http_llm_find_header(ngx_list_t *headers,
    ngx_str_t *name);
u_char *ngx_http_llm_conf_line(u_char *pos, u_char *end, u_char **s,
    u_char **e);
ngx_int_t ngx_http_llm_key_file_read(ngx_conf_t *cf, u_char *name,
    ngx_str_t *what, size_t max, ngx_str_t *content);
void ngx_http_llm_key_file_wipe(ngx_str_t *content);
u_char *ngx_http_llm_label_utf8(u_char *p, u_char *end, u_char *s,
    size_t len);
ngx_int_t ngx_http_llm_label_make(ngx_pool_t *pool, ngx_str_t *name,
    ngx_str_t *label);
time_t ngx_http_llm_retry_after_parse(u_char *p, size_t len, time_t now);

/* llm_upstream (presets.c: its tables) */
#define NGX_HTTP_LLM_AZURE_API_VERSION  "2024-10-21"
extern ngx_http_llm_preset_t  ngx_http_llm_presets[];
extern const char            *ngx_http_llm_responses_presets[];
extern ngx_str_t              ngx_http_llm_api_names[];
char *ngx_http_llm_upstream_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_http_llm_provider_t *ngx_http_llm_find_provider(
    ngx_http_llm_main_conf_t *lmcf, ngx_str_t *name);
ngx_int_t ngx_http_llm_read_key_file(ngx_conf_t *cf,
    ngx_http_llm_provider_t *p, ngx_str_t *name);   /* fuzz/fuzz_keys.c */
ngx_uint_t ngx_http_llm_provider_fails_on(ngx_http_llm_provider_t *p,
    ngx_uint_t outcome);

/* llm_route */
char *ngx_http_llm_route_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_llm_routes_resolve(ngx_conf_t *cf,
    ngx_http_llm_routes_t *routes);
ngx_http_llm_route_t *ngx_http_llm_route_find(ngx_http_request_t *r,
    ngx_http_llm_routes_t *routes, ngx_str_t *key);
void ngx_http_llm_route_plan(ngx_http_llm_route_t *route,
    ngx_http_llm_ctx_t *ctx);

/* select=, hash=, hedge= */
ngx_int_t ngx_http_llm_select_param(ngx_conf_t *cf,
    ngx_http_llm_route_t *route, ngx_str_t *value);
ngx_int_t ngx_http_llm_select_resolve(ngx_conf_t *cf,
    ngx_http_llm_main_conf_t *lmcf, ngx_http_llm_route_t *route);
ngx_int_t ngx_http_llm_select_init_zone(ngx_http_llm_main_conf_t *lmcf);
void ngx_http_llm_select_order(ngx_http_llm_route_t *route,
    ngx_http_llm_ctx_t *ctx);
void ngx_http_llm_select_sample(ngx_http_request_t *r,
    ngx_http_llm_target_t *t, ngx_uint_t outcome);

/* request path (request.c) */
ngx_int_t ngx_http_llm_rewrite_handler(ngx_http_request_t *r);
ngx_http_llm_target_t *ngx_http_llm_next_target(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, ngx_uint_t force);

/* the request a provider gets (build.c) */
ngx_int_t ngx_http_llm_build_request(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, ngx_http_llm_target_t *t);

/* balancer */
ngx_int_t ngx_http_llm_balancer_init(ngx_conf_t *cf,
    ngx_http_upstream_srv_conf_t *us);

/* filters */
ngx_int_t ngx_http_llm_filter_init(ngx_conf_t *cf);

/* API translation */
ngx_int_t ngx_http_llm_xlate_uri(ngx_http_request_t *r,
    ngx_http_llm_provider_t *prov, ngx_uint_t endpoint, ngx_str_t *model,
    ngx_uint_t stream);
ngx_int_t ngx_http_llm_xlate_build(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, ngx_http_llm_target_t *t);
ngx_uint_t ngx_http_llm_xlate_serves(ngx_http_llm_ctx_t *ctx,
    ngx_http_llm_provider_t *prov);
ngx_int_t ngx_http_llm_xlate_refused(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx);
ngx_int_t ngx_http_llm_xlate_header(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx);
ngx_int_t ngx_http_llm_xlate_body(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, ngx_chain_t *in,
    ngx_http_output_body_filter_pt next);

/* errors */
ngx_int_t ngx_http_llm_set_error(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, ngx_uint_t status, const char *code,
    const char *param, const char *fmt, ...);
ngx_str_t *ngx_http_llm_error_quote(ngx_pool_t *pool, ngx_str_t *s);
ngx_int_t ngx_http_llm_error_response(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx);
ngx_buf_t *ngx_http_llm_error_body(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, ngx_uint_t status);
ngx_int_t ngx_http_llm_attempts_string(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, ngx_str_t *s);

/* llm_zone (shm.c) */
char *ngx_http_llm_zone_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_llm_zone_default(ngx_conf_t *cf,
    ngx_http_llm_main_conf_t *lmcf);

/* circuits and keys in the zone (circuit.c) */
ngx_uint_t ngx_http_llm_circuit_allow(ngx_http_llm_provider_t *p);
void ngx_http_llm_circuit_answer_end(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, ngx_uint_t complete);
void ngx_http_llm_circuit_result(ngx_http_llm_provider_t *p, ngx_log_t *log,
    ngx_uint_t failed, ngx_msec_t retry_after);
ngx_uint_t ngx_http_llm_key_pick(ngx_http_llm_provider_t *p);
ngx_int_t ngx_http_llm_key_next(ngx_http_llm_provider_t *p,
    ngx_uint_t current, uint64_t tried);
void ngx_http_llm_fleet_circuit(ngx_http_llm_provider_t *p);
void ngx_http_llm_fleet_health(ngx_http_llm_provider_t *p);
void ngx_http_llm_key_cool(ngx_http_llm_provider_t *p, ngx_log_t *log,
    ngx_uint_t key, ngx_msec_t duration);

/* active health checks */
ngx_int_t ngx_http_llm_health_param(ngx_conf_t *cf,
    ngx_http_llm_provider_t *prov, ngx_str_t *value);
ngx_int_t ngx_http_llm_health_conf(ngx_conf_t *cf,
    ngx_http_llm_main_conf_t *lmcf, ngx_http_llm_provider_t *prov,
    const char *preset);
ngx_int_t ngx_http_llm_health_init_zone_locked(ngx_slab_pool_t *shpool,
    ngx_http_llm_provider_t *prov, ngx_http_llm_shm_provider_t *node);
ngx_int_t ngx_http_llm_health_init_process(ngx_cycle_t *cycle);
void ngx_http_llm_health_exit_process(ngx_cycle_t *cycle);
ngx_int_t ngx_http_llm_health_get(ngx_http_llm_provider_t *prov,
    ngx_peer_connection_t *pc, ngx_event_get_peer_pt get,
    ngx_event_free_peer_pt free, void *data);

#define ngx_http_llm_health_down(p)                                          \
    ((p)->check && (p)->shm && (p)->shm->health.down)

#define ngx_http_llm_key_bad(n, k)                                           \
    ((n)->keys && (k) < (n)->nhkeys && (n)->keys[k].down)

/* llm_client_keys */
char *ngx_http_llm_client_keys_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_llm_client_key_check(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx);
ngx_int_t ngx_http_llm_client_model_check(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, ngx_str_t *model);
ngx_uint_t ngx_http_llm_client_model_allowed(ngx_http_llm_client_key_t *k,
    ngx_str_t *model);

/* usage and prices */
char *ngx_http_llm_price_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_llm_prices_resolve(ngx_conf_t *cf,
    ngx_http_llm_main_conf_t *lmcf);
ngx_http_llm_price_t *ngx_http_llm_price_find(ngx_http_llm_main_conf_t *lmcf,
    ngx_http_llm_provider_t *prov, ngx_str_t *model);
void ngx_http_llm_usage_body(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    u_char *pos, u_char *last);
ngx_uint_t ngx_http_llm_usage_event(ngx_http_llm_ctx_t *ctx, u_char *data,
    size_t len);
int64_t ngx_http_llm_cost(ngx_http_llm_price_t *price, int64_t prompt,
    int64_t cached, int64_t completion);
int64_t ngx_http_llm_cost_bound(int64_t tokens, int64_t price);

/* budgets */
char *ngx_http_llm_budget_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_llm_budget_reserve(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx);
void ngx_http_llm_budget_reject(ngx_http_request_t *r,
    ngx_http_llm_budget_t *b, ngx_str_t *key, ngx_uint_t metric);
const char *ngx_http_llm_budget_metric_name(ngx_uint_t metric);
int64_t ngx_http_llm_budget_actual(ngx_http_llm_ctx_t *ctx,
    ngx_http_llm_reservation_t *res);
void ngx_http_llm_budget_settle_locked(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, ngx_http_llm_main_conf_t *lmcf);
ngx_int_t ngx_http_llm_budget_headers(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx);
time_t ngx_http_llm_window_start(time_t now, time_t window);
time_t ngx_http_llm_window_end(time_t now, time_t window);

/* accounting: the end of a request (account.c) */
void ngx_http_llm_finalize(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx);
ngx_int_t ngx_http_llm_log_handler(ngx_http_request_t *r);

/* the series store (stats.c) */
ngx_http_llm_series_t *ngx_http_llm_series_get_locked(
    ngx_http_llm_main_conf_t *lmcf, ngx_uint_t type, u_char *label,
    size_t len, ngx_log_t *log);
void ngx_http_llm_stats_init_locked(ngx_http_llm_shctx_t *sh);

/* state file */
ngx_int_t ngx_http_llm_state_load(ngx_http_llm_main_conf_t *lmcf,
    ngx_log_t *log);
ngx_int_t ngx_http_llm_state_init_process(ngx_cycle_t *cycle);
void ngx_http_llm_state_exit_process(ngx_cycle_t *cycle);

/* llm_status */
char *ngx_http_llm_status_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* variables */
ngx_int_t ngx_http_llm_add_variables(ngx_conf_t *cf);

/* hedge= */
void ngx_http_llm_hedge_arm(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx);
ngx_uint_t ngx_http_llm_hedge_free(ngx_peer_connection_t *pc,
    ngx_http_llm_ctx_t *ctx);
ngx_int_t ngx_http_llm_hedge_get(ngx_peer_connection_t *pc,
    ngx_http_llm_ctx_t *ctx);
void ngx_http_llm_hedge_answered(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx);

/* $llm_lang, $llm_images... */
extern ngx_http_variable_t  ngx_http_llm_signal_vars[];

/* proxy_cache */
extern ngx_http_variable_t  ngx_http_llm_cache_vars[];
void ngx_http_llm_cache_init_peer(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx);
void ngx_http_llm_cache_served(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx);


#endif /* _NGX_HTTP_LLM_ROUTER_H_INCLUDED_ */
