
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * Accounting: the end of every request in a router location, where the
 * usage, the cost, the series and the budgets are settled.  It sits
 * between the request path (the filters and the log phase call it) and
 * the layers below: the budgets and the series store (stats.c).
 */


#include "ngx_http_llm_router.h"


static u_char *ngx_http_llm_label_add(u_char *p, u_char *end, ngx_str_t *s,
    ngx_str_t *label);
static ngx_str_t *ngx_http_llm_model_label(ngx_http_llm_ctx_t *ctx,
    ngx_str_t **label);
static ngx_http_llm_route_t *ngx_http_llm_model_listed(
    ngx_http_llm_routes_t *routes, ngx_str_t *model);
static void ngx_http_llm_series_account(int64_t *v, ngx_http_llm_ctx_t *ctx,
    ngx_uint_t missing);
static void ngx_http_llm_hist_add(int64_t *buckets, ngx_msec_t ms);
static ngx_uint_t ngx_http_llm_account_usage(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, ngx_http_llm_main_conf_t *lmcf,
    ngx_http_llm_provider_t *prov, ngx_uint_t code);


/*
 * A field: a configured name's label, made once, is copied if it fits
 * whole (label_utf8() would write the same); the rest is made here.
 */

static u_char *
ngx_http_llm_label_add(u_char *p, u_char *end, ngx_str_t *s,
    ngx_str_t *label)
{
    /* a full label keeps its length: later fields are cut to nothing */

    if (p >= end) {
        return end;
    }

    if (label && label->data && label->len < (size_t) (end - p)) {
        p = ngx_cpymem(p, label->data, label->len);

    } else {
        p = ngx_http_llm_label_utf8(p, end - 1, s->data, s->len);
    }

    *p++ = '\0';

    return p;
}


/*
 * The model of a series: a name the configuration lists (a target's model,
 * an exact route's name); any other name a client sent is labelled by the
 * route that took it, so that made-up names cannot fill the zone.
 */

static ngx_str_t *
ngx_http_llm_model_label(ngx_http_llm_ctx_t *ctx, ngx_str_t **label)
{
    ngx_http_llm_route_t  *route, *listed;

    static ngx_str_t       none = ngx_null_string;

    route = ctx->route;

    if (route == NULL) {
        *label = &none;
        return &none;
    }

    if (ctx->target && ctx->target->model.len) {
        *label = &ctx->target->model_label;
        return &ctx->target->model;
    }

    /* the client's name is a listed one: that name's label */

    if (route->name.len == ctx->model.len
        && ngx_strncmp(route->name.data, ctx->model.data, ctx->model.len)
           == 0)
    {
        *label = &route->label;
        return &ctx->model;
    }

    listed = ngx_http_llm_model_listed(ctx->lcf->routes, &ctx->model);

    if (listed) {
        *label = &listed->label;
        return &ctx->model;
    }

    *label = &route->label;

    return &route->name;
}


static ngx_http_llm_route_t *
ngx_http_llm_model_listed(ngx_http_llm_routes_t *routes, ngx_str_t *model)
{
    ngx_uint_t             i;
    ngx_http_llm_route_t  *route;

    if (routes == NULL) {
        return NULL;
    }

    route = routes->exact.elts;

    for (i = 0; i < routes->exact.nelts; i++) {
        if (route[i].name.len == model->len
            && ngx_strncmp(route[i].name.data, model->data, model->len) == 0)
        {
            return &route[i];
        }
    }

    return NULL;
}


/* a request's counts added to a series' values (or the fleet's batch) */

