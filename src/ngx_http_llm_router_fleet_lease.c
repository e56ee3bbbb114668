
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * Leases: room a worker reserved on Redis for the requests to come on
 * one budget key, so that most of them are reserved here, without a
 * round trip.  A lease is an ordinary reservation on Redis (its marker,
 * its settle), made only while the budget has room for many more, so
 * that near the limit every request is reserved on Redis as before.
 * Requests take from it and give back what they did not use; what they
 * used is added to Redis when the lease is settled (closed): when it
 * has no room for the next request, when it was not used for a sync,
 * or when its window ends.
 *
 * This file keeps the leases of the worker, by key; what goes to Redis
 * is fleet.c's, which calls this file.
 */


#include "ngx_http_llm_router.h"
#include "ngx_http_llm_router_redis.h"


/* a key's leases: the one requests take from, an ask in flight */
typedef struct {
    ngx_str_node_t                   sn;        /* the key, its data after */
    ngx_queue_t                      queue;
    ngx_http_llm_lease_t            *open;
    time_t                           window_end;
    time_t                           quiet;     /* refused: no ask before */
    ngx_uint_t                       requests;  /* a lease's room, in them */
    unsigned                         asking:1;
} ngx_http_llm_lease_slot_t;


static ngx_http_llm_lease_slot_t *ngx_http_llm_lease_slot(ngx_str_t *key,
    time_t window_end, ngx_log_t *log);
static void ngx_http_llm_lease_drain(ngx_http_llm_lease_slot_t *slot);
static void ngx_http_llm_lease_slot_free(ngx_http_llm_lease_slot_t *slot);


/* the most requests a lease is room for */
#define NGX_HTTP_LLM_LEASE_MAX  1024

/* a lease is closed after this many syncs (its marker lives 6 hours) */
#define NGX_HTTP_LLM_LEASE_AGE  5


static ngx_rbtree_t       ngx_http_llm_lease_tree;
static ngx_rbtree_node_t  ngx_http_llm_lease_sentinel;
static ngx_queue_t        ngx_http_llm_lease_slots;
static ngx_queue_t        ngx_http_llm_lease_open;
static ngx_uint_t         ngx_http_llm_lease_ready;


/*
 * All of a request's reservations from open leases, or none: NGX_OK
 * (leases[i] and left[i], the room seen, set), NGX_AGAIN (the same, and a
 * lease has a quarter of its room left or less: time to ask for the
 * next, so that requests do not wait for it) or NGX_DECLINED.
 */

ngx_int_t
ngx_http_llm_lease_take(ngx_str_t *keys, int64_t *amounts, ngx_uint_t n,
    ngx_http_llm_lease_t **leases, long long *left)
{
    ngx_int_t                   rc;
    ngx_uint_t                  i;
    ngx_http_llm_lease_t       *l;
    ngx_http_llm_lease_slot_t  *slot;

    if (!ngx_http_llm_lease_ready || ngx_exiting) {
        return NGX_DECLINED;
    }

    for (i = 0; i < n; i++) {
        slot = ngx_http_llm_lease_slot(&keys[i], 0, NULL);

        if (slot == NULL || slot->open == NULL) {
            return NGX_DECLINED;
        }

        if (slot->open->generation != ngx_http_llm_redis_generation()) {
            /*
             * the connection was lost since it was granted: Redis may
             * have lost it too (restarted without its data)
             */
            ngx_http_llm_lease_drain(slot);
            return NGX_DECLINED;
        }

        if (slot->open->free < amounts[i]) {
            return NGX_DECLINED;
        }

        leases[i] = slot->open;
    }

    rc = NGX_OK;

    for (i = 0; i < n; i++) {
        l = leases[i];
        left[i] = l->left + l->free;
        l->free -= amounts[i];
        l->inflight++;
        l->last = ngx_current_msec;

        if (l->free <= l->res.amount / 4) {
            rc = NGX_AGAIN;
        }
    }

    return rc;
}


/*
 * A lease to ask for with a request that found none with room on this
 * key, or whose lease is low: NULL if none (one is asked for already,
 * one was refused lately, the open one has room enough, or the budget
 * is small for leases).  Its room is "requests" times the request's
 * amount.  An open one without room for the request takes no more; a
 * low one goes on until the next is granted.
 */

