
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * Helpers shared by the layers; they call nothing else of the module:
 * the request context (found again after an internal redirect), a header
 * by name, files read whole (secrets included) and their lines, and text
 * made fit for labels and output (UTF-8 cleaning), a provider's
 * Retry-After.
 */


#include "ngx_http_llm_router.h"

#include <openssl/crypto.h>


static void ngx_http_llm_ctx_cleanup(void *data);


/*
 * An internal redirect (error_page) zeroes r->ctx; the context is also
 * kept in a pool cleanup so that it can be found again, as the realip
 * module does.
 */

ngx_http_llm_ctx_t *
ngx_http_llm_get_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t  *cln;
    ngx_http_llm_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_llm_router_module);

    /* subrequests share the pool, not the context */

    if (ctx == NULL && r == r->main && (r->internal || r->filter_finalize)) {

        for (cln = r->pool->cleanup; cln; cln = cln->next) {
            if (cln->handler == ngx_http_llm_ctx_cleanup) {
                ctx = cln->data;
                ngx_http_set_ctx(r, ctx, ngx_http_llm_router_module);
                break;
            }
        }
    }

    return ctx;
}


ngx_http_llm_ctx_t *
ngx_http_llm_create_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t  *cln;
    ngx_http_llm_ctx_t  *ctx;

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_llm_ctx_t));
    if (cln == NULL) {
        return NULL;
    }

    ctx = cln->data;
    ngx_memzero(ctx, sizeof(ngx_http_llm_ctx_t));

    cln->handler = ngx_http_llm_ctx_cleanup;

    ctx->request = r;
    ctx->lcf = ngx_http_get_module_loc_conf(r, ngx_http_llm_router_module);
    ctx->endpoint = NGX_HTTP_LLM_EP_UNKNOWN;

    ngx_http_set_ctx(r, ctx, ngx_http_llm_router_module);

    return ctx;
}


static void
ngx_http_llm_ctx_cleanup(void *data)
{
    /* the context lives in the request pool; nothing to release */
}


/* a header by name, case-insensitively; NULL if absent */

ngx_table_elt_t *
ngx_http_llm_find_header(ngx_list_t *headers, ngx_str_t *name)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &headers->part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash != 0 && h[i].key.len == name->len
            && ngx_strncasecmp(h[i].key.data, name->data, name->len) == 0)
        {
            return &h[i];
        }
    }
}


/*
 * The one reader of files holding secrets (llm_upstream key_file=,
 * llm_client_keys): the whole file into a temporary buffer, looping over
 * short reads; the caller wipes it with ngx_http_llm_key_file_wipe() once
 * parsed.  "what" names the file in error messages.
 */

ngx_int_t
ngx_http_llm_key_file_read(ngx_conf_t *cf, u_char *name, ngx_str_t *what,
    size_t max, ngx_str_t *content)
{
    u_char           *buf;
    off_t             size;
    size_t            len;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_int_t         rc;
    ngx_file_info_t   fi;

    fd = ngx_open_file(name, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " %V failed", what);
        return NGX_ERROR;
    }

    buf = NULL;
    len = 0;
    rc = NGX_ERROR;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_fd_info_n " %V failed", what);
        goto done;
    }

    size = ngx_file_size(&fi);

    if (size > (off_t) max) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%V is too large", what);
        goto done;
    }

    buf = ngx_pnalloc(cf->temp_pool, (size_t) size + 1);
    if (buf == NULL) {
        goto done;
    }

    /* read(2) may return less than asked for */

    while (len < (size_t) size) {
        n = ngx_read_fd(fd, buf + len, (size_t) size - len);

        if (n == -1) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                               ngx_read_fd_n " %V failed", what);
            goto done;
        }

        if (n == 0) {
            break;
        }

        len += n;
    }

    content->data = buf;
    content->len = len;

    rc = NGX_OK;

done:

    if (rc != NGX_OK && buf) {
        OPENSSL_cleanse(buf, len);
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_ALERT, cf, ngx_errno,
                           ngx_close_file_n " %V failed", what);
    }

    return rc;
}


void
ngx_http_llm_key_file_wipe(ngx_str_t *content)
{
    /* a plain memset() of a dead buffer may be optimised away */

    if (content->data) {
        OPENSSL_cleanse(content->data, content->len);
    }
}


