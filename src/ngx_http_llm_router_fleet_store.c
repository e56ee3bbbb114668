
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * What every fleet operation on Redis builds on: the keys of budgets,
 * markers unique across the fleet, and "jobs": idempotent commands (a
 * settle, a merge, counters) that must reach Redis, kept while it is
 * down and sent again after a lost reply.
 */


#include "ngx_http_llm_router.h"
#include "ngx_http_llm_router_redis.h"
#include "ngx_http_llm_router_resp.h"


#define NGX_HTTP_LLM_FLEET_MAX_JOBS     10000


/* an idempotent command that must reach Redis: a settle, a merge */
typedef struct {
    ngx_queue_t                      queue;
    char                            *cmd;
    int                              len;
    ngx_uint_t                       script;
} ngx_http_llm_fleet_job_t;


static void ngx_http_llm_fleet_job_send(ngx_http_llm_fleet_job_t *job);
static void ngx_http_llm_fleet_job_done(void *data, redisReply *reply);


static uint64_t     ngx_http_llm_fleet_seq;
static ngx_queue_t  ngx_http_llm_fleet_jobs;
static ngx_uint_t   ngx_http_llm_fleet_njobs;
static ngx_uint_t   ngx_http_llm_fleet_jobs_init;
static ngx_uint_t   ngx_http_llm_fleet_jobs_last;   /* the worker exits */
static ngx_uint_t   ngx_http_llm_fleet_dropped;


u_char *
ngx_http_llm_fleet_key(u_char *p, ngx_str_t *name, ngx_uint_t metric,
    time_t start, ngx_str_t *key)
{
    const char  *m;

    /* as ngx_sprintf("llm:b:%V:%s:%T:%V"), in a tenth of its time */

    m = ngx_http_llm_budget_metric_name(metric);

    p = ngx_cpymem(p, "llm:b:", 6);
    p = ngx_cpymem(p, name->data, name->len);
    *p++ = ':';
    p = ngx_cpymem(p, m, ngx_strlen(m));
    *p++ = ':';
    p = ngx_http_llm_fleet_num(p, start);
    *p++ = ':';

    return ngx_cpymem(p, key->data, key->len);
}


/* a reservation's key for the window that starts at "start", in a pool */

ngx_int_t
ngx_http_llm_fleet_res_key(ngx_pool_t *pool, ngx_http_llm_reservation_t *res,
    time_t start, ngx_str_t *key)
{
    key->data = ngx_pnalloc(pool, sizeof("llm:b:::") + res->budget->name.len
                                  + 16 + NGX_TIME_T_LEN + res->key.len);
    if (key->data == NULL) {
        return NGX_ERROR;
    }

    key->len = ngx_http_llm_fleet_key(key->data, &res->budget->name,
                                      res->metric, start, &res->key)
               - key->data;

    return NGX_OK;
}


/*
 * A decimal number, for the commands: no ngx_sprintf() on the way, two
 * digits per division (a request formats some twenty numbers).
 */

u_char *
ngx_http_llm_fleet_num(u_char *p, int64_t v)
{
    u_char      tmp[NGX_INT64_LEN], *t;
    uint64_t    u, q;
    static const char  digits[] =
        "0001020304050607080910111213141516171819"
        "2021222324252627282930313233343536373839"
        "4041424344454647484950515253545556575859"
        "6061626364656667686970717273747576777879"
        "8081828384858687888990919293949596979899";

    if (v >= 0 && v < 10) {
        *p++ = (u_char) ('0' + v);
        return p;
    }

    if (v < 0) {
        *p++ = '-';
        u = (uint64_t) 0 - (uint64_t) v;

    } else {
        u = (uint64_t) v;
    }

    t = tmp + sizeof(tmp);

    while (u >= 100) {
        q = u / 100;
        t -= 2;
        ngx_memcpy(t, &digits[(u - q * 100) * 2], 2);
        u = q;
    }

    if (u >= 10) {
        t -= 2;
        ngx_memcpy(t, &digits[u * 2], 2);

    } else {
        *--t = (u_char) ('0' + u);
    }

    return ngx_cpymem(p, t, tmp + sizeof(tmp) - t);
}


/*
 * Unique across the fleet: node, worker, sequence, and when the zone
 * started, so that a node restarted with the same pids (pid 1 in a
 * container) makes new markers and its merges are not taken for old ones.
 */

ngx_int_t
ngx_http_llm_fleet_marker(ngx_pool_t *pool, ngx_str_t *m, const char *kind)
{
    u_char                    *p;
    time_t                     started;
    ngx_str_t                 *node;
    ngx_http_llm_main_conf_t  *lmcf;

    node = ngx_http_llm_redis_node();

    lmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_llm_router_module);
    started = lmcf->sh ? lmcf->sh->started : 0;

    p = ngx_pnalloc(pool, sizeof("llm:x::::") + node->len
                          + 3 * NGX_INT64_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    m->data = p;

    /* "llm:<kind>:<node>:<pid>:<zone start>:<seq>" */

    p = ngx_cpymem(p, "llm:", 4);
    p = ngx_cpymem(p, kind, ngx_strlen(kind));
    *p++ = ':';
    p = ngx_cpymem(p, node->data, node->len);
    *p++ = ':';
    p = ngx_http_llm_fleet_num(p, ngx_pid);
    *p++ = ':';
    p = ngx_http_llm_fleet_num(p, started);
    *p++ = ':';
    p = ngx_http_llm_fleet_num(p, (int64_t) ++ngx_http_llm_fleet_seq);

    m->len = p - m->data;

    return NGX_OK;
}


