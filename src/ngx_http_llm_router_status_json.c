
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * llm_status json: one object, written from the table of sections and
 * metrics (ngx_http_llm_router_status.c) with cJSON.
 */


#include "ngx_http_llm_router_status.h"

#include <cjson/cJSON.h>


static ngx_uint_t ngx_http_llm_json_section(ngx_http_llm_status_t *st,
    const ngx_http_llm_section_t *sec, cJSON *root);
static ngx_uint_t ngx_http_llm_json_row(ngx_http_llm_status_t *st,
    const ngx_http_llm_section_t *sec, u_char *row, cJSON *o);
static ngx_uint_t ngx_http_llm_json_value(const ngx_http_llm_metric_t *m,
    u_char *row, cJSON *o);
static cJSON *ngx_http_llm_json_hist(ngx_http_llm_status_hist_t *h);


ngx_int_t
ngx_http_llm_status_json(ngx_http_llm_status_t *st, ngx_http_llm_writer_t *w)
{
    char                          *text;
    cJSON                         *root;
    ngx_uint_t                     ok;
    const ngx_http_llm_section_t  *sec;

    root = cJSON_CreateObject();
    if (root == NULL) {
        return NGX_ERROR;
    }

    ok = 1;

    for (sec = ngx_http_llm_status_next(NGX_HTTP_LLM_STATUS_JSON, NULL);
         ok && sec;
         sec = ngx_http_llm_status_next(NGX_HTTP_LLM_STATUS_JSON, sec))
    {
        ok = ngx_http_llm_json_section(st, sec, root);
    }

    text = ok ? cJSON_PrintUnformatted(root) : NULL;

    cJSON_Delete(root);

    if (text == NULL) {
        return NGX_ERROR;
    }

    ngx_http_llm_write(w, (u_char *) text, ngx_strlen(text));
    ngx_http_llm_write(w, (u_char *) "\n", 1);

    cJSON_free(text);

    return NGX_OK;
}


/* an object, an array of objects, or members of the document */

static ngx_uint_t
ngx_http_llm_json_section(ngx_http_llm_status_t *st,
    const ngx_http_llm_section_t *sec, cJSON *root)
{
    u_char      *first;
    size_t       size;
    cJSON       *a, *o;
    ngx_uint_t   i, n;

    n = sec->rows(st, &first, &size);

    if (sec->flags & NGX_HTTP_LLM_S_ONE) {

        if (sec->json == NULL) {
            o = root;

        } else {
            o = cJSON_AddObjectToObject(root, sec->json);
            if (o == NULL) {
                return 0;
            }
        }

        if ((sec->flags & NGX_HTTP_LLM_S_ZONE) && !st->zone) {
            return 1;
        }

        return ngx_http_llm_json_row(st, sec, first, o);
    }

    a = cJSON_AddArrayToObject(root, sec->json);
    if (a == NULL) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        o = cJSON_CreateObject();
        if (o == NULL) {
            return 0;
        }

        cJSON_AddItemToArray(a, o);

        if (!ngx_http_llm_json_row(st, sec, first + i * size, o)) {
            return 0;
        }
    }

    return 1;
}


static ngx_uint_t
ngx_http_llm_json_row(ngx_http_llm_status_t *st,
    const ngx_http_llm_section_t *sec, u_char *row, cJSON *o)
{
    ngx_uint_t                    i;
    const ngx_http_llm_metric_t  *m;

    for (i = 0; i < sec->nmetrics; i++) {
        m = &sec->metrics[i];

        if (m->json && !ngx_http_llm_json_value(m, row, o)) {
            return 0;
        }
    }

    return 1;
}


