
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * llm_budget: token, request and cost limits per key and window.  A
 * request reserves an upper bound of what it can cost before it is
 * proxied and settles the real usage after, all under the zone's mutex,
 * so that concurrent requests cannot push a budget past its limit.
 */


#include "ngx_http_llm_router.h"
#include "ngx_http_llm_router_redis.h"


static ngx_int_t ngx_http_llm_parse_limit(ngx_conf_t *cf, ngx_str_t *value,
    ngx_uint_t metric, ngx_http_llm_limit_t *limit);
static void ngx_http_llm_budget_roll(ngx_http_llm_series_t *s,
    ngx_http_llm_limit_t *limit, time_t now);
static size_t ngx_http_llm_budget_label(u_char *buf, size_t size,
    ngx_http_llm_budget_t *b, ngx_str_t *key, ngx_uint_t metric);
static u_char *ngx_http_llm_decimal(u_char *p, int64_t v);
static u_char *ngx_http_llm_duration(u_char *p, time_t sec);
static void ngx_http_llm_budget_fleet_done(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, ngx_int_t rc,
    ngx_http_llm_reservation_t *refused);


/*
 * llm_budget name key=... tokens=/requests=/cost=... [dry_run].  Long
 * (over 150 lines) because it is one flat list of parameters, each
 * checked where it is read, then the checks against budgets of the same
 * name in other locations; no part of it is used twice.
 */

char *
ngx_http_llm_budget_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_llm_loc_conf_t *lcf = conf;

    ngx_str_t                         *value, s, name;
    ngx_uint_t                         i, m, have_limit;
    ngx_http_llm_budget_t             *b, *other, **known, **kp;
    ngx_http_llm_main_conf_t          *lmcf;
    ngx_http_compile_complex_value_t   ccv;

    value = cf->args->elts;

    if (lcf->budgets == NULL) {
        lcf->budgets = ngx_array_create(cf->pool, 2,
                                        sizeof(ngx_http_llm_budget_t));
        if (lcf->budgets == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    b = ngx_array_push(lcf->budgets);
    if (b == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(b, sizeof(ngx_http_llm_budget_t));

    have_limit = 0;
    ngx_str_null(&name);

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "key=", 4) == 0) {
            s.data = value[i].data + 4;
            s.len = value[i].len - 4;

            if (s.len == 0) {
                goto invalid;
            }

            ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

            ccv.cf = cf;
            ccv.value = &s;
            ccv.complex_value = &b->key;

            if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "tokens=", 7) == 0) {
            s.data = value[i].data + 7;
            s.len = value[i].len - 7;

            if (ngx_http_llm_parse_limit(cf, &s, NGX_HTTP_LLM_METRIC_TOKENS,
                       &b->limit[NGX_HTTP_LLM_METRIC_TOKENS])
                != NGX_OK)
            {
                goto invalid;
            }

            have_limit = 1;
            continue;
        }

        if (ngx_strncmp(value[i].data, "requests=", 9) == 0) {
            s.data = value[i].data + 9;
            s.len = value[i].len - 9;

            if (ngx_http_llm_parse_limit(cf, &s, NGX_HTTP_LLM_METRIC_REQUESTS,
                       &b->limit[NGX_HTTP_LLM_METRIC_REQUESTS])
                != NGX_OK)
            {
                goto invalid;
            }

            have_limit = 1;
            continue;
        }

        if (ngx_strncmp(value[i].data, "cost=", 5) == 0) {
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;

            if (ngx_http_llm_parse_limit(cf, &s, NGX_HTTP_LLM_METRIC_COST,
                       &b->limit[NGX_HTTP_LLM_METRIC_COST])
                != NGX_OK)
            {
                goto invalid;
            }

            have_limit = 1;
            continue;
        }

        if (ngx_strncmp(value[i].data, "name=", 5) == 0) {
            name.data = value[i].data + 5;
            name.len = value[i].len - 5;

            if (name.len == 0) {
                goto invalid;
            }

            continue;
        }

        if (value[i].len == 7 && ngx_strncmp(value[i].data, "dry_run", 7) == 0)
        {
            b->dry_run = 1;
            continue;
        }

        goto invalid;
    }

    if (b->key.value.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "llm_budget needs \"key=\"");
        return NGX_CONF_ERROR;
    }

    /* unnamed budgets are known by their key, e.g. "$llm_tenant" */
    b->name = name.len ? name : b->key.value;

    if (!have_limit) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "llm_budget \"%V\" needs \"tokens=\", "
                           "\"requests=\" or \"cost=\"", &b->name);
        return NGX_CONF_ERROR;
    }

    other = lcf->budgets->elts;

    for (i = 0; i < lcf->budgets->nelts - 1; i++) {
        if (other[i].name.len == b->name.len
            && ngx_strncmp(other[i].name.data, b->name.data, b->name.len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate llm_budget \"%V\", use name= to "
                               "tell them apart", &b->name);
            return NGX_CONF_ERROR;
        }
    }

    /*
     * budgets of one name share their counters, wherever they are: so
     * they must count alike, or one would reset the other's window
     */

    lmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_llm_router_module);

    b->file_name = cf->conf_file->file.name.data;
    b->line = cf->conf_file->line;

    known = lmcf->budgets.elts;

    for (i = 0; i < lmcf->budgets.nelts; i++) {
        if (known[i]->name.len != b->name.len
            || ngx_strncmp(known[i]->name.data, b->name.data, b->name.len)
               != 0)
        {
            continue;
        }

        for (m = 0; m < NGX_HTTP_LLM_NMETRICS; m++) {
            if (known[i]->limit[m].set != b->limit[m].set
                || known[i]->limit[m].limit != b->limit[m].limit
                || known[i]->limit[m].window != b->limit[m].window)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "llm_budget \"%V\" has other limits in "
                                   "%s:%ui; budgets of one name share their "
                                   "counters, use name= to tell them apart",
                                   &b->name, known[i]->file_name,
                                   known[i]->line);
                return NGX_CONF_ERROR;
            }
        }
    }

    kp = ngx_array_push(&lmcf->budgets);
    if (kp == NULL) {
        return NGX_CONF_ERROR;
    }

    *kp = b;

    if (lcf->budgets->nelts * 3 > NGX_HTTP_LLM_MAX_RESERVATIONS) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "too many llm_budget directives on one level");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in llm_budget", &value[i]);
    return NGX_CONF_ERROR;
}


