
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
 * Calls run one way: budget.c calls this file, which tells it the
 * outcome of a reservation through the handler it was given.
 */


#include "ngx_http_llm_router.h"
#include "ngx_http_llm_router_redis.h"
#include "ngx_http_llm_router_resp.h"


#define NGX_HTTP_LLM_FLEET_MARKER_TTL   "21600"


typedef struct ngx_http_llm_fleet_wait_s  ngx_http_llm_fleet_wait_t;


/* a request's budgets on Redis, in its pool */
typedef struct {
    ngx_http_request_t              *r;
    ngx_http_llm_ctx_t              *ctx;
    ngx_http_llm_fleet_wait_t       *wait;
    ngx_http_llm_fleet_done_pt       handler;
    ngx_http_llm_reservation_t      *refused;
    ngx_str_t                        marker;
    ngx_str_t                       *rkeys;     /* by reservation */
    int64_t                         *amounts;
    ngx_uint_t                       n;
    unsigned                         reserved:1;
    unsigned                         unknown:1;  /* no reply: maybe */
} ngx_http_llm_fleet_req_t;


/* outlives the request: what the reply handler gets */
struct ngx_http_llm_fleet_wait_s {
    ngx_http_llm_fleet_req_t        *fr;
};


static void ngx_http_llm_fleet_cleanup(void *data);
static void ngx_http_llm_fleet_reserved(void *data, redisReply *reply);
static ngx_int_t ngx_http_llm_fleet_result(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, ngx_http_llm_fleet_req_t *fr,
    redisReply *reply);


/*
 * NGX_AGAIN: the reservation is on its way, the request waits, and
 * handler() gets its outcome; NGX_DECLINED: Redis is down and
 * on_error=local; an HTTP status otherwise.  Longer than 150 lines: the
 * arguments of one EVALSHA are laid out in place, keys first, then four
 * per key, in the order the script reads them.
 */

