
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * llm_route_weighted select=latency|cost|hash: the order in which the
 * primary targets of a route are tried for one request.  Skipping open or
 * down providers stays with ngx_http_llm_next_target(); backups always
 * come last, in their order.
 */


#include "ngx_http_llm_router.h"


/* a sample weighs 3/10 of the average */
#define NGX_HTTP_LLM_EWMA_NEW        3
#define NGX_HTTP_LLM_EWMA_DIV        10

/* data older than this is stale: the target is measured again */
#define NGX_HTTP_LLM_LATENCY_STALE   30000

/* at most one probe of a target without fresh data per interval */
#define NGX_HTTP_LLM_EXPLORE_EVERY   1000

/* points per weight unit on the select=hash ring, as nginx's hash */
#define NGX_HTTP_LLM_HASH_POINTS     160

/* output tokens assumed by select=cost when the client sets no limit */
#define NGX_HTTP_LLM_COST_OUTPUT     1000


static ngx_int_t ngx_http_llm_select_ring(ngx_conf_t *cf,
    ngx_http_llm_route_t *route);
static int ngx_libc_cdecl ngx_http_llm_point_cmp(const void *one,
    const void *two);
static void ngx_http_llm_select_hash(ngx_http_llm_route_t *route,
    ngx_http_llm_ctx_t *ctx);
static void ngx_http_llm_select_score(ngx_http_llm_route_t *route,
    ngx_http_llm_ctx_t *ctx);
static uint64_t ngx_http_llm_latency_score(ngx_http_llm_latency_t *lat,
    ngx_uint_t *explored);
static uint64_t ngx_http_llm_cost_score(ngx_http_llm_ctx_t *ctx,
    ngx_http_llm_main_conf_t *lmcf, ngx_http_llm_target_t *t);


static ngx_str_t  ngx_http_llm_select_names[] = {
    ngx_string("weighted"),
    ngx_string("latency"),
    ngx_string("cost"),
    ngx_string("hash"),
    ngx_null_string
};


/* one parameter of llm_route_weighted after the model */

ngx_int_t
ngx_http_llm_select_param(ngx_conf_t *cf, ngx_http_llm_route_t *route,
    ngx_str_t *value)
{
    ngx_str_t                          s;
    ngx_uint_t                         i;
    ngx_http_compile_complex_value_t   ccv;

    if (ngx_strncmp(value->data, "select=", 7) == 0) {
        s.data = value->data + 7;
        s.len = value->len - 7;

        if (route->select_set) {
            goto duplicate;
        }

        for (i = 0; ngx_http_llm_select_names[i].len; i++) {
            if (ngx_http_llm_select_names[i].len == s.len
                && ngx_strncmp(ngx_http_llm_select_names[i].data, s.data,
                               s.len) == 0)
            {
                route->select = i;
                route->select_set = 1;
                return NGX_OK;
            }
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid \"%V\" in route \"%V\", expected "
                           "weighted, latency, cost or hash",
                           value, &route->name);
        return NGX_ERROR;
    }

    if (ngx_strncmp(value->data, "hash=", 5) == 0) {
        s.data = value->data + 5;
        s.len = value->len - 5;

        if (route->hash) {
            goto duplicate;
        }

        if (s.len == 0 || ngx_http_script_variables_count(&s) == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\" in route \"%V\" needs a variable, "
                               "e.g. \"hash=$http_x_user\"",
                               value, &route->name);
            return NGX_ERROR;
        }

        route->hash = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
        if (route->hash == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

        ccv.cf = cf;
        ccv.value = &s;
        ccv.complex_value = route->hash;

        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    if (ngx_strncmp(value->data, "hedge=", 6) == 0) {
        s.data = value->data + 6;
        s.len = value->len - 6;

        if (route->hedge) {
            goto duplicate;
        }

        route->hedge = ngx_parse_time(&s, 0);

        if (route->hedge == (ngx_msec_t) NGX_ERROR || route->hedge == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid \"%V\" in route \"%V\", a time "
                               "above zero expected", value, &route->name);
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in route \"%V\"",
                       value, &route->name);
    return NGX_ERROR;

duplicate:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "duplicate \"%V\" in route \"%V\"", value,
                       &route->name);
    return NGX_ERROR;
}


