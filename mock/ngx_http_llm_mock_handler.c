
/*
 * ngx_http_llm_mock_module: the content handler.  Reads the body, picks
 * the reply (echo, error or the API's answer, see ngx_http_llm_mock_reply.c)
 * and sends it: after delay=, one event per interval=, cut short by cut=.
 */


#include "ngx_http_llm_mock.h"


static void ngx_http_llm_mock_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_llm_mock_prepare(ngx_http_request_t *r,
    ngx_http_llm_mock_loc_conf_t *mlcf, ngx_http_llm_mock_ctx_t *ctx);
static void ngx_http_llm_mock_send(ngx_http_request_t *r,
    ngx_http_llm_mock_ctx_t *ctx);
static void ngx_http_llm_mock_cut(ngx_http_request_t *r,
    ngx_http_llm_mock_ctx_t *ctx);
static ngx_int_t ngx_http_llm_mock_arm(ngx_http_request_t *r);
static void ngx_http_llm_mock_writer(ngx_http_request_t *r);
static void ngx_http_llm_mock_timer_handler(ngx_event_t *ev);
static void ngx_http_llm_mock_cleanup(void *data);

static ngx_int_t ngx_http_llm_mock_read_body(ngx_http_request_t *r,
    ngx_str_t *body);
static void ngx_http_llm_mock_scan(u_char *p, u_char *end,
    ngx_http_llm_mock_req_t *rq);
static u_char *ngx_http_llm_mock_skip_colon(u_char *p, u_char *end);

static ngx_int_t ngx_http_llm_mock_echo_body(ngx_http_request_t *r,
    ngx_http_llm_mock_ctx_t *ctx);
static ngx_int_t ngx_http_llm_mock_echo_headers(ngx_http_request_t *r,
    ngx_http_llm_mock_ctx_t *ctx);
static ngx_int_t ngx_http_llm_mock_trim(ngx_http_request_t *r,
    ngx_http_llm_mock_ctx_t *ctx, off_t size);


static ngx_str_t  ngx_http_llm_mock_default_model =
    ngx_string(NGX_HTTP_LLM_MOCK_DEFAULT_MODEL);


