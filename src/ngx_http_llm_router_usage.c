
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * Usage and money: the top-level "usage" of JSON answers, found by a
 * scanner that keeps no more than the usage object (so reads may split
 * the answer anywhere) and skips string contents a vector at a time,
 * usage in SSE events, and llm_price.
 */


#include "ngx_http_llm_router.h"
#include "ngx_http_llm_router_scan.h"



#define NGX_HTTP_LLM_USAGE_MAX  1024


struct ngx_http_llm_json_usage_s {
    ngx_uint_t                       depth;
    u_char                           key[8];
    size_t                           key_len;
    size_t                           cap_len;
    unsigned                         in_string:1;
    unsigned                         escape:1;
    unsigned                         want_key:1;
    unsigned                         in_key:1;
    unsigned                         usage_next:1;  /* "usage" key seen */
    unsigned                         capture:1;
    unsigned                         done:1;
    u_char                          *cap;     /* the "usage" object */
};


static ngx_int_t ngx_http_llm_usage_copy(ngx_http_request_t *r,
    ngx_http_llm_json_usage_t *u, u_char *from, u_char *to);
static void ngx_http_llm_usage_scan(u_char *p, u_char *last, int64_t *v);
static void ngx_http_llm_usage_flat(ngx_http_llm_ctx_t *ctx, u_char *p,
    u_char *last);
static ngx_int_t ngx_http_llm_parse_usd(ngx_str_t *s, int64_t *micro);


char *
ngx_http_llm_price_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_llm_main_conf_t *lmcf = conf;

    u_char                *colon;
    int64_t               *v;
    ngx_str_t             *value, s;
    ngx_uint_t             i;
    ngx_http_llm_price_t  *price, *p;

    value = cf->args->elts;

    colon = ngx_strlchr(value[1].data, value[1].data + value[1].len, ':');

    if (colon == NULL || colon == value[1].data
        || colon == value[1].data + value[1].len - 1)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid \"%V\" in llm_price: provider:model "
                           "expected", &value[1]);
        return NGX_CONF_ERROR;
    }

    p = lmcf->prices.elts;

    for (i = 0; i < lmcf->prices.nelts; i++) {
        if (p[i].provider_name.len + 1 + p[i].model.len == value[1].len
            && ngx_strncmp(p[i].provider_name.data, value[1].data,
                           value[1].len)
               == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate llm_price \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    price = ngx_array_push(&lmcf->prices);
    if (price == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(price, sizeof(ngx_http_llm_price_t));

    price->provider_name.data = value[1].data;
    price->provider_name.len = colon - value[1].data;
    price->model.data = colon + 1;
    price->model.len = value[1].data + value[1].len - colon - 1;
    price->input = -1;
    price->output = -1;
    price->cached_input = -1;
    price->file_name = cf->conf_file->file.name.data;
    price->line = cf->conf_file->line;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "input=", 6) == 0) {
            v = &price->input;
            s.data = value[i].data + 6;
            s.len = value[i].len - 6;

        } else if (ngx_strncmp(value[i].data, "output=", 7) == 0) {
            v = &price->output;
            s.data = value[i].data + 7;
            s.len = value[i].len - 7;

        } else if (ngx_strncmp(value[i].data, "cached_input=", 13) == 0) {
            v = &price->cached_input;
            s.data = value[i].data + 13;
            s.len = value[i].len - 13;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\" in llm_price",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        if (*v != -1 || ngx_http_llm_parse_usd(&s, v) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid price \"%V\" in llm_price",
                               &value[i]);
            return NGX_CONF_ERROR;
        }
    }

    if (price->input < 0 || price->output < 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "llm_price \"%V\" needs \"input=\" and "
                           "\"output=\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (price->cached_input < 0) {
        price->cached_input = price->input;
    }

    return NGX_CONF_OK;
}


/* "0.15" USD per 1M tokens -> 150000 micro-USD; at most 6 decimals */

static ngx_int_t
ngx_http_llm_parse_usd(ngx_str_t *s, int64_t *micro)
{
    u_char      *p, *end;
    int64_t      v;
    ngx_uint_t   decimals, dot;

    p = s->data;
    end = s->data + s->len;
    v = 0;
    decimals = 0;
    dot = 0;

    if (p == end) {
        return NGX_ERROR;
    }

    for ( /* void */ ; p < end; p++) {

        if (*p == '.' && !dot) {
            dot = 1;
            continue;
        }

        if (*p < '0' || *p > '9' || decimals == 6
            || v > (INT64_MAX / 10) - 10)
        {
            return NGX_ERROR;
        }

        v = v * 10 + (*p - '0');

        if (dot) {
            decimals++;
        }
    }

    if (dot && decimals == 0) {
        return NGX_ERROR;
    }

    while (decimals++ < 6) {
        if (v > INT64_MAX / 10) {
            return NGX_ERROR;
        }

        v *= 10;
    }

    /* a million USD per 1M tokens at most: the arithmetic stays exact */
    if (v > 1000000000000LL) {
        return NGX_ERROR;
    }

    *micro = v;

    return NGX_OK;
}


