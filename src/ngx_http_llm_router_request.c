
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * The request path up to proxy_pass (the rewrite-phase handler):
 * endpoint, body, validation, client key, route, budgets, and the plan's
 * next target; the request each provider gets is built in build.c.
 */


#include "ngx_http_llm_router.h"

#include <cjson/cJSON.h>


/* the connection's header buffer while the body is read in place */
typedef struct {
    ngx_buf_t                       *buf;
    u_char                          *start;
    u_char                          *last;
    u_char                          *end;
} ngx_http_llm_header_buf_t;


static ngx_uint_t ngx_http_llm_find_endpoint(ngx_http_request_t *r,
    ngx_str_t *model_id);
static ngx_int_t ngx_http_llm_check_content_type(ngx_http_request_t *r);
static void ngx_http_llm_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_llm_process_body(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx);
static ngx_int_t ngx_http_llm_process_target(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx);
static void ngx_http_llm_budget_done(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, ngx_int_t rc);
static ngx_int_t ngx_http_llm_body_in_place(ngx_http_request_t *r);
static void ngx_http_llm_header_buf_restore(void *data);
static ngx_int_t ngx_http_llm_collect_body(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx);
static ngx_int_t ngx_http_llm_models(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, ngx_str_t *id);
static cJSON *ngx_http_llm_model_object(ngx_http_llm_route_t *route);


/* indexed by NGX_HTTP_LLM_EP_* */
ngx_str_t  ngx_http_llm_endpoint_names[] = {
    ngx_string("chat/completions"),
    ngx_string("completions"),
    ngx_string("embeddings"),
    ngx_string("responses"),
    ngx_string("messages"),
    ngx_string("models"),
    ngx_null_string
};


