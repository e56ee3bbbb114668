
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * libFuzzer harness of the fleet's sync handlers
 * (src/ngx_http_llm_router_fleet_sync.c, the real file, linked as is):
 * what each node does with Redis' replies to its sync, the node count
 * (ZCARD), the others' circuits (PTTL), the fleet's request counters (the
 * COUNT script), its own health changes (the HEALTH script) and the
 * others' (HGETALL).  The handlers are static: the real
 * ngx_http_llm_fleet_sync() runs with llm_redis stubbed, and the
 * handlers it queues, with their data, are kept; the replies are real
 * redisReply trees, made by the module's own hiredis reader (_resp.c)
 * from the input.
 *
 * Input: byte 0 = configuration (bits 0-1: 1 to 3 providers, bits 2-4
 * which have a check, bits 5-7 which have max_fails), byte 1 = the
 * zone's state (bits 0-2: providers down, bit 3: the first one's circuit
 * open, bit 4: counts pending, bit 5: a batch in flight, bits 6-7: the
 * number of servers), byte 2 = the number of selectors (1 to 8), then
 * the selectors: each picks the handler of the next reply (its low 7
 * bits, modulo the handlers queued), bit 7 gives that handler NULL (the
 * connection failed) instead; the rest is what Redis sends.  When the
 * reader fails, the next handler gets NULL and the input ends.
 *
 * Checked after each reply, against a model of what the handlers
 * document: the zone changes as the model says and nowhere else (ZCARD
 * of 1..99999 sets the node count; a PTTL of 1 ms..1 day opens a closed
 * circuit for that long; seven numbers set the totals, and zero the
 * batch they acknowledge; a version of a health change is kept if
 * newer, a failed one is sent again; a newer state of another node is
 * taken over with every server), the mutex is free, and bounds hold:
 * node count 1..99999, health states 0 or 1, servers_down their count,
 * versions and circuit openings never go back.  The sync itself queues
 * the commands the configuration calls for.  LLVMFuzzerInitialize()
 * runs fixed cases: valid replies give their effect, NULL and
 * wrong-typed replies change nothing (or, for a health change, keep it
 * to be sent again).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_llm_router.h"
#include "ngx_http_llm_router_redis.h"
#include "ngx_http_llm_router_resp.h"
#include "ngx_stubs.h"


#define FUZZ_PROVS      3
#define FUZZ_SERVERS    4
#define FUZZ_KEYS       2
#define FUZZ_CALLS      16
#define FUZZ_NCOUNTS    (NGX_HTTP_LLM_V_ERRORS + 1)
#define FUZZ_NOW        1767225600           /* 2026 */
#define FUZZ_MSEC       5000000


typedef struct {
    const char                      *what;
    ngx_http_llm_redis_handler_pt    handler;
    void                            *data;
} fuzz_call_t;


/* what the handlers may change, copied byte for byte */
typedef struct {
    ngx_uint_t                       nnodes;
    ngx_http_llm_fleet_counts_t      fleet;
    ngx_http_llm_shm_provider_t      prov[FUZZ_PROVS];
    ngx_http_llm_health_t            servers[FUZZ_PROVS][FUZZ_SERVERS];
    ngx_http_llm_health_t            keys[FUZZ_PROVS][FUZZ_KEYS];
} fuzz_snap_t;


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


ngx_module_t                 ngx_http_llm_router_module;
ngx_module_t                 ngx_http_module;
volatile ngx_msec_t          ngx_current_msec;
volatile ngx_cycle_t        *ngx_cycle;

static ngx_log_t             fuzz_log;
static ngx_cycle_t           fuzz_cycle;
static ngx_http_conf_ctx_t   fuzz_hctx;
static void                 *fuzz_conf_ctx[1], *fuzz_main_conf[1];
static ngx_slab_pool_t       fuzz_shpool;
static ngx_http_llm_shctx_t *fuzz_sh;
static ngx_http_llm_main_conf_t  fuzz_lmcf;
static ngx_http_llm_provider_t   fuzz_prov[FUZZ_PROVS];
static ngx_http_llm_check_t  fuzz_check;

static fuzz_call_t           fuzz_calls[FUZZ_CALLS];
static ngx_uint_t            fuzz_ncalls;
static ngx_str_t             fuzz_node = ngx_string("fuzzhost:1");

static const char           *fuzz_names[FUZZ_PROVS] = {
    "a", "openai", "anthropic"
};


/* llm_redis, as the sync uses it: up, every command queued and kept */

ngx_uint_t
ngx_http_llm_redis_up(void)
{
    return 1;
}


ngx_str_t *
ngx_http_llm_redis_node(void)
{
    return &fuzz_node;
}


