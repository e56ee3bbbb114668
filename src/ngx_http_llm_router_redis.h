
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 */


#ifndef _NGX_HTTP_LLM_ROUTER_REDIS_H_INCLUDED_
#define _NGX_HTTP_LLM_ROUTER_REDIS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>

#include "ngx_http_llm_router.h"


#define NGX_HTTP_LLM_REDIS_LOCAL        0
#define NGX_HTTP_LLM_REDIS_REJECT       1

/* a lease is room for this many requests like the one that asked */
#define NGX_HTTP_LLM_REDIS_LEASE        16

/* server-side scripts, by index */
#define NGX_HTTP_LLM_SCRIPT_RESERVE     0
#define NGX_HTTP_LLM_SCRIPT_SETTLE      1
#define NGX_HTTP_LLM_SCRIPT_MERGE       2
#define NGX_HTTP_LLM_SCRIPT_COUNT       3
#define NGX_HTTP_LLM_SCRIPT_HEALTH      4
#define NGX_HTTP_LLM_NSCRIPTS           5

/* the first SSL error of a connection, for the "is down" line */
#define NGX_HTTP_LLM_REDIS_WHY          256

/* the largest reply kept in memory: budgets' replies are a few numbers */
#define NGX_HTTP_LLM_REDIS_MAX_REPLY    (1024 * 1024)


typedef struct {
    ngx_str_t                        name;       /* address, for logs */
    ngx_addr_t                       addr;
    ngx_str_t                        password;   /* secret */
    ngx_int_t                        db;
    ngx_msec_t                       timeout;
    ngx_msec_t                       sync;
    ngx_uint_t                       on_error;
    ngx_uint_t                       lease;      /* requests' worth, 0 */
    ngx_str_t                        node;       /* host:conf file */
    /* AUTH, SELECT, SCRIPT LOAD each: formatted once, in one buffer */
    ngx_str_t                        hello[2 + NGX_HTTP_LLM_NSCRIPTS];
    ngx_uint_t                       tls;
    ngx_uint_t                       tls_verify;
    ngx_str_t                        tls_name;   /* SNI, verified name */
    ngx_str_t                        tls_trusted_certificate;
    ngx_str_t                        tls_certificate;
    ngx_str_t                        tls_certificate_key;
#if (NGX_SSL)
    ngx_ssl_t                       *ssl;        /* the cycle's context */
#endif
} ngx_http_llm_redis_conf_t;


/* reply is NULL when none came: Redis down, timed out or garbage */
typedef void (*ngx_http_llm_redis_handler_pt)(void *data, redisReply *reply);


/* a command in flight, waiting for its reply */
typedef struct {
    ngx_queue_t                      queue;
    ngx_http_llm_redis_handler_pt    handler;
    void                            *data;
    ngx_msec_t                       deadline;
    char                            *cmd;      /* a script call, to resend */
    int                              cmd_len;
    unsigned                         script:1;
    unsigned                         retried:1;
    unsigned                         handshake:1;
    unsigned                         kept:1;   /* cmd is the caller's */
} ngx_http_llm_redis_op_t;


/* the commands not sent yet */
typedef struct {
    u_char                          *data;
    size_t                           len;
    size_t                           sent;
    size_t                           size;
} ngx_http_llm_redis_buf_t;

/* what the connection calls above it: every sync, at the worker's exit */
typedef void (*ngx_http_llm_redis_hook_pt)(ngx_log_t *log);

/*
 * A reservation's outcome on Redis, to budget.c: NGX_OK, NGX_DECLINED
 * (no answer: reserve this node's share), or an HTTP status (the error is
 * set); "refused" is the reservation a budget refused (429), or NULL.
 */
typedef void (*ngx_http_llm_fleet_done_pt)(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, ngx_int_t rc,
    ngx_http_llm_reservation_t *refused);


