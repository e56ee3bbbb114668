
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * The series store: counters in the shared zone (by route, provider,
 * model and status; by tenant and model; budgets) in an rbtree with an
 * LRU queue, evicted least recently used first when the zone is full.
 * It calls nothing above it; the end of a request (account.c) and the
 * budgets fill it, the state file and llm_status read it.
 */


#include "ngx_http_llm_router.h"


/*
 * The kinds of series, by NGX_HTTP_LLM_SERIES_*: the one description of
 * their labels.  Budgets have a window, and their reservations belong to
 * requests in flight (a state file does not restore them).  A new kind
 * of series is a row here (and its NGX_HTTP_LLM_SERIES_* number).
 */

const ngx_http_llm_series_type_t
    ngx_http_llm_series_types[NGX_HTTP_LLM_SERIES_NTYPES] =
{
    { ngx_null_string, 0, { NULL }, { 0 }, 0, -1 },

    { ngx_string("requests"), 4,
      { "route", "provider", "model", "status" },
      { NGX_HTTP_LLM_FIELD_ANY, NGX_HTTP_LLM_FIELD_ANY,
        NGX_HTTP_LLM_FIELD_ANY, NGX_HTTP_LLM_FIELD_STATUS },
      0, -1 },

    { ngx_string("tenant"), 2,
      { "tenant", "model" },
      { NGX_HTTP_LLM_FIELD_NONEMPTY, NGX_HTTP_LLM_FIELD_ANY },
      0, -1 },

    { ngx_string("budget"), 3,
      { "budget", "key", "metric" },
      { NGX_HTTP_LLM_FIELD_NONEMPTY, NGX_HTTP_LLM_FIELD_NONEMPTY,
        NGX_HTTP_LLM_FIELD_METRIC },
      1, NGX_HTTP_LLM_V_RESERVED }
};


/* 100ms 250ms 500ms 1s 2.5s 5s 10s 30s 60s +Inf */
ngx_msec_t  ngx_http_llm_hist_bounds[NGX_HTTP_LLM_HIST_BUCKETS - 1] = {
    100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000
};


static void ngx_http_llm_series_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static ngx_uint_t ngx_http_llm_series_evict_locked(
    ngx_http_llm_main_conf_t *lmcf, ngx_log_t *log);


void
ngx_http_llm_stats_init_locked(ngx_http_llm_shctx_t *sh)
{
    ngx_rbtree_init(&sh->series, &sh->sentinel, ngx_http_llm_series_insert);
    ngx_queue_init(&sh->lru);
}


