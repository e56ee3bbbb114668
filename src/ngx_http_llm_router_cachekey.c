
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * Answers from nginx's own proxy_cache: $llm_cache_key for
 * proxy_cache_key, buffered proxying of the answers that may be cached,
 * and hits told apart from providers' answers (no cost, no budget).
 */


#include "ngx_http_llm_router.h"

#include <openssl/evp.h>


static ngx_int_t ngx_http_llm_cache_key_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


/* added by ngx_http_llm_add_variables() */
ngx_http_variable_t  ngx_http_llm_cache_vars[] = {

    { ngx_string("llm_cache_key"), NULL, ngx_http_llm_cache_key_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


/*
 * SHA-256 of what decides the answer: the endpoint, the route (which
 * decides the targets and the model they get), the tenant and the body
 * the client sent, each field length-prefixed so that no two requests
 * share a key by moving bytes between fields.  The target is left out on
 * purpose: the targets of a weighted route share the entries.
 */

static ngx_int_t
ngx_http_llm_cache_key_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char               *p, len[NGX_OFF_T_LEN + 1];
    ngx_str_t            *f[3];      /* endpoint, route, tenant */
    ngx_uint_t            i;
    unsigned int          n;
    EVP_MD_CTX           *md;
    ngx_http_llm_ctx_t   *ctx;
    u_char                digest[EVP_MAX_MD_SIZE];

    ctx = ngx_http_llm_get_ctx(r->main);

    if (ctx == NULL || !ctx->body_ready || ctx->route == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    if (ctx->cache_key.len) {
        goto done;
    }

    md = EVP_MD_CTX_new();
    if (md == NULL) {
        return NGX_ERROR;
    }

    f[0] = &ngx_http_llm_endpoint_names[ctx->endpoint];
    f[1] = &ctx->route->name;
    f[2] = &ctx->tenant;

    if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        goto failed;
    }

    for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        p = ngx_sprintf(len, "%uz:", f[i]->len);

        if (EVP_DigestUpdate(md, len, p - len) != 1
            || EVP_DigestUpdate(md, f[i]->data, f[i]->len) != 1)
        {
            goto failed;
        }
    }

    p = ngx_sprintf(len, "%uz:", ctx->body_len);

    if (EVP_DigestUpdate(md, len, p - len) != 1
        || (ctx->body_len
            && EVP_DigestUpdate(md, ctx->body, ctx->body_len) != 1)
        || EVP_DigestFinal_ex(md, digest, &n) != 1)
    {
        goto failed;
    }

    EVP_MD_CTX_free(md);

    ctx->cache_key.data = ngx_pnalloc(r->pool, 2 * n);
    if (ctx->cache_key.data == NULL) {
        return NGX_ERROR;
    }

    ctx->cache_key.len = ngx_hex_dump(ctx->cache_key.data, digest, n)
                         - ctx->cache_key.data;

done:

    v->data = ctx->cache_key.data;
    v->len = ctx->cache_key.len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;

failed:

    EVP_MD_CTX_free(md);

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "llm router: SHA-256 of the request failed");

    return NGX_ERROR;
}


/*
 * A cacheable answer must be proxied buffered (nginx caches nothing it
 * passes through unbuffered): a request that proxy_cache looked up and
 * that is not a stream is proxied buffered, whatever proxy_buffering
 * says; streams stay unbuffered.
 */

void
ngx_http_llm_cache_init_peer(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx)
{
#if (NGX_HTTP_CACHE)

    if (r->cache && !ctx->stream) {
        r->upstream->buffering = 1;
    }

#endif
}


/* an answer from the cache: no provider, no usage, no cost, no budget */

void
ngx_http_llm_cache_served(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx)
{
    if (!r->cached) {
        return;
    }

    /* a stale answer after failed attempts too: the filters let it be */

    ctx->cache_hit = 1;
    ctx->proxied = 0;
    ctx->target = NULL;
    ngx_str_null(&ctx->upstream_model);
}
