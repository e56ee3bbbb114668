
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * Every "sync" each worker of each node: says that the node is alive
 * and learns how many are, sends what waited for Redis, adds the budget
 * usage counted locally during an outage, adds the node's request
 * counters to the fleet's totals and reads them, and shares circuits and
 * health changes.
 */


#include "ngx_http_llm_router.h"
#include "ngx_http_llm_router_redis.h"


#define NGX_HTTP_LLM_FLEET_MERGE_KEYS   64
#define NGX_HTTP_LLM_FLEET_NODES_TTL    60000
#define NGX_HTTP_LLM_FLEET_NCOUNTS      (NGX_HTTP_LLM_V_ERRORS + 1)


static void ngx_http_llm_fleet_nodes_done(void *data, redisReply *reply);
static void ngx_http_llm_fleet_merge(ngx_log_t *log);
static void ngx_http_llm_fleet_circuit_send(ngx_http_llm_provider_t *p);
static void ngx_http_llm_fleet_circuit_sent(void *data, redisReply *reply);
static void ngx_http_llm_fleet_circuits(void);
static void ngx_http_llm_fleet_circuit_done(void *data, redisReply *reply);
static void ngx_http_llm_fleet_counts(ngx_http_llm_main_conf_t *lmcf);
static void ngx_http_llm_fleet_counts_done(void *data, redisReply *reply);
static void ngx_http_llm_fleet_health_send(ngx_http_llm_provider_t *p,
    ngx_uint_t late);
static void ngx_http_llm_fleet_health_done(void *data, redisReply *reply);
static void ngx_http_llm_fleet_healths(ngx_http_llm_main_conf_t *lmcf);
static void ngx_http_llm_fleet_healths_done(void *data, redisReply *reply);
static void ngx_http_llm_fleet_health_apply(ngx_http_llm_provider_t *p,
    ngx_str_t *value);
static ngx_int_t ngx_http_llm_fleet_int(redisReply *r, int64_t *v);


static ngx_uint_t   ngx_http_llm_fleet_nnodes = 1;


ngx_uint_t
ngx_http_llm_fleet_nodes(void)
{
    return ngx_http_llm_fleet_nnodes;
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
    ngx_http_llm_main_conf_t  *lmcf;

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

    ngx_http_llm_fleet_jobs_resend(log);

    ngx_http_llm_fleet_merge(log);

    ngx_http_llm_fleet_circuits();

    lmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_llm_router_module);

    if (lmcf->sh) {
        ngx_http_llm_fleet_counts(lmcf);
        ngx_http_llm_fleet_healths(lmcf);
    }
}


