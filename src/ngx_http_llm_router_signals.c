
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * What a request needs, from the body scan (no tree, no second pass over
 * the body): $llm_lang, $llm_images, $llm_tools, $llm_input_bytes,
 * $llm_max_tokens, for "map" and "llm_route_key".
 */


#include "ngx_http_llm_router.h"


/* the text of the last user message looked at for $llm_lang */
#define NGX_HTTP_LLM_LANG_BYTES   4096


#define NGX_HTTP_LLM_SIG_LANG         0
#define NGX_HTTP_LLM_SIG_IMAGES       1
#define NGX_HTTP_LLM_SIG_TOOLS        2
#define NGX_HTTP_LLM_SIG_INPUT_BYTES  3
#define NGX_HTTP_LLM_SIG_MAX_TOKENS   4


/* scripts counted by $llm_lang, in the order of their names below */
#define NGX_HTTP_LLM_SCRIPT_LATIN     0
#define NGX_HTTP_LLM_SCRIPT_HAN       1
#define NGX_HTTP_LLM_SCRIPT_KANA      2
#define NGX_HTTP_LLM_SCRIPT_HANGUL    3
#define NGX_HTTP_LLM_SCRIPT_CYRILLIC  4
#define NGX_HTTP_LLM_SCRIPT_ARABIC    5
#define NGX_HTTP_LLM_SCRIPT_N         6


typedef struct {
    uint32_t                  from;
    uint32_t                  to;
    ngx_uint_t                script;
} ngx_http_llm_script_range_t;


static ngx_int_t ngx_http_llm_signal_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_str_t ngx_http_llm_lang(u_char *p, u_char *last);
static uint32_t ngx_http_llm_next_char(u_char **pp, u_char *last);


