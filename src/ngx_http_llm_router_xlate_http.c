
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * API translation inside nginx: which targets need it, the provider's body
 * and URI for such a target, and the answer turned back into the client's
 * API (JSON collected to its end, SSE event by event).  The translators
 * themselves are the pure functions of ngx_http_llm_router_xlate*.c.
 */


#include "ngx_http_llm_router.h"
#include "ngx_http_llm_router_xlate.h"


/* a JSON answer is small; anything larger is not one to translate */
#define NGX_HTTP_LLM_XLATE_JSON_MAX  (16 * 1024 * 1024)


typedef struct {
    int                          client;      /* format */
    int                          provider;    /* of the built target */
    unsigned                     active:1;    /* the built target */
    unsigned                     include_usage:1;
    unsigned                     refused:1;

    ngx_str_t                    dropped;     /* x-llm-dropped */
    u_char                      *message;     /* first refusal */
    u_char                      *param;
    u_char                      *model;       /* the client's, with NUL */

    ngx_uint_t                   status;      /* of the answer */
    ngx_http_llm_xlate_sse_t     sse;
    ngx_http_llm_xlate_buf_t     out;         /* reused */
    u_char                      *json;        /* collected answer */
    size_t                       json_len;
    size_t                       json_size;
    unsigned                     json_over:1;

    ngx_chain_t                 *free;
    ngx_chain_t                 *busy;
} ngx_http_llm_xlate_ctx_t;


static int ngx_http_llm_xlate_client(ngx_http_llm_ctx_t *ctx);
static int ngx_http_llm_xlate_provider(ngx_http_llm_provider_t *prov,
    int client);
static ngx_http_llm_xlate_ctx_t *ngx_http_llm_xlate_ctx(
    ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx);
static void ngx_http_llm_xlate_cleanup(void *data);
static ngx_int_t ngx_http_llm_xlate_collect(ngx_http_request_t *r,
    ngx_http_llm_xlate_ctx_t *x, ngx_buf_t *b);
static ngx_int_t ngx_http_llm_xlate_send(ngx_http_request_t *r,
    ngx_http_llm_xlate_ctx_t *x, ngx_uint_t flush, ngx_uint_t last,
    ngx_http_output_body_filter_pt next);
static void ngx_http_llm_xlate_memory(ngx_http_request_t *r,
    ngx_http_llm_xlate_ctx_t *x);


static ngx_str_t  ngx_http_llm_xlate_dropped_name =
    ngx_string("x-llm-dropped");


/* the client's format by endpoint, -1: no translator takes it */

static int
ngx_http_llm_xlate_client(ngx_http_llm_ctx_t *ctx)
{
    switch (ctx->endpoint) {

    case NGX_HTTP_LLM_EP_CHAT:
        return NGX_HTTP_LLM_XLATE_CHAT;

    case NGX_HTTP_LLM_EP_MESSAGES:
        return NGX_HTTP_LLM_XLATE_MESSAGES;

    case NGX_HTTP_LLM_EP_RESPONSES:
        return NGX_HTTP_LLM_XLATE_RESPONSES;

    default:
        return -1;
    }
}


/*
 * The provider's format by api= (Azure speaks OpenAI's chat); a Responses
 * client's own where the provider serves it (responses=on).
 */

static int
ngx_http_llm_xlate_provider(ngx_http_llm_provider_t *prov, int client)
{
    switch (prov->api) {

    case NGX_HTTP_LLM_API_ANTHROPIC:
        return NGX_HTTP_LLM_XLATE_MESSAGES;

    case NGX_HTTP_LLM_API_GEMINI:
        return NGX_HTTP_LLM_XLATE_GEMINI;

    default:
        if (client == NGX_HTTP_LLM_XLATE_RESPONSES && prov->responses) {
            return NGX_HTTP_LLM_XLATE_RESPONSES;
        }

        return NGX_HTTP_LLM_XLATE_CHAT;
    }
}


/*
 * Whether prov can answer this request: in its own API, or translated.
 * Endpoints no translator takes (embeddings, completions) go to
 * OpenAI-API providers only.
 */