ngx_int_t
ngx_http_llm_fleet_reserve(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    ngx_str_t *keys, int64_t *est, ngx_http_llm_fleet_done_pt handler)
{
    int                          argc;
    u_char                      *p;
    time_t                       now, start, end;
    size_t                      *argvlen;
    ngx_uint_t                   i, m, n, nb, a;
    const char                 **argv;
    ngx_pool_cleanup_t          *cln;
    ngx_http_llm_budget_t       *b;
    ngx_http_llm_fleet_req_t    *fr;
    ngx_http_llm_fleet_wait_t   *wait;
    ngx_http_llm_main_conf_t    *lmcf;
    ngx_http_llm_redis_conf_t   *rc;
    ngx_http_llm_reservation_t  *res;

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_llm_router_module);
    rc = lmcf->redis;

    b = ctx->lcf->budgets->elts;
    nb = ctx->lcf->budgets->nelts;
    now = ngx_time();

    fr = ngx_pcalloc(r->pool, sizeof(ngx_http_llm_fleet_req_t)
                              + nb * 3 * (sizeof(ngx_str_t) + sizeof(int64_t)));
    if (fr == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    fr->r = r;
    fr->ctx = ctx;
    fr->handler = handler;
    fr->amounts = (int64_t *) (fr + 1);
    fr->rkeys = (ngx_str_t *) (fr->amounts + nb * 3);

    /* EVALSHA sha numkeys marker keys... (4 per key)... marker-ttl */

    argv = ngx_palloc(r->pool, (5 + nb * 3 * 5) * sizeof(char *));
    argvlen = ngx_palloc(r->pool, (5 + nb * 3 * 5) * sizeof(size_t));

    if (argv == NULL || argvlen == NULL
        || ngx_http_llm_fleet_marker(r->pool, &fr->marker, "r") != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

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

            p = ngx_pnalloc(r->pool, sizeof("llm:b:::") + b[i].name.len
                                     + 16 + NGX_TIME_T_LEN + keys[i].len);
            if (p == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            fr->rkeys[n].data = p;
            fr->rkeys[n].len = ngx_http_llm_fleet_key(p, &b[i].name, m,
                                                      start, &keys[i])
                               - p;
            n++;
        }
    }

    if (n == 0) {
        return NGX_OK;
    }

    fr->n = n;

    argc = 0;
    argv[argc] = NULL;             /* EVALSHA sha: filled in by redis.c */
    argvlen[argc++] = 0;
    argv[argc] = NULL;
    argvlen[argc++] = 0;

    p = ngx_pnalloc(r->pool, NGX_INT_T_LEN + n * (4 * NGX_INT64_LEN + 4));
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    argv[argc] = (char *) p;
    argvlen[argc++] = ngx_http_llm_fleet_num(p, n + 1) - p;
    p += argvlen[argc - 1];

    argv[argc] = (char *) fr->marker.data;
    argvlen[argc++] = fr->marker.len;

    for (i = 0; i < n; i++) {
        argv[argc] = (char *) fr->rkeys[i].data;
        argvlen[argc++] = fr->rkeys[i].len;
    }

    for (i = 0; i < n; i++) {
        res = &ctx->budget.reservations[i];
        end = ngx_http_llm_window_end(now,
                                      res->budget->limit[res->metric].window);

        for (a = 0; a < 4; a++) {
            argv[argc] = (char *) p;

            switch (a) {
            case 0:
                p = ngx_http_llm_fleet_num(p,
                                      res->budget->limit[res->metric].limit);
                break;
            case 1:
                p = ngx_http_llm_fleet_num(p, res->amount);
                break;
            case 2:
                p = ngx_http_llm_fleet_num(p, end - now + 60);
                break;
            default:
                *p++ = res->budget->dry_run ? '1' : '0';
            }

            argvlen[argc] = (u_char *) p - (u_char *) argv[argc];
            argc++;
        }
    }

    argv[argc] = NGX_HTTP_LLM_FLEET_MARKER_TTL;
    argvlen[argc++] = sizeof(NGX_HTTP_LLM_FLEET_MARKER_TTL) - 1;

    wait = ngx_alloc(sizeof(ngx_http_llm_fleet_wait_t), r->connection->log);
    if (wait == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        ngx_free(wait);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_llm_redis_script(NGX_HTTP_LLM_SCRIPT_RESERVE, argc, argv,
                                  argvlen, ngx_http_llm_fleet_reserved, wait)
        != NGX_OK)
    {
        ngx_free(wait);

        if (rc->on_error == NGX_HTTP_LLM_REDIS_REJECT) {
            return ngx_http_llm_set_error(r, ctx,
                                   NGX_HTTP_SERVICE_UNAVAILABLE,
                                   "budget_store_unavailable", NULL,
                                   "The budget store is unreachable; "
                                   "retry later");
        }

        return NGX_DECLINED;
    }

    wait->fr = fr;
    fr->wait = wait;
    ctx->budget.fleet = fr;

    cln->handler = ngx_http_llm_fleet_cleanup;
    cln->data = fr;

    return NGX_AGAIN;
}


/* the request is freed while Redis has not answered: forget it */

static void
ngx_http_llm_fleet_cleanup(void *data)
{
    ngx_http_llm_fleet_req_t  *fr = data;

    if (fr->wait) {
        fr->wait->fr = NULL;
        fr->wait = NULL;
    }
}


static void
ngx_http_llm_fleet_reserved(void *data, redisReply *reply)
{
    ngx_http_llm_fleet_wait_t *wait = data;

    ngx_int_t                  rc;
    ngx_http_request_t        *r;
    ngx_http_llm_ctx_t        *ctx;
    ngx_http_llm_fleet_req_t  *fr;

    fr = wait->fr;
    ngx_free(wait);

    if (fr == NULL) {
        /* the request is gone; a reservation made expires with its marker */
        return;
    }

    fr->wait = NULL;
    r = fr->r;
    ctx = fr->ctx;

    rc = ngx_http_llm_fleet_result(r, ctx, fr, reply);

    fr->handler(r, ctx, rc, fr->refused);
}