/* N/window: window is [count]s|m|h|d, or mo (calendar month, UTC) */

static ngx_int_t
ngx_http_llm_parse_limit(ngx_conf_t *cf, ngx_str_t *value, ngx_uint_t metric,
    ngx_http_llm_limit_t *limit)
{
    u_char     *slash, *p, *end;
    int64_t     n, frac;
    ngx_int_t   count;
    ngx_str_t   num, win;
    ngx_uint_t  digits;

    if (limit->set) {
        return NGX_ERROR;
    }

    slash = ngx_strlchr(value->data, value->data + value->len, '/');
    if (slash == NULL) {
        return NGX_ERROR;
    }

    num.data = value->data;
    num.len = slash - value->data;
    win.data = slash + 1;
    win.len = value->data + value->len - slash - 1;

    if (num.len == 0 || win.len == 0) {
        return NGX_ERROR;
    }

    /* the number: an integer, or USD with up to 9 decimals for cost */

    n = 0;
    frac = 0;
    digits = 0;
    end = num.data + num.len;

    for (p = num.data; p < end && *p != '.'; p++) {
        if (*p < '0' || *p > '9' || n > 100000000000LL) {
            return NGX_ERROR;
        }

        n = n * 10 + (*p - '0');
    }

    if (p < end) {
        if (metric != NGX_HTTP_LLM_METRIC_COST || p + 1 == end) {
            return NGX_ERROR;
        }

        for (p++; p < end; p++) {
            if (*p < '0' || *p > '9' || digits == 9) {
                return NGX_ERROR;
            }

            frac = frac * 10 + (*p - '0');
            digits++;
        }

        while (digits++ < 9) {
            frac *= 10;
        }
    }

    if (metric == NGX_HTTP_LLM_METRIC_COST) {
        if (n > 1000000000LL) {
            return NGX_ERROR;
        }

        n = n * 1000000000LL + frac;   /* nano-USD */
    }

    if (n <= 0) {
        return NGX_ERROR;
    }

    /* the window */

    if (win.len == 2 && ngx_strncmp(win.data, "mo", 2) == 0) {
        limit->window = NGX_HTTP_LLM_WINDOW_MONTH;

    } else {
        end = win.data + win.len - 1;

        count = 1;

        if (end > win.data) {
            count = ngx_atoi(win.data, end - win.data);
            if (count <= 0) {
                return NGX_ERROR;
            }
        }

        switch (*end) {
        case 's':
            limit->window = count;
            break;
        case 'm':
            limit->window = count * 60;
            break;
        case 'h':
            limit->window = count * 3600;
            break;
        case 'd':
            limit->window = count * 86400;
            break;
        default:
            return NGX_ERROR;
        }
    }

    limit->limit = n;
    limit->set = 1;

    return NGX_OK;
}