ngx_int_t
ngx_http_llm_mock_handler(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_http_cleanup_t            *cln;
    ngx_http_llm_mock_ctx_t       *ctx;
    ngx_http_llm_mock_loc_conf_t  *mlcf;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_llm_mock_module);

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_llm_mock_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_set_ctx(r, ctx, ngx_http_llm_mock_module);

    if (mlcf->delay || mlcf->interval) {
        ctx->timer.handler = ngx_http_llm_mock_timer_handler;
        ctx->timer.data = r;
        ctx->timer.log = r->connection->log;

        cln = ngx_http_cleanup_add(r, 0);
        if (cln == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        cln->handler = ngx_http_llm_mock_cleanup;
        cln->data = ctx;
    }

    rc = ngx_http_read_client_request_body(r, ngx_http_llm_mock_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_llm_mock_body_handler(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_http_llm_mock_ctx_t       *ctx;
    ngx_http_llm_mock_loc_conf_t  *mlcf;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_llm_mock_module);
    ctx = ngx_http_get_module_ctx(r, ngx_http_llm_mock_module);

    rc = ngx_http_llm_mock_prepare(r, mlcf, ctx);

    if (rc != NGX_OK) {
        ngx_http_finalize_request(r, rc);
        return;
    }

    if (mlcf->delay) {
        ngx_add_timer(&ctx->timer, mlcf->delay);

        r->read_event_handler = ngx_http_test_reading;
        r->write_event_handler = ngx_http_llm_mock_writer;

        return;
    }

    ngx_http_llm_mock_send(r, ctx);
}


static ngx_int_t
ngx_http_llm_mock_prepare(ngx_http_request_t *r,
    ngx_http_llm_mock_loc_conf_t *mlcf, ngx_http_llm_mock_ctx_t *ctx)
{
    char                          *tpl;
    u_char                        *p, *last;
    ngx_int_t                      rc;
    ngx_str_t                      body, uri, field;
    ngx_uint_t                     status;
    ngx_chain_t                   *cl;
    ngx_http_llm_mock_api_t       *api;
    ngx_http_llm_mock_req_t        rq;
    ngx_http_llm_mock_endpoint_t  *ep;

    /* X-Mock-Uri: the request path exactly as received, without args */

    uri.data = r->unparsed_uri.data;
    last = r->unparsed_uri.data + r->unparsed_uri.len;

    for (p = uri.data; p < last; p++) {
        if (*p == '?' || *p < 0x20 || *p == 0x7f) {
            break;
        }
    }

    uri.len = p - uri.data;

    if (ngx_http_llm_mock_add_header(r, "X-Mock-Uri", sizeof("X-Mock-Uri") - 1,
                                     &uri)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    switch (mlcf->echo) {

    case NGX_HTTP_LLM_MOCK_ECHO_BODY:
        rc = ngx_http_llm_mock_echo_body(r, ctx);
        break;

    case NGX_HTTP_LLM_MOCK_ECHO_HEADERS:
        rc = ngx_http_llm_mock_echo_headers(r, ctx);
        break;

    default: /* NGX_HTTP_LLM_MOCK_ECHO_OFF */

        ep = ngx_http_llm_mock_endpoint(r, mlcf, &api);

        if (ep == NULL) {
            rc = ngx_http_llm_mock_error(r, mlcf, ctx, api,
                                         NGX_HTTP_NOT_FOUND, 1);
            break;
        }

        if (api->check && (status = api->check(r, &tpl)) != 0) {
            rc = ngx_http_llm_mock_refuse(r, ctx, tpl, status, NULL);
            break;
        }

        if (mlcf->status != NGX_HTTP_OK) {
            rc = ngx_http_llm_mock_error(r, mlcf, ctx, api, mlcf->status, 0);
            break;
        }

        if (ngx_http_llm_mock_read_body(r, &body) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (api->fields
            && ngx_http_llm_mock_unknown_field(&body, api->fields, &field))
        {
            rc = ngx_http_llm_mock_refuse(r, ctx, api->unknown,
                                          NGX_HTTP_BAD_REQUEST, &field);
            break;
        }

        /* a named API is strict about each endpoint's fields too */

        tpl = mlcf->api ? ngx_http_llm_mock_endpoint_field(mlcf->api, ep,
                                                           &body, &field)
                        : NULL;
        if (tpl) {
            rc = ngx_http_llm_mock_refuse(r, ctx, tpl, NGX_HTTP_BAD_REQUEST,
                                          &field);
            break;
        }

        ngx_memzero(&rq, sizeof(ngx_http_llm_mock_req_t));

        ngx_http_llm_mock_scan(body.data, body.data + body.len, &rq);

        if (rq.model.data == NULL) {
            rq.model = ngx_http_llm_mock_default_model;
        }

        rc = ngx_http_llm_mock_reply(r, mlcf, ctx, ep, &rq, body.len);
    }

    if (rc != NGX_OK) {
        return rc;
    }

    if (mlcf->cut < 0) {
        return NGX_OK;
    }

    ctx->cut = 1;

    if (!ctx->stream) {
        return ngx_http_llm_mock_trim(r, ctx,
                                      r->headers_out.content_length_n / 2);
    }

    /* never send the terminating chunk */

    for (cl = ctx->out; cl; cl = cl->next) {
        cl->buf->last_buf = 0;
        cl->buf->last_in_chain = 0;
    }

    return NGX_OK;
}


static void
ngx_http_llm_mock_send(ngx_http_request_t *r, ngx_http_llm_mock_ctx_t *ctx)
{
    ngx_int_t                      rc;
    ngx_uint_t                     n;
    ngx_chain_t                   *cl, *in;
    ngx_http_llm_mock_loc_conf_t  *mlcf;

    if (!ctx->header_sent) {
        ctx->header_sent = 1;

        rc = ngx_http_send_header(r);

        if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
            ngx_http_finalize_request(r, rc);
            return;
        }
    }

    if (!ctx->stream) {
        rc = ngx_http_output_filter(r, ctx->out);
        ctx->out = NULL;

        if (ctx->cut && rc != NGX_ERROR) {
            ngx_http_llm_mock_cut(r, ctx);
            return;
        }

        ngx_http_finalize_request(r, rc);
        return;
    }

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_llm_mock_module);

    rc = NGX_OK;

    while (ctx->out) {

        if (ctx->cut && ctx->sent == (ngx_uint_t) mlcf->cut) {
            ngx_http_llm_mock_cut(r, ctx);
            return;
        }

        /*
         * with an interval, one event per pass; without, all the events
         * (up to the cut point) at once, still as separate flushed buffers
         */

        cl = ctx->out;
        n = 1;

        while (mlcf->interval == 0
               && cl->next
               && !(ctx->cut && ctx->sent + n == (ngx_uint_t) mlcf->cut))
        {
            cl = cl->next;
            n++;
        }

        in = ctx->out;
        ctx->out = cl->next;
        cl->next = NULL;

        rc = ngx_http_output_filter(r, in);

        if (rc == NGX_ERROR) {
            ngx_http_finalize_request(r, NGX_ERROR);
            return;
        }

        ctx->sent += n;

        if (ctx->out && mlcf->interval) {
            ngx_add_timer(&ctx->timer, mlcf->interval);

            r->read_event_handler = ngx_http_test_reading;

            if (ngx_http_llm_mock_arm(r) != NGX_OK) {
                ngx_http_finalize_request(r, NGX_ERROR);
            }

            return;
        }
    }

    if (ctx->cut) {
        ngx_http_llm_mock_cut(r, ctx);
        return;
    }

    ngx_http_finalize_request(r, rc);
}


static void
ngx_http_llm_mock_cut(ngx_http_request_t *r, ngx_http_llm_mock_ctx_t *ctx)
{
    ngx_buf_t    *b;
    ngx_chain_t   out;

    /* the header may still be postponed in the write filter */

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        ngx_http_finalize_request(r, NGX_ERROR);
        return;
    }

    b->flush = 1;

    out.buf = b;
    out.next = NULL;

    if (ngx_http_output_filter(r, &out) == NGX_ERROR) {
        ngx_http_finalize_request(r, NGX_ERROR);
        return;
    }

    if (r->buffered || r->connection->buffered) {

        /* let the already generated part reach the client first */

        ctx->cut_pending = 1;
        r->read_event_handler = ngx_http_test_reading;

        if (ngx_http_llm_mock_arm(r) != NGX_OK) {
            ngx_http_finalize_request(r, NGX_ERROR);
        }

        return;
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "llm mock: cutting the response");

    ngx_http_finalize_request(r, NGX_ERROR);
}