static ngx_int_t
ngx_http_llm_fleet_result(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    ngx_http_llm_fleet_req_t *fr, redisReply *reply)
{
    int                          rv;
    size_t                       i;
    time_t                       now, reset;
    int64_t                      remaining;
    ngx_uint_t                   m;
    long long                    left[NGX_HTTP_LLM_MAX_RESERVATIONS];
    ngx_http_llm_main_conf_t    *lmcf;
    ngx_http_llm_redis_conf_t   *rc;
    ngx_http_llm_reservation_t  *res;

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_llm_router_module);
    rc = lmcf->redis;
    now = ngx_time();

    rv = ngx_http_llm_resp_reserve(reply, fr->n, &i, left);

    if (rv == NGX_HTTP_LLM_RESP_INVALID) {
        if (reply) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "llm router: redis %V: unexpected reply to the "
                          "reservation (type %d%s%*s)", &rc->name,
                          reply->type,
                          reply->type == REDIS_REPLY_ERROR ? ": " : "",
                          (size_t) (reply->type == REDIS_REPLY_ERROR
                                    ? ngx_min(reply->len, 200) : 0),
                          reply->str ? reply->str : "");
        }

        /* no answer, or one that means nothing: Redis may hold it */
        fr->unknown = 1;

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
 * usage added; after a reservation that got no reply, only released
 * (if it was made), the usage being counted locally.
 */

void
ngx_http_llm_fleet_settle(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    int64_t *used)
{
    int                          argc;
    u_char                      *p, *q;
    time_t                       now, start, end;
    size_t                      *argvlen;
    int64_t                      amount, actual;
    ngx_uint_t                   i, n, m, local;
    const char                 **argv;
    ngx_http_llm_fleet_req_t    *fr;
    ngx_http_llm_reservation_t  *res;

    fr = ctx->budget.fleet;

    if (fr == NULL || !(fr->reserved || fr->unknown) || fr->n == 0) {
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

    argv = ngx_palloc(r->pool, (4 + n * 5) * sizeof(char *));
    argvlen = ngx_palloc(r->pool, (4 + n * 5) * sizeof(size_t));
    p = ngx_pnalloc(r->pool, NGX_INT_T_LEN + n * (3 * NGX_INT64_LEN + 3));

    if (argv == NULL || argvlen == NULL || p == NULL) {
        return;
    }

    argc = 2;

    argv[argc] = (char *) p;
    argvlen[argc++] = ngx_http_llm_fleet_num(p, 1 + 2 * n) - p;
    p += argvlen[argc - 1];

    argv[argc] = (char *) fr->marker.data;
    argvlen[argc++] = fr->marker.len;

    /* the reservations as they were sent: fr->rkeys[i] is theirs */

    for (i = 0; i < n; i++) {
        res = &ctx->budget.reservations[i];

        argv[argc] = (char *) fr->rkeys[i].data;
        argvlen[argc++] = fr->rkeys[i].len;

        if (local) {
            /* nothing is added: argv for the used key is never read */
            argv[argc] = (char *) fr->rkeys[i].data;
            argvlen[argc++] = fr->rkeys[i].len;
            continue;
        }

        m = res->metric;
        start = ngx_http_llm_window_start(now, res->budget->limit[m].window);

        q = ngx_pnalloc(r->pool, sizeof("llm:b:::") + res->budget->name.len
                                 + 16 + NGX_TIME_T_LEN + res->key.len);
        if (q == NULL) {
            return;
        }

        argv[argc] = (char *) q;
        argvlen[argc++] = ngx_http_llm_fleet_key(q, &res->budget->name, m,
                                                 start, &res->key)
                          - q;
    }

    for (i = 0; i < n; i++) {
        amount = fr->amounts[i];
        actual = 0;
        end = now;

        /* after a timeout ctx->budget.reservations are the local ones */

        if (!local) {
            res = &ctx->budget.reservations[i];
            actual = used[i];
            end = ngx_http_llm_window_end(now,
                                   res->budget->limit[res->metric].window);
        }

        argv[argc] = (char *) p;
        *p++ = '-';
        p = ngx_http_llm_fleet_num(p, amount);
        argvlen[argc] = p - (u_char *) argv[argc];
        argc++;

        argv[argc] = (char *) p;
        p = ngx_http_llm_fleet_num(p, actual);
        argvlen[argc] = p - (u_char *) argv[argc];
        argc++;

        argv[argc] = (char *) p;
        p = ngx_http_llm_fleet_num(p, end - now + 60);
        argvlen[argc] = p - (u_char *) argv[argc];
        argc++;
    }

    ngx_http_llm_fleet_job(NGX_HTTP_LLM_SCRIPT_SETTLE, argc, argv, argvlen,
                           r->connection->log);
}

