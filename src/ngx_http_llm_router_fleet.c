
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * Budgets across a fleet of nginx nodes, on Redis.  A budget's window
 * for one key value is a hash, "llm:b:<name>:<metric>:<window start>:
 * <key value>", with "used" and "res" (reserved), expiring a minute after
 * the window ends.  Reserve and settle are each one server-side script
 * over all of a request's budgets, so two nodes never both take the last
 * room in a budget:
 *
 *   reserve: every budget has room for the upper bound, or none is
 *            touched; the reservation is recorded under a marker key,
 *            one per request;
 *   settle:  only if the marker is still there (deleted at once): the
 *            reservation is released and the real usage added, so a
 *            settle sent twice (after a lost reply) counts once.
 *
 * While Redis is down, requests reserve this node's share of each limit
 * in the zone (ngx_http_llm_router_budget.c); what they used is added to
 * Redis by the next sync once it is back, under a marker too
 * (ngx_http_llm_router_fleet_sync.c).
 *
 * Reservations and settles go to Redis in batches, one script call per
 * turn of the event loop (ngx_http_llm_router_fleet_batch.c); leases are
 * asked for and settled in them too.
 *
 * Calls run one way: budget.c calls this file, which tells it the
 * outcome of a reservation through the handler it was given; this file
 * calls fleet_batch.c, which answers each item through the answer
 * handler it was added with.
 */


#include "ngx_http_llm_router.h"
#include "ngx_http_llm_router_redis.h"
#include "ngx_http_llm_router_resp.h"
#include "ngx_http_llm_router_fleet.h"


static void ngx_http_llm_fleet_cleanup(void *data);
static void ngx_http_llm_fleet_answer(ngx_http_llm_fleet_req_t *fr,
    int rv, size_t index, long long *left, ngx_uint_t unknown);
static ngx_int_t ngx_http_llm_fleet_result(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, ngx_http_llm_fleet_req_t *fr, int rv,
    size_t index, long long *left, ngx_uint_t unknown);
static void ngx_http_llm_fleet_lease_ask(ngx_http_llm_fleet_req_t *fr,
    ngx_http_llm_redis_conf_t *rc, ngx_log_t *log);
static void ngx_http_llm_fleet_lease_answer(ngx_http_llm_fleet_req_t *fr,
    int rv, size_t index, long long *left, ngx_uint_t unknown);
static void ngx_http_llm_fleet_lease_close(ngx_http_llm_lease_t *l);
static void ngx_http_llm_fleet_lease_settle(ngx_http_llm_lease_t *l);
static void ngx_http_llm_fleet_settle_leased(ngx_http_llm_fleet_req_t *fr,
    int64_t *used, ngx_pool_t *pool, ngx_log_t *log);
static void ngx_http_llm_fleet_add_used(ngx_str_t *key, int64_t used,
    int64_t ttl, ngx_log_t *log);


/*
 * NGX_AGAIN: the reservation goes with this turn's batch, the request
 * waits, and handler() gets its outcome; NGX_DECLINED: Redis is down and
 * on_error=local; an HTTP status otherwise.
 */

