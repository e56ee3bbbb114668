
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * Private to the fleet's budgets: a request's budgets on Redis and the
 * per-turn batches they go in.  fleet.c calls the batch layer
 * (fleet_batch.c), which answers each item through the handler that
 * item was added with.
 */


#ifndef _NGX_HTTP_LLM_ROUTER_FLEET_H_INCLUDED_
#define _NGX_HTTP_LLM_ROUTER_FLEET_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_llm_router.h"
#include "ngx_http_llm_router_redis.h"


/* requests in one batch: the reply stays within the reader's limits */
#define NGX_HTTP_LLM_FLEET_BATCH        256


typedef struct ngx_http_llm_fleet_req_s  ngx_http_llm_fleet_req_t;

/*
 * An item's outcome, to whoever added it: rv, the reply's (RESERVED,
 * REFUSED, INVALID), index the refused reservation, left the room seen;
 * unknown: no reply, Redis may hold it.
 */
typedef void (*ngx_http_llm_fleet_answer_pt)(ngx_http_llm_fleet_req_t *fr,
    int rv, size_t index, long long *left, ngx_uint_t unknown);


/* a request in a batch: NULL once it is gone */
typedef struct {
    ngx_http_llm_fleet_req_t        *fr;
    ngx_uint_t                       n;         /* its keys */
} ngx_http_llm_fleet_item_t;


/* a batch of reservations in flight, from malloc() */
typedef struct {
    ngx_uint_t                       n;
    ngx_http_llm_fleet_item_t        items[1];
} ngx_http_llm_fleet_batch_t;


/* a request's budgets on Redis, in its pool */
struct ngx_http_llm_fleet_req_s {
    ngx_http_request_t              *r;
    ngx_http_llm_ctx_t              *ctx;
    ngx_http_llm_fleet_item_t       *item;      /* waiting in a batch */
    ngx_http_llm_fleet_answer_pt     answer;    /* by the batch layer */
    ngx_http_llm_fleet_done_pt       handler;
    ngx_http_llm_reservation_t      *refused;
    ngx_http_llm_reservation_t      *res;       /* by reservation */
    ngx_http_llm_lease_t           **leases;    /* taken from, by res. */
    ngx_http_llm_lease_t            *lease;     /* asked for (r: NULL) */
    int64_t                          floor;     /* room a lease leaves */
    ngx_str_t                        marker;    /* its batch's */
    ngx_uint_t                       field;     /* its place in it */
    time_t                           time;      /* of the reservation */
    ngx_str_t                       *rkeys;     /* by reservation */
    int64_t                         *amounts;
    ngx_uint_t                       n;
    unsigned                         reserved:1;
    unsigned                         unknown:1;  /* no reply: maybe */
    unsigned                         leased:1;   /* from leases, here */
};


/* what one turn adds to the next script call: RESP, keys and the rest */
typedef struct {
    ngx_http_llm_redis_buf_t         keys;
    ngx_http_llm_redis_buf_t         args;
    ngx_uint_t                       nkeys;
    ngx_uint_t                       nargs;
    ngx_uint_t                       n;
    ngx_uint_t                       elements;  /* of the reply */
    ngx_str_t                        marker;    /* reservations' batch */
    ngx_http_llm_fleet_item_t        items[NGX_HTTP_LLM_FLEET_BATCH];
} ngx_http_llm_fleet_next_t;


/* the batch layer (fleet_batch.c) */
ngx_int_t ngx_http_llm_fleet_add(ngx_http_llm_fleet_req_t *fr,
    ngx_pool_t *pool, ngx_log_t *log);
ngx_http_llm_fleet_next_t *ngx_http_llm_fleet_settle_start(
    ngx_http_llm_fleet_req_t *fr, ngx_uint_t n, size_t *saved,
    ngx_log_t *log);
void ngx_http_llm_fleet_next_undo(ngx_http_llm_fleet_next_t *next,
    size_t *saved);
void ngx_http_llm_fleet_post(void);
void ngx_http_llm_fleet_batch_flush(ngx_log_t *log);
void ngx_http_llm_fleet_batch_free(void);


#endif /* _NGX_HTTP_LLM_ROUTER_FLEET_H_INCLUDED_ */