/* once the providers are known: the hash ring, the latency slots */

ngx_int_t
ngx_http_llm_select_resolve(ngx_conf_t *cf, ngx_http_llm_main_conf_t *lmcf,
    ngx_http_llm_route_t *route)
{
    ngx_uint_t               i;
    ngx_http_llm_target_t   *t, **tp;

    if (route->hedge && route->targets.nelts < 2) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"hedge=\" needs a second target to race with in "
                      "route \"%V\" in %s:%ui", &route->name,
                      route->file_name, route->line);
        return NGX_ERROR;
    }

    if (route->select == NGX_HTTP_LLM_SELECT_HASH) {
        return ngx_http_llm_select_ring(cf, route);
    }

    if (route->select != NGX_HTTP_LLM_SELECT_LATENCY) {
        return NGX_OK;
    }

    if (lmcf->latency.elts == NULL
        && ngx_array_init(&lmcf->latency, cf->pool, 8,
                          sizeof(ngx_http_llm_target_t *))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    t = route->targets.elts;

    for (i = 0; i < route->nprimary; i++) {
        tp = ngx_array_push(&lmcf->latency);
        if (tp == NULL) {
            return NGX_ERROR;
        }

        *tp = &t[i];
    }

    return NGX_OK;
}


/*
 * Points on a ring of 2^32, NGX_HTTP_LLM_HASH_POINTS per weight unit,
 * each the MurmurHash2 of the target as written and the point's number
 * (CRC32, nginx's choice, spreads similar keys such as "user-1",
 * "user-2" poorly): a target's points depend on nothing else, so adding
 * or removing a target moves only the keys on its own arcs.
 */

static ngx_int_t
ngx_http_llm_select_ring(ngx_conf_t *cf, ngx_http_llm_route_t *route)
{
    u_char                 *p, buf[NGX_HTTP_LLM_MODEL_MAX + 128];
    ngx_uint_t              i, j, n;
    ngx_http_llm_point_t   *pt;
    ngx_http_llm_target_t  *t;

    t = route->targets.elts;
    n = 0;

    for (i = 0; i < route->nprimary; i++) {
        n += NGX_HTTP_LLM_HASH_POINTS * t[i].weight;
    }

    route->points = ngx_palloc(cf->pool, n * sizeof(ngx_http_llm_point_t));
    if (route->points == NULL) {
        return NGX_ERROR;
    }

    pt = route->points;

    for (i = 0; i < route->nprimary; i++) {
        for (j = 0; j < NGX_HTTP_LLM_HASH_POINTS * (ngx_uint_t) t[i].weight;
             j++)
        {
            p = ngx_snprintf(buf, sizeof(buf), "%V%s%V#%ui",
                             &t[i].provider_name, t[i].model.len ? ":" : "",
                             &t[i].model, j);

            pt->hash = ngx_murmur_hash2(buf, p - buf);
            pt->target = &t[i];
            pt++;
        }
    }

    route->npoints = n;

    ngx_qsort(route->points, n, sizeof(ngx_http_llm_point_t),
              ngx_http_llm_point_cmp);

    return NGX_OK;
}


static int ngx_libc_cdecl
ngx_http_llm_point_cmp(const void *one, const void *two)
{
    const ngx_http_llm_point_t  *a = one, *b = two;

    if (a->hash != b->hash) {
        return a->hash < b->hash ? -1 : 1;
    }

    /* equal hashes: order by target, so that every worker agrees */

    if (a->target != b->target) {
        return a->target < b->target ? -1 : 1;
    }

    return 0;
}


/*
 * Finds or makes each select=latency target's slot in the zone, by
 * provider and model, so that a reload keeps what was measured.  Called
 * with the zone locked.
 */

