
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * API translation: the fast paths' JSON reader.  A fast path reads the
 * usual shape of a body by hand instead of through a cJSON tree; these
 * are the tokens they all read the same way, inline: they run for every
 * key and value of a body.  Anything a reader is not sure of is
 * NGX_HTTP_LLM_XLATE_DECLINED: the general path then runs.
 */


#ifndef _NGX_HTTP_LLM_ROUTER_XLATE_READ_H_INCLUDED_
#define _NGX_HTTP_LLM_ROUTER_XLATE_READ_H_INCLUDED_


#include <stdint.h>
#include <string.h>

#include "ngx_http_llm_router_xlate_json.h"
#include "ngx_http_llm_router_json.h"


/* token counts: exact in a double, and so are their sums */
#define NGX_HTTP_LLM_XLATE_READ_DIGITS      9
/* cJSON reads 63 bytes of a number, then fails on the rest */
#define NGX_HTTP_LLM_XLATE_READ_NUMBER_MAX  62


/* a cursor over JSON bytes */
typedef struct {
    const unsigned char            *p;
    const unsigned char            *last;
} ngx_http_llm_xlate_read_t;


/* past JSON's white space */

static inline void
ngx_http_llm_xlate_read_space(ngx_http_llm_xlate_read_t *rd)
{
    while (rd->p < rd->last
           && (*rd->p == ' ' || *rd->p == '\t' || *rd->p == '\n'
               || *rd->p == '\r'))
    {
        rd->p++;
    }
}


/* a key without escapes or control bytes, then ':'; rd->p: its value */

static inline int
ngx_http_llm_xlate_read_key(ngx_http_llm_xlate_read_t *rd,
    const unsigned char **key, size_t *n)
{
    const unsigned char  *p;

    p = rd->p;

    if (p == rd->last || *p != '"') {
        return NGX_HTTP_LLM_XLATE_DECLINED;
    }

    *key = ++p;

    while (p < rd->last && *p != '"') {
        if (*p < 0x20 || *p == '\\') {
            return NGX_HTTP_LLM_XLATE_DECLINED;
        }

        p++;
    }

    if (p == rd->last) {
        return NGX_HTTP_LLM_XLATE_DECLINED;
    }

    *n = p - *key;
    rd->p = p + 1;
    ngx_http_llm_xlate_read_space(rd);

    if (rd->p == rd->last || *rd->p != ':') {
        return NGX_HTTP_LLM_XLATE_DECLINED;
    }

    rd->p++;
    ngx_http_llm_xlate_read_space(rd);

    return NGX_HTTP_LLM_XLATE_OK;
}


/*
 * A valid string; *start: its opening quote, rd->p past its closing one.
 * as_written: only with escapes cJSON writes back the same, so that its
 * bytes are what the JSON writer makes of cJSON's value.
 */

static inline int
ngx_http_llm_xlate_read_string(ngx_http_llm_xlate_read_t *rd,
    int as_written, const unsigned char **start)
{
    int                   escaped;
    const unsigned char  *p, *end, *err;

    if (rd->p == rd->last || *rd->p != '"') {
        return NGX_HTTP_LLM_XLATE_DECLINED;
    }

    escaped = 0;
    end = ngx_http_llm_json_string(rd->p + 1, rd->last, &escaped, &err);

    if (end == NULL) {
        return NGX_HTTP_LLM_XLATE_DECLINED;
    }

    if (escaped && as_written) {
        for (p = memchr(rd->p + 1, '\\', end - rd->p - 1);
             p;
             p = memchr(p + 2, '\\', end - p - 2))
        {
            if (p[1] == 'u' || p[1] == '/') {
                return NGX_HTTP_LLM_XLATE_DECLINED;
            }
        }
    }

    *start = rd->p;
    rd->p = end + 1;

    return NGX_HTTP_LLM_XLATE_OK;
}


/* after a value: 1 a ',' and the next, 0 the closing byte, -1 neither */

static inline int
ngx_http_llm_xlate_read_next(ngx_http_llm_xlate_read_t *rd, int close)
{
    ngx_http_llm_xlate_read_space(rd);

    if (rd->p == rd->last) {
        return -1;
    }

    if (*rd->p == ',') {
        rd->p++;
        ngx_http_llm_xlate_read_space(rd);
        return 1;
    }

    if (*rd->p == close) {
        rd->p++;
        return 0;
    }

    return -1;
}


/*
 * An object or array opened at rd->p: 1 a first member or element
 * follows, 0 it was empty (rd->p past it), -1 it is not one.
 */

