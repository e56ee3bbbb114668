
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
 * Redis by the next sync once it is back, under a marker too.
 */


#include "ngx_http_llm_router.h"
#include "ngx_http_llm_router_redis.h"
#include "ngx_http_llm_router_resp.h"


#define NGX_HTTP_LLM_FLEET_MARKER_TTL   "21600"
#define NGX_HTTP_LLM_FLEET_MAX_JOBS     10000
#define NGX_HTTP_LLM_FLEET_MERGE_KEYS   64
#define NGX_HTTP_LLM_FLEET_NODES_TTL    60000


typedef struct ngx_http_llm_fleet_wait_s  ngx_http_llm_fleet_wait_t;


/* a request's budgets on Redis, in its pool */
typedef struct {
    ngx_http_request_t              *r;
    ngx_http_llm_ctx_t              *ctx;
    ngx_http_llm_fleet_wait_t       *wait;
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


/* an idempotent command that must reach Redis: a settle, a merge */
typedef struct {
    ngx_queue_t                      queue;
    char                            *cmd;
    int                              len;
    ngx_uint_t                       script;
} ngx_http_llm_fleet_job_t;


static void ngx_http_llm_fleet_cleanup(void *data);
static void ngx_http_llm_fleet_reserved(void *data, redisReply *reply);
static ngx_int_t ngx_http_llm_fleet_result(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, ngx_http_llm_fleet_req_t *fr,
    redisReply *reply);
static u_char *ngx_http_llm_fleet_key(u_char *p, ngx_str_t *name,
    ngx_uint_t metric, time_t start, ngx_str_t *key);
static ngx_int_t ngx_http_llm_fleet_marker(ngx_pool_t *pool, ngx_str_t *m,
    const char *kind);
static void ngx_http_llm_fleet_job(ngx_uint_t script, int argc,
    const char **argv, size_t *argvlen, ngx_log_t *log);
static void ngx_http_llm_fleet_job_send(ngx_http_llm_fleet_job_t *job);
static void ngx_http_llm_fleet_job_done(void *data, redisReply *reply);
static void ngx_http_llm_fleet_nodes_done(void *data, redisReply *reply);
static void ngx_http_llm_fleet_merge(ngx_log_t *log);
static void ngx_http_llm_fleet_circuits(void);
static void ngx_http_llm_fleet_circuit_done(void *data, redisReply *reply);


ngx_str_t  ngx_http_llm_scripts[NGX_HTTP_LLM_NSCRIPTS] = {

    /*
     * reserve: KEYS marker, budget keys; ARGV per key: limit, amount,
     * ttl, dry run; then the marker's ttl.  {1, 0, left...} or
     * {0, index, left}, "left" before this reservation.
     */
    ngx_string(
        "local n = #KEYS - 1\n"
        "local left = {}\n"
        "for i = 1, n do\n"
        "  local a = (i - 1) * 4\n"
        "  local v = redis.call('HMGET', KEYS[i + 1], 'used', 'res')\n"
        "  local l = tonumber(ARGV[a + 1]) - (tonumber(v[1]) or 0)\n"
        "            - (tonumber(v[2]) or 0)\n"
        "  if tonumber(ARGV[a + 2]) > l and ARGV[a + 4] == '0' then\n"
        "    return {0, i, l}\n"
        "  end\n"
        "  left[i] = l\n"
        "end\n"
        "for i = 1, n do\n"
        "  local a = (i - 1) * 4\n"
        "  redis.call('HINCRBY', KEYS[i + 1], 'res', ARGV[a + 2])\n"
        "  redis.call('EXPIRE', KEYS[i + 1], ARGV[a + 3])\n"
        "end\n"
        "redis.call('SET', KEYS[1], '1', 'EX', ARGV[n * 4 + 1])\n"
        "local out = {1, 0}\n"
        "for i = 1, n do out[i + 2] = left[i] end\n"
        "return out\n"),

    /*
     * settle: KEYS marker, then per reservation the key reserved in and
     * the key of the current window; ARGV per reservation: minus the
     * amount, the real usage, the ttl.  Once per marker.
     */
    ngx_string(
        "if redis.call('DEL', KEYS[1]) == 0 then return 0 end\n"
        "for i = 1, (#KEYS - 1) / 2 do\n"
        "  local a = (i - 1) * 3\n"
        "  local rk = KEYS[2 * i]\n"
        "  local uk = KEYS[2 * i + 1]\n"
        "  if redis.call('EXISTS', rk) == 1 then\n"
        "    if redis.call('HINCRBY', rk, 'res', ARGV[a + 1]) < 0 then\n"
        "      redis.call('HSET', rk, 'res', 0)\n"
        "    end\n"
        "  end\n"
        "  if ARGV[a + 2] ~= '0' then\n"
        "    redis.call('HINCRBY', uk, 'used', ARGV[a + 2])\n"
        "    redis.call('EXPIRE', uk, ARGV[a + 3])\n"
        "  end\n"
        "end\n"
        "return 1\n"),

    /* merge: KEYS marker, keys; ARGV per key: usage, ttl.  Once. */
    ngx_string(
        "if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', 86400) then\n"
        "  return 0\n"
        "end\n"
        "for i = 2, #KEYS do\n"
        "  local a = (i - 2) * 2\n"
        "  redis.call('HINCRBY', KEYS[i], 'used', ARGV[a + 1])\n"
        "  redis.call('EXPIRE', KEYS[i], ARGV[a + 2])\n"
        "end\n"
        "return 1\n")
};


static ngx_uint_t   ngx_http_llm_fleet_nnodes = 1;
static uint64_t     ngx_http_llm_fleet_seq;
static ngx_queue_t  ngx_http_llm_fleet_jobs;
static ngx_uint_t   ngx_http_llm_fleet_njobs;
static ngx_uint_t   ngx_http_llm_fleet_jobs_init;
static ngx_uint_t   ngx_http_llm_fleet_dropped;


ngx_uint_t
ngx_http_llm_fleet_nodes(void)
{
    return ngx_http_llm_fleet_nnodes;
}


/*
 * NGX_AGAIN: the reservation is on its way, the request waits;
 * NGX_DECLINED: Redis is down and on_error=local; an HTTP status
 * otherwise.
 */

ngx_int_t
ngx_http_llm_fleet_reserve(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    ngx_str_t *keys, int64_t *est)
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
    argvlen[argc++] = ngx_sprintf(p, "%ui", n + 1) - p;
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
                p = ngx_sprintf(p, "%L",
                                res->budget->limit[res->metric].limit);
                break;
            case 1:
                p = ngx_sprintf(p, "%L", res->amount);
                break;
            case 2:
                p = ngx_sprintf(p, "%T", end - now + 60);
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

    ctx->budget.done(r, ctx, rc);
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

        ctx->budget.fleet_local = 1;

        return ngx_http_llm_budget_reserve(r, ctx);
    }

    if (rv == NGX_HTTP_LLM_RESP_REFUSED) {
        res = &ctx->budget.reservations[i];
        m = res->metric;

        ngx_http_llm_budget_reject(r, res->budget, &res->key, m);

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
ngx_http_llm_fleet_settle(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx)
{
    int                          argc;
    u_char                      *p, *q;
    time_t                       now, start, end;
    size_t                      *argvlen;
    int64_t                      amount, actual;
    ngx_uint_t                   i, n, m;
    const char                 **argv;
    ngx_http_llm_fleet_req_t    *fr;
    ngx_http_llm_reservation_t  *res;

    fr = ctx->budget.fleet;

    if (fr == NULL || !(fr->reserved || fr->unknown) || fr->n == 0) {
        return;
    }

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
    argvlen[argc++] = ngx_sprintf(p, "%ui", 1 + 2 * n) - p;
    p += argvlen[argc - 1];

    argv[argc] = (char *) fr->marker.data;
    argvlen[argc++] = fr->marker.len;

    /* the reservations as they were sent: fr->rkeys[i] is theirs */

    for (i = 0; i < n; i++) {
        res = &ctx->budget.reservations[i];

        argv[argc] = (char *) fr->rkeys[i].data;
        argvlen[argc++] = fr->rkeys[i].len;

        if (ctx->budget.fleet_local) {
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

        if (!ctx->budget.fleet_local) {
            res = &ctx->budget.reservations[i];
            actual = ngx_http_llm_budget_actual(ctx, res);
            end = ngx_http_llm_window_end(now,
                                   res->budget->limit[res->metric].window);
        }

        argv[argc] = (char *) p;
        p = ngx_sprintf(p, "-%L", amount);
        argvlen[argc] = p - (u_char *) argv[argc];
        argc++;

        argv[argc] = (char *) p;
        p = ngx_sprintf(p, "%L", actual);
        argvlen[argc] = p - (u_char *) argv[argc];
        argc++;

        argv[argc] = (char *) p;
        p = ngx_sprintf(p, "%T", end - now + 60);
        argvlen[argc] = p - (u_char *) argv[argc];
        argc++;
    }

    ngx_http_llm_fleet_job(NGX_HTTP_LLM_SCRIPT_SETTLE, argc, argv, argvlen,
                           r->connection->log);
}


static u_char *
ngx_http_llm_fleet_key(u_char *p, ngx_str_t *name, ngx_uint_t metric,
    time_t start, ngx_str_t *key)
{
    return ngx_sprintf(p, "llm:b:%V:%s:%T:%V", name,
                       ngx_http_llm_budget_metric_name(metric), start, key);
}


/* unique across the fleet: node, worker, sequence */

static ngx_int_t
ngx_http_llm_fleet_marker(ngx_pool_t *pool, ngx_str_t *m, const char *kind)
{
    u_char     *p;
    ngx_str_t  *node;

    node = ngx_http_llm_redis_node();

    p = ngx_pnalloc(pool, sizeof("llm:x:::") + node->len
                          + 2 * NGX_INT64_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    m->data = p;
    m->len = ngx_sprintf(p, "llm:%s:%V:%P:%uL", kind, node, ngx_pid,
                         ++ngx_http_llm_fleet_seq)
             - p;

    return NGX_OK;
}


/*
 * A settle or merge is formatted once and kept until Redis answered it:
 * sent again after a lost reply, it counts once (its marker).
 */

static void
ngx_http_llm_fleet_job(ngx_uint_t script, int argc, const char **argv,
    size_t *argvlen, ngx_log_t *log)
{
    int                        len;
    char                      *cmd;
    ngx_http_llm_fleet_job_t  *job;

    if (!ngx_http_llm_fleet_jobs_init) {
        ngx_queue_init(&ngx_http_llm_fleet_jobs);
        ngx_http_llm_fleet_jobs_init = 1;
    }

    argv[0] = "EVALSHA";
    argvlen[0] = 7;
    argv[1] = (char *) ngx_http_llm_redis_sha(script);
    argvlen[1] = 40;

    len = redisFormatCommandArgv(&cmd, argc, argv, argvlen);
    if (len < 0) {
        return;
    }

    job = ngx_alloc(sizeof(ngx_http_llm_fleet_job_t), log);
    if (job == NULL) {
        redisFreeCommand(cmd);
        return;
    }

    job->cmd = cmd;
    job->len = len;
    job->script = script;

    ngx_http_llm_fleet_job_send(job);
}


static void
ngx_http_llm_fleet_job_send(ngx_http_llm_fleet_job_t *job)
{
    if (ngx_http_llm_redis_send(job->cmd, job->len, job->script,
                                ngx_http_llm_fleet_job_done, job)
        == NGX_OK)
    {
        return;
    }

    /* down: kept for later, up to a bound */

    if (ngx_http_llm_fleet_njobs >= NGX_HTTP_LLM_FLEET_MAX_JOBS) {
        ngx_http_llm_fleet_dropped++;
        redisFreeCommand(job->cmd);
        ngx_free(job);
        return;
    }

    ngx_queue_insert_tail(&ngx_http_llm_fleet_jobs, &job->queue);
    ngx_http_llm_fleet_njobs++;
}


static void
ngx_http_llm_fleet_job_done(void *data, redisReply *reply)
{
    ngx_http_llm_fleet_job_t *job = data;

    if (reply == NULL) {
        ngx_http_llm_fleet_job_send(job);
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "llm router: redis refused a budget update: \"%*s\"",
                      (size_t) ngx_min(reply->len, 200), reply->str);
    }

    redisFreeCommand(job->cmd);
    ngx_free(job);
}


/* the worker exits: what still waits for Redis is lost (logged) */

void
ngx_http_llm_fleet_exit(ngx_log_t *log)
{
    ngx_queue_t               *q;
    ngx_http_llm_fleet_job_t  *job;

    if (!ngx_http_llm_fleet_jobs_init) {
        return;
    }

    if (ngx_http_llm_fleet_njobs) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "llm router: %ui budget updates for redis are lost "
                      "as the worker exits", ngx_http_llm_fleet_njobs);
    }

    while (!ngx_queue_empty(&ngx_http_llm_fleet_jobs)) {
        q = ngx_queue_head(&ngx_http_llm_fleet_jobs);
        ngx_queue_remove(q);

        job = ngx_queue_data(q, ngx_http_llm_fleet_job_t, queue);
        redisFreeCommand(job->cmd);
        ngx_free(job);
    }

    ngx_http_llm_fleet_njobs = 0;
}


