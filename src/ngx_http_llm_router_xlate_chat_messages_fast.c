
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * An OpenAI chat completions client, an Anthropic messages provider: the
 * request's fast path.  Most requests are a model, text messages of the
 * user and the assistant, max_tokens and maybe stream; cJSON's tree of
 * them cost more than the rest of the gateway.  This writes the same
 * bytes as cm_request() and the JSON writer would (fuzz/fuzz_xlate.c
 * holds both to it), straight from the body, for a subset of JSON that
 * cJSON parses whole: keys without escapes and not repeated, strings
 * checked by the request scanner's string validator, whose escapes
 * cJSON writes back the same (\" \\ \b \f \n \r \t: a \u or \/ cJSON
 * decodes and writes otherwise).  Anything else (a system message,
 * tools, temperature, null, an escaped key...) is DECLINED and takes the
 * general path.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_llm_router_xlate.h"
#include "ngx_http_llm_router_xlate_read.h"


#define CF_MODEL                 0x01
#define CF_MESSAGES              0x02
#define CF_MAX_TOKENS            0x04
#define CF_MAX_COMPLETION        0x08
#define CF_STREAM                0x10
#define CF_STREAM_OPTIONS        0x20

/* cf_value(): what may be taken */
#define CF_STRING                1
#define CF_TEXT                  2   /* a string copied as it came */


/* the tokens every fast path reads alike (xlate_read.h) */
#define cf_key(c, key, n)  ngx_http_llm_xlate_read_key(&(c)->rd, key, n)
#define cf_next(c, close)  ngx_http_llm_xlate_read_next(&(c)->rd, close)
#define cf_skip(c)         ngx_http_llm_xlate_read_space(&(c)->rd)
#define cf_string(c, text, start)                                             \
    ngx_http_llm_xlate_read_string(&(c)->rd, (text) == CF_TEXT, start)


typedef struct {
    ngx_http_llm_xlate_read_t    rd;
    ngx_http_llm_xlate_buf_t    *out;
    int                          rc;      /* the writes' */
} cf_t;


static int cf_member(cf_t *c, ngx_http_llm_xlate_result_t *res,
    const ngx_http_llm_xlate_conf_t *conf, unsigned *seen, int64_t *max);
static int cf_messages(cf_t *c);
static int cf_message(cf_t *c, int *role);
static int cf_bool(cf_t *c);


#define cf_lit(c, s)                                                          \
    (c)->rc |= ngx_http_llm_xlate_buf_append((c)->out, s, sizeof(s) - 1)
#define cf_span(c, start)                                                     \
    (c)->rc |= ngx_http_llm_xlate_buf_append((c)->out, start,                 \
                                             (c)->rd.p - (start))
#define cf_is(key, n, s)                                                      \
    ((n) == sizeof(s) - 1 && memcmp(key, s, sizeof(s) - 1) == 0)


/*
 * Returns OK (res->body is the provider's body), NOMEM, or DECLINED (res
 * as it was given: zeroed, max_tokens -1).
 */

