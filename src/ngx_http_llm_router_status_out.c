
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * llm_status output, under the writers of all formats: the sections of a
 * format in its order, a chain of buffers in the request's pool that the
 * writers fill, and the quantiles of a histogram.
 */


#include "ngx_http_llm_router_status.h"


#define NGX_HTTP_LLM_STATUS_BUF_SIZE    16384


/* the sections of a format in its order */

const ngx_http_llm_section_t *
ngx_http_llm_status_next(ngx_uint_t format,
    const ngx_http_llm_section_t *prev)
{
    ngx_uint_t                     i, after, o;
    const ngx_http_llm_section_t  *s, *next;

    after = prev ? prev->order[format] : 0;
    next = NULL;

    for (i = 0; i < ngx_http_llm_status_nsections; i++) {
        s = &ngx_http_llm_status_sections[i];
        o = s->order[format];

        if (o > after && (next == NULL || o < next->order[format])) {
            next = s;
        }
    }

    return next;
}


/* appends to the chain; the first failure to allocate stops it */

void
ngx_http_llm_write(ngx_http_llm_writer_t *w, u_char *data, size_t len)
{
    size_t        n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    while (len && !w->error) {
        b = w->buf;

        if (b == NULL || b->last == b->end) {
            b = ngx_create_temp_buf(w->pool, NGX_HTTP_LLM_STATUS_BUF_SIZE);
            cl = ngx_alloc_chain_link(w->pool);

            if (b == NULL || cl == NULL) {
                w->error = 1;
                return;
            }

            cl->buf = b;
            cl->next = NULL;
            *w->last = cl;
            w->last = &cl->next;
            w->buf = b;
        }

        n = ngx_min(len, (size_t) (b->end - b->last));
        b->last = ngx_cpymem(b->last, data, n);
        w->size += n;
        data += n;
        len -= n;
    }
}


void
ngx_http_llm_printf(ngx_http_llm_writer_t *w, const char *fmt, ...)
{
    u_char   *p, buf[4096];
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf(buf, buf + sizeof(buf), fmt, args);
    va_end(args);

    ngx_http_llm_write(w, buf, p - buf);
}


/*
 * A quantile from the buckets, interpolated as Prometheus'
 * histogram_quantile(); "over" is set when it falls past the last bound.
 */

ngx_msec_t
ngx_http_llm_quantile(ngx_http_llm_status_hist_t *h, double q,
    ngx_uint_t *over)
{
    double      rank, cum, lower, upper, est, mean;
    ngx_uint_t  i;

    *over = 0;

    if (h->count == 0) {
        return 0;
    }

    rank = q * (double) h->count;
    cum = 0;

    for (i = 0; i < NGX_HTTP_LLM_HIST_BUCKETS; i++) {
        if (h->b[i] && cum + (double) h->b[i] >= rank) {
            break;
        }

        cum += (double) h->b[i];
    }

    if (i >= NGX_HTTP_LLM_HIST_BUCKETS - 1) {
        *over = 1;
        return ngx_http_llm_hist_bounds[NGX_HTTP_LLM_HIST_BUCKETS - 2];
    }

    lower = i ? (double) ngx_http_llm_hist_bounds[i - 1] : 0;
    upper = (double) ngx_http_llm_hist_bounds[i];

    est = lower + (upper - lower) * (rank - cum) / (double) h->b[i];

    /*
     * Markov's inequality bounds a quantile by the mean: q-quantile <=
     * mean / (1 - q); this keeps 1 ms answers from showing as 50 ms
     */

    mean = (double) h->sum / (double) h->count;

    if (q < 1 && est > mean / (1 - q)) {
        est = ngx_max(lower, mean / (1 - q));
    }

    return (ngx_msec_t) (est + 0.5);
}
