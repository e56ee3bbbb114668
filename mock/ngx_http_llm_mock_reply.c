
/*
 * ngx_http_llm_mock_module: replies built from an API's tables.
 *
 * One renderer fills a template's placeholders; it runs twice, first
 * without a destination to learn the size, so every reply is one exactly
 * sized pool buffer.  One stream generator walks an endpoint's event
 * template; each event becomes its own flushed buffer.
 */


#include "ngx_http_llm_mock.h"


static ngx_int_t ngx_http_llm_mock_json(ngx_http_request_t *r,
    ngx_http_llm_mock_ctx_t *ctx, char *tpl, ngx_http_llm_mock_vars_t *v);
static ngx_int_t ngx_http_llm_mock_stream(ngx_http_request_t *r,
    ngx_http_llm_mock_loc_conf_t *mlcf, ngx_http_llm_mock_ctx_t *ctx,
    ngx_http_llm_mock_event_t *events, ngx_http_llm_mock_vars_t *v);
static size_t ngx_http_llm_mock_events(ngx_http_llm_mock_loc_conf_t *mlcf,
    ngx_http_llm_mock_event_t *ev, ngx_http_llm_mock_vars_t *v, u_char *p,
    ngx_buf_t *bufs, ngx_uint_t *n);
static size_t ngx_http_llm_mock_render(u_char *dst, char *tpl,
    ngx_http_llm_mock_vars_t *v);


/*
 * The endpoint whose suffix ends the URI, among the location's API's
 * (api=auto: every API's, in the order of ngx_http_llm_mock_apis[]).
 * *api is the API that answers, also when no endpoint matches.
 */

ngx_http_llm_mock_endpoint_t *
ngx_http_llm_mock_endpoint(ngx_http_request_t *r,
    ngx_http_llm_mock_loc_conf_t *mlcf, ngx_http_llm_mock_api_t **api)
{
    ngx_str_t                      *s;
    ngx_http_llm_mock_api_t       **a, *one[2];
    ngx_http_llm_mock_endpoint_t   *ep;

    if (mlcf->api) {
        one[0] = mlcf->api;
        one[1] = NULL;
        a = one;

    } else {
        a = ngx_http_llm_mock_apis;
    }

    *api = a[0];

    for ( /* void */ ; *a; a++) {
        for (ep = (*a)->endpoints; ep->suffix.len; ep++) {
            s = &ep->suffix;

            if (r->uri.len >= s->len
                && ngx_strncmp(r->uri.data + r->uri.len - s->len, s->data,
                               s->len)
                   == 0)
            {
                *api = *a;
                return ep;
            }
        }
    }

    return NULL;
}


ngx_int_t
ngx_http_llm_mock_reply(ngx_http_request_t *r,
    ngx_http_llm_mock_loc_conf_t *mlcf, ngx_http_llm_mock_ctx_t *ctx,
    ngx_http_llm_mock_endpoint_t *ep, ngx_http_llm_mock_req_t *rq,
    size_t body_len)
{
    ngx_uint_t                stream;
    ngx_http_llm_mock_vars_t  v;

    ngx_memzero(&v, sizeof(ngx_http_llm_mock_vars_t));

    v.model = rq->model;
    v.text = mlcf->text;
    v.usage = mlcf->usage ? 1 : 0;
    v.include_usage = rq->include_usage;

    if (mlcf->prompt_tokens >= 0) {
        v.prompt = mlcf->prompt_tokens;

    } else {
        v.prompt = ngx_max(body_len / 4, 1);
    }

    if (mlcf->completion_tokens >= 0) {
        v.completion = mlcf->completion_tokens;

    } else {
        v.completion = mlcf->words;
    }

    switch (ep->stream) {

    case NGX_HTTP_LLM_MOCK_STREAM_ALWAYS:
        stream = 1;
        break;

    case NGX_HTTP_LLM_MOCK_STREAM_NEVER:
        stream = 0;
        break;

    default: /* NGX_HTTP_LLM_MOCK_STREAM_BODY */
        stream = rq->stream;
    }

    if (stream && ep->events) {
        return ngx_http_llm_mock_stream(r, mlcf, ctx, ep->events, &v);
    }

    return ngx_http_llm_mock_json(r, ctx, ep->json, &v);
}