/* Redis came up or went down */

void
ngx_http_llm_fleet_state(ngx_uint_t up)
{
    /* the next sync sends what waited and merges the local usage */
}


/*
 * Every "sync": this node says it is alive and learns how many are;
 * what waited for Redis is sent; the usage counted locally during an
 * outage is added.
 */

void
ngx_http_llm_fleet_sync(ngx_log_t *log)
{
    u_char                    *p, *o, now[NGX_INT64_LEN],
                               old[NGX_INT64_LEN + 1];
    ngx_str_t                 *node;
    ngx_uint_t                 n;
    ngx_queue_t               *q;
    ngx_http_llm_fleet_job_t  *job;

    if (!ngx_http_llm_redis_up()) {
        return;
    }

    node = ngx_http_llm_redis_node();

    p = ngx_sprintf(now, "%M", (ngx_msec_t) ngx_time() * 1000);
    o = ngx_sprintf(old, "(%M", (ngx_msec_t) ngx_time() * 1000
                                - NGX_HTTP_LLM_FLEET_NODES_TTL);

    (void) ngx_http_llm_redis_command(4,
                       (const char *[]) { "ZADD", "llm:nodes", (char *) now,
                                          (char *) node->data },
                       (const size_t []) { 4, 9, p - now, node->len },
                       NULL, NULL);

    (void) ngx_http_llm_redis_command(4,
                       (const char *[]) { "ZREMRANGEBYSCORE", "llm:nodes",
                                          "-inf", (char *) old },
                       (const size_t []) { 16, 9, 4, o - old },
                       NULL, NULL);

    (void) ngx_http_llm_redis_command(2,
                       (const char *[]) { "ZCARD", "llm:nodes" },
                       (const size_t []) { 5, 9 },
                       ngx_http_llm_fleet_nodes_done, NULL);

    if (ngx_http_llm_fleet_jobs_init) {
        n = ngx_http_llm_fleet_njobs;

        while (n-- && !ngx_queue_empty(&ngx_http_llm_fleet_jobs)) {
            q = ngx_queue_head(&ngx_http_llm_fleet_jobs);
            ngx_queue_remove(q);
            ngx_http_llm_fleet_njobs--;

            job = ngx_queue_data(q, ngx_http_llm_fleet_job_t, queue);
            ngx_http_llm_fleet_job_send(job);
        }
    }

    if (ngx_http_llm_fleet_dropped) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "llm router: %ui budget updates for redis were "
                      "dropped, more than %d waited",
                      ngx_http_llm_fleet_dropped,
                      NGX_HTTP_LLM_FLEET_MAX_JOBS);
        ngx_http_llm_fleet_dropped = 0;
    }

    ngx_http_llm_fleet_merge(log);

    ngx_http_llm_fleet_circuits();
}