static void
ngx_http_llm_series_account(int64_t *v, ngx_http_llm_ctx_t *ctx,
    ngx_uint_t missing)
{
    v[NGX_HTTP_LLM_V_REQUESTS]++;

    if (ctx->usage.seen) {
        v[NGX_HTTP_LLM_V_PROMPT] += ctx->usage.prompt_tokens;
        v[NGX_HTTP_LLM_V_COMPLETION] += ctx->usage.completion_tokens;
        v[NGX_HTTP_LLM_V_CACHED] += ctx->usage.cached_tokens;
        v[NGX_HTTP_LLM_V_COST] += ctx->usage.cost;
    }

    v[NGX_HTTP_LLM_V_USAGE_MISSING] += missing;
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
 * Whether a provider's 2xx answer reached the client (ctx->served), and
 * its cost; returns 1 if such an answer said nothing of its usage.
 */

static ngx_uint_t
ngx_http_llm_account_usage(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    ngx_http_llm_main_conf_t *lmcf, ngx_http_llm_provider_t *prov,
    ngx_uint_t code)
{
    ngx_uint_t  missing;

    ctx->served = (ctx->proxied && !r->err_status && code >= 200
                   && code < 300 && ctx->nattempts
                   && ctx->attempts[ctx->nattempts - 1].status < 300);

    missing = 0;

    if (ctx->served && !ctx->usage.seen) {
        missing = 1;

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "llm router: no usage in the answer of provider "
                      "\"%V\"%s", &prov->name,
                      ctx->budget.nreservations
                      ? ", the reservation is charged" : "");
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

    return missing;
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
    ngx_str_t                     st, none, *name, *model, *model_label;
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

    missing = ngx_http_llm_account_usage(r, ctx, lmcf, prov, code);

    tp = ngx_timeofday();
    ms = (ngx_msec_t) ((tp->sec - r->start_sec) * 1000
                       + (tp->msec - r->start_msec));

    ngx_str_null(&none);

    /*
     * a client's name is no label: any client could otherwise fill the
     * zone with series of made-up names and push budgets out
     */

    model = ngx_http_llm_model_label(ctx, &model_label);

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
    name = prov ? &prov->name : ctx->cache_hit ? &cache : &none;

    /* "(cache)" and the status' digits are their own labels */

    p = ngx_http_llm_label_add(p, end, ctx->route ? &ctx->route->name : &none,
                               ctx->route ? &ctx->route->label : NULL);
    p = ngx_http_llm_label_add(p, end, name, prov ? &prov->label : name);
    p = ngx_http_llm_label_add(p, end, model, model_label);
    p = ngx_http_llm_label_add(p, end, &st, &st);

    s = ngx_http_llm_series_get_locked(lmcf, NGX_HTTP_LLM_SERIES_REQUESTS,
                                       label, p - label - 1,
                                       r->connection->log);
    if (s) {
        ngx_http_llm_series_account(s->v, ctx, missing);
    }

    if (lmcf->redis) {
        /* for the fleet's totals: added to Redis by the next sync */
        ngx_http_llm_series_account(lmcf->sh->fleet.pending, ctx, missing);
        lmcf->sh->fleet.pending[NGX_HTTP_LLM_V_ERRORS] += (code >= 400);
    }

    /* spend by tenant and model */

    if (ctx->tenant.len) {
        p = label;
        p = ngx_http_llm_label_add(p, end, &ctx->tenant, NULL);
        p = ngx_http_llm_label_add(p, end, model, model_label);

        s = ngx_http_llm_series_get_locked(lmcf, NGX_HTTP_LLM_SERIES_TENANT,
                                           label, p - label - 1,
                                           r->connection->log);
        if (s) {
            ngx_http_llm_series_account(s->v, ctx, missing);
        }
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
        /* budget.fleet: a reservation on Redis that got no reply, maybe */
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

    if (ctx && ctx->answer_open) {
        /*
         * no last buffer after a 2xx header: the provider cut the answer,
         * unless the client went away or stopped reading
         */

        if (!r->connection->error && !r->connection->timedout) {
            ngx_http_llm_circuit_answer_end(r, ctx, 0);

        } else {
            ctx->answer_open = 0;
        }
    }

    if (ctx && !ctx->finalized && ctx->body_ready) {
        ngx_http_llm_finalize(r, ctx);
    }

    return NGX_OK;
}