/* room on Redis a worker reserved for requests to come (fleet_lease.c) */
typedef struct {
    ngx_queue_t                      queue;     /* the open ones */
    void                            *slot;      /* its key's, if open */
    ngx_pool_t                      *pool;      /* it is in it */
    void                            *data;      /* fleet.c's, its ask */
    ngx_http_llm_reservation_t       res;       /* amount: its room */
    ngx_str_t                        key;       /* on Redis */
    int64_t                          free;      /* not taken */
    int64_t                          used;      /* by requests that ended */
    int64_t                          left;      /* the fleet's room, seen */
    int64_t                          unit;      /* a request's, asked with */
    ngx_uint_t                       inflight;  /* requests that took */
    ngx_uint_t                       generation; /* of the connection */
    time_t                           window_end;
    ngx_msec_t                       granted;
    ngx_msec_t                       last;      /* taken from */
    unsigned                         draining:1;
    unsigned                         closed:1;
    unsigned                         listed:1;
} ngx_http_llm_lease_t;


char *ngx_http_llm_redis_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_llm_redis_init_process(ngx_cycle_t *cycle,
    ngx_http_llm_redis_hook_pt sync, ngx_http_llm_redis_hook_pt exit);
ngx_int_t ngx_http_llm_redis_conf_copy(ngx_cycle_t *cycle,
    ngx_http_llm_redis_conf_t *rc, ngx_http_llm_redis_conf_t *copy,
    u_char sha[][40]);
void ngx_http_llm_redis_exit_process(ngx_cycle_t *cycle);
ngx_uint_t ngx_http_llm_redis_up(void);
ngx_int_t ngx_http_llm_redis_hello(ngx_http_llm_redis_conf_t *copy,
    ngx_log_t *log);
ngx_int_t ngx_http_llm_redis_command(int argc, const char **argv,
    const size_t *argvlen, ngx_http_llm_redis_handler_pt handler,
    void *data);
ngx_int_t ngx_http_llm_redis_script(ngx_uint_t script, int argc,
    const char **argv, const size_t *argvlen,
    ngx_http_llm_redis_handler_pt handler, void *data);
ngx_int_t ngx_http_llm_redis_send(char *cmd, int len,
    ngx_uint_t script, ngx_http_llm_redis_handler_pt handler, void *data);
u_char *ngx_http_llm_redis_sha(ngx_uint_t script);
ngx_int_t ngx_http_llm_redis_queue(char *cmd, int len, ngx_uint_t script,
    ngx_uint_t kept, ngx_http_llm_redis_handler_pt handler, void *data);
ngx_int_t ngx_http_llm_redis_buf_reserve(ngx_http_llm_redis_buf_t *b,
    size_t len, ngx_log_t *log);
ngx_int_t ngx_http_llm_redis_buf_add(ngx_http_llm_redis_buf_t *b,
    const void *data, size_t len, ngx_log_t *log);
void ngx_http_llm_redis_buf_free(ngx_http_llm_redis_buf_t *b);
ngx_http_llm_redis_op_t *ngx_http_llm_redis_op_alloc(ngx_log_t *log);
void ngx_http_llm_redis_op_free(ngx_http_llm_redis_op_t *op);
ngx_uint_t ngx_http_llm_redis_accepts(void);
ngx_str_t *ngx_http_llm_redis_node(void);
void ngx_http_llm_redis_drain(void);
ngx_uint_t ngx_http_llm_redis_generation(void);

#if (NGX_SSL)
char *ngx_http_llm_redis_tls_conf(ngx_conf_t *cf,
    ngx_http_llm_redis_conf_t *rc);
ngx_int_t ngx_http_llm_redis_tls_init(ngx_http_llm_redis_conf_t *rc,
    ngx_ssl_t *ssl, ngx_log_t *tls_log, u_char *why, ngx_log_t *log);