static void
ngx_http_llm_series_insert(ngx_rbtree_node_t *temp, ngx_rbtree_node_t *node,
    ngx_rbtree_node_t *sentinel)
{
    ngx_int_t               rc;
    ngx_rbtree_node_t     **p;
    ngx_http_llm_series_t  *s, *t;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            s = (ngx_http_llm_series_t *) node;
            t = (ngx_http_llm_series_t *) temp;

            rc = (ngx_int_t) s->type - (ngx_int_t) t->type;

            if (rc == 0) {
                rc = ngx_memn2cmp(s->label, t->label, s->len, t->len);
            }

            p = (rc < 0) ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


/*
 * Finds or creates a series; the caller holds the zone's mutex.  When the
 * zone is full the least recently used series make room, so that a
 * request never fails for want of memory; NULL only if even that fails.
 */

ngx_http_llm_series_t *
ngx_http_llm_series_get_locked(ngx_http_llm_main_conf_t *lmcf,
    ngx_uint_t type, u_char *label, size_t len, ngx_log_t *log)
{
    uint32_t                hash;
    ngx_int_t               rc;
    ngx_uint_t              i;
    ngx_rbtree_node_t      *node, *sentinel;
    ngx_http_llm_shctx_t   *sh;
    ngx_http_llm_series_t  *s;

    sh = lmcf->sh;

    hash = ngx_http_llm_hash(type + 1, label, len);

    node = sh->series.root;
    sentinel = sh->series.sentinel;

    while (node != sentinel) {

        if (hash < node->key) {
            node = node->left;
            continue;
        }

        if (hash > node->key) {
            node = node->right;
            continue;
        }

        s = (ngx_http_llm_series_t *) node;

        rc = (ngx_int_t) type - (ngx_int_t) s->type;

        if (rc == 0) {
            rc = ngx_memn2cmp(label, s->label, len, s->len);
        }

        if (rc == 0) {
            ngx_queue_remove(&s->queue);
            ngx_queue_insert_head(&sh->lru, &s->queue);
            s->generation = sh->generation;
            return s;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    for (i = 0; /* void */ ; i++) {
        s = ngx_slab_calloc_locked(lmcf->shpool,
                                   offsetof(ngx_http_llm_series_t, label)
                                   + len);
        if (s) {
            break;
        }

        if (i == 64 || ngx_http_llm_series_evict_locked(lmcf, log) == 0) {
            return NULL;
        }
    }

    s->node.key = hash;
    s->generation = sh->generation;
    s->type = (uint32_t) type;
    s->len = (uint32_t) len;
    ngx_memcpy(s->label, label, len);

    ngx_rbtree_insert(&sh->series, &s->node);
    ngx_queue_insert_head(&sh->lru, &s->queue);
    sh->nseries++;

    return s;
}


static ngx_uint_t
ngx_http_llm_series_evict_locked(ngx_http_llm_main_conf_t *lmcf,
    ngx_log_t *log)
{
    u_char                 *p, *end, name[128];
    ngx_uint_t              n, budgets;
    ngx_queue_t            *q, *prev;
    ngx_http_llm_shctx_t   *sh;
    ngx_http_llm_series_t  *s;

    /* a warning a minute per worker at most: a flood must not fill logs */
    static ngx_msec_t       warned;
    static ngx_uint_t       unsaid;

    sh = lmcf->sh;

    /*
     * the least recently used first, budgets last: evicting a budget
     * forgets what a key has spent
     */

    n = 0;
    budgets = 0;
    q = ngx_queue_last(&sh->lru);

    while (n < 1 && q != ngx_queue_sentinel(&sh->lru)) {
        s = ngx_queue_data(q, ngx_http_llm_series_t, queue);
        prev = ngx_queue_prev(q);

        if (s->generation == sh->generation) {
            /* held by the request being served */
            q = prev;

            if (q == ngx_queue_sentinel(&sh->lru) && !budgets) {
                budgets = 1;
                q = ngx_queue_last(&sh->lru);
            }

            continue;
        }

        if (s->type == NGX_HTTP_LLM_SERIES_BUDGET && !budgets) {
            q = prev;

            if (q == ngx_queue_sentinel(&sh->lru) && n == 0) {
                /* nothing but budgets: they go too */
                budgets = 1;
                q = ngx_queue_last(&sh->lru);
            }

            continue;
        }

        if (warned && ngx_current_msec - warned < 60000) {
            unsaid++;

        } else {
            /* the label's fields, '\0' shown as '/'; they hold no secrets */

            end = name + ngx_min(sizeof(name) - 1, s->len);
            for (p = name; p < end; p++) {
                *p = s->label[p - name] ? s->label[p - name] : '/';
            }

            *p = '\0';

            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "llm_zone \"%V\" is full, evicted the least "
                          "recently used counters \"%s\" (and %ui more "
                          "since the last such warning)",
                          &lmcf->shm_zone->shm.name, name, unsaid);

            warned = ngx_current_msec;
            unsaid = 0;
        }

        ngx_queue_remove(q);
        ngx_rbtree_delete(&sh->series, &s->node);
        ngx_slab_free_locked(lmcf->shpool, s);

        sh->nseries--;
        sh->evicted++;
        n++;

        q = prev;
    }

    return n;
}
