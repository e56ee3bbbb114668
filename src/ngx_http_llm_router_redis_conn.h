
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * Private to the worker's connection to Redis: its state, shared by
 * redis.c (connect, handshake, read and write handlers, failure,
 * reconnect) and the queue of commands below it (redis_queue.c).
 */


#ifndef _NGX_HTTP_LLM_ROUTER_REDIS_CONN_H_INCLUDED_
#define _NGX_HTTP_LLM_ROUTER_REDIS_CONN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>

#include "ngx_http_llm_router.h"
#include "ngx_http_llm_router_redis.h"


#define NGX_HTTP_LLM_REDIS_DOWN         0
#define NGX_HTTP_LLM_REDIS_CONNECTING   1
#define NGX_HTTP_LLM_REDIS_UP           2


typedef struct {
    ngx_http_llm_redis_conf_t       *conf;       /* &copy, or NULL */
    ngx_http_llm_redis_conf_t        copy;       /* outlives a cycle */
    ngx_log_t                       *log;
    ngx_log_t                        quiet;      /* connect() errors */
    ngx_peer_connection_t            pc;
    ngx_connection_t                *c;
    redisReader                     *reader;
    ngx_http_llm_redis_buf_t         out;
    ngx_queue_t                      ops;
    ngx_uint_t                       handshake;  /* replies before up */
    ngx_uint_t                       state;
    ngx_uint_t                       generation;
    ngx_uint_t                       reported_down;
    ngx_uint_t                       tcp;        /* connect() done */
    ngx_uint_t                       connected;  /* commands can go */
    ngx_msec_t                       backoff;
    ngx_event_t                      timer;
    ngx_event_t                      reconnect;
    ngx_event_t                      sync;
    ngx_connection_t                 dummy;      /* data of the timers */
    ngx_http_llm_redis_hook_pt       on_sync;
    ngx_http_llm_redis_hook_pt       on_exit;
    u_char                           sha[NGX_HTTP_LLM_NSCRIPTS][40];
#if (NGX_SSL)
    ngx_ssl_t                        ssl;
    ngx_log_t                        tls_log;    /* nginx's SSL errors */
    u_char                           why[NGX_HTTP_LLM_REDIS_WHY];
#endif
} ngx_http_llm_redis_t;


/* the worker's one connection (redis_queue.c) */
extern ngx_http_llm_redis_t  ngx_http_llm_redis;


ngx_int_t ngx_http_llm_redis_append(void *cmd, size_t len);
ngx_http_llm_redis_op_t *ngx_http_llm_redis_op(
    ngx_http_llm_redis_handler_pt handler, void *data, ngx_uint_t script,
    char *cmd, int len);
void ngx_http_llm_redis_arm(void);


#endif /* _NGX_HTTP_LLM_ROUTER_REDIS_CONN_H_INCLUDED_ */
