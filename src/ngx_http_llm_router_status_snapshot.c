
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * llm_status: the snapshot of the zone that all formats write, copied
 * into the request's pool under the zone's mutex: the providers of the
 * configuration, the series sorted by type and label, with their labels
 * split into valid UTF-8 fields, the totals, the traffic (requests
 * summed over the status) and the budgets' current windows.
 */


#include "ngx_http_llm_router_status.h"


static ngx_int_t ngx_http_llm_status_copy_locked(ngx_http_request_t *r,
    ngx_http_llm_main_conf_t *lmcf, ngx_http_llm_status_t *st);
static void ngx_http_llm_status_fleet_locked(ngx_http_llm_shctx_t *sh,
    ngx_http_llm_status_t *st);
static void ngx_http_llm_status_hist_copy(ngx_http_llm_status_hist_t *h,
    int64_t *buckets, int64_t sum);
static int ngx_libc_cdecl ngx_http_llm_status_cmp(const void *one,
    const void *two);
static ngx_int_t ngx_http_llm_status_fields(ngx_pool_t *pool,
    ngx_http_llm_status_series_t *s, ngx_uint_t n);
static ngx_int_t ngx_http_llm_status_utf8(ngx_pool_t *pool, u_char *p,
    size_t len, ngx_str_t *out);
static ngx_int_t ngx_http_llm_status_traffic(ngx_http_request_t *r,
    ngx_http_llm_status_t *st);
static void ngx_http_llm_status_budgets(ngx_http_llm_status_t *st);


static ngx_str_t  ngx_http_llm_circuit_names[] = {
    ngx_string("closed"),
    ngx_string("open"),
    ngx_string("half_open")
};


/* the snapshot: providers, series and the zone's totals */

