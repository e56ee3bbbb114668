
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * API translation: the SSE framer shared by the pairs.  A stream is cut
 * into events (blank-line ends, LF or CRLF lines, several data lines
 * joined) whatever the read boundaries; only a partial event is carried.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_llm_router_xlate.h"


#define ngx_http_llm_xlate_min(a, b)  ((a) < (b) ? (a) : (b))


static size_t ngx_http_llm_xlate_frame(ngx_http_llm_xlate_sse_t *s,
    const unsigned char *p, size_t n, size_t *scan,
    ngx_http_llm_xlate_buf_t *out, int *rc);
static size_t ngx_http_llm_xlate_line(const unsigned char *p, size_t len,
    const unsigned char **v);
static int ngx_http_llm_xlate_dispatch(ngx_http_llm_xlate_sse_t *s,
    const unsigned char *p, const unsigned char *last,
    ngx_http_llm_xlate_buf_t *out);
static int ngx_http_llm_xlate_join(const unsigned char *p,
    const unsigned char *last, ngx_http_llm_xlate_buf_t *joined);
static int ngx_http_llm_xlate_sse_error(ngx_http_llm_xlate_sse_t *s,
    const char *type, const char *message, ngx_http_llm_xlate_buf_t *out);
static int ngx_http_llm_xlate_dispatch_in(ngx_http_llm_xlate_sse_t *s,
    const ngx_http_llm_xlate_pair_t *pair, const char *name,
    const unsigned char *d, const unsigned char *dlast,
    ngx_http_llm_xlate_buf_t *out);
static int ngx_http_llm_xlate_sse_error_in(ngx_http_llm_xlate_sse_t *s,
    const char *type, const char *message, ngx_http_llm_xlate_buf_t *out);


void
ngx_http_llm_xlate_sse_init(ngx_http_llm_xlate_sse_t *s, int from, int to,
    const char *model, int include_usage, int64_t created)
{
    memset(s, 0, sizeof(ngx_http_llm_xlate_sse_t));

    s->from = from;
    s->to = to;
    s->created = created;
    s->include_usage = include_usage ? 1 : 0;
    s->block = -1;
    s->tool = -1;

    snprintf(s->model, sizeof(s->model), "%s", model ? model : "");
}


int
ngx_http_llm_xlate_sse_feed(ngx_http_llm_xlate_sse_t *s,
    const unsigned char *p, size_t n, ngx_http_llm_xlate_buf_t *out)
{
    int                   rc;
    size_t                used, size, scan, m;
    unsigned char        *carry;
    const unsigned char  *nl;

    rc = NGX_HTTP_LLM_XLATE_OK;

    /*
     * Complete events are taken straight from the input; only a partial
     * event is carried, and bytes join it a line at a time, so the carry
     * never holds more than one event (and one line).
     */

    while (n && !s->done && !s->failed && rc == NGX_HTTP_LLM_XLATE_OK) {

        if (s->carry_len == 0) {
            scan = 0;
            used = ngx_http_llm_xlate_frame(s, p, n, &scan, out, &rc);
            p += used;
            n -= used;
            s->carry_scan = scan - used;

            if (n == 0 || rc != NGX_HTTP_LLM_XLATE_OK || s->done
                || s->failed)
            {
                break;
            }

            m = n;

        } else {
            nl = memchr(p, '\n', n);
            m = nl ? (size_t) (nl - p) + 1 : n;
        }

        if (s->carry_len + m > NGX_HTTP_LLM_XLATE_EVENT_MAX) {
            s->carry_len = 0;
            s->carry_scan = 0;
            ngx_http_llm_xlate_sse_error(s, NULL,
                                         "the provider sent an oversized "
                                         "event", out);
            return NGX_HTTP_LLM_XLATE_TOO_BIG;
        }

        if (s->carry_len + m > s->carry_size) {
            size = s->carry_size ? s->carry_size : 512;

            while (size < s->carry_len + m) {
                size *= 2;
            }

            carry = realloc(s->carry, size);
            if (carry == NULL) {
                return NGX_HTTP_LLM_XLATE_NOMEM;
            }

            s->carry = carry;
            s->carry_size = size;
        }

        memcpy(s->carry + s->carry_len, p, m);
        s->carry_len += m;
        p += m;
        n -= m;

        scan = s->carry_scan;
        used = ngx_http_llm_xlate_frame(s, s->carry, s->carry_len, &scan,
                                        out, &rc);

        if (used) {
            memmove(s->carry, s->carry + used, s->carry_len - used);
            s->carry_len -= used;
        }

        s->carry_scan = scan - used;
    }

    /* anything after the terminal event is not for the client */

    return rc;
}


/*
 * Dispatches every complete event of p[0 .. n); returns the bytes used.
 * An event ends with an empty line; lines end with LF or CRLF.  Lines
 * before *scan were looked at already (an event that comes in small
 * pieces is not scanned again from its start each time): their fields
 * are in s->ev_*; on return *scan is where the next unfinished line
 * starts.  One pass: each line's field is noted as the line is found.
 */