/*
 * The line at pos of a file read whole: [*s, *e) without surrounding
 * blanks (and CR); returns where the next line starts.
 */

u_char *
ngx_http_llm_conf_line(u_char *pos, u_char *end, u_char **s, u_char **e)
{
    u_char  *eol;

    eol = ngx_strlchr(pos, end, '\n');
    if (eol == NULL) {
        eol = end;
    }

    *s = pos;
    *e = eol;

    while (*s < *e && (**s == ' ' || **s == '\t')) {
        (*s)++;
    }

    while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'
                       || (*e)[-1] == '\r'))
    {
        (*e)--;
    }

    return (eol == end) ? end : eol + 1;
}


/*
 * Copies a label field as valid UTF-8, one to one: a byte that is not
 * part of a valid character (an encoded surrogate included), a control
 * character and '\\' become "\\xHH", so that two different names never
 * share a label and every status format gets UTF-8.  Cut at end, never
 * inside a character or an escape.
 */

u_char *
ngx_http_llm_label_utf8(u_char *p, u_char *end, u_char *s, size_t len)
{
    u_char    *c, *last;
    size_t     n;
    uint32_t   u;
    uint64_t   w, x;

    static u_char  hex[] = "0123456789abcdef";

    last = s + len;

    while (s < last) {

        /*
         * a run of printable ASCII (the usual label): one copy; found 8
         * bytes at a time while no byte is below 0x20, above 0x7e or '\\'
         */

        for (c = s; last - c >= 8; c += 8) {
            ngx_memcpy(&w, c, 8);
            x = w ^ 0x5c5c5c5c5c5c5c5cULL;

            if ((((w - 0x2020202020202020ULL) & ~w)
                 | (w + 0x0101010101010101ULL) | w
                 | ((x - 0x0101010101010101ULL) & ~x))
                & 0x8080808080808080ULL)
            {
                break;
            }
        }

        while (c < last && *c >= 0x20 && *c < 0x7f && *c != '\\') {
            c++;
        }

        if (c > s) {
            n = ngx_min((size_t) (c - s), (size_t) (end - p));
            p = ngx_cpymem(p, s, n);
            s += n;

            if (s < c) {
                /* cut at end */
                break;
            }

            continue;
        }

        c = s;

        if (*s >= 0x80) {
            u = ngx_utf8_decode(&s, last - s);

            if (u >= 0x80 && u <= 0x10ffff && (u < 0xd800 || u > 0xdfff)) {
                if ((size_t) (end - p) < (size_t) (s - c)) {
                    break;
                }

                p = ngx_cpymem(p, c, s - c);
                continue;
            }
        }

        if (end - p < 4) {
            break;
        }

        s = c + 1;

        *p++ = '\\';
        *p++ = 'x';
        *p++ = hex[*c >> 4];
        *p++ = hex[*c & 0xf];
    }

    return p;
}


/*
 * A configured name's label, made once: the series of every request are
 * labelled by copies of it, not by label_utf8() calls.  At most four
 * bytes for each of the name's (an escape).
 */

ngx_int_t
ngx_http_llm_label_make(ngx_pool_t *pool, ngx_str_t *name, ngx_str_t *label)
{
    u_char  *p;

    p = ngx_pnalloc(pool, 4 * name->len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    label->data = p;
    label->len = ngx_http_llm_label_utf8(p, p + 4 * name->len, name->data,
                                         name->len)
                 - p;

    return NGX_OK;
}


/*
 * A provider's Retry-After in seconds or as an HTTP date, capped: a bogus
 * or huge value must not park it for long; a number too large to read is
 * the cap too.  0: none, invalid, or a date that is not in the future.
 */

time_t
ngx_http_llm_retry_after_parse(u_char *p, size_t len, time_t now)
{
    u_char  *last;
    time_t   t, n;

    if (len == 0) {
        return 0;
    }

    last = p + len;

    if (*p >= '0' && *p <= '9') {

        for (n = 0; p < last && *p >= '0' && *p <= '9'; p++) {
            n = ngx_min(n * 10 + (*p - '0'), NGX_HTTP_LLM_RETRY_AFTER_MAX);
        }

        return (p < last) ? 0 : n;
    }

    t = ngx_parse_http_time(p, len);

    if (t == NGX_ERROR || t <= now) {
        return 0;
    }

    return ngx_min(t - now, NGX_HTTP_LLM_RETRY_AFTER_MAX);
}