ngx_int_t
ngx_http_llm_fleet_reserve(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    ngx_str_t *keys, int64_t *est, ngx_http_llm_fleet_done_pt handler)
{
    time_t                       now, start;
    ngx_int_t                    taken;
    long long                    left[NGX_HTTP_LLM_MAX_RESERVATIONS];
    ngx_uint_t                   i, m, n, nb;
    ngx_pool_cleanup_t          *cln;
    ngx_http_llm_budget_t       *b;
    ngx_http_llm_fleet_req_t    *fr;
    ngx_http_llm_main_conf_t    *lmcf;
    ngx_http_llm_redis_conf_t   *rc;
    ngx_http_llm_reservation_t  *res;

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_llm_router_module);

    b = ctx->lcf->budgets->elts;
    nb = ctx->lcf->budgets->nelts;
    now = ngx_time();

    fr = ngx_pcalloc(r->pool, sizeof(ngx_http_llm_fleet_req_t)
                              + nb * 3 * (sizeof(ngx_str_t) + sizeof(int64_t)
                                          + sizeof(ngx_http_llm_lease_t *)));
    if (fr == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    fr->r = r;
    fr->ctx = ctx;
    fr->answer = ngx_http_llm_fleet_answer;
    fr->handler = handler;
    fr->time = now;
    fr->res = ctx->budget.reservations;
    fr->amounts = (int64_t *) (fr + 1);
    fr->rkeys = (ngx_str_t *) (fr->amounts + nb * 3);
    fr->leases = (ngx_http_llm_lease_t **) (fr->rkeys + nb * 3);

    n = 0;

    for (i = 0; i < nb; i++) {
        if (keys[i].len == 0) {
            continue;
        }

        for (m = 0; m < 3; m++) {
            if (!b[i].limit[m].set) {
                continue;
            }

            res = &ctx->budget.reservations[n];
            res->budget = &b[i];
            res->metric = m;
            res->key = keys[i];
            res->amount = est[m];
            fr->amounts[n] = est[m];

            start = ngx_http_llm_window_start(now, b[i].limit[m].window);

            if (ngx_http_llm_fleet_res_key(r->pool, res, start,
                                           &fr->rkeys[n])
                != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            n++;
        }
    }

    if (n == 0) {
        return NGX_OK;
    }

    fr->n = n;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = lmcf->redis;

    if (rc->lease && ngx_http_llm_redis_accepts()) {
        taken = ngx_http_llm_lease_take(fr->rkeys, fr->amounts, n,
                                        fr->leases, left);

        if (taken != NGX_DECLINED) {
            /* room this worker holds already: no round trip */
            fr->leased = 1;
            ctx->budget.fleet = fr;
            cln->handler = ngx_http_llm_fleet_cleanup;
            cln->data = fr;

            if (taken == NGX_AGAIN) {
                /* the next lease, asked for before this one runs out */
                ngx_http_llm_fleet_lease_ask(fr, rc, r->connection->log);
            }

            return ngx_http_llm_fleet_result(r, ctx, fr,
                                             NGX_HTTP_LLM_RESP_RESERVED, 0,
                                             left, 0);
        }
    }

    if (!ngx_http_llm_redis_accepts()
        || ngx_http_llm_fleet_add(fr, r->pool, r->connection->log) != NGX_OK)
    {
        if (rc->on_error == NGX_HTTP_LLM_REDIS_REJECT) {
            return ngx_http_llm_set_error(r, ctx,
                                   NGX_HTTP_SERVICE_UNAVAILABLE,
                                   "budget_store_unavailable", NULL,
                                   "The budget store is unreachable; "
                                   "retry later");
        }

        return NGX_DECLINED;
    }

    ctx->budget.fleet = fr;

    cln->handler = ngx_http_llm_fleet_cleanup;
    cln->data = fr;

    if (rc->lease) {
        ngx_http_llm_fleet_lease_ask(fr, rc, r->connection->log);
    }

    return NGX_AGAIN;
}


/* the request is freed while Redis has not answered: forgotten */

static void
ngx_http_llm_fleet_cleanup(void *data)
{
    ngx_http_llm_fleet_req_t  *fr = data;

    if (fr->item) {
        fr->item->fr = NULL;
        fr->item = NULL;
    }

    if (fr->leased) {
        /* ended before its settle: all it took is room again */
        ngx_http_llm_fleet_settle_leased(fr, NULL, NULL, ngx_cycle->log);
    }
}


/* a request's outcome from its batch (fr->answer): to budget.c's handler */

static void
ngx_http_llm_fleet_answer(ngx_http_llm_fleet_req_t *fr, int rv,
    size_t index, long long *left, ngx_uint_t unknown)
{
    ngx_int_t            rc;
    ngx_http_request_t  *r;
    ngx_http_llm_ctx_t  *ctx;

    r = fr->r;
    ctx = fr->ctx;

    rc = ngx_http_llm_fleet_result(r, ctx, fr, rv, index, left, unknown);

    fr->handler(r, ctx, rc, fr->refused);
}


static ngx_int_t
ngx_http_llm_fleet_result(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    ngx_http_llm_fleet_req_t *fr, int rv, size_t i, long long *left,
    ngx_uint_t unknown)
{
    time_t                       now, reset;
    int64_t                      remaining;
    ngx_uint_t                   m;
    ngx_http_llm_main_conf_t    *lmcf;
    ngx_http_llm_redis_conf_t   *rc;
    ngx_http_llm_reservation_t  *res;

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_llm_router_module);
    rc = lmcf->redis;
    now = ngx_time();

    if (rv == NGX_HTTP_LLM_RESP_INVALID) {

        /* no answer, or one that means nothing: Redis may hold it */
        fr->unknown = unknown ? 1 : 0;

        if (rc->on_error == NGX_HTTP_LLM_REDIS_REJECT) {
            return ngx_http_llm_set_error(r, ctx,
                                   NGX_HTTP_SERVICE_UNAVAILABLE,
                                   "budget_store_unavailable", NULL,
                                   "The budget store is unreachable; "
                                   "retry later");
        }

        /* the caller reserves this node's share instead */
        ctx->budget.fleet_local = 1;

        return NGX_DECLINED;
    }

    if (rv == NGX_HTTP_LLM_RESP_REFUSED) {
        res = &ctx->budget.reservations[i];
        m = res->metric;

        /* counted in the zone by the caller */
        fr->refused = res;

        reset = ngx_http_llm_window_end(now, res->budget->limit[m].window)
                - now;

        if (m < 2) {
            ctx->budget.rl_set |= 1 << m;
            ctx->budget.rl_limit[m] = res->budget->limit[m].limit;
            ctx->budget.rl_remaining[m] = ngx_max(left[0], 0);
            ctx->budget.rl_reset[m] = reset;
        }

        ctx->budget.retry_after = (ngx_uint_t) ngx_max(reset, 1);

        return ngx_http_llm_set_error(r, ctx, NGX_HTTP_TOO_MANY_REQUESTS,
                                      "budget_exceeded", NULL,
                                      "Budget \"%V\" is exhausted (%s); "
                                      "retry in %T s",
                                      &res->budget->name,
                                      ngx_http_llm_budget_metric_name(m),
                                      reset);
    }

    for (i = 0; i < fr->n; i++) {
        res = &ctx->budget.reservations[i];
        m = res->metric;

        if (res->budget->dry_run && res->amount > left[i]) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "llm router: budget \"%V\" (%s) would reject "
                          "the request, dry run", &res->budget->name,
                          ngx_http_llm_budget_metric_name(m));
        }

        if (m == NGX_HTTP_LLM_METRIC_COST) {
            continue;
        }

        remaining = ngx_max(left[i] - res->amount, 0);

        if (!(ctx->budget.rl_set & (1 << m))
            || remaining < ctx->budget.rl_remaining[m])
        {
            ctx->budget.rl_set |= 1 << m;
            ctx->budget.rl_limit[m] = res->budget->limit[m].limit;
            ctx->budget.rl_remaining[m] = remaining;
            ctx->budget.rl_reset[m] = ngx_http_llm_window_end(now,
                                                res->budget->limit[m].window)
                               - now;
        }
    }

    fr->reserved = 1;
    ctx->budget.nreservations = fr->n;

    return NGX_OK;
}