ngx_int_t
ngx_http_llm_select_init_zone(ngx_http_llm_main_conf_t *lmcf)
{
    size_t                   len;
    u_char                  *p;
    ngx_uint_t               i;
    ngx_queue_t             *q;
    ngx_http_llm_target_t  **tp, *t;
    ngx_http_llm_latency_t  *lat;

    tp = lmcf->latency.elts;

    for (i = 0; i < lmcf->latency.nelts; i++) {
        t = tp[i];
        len = t->provider_name.len + 1 + t->model.len;
        lat = NULL;

        for (q = ngx_queue_head(&lmcf->sh->latency);
             q != ngx_queue_sentinel(&lmcf->sh->latency);
             q = ngx_queue_next(q))
        {
            lat = ngx_queue_data(q, ngx_http_llm_latency_t, queue);

            if (lat->len == len
                && ngx_memcmp(lat->name, t->provider_name.data,
                              t->provider_name.len) == 0
                && (t->model.len == 0
                    || ngx_memcmp(lat->name + t->provider_name.len + 1,
                                  t->model.data, t->model.len) == 0))
            {
                break;
            }

            lat = NULL;
        }

        if (lat == NULL) {
            lat = ngx_slab_calloc_locked(lmcf->shpool,
                                  offsetof(ngx_http_llm_latency_t, name) + len);
            if (lat == NULL) {
                return NGX_ERROR;
            }

            lat->len = len;
            p = ngx_cpymem(lat->name, t->provider_name.data,
                           t->provider_name.len);
            *p++ = '\0';
            (void) ngx_http_llm_cpystr(p, &t->model);

            ngx_queue_insert_tail(&lmcf->sh->latency, &lat->queue);
        }

        t->latency = lat;
    }

    return NGX_OK;
}


/* reorders ctx->plan[0 .. nprimary - 1], planned in weighted order */

void
ngx_http_llm_select_order(ngx_http_llm_route_t *route,
    ngx_http_llm_ctx_t *ctx)
{
    if (route->select == NGX_HTTP_LLM_SELECT_HASH) {
        ngx_http_llm_select_hash(route, ctx);
        return;
    }

    ngx_http_llm_select_score(route, ctx);
}


/*
 * The target of the first point at or after the key's hash, then the
 * next distinct targets along the ring: should the first be skipped, its
 * keys spread over the others as they would if it were removed.  An empty
 * key keeps the weighted order.
 */

static void
ngx_http_llm_select_hash(ngx_http_llm_route_t *route, ngx_http_llm_ctx_t *ctx)
{
    uint32_t                hash;
    ngx_str_t               key;
    ngx_uint_t              i, j, n, lo, hi, mid;
    ngx_http_llm_target_t  *t;

    if (ngx_http_complex_value(ctx->request, route->hash, &key) != NGX_OK
        || key.len == 0)
    {
        return;
    }

    hash = ngx_murmur_hash2(key.data, key.len);

    /* the first point whose hash is not below the key's */

    lo = 0;
    hi = route->npoints;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        if (route->points[mid].hash < hash) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    n = 0;

    for (i = 0; i < route->npoints && n < route->nprimary; i++) {
        t = route->points[(lo + i) % route->npoints].target;

        for (j = 0; j < n; j++) {
            if (ctx->plan[j] == t) {
                break;
            }
        }

        if (j == n) {
            ctx->plan[n++] = t;
        }
    }
}


/*
 * select=latency and select=cost: a stable sort of the primaries by
 * their score, so that equal scores keep the weighted order and share
 * the traffic by weight.
 */

static void
ngx_http_llm_select_score(ngx_http_llm_route_t *route, ngx_http_llm_ctx_t *ctx)
{
    uint64_t                   score[NGX_HTTP_LLM_MAX_ATTEMPTS], s;
    ngx_uint_t                 i, j, n, explored;
    ngx_http_llm_target_t     *t;
    ngx_http_llm_main_conf_t  *lmcf;

    lmcf = ngx_http_get_module_main_conf(ctx->request,
                                         ngx_http_llm_router_module);
    n = route->nprimary;
    explored = 0;

    for (i = 0; i < n; i++) {
        t = ctx->plan[i];

        if (route->select == NGX_HTTP_LLM_SELECT_LATENCY) {
            score[i] = ngx_http_llm_latency_score(t->latency, &explored);

        } else {
            score[i] = ngx_http_llm_cost_score(ctx, lmcf, t);
        }
    }

    for (i = 1; i < n; i++) {
        t = ctx->plan[i];
        s = score[i];

        for (j = i; j > 0 && score[j - 1] > s; j--) {
            score[j] = score[j - 1];
            ctx->plan[j] = ctx->plan[j - 1];
        }

        score[j] = s;
        ctx->plan[j] = t;
    }
}