ngx_uint_t
ngx_http_llm_xlate_serves(ngx_http_llm_ctx_t *ctx,
    ngx_http_llm_provider_t *prov)
{
    int  client, provider;

    client = ngx_http_llm_xlate_client(ctx);
    provider = ngx_http_llm_xlate_provider(prov, client);

    if (client < 0) {
        return prov->api == NGX_HTTP_LLM_API_OPENAI
               || prov->api == NGX_HTTP_LLM_API_AZURE;
    }

    return client == provider || ngx_http_llm_xlate_supported(client,
                                                              provider);
}


static ngx_http_llm_xlate_ctx_t *
ngx_http_llm_xlate_ctx(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx)
{
    ngx_pool_cleanup_t        *cln;
    ngx_http_llm_xlate_ctx_t  *x;

    if (ctx->xlate) {
        return ctx->xlate;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    x = ngx_pcalloc(r->pool, sizeof(ngx_http_llm_xlate_ctx_t));
    if (x == NULL) {
        return NULL;
    }

    x->client = ngx_http_llm_xlate_client(ctx);

    cln->handler = ngx_http_llm_xlate_cleanup;
    cln->data = x;

    ctx->xlate = x;

    return x;
}


/* what the translators allocated with malloc */

static void
ngx_http_llm_xlate_cleanup(void *data)
{
    ngx_http_llm_xlate_ctx_t  *x = data;

    ngx_http_llm_xlate_sse_free(&x->sse);
    ngx_http_llm_xlate_buf_free(&x->out);
}


/*
 * The provider's body and URI for target t when its API is not the
 * client's.  Returns NGX_OK when nothing is to translate (the splice
 * does it), NGX_DONE when the request was built, NGX_DECLINED when the
 * request has something the target's API cannot represent (the next
 * target is tried; the first refusal is what the client gets if none is
 * left), NGX_ERROR.
 */

ngx_int_t
ngx_http_llm_xlate_build(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    ngx_http_llm_target_t *t)
{
    int                           rc, client, provider;
    u_char                       *model;
    ngx_buf_t                    *b;
    ngx_chain_t                  *cl;
    ngx_http_llm_provider_t      *prov;
    ngx_http_llm_xlate_ctx_t     *x;
    ngx_http_llm_xlate_conf_t     conf;
    ngx_http_llm_xlate_result_t   res;

    prov = t->provider;
    client = ngx_http_llm_xlate_client(ctx);
    provider = ngx_http_llm_xlate_provider(prov, client);

    if (client < 0 || client == provider) {
        if (ctx->xlate) {
            ((ngx_http_llm_xlate_ctx_t *) ctx->xlate)->active = 0;
        }

        return NGX_OK;
    }

    x = ngx_http_llm_xlate_ctx(r, ctx);
    if (x == NULL) {
        return NGX_ERROR;
    }

    x->active = 0;

    model = ngx_pnalloc(r->pool, ctx->upstream_model.len + 1);
    if (model == NULL) {
        return NGX_ERROR;
    }

    (void) ngx_cpystrn(model, ctx->upstream_model.data,
                       ctx->upstream_model.len + 1);

    ngx_memzero(&conf, sizeof(ngx_http_llm_xlate_conf_t));
    conf.model = (char *) model;
    conf.max_tokens_default = prov->max_tokens_default;

    rc = ngx_http_llm_xlate_request(client, provider, ctx->body,
                                    ctx->body_len, &conf, &res);

    if (rc == NGX_HTTP_LLM_XLATE_NOMEM) {
        return NGX_ERROR;
    }

    if (rc != NGX_HTTP_LLM_XLATE_OK || res.status) {
        if (!x->refused) {
            x->refused = 1;
            if (rc != NGX_HTTP_LLM_XLATE_OK) {
                res.param[0] = '\0';
                ngx_cpystrn((u_char *) res.message,
                            (u_char *) "The request body could not be "
                            "translated", sizeof(res.message));
            }

            x->message = ngx_pnalloc(r->pool, ngx_strlen(res.message) + 1);
            x->param = ngx_pnalloc(r->pool, ngx_strlen(res.param) + 1);

            if (x->message == NULL || x->param == NULL) {
                return NGX_ERROR;
            }

            (void) ngx_cpystrn(x->message, (u_char *) res.message,
                               ngx_strlen(res.message) + 1);
            (void) ngx_cpystrn(x->param, (u_char *) res.param,
                               ngx_strlen(res.param) + 1);
        }

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "llm router: provider \"%V\" skipped: %s",
                      &prov->name, x->message);

        return NGX_DECLINED;
    }

    b = ngx_create_temp_buf(r->pool, res.body.len);
    if (b == NULL) {
        ngx_http_llm_xlate_buf_free(&res.body);
        return NGX_ERROR;
    }

    b->last = ngx_cpymem(b->pos, res.body.data, res.body.len);
    ngx_http_llm_xlate_buf_free(&res.body);

    cl = ngx_alloc_chain_link(r->pool);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    cl->buf = b;
    cl->next = NULL;

    r->request_body->bufs = cl;
    r->request_body->temp_file = NULL;
    r->headers_in.content_length_n = b->last - b->pos;

    switch (ngx_http_llm_xlate_uri(r, prov,
                                   provider == NGX_HTTP_LLM_XLATE_MESSAGES
                                   ? NGX_HTTP_LLM_EP_MESSAGES
                                   : NGX_HTTP_LLM_EP_CHAT,
                                   &ctx->upstream_model, res.stream))
    {
    case NGX_OK:
        break;

    case NGX_DECLINED:
        return NGX_DECLINED;

    default:
        return NGX_ERROR;
    }

    x->provider = provider;
    x->active = 1;
    x->include_usage = res.include_usage;

    x->dropped.len = ngx_strlen(res.dropped);
    x->dropped.data = ngx_pnalloc(r->pool, x->dropped.len);
    if (x->dropped.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(x->dropped.data, res.dropped, x->dropped.len);

    return NGX_DONE;
}


/*
 * The provider's URI and arguments for an endpoint, set in r: the
 * configured {path}/{endpoint}, or, where the model is part of the URL,
 * Azure's {path}/openai/deployments/{model}/{endpoint}?api-version= and
 * Gemini's {path}/models/{model}:generateContent (stream:
 * :streamGenerateContent?alt=sse).  NGX_DECLINED: the model's name
 * cannot go into a path (it may be the client's own).
 */

ngx_int_t
ngx_http_llm_xlate_uri(ngx_http_request_t *r, ngx_http_llm_provider_t *prov,
    ngx_uint_t endpoint, ngx_str_t *model, ngx_uint_t stream)
{
    u_char     *p;
    size_t      len;
    ngx_str_t   m, method, *ep;

    ngx_str_null(&r->args);
    r->valid_unparsed_uri = 0;

    if (prov->api != NGX_HTTP_LLM_API_AZURE
        && prov->api != NGX_HTTP_LLM_API_GEMINI)
    {
        r->uri = prov->uri[endpoint];
        return NGX_OK;
    }

    if (prov->api == NGX_HTTP_LLM_API_AZURE
        && endpoint == NGX_HTTP_LLM_EP_RESPONSES)
    {
        /* Azure's Responses API is not per deployment: its v1 API */
        ngx_str_set(&method, "/openai/v1/responses");
        goto plain;
    }

    m = *model;

    if (prov->api == NGX_HTTP_LLM_API_GEMINI
        && m.len > 7 && ngx_strncmp(m.data, "models/", 7) == 0)
    {
        m.data += 7;
        m.len -= 7;
    }

    if (m.len == 0 || m.len > 256
        || (m.data[0] == '.'
            && (m.len == 1 || (m.len == 2 && m.data[1] == '.'))))
    {
        goto bad_model;
    }

    for (p = m.data; p < m.data + m.len; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
              || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'
              || *p == '_'))
        {
            goto bad_model;
        }
    }

    if (prov->api == NGX_HTTP_LLM_API_GEMINI) {
        if (stream) {
            ngx_str_set(&method, ":streamGenerateContent");
            ngx_str_set(&r->args, "alt=sse");

        } else {
            ngx_str_set(&method, ":generateContent");
        }

        len = prov->path.len + sizeof("/models/") - 1 + m.len + method.len;

        r->uri.data = ngx_pnalloc(r->pool, len);
        if (r->uri.data == NULL) {
            return NGX_ERROR;
        }

        p = ngx_cpymem(r->uri.data, prov->path.data, prov->path.len);
        p = ngx_cpymem(p, "/models/", sizeof("/models/") - 1);
        p = ngx_cpymem(p, m.data, m.len);
        p = ngx_cpymem(p, method.data, method.len);
        r->uri.len = p - r->uri.data;

        return NGX_OK;
    }

    ep = &ngx_http_llm_endpoint_names[endpoint];

    len = prov->path.len + sizeof("/openai/deployments/") - 1 + m.len + 1
          + ep->len;

    r->uri.data = ngx_pnalloc(r->pool, len);
    if (r->uri.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(r->uri.data, prov->path.data, prov->path.len);
    p = ngx_cpymem(p, "/openai/deployments/",
                   sizeof("/openai/deployments/") - 1);
    p = ngx_cpymem(p, m.data, m.len);
    *p++ = '/';
    p = ngx_cpymem(p, ep->data, ep->len);
    r->uri.len = p - r->uri.data;
    r->args = prov->api_version;

    return NGX_OK;

plain:

    r->uri.len = prov->path.len + method.len;
    r->uri.data = ngx_pnalloc(r->pool, r->uri.len);
    if (r->uri.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ngx_cpymem(r->uri.data, prov->path.data, prov->path.len),
               method.data, method.len);

    return NGX_OK;

bad_model:

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "llm router: provider \"%V\" skipped: the model name is "
                  "not one its URL can hold", &prov->name);

    return NGX_DECLINED;
}