static void
ngx_http_llm_fleet_nodes_done(void *data, redisReply *reply)
{
    if (reply && reply->type == REDIS_REPLY_INTEGER && reply->integer > 0
        && reply->integer < 100000)
    {
        ngx_http_llm_fleet_nnodes = (ngx_uint_t) reply->integer;
    }
}


/*
 * The zone's budget series count, in fleet mode, only what requests used
 * while Redis was down: taken (zeroed) under the mutex and added to
 * Redis, a batch of keys per command.
 */

static void
ngx_http_llm_fleet_merge(ngx_log_t *log)
{
    int                         argc;
    u_char                     *p, *key, *metric, *end;
    size_t                     *argvlen, *vlen;
    time_t                      now, ttl;
    ngx_str_t                   nm, kv, marker;
    ngx_uint_t                  n, m, more;
    ngx_pool_t                 *pool;
    ngx_queue_t                *q;
    const char                **argv, **val;
    ngx_http_llm_series_t      *s;
    ngx_http_llm_main_conf_t   *lmcf;

    lmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_llm_router_module);

    if (lmcf->sh == NULL) {
        return;
    }

    now = ngx_time();

    do {
        pool = ngx_create_pool(4096, log);
        if (pool == NULL) {
            return;
        }

        /* EVALSHA sha numkeys marker keys..., then usage, ttl per key */

        argv = ngx_palloc(pool, (4 + NGX_HTTP_LLM_FLEET_MERGE_KEYS * 3)
                                * sizeof(char *));
        argvlen = ngx_palloc(pool, (4 + NGX_HTTP_LLM_FLEET_MERGE_KEYS * 3)
                                   * sizeof(size_t));
        val = ngx_palloc(pool, NGX_HTTP_LLM_FLEET_MERGE_KEYS * 2
                               * sizeof(char *));
        vlen = ngx_palloc(pool, NGX_HTTP_LLM_FLEET_MERGE_KEYS * 2
                                * sizeof(size_t));

        if (argv == NULL || argvlen == NULL || val == NULL || vlen == NULL
            || ngx_http_llm_fleet_marker(pool, &marker, "m") != NGX_OK)
        {
            ngx_destroy_pool(pool);
            return;
        }

        n = 0;
        more = 0;

        ngx_shmtx_lock(&lmcf->shpool->mutex);

        for (q = ngx_queue_head(&lmcf->sh->lru);
             q != ngx_queue_sentinel(&lmcf->sh->lru);
             q = ngx_queue_next(q))
        {
            s = ngx_queue_data(q, ngx_http_llm_series_t, queue);

            if (s->type != NGX_HTTP_LLM_SERIES_BUDGET
                || s->v[NGX_HTTP_LLM_V_USED] <= 0)
            {
                continue;
            }

            if (n == NGX_HTTP_LLM_FLEET_MERGE_KEYS) {
                more = 1;
                break;
            }

            /* the label: name '\0' key value '\0' metric */

            end = s->label + s->len;
            key = ngx_strlchr(s->label, end, '\0');
            metric = key ? ngx_strlchr(key + 1, end, '\0') : NULL;
            ttl = s->v[NGX_HTTP_LLM_V_WINDOW_END] - now + 60;

            if (metric == NULL || ttl <= 0) {
                s->v[NGX_HTTP_LLM_V_USED] = 0;
                continue;
            }

            nm.data = s->label;
            nm.len = key - s->label;
            kv.data = key + 1;
            kv.len = metric - key - 1;
            metric++;

            for (m = 0; m < 3; m++) {
                if ((size_t) (end - metric)
                        == ngx_strlen(ngx_http_llm_budget_metric_name(m))
                    && ngx_strncmp(metric,
                                   ngx_http_llm_budget_metric_name(m),
                                   end - metric) == 0)
                {
                    break;
                }
            }

            p = ngx_pnalloc(pool, sizeof("llm:b:::") + nm.len + 16
                                  + NGX_TIME_T_LEN + kv.len
                                  + 2 * NGX_INT64_LEN + 2);
            if (m == 3 || p == NULL) {
                continue;
            }

            argv[4 + n] = (char *) p;
            argvlen[4 + n] = ngx_http_llm_fleet_key(p, &nm, m, s->window,
                                                    &kv)
                             - p;
            p += argvlen[4 + n];

            val[2 * n] = (char *) p;
            p = ngx_sprintf(p, "%L", s->v[NGX_HTTP_LLM_V_USED]);
            vlen[2 * n] = p - (u_char *) val[2 * n];

            val[2 * n + 1] = (char *) p;
            p = ngx_sprintf(p, "%T", ttl);
            vlen[2 * n + 1] = p - (u_char *) val[2 * n + 1];

            s->v[NGX_HTTP_LLM_V_USED] = 0;
            n++;
        }

        ngx_shmtx_unlock(&lmcf->shpool->mutex);

        p = ngx_pnalloc(pool, NGX_INT_T_LEN);

        if (n && p) {
            ngx_memcpy(&argv[4 + n], val, 2 * n * sizeof(char *));
            ngx_memcpy(&argvlen[4 + n], vlen, 2 * n * sizeof(size_t));

            argv[2] = (char *) p;
            argvlen[2] = ngx_sprintf(p, "%ui", n + 1) - p;
            argv[3] = (char *) marker.data;
            argvlen[3] = marker.len;
            argc = 4 + 3 * n;

            ngx_http_llm_fleet_job(NGX_HTTP_LLM_SCRIPT_MERGE, argc, argv,
                                   argvlen, log);
        }

        ngx_destroy_pool(pool);

    } while (more);
}