ngx_http_llm_lease_t *
ngx_http_llm_lease_want(ngx_str_t *key, ngx_http_llm_reservation_t *res,
    ngx_uint_t requests, ngx_log_t *log)
{
    time_t                      now;
    int64_t                     g, limit;
    ngx_pool_t                 *pool;
    ngx_http_llm_lease_t       *l;
    ngx_http_llm_lease_slot_t  *slot;

    limit = res->budget->limit[res->metric].limit;

    if (requests == 0 || ngx_exiting || res->budget->dry_run
        || res->amount <= 0 || res->amount > limit / (int64_t) requests / 64)
    {
        /* a budget of fewer than 64 leases: every request on Redis */
        return NULL;
    }

    now = ngx_time();

    slot = ngx_http_llm_lease_slot(key,
                         ngx_http_llm_window_end(now,
                                       res->budget->limit[res->metric].window),
                         log);
    if (slot == NULL) {
        return NULL;
    }

    if (slot->requests < requests) {
        slot->requests = requests;
    }

    if (slot->open && slot->open->free >= res->amount) {
        if (slot->open->free > slot->open->res.amount / 4) {
            /* another key of the request had no room: this one has */
            return NULL;
        }

    } else if (slot->open) {

        if (slot->open->free >= slot->open->unit) {
            /* a request larger than those it was asked for: alone */
            return NULL;
        }

        /*
         * too small for the requests at once on this key: the next is
         * twice as large as those in flight, up to 1/64 of the limit
         */
        slot->requests = ngx_min(ngx_max(slot->requests,
                                         2 * (slot->open->inflight + 1)),
                                 NGX_HTTP_LLM_LEASE_MAX);

        ngx_http_llm_lease_drain(slot);
    }

    if (slot->asking || now < slot->quiet) {
        return NULL;
    }

    g = res->amount * (int64_t) ngx_min(slot->requests,
                                         (ngx_uint_t) (limit / 64
                                                       / res->amount));

    /* it outlives the request: the cycle's log, not the connection's */
    pool = ngx_create_pool(512, ngx_cycle->log);
    if (pool == NULL) {
        return NULL;
    }

    l = ngx_pcalloc(pool, sizeof(ngx_http_llm_lease_t));
    if (l == NULL) {
        ngx_destroy_pool(pool);
        return NULL;
    }

    l->key.data = ngx_pnalloc(pool, key->len);
    if (l->key.data == NULL) {
        ngx_destroy_pool(pool);
        return NULL;
    }

    l->key.len = key->len;
    ngx_memcpy(l->key.data, key->data, key->len);

    l->pool = pool;
    l->slot = slot;
    l->res = *res;
    l->res.amount = g;
    l->unit = res->amount;
    ngx_str_null(&l->res.key);    /* the request's, in its pool */
    l->window_end = slot->window_end;

    slot->asking = 1;

    return l;
}


/*
 * Redis answered the ask: granted (left: the room before it), or not
 * (the lease is freed).
 */

void
ngx_http_llm_lease_granted(ngx_http_llm_lease_t *l, ngx_uint_t granted,
    int64_t left)
{
    ngx_http_llm_lease_slot_t  *slot;

    slot = l->slot;
    slot->asking = 0;

    if (!granted) {
        /* near the limit: requests go to Redis one by one for a while */
        slot->quiet = ngx_time() + 1;
        l->slot = NULL;
        ngx_destroy_pool(l->pool);
        return;
    }

    if (slot->open) {
        ngx_http_llm_lease_drain(slot);
    }

    slot->open = l;
    l->free = l->res.amount;
    l->left = left - l->res.amount;
    l->generation = ngx_http_llm_redis_generation();
    l->granted = ngx_current_msec;
    l->last = l->granted;

    ngx_queue_insert_tail(&ngx_http_llm_lease_open, &l->queue);
    l->listed = 1;
}


/*
 * A request that took from the lease ended: what it did not use is
 * room again, what it used is the lease's (unless its window ended:
 * "turned", the caller adds it to the new window).  NGX_OK: the lease
 * is to be closed now.
 */

ngx_int_t
ngx_http_llm_lease_put(ngx_http_llm_lease_t *l, int64_t amount, int64_t used,
    ngx_uint_t turned)
{
    l->inflight--;

    if (l->closed) {
        if (l->inflight == 0) {
            ngx_destroy_pool(l->pool);
        }

        return NGX_DECLINED;
    }

    l->free += amount;

    if (!turned) {
        l->used += used;
        l->free -= used;
    }

    return (l->draining && l->inflight == 0) ? NGX_OK : NGX_DECLINED;
}


/*
 * The next lease due to be closed: its window ended, or none of its
 * requests is in flight and it drained, was not used for a sync or is
 * older than NGX_HTTP_LLM_LEASE_AGE syncs; NULL if none.  One that is
 * that old or idle with requests in flight takes no more (it closes
 * when they end).  Keys with nothing left are forgotten on the way.
 */

