
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * The providers' state in the zone: circuit breakers (a change is shared
 * with the fleet through fleet.c), the key in turn and keys cooling down.
 * Read on the request path without a lock while a circuit is closed.
 */


#include "ngx_http_llm_router.h"


/* what a result did to the circuit (ngx_http_llm_circuit_result) */
#define NGX_HTTP_LLM_CIRCUIT_KEPT      0   /* no change */
#define NGX_HTTP_LLM_CIRCUIT_CLOSED    1   /* a success closed it */
#define NGX_HTTP_LLM_CIRCUIT_OPENED    2   /* max_fails reached */
#define NGX_HTTP_LLM_CIRCUIT_REOPENED  3   /* a failed trial */


/*
 * The circuit breaker, nginx semantics: max_fails failures within
 * fail_timeout open it for fail_timeout (or Retry-After, if longer); then
 * one trial request at a time decides.
 */

ngx_uint_t
ngx_http_llm_circuit_allow(ngx_http_llm_provider_t *p)
{
    ngx_uint_t                    allow;
    ngx_msec_t                    now;
    ngx_slab_pool_t              *shpool;
    ngx_http_llm_shm_provider_t  *n;

    n = p->shm;

    if (n == NULL || p->max_fails == 0 || n->open_until == 0) {
        return 1;
    }

    shpool = p->shpool;
    now = ngx_current_msec;

    ngx_shmtx_lock(&shpool->mutex);

    if (n->open_until == 0) {
        allow = 1;

    } else if ((ngx_msec_int_t) (now - n->open_until) < 0) {
        allow = 0;

    } else if (n->trial_until
               && (ngx_msec_int_t) (now - n->trial_until) < 0)
    {
        allow = 0;

    } else {
        n->trial_until = now + p->fail_timeout;
        allow = 1;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return allow;
}


void
ngx_http_llm_circuit_result(ngx_http_llm_provider_t *p, ngx_log_t *log,
    ngx_uint_t failed, ngx_msec_t retry_after)
{
    ngx_uint_t                    change;
    ngx_msec_t                    now, period;
    ngx_slab_pool_t              *shpool;
    ngx_http_llm_shm_provider_t  *n;

    n = p->shm;

    if (n == NULL || p->max_fails == 0) {
        return;
    }

    if (!failed && n->fails == 0 && n->open_until == 0) {
        return;
    }

    shpool = p->shpool;
    now = ngx_current_msec;
    period = ngx_max(p->fail_timeout, retry_after);
    change = NGX_HTTP_LLM_CIRCUIT_KEPT;

    ngx_shmtx_lock(&shpool->mutex);

    if (!failed) {
        change = n->open_until ? NGX_HTTP_LLM_CIRCUIT_CLOSED
                               : NGX_HTTP_LLM_CIRCUIT_KEPT;

        n->fails = 0;
        n->open_until = 0;
        n->trial_until = 0;

    } else if (n->open_until) {
        /* a failed trial, or a late failure: open again */
        n->open_until = now + period;
        n->trial_until = 0;
        change = NGX_HTTP_LLM_CIRCUIT_REOPENED;

    } else {
        if (n->fails == 0
            || (ngx_msec_int_t) (now - n->fail_start)
               > (ngx_msec_int_t) p->fail_timeout)
        {
            n->fails = 0;
            n->fail_start = now;
        }

        n->fails++;

        if (n->fails >= p->max_fails) {
            n->open_until = now + period;
            n->trial_until = 0;
            n->circuit_opened++;
            change = NGX_HTTP_LLM_CIRCUIT_OPENED;
        }
    }

    ngx_shmtx_unlock(&shpool->mutex);

    if (change != NGX_HTTP_LLM_CIRCUIT_KEPT) {
        /* the other nodes of a fleet learn it within llm_redis sync= */
        ngx_http_llm_fleet_circuit(p);
    }

    if (change == NGX_HTTP_LLM_CIRCUIT_OPENED) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "llm router: provider \"%V\" circuit opened for %Mms "
                      "after %ui failures", &p->name, period, p->max_fails);

    } else if (change == NGX_HTTP_LLM_CIRCUIT_CLOSED) {
        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "llm router: provider \"%V\" circuit closed",
                      &p->name);
    }
}


