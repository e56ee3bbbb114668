
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * llm_status: the zone's counters as Prometheus text, JSON or an HTML
 * page.  The zone is copied into the request's pool under the mutex and
 * formatted after it is released.
 */


#include "ngx_http_llm_router.h"

#include <cjson/cJSON.h>


#define NGX_HTTP_LLM_STATUS_PROMETHEUS  1
#define NGX_HTTP_LLM_STATUS_JSON        2
#define NGX_HTTP_LLM_STATUS_HTML        3

#define NGX_HTTP_LLM_CIRCUIT_CLOSED     0
#define NGX_HTTP_LLM_CIRCUIT_OPEN       1
#define NGX_HTTP_LLM_CIRCUIT_HALF_OPEN  2

#define NGX_HTTP_LLM_STATUS_FIELDS      4
#define NGX_HTTP_LLM_STATUS_BUF_SIZE    16384
#define NGX_HTTP_LLM_STATUS_NONE        ((ngx_msec_t) -1)


typedef struct {
    int64_t                          b[NGX_HTTP_LLM_HIST_BUCKETS];
    int64_t                          sum;        /* ms */
    int64_t                          count;      /* of the buckets */
} ngx_http_llm_status_hist_t;


typedef struct {
    ngx_str_t                        name;
    ngx_uint_t                       state;
    ngx_msec_t                       retry_in;   /* open: ms to a trial */
    ngx_uint_t                       fails;
    ngx_uint_t                       max_fails;
    uint64_t                         attempts;
    uint64_t                         failures;
    int64_t                          opened;
    ngx_http_llm_status_hist_t       latency;
    ngx_http_llm_status_hist_t       ttft;
} ngx_http_llm_status_provider_t;


typedef struct {
    ngx_uint_t                       type;
    u_char                          *label;     /* raw, for sorting */
    size_t                           len;
    time_t                           window;
    int64_t                          v[NGX_HTTP_LLM_SERIES_NVALUES];

    /* fields of the label, valid UTF-8 and null-terminated */
    ngx_str_t                        f[NGX_HTTP_LLM_STATUS_FIELDS];

    /* budgets */
    ngx_int_t                        metric;    /* -1: unknown */
    int64_t                          limit;
    int64_t                          used;
    int64_t                          reserved;
    int64_t                          remaining;
    time_t                           start;
    time_t                           end;       /* 0: unknown */
} ngx_http_llm_status_series_t;


typedef struct {
    time_t                           now;
    ngx_msec_t                       now_msec;

    ngx_http_llm_status_provider_t  *providers;
    ngx_uint_t                       nproviders;

    ngx_http_llm_status_series_t    *series;
    ngx_uint_t                       nseries;
    ngx_uint_t                       first[4];   /* by type: [first, */
    ngx_uint_t                       last[4];    /*           last) */

    unsigned                         zone:1;
    ngx_str_t                        zone_name;
    size_t                           zone_size;
    size_t                           zone_free;
    int64_t                          zone_series;
    int64_t                          evicted;
    int64_t                          failovers;
    int64_t                          budget_rejections;
    int64_t                          usage_missing;
    time_t                           started;

    /* sums of the REQUESTS series */
    int64_t                          total[NGX_HTTP_LLM_SERIES_NVALUES];
    int64_t                          errors;
} ngx_http_llm_status_t;


/* output to a chain of buffers in the request's pool */
typedef struct {
    ngx_pool_t                      *pool;
    ngx_chain_t                     *out;
    ngx_chain_t                    **last;
    ngx_buf_t                       *buf;
    off_t                            size;
    ngx_uint_t                       error;
} ngx_http_llm_writer_t;


static ngx_int_t ngx_http_llm_status_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_llm_status_collect(ngx_http_request_t *r,
    ngx_http_llm_status_t *st);
static ngx_int_t ngx_http_llm_status_copy_locked(ngx_http_request_t *r,
    ngx_http_llm_main_conf_t *lmcf, ngx_http_llm_status_t *st);
static void ngx_http_llm_status_hist_copy(ngx_http_llm_status_hist_t *h,
    int64_t *buckets, int64_t sum);
static int ngx_libc_cdecl ngx_http_llm_status_cmp(const void *one,
    const void *two);
static ngx_int_t ngx_http_llm_status_fields(ngx_pool_t *pool,
    ngx_http_llm_status_series_t *s, ngx_uint_t n);
static ngx_int_t ngx_http_llm_status_utf8(ngx_pool_t *pool, u_char *p,
    size_t len, ngx_str_t *out);
static ngx_int_t ngx_http_llm_status_budgets(ngx_http_request_t *r,
    ngx_http_llm_status_t *st);

static ngx_int_t ngx_http_llm_status_prometheus(ngx_http_llm_status_t *st,
    ngx_http_llm_writer_t *w);
static ngx_int_t ngx_http_llm_status_json(ngx_http_llm_status_t *st,
    ngx_http_llm_writer_t *w);
static ngx_int_t ngx_http_llm_status_html(ngx_http_llm_status_t *st,
    ngx_http_llm_writer_t *w);

static void ngx_http_llm_write(ngx_http_llm_writer_t *w, u_char *data,
    size_t len);
static void ngx_http_llm_printf(ngx_http_llm_writer_t *w,
    const char *fmt, ...);
static void ngx_http_llm_prom_family(ngx_http_llm_writer_t *w,
    const char *name, const char *type, const char *help);
static void ngx_http_llm_prom_labels(ngx_http_llm_writer_t *w,
    const char **names, ngx_str_t *values, ngx_uint_t n, const char *le);
static void ngx_http_llm_prom_hist(ngx_http_llm_writer_t *w,
    const char *name, ngx_str_t *provider, ngx_http_llm_status_hist_t *h);
static void ngx_http_llm_html_escape(ngx_http_llm_writer_t *w, ngx_str_t *s);
static void ngx_http_llm_html_label(ngx_http_llm_writer_t *w, ngx_str_t *s);
static void ngx_http_llm_html_number(ngx_http_llm_writer_t *w, int64_t n);
static void ngx_http_llm_html_usd(ngx_http_llm_writer_t *w, int64_t nano);
static void ngx_http_llm_html_ms(ngx_http_llm_writer_t *w, ngx_msec_t ms,
    ngx_uint_t over);
static void ngx_http_llm_html_time(ngx_http_llm_writer_t *w, time_t t,
    time_t now);
static void ngx_http_llm_html_budget_value(ngx_http_llm_writer_t *w,
    ngx_int_t metric, int64_t v);

static u_char *ngx_http_llm_usd(u_char *p, int64_t nano);
static u_char *ngx_http_llm_seconds(u_char *p, int64_t ms);
static ngx_msec_t ngx_http_llm_quantile(ngx_http_llm_status_hist_t *h,
    double q, ngx_uint_t *over);
static cJSON *ngx_http_llm_json_hist(ngx_http_llm_status_hist_t *h);
static ngx_uint_t ngx_http_llm_json_usage(cJSON *o, int64_t *v);


static const char  *ngx_http_llm_status_metrics[] = {
    "tokens", "requests", "cost"
};

static const char  *ngx_http_llm_circuit_names[] = {
    "closed", "open", "half_open"
};

static const char  *ngx_http_llm_le[NGX_HTTP_LLM_HIST_BUCKETS] = {
    "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30", "60", "+Inf"
};

