
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * Header and body filters: JSON errors in place of nginx's HTML pages,
 * and the SSE stream: the usage-only event the router asked for is
 * removed again, and a stream that ends without its final event is cut.
 */


#include "ngx_http_llm_router.h"
#include "ngx_http_llm_router_scan.h"

#include <cjson/cJSON.h>


#define NGX_HTTP_LLM_CARRY_MAX  (256 * 1024)


static ngx_int_t ngx_http_llm_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_llm_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static ngx_int_t ngx_http_llm_send_error_body(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, ngx_chain_t *in);
static ngx_int_t ngx_http_llm_sse_filter(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, ngx_chain_t *in);
static ngx_int_t ngx_http_llm_sse_end(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, ngx_chain_t ***last);
static u_char *ngx_http_llm_sse_eol(u_char *p, u_char *end);
static ngx_uint_t ngx_http_llm_sse_event(ngx_http_llm_ctx_t *ctx,
    u_char *start, u_char *end, u_char *eol1);
static u_char *ngx_http_llm_sse_join(ngx_http_llm_ctx_t *ctx, size_t size);
static ngx_uint_t ngx_http_llm_sse_member(u_char *p, u_char *last,
    const char *name, u_char c);
static ngx_int_t ngx_http_llm_carry(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, u_char *start, u_char *end);
static ngx_int_t ngx_http_llm_emit(ngx_http_request_t *r,
    ngx_chain_t ***last, u_char *start, u_char *end);
static ngx_int_t ngx_http_llm_emit_flags(ngx_http_request_t *r,
    ngx_chain_t ***last, ngx_buf_t *b);
static ngx_int_t ngx_http_llm_link(ngx_http_request_t *r,
    ngx_chain_t ***last, ngx_buf_t *b);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


ngx_int_t
ngx_http_llm_filter_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_llm_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_llm_body_filter;

    return NGX_OK;
}


