
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * llm_status prometheus: the text exposition format 0.0.4, written from
 * the table of sections and metrics (ngx_http_llm_router_status.c).
 */


#include "ngx_http_llm_router_status.h"


static void ngx_http_llm_prom_family(ngx_http_llm_writer_t *w,
    const ngx_http_llm_metric_t *m);
static void ngx_http_llm_prom_sample(ngx_http_llm_writer_t *w,
    const ngx_http_llm_section_t *sec, const ngx_http_llm_metric_t *m,
    u_char *row);
static void ngx_http_llm_prom_labels(ngx_http_llm_writer_t *w,
    const ngx_http_llm_section_t *sec, u_char *row, const char *le);
static void ngx_http_llm_prom_hist(ngx_http_llm_writer_t *w,
    const ngx_http_llm_section_t *sec, const ngx_http_llm_metric_t *m,
    u_char *row);
static u_char *ngx_http_llm_usd(u_char *p, int64_t nano);
static u_char *ngx_http_llm_seconds(u_char *p, int64_t ms);


static const char  *ngx_http_llm_prom_types[] = {
    NULL, "counter", "gauge", "histogram", NULL
};

static const char  *ngx_http_llm_le[NGX_HTTP_LLM_HIST_BUCKETS] = {
    "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30", "60", "+Inf"
};


ngx_int_t
ngx_http_llm_status_prometheus(ngx_http_llm_status_t *st,
    ngx_http_llm_writer_t *w)
{
    u_char                        *first;
    size_t                         size;
    ngx_uint_t                     i, k, n;
    const ngx_http_llm_metric_t   *m;
    const ngx_http_llm_section_t  *sec;

    for (sec = ngx_http_llm_status_next(NGX_HTTP_LLM_STATUS_PROMETHEUS,
                                        NULL);
         sec;
         sec = ngx_http_llm_status_next(NGX_HTTP_LLM_STATUS_PROMETHEUS, sec))
    {
        if ((sec->flags & NGX_HTTP_LLM_S_ZONE) && !st->zone) {
            continue;
        }

        n = sec->rows(st, &first, &size);

        for (k = 0; k < sec->nmetrics; k++) {
            m = &sec->metrics[k];

            if (m->prom == NULL || ngx_http_llm_prom_types[m->type] == NULL)
            {
                continue;
            }

            ngx_http_llm_prom_family(w, m);

            for (i = 0; i < n; i++) {
                ngx_http_llm_prom_sample(w, sec, m, first + i * size);
            }
        }
    }

    return NGX_OK;
}


static void
ngx_http_llm_prom_family(ngx_http_llm_writer_t *w,
    const ngx_http_llm_metric_t *m)
{
    ngx_http_llm_printf(w, "# HELP %s %s\n# TYPE %s %s\n",
                        m->prom, m->help, m->prom,
                        ngx_http_llm_prom_types[m->type]);
}


static void
ngx_http_llm_prom_sample(ngx_http_llm_writer_t *w,
    const ngx_http_llm_section_t *sec, const ngx_http_llm_metric_t *m,
    u_char *row)
{
    u_char   *p, buf[NGX_INT64_LEN * 2 + 4];
    int64_t   v;

    if (m->kind == NGX_HTTP_LLM_K_HIST) {
        ngx_http_llm_prom_hist(w, sec, m, row);
        return;
    }

    v = ngx_http_llm_value(row, m);

    if (v == NGX_HTTP_LLM_STATUS_UNSET) {
        return;
    }

    if (m->kind == NGX_HTTP_LLM_K_USD
        || (m->kind == NGX_HTTP_LLM_K_AMOUNT
            && ((ngx_http_llm_status_series_t *) row)->metric
               == NGX_HTTP_LLM_METRIC_COST))
    {
        p = ngx_http_llm_usd(buf, v);

    } else {
        p = ngx_sprintf(buf, "%L", v);
    }

    ngx_http_llm_printf(w, "%s", m->prom);
    ngx_http_llm_prom_labels(w, sec, row, NULL);
    ngx_http_llm_printf(w, " %*s\n", p - buf, buf);
}


/* {name="value",...}: '\\', '"' and newline escaped */

static void
ngx_http_llm_prom_labels(ngx_http_llm_writer_t *w,
    const ngx_http_llm_section_t *sec, u_char *row, const char *le)
{
    u_char                       *p, *end, *start;
    ngx_str_t                    *value;
    ngx_uint_t                    i, n;
    const ngx_http_llm_metric_t  *m;

    n = 0;

    for (i = 0; i < sec->nmetrics; i++) {
        m = &sec->metrics[i];

        if (m->type != NGX_HTTP_LLM_M_LABEL || m->prom == NULL) {
            continue;
        }

        ngx_http_llm_printf(w, "%s%s=\"", n++ ? "," : "{", m->prom);

        value = (ngx_str_t *) (row + m->offset);
        p = value->data;
        end = p + value->len;
        start = p;

        for ( /* void */ ; p < end; p++) {
            if (*p != '\\' && *p != '"' && *p != '\n') {
                continue;
            }

            ngx_http_llm_write(w, start, p - start);
            ngx_http_llm_write(w, (u_char *) (*p == '\\' ? "\\\\"
                                              : *p == '"' ? "\\\"" : "\\n"),
                               2);
            start = p + 1;
        }

        ngx_http_llm_write(w, start, end - start);
        ngx_http_llm_write(w, (u_char *) "\"", 1);
    }

    if (le) {
        ngx_http_llm_printf(w, "%sle=\"%s\"", n ? "," : "{", le);
    }

    if (n || le) {
        ngx_http_llm_write(w, (u_char *) "}", 1);
    }
}


static void
ngx_http_llm_prom_hist(ngx_http_llm_writer_t *w,
    const ngx_http_llm_section_t *sec, const ngx_http_llm_metric_t *m,
    u_char *row)
{
    u_char                      *p, buf[NGX_INT64_LEN + 8];
    int64_t                      cum;
    ngx_uint_t                   i;
    ngx_http_llm_status_hist_t  *h;

    h = (ngx_http_llm_status_hist_t *) (row + m->offset);
    cum = 0;

    for (i = 0; i < NGX_HTTP_LLM_HIST_BUCKETS; i++) {
        cum += h->b[i];

        ngx_http_llm_printf(w, "%s_bucket", m->prom);
        ngx_http_llm_prom_labels(w, sec, row, ngx_http_llm_le[i]);
        ngx_http_llm_printf(w, " %L\n", cum);
    }

    p = ngx_http_llm_seconds(buf, h->sum);

    ngx_http_llm_printf(w, "%s_sum", m->prom);
    ngx_http_llm_prom_labels(w, sec, row, NULL);
    ngx_http_llm_printf(w, " %*s\n", p - buf, buf);

    ngx_http_llm_printf(w, "%s_count", m->prom);
    ngx_http_llm_prom_labels(w, sec, row, NULL);
    ngx_http_llm_printf(w, " %L\n", cum);
}


/* nano-USD as USD with 9 decimals */

static u_char *
ngx_http_llm_usd(u_char *p, int64_t nano)
{
    if (nano < 0) {
        *p++ = '-';
        nano = -nano;
    }

    return ngx_sprintf(p, "%L.%09L", nano / 1000000000, nano % 1000000000);
}


/* milliseconds as seconds with 3 decimals */

static u_char *
ngx_http_llm_seconds(u_char *p, int64_t ms)
{
    if (ms < 0) {
        *p++ = '-';
        ms = -ms;
    }

    return ngx_sprintf(p, "%L.%03L", ms / 1000, ms % 1000);
}