static size_t
ngx_http_llm_xlate_frame(ngx_http_llm_xlate_sse_t *s, const unsigned char *p,
    size_t n, size_t *scan, ngx_http_llm_xlate_buf_t *out, int *rc)
{
    size_t                len, nlen;
    const unsigned char  *start, *line, *nl, *end, *v;

    start = p;
    line = p + *scan;
    end = p + n;

    while (line < end) {
        nl = memchr(line, '\n', end - line);
        if (nl == NULL) {
            break;
        }

        len = nl - line;
        if (len && line[len - 1] == '\r') {
            len--;
        }

        if (len) {
            nlen = ngx_http_llm_xlate_line(line, len, &v);

            if (nlen == 5 && memcmp(line, "event", 5) == 0) {
                s->ev_name = v - start;
                s->ev_name_len = line + len - v;

            } else if (nlen == 4 && memcmp(line, "data", 4) == 0
                       && s->ev_ndata++ == 0)
            {
                s->ev_data = v - start;
                s->ev_data_len = line + len - v;
            }

            line = nl + 1;
            continue;
        }

        /* an empty line: the event is start .. line */

        if (line > start) {
            *rc = ngx_http_llm_xlate_dispatch(s, start, line, out);

            if (*rc != NGX_HTTP_LLM_XLATE_OK || s->done || s->failed) {
                *scan = n;
                return n;
            }
        }

        s->ev_name_len = 0;
        s->ev_ndata = 0;

        start = nl + 1;
        line = nl + 1;
    }

    *scan = line - p;

    return start - p;
}


/*
 * A line's field: the length of its name; *v is its value (after the
 * ':' and one space, or the line's end when it has no ':').
 */

static size_t
ngx_http_llm_xlate_line(const unsigned char *p, size_t len,
    const unsigned char **v)
{
    size_t                nlen;
    const unsigned char  *c;

    /* the usual fields without a search */

    if (len >= 5 && memcmp(p, "data:", 5) == 0) {
        c = p + 4;

    } else if (len >= 6 && memcmp(p, "event:", 6) == 0) {
        c = p + 5;

    } else {
        c = memchr(p, ':', len);
    }

    if (c == NULL) {
        *v = p + len;
        return len;
    }

    nlen = c - p;

    c++;
    if (c < p + len && *c == ' ') {
        c++;
    }

    *v = c;

    return nlen;
}


/* one event, p .. last, whose fields are in s->ev_*: its translation */

static int
ngx_http_llm_xlate_dispatch(ngx_http_llm_xlate_sse_t *s,
    const unsigned char *p, const unsigned char *last,
    ngx_http_llm_xlate_buf_t *out)
{
    int                               rc;
    char                              name[64];
    size_t                            nname;
    const unsigned char              *d, *dlast;
    ngx_http_llm_xlate_buf_t          joined;
    const ngx_http_llm_xlate_pair_t  *pair;

    if (s->ev_ndata == 0) {
        /* comments and keep-alives carry nothing to translate */
        return NGX_HTTP_LLM_XLATE_OK;
    }

    memset(&joined, 0, sizeof(ngx_http_llm_xlate_buf_t));

    if (s->ev_ndata > 1) {
        /* several data lines are one value joined by LF */
        if (ngx_http_llm_xlate_join(p, last, &joined)
            != NGX_HTTP_LLM_XLATE_OK)
        {
            ngx_http_llm_xlate_buf_free(&joined);
            return NGX_HTTP_LLM_XLATE_NOMEM;
        }

        d = joined.data;
        dlast = joined.data + joined.len;

    } else {
        d = p + s->ev_data;
        dlast = d + s->ev_data_len;
    }

    pair = ngx_http_llm_xlate_pair(s->to, s->from);
    rc = NGX_HTTP_LLM_XLATE_DECLINED;

    if (pair->fast_event) {
        /* the usual event (a text delta) without a cJSON tree */
        rc = pair->fast_event(s, d, dlast, out);

        if (rc != NGX_HTTP_LLM_XLATE_DECLINED
            && rc != NGX_HTTP_LLM_XLATE_OK)
        {
            s->failed = 1;
        }
    }

    if (rc == NGX_HTTP_LLM_XLATE_DECLINED) {
        /* the name, cut to the buffer (no snprintf on every event) */
        nname = ngx_http_llm_xlate_min(s->ev_name_len, sizeof(name) - 1);

        if (nname) {
            memcpy(name, p + s->ev_name, nname);
        }

        name[nname] = '\0';

        /* cJSON's allocations from the scratch arena */
        ngx_http_llm_xlate_enter();
        rc = ngx_http_llm_xlate_dispatch_in(s, pair, name, d, dlast, out);
        ngx_http_llm_xlate_leave();
    }

    ngx_http_llm_xlate_buf_free(&joined);

    return rc;
}


/* the data lines of the event p .. last, joined by LF */