ngx_int_t
ngx_http_llm_rewrite_handler(ngx_http_request_t *r)
{
    ngx_int_t                 rc;
    ngx_str_t                 id;
    ngx_http_llm_ctx_t       *ctx;
    ngx_http_llm_loc_conf_t  *lcf;

    if (r != r->main) {
        return NGX_DECLINED;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_llm_router_module);

    if (!lcf->enabled) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_llm_get_ctx(r);

    if (ctx) {
        /* phases resumed after the body was read, or an internal redirect */

        if (!ctx->body_ready) {
            return NGX_DECLINED;
        }

        if (ctx->status == NGX_DECLINED && !ctx->log_muted
            && (r->connection->log->log_level & NGX_LOG_DEBUG_ALL))
        {
            /* a new location restored the level: keep keys out again */
            ctx->log_level = r->connection->log->log_level;
            ctx->log_muted = 1;
            r->connection->log->log_level &= ~NGX_LOG_DEBUG_ALL;
        }

        return ctx->status;
    }

    ctx = ngx_http_llm_create_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_str_null(&id);

    ctx->endpoint = ngx_http_llm_find_endpoint(r, &id);
    ctx->api = (ctx->endpoint == NGX_HTTP_LLM_EP_MESSAGES)
               ? NGX_HTTP_LLM_API_ANTHROPIC : NGX_HTTP_LLM_API_OPENAI;

    if (ctx->endpoint == NGX_HTTP_LLM_EP_UNKNOWN) {
        return ngx_http_llm_set_error(r, ctx, NGX_HTTP_NOT_FOUND,
                                      "unknown_url", NULL,
                                      "Unknown request URL: %V %V",
                                      &r->method_name,
                                      ngx_http_llm_error_quote(r->pool,
                                                               &r->uri));
    }

    /* client keys first: nothing else is read for an unknown client */

    if (lcf->client_keys) {
        rc = ngx_http_llm_client_key_check(r, ctx);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    if (ctx->endpoint == NGX_HTTP_LLM_EP_MODELS) {
        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
            goto not_allowed;
        }

        rc = ngx_http_llm_models(r, ctx, &id);

        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            return rc;
        }

        ngx_http_finalize_request(r, rc);
        return NGX_DONE;
    }

    if (r->method != NGX_HTTP_POST) {
        goto not_allowed;
    }

    if (ngx_http_llm_check_content_type(r) != NGX_OK) {
        return ngx_http_llm_set_error(r, ctx,
                                      NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                      "unsupported_media_type", NULL,
                                      "Content-Type must be "
                                      "application/json");
    }

    ctx->waiting_body = 1;

    /* one buffer: the scanner needs the body contiguous, uncopied */
    r->request_body_in_single_buf = 1;

    if (ngx_http_llm_body_in_place(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_read_client_request_body(r, ngx_http_llm_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    ngx_http_finalize_request(r, NGX_DONE);
    return NGX_DONE;

not_allowed:

    return ngx_http_llm_set_error(r, ctx, NGX_HTTP_NOT_ALLOWED,
                                  "method_not_allowed", NULL,
                                  "Method %V is not allowed on %V",
                                  &r->method_name,
                                  ngx_http_llm_error_quote(r->pool, &r->uri));
}


static ngx_uint_t
ngx_http_llm_find_endpoint(ngx_http_request_t *r, ngx_str_t *model_id)
{
    u_char                    *p;
    ngx_str_t                  rest, *ep;
    ngx_uint_t                 i;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    /* a prefix location: the URI past it names the endpoint */

    if (!clcf->exact_match
#if (NGX_PCRE)
        && clcf->regex == NULL
#endif
        && !clcf->named && clcf->name.len <= r->uri.len
        && ngx_strncmp(r->uri.data, clcf->name.data, clcf->name.len) == 0)
    {
        rest.data = r->uri.data + clcf->name.len;
        rest.len = r->uri.len - clcf->name.len;

        if (rest.len && rest.data[0] == '/') {
            rest.data++;
            rest.len--;

        } else if (rest.len && clcf->name.len
                   && clcf->name.data[clcf->name.len - 1] != '/')
        {
            /* "location /v1" does not make "/v1chat/completions" one */
            return NGX_HTTP_LLM_EP_UNKNOWN;
        }

        for (i = 0; ngx_http_llm_endpoint_names[i].len; i++) {
            ep = &ngx_http_llm_endpoint_names[i];

            if (rest.len == ep->len
                && ngx_strncmp(rest.data, ep->data, rest.len) == 0)
            {
                return i;
            }
        }

        /* GET models/{id} */

        if (rest.len > 7 && ngx_strncmp(rest.data, "models/", 7) == 0) {
            model_id->data = rest.data + 7;
            model_id->len = rest.len - 7;
            return NGX_HTTP_LLM_EP_MODELS;
        }

        return NGX_HTTP_LLM_EP_UNKNOWN;
    }

    /* exact or regex location: the URI's last segments name it */

    for (i = 0; ngx_http_llm_endpoint_names[i].len; i++) {
        ep = &ngx_http_llm_endpoint_names[i];

        if (r->uri.len <= ep->len) {
            continue;
        }

        p = r->uri.data + r->uri.len - ep->len;

        if (p[-1] == '/' && ngx_strncmp(p, ep->data, ep->len) == 0) {
            return i;
        }
    }

    return NGX_HTTP_LLM_EP_UNKNOWN;
}


static ngx_int_t
ngx_http_llm_check_content_type(ngx_http_request_t *r)
{
    u_char     *p, *last;
    ngx_str_t  *ct;

    if (r->headers_in.content_type == NULL) {
        return NGX_OK;
    }

    ct = &r->headers_in.content_type->value;

    if (!ngx_http_llm_prefix_ci(ct->data, ct->len, "application/json")) {
        return NGX_DECLINED;
    }

    p = ct->data + sizeof("application/json") - 1;
    last = ct->data + ct->len;

    if (p == last || *p == ';' || *p == ' ' || *p == '\t') {
        return NGX_OK;
    }

    return NGX_DECLINED;
}


static void
ngx_http_llm_body_handler(ngx_http_request_t *r)
{
    ngx_int_t            rc;
    ngx_http_llm_ctx_t  *ctx;

    ctx = ngx_http_llm_get_ctx(r);

    r->preserve_body = 1;

    rc = ngx_http_llm_process_body(r, ctx);

    if (rc == NGX_AGAIN) {
        /* suspended until Redis answers: the reply holds a reference */
        ctx->waiting_body = 0;
        r->main->count++;
        r->write_event_handler = ngx_http_request_empty_handler;
        return;
    }

    ctx->status = rc;
    ctx->body_ready = 1;
    ctx->waiting_body = 0;

    r->write_event_handler = ngx_http_core_run_phases;
    ngx_http_core_run_phases(r);
}


/*
 * The budgets' answer came (from Redis, or its absence): the request
 * goes on where ngx_http_llm_process_body() left it, then drops the
 * reference the wait held.
 */

/* the budgets answered later (Redis): the request goes on */

static void
ngx_http_llm_budget_done(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    ngx_int_t rc)
{
    ngx_connection_t  *c;

    c = r->connection;

    if (rc == NGX_OK) {
        rc = ngx_http_llm_process_target(r, ctx);
    }

    ctx->status = rc;
    ctx->body_ready = 1;

    r->write_event_handler = ngx_http_core_run_phases;
    ngx_http_core_run_phases(r);

    ngx_http_finalize_request(r, NGX_DONE);
    ngx_http_run_posted_requests(c);
}


static ngx_int_t
ngx_http_llm_process_body(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx)
{
    int                     rc;
    u_char                 *name_buf, stack_buf[4096];

    if (ngx_http_llm_collect_body(r, ctx) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->body_len == 0) {
        return ngx_http_llm_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                                      "invalid_json", NULL,
                                      "The request body is empty; "
                                      "a JSON object is expected");
    }

    /*
     * the scanner wants room for a decoded string as long as the body;
     * small bodies use the stack, and the model is copied out below
     */

    if (ctx->body_len <= sizeof(stack_buf)) {
        name_buf = stack_buf;

    } else {
        name_buf = ngx_pnalloc(r->pool, ctx->body_len);
        if (name_buf == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    rc = ngx_http_llm_json_scan(ctx->body, ctx->body_len, name_buf,
                                &ctx->doc);

    switch (rc) {

    case NGX_HTTP_LLM_JSON_OK:
        break;

    case NGX_HTTP_LLM_JSON_MALFORMED:
    case NGX_HTTP_LLM_JSON_TOO_DEEP:
        return ngx_http_llm_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                                      "invalid_json", NULL,
                                      "The request body is not valid JSON "
                                      "(%s at byte %uz)",
                                      ngx_http_llm_json_strerror(rc),
                                      ctx->doc.error_offset);

    case NGX_HTTP_LLM_JSON_NOT_OBJECT:
        return ngx_http_llm_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                                      "invalid_json", NULL,
                                      "The request body must be a JSON "
                                      "object");

    case NGX_HTTP_LLM_JSON_MODEL_MISSING:
        return ngx_http_llm_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                                      "missing_required_parameter", "model",
                                      "You must provide a model parameter");

    case NGX_HTTP_LLM_JSON_MODEL_DUPLICATE:
        return ngx_http_llm_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                                      "invalid_value", "model",
                                      "The \"model\" member appears more "
                                      "than once");

    case NGX_HTTP_LLM_JSON_DUPLICATE_KEY:
        return ngx_http_llm_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                                      "invalid_value", NULL,
                                      "A member appears more than once (%s "
                                      "at byte %uz)",
                                      ngx_http_llm_json_strerror(rc),
                                      ctx->doc.error_offset);

    case NGX_HTTP_LLM_JSON_MODEL_NOT_STRING:
    case NGX_HTTP_LLM_JSON_MODEL_EMPTY:
        return ngx_http_llm_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                                      "invalid_type", "model",
                                      "The model must be a non-empty "
                                      "string");

    default: /* NGX_HTTP_LLM_JSON_MODEL_CONTROL */
        return ngx_http_llm_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                                      "invalid_value", "model",
                                      "The model name contains control "
                                      "characters");
    }

    if (ctx->doc.model_len > NGX_HTTP_LLM_MODEL_MAX) {
        return ngx_http_llm_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                                      "invalid_value", "model",
                                      "The model name is longer than %d "
                                      "bytes", NGX_HTTP_LLM_MODEL_MAX);
    }

    ctx->model.len = ctx->doc.model_len;
    ctx->model.data = ngx_pnalloc(r->pool, ctx->model.len);
    if (ctx->model.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(ctx->model.data, ctx->doc.model_name, ctx->model.len);
    ctx->doc.model_name = ctx->model.data;
    ctx->stream = ctx->doc.stream_true ? 1 : 0;
    ctx->client_usage = ctx->doc.include_usage_true ? 1 : 0;

    /* the route */

    if (ctx->lcf->route_key) {
        if (ngx_http_complex_value(r, ctx->lcf->route_key, &ctx->route_key)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

    } else {
        ctx->route_key = ctx->model;
    }

    ctx->route = ngx_http_llm_route_find(r, ctx->lcf->routes, &ctx->route_key);

    if (ctx->route == NULL) {
        return ngx_http_llm_set_error(r, ctx, NGX_HTTP_NOT_FOUND,
                                      "model_not_found", "model",
                                      "The model `%V` does not exist or "
                                      "is not routed by this gateway",
                                      ngx_http_llm_error_quote(r->pool,
                                                               &ctx->model));
    }

    if (ctx->lcf->client_keys) {
        rc = ngx_http_llm_client_model_check(r, ctx, &ctx->model);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    ngx_http_llm_route_plan(ctx->route, ctx);

    ctx->budget.done = ngx_http_llm_budget_done;

    rc = ngx_http_llm_budget_reserve(r, ctx);
    if (rc != NGX_OK) {
        /* NGX_AGAIN: Redis answers later, ngx_http_llm_budget_done() */
        return rc;
    }

    return ngx_http_llm_process_target(r, ctx);
}


static ngx_int_t
ngx_http_llm_process_target(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx)
{
    ngx_int_t               rc;
    ngx_http_llm_target_t  *t;

    /* a route never ends up with nothing to try */

    t = ngx_http_llm_next_target(r, ctx, 0);

    if (t == NULL) {
        /* every circuit is open: all are tried in order all the same */
        ctx->next = 0;
        ctx->force = 1;
        t = ngx_http_llm_next_target(r, ctx, 1);
    }

    for ( ;; ) {
        if (t == NULL) {
            /* no target serves this endpoint, or takes this request */
            return ngx_http_llm_xlate_refused(r, ctx);
        }

        rc = ngx_http_llm_build_request(r, ctx, t);

        if (rc == NGX_OK) {
            break;
        }

        if (rc != NGX_DECLINED) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        t = ngx_http_llm_next_target(r, ctx, ctx->force);
    }

    /*
     * proxy's create_request runs next and debug-logs the header block
     * with the provider key; the balancer's init restores the level
     */

    if (r->connection->log->log_level & NGX_LOG_DEBUG_ALL) {
        ctx->log_level = r->connection->log->log_level;
        ctx->log_muted = 1;
        r->connection->log->log_level &= ~NGX_LOG_DEBUG_ALL;
    }

    return NGX_DECLINED;
}


/*
 * nginx keeps the part of the body that came with the header where it is,
 * in the header buffer, and reads the rest into a buffer of its own: two
 * pieces, which the scanner would need joined by a copy of the whole
 * body.  When the length is known and the body stays in memory, a header
 * buffer with room for the whole body makes nginx read the rest right
 * after the part already there (its "the whole request body may be
 * placed in r->header_in" case): only that part is copied, at most
 * client_header_buffer_size (or a large header buffer) bytes.
 *
 * The header buffer is the connection's (c->buffer or a large header
 * buffer) and must outlive the request: ngx_http_set_keepalive() reads
 * r->header_in after the request's pool is gone.  So it is not replaced:
 * its memory is, by memory of the request's pool, and a cleanup of that
 * pool gives the buffer its own memory back (the pre-read part consumed)
 * before the pool is freed.  Replacing r->header_in by a buffer of the
 * request's pool made nginx read freed memory, and crash (SIGSEGV) when
 * that memory had gone back to the system.
 */

static ngx_int_t
ngx_http_llm_body_in_place(ngx_http_request_t *r)
{
    u_char                            *p;
    off_t                              len;
    size_t                             preread;
    ngx_buf_t                         *b;
    ngx_pool_cleanup_t                *cln;
    ngx_http_core_loc_conf_t          *clcf;
    ngx_http_llm_header_buf_t         *saved;

    len = r->headers_in.content_length_n;
    b = r->header_in;

    if (r != r->main
        || r->request_body != NULL
        || len <= 0
        || r->headers_in.chunked
        || r->http_version >= NGX_HTTP_VERSION_20
        || r->request_body_in_file_only)
    {
        return NGX_OK;
    }

    preread = b->last - b->pos;

    if (preread == 0
        || (off_t) preread >= len
        || b->end - b->last >= len - (off_t) preread)
    {
        /* nothing read yet, all read, or room enough: one piece anyway */
        return NGX_OK;
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (len > (off_t) clcf->client_body_buffer_size) {
        /* it goes to a temporary file */
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, (size_t) len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_llm_header_buf_t));
    if (cln == NULL) {
        return NGX_ERROR;
    }

    saved = cln->data;
    saved->buf = b;
    saved->start = b->start;
    saved->last = b->last;
    saved->end = b->end;

    cln->handler = ngx_http_llm_header_buf_restore;

    b->start = p;
    b->pos = p;
    b->last = ngx_cpymem(p, saved->last - preread, preread);
    b->end = p + len;

    return NGX_OK;
}


static void
ngx_http_llm_header_buf_restore(void *data)
{
    ngx_http_llm_header_buf_t  *saved = data;

    ngx_buf_t  *b;

    /*
     * what nginx leaves there after a body: nothing unread (the rest was
     * read up to the body's length, never into the next request)
     */

    b = saved->buf;
    b->start = saved->start;
    b->pos = saved->last;
    b->last = saved->last;
    b->end = saved->end;
}


static ngx_int_t
ngx_http_llm_collect_body(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx)
{
    u_char       *p, *start, *last;
    off_t         len;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        ctx->body_len = 0;
        return NGX_OK;
    }

    /*
     * the common case: pieces in memory that follow each other (nginx
     * passes each read on as a piece of the same buffer), used in place
     */

    start = NULL;
    last = NULL;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file) {
            break;
        }

        if (b->pos == b->last) {
            continue;
        }

        if (start != NULL && b->pos != last) {
            break;
        }

        if (start == NULL) {
            start = b->pos;
        }

        last = b->last;
    }

    if (cl == NULL) {
        ctx->body = start;
        ctx->body_len = last - start;
        return NGX_OK;
    }

    /*
     * a copy: bodies in a temporary file, chunked bodies (each chunk
     * is a piece), HTTP/2 bodies that came in more than one buffer
     */

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        len += ngx_buf_size(cl->buf);
    }

    ctx->body_len = (size_t) len;

    if (len == 0) {
        return NGX_OK;
    }

    ctx->body = ngx_pnalloc(r->pool, (size_t) len);
    if (ctx->body == NULL) {
        return NGX_ERROR;
    }

    p = ctx->body;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file) {
            n = ngx_read_file(b->file, p, (size_t) (b->file_last - b->file_pos),
                              b->file_pos);

            if (n != b->file_last - b->file_pos) {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "llm router: could not read the request body "
                              "back from \"%V\"", &b->file->name);
                return NGX_ERROR;
            }

            p += n;
            continue;
        }

        p = ngx_cpymem(p, b->pos, b->last - b->pos);
    }

    return NGX_OK;
}