/* added by ngx_http_llm_add_variables() */
ngx_http_variable_t  ngx_http_llm_signal_vars[] = {

    { ngx_string("llm_lang"), NULL, ngx_http_llm_signal_variable,
      NGX_HTTP_LLM_SIG_LANG, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("llm_images"), NULL, ngx_http_llm_signal_variable,
      NGX_HTTP_LLM_SIG_IMAGES, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("llm_tools"), NULL, ngx_http_llm_signal_variable,
      NGX_HTTP_LLM_SIG_TOOLS, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("llm_input_bytes"), NULL, ngx_http_llm_signal_variable,
      NGX_HTTP_LLM_SIG_INPUT_BYTES, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("llm_max_tokens"), NULL, ngx_http_llm_signal_variable,
      NGX_HTTP_LLM_SIG_MAX_TOKENS, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


/* Unicode blocks of each script; anything else is not counted */

static ngx_http_llm_script_range_t  ngx_http_llm_scripts[] = {
    { 'A', 'Z', NGX_HTTP_LLM_SCRIPT_LATIN },
    { 'a', 'z', NGX_HTTP_LLM_SCRIPT_LATIN },
    { 0x00c0, 0x00d6, NGX_HTTP_LLM_SCRIPT_LATIN },
    { 0x00d8, 0x00f6, NGX_HTTP_LLM_SCRIPT_LATIN },
    { 0x00f8, 0x024f, NGX_HTTP_LLM_SCRIPT_LATIN },
    { 0x0400, 0x052f, NGX_HTTP_LLM_SCRIPT_CYRILLIC },
    { 0x0600, 0x06ff, NGX_HTTP_LLM_SCRIPT_ARABIC },
    { 0x0750, 0x077f, NGX_HTTP_LLM_SCRIPT_ARABIC },
    { 0x1100, 0x11ff, NGX_HTTP_LLM_SCRIPT_HANGUL },
    { 0x3040, 0x30ff, NGX_HTTP_LLM_SCRIPT_KANA },
    { 0x3130, 0x318f, NGX_HTTP_LLM_SCRIPT_HANGUL },
    { 0x31f0, 0x31ff, NGX_HTTP_LLM_SCRIPT_KANA },
    { 0x3400, 0x4dbf, NGX_HTTP_LLM_SCRIPT_HAN },
    { 0x4e00, 0x9fff, NGX_HTTP_LLM_SCRIPT_HAN },
    { 0xac00, 0xd7af, NGX_HTTP_LLM_SCRIPT_HANGUL },
    { 0xf900, 0xfaff, NGX_HTTP_LLM_SCRIPT_HAN },
    { 0xfb50, 0xfdff, NGX_HTTP_LLM_SCRIPT_ARABIC },
    { 0xfe70, 0xfeff, NGX_HTTP_LLM_SCRIPT_ARABIC },
    { 0xff66, 0xff9f, NGX_HTTP_LLM_SCRIPT_KANA },
    { 0x20000, 0x2ebef, NGX_HTTP_LLM_SCRIPT_HAN },
    { 0, 0, 0 }
};


static ngx_int_t
ngx_http_llm_signal_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                   *p;
    int64_t                   n;
    ngx_str_t                 s;
    ngx_http_llm_ctx_t       *ctx;
    ngx_http_llm_json_doc_t  *doc;

    ctx = ngx_http_llm_get_ctx(r->main);

    /* set by the scan, before the route is chosen */

    if (ctx == NULL || ctx->doc.object.start == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    doc = &ctx->doc;
    ngx_str_null(&s);

    switch (data) {

    case NGX_HTTP_LLM_SIG_LANG:
        if (doc->user_text.start) {
            s = ngx_http_llm_lang((u_char *) doc->user_text.start + 1,
                                  (u_char *) doc->user_text.end - 1);
        }
        break;

    case NGX_HTTP_LLM_SIG_IMAGES:
        if (doc->images) {
            ngx_str_set(&s, "1");
        }
        break;

    case NGX_HTTP_LLM_SIG_TOOLS:
        if (doc->tools) {
            ngx_str_set(&s, "1");
        }
        break;

    case NGX_HTTP_LLM_SIG_INPUT_BYTES:
    case NGX_HTTP_LLM_SIG_MAX_TOKENS:

        if (data == NGX_HTTP_LLM_SIG_INPUT_BYTES) {
            n = doc->input.start ? doc->input.end - doc->input.start : 0;

        } else {
            n = doc->max_completion_tokens_value;

            if (n < 0) {
                n = doc->max_tokens_value;
            }

            if (n < 0) {
                n = doc->max_output_tokens_value;
            }

            if (n < 0) {
                break;
            }
        }

        p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
        if (p == NULL) {
            return NGX_ERROR;
        }

        s.data = p;
        s.len = ngx_sprintf(p, "%L", n) - p;
        break;
    }

    v->data = s.data;
    v->len = s.len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


/*
 * The script of most letters in the first NGX_HTTP_LLM_LANG_BYTES of a
 * JSON string's text (p .. last, without quotes).  Han, kana and Hangul
 * letters count three each (one is about a word; code in a Chinese
 * question must not make it "latin"); Japanese is kana among Han: ten
 * percent of kana is enough, Japanese text always has some.
 */

static ngx_str_t
ngx_http_llm_lang(u_char *p, u_char *last)
{
    u_char                       *start;
    uint32_t                      ch;
    ngx_str_t                     lang;
    ngx_uint_t                    i, best, n[NGX_HTTP_LLM_SCRIPT_N];
    ngx_http_llm_script_range_t  *sr;

    static ngx_str_t  names[] = {
        ngx_string("latin"), ngx_string("zh"), ngx_string("ja"),
        ngx_string("ko"), ngx_string("ru"), ngx_string("ar")
    };

    ngx_memzero(n, sizeof(n));
    start = p;

    while (p < last && p - start < NGX_HTTP_LLM_LANG_BYTES) {
        ch = ngx_http_llm_next_char(&p, last);

        if (ch < 'A') {
            continue;
        }

        for (sr = ngx_http_llm_scripts; sr->to; sr++) {
            if (ch >= sr->from && ch <= sr->to) {
                n[sr->script]++;
                break;
            }
        }
    }

    if (n[NGX_HTTP_LLM_SCRIPT_KANA]
        && n[NGX_HTTP_LLM_SCRIPT_KANA] * 10
           >= n[NGX_HTTP_LLM_SCRIPT_KANA] + n[NGX_HTTP_LLM_SCRIPT_HAN])
    {
        n[NGX_HTTP_LLM_SCRIPT_KANA] += n[NGX_HTTP_LLM_SCRIPT_HAN];
        n[NGX_HTTP_LLM_SCRIPT_HAN] = 0;
    }

    n[NGX_HTTP_LLM_SCRIPT_HAN] *= 3;
    n[NGX_HTTP_LLM_SCRIPT_KANA] *= 3;
    n[NGX_HTTP_LLM_SCRIPT_HANGUL] *= 3;

    best = 0;

    for (i = 1; i < NGX_HTTP_LLM_SCRIPT_N; i++) {
        if (n[i] > n[best]) {
            best = i;
        }
    }

    if (n[best] == 0) {
        ngx_str_null(&lang);
        return lang;
    }

    return names[best];
}


/*
 * One code point of JSON string text: UTF-8 as it is, escapes decoded
 * (\uXXXX with surrogate pairs); the scanner validated the escapes.
 * Bytes that are not UTF-8 count as nothing (0).
 */

static uint32_t
ngx_http_llm_next_char(u_char **pp, u_char *last)
{
    u_char     *p;
    uint32_t    ch, lo;
    ngx_int_t   hex;

    p = *pp;

    if (*p == '\\') {
        if (last - p < 2) {
            *pp = last;
            return 0;
        }

        if (p[1] != 'u') {
            *pp = p + 2;
            return p[1] == 'n' || p[1] == 't' || p[1] == 'r' ? ' ' : p[1];
        }

        if (last - p < 6 || (hex = ngx_hextoi(p + 2, 4)) == NGX_ERROR) {
            *pp = last;
            return 0;
        }

        ch = (uint32_t) hex;
        *pp = p + 6;

        if (ch >= 0xd800 && ch <= 0xdbff && last - p >= 12 && p[6] == '\\'
            && p[7] == 'u' && (hex = ngx_hextoi(p + 8, 4)) != NGX_ERROR)
        {
            lo = (uint32_t) hex;

            if (lo >= 0xdc00 && lo <= 0xdfff) {
                *pp = p + 12;
                return 0x10000 + ((ch - 0xd800) << 10) + (lo - 0xdc00);
            }
        }

        return ch;
    }

    if (*p < 0x80) {
        *pp = p + 1;
        return *p;
    }

    ch = ngx_utf8_decode(pp, last - p);

    if (ch > 0x10ffff) {
        /* invalid or cut: skip the byte */
        *pp = p + 1;
        return 0;
    }

    return ch;
}