static void
ngx_http_llm_budget_roll(ngx_http_llm_series_t *s, ngx_http_llm_limit_t *limit,
    time_t now)
{
    time_t  start;

    start = ngx_http_llm_window_start(now, limit->window);

    if (s->window != start) {
        /* a new window; what is in flight stays reserved */
        s->window = start;
        s->v[NGX_HTTP_LLM_V_USED] = 0;
    }

    s->v[NGX_HTTP_LLM_V_LIMIT] = limit->limit;
    s->v[NGX_HTTP_LLM_V_WINDOW_END] = ngx_http_llm_window_end(now,
                                                              limit->window);
}


static size_t
ngx_http_llm_budget_label(u_char *buf, size_t size, ngx_http_llm_budget_t *b,
    ngx_str_t *key, ngx_uint_t metric)
{
    u_char  *p, *end;
    size_t   n;

    p = buf;
    end = buf + size - 16;

    n = ngx_min(b->name.len, (size_t) (end - p));
    p = ngx_cpymem(p, b->name.data, n);
    *p++ = '\0';

    /*
     * end has 16 bytes past it: the '\0's and the metric always fit; the
     * key (a client's header, say) is made valid UTF-8, one to one
     */
    if (p < end) {
        p = ngx_http_llm_label_utf8(p, end, key->data, key->len);
    }

    *p++ = '\0';

    p = ngx_cpymem(p, ngx_http_llm_budget_metric_names[metric].data,
                   ngx_http_llm_budget_metric_names[metric].len);

    return p - buf;
}


/*
 * Checks every budget that applies and, if all have room, reserves the
 * request's upper bound in all of them; a budget over its limit answers
 * 429 (unless dry_run, which only logs).  Over 150 lines: the estimate,
 * the check and the reservation are one pass under one lock of the zone
 * (all budgets or none), which a split would have to hand a dozen locals.
 * With llm_redis: NGX_AGAIN, the request waits for Redis and
 * ctx->budget.done() is called with the outcome.
 */