/* no target took the request: the first refusal, in the client's API */

ngx_int_t
ngx_http_llm_xlate_refused(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx)
{
    ngx_http_llm_xlate_ctx_t  *x;

    x = ctx->xlate;

    if (x && x->refused) {
        return ngx_http_llm_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                                      "unsupported_parameter",
                                      x->param[0] ? (char *) x->param : NULL,
                                      "%s", x->message);
    }

    return ngx_http_llm_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                                  "unsupported_endpoint", NULL,
                                  "No provider of the route of model `%V` "
                                  "serves %V",
                                  ngx_http_llm_error_quote(r->pool,
                                                           &ctx->model),
                                  &ngx_http_llm_endpoint_names[ctx->endpoint]);
}


/*
 * The answer of a translated target: its length changes, SSE stays SSE,
 * JSON (answers and errors alike) is collected and rewritten at its end.
 */

ngx_int_t
ngx_http_llm_xlate_header(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx)
{
    ngx_table_elt_t           *h;
    ngx_http_llm_xlate_ctx_t  *x;

    x = ctx->xlate;

    if (x == NULL || !x->active || r->upstream == NULL) {
        return NGX_OK;
    }

    ctx->xlate_on = 1;
    x->status = r->upstream->headers_in.status_n;

    x->model = ngx_pnalloc(r->pool, ctx->model.len + 1);
    if (x->model == NULL) {
        return NGX_ERROR;
    }

    (void) ngx_cpystrn(x->model, ctx->model.data, ctx->model.len + 1);

    ngx_http_clear_content_length(r);
    ngx_http_clear_accept_ranges(r);
    ngx_http_clear_etag(r);

    if (ctx->sse.active) {
        ngx_http_llm_xlate_sse_init(&x->sse, x->provider, x->client,
                                    (char *) x->model, x->include_usage,
                                    ngx_time());

    } else {
        ngx_str_set(&r->headers_out.content_type, "application/json");
        r->headers_out.content_type_len = r->headers_out.content_type.len;
        r->headers_out.content_type_lowcase = NULL;
        ngx_str_null(&r->headers_out.charset);
    }

    if (x->dropped.len) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        h->hash = 1;
        h->key = ngx_http_llm_xlate_dropped_name;
        h->value = x->dropped;
    }

    return NGX_OK;
}


