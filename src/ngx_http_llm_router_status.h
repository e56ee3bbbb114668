
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * llm_status, inside: a snapshot of the zone (ngx_http_llm_status_t and
 * its rows), one table of sections and metrics that describes it
 * (ngx_http_llm_router_status.c, with the handler), taken by
 * _snapshot.c, and one writer per format that walks the table
 * (_prometheus.c, _json.c, _html.c) into a chain of buffers (_out.c).
 * Only the status files include this header.
 */


#ifndef _NGX_HTTP_LLM_ROUTER_STATUS_H_INCLUDED_
#define _NGX_HTTP_LLM_ROUTER_STATUS_H_INCLUDED_


#include "ngx_http_llm_router.h"


/* formats: the index of a section's order[] */
#define NGX_HTTP_LLM_STATUS_PROMETHEUS  0
#define NGX_HTTP_LLM_STATUS_JSON        1
#define NGX_HTTP_LLM_STATUS_HTML        2
#define NGX_HTTP_LLM_STATUS_NFORMATS    3

#define NGX_HTTP_LLM_CIRCUIT_CLOSED     0
#define NGX_HTTP_LLM_CIRCUIT_OPEN       1
#define NGX_HTTP_LLM_CIRCUIT_HALF_OPEN  2

#define NGX_HTTP_LLM_STATUS_FIELDS      4

/* a value that is not known: no sample, null in JSON */
#define NGX_HTTP_LLM_STATUS_UNSET       ((int64_t) 0x8000000000000000ULL)


typedef struct {
    int64_t                          b[NGX_HTTP_LLM_HIST_BUCKETS];
    int64_t                          sum;        /* ms */
    int64_t                          count;      /* of the buckets */
} ngx_http_llm_status_hist_t;


/* a row of the "providers" section */
typedef struct {
    ngx_str_t                        name;
    ngx_str_t                        state_name;
    int64_t                          state;
    int64_t                          up;
    int64_t                          retry_in;   /* open: ms to a trial */
    int64_t                          fails;
    int64_t                          max_fails;
    int64_t                          attempts;
    int64_t                          failures;
    int64_t                          opened;
    ngx_http_llm_status_hist_t       latency;
    ngx_http_llm_status_hist_t       ttft;
} ngx_http_llm_status_provider_t;


/* a row of a section of series (requests, tenants, budgets, traffic) */
typedef struct {
    ngx_uint_t                       type;
    u_char                          *label;     /* raw, for sorting */
    size_t                           len;
    time_t                           window;
    int64_t                          v[NGX_HTTP_LLM_SERIES_NVALUES];

    /* fields of the label, valid UTF-8 and null-terminated */
    ngx_str_t                        f[NGX_HTTP_LLM_STATUS_FIELDS];

    /* requests with a status of 400 or more (traffic) */
    int64_t                          errors;

    /* budgets */
    ngx_int_t                        metric;    /* -1: unknown */
    int64_t                          limit;
    int64_t                          used;
    int64_t                          reserved;
    int64_t                          remaining;
    int64_t                          start;
    int64_t                          end;       /* or UNSET */
    int64_t                          reset_in;  /* or UNSET */
} ngx_http_llm_status_series_t;


/* a row of the health sections: a provider, one of its servers or keys */
typedef struct {
    ngx_str_t                        provider;
    ngx_str_t                        target;     /* server, or key "#n" */
    ngx_str_t                        state_name;
    int64_t                          up;         /* usable, for a key */
    int64_t                          since;      /* or UNSET */
    int64_t                          checked;    /* or UNSET */
    ngx_str_t                        since_text;    /* for HTML */
    ngx_str_t                        checked_text;
    ngx_str_t                        last;       /* outcome of the last probe */
    int64_t                          latency;    /* ms, or UNSET */
    int64_t                          probes;
    int64_t                          failures;
} ngx_http_llm_status_health_t;


/* a row of the "fleet" section (llm_redis): the fleet's, this node's */
typedef struct {
    ngx_str_t                        scope;      /* "fleet" or "node" */
    int64_t                          v[NGX_HTTP_LLM_SERIES_NVALUES];
    int64_t                          nodes;
    int64_t                          synced;     /* or UNSET */
} ngx_http_llm_status_fleet_t;