ngx_int_t
ngx_http_llm_budget_reserve(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx)
{
    u_char                       label[1024];
    size_t                       len;
    time_t                       now, reset;
    int64_t                      est[NGX_HTTP_LLM_NMETRICS], completion,
                                 choices, in, out, remaining, limit;
    ngx_int_t                    rc;
    ngx_str_t                    keys[NGX_HTTP_LLM_MAX_RESERVATIONS];
    ngx_uint_t                   i, m, n, nbudgets, share;
    ngx_http_llm_price_t        *price;
    ngx_http_llm_budget_t       *b, *rejected_b;
    ngx_http_llm_series_t       *s, *series[NGX_HTTP_LLM_MAX_RESERVATIONS];
    ngx_http_llm_series_t       *rejected;
    ngx_http_llm_main_conf_t    *lmcf;
    ngx_http_llm_reservation_t  *res;

    if (ctx->lcf->budgets == NULL) {
        return NGX_OK;
    }

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_llm_router_module);

    if (lmcf->sh == NULL) {
        return NGX_OK;
    }

    b = ctx->lcf->budgets->elts;
    nbudgets = ctx->lcf->budgets->nelts;

    for (i = 0; i < nbudgets; i++) {
        if (ngx_http_complex_value(r, &b[i].key, &keys[i]) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    /* the upper bound: every body byte a token, plus the completion limit */

    completion = ngx_max(ctx->doc.max_tokens_value,
                         ctx->doc.max_completion_tokens_value);
    completion = ngx_max(completion, ctx->doc.max_output_tokens_value);

    if (completion < 0) {
        completion = (ctx->endpoint == NGX_HTTP_LLM_EP_EMBEDDINGS)
                     ? 0 : NGX_HTTP_LLM_DEFAULT_MAX_TOKENS;
    }

    /* n choices (best_of generated on legacy completions) each that long */

    choices = ngx_max(ctx->doc.n_value, ctx->doc.best_of_value);
    choices = ngx_max(choices, 1);

    if (choices > 1024 || completion > (int64_t) 1 << 40) {
        /* no budget can hold that; avoid overflowing the arithmetic */
        choices = ngx_min(choices, 1024);
        completion = ngx_min(completion, (int64_t) 1 << 40);
    }

    completion *= choices;

    in = 0;
    out = 0;

    for (i = 0; i < ctx->nplan; i++) {
        price = ctx->plan[i]->price;

        if (price == NULL) {
            price = ngx_http_llm_price_find(lmcf, ctx->plan[i]->provider,
                                            &ctx->model);
        }

        if (price) {
            in = ngx_max(in, price->input);
            out = ngx_max(out, price->output);
        }
    }

    /* at most 2^42 tokens and prices below 2^20 USD: no overflow */
    completion = ngx_min(completion, (int64_t) 1 << 42);
    in = ngx_min(in, (int64_t) 1 << 40);
    out = ngx_min(out, (int64_t) 1 << 40);

    est[NGX_HTTP_LLM_METRIC_TOKENS] = (int64_t) ctx->body_len + completion;
    est[NGX_HTTP_LLM_METRIC_REQUESTS] = 1;
    est[NGX_HTTP_LLM_METRIC_COST] =
                    ngx_http_llm_cost_bound((int64_t) ctx->body_len, in)
                    + ngx_http_llm_cost_bound(completion, out);

    ctx->budget.reservations = ngx_palloc(r->pool, nbudgets * 3
                                       * sizeof(ngx_http_llm_reservation_t));
    if (ctx->budget.reservations == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    share = 1;

    if (lmcf->redis) {
        if (!ctx->budget.fleet_local) {
            rc = ngx_http_llm_fleet_reserve(r, ctx, keys, est,
                                            ngx_http_llm_budget_fleet_done);
            if (rc != NGX_DECLINED) {
                return rc;
            }
        }

        /* Redis is down: this node's share, its usage since counted */
        ctx->budget.fleet_local = 1;
        share = ngx_http_llm_fleet_nodes();
    }

    now = ngx_time();
    rejected = NULL;
    rejected_b = NULL;
    m = 0;
    n = 0;

    ngx_shmtx_lock(&lmcf->shpool->mutex);

    /* series this call holds are not evicted to make room for others */
    lmcf->sh->generation++;

    for (i = 0; i < nbudgets && rejected == NULL; i++) {

        if (keys[i].len == 0) {
            continue;
        }

        for (m = 0; m < NGX_HTTP_LLM_NMETRICS; m++) {
            if (!b[i].limit[m].set) {
                continue;
            }

            len = ngx_http_llm_budget_label(label, sizeof(label), &b[i],
                                            &keys[i], m);

            s = ngx_http_llm_series_get_locked(lmcf,
                                               NGX_HTTP_LLM_SERIES_BUDGET,
                                               label, len,
                                               r->connection->log);
            if (s == NULL) {
                /* no room even after eviction: never fail a request */
                continue;
            }

            ngx_http_llm_budget_roll(s, &b[i].limit[m], now);

            limit = b[i].limit[m].limit / share;

            /* in this order: nothing here can overflow */
            if (est[m] > limit - s->v[NGX_HTTP_LLM_V_USED]
                         - s->v[NGX_HTTP_LLM_V_RESERVED])
            {
                if (!b[i].dry_run) {
                    rejected = s;
                    rejected_b = &b[i];
                    break;
                }

                ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                              "llm router: budget \"%V\" (%V) would reject "
                              "the request, dry run", &b[i].name,
                              &ngx_http_llm_budget_metric_names[m]);
            }

            res = &ctx->budget.reservations[n];
            res->budget = &b[i];
            res->metric = m;
            res->key = keys[i];
            res->amount = est[m];
            series[n++] = s;
        }
    }

    if (rejected) {
        rejected->v[NGX_HTTP_LLM_V_REJECTED]++;
        lmcf->sh->budget_rejections++;

        remaining = rejected_b->limit[m].limit / share
                    - rejected->v[NGX_HTTP_LLM_V_USED]
                    - rejected->v[NGX_HTTP_LLM_V_RESERVED];

        ngx_shmtx_unlock(&lmcf->shpool->mutex);

        reset = ngx_http_llm_window_end(now, rejected_b->limit[m].window)
                - now;

        if (m < NGX_HTTP_LLM_RL_METRICS) {
            ctx->budget.rl_set |= 1 << m;
            ctx->budget.rl_limit[m] = rejected_b->limit[m].limit;
            ctx->budget.rl_remaining[m] = ngx_max(remaining, 0);
            ctx->budget.rl_reset[m] = reset;
        }

        ctx->budget.retry_after = (ngx_uint_t) ngx_max(reset, 1);

        return ngx_http_llm_set_error(r, ctx, NGX_HTTP_TOO_MANY_REQUESTS,
                                      "budget_exceeded", NULL,
                                      "Budget \"%V\" is exhausted (%V); "
                                      "retry in %T s",
                                      &rejected_b->name,
                                      &ngx_http_llm_budget_metric_names[m],
                                      reset);
    }

    for (i = 0; i < n; i++) {
        res = &ctx->budget.reservations[i];
        s = series[i];
        m = res->metric;

        s->v[NGX_HTTP_LLM_V_RESERVED] += res->amount;

        if (m == NGX_HTTP_LLM_METRIC_COST) {
            continue;
        }

        /* the headers show the tightest budget */

        remaining = res->budget->limit[m].limit / share
                    - s->v[NGX_HTTP_LLM_V_USED]
                    - s->v[NGX_HTTP_LLM_V_RESERVED];
        remaining = ngx_max(remaining, 0);

        if (!(ctx->budget.rl_set & (1 << m))
            || remaining < ctx->budget.rl_remaining[m])
        {
            ctx->budget.rl_set |= 1 << m;
            ctx->budget.rl_limit[m] = s->v[NGX_HTTP_LLM_V_LIMIT];
            ctx->budget.rl_remaining[m] = remaining;
            ctx->budget.rl_reset[m] = ngx_http_llm_window_end(now,
                                                res->budget->limit[m].window)
                               - now;
        }
    }

    ctx->budget.nreservations = n;

    ngx_shmtx_unlock(&lmcf->shpool->mutex);

    return NGX_OK;
}


/*
 * The real usage replaces the reservation: a provider's 2xx answer is
 * charged its usage (or the whole reservation when it carried none); any
 * other end releases the reservation.  The caller holds the mutex.
 */

void
ngx_http_llm_budget_settle_locked(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, ngx_http_llm_main_conf_t *lmcf)
{
    u_char                       label[1024];
    size_t                       len;
    time_t                       now;
    int64_t                      used[NGX_HTTP_LLM_MAX_RESERVATIONS];
    ngx_uint_t                   i;
    ngx_http_llm_series_t       *s;
    ngx_http_llm_reservation_t  *res;

    if (ctx->budget.fleet) {
        /* reserved on Redis (or maybe, after a timeout): settled there */

        for (i = 0; i < ctx->budget.nreservations; i++) {
            used[i] = ngx_http_llm_budget_actual(ctx,
                                                 &ctx->budget.reservations[i]);
        }

        ngx_http_llm_fleet_settle(r, ctx, used);

        if (!ctx->budget.fleet_local) {
            ctx->budget.nreservations = 0;
            return;
        }
    }

    now = ngx_time();

    for (i = 0; i < ctx->budget.nreservations; i++) {
        res = &ctx->budget.reservations[i];

        len = ngx_http_llm_budget_label(label, sizeof(label), res->budget,
                                        &res->key, res->metric);

        s = ngx_http_llm_series_get_locked(lmcf, NGX_HTTP_LLM_SERIES_BUDGET,
                                           label, len, r->connection->log);
        if (s == NULL) {
            continue;
        }

        ngx_http_llm_budget_roll(s, &res->budget->limit[res->metric], now);

        s->v[NGX_HTTP_LLM_V_RESERVED] -= res->amount;

        if (s->v[NGX_HTTP_LLM_V_RESERVED] < 0) {
            /* the series was evicted and made anew meanwhile */
            s->v[NGX_HTTP_LLM_V_RESERVED] = 0;
        }

        s->v[NGX_HTTP_LLM_V_USED] += ngx_http_llm_budget_actual(ctx, res);
    }

    ctx->budget.nreservations = 0;
}


/* the reservation's outcome on Redis came: the request goes on */

static void
ngx_http_llm_budget_fleet_done(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    ngx_int_t rc, ngx_http_llm_reservation_t *refused)
{
    if (refused) {
        ngx_http_llm_budget_reject(r, refused->budget, &refused->key,
                                   refused->metric);
    }

    if (rc == NGX_DECLINED) {
        /* no answer: this node's share, in the zone (never NGX_AGAIN) */
        rc = ngx_http_llm_budget_reserve(r, ctx);
    }

    ctx->budget.done(r, ctx, rc);
}


/*
 * What a request is charged: a provider's 2xx answer its usage (or the
 * whole reservation when it carried none); any other end nothing.
 */

int64_t
ngx_http_llm_budget_actual(ngx_http_llm_ctx_t *ctx,
    ngx_http_llm_reservation_t *res)
{
    if (!ctx->served) {
        return 0;
    }

    switch (res->metric) {

    case NGX_HTTP_LLM_METRIC_TOKENS:
        return ctx->usage.seen ? ctx->usage.prompt_tokens
                                 + ctx->usage.completion_tokens
                               : res->amount;

    case NGX_HTTP_LLM_METRIC_REQUESTS:
        return 1;

    default: /* NGX_HTTP_LLM_METRIC_COST */
        return ctx->usage.seen ? ctx->usage.cost : res->amount;
    }
}


/*
 * Decimal digits of v >= 0; the headers are written on every answer, and
 * ngx_sprintf() costs ten times this.
 */

static u_char *
ngx_http_llm_decimal(u_char *p, int64_t v)
{
    u_char   tmp[NGX_INT64_LEN], *t;

    t = tmp + NGX_INT64_LEN;

    do {
        *--t = (u_char) ('0' + v % 10);
        v /= 10;
    } while (v > 0);

    return ngx_cpymem(p, t, tmp + NGX_INT64_LEN - t);
}


/* "1h2m3s", as OpenAI's x-ratelimit-reset-* */

static u_char *
ngx_http_llm_duration(u_char *p, time_t sec)
{
    if (sec < 0) {
        return ngx_sprintf(p, "%Ts", sec);
    }

    if (sec >= 3600) {
        p = ngx_http_llm_decimal(p, sec / 3600);
        *p++ = 'h';
        sec %= 3600;
    }

    if (sec >= 60) {
        p = ngx_http_llm_decimal(p, sec / 60);
        *p++ = 'm';
        sec %= 60;
    }

    p = ngx_http_llm_decimal(p, sec);
    *p++ = 's';

    return p;
}


static ngx_int_t
ngx_http_llm_add_header(ngx_http_request_t *r, ngx_str_t *name, u_char *value,
    size_t len)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key = *name;
    h->value.data = value;
    h->value.len = len;

    return NGX_OK;
}


