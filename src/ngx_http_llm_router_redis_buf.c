
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * llm_redis: the worker connection's output buffer, and the records of
 * its commands in flight, recycled (two per budgeted request: a malloc
 * and a free each saved).
 */


#include "ngx_http_llm_router.h"
#include "ngx_http_llm_router_redis.h"


#define NGX_HTTP_LLM_REDIS_OPS_CACHED   256
#define NGX_HTTP_LLM_REDIS_OUT_MAX      (64 * 1024 * 1024)


static ngx_http_llm_redis_op_t  *ngx_http_llm_redis_ops_free;
static ngx_uint_t                ngx_http_llm_redis_nops_free;


/*
 * Room for len more bytes at b->data + b->len: what was sent goes first
 * (often all of it), then the buffer doubles, up to
 * NGX_HTTP_LLM_REDIS_OUT_MAX.
 */

ngx_int_t
ngx_http_llm_redis_buf_reserve(ngx_http_llm_redis_buf_t *b, size_t len,
    ngx_log_t *log)
{
    u_char  *nb;
    size_t   size;

    if (b->len + len > b->size && b->sent) {
        ngx_memmove(b->data, b->data + b->sent, b->len - b->sent);
        b->len -= b->sent;
        b->sent = 0;
    }

    if (b->len + len <= b->size) {
        return NGX_OK;
    }

    size = ngx_max(b->size * 2, 16384);

    while (size < b->len + len) {
        size *= 2;
    }

    if (size > NGX_HTTP_LLM_REDIS_OUT_MAX) {
        return NGX_ERROR;
    }

    nb = ngx_alloc(size, log);
    if (nb == NULL) {
        return NGX_ERROR;
    }

    if (b->len) {
        ngx_memcpy(nb, b->data, b->len);
    }

    ngx_free(b->data);
    b->data = nb;
    b->size = size;

    return NGX_OK;
}


ngx_int_t
ngx_http_llm_redis_buf_add(ngx_http_llm_redis_buf_t *b, const void *data,
    size_t len, ngx_log_t *log)
{
    if (ngx_http_llm_redis_buf_reserve(b, len, log) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_memcpy(b->data + b->len, data, len);
    b->len += len;

    return NGX_OK;
}


void
ngx_http_llm_redis_buf_free(ngx_http_llm_redis_buf_t *b)
{
    ngx_http_llm_redis_op_t  *op;

    ngx_free(b->data);
    ngx_memzero(b, sizeof(ngx_http_llm_redis_buf_t));

    /* the worker exits: the cached records too */

    while (ngx_http_llm_redis_ops_free) {
        op = ngx_http_llm_redis_ops_free;
        ngx_http_llm_redis_ops_free = op->data;
        ngx_free(op);
    }

    ngx_http_llm_redis_nops_free = 0;
}


ngx_http_llm_redis_op_t *
ngx_http_llm_redis_op_alloc(ngx_log_t *log)
{
    ngx_http_llm_redis_op_t  *op;

    op = ngx_http_llm_redis_ops_free;

    if (op == NULL) {
        return ngx_calloc(sizeof(ngx_http_llm_redis_op_t), log);
    }

    ngx_http_llm_redis_ops_free = op->data;
    ngx_http_llm_redis_nops_free--;

    ngx_memzero(op, sizeof(ngx_http_llm_redis_op_t));

    return op;
}


/* a script's command goes with it, unless it is its caller's */

void
ngx_http_llm_redis_op_free(ngx_http_llm_redis_op_t *op)
{
    if (op->cmd && !op->kept) {
        redisFreeCommand(op->cmd);
    }

    if (ngx_http_llm_redis_nops_free >= NGX_HTTP_LLM_REDIS_OPS_CACHED) {
        ngx_free(op);
        return;
    }

    op->data = ngx_http_llm_redis_ops_free;
    ngx_http_llm_redis_ops_free = op;
    ngx_http_llm_redis_nops_free++;
}