static int
ngx_http_llm_xlate_join(const unsigned char *p, const unsigned char *last,
    ngx_http_llm_xlate_buf_t *joined)
{
    int                   rc;
    size_t                len, nlen, ndata;
    const unsigned char  *nl, *v;

    rc = NGX_HTTP_LLM_XLATE_OK;
    ndata = 0;

    while (p < last) {
        nl = memchr(p, '\n', last - p);
        if (nl == NULL) {
            nl = last;
        }

        len = nl - p;
        if (len && p[len - 1] == '\r') {
            len--;
        }

        nlen = ngx_http_llm_xlate_line(p, len, &v);

        if (nlen == 4 && memcmp(p, "data", 4) == 0) {
            if (ndata++) {
                rc |= ngx_http_llm_xlate_buf_append(joined, "\n", 1);
            }

            rc |= ngx_http_llm_xlate_buf_append(joined, v, p + len - v);
        }

        p = nl + 1;
    }

    return rc ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
}


/* the event's data d .. dlast through cJSON and the pair's event() */

static int
ngx_http_llm_xlate_dispatch_in(ngx_http_llm_xlate_sse_t *s,
    const ngx_http_llm_xlate_pair_t *pair, const char *name,
    const unsigned char *d, const unsigned char *dlast,
    ngx_http_llm_xlate_buf_t *out)
{
    int     rc;
    cJSON  *data;

    if (dlast - d == 6 && memcmp(d, "[DONE]", 6) == 0) {
        return pair->event(s, "[DONE]", NULL, out);
    }

    data = cJSON_ParseWithLength((const char *) d, dlast - d);

    if (!cJSON_IsObject(data)) {
        /* not an event of the provider's API: nothing a client can use */
        cJSON_Delete(data);
        return NGX_HTTP_LLM_XLATE_OK;
    }

    if (cJSON_GetObjectItemCaseSensitive(data, "error")) {
        /* the provider's error event, in the client's shape */
        s->failed = 1;
        rc = pair->fail ? pair->fail(s, data, NULL, out)
                        : ngx_http_llm_xlate_error_json(s->to, 500, data,
                                                        out, 1);
        cJSON_Delete(data);
        return rc;
    }

    rc = pair->event(s, name[0] ? name : NULL, data, out);
    cJSON_Delete(data);

    if (rc != NGX_HTTP_LLM_XLATE_OK) {
        /* out of memory: the stream cannot go on consistently */
        s->failed = 1;
    }

    return rc;
}


int
ngx_http_llm_xlate_sse_end(ngx_http_llm_xlate_sse_t *s,
    ngx_http_llm_xlate_buf_t *out)
{
    if (s->done || s->failed) {
        return s->done ? NGX_HTTP_LLM_XLATE_OK : NGX_HTTP_LLM_XLATE_BAD;
    }

    if (ngx_http_llm_xlate_sse_error(s, NULL,
                                     "the provider's stream was cut", out)
        != NGX_HTTP_LLM_XLATE_OK)
    {
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    return NGX_HTTP_LLM_XLATE_BAD;
}


static int
ngx_http_llm_xlate_sse_error(ngx_http_llm_xlate_sse_t *s, const char *type,
    const char *message, ngx_http_llm_xlate_buf_t *out)
{
    int  rc;

    /* cJSON's allocations from the scratch arena */
    ngx_http_llm_xlate_enter();
    rc = ngx_http_llm_xlate_sse_error_in(s, type, message, out);
    ngx_http_llm_xlate_leave();

    return rc;
}


static int
ngx_http_llm_xlate_sse_error_in(ngx_http_llm_xlate_sse_t *s, const char *type,
    const char *message, ngx_http_llm_xlate_buf_t *out)
{
    int                               rc;
    const ngx_http_llm_xlate_pair_t  *pair;

    s->failed = 1;

    pair = ngx_http_llm_xlate_pair(s->to, s->from);

    if (pair && pair->fail) {
        return pair->fail(s, NULL, message, out);
    }

    if (s->to == NGX_HTTP_LLM_XLATE_MESSAGES) {
        rc = ngx_http_llm_xlate_buf_append(out, "event: error\ndata: ", 19);

    } else {
        rc = ngx_http_llm_xlate_buf_append(out, "data: ", 6);
    }

    rc |= ngx_http_llm_xlate_error_write(s->to, 502, type, message, NULL, out);
    rc |= ngx_http_llm_xlate_buf_append(out, "\n\n", 2);

    return rc ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
}


void
ngx_http_llm_xlate_sse_free(ngx_http_llm_xlate_sse_t *s)
{
    free(s->carry);
    s->carry = NULL;
    free(s->head);
    s->head = NULL;
    s->carry_len = 0;
    s->carry_size = 0;

    if (s->pivot) {
        ngx_http_llm_xlate_sse_free(s->pivot);
        free(s->pivot);
        s->pivot = NULL;
    }

    if (s->rsp) {
        ngx_http_llm_xlate_buf_free(&s->rsp->text);
        ngx_http_llm_xlate_buf_free(&s->rsp->items);
        ngx_http_llm_xlate_buf_free(&s->rsp->chunks);
        free(s->rsp);
        s->rsp = NULL;
    }
}