static ngx_str_t  ngx_http_llm_html_head = ngx_string(
    "<!DOCTYPE html>\n"
    "<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width\">\n"
    "<meta http-equiv=\"refresh\" content=\"30\">\n"
    "<title>LLM router status</title>\n"
    "<style>\n"
    "body{font:14px/1.45 system-ui,-apple-system,\"Segoe UI\","
    "Roboto,\"DejaVu Sans\",sans-serif;margin:0;background:#f6f7f9;"
    "color:#1f2328}\n"
    "main{max-width:1160px;margin:0 auto;padding:20px 24px 32px}\n"
    "h1{font-size:22px;margin:0 0 2px}\n"
    "h2{font-size:16px;margin:22px 0 8px}\n"
    ".sub{color:#59636e;margin:0 0 16px}\n"
    ".cards{display:flex;flex-wrap:wrap;gap:10px}\n"
    ".card{flex:1 1 0;min-width:110px;background:#fff;"
    "border:1px solid #d1d9e0;border-radius:8px;padding:10px 14px}\n"
    ".card.wide{flex-grow:1.6}\n"
    ".card b{display:block;font-size:20px}\n"
    ".card span{color:#59636e;font-size:11px;text-transform:uppercase;"
    "white-space:nowrap;"
    "letter-spacing:.04em}\n"
    ".tbl{overflow-x:auto;background:#fff;border:1px solid #d1d9e0;"
    "border-radius:8px}\n"
    "table{border-collapse:collapse;width:100%}\n"
    "tr:last-child td{border-bottom:0}\n"
    "th,td{padding:5px 10px;text-align:left;"
    "border-bottom:1px solid #eaeef2;white-space:nowrap}\n"
    "th{background:#f0f2f5;font-weight:600;font-size:12px;"
    "color:#3d444d}\n"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}\n"
    "td.w{white-space:normal;word-break:break-all}\n"
    ".pill{display:inline-block;min-width:68px;text-align:center;"
    "border-radius:10px;padding:1px 8px;font-weight:600;font-size:12px}\n"
    ".up{background:#dafbe1;color:#116329}\n"
    ".down{background:#ffebe9;color:#a40e26}\n"
    ".half{background:#fff8c5;color:#7d4e00}\n"
    ".bar{position:relative;height:14px;width:170px;background:#eaeef2;"
    "border-radius:7px;overflow:hidden}\n"
    ".bar i{position:absolute;top:0;bottom:0}\n"
    ".u{background:#2f81f7}.u.hi{background:#d1242f}"
    ".u.mid{background:#bf8700}\n"
    ".r{background:repeating-linear-gradient(45deg,#8fb8f8,#8fb8f8 3px,"
    "#c7dbfb 3px,#c7dbfb 6px)}\n"
    ".muted{color:#59636e}\n"
    "small{display:block;color:#59636e;font-size:12px}\n"
    ".empty{background:#fff;border:1px dashed #d1d9e0;border-radius:8px;"
    "padding:10px 14px;color:#59636e}\n"
    "footer{margin-top:24px;color:#59636e;font-size:12px}\n"
    "</style></head><body><main>\n"
    "<h1>LLM router status</h1>\n");


static ngx_str_t  ngx_http_llm_status_types[] = {
    ngx_null_string,
    ngx_string("text/plain; version=0.0.4"),
    ngx_string("application/json"),
    ngx_string("text/html; charset=utf-8")
};


char *
ngx_http_llm_status_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_llm_loc_conf_t *lcf = conf;

    ngx_str_t                 *value;
    ngx_http_core_loc_conf_t  *clcf;

    if (lcf->status_format) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 1) {
        lcf->status_format = NGX_HTTP_LLM_STATUS_PROMETHEUS;

    } else if (value[1].len == 10
               && ngx_strncmp(value[1].data, "prometheus", 10) == 0)
    {
        lcf->status_format = NGX_HTTP_LLM_STATUS_PROMETHEUS;

    } else if (value[1].len == 4
               && ngx_strncmp(value[1].data, "json", 4) == 0)
    {
        lcf->status_format = NGX_HTTP_LLM_STATUS_JSON;

    } else if (value[1].len == 4
               && ngx_strncmp(value[1].data, "html", 4) == 0)
    {
        lcf->status_format = NGX_HTTP_LLM_STATUS_HTML;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid format \"%V\" in \"%V\" directive, "
                           "it must be \"prometheus\", \"json\" or \"html\"",
                           &value[1], &cmd->name);
        return NGX_CONF_ERROR;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_llm_status_handler;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_llm_status_handler(ngx_http_request_t *r)
{
    ngx_int_t                 rc;
    ngx_chain_t              *cl;
    ngx_http_llm_status_t    *st;
    ngx_http_llm_writer_t     w;
    ngx_http_llm_loc_conf_t  *lcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_llm_router_module);

    r->headers_out.content_type =
                                ngx_http_llm_status_types[lcf->status_format];
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    r->headers_out.status = NGX_HTTP_OK;

    if (r->method == NGX_HTTP_HEAD) {
        return ngx_http_send_header(r);
    }

    st = ngx_pcalloc(r->pool, sizeof(ngx_http_llm_status_t));
    if (st == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_llm_status_collect(r, st) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memzero(&w, sizeof(ngx_http_llm_writer_t));
    w.pool = r->pool;
    w.last = &w.out;

    switch (lcf->status_format) {

    case NGX_HTTP_LLM_STATUS_JSON:
        rc = ngx_http_llm_status_json(st, &w);
        break;

    case NGX_HTTP_LLM_STATUS_HTML:
        rc = ngx_http_llm_status_html(st, &w);
        break;

    default: /* NGX_HTTP_LLM_STATUS_PROMETHEUS */
        rc = ngx_http_llm_status_prometheus(st, &w);
    }

    if (rc != NGX_OK || w.error || w.out == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (cl = w.out; cl->next; cl = cl->next) { /* void */ }

    cl->buf->last_buf = 1;
    cl->buf->last_in_chain = 1;

    r->headers_out.content_length_n = w.size;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, w.out);
}


/* the snapshot: providers, series and the zone's totals */