/* the snapshot; also the one row of the page, zone and totals sections */
typedef struct {
    int64_t                          now;
    ngx_msec_t                       now_msec;

    ngx_http_llm_status_provider_t  *providers;
    ngx_uint_t                       nproviders;

    ngx_http_llm_status_series_t    *series;
    ngx_uint_t                       nseries;
    ngx_uint_t                       first[4];   /* by type: [first, */
    ngx_uint_t                       last[4];    /*           last) */

    /* requests series summed over the status, by route, provider, model */
    ngx_http_llm_status_series_t    *traffic;
    ngx_uint_t                       ntraffic;

    unsigned                         zone:1;
    ngx_str_t                        zone_name;
    int64_t                          zone_size;
    int64_t                          zone_free;
    int64_t                          zone_series;
    int64_t                          evicted;
    int64_t                          failovers;
    int64_t                          budget_rejections;
    int64_t                          usage_missing;  /* of the zone or sum */
    int64_t                          started;

    /* active health checks: providers, servers, keys */
    ngx_http_llm_status_health_t    *health[3];
    ngx_uint_t                       nhealth[3];

    /* llm_redis: request counters of the fleet and of this node */
    ngx_http_llm_status_fleet_t      fleet[2];
    ngx_uint_t                       nfleet;

    /* sums of the REQUESTS series */
    int64_t                          total[NGX_HTTP_LLM_SERIES_NVALUES];
    int64_t                          errors;
} ngx_http_llm_status_t;


/* output to a chain of buffers in the request's pool */
typedef struct {
    ngx_pool_t                      *pool;
    ngx_chain_t                     *out;
    ngx_chain_t                    **last;
    ngx_buf_t                       *buf;
    off_t                            size;
    ngx_uint_t                       error;
} ngx_http_llm_writer_t;


/* metric types: a label, or a Prometheus family */
#define NGX_HTTP_LLM_M_LABEL         0
#define NGX_HTTP_LLM_M_COUNTER       1
#define NGX_HTTP_LLM_M_GAUGE         2
#define NGX_HTTP_LLM_M_HISTOGRAM     3
#define NGX_HTTP_LLM_M_VALUE         4   /* not in Prometheus */

/* kinds of values, at the metric's offset in a row */
#define NGX_HTTP_LLM_K_INT           0   /* int64_t */
#define NGX_HTTP_LLM_K_USD           1   /* int64_t, nano-USD */
#define NGX_HTTP_LLM_K_AMOUNT        2   /* int64_t, nano-USD for "cost"
                                            budgets: series rows only */
#define NGX_HTTP_LLM_K_TIME          3   /* int64_t, unix time */
#define NGX_HTTP_LLM_K_BOOL          4   /* int64_t, 0 or 1 */
#define NGX_HTTP_LLM_K_STR           5   /* ngx_str_t, null-terminated */
#define NGX_HTTP_LLM_K_HIST          6   /* ngx_http_llm_status_hist_t */

/* flags: how a label goes to JSON, how an HTML cell looks */
#define NGX_HTTP_LLM_F_NUMBER        0x01  /* label: a number in JSON */
#define NGX_HTTP_LLM_F_BOLD          0x02
#define NGX_HTTP_LLM_F_WRAP          0x04  /* class="w" */
#define NGX_HTTP_LLM_F_NUM           0x08  /* class="n" (numbers: always) */
#define NGX_HTTP_LLM_F_MUTED         0x10  /* class="muted" */
#define NGX_HTTP_LLM_F_WIDE          0x20  /* a wide HTML card */

/* sections */
#define NGX_HTTP_LLM_S_ONE           0x01  /* one row: an object in JSON */
#define NGX_HTTP_LLM_S_ZONE          0x02  /* empty without a zone */
#define NGX_HTTP_LLM_S_CARDS         0x04  /* HTML: cards, not a table */


typedef struct ngx_http_llm_metric_s   ngx_http_llm_metric_t;
typedef struct ngx_http_llm_section_s  ngx_http_llm_section_t;

/* HTML: writes a cell's content, or a whole section (m is NULL) */
typedef void (*ngx_http_llm_html_pt)(ngx_http_llm_writer_t *w,
    ngx_http_llm_status_t *st, const ngx_http_llm_metric_t *m, u_char *row);

/* a section's rows: the number of rows, the first one, a row's size */
typedef ngx_uint_t (*ngx_http_llm_rows_pt)(ngx_http_llm_status_t *st,
    u_char **first, size_t *size);


struct ngx_http_llm_metric_s {
    const char                      *prom;   /* family or label name */
    const char                      *json;   /* key */
    const char                      *html;   /* column or card title */
    ngx_uint_t                       type;   /* NGX_HTTP_LLM_M_* */
    ngx_uint_t                       kind;   /* NGX_HTTP_LLM_K_* */
    size_t                           offset; /* of the value in a row */
    ngx_uint_t                       flags;  /* NGX_HTTP_LLM_F_* */
    ngx_http_llm_html_pt             cell;   /* HTML content, NULL: kind */
    const char                      *help;   /* Prometheus HELP */
};


