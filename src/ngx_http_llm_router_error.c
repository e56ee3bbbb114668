
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * Errors in the API's own JSON format: OpenAI's, or Anthropic's on the
 * "messages" endpoint.  Messages never hold a key: they are made from
 * model names, provider names and statuses only.
 */


#include "ngx_http_llm_router.h"

#include <cjson/cJSON.h>


#define NGX_HTTP_LLM_ERROR_MAX  1024


typedef struct {
    ngx_uint_t                       status;
    const char                      *openai;
    const char                      *anthropic;
    const char                      *message;
} ngx_http_llm_error_type_t;


static ngx_http_llm_error_type_t  ngx_http_llm_error_types[] = {
    { 400, "invalid_request_error", "invalid_request_error", "Bad request" },
    { 401, "invalid_request_error", "authentication_error",
      "Invalid or missing API key" },
    { 403, "permission_error", "permission_error", "Forbidden" },
    { 404, "invalid_request_error", "not_found_error", "Not found" },
    { 405, "invalid_request_error", "invalid_request_error",
      "Method not allowed" },
    { 408, "invalid_request_error", "invalid_request_error",
      "Request timed out" },
    { 411, "invalid_request_error", "invalid_request_error",
      "Length required" },
    { 413, "invalid_request_error", "request_too_large",
      "Request body too large" },
    { 415, "invalid_request_error", "invalid_request_error",
      "Unsupported media type" },
    { 429, "rate_limit_error", "rate_limit_error", "Too many requests" },
    { 500, "server_error", "api_error", "Internal server error" },
    { 502, "server_error", "api_error", "Bad gateway" },
    { 503, "server_error", "overloaded_error", "Service unavailable" },
    { 504, "server_error", "api_error", "Gateway timeout" },
    { 0, "server_error", "api_error", "Error" }
};


static ngx_http_llm_error_type_t *
ngx_http_llm_error_type(ngx_uint_t status)
{
    ngx_http_llm_error_type_t  *t;

    for (t = ngx_http_llm_error_types; t->status; t++) {
        if (t->status == status) {
            return t;
        }
    }

    return (status < 500) ? &ngx_http_llm_error_types[0] : t;
}


/* the length of the valid UTF-8 character at p, 0 if invalid or cut */

static size_t
ngx_http_llm_utf8_len(u_char *p, u_char *end)
{
    size_t    n, i;
    uint32_t  c, min;

    if (*p < 0x80) {
        return 1;
    }

    if (*p >= 0xc2 && *p <= 0xdf) {
        n = 2; c = *p & 0x1f; min = 0x80;

    } else if (*p >= 0xe0 && *p <= 0xef) {
        n = 3; c = *p & 0x0f; min = 0x800;

    } else if (*p >= 0xf0 && *p <= 0xf4) {
        n = 4; c = *p & 0x07; min = 0x10000;

    } else {
        return 0;
    }

    if ((size_t) (end - p) < n) {
        return 0;
    }

    for (i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }

        c = (c << 6) | (p[i] & 0x3f);
    }

    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
        return 0;
    }

    return n;
}


/*
 * Client bytes quoted in a message: at most 200 bytes, cut on a character
 * boundary, invalid UTF-8 replaced by U+FFFD, so that the body stays JSON.
 */

ngx_str_t *
ngx_http_llm_error_quote(ngx_pool_t *pool, ngx_str_t *s)
{
    u_char     *p, *q, *end, *last;
    size_t      n;
    ngx_str_t  *out;

    out = ngx_palloc(pool, sizeof(ngx_str_t));
    if (out == NULL) {
        return s;
    }

    /* each byte may become 3; plus "..." */
    out->data = ngx_pnalloc(pool, 3 * 200 + 3);
    if (out->data == NULL) {
        return s;
    }

    p = s->data;
    last = s->data + s->len;
    end = s->data + ngx_min(s->len, 200);
    q = out->data;

    while (p < end) {
        n = ngx_http_llm_utf8_len(p, last);

        if (n == 0) {
            q = ngx_cpymem(q, "\xef\xbf\xbd", 3);
            p++;
            continue;
        }

        if (p + n > end) {
            /* the character does not fit in the first 200 bytes */
            end = p;
            break;
        }

        q = ngx_cpymem(q, p, n);
        p += n;
    }

    if (end < last) {
        q = ngx_cpymem(q, "...", 3);
    }

    out->len = q - out->data;

    return out;
}