static ngx_int_t
ngx_http_llm_header_filter(ngx_http_request_t *r)
{
    ngx_str_t                *ct;
    ngx_http_upstream_t      *u;
    ngx_http_llm_ctx_t       *ctx;
    ngx_http_llm_loc_conf_t  *lcf;

    if (r != r->main) {
        return ngx_http_next_header_filter(r);
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_llm_router_module);
    ctx = ngx_http_llm_get_ctx(r);

    /* nginx's own error page in a router location: JSON instead */

    /*
     * nginx's own error page, or a failed attempt that nginx did not
     * retry after all (proxy_next_upstream_timeout, another
     * proxy_next_upstream): the router's JSON, never the provider's body
     */

    if (lcf->enabled
        && (r->err_status
            || (ctx && ctx->forced_502 && r->upstream
                && r->headers_out.status == NGX_HTTP_BAD_GATEWAY)))
    {
        if (ctx && ctx->forced_502) {
            ctx->exhausted = 1;
            r->headers_out.status_line.len = 0;
            ngx_http_clear_content_length(r);
        }

        if (ngx_http_llm_error_response(r, ctx) != NGX_OK) {
            return NGX_ERROR;
        }

        ctx = ngx_http_get_module_ctx(r, ngx_http_llm_router_module);
    }

    if (ctx && (ctx->budget.rl_set || ctx->budget.retry_after)
        && !ctx->budget.rl_sent)
    {
        ctx->budget.rl_sent = 1;

        if (ngx_http_llm_budget_headers(r, ctx) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (ctx && r->cached) {
        ngx_http_llm_cache_served(r, ctx);
    }

    if (ctx == NULL || ctx->error.body || !ctx->proxied
        || r->upstream == NULL)
    {
        return ngx_http_next_header_filter(r);
    }

    u = r->upstream;

    ct = &r->headers_out.content_type;

    if (ngx_http_llm_prefix_ci(ct->data, ct->len, "text/event-stream")) {
        ctx->sse.active = 1;

        /* without framing only the final event tells a cut from an end */

        ctx->sse.unframed = (u->headers_in.content_length_n == -1
                             && !u->headers_in.chunked);

        if (ctx->strip_usage) {
            ngx_http_clear_content_length(r);
        }

    } else if (u->headers_in.status_n >= 200 && u->headers_in.status_n < 300)
    {
        /* a JSON answer: its top-level "usage" is watched for */
        ctx->usage.json_watch = 1;
    }

    if (ctx->xlate && ngx_http_llm_xlate_header(r, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_next_header_filter(r);
}


static ngx_int_t
ngx_http_llm_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_int_t            rc;
    ngx_buf_t           *b;
    ngx_uint_t           last;
    ngx_time_t          *tp;
    ngx_chain_t         *cl;
    ngx_http_llm_ctx_t  *ctx;

    if (r != r->main) {
        return ngx_http_next_body_filter(r, in);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_llm_router_module);

    if (ctx == NULL || in == NULL) {
        return ngx_http_next_body_filter(r, in);
    }

    if (ctx->error.body) {
        return ngx_http_llm_send_error_body(r, ctx, in);
    }

    if (!ctx->proxied) {
        return ngx_http_next_body_filter(r, in);
    }

    last = 0;

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;

        if (!ctx->usage.ttft_set && b->last > b->pos) {
            tp = ngx_timeofday();
            ctx->usage.ttft = (ngx_msec_t) ((tp->sec - r->start_sec) * 1000
                                      + (tp->msec - r->start_msec));
            ctx->usage.ttft_set = 1;
        }

        if (ctx->usage.json_watch && ngx_buf_in_memory(b)) {
            ngx_http_llm_usage_body(r, ctx, b->pos, b->last);
        }

        last |= b->last_buf;
    }

    if (ctx->xlate_on) {
        /* another API's answer, in the client's (it is sent there) */
        rc = ngx_http_llm_xlate_body(r, ctx, in, ngx_http_next_body_filter);

    } else if (ctx->sse.active) {
        rc = ngx_http_llm_sse_filter(r, ctx, in);

    } else {
        rc = NGX_OK;
    }

    /* before the access log: settle usage, cost, budgets, statistics */

    if (last) {
        /* a cut stream's verdict came first (ngx_http_llm_sse_filter) */
        ngx_http_llm_circuit_answer_end(r, ctx, 1);

        if (ctx->body_ready) {
            ngx_http_llm_finalize(r, ctx);
        }
    }

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (ctx->sse.active || ctx->xlate_on) {
        return rc;
    }

    return ngx_http_next_body_filter(r, in);
}


static ngx_int_t
ngx_http_llm_send_error_body(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    ngx_chain_t *in)
{
    ngx_chain_t   out, *cl;

    /* nginx's HTML page is dropped */

    for (cl = in; cl; cl = cl->next) {
        cl->buf->pos = cl->buf->last;
        cl->buf->file_pos = cl->buf->file_last;
    }

    if (ctx->error.sent) {
        return NGX_OK;
    }

    ctx->error.sent = 1;

    if (ctx->body_ready) {
        ngx_http_llm_finalize(r, ctx);
    }

    ctx->error.body->last_buf = 1;
    ctx->error.body->last_in_chain = 1;

    out.buf = ctx->error.body;
    out.next = NULL;

    return ngx_http_next_body_filter(r, &out);
}


/*
 * Events are found by their blank-line end, across reads at any byte;
 * lines end with CR, LF or CRLF, as the SSE format allows.  A partial
 * event is copied into the carry buffer for inspection; only when an
 * event may be dropped (strip_usage) is a partial event held back until
 * it ends (or the stream does).  Buffers that need no change are passed
 * on as they are.  Over 150 lines: one state machine over the bytes of a
 * read (line ends, event ends, the carry), kept in one loop so that its
 * state stays in locals.
 */

static ngx_int_t
ngx_http_llm_sse_filter(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    ngx_chain_t *in)
{
    u_char       *p, *q, *end, *start, *ev, *ev_end, *eol1, *kept;
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_uint_t    drop, copy, blank, started, last_buf;
    ngx_chain_t  *out, **last, *cl;

    out = NULL;
    last = &out;
    last_buf = 0;

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;
        last_buf |= b->last_buf;

        if (ngx_buf_special(b) || !ngx_buf_in_memory(b)) {
            if ((b->last_buf && ngx_http_llm_sse_end(r, ctx, &last) != NGX_OK)
                || (ctx->strip_usage
                    && ngx_http_llm_link(r, &last, b) != NGX_OK))
            {
                return NGX_ERROR;
            }

            continue;
        }

        /* copy: this buf is replaced by copies of what is kept */

        copy = (ctx->strip_usage && ctx->sse.carry_len) ? 1 : 0;

        /* a line begun in an earlier read, kept in a local meanwhile */
        started = ctx->sse.line_started;

        p = b->pos;
        end = b->last;
        start = p;
        eol1 = NULL;
        kept = NULL;    /* a run of kept events of b, not copied yet */

        if (ctx->sse.cr && p < end) {
            /*
             * the LF of a CRLF split across reads: no line of its own,
             * and part of the event the CR ended, if it ended one
             */
            ctx->sse.cr = 0;

            if (*p == '\n') {
                p++;

                if (ctx->sse.cr_ended) {
                    start = p;
                    copy |= ctx->sse.cr_drop;
                }
            }
        }

        while (p < end) {
            if (p == start) {
                /* an event's first line: not to be looked for again */
                q = (u_char *) ngx_http_llm_scan_eol(p, end);
                eol1 = q;

            } else {
                q = ngx_http_llm_sse_eol(p, end);
            }

            if (q == NULL || q == end) {
                break;
            }

            blank = !started && q == p;

            started = 0;

            if (*q == '\r') {
                if (q + 1 == end) {
                    ctx->sse.cr = 1;
                    ctx->sse.cr_ended = blank;
                    ctx->sse.cr_drop = 0;

                } else if (q[1] == '\n') {
                    q++;
                }
            }

            p = q + 1;

            if (!blank) {
                continue;
            }

            /* [start, p) ends an event, which may have begun earlier */

            if (ctx->sse.carry_len || ctx->sse.carry_overflow) {
                rc = ngx_http_llm_carry(r, ctx, start, p);
                if (rc == NGX_ERROR) {
                    return NGX_ERROR;
                }

                ev = (rc == NGX_OK) ? ctx->sse.carry : NULL;
                ev_end = ctx->sse.carry + ctx->sse.carry_len;

            } else {
                ev = start;
                ev_end = p;
            }

            drop = ev ? ngx_http_llm_sse_event(ctx, ev, ev_end,
                                               ev == start ? eol1 : NULL)
                      : 0;

            if (ctx->sse.cr && ctx->strip_usage) {
                ctx->sse.cr_drop = drop;
            }

            if (ctx->strip_usage) {
                if (drop && !copy) {
                    copy = 1;

                    if (ngx_http_llm_emit(r, &last, b->pos, start) != NGX_OK)
                    {
                        return NGX_ERROR;
                    }

                } else if (drop && kept) {
                    /*
                     * the kept events before this one are one copy, not
                     * one each: a copy takes at least 1 KB (an event held
                     * from earlier reads is a read's first: none before)
                     */

                    if (ngx_http_llm_emit(r, &last, kept, start) != NGX_OK) {
                        return NGX_ERROR;
                    }

                    kept = NULL;
                }

                if (!drop && copy) {
                    if (ev == NULL) {
                        /* too large to hold: what was held goes first */
                        if (ngx_http_llm_emit(r, &last, ctx->sse.carry,
                                              ctx->sse.carry
                                              + ctx->sse.carry_len)
                            != NGX_OK)
                        {
                            return NGX_ERROR;
                        }
                    }

                    if (ev == ctx->sse.carry) {
                        if (ngx_http_llm_emit(r, &last, ev, ev_end)
                            != NGX_OK)
                        {
                            return NGX_ERROR;
                        }

                    } else if (kept == NULL) {
                        kept = start;
                    }
                }
            }

            ctx->sse.carry_len = 0;
            ctx->sse.carry_overflow = 0;
            start = p;
        }

        if (kept && ngx_http_llm_emit(r, &last, kept, start) != NGX_OK) {
            return NGX_ERROR;
        }

        /* an unfinished line */

        ctx->sse.line_started = (p < end) ? 1 : started;

        if (start < end) {
            rc = ngx_http_llm_carry(r, ctx, start, end);
            if (rc == NGX_ERROR) {
                return NGX_ERROR;
            }

            if (ctx->strip_usage) {
                /* hold the partial event back: it may be the one to drop */

                if (!copy) {
                    copy = 1;

                    if (ngx_http_llm_emit(r, &last, b->pos, start) != NGX_OK)
                    {
                        return NGX_ERROR;
                    }
                }

                if (rc == NGX_DECLINED) {
                    /* too large to hold: it goes on untouched */

                    if (ngx_http_llm_emit(r, &last, ctx->sse.carry,
                                          ctx->sse.carry + ctx->sse.carry_len)
                        != NGX_OK
                        || ngx_http_llm_emit(r, &last, start, end) != NGX_OK)
                    {
                        return NGX_ERROR;
                    }

                    ctx->sse.carry_len = 0;
                }

            } else if (rc == NGX_DECLINED) {
                ctx->sse.carry_len = 0;
            }
        }

        if (b->last_buf && ngx_http_llm_sse_end(r, ctx, &last) != NGX_OK) {
            return NGX_ERROR;
        }

        if (!copy) {
            if (ctx->strip_usage && ngx_http_llm_link(r, &last, b) != NGX_OK)
            {
                return NGX_ERROR;
            }

            continue;
        }

        /* the original buf is replaced by the copies emitted above */

        b->pos = b->last;

        if ((b->flush || b->last_buf || b->last_in_chain)
            && ngx_http_llm_emit_flags(r, &last, b) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    *last = NULL;

    if (last_buf && ctx->sse.unframed && !ctx->sse.done) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "llm router: the event stream of provider \"%V\" "
                      "ended without its final event",
                      &ctx->target->provider->name);

        ngx_http_llm_circuit_answer_end(r, ctx, 0);

        /* no clean end: the client must see the stream as broken */
        return NGX_ERROR;
    }

    if (!ctx->strip_usage) {
        /* nothing is dropped: the chain goes on as it came, no links */
        return ngx_http_next_body_filter(r, in);
    }

    if (out == NULL) {
        return NGX_OK;
    }

    rc = ngx_http_next_body_filter(r, out);

    ngx_chain_update_chains(r->pool, &ctx->sse.free, &ctx->sse.busy, &out,
                            (ngx_buf_tag_t) &ngx_http_llm_router_module);

    return rc;
}


/*
 * The stream ends: an event it did not end with a blank line still
 * counts (its usage is read) and is relayed, as plain nginx would, unless
 * it is the usage-only chunk to drop.
 */

static ngx_int_t
ngx_http_llm_sse_end(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    ngx_chain_t ***last)
{
    ngx_uint_t  drop;

    if (ctx->sse.carry_len == 0 || ctx->sse.carry_overflow) {
        return NGX_OK;
    }

    drop = ngx_http_llm_sse_event(ctx, ctx->sse.carry,
                                  ctx->sse.carry + ctx->sse.carry_len, NULL);

    if (ctx->strip_usage && !drop
        && ngx_http_llm_emit(r, last, ctx->sse.carry,
                             ctx->sse.carry + ctx->sse.carry_len)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    ctx->sse.carry_len = 0;

    return NGX_OK;
}


/* a field name or a value, compared inline (no call per line) */

#define ngx_http_llm_sse_is(p, s, n)                                          \
    ((p)[0] == (s)[0] && ngx_memcmp(p, s, n) == 0)


/* the first CR or LF; an event's blank last line without a call */

static u_char *
ngx_http_llm_sse_eol(u_char *p, u_char *end)
{
    if (p < end && (*p == '\n' || *p == '\r')) {
        return p;
    }

    p = (u_char *) ngx_http_llm_scan_eol(p, end);

    return (p < end) ? p : NULL;
}


/*
 * Looks at one complete event; returns 1 if it is the usage-only chunk
 * that the router asked for and the client did not.  Several "data:"
 * lines make one value, joined by LF (as an SSE client joins them).
 * eol1, if not NULL, is where the first line ends (the stream filter
 * found it already).
 */

static ngx_uint_t
ngx_http_llm_sse_event(ngx_http_llm_ctx_t *ctx, u_char *start, u_char *end,
    u_char *eol1)
{
    u_char      *p, *v, *eol, *next, *data, *data_end, *name, *name_end,
                *joined;
    cJSON       *root, *choices, *usage;
    ngx_uint_t   drop;

    data = NULL;
    data_end = NULL;
    name = NULL;
    name_end = NULL;
    joined = NULL;

    for (p = start; p < end; p = next) {
        eol = (p == start && eol1) ? eol1 : ngx_http_llm_sse_eol(p, end);

        if (eol == NULL) {
            eol = end;
            next = end;

        } else {
            next = eol + 1;

            if (*eol == '\r' && next < end && *next == '\n') {
                next++;
            }
        }

        /* "data" as a word, which compilers compare at once */

        if (eol - p >= 5 && ngx_memcmp(p, "data", 4) == 0 && p[4] == ':') {
            v = p + 5;

            if (v < eol && *v == ' ') {
                v++;
            }

            if (data == NULL) {
                data = v;
                data_end = eol;

                /* the usual event: only its blank line is left */

                if ((end - next == 1 && (*next == '\n' || *next == '\r'))
                    || (end - next == 2 && next[0] == '\r'
                        && next[1] == '\n'))
                {
                    break;
                }

                continue;
            }

            if (joined == NULL) {
                /* at most the event's size */
                joined = ngx_http_llm_sse_join(ctx, end - start);
                if (joined == NULL) {
                    continue;
                }

                data_end = ngx_cpymem(joined, data, data_end - data);
                data = joined;
            }

            *data_end++ = '\n';
            data_end = ngx_cpymem(data_end, v, eol - v);

        } else if (eol - p >= 6 && ngx_http_llm_sse_is(p, "event:", 6)) {
            name = p + 6;
            name_end = eol;

            if (name < name_end && *name == ' ') {
                name++;
            }
        }
    }

    if (name) {
        if ((name_end - name == 12
             && ngx_strncmp(name, "message_stop", 12) == 0)
            || (name_end - name >= 18
                && ngx_strncmp(name, "response.completed", 18) == 0)
            || (name_end - name >= 15
                && ngx_strncmp(name, "response.failed", 15) == 0)
            || (name_end - name >= 19
                && ngx_strncmp(name, "response.incomplete", 19) == 0))
        {
            ctx->sse.done = 1;
        }
    }

    if (data == NULL) {
        return 0;
    }

    if (data_end - data == 6 && ngx_http_llm_sse_is(data, "[DONE]", 6)) {
        ctx->sse.done = 1;
        return 0;
    }

    if (!ngx_http_llm_usage_event(ctx, data, data_end - data)) {
        return 0;
    }

    if (!ctx->strip_usage) {
        return 0;
    }

    /*
     * most chunks carry "usage":null: only one with no choices and a
     * usage object is parsed to make sure
     */

    if (!ngx_http_llm_sse_member(data, data_end, "choices", '[')
        || !ngx_http_llm_sse_member(data, data_end, "usage", '{'))
    {
        return 0;
    }

    root = cJSON_ParseWithLength((char *) data, data_end - data);
    if (root == NULL) {
        return 0;
    }

    drop = 0;
    choices = cJSON_GetObjectItemCaseSensitive(root, "choices");
    usage = cJSON_GetObjectItemCaseSensitive(root, "usage");

    if (cJSON_IsArray(choices) && cJSON_GetArraySize(choices) == 0
        && cJSON_IsObject(usage))
    {
        drop = 1;
    }

    cJSON_Delete(root);

    return drop;
}


/* a buffer for an event's joined data lines, reused */

static u_char *
ngx_http_llm_sse_join(ngx_http_llm_ctx_t *ctx, size_t size)
{
    u_char  *p;

    if (ctx->sse.join_size < size) {
        size = ngx_max(size, 1024);

        p = ngx_pnalloc(ctx->request->pool, size);
        if (p == NULL) {
            return NULL;
        }

        ctx->sse.join = p;
        ctx->sse.join_size = size;
    }

    return ctx->sse.join;
}


/* whether "name": is followed by c ('[' also wants the array empty) */

static ngx_uint_t
ngx_http_llm_sse_member(u_char *p, u_char *last, const char *name, u_char c)
{
    size_t  len;

    len = ngx_strlen(name);

    for ( /* void */ ; p < last; p++) {
        p = ngx_strlchr(p, last, '"');

        if (p == NULL || (size_t) (last - p) < len + 2) {
            return 0;
        }

        if (ngx_strncmp(p + 1, name, len) != 0 || p[len + 1] != '"') {
            continue;
        }

        for (p += len + 2; p < last && (*p == ' ' || *p == ':'); p++) {
            /* void */
        }

        if (p == last || *p != c) {
            return 0;
        }

        if (c != '[') {
            return 1;
        }

        for (p++; p < last && *p == ' '; p++) { /* void */ }

        return (p < last && *p == ']');
    }

    return 0;
}


static ngx_int_t
ngx_http_llm_carry(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    u_char *start, u_char *end)
{
    u_char  *p;
    size_t   len, size;

    len = end - start;

    if (ctx->sse.carry_overflow) {
        return NGX_DECLINED;
    }

    if (ctx->sse.carry_len + len > ctx->sse.carry_size) {
        size = ngx_max(ctx->sse.carry_size * 2, 4096);

        while (size < ctx->sse.carry_len + len) {
            size *= 2;
        }

        if (size > NGX_HTTP_LLM_CARRY_MAX) {
            ctx->sse.carry_overflow = 1;
            return NGX_DECLINED;
        }

        p = ngx_pnalloc(r->pool, size);
        if (p == NULL) {
            return NGX_ERROR;
        }

        if (ctx->sse.carry_len) {
            ngx_memcpy(p, ctx->sse.carry, ctx->sse.carry_len);
        }

        ctx->sse.carry = p;
        ctx->sse.carry_size = size;
    }

    ngx_memcpy(ctx->sse.carry + ctx->sse.carry_len, start, len);
    ctx->sse.carry_len += len;

    return NGX_OK;
}


/*
 * A copy of [start, end), sent at once.  Copies are made in buffers that
 * come back once sent (ctx->sse.free), so a long stream does not grow the pool.
 */

static ngx_int_t
ngx_http_llm_emit(ngx_http_request_t *r, ngx_chain_t ***last, u_char *start,
    u_char *end)
{
    size_t               size;
    ngx_buf_t           *b;
    ngx_chain_t         *cl;
    ngx_http_llm_ctx_t  *ctx;

    if (start == end) {
        return NGX_OK;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_llm_router_module);
    size = end - start;

    cl = ngx_chain_get_free_buf(r->pool, &ctx->sse.free);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    b = cl->buf;

    if (b->start == NULL || (size_t) (b->end - b->start) < size) {
        b->start = ngx_palloc(r->pool, ngx_max(size, 1024));
        if (b->start == NULL) {
            return NGX_ERROR;
        }

        b->end = b->start + ngx_max(size, 1024);
    }

    b->pos = b->start;
    b->last = ngx_cpymem(b->pos, start, size);
    b->temporary = 1;
    b->flush = 1;
    b->tag = (ngx_buf_tag_t) &ngx_http_llm_router_module;

    **last = cl;
    *last = &cl->next;

    return NGX_OK;
}


/* an empty buffer that carries the flush and last flags of b */

static ngx_int_t
ngx_http_llm_emit_flags(ngx_http_request_t *r, ngx_chain_t ***last,
    ngx_buf_t *b)
{
    ngx_buf_t  *f;

    f = ngx_calloc_buf(r->pool);
    if (f == NULL) {
        return NGX_ERROR;
    }

    f->flush = b->flush;
    f->last_buf = b->last_buf;
    f->last_in_chain = b->last_in_chain;

    return ngx_http_llm_link(r, last, f);
}


static ngx_int_t
ngx_http_llm_link(ngx_http_request_t *r, ngx_chain_t ***last, ngx_buf_t *b)
{
    ngx_chain_t  *cl;

    cl = ngx_alloc_chain_link(r->pool);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    cl->buf = b;
    cl->next = NULL;

    **last = cl;
    *last = &cl->next;

    return NGX_OK;
}