struct ngx_http_llm_section_s {
    const char                      *json;   /* key, NULL: the top */
    const char                      *title;  /* HTML table heading */
    const char                      *empty;  /* HTML text for no rows */
    ngx_uint_t                       order[NGX_HTTP_LLM_STATUS_NFORMATS];
    ngx_uint_t                       flags;  /* NGX_HTTP_LLM_S_* */
    ngx_http_llm_rows_pt             rows;
    ngx_http_llm_html_pt             html;   /* whole section, NULL: table */
    const ngx_http_llm_metric_t     *metrics;
    ngx_uint_t                       nmetrics;
};


extern const ngx_http_llm_section_t  ngx_http_llm_status_sections[];
extern const ngx_uint_t              ngx_http_llm_status_nsections;


/* the snapshot (_snapshot.c) */
ngx_int_t ngx_http_llm_status_collect(ngx_http_request_t *r,
    ngx_http_llm_status_t *st);

/* health rows (_health.c) */
ngx_int_t ngx_http_llm_status_health(ngx_http_request_t *r,
    ngx_http_llm_status_t *st);
ngx_uint_t ngx_http_llm_rows_health_providers(ngx_http_llm_status_t *st,
    u_char **first, size_t *size);
ngx_uint_t ngx_http_llm_rows_health_servers(ngx_http_llm_status_t *st,
    u_char **first, size_t *size);
ngx_uint_t ngx_http_llm_rows_health_keys(ngx_http_llm_status_t *st,
    u_char **first, size_t *size);

/* the writers of the formats */
ngx_int_t ngx_http_llm_status_prometheus(ngx_http_llm_status_t *st,
    ngx_http_llm_writer_t *w);
ngx_int_t ngx_http_llm_status_json(ngx_http_llm_status_t *st,
    ngx_http_llm_writer_t *w);
ngx_int_t ngx_http_llm_status_html(ngx_http_llm_status_t *st,
    ngx_http_llm_writer_t *w);

/* HTML cells and sections that are not a plain value */
void ngx_http_llm_html_subtitle(ngx_http_llm_writer_t *w,
    ngx_http_llm_status_t *st, const ngx_http_llm_metric_t *m, u_char *row);
void ngx_http_llm_html_footer(ngx_http_llm_writer_t *w,
    ngx_http_llm_status_t *st, const ngx_http_llm_metric_t *m, u_char *row);
void ngx_http_llm_html_tokens(ngx_http_llm_writer_t *w,
    ngx_http_llm_status_t *st, const ngx_http_llm_metric_t *m, u_char *row);
void ngx_http_llm_html_state(ngx_http_llm_writer_t *w,
    ngx_http_llm_status_t *st, const ngx_http_llm_metric_t *m, u_char *row);
void ngx_http_llm_html_rate(ngx_http_llm_writer_t *w,
    ngx_http_llm_status_t *st, const ngx_http_llm_metric_t *m, u_char *row);
void ngx_http_llm_html_p50(ngx_http_llm_writer_t *w,
    ngx_http_llm_status_t *st, const ngx_http_llm_metric_t *m, u_char *row);
void ngx_http_llm_html_p95(ngx_http_llm_writer_t *w,
    ngx_http_llm_status_t *st, const ngx_http_llm_metric_t *m, u_char *row);
void ngx_http_llm_html_circuit(ngx_http_llm_writer_t *w,
    ngx_http_llm_status_t *st, const ngx_http_llm_metric_t *m, u_char *row);
void ngx_http_llm_html_bar(ngx_http_llm_writer_t *w,
    ngx_http_llm_status_t *st, const ngx_http_llm_metric_t *m, u_char *row);
void ngx_http_llm_html_resets(ngx_http_llm_writer_t *w,
    ngx_http_llm_status_t *st, const ngx_http_llm_metric_t *m, u_char *row);

/* output (_out.c); the sections of a format in its order, NULL after */
const ngx_http_llm_section_t *ngx_http_llm_status_next(ngx_uint_t format,
    const ngx_http_llm_section_t *prev);
void ngx_http_llm_write(ngx_http_llm_writer_t *w, u_char *data, size_t len);
void ngx_http_llm_printf(ngx_http_llm_writer_t *w, const char *fmt, ...);
ngx_msec_t ngx_http_llm_quantile(ngx_http_llm_status_hist_t *h, double q,
    ngx_uint_t *over);

#define ngx_http_llm_value(row, m)                                           \
    (*(int64_t *) ((row) + (m)->offset))


#endif /* _NGX_HTTP_LLM_ROUTER_STATUS_H_INCLUDED_ */
