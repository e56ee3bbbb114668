
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * libFuzzer harness for the state-file loader
 * (src/ngx_http_llm_router_state_load.c): the input is written to a file
 * and loaded by ngx_http_llm_state_load() into a zone, as the master does
 * when the zone is created afresh; the series go through the real
 * ngx_http_llm_series_get_locked() (stats.c) and the tables of state.c.
 *
 * The zone is not nginx's slab: every allocation is its own malloc (ASan
 * sees a write past it), counted and freed after each input; the rbtree
 * is kept unbalanced (the series' own insert function places each node),
 * which changes no lookup.  Checked after each load: the loader returns
 * NGX_OK and leaves the mutex free; every restored series has a known
 * type, a label of
 * its type's fields within the limit, the transient value zero and no
 * window that ended; providers restored are configured ones, once each.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_llm_router.h"
#include "ngx_http_llm_router_state.h"
#include "ngx_stubs.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


ngx_module_t   ngx_http_llm_router_module;
uint32_t       ngx_crc32_table256[256];

/* as budget.c names them (budget.c itself needs far more of nginx) */
ngx_str_t  ngx_http_llm_budget_metric_names[NGX_HTTP_LLM_NMETRICS] = {
    ngx_string("tokens"),
    ngx_string("requests"),
    ngx_string("cost")
};

static char        fuzz_file[64];


/* stats.c's other paths: never reached by the loader */

ngx_http_llm_ctx_t *
ngx_http_llm_get_ctx(ngx_http_request_t *r)
{
    abort();
}


ngx_http_llm_price_t *
ngx_http_llm_price_find(ngx_http_llm_main_conf_t *lmcf,
    ngx_http_llm_provider_t *prov, ngx_str_t *model)
{
    abort();
}


int64_t
ngx_http_llm_cost(ngx_http_llm_price_t *price, int64_t prompt,
    int64_t cached, int64_t completion)
{
    abort();
}


void
ngx_http_llm_budget_settle_locked(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, ngx_http_llm_main_conf_t *lmcf)
{
    abort();
}


uint32_t
ngx_utf8_decode(u_char **p, size_t n)
{
    abort();
}


/* nginx core: what the loader and the series table use */

volatile ngx_msec_t  ngx_current_msec;


ngx_int_t
ngx_memn2cmp(u_char *s1, u_char *s2, size_t n1, size_t n2)
{
    size_t     n;
    ngx_int_t  m, z;

    if (n1 <= n2) {
        n = n1;
        z = -1;

    } else {
        n = n2;
        z = 1;
    }

    m = ngx_memcmp(s1, s2, n);

    if (m || n1 == n2) {
        return m;
    }

    return z;
}

void
ngx_shmtx_lock(ngx_shmtx_t *mtx)
{
    mtx->spin++;
}


void
ngx_shmtx_unlock(ngx_shmtx_t *mtx)
{
    mtx->spin--;
}


void *
ngx_slab_calloc_locked(ngx_slab_pool_t *pool, size_t size)
{
    return ngx_stubs_alloc(size);
}


void *
ngx_slab_alloc_locked(ngx_slab_pool_t *pool, size_t size)
{
    return ngx_stubs_alloc(size);
}


void
ngx_slab_free_locked(ngx_slab_pool_t *pool, void *p)
{
    /* freed with the rest after the input */
}


void
ngx_rbtree_insert(ngx_rbtree_t *tree, ngx_rbtree_node_t *node)
{
    node->parent = NULL;
    node->left = tree->sentinel;
    node->right = tree->sentinel;

    if (tree->root == tree->sentinel) {
        tree->root = node;
        return;
    }

    tree->insert(tree->root, node, tree->sentinel);
}


void
ngx_rbtree_delete(ngx_rbtree_t *tree, ngx_rbtree_node_t *node)
{
    /* eviction: the harness' zone never fills */
    abort();
}


static void
fuzz_crc32_init(void)
{
    uint32_t  c, i, k;

    for (i = 0; i < 256; i++) {
        c = i;

        for (k = 0; k < 8; k++) {
            c = (c & 1) ? 0xedb88320 ^ (c >> 1) : c >> 1;
        }

        ngx_crc32_table256[i] = c;
    }
}


static void
fuzz_fail(const char *what, const uint8_t *data, size_t size)
{
    fprintf(stderr, "fuzz_state: %s\nfile (%zu bytes): %.*s\n", what, size,
            (int) (size > 400 ? 400 : size), data);
    abort();
}


/* the series in the zone after a load */

static ngx_uint_t
fuzz_check_series(ngx_http_llm_shctx_t *sh, time_t now, const uint8_t *data,
    size_t size)
{
    u_char                            *p, *end;
    ngx_uint_t                         n, fields;
    ngx_queue_t                       *q;
    ngx_http_llm_series_t             *s;
    const ngx_http_llm_series_type_t  *t;

    n = 0;

    for (q = ngx_queue_head(&sh->lru); q != ngx_queue_sentinel(&sh->lru);
         q = ngx_queue_next(q))
    {
        s = ngx_queue_data(q, ngx_http_llm_series_t, queue);
        n++;

        if (s->type == 0 || s->type >= NGX_HTTP_LLM_SERIES_NTYPES) {
            fuzz_fail("a series of an unknown type", data, size);
        }

        t = &ngx_http_llm_series_types[s->type];

        if (s->len > NGX_HTTP_LLM_STATE_LABEL_MAX) {
            fuzz_fail("a label over the limit", data, size);
        }

        /* fields joined by '\0': as many as the type has */

        fields = 1;

        for (p = s->label, end = p + s->len; p < end; p++) {
            fields += (*p == '\0');
        }

        if (fields != t->nfields) {
            fuzz_fail("a label with the wrong number of fields", data, size);
        }

        if (t->transient >= 0 && s->v[t->transient] != 0) {
            fuzz_fail("a reservation restored", data, size);
        }

        if (t->window
            && (s->window > now
                || (s->v[NGX_HTTP_LLM_V_WINDOW_END]
                    && s->v[NGX_HTTP_LLM_V_WINDOW_END] <= now)))
        {
            fuzz_fail("a window that is over restored", data, size);
        }
    }

    if (n != sh->nseries) {
        fuzz_fail("series count and LRU list differ", data, size);
    }

    return n;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                          fd;
    ngx_log_t                    log;
    ngx_uint_t                   i, n;
    ngx_queue_t                 *q;
    ngx_shm_zone_t               zone;
    ngx_slab_pool_t              shpool;
    ngx_slab_page_t              pages[64];
    ngx_http_llm_shctx_t        *sh;
    ngx_http_llm_provider_t      prov[2];
    ngx_http_llm_main_conf_t     lmcf;
    ngx_http_llm_shm_provider_t *node, *other;

    if (fuzz_file[0] == '\0') {
        fuzz_crc32_init();
        ((ngx_time_t *) ngx_cached_time)->sec = 1767225600;  /* 2026 */
        snprintf(fuzz_file, sizeof(fuzz_file), "%s/fuzz-state-%ld",
                 getenv("FUZZ_TMP") ? getenv("FUZZ_TMP") : "/dev/shm",
                 (long) getpid());
    }

    fd = open(fuzz_file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd == -1 || write(fd, data, size) != (ssize_t) size) {
        abort();
    }

    close(fd);

    ngx_memzero(&log, sizeof(ngx_log_t));
    ngx_memzero(&zone, sizeof(ngx_shm_zone_t));
    ngx_memzero(&shpool, sizeof(ngx_slab_pool_t));
    ngx_memzero(&lmcf, sizeof(ngx_http_llm_main_conf_t));
    ngx_memzero(prov, sizeof(prov));

    ngx_str_set(&zone.shm.name, "llm");
    zone.shm.size = 1024 * 1024;

    shpool.pages = pages;
    shpool.last = pages + 64;
    shpool.pfree = 64;

    sh = ngx_stubs_alloc(sizeof(ngx_http_llm_shctx_t));
    ngx_queue_init(&sh->providers);
    ngx_queue_init(&sh->latency);
    ngx_http_llm_stats_init_locked(sh);

    ngx_str_set(&prov[0].name, "a");
    ngx_str_set(&prov[1].name, "openai");

    lmcf.providers.elts = prov;
    lmcf.providers.nelts = 2;
    lmcf.providers.size = sizeof(ngx_http_llm_provider_t);
    lmcf.state_path.data = (u_char *) fuzz_file;
    lmcf.state_path.len = strlen(fuzz_file);
    lmcf.shm_zone = &zone;
    lmcf.shpool = &shpool;
    lmcf.sh = sh;

    if (ngx_http_llm_state_load(&lmcf, &log) != NGX_OK) {
        fuzz_fail("the loader failed (it only ever logs)", data, size);
    }

    if (shpool.mutex.spin != 0) {
        fuzz_fail("the zone's mutex is left locked", data, size);
    }

    n = fuzz_check_series(sh, ngx_time(), data, size);

    /* providers: configured ones only, each once */

    i = 0;

    for (q = ngx_queue_head(&sh->providers);
         q != ngx_queue_sentinel(&sh->providers);
         q = ngx_queue_next(q))
    {
        node = ngx_queue_data(q, ngx_http_llm_shm_provider_t, queue);
        i++;

        if (!((node->name_len == 1 && node->name[0] == 'a')
              || (node->name_len == 6
                  && ngx_strncmp(node->name, "openai", 6) == 0)))
        {
            fuzz_fail("a provider that is not configured", data, size);
        }

        for (other = node; q != ngx_queue_sentinel(&sh->providers); ) {
            q = ngx_queue_next(q);

            if (q == ngx_queue_sentinel(&sh->providers)) {
                break;
            }

            other = ngx_queue_data(q, ngx_http_llm_shm_provider_t, queue);

            if (other->name_len == node->name_len
                && ngx_strncmp(other->name, node->name, node->name_len) == 0)
            {
                fuzz_fail("a provider restored twice", data, size);
            }
        }

        q = &node->queue;
    }

    if (getenv("FUZZ_VERBOSE")) {
        fprintf(stderr, "%lu series, %lu providers restored\n",
                (unsigned long) n, (unsigned long) i);
    }

    ngx_stubs_pool_reset();
    unlink(fuzz_file);

    return 0;
}