/*
 * The request ended: its reservation on Redis is released and its real
 * usage added, with this turn's other settles; after a reservation that
 * got no reply, only released (if it was made), the usage being counted
 * locally.
 */

void
ngx_http_llm_fleet_settle(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    int64_t *used)
{
    time_t                       now, start, end;
    int64_t                      actual, ttl;
    ngx_str_t                    key;
    ngx_log_t                   *log;
    ngx_uint_t                   i, n, m, k, local;
    ngx_http_llm_fleet_req_t    *fr;
    size_t                       saved[2];
    ngx_http_llm_fleet_next_t   *next;
    ngx_http_llm_reservation_t  *res;

    fr = ctx->budget.fleet;

    if (fr == NULL || !(fr->reserved || fr->unknown) || fr->n == 0) {
        return;
    }

    if (fr->leased) {
        fr->reserved = 0;
        ngx_http_llm_fleet_settle_leased(fr, used, r->pool,
                                         r->connection->log);
        return;
    }

    /*
     * only released when its reply was lost: the usage is counted locally
     * (on_error=local), or there is none (reject answered 503)
     */
    local = ctx->budget.fleet_local || fr->unknown;

    fr->reserved = 0;
    fr->unknown = 0;

    n = fr->n;
    now = ngx_time();
    log = r->connection->log;

    next = ngx_http_llm_fleet_settle_start(fr, n, saved, log);
    if (next == NULL) {
        return;
    }

    /*
     * the reservations as they were sent: fr->rkeys[i] is theirs; the
     * key of the current window only if the window turned since (ttl 0:
     * none, the usage goes to the key reserved in)
     */

    k = 1;

    for (i = 0; i < n; i++) {
        res = &ctx->budget.reservations[i];

        if (ngx_http_llm_fleet_arg(&next->keys, fr->rkeys[i].data,
                                   fr->rkeys[i].len, log)
            != NGX_OK)
        {
            goto failed;
        }

        actual = 0;
        ttl = 0;

        /* after a timeout ctx->budget.reservations are the local ones */

        if (!local) {
            m = res->metric;
            actual = used[i];
            start = ngx_http_llm_window_start(now,
                                              res->budget->limit[m].window);

            if (start != ngx_http_llm_window_start(fr->time,
                                              res->budget->limit[m].window))
            {
                end = ngx_http_llm_window_end(now,
                                              res->budget->limit[m].window);
                ttl = end - now + 60;

                if (ngx_http_llm_fleet_res_key(r->pool, res, start, &key)
                    != NGX_OK
                    || ngx_http_llm_fleet_arg(&next->keys, key.data, key.len,
                                              log)
                       != NGX_OK)
                {
                    goto failed;
                }

                k++;
            }
        }

        if (ngx_http_llm_fleet_arg_num(&next->args, -fr->amounts[i], log)
            != NGX_OK
            || ngx_http_llm_fleet_arg_num(&next->args, actual, log) != NGX_OK
            || ngx_http_llm_fleet_arg_num(&next->args, ttl, log) != NGX_OK)
        {
            goto failed;
        }

        k++;
    }

    next->nkeys += k;
    next->nargs += 2 + 3 * n;
    next->n++;

    ngx_http_llm_fleet_post();

    return;

failed:

    ngx_http_llm_fleet_next_undo(next, saved);
}


