
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * API translation: a JSON writer that appends straight to an output
 * buffer.  cJSON_PrintUnformatted() prints into a buffer of its own that
 * grows by realloc, and every number through sprintf() and sscanf(); the
 * translators then copied its result once more.  This writes the same
 * bytes (the differential test in fuzz/test_xlate.c holds it to that)
 * into the caller's buffer, integers without the C library.
 */


#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_llm_router_xlate.h"


static int xj_value(ngx_http_llm_xlate_buf_t *b, const cJSON *item);
static int xj_number(ngx_http_llm_xlate_buf_t *b, const cJSON *item);


/* 1: the byte is written escaped (cJSON's set: '"', '\\' and below 32) */
static const unsigned char  xj_escape[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
};


/* room for n more bytes */

int
ngx_http_llm_xlate_buf_reserve(ngx_http_llm_xlate_buf_t *b, size_t n)
{
    size_t          size;
    unsigned char  *data;

    if (b->size - b->len >= n) {
        return NGX_HTTP_LLM_XLATE_OK;
    }

    size = b->size ? b->size : 256;

    while (size < b->len + n) {
        size *= 2;
    }

    data = realloc(b->data, size);
    if (data == NULL) {
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    b->data = data;
    b->size = size;

    return NGX_HTTP_LLM_XLATE_OK;
}


/* s (NULL: "") escaped as cJSON escapes it, without the quotes */

int
ngx_http_llm_xlate_print_esc(ngx_http_llm_xlate_buf_t *b, const char *s)
{
    size_t                run;
    unsigned char        *o;
    const unsigned char  *p, *start;

    static const char     hex[] = "0123456789abcdef";

    p = (const unsigned char *) (s ? s : "");

    for ( ;; ) {
        start = p;

        while (*p && !xj_escape[*p]) {
            p++;
        }

        run = p - start;

        /* the run, one escape (at most 6 bytes) and a closing quote */
        if (ngx_http_llm_xlate_buf_reserve(b, run + 7)
            != NGX_HTTP_LLM_XLATE_OK)
        {
            return NGX_HTTP_LLM_XLATE_NOMEM;
        }

        memcpy(b->data + b->len, start, run);
        b->len += run;

        if (*p == '\0') {
            return NGX_HTTP_LLM_XLATE_OK;
        }

        o = b->data + b->len;
        *o++ = '\\';

        switch (*p) {
        case '"':  *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '\b': *o++ = 'b'; break;
        case '\f': *o++ = 'f'; break;
        case '\n': *o++ = 'n'; break;
        case '\r': *o++ = 'r'; break;
        case '\t': *o++ = 't'; break;
        default:
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 0xf];
        }

        b->len = o - b->data;
        p++;
    }
}


/* a JSON string of s (NULL: "") */

