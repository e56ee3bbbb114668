
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

#include "ngx_http_llm_router_xlate_json.h"


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


/*
 * Whether a word of 8 bytes may hold a byte to escape: below 32, '"' or
 * '\\' (the tests of "Bit Twiddling Hacks": a false alarm is possible
 * after a true one only, a miss never).
 */
#define XJ_ONES        0x0101010101010101ULL
#define XJ_HIGH        0x8080808080808080ULL
#define xj_zero(w)     (((w) - XJ_ONES) & ~(w) & XJ_HIGH)
#define xj_special(w)                                                        \
    ((((w) - XJ_ONES * 0x20) & ~(w) & XJ_HIGH)                              \
     | xj_zero((w) ^ (XJ_ONES * '"')) | xj_zero((w) ^ (XJ_ONES * '\\')))


/* s (NULL: "") escaped as cJSON escapes it, without the quotes */

int
ngx_http_llm_xlate_print_esc(ngx_http_llm_xlate_buf_t *b, const char *s)
{
    size_t                run, n, i, start;
    uint64_t              w;
    unsigned char        *o;
    const unsigned char  *p;

    static const char     hex[] = "0123456789abcdef";

    p = (const unsigned char *) (s ? s : "");
    n = strlen((const char *) p);
    i = 0;

    for ( ;; ) {
        start = i;

        /* a word at a time while none of its bytes is to escape */
        while (n - i >= 8) {
            memcpy(&w, p + i, 8);

            if (xj_special(w)) {
                break;
            }

            i += 8;
        }

        while (i < n && !xj_escape[p[i]]) {
            i++;
        }

        run = i - start;

        /* the run, one escape (at most 6 bytes) and a closing quote */
        if (ngx_http_llm_xlate_buf_reserve(b, run + 7)
            != NGX_HTTP_LLM_XLATE_OK)
        {
            return NGX_HTTP_LLM_XLATE_NOMEM;
        }

        memcpy(b->data + b->len, p + start, run);
        b->len += run;

        if (i == n) {
            return NGX_HTTP_LLM_XLATE_OK;
        }

        o = b->data + b->len;
        *o++ = '\\';

        switch (p[i]) {
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
            *o++ = hex[p[i] >> 4];
            *o++ = hex[p[i] & 0xf];
        }

        b->len = o - b->data;
        i++;
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


/*
 * cJSON's memory.  cJSON mallocs every node and every string, and a
 * translation parses the body, builds what it needs and frees all of it
 * before it returns: on a 1 KB request malloc and free were a third of
 * the translation's instructions.  Between the outermost enter() and
 * leave() (the entry points of xlate*.c; they nest) cJSON allocates from a
 * scratch arena instead: bump allocation, free() does nothing, leave()
 * resets it all.  Nothing cJSON allocates outlives the entry point (the
 * outputs are ngx_http_llm_xlate_buf_t, malloc'd).  One chunk is kept for
 * the next translation; the others (a large body's) go back to malloc.
 * Per process: a worker translates one thing at a time, and the hooks are
 * cJSON's own (malloc and free) again outside the translators.
 */

#define XJ_CHUNK       (32 * 1024)
#define XJ_ALIGN(n)    (((n) + 15) & ~(size_t) 15)

typedef struct xj_chunk_s  xj_chunk_t;

struct xj_chunk_s {
    xj_chunk_t                     *next;
    size_t                          size;
    size_t                          used;
    size_t                          pad;      /* the data 16-aligned */
};


static void *xj_malloc(size_t n);
static void xj_free(void *p);


static xj_chunk_t  *xj_chunks;
static unsigned     xj_depth;
static size_t       xj_peak;      /* bytes, for the memory figures */

static cJSON_Hooks  xj_hooks = { xj_malloc, xj_free };


static void *
xj_malloc(size_t n)
{
    size_t       size;
    xj_chunk_t  *c;

    n = XJ_ALIGN(n ? n : 1);
    c = xj_chunks;

    if (c && c->size - c->used >= n) {
        c->used += n;
        return (unsigned char *) (c + 1) + c->used - n;
    }

    /* a large value gets a chunk of its own, behind the current one */
    size = n > XJ_CHUNK / 4 ? n : XJ_CHUNK;

    c = malloc(sizeof(xj_chunk_t) + size);
    if (c == NULL) {
        return NULL;
    }

    c->size = size;
    c->used = n;

    if (size != XJ_CHUNK && xj_chunks) {
        c->next = xj_chunks->next;
        xj_chunks->next = c;

    } else {
        c->next = xj_chunks;
        xj_chunks = c;
    }

    return c + 1;
}


static void
xj_free(void *p)
{
    (void) p;
}


void
ngx_http_llm_xlate_enter(void)
{
    if (xj_depth++ == 0) {
        cJSON_InitHooks(&xj_hooks);
    }
}


void
ngx_http_llm_xlate_leave(void)
{
    size_t       used;
    xj_chunk_t  *c, *next, *keep;

    if (xj_depth == 0 || --xj_depth) {
        return;
    }

    cJSON_InitHooks(NULL);

    used = 0;
    keep = NULL;

    for (c = xj_chunks; c; c = next) {
        next = c->next;
        used += sizeof(xj_chunk_t) + c->size;

        if (keep == NULL && c->size == XJ_CHUNK) {
            keep = c;
            continue;
        }

        free(c);
    }

    if (used > xj_peak) {
        xj_peak = used;
    }

    if (keep) {
        keep->used = 0;
        keep->next = NULL;
    }

    xj_chunks = keep;
}


/* at process exit: the chunk kept for the next translation */

void
ngx_http_llm_xlate_arena_free(void)
{
    xj_chunk_t  *c, *next;

    for (c = xj_chunks; c; c = next) {
        next = c->next;
        free(c);
    }

    xj_chunks = NULL;
}


/* the most the arena held (malloc'd chunks, bytes), since the start */

size_t
ngx_http_llm_xlate_arena_peak(void)
{
    return xj_peak;
}


int
ngx_http_llm_xlate_buf_append(ngx_http_llm_xlate_buf_t *b, const void *p,
    size_t n)
{
    if (ngx_http_llm_xlate_buf_reserve(b, n) != NGX_HTTP_LLM_XLATE_OK) {
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    if (n) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
    }

    return NGX_HTTP_LLM_XLATE_OK;
}