ngx_int_t
ngx_http_llm_status_collect(ngx_http_request_t *r, ngx_http_llm_status_t *st)
{
    ngx_int_t                      rc;
    ngx_uint_t                     i, j, t, n;
    ngx_http_llm_status_series_t  *s;
    ngx_http_llm_main_conf_t      *lmcf;

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_llm_router_module);

    st->now = ngx_time();
    st->now_msec = ngx_current_msec;

    if (lmcf->sh == NULL) {
        return NGX_OK;
    }

    st->zone = 1;
    st->zone_name = lmcf->shm_zone->shm.name;
    st->zone_size = lmcf->shm_zone->shm.size;

    if (lmcf->providers.nelts) {
        st->providers = ngx_pcalloc(r->pool, lmcf->providers.nelts
                                    * sizeof(ngx_http_llm_status_provider_t));
        if (st->providers == NULL) {
            return NGX_ERROR;
        }
    }

    ngx_shmtx_lock(&lmcf->shpool->mutex);

    rc = ngx_http_llm_status_copy_locked(r, lmcf, st);

    ngx_shmtx_unlock(&lmcf->shpool->mutex);

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_llm_status_health(r, st) != NGX_OK) {
        return NGX_ERROR;
    }

    /* provider names: null-terminated copies */

    for (i = 0; i < st->nproviders; i++) {
        if (ngx_http_llm_status_utf8(r->pool, st->providers[i].name.data,
                                     st->providers[i].name.len,
                                     &st->providers[i].name)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (st->nseries > 1) {
        ngx_qsort(st->series, st->nseries,
                  sizeof(ngx_http_llm_status_series_t),
                  ngx_http_llm_status_cmp);
    }

    /* the series of one type are now together */

    for (t = 0; t < 4; t++) {
        st->first[t] = st->nseries;
        st->last[t] = st->nseries;
    }

    for (i = 0; i < st->nseries; i++) {
        s = &st->series[i];

        if (s->type == 0 || s->type > NGX_HTTP_LLM_SERIES_BUDGET) {
            continue;
        }

        n = ngx_http_llm_series_types[s->type].nfields;

        if (st->first[s->type] == st->nseries) {
            st->first[s->type] = i;
        }

        st->last[s->type] = i + 1;

        if (ngx_http_llm_status_fields(r->pool, s, n) != NGX_OK) {
            return NGX_ERROR;
        }

        if (s->type != NGX_HTTP_LLM_SERIES_REQUESTS) {
            continue;
        }

        for (j = 0; j < NGX_HTTP_LLM_SERIES_NVALUES; j++) {
            st->total[j] += s->v[j];
        }

        if (s->f[3].len == 3 && s->f[3].data[0] >= '4') {
            s->errors = s->v[NGX_HTTP_LLM_V_REQUESTS];
            st->errors += s->errors;
        }
    }

    ngx_http_llm_status_budgets(st);

    return ngx_http_llm_status_traffic(r, st);
}


/* the fleet's totals as last read from Redis; this node's all it counted */

static void
ngx_http_llm_status_fleet_locked(ngx_http_llm_shctx_t *sh,
    ngx_http_llm_status_t *st)
{
    ngx_uint_t                    i;
    ngx_http_llm_fleet_counts_t  *fc;
    ngx_http_llm_status_fleet_t  *f;

    fc = &sh->fleet;
    f = st->fleet;

    ngx_str_set(&f[0].scope, "fleet");
    ngx_memcpy(f[0].v, fc->total, sizeof(f[0].v));
    f[0].nodes = fc->nodes ? fc->nodes : 1;
    f[0].synced = fc->synced ? fc->synced : NGX_HTTP_LLM_STATUS_UNSET;

    ngx_str_set(&f[1].scope, "node");

    for (i = 0; i < NGX_HTTP_LLM_SERIES_NVALUES; i++) {
        f[1].v[i] = fc->node[i] + fc->pending[i];
    }

    f[1].nodes = 1;
    f[1].synced = NGX_HTTP_LLM_STATUS_UNSET;

    st->nfleet = 2;
}


static ngx_int_t
ngx_http_llm_status_copy_locked(ngx_http_request_t *r,
    ngx_http_llm_main_conf_t *lmcf, ngx_http_llm_status_t *st)
{
    u_char                          *p;
    size_t                           size;
    ngx_uint_t                       i, n;
    ngx_queue_t                     *q;
    ngx_http_llm_shctx_t            *sh;
    ngx_http_llm_series_t           *s;
    ngx_http_llm_provider_t         *prov;
    ngx_http_llm_status_series_t    *ss;
    ngx_http_llm_status_provider_t  *sp;
    ngx_http_llm_shm_provider_t     *node;

    sh = lmcf->sh;

    st->zone_free = lmcf->shpool->pfree * ngx_pagesize;
    st->zone_series = sh->nseries;
    st->evicted = sh->evicted;
    st->failovers = sh->failovers;
    st->budget_rejections = sh->budget_rejections;
    st->usage_missing = sh->usage_missing;  /* survives evictions */
    st->started = sh->started;

    if (lmcf->redis) {
        ngx_http_llm_status_fleet_locked(sh, st);
    }

    /* the providers of this configuration, in its order */

    prov = lmcf->providers.elts;

    for (i = 0; i < lmcf->providers.nelts; i++) {
        node = prov[i].shm;
        sp = &st->providers[st->nproviders++];

        sp->name = prov[i].name;
        sp->max_fails = prov[i].max_fails;
        sp->state = NGX_HTTP_LLM_CIRCUIT_CLOSED;

        if (node != NULL) {
            sp->fails = node->fails;
            sp->attempts = node->attempts;
            sp->failures = node->failures;
            sp->opened = node->circuit_opened;

            if (prov[i].max_fails == 0 || node->open_until == 0) {
                sp->state = NGX_HTTP_LLM_CIRCUIT_CLOSED;

            } else if ((ngx_msec_int_t) (st->now_msec - node->open_until)
                       < 0)
            {
                sp->state = NGX_HTTP_LLM_CIRCUIT_OPEN;
                sp->retry_in = node->open_until - st->now_msec;

            } else {
                /* a trial request is allowed, or in flight */
                sp->state = NGX_HTTP_LLM_CIRCUIT_HALF_OPEN;
            }

            ngx_http_llm_status_hist_copy(&sp->latency, node->latency,
                                          node->latency_sum);
            ngx_http_llm_status_hist_copy(&sp->ttft, node->ttft,
                                          node->ttft_sum);
        }

        sp->state_name = ngx_http_llm_circuit_names[sp->state];
        sp->up = (sp->state != NGX_HTTP_LLM_CIRCUIT_OPEN);
    }

    /* series: count them and their labels, then copy at once */

    n = 0;
    size = 0;

    for (q = ngx_queue_head(&sh->lru);
         q != ngx_queue_sentinel(&sh->lru);
         q = ngx_queue_next(q))
    {
        s = ngx_queue_data(q, ngx_http_llm_series_t, queue);
        n++;
        size += s->len;
    }

    if (n == 0) {
        return NGX_OK;
    }

    st->series = ngx_pcalloc(r->pool,
                             n * sizeof(ngx_http_llm_status_series_t));
    p = ngx_pnalloc(r->pool, size + 1);

    if (st->series == NULL || p == NULL) {
        return NGX_ERROR;
    }

    for (q = ngx_queue_head(&sh->lru);
         q != ngx_queue_sentinel(&sh->lru);
         q = ngx_queue_next(q))
    {
        s = ngx_queue_data(q, ngx_http_llm_series_t, queue);
        ss = &st->series[st->nseries++];

        ss->type = s->type;
        ss->window = s->window;
        ngx_memcpy(ss->v, s->v, sizeof(s->v));

        ss->label = p;
        ss->len = s->len;
        p = ngx_cpymem(p, s->label, s->len);
    }

    return NGX_OK;
}


static void
ngx_http_llm_status_hist_copy(ngx_http_llm_status_hist_t *h, int64_t *buckets,
    int64_t sum)
{
    ngx_uint_t  i;

    h->count = 0;

    for (i = 0; i < NGX_HTTP_LLM_HIST_BUCKETS; i++) {
        h->b[i] = buckets[i];
        h->count += buckets[i];
    }

    h->sum = sum;
}


static int ngx_libc_cdecl
ngx_http_llm_status_cmp(const void *one, const void *two)
{
    const ngx_http_llm_status_series_t  *a = one;
    const ngx_http_llm_status_series_t  *b = two;

    if (a->type != b->type) {
        return a->type < b->type ? -1 : 1;
    }

    return (int) ngx_memn2cmp(a->label, b->label, a->len, b->len);
}


/* splits a label at its first n - 1 '\0' into valid UTF-8 strings */

static ngx_int_t
ngx_http_llm_status_fields(ngx_pool_t *pool, ngx_http_llm_status_series_t *s,
    ngx_uint_t n)
{
    u_char      *p, *end, *z;
    ngx_uint_t   i;

    p = s->label;
    end = s->label + s->len;

    for (i = 0; i < n; i++) {
        z = (i == n - 1) ? end : ngx_strlchr(p, end, '\0');

        if (z == NULL) {
            z = end;
        }

        if (ngx_http_llm_status_utf8(pool, p, z - p, &s->f[i]) != NGX_OK) {
            return NGX_ERROR;
        }

        p = (z < end) ? z + 1 : end;
    }

    return NGX_OK;
}


/*
 * A null-terminated copy in which bytes that are not UTF-8 (and '\0')
 * are replaced with U+FFFD: Prometheus, JSON and HTML want UTF-8.
 */

static ngx_int_t
ngx_http_llm_status_utf8(ngx_pool_t *pool, u_char *p, size_t len,
    ngx_str_t *out)
{
    u_char    *d, *end, *c;
    uint32_t   u;

    out->data = ngx_pnalloc(pool, len * 3 + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    d = out->data;
    end = p + len;

    while (p < end) {

        if (*p >= 0x20 && *p < 0x80) {
            *d++ = *p++;
            continue;
        }

        c = p;
        u = ngx_utf8_decode(&p, end - p);

        if (u > 0x10ffff || u == 0) {
            /* not UTF-8, or '\0': one byte replaced */
            p = c + 1;
            d = ngx_cpymem(d, "\xef\xbf\xbd", 3);
            continue;
        }

        d = ngx_cpymem(d, c, p - c);
    }

    *d = '\0';
    out->len = d - out->data;

    return NGX_OK;
}


/*
 * Traffic: the REQUESTS series (sorted) summed over the status, by route,
 * provider and model.
 */

static ngx_int_t
ngx_http_llm_status_traffic(ngx_http_request_t *r, ngx_http_llm_status_t *st)
{
    ngx_uint_t                     i, j, k, first, last;
    ngx_http_llm_status_series_t  *s, *g;

    first = st->first[NGX_HTTP_LLM_SERIES_REQUESTS];
    last = st->last[NGX_HTTP_LLM_SERIES_REQUESTS];

    if (first == last) {
        return NGX_OK;
    }

    st->traffic = ngx_pcalloc(r->pool, (last - first)
                                       * sizeof(ngx_http_llm_status_series_t));
    if (st->traffic == NULL) {
        return NGX_ERROR;
    }

    g = NULL;

    for (i = first; i < last; i++) {
        s = &st->series[i];

        if (g == NULL
            || ngx_strcmp(s->f[0].data, g->f[0].data) != 0
            || ngx_strcmp(s->f[1].data, g->f[1].data) != 0
            || ngx_strcmp(s->f[2].data, g->f[2].data) != 0)
        {
            g = &st->traffic[st->ntraffic++];
            g->type = s->type;

            for (k = 0; k < 3; k++) {
                g->f[k] = s->f[k];
            }
        }

        for (j = 0; j < NGX_HTTP_LLM_SERIES_NVALUES; j++) {
            g->v[j] += s->v[j];
        }

        g->errors += s->errors;
    }

    return NGX_OK;
}


/*
 * A budget series keeps its window's start and end; when the window has
 * ended and nothing was counted since, the next window shows empty.
 */

static void
ngx_http_llm_status_budgets(ngx_http_llm_status_t *st)
{
    int64_t                        len;
    ngx_uint_t                     i, j;
    ngx_http_llm_status_series_t  *s;

    for (i = st->first[NGX_HTTP_LLM_SERIES_BUDGET];
         i < st->last[NGX_HTTP_LLM_SERIES_BUDGET];
         i++)
    {
        s = &st->series[i];

        s->metric = -1;

        for (j = 0; j < NGX_HTTP_LLM_NMETRICS; j++) {
            if (s->f[2].len == ngx_http_llm_budget_metric_names[j].len
                && ngx_strcmp(s->f[2].data,
                              ngx_http_llm_budget_metric_names[j].data)
                   == 0)
            {
                s->metric = j;
            }
        }

        s->limit = s->v[NGX_HTTP_LLM_V_LIMIT];
        s->used = s->v[NGX_HTTP_LLM_V_USED];
        s->reserved = s->v[NGX_HTTP_LLM_V_RESERVED];
        s->start = s->window;
        s->end = (time_t) s->v[NGX_HTTP_LLM_V_WINDOW_END];

        len = s->end - s->start;

        if (len > 0 && st->now >= s->end) {
            /* nothing counted in the current window yet */
            s->used = 0;
            s->start = s->end + (st->now - s->end) / len * len;
            s->end = s->start + len;
        }

        s->remaining = s->limit - s->used - s->reserved;

        if (s->remaining < 0) {
            s->remaining = 0;
        }

        if (s->end == 0) {
            /* unknown (not configured) */
            s->end = NGX_HTTP_LLM_STATUS_UNSET;
            s->reset_in = NGX_HTTP_LLM_STATUS_UNSET;

        } else {
            s->reset_in = s->end - st->now;
        }
    }
}
