
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * The request each provider gets, built anew for every attempt: the
 * client's body with the target's model spliced in (no copy of the rest),
 * a stream's usage asked for, the path and the key.  Called by the
 * balancer (request.c only finds the plan).
 */


#include "ngx_http_llm_router.h"


static ngx_chain_t *ngx_http_llm_chain_piece(ngx_pool_t *pool,
    ngx_chain_t ***last, u_char *start, u_char *end);


/* what asks an OpenAI-style provider for usage in a stream */
static ngx_str_t  ngx_http_llm_usage_member =
    ngx_string("\"stream_options\":{\"include_usage\":true},");
static ngx_str_t  ngx_http_llm_usage_only =
    ngx_string("\"include_usage\":true");
static ngx_str_t  ngx_http_llm_usage_first =
    ngx_string("\"include_usage\":true,");
static ngx_str_t  ngx_http_llm_usage_object =
    ngx_string("{\"include_usage\":true}");
static ngx_str_t  ngx_http_llm_true = ngx_string("true");


/*
 * Makes the request what target t expects: the body with its model name
 * (spliced, no copy of the rest), the path, the key.  The body is a chain
 * of buffers pointing into the client's body.  Over 150 lines: the
 * edits (the model value, stream_options) are made in body order into
 * one chain, each a few lines that need the ones before it, then the
 * path and the key.
 */