/*
 * The body of a translated answer.  Every input byte is consumed here (the
 * upstream reuses its buffers); what the client gets is written anew.
 */

ngx_int_t
ngx_http_llm_xlate_body(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    ngx_chain_t *in, ngx_http_output_body_filter_pt next)
{
    int                        rc;
    size_t                     size;
    ngx_buf_t                 *b;
    ngx_uint_t                 last, flush;
    ngx_chain_t               *cl;
    ngx_http_llm_xlate_ctx_t  *x;

    x = ctx->xlate;
    x->out.len = 0;
    last = 0;
    flush = 0;

    if (ctx->sse.active) {
        /*
         * the staging buffer at once at about what this read becomes
         * (the usual translations are shorter than what they translate),
         * not grown by doubling from 256 bytes for every stream; a large
         * read's is grown as it needs
         */
        for (size = 0, cl = in; cl; cl = cl->next) {
            if (ngx_buf_in_memory(cl->buf)) {
                size += cl->buf->last - cl->buf->pos;
            }
        }

        if (ngx_http_llm_xlate_buf_reserve(&x->out, ngx_min(size, 4096))
            != NGX_HTTP_LLM_XLATE_OK)
        {
            return NGX_ERROR;
        }
    }

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;
        last |= b->last_buf;
        flush |= b->flush;

        if (!ngx_buf_in_memory(b) || b->last == b->pos) {
            b->pos = b->last;
            continue;
        }

        if (ctx->sse.active) {
            rc = ngx_http_llm_xlate_sse_feed(&x->sse, b->pos,
                                             b->last - b->pos, &x->out);

            if (rc == NGX_HTTP_LLM_XLATE_NOMEM) {
                return NGX_ERROR;
            }

            if (rc == NGX_HTTP_LLM_XLATE_TOO_BIG) {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "llm router: provider \"%V\" sent an SSE "
                              "event over %uz bytes",
                              &ctx->target->provider->name,
                              (size_t) NGX_HTTP_LLM_XLATE_EVENT_MAX);
            }

        } else if (ngx_http_llm_xlate_collect(r, x, b) != NGX_OK) {
            return NGX_ERROR;
        }

        b->pos = b->last;
    }

    if (ctx->sse.active) {
        if (x->sse.usage_seen) {
            ctx->usage.prompt_tokens = x->sse.prompt_tokens;
            ctx->usage.completion_tokens = x->sse.completion_tokens;
            ctx->usage.cached_tokens = x->sse.cached_tokens;
            ctx->usage.seen = 1;
        }

        if (last) {
            if (ngx_http_llm_xlate_sse_end(&x->sse, &x->out)
                == NGX_HTTP_LLM_XLATE_NOMEM)
            {
                return NGX_ERROR;
            }

            if (!x->sse.done) {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "llm router: the event stream of provider "
                              "\"%V\" ended without its final event",
                              &ctx->target->provider->name);

                ngx_http_llm_circuit_answer_end(r, ctx, 0);
            }
        }

        ctx->sse.done = x->sse.done;

        rc = ngx_http_llm_xlate_send(r, x, 1, last, next);

        if (last) {
            ngx_http_llm_xlate_memory(r, x);
        }

        return rc;
    }

    if (!last) {
        return NGX_OK;
    }

    if (x->json_over) {
        rc = NGX_HTTP_LLM_XLATE_BAD;

    } else if (x->status >= 200 && x->status < 300) {
        rc = ngx_http_llm_xlate_response(x->provider, x->client, x->json,
                                         x->json_len,
                                         (char *) x->model, ngx_time(),
                                         &x->out);

        /* usage is not where the JSON watcher looks (usageMetadata) */
        if (rc == NGX_HTTP_LLM_XLATE_OK
            && x->provider == NGX_HTTP_LLM_XLATE_GEMINI
            && ngx_http_llm_xlate_gemini_usage(x->json, x->json_len,
                                               &ctx->usage.prompt_tokens,
                                               &ctx->usage.completion_tokens,
                                               &ctx->usage.cached_tokens)
               == NGX_HTTP_LLM_XLATE_OK)
        {
            ctx->usage.seen = 1;
        }

    } else {
        rc = ngx_http_llm_xlate_error(x->provider, x->client, x->status,
                                      x->json, x->json_len, &x->out);
    }

    if (rc == NGX_HTTP_LLM_XLATE_NOMEM) {
        return NGX_ERROR;
    }

    if (rc != NGX_HTTP_LLM_XLATE_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "llm router: the answer of provider \"%V\" is not "
                      "%s JSON", &ctx->target->provider->name,
                      ngx_http_llm_xlate_format_name(x->provider));

        x->out.len = 0;

        if (ngx_http_llm_xlate_error_write(x->client, 502, NULL,
                                           "the provider's answer could "
                                           "not be translated", NULL,
                                           &x->out)
            != NGX_HTTP_LLM_XLATE_OK)
        {
            return NGX_ERROR;
        }
    }

    return ngx_http_llm_xlate_send(r, x, 1, 1, next);
}