static ngx_uint_t
ngx_http_llm_json_value(const ngx_http_llm_metric_t *m, u_char *row,
    cJSON *o)
{
    cJSON      *h;
    int64_t     v;
    ngx_int_t   n;
    ngx_str_t  *s;

    switch (m->kind) {

    case NGX_HTTP_LLM_K_STR:
        s = (ngx_str_t *) (row + m->offset);

        if (m->flags & NGX_HTTP_LLM_F_NUMBER) {
            n = ngx_atoi(s->data, s->len);
            return cJSON_AddNumberToObject(o, m->json, n == NGX_ERROR
                                                       ? 0 : (double) n)
                   != NULL;
        }

        return cJSON_AddStringToObject(o, m->json, (char *) s->data) != NULL;

    case NGX_HTTP_LLM_K_HIST:
        h = ngx_http_llm_json_hist((ngx_http_llm_status_hist_t *)
                                   (row + m->offset));
        if (h == NULL) {
            return 0;
        }

        cJSON_AddItemToObject(o, m->json, h);
        return 1;

    default:
        break;
    }

    v = ngx_http_llm_value(row, m);

    if (v == NGX_HTTP_LLM_STATUS_UNSET) {
        return cJSON_AddNullToObject(o, m->json) != NULL;
    }

    switch (m->kind) {

    case NGX_HTTP_LLM_K_BOOL:
        return cJSON_AddBoolToObject(o, m->json, v != 0) != NULL;

    case NGX_HTTP_LLM_K_AMOUNT:
        if (((ngx_http_llm_status_series_t *) row)->metric
            != NGX_HTTP_LLM_METRIC_COST)
        {
            break;
        }

        /* fall through */

    case NGX_HTTP_LLM_K_USD:
        return cJSON_AddNumberToObject(o, m->json, v / 1e9) != NULL;

    default:
        break;
    }

    return cJSON_AddNumberToObject(o, m->json, (double) v) != NULL;
}


static cJSON *
ngx_http_llm_json_hist(ngx_http_llm_status_hist_t *h)
{
    double       bounds[NGX_HTTP_LLM_HIST_BUCKETS - 1];
    double       counts[NGX_HTTP_LLM_HIST_BUCKETS];
    cJSON       *o, *a;
    ngx_uint_t   i, over;

    o = cJSON_CreateObject();
    if (o == NULL) {
        return NULL;
    }

    for (i = 0; i < NGX_HTTP_LLM_HIST_BUCKETS; i++) {
        counts[i] = (double) h->b[i];

        if (i < NGX_HTTP_LLM_HIST_BUCKETS - 1) {
            bounds[i] = (double) ngx_http_llm_hist_bounds[i];
        }
    }

    if (cJSON_AddNumberToObject(o, "count", (double) h->count) == NULL
        || cJSON_AddNumberToObject(o, "sum_ms", (double) h->sum) == NULL)
    {
        goto failed;
    }

    if (h->count) {
        if (cJSON_AddNumberToObject(o, "avg_ms",
                                    (double) (h->sum / h->count)) == NULL
            || cJSON_AddNumberToObject(o, "p50_ms",
                   (double) ngx_http_llm_quantile(h, 0.5, &over)) == NULL
            || cJSON_AddNumberToObject(o, "p95_ms",
                   (double) ngx_http_llm_quantile(h, 0.95, &over)) == NULL)
        {
            goto failed;
        }

    } else {
        if (cJSON_AddNullToObject(o, "avg_ms") == NULL
            || cJSON_AddNullToObject(o, "p50_ms") == NULL
            || cJSON_AddNullToObject(o, "p95_ms") == NULL)
        {
            goto failed;
        }
    }

    a = cJSON_CreateDoubleArray(bounds, NGX_HTTP_LLM_HIST_BUCKETS - 1);
    if (a == NULL) {
        goto failed;
    }

    cJSON_AddItemToObject(o, "le_ms", a);

    a = cJSON_CreateDoubleArray(counts, NGX_HTTP_LLM_HIST_BUCKETS);
    if (a == NULL) {
        goto failed;
    }

    cJSON_AddItemToObject(o, "counts", a);

    return o;

failed:

    cJSON_Delete(o);

    return NULL;
}