/*
 * Returns the next target of the plan whose provider's circuit lets a
 * request through (any target with force).
 */

ngx_http_llm_target_t *
ngx_http_llm_next_target(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    ngx_uint_t force)
{
    ngx_http_llm_target_t  *t;

    while (ctx->next < ctx->nplan) {
        t = ctx->plan[ctx->next++];

        if (!ngx_http_llm_xlate_serves(ctx, t->provider)) {
            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "llm router: provider \"%V\" skipped, its API "
                           "cannot serve the endpoint", &t->provider->name);
            continue;
        }

        /* a provider that probes found down is skipped like an open one */

        if (force || (!ngx_http_llm_health_down(t->provider)
                      && ngx_http_llm_circuit_allow(t->provider)))
        {
            return t;
        }

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "llm router: provider \"%V\" skipped, circuit open "
                       "or down", &t->provider->name);
    }

    return NULL;
}


static cJSON *
ngx_http_llm_model_object(ngx_http_llm_route_t *route)
{
    u_char                  name[256];
    size_t                  len;
    cJSON                  *m;
    ngx_http_llm_target_t  *t;

    m = cJSON_CreateObject();
    if (m == NULL) {
        return NULL;
    }

    len = ngx_min(route->name.len, sizeof(name) - 1);
    ngx_memcpy(name, route->name.data, len);
    name[len] = '\0';

    cJSON_AddStringToObject(m, "id", (char *) name);
    cJSON_AddStringToObject(m, "object", "model");
    cJSON_AddNumberToObject(m, "created", 0);

    t = route->targets.elts;
    len = ngx_min(t[0].provider->name.len, sizeof(name) - 1);
    ngx_memcpy(name, t[0].provider->name.data, len);
    name[len] = '\0';

    cJSON_AddStringToObject(m, "owned_by", (char *) name);

    return m;
}