static ngx_int_t
ngx_http_llm_mock_arm(ngx_http_request_t *r)
{
    ngx_event_t               *wev;
    ngx_connection_t          *c;
    ngx_http_core_loc_conf_t  *clcf;

    c = r->connection;
    wev = c->write;

    r->write_event_handler = ngx_http_llm_mock_writer;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (wev->delayed) {
        /* limit_rate: the write filter has set its own timer */
        return ngx_handle_write_event(wev, clcf->send_lowat);
    }

    if (r->buffered || c->buffered) {
        ngx_add_timer(wev, clcf->send_timeout);
        return ngx_handle_write_event(wev, clcf->send_lowat);
    }

    if (wev->timer_set) {
        ngx_del_timer(wev);
    }

    return ngx_handle_write_event(wev, 0);
}


static void
ngx_http_llm_mock_writer(ngx_http_request_t *r)
{
    ngx_event_t              *wev;
    ngx_connection_t         *c;
    ngx_http_llm_mock_ctx_t  *ctx;

    c = r->connection;
    wev = c->write;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, c->log, 0, "llm mock writer");

    if (wev->timedout) {
        ngx_log_error(NGX_LOG_INFO, c->log, NGX_ETIMEDOUT,
                      "client timed out");
        c->timedout = 1;
        ngx_http_finalize_request(r, NGX_HTTP_REQUEST_TIME_OUT);
        return;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_llm_mock_module);

    if (ctx->header_sent && !wev->delayed && (r->buffered || c->buffered)) {
        if (ngx_http_output_filter(r, NULL) == NGX_ERROR) {
            ngx_http_finalize_request(r, NGX_ERROR);
            return;
        }
    }

    if (ngx_http_llm_mock_arm(r) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_ERROR);
        return;
    }

    if (ctx->cut_pending && !r->buffered && !c->buffered) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, c->log, 0,
                       "llm mock: cutting the response");

        ngx_http_finalize_request(r, NGX_ERROR);
    }
}