/*
 * Circuits across the fleet: a node that opens a provider's circuit sets
 * "llm:c:<provider>" for as long as it stays open (closes: deletes it);
 * every sync each node asks how long the others' stay open and opens its
 * own for that long.
 */

void
ngx_http_llm_fleet_circuit(ngx_http_llm_provider_t *p, ngx_msec_t open)
{
    u_char      key[256 + sizeof("llm:c:")], ms[NGX_INT_T_LEN];
    size_t      klen, mlen;
    ngx_str_t  *node;

    if (!ngx_http_llm_redis_up() || p->name.len > 256) {
        return;
    }

    klen = ngx_sprintf(key, "llm:c:%V", &p->name) - key;

    if (open == 0) {
        (void) ngx_http_llm_redis_command(2,
                           (const char *[]) { "DEL", (char *) key },
                           (const size_t []) { 3, klen }, NULL, NULL);
        return;
    }

    node = ngx_http_llm_redis_node();
    mlen = ngx_sprintf(ms, "%M", open) - ms;

    (void) ngx_http_llm_redis_command(5,
                       (const char *[]) { "SET", (char *) key,
                                          (char *) node->data, "PX",
                                          (char *) ms },
                       (const size_t []) { 3, klen, node->len, 2, mlen },
                       NULL, NULL);
}