/*
 * Leases, asked for with a request that found none with room: each is
 * an item of the same batch, after the request's own, reserving "lease"
 * times the request's amount, and only if the budget keeps room for as
 * many leases again for every worker of every node (its floor): near
 * the limit, none is granted.
 */

static void
ngx_http_llm_fleet_lease_ask(ngx_http_llm_fleet_req_t *fr,
    ngx_http_llm_redis_conf_t *rc, ngx_log_t *log)
{
    int64_t                    holders;
    ngx_uint_t                 i;
    ngx_core_conf_t           *ccf;
    ngx_http_llm_lease_t      *l;
    ngx_http_llm_fleet_req_t  *lfr;

    ccf = (ngx_core_conf_t *) ngx_get_conf(ngx_cycle->conf_ctx,
                                           ngx_core_module);

    holders = (int64_t) ngx_min(ngx_http_llm_fleet_nodes(), 100000)
              * (int64_t) ngx_max(ccf->worker_processes, 1);

    for (i = 0; i < fr->n; i++) {
        l = ngx_http_llm_lease_want(&fr->rkeys[i], &fr->res[i], rc->lease,
                                    log);
        if (l == NULL) {
            continue;
        }

        lfr = ngx_pcalloc(l->pool, sizeof(ngx_http_llm_fleet_req_t));
        if (lfr == NULL) {
            ngx_http_llm_lease_unanswered(l);
            continue;
        }

        lfr->lease = l;
        lfr->answer = ngx_http_llm_fleet_lease_answer;
        lfr->res = &l->res;
        lfr->rkeys = &l->key;
        lfr->amounts = &l->res.amount;
        lfr->n = 1;
        lfr->time = fr->time;

        /* floor = holders * room, or the limit (no lease) if above it */
        lfr->floor = (l->res.amount > (l->res.budget->limit[l->res.metric]
                                       .limit - 1) / holders)
                     ? l->res.budget->limit[l->res.metric].limit
                     : holders * l->res.amount;
        l->data = lfr;

        if (ngx_http_llm_fleet_add(lfr, l->pool, log) != NGX_OK) {
            ngx_http_llm_lease_unanswered(l);
        }
    }
}