static void
ngx_http_llm_mock_timer_handler(ngx_event_t *ev)
{
    ngx_connection_t         *c;
    ngx_http_request_t       *r;
    ngx_http_llm_mock_ctx_t  *ctx;

    r = ev->data;
    c = r->connection;

    ngx_http_set_log_request(c->log, r);

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, c->log, 0, "llm mock timer");

    ctx = ngx_http_get_module_ctx(r, ngx_http_llm_mock_module);

    if (ctx->cut_pending) {
        /* cannot happen: no timer is armed while a cut is pending */
        return;
    }

    ngx_http_llm_mock_send(r, ctx);

    ngx_http_run_posted_requests(c);
}


static void
ngx_http_llm_mock_cleanup(void *data)
{
    ngx_http_llm_mock_ctx_t  *ctx = data;

    if (ctx->timer.timer_set) {
        ngx_del_timer(&ctx->timer);
    }
}



static ngx_int_t
ngx_http_llm_mock_read_body(ngx_http_request_t *r, ngx_str_t *body)
{
    off_t         size;
    u_char       *p;
    size_t        len;
    ssize_t       n;
    ngx_buf_t    *b, *mem;
    ngx_chain_t  *cl;

    body->len = 0;
    body->data = NULL;

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    len = 0;
    mem = NULL;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        size = ngx_buf_size(cl->buf);

        if (size == 0) {
            continue;
        }

        if (mem == NULL && len == 0 && ngx_buf_in_memory(cl->buf)) {
            mem = cl->buf;

        } else {
            mem = NULL;
        }

        len += (size_t) size;
    }

    if (len == 0) {
        return NGX_OK;
    }

    if (mem) {
        /* the usual case: the whole body is in a single memory buffer */
        body->data = mem->pos;
        body->len = len;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    body->data = p;
    body->len = len;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (ngx_buf_size(b) == 0) {
            continue;
        }

        if (ngx_buf_in_memory(b)) {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
            continue;
        }

        size = b->file_last - b->file_pos;

        n = ngx_read_file(b->file, p, (size_t) size, b->file_pos);

        if (n == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (n != size) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          ngx_read_file_n " read only %z of %O from \"%V\"",
                          n, size, &b->file->name);
            return NGX_ERROR;
        }

        p += n;
    }

    return NGX_OK;
}


/*
 * A single cheap pass over the body: every '"' is a potential key start;
 * "model" (first string value wins), "stream" and "include_usage" (true)
 * are recognized, anything else is skipped with memchr().
 */

static void
ngx_http_llm_mock_scan(u_char *p, u_char *end, ngx_http_llm_mock_req_t *rq)
{
    u_char  *v, *s;
    size_t   n;

    while (p < end) {

        p = memchr(p, '"', end - p);
        if (p == NULL) {
            return;
        }

        p++;
        n = end - p;

        if (n >= sizeof("model\"") - 1
            && rq->model.data == NULL
            && ngx_strncmp(p, "model\"", sizeof("model\"") - 1) == 0)
        {
            v = ngx_http_llm_mock_skip_colon(p + sizeof("model\"") - 1, end);

            if (v == NULL || *v != '"') {
                continue;
            }

            for (s = ++v; s < end; s++) {
                if (*s == '\\') {
                    s++;
                    continue;
                }

                if (*s == '"') {
                    break;
                }
            }

            if (s >= end) {
                return;
            }

            rq->model.data = v;
            rq->model.len = s - v;

            p = s + 1;
            continue;
        }

        if (n >= sizeof("stream\"") - 1
            && ngx_strncmp(p, "stream\"", sizeof("stream\"") - 1) == 0)
        {
            v = ngx_http_llm_mock_skip_colon(p + sizeof("stream\"") - 1, end);

            if (v && end - v >= 4 && ngx_strncmp(v, "true", 4) == 0) {
                rq->stream = 1;
            }

            continue;
        }

        if (n >= sizeof("include_usage\"") - 1
            && ngx_strncmp(p, "include_usage\"", sizeof("include_usage\"") - 1)
               == 0)
        {
            v = ngx_http_llm_mock_skip_colon(
                                 p + sizeof("include_usage\"") - 1, end);

            if (v && end - v >= 4 && ngx_strncmp(v, "true", 4) == 0) {
                rq->include_usage = 1;
            }
        }
    }
}