static void
ngx_http_llm_fleet_circuits(void)
{
    u_char                     key[256 + sizeof("llm:c:")];
    size_t                     klen;
    ngx_uint_t                 i;
    ngx_http_llm_provider_t   *p;
    ngx_http_llm_main_conf_t  *lmcf;

    lmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_llm_router_module);

    p = lmcf->providers.elts;

    for (i = 0; i < lmcf->providers.nelts; i++) {
        if (p[i].shm == NULL || p[i].max_fails == 0 || p[i].name.len > 256) {
            continue;
        }

        klen = ngx_sprintf(key, "llm:c:%V", &p[i].name) - key;

        if (ngx_http_llm_redis_command(2,
                           (const char *[]) { "PTTL", (char *) key },
                           (const size_t []) { 4, klen },
                           ngx_http_llm_fleet_circuit_done, &p[i])
            != NGX_OK)
        {
            return;
        }
    }
}


static void
ngx_http_llm_fleet_circuit_done(void *data, redisReply *reply)
{
    ngx_http_llm_provider_t *p = data;

    ngx_msec_t                    ttl;
    ngx_uint_t                    opened;
    ngx_http_llm_shm_provider_t  *n;

    if (reply == NULL || reply->type != REDIS_REPLY_INTEGER
        || reply->integer <= 0 || reply->integer > 86400000)
    {
        return;
    }

    ttl = (ngx_msec_t) reply->integer;
    n = p->shm;
    opened = 0;

    ngx_shmtx_lock(&p->shpool->mutex);

    if (n->open_until == 0) {
        n->open_until = ngx_current_msec + ttl;
        n->trial_until = 0;
        n->circuit_opened++;
        opened = 1;
    }

    ngx_shmtx_unlock(&p->shpool->mutex);

    if (opened) {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "llm router: provider \"%V\" circuit opened for %Mms "
                      "by another node", &p->name, ttl);
    }
}