static ngx_int_t
ngx_http_llm_xlate_collect(ngx_http_request_t *r, ngx_http_llm_xlate_ctx_t *x,
    ngx_buf_t *b)
{
    u_char  *p;
    size_t   len, size;

    len = b->last - b->pos;

    if (x->json_over || x->json_len + len > NGX_HTTP_LLM_XLATE_JSON_MAX) {
        x->json_over = 1;
        return NGX_OK;
    }

    if (x->json_len + len > x->json_size) {
        size = ngx_max(x->json_size * 2, 4096);

        while (size < x->json_len + len) {
            size *= 2;
        }

        p = ngx_pnalloc(r->pool, size);
        if (p == NULL) {
            return NGX_ERROR;
        }

        if (x->json_len) {
            ngx_memcpy(p, x->json, x->json_len);
        }

        x->json = p;
        x->json_size = size;
    }

    ngx_memcpy(x->json + x->json_len, b->pos, len);
    x->json_len += len;

    return NGX_OK;
}


/*
 * Sends x->out as one buffer; buffers come back once sent (x->free), so a
 * long stream does not grow the pool.
 */

static ngx_int_t
ngx_http_llm_xlate_send(ngx_http_request_t *r, ngx_http_llm_xlate_ctx_t *x,
    ngx_uint_t flush, ngx_uint_t last, ngx_http_output_body_filter_pt next)
{
    size_t        size, len;
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    if (x->out.len == 0 && !last) {
        return NGX_OK;
    }

    cl = ngx_chain_get_free_buf(r->pool, &x->free);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    b = cl->buf;
    size = x->out.len;

    if (size && (b->start == NULL || (size_t) (b->end - b->start) < size)) {
        /*
         * A buffer too small for this read's translation is given back,
         * not left in the pool: a long stream holds its largest read's
         * translation, once per buffer in flight.
         */
        if (b->start) {
            (void) ngx_pfree(r->pool, b->start);
        }

        len = ngx_max(size, 1024);

        b->start = ngx_pmemalign(r->pool, len, NGX_ALIGNMENT);
        if (b->start == NULL) {
            return NGX_ERROR;
        }

        b->end = b->start + len;
    }

    b->pos = b->start;
    b->last = size ? ngx_cpymem(b->pos, x->out.data, size) : b->pos;
    b->temporary = size ? 1 : 0;
    b->flush = flush;
    b->last_buf = last;
    b->last_in_chain = 1;
    b->tag = (ngx_buf_tag_t) &ngx_http_llm_router_module;

    rc = next(r, cl);

    ngx_chain_update_chains(r->pool, &x->free, &x->busy, &cl,
                            (ngx_buf_tag_t) &ngx_http_llm_router_module);

    return rc;
}


