
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

#define NGX_HTTP_LLM_DEFAULT_ZONE_SIZE  (10 * 1024 * 1024)
#define NGX_HTTP_LLM_ANTHROPIC_VERSION  "2023-06-01"
#define NGX_HTTP_LLM_MAX_ATTEMPTS       16


typedef struct ngx_http_llm_shm_provider_s  ngx_http_llm_shm_provider_t;


typedef struct {
    ngx_str_t                        name;
    ngx_uint_t                       api;
    ngx_http_upstream_srv_conf_t    *uscf;

    ngx_str_t                        host;         /* SNI and TLS check */
    ngx_str_t                        host_header;  /* host[:port] */
    in_port_t                        port;
    ngx_flag_t                       tls;
    ngx_str_t                        path;         /* no trailing '/' */
    ngx_str_t                        uri[NGX_HTTP_LLM_EP_MODELS];

    ngx_array_t                     *keys;    /* ngx_str_t, header values */

    ngx_uint_t                       max_fails;
    ngx_msec_t                       fail_timeout;
    uint64_t                         fail_status[4];  /* 400..655 */
    unsigned                         fail_error:1;
    unsigned                         fail_timeout_on:1;

    ngx_http_llm_shm_provider_t     *shm;
    ngx_slab_pool_t                 *shpool;
    ngx_uint_t                       index;

    u_char                          *file_name;
    ngx_uint_t                       line;
} ngx_http_llm_provider_t;


typedef struct {
    ngx_str_t                        provider_name;
    ngx_http_llm_provider_t         *provider;
    ngx_str_t                        model;     /* empty: client's model */
    ngx_int_t                        weight;
    ngx_int_t                        current_weight;  /* per worker */
    unsigned                         backup:1;
} ngx_http_llm_target_t;


typedef struct {
    ngx_str_t                        name;      /* as written */
    ngx_http_regex_t                *regex;
    ngx_array_t                      targets;   /* ngx_http_llm_target_t */
    ngx_uint_t                       nprimary;
    unsigned                         weighted:1;  /* block form */
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
    ngx_shm_zone_t                  *shm_zone;
    ngx_str_t                        state_path;
    ngx_http_upstream_srv_conf_t    *router_upstream;
} ngx_http_llm_main_conf_t;


typedef struct {
    ngx_flag_t                       enabled;
    ngx_http_llm_routes_t           *routes;
    ngx_http_complex_value_t        *route_key;
} ngx_http_llm_loc_conf_t;


/* one attempt at one provider */
typedef struct {
    ngx_http_llm_target_t           *target;
    ngx_uint_t                       status;  /* HTTP status or OUT_* */
} ngx_http_llm_attempt_t;


typedef struct {
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

    /* candidate order for this request */
    ngx_http_llm_target_t           *plan[NGX_HTTP_LLM_MAX_ATTEMPTS];
    ngx_uint_t                       nplan;
    ngx_uint_t                       next;      /* next plan index */
    ngx_http_llm_target_t           *target;    /* current target */
    ngx_http_llm_target_t           *built;     /* body built for */
    ngx_str_t                        upstream_model;
    ngx_str_t                        key;       /* current key value */
    ngx_uint_t                       key_index;

    ngx_http_llm_attempt_t           attempts[NGX_HTTP_LLM_MAX_ATTEMPTS];
    ngx_uint_t                       nattempts;

    /* delegation to the provider's own balancer */
    ngx_event_get_peer_pt            peer_get;
    ngx_event_free_peer_pt           peer_free;
    void                            *peer_data;
#if (NGX_HTTP_SSL)
    ngx_event_set_peer_session_pt    peer_set_session;
    ngx_event_save_peer_session_pt   peer_save_session;
#endif
    ngx_int_t                      (*process_header)(ngx_http_request_t *r);
    ngx_int_t                      (*reinit_request)(ngx_http_request_t *r);
    ngx_uint_t                       tries;
    ngx_uint_t                       log_level;
    ngx_msec_t                       retry_after;   /* from a 429/503 */

    /* filters */
    ngx_buf_t                       *error_body;   /* JSON error to send */
    ngx_str_t                        error_message;
    ngx_str_t                        error_type;
    ngx_str_t                        error_code;
    ngx_str_t                        error_param;
    u_char                          *carry;      /* partial SSE event */
    size_t                           carry_len;
    size_t                           carry_size;

    unsigned                         stream:1;
    unsigned                         strip_usage:1;
    unsigned                         client_usage:1;
    unsigned                         got_first_get:1;
    unsigned                         recorded:1;   /* attempt classified */
    unsigned                         stop:1;       /* no more attempts */
    unsigned                         exhausted:1;
    unsigned                         log_muted:1;
    unsigned                         proxied:1;    /* reached proxy_pass */
    unsigned                         sse:1;
    unsigned                         sse_done:1;   /* terminal event seen */
    unsigned                         sse_unframed:1;
    unsigned                         line_started:1;
    unsigned                         carry_overflow:1;
    unsigned                         error_sent:1;
    unsigned                         body_ready:1;
    unsigned                         waiting_body:1;
    ngx_int_t                        status;       /* precontent result */
} ngx_http_llm_ctx_t;


typedef struct {
    const char                      *name;
    ngx_uint_t                       api;
    const char                      *host;
    in_port_t                        port;
    ngx_flag_t                       tls;
    const char                      *path;
} ngx_http_llm_preset_t;


/* module */
extern ngx_module_t  ngx_http_llm_router_module;
extern ngx_str_t     ngx_http_llm_endpoint_names[];

ngx_http_llm_ctx_t *ngx_http_llm_get_ctx(ngx_http_request_t *r);
ngx_http_llm_ctx_t *ngx_http_llm_create_ctx(ngx_http_request_t *r);

/* llm_upstream */
char *ngx_http_llm_upstream_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_http_llm_provider_t *ngx_http_llm_find_provider(
    ngx_http_llm_main_conf_t *lmcf, ngx_str_t *name);
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

/* request path */
ngx_int_t ngx_http_llm_precontent_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_llm_build_request(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, ngx_http_llm_target_t *t);
ngx_http_llm_target_t *ngx_http_llm_next_target(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, ngx_uint_t force);

/* balancer */
ngx_int_t ngx_http_llm_balancer_init(ngx_conf_t *cf,
    ngx_http_upstream_srv_conf_t *us);

/* filters */
ngx_int_t ngx_http_llm_filter_init(ngx_conf_t *cf);

/* errors */
ngx_int_t ngx_http_llm_set_error(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, ngx_uint_t status, const char *code,
    const char *param, const char *fmt, ...);
ngx_buf_t *ngx_http_llm_error_body(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, ngx_uint_t status);
ngx_int_t ngx_http_llm_attempts_string(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, ngx_str_t *s);

/* shared memory */
char *ngx_http_llm_zone_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_llm_zone_default(ngx_conf_t *cf,
    ngx_http_llm_main_conf_t *lmcf);
ngx_uint_t ngx_http_llm_circuit_allow(ngx_http_llm_provider_t *p);
void ngx_http_llm_circuit_result(ngx_http_llm_provider_t *p, ngx_log_t *log,
    ngx_uint_t failed, ngx_msec_t retry_after);
ngx_uint_t ngx_http_llm_key_pick(ngx_http_llm_provider_t *p);
void ngx_http_llm_key_cool(ngx_http_llm_provider_t *p, ngx_log_t *log,
    ngx_uint_t key, ngx_msec_t duration);

/* variables */
ngx_int_t ngx_http_llm_add_variables(ngx_conf_t *cf);


#endif /* _NGX_HTTP_LLM_ROUTER_H_INCLUDED_ */