static ngx_int_t
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

        switch (s->type) {
        case NGX_HTTP_LLM_SERIES_REQUESTS:
            n = 4;
            break;
        case NGX_HTTP_LLM_SERIES_TENANT:
            n = 2;
            break;
        case NGX_HTTP_LLM_SERIES_BUDGET:
            n = 3;
            break;
        default:
            continue;
        }

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
            st->errors += s->v[NGX_HTTP_LLM_V_REQUESTS];
        }
    }

    return ngx_http_llm_status_budgets(r, st);
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
    st->usage_missing = sh->usage_missing;
    st->started = sh->started;

    /* the providers of this configuration, in its order */

    prov = lmcf->providers.elts;

    for (i = 0; i < lmcf->providers.nelts; i++) {
        node = prov[i].shm;
        sp = &st->providers[st->nproviders++];

        sp->name = prov[i].name;
        sp->max_fails = prov[i].max_fails;

        if (node == NULL) {
            continue;
        }

        sp->fails = node->fails;
        sp->attempts = node->attempts;
        sp->failures = node->failures;
        sp->opened = node->circuit_opened;

        if (prov[i].max_fails == 0 || node->open_until == 0) {
            sp->state = NGX_HTTP_LLM_CIRCUIT_CLOSED;

        } else if ((ngx_msec_int_t) (st->now_msec - node->open_until) < 0) {
            sp->state = NGX_HTTP_LLM_CIRCUIT_OPEN;
            sp->retry_in = node->open_until - st->now_msec;

        } else {
            /* a trial request is allowed, or in flight */
            sp->state = NGX_HTTP_LLM_CIRCUIT_HALF_OPEN;
        }

        ngx_http_llm_status_hist_copy(&sp->latency, node->latency,
                                      node->latency_sum);
        ngx_http_llm_status_hist_copy(&sp->ttft, node->ttft, node->ttft_sum);
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
 * A budget series keeps its window's start and end; when the window has
 * ended and nothing was counted since, the next window shows empty.
 */

static ngx_int_t
ngx_http_llm_status_budgets(ngx_http_request_t *r, ngx_http_llm_status_t *st)
{
    time_t                         len;
    ngx_uint_t                     i, j;
    ngx_http_llm_status_series_t  *s;

    for (i = st->first[NGX_HTTP_LLM_SERIES_BUDGET];
         i < st->last[NGX_HTTP_LLM_SERIES_BUDGET];
         i++)
    {
        s = &st->series[i];

        s->metric = -1;

        for (j = 0; j < 3; j++) {
            if (ngx_strcmp(s->f[2].data, ngx_http_llm_status_metrics[j]) == 0)
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
    }

    return NGX_OK;
}


/* Prometheus text format 0.0.4 */

static ngx_int_t
ngx_http_llm_status_prometheus(ngx_http_llm_status_t *st,
    ngx_http_llm_writer_t *w)
{
    u_char                          *p, buf[NGX_INT64_LEN * 2 + 4];
    int64_t                          sum[NGX_HTTP_LLM_SERIES_NVALUES];
    ngx_uint_t                       i, j, k, first, last;
    ngx_http_llm_status_series_t    *s, *g;
    ngx_http_llm_status_provider_t  *sp;

    static const char  *req_labels[] = { "route", "provider", "model",
                                         "status" };
    static const char  *ten_labels[] = { "tenant", "model" };
    static const char  *bud_labels[] = { "budget", "key", "metric" };
    static const char  *prov_labels[] = { "provider" };

    static struct {
        ngx_uint_t   v;
        const char  *name;
        const char  *help;
    } usage[] = {
        { NGX_HTTP_LLM_V_PROMPT, "llm_prompt_tokens_total",
          "Prompt (input) tokens, as reported by providers." },
        { NGX_HTTP_LLM_V_COMPLETION, "llm_completion_tokens_total",
          "Completion (output) tokens, as reported by providers." },
        { NGX_HTTP_LLM_V_CACHED, "llm_cached_tokens_total",
          "Cached prompt tokens, as reported by providers." },
        { NGX_HTTP_LLM_V_COST, "llm_cost_usd_total",
          "Cost in USD, from llm_price." },
        { NGX_HTTP_LLM_V_USAGE_MISSING, "llm_usage_missing_total",
          "Served requests whose answer carried no usage "
          "(charged their reservation)." }
    };

    static struct {
        ngx_uint_t   v;
        const char  *name;
        const char  *help;
    } tenant[] = {
        { NGX_HTTP_LLM_V_REQUESTS, "llm_tenant_requests_total",
          "Requests by tenant (llm_client_keys) and requested model." },
        { NGX_HTTP_LLM_V_PROMPT, "llm_tenant_prompt_tokens_total",
          "Prompt tokens by tenant and model." },
        { NGX_HTTP_LLM_V_COMPLETION, "llm_tenant_completion_tokens_total",
          "Completion tokens by tenant and model." },
        { NGX_HTTP_LLM_V_CACHED, "llm_tenant_cached_tokens_total",
          "Cached prompt tokens by tenant and model." },
        { NGX_HTTP_LLM_V_COST, "llm_tenant_cost_usd_total",
          "Cost in USD by tenant and model." }
    };

    static struct {
        ngx_uint_t   what;
        const char  *name;
        const char  *type;
        const char  *help;
    } budget[] = {
        { 0, "llm_budget_limit", "gauge",
          "Budget limit per window (USD for metric=\"cost\")." },
        { 1, "llm_budget_used", "gauge",
          "Budget used in the current window." },
        { 2, "llm_budget_reserved", "gauge",
          "Budget reserved by requests in flight." },
        { 3, "llm_budget_remaining", "gauge",
          "Budget left: limit - used - reserved, at least 0." },
        { 4, "llm_budget_window_end_seconds", "gauge",
          "Unix time at which the budget's window resets." },
        { 5, "llm_budget_rejected_requests_total", "counter",
          "Requests rejected by this budget." }
    };

    /* requests */

    ngx_http_llm_prom_family(w, "llm_requests_total", "counter",
                             "Requests by route, provider, model and "
                             "status.");

    first = st->first[NGX_HTTP_LLM_SERIES_REQUESTS];
    last = st->last[NGX_HTTP_LLM_SERIES_REQUESTS];

    for (i = first; i < last; i++) {
        s = &st->series[i];
        ngx_http_llm_printf(w, "llm_requests_total");
        ngx_http_llm_prom_labels(w, req_labels, s->f, 4, NULL);
        ngx_http_llm_printf(w, " %L\n", s->v[NGX_HTTP_LLM_V_REQUESTS]);
    }

    /* usage by route, provider and model: the statuses summed */

    for (k = 0; k < sizeof(usage) / sizeof(usage[0]); k++) {
        ngx_http_llm_prom_family(w, usage[k].name, "counter", usage[k].help);

        for (i = first; i < last; i = j) {
            g = &st->series[i];
            ngx_memzero(sum, sizeof(sum));

            for (j = i; j < last; j++) {
                s = &st->series[j];

                if (s->f[0].len != g->f[0].len || s->f[1].len != g->f[1].len
                    || s->f[2].len != g->f[2].len
                    || ngx_strcmp(s->f[0].data, g->f[0].data) != 0
                    || ngx_strcmp(s->f[1].data, g->f[1].data) != 0
                    || ngx_strcmp(s->f[2].data, g->f[2].data) != 0)
                {
                    break;
                }

                sum[usage[k].v] += s->v[usage[k].v];
            }

            ngx_http_llm_printf(w, "%s", usage[k].name);
            ngx_http_llm_prom_labels(w, req_labels, g->f, 3, NULL);

            if (usage[k].v == NGX_HTTP_LLM_V_COST) {
                p = ngx_http_llm_usd(buf, sum[usage[k].v]);
                ngx_http_llm_printf(w, " %*s\n", p - buf, buf);

            } else {
                ngx_http_llm_printf(w, " %L\n", sum[usage[k].v]);
            }
        }
    }

    /* zone-wide counters */

    ngx_http_llm_prom_family(w, "llm_failovers_total", "counter",
                             "Requests that were tried on more than one "
                             "provider.");
    ngx_http_llm_printf(w, "llm_failovers_total %L\n", st->failovers);

    ngx_http_llm_prom_family(w, "llm_budget_rejections_total", "counter",
                             "Requests rejected by any budget (429).");
    ngx_http_llm_printf(w, "llm_budget_rejections_total %L\n",
                        st->budget_rejections);

    /* providers */

    ngx_http_llm_prom_family(w, "llm_provider_attempts_total", "counter",
                             "Attempts sent to a provider.");

    for (i = 0; i < st->nproviders; i++) {
        sp = &st->providers[i];
        ngx_http_llm_printf(w, "llm_provider_attempts_total");
        ngx_http_llm_prom_labels(w, prov_labels, &sp->name, 1, NULL);
        ngx_http_llm_printf(w, " %uL\n", sp->attempts);
    }

    ngx_http_llm_prom_family(w, "llm_provider_failures_total", "counter",
                             "Attempts that failed (fail_on outcomes).");

    for (i = 0; i < st->nproviders; i++) {
        sp = &st->providers[i];
        ngx_http_llm_printf(w, "llm_provider_failures_total");
        ngx_http_llm_prom_labels(w, prov_labels, &sp->name, 1, NULL);
        ngx_http_llm_printf(w, " %uL\n", sp->failures);
    }

    ngx_http_llm_prom_family(w, "llm_provider_circuit_state", "gauge",
                             "Circuit breaker: 0 closed, 1 open, "
                             "2 half-open.");

    for (i = 0; i < st->nproviders; i++) {
        sp = &st->providers[i];
        ngx_http_llm_printf(w, "llm_provider_circuit_state");
        ngx_http_llm_prom_labels(w, prov_labels, &sp->name, 1, NULL);
        ngx_http_llm_printf(w, " %ui\n", sp->state);
    }

    ngx_http_llm_prom_family(w, "llm_provider_circuit_opened_total",
                             "counter", "Times the circuit breaker opened.");

    for (i = 0; i < st->nproviders; i++) {
        sp = &st->providers[i];
        ngx_http_llm_printf(w, "llm_provider_circuit_opened_total");
        ngx_http_llm_prom_labels(w, prov_labels, &sp->name, 1, NULL);
        ngx_http_llm_printf(w, " %L\n", sp->opened);
    }

    ngx_http_llm_prom_family(w, "llm_provider_latency_seconds", "histogram",
                             "Duration of requests a provider served, "
                             "to the last byte.");

    for (i = 0; i < st->nproviders; i++) {
        sp = &st->providers[i];
        ngx_http_llm_prom_hist(w, "llm_provider_latency_seconds", &sp->name,
                               &sp->latency);
    }

    ngx_http_llm_prom_family(w, "llm_provider_ttft_seconds", "histogram",
                             "Time to the first response byte from the "
                             "provider that served.");

    for (i = 0; i < st->nproviders; i++) {
        sp = &st->providers[i];
        ngx_http_llm_prom_hist(w, "llm_provider_ttft_seconds", &sp->name,
                               &sp->ttft);
    }

    /* budgets */

    first = st->first[NGX_HTTP_LLM_SERIES_BUDGET];
    last = st->last[NGX_HTTP_LLM_SERIES_BUDGET];

    for (k = 0; k < sizeof(budget) / sizeof(budget[0]); k++) {
        ngx_http_llm_prom_family(w, budget[k].name, budget[k].type,
                                 budget[k].help);

        for (i = first; i < last; i++) {
            s = &st->series[i];

            if (k == 4 && s->end == 0) {
                continue;
            }

            ngx_http_llm_printf(w, "%s", budget[k].name);
            ngx_http_llm_prom_labels(w, bud_labels, s->f, 3, NULL);

            switch (budget[k].what) {
            case 0:
                sum[0] = s->limit;
                break;
            case 1:
                sum[0] = s->used;
                break;
            case 2:
                sum[0] = s->reserved;
                break;
            case 3:
                sum[0] = s->remaining;
                break;
            case 4:
                ngx_http_llm_printf(w, " %T\n", s->end);
                continue;
            default:
                ngx_http_llm_printf(w, " %L\n",
                                    s->v[NGX_HTTP_LLM_V_REJECTED]);
                continue;
            }

            if (s->metric == NGX_HTTP_LLM_METRIC_COST) {
                p = ngx_http_llm_usd(buf, sum[0]);
                ngx_http_llm_printf(w, " %*s\n", p - buf, buf);

            } else {
                ngx_http_llm_printf(w, " %L\n", sum[0]);
            }
        }
    }

    /* tenants */

    first = st->first[NGX_HTTP_LLM_SERIES_TENANT];
    last = st->last[NGX_HTTP_LLM_SERIES_TENANT];

    for (k = 0; k < sizeof(tenant) / sizeof(tenant[0]); k++) {
        ngx_http_llm_prom_family(w, tenant[k].name, "counter",
                                 tenant[k].help);

        for (i = first; i < last; i++) {
            s = &st->series[i];

            ngx_http_llm_printf(w, "%s", tenant[k].name);
            ngx_http_llm_prom_labels(w, ten_labels, s->f, 2, NULL);

            if (tenant[k].v == NGX_HTTP_LLM_V_COST) {
                p = ngx_http_llm_usd(buf, s->v[tenant[k].v]);
                ngx_http_llm_printf(w, " %*s\n", p - buf, buf);

            } else {
                ngx_http_llm_printf(w, " %L\n", s->v[tenant[k].v]);
            }
        }
    }

    /* the zone */

    if (st->zone) {
        ngx_http_llm_prom_family(w, "llm_zone_series", "gauge",
                                 "Counter series held in the zone.");
        ngx_http_llm_printf(w, "llm_zone_series %L\n", st->zone_series);

        ngx_http_llm_prom_family(w, "llm_zone_evictions_total", "counter",
                                 "Series evicted (least recently used) "
                                 "when the zone was full.");
        ngx_http_llm_printf(w, "llm_zone_evictions_total %L\n", st->evicted);

        ngx_http_llm_prom_family(w, "llm_zone_size_bytes", "gauge",
                                 "Size of the zone.");
        ngx_http_llm_printf(w, "llm_zone_size_bytes %uz\n", st->zone_size);

        ngx_http_llm_prom_family(w, "llm_zone_free_bytes", "gauge",
                                 "Free pages of the zone, in bytes.");
        ngx_http_llm_printf(w, "llm_zone_free_bytes %uz\n", st->zone_free);

        ngx_http_llm_prom_family(w, "llm_zone_start_time_seconds", "gauge",
                                 "Unix time at which the counters started.");
        ngx_http_llm_printf(w, "llm_zone_start_time_seconds %T\n",
                            st->started);
    }

    return NGX_OK;
}


static void
ngx_http_llm_prom_family(ngx_http_llm_writer_t *w, const char *name,
    const char *type, const char *help)
{
    ngx_http_llm_printf(w, "# HELP %s %s\n# TYPE %s %s\n",
                        name, help, name, type);
}


/* {name="value",...}: '\\', '"' and newline escaped */

static void
ngx_http_llm_prom_labels(ngx_http_llm_writer_t *w, const char **names,
    ngx_str_t *values, ngx_uint_t n, const char *le)
{
    u_char      *p, *end, *start;
    ngx_uint_t   i;

    for (i = 0; i < n; i++) {
        ngx_http_llm_printf(w, "%s%s=\"", i ? "," : "{", names[i]);

        p = values[i].data;
        end = p + values[i].len;
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
ngx_http_llm_prom_hist(ngx_http_llm_writer_t *w, const char *name,
    ngx_str_t *provider, ngx_http_llm_status_hist_t *h)
{
    u_char      *p, buf[NGX_INT64_LEN + 8];
    int64_t      cum;
    ngx_uint_t   i;

    static const char  *labels[] = { "provider" };

    cum = 0;

    for (i = 0; i < NGX_HTTP_LLM_HIST_BUCKETS; i++) {
        cum += h->b[i];

        ngx_http_llm_printf(w, "%s_bucket", name);
        ngx_http_llm_prom_labels(w, labels, provider, 1, ngx_http_llm_le[i]);
        ngx_http_llm_printf(w, " %L\n", cum);
    }

    p = ngx_http_llm_seconds(buf, h->sum);

    ngx_http_llm_printf(w, "%s_sum", name);
    ngx_http_llm_prom_labels(w, labels, provider, 1, NULL);
    ngx_http_llm_printf(w, " %*s\n", p - buf, buf);

    ngx_http_llm_printf(w, "%s_count", name);
    ngx_http_llm_prom_labels(w, labels, provider, 1, NULL);
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


/* JSON */

static ngx_int_t
ngx_http_llm_status_json(ngx_http_llm_status_t *st, ngx_http_llm_writer_t *w)
{
    char                            *text;
    ngx_int_t                        rc;
    ngx_uint_t                       i, ok;
    cJSON                           *root, *o, *a, *e, *h;
    ngx_http_llm_status_series_t    *s;
    ngx_http_llm_status_provider_t  *sp;

    root = cJSON_CreateObject();
    if (root == NULL) {
        return NGX_ERROR;
    }

    ok = (cJSON_AddNumberToObject(root, "time", (double) st->now) != NULL);

    /* the zone */

    o = cJSON_AddObjectToObject(root, "zone");
    ok = ok && o;

    if (o && st->zone) {
        ok = ok
             && cJSON_AddStringToObject(o, "name",
                                        (char *) st->zone_name.data)
             && cJSON_AddNumberToObject(o, "size", (double) st->zone_size)
             && cJSON_AddNumberToObject(o, "free", (double) st->zone_free)
             && cJSON_AddNumberToObject(o, "series",
                                        (double) st->zone_series)
             && cJSON_AddNumberToObject(o, "evictions",
                                        (double) st->evicted)
             && cJSON_AddNumberToObject(o, "started", (double) st->started);
    }

    /* totals */

    o = cJSON_AddObjectToObject(root, "totals");

    ok = ok && o
         && ngx_http_llm_json_usage(o, st->total)
         && cJSON_AddNumberToObject(o, "errors", (double) st->errors)
         && cJSON_AddNumberToObject(o, "failovers", (double) st->failovers)
         && cJSON_AddNumberToObject(o, "budget_rejections",
                                    (double) st->budget_rejections);

    if (o && st->zone) {
        /* the zone's own count survives evictions */
        cJSON_DeleteItemFromObject(o, "usage_missing");
        ok = ok && cJSON_AddNumberToObject(o, "usage_missing",
                                           (double) st->usage_missing);
    }

    /* providers */

    a = cJSON_AddArrayToObject(root, "providers");
    ok = ok && a;

    for (i = 0; ok && i < st->nproviders; i++) {
        sp = &st->providers[i];

        e = cJSON_CreateObject();
        if (e == NULL) {
            ok = 0;
            break;
        }

        cJSON_AddItemToArray(a, e);

        ok = (cJSON_AddStringToObject(e, "name", (char *) sp->name.data)
              != NULL);

        ok = ok
             && cJSON_AddStringToObject(e, "state",
                                        ngx_http_llm_circuit_names[sp->state])
             && cJSON_AddNumberToObject(e, "state_code", (double) sp->state)
             && cJSON_AddBoolToObject(e, "up", sp->state
                                               != NGX_HTTP_LLM_CIRCUIT_OPEN)
             && cJSON_AddNumberToObject(e, "retry_in_ms",
                                        (double) sp->retry_in)
             && cJSON_AddNumberToObject(e, "fails", (double) sp->fails)
             && cJSON_AddNumberToObject(e, "max_fails",
                                        (double) sp->max_fails)
             && cJSON_AddNumberToObject(e, "attempts", (double) sp->attempts)
             && cJSON_AddNumberToObject(e, "failures", (double) sp->failures)
             && cJSON_AddNumberToObject(e, "circuit_opened",
                                        (double) sp->opened);

        if (ok) {
            h = ngx_http_llm_json_hist(&sp->latency);
            ok = (h != NULL);

            if (ok) {
                cJSON_AddItemToObject(e, "latency", h);
            }
        }

        if (ok) {
            h = ngx_http_llm_json_hist(&sp->ttft);
            ok = (h != NULL);

            if (ok) {
                cJSON_AddItemToObject(e, "ttft", h);
            }
        }
    }

    /* requests */

    a = cJSON_AddArrayToObject(root, "requests");
    ok = ok && a;

    for (i = st->first[NGX_HTTP_LLM_SERIES_REQUESTS];
         ok && i < st->last[NGX_HTTP_LLM_SERIES_REQUESTS];
         i++)
    {
        s = &st->series[i];

        e = cJSON_CreateObject();
        if (e == NULL) {
            ok = 0;
            break;
        }

        cJSON_AddItemToArray(a, e);

        rc = ngx_atoi(s->f[3].data, s->f[3].len);

        ok = cJSON_AddStringToObject(e, "route", (char *) s->f[0].data)
             && cJSON_AddStringToObject(e, "provider", (char *) s->f[1].data)
             && cJSON_AddStringToObject(e, "model", (char *) s->f[2].data)
             && cJSON_AddNumberToObject(e, "status",
                                        rc == NGX_ERROR ? 0 : (double) rc)
             && ngx_http_llm_json_usage(e, s->v);
    }

    /* tenants */

    a = cJSON_AddArrayToObject(root, "tenants");
    ok = ok && a;

    for (i = st->first[NGX_HTTP_LLM_SERIES_TENANT];
         ok && i < st->last[NGX_HTTP_LLM_SERIES_TENANT];
         i++)
    {
        s = &st->series[i];

        e = cJSON_CreateObject();
        if (e == NULL) {
            ok = 0;
            break;
        }

        cJSON_AddItemToArray(a, e);

        ok = cJSON_AddStringToObject(e, "tenant", (char *) s->f[0].data)
             && cJSON_AddStringToObject(e, "model", (char *) s->f[1].data)
             && ngx_http_llm_json_usage(e, s->v);
    }

    /* budgets */

    a = cJSON_AddArrayToObject(root, "budgets");
    ok = ok && a;

    for (i = st->first[NGX_HTTP_LLM_SERIES_BUDGET];
         ok && i < st->last[NGX_HTTP_LLM_SERIES_BUDGET];
         i++)
    {
        s = &st->series[i];

        e = cJSON_CreateObject();
        if (e == NULL) {
            ok = 0;
            break;
        }

        cJSON_AddItemToArray(a, e);

        ok = cJSON_AddStringToObject(e, "name", (char *) s->f[0].data)
             && cJSON_AddStringToObject(e, "key", (char *) s->f[1].data)
             && cJSON_AddStringToObject(e, "metric", (char *) s->f[2].data);

        if (s->metric == NGX_HTTP_LLM_METRIC_COST) {
            ok = ok
                 && cJSON_AddNumberToObject(e, "limit", s->limit / 1e9)
                 && cJSON_AddNumberToObject(e, "used", s->used / 1e9)
                 && cJSON_AddNumberToObject(e, "reserved",
                                            s->reserved / 1e9)
                 && cJSON_AddNumberToObject(e, "remaining",
                                            s->remaining / 1e9);

        } else {
            ok = ok
                 && cJSON_AddNumberToObject(e, "limit", (double) s->limit)
                 && cJSON_AddNumberToObject(e, "used", (double) s->used)
                 && cJSON_AddNumberToObject(e, "reserved",
                                            (double) s->reserved)
                 && cJSON_AddNumberToObject(e, "remaining",
                                            (double) s->remaining);
        }

        ok = ok
             && cJSON_AddNumberToObject(e, "rejected",
                                        (double) s->v[NGX_HTTP_LLM_V_REJECTED])
             && cJSON_AddNumberToObject(e, "window_start", (double) s->start);

        if (ok) {
            if (s->end) {
                ok = cJSON_AddNumberToObject(e, "window_end", (double) s->end)
                     && cJSON_AddNumberToObject(e, "reset_in",
                                                (double) (s->end - st->now));

            } else {
                ok = cJSON_AddNullToObject(e, "window_end")
                     && cJSON_AddNullToObject(e, "reset_in");
            }
        }
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


static ngx_uint_t
ngx_http_llm_json_usage(cJSON *o, int64_t *v)
{
    return cJSON_AddNumberToObject(o, "requests",
                                   (double) v[NGX_HTTP_LLM_V_REQUESTS])
           && cJSON_AddNumberToObject(o, "prompt_tokens",
                                      (double) v[NGX_HTTP_LLM_V_PROMPT])
           && cJSON_AddNumberToObject(o, "completion_tokens",
                                      (double) v[NGX_HTTP_LLM_V_COMPLETION])
           && cJSON_AddNumberToObject(o, "cached_tokens",
                                      (double) v[NGX_HTTP_LLM_V_CACHED])
           && cJSON_AddNumberToObject(o, "cost_usd",
                                      v[NGX_HTTP_LLM_V_COST] / 1e9)
           && cJSON_AddNumberToObject(o, "cost_nano_usd",
                                      (double) v[NGX_HTTP_LLM_V_COST])
           && cJSON_AddNumberToObject(o, "usage_missing",
                                 (double) v[NGX_HTTP_LLM_V_USAGE_MISSING]);
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


/*
 * A quantile from the buckets, interpolated as Prometheus'
 * histogram_quantile(); "over" is set when it falls past the last bound.
 */

static ngx_msec_t
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


/* HTML */

static ngx_int_t
ngx_http_llm_status_html(ngx_http_llm_status_t *st, ngx_http_llm_writer_t *w)
{
    int64_t                          sum[NGX_HTTP_LLM_SERIES_NVALUES];
    int64_t                          errors, pct_used, pct_res;
    ngx_uint_t                       i, j, k, first, last, up, down, half;
    ngx_uint_t                       over;
    ngx_msec_t                       ms;
    ngx_http_llm_status_series_t    *s, *g;
    ngx_http_llm_status_provider_t  *sp;

    static const char  *state_class[] = { "up", "down", "half" };
    static const char  *state_text[] = { "up", "down", "half-open" };

    ngx_http_llm_write(w, ngx_http_llm_html_head.data,
                       ngx_http_llm_html_head.len);

    /* providers at a glance */

    up = 0;
    down = 0;
    half = 0;

    for (i = 0; i < st->nproviders; i++) {
        switch (st->providers[i].state) {
        case NGX_HTTP_LLM_CIRCUIT_OPEN:
            down++;
            break;
        case NGX_HTTP_LLM_CIRCUIT_HALF_OPEN:
            half++;
            break;
        default:
            up++;
        }
    }

    ngx_http_llm_printf(w, "<p class=\"sub\">%ui provider%s: "
                        "<span class=\"pill up\">%ui up</span> "
                        "<span class=\"pill down\">%ui down</span> "
                        "<span class=\"pill half\">%ui half-open</span>"
                        " &middot; generated ",
                        st->nproviders, st->nproviders == 1 ? "" : "s",
                        up, down, half);
    ngx_http_llm_html_time(w, st->now, 0);

    if (st->zone) {
        ngx_http_llm_printf(w, " &middot; counting since ");
        ngx_http_llm_html_time(w, st->started, 0);
    }

    ngx_http_llm_printf(w, "</p>\n");

    /* totals */

    ngx_http_llm_printf(w, "<div class=\"cards\">\n"
                        "<div class=\"card\"><span>Requests</span><b>");
    ngx_http_llm_html_number(w, st->total[NGX_HTTP_LLM_V_REQUESTS]);
    ngx_http_llm_printf(w, "</b></div>\n"
                        "<div class=\"card\"><span>Errors (4xx/5xx)</span>"
                        "<b>");
    ngx_http_llm_html_number(w, st->errors);
    ngx_http_llm_printf(w, "</b></div>\n"
                        "<div class=\"card wide\"><span>Tokens in / out"
                        "</span><b>");
    ngx_http_llm_html_number(w, st->total[NGX_HTTP_LLM_V_PROMPT]);
    ngx_http_llm_printf(w, " / ");
    ngx_http_llm_html_number(w, st->total[NGX_HTTP_LLM_V_COMPLETION]);
    ngx_http_llm_printf(w, "</b></div>\n"
                        "<div class=\"card\"><span>Cost</span><b>");
    ngx_http_llm_html_usd(w, st->total[NGX_HTTP_LLM_V_COST]);
    ngx_http_llm_printf(w, "</b></div>\n"
                        "<div class=\"card\"><span>Failovers</span><b>");
    ngx_http_llm_html_number(w, st->failovers);
    ngx_http_llm_printf(w, "</b></div>\n"
                        "<div class=\"card\"><span>Over budget (429)</span>"
                        "<b>");
    ngx_http_llm_html_number(w, st->budget_rejections);
    ngx_http_llm_printf(w, "</b></div>\n"
                        "<div class=\"card\"><span>Usage missing</span><b>");
    ngx_http_llm_html_number(w, st->zone ? st->usage_missing
                                : st->total[NGX_HTTP_LLM_V_USAGE_MISSING]);
    ngx_http_llm_printf(w, "</b></div>\n</div>\n");

    /* providers */

    ngx_http_llm_printf(w, "<h2>Providers</h2>\n");

    if (st->nproviders == 0) {
        ngx_http_llm_printf(w, "<div class=\"empty\">No llm_upstream is "
                            "configured.</div>\n");

    } else {
        ngx_http_llm_printf(w,
            "<div class=\"tbl\"><table><tr><th>State</th><th>Provider</th>"
            "<th class=\"n\">Attempts</th><th class=\"n\">Failures</th>"
            "<th class=\"n\">Failure rate</th>"
            "<th class=\"n\">Latency p50</th><th class=\"n\">p95</th>"
            "<th class=\"n\">TTFT p50</th>"
            "<th class=\"n\">Circuit opened</th><th>Circuit</th></tr>\n");

        for (i = 0; i < st->nproviders; i++) {
            sp = &st->providers[i];

            ngx_http_llm_printf(w, "<tr><td><span class=\"pill %s\">%s"
                                "</span></td><td><b>",
                                state_class[sp->state],
                                state_text[sp->state]);
            ngx_http_llm_html_label(w, &sp->name);
            ngx_http_llm_printf(w, "</b></td><td class=\"n\">");
            ngx_http_llm_html_number(w, (int64_t) sp->attempts);
            ngx_http_llm_printf(w, "</td><td class=\"n\">");
            ngx_http_llm_html_number(w, (int64_t) sp->failures);
            ngx_http_llm_printf(w, "</td><td class=\"n\">");

            if (sp->attempts) {
                ngx_http_llm_printf(w, "%.1f%%",
                                    100.0 * (double) sp->failures
                                    / (double) sp->attempts);

            } else {
                ngx_http_llm_printf(w, "&mdash;");
            }

            ngx_http_llm_printf(w, "</td><td class=\"n\">");
            ms = ngx_http_llm_quantile(&sp->latency, 0.5, &over);
            ngx_http_llm_html_ms(w, sp->latency.count
                                    ? ms : NGX_HTTP_LLM_STATUS_NONE, over);
            ngx_http_llm_printf(w, "</td><td class=\"n\">");
            ms = ngx_http_llm_quantile(&sp->latency, 0.95, &over);
            ngx_http_llm_html_ms(w, sp->latency.count
                                    ? ms : NGX_HTTP_LLM_STATUS_NONE, over);
            ngx_http_llm_printf(w, "</td><td class=\"n\">");
            ms = ngx_http_llm_quantile(&sp->ttft, 0.5, &over);
            ngx_http_llm_html_ms(w, sp->ttft.count
                                    ? ms : NGX_HTTP_LLM_STATUS_NONE, over);
            ngx_http_llm_printf(w, "</td><td class=\"n\">");
            ngx_http_llm_html_number(w, sp->opened);
            ngx_http_llm_printf(w, "</td><td class=\"muted\">");

            switch (sp->state) {
            case NGX_HTTP_LLM_CIRCUIT_OPEN:
                ngx_http_llm_printf(w, "open, trial in ");
                ngx_http_llm_html_ms(w, sp->retry_in, 0);
                break;
            case NGX_HTTP_LLM_CIRCUIT_HALF_OPEN:
                ngx_http_llm_printf(w, "a trial request decides");
                break;
            default:
                if (sp->max_fails == 0) {
                    ngx_http_llm_printf(w, "off (max_fails=0)");

                } else {
                    ngx_http_llm_printf(w, "closed, %ui/%ui fails",
                                        sp->fails, sp->max_fails);
                }
            }

            ngx_http_llm_printf(w, "</td></tr>\n");
        }

        ngx_http_llm_printf(w, "</table></div>\n");
    }

    /* budgets */

    ngx_http_llm_printf(w, "<h2>Budgets left</h2>\n");

    first = st->first[NGX_HTTP_LLM_SERIES_BUDGET];
    last = st->last[NGX_HTTP_LLM_SERIES_BUDGET];

    if (first == last) {
        ngx_http_llm_printf(w, "<div class=\"empty\">No budget has been "
                            "used yet (llm_budget).</div>\n");

    } else {
        ngx_http_llm_printf(w,
            "<div class=\"tbl\"><table><tr><th>Budget</th><th>Key</th>"
            "<th>Metric</th>"
            "<th>Used / reserved</th><th class=\"n\">Used</th>"
            "<th class=\"n\">Reserved</th><th class=\"n\">Limit</th>"
            "<th class=\"n\">Left</th><th class=\"n\">Rejected</th>"
            "<th>Resets</th></tr>\n");

        for (i = first; i < last; i++) {
            s = &st->series[i];

            pct_used = 0;
            pct_res = 0;

            if (s->limit > 0) {
                pct_used = ngx_min(s->used, s->limit) * 1000 / s->limit;
                pct_res = ngx_min(s->reserved, s->limit - ngx_min(s->used,
                                                                  s->limit))
                          * 1000 / s->limit;
            }

            ngx_http_llm_printf(w, "<tr><td><b>");
            ngx_http_llm_html_label(w, &s->f[0]);
            ngx_http_llm_printf(w, "</b></td><td class=\"w\">");
            ngx_http_llm_html_label(w, &s->f[1]);
            ngx_http_llm_printf(w, "</td><td>");
            ngx_http_llm_html_label(w, &s->f[2]);
            ngx_http_llm_printf(w, "</td><td><div class=\"bar\" title=\""
                                "%L.%L%% used\">"
                                "<i class=\"u%s\" style=\"left:0;"
                                "width:%L.%L%%\"></i>"
                                "<i class=\"r\" style=\"left:%L.%L%%;"
                                "width:%L.%L%%\"></i></div></td>"
                                "<td class=\"n\">",
                                pct_used / 10, pct_used % 10,
                                pct_used >= 900 ? " hi"
                                : pct_used >= 700 ? " mid" : "",
                                pct_used / 10, pct_used % 10,
                                pct_used / 10, pct_used % 10,
                                pct_res / 10, pct_res % 10);
            ngx_http_llm_html_budget_value(w, s->metric, s->used);
            ngx_http_llm_printf(w, "</td><td class=\"n\">");
            ngx_http_llm_html_budget_value(w, s->metric, s->reserved);
            ngx_http_llm_printf(w, "</td><td class=\"n\">");
            ngx_http_llm_html_budget_value(w, s->metric, s->limit);
            ngx_http_llm_printf(w, "</td><td class=\"n\"><b>");
            ngx_http_llm_html_budget_value(w, s->metric, s->remaining);
            ngx_http_llm_printf(w, "</b></td><td class=\"n\">");
            ngx_http_llm_html_number(w, s->v[NGX_HTTP_LLM_V_REJECTED]);
            ngx_http_llm_printf(w, "</td><td>");

            if (s->end) {
                ngx_http_llm_html_time(w, s->end, st->now);

            } else {
                ngx_http_llm_printf(w, "<span class=\"muted\">unknown "
                                    "(not configured)</span>");
            }

            ngx_http_llm_printf(w, "</td></tr>\n");
        }

        ngx_http_llm_printf(w, "</table></div>\n");
    }

    /* spend by tenant and model */

    ngx_http_llm_printf(w, "<h2>Spend by tenant and model</h2>\n");

    first = st->first[NGX_HTTP_LLM_SERIES_TENANT];
    last = st->last[NGX_HTTP_LLM_SERIES_TENANT];

    if (first == last) {
        ngx_http_llm_printf(w, "<div class=\"empty\">No tenant traffic yet "
                            "(tenants come from llm_client_keys).</div>\n");

    } else {
        ngx_http_llm_printf(w,
            "<div class=\"tbl\"><table><tr><th>Tenant</th><th>Model</th>"
            "<th class=\"n\">Requests</th><th class=\"n\">Prompt tokens</th>"
            "<th class=\"n\">Completion tokens</th>"
            "<th class=\"n\">Cached tokens</th>"
            "<th class=\"n\">Cost (USD)</th></tr>\n");

        for (i = first; i < last; i++) {
            s = &st->series[i];

            ngx_http_llm_printf(w, "<tr><td class=\"w\"><b>");
            ngx_http_llm_html_label(w, &s->f[0]);
            ngx_http_llm_printf(w, "</b></td><td class=\"w\">");
            ngx_http_llm_html_label(w, &s->f[1]);
            ngx_http_llm_printf(w, "</td><td class=\"n\">");
            ngx_http_llm_html_number(w, s->v[NGX_HTTP_LLM_V_REQUESTS]);
            ngx_http_llm_printf(w, "</td><td class=\"n\">");
            ngx_http_llm_html_number(w, s->v[NGX_HTTP_LLM_V_PROMPT]);
            ngx_http_llm_printf(w, "</td><td class=\"n\">");
            ngx_http_llm_html_number(w, s->v[NGX_HTTP_LLM_V_COMPLETION]);
            ngx_http_llm_printf(w, "</td><td class=\"n\">");
            ngx_http_llm_html_number(w, s->v[NGX_HTTP_LLM_V_CACHED]);
            ngx_http_llm_printf(w, "</td><td class=\"n\">");
            ngx_http_llm_html_usd(w, s->v[NGX_HTTP_LLM_V_COST]);
            ngx_http_llm_printf(w, "</td></tr>\n");
        }

        ngx_http_llm_printf(w, "</table></div>\n");
    }

    /* traffic by route, provider and model, the statuses summed */

    ngx_http_llm_printf(w, "<h2>Traffic by route, provider and model</h2>\n");

    first = st->first[NGX_HTTP_LLM_SERIES_REQUESTS];
    last = st->last[NGX_HTTP_LLM_SERIES_REQUESTS];

    if (first == last) {
        ngx_http_llm_printf(w, "<div class=\"empty\">No requests yet."
                            "</div>\n");

    } else {
        ngx_http_llm_printf(w,
            "<div class=\"tbl\"><table><tr><th>Route</th><th>Provider</th>"
            "<th>Model</th>"
            "<th class=\"n\">Requests</th><th class=\"n\">Errors</th>"
            "<th class=\"n\">Prompt tokens</th>"
            "<th class=\"n\">Completion tokens</th>"
            "<th class=\"n\">Cost (USD)</th></tr>\n");

        for (i = first; i < last; i = j) {
            g = &st->series[i];
            ngx_memzero(sum, sizeof(sum));
            errors = 0;

            for (j = i; j < last; j++) {
                s = &st->series[j];

                if (ngx_strcmp(s->f[0].data, g->f[0].data) != 0
                    || ngx_strcmp(s->f[1].data, g->f[1].data) != 0
                    || ngx_strcmp(s->f[2].data, g->f[2].data) != 0)
                {
                    break;
                }

                for (k = 0; k < NGX_HTTP_LLM_SERIES_NVALUES; k++) {
                    sum[k] += s->v[k];
                }

                if (s->f[3].len == 3 && s->f[3].data[0] >= '4') {
                    errors += s->v[NGX_HTTP_LLM_V_REQUESTS];
                }
            }

            ngx_http_llm_printf(w, "<tr><td class=\"w\">");
            ngx_http_llm_html_label(w, &g->f[0]);
            ngx_http_llm_printf(w, "</td><td>");
            ngx_http_llm_html_label(w, &g->f[1]);
            ngx_http_llm_printf(w, "</td><td class=\"w\">");
            ngx_http_llm_html_label(w, &g->f[2]);
            ngx_http_llm_printf(w, "</td><td class=\"n\">");
            ngx_http_llm_html_number(w, sum[NGX_HTTP_LLM_V_REQUESTS]);
            ngx_http_llm_printf(w, "</td><td class=\"n\">");
            ngx_http_llm_html_number(w, errors);
            ngx_http_llm_printf(w, "</td><td class=\"n\">");
            ngx_http_llm_html_number(w, sum[NGX_HTTP_LLM_V_PROMPT]);
            ngx_http_llm_printf(w, "</td><td class=\"n\">");
            ngx_http_llm_html_number(w, sum[NGX_HTTP_LLM_V_COMPLETION]);
            ngx_http_llm_printf(w, "</td><td class=\"n\">");
            ngx_http_llm_html_usd(w, sum[NGX_HTTP_LLM_V_COST]);
            ngx_http_llm_printf(w, "</td></tr>\n");
        }

        ngx_http_llm_printf(w, "</table></div>\n");
    }

    /* the zone */

    ngx_http_llm_printf(w, "<footer>");

    if (st->zone) {
        ngx_http_llm_printf(w, "llm_zone &ldquo;");
        ngx_http_llm_html_escape(w, &st->zone_name);
        ngx_http_llm_printf(w, "&rdquo;: %uz KB, %uz KB free, ",
                            st->zone_size / 1024, st->zone_free / 1024);
        ngx_http_llm_html_number(w, st->zone_series);
        ngx_http_llm_printf(w, " series, ");
        ngx_http_llm_html_number(w, st->evicted);
        ngx_http_llm_printf(w, " evicted. ");

    } else {
        ngx_http_llm_printf(w, "No llm_zone (no provider is configured). ");
    }

    ngx_http_llm_printf(w, "Also as <code>llm_status prometheus</code> and "
                        "<code>llm_status json</code>.</footer>\n"
                        "</main></body></html>\n");

    return NGX_OK;
}


static void
ngx_http_llm_html_escape(ngx_http_llm_writer_t *w, ngx_str_t *s)
{
    u_char      *p, *end, *start;
    const char  *e;

    p = s->data;
    end = p + s->len;
    start = p;

    for ( /* void */ ; p < end; p++) {

        switch (*p) {
        case '&':
            e = "&amp;";
            break;
        case '<':
            e = "&lt;";
            break;
        case '>':
            e = "&gt;";
            break;
        case '"':
            e = "&quot;";
            break;
        case '\'':
            e = "&#39;";
            break;
        default:
            continue;
        }

        ngx_http_llm_write(w, start, p - start);
        ngx_http_llm_write(w, (u_char *) e, ngx_strlen(e));
        start = p + 1;
    }

    ngx_http_llm_write(w, start, end - start);
}


static void
ngx_http_llm_html_label(ngx_http_llm_writer_t *w, ngx_str_t *s)
{
    if (s->len == 0) {
        ngx_http_llm_printf(w, "<span class=\"muted\">&mdash;</span>");
        return;
    }

    ngx_http_llm_html_escape(w, s);
}


/* 1234567 as 1,234,567 */

static void
ngx_http_llm_html_number(ngx_http_llm_writer_t *w, int64_t n)
{
    u_char  *p, *d, buf[NGX_INT64_LEN], out[NGX_INT64_LEN * 2];
    size_t   len, i;

    p = ngx_sprintf(buf, "%L", n);
    len = p - buf;
    d = out;

    for (i = 0; i < len; i++) {
        *d++ = buf[i];

        if (buf[i] != '-' && i + 1 < len && (len - i - 1) % 3 == 0) {
            *d++ = ',';
        }
    }

    ngx_http_llm_write(w, out, d - out);
}


static void
ngx_http_llm_html_usd(ngx_http_llm_writer_t *w, int64_t nano)
{
    if (nano < 0) {
        ngx_http_llm_printf(w, "-");
        nano = -nano;
    }

    /* cut, never rounded up: what is left is never overstated */

    ngx_http_llm_printf(w, "$");
    ngx_http_llm_html_number(w, nano / 1000000000);

    nano %= 1000000000;

    if (nano % 10000000 == 0) {
        ngx_http_llm_printf(w, ".%02L", nano / 10000000);

    } else if (nano % 100000 == 0) {
        ngx_http_llm_printf(w, ".%04L", nano / 100000);

    } else {
        ngx_http_llm_printf(w, ".%06L", nano / 1000);
    }
}


static void
ngx_http_llm_html_ms(ngx_http_llm_writer_t *w, ngx_msec_t ms, ngx_uint_t over)
{
    if (ms == NGX_HTTP_LLM_STATUS_NONE) {
        ngx_http_llm_printf(w, "<span class=\"muted\">&mdash;</span>");
        return;
    }

    if (over) {
        ngx_http_llm_printf(w, "&gt;");
    }

    if (ms < 1000) {
        ngx_http_llm_printf(w, "%M ms", ms);
        return;
    }

    if (ms < 60000) {
        ngx_http_llm_printf(w, "%M.%M s", ms / 1000, ms % 1000 / 100);
        return;
    }

    ngx_http_llm_printf(w, "%Mm %02Ms", ms / 60000, ms % 60000 / 1000);
}


/* "2024-05-01 00:00 UTC", and "(in 3h 12m)" when now is given */

static void
ngx_http_llm_html_time(ngx_http_llm_writer_t *w, time_t t, time_t now)
{
    time_t    d;
    ngx_tm_t  tm;

    ngx_gmtime(t, &tm);

    ngx_http_llm_printf(w, "%4d-%02d-%02d %02d:%02d UTC",
                        tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                        tm.ngx_tm_hour, tm.ngx_tm_min);

    if (now == 0) {
        return;
    }

    d = t - now;

    if (d < 0) {
        d = 0;
    }

    ngx_http_llm_printf(w, "<small>in ");

    if (d >= 86400) {
        ngx_http_llm_printf(w, "%Td %Th", d / 86400, d % 86400 / 3600);

    } else if (d >= 3600) {
        ngx_http_llm_printf(w, "%Th %Tm", d / 3600, d % 3600 / 60);

    } else if (d >= 60) {
        ngx_http_llm_printf(w, "%Tm %Ts", d / 60, d % 60);

    } else {
        ngx_http_llm_printf(w, "%Ts", d);
    }

    ngx_http_llm_printf(w, "</small>");
}


static void
ngx_http_llm_html_budget_value(ngx_http_llm_writer_t *w, ngx_int_t metric,
    int64_t v)
{
    if (metric == NGX_HTTP_LLM_METRIC_COST) {
        ngx_http_llm_html_usd(w, v);
        return;
    }

    ngx_http_llm_html_number(w, v);
}


/* the writer */

static void
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


static void
ngx_http_llm_printf(ngx_http_llm_writer_t *w, const char *fmt, ...)
{
    u_char   *p, buf[4096];
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf(buf, buf + sizeof(buf), fmt, args);
    va_end(args);

    ngx_http_llm_write(w, buf, p - buf);
}
