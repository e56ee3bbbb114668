
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * The few nginx core functions that the module's parsers call, for the
 * fuzz harnesses, which compile the real module sources against nginx's
 * headers but link no nginx.  Pool memory is malloc()ed one allocation
 * at a time (so ASan sees every overrun), zeroed (unless a harness sets
 * ngx_stubs_zero to 0), counted, and freed by
 * ngx_stubs_pool_reset(); logging goes nowhere.  Semantics follow
 * nginx's own functions where the parsers depend on them.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_stubs.h"


typedef struct ngx_stubs_alloc_s  ngx_stubs_alloc_t;

struct ngx_stubs_alloc_s {
    ngx_stubs_alloc_t  *next;
    ngx_pool_t         *pool;
    size_t              size;
};


static ngx_stubs_alloc_t  *ngx_stubs_allocs;
static size_t              ngx_stubs_bytes;
static ngx_time_t          ngx_stubs_time;

/* fuzz_keys looks for wiped secrets; the others skip the memset */
ngx_uint_t                 ngx_stubs_zero = 1;

volatile ngx_time_t       *ngx_cached_time = &ngx_stubs_time;
ngx_uint_t                 ngx_pagesize = 4096;


const char *__asan_default_options(void);


/*
 * ASan's quarantine at 16 MB instead of 256: pool memory lives until a
 * run ends anyway, 16 MB still catches a use after free within an input
 * (cJSON_Delete(), the zone's frees), and the default made every run
 * touch fresh pages: half of the time went to page faults.
 */

const char *
__asan_default_options(void)
{
    return "quarantine_size_mb=16";
}


void *
ngx_stubs_alloc(size_t size)
{
    return ngx_stubs_palloc(NULL, size);
}


void *
ngx_stubs_palloc(ngx_pool_t *pool, size_t size)
{
    ngx_stubs_alloc_t  *a;

    a = malloc(sizeof(ngx_stubs_alloc_t) + size);
    if (a == NULL) {
        abort();
    }

    a->next = ngx_stubs_allocs;
    a->pool = pool;
    a->size = size;
    ngx_stubs_allocs = a;
    ngx_stubs_bytes += size;

    /* zeroed, so that what was wiped can be told from what was not */
    return ngx_stubs_zero ? memset(a + 1, 0, size) : (void *) (a + 1);
}


size_t
ngx_stubs_pool_bytes(void)
{
    return ngx_stubs_bytes;
}


/* whether the bytes [s, s + n) are in memory allocated from pool */

ngx_uint_t
ngx_stubs_pool_holds(ngx_pool_t *pool, u_char *s, size_t n)
{
    ngx_stubs_alloc_t  *a;

    /* memmem(): libc's search, not a byte loop under ASan's checks */

    for (a = ngx_stubs_allocs; a; a = a->next) {
        if (a->pool == pool && a->size >= n
            && memmem(a + 1, a->size, s, n) != NULL)
        {
            return 1;
        }
    }

    return 0;
}


void
ngx_stubs_pool_reset(void)
{
    ngx_stubs_alloc_t  *a, *next;

    for (a = ngx_stubs_allocs; a; a = next) {
        next = a->next;
        free(a);
    }

    ngx_stubs_allocs = NULL;
    ngx_stubs_bytes = 0;
}


void *
ngx_palloc(ngx_pool_t *pool, size_t size)
{
    return ngx_stubs_palloc(pool, size);
}


void *
ngx_pnalloc(ngx_pool_t *pool, size_t size)
{
    return ngx_stubs_palloc(pool, size);
}


void *
ngx_pcalloc(ngx_pool_t *pool, size_t size)
{
    return memset(ngx_stubs_palloc(pool, size), 0, size);
}


void *
ngx_alloc(size_t size, ngx_log_t *log)
{
    return malloc(size);
}


void
ngx_log_error_core(ngx_uint_t level, ngx_log_t *log, ngx_err_t err,
    const char *fmt, ...)
{
}