/* GET models and models/{id}, from the exact-name routes */

static ngx_int_t
ngx_http_llm_models(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    ngx_str_t *id)
{
    char                  *json;
    size_t                 len;
    ngx_int_t              rc;
    ngx_buf_t             *b;
    ngx_uint_t             i, n;
    ngx_chain_t            out;
    cJSON                 *root, *data, *m;
    ngx_http_llm_route_t  *route;

    route = ctx->lcf->routes->exact.elts;
    n = ctx->lcf->routes->exact.nelts;

    if (id->len) {
        for (i = 0; i < n; i++) {
            if (route[i].name.len == id->len
                && ngx_strncmp(route[i].name.data, id->data, id->len) == 0)
            {
                break;
            }
        }

        if (i == n
            || (ctx->lcf->client_keys
                && !ngx_http_llm_client_model_allowed(ctx->client_key,
                                                      &route[i].name)))
        {
            return ngx_http_llm_set_error(r, ctx, NGX_HTTP_NOT_FOUND,
                                          "model_not_found", "model",
                                          "The model `%V` does not exist",
                                          ngx_http_llm_error_quote(r->pool,
                                                                   id));
        }

        root = ngx_http_llm_model_object(&route[i]);
        if (root == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

    } else {
        root = cJSON_CreateObject();
        if (root == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        cJSON_AddStringToObject(root, "object", "list");

        data = cJSON_AddArrayToObject(root, "data");
        if (data == NULL) {
            goto failed;
        }

        for (i = 0; i < n; i++) {

            /* a client key sees the models it may use */

            if (ctx->lcf->client_keys
                && !ngx_http_llm_client_model_allowed(ctx->client_key,
                                                      &route[i].name))
            {
                continue;
            }

            m = ngx_http_llm_model_object(&route[i]);
            if (m == NULL) {
                goto failed;
            }

            cJSON_AddItemToArray(data, m);
        }
    }

    json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);

    if (json == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = ngx_strlen(json);

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        cJSON_free(json);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_cpymem(b->last, json, len);
    b->last_buf = 1;
    b->last_in_chain = 1;

    cJSON_free(json);

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = len;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);

failed:

    cJSON_Delete(root);

    return NGX_HTTP_INTERNAL_SERVER_ERROR;
}