/* skips optional white space, ':' and optional white space */

static u_char *
ngx_http_llm_mock_skip_colon(u_char *p, u_char *end)
{
    ngx_uint_t  colon;

    colon = 0;

    for ( /* void */ ; p < end; p++) {
        switch (*p) {

        case ' ':
        case '\t':
        case '\r':
        case '\n':
            break;

        case ':':
            if (colon) {
                return NULL;
            }

            colon = 1;
            break;

        default:
            return colon ? p : NULL;
        }
    }

    return NULL;
}



static ngx_int_t
ngx_http_llm_mock_echo_body(ngx_http_request_t *r,
    ngx_http_llm_mock_ctx_t *ctx)
{
    off_t         len;
    ngx_buf_t    *b;
    ngx_chain_t  *cl, *in, **ll;

    len = 0;
    ll = &ctx->out;
    b = NULL;

    in = r->request_body ? r->request_body->bufs : NULL;

    for ( /* void */ ; in; in = in->next) {

        if (ngx_buf_size(in->buf) == 0) {
            continue;
        }

        b = ngx_alloc_buf(r->pool);
        if (b == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        *b = *in->buf;

        b->shadow = NULL;
        b->recycled = 0;
        b->flush = 0;
        b->sync = 0;
        b->last_buf = 0;
        b->last_in_chain = 0;

        len += ngx_buf_size(b);

        cl = ngx_alloc_chain_link(r->pool);
        if (cl == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        cl->buf = b;
        *ll = cl;
        ll = &cl->next;
    }

    if (b == NULL) {
        b = ngx_calloc_buf(r->pool);
        if (b == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        cl = ngx_alloc_chain_link(r->pool);
        if (cl == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        cl->buf = b;
        *ll = cl;
        ll = &cl->next;
    }

    *ll = NULL;

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = len;

    ngx_http_llm_mock_set_type(r, "application/octet-stream",
                               sizeof("application/octet-stream") - 1);

    return NGX_OK;
}


static ngx_int_t
ngx_http_llm_mock_echo_headers(ngx_http_request_t *r,
    ngx_http_llm_mock_ctx_t *ctx)
{
    u_char           *p;
    size_t            len;
    ngx_buf_t        *b;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    len = r->method_name.len + 1 + r->unparsed_uri.len + 1;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        len += h[i].key.len + sizeof(": ") - 1 + h[i].value.len + 1;
    }

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(b->last, r->method_name.data, r->method_name.len);
    *p++ = ' ';
    p = ngx_cpymem(p, r->unparsed_uri.data, r->unparsed_uri.len);
    *p++ = '\n';

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        p = ngx_cpymem(p, h[i].key.data, h[i].key.len);
        *p++ = ':';
        *p++ = ' ';
        p = ngx_cpymem(p, h[i].value.data, h[i].value.len);
        *p++ = '\n';
    }

    b->last = p;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = len;

    ngx_http_llm_mock_set_type(r, "text/plain", sizeof("text/plain") - 1);

    return ngx_http_llm_mock_out(r, ctx, b);
}


/* cut=N for non-stream replies: keep only the first "size" bytes */

static ngx_int_t
ngx_http_llm_mock_trim(ngx_http_request_t *r, ngx_http_llm_mock_ctx_t *ctx,
    off_t size)
{
    off_t         n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    for (cl = ctx->out; cl; cl = cl->next) {
        b = cl->buf;
        n = ngx_buf_size(b);

        if (n == 0 || n < size) {
            size -= n;

            if (cl->next) {
                continue;
            }
        }

        if (n > size) {
            if (ngx_buf_in_memory(b)) {
                b->last = b->pos + (size_t) size;

            } else {
                b->file_last = b->file_pos + size;
            }
        }

        b->last_buf = 0;
        b->last_in_chain = 1;
        b->flush = 1;

        if (ngx_buf_size(b) == 0) {
            /* nothing left to send in it, make it a pure flush buffer */
            ngx_memzero(b, sizeof(ngx_buf_t));
            b->flush = 1;
        }

        cl->next = NULL;
        break;
    }

    if (ctx->out == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_OK;
}