static inline int
ngx_http_llm_xlate_read_open(ngx_http_llm_xlate_read_t *rd, int open,
    int close)
{
    if (rd->p == rd->last || *rd->p != open) {
        return -1;
    }

    rd->p++;
    ngx_http_llm_xlate_read_space(rd);

    if (rd->p < rd->last && *rd->p == close) {
        rd->p++;
        return 0;
    }

    return 1;
}


/* true, false or null */

static inline int
ngx_http_llm_xlate_read_literal(ngx_http_llm_xlate_read_t *rd)
{
    size_t  n;

    n = rd->last - rd->p;

    if (n >= 4 && (memcmp(rd->p, "true", 4) == 0
                   || memcmp(rd->p, "null", 4) == 0))
    {
        rd->p += 4;
        return NGX_HTTP_LLM_XLATE_OK;
    }

    if (n >= 5 && memcmp(rd->p, "false", 5) == 0) {
        rd->p += 5;
        return NGX_HTTP_LLM_XLATE_OK;
    }

    return NGX_HTTP_LLM_XLATE_DECLINED;
}


/* a token count: 0 .. 999999999 as JSON spells it; with null, null: -1 */

static inline int
ngx_http_llm_xlate_read_count(ngx_http_llm_xlate_read_t *rd, int64_t *v,
    int null)
{
    const unsigned char  *start;

    if (null && rd->last - rd->p >= 4 && memcmp(rd->p, "null", 4) == 0) {
        rd->p += 4;
        *v = -1;
        return NGX_HTTP_LLM_XLATE_OK;
    }

    start = rd->p;
    *v = 0;

    while (rd->p < rd->last && *rd->p >= '0' && *rd->p <= '9') {
        if (rd->p - start == NGX_HTTP_LLM_XLATE_READ_DIGITS) {
            return NGX_HTTP_LLM_XLATE_DECLINED;
        }

        *v = *v * 10 + (*rd->p++ - '0');
    }

    if (rd->p == start || (*start == '0' && rd->p - start > 1)) {
        return NGX_HTTP_LLM_XLATE_DECLINED;
    }

    /* what follows (1.5, 1e3) is not ',' or '}': read_next() declines */

    return NGX_HTTP_LLM_XLATE_OK;
}


/* a value not read, checked as cJSON would take it, then skipped */

static inline int
ngx_http_llm_xlate_read_value(ngx_http_llm_xlate_read_t *rd, int depth)
{
    int                   rc, close;
    size_t                n;
    const unsigned char  *key, *start;

    if (rd->p == rd->last) {
        return NGX_HTTP_LLM_XLATE_DECLINED;
    }

    switch (*rd->p) {

    case '"':
        return ngx_http_llm_xlate_read_string(rd, 1, &start);

    case '{':
    case '[':
        if (depth == 0) {
            return NGX_HTTP_LLM_XLATE_DECLINED;
        }

        close = (*rd->p == '{') ? '}' : ']';
        rc = ngx_http_llm_xlate_read_open(rd, *rd->p, close);

        while (rc == 1) {
            if ((close == '}'
                 && ngx_http_llm_xlate_read_key(rd, &key, &n)
                    != NGX_HTTP_LLM_XLATE_OK)
                || ngx_http_llm_xlate_read_value(rd, depth - 1)
                   != NGX_HTTP_LLM_XLATE_OK)
            {
                return NGX_HTTP_LLM_XLATE_DECLINED;
            }

            rc = ngx_http_llm_xlate_read_next(rd, close);
        }

        return rc == 0 ? NGX_HTTP_LLM_XLATE_OK : NGX_HTTP_LLM_XLATE_DECLINED;

    case 't':
    case 'f':
    case 'n':
        return ngx_http_llm_xlate_read_literal(rd);

    default:
        /* an integer as JSON spells it (1.5, 1e3: the general path's) */

        start = rd->p;
        rd->p += (*rd->p == '-');

        if (rd->p == rd->last || *rd->p < '0' || *rd->p > '9') {
            return NGX_HTTP_LLM_XLATE_DECLINED;
        }

        if (*rd->p++ != '0') {
            while (rd->p < rd->last && *rd->p >= '0' && *rd->p <= '9') {
                rd->p++;
            }
        }

        return (rd->p - start > NGX_HTTP_LLM_XLATE_READ_NUMBER_MAX)
               ? NGX_HTTP_LLM_XLATE_DECLINED : NGX_HTTP_LLM_XLATE_OK;
    }
}


#endif /* _NGX_HTTP_LLM_ROUTER_XLATE_READ_H_INCLUDED_ */