/* a lease ask's outcome from its batch (fr->answer, r NULL) */

static void
ngx_http_llm_fleet_lease_answer(ngx_http_llm_fleet_req_t *fr, int rv,
    size_t index, long long *left, ngx_uint_t unknown)
{
    ngx_http_llm_lease_t  *l;

    l = fr->lease;

    if (rv == NGX_HTTP_LLM_RESP_RESERVED) {
        /* the room it saw was below a limit lowered by its floor */
        ngx_http_llm_lease_granted(l, 1, left[0] + fr->floor);
        return;
    }

    if (rv == NGX_HTTP_LLM_RESP_REFUSED) {
        ngx_http_llm_lease_granted(l, 0, 0);
        return;
    }

    if (unknown) {
        /* Redis may hold it: released by its settle if so */
        l->used = 0;
        ngx_http_llm_fleet_lease_settle(l);
    }

    ngx_http_llm_lease_unanswered(l);
}


static void
ngx_http_llm_fleet_lease_close(ngx_http_llm_lease_t *l)
{
    ngx_http_llm_fleet_lease_settle(l);
    ngx_http_llm_lease_closed(l);
}


/*
 * A lease's settle, as a request's: its room released, what the
 * requests that took from it used added, to the window it is of.
 */

static void
ngx_http_llm_fleet_lease_settle(ngx_http_llm_lease_t *l)
{
    size_t                      saved[2];
    ngx_log_t                  *log;
    ngx_http_llm_fleet_req_t   *fr;
    ngx_http_llm_fleet_next_t  *next;

    fr = l->data;
    log = ngx_cycle->log;

    next = ngx_http_llm_fleet_settle_start(fr, 1, saved, log);
    if (next == NULL) {
        goto failed;
    }

    if (ngx_http_llm_fleet_arg(&next->keys, l->key.data, l->key.len, log)
        != NGX_OK
        || ngx_http_llm_fleet_arg_num(&next->args, -l->res.amount, log)
           != NGX_OK
        || ngx_http_llm_fleet_arg_num(&next->args, l->used, log) != NGX_OK
        || ngx_http_llm_fleet_arg_num(&next->args, 0, log) != NGX_OK)
    {
        ngx_http_llm_fleet_next_undo(next, saved);
        goto failed;
    }

    next->nkeys += 2;
    next->nargs += 5;
    next->n++;

    ngx_http_llm_fleet_post();

    return;

failed:

    ngx_log_error(NGX_LOG_ERR, log, 0,
                  "llm router: a lease of budget \"%V\" could not be "
                  "settled (no memory): its room stays reserved on redis "
                  "until its window ends", &l->res.budget->name);
}


/*
 * A request reserved from leases ended (used NULL: before its settle,
 * nothing used).  One whose window ended meanwhile adds its usage to
 * the new window, as a request reserved on Redis does.
 */