void ngx_cdecl
ngx_conf_log_error(ngx_uint_t level, ngx_conf_t *cf, ngx_err_t err,
    const char *fmt, ...)
{
}


void *
ngx_array_push(ngx_array_t *a)
{
    void  *elt, *new;

    if (a->nelts == a->nalloc) {
        new = ngx_stubs_palloc(a->pool,
                               2 * a->size * (a->nalloc ? a->nalloc : 1));
        ngx_memcpy(new, a->elts, a->size * a->nelts);
        a->elts = new;
        a->nalloc = a->nalloc ? 2 * a->nalloc : 1;
    }

    elt = (u_char *) a->elts + a->size * a->nelts;
    a->nelts++;

    return elt;
}


ngx_array_t *
ngx_array_create(ngx_pool_t *p, ngx_uint_t n, size_t size)
{
    ngx_array_t  *a;

    a = ngx_stubs_palloc(p, sizeof(ngx_array_t));
    a->elts = ngx_stubs_palloc(p, n * size);
    a->nelts = 0;
    a->size = size;
    a->nalloc = n;
    a->pool = p;

    return a;
}


ngx_chain_t *
ngx_alloc_chain_link(ngx_pool_t *pool)
{
    ngx_chain_t  *cl;

    cl = pool->chain;

    if (cl) {
        pool->chain = cl->next;
        return cl;
    }

    return ngx_stubs_palloc(pool, sizeof(ngx_chain_t));
}


ngx_chain_t *
ngx_chain_get_free_buf(ngx_pool_t *p, ngx_chain_t **free)
{
    ngx_chain_t  *cl;

    if (*free) {
        cl = *free;
        *free = cl->next;
        cl->next = NULL;
        return cl;
    }

    cl = ngx_alloc_chain_link(p);
    cl->buf = ngx_pcalloc(p, sizeof(ngx_buf_t));
    cl->next = NULL;

    return cl;
}


void
ngx_chain_update_chains(ngx_pool_t *p, ngx_chain_t **free,
    ngx_chain_t **busy, ngx_chain_t **out, ngx_buf_tag_t tag)
{
    ngx_chain_t  *cl;

    if (*out) {
        if (*busy == NULL) {
            *busy = *out;

        } else {
            for (cl = *busy; cl->next; cl = cl->next) { /* void */ }

            cl->next = *out;
        }

        *out = NULL;
    }

    while (*busy) {
        cl = *busy;

        if (cl->buf->tag != tag) {
            *busy = cl->next;
            ngx_free_chain(p, cl);
            continue;
        }

        if (ngx_buf_size(cl->buf) != 0) {
            break;
        }

        cl->buf->pos = cl->buf->start;
        cl->buf->last = cl->buf->start;

        *busy = cl->next;
        cl->next = *free;
        *free = cl;
    }
}


ngx_int_t
ngx_strncasecmp(u_char *s1, u_char *s2, size_t n)
{
    ngx_uint_t  c1, c2;

    while (n) {
        c1 = (ngx_uint_t) *s1++;
        c2 = (ngx_uint_t) *s2++;

        c1 = (c1 >= 'A' && c1 <= 'Z') ? (c1 | 0x20) : c1;
        c2 = (c2 >= 'A' && c2 <= 'Z') ? (c2 | 0x20) : c2;

        if (c1 == c2) {

            if (c1) {
                n--;
                continue;
            }

            return 0;
        }

        return c1 - c2;
    }

    return 0;
}


/* s2 is lowercase, n is its length minus one (as in nginx) */

u_char *
ngx_strlcasestrn(u_char *s1, u_char *last, u_char *s2, size_t n)
{
    ngx_uint_t  c1, c2;

    c2 = (ngx_uint_t) *s2++;
    last -= n;

    do {
        do {
            if (s1 >= last) {
                return NULL;
            }

            c1 = (ngx_uint_t) *s1++;
            c1 = ngx_tolower(c1);

        } while (c1 != c2);

    } while (ngx_strncasecmp(s1, s2, n) != 0);

    return --s1;
}