/*
 * A batch's argument, as RESP ("$len", the bytes), appended to one of
 * its two buffers (keys, other arguments): formatted once, where it
 * goes, with no argv array and no copy of the argument in between.
 */

ngx_int_t
ngx_http_llm_fleet_arg(ngx_http_llm_redis_buf_t *b, const u_char *data,
    size_t len, ngx_log_t *log)
{
    u_char  *p;

    if (ngx_http_llm_redis_buf_reserve(b, len + NGX_INT64_LEN + 8, log)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    p = b->data + b->len;
    *p++ = '$';
    p = ngx_http_llm_fleet_num(p, len);
    *p++ = CR; *p++ = LF;
    p = ngx_cpymem(p, data, len);
    *p++ = CR; *p++ = LF;

    b->len = p - b->data;

    return NGX_OK;
}


ngx_int_t
ngx_http_llm_fleet_arg_num(ngx_http_llm_redis_buf_t *b, int64_t v,
    ngx_log_t *log)
{
    u_char  *p, *q;
    size_t   len;

    if (ngx_http_llm_redis_buf_reserve(b, NGX_INT64_LEN + 8, log) != NGX_OK) {
        return NGX_ERROR;
    }

    /* "$<len>\r\n<digits>\r\n": the digits first, then moved if need be */

    p = b->data + b->len;
    q = ngx_http_llm_fleet_num(p + 5, v);
    len = q - (p + 5);

    *p++ = '$';

    if (len >= 10) {
        *p++ = (u_char) ('0' + len / 10);
        *p++ = (u_char) ('0' + len % 10);

    } else {
        *p++ = (u_char) ('0' + len);
    }

    *p++ = CR; *p++ = LF;

    if (p != b->data + b->len + 5) {
        ngx_memmove(p, b->data + b->len + 5, len);
    }

    p += len;
    *p++ = CR; *p++ = LF;

    b->len = p - b->data;

    return NGX_OK;
}


/*
 * EVALSHA sha numkeys keys... args...: one command of a batch's two
 * buffers, in memory from malloc() (redisFreeCommand() frees it).
 */

char *
ngx_http_llm_fleet_batch_cmd(ngx_uint_t script, ngx_http_llm_redis_buf_t *keys,
    ngx_uint_t nkeys, ngx_http_llm_redis_buf_t *args, ngx_uint_t nargs,
    int *len)
{
    char    *cmd;
    u_char  *p, num[NGX_INT64_LEN];
    size_t   n;

    cmd = malloc(sizeof("*$7\r\nEVALSHA\r\n$40\r\n\r\n$\r\n\r\n\r\n")
                 + 3 * NGX_INT64_LEN + 40 + keys->len + args->len);
    if (cmd == NULL) {
        return NULL;
    }

    p = (u_char *) cmd;
    *p++ = '*';
    p = ngx_http_llm_fleet_num(p, 3 + nkeys + nargs);
    p = ngx_cpymem(p, "\r\n$7\r\nEVALSHA\r\n$40\r\n",
                   sizeof("\r\n$7\r\nEVALSHA\r\n$40\r\n") - 1);
    p = ngx_cpymem(p, ngx_http_llm_redis_sha(script), 40);
    *p++ = CR; *p++ = LF;

    n = ngx_http_llm_fleet_num(num, nkeys) - num;
    *p++ = '$';
    p = ngx_http_llm_fleet_num(p, n);
    *p++ = CR; *p++ = LF;
    p = ngx_cpymem(p, num, n);
    *p++ = CR; *p++ = LF;

    p = ngx_cpymem(p, keys->data, keys->len);
    p = ngx_cpymem(p, args->data, args->len);

    *len = (int) (p - (u_char *) cmd);

    return cmd;
}


/*
 * A settle or merge is formatted once and kept until Redis answered it:
 * sent again after a lost reply, it counts once (its marker).
 */

void
ngx_http_llm_fleet_job(ngx_uint_t script, int argc, const char **argv,
    size_t *argvlen, ngx_log_t *log)
{
    int    len;
    char  *cmd;

    argv[0] = "EVALSHA";
    argvlen[0] = 7;
    argv[1] = (char *) ngx_http_llm_redis_sha(script);
    argvlen[1] = 40;

    len = ngx_http_llm_resp_format(&cmd, argc, argv, argvlen);
    if (len < 0) {
        return;
    }

    ngx_http_llm_fleet_job_cmd(script, cmd, len, log);
}


/* the same, formatted by the caller: cmd is taken over */

void
ngx_http_llm_fleet_job_cmd(ngx_uint_t script, char *cmd, int len,
    ngx_log_t *log)
{
    ngx_http_llm_fleet_job_t  *job;

    if (!ngx_http_llm_fleet_jobs_init) {
        ngx_queue_init(&ngx_http_llm_fleet_jobs);
        ngx_http_llm_fleet_jobs_init = 1;
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

    if (reply == NULL && !ngx_http_llm_fleet_jobs_last) {
        ngx_http_llm_fleet_job_send(job);
        return;
    }

    if (reply == NULL) {
        /* written as the worker exits, its answer never read */
        redisFreeCommand(job->cmd);
        ngx_free(job);
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


/*
 * The worker exits: jobs written and not answered yet are not sent again
 * (Redis applies each once, by its marker, if it got it whole).
 */

void
ngx_http_llm_fleet_jobs_final(void)
{
    ngx_http_llm_fleet_jobs_last = 1;
}


/* Redis is up: what waited for it is sent, in order */

void
ngx_http_llm_fleet_jobs_resend(ngx_log_t *log)
{
    ngx_uint_t                 n;
    ngx_queue_t               *q;
    ngx_http_llm_fleet_job_t  *job;

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