/*
 * What a translated stream held beyond nginx's own buffers, at its end
 * (debug log; t/201-xlate-memory.t and the README's figure): the state,
 * the carry of one partial event, the staging buffer the translators
 * write into (one provider read, translated) and the output buffers it is
 * copied into (recycled, so they are about as many as are in flight).
 * cJSON's scratch arena is per process, not per stream, and empty between
 * two events.
 */

static void
ngx_http_llm_xlate_memory(ngx_http_request_t *r, ngx_http_llm_xlate_ctx_t *x)
{
#if (NGX_DEBUG)
    size_t        state, carry, out;
    ngx_chain_t  *cl, *chains[2];
    ngx_uint_t    i;

    state = sizeof(ngx_http_llm_xlate_ctx_t);
    carry = x->sse.carry_size;

    if (x->sse.pivot) {
        state += sizeof(ngx_http_llm_xlate_sse_t);
        carry += x->sse.pivot->carry_size;
    }

    if (x->sse.rsp) {
        /* a Responses client's stream keeps its items by design */
        state += sizeof(ngx_http_llm_xlate_rsp_t) + x->sse.rsp->text.size
                 + x->sse.rsp->items.size + x->sse.rsp->chunks.size;
    }

    out = 0;
    chains[0] = x->free;
    chains[1] = x->busy;

    for (i = 0; i < 2; i++) {
        for (cl = chains[i]; cl; cl = cl->next) {
            out += sizeof(ngx_chain_t) + sizeof(ngx_buf_t)
                   + (cl->buf->end - cl->buf->start);
        }
    }

    ngx_log_debug5(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "llm xlate stream memory: %uz bytes (state %uz, "
                   "carry %uz, staging %uz, output buffers %uz)",
                   state + carry + x->out.size + out, state, carry,
                   x->out.size, out);
#endif
}