ngx_http_llm_lease_t *
ngx_http_llm_lease_due(ngx_msec_t sync)
{
    time_t                      now;
    ngx_uint_t                  old;
    ngx_queue_t                *q, *next;
    ngx_http_llm_lease_t       *l;
    ngx_http_llm_lease_slot_t  *slot;

    if (!ngx_http_llm_lease_ready) {
        return NULL;
    }

    now = ngx_time();

    for (q = ngx_queue_head(&ngx_http_llm_lease_open);
         q != ngx_queue_sentinel(&ngx_http_llm_lease_open);
         q = ngx_queue_next(q))
    {
        l = ngx_queue_data(q, ngx_http_llm_lease_t, queue);

        /* its marker (and what it counted) must not expire before it */
        old = (ngx_current_msec - l->granted
               >= NGX_HTTP_LLM_LEASE_AGE * sync)
              || (ngx_current_msec - l->last >= sync);

        if (now >= l->window_end || (l->inflight == 0 && (l->draining || old)))
        {
            return l;
        }

        if (old && l->slot) {
            ngx_http_llm_lease_drain(l->slot);
        }
    }

    for (q = ngx_queue_head(&ngx_http_llm_lease_slots);
         q != ngx_queue_sentinel(&ngx_http_llm_lease_slots);
         q = next)
    {
        next = ngx_queue_next(q);
        slot = ngx_queue_data(q, ngx_http_llm_lease_slot_t, queue);

        if (slot->open == NULL && !slot->asking && now >= slot->quiet) {
            ngx_http_llm_lease_slot_free(slot);
        }
    }

    return NULL;
}


/* the key's open lease takes no more requests; closed once they end */

static void
ngx_http_llm_lease_drain(ngx_http_llm_lease_slot_t *slot)
{
    slot->open->draining = 1;
    slot->open->slot = NULL;
    slot->open = NULL;
}


/* the next open lease, to close them all (the worker exits) */

ngx_http_llm_lease_t *
ngx_http_llm_lease_any(void)
{
    if (!ngx_http_llm_lease_ready
        || ngx_queue_empty(&ngx_http_llm_lease_open))
    {
        return NULL;
    }

    return ngx_queue_data(ngx_queue_head(&ngx_http_llm_lease_open),
                          ngx_http_llm_lease_t, queue);
}


/*
 * Its settle is on its way (or it was never made): no request takes
 * from it any more; freed once those that took from it ended.
 */

void
ngx_http_llm_lease_closed(ngx_http_llm_lease_t *l)
{
    ngx_http_llm_lease_slot_t  *slot;

    slot = l->slot;

    if (slot) {
        if (slot->open == l) {
            slot->open = NULL;
        }

        l->slot = NULL;
    }

    if (l->listed) {
        ngx_queue_remove(&l->queue);
        l->listed = 0;
    }

    l->closed = 1;

    if (l->inflight == 0) {
        ngx_destroy_pool(l->pool);
    }
}


/* the ask got no answer that counts: forgotten, maybe to be released */

void
ngx_http_llm_lease_unanswered(ngx_http_llm_lease_t *l)
{
    ngx_http_llm_lease_slot_t  *slot;

    slot = l->slot;

    if (slot) {
        slot->asking = 0;
    }

    ngx_http_llm_lease_closed(l);
}


/* the key's slot; made if window_end is not 0 */

static ngx_http_llm_lease_slot_t *
ngx_http_llm_lease_slot(ngx_str_t *key, time_t window_end, ngx_log_t *log)
{
    uint32_t                    hash;
    ngx_http_llm_lease_slot_t  *slot;

    if (!ngx_http_llm_lease_ready) {
        ngx_rbtree_init(&ngx_http_llm_lease_tree,
                        &ngx_http_llm_lease_sentinel,
                        ngx_str_rbtree_insert_value);
        ngx_queue_init(&ngx_http_llm_lease_slots);
        ngx_queue_init(&ngx_http_llm_lease_open);
        ngx_http_llm_lease_ready = 1;
    }

    hash = ngx_http_llm_hash(0, key->data, key->len);

    slot = (ngx_http_llm_lease_slot_t *)
               ngx_str_rbtree_lookup(&ngx_http_llm_lease_tree, key, hash);

    if (slot != NULL || window_end == 0) {
        return slot;
    }

    slot = ngx_alloc(sizeof(ngx_http_llm_lease_slot_t) + key->len, log);
    if (slot == NULL) {
        return NULL;
    }

    ngx_memzero(slot, sizeof(ngx_http_llm_lease_slot_t));

    slot->sn.str.data = (u_char *) (slot + 1);
    slot->sn.str.len = key->len;
    ngx_memcpy(slot->sn.str.data, key->data, key->len);

    slot->window_end = window_end;
    slot->sn.node.key = hash;

    ngx_rbtree_insert(&ngx_http_llm_lease_tree, &slot->sn.node);
    ngx_queue_insert_tail(&ngx_http_llm_lease_slots, &slot->queue);

    return slot;
}


static void
ngx_http_llm_lease_slot_free(ngx_http_llm_lease_slot_t *slot)
{
    ngx_rbtree_delete(&ngx_http_llm_lease_tree, &slot->sn.node);
    ngx_queue_remove(&slot->queue);
    ngx_free(slot);
}