ngx_int_t
ngx_http_llm_prices_resolve(ngx_conf_t *cf, ngx_http_llm_main_conf_t *lmcf)
{
    ngx_uint_t             i;
    ngx_http_llm_price_t  *price;

    price = lmcf->prices.elts;

    for (i = 0; i < lmcf->prices.nelts; i++) {
        if (ngx_http_llm_find_provider(lmcf, &price[i].provider_name) == NULL)
        {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "unknown llm_upstream \"%V\" in llm_price "
                          "in %s:%ui", &price[i].provider_name,
                          price[i].file_name, price[i].line);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* the price of provider:model, else provider:*, else none */

ngx_http_llm_price_t *
ngx_http_llm_price_find(ngx_http_llm_main_conf_t *lmcf,
    ngx_http_llm_provider_t *prov, ngx_str_t *model)
{
    ngx_uint_t             i;
    ngx_http_llm_price_t  *price, *any;

    price = lmcf->prices.elts;
    any = NULL;

    for (i = 0; i < lmcf->prices.nelts; i++) {
        if (price[i].provider_name.len != prov->name.len
            || ngx_strncmp(price[i].provider_name.data, prov->name.data,
                           prov->name.len)
               != 0)
        {
            continue;
        }

        if (price[i].model.len == model->len
            && ngx_strncmp(price[i].model.data, model->data, model->len) == 0)
        {
            return &price[i];
        }

        if (price[i].model.len == 1 && price[i].model.data[0] == '*') {
            any = &price[i];
        }
    }

    return any;
}


/* nano-USD: prices are micro-USD per 1M tokens */

int64_t
ngx_http_llm_cost(ngx_http_llm_price_t *price, int64_t prompt, int64_t cached,
    int64_t completion)
{
    if (price == NULL) {
        return 0;
    }

    return ngx_http_llm_cost_bound(prompt - cached, price->input)
           + ngx_http_llm_cost_bound(cached, price->cached_input)
           + ngx_http_llm_cost_bound(completion, price->output);
}


/* nano-USD of tokens at a price in micro-USD per 1M, saturated */

int64_t
ngx_http_llm_cost_bound(int64_t tokens, int64_t price)
{
    if (tokens <= 0 || price <= 0) {
        return 0;
    }

    if (tokens > INT64_MAX / 4 / price) {
        return INT64_MAX / 4;
    }

    return tokens * price / 1000;
}


/* the key read is "usage": a word and a byte, compared inline */
#define ngx_http_llm_usage_is_usage(u)                                       \
    ((u)->key_len == 5 && ngx_memcmp((u)->key, "usag", 4) == 0              \
     && (u)->key[4] == 'e')


/* a run of a top-level key's bytes: what fits is kept, all counted */

static ngx_inline void
ngx_http_llm_usage_key(ngx_http_llm_json_usage_t *u, u_char *p, u_char *q)
{
    size_t  n;

    n = q - p;

    if (u->key_len < sizeof(u->key)) {
        ngx_memcpy(u->key + u->key_len, p,
                   ngx_min(n, sizeof(u->key) - u->key_len));
    }

    u->key_len += n;
}


/*
 * A string from p, just after its opening quote: its closing quote, or
 * last if the read cuts it (*escape set if right after a '\\'); the runs
 * between escapes are a top-level key's if key.
 */

static u_char *
ngx_http_llm_usage_string(ngx_http_llm_json_usage_t *u, u_char *p,
    u_char *last, ngx_uint_t key, ngx_uint_t *escape)
{
    u_char  *e;

    for ( ;; p = e + 2) {
        e = (u_char *) ngx_http_llm_scan_quote(p, last);

        if (key) {
            ngx_http_llm_usage_key(u, p, e);
        }

        if (e == last || *e == '"') {
            return e;
        }

        /* a '\\' and the byte it escapes */

        if (e + 1 == last) {
            *escape = 1;
            return last;
        }
    }
}


/*
 * Feeds a non-streamed answer through the usage scanner: the top-level
 * object's "usage" member is found and read where it lies in the buffer,
 * or from a copy (at most 1 KB) when reads split it.  The state lives in
 * locals while a buffer is scanned; string contents other than top-level
 * keys are skipped in a tight loop.  Over 150 lines for that reason: one
 * loop whose state stays in locals.
 */

void
ngx_http_llm_usage_body(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    u_char *pos, u_char *last)
{
    u_char                      c, *p, *q, *from;
    ngx_uint_t                  depth, in_string, escape, want_key, in_key,
                                usage_next, capture;
    ngx_http_llm_json_usage_t  *u;
    ngx_http_llm_scan_below_t   below;

    u = ctx->usage.json;

    if (u == NULL) {
        u = ngx_pcalloc(r->pool, sizeof(ngx_http_llm_json_usage_t));
        if (u == NULL) {
            return;
        }

        ctx->usage.json = u;
    }

    if (u->done) {
        return;
    }

    depth = u->depth;
    in_string = u->in_string;
    escape = u->escape;
    want_key = u->want_key;
    in_key = u->in_key;
    usage_next = u->usage_next;
    capture = u->capture;
    from = capture ? pos : NULL;

    for (p = pos; p < last; p++) {
        c = *p;

        if (in_string) {
            if (escape) {
                escape = 0;
                continue;
            }

            if (c == '\\') {
                escape = 1;
                continue;
            }

            if (c != '"') {
                /* the bulk of an answer: at once to '"' or '\\' */
                q = (u_char *) ngx_http_llm_scan_quote(p + 1, last);

                if (in_key) {
                    ngx_http_llm_usage_key(u, p, q);
                }

                p = q - 1;
                continue;
            }

            in_string = 0;

            if (in_key) {
                in_key = 0;
                usage_next = ngx_http_llm_usage_is_usage(u);
            }

            continue;
        }

        switch (c) {

        case '"':
            if (depth == 1 && want_key) {
                in_key = 1;
                want_key = 0;
                u->key_len = 0;
            }

            /* the string at once; one a read cuts goes on above */

            q = ngx_http_llm_usage_string(u, p + 1, last, in_key, &escape);

            if (q == last) {
                in_string = 1;
                p = last - 1;
                break;
            }

            p = q;

            if (in_key) {
                in_key = 0;
                usage_next = ngx_http_llm_usage_is_usage(u);
            }

            break;

        case '{':
        case '[':
            if (depth == 1 && usage_next && c == '{') {
                capture = 1;
                from = p;
                u->cap_len = 0;
            }

            usage_next = 0;
            depth++;
            want_key = (c == '{');
            break;

        case '}':
        case ']':
            if (depth) {
                depth--;
            }

            if (capture && depth == 1) {
                capture = 0;

                if (u->cap_len == 0) {
                    /* the usual case: the object is in this buffer */
                    ngx_http_llm_usage_flat(ctx, from, p + 1);

                } else if (ngx_http_llm_usage_copy(r, u, from, p + 1)
                           == NGX_OK)
                {
                    ngx_http_llm_usage_flat(ctx, u->cap, u->cap + u->cap_len);
                }
            }

            break;

        case ',':
            if (depth == 1) {
                want_key = 1;
                usage_next = 0;
            }

            break;

        case ':':
        case ' ':
        case '\t':
        case '\r':
        case '\n':
            break;

        default:
            /* a scalar value: "usage": null or the like is no usage */
            if (depth == 1) {
                usage_next = 0;

                /* the rest of a number or a literal: no change */

                while (p + 1 < last
                       && ((p[1] >= '0' && p[1] <= '9')
                           || ((p[1] | 0x20) >= 'a' && (p[1] | 0x20) <= 'z')
                           || p[1] == '.' || p[1] == '-' || p[1] == '+'))
                {
                    p++;
                }
            }
        }

        if (depth > 1 && !in_string) {
            /*
             * below the top level only strings and brackets change the
             * state: what lies between them (indentation, ':', ',',
             * numbers, literals) is passed at once, strings whole; the
             * walk ends at the bracket that closes to the top level,
             * handled above, or at last
             */
            below.depth = depth;
            below.open = 0;

            q = (u_char *) ngx_http_llm_scan_below(p + 1, last, &below);

            depth = below.depth;

            if (below.open) {
                usage_next = 0;
                want_key = (below.open == '{');
            }

            if (q == last && below.cut) {
                in_string = 1;
                escape = (below.cut == 2);
            }

            p = q - 1;
        }
    }

    if (capture && ngx_http_llm_usage_copy(r, u, from, last) != NGX_OK) {
        u->done = 1;
    }

    u->depth = depth;
    u->in_string = in_string;
    u->escape = escape;
    u->want_key = want_key;
    u->in_key = in_key;
    u->usage_next = usage_next;
    u->capture = capture;
}


/* the part of a usage object that a read ended in the middle of */

static ngx_int_t
ngx_http_llm_usage_copy(ngx_http_request_t *r, ngx_http_llm_json_usage_t *u,
    u_char *from, u_char *to)
{
    size_t  n;

    n = to - from;

    if (u->cap_len + n > NGX_HTTP_LLM_USAGE_MAX) {
        return NGX_ERROR;
    }

    if (u->cap == NULL) {
        u->cap = ngx_pnalloc(r->pool, NGX_HTTP_LLM_USAGE_MAX);
        if (u->cap == NULL) {
            return NGX_ERROR;
        }
    }

    ngx_memcpy(u->cap + u->cap_len, from, n);
    u->cap_len += n;

    return NGX_OK;
}


/*
 * The token counts a usage object may carry, by their quoted names; a
 * name's first occurrence followed by ':' decides its value.  Their
 * lengths and first letters tell them apart (usage_scan()'s switch).
 */

#define NGX_HTTP_LLM_USAGE_PROMPT      0
#define NGX_HTTP_LLM_USAGE_COMPLETION  1
#define NGX_HTTP_LLM_USAGE_CACHED      2
#define NGX_HTTP_LLM_USAGE_INPUT       3
#define NGX_HTTP_LLM_USAGE_CREATION    4
#define NGX_HTTP_LLM_USAGE_READ        5
#define NGX_HTTP_LLM_USAGE_OUTPUT      6
#define NGX_HTTP_LLM_USAGE_NNAMES      7

static ngx_str_t  ngx_http_llm_usage_names[] = {
    ngx_string("prompt_tokens"),
    ngx_string("completion_tokens"),
    ngx_string("cached_tokens"),
    ngx_string("input_tokens"),
    ngx_string("cache_creation_input_tokens"),
    ngx_string("cache_read_input_tokens"),
    ngx_string("output_tokens")
};


/*
 * One pass over the quotes of a usage object: each quote starts a
 * candidate name that ends at the next quote, so that "input_tokens" is
 * not found inside "cache_read_input_tokens".  v[] gets each name's
 * value, -1 if absent or not a token count.
 */

static void
ngx_http_llm_usage_scan(u_char *p, u_char *last, int64_t *v)
{
    u_char      *q;
    size_t       len;
    int64_t      n;
    ngx_uint_t   i, left;

    for (i = 0; i < NGX_HTTP_LLM_USAGE_NNAMES; i++) {
        v[i] = -2;      /* not decided */
    }

    left = NGX_HTTP_LLM_USAGE_NNAMES;

    p = memchr(p, '"', last - p);

    while (p != NULL && left) {
        q = memchr(p + 1, '"', last - p - 1);
        if (q == NULL) {
            break;
        }

        len = q - p - 1;

        /* the one name of that length and first letter, if any */

        switch (len) {
        case 12:
            i = NGX_HTTP_LLM_USAGE_INPUT;
            break;
        case 13:
            i = (p[1] == 'p') ? NGX_HTTP_LLM_USAGE_PROMPT
                : (p[1] == 'c') ? NGX_HTTP_LLM_USAGE_CACHED
                : NGX_HTTP_LLM_USAGE_OUTPUT;
            break;
        case 17:
            i = NGX_HTTP_LLM_USAGE_COMPLETION;
            break;
        case 23:
            i = NGX_HTTP_LLM_USAGE_READ;
            break;
        case 27:
            i = NGX_HTTP_LLM_USAGE_CREATION;
            break;
        default:
            i = NGX_HTTP_LLM_USAGE_NNAMES;
        }

        if (i == NGX_HTTP_LLM_USAGE_NNAMES
            || v[i] != -2
            || ngx_memcmp(p + 1, ngx_http_llm_usage_names[i].data, len) != 0)
        {
            p = q;
            continue;
        }

        p = q;

        for (q++; q < last && (*q == ' ' || *q == '\t'
                               || *q == '\r' || *q == '\n'); q++)
        { /* void */ }

        if (q == last || *q != ':') {
            continue;
        }

        for (q++; q < last && (*q == ' ' || *q == '\t'
                               || *q == '\r' || *q == '\n'); q++)
        { /* void */ }

        n = -1;

        if (q < last && *q >= '0' && *q <= '9') {
            for (n = 0; q < last && *q >= '0' && *q <= '9'; q++) {
                if (n > 1000000000000LL) {
                    n = -1;
                    break;
                }

                n = n * 10 + (*q - '0');
            }

            /* 1.0 or 1e3 is no token count */
            if (q < last && (*q == '.' || *q == 'e' || *q == 'E')) {
                n = -1;
            }
        }

        v[i] = n;
        left--;
    }

    for (i = 0; i < NGX_HTTP_LLM_USAGE_NNAMES; i++) {
        if (v[i] == -2) {
            v[i] = -1;
        }
    }
}


/*
 * OpenAI: prompt_tokens, completion_tokens, prompt_tokens_details.
 * cached_tokens; Responses: input_tokens, output_tokens,
 * input_tokens_details.cached_tokens; Anthropic: input_tokens (without
 * the cache), cache_creation_input_tokens, cache_read_input_tokens,
 * output_tokens.  A later event overwrites what it carries (Anthropic's
 * message_delta has the final output_tokens).
 */

static void
ngx_http_llm_usage_flat(ngx_http_llm_ctx_t *ctx, u_char *p, u_char *last)
{
    int64_t  prompt, completion, cached, creation, read;
    int64_t  v[NGX_HTTP_LLM_USAGE_NNAMES];

    ngx_http_llm_usage_scan(p, last, v);

    prompt = v[NGX_HTTP_LLM_USAGE_PROMPT];
    completion = v[NGX_HTTP_LLM_USAGE_COMPLETION];
    cached = v[NGX_HTTP_LLM_USAGE_CACHED];

    if (prompt < 0) {
        prompt = v[NGX_HTTP_LLM_USAGE_INPUT];

        if (prompt >= 0) {
            creation = v[NGX_HTTP_LLM_USAGE_CREATION];
            read = v[NGX_HTTP_LLM_USAGE_READ];

            if (creation > 0) {
                prompt += creation;
            }

            if (read >= 0) {
                prompt += read;

                if (cached < 0) {
                    cached = read;
                }
            }
        }
    }

    if (completion < 0) {
        completion = v[NGX_HTTP_LLM_USAGE_OUTPUT];
    }

    if (prompt < 0 && completion < 0) {
        return;
    }

    if (prompt >= 0) {
        ctx->usage.prompt_tokens = prompt;
    }

    if (completion >= 0) {
        ctx->usage.completion_tokens = completion;
    }

    if (cached >= 0) {
        ctx->usage.cached_tokens = cached;
    }

    ctx->usage.seen = 1;
}


/*
 * One SSE event's data (JSON): the usage fields are read where they are
 * (OpenAI's usage chunk, Anthropic's message_start and message_delta,
 * the Responses API's response.completed) if a "usage" member has a
 * value other than null.  OpenAI's chunks end with "usage":null in every
 * event when usage was asked for (the router asks for it): the object's
 * last member is then its usage, and the event is passed over without a
 * search.  Returns 1 if a usage value was found.
 */

ngx_uint_t
ngx_http_llm_usage_event(ngx_http_llm_ctx_t *ctx, u_char *data, size_t len)
{
    u_char  *p, *last;

    last = data + len;

    /* ,"usage":null} as two overlapping words, which compilers inline */

    if (len > 14
        && ngx_memcmp(last - 14, ",\"usage\"", 8) == 0
        && ngx_memcmp(last - 8, "e\":null}", 8) == 0)
    {
        return 0;
    }

    p = data;

    for ( ;; ) {
        p = (u_char *) ngx_http_llm_scan_find(p, last, (u_char *) "\"usage\"",
                                              sizeof("\"usage\"") - 1);
        if (p == NULL) {
            return 0;
        }

        for (p += sizeof("\"usage\"") - 1;
             p < last && (*p == ' ' || *p == '\t' || *p == '\r'
                          || *p == '\n');
             p++)
        { /* void */ }

        if (p == last || *p != ':') {
            continue;
        }

        for (p++;
             p < last && (*p == ' ' || *p == '\t' || *p == '\r'
                          || *p == '\n');
             p++)
        { /* void */ }

        if (last - p >= 4 && ngx_memcmp(p, "null", 4) == 0) {
            p += 4;
            continue;
        }

        break;
    }

    /* the names are looked for from the usage value on */
    ngx_http_llm_usage_flat(ctx, p, last);

    return 1;
}