int
ngx_http_llm_xlate_cm_fast_request(const unsigned char *body, size_t len,
    const ngx_http_llm_xlate_conf_t *conf, ngx_http_llm_xlate_result_t *res)
{
    int       rc;
    int64_t   max;
    unsigned  seen;
    cf_t      c;

    c.rd.p = body;
    c.rd.last = body + len;
    c.out = &res->body;
    c.rc = ngx_http_llm_xlate_buf_reserve(c.out, len + len / 8 + 256);

    seen = 0;
    max = -1;
    rc = NGX_HTTP_LLM_XLATE_DECLINED;

    cf_skip(&c);

    if (c.rd.p == c.rd.last || *c.rd.p != '{') {
        goto declined;
    }

    c.rd.p++;
    cf_skip(&c);
    cf_lit(&c, "{");

    if (c.rd.p < c.rd.last && *c.rd.p == '}') {
        c.rd.p++;

    } else {
        do {
            if (cf_member(&c, res, conf, &seen, &max) != NGX_HTTP_LLM_XLATE_OK)
            {
                goto declined;
            }

            rc = cf_next(&c, '}');

        } while (rc == 1);

        if (rc != 0) {
            goto declined;
        }
    }

    cf_skip(&c);

    if (c.rd.p != c.rd.last) {
        goto declined;
    }

    /* what cm_request() adds after the fields: Anthropic requires it */

    if (max < 0) {
        max = conf->max_tokens_default > 0 ? conf->max_tokens_default : 4096;
    }

    res->max_tokens = max;

    if (c.out->len > 1) {
        cf_lit(&c, ",");
    }

    cf_lit(&c, "\"max_tokens\":");
    c.rc |= ngx_http_llm_xlate_print_num(c.out, (double) max);
    cf_lit(&c, "}");

    /* a C string too, as the general path's */
    c.rc |= ngx_http_llm_xlate_buf_append(c.out, "", 1);

    if (c.rc) {
        ngx_http_llm_xlate_buf_free(c.out);
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    c.out->len--;

    return NGX_HTTP_LLM_XLATE_OK;

declined:

    ngx_http_llm_xlate_buf_free(&res->body);
    memset(res, 0, sizeof(ngx_http_llm_xlate_result_t));
    res->max_tokens = -1;

    return NGX_HTTP_LLM_XLATE_DECLINED;
}


/* one top-level member, as the field table's handlers take it */

static int
cf_member(cf_t *c, ngx_http_llm_xlate_result_t *res,
    const ngx_http_llm_xlate_conf_t *conf, unsigned *seen, int64_t *max)
{
    int                   b;
    size_t                n;
    int64_t               v;
    unsigned              bit;
    const unsigned char  *key, *start;

    if (cf_key(c, &key, &n) != NGX_HTTP_LLM_XLATE_OK) {
        return NGX_HTTP_LLM_XLATE_DECLINED;
    }

    bit = cf_is(key, n, "model") ? CF_MODEL
          : cf_is(key, n, "messages") ? CF_MESSAGES
          : cf_is(key, n, "max_tokens") ? CF_MAX_TOKENS
          : cf_is(key, n, "max_completion_tokens") ? CF_MAX_COMPLETION
          : cf_is(key, n, "stream") ? CF_STREAM
          : cf_is(key, n, "stream_options") ? CF_STREAM_OPTIONS : 0;

    /* cJSON keeps repeated members: the general path sees each */
    if (bit == 0 || (*seen & bit)) {
        return NGX_HTTP_LLM_XLATE_DECLINED;
    }

    *seen |= bit;

    switch (bit) {

    case CF_MODEL:
        if (cf_string(c, conf->model ? CF_STRING : CF_TEXT, &start)
            != NGX_HTTP_LLM_XLATE_OK)
        {
            return NGX_HTTP_LLM_XLATE_DECLINED;
        }

        if (c->out->len > 1) {
            cf_lit(c, ",");
        }

        cf_lit(c, "\"model\":");

        if (conf->model) {
            c->rc |= ngx_http_llm_xlate_print_str(c->out, conf->model);

        } else {
            cf_span(c, start);
        }

        return NGX_HTTP_LLM_XLATE_OK;

    case CF_MESSAGES:
        if (c->out->len > 1) {
            cf_lit(c, ",");
        }

        return cf_messages(c);

    case CF_MAX_TOKENS:
    case CF_MAX_COMPLETION:

        /* 1 .. 999999999 (xlate_max_tokens_in() refuses < 1) */

        v = 0;
        start = c->rd.p;

        while (c->rd.p < c->rd.last && *c->rd.p >= '0' && *c->rd.p <= '9'
               && c->rd.p - start < 9)
        {
            v = v * 10 + (*c->rd.p++ - '0');
        }

        if (c->rd.p == start || *start == '0') {
            return NGX_HTTP_LLM_XLATE_DECLINED;
        }

        /* max_completion_tokens replaces the older max_tokens */
        if (*max < 0 || bit == CF_MAX_COMPLETION) {
            *max = v;
        }

        return NGX_HTTP_LLM_XLATE_OK;

    case CF_STREAM:
        b = cf_bool(c);

        if (b < 0) {
            return NGX_HTTP_LLM_XLATE_DECLINED;
        }

        res->stream = b;

        if (c->out->len > 1) {
            cf_lit(c, ",");
        }

        if (b) {
            cf_lit(c, "\"stream\":true");

        } else {
            cf_lit(c, "\"stream\":false");
        }

        return NGX_HTTP_LLM_XLATE_OK;

    default: /* CF_STREAM_OPTIONS: {} or {"include_usage": bool} */

        if (c->rd.p == c->rd.last || *c->rd.p != '{') {
            return NGX_HTTP_LLM_XLATE_DECLINED;
        }

        c->rd.p++;
        cf_skip(c);

        if (c->rd.p < c->rd.last && *c->rd.p == '}') {
            c->rd.p++;
            return NGX_HTTP_LLM_XLATE_OK;
        }

        if (cf_key(c, &key, &n) != NGX_HTTP_LLM_XLATE_OK
            || !cf_is(key, n, "include_usage")
            || (b = cf_bool(c)) < 0
            || cf_next(c, '}') != 0)
        {
            return NGX_HTTP_LLM_XLATE_DECLINED;
        }

        res->include_usage = b;

        return NGX_HTTP_LLM_XLATE_OK;
    }
}


/*
 * "messages": text messages of the user and the assistant; each one's
 * text is a text block, consecutive ones of a role one message, empty
 * ones left out (cm_messages() and cm_append()).
 */

static int
cf_messages(cf_t *c)
{
    int  rc, role, last;

    cf_lit(c, "\"messages\":[");

    if (c->rd.p == c->rd.last || *c->rd.p != '[') {
        return NGX_HTTP_LLM_XLATE_DECLINED;
    }

    c->rd.p++;
    cf_skip(c);

    if (c->rd.p < c->rd.last && *c->rd.p == ']') {
        c->rd.p++;
        cf_lit(c, "]");
        return NGX_HTTP_LLM_XLATE_OK;
    }

    last = 0;

    do {
        role = last;

        if (cf_message(c, &role) != NGX_HTTP_LLM_XLATE_OK) {
            return NGX_HTTP_LLM_XLATE_DECLINED;
        }

        last = role;
        rc = cf_next(c, ']');

    } while (rc == 1);

    if (rc != 0) {
        return NGX_HTTP_LLM_XLATE_DECLINED;
    }

    if (last) {
        cf_lit(c, "]}");
    }

    cf_lit(c, "]");

    return NGX_HTTP_LLM_XLATE_OK;
}


/*
 * One message {"role": "user" or "assistant", "content": a string};
 * *role: that of the message written last (1 user, 2 assistant, 0 none),
 * whose content array is still open.
 */

static int
cf_message(cf_t *c, int *role)
{
    int                   r, rc;
    size_t                n;
    const unsigned char  *key, *start, *text, *text_end;

    if (c->rd.p == c->rd.last || *c->rd.p != '{') {
        return NGX_HTTP_LLM_XLATE_DECLINED;
    }

    c->rd.p++;
    cf_skip(c);

    r = 0;
    text = NULL;
    text_end = NULL;

    if (c->rd.p < c->rd.last && *c->rd.p == '}') {
        /* no role: cm_messages() refuses it */
        return NGX_HTTP_LLM_XLATE_DECLINED;
    }

    do {
        if (cf_key(c, &key, &n) != NGX_HTTP_LLM_XLATE_OK) {
            return NGX_HTTP_LLM_XLATE_DECLINED;
        }

        if (cf_is(key, n, "role") && r == 0) {
            if (cf_string(c, CF_STRING, &start) != NGX_HTTP_LLM_XLATE_OK) {
                return NGX_HTTP_LLM_XLATE_DECLINED;
            }

            n = c->rd.p - start;

            r = cf_is(start, n, "\"user\"") ? 1
                : cf_is(start, n, "\"assistant\"") ? 2 : -1;

            if (r < 0) {
                return NGX_HTTP_LLM_XLATE_DECLINED;
            }

        } else if (cf_is(key, n, "content") && text == NULL) {
            if (cf_string(c, CF_TEXT, &text) != NGX_HTTP_LLM_XLATE_OK) {
                return NGX_HTTP_LLM_XLATE_DECLINED;
            }

            text_end = c->rd.p;

        } else {
            return NGX_HTTP_LLM_XLATE_DECLINED;
        }

        rc = cf_next(c, '}');

    } while (rc == 1);

    if (rc != 0 || r == 0) {
        return NGX_HTTP_LLM_XLATE_DECLINED;
    }

    if (text == NULL || text_end - text == 2) {
        /* no text: Anthropic refuses empty content, nothing is lost */
        return NGX_HTTP_LLM_XLATE_OK;
    }

    if (*role == r) {
        cf_lit(c, ",");

    } else {
        if (*role) {
            cf_lit(c, "]},");
        }

        if (r == 1) {
            cf_lit(c, "{\"role\":\"user\",\"content\":[");

        } else {
            cf_lit(c, "{\"role\":\"assistant\",\"content\":[");
        }

        *role = r;
    }

    cf_lit(c, "{\"type\":\"text\",\"text\":");
    c->rc |= ngx_http_llm_xlate_buf_append(c->out, text, text_end - text);
    cf_lit(c, "}");

    return NGX_HTTP_LLM_XLATE_OK;
}


/* true 1, false 0, else -1 */

static int
cf_bool(cf_t *c)
{
    if (c->rd.last - c->rd.p >= 4 && memcmp(c->rd.p, "true", 4) == 0) {
        c->rd.p += 4;
        return 1;
    }

    if (c->rd.last - c->rd.p >= 5 && memcmp(c->rd.p, "false", 5) == 0) {
        c->rd.p += 5;
        return 0;
    }

    return -1;
}
