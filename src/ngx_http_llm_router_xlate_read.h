
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


#include <string.h>

#include "ngx_http_llm_router_xlate_json.h"
#include "ngx_http_llm_router_json.h"


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


#endif /* _NGX_HTTP_LLM_ROUTER_XLATE_READ_H_INCLUDED_ */