static void
ngx_http_llm_fleet_nodes_done(void *data, redisReply *reply)
{
    ngx_http_llm_main_conf_t  *lmcf;

    if (reply && reply->type == REDIS_REPLY_INTEGER && reply->integer > 0
        && reply->integer < 100000)
    {
        ngx_http_llm_fleet_nnodes = (ngx_uint_t) reply->integer;

        lmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                                   ngx_http_llm_router_module);
        if (lmcf->sh) {
            /* for the status pages; one word, no lock needed */
            lmcf->sh->fleet.nodes = reply->integer;
        }
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
 * own for that long.  A change made while Redis is down (or before this
 * node's connection is up) waits in the zone and is sent by the first
 * sync after it: the fleet learns it late, never not at all.
 */

void
ngx_http_llm_fleet_circuit(ngx_http_llm_provider_t *p)
{
    if (p->shm == NULL || p->name.len > 256) {
        return;
    }

    ngx_shmtx_lock(&p->shpool->mutex);
    p->shm->circuit_pending = 1;
    ngx_shmtx_unlock(&p->shpool->mutex);

    if (ngx_http_llm_redis_up()) {
        ngx_http_llm_fleet_circuit_send(p);
    }
}


/* the circuit as the zone holds it now: open for what is left, or closed */

static void
ngx_http_llm_fleet_circuit_send(ngx_http_llm_provider_t *p)
{
    u_char                       key[256 + sizeof("llm:c:")],
                                 ms[NGX_INT_T_LEN];
    size_t                       klen, mlen;
    ngx_str_t                   *node;
    ngx_msec_int_t               left;
    ngx_http_llm_shm_provider_t  *n;

    n = p->shm;

    ngx_shmtx_lock(&p->shpool->mutex);

    if (!n->circuit_pending) {
        ngx_shmtx_unlock(&p->shpool->mutex);
        return;
    }

    /* taken: another worker does not send it too */
    n->circuit_pending = 0;
    left = n->open_until ? (ngx_msec_int_t) (n->open_until - ngx_current_msec)
                         : 0;

    ngx_shmtx_unlock(&p->shpool->mutex);

    klen = ngx_sprintf(key, "llm:c:%V", &p->name) - key;

    if (left <= 0) {
        /* closed, or its time is up: nothing for the others to take */
        if (ngx_http_llm_redis_command(2,
                           (const char *[]) { "DEL", (char *) key },
                           (const size_t []) { 3, klen },
                           ngx_http_llm_fleet_circuit_sent, p)
            != NGX_OK)
        {
            ngx_http_llm_fleet_circuit_sent(p, NULL);
        }

        return;
    }

    node = ngx_http_llm_redis_node();
    mlen = ngx_sprintf(ms, "%M", (ngx_msec_t) left) - ms;

    if (ngx_http_llm_redis_command(5,
                       (const char *[]) { "SET", (char *) key,
                                          (char *) node->data, "PX",
                                          (char *) ms },
                       (const size_t []) { 3, klen, node->len, 2, mlen },
                       ngx_http_llm_fleet_circuit_sent, p)
        != NGX_OK)
    {
        ngx_http_llm_fleet_circuit_sent(p, NULL);
    }
}


static void
ngx_http_llm_fleet_circuit_sent(void *data, redisReply *reply)
{
    ngx_http_llm_provider_t *p = data;

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        /* not on Redis: a sync sends it again */
        ngx_shmtx_lock(&p->shpool->mutex);
        p->shm->circuit_pending = 1;
        ngx_shmtx_unlock(&p->shpool->mutex);
    }
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

        /* a word read without the lock: the send takes it */
        if (p[i].shm->circuit_pending) {
            ngx_http_llm_fleet_circuit_send(&p[i]);
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


/*
 * The fleet's request counters: the zone's "pending" (counted since the
 * last sync by every worker of the node) becomes a batch with an id; the
 * batch is sent under a marker made of the node, the zone's start and
 * the id, and sent again every sync until a reply acknowledges it, by
 * whichever worker: Redis adds it once (SET NX on the marker).  The
 * reply carries the fleet's totals.  Nothing is lost while Redis is down
 * (the zone keeps counting), nothing is added twice.
 */

static void
ngx_http_llm_fleet_counts(ngx_http_llm_main_conf_t *lmcf)
{
    int                           argc;
    u_char                       *p, buf[NGX_HTTP_LLM_FLEET_NCOUNTS
                                         * NGX_INT64_LEN],
                                  marker[256];
    time_t                        started;
    int64_t                       batch[NGX_HTTP_LLM_FLEET_NCOUNTS];
    uint64_t                      id;
    ngx_str_t                    *node;
    ngx_uint_t                    i, any;
    const char                   *argv[5 + NGX_HTTP_LLM_FLEET_NCOUNTS];
    size_t                        argvlen[5 + NGX_HTTP_LLM_FLEET_NCOUNTS];
    ngx_http_llm_fleet_counts_t  *fc;

    fc = &lmcf->sh->fleet;
    any = 0;

    ngx_shmtx_lock(&lmcf->shpool->mutex);

    for (i = 0; i < NGX_HTTP_LLM_FLEET_NCOUNTS; i++) {
        any |= (fc->batch[i] != 0);
    }

    if (!any) {
        for (i = 0; i < NGX_HTTP_LLM_FLEET_NCOUNTS; i++) {
            any |= (fc->pending[i] != 0);
        }

        if (any) {
            for (i = 0; i < NGX_HTTP_LLM_FLEET_NCOUNTS; i++) {
                fc->batch[i] = fc->pending[i];
                fc->node[i] += fc->pending[i];
                fc->pending[i] = 0;
            }

            fc->batch_id++;
        }
    }

    ngx_memcpy(batch, fc->batch, sizeof(batch));
    id = any ? fc->batch_id : 0;
    started = lmcf->sh->started;

    ngx_shmtx_unlock(&lmcf->shpool->mutex);

    argc = 2;                      /* EVALSHA sha: filled in by redis.c */
    argv[argc] = id ? "2" : "1";
    argvlen[argc++] = 1;
    argv[argc] = "llm:u";
    argvlen[argc++] = 5;

    if (id) {
        node = ngx_http_llm_redis_node();

        if (node->len > 200) {
            return;
        }

        argv[argc] = (char *) marker;
        argvlen[argc++] = ngx_sprintf(marker, "llm:u:%V:%T:%uL", node,
                                      started, id)
                          - marker;
    }

    p = buf;

    for (i = 0; i < NGX_HTTP_LLM_FLEET_NCOUNTS; i++) {
        argv[argc] = (char *) p;
        p = ngx_sprintf(p, "%L", batch[i]);
        argvlen[argc] = p - (u_char *) argv[argc];
        argc++;
    }

    (void) ngx_http_llm_redis_script(NGX_HTTP_LLM_SCRIPT_COUNT, argc, argv,
                                     argvlen, ngx_http_llm_fleet_counts_done,
                                     (void *) (uintptr_t) id);
}


static void
ngx_http_llm_fleet_counts_done(void *data, redisReply *reply)
{
    uint64_t                      id;
    int64_t                       total[NGX_HTTP_LLM_FLEET_NCOUNTS];
    ngx_uint_t                    i;
    ngx_http_llm_main_conf_t     *lmcf;
    ngx_http_llm_fleet_counts_t  *fc;

    id = (uint64_t) (uintptr_t) data;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements != NGX_HTTP_LLM_FLEET_NCOUNTS)
    {
        /* the batch stays: sent again by the next sync */
        return;
    }

    for (i = 0; i < NGX_HTTP_LLM_FLEET_NCOUNTS; i++) {
        if (ngx_http_llm_fleet_int(reply->element[i], &total[i]) != NGX_OK) {
            return;
        }
    }

    lmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_llm_router_module);
    if (lmcf->sh == NULL) {
        return;
    }

    fc = &lmcf->sh->fleet;

    ngx_shmtx_lock(&lmcf->shpool->mutex);

    if (id && id == fc->batch_id) {
        ngx_memzero(fc->batch, sizeof(fc->batch));
    }

    ngx_memcpy(fc->total, total, sizeof(total));
    fc->synced = ngx_time();

    ngx_shmtx_unlock(&lmcf->shpool->mutex);
}


/*
 * A total in a reply: an integer, digits in a string, or nil (0); the
 * totals are sums of counts, so a negative one is garbage, refused.
 */

static ngx_int_t
ngx_http_llm_fleet_int(redisReply *r, int64_t *v)
{
    ngx_int_t  n;

    switch (r->type) {

    case REDIS_REPLY_NIL:
        *v = 0;
        return NGX_OK;

    case REDIS_REPLY_INTEGER:
        *v = r->integer;
        return (r->integer < 0) ? NGX_ERROR : NGX_OK;

    case REDIS_REPLY_STRING:
        /* ngx_atoi() takes digits only */
        n = ngx_atoi((u_char *) r->str, r->len);
        *v = n;

        return (n == NGX_ERROR) ? NGX_ERROR : NGX_OK;

    default:
        return NGX_ERROR;
    }
}


/*
 * Health across the fleet: the newest change wins.  A node whose prober
 * changes a provider's state (up or down) writes it to "llm:h" with a
 * version Redis orders ("llm:hv"); every sync each node reads them all
 * and takes over a newer change by another node as if its own prober had
 * seen it.  Its own prober goes on from there: "rise" (or "fall") probes
 * of its own change it again, and that change is the newest then.
 */

void
ngx_http_llm_fleet_health(ngx_http_llm_provider_t *p)
{
    ngx_time_t  *tp;

    if (p->shm == NULL) {
        return;
    }

    tp = ngx_timeofday();

    /* kept until Redis has it: a change made during an outage too */

    ngx_shmtx_lock(&p->shpool->mutex);
    p->shm->fleet_changed = (int64_t) tp->sec * 1000 + tp->msec;
    p->shm->fleet_pending = 1;
    ngx_shmtx_unlock(&p->shpool->mutex);

    if (ngx_http_llm_redis_up()) {
        ngx_http_llm_fleet_health_send(p, 0);
    }
}


/*
 * A change sent late (by a sync after an outage) is dropped by Redis if
 * another node changed the provider after it: the newest change wins.
 */

static void
ngx_http_llm_fleet_health_send(ngx_http_llm_provider_t *p, ngx_uint_t late)
{
    u_char      *e, changed[NGX_INT64_LEN];
    ngx_str_t   *node;
    ngx_uint_t   down;

    ngx_shmtx_lock(&p->shpool->mutex);

    if (!p->shm->fleet_pending) {
        ngx_shmtx_unlock(&p->shpool->mutex);
        return;
    }

    /* taken: another worker does not send it too */
    p->shm->fleet_pending = 0;
    down = p->shm->health.down;
    e = ngx_sprintf(changed, "%L", p->shm->fleet_changed);

    ngx_shmtx_unlock(&p->shpool->mutex);

    node = ngx_http_llm_redis_node();

    if (ngx_http_llm_redis_script(NGX_HTTP_LLM_SCRIPT_HEALTH, 11,
            (const char *[]) { NULL, NULL, "3", "llm:h", "llm:hv", "llm:ht",
                               (char *) p->name.data, down ? "1" : "0",
                               (char *) node->data, (char *) changed,
                               late ? "1" : "0" },
            (size_t []) { 0, 0, 1, 5, 6, 6, p->name.len, 1, node->len,
                          e - changed, 1 },
            ngx_http_llm_fleet_health_done, p)
        != NGX_OK)
    {
        ngx_http_llm_fleet_health_done(p, NULL);
    }
}


static void
ngx_http_llm_fleet_health_done(void *data, redisReply *reply)
{
    ngx_http_llm_provider_t *p = data;

    if (reply == NULL || reply->type != REDIS_REPLY_INTEGER) {
        /* not on Redis: a sync sends it again */
        ngx_shmtx_lock(&p->shpool->mutex);
        p->shm->fleet_pending = 1;
        ngx_shmtx_unlock(&p->shpool->mutex);
        return;
    }

    if (reply->integer <= 0) {
        return;
    }

    ngx_shmtx_lock(&p->shpool->mutex);

    if ((uint64_t) reply->integer > p->shm->fleet_version) {
        p->shm->fleet_version = (uint64_t) reply->integer;
    }

    ngx_shmtx_unlock(&p->shpool->mutex);
}


static void
ngx_http_llm_fleet_healths(ngx_http_llm_main_conf_t *lmcf)
{
    ngx_uint_t                i, read;
    ngx_http_llm_provider_t  *p;

    p = lmcf->providers.elts;

    read = 0;

    for (i = 0; i < lmcf->providers.nelts; i++) {
        if (p[i].check && p[i].shm) {
            /* a change made while Redis was down, then the others' */
            ngx_http_llm_fleet_health_send(&p[i], 1);
            read = 1;
        }
    }

    if (read) {
        (void) ngx_http_llm_redis_command(2,
                           (const char *[]) { "HGETALL", "llm:h" },
                           (const size_t []) { 7, 5 },
                           ngx_http_llm_fleet_healths_done, NULL);
    }
}


static void
ngx_http_llm_fleet_healths_done(void *data, redisReply *reply)
{
    size_t                     i;
    ngx_str_t                  name, value;
    ngx_uint_t                 j;
    redisReply                *f, *v;
    ngx_http_llm_provider_t   *p;
    ngx_http_llm_main_conf_t  *lmcf;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
        return;
    }

    lmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_llm_router_module);
    p = lmcf->providers.elts;

    for (i = 0; i + 1 < reply->elements; i += 2) {
        f = reply->element[i];
        v = reply->element[i + 1];

        if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) {
            continue;
        }

        name.data = (u_char *) f->str;
        name.len = f->len;
        value.data = (u_char *) v->str;
        value.len = v->len;

        for (j = 0; j < lmcf->providers.nelts; j++) {
            if (p[j].check && p[j].shm && p[j].name.len == name.len
                && ngx_strncmp(p[j].name.data, name.data, name.len) == 0)
            {
                ngx_http_llm_fleet_health_apply(&p[j], &value);
                break;
            }
        }
    }
}