/* x-ratelimit-{limit,remaining,reset}-{tokens,requests}, Retry-After */

ngx_int_t
ngx_http_llm_budget_headers(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx)
{
    u_char      *p, *q;
    ngx_uint_t   m;

    /* limit, remaining, reset; per metric with rate-limit headers */
    static ngx_str_t  names[NGX_HTTP_LLM_RL_METRICS][3] = {
        { ngx_string("x-ratelimit-limit-tokens"),
          ngx_string("x-ratelimit-remaining-tokens"),
          ngx_string("x-ratelimit-reset-tokens") },
        { ngx_string("x-ratelimit-limit-requests"),
          ngx_string("x-ratelimit-remaining-requests"),
          ngx_string("x-ratelimit-reset-requests") }
    };
    static ngx_str_t  retry_after = ngx_string("Retry-After");

    for (m = 0; m < NGX_HTTP_LLM_RL_METRICS; m++) {
        if (!(ctx->budget.rl_set & (1 << m))) {
            continue;
        }

        p = ngx_pnalloc(r->pool, 3 * NGX_INT64_LEN + 16);
        if (p == NULL) {
            return NGX_ERROR;
        }

        /* negative values never happen; "-1" as ngx_sprintf() wrote it */

        if (ctx->budget.rl_limit[m] < 0) {
            q = ngx_sprintf(p, "%L", ctx->budget.rl_limit[m]);

        } else {
            q = ngx_http_llm_decimal(p, ctx->budget.rl_limit[m]);
        }

        if (ngx_http_llm_add_header(r, &names[m][0], p, q - p) != NGX_OK) {
            return NGX_ERROR;
        }

        p = q;

        if (ctx->budget.rl_remaining[m] < 0) {
            q = ngx_sprintf(p, "%L", ctx->budget.rl_remaining[m]);

        } else {
            q = ngx_http_llm_decimal(p, ctx->budget.rl_remaining[m]);
        }

        if (ngx_http_llm_add_header(r, &names[m][1], p, q - p) != NGX_OK) {
            return NGX_ERROR;
        }

        p = q;
        q = ngx_http_llm_duration(p, ctx->budget.rl_reset[m]);
        if (ngx_http_llm_add_header(r, &names[m][2], p, q - p) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (ctx->budget.retry_after) {
        p = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
        if (p == NULL) {
            return NGX_ERROR;
        }

        q = ngx_sprintf(p, "%ui", ctx->budget.retry_after);
        if (ngx_http_llm_add_header(r, &retry_after, p, q - p) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* counts a rejection decided elsewhere (on Redis) in the zone */

void
ngx_http_llm_budget_reject(ngx_http_request_t *r, ngx_http_llm_budget_t *b,
    ngx_str_t *key, ngx_uint_t metric)
{
    u_char                     label[1024];
    size_t                     len;
    ngx_http_llm_series_t     *s;
    ngx_http_llm_main_conf_t  *lmcf;

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_llm_router_module);

    if (lmcf->sh == NULL) {
        return;
    }

    len = ngx_http_llm_budget_label(label, sizeof(label), b, key, metric);

    ngx_shmtx_lock(&lmcf->shpool->mutex);

    lmcf->sh->generation++;

    s = ngx_http_llm_series_get_locked(lmcf, NGX_HTTP_LLM_SERIES_BUDGET,
                                       label, len, r->connection->log);
    if (s) {
        ngx_http_llm_budget_roll(s, &b->limit[metric], ngx_time());
        s->v[NGX_HTTP_LLM_V_REJECTED]++;
    }

    lmcf->sh->budget_rejections++;

    ngx_shmtx_unlock(&lmcf->shpool->mutex);
}