ngx_int_t
ngx_http_llm_mock_error(ngx_http_request_t *r,
    ngx_http_llm_mock_loc_conf_t *mlcf, ngx_http_llm_mock_ctx_t *ctx,
    ngx_http_llm_mock_api_t *api, ngx_uint_t status, ngx_uint_t unknown)
{
    u_char                          *p, *last;
    ngx_int_t                        rc;
    ngx_http_llm_mock_vars_t         v;
    ngx_http_llm_mock_error_type_t  *et;

    ngx_memzero(&v, sizeof(ngx_http_llm_mock_vars_t));

    v.status = status;

    for (et = api->error_types; et->status; et++) {
        if (et->status == status) {
            break;
        }
    }

    v.error_type = et->type;

    if (unknown) {
        /* the method and the path as received, without the arguments */

        last = r->unparsed_uri.data + r->unparsed_uri.len;

        for (p = r->unparsed_uri.data; p < last && *p != '?'; p++) {
            /* void */
        }

        v.request.len = r->method_name.len + 1 + (p - r->unparsed_uri.data);
        v.request.data = ngx_pnalloc(r->pool, v.request.len);
        if (v.request.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        last = ngx_cpymem(v.request.data, r->method_name.data,
                          r->method_name.len);
        *last++ = ' ';
        ngx_memcpy(last, r->unparsed_uri.data, p - r->unparsed_uri.data);
    }

    rc = ngx_http_llm_mock_json(r, ctx, unknown ? api->not_found : api->error,
                                &v);
    if (rc != NGX_OK) {
        return rc;
    }

    r->headers_out.status = status;

    if (status == 529) {
        ngx_str_set(&r->headers_out.status_line, "529 Overloaded");
    }

    if (!unknown
        && mlcf->retry_after.len
        && ngx_http_llm_mock_add_header(r, "Retry-After",
                                        sizeof("Retry-After") - 1,
                                        &mlcf->retry_after)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_OK;
}


/* a request the API refuses (check, unknown field): tpl with status */

ngx_int_t
ngx_http_llm_mock_refuse(ngx_http_request_t *r, ngx_http_llm_mock_ctx_t *ctx,
    char *tpl, ngx_uint_t status, ngx_str_t *field)
{
    ngx_int_t                 rc;
    ngx_http_llm_mock_vars_t  v;

    ngx_memzero(&v, sizeof(ngx_http_llm_mock_vars_t));

    v.status = status;

    if (field) {
        v.field = *field;
    }

    rc = ngx_http_llm_mock_json(r, ctx, tpl, &v);
    if (rc != NGX_OK) {
        return rc;
    }

    r->headers_out.status = status;

    return NGX_OK;
}


/*
 * Whether the body's top-level object has a key not in fields (name is
 * set to it).  A small JSON walker: strings, nesting; enough for bodies
 * the router built (a body that is not an object has no unknown key).
 */

ngx_uint_t
ngx_http_llm_mock_unknown_field(ngx_str_t *body, char **fields,
    ngx_str_t *name)
{
    u_char      *p, *end, *k;
    char       **f;
    ngx_uint_t   depth, key;

    p = body->data;
    end = p + body->len;
    depth = 0;
    key = 0;

    for ( /* void */ ; p < end; p++) {

        switch (*p) {

        case '"':
            for (k = ++p; p < end && *p != '"'; p++) {
                if (*p == '\\') {
                    p++;
                }
            }

            if (p >= end || depth != 1 || !key) {
                break;
            }

            key = 0;

            for (f = fields; *f; f++) {
                if ((size_t) (p - k) == ngx_strlen(*f)
                    && ngx_strncmp(k, *f, p - k) == 0)
                {
                    break;
                }
            }

            if (*f == NULL) {
                name->data = k;
                name->len = p - k;
                return 1;
            }

            break;

        case '{':
            key = (depth++ == 0);
            break;

        case '[':
            depth++;
            break;

        case '}':
        case ']':
            depth--;
            break;

        case ',':
            key = (depth == 1);
            break;
        }
    }

    return 0;
}


static ngx_int_t
ngx_http_llm_mock_json(ngx_http_request_t *r, ngx_http_llm_mock_ctx_t *ctx,
    char *tpl, ngx_http_llm_mock_vars_t *v)
{
    size_t      len;
    ngx_buf_t  *b;

    len = ngx_http_llm_mock_render(NULL, tpl, v);

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last += ngx_http_llm_mock_render(b->last, tpl, v);

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = len;

    ngx_http_llm_mock_set_type(r, "application/json",
                               sizeof("application/json") - 1);

    return ngx_http_llm_mock_out(r, ctx, b);
}


static ngx_int_t
ngx_http_llm_mock_stream(ngx_http_request_t *r,
    ngx_http_llm_mock_loc_conf_t *mlcf, ngx_http_llm_mock_ctx_t *ctx,
    ngx_http_llm_mock_event_t *events, ngx_http_llm_mock_vars_t *v)
{
    u_char       *p;
    size_t        len;
    ngx_str_t     value;
    ngx_buf_t    *bufs;
    ngx_uint_t    i, n;
    ngx_chain_t  *cl, **ll;

    n = 0;
    len = ngx_http_llm_mock_events(mlcf, events, v, NULL, NULL, &n);

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    bufs = ngx_pcalloc(r->pool, n * sizeof(ngx_buf_t));
    if (bufs == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = 0;
    (void) ngx_http_llm_mock_events(mlcf, events, v, p, bufs, &n);

    ll = &ctx->out;

    for (i = 0; i < n; i++) {
        cl = ngx_alloc_chain_link(r->pool);
        if (cl == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        cl->buf = &bufs[i];
        *ll = cl;
        ll = &cl->next;
    }

    *ll = NULL;

    bufs[n - 1].last_buf = (r == r->main) ? 1 : 0;
    bufs[n - 1].last_in_chain = 1;

    ctx->stream = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = -1;

    ngx_http_llm_mock_set_type(r, "text/event-stream",
                               sizeof("text/event-stream") - 1);

    ngx_str_set(&value, "no-cache");

    if (ngx_http_llm_mock_add_header(r, "Cache-Control",
                                     sizeof("Cache-Control") - 1, &value)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_OK;
}


/*
 * Walks an event template: counts the events in *n and returns their
 * size; with p, also writes them there, one buffer of bufs each.
 */

static size_t
ngx_http_llm_mock_events(ngx_http_llm_mock_loc_conf_t *mlcf,
    ngx_http_llm_mock_event_t *ev, ngx_http_llm_mock_vars_t *v, u_char *p,
    ngx_buf_t *bufs, ngx_uint_t *n)
{
    size_t      len, size;
    ngx_buf_t  *b;
    ngx_uint_t  i, count;

    len = 0;

    for ( /* void */ ; ev->data; ev++) {

        switch (ev->when) {

        case NGX_HTTP_LLM_MOCK_EACH_PIECE:
            count = mlcf->nchunks;
            break;

        case NGX_HTTP_LLM_MOCK_IF_USAGE_CHUNK:
            count = (v->include_usage && v->usage) ? 1 : 0;
            break;

        default: /* NGX_HTTP_LLM_MOCK_ONCE */
            count = 1;
        }

        for (i = 0; i < count; i++) {

            if (ev->when == NGX_HTTP_LLM_MOCK_EACH_PIECE) {
                v->piece = mlcf->chunks[i];
            }

            size = ngx_http_llm_mock_render(p, ev->data, v);

            if (p) {
                b = &bufs[*n];

                b->start = p;
                b->pos = p;
                b->last = p + size;
                b->end = p + size;
                b->memory = 1;
                b->flush = 1;

                p += size;
            }

            (*n)++;
            len += size;
        }
    }

    return len;
}


/*
 * Fills the placeholders of tpl (see ngx_http_llm_mock.h) into dst and
 * returns the length; with dst NULL, only the length.
 */

static size_t
ngx_http_llm_mock_render(u_char *dst, char *tpl, ngx_http_llm_mock_vars_t *v)
{
    char        *t;
    u_char      *s, num[NGX_INT_T_LEN];
    size_t       len, n;
    ngx_uint_t   skip;

    len = 0;
    skip = 0;

    for (t = tpl; *t; t++) {

        if (*t != '%') {
            if (!skip) {
                if (dst) {
                    *dst++ = *t;
                }

                len++;
            }

            continue;
        }

        if (*++t == '\0') {
            break;
        }

        if (*t == '[') {
            if (*++t == '\0') {
                break;
            }

            skip = (*t == 'u') ? !v->usage : !v->include_usage;
            continue;
        }

        if (*t == ']') {
            skip = 0;
            continue;
        }

        if (skip) {
            continue;
        }

        s = num;
        n = 0;

        switch (*t) {

        case 'm':
            s = v->model.data;
            n = v->model.len;
            break;

        case 't':
            s = v->text.data;
            n = v->text.len;
            break;

        case 'c':
            s = v->piece.data;
            n = v->piece.len;
            break;

        case 'p':
            n = ngx_sprintf(num, "%ui", v->prompt) - num;
            break;

        case 'o':
            n = ngx_sprintf(num, "%ui", v->completion) - num;
            break;

        case 's':
            n = ngx_sprintf(num, "%ui", v->prompt + v->completion) - num;
            break;

        case 'n':
            n = ngx_sprintf(num, "%ui", v->status) - num;
            break;

        case 'e':
            s = (u_char *) v->error_type;
            n = ngx_strlen(v->error_type);
            break;

        case 'r':
        case 'f':
            s = (*t == 'r') ? v->request.data : v->field.data;
            n = (*t == 'r') ? v->request.len : v->field.len;

            if (dst) {
                dst = (u_char *) ngx_escape_json(dst, s, n);
            }

            len += n + ngx_escape_json(NULL, s, n);
            continue;

        default: /* '%' */
            num[0] = '%';
            n = 1;
        }

        if (dst) {
            dst = ngx_cpymem(dst, s, n);
        }

        len += n;
    }

    return len;
}


/*
 * The reply's output, used here and by the handler (echo, trim): the
 * body in one buffer, a header, the content type.
 */

ngx_int_t
ngx_http_llm_mock_out(ngx_http_request_t *r, ngx_http_llm_mock_ctx_t *ctx,
    ngx_buf_t *b)
{
    ngx_chain_t  *cl;

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    cl = ngx_alloc_chain_link(r->pool);
    if (cl == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cl->buf = b;
    cl->next = NULL;

    ctx->out = cl;

    return NGX_OK;
}


ngx_int_t
ngx_http_llm_mock_add_header(ngx_http_request_t *r, char *name, size_t len,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.len = len;
    h->key.data = (u_char *) name;
    h->value = *value;
    h->lowcase_key = NULL;

#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    return NGX_OK;
}


void
ngx_http_llm_mock_set_type(ngx_http_request_t *r, char *type, size_t len)
{
    r->headers_out.content_type.len = len;
    r->headers_out.content_type.data = (u_char *) type;
    r->headers_out.content_type_len = len;
    r->headers_out.content_type_lowcase = NULL;
}