ngx_int_t
ngx_http_llm_build_request(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    ngx_http_llm_target_t *t)
{
    u_char                   *pos, *end, *p, *model_start, *model_end,
                             *ins_at, *rep_start, *rep_end;
    size_t                    len;
    ngx_str_t                 rep;
    ngx_chain_t              *out, **last, *cl;
    ngx_http_llm_provider_t  *prov;
    ngx_http_llm_json_doc_t  *doc;

    prov = t->provider;
    doc = &ctx->doc;

    ctx->target = t;
    ctx->built = t;
    ctx->upstream_model = t->model.len ? t->model : ctx->model;
    ctx->strip_usage = 0;

    /* another API: a new body (NGX_DECLINED: the target cannot take it) */

    switch (ngx_http_llm_xlate_build(r, ctx, t)) {

    case NGX_OK:
        break;

    case NGX_DONE:
        goto key;

    case NGX_DECLINED:
        return NGX_DECLINED;

    default:
        return NGX_ERROR;
    }

    /* edits, in body order: the model value, then stream_options */

    model_start = (u_char *) doc->model.start;
    model_end = (u_char *) doc->model.end;

    ins_at = NULL;
    rep_start = NULL;
    rep_end = NULL;
    ngx_str_null(&rep);

    if (ctx->stream
        && (prov->api == NGX_HTTP_LLM_API_OPENAI
            || prov->api == NGX_HTTP_LLM_API_AZURE)
        && ctx->endpoint != NGX_HTTP_LLM_EP_RESPONSES
        && ctx->endpoint != NGX_HTTP_LLM_EP_EMBEDDINGS
        && !ctx->client_usage)
    {
        ctx->strip_usage = 1;

        if (doc->stream_options.start == NULL) {
            /* right after the top-level '{' */
            rep_start = (u_char *) doc->object.start + 1;
            rep_end = rep_start;
            rep = ngx_http_llm_usage_member;

        } else if (doc->include_usage.start) {
            rep_start = (u_char *) doc->include_usage.start;
            rep_end = (u_char *) doc->include_usage.end;
            rep = ngx_http_llm_true;

        } else if (doc->stream_options.start[0] == '{') {
            rep_start = (u_char *) doc->stream_options.start + 1;
            rep_end = rep_start;

            for (p = rep_start; *p == ' ' || *p == '\t' || *p == '\r'
                                || *p == '\n';
                 p++)
            { /* void */ }

            rep = (*p == '}') ? ngx_http_llm_usage_only
                              : ngx_http_llm_usage_first;

        } else {
            /* stream_options: null or some other non-object */
            rep_start = (u_char *) doc->stream_options.start;
            rep_end = (u_char *) doc->stream_options.end;
            rep = ngx_http_llm_usage_object;
        }

        ins_at = rep_start;
    }

    out = NULL;
    last = &out;
    pos = ctx->body;
    end = ctx->body + ctx->body_len;

    if (ins_at && ins_at < model_start) {
        if (ngx_http_llm_chain_piece(r->pool, &last, pos, rep_start) == NULL
            || ngx_http_llm_chain_piece(r->pool, &last, rep.data,
                                        rep.data + rep.len) == NULL)
        {
            return NGX_ERROR;
        }

        pos = rep_end;
        ins_at = NULL;
    }

    if (t->model.len) {
        if (ngx_http_llm_chain_piece(r->pool, &last, pos, model_start) == NULL)
        {
            return NGX_ERROR;
        }

        /* "model" is checked at config time to need no JSON escaping */

        p = ngx_pnalloc(r->pool, t->model.len + 2);
        if (p == NULL) {
            return NGX_ERROR;
        }

        p[0] = '"';
        ngx_memcpy(p + 1, t->model.data, t->model.len);
        p[t->model.len + 1] = '"';

        if (ngx_http_llm_chain_piece(r->pool, &last, p, p + t->model.len + 2)
            == NULL)
        {
            return NGX_ERROR;
        }

        pos = model_end;
    }

    if (ins_at) {
        if (ngx_http_llm_chain_piece(r->pool, &last, pos, rep_start) == NULL
            || ngx_http_llm_chain_piece(r->pool, &last, rep.data,
                                        rep.data + rep.len) == NULL)
        {
            return NGX_ERROR;
        }

        pos = rep_end;
    }

    if (ngx_http_llm_chain_piece(r->pool, &last, pos, end) == NULL) {
        return NGX_ERROR;
    }

    len = 0;

    for (cl = out; cl; cl = cl->next) {
        len += cl->buf->last - cl->buf->pos;
    }

    r->request_body->bufs = out;
    r->request_body->temp_file = NULL;
    r->headers_in.content_length_n = len;

    /* the provider's path; the client's query string is not passed on */

    switch (ngx_http_llm_xlate_uri(r, prov, ctx->endpoint,
                                   &ctx->upstream_model, ctx->stream))
    {
    case NGX_OK:
        break;

    case NGX_DECLINED:
        return NGX_DECLINED;

    default:
        return NGX_ERROR;
    }

key:

    /* the key, in turn among the provider's keys, or the retry's */

    if (prov->keys->nelts) {
        if (ctx->key_retry) {
            ctx->key_index = ctx->key_retry_index;

        } else {
            ctx->key_index = ngx_http_llm_key_pick(prov);
            ctx->keys_tried = 0;
        }

        if (ctx->key_index < 64) {
            ctx->keys_tried |= (uint64_t) 1 << ctx->key_index;
        }

        ctx->key = ((ngx_str_t *) prov->keys->elts)[ctx->key_index];

    } else {
        ngx_str_null(&ctx->key);
    }

    ctx->key_retry = 0;

    return NGX_OK;
}


static ngx_chain_t *
ngx_http_llm_chain_piece(ngx_pool_t *pool, ngx_chain_t ***last, u_char *start,
    u_char *end)
{
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    if (start == end) {
        /* nothing to add; any non-NULL value means success */
        return (ngx_chain_t *) -1;
    }

    b = ngx_calloc_buf(pool);
    if (b == NULL) {
        return NULL;
    }

    /* start == pos: upstream resets pos to start before a retry */

    b->start = start;
    b->pos = start;
    b->last = end;
    b->end = end;
    b->memory = 1;

    cl = ngx_alloc_chain_link(pool);
    if (cl == NULL) {
        return NULL;
    }

    cl->buf = b;
    cl->next = NULL;

    **last = cl;
    *last = &cl->next;

    return cl;
}