void ngx_http_llm_redis_tls_free(ngx_ssl_t *ssl);
ngx_int_t ngx_http_llm_redis_tls_start(ngx_connection_t *c, ngx_ssl_t *ssl,
    ngx_http_llm_redis_conf_t *rc, ngx_connection_handler_pt handler);
ngx_int_t ngx_http_llm_redis_tls_check(ngx_connection_t *c,
    ngx_http_llm_redis_conf_t *rc, u_char *err, size_t size);
void ngx_http_llm_redis_tls_close(ngx_connection_t *c);

#endif

/* fleet: budgets, counters, health on Redis; calls run down this list */
extern ngx_str_t  ngx_http_llm_scripts[NGX_HTTP_LLM_NSCRIPTS];

ngx_int_t ngx_http_llm_fleet_reserve(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, ngx_str_t *keys, int64_t *est,
    ngx_http_llm_fleet_done_pt handler);
void ngx_http_llm_fleet_settle(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    int64_t *used);

void ngx_http_llm_fleet_tick(ngx_log_t *log);

ngx_int_t ngx_http_llm_lease_take(ngx_str_t *keys, int64_t *amounts,
    ngx_uint_t n, ngx_http_llm_lease_t **leases, long long *left);
ngx_http_llm_lease_t *ngx_http_llm_lease_want(ngx_str_t *key,
    ngx_http_llm_reservation_t *res, ngx_uint_t requests, ngx_log_t *log);
void ngx_http_llm_lease_granted(ngx_http_llm_lease_t *l, ngx_uint_t granted,
    int64_t left);
ngx_int_t ngx_http_llm_lease_put(ngx_http_llm_lease_t *l, int64_t amount,
    int64_t used, ngx_uint_t turned);
ngx_http_llm_lease_t *ngx_http_llm_lease_due(ngx_msec_t sync);
ngx_http_llm_lease_t *ngx_http_llm_lease_any(void);
void ngx_http_llm_lease_closed(ngx_http_llm_lease_t *l);
void ngx_http_llm_lease_unanswered(ngx_http_llm_lease_t *l);

void ngx_http_llm_fleet_sync(ngx_log_t *log);
ngx_uint_t ngx_http_llm_fleet_nodes(void);

u_char *ngx_http_llm_fleet_key(u_char *p, ngx_str_t *name,
    ngx_uint_t metric, time_t start, ngx_str_t *key);
ngx_int_t ngx_http_llm_fleet_res_key(ngx_pool_t *pool,
    ngx_http_llm_reservation_t *res, time_t start, ngx_str_t *key);
u_char *ngx_http_llm_fleet_num(u_char *p, int64_t v);
ngx_int_t ngx_http_llm_fleet_marker(ngx_pool_t *pool, ngx_str_t *m,
    const char *kind);
void ngx_http_llm_fleet_job(ngx_uint_t script, int argc,
    const char **argv, size_t *argvlen, ngx_log_t *log);
void ngx_http_llm_fleet_job_cmd(ngx_uint_t script, char *cmd, int len,
    ngx_log_t *log);
ngx_int_t ngx_http_llm_fleet_arg(ngx_http_llm_redis_buf_t *b,
    const u_char *data, size_t len, ngx_log_t *log);
ngx_int_t ngx_http_llm_fleet_arg_num(ngx_http_llm_redis_buf_t *b, int64_t v,
    ngx_log_t *log);
char *ngx_http_llm_fleet_batch_cmd(ngx_uint_t script,
    ngx_http_llm_redis_buf_t *keys, ngx_uint_t nkeys,
    ngx_http_llm_redis_buf_t *args, ngx_uint_t nargs, int *len);
void ngx_http_llm_fleet_exit_process(ngx_log_t *log);
void ngx_http_llm_fleet_jobs_resend(ngx_log_t *log);
void ngx_http_llm_fleet_exit(ngx_log_t *log);
void ngx_http_llm_fleet_jobs_final(void);


#endif /* _NGX_HTTP_LLM_ROUTER_REDIS_H_INCLUDED_ */