/*
 * The average time to the first byte, in microseconds.  A target without
 * fresh data is measured again: the first request that claims it (one
 * per NGX_HTTP_LLM_EXPLORE_EVERY, all workers together) tries it first;
 * the others rank it by what was last measured, or last of all.
 */

static uint64_t
ngx_http_llm_latency_score(ngx_http_llm_latency_t *lat, ngx_uint_t *explored)
{
    ngx_msec_t         now;
    ngx_atomic_uint_t  last;

    if (lat == NULL) {
        return (uint64_t) -2;
    }

    now = ngx_current_msec;

    if (lat->samples
        && (ngx_msec_int_t) (now - lat->updated) < NGX_HTTP_LLM_LATENCY_STALE)
    {
        return lat->ewma;
    }

    last = lat->explore;

    if (!*explored
        && (ngx_msec_int_t) (now - last) >= NGX_HTTP_LLM_EXPLORE_EVERY
        && ngx_atomic_cmp_set(&lat->explore, last, now))
    {
        *explored = 1;
        return 0;
    }

    return lat->samples ? lat->ewma : (uint64_t) -2;
}


/*
 * What the request would cost at this target, in micro-USD per 1M
 * tokens times tokens: body bytes / 4 input tokens and the client's
 * completion limit (else NGX_HTTP_LLM_COST_OUTPUT).  Unpriced: last.
 */

static uint64_t
ngx_http_llm_cost_score(ngx_http_llm_ctx_t *ctx,
    ngx_http_llm_main_conf_t *lmcf, ngx_http_llm_target_t *t)
{
    int64_t                input, output;
    ngx_http_llm_price_t  *price;

    price = t->price;

    if (price == NULL) {
        price = ngx_http_llm_price_find(lmcf, t->provider, &ctx->model);

        if (price == NULL) {
            return (uint64_t) -1;
        }
    }

    input = (int64_t) ctx->body_len / 4 + 1;

    output = ngx_max(ctx->doc.max_tokens_value,
                     ctx->doc.max_completion_tokens_value);
    output = ngx_max(output, ctx->doc.max_output_tokens_value);

    if (output < 0) {
        output = (ctx->endpoint == NGX_HTTP_LLM_EP_EMBEDDINGS)
                 ? 0 : NGX_HTTP_LLM_COST_OUTPUT;
    }

    /* prices below 2^40 micro-USD and sizes below 2^22: no overflow */

    input = ngx_min(input, (int64_t) 1 << 22);
    output = ngx_min(output, (int64_t) 1 << 22);

    return (uint64_t) (ngx_min(price->input, (int64_t) 1 << 40) * input
                       + ngx_min(price->output, (int64_t) 1 << 40) * output);
}


/*
 * Feeds the time to the first response header of an attempt (or the
 * time it took to time out) into the target's average.  Connect errors
 * and failed statuses come back fast and say nothing about speed: the
 * circuit breaker deals with them.  Racing workers may lose an update,
 * which an average can afford.
 */

void
ngx_http_llm_select_sample(ngx_http_request_t *r, ngx_http_llm_target_t *t,
    ngx_uint_t outcome)
{
    uint64_t                 sample, old;
    ngx_msec_t               now;
    ngx_http_upstream_t     *u;
    ngx_http_llm_latency_t  *lat;

    lat = t->latency;
    u = r->upstream;

    if (lat == NULL || u == NULL) {
        return;
    }

    if (outcome != NGX_HTTP_LLM_OUT_TIMEOUT
        && (outcome < 100 || outcome >= 500 || outcome == 429))
    {
        return;
    }

    now = ngx_current_msec;
    sample = (uint64_t) (now - u->start_time) * 1000;

    old = lat->ewma;

    if (lat->samples == 0
        || (ngx_msec_int_t) (now - lat->updated) >= NGX_HTTP_LLM_LATENCY_STALE)
    {
        /* stale data is no guide: start again from this sample */
        lat->ewma = sample;

    } else {
        lat->ewma = (old * (NGX_HTTP_LLM_EWMA_DIV - NGX_HTTP_LLM_EWMA_NEW)
                     + sample * NGX_HTTP_LLM_EWMA_NEW)
                    / NGX_HTTP_LLM_EWMA_DIV;
    }

    lat->updated = now;
    (void) ngx_atomic_fetch_add(&lat->samples, 1);
}