ngx_int_t
ngx_hextoi(u_char *line, size_t n)
{
    u_char     c, ch;
    ngx_int_t  value, cutoff;

    if (n == 0) {
        return NGX_ERROR;
    }

    cutoff = NGX_MAX_INT_T_VALUE / 16;

    for (value = 0; n--; line++) {
        if (value > cutoff) {
            return NGX_ERROR;
        }

        ch = *line;

        if (ch >= '0' && ch <= '9') {
            value = value * 16 + (ch - '0');
            continue;
        }

        c = (u_char) (ch | 0x20);

        if (c >= 'a' && c <= 'f') {
            value = value * 16 + (c - 'a' + 10);
            continue;
        }

        return NGX_ERROR;
    }

    return value;
}


ngx_int_t
ngx_conf_full_name(ngx_cycle_t *cycle, ngx_str_t *name, ngx_uint_t conf_prefix)
{
    /* the harnesses give absolute names */
    return NGX_OK;
}


/*
 * the formats the module's readers use: %V %s %*s %d %i %ui %uL %uz %z
 * %O %L %M %P %T
 */

u_char * ngx_cdecl
ngx_sprintf(u_char *buf, const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf(buf, (void *) -1, fmt, args);
    va_end(args);

    return p;
}


u_char *
ngx_vslprintf(u_char *buf, u_char *last, const char *fmt, va_list args)
{
    char         num[32];
    size_t       n;
    ngx_str_t   *v;
    const char  *s;

    while (*fmt && buf < last) {
        if (*fmt != '%') {
            *buf++ = *fmt++;
            continue;
        }

        fmt++;
        s = num;

        switch (*fmt++) {
        case 'V':
            v = va_arg(args, ngx_str_t *);
            n = ngx_min(v->len, (size_t) (last - buf));
            buf = ngx_cpymem(buf, v->data, n);
            continue;
        case 's':
            s = va_arg(args, const char *);
            break;
        case '*':
            n = va_arg(args, size_t);
            s = va_arg(args, const char *);
            fmt++;                                      /* the 's' */
            n = ngx_min(n, (size_t) (last - buf));
            buf = ngx_cpymem(buf, s, n);
            continue;
        case 'P':
            snprintf(num, sizeof(num), "%ld",
                     (long) va_arg(args, ngx_pid_t));
            break;
        case 'T':
            snprintf(num, sizeof(num), "%lld",
                     (long long) va_arg(args, time_t));
            break;
        case 'M':
            snprintf(num, sizeof(num), "%lu",
                     (unsigned long) va_arg(args, ngx_msec_t));
            break;
        case 'd':
            snprintf(num, sizeof(num), "%d", va_arg(args, int));
            break;
        case 'i':
            snprintf(num, sizeof(num), "%ld", (long) va_arg(args, ngx_int_t));
            break;
        case 'u':
            if (*fmt == 'z') {
                snprintf(num, sizeof(num), "%zu", va_arg(args, size_t));
            } else {
                snprintf(num, sizeof(num), "%lu",
                         (unsigned long) va_arg(args, ngx_uint_t));
            }
            fmt++;
            break;
        case 'z':
            snprintf(num, sizeof(num), "%zd", va_arg(args, ssize_t));
            break;
        case 'O':
            snprintf(num, sizeof(num), "%lld",
                     (long long) va_arg(args, off_t));
            break;
        case 'L':
            snprintf(num, sizeof(num), "%lld",
                     (long long) va_arg(args, int64_t));
            break;
        default:
            num[0] = '\0';
        }

        while (*s && buf < last) {
            *buf++ = *s++;
        }
    }

    return buf;
}


u_char *
ngx_pstrdup(ngx_pool_t *pool, ngx_str_t *src)
{
    u_char  *dst;

    dst = ngx_pnalloc(pool, src->len);
    ngx_memcpy(dst, src->data, src->len);

    return dst;
}
