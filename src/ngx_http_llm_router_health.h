
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 */


#ifndef _NGX_HTTP_LLM_ROUTER_HEALTH_H_INCLUDED_
#define _NGX_HTTP_LLM_ROUTER_HEALTH_H_INCLUDED_


#include "ngx_http_llm_router.h"


typedef struct ngx_http_llm_probe_s  ngx_http_llm_probe_t;

/* what the checks do with a probe's outcome (health.c) */
typedef void (*ngx_http_llm_probe_done_pt)(ngx_http_llm_probe_t *pr,
    ngx_uint_t outcome, const char *reason, ngx_log_t *log);


/* one probe target: one address of a provider's servers, per worker */
struct ngx_http_llm_probe_s {
    ngx_http_llm_provider_t         *prov;
    ngx_uint_t                       server;    /* index in the zone */
    struct sockaddr                 *sockaddr;
    socklen_t                        socklen;
    ngx_str_t                        name;      /* address, for logs */
    ngx_uint_t                       key;       /* next key to probe with */
    ngx_uint_t                       probe_key; /* key of the probe */
    ngx_msec_t                       next;      /* when to probe again */
    ngx_msec_t                       start;
    ngx_peer_connection_t            pc;
    ngx_pool_t                      *pool;      /* of one probe */
    ngx_buf_t                       *out;
    ngx_buf_t                       *in;
    ngx_http_request_t              *parser;    /* state of the parser */
    ngx_event_t                      timer;     /* check_timeout */
#if (NGX_HTTP_SSL)
    ngx_http_upstream_conf_t        *upstream;  /* proxy_ssl_* settings */
#endif
    ngx_http_llm_probe_done_pt       done;      /* the outcome to */
    unsigned                         busy:1;
};


ngx_int_t ngx_http_llm_probe_start(ngx_http_llm_probe_t *pr, ngx_log_t *log);
void ngx_http_llm_probe_abort(ngx_http_llm_probe_t *pr);


#endif /* _NGX_HTTP_LLM_ROUTER_HEALTH_H_INCLUDED_ */
