
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * llm_status: the rows of the health sections, one per provider with
 * "check", per server of it and per key of it, copied from the zone.
 */


#include "ngx_http_llm_router_status.h"
#include "ngx_http_llm_router_health.h"


#define NGX_HTTP_LLM_H_PROVIDERS  0
#define NGX_HTTP_LLM_H_SERVERS    1
#define NGX_HTTP_LLM_H_KEYS       2


static ngx_int_t ngx_http_llm_health_row(ngx_pool_t *pool,
    ngx_http_llm_status_health_t *row, ngx_http_llm_health_t *h,
    ngx_str_t *provider, ngx_str_t *target);
static void ngx_http_llm_health_state(ngx_http_llm_status_health_t *row);
static ngx_int_t ngx_http_llm_health_cstr(ngx_pool_t *pool, ngx_str_t *dst,
    u_char *data, size_t len);
static ngx_int_t ngx_http_llm_health_time(ngx_pool_t *pool, ngx_str_t *dst,
    int64_t t);


ngx_int_t
ngx_http_llm_status_health(ngx_http_request_t *r, ngx_http_llm_status_t *st)
{
    u_char                        buf[NGX_INT_T_LEN + 1];
    ngx_str_t                     target;
    ngx_uint_t                    i, j, k, n[3], nkeys, nservers;
    ngx_msec_t                    cool;
    ngx_http_llm_health_t        *copy, *h;
    ngx_http_llm_probe_t         *pr;
    ngx_http_llm_provider_t      *prov;
    ngx_http_llm_main_conf_t     *lmcf;
    ngx_http_llm_status_health_t *row;
    ngx_http_llm_shm_provider_t  *node;

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_llm_router_module);

    if (lmcf->sh == NULL) {
        return NGX_OK;
    }

    prov = lmcf->providers.elts;
    n[0] = 0;
    n[1] = 0;
    n[2] = 0;

    for (i = 0; i < lmcf->providers.nelts; i++) {
        if (prov[i].check && prov[i].shm) {
            n[0]++;
            n[1] += prov[i].shm->nservers;
            n[2] += prov[i].keys->nelts;
        }
    }

    for (k = 0; k < 3; k++) {
        if (n[k]) {
            st->health[k] = ngx_pcalloc(r->pool,
                                 n[k] * sizeof(ngx_http_llm_status_health_t));
            if (st->health[k] == NULL) {
                return NGX_ERROR;
            }
        }
    }

    /* a copy of each provider's states, taken under the lock */

    for (i = 0; i < lmcf->providers.nelts; i++) {
        node = prov[i].shm;

        if (prov[i].check == NULL || node == NULL) {
            continue;
        }

        /* at most what was counted: a reload may grow the zone's arrays */

        nservers = n[1] - st->nhealth[NGX_HTTP_LLM_H_SERVERS];
        nkeys = ngx_min(prov[i].keys->nelts,
                        n[2] - st->nhealth[NGX_HTTP_LLM_H_KEYS]);

        copy = ngx_palloc(r->pool, (1 + nservers + nkeys)
                                   * sizeof(ngx_http_llm_health_t));
        if (copy == NULL) {
            return NGX_ERROR;
        }

        ngx_shmtx_lock(&lmcf->shpool->mutex);

        nservers = ngx_min(nservers, node->nservers);
        nkeys = ngx_min(nkeys, node->nhkeys);

        copy[0] = node->health;
        ngx_memcpy(&copy[1], node->servers,
                   nservers * sizeof(ngx_http_llm_health_t));
        ngx_memcpy(&copy[1 + nservers], node->keys,
                   nkeys * sizeof(ngx_http_llm_health_t));

        ngx_shmtx_unlock(&lmcf->shpool->mutex);

        row = &st->health[NGX_HTTP_LLM_H_PROVIDERS]
                         [st->nhealth[NGX_HTTP_LLM_H_PROVIDERS]++];

        ngx_str_null(&target);

        if (ngx_http_llm_health_row(r->pool, row, &copy[0], &prov[i].name,
                                    &target)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        ngx_http_llm_health_state(row);

        pr = prov[i].probes;

        for (j = 0; j < nservers; j++) {
            h = &copy[1 + j];
            row = &st->health[NGX_HTTP_LLM_H_SERVERS]
                             [st->nhealth[NGX_HTTP_LLM_H_SERVERS]++];

            if (pr && j < prov[i].nprobes) {
                target = pr[j].name;

            } else {
                target.len = ngx_sprintf(buf, "#%ui", j + 1) - buf;
                target.data = buf;
            }

            if (ngx_http_llm_health_row(r->pool, row, h, &prov[i].name,
                                        &target)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            ngx_http_llm_health_state(row);
        }

        for (j = 0; j < nkeys; j++) {
            h = &copy[1 + nservers + j];
            row = &st->health[NGX_HTTP_LLM_H_KEYS]
                             [st->nhealth[NGX_HTTP_LLM_H_KEYS]++];

            /* a key by its position, never its value */

            target.len = ngx_sprintf(buf, "#%ui", j + 1) - buf;
            target.data = buf;

            if (ngx_http_llm_health_row(r->pool, row, h, &prov[i].name,
                                        &target)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            cool = (j < node->nkeys) ? node->key_cool[j] : 0;

            if (h->down) {
                ngx_str_set(&row->state_name, "refused");

            } else if (cool && (ngx_msec_int_t) (cool - st->now_msec) > 0) {
                ngx_str_set(&row->state_name, "cooling");
                row->up = 0;

            } else {
                ngx_str_set(&row->state_name, "usable");
            }
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_llm_health_row(ngx_pool_t *pool, ngx_http_llm_status_health_t *row,
    ngx_http_llm_health_t *h, ngx_str_t *provider, ngx_str_t *target)
{
    u_char  buf[64], *last;

    if (ngx_http_llm_health_cstr(pool, &row->provider, provider->data,
                                 provider->len)
        != NGX_OK
        || ngx_http_llm_health_cstr(pool, &row->target, target->data,
                                    target->len)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    row->up = h->down ? 0 : 1;
    row->since = h->since ? (int64_t) h->since : NGX_HTTP_LLM_STATUS_UNSET;
    row->checked = h->checked ? (int64_t) h->checked
                              : NGX_HTTP_LLM_STATUS_UNSET;
    row->latency = h->checked ? (int64_t) h->latency
                              : NGX_HTTP_LLM_STATUS_UNSET;
    row->probes = h->probes;
    row->failures = h->probe_failures;

    if (h->checked == 0) {
        last = ngx_cpymem(buf, "none", 4);

    } else if (h->last >= 100) {
        last = ngx_sprintf(buf, "status %ui", h->last);

    } else if (h->last == NGX_HTTP_LLM_OUT_TIMEOUT) {
        last = ngx_cpymem(buf, "timeout", 7);

    } else {
        last = ngx_cpymem(buf, "error", 5);
    }

    if (ngx_http_llm_health_cstr(pool, &row->last, buf, last - buf)
        != NGX_OK
        || ngx_http_llm_health_time(pool, &row->since_text, row->since)
           != NGX_OK
        || ngx_http_llm_health_time(pool, &row->checked_text, row->checked)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_llm_health_state(ngx_http_llm_status_health_t *row)
{
    if (row->up) {
        ngx_str_set(&row->state_name, "up");

    } else {
        ngx_str_set(&row->state_name, "down");
    }
}


/* null-terminated, as the writers want their strings */

static ngx_int_t
ngx_http_llm_health_cstr(ngx_pool_t *pool, ngx_str_t *dst, u_char *data,
    size_t len)
{
    dst->data = ngx_pnalloc(pool, len + 1);
    if (dst->data == NULL) {
        return NGX_ERROR;
    }

    (void) ngx_cpystrn(dst->data, data, len + 1);
    dst->len = len;

    return NGX_OK;
}


static ngx_int_t
ngx_http_llm_health_time(ngx_pool_t *pool, ngx_str_t *dst, int64_t t)
{
    u_char    buf[32], *last;
    ngx_tm_t  tm;

    if (t == NGX_HTTP_LLM_STATUS_UNSET) {
        last = ngx_cpymem(buf, "-", 1);

    } else {
        ngx_gmtime((time_t) t, &tm);

        last = ngx_sprintf(buf, "%4d-%02d-%02d %02d:%02d:%02d UTC",
                           tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                           tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec);
    }

    return ngx_http_llm_health_cstr(pool, dst, buf, last - buf);
}


ngx_uint_t
ngx_http_llm_rows_health_providers(ngx_http_llm_status_t *st, u_char **first,
    size_t *size)
{
    *first = (u_char *) st->health[NGX_HTTP_LLM_H_PROVIDERS];
    *size = sizeof(ngx_http_llm_status_health_t);

    return st->nhealth[NGX_HTTP_LLM_H_PROVIDERS];
}


ngx_uint_t
ngx_http_llm_rows_health_servers(ngx_http_llm_status_t *st, u_char **first,
    size_t *size)
{
    *first = (u_char *) st->health[NGX_HTTP_LLM_H_SERVERS];
    *size = sizeof(ngx_http_llm_status_health_t);

    return st->nhealth[NGX_HTTP_LLM_H_SERVERS];
}


ngx_uint_t
ngx_http_llm_rows_health_keys(ngx_http_llm_status_t *st, u_char **first,
    size_t *size)
{
    *first = (u_char *) st->health[NGX_HTTP_LLM_H_KEYS];
    *size = sizeof(ngx_http_llm_status_health_t);

    return st->nhealth[NGX_HTTP_LLM_H_KEYS];
}