static void
ngx_http_llm_fleet_settle_leased(ngx_http_llm_fleet_req_t *fr,
    int64_t *used, ngx_pool_t *pool, ngx_log_t *log)
{
    time_t                       now, start, window;
    int64_t                      u;
    ngx_str_t                    key;
    ngx_uint_t                   i, turned;
    ngx_http_llm_lease_t        *l;
    ngx_http_llm_reservation_t  *res;

    fr->leased = 0;
    now = ngx_time();

    for (i = 0; i < fr->n; i++) {
        l = fr->leases[i];
        res = &fr->res[i];
        u = used ? used[i] : 0;
        window = res->budget->limit[res->metric].window;
        start = ngx_http_llm_window_start(now, window);
        turned = (start != ngx_http_llm_window_start(fr->time, window));

        if (turned && u > 0 && pool
            && ngx_http_llm_fleet_res_key(pool, res, start, &key) == NGX_OK)
        {
            ngx_http_llm_fleet_add_used(&key, u,
                                        ngx_http_llm_window_end(now, window)
                                        - now + 60, log);
        }

        if (ngx_http_llm_lease_put(l, fr->amounts[i], u, turned) == NGX_OK) {
            ngx_http_llm_fleet_lease_close(l);
        }
    }
}


/* usage added to a key once (a merge, by its marker) */

static void
ngx_http_llm_fleet_add_used(ngx_str_t *key, int64_t used, int64_t ttl,
    ngx_log_t *log)
{
    u_char       *p, num[2 * NGX_INT64_LEN];
    size_t        argvlen[7];
    ngx_str_t     marker;
    ngx_pool_t   *pool;
    const char   *argv[7];

    pool = ngx_create_pool(512, log);
    if (pool == NULL) {
        return;
    }

    if (ngx_http_llm_fleet_marker(pool, &marker, "m") != NGX_OK) {
        ngx_destroy_pool(pool);
        return;
    }

    argv[2] = "2";
    argvlen[2] = 1;
    argv[3] = (char *) marker.data;
    argvlen[3] = marker.len;
    argv[4] = (char *) key->data;
    argvlen[4] = key->len;

    p = ngx_http_llm_fleet_num(num, used);
    argv[5] = (char *) num;
    argvlen[5] = p - num;
    argv[6] = (char *) p;
    argvlen[6] = ngx_http_llm_fleet_num(p, ttl) - p;

    ngx_http_llm_fleet_job(NGX_HTTP_LLM_SCRIPT_MERGE, 7, argv, argvlen, log);

    ngx_destroy_pool(pool);
}


/* every sync: leases due are closed, then the fleet's own sync */

void
ngx_http_llm_fleet_tick(ngx_log_t *log)
{
    ngx_http_llm_lease_t       *l;
    ngx_http_llm_main_conf_t   *lmcf;
    ngx_http_llm_redis_conf_t  *rc;

    lmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_llm_router_module);
    rc = lmcf ? lmcf->redis : NULL;

    /* NULL: reloaded without llm_redis (single process mode) */
    while (rc && (l = ngx_http_llm_lease_due(rc->sync)) != NULL) {
        ngx_http_llm_fleet_lease_close(l);
    }

    ngx_http_llm_fleet_sync(log);
}


/*
 * The worker exits: a batch not sent yet is sent now (its reservations
 * are answered "no reply" with the rest), then what waits is dropped.
 */

void
ngx_http_llm_fleet_exit_process(ngx_log_t *log)
{
    ngx_http_llm_lease_t  *l;

    while ((l = ngx_http_llm_lease_any()) != NULL) {
        ngx_http_llm_fleet_lease_close(l);
    }

    ngx_http_llm_fleet_batch_flush(log);

    /* written while the connection is still there, then it is closed */
    ngx_http_llm_fleet_jobs_final();
    ngx_http_llm_redis_drain();

    ngx_http_llm_fleet_batch_free();

    ngx_http_llm_fleet_exit(log);
}