ngx_int_t
ngx_http_llm_set_error(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    ngx_uint_t status, const char *code, const char *param,
    const char *fmt, ...)
{
    u_char   *p, buf[NGX_HTTP_LLM_ERROR_MAX];
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf(buf, buf + sizeof(buf), fmt, args);
    va_end(args);

    ctx->error.message.data = ngx_pnalloc(r->pool, p - buf);
    if (ctx->error.message.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->error.message.len = p - buf;
    ngx_memcpy(ctx->error.message.data, buf, p - buf);

    ctx->error.code.data = (u_char *) code;
    ctx->error.code.len = code ? ngx_strlen(code) : 0;
    ctx->error.param.data = (u_char *) param;
    ctx->error.param.len = param ? ngx_strlen(param) : 0;

    ctx->body_ready = 1;
    ctx->status = status;

    return status;
}


/* "deepseek:503 openai:timeout", the value of $llm_attempts */

ngx_int_t
ngx_http_llm_attempts_string(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    ngx_str_t *s)
{
    u_char                  *p;
    size_t                   len;
    ngx_uint_t               i;
    ngx_http_llm_attempt_t  *a;

    len = 0;

    for (i = 0; i < ctx->nattempts; i++) {
        len += ctx->attempts[i].target->provider->name.len
               + sizeof("#:timeout ") - 1 + NGX_INT_T_LEN;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    s->data = p;

    for (i = 0; i < ctx->nattempts; i++) {
        a = &ctx->attempts[i];

        if (i) {
            *p++ = ' ';
        }

        p = ngx_cpymem(p, a->target->provider->name.data,
                       a->target->provider->name.len);

        /* a key by its position, never its value */

        if (a->key) {
            p = ngx_sprintf(p, "#%ui", a->key);
        }

        switch (a->status) {

        case NGX_HTTP_LLM_OUT_ERROR:
            p = ngx_cpymem(p, ":error", 6);
            break;

        case NGX_HTTP_LLM_OUT_TIMEOUT:
            p = ngx_cpymem(p, ":timeout", 8);
            break;

        case NGX_HTTP_LLM_OUT_DOWN:
            p = ngx_cpymem(p, ":down", 5);
            break;

        case NGX_HTTP_LLM_OUT_HEDGED:
            p = ngx_cpymem(p, ":hedged", 7);
            break;

        default:
            p = ngx_sprintf(p, ":%03ui", a->status);
        }
    }

    s->len = p - s->data;

    return NGX_OK;
}


static char *
ngx_http_llm_cstr(ngx_pool_t *pool, ngx_str_t *s)
{
    u_char  *p;

    p = ngx_pnalloc(pool, s->len + 1);
    if (p == NULL) {
        return NULL;
    }

    ngx_memcpy(p, s->data, s->len);
    p[s->len] = '\0';

    return (char *) p;
}


/*
 * The body of an error response for status: the message set by
 * ngx_http_llm_set_error(), or one derived from the status and the
 * attempts made.
 */

ngx_buf_t *
ngx_http_llm_error_body(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    ngx_uint_t status)
{
    char                       *json, *msg, *code, *param;
    size_t                      len;
    cJSON                      *root, *err;
    ngx_str_t                   attempts;
    ngx_buf_t                  *b;
    ngx_uint_t                  i, timeouts;
    ngx_http_llm_error_type_t  *type;

    type = ngx_http_llm_error_type(status);

    if (ctx->error.message.len) {
        msg = ngx_http_llm_cstr(r->pool, &ctx->error.message);

    } else if (ctx->nattempts
               && (status == NGX_HTTP_BAD_GATEWAY
                   || status == NGX_HTTP_GATEWAY_TIME_OUT))
    {
        if (ngx_http_llm_attempts_string(r, ctx, &attempts) != NGX_OK) {
            return NULL;
        }

        timeouts = 0;

        for (i = 0; i < ctx->nattempts; i++) {
            if (ctx->attempts[i].status == NGX_HTTP_LLM_OUT_TIMEOUT) {
                timeouts++;
            }
        }

        /* the longest of the three prefixes below */
        len = sizeof("The provider refused the request: ") + attempts.len;

        msg = ngx_pnalloc(r->pool, len);
        if (msg == NULL) {
            return NULL;
        }

        ngx_sprintf((u_char *) msg, "%s: %V%Z",
                    timeouts == ctx->nattempts ? "All providers timed out"
                    : ctx->refused ? "The provider refused the request"
                    : "All providers failed", &attempts);

    } else {
        msg = (char *) type->message;
    }

    if (msg == NULL) {
        return NULL;
    }

    code = ctx->error.code.len ? (char *) ctx->error.code.data : NULL;
    param = ctx->error.param.len ? (char *) ctx->error.param.data : NULL;

    root = cJSON_CreateObject();
    if (root == NULL) {
        return NULL;
    }

    if (ctx->api == NGX_HTTP_LLM_API_ANTHROPIC) {
        cJSON_AddStringToObject(root, "type", "error");
        err = cJSON_AddObjectToObject(root, "error");

        if (err) {
            cJSON_AddStringToObject(err, "type", type->anthropic);
            cJSON_AddStringToObject(err, "message", msg);
        }

    } else {
        err = cJSON_AddObjectToObject(root, "error");

        if (err) {
            cJSON_AddStringToObject(err, "message", msg);
            cJSON_AddStringToObject(err, "type", type->openai);

            if (param) {
                cJSON_AddStringToObject(err, "param", param);

            } else {
                cJSON_AddNullToObject(err, "param");
            }

            if (code) {
                cJSON_AddStringToObject(err, "code", code);

            } else {
                cJSON_AddNullToObject(err, "code");
            }
        }
    }

    json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);

    if (json == NULL) {
        return NULL;
    }

    len = ngx_strlen(json);

    b = ngx_create_temp_buf(r->pool, len + 1);
    if (b == NULL) {
        cJSON_free(json);
        return NULL;
    }

    b->last = ngx_cpymem(b->last, json, len);
    *b->last++ = '\n';

    cJSON_free(json);

    return b;
}


/*
 * An error response nginx makes (a failed upstream, 413...) gets this
 * API's JSON body instead of nginx's page; a 502 whose attempts all
 * timed out becomes a 504.
 */

ngx_int_t
ngx_http_llm_error_response(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx)
{
    size_t       n;
    ngx_str_t    attempts;
    ngx_uint_t   i, status, timeouts;

    if (ctx == NULL) {
        /* e.g. 413 found before the rewrite handler ran */
        ctx = ngx_http_llm_create_ctx(r);
        if (ctx == NULL) {
            return NGX_ERROR;
        }

        n = sizeof("/messages") - 1;

        if (r->uri.len >= n
            && ngx_strncmp(r->uri.data + r->uri.len - n, "/messages", n) == 0)
        {
            ctx->api = NGX_HTTP_LLM_API_ANTHROPIC;
        }
    }

    status = r->headers_out.status;

    if (ctx->nattempts && status == NGX_HTTP_BAD_GATEWAY) {
        timeouts = 0;

        for (i = 0; i < ctx->nattempts; i++) {
            if (ctx->attempts[i].status == NGX_HTTP_LLM_OUT_TIMEOUT) {
                timeouts++;
            }
        }

        if (timeouts == ctx->nattempts) {
            status = NGX_HTTP_GATEWAY_TIME_OUT;
            r->err_status = status;
            r->headers_out.status = status;
        }

        if (ngx_http_llm_attempts_string(r, ctx, &attempts) == NGX_OK) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "llm router: no provider answered \"%V\": %V",
                          &ctx->model, &attempts);
        }
    }

    ctx->error.body = ngx_http_llm_error_body(r, ctx, status);
    if (ctx->error.body == NULL) {
        return NGX_ERROR;
    }

    ctx->error.sent = 0;

    r->headers_out.content_length_n = ctx->error.body->last
                                      - ctx->error.body->pos;
    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;
    ngx_str_null(&r->headers_out.charset);

    ngx_http_clear_last_modified(r);
    ngx_http_clear_etag(r);

    return NGX_OK;
}