/*
 * A provider's 2xx answer ended: complete, it is a success for the circuit;
 * cut by the provider (closed, reset, stalled, a stream without its final
 * event), it is a failure, although the client already has the header.
 */

void
ngx_http_llm_circuit_answer_end(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, ngx_uint_t complete)
{
    ngx_uint_t                failed;
    ngx_http_llm_provider_t  *prov;

    if (!ctx->answer_open || ctx->target == NULL) {
        return;
    }

    ctx->answer_open = 0;
    prov = ctx->target->provider;

    failed = !complete
             && ngx_http_llm_provider_fails_on(prov, NGX_HTTP_LLM_OUT_ERROR);

    if (failed) {
        if (prov->shm) {
            (void) ngx_atomic_fetch_add(&prov->shm->failures, 1);
        }

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "llm router: provider \"%V\" failed (answer cut)",
                      &prov->name);
    }

    ngx_http_llm_circuit_result(prov, r->connection->log, failed, 0);
}


/* the next key in turn that is not cooling down (or the one that ends first) */

ngx_uint_t
ngx_http_llm_key_pick(ngx_http_llm_provider_t *p)
{
    ngx_uint_t                    i, k, best, nkeys;
    ngx_msec_t                    now, cool;
    ngx_atomic_uint_t             start;
    ngx_http_llm_shm_provider_t  *n;

    nkeys = p->keys->nelts;
    n = p->shm;

    if (nkeys < 2 || n == NULL) {
        return 0;
    }

    start = ngx_atomic_fetch_add(&n->key_next, 1);
    now = ngx_current_msec;
    best = start % nkeys;

    for (i = 0; i < nkeys; i++) {
        k = (start + i) % nkeys;
        cool = n->key_cool[k];

        if (ngx_http_llm_key_bad(n, k)) {
            continue;
        }

        if (cool == 0 || (ngx_msec_int_t) (now - cool) >= 0) {
            return k;
        }

        if ((ngx_msec_int_t) (cool - n->key_cool[best]) < 0) {
            best = k;
        }
    }

    return best;
}


/*
 * The next key after "current" that this request has not tried and that
 * is not cooling down, for a retry at once; NGX_DECLINED if none.
 */

ngx_int_t
ngx_http_llm_key_next(ngx_http_llm_provider_t *p, ngx_uint_t current,
    uint64_t tried)
{
    ngx_uint_t                    i, k, nkeys;
    ngx_msec_t                    now, cool;
    ngx_http_llm_shm_provider_t  *n;

    nkeys = ngx_min(p->keys->nelts, 64);
    n = p->shm;

    if (nkeys < 2 || n == NULL) {
        return NGX_DECLINED;
    }

    now = ngx_current_msec;

    for (i = 1; i < nkeys; i++) {
        k = (current + i) % nkeys;

        if ((tried & ((uint64_t) 1 << k)) || ngx_http_llm_key_bad(n, k)) {
            continue;
        }

        cool = n->key_cool[k];

        if (cool == 0 || (ngx_msec_int_t) (now - cool) >= 0) {
            return k;
        }
    }

    return NGX_DECLINED;
}


void
ngx_http_llm_key_cool(ngx_http_llm_provider_t *p, ngx_log_t *log,
    ngx_uint_t key, ngx_msec_t duration)
{
    if (p->shm == NULL || key >= p->keys->nelts) {
        return;
    }

    p->shm->key_cool[key] = ngx_current_msec + duration;

    /* the key's position, never the key */

    ngx_log_error(NGX_LOG_WARN, log, 0,
                  "llm router: key #%ui of provider \"%V\" cools down "
                  "for %Mms", key + 1, &p->name, duration);
}
