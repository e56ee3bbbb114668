
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * Counters in the shared zone: series (by route, provider, model and
 * status; by tenant and model; budgets) in an rbtree with an LRU queue,
 * evicted least recently used first when the zone is full; and the end
 * of every request, where usage, cost, statistics and budgets are settled.
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
static void ngx_http_llm_series_account(ngx_http_llm_series_t *s,
    ngx_http_llm_ctx_t *ctx, ngx_uint_t missing);
static void ngx_http_llm_hist_add(int64_t *buckets, ngx_msec_t ms);
static u_char *ngx_http_llm_label_add(u_char *p, u_char *end, ngx_str_t *s);
static ngx_str_t *ngx_http_llm_model_label(ngx_http_llm_ctx_t *ctx);
static ngx_uint_t ngx_http_llm_model_listed(ngx_http_llm_routes_t *routes,
    ngx_str_t *model);


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

    ngx_crc32_init(hash);
    ngx_crc32_update(&hash, (u_char *) &type, sizeof(ngx_uint_t));
    ngx_crc32_update(&hash, label, len);
    ngx_crc32_final(hash);

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


static u_char *
ngx_http_llm_label_add(u_char *p, u_char *end, ngx_str_t *s)
{
    /* a full label keeps its length: later fields are cut to nothing */

    if (p >= end) {
        return end;
    }

    p = ngx_http_llm_label_utf8(p, end - 1, s->data, s->len);
    *p++ = '\0';

    return p;
}


/*
 * Copies a label field as valid UTF-8, one to one: a byte that is not
 * part of a valid character (an encoded surrogate included), a control
 * character and '\\' become "\\xHH", so that two different names never
 * share a label and every status format gets UTF-8.  Cut at end, never
 * inside a character or an escape.
 */

u_char *
ngx_http_llm_label_utf8(u_char *p, u_char *end, u_char *s, size_t len)
{
    u_char    *c, *last;
    uint32_t   u;

    static u_char  hex[] = "0123456789abcdef";

    last = s + len;

    while (s < last) {

        if (*s >= 0x20 && *s < 0x7f && *s != '\\') {
            if (p == end) {
                break;
            }

            *p++ = *s++;
            continue;
        }

        c = s;

        if (*s >= 0x80) {
            u = ngx_utf8_decode(&s, last - s);

            if (u >= 0x80 && u <= 0x10ffff && (u < 0xd800 || u > 0xdfff)) {
                if ((size_t) (end - p) < (size_t) (s - c)) {
                    break;
                }

                p = ngx_cpymem(p, c, s - c);
                continue;
            }
        }

        if (end - p < 4) {
            break;
        }

        s = c + 1;

        *p++ = '\\';
        *p++ = 'x';
        *p++ = hex[*c >> 4];
        *p++ = hex[*c & 0xf];
    }

    return p;
}


/*
 * The model of a series: a name the configuration lists (a target's model,
 * an exact route's name); any other name a client sent is labelled by the
 * route that took it, so that made-up names cannot fill the zone.
 */

static ngx_str_t *
ngx_http_llm_model_label(ngx_http_llm_ctx_t *ctx)
{
    ngx_http_llm_route_t  *route;

    static ngx_str_t       none = ngx_null_string;

    route = ctx->route;

    if (route == NULL) {
        return &none;
    }

    if (ctx->target && ctx->target->model.len) {
        return &ctx->target->model;
    }

    if ((route->name.len == ctx->model.len
         && ngx_strncmp(route->name.data, ctx->model.data, ctx->model.len)
            == 0)
        || ngx_http_llm_model_listed(ctx->lcf->routes, &ctx->model))
    {
        return &ctx->model;
    }

    return &route->name;
}