int
ngx_http_llm_xlate_print_str(ngx_http_llm_xlate_buf_t *b, const char *s)
{
    if (ngx_http_llm_xlate_buf_reserve(b, 1) != NGX_HTTP_LLM_XLATE_OK) {
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    b->data[b->len++] = '"';

    if (ngx_http_llm_xlate_print_esc(b, s) != NGX_HTTP_LLM_XLATE_OK) {
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    /* print_esc leaves room for the closing quote */
    b->data[b->len++] = '"';

    return NGX_HTTP_LLM_XLATE_OK;
}


/* an integer, as %1.15g writes an integral double below 10^15 */

int
ngx_http_llm_xlate_print_int(ngx_http_llm_xlate_buf_t *b, int64_t v)
{
    char      tmp[24], *p;
    uint64_t  u;

    p = tmp + sizeof(tmp);
    u = v < 0 ? (uint64_t) 0 - (uint64_t) v : (uint64_t) v;

    do {
        *--p = (char) ('0' + u % 10);
        u /= 10;
    } while (u);

    if (v < 0) {
        *--p = '-';
    }

    return ngx_http_llm_xlate_buf_append(b, p, tmp + sizeof(tmp) - p);
}


static int
xj_number(ngx_http_llm_xlate_buf_t *b, const cJSON *item)
{
    int      rc;
    char    *p;
    double   d;

    d = item->valuedouble;

    /* integral, below 10^15 and not -0: what cJSON writes is its digits */
    if (d > -1e15 && d < 1e15 && d == (double) (int64_t) d
        && !(d == 0 && 1 / d < 0))
    {
        return ngx_http_llm_xlate_print_int(b, (int64_t) d);
    }

    /* the rest (fractions, NaN, -0) as cJSON itself writes them */
    p = cJSON_PrintUnformatted(item);
    if (p == NULL) {
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    rc = ngx_http_llm_xlate_buf_append(b, p, strlen(p));
    cJSON_free(p);

    return rc;
}


/* a number as cJSON_CreateNumber(d) prints */

int
ngx_http_llm_xlate_print_num(ngx_http_llm_xlate_buf_t *b, double d)
{
    cJSON  n;

    memset(&n, 0, sizeof(cJSON));
    n.type = cJSON_Number;
    n.valuedouble = d;
    n.valueint = d >= INT_MAX ? INT_MAX
                 : d <= (double) INT_MIN ? INT_MIN
                 : d == d ? (int) d : 0;

    return xj_number(b, &n);
}


static int
xj_value(ngx_http_llm_xlate_buf_t *b, const cJSON *item)
{
    int           rc;
    const cJSON  *c;

    switch (item->type & 0xff) {

    case cJSON_NULL:
        return ngx_http_llm_xlate_buf_append(b, "null", 4);

    case cJSON_False:
        return ngx_http_llm_xlate_buf_append(b, "false", 5);

    case cJSON_True:
        return ngx_http_llm_xlate_buf_append(b, "true", 4);

    case cJSON_Number:
        return xj_number(b, item);

    case cJSON_String:
        return ngx_http_llm_xlate_print_str(b, item->valuestring);

    case cJSON_Raw:
        if (item->valuestring == NULL) {
            return NGX_HTTP_LLM_XLATE_BAD;
        }

        return ngx_http_llm_xlate_buf_append(b, item->valuestring,
                                             strlen(item->valuestring));

    case cJSON_Array:
    case cJSON_Object:
        rc = ngx_http_llm_xlate_buf_append(b,
                 (item->type & 0xff) == cJSON_Array ? "[" : "{", 1);

        for (c = item->child; c && rc == NGX_HTTP_LLM_XLATE_OK; c = c->next)
        {
            if ((item->type & 0xff) == cJSON_Object) {
                rc = ngx_http_llm_xlate_print_str(b, c->string);
                rc |= ngx_http_llm_xlate_buf_append(b, ":", 1);
            }

            rc |= xj_value(b, c);

            if (c->next) {
                rc |= ngx_http_llm_xlate_buf_append(b, ",", 1);
            }
        }

        if (rc != NGX_HTTP_LLM_XLATE_OK) {
            return rc < 0 ? rc : NGX_HTTP_LLM_XLATE_NOMEM;
        }

        return ngx_http_llm_xlate_buf_append(b,
                   (item->type & 0xff) == cJSON_Array ? "]" : "}", 1);

    default:
        /* cJSON_Invalid: cJSON_Print fails on it too */
        return NGX_HTTP_LLM_XLATE_BAD;
    }
}


/*
 * Appends item as cJSON_PrintUnformatted() writes it.  On failure out
 * keeps its length (a partial value is never left in it).
 */

int
ngx_http_llm_xlate_print(ngx_http_llm_xlate_buf_t *out, const cJSON *item)
{
    int     rc;
    size_t  len;

    if (item == NULL) {
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    len = out->len;
    rc = xj_value(out, item);

    if (rc != NGX_HTTP_LLM_XLATE_OK) {
        out->len = len;
        return rc == NGX_HTTP_LLM_XLATE_BAD ? NGX_HTTP_LLM_XLATE_BAD
                                            : NGX_HTTP_LLM_XLATE_NOMEM;
    }

    return NGX_HTTP_LLM_XLATE_OK;
}