static void
fuzz_queue(const char *what, ngx_http_llm_redis_handler_pt handler,
    void *data)
{
    if (handler == NULL) {
        return;
    }

    if (fuzz_ncalls == FUZZ_CALLS) {
        abort();
    }

    fuzz_calls[fuzz_ncalls].what = what;
    fuzz_calls[fuzz_ncalls].handler = handler;
    fuzz_calls[fuzz_ncalls].data = data;
    fuzz_ncalls++;
}


ngx_int_t
ngx_http_llm_redis_command(int argc, const char **argv,
    const size_t *argvlen, ngx_http_llm_redis_handler_pt handler,
    void *data)
{
    if (argc < 2 || argvlen[0] == 0 || argvlen[0] > 16) {
        abort();
    }

    if (argvlen[0] == 5 && ngx_strncmp(argv[0], "ZCARD", 5) == 0) {
        fuzz_queue("ZCARD", handler, data);

    } else if (argvlen[0] == 4 && ngx_strncmp(argv[0], "PTTL", 4) == 0) {
        fuzz_queue("PTTL", handler, data);

    } else if (argvlen[0] == 7 && ngx_strncmp(argv[0], "HGETALL", 7) == 0)
    {
        fuzz_queue("HGETALL", handler, data);

    } else if (handler) {
        abort();                    /* ZADD, ZREMRANGEBYSCORE: no reply */
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_llm_redis_script(ngx_uint_t script, int argc, const char **argv,
    const size_t *argvlen, ngx_http_llm_redis_handler_pt handler,
    void *data)
{
    switch (script) {

    case NGX_HTTP_LLM_SCRIPT_COUNT:
        fuzz_queue("COUNT", handler, data);
        break;

    case NGX_HTTP_LLM_SCRIPT_HEALTH:
        if (argc != 11) {
            abort();
        }

        fuzz_queue("HEALTH", handler, data);
        break;

    default:
        abort();
    }

    return NGX_OK;
}


/* fleet.c, fleet_store.c, budget.c: the merge finds no budget series */

void
ngx_http_llm_fleet_jobs_resend(ngx_log_t *log)
{
}


ngx_int_t
ngx_http_llm_fleet_marker(ngx_pool_t *pool, ngx_str_t *m, const char *kind)
{
    ngx_str_set(m, "llm:m:fuzzhost:1:1");

    return NGX_OK;
}


void
ngx_http_llm_fleet_job(ngx_uint_t script, int argc, const char **argv,
    size_t *argvlen, ngx_log_t *log)
{
    abort();
}


u_char *
ngx_http_llm_fleet_key(u_char *p, ngx_str_t *name, ngx_uint_t metric,
    time_t start, ngx_str_t *key)
{
    abort();
}


const char *
ngx_http_llm_budget_metric_name(ngx_uint_t metric)
{
    abort();
}


/* nginx core */

ngx_pool_t *
ngx_create_pool(size_t size, ngx_log_t *log)
{
    return ngx_stubs_alloc(sizeof(ngx_pool_t));
}


void
ngx_destroy_pool(ngx_pool_t *pool)
{
    /* freed with the rest after the input */
}


void
ngx_shmtx_lock(ngx_shmtx_t *mtx)
{
    if (mtx->spin) {
        abort();                    /* not recursive */
    }

    mtx->spin++;
}


void
ngx_shmtx_unlock(ngx_shmtx_t *mtx)
{
    if (mtx->spin != 1) {
        abort();
    }

    mtx->spin--;
}


/* as nginx's: digits only, at least one, NGX_ERROR past the maximum */

ngx_int_t
ngx_atoi(u_char *line, size_t n)
{
    ngx_int_t  value, cutoff, cutlim;

    if (n == 0) {
        return NGX_ERROR;
    }

    cutoff = NGX_MAX_INT_T_VALUE / 10;
    cutlim = NGX_MAX_INT_T_VALUE % 10;

    for (value = 0; n--; line++) {
        if (*line < '0' || *line > '9') {
            return NGX_ERROR;
        }

        if (value >= cutoff && (value > cutoff || *line - '0' > cutlim)) {
            return NGX_ERROR;
        }

        value = value * 10 + (*line - '0');
    }

    return value;
}


/*
 * The configuration and a zone laid out as ngx_http_llm_init_zone() and
 * ngx_http_llm_health_init_zone_locked() make it: a node per provider,
 * its keys' cool-down times, its servers' and keys' health (with a
 * check), each its own allocation, freed after the input.
 */

static void
fuzz_setup(u_char conf, u_char state)
{
    ngx_str_t                    *key;
    ngx_uint_t                    i, j, nprov, down;
    ngx_array_t                  *keys;
    ngx_http_llm_provider_t      *p;
    ngx_http_llm_shm_provider_t  *n;

    ngx_stubs_pool_reset();

    ngx_memzero(&fuzz_lmcf, sizeof(ngx_http_llm_main_conf_t));
    ngx_memzero(fuzz_prov, sizeof(fuzz_prov));
    ngx_memzero(&fuzz_shpool, sizeof(ngx_slab_pool_t));

    ngx_current_msec = FUZZ_MSEC;
    ((ngx_time_t *) ngx_cached_time)->sec = FUZZ_NOW;
    ((ngx_time_t *) ngx_cached_time)->msec = 0;

    fuzz_sh = ngx_stubs_alloc(sizeof(ngx_http_llm_shctx_t));
    ngx_queue_init(&fuzz_sh->providers);
    ngx_queue_init(&fuzz_sh->latency);
    ngx_queue_init(&fuzz_sh->lru);
    fuzz_sh->started = FUZZ_NOW - 3600;

    nprov = 1 + (conf & 3) % 3;

    for (i = 0; i < nprov; i++) {
        p = &fuzz_prov[i];
        p->name.data = (u_char *) fuzz_names[i];
        p->name.len = ngx_strlen(fuzz_names[i]);
        p->check = (conf >> (2 + i)) & 1 ? &fuzz_check : NULL;
        p->max_fails = (conf >> (5 + i)) & 1;

        keys = ngx_array_create(NULL, FUZZ_KEYS, sizeof(ngx_str_t));

        for (j = 0; j < 1 + i % FUZZ_KEYS; j++) {
            key = ngx_array_push(keys);
            ngx_str_set(key, "Bearer sk-fuzz");
        }

        p->keys = keys;

        n = ngx_stubs_alloc(offsetof(ngx_http_llm_shm_provider_t, name)
                            + p->name.len);
        n->name_len = p->name.len;
        ngx_memcpy(n->name, p->name.data, p->name.len);
        ngx_queue_insert_tail(&fuzz_sh->providers, &n->queue);

        n->nkeys = keys->nelts;
        n->key_cool = ngx_stubs_alloc(keys->nelts * sizeof(ngx_msec_t));

        if (p->check) {
            down = (state >> i) & 1;

            n->nservers = 1 + ((state >> 6) + i) % FUZZ_SERVERS;
            n->servers = ngx_stubs_alloc(n->nservers
                                         * sizeof(ngx_http_llm_health_t));
            n->nhkeys = keys->nelts;
            n->keys = ngx_stubs_alloc(keys->nelts
                                      * sizeof(ngx_http_llm_health_t));

            for (j = 0; j < n->nservers; j++) {
                n->servers[j].down = down;
                n->servers[j].since = FUZZ_NOW - 60;
                n->servers[j].passes = 1;
                n->servers[j].fails = 2;
            }

            n->servers_down = down ? n->nservers : 0;
            n->health.down = down;
            n->health.since = FUZZ_NOW - 60;
            n->health.passes = 1;
            n->health.fails = 2;

            /* a change of this node's, not on Redis yet */
            n->fleet_changed = (int64_t) (FUZZ_NOW - 10) * 1000;
            n->fleet_pending = 1;
            n->fleet_version = 3;
        }

        if (i == 0 && (state & 8)) {
            n->open_until = FUZZ_MSEC + 1000;
            n->circuit_opened = 1;
        }

        p->shm = n;
        p->shpool = &fuzz_shpool;
    }

    if (state & 16) {
        fuzz_sh->fleet.pending[NGX_HTTP_LLM_V_REQUESTS] = 3;
        fuzz_sh->fleet.pending[NGX_HTTP_LLM_V_ERRORS] = 1;
    }

    if (state & 32) {
        fuzz_sh->fleet.batch[NGX_HTTP_LLM_V_REQUESTS] = 2;
        fuzz_sh->fleet.batch_id = 5;
    }

    fuzz_lmcf.providers.elts = fuzz_prov;
    fuzz_lmcf.providers.nelts = nprov;
    fuzz_lmcf.providers.size = sizeof(ngx_http_llm_provider_t);
    fuzz_lmcf.sh = fuzz_sh;
    fuzz_lmcf.shpool = &fuzz_shpool;

    fuzz_main_conf[0] = &fuzz_lmcf;
    fuzz_hctx.main_conf = fuzz_main_conf;
    fuzz_conf_ctx[0] = &fuzz_hctx;
    fuzz_cycle.conf_ctx = (void ****) fuzz_conf_ctx;
    fuzz_cycle.log = &fuzz_log;
    ngx_cycle = &fuzz_cycle;

    /* a sync: the handlers of its replies */

    fuzz_ncalls = 0;
    ngx_http_llm_fleet_sync(&fuzz_log);
}


static void
fuzz_fail(const char *what, ngx_uint_t call, redisReply *reply)
{
    fprintf(stderr, "fuzz_fleet_sync: %s (handler %s, reply type %d, "
            "integer %lld, %zu elements)\n", what,
            call < fuzz_ncalls ? fuzz_calls[call].what : "-",
            reply ? reply->type : -1, reply ? reply->integer : 0,
            reply ? reply->elements : 0);
    abort();
}


/* what the sync queued: the commands of this configuration, in order */

static void
fuzz_check_sync(void)
{
    ngx_uint_t  i, k, checks, batch;

    k = 0;
    checks = 0;

    if (fuzz_ncalls == 0 || ngx_strcmp(fuzz_calls[k++].what, "ZCARD")) {
        fuzz_fail("no ZCARD first", 0, NULL);
    }

    for (i = 0; i < fuzz_lmcf.providers.nelts; i++) {
        if (fuzz_prov[i].max_fails) {
            if (k == fuzz_ncalls || ngx_strcmp(fuzz_calls[k].what, "PTTL")
                || fuzz_calls[k].data != &fuzz_prov[i])
            {
                fuzz_fail("no PTTL of a provider with max_fails", k, NULL);
            }

            k++;
        }
    }

    if (k == fuzz_ncalls || ngx_strcmp(fuzz_calls[k].what, "COUNT")) {
        fuzz_fail("no COUNT", k, NULL);
    }

    batch = 0;

    for (i = 0; i < FUZZ_NCOUNTS; i++) {
        batch |= (fuzz_sh->fleet.batch[i] != 0);
    }

    if ((uint64_t) (uintptr_t) fuzz_calls[k++].data
        != (batch ? fuzz_sh->fleet.batch_id : 0))
    {
        fuzz_fail("COUNT without its batch's id", k - 1, NULL);
    }

    for (i = 0; i < fuzz_lmcf.providers.nelts; i++) {
        if (fuzz_prov[i].check) {
            checks++;

            if (k == fuzz_ncalls || ngx_strcmp(fuzz_calls[k].what, "HEALTH")
                || fuzz_calls[k].data != &fuzz_prov[i]
                || fuzz_prov[i].shm->fleet_pending)
            {
                fuzz_fail("no HEALTH of a pending change", k, NULL);
            }

            k++;
        }
    }

    if (checks
        && (k == fuzz_ncalls || ngx_strcmp(fuzz_calls[k++].what, "HGETALL")))
    {
        fuzz_fail("no HGETALL with checks", k, NULL);
    }

    if (k != fuzz_ncalls) {
        fuzz_fail("a command too many", k, NULL);
    }
}


static void
fuzz_snap(fuzz_snap_t *s)
{
    ngx_uint_t                    i;
    ngx_http_llm_shm_provider_t  *n;

    ngx_memzero(s, sizeof(fuzz_snap_t));

    s->nnodes = ngx_http_llm_fleet_nodes();
    ngx_memcpy(&s->fleet, &fuzz_sh->fleet, sizeof(s->fleet));

    for (i = 0; i < fuzz_lmcf.providers.nelts; i++) {
        n = fuzz_prov[i].shm;
        ngx_memcpy(&s->prov[i], n,
                   offsetof(ngx_http_llm_shm_provider_t, name));
        if (n->servers) {
            ngx_memcpy(s->servers[i], n->servers,
                       n->nservers * sizeof(ngx_http_llm_health_t));
        }

        if (n->keys) {
            ngx_memcpy(s->keys[i], n->keys,
                       n->nhkeys * sizeof(ngx_http_llm_health_t));
        }
    }
}


/* the model: a total as the COUNT script's reply may give it, never < 0 */

static ngx_int_t
fuzz_number(redisReply *r, int64_t *v)
{
    size_t    i;
    int64_t   n;

    if (r->type == REDIS_REPLY_NIL) {
        *v = 0;
        return NGX_OK;
    }

    if (r->type == REDIS_REPLY_INTEGER) {
        *v = r->integer;
        return (r->integer < 0) ? NGX_ERROR : NGX_OK;
    }

    if (r->type != REDIS_REPLY_STRING || r->len == 0) {
        return NGX_ERROR;
    }

    n = 0;

    for (i = 0; i < r->len; i++) {
        if (r->str[i] < '0' || r->str[i] > '9'
            || __builtin_mul_overflow(n, 10, &n)
            || __builtin_add_overflow(n, r->str[i] - '0', &n))
        {
            return NGX_ERROR;
        }
    }

    *v = n;

    return NGX_OK;
}


/* "<0 up, 1 down> <version, 1 or more> <node>", at least 5 bytes */

static void
fuzz_apply(fuzz_snap_t *e, ngx_uint_t i, redisReply *v)
{
    char                         *sp;
    size_t                        k;
    int64_t                       version;
    ngx_uint_t                    down, own;
    ngx_http_llm_shm_provider_t  *n;

    if (v->len < 5 || (v->str[0] != '0' && v->str[0] != '1')
        || v->str[1] != ' ')
    {
        return;
    }

    sp = memchr(v->str + 2, ' ', v->len - 2);
    if (sp == NULL || sp == v->str + 2) {
        return;
    }

    version = 0;

    for (k = 2; v->str + k < sp; k++) {
        if (v->str[k] < '0' || v->str[k] > '9'
            || __builtin_mul_overflow(version, 10, &version)
            || __builtin_add_overflow(version, v->str[k] - '0', &version))
        {
            return;
        }
    }

    n = &e->prov[i];

    if (version <= 0 || (uint64_t) version <= n->fleet_version) {
        return;
    }

    n->fleet_version = version;
    down = (v->str[0] == '1');
    own = ((size_t) (v->str + v->len - sp - 1) == fuzz_node.len
           && ngx_memcmp(sp + 1, fuzz_node.data, fuzz_node.len) == 0);

    if (own || down == n->health.down) {
        return;
    }

    for (k = 0; k < n->nservers; k++) {
        e->servers[i][k].down = down;
        e->servers[i][k].since = FUZZ_NOW;
        e->servers[i][k].passes = 0;
        e->servers[i][k].fails = 0;
    }

    n->servers_down = down ? n->nservers : 0;
    n->health.down = down;
    n->health.since = FUZZ_NOW;
    n->health.passes = 0;
    n->health.fails = 0;
}


/* what the handler of call c is to make of reply: e, from the zone */

static void
fuzz_model(ngx_uint_t c, redisReply *reply, fuzz_snap_t *e)
{
    size_t                     k;
    int64_t                    total[FUZZ_NCOUNTS];
    uint64_t                   id;
    ngx_uint_t                 i;
    redisReply                *f, *v;
    const char                *what;
    ngx_http_llm_provider_t   *p;

    what = fuzz_calls[c].what;
    p = fuzz_calls[c].data;
    i = (p >= fuzz_prov && p < fuzz_prov + FUZZ_PROVS) ? p - fuzz_prov : 0;

    if (ngx_strcmp(what, "HEALTH") == 0) {
        if (reply == NULL || reply->type != REDIS_REPLY_INTEGER) {
            e->prov[i].fleet_pending = 1;

        } else if (reply->integer > 0
                   && (uint64_t) reply->integer > e->prov[i].fleet_version)
        {
            e->prov[i].fleet_version = reply->integer;
        }

        return;
    }

    if (reply == NULL) {
        return;
    }

    if (ngx_strcmp(what, "ZCARD") == 0) {
        if (reply->type == REDIS_REPLY_INTEGER && reply->integer >= 1
            && reply->integer <= 99999)
        {
            e->nnodes = reply->integer;
            e->fleet.nodes = reply->integer;
        }

    } else if (ngx_strcmp(what, "PTTL") == 0) {
        if (reply->type == REDIS_REPLY_INTEGER && reply->integer >= 1
            && reply->integer <= 86400000 && e->prov[i].open_until == 0)
        {
            e->prov[i].open_until = FUZZ_MSEC + reply->integer;
            e->prov[i].trial_until = 0;
            e->prov[i].circuit_opened++;
        }

    } else if (ngx_strcmp(what, "COUNT") == 0) {
        if (reply->type != REDIS_REPLY_ARRAY
            || reply->elements != FUZZ_NCOUNTS)
        {
            return;
        }

        for (k = 0; k < FUZZ_NCOUNTS; k++) {
            if (fuzz_number(reply->element[k], &total[k]) != NGX_OK) {
                return;
            }
        }

        id = (uint64_t) (uintptr_t) fuzz_calls[c].data;

        if (id && id == e->fleet.batch_id) {
            ngx_memzero(e->fleet.batch, sizeof(e->fleet.batch));
        }

        ngx_memcpy(e->fleet.total, total, sizeof(total));
        e->fleet.synced = FUZZ_NOW;

    } else {                                        /* HGETALL */
        if (reply->type != REDIS_REPLY_ARRAY) {
            return;
        }

        for (k = 0; k + 1 < reply->elements; k += 2) {
            f = reply->element[k];
            v = reply->element[k + 1];

            if (f->type != REDIS_REPLY_STRING
                || v->type != REDIS_REPLY_STRING)
            {
                continue;
            }

            for (i = 0; i < fuzz_lmcf.providers.nelts; i++) {
                if (fuzz_prov[i].check && f->len == fuzz_prov[i].name.len
                    && ngx_memcmp(f->str, fuzz_prov[i].name.data, f->len)
                       == 0)
                {
                    fuzz_apply(e, i, v);
                    break;
                }
            }
        }
    }
}


/* bounds that hold whatever Redis says */

static void
fuzz_bounds(fuzz_snap_t *before, fuzz_snap_t *after, ngx_uint_t c,
    redisReply *reply)
{
    ngx_uint_t                    i, k, down;
    ngx_http_llm_shm_provider_t  *a, *b;

    if (fuzz_shpool.mutex.spin != 0) {
        fuzz_fail("the zone's mutex is left locked", c, reply);
    }

    if (after->nnodes < 1 || after->nnodes > 99999
        || after->fleet.nodes < 0 || after->fleet.nodes > 99999)
    {
        fuzz_fail("a node count out of bounds", c, reply);
    }

    if (after->fleet.batch_id != before->fleet.batch_id
        || ngx_memcmp(after->fleet.pending, before->fleet.pending,
                      sizeof(after->fleet.pending))
        || ngx_memcmp(after->fleet.node, before->fleet.node,
                      sizeof(after->fleet.node)))
    {
        fuzz_fail("this node's counters changed by a reply", c, reply);
    }

    for (i = 0; i < fuzz_lmcf.providers.nelts; i++) {
        a = &after->prov[i];
        b = &before->prov[i];

        if (a->health.down > 1 || a->fleet_pending > 1
            || a->fleet_version < b->fleet_version
            || a->circuit_opened < b->circuit_opened
            || a->circuit_opened > b->circuit_opened + 1
            || (a->open_until != b->open_until
                && (b->open_until != 0 || a->open_until <= FUZZ_MSEC
                    || a->open_until > FUZZ_MSEC + 86400000)))
        {
            fuzz_fail("a provider's node out of bounds", c, reply);
        }

        down = 0;

        for (k = 0; k < a->nservers; k++) {
            if (after->servers[i][k].down > 1) {
                fuzz_fail("a server's state out of bounds", c, reply);
            }

            down += after->servers[i][k].down;
        }

        if (a->servers_down != down
            || (fuzz_prov[i].check && down != a->nservers * a->health.down))
        {
            fuzz_fail("servers_down does not count the servers down", c,
                      reply);
        }
    }
}


static void
fuzz_call(ngx_uint_t c, redisReply *reply)
{
    fuzz_snap_t  before, after, expect;

    fuzz_snap(&before);
    ngx_memcpy(&expect, &before, sizeof(fuzz_snap_t));
    fuzz_model(c, reply, &expect);

    fuzz_calls[c].handler(fuzz_calls[c].data, reply);

    fuzz_snap(&after);
    fuzz_bounds(&before, &after, c, reply);

    if (ngx_memcmp(&after, &expect, sizeof(fuzz_snap_t)) != 0) {
        fuzz_fail("the zone differs from the model", c, reply);
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    void          *reply;
    size_t         nsel, k;
    ngx_uint_t     c, nulls;
    redisReader   *reader;
    const u_char  *sel;

    if (size < 3) {
        return 0;
    }

    fuzz_setup(data[0], data[1]);
    fuzz_check_sync();

    nsel = 1 + data[2] % 8;

    if (size < 3 + nsel) {
        return 0;
    }

    sel = data + 3;
    data += 3 + nsel;
    size -= 3 + nsel;

    reader = ngx_http_llm_resp_reader();
    if (reader == NULL
        || redisReaderFeed(reader, (const char *) data, size) != REDIS_OK)
    {
        abort();
    }

    nulls = 0;

    for (k = 0; /* void */; k++) {
        c = (sel[k % nsel] & 0x7f) % fuzz_ncalls;

        /* a command that failed: at most 64 an input */

        if ((sel[k % nsel] & 0x80) && nulls++ < 64) {
            fuzz_call(c, NULL);
            continue;
        }

        reply = NULL;

        if (redisReaderGetReply(reader, &reply) != REDIS_OK) {
            /* the connection fails: this handler is told */
            fuzz_call(c, NULL);
            break;
        }

        if (reply == NULL) {
            break;
        }

        fuzz_call(c, reply);
        freeReplyObject(reply);
    }

    redisReaderFree(reader);

    return 0;
}


/* fixed cases: a reply to one handler, its effect on the zone */

static ngx_uint_t
fuzz_find(const char *what, ngx_uint_t prov)
{
    ngx_uint_t  c;

    for (c = 0; c < fuzz_ncalls; c++) {
        if (ngx_strcmp(fuzz_calls[c].what, what) == 0
            && ((ngx_strcmp(what, "PTTL") && ngx_strcmp(what, "HEALTH"))
                || fuzz_calls[c].data == &fuzz_prov[prov]))
        {
            return c;
        }
    }

    fprintf(stderr, "fuzz_fleet_sync: no %s\n", what);
    abort();
}


static void
fuzz_send(const char *what, ngx_uint_t prov, const char *resp)
{
    void         *reply;
    redisReader  *reader;

    if (resp == NULL) {
        fuzz_call(fuzz_find(what, prov), NULL);
        return;
    }

    reader = ngx_http_llm_resp_reader();
    reply = NULL;

    if (reader == NULL
        || redisReaderFeed(reader, resp, strlen(resp)) != REDIS_OK
        || redisReaderGetReply(reader, &reply) != REDIS_OK
        || reply == NULL)
    {
        fprintf(stderr, "fuzz_fleet_sync: no reply in %s\n", resp);
        abort();
    }

    fuzz_call(fuzz_find(what, prov), reply);

    freeReplyObject(reply);
    redisReaderFree(reader);
}


/* a reply that must change nothing */

static void
fuzz_same(const char *what, ngx_uint_t prov, const char *resp)
{
    fuzz_snap_t  before, after;

    fuzz_snap(&before);
    fuzz_send(what, prov, resp);
    fuzz_snap(&after);

    if (ngx_memcmp(&before, &after, sizeof(fuzz_snap_t)) != 0) {
        fprintf(stderr, "fuzz_fleet_sync: %s changed the zone on %s\n",
                what, resp ? resp : "NULL");
        abort();
    }
}


#define fuzz_expect(cond)                                                    \
    if (!(cond)) {                                                           \
        fprintf(stderr, "fuzz_fleet_sync: line %d: %s\n", __LINE__, #cond);  \
        abort();                                                             \
    }


/* HGETALL's reply of one field */

static const char *
fuzz_hash(char *buf, const char *name, const char *value)
{
    snprintf(buf, 256, "*2\r\n$%zu\r\n%s\r\n$%zu\r\n%s\r\n",
             strlen(name), name, strlen(value), value);

    return buf;
}


static void
fuzz_cases(void)
{
    char                          buf[256];
    ngx_uint_t                    i;
    ngx_http_llm_fleet_counts_t  *fc;
    ngx_http_llm_shm_provider_t  *a, *o, *x;
    static const char            *bad[] = {
        NULL, ":0\r\n", ":-2\r\n", ":100000\r\n", "$1\r\n5\r\n",
        "-ERR x\r\n", "+OK\r\n", "$-1\r\n", "*1\r\n:3\r\n", "*-1\r\n"
    };

    /* three providers, all checked, all with max_fails; a batch made */

    fuzz_setup(0xfe, 0x10);
    fuzz_check_sync();
    fuzz_expect(fuzz_ncalls == 9);

    fc = &fuzz_sh->fleet;
    a = fuzz_prov[0].shm;
    o = fuzz_prov[1].shm;
    x = fuzz_prov[2].shm;

    fuzz_expect(fc->batch_id == 1 && fc->batch[NGX_HTTP_LLM_V_REQUESTS] == 3
                && fc->pending[NGX_HTTP_LLM_V_REQUESTS] == 0);

    /* node count */

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fuzz_same("ZCARD", 0, bad[i]);
    }

    fuzz_send("ZCARD", 0, ":3\r\n");
    fuzz_expect(ngx_http_llm_fleet_nodes() == 3 && fc->nodes == 3);
    fuzz_send("ZCARD", 0, ":99999\r\n");
    fuzz_expect(ngx_http_llm_fleet_nodes() == 99999 && fc->nodes == 99999);
    fuzz_send("ZCARD", 0, ":1\r\n");
    fuzz_expect(ngx_http_llm_fleet_nodes() == 1 && fc->nodes == 1);

    /* circuits */

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (i != 3) {                           /* 100 s: a ttl */
            fuzz_same("PTTL", 1, bad[i]);
        }
    }

    fuzz_same("PTTL", 1, ":86400001\r\n");
    fuzz_send("PTTL", 1, ":1500\r\n");
    fuzz_expect(o->open_until == FUZZ_MSEC + 1500 && o->circuit_opened == 1
                && a->open_until == 0 && x->open_until == 0);
    fuzz_same("PTTL", 1, ":2000\r\n");          /* open already */
    fuzz_send("PTTL", 2, ":86400000\r\n");
    fuzz_expect(x->open_until == FUZZ_MSEC + 86400000
                && x->circuit_opened == 1);

    /* counters: integers, digits, nil; the batch acknowledged */

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fuzz_same("COUNT", 0, bad[i]);
    }

    fuzz_same("COUNT", 0, "*6\r\n:1\r\n:1\r\n:1\r\n:1\r\n:1\r\n:1\r\n");
    fuzz_same("COUNT", 0, "*7\r\n:1\r\n:1\r\n:1\r\n:1\r\n:1\r\n:1\r\n"
                          "$2\r\n1x\r\n");
    fuzz_same("COUNT", 0, "*7\r\n:1\r\n:1\r\n:1\r\n:1\r\n:1\r\n:1\r\n"
                          "+1\r\n");
    fuzz_same("COUNT", 0, "*7\r\n:1\r\n:1\r\n:1\r\n:1\r\n:1\r\n:1\r\n"
                          "$0\r\n\r\n");
    fuzz_same("COUNT", 0, "*7\r\n:1\r\n:1\r\n:1\r\n:1\r\n:1\r\n:1\r\n"
                          "$20\r\n92233720368547758070\r\n");
    fuzz_expect(fc->synced == 0 && fc->batch_id == 1
                && fc->batch[NGX_HTTP_LLM_V_REQUESTS] == 3);

    fuzz_send("COUNT", 0, "*7\r\n:10\r\n:20\r\n$2\r\n30\r\n$-1\r\n:5\r\n"
                          "$19\r\n9223372036854775807\r\n:7\r\n");
    fuzz_expect(fc->synced == FUZZ_NOW && fc->total[0] == 10
                && fc->total[1] == 20 && fc->total[2] == 30
                && fc->total[3] == 0 && fc->total[4] == 5
                && fc->total[5] == INT64_MAX && fc->total[6] == 7
                && fc->batch[NGX_HTTP_LLM_V_REQUESTS] == 0
                && fc->batch_id == 1 && fc->node[NGX_HTTP_LLM_V_REQUESTS] == 3);

    /* health changes of this node: the version kept, a failure resent */

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (i == 3) {
            continue;                           /* a version */
        }

        fuzz_send("HEALTH", 0, bad[i]);
        fuzz_expect(a->fleet_version == 3
                    && a->fleet_pending
                       == (bad[i] == NULL || bad[i][0] != ':'));
        a->fleet_pending = 0;
    }

    fuzz_send("HEALTH", 0, ":8\r\n");
    fuzz_expect(a->fleet_version == 8 && a->fleet_pending == 0);
    fuzz_send("HEALTH", 0, ":6\r\n");
    fuzz_expect(a->fleet_version == 8 && a->fleet_pending == 0);

    /* the others' changes */

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fuzz_same("HGETALL", 0, bad[i]);
    }

    /* this node's own change: the version only */
    fuzz_send("HGETALL", 0, fuzz_hash(buf, "a", "1 9 fuzzhost:1"));
    fuzz_expect(a->fleet_version == 9 && a->health.down == 0);

    fuzz_same("HGETALL", 0, fuzz_hash(buf, "openai", "1 2 other:1"));
    fuzz_same("HGETALL", 0, fuzz_hash(buf, "zz", "1 20 other:1"));
    fuzz_same("HGETALL", 0, fuzz_hash(buf, "openai", "1 20"));
    fuzz_same("HGETALL", 0, fuzz_hash(buf, "openai", "2 20 x"));
    fuzz_same("HGETALL", 0, fuzz_hash(buf, "openai", "1 x0 x"));
    fuzz_same("HGETALL", 0, fuzz_hash(buf, "openai", "1  20 x"));
    fuzz_same("HGETALL", 0, fuzz_hash(buf, "openai", "1 0 xy"));
    fuzz_same("HGETALL", 0, fuzz_hash(buf, "openai", "1 -20 xy"));
    fuzz_same("HGETALL", 0, fuzz_hash(buf, "openai",
                                      "1 92233720368547758070 xy"));
    fuzz_same("HGETALL", 0, "*2\r\n$6\r\nopenai\r\n:20\r\n");
    fuzz_same("HGETALL", 0, "*1\r\n$6\r\nopenai\r\n");

    /* a newer state of another node: taken over, every server too */
    fuzz_send("HGETALL", 0, "*4\r\n$6\r\nopenai\r\n"
                            "$12\r\n1 10 other:1\r\n"
                            "$1\r\na\r\n$15\r\n1 11 fuzzhost:1\r\n");
    fuzz_expect(o->fleet_version == 10 && o->health.down == 1
                && o->health.since == FUZZ_NOW && o->health.fails == 0
                && o->servers_down == o->nservers && o->servers[0].down
                && a->fleet_version == 11 && a->health.down == 0
                && a->servers_down == 0);

    fuzz_send("HGETALL", 0, fuzz_hash(buf, "openai", "0 12 other:1"));
    fuzz_expect(o->fleet_version == 12 && o->health.down == 0
                && o->servers_down == 0 && !o->servers[0].down);

    /* providers without a check: nothing to take over */

    fuzz_setup(0x02 | 0x04, 0x06);
    fuzz_check_sync();
    fuzz_expect(fuzz_ncalls == 4);
    fuzz_same("HGETALL", 0, fuzz_hash(buf, "openai", "0 12 other:1"));
    fuzz_send("HGETALL", 0, fuzz_hash(buf, "a", "1 12 other:1"));
    fuzz_expect(fuzz_prov[0].shm->health.down == 1);

    /* an answer to an older batch: the totals, the batch stays */

    fuzz_setup(0x01, 0x30);
    fuzz_check_sync();
    fuzz_expect(fuzz_ncalls == 2 && fuzz_sh->fleet.batch_id == 5);
    fuzz_sh->fleet.batch_id = 6;
    fuzz_send("COUNT", 0, "*7\r\n:1\r\n:2\r\n:3\r\n:4\r\n:5\r\n:6\r\n:7\r\n");
    fuzz_expect(fuzz_sh->fleet.total[6] == 7
                && fuzz_sh->fleet.batch[NGX_HTTP_LLM_V_REQUESTS] == 2);

    /* a circuit open already: kept */

    fuzz_setup(0x20, 0x08);
    fuzz_same("PTTL", 0, ":5000\r\n");

    ngx_stubs_pool_reset();
}


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_cases();

    fprintf(stderr, "fuzz_fleet_sync: fixed cases passed\n");

    return 0;
}