static ngx_uint_t
ngx_http_llm_model_listed(ngx_http_llm_routes_t *routes, ngx_str_t *model)
{
    ngx_uint_t             i;
    ngx_http_llm_route_t  *route;

    if (routes == NULL) {
        return 0;
    }

    route = routes->exact.elts;

    for (i = 0; i < routes->exact.nelts; i++) {
        if (route[i].name.len == model->len
            && ngx_strncmp(route[i].name.data, model->data, model->len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


static void
ngx_http_llm_series_account(ngx_http_llm_series_t *s, ngx_http_llm_ctx_t *ctx,
    ngx_uint_t missing)
{
    if (s == NULL) {
        return;
    }

    s->v[NGX_HTTP_LLM_V_REQUESTS]++;

    if (ctx->usage.seen) {
        s->v[NGX_HTTP_LLM_V_PROMPT] += ctx->usage.prompt_tokens;
        s->v[NGX_HTTP_LLM_V_COMPLETION] += ctx->usage.completion_tokens;
        s->v[NGX_HTTP_LLM_V_CACHED] += ctx->usage.cached_tokens;
        s->v[NGX_HTTP_LLM_V_COST] += ctx->usage.cost;
    }

    s->v[NGX_HTTP_LLM_V_USAGE_MISSING] += missing;
}


static void
ngx_http_llm_hist_add(int64_t *buckets, ngx_msec_t ms)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_HTTP_LLM_HIST_BUCKETS - 1; i++) {
        if (ms <= ngx_http_llm_hist_bounds[i]) {
            break;
        }
    }

    buckets[i]++;
}


/*
 * The end of a request in a router location: runs once, from the body
 * filter at the last buffer (so that the access log sees the values) or
 * else from the log handler (client gone, errors).
 */

void
ngx_http_llm_finalize(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx)
{
    u_char                       *p, *end, label[1024], status[NGX_INT_T_LEN];
    ngx_str_t                     st, none, *model;
    ngx_msec_t                    ms;
    ngx_uint_t                    code, missing;
    ngx_time_t                   *tp;
    ngx_http_llm_series_t        *s;
    ngx_http_llm_provider_t      *prov;
    ngx_http_llm_main_conf_t     *lmcf;
    ngx_http_llm_shm_provider_t  *node;

    static ngx_str_t              cache = ngx_string("(cache)");

    if (ctx->finalized) {
        return;
    }

    ctx->finalized = 1;

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_llm_router_module);

    if (lmcf->sh == NULL) {
        return;
    }

    code = r->err_status ? r->err_status : r->headers_out.status;
    if (r->connection->error && !r->header_sent) {
        code = 499;
    }

    prov = ctx->target ? ctx->target->provider : NULL;

    /* served: a provider's 2xx answer reached the client */

    ctx->served = (ctx->proxied && !r->err_status && code >= 200
                   && code < 300 && ctx->nattempts
                   && ctx->attempts[ctx->nattempts - 1].status < 300);

    missing = 0;

    if (ctx->served && !ctx->usage.seen) {
        missing = 1;

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "llm router: no usage in the answer of provider "
                      "\"%V\"%s", &prov->name,
                      ctx->budget.nreservations ? ", the reservation is charged"
                                         : "");
    }

    if (ctx->usage.seen && prov) {
        if (ctx->usage.cached_tokens > ctx->usage.prompt_tokens) {
            ctx->usage.cached_tokens = ctx->usage.prompt_tokens;
        }

        ctx->usage.cost = ngx_http_llm_cost(
                        ctx->target->price ? ctx->target->price
                        : ngx_http_llm_price_find(lmcf, prov,
                                                  &ctx->upstream_model),
                        ctx->usage.prompt_tokens, ctx->usage.cached_tokens,
                        ctx->usage.completion_tokens);
    }

    tp = ngx_timeofday();
    ms = (ngx_msec_t) ((tp->sec - r->start_sec) * 1000
                       + (tp->msec - r->start_msec));

    ngx_str_null(&none);

    /*
     * a client's name is no label: any client could otherwise fill the
     * zone with series of made-up names and push budgets out
     */

    model = ngx_http_llm_model_label(ctx);

    st.data = status;

    if (code >= 100 && code <= 999) {
        /* every answer: three digits without ngx_sprintf() */
        status[0] = (u_char) ('0' + code / 100);
        status[1] = (u_char) ('0' + code / 10 % 10);
        status[2] = (u_char) ('0' + code % 10);
        st.len = 3;

    } else {
        st.len = ngx_sprintf(status, "%ui", code) - status;
    }

    ngx_shmtx_lock(&lmcf->shpool->mutex);

    lmcf->sh->generation++;

    /* requests by route, provider, model, status */

    p = label;
    end = label + sizeof(label);
    p = ngx_http_llm_label_add(p, end, ctx->route ? &ctx->route->name : &none);
    p = ngx_http_llm_label_add(p, end, prov ? &prov->name
                                       : ctx->cache_hit ? &cache : &none);
    p = ngx_http_llm_label_add(p, end, model);
    p = ngx_http_llm_label_add(p, end, &st);

    s = ngx_http_llm_series_get_locked(lmcf, NGX_HTTP_LLM_SERIES_REQUESTS,
                                       label, p - label - 1,
                                       r->connection->log);
    ngx_http_llm_series_account(s, ctx, missing);

    /* spend by tenant and model */

    if (ctx->tenant.len) {
        p = label;
        p = ngx_http_llm_label_add(p, end, &ctx->tenant);
        p = ngx_http_llm_label_add(p, end, model);

        s = ngx_http_llm_series_get_locked(lmcf, NGX_HTTP_LLM_SERIES_TENANT,
                                           label, p - label - 1,
                                           r->connection->log);
        ngx_http_llm_series_account(s, ctx, missing);
    }

    if (ctx->nattempts > 1) {
        lmcf->sh->failovers++;
    }

    lmcf->sh->usage_missing += missing;

    if (prov && prov->shm && ctx->served) {
        node = prov->shm;

        ngx_http_llm_hist_add(node->latency, ms);
        node->latency_sum += ms;
        node->latency_count++;

        if (ctx->usage.ttft_set) {
            ngx_http_llm_hist_add(node->ttft, ctx->usage.ttft);
            node->ttft_sum += ctx->usage.ttft;
            node->ttft_count++;
        }
    }

    if (ctx->budget.nreservations || ctx->budget.fleet) {
        /* ctx->budget.fleet: a reservation on Redis that got no reply, maybe */
        ngx_http_llm_budget_settle_locked(r, ctx, lmcf);
    }

    ngx_shmtx_unlock(&lmcf->shpool->mutex);
}


/* requests that ended without a last buffer: client gone, errors */

ngx_int_t
ngx_http_llm_log_handler(ngx_http_request_t *r)
{
    ngx_http_llm_ctx_t  *ctx;

    if (r != r->main) {
        return NGX_OK;
    }

    ctx = ngx_http_llm_get_ctx(r);

    if (ctx && !ctx->finalized && ctx->body_ready) {
        ngx_http_llm_finalize(r, ctx);
    }

    return NGX_OK;
}