/* value: "<1 down, 0 up> <version> <node>" */

static void
ngx_http_llm_fleet_health_apply(ngx_http_llm_provider_t *p, ngx_str_t *value)
{
    u_char                       *sp, *last;
    time_t                        now;
    int64_t                       version;
    ngx_str_t                     from, *node;
    ngx_uint_t                    i, down, changed;
    ngx_http_llm_shm_provider_t  *n;

    last = value->data + value->len;

    if (value->len < 5 || (value->data[0] != '0' && value->data[0] != '1')
        || value->data[1] != ' ')
    {
        return;
    }

    down = (value->data[0] == '1');

    sp = ngx_strlchr(value->data + 2, last, ' ');
    if (sp == NULL) {
        return;
    }

    version = ngx_atoi(value->data + 2, sp - value->data - 2);
    if (version <= 0) {
        return;
    }

    from.data = sp + 1;
    from.len = last - from.data;
    node = ngx_http_llm_redis_node();

    n = p->shm;
    now = ngx_time();
    changed = 0;

    ngx_shmtx_lock(&p->shpool->mutex);

    if ((uint64_t) version > n->fleet_version) {
        n->fleet_version = (uint64_t) version;

        if (down != n->health.down
            && (from.len != node->len
                || ngx_strncmp(from.data, node->data, node->len) != 0))
        {
            /* as if this node's prober had seen it: every server too */

            for (i = 0; i < n->nservers; i++) {
                n->servers[i].down = down;
                n->servers[i].since = now;
                n->servers[i].passes = 0;
                n->servers[i].fails = 0;
            }

            n->servers_down = down ? n->nservers : 0;
            n->health.down = down;
            n->health.since = now;
            n->health.passes = 0;
            n->health.fails = 0;
            changed = 1;
        }
    }

    ngx_shmtx_unlock(&p->shpool->mutex);

    if (changed) {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "llm router: provider \"%V\" is %s, as node %V found",
                      &p->name, down ? "down" : "up", &from);
    }
}
