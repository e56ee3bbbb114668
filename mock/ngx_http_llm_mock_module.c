
/*
 * ngx_http_llm_mock_module
 *
 * An offline mock LLM provider (OpenAI and Anthropic wire formats) used by
 * the tests, the demo and the benchmark of ngx_http_llm_router_module.
 *
 * The request body is only scanned (no JSON parser), and every response is
 * built into a single pool buffer, so the mock stays cheap enough to be
 * driven at high request rates.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


#define NGX_HTTP_LLM_MOCK_API_AUTO       0
#define NGX_HTTP_LLM_MOCK_API_OPENAI     1
#define NGX_HTTP_LLM_MOCK_API_ANTHROPIC  2

#define NGX_HTTP_LLM_MOCK_ECHO_OFF       0
#define NGX_HTTP_LLM_MOCK_ECHO_BODY      1
#define NGX_HTTP_LLM_MOCK_ECHO_HEADERS   2

#define NGX_HTTP_LLM_MOCK_UNKNOWN        0
#define NGX_HTTP_LLM_MOCK_CHAT           1
#define NGX_HTTP_LLM_MOCK_COMPLETIONS    2
#define NGX_HTTP_LLM_MOCK_EMBEDDINGS     3
#define NGX_HTTP_LLM_MOCK_RESPONSES      4
#define NGX_HTTP_LLM_MOCK_MESSAGES       5

/* upper bounds of the constant parts of the generated JSON / SSE events */
#define NGX_HTTP_LLM_MOCK_JSON_MAX       1024
#define NGX_HTTP_LLM_MOCK_EVENT_MAX      256
#define NGX_HTTP_LLM_MOCK_EVENT_EXTRA    1024
#define NGX_HTTP_LLM_MOCK_ERROR_MAX      256

/* events besides the per-word ones, at most */
#define NGX_HTTP_LLM_MOCK_EVENTS_FIXED   8

#define ngx_http_llm_mock_is_space(c)                                         \
    ((c) == ' ' || (c) == '\t' || (c) == '\r' || (c) == '\n')

#define NGX_HTTP_LLM_MOCK_DEFAULT_MODEL    "mock-model"
#define NGX_HTTP_LLM_MOCK_DEFAULT_CONTENT  "Hello from the mock provider"


typedef struct {
    ngx_flag_t                 enabled;

    ngx_uint_t                 api;
    ngx_uint_t                 status;
    ngx_msec_t                 delay;
    ngx_msec_t                 interval;
    ngx_int_t                  cut;
    ngx_uint_t                 echo;
    ngx_str_t                  retry_after;
    ngx_str_t                  content;
    ngx_int_t                  prompt_tokens;
    ngx_int_t                  completion_tokens;
    ngx_flag_t                 usage;

    /* derived from content */
    ngx_str_t                  text;       /* JSON-escaped content */
    ngx_str_t                 *chunks;     /* JSON-escaped stream pieces */
    ngx_uint_t                 nchunks;
    ngx_uint_t                 words;
} ngx_http_llm_mock_loc_conf_t;


typedef struct {
    ngx_event_t                timer;
    ngx_chain_t               *out;
    ngx_uint_t                 sent;

    unsigned                   header_sent:1;
    unsigned                   stream:1;
    unsigned                   cut:1;
    unsigned                   cut_pending:1;
} ngx_http_llm_mock_ctx_t;


typedef struct {
    ngx_str_t                  model;
    ngx_uint_t                 prompt;
    ngx_uint_t                 completion;

    unsigned                   stream:1;
    unsigned                   include_usage:1;
} ngx_http_llm_mock_req_t;


typedef struct {
    u_char                    *start;
    u_char                    *last;
    u_char                    *end;
    ngx_buf_t                 *bufs;
    ngx_uint_t                 nbufs;
    ngx_uint_t                 n;
    ngx_chain_t               *out;
    ngx_chain_t              **ll;
    ngx_http_request_t        *r;
} ngx_http_llm_mock_sse_t;


static ngx_int_t ngx_http_llm_mock_handler(ngx_http_request_t *r);
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

static ngx_uint_t ngx_http_llm_mock_endpoint(ngx_http_request_t *r,
    ngx_http_llm_mock_loc_conf_t *mlcf, ngx_uint_t *anthropic);
static ngx_int_t ngx_http_llm_mock_read_body(ngx_http_request_t *r,
    ngx_str_t *body);
static void ngx_http_llm_mock_scan(u_char *p, u_char *end,
    ngx_http_llm_mock_req_t *rq);
static u_char *ngx_http_llm_mock_skip_colon(u_char *p, u_char *end);

static ngx_int_t ngx_http_llm_mock_error(ngx_http_request_t *r,
    ngx_http_llm_mock_loc_conf_t *mlcf, ngx_http_llm_mock_ctx_t *ctx,
    ngx_uint_t status, ngx_uint_t anthropic, ngx_uint_t unknown);
static ngx_int_t ngx_http_llm_mock_echo_body(ngx_http_request_t *r,
    ngx_http_llm_mock_ctx_t *ctx);
static ngx_int_t ngx_http_llm_mock_echo_headers(ngx_http_request_t *r,
    ngx_http_llm_mock_ctx_t *ctx);
static ngx_int_t ngx_http_llm_mock_json(ngx_http_request_t *r,
    ngx_http_llm_mock_loc_conf_t *mlcf, ngx_http_llm_mock_ctx_t *ctx,
    ngx_http_llm_mock_req_t *rq, ngx_uint_t kind);
static u_char *ngx_http_llm_mock_response_object(u_char *p, u_char *end,
    ngx_http_llm_mock_loc_conf_t *mlcf, ngx_http_llm_mock_req_t *rq);
static ngx_int_t ngx_http_llm_mock_sse(ngx_http_request_t *r,
    ngx_http_llm_mock_loc_conf_t *mlcf, ngx_http_llm_mock_ctx_t *ctx,
    ngx_http_llm_mock_req_t *rq, ngx_uint_t kind);
static void ngx_http_llm_mock_sse_openai(ngx_http_llm_mock_sse_t *sse,
    ngx_http_llm_mock_loc_conf_t *mlcf, ngx_http_llm_mock_req_t *rq,
    ngx_uint_t kind);
static void ngx_http_llm_mock_sse_responses(ngx_http_llm_mock_sse_t *sse,
    ngx_http_llm_mock_loc_conf_t *mlcf, ngx_http_llm_mock_req_t *rq);
static void ngx_http_llm_mock_sse_anthropic(ngx_http_llm_mock_sse_t *sse,
    ngx_http_llm_mock_loc_conf_t *mlcf, ngx_http_llm_mock_req_t *rq);
static ngx_int_t ngx_http_llm_mock_sse_event(ngx_http_llm_mock_sse_t *sse);
static ngx_int_t ngx_http_llm_mock_trim(ngx_http_request_t *r,
    ngx_http_llm_mock_ctx_t *ctx, off_t size);
static ngx_int_t ngx_http_llm_mock_add_header(ngx_http_request_t *r,
    char *name, size_t len, ngx_str_t *value);
static void ngx_http_llm_mock_set_type(ngx_http_request_t *r, char *type,
    size_t len);

static void *ngx_http_llm_mock_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_llm_mock_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_llm_mock_init_content(ngx_conf_t *cf,
    ngx_http_llm_mock_loc_conf_t *mlcf);
static ngx_int_t ngx_http_llm_mock_escape(ngx_conf_t *cf, ngx_str_t *dst,
    u_char *src, u_char *end);
static char *ngx_http_llm_mock(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_llm_mock_invalid(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_str_t *value, char *reason);


static ngx_command_t  ngx_http_llm_mock_commands[] = {

    { ngx_string("llm_mock"),
      NGX_HTTP_LOC_CONF|NGX_CONF_ANY,
      ngx_http_llm_mock,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_llm_mock_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_llm_mock_create_loc_conf,     /* create location configuration */
    ngx_http_llm_mock_merge_loc_conf       /* merge location configuration */
};


ngx_module_t  ngx_http_llm_mock_module = {
    NGX_MODULE_V1,
    &ngx_http_llm_mock_module_ctx,         /* module context */
    ngx_http_llm_mock_commands,            /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_str_t  ngx_http_llm_mock_default_model =
    ngx_string(NGX_HTTP_LLM_MOCK_DEFAULT_MODEL);


/* request handling */

static ngx_int_t
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
    u_char                   *p, *last;
    ngx_int_t                 rc;
    ngx_str_t                 body, uri;
    ngx_uint_t                kind, anthropic;
    ngx_chain_t              *cl;
    ngx_http_llm_mock_req_t   rq;

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

        kind = ngx_http_llm_mock_endpoint(r, mlcf, &anthropic);

        if (kind == NGX_HTTP_LLM_MOCK_UNKNOWN) {
            rc = ngx_http_llm_mock_error(r, mlcf, ctx, NGX_HTTP_NOT_FOUND,
                                         anthropic, 1);
            break;
        }

        if (mlcf->status != NGX_HTTP_OK) {
            rc = ngx_http_llm_mock_error(r, mlcf, ctx, mlcf->status,
                                         anthropic, 0);
            break;
        }

        if (ngx_http_llm_mock_read_body(r, &body) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_memzero(&rq, sizeof(ngx_http_llm_mock_req_t));

        ngx_http_llm_mock_scan(body.data, body.data + body.len, &rq);

        if (rq.model.data == NULL) {
            rq.model = ngx_http_llm_mock_default_model;
        }

        if (mlcf->prompt_tokens >= 0) {
            rq.prompt = mlcf->prompt_tokens;

        } else {
            rq.prompt = ngx_max(body.len / 4, 1);
        }

        if (mlcf->completion_tokens >= 0) {
            rq.completion = mlcf->completion_tokens;

        } else {
            rq.completion = mlcf->words;
        }

        if (rq.stream && kind != NGX_HTTP_LLM_MOCK_EMBEDDINGS) {
            rc = ngx_http_llm_mock_sse(r, mlcf, ctx, &rq, kind);

        } else {
            rc = ngx_http_llm_mock_json(r, mlcf, ctx, &rq, kind);
        }
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


/* request analysis */

static ngx_uint_t
ngx_http_llm_mock_endpoint(ngx_http_request_t *r,
    ngx_http_llm_mock_loc_conf_t *mlcf, ngx_uint_t *anthropic)
{
    ngx_str_t   *s;
    ngx_uint_t   i, kind;

    static ngx_str_t  suffixes[] = {
        ngx_null_string,
        ngx_string("/chat/completions"),
        ngx_string("/completions"),
        ngx_string("/embeddings"),
        ngx_string("/responses"),
        ngx_string("/messages")
    };

    kind = NGX_HTTP_LLM_MOCK_UNKNOWN;

    for (i = NGX_HTTP_LLM_MOCK_CHAT; i <= NGX_HTTP_LLM_MOCK_MESSAGES; i++) {
        s = &suffixes[i];

        if (r->uri.len >= s->len
            && ngx_strncmp(r->uri.data + r->uri.len - s->len, s->data, s->len)
               == 0)
        {
            kind = i;
            break;
        }
    }

    switch (mlcf->api) {

    case NGX_HTTP_LLM_MOCK_API_ANTHROPIC:
        *anthropic = 1;

        switch (kind) {
        case NGX_HTTP_LLM_MOCK_CHAT:
        case NGX_HTTP_LLM_MOCK_COMPLETIONS:
        case NGX_HTTP_LLM_MOCK_MESSAGES:
            return NGX_HTTP_LLM_MOCK_MESSAGES;
        default:
            return NGX_HTTP_LLM_MOCK_UNKNOWN;
        }

    case NGX_HTTP_LLM_MOCK_API_OPENAI:
        *anthropic = 0;

        if (kind == NGX_HTTP_LLM_MOCK_MESSAGES) {
            return NGX_HTTP_LLM_MOCK_CHAT;
        }

        return kind;

    default: /* NGX_HTTP_LLM_MOCK_API_AUTO */
        *anthropic = (kind == NGX_HTTP_LLM_MOCK_MESSAGES);
        return kind;
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


/* response generation */

static ngx_int_t
ngx_http_llm_mock_error(ngx_http_request_t *r,
    ngx_http_llm_mock_loc_conf_t *mlcf, ngx_http_llm_mock_ctx_t *ctx,
    ngx_uint_t status, ngx_uint_t anthropic, ngx_uint_t unknown)
{
    u_char       *p;
    char         *type;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    b = ngx_create_temp_buf(r->pool, NGX_HTTP_LLM_MOCK_ERROR_MAX);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = b->last;

    if (unknown) {

        if (anthropic) {
            p = ngx_slprintf(p, b->end,
                             "{\"type\":\"error\",\"error\":"
                             "{\"type\":\"not_found_error\","
                             "\"message\":\"mock: unknown endpoint\"}}");

        } else {
            p = ngx_slprintf(p, b->end,
                             "{\"error\":{\"message\":"
                             "\"mock: unknown endpoint\","
                             "\"type\":\"invalid_request_error\","
                             "\"param\":null,\"code\":\"unknown_url\"}}");
        }

    } else if (anthropic) {

        switch (status) {
        case 529:
            type = "overloaded_error";
            break;
        case NGX_HTTP_TOO_MANY_REQUESTS:
            type = "rate_limit_error";
            break;
        default:
            type = "api_error";
        }

        p = ngx_slprintf(p, b->end,
                         "{\"type\":\"error\",\"error\":{\"type\":\"%s\","
                         "\"message\":\"mock error %ui\"}}",
                         type, status);

    } else {
        p = ngx_slprintf(p, b->end,
                         "{\"error\":{\"message\":\"mock error %ui\","
                         "\"type\":\"server_error\",\"param\":null,"
                         "\"code\":null}}",
                         status);
    }

    b->last = p;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    cl = ngx_alloc_chain_link(r->pool);
    if (cl == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cl->buf = b;
    cl->next = NULL;

    ctx->out = cl;

    r->headers_out.status = status;
    r->headers_out.content_length_n = b->last - b->pos;

    if (status == 529) {
        ngx_str_set(&r->headers_out.status_line, "529 Overloaded");
    }

    ngx_http_llm_mock_set_type(r, "application/json",
                               sizeof("application/json") - 1);

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
    ngx_chain_t      *cl;
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
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    cl = ngx_alloc_chain_link(r->pool);
    if (cl == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cl->buf = b;
    cl->next = NULL;

    ctx->out = cl;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = len;

    ngx_http_llm_mock_set_type(r, "text/plain", sizeof("text/plain") - 1);

    return NGX_OK;
}


#define NGX_HTTP_LLM_MOCK_OPENAI_USAGE                                        \
    ",\"usage\":{\"prompt_tokens\":%ui,\"completion_tokens\":%ui,"            \
    "\"total_tokens\":%ui}"


static ngx_int_t
ngx_http_llm_mock_json(ngx_http_request_t *r,
    ngx_http_llm_mock_loc_conf_t *mlcf, ngx_http_llm_mock_ctx_t *ctx,
    ngx_http_llm_mock_req_t *rq, ngx_uint_t kind)
{
    u_char       *p, *end;
    size_t        len;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    len = NGX_HTTP_LLM_MOCK_JSON_MAX + rq->model.len + mlcf->text.len;

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = b->last;
    end = b->end;

    switch (kind) {

    case NGX_HTTP_LLM_MOCK_CHAT:
        p = ngx_slprintf(p, end,
                         "{\"id\":\"chatcmpl-mock\","
                         "\"object\":\"chat.completion\","
                         "\"created\":1700000000,\"model\":\"%V\","
                         "\"choices\":[{\"index\":0,\"message\":"
                         "{\"role\":\"assistant\",\"content\":\"%V\"},"
                         "\"finish_reason\":\"stop\"}]",
                         &rq->model, &mlcf->text);

        if (mlcf->usage) {
            p = ngx_slprintf(p, end, NGX_HTTP_LLM_MOCK_OPENAI_USAGE,
                             rq->prompt, rq->completion,
                             rq->prompt + rq->completion);
        }

        p = ngx_slprintf(p, end, "}");
        break;

    case NGX_HTTP_LLM_MOCK_COMPLETIONS:
        p = ngx_slprintf(p, end,
                         "{\"id\":\"cmpl-mock\","
                         "\"object\":\"text_completion\","
                         "\"created\":1700000000,\"model\":\"%V\","
                         "\"choices\":[{\"text\":\"%V\",\"index\":0,"
                         "\"finish_reason\":\"stop\"}]",
                         &rq->model, &mlcf->text);

        if (mlcf->usage) {
            p = ngx_slprintf(p, end, NGX_HTTP_LLM_MOCK_OPENAI_USAGE,
                             rq->prompt, rq->completion,
                             rq->prompt + rq->completion);
        }

        p = ngx_slprintf(p, end, "}");
        break;

    case NGX_HTTP_LLM_MOCK_EMBEDDINGS:
        p = ngx_slprintf(p, end,
                         "{\"object\":\"list\",\"data\":[{\"object\":"
                         "\"embedding\",\"index\":0,"
                         "\"embedding\":[0.1,0.2,0.3]}],\"model\":\"%V\"",
                         &rq->model);

        if (mlcf->usage) {
            p = ngx_slprintf(p, end,
                             ",\"usage\":{\"prompt_tokens\":%ui,"
                             "\"total_tokens\":%ui}",
                             rq->prompt, rq->prompt);
        }

        p = ngx_slprintf(p, end, "}");
        break;

    case NGX_HTTP_LLM_MOCK_RESPONSES:
        p = ngx_http_llm_mock_response_object(p, end, mlcf, rq);
        break;

    default: /* NGX_HTTP_LLM_MOCK_MESSAGES */
        p = ngx_slprintf(p, end,
                         "{\"id\":\"msg_mock\",\"type\":\"message\","
                         "\"role\":\"assistant\",\"model\":\"%V\","
                         "\"content\":[{\"type\":\"text\",\"text\":\"%V\"}],"
                         "\"stop_reason\":\"end_turn\","
                         "\"stop_sequence\":null",
                         &rq->model, &mlcf->text);

        if (mlcf->usage) {
            p = ngx_slprintf(p, end,
                             ",\"usage\":{\"input_tokens\":%ui,"
                             "\"output_tokens\":%ui,"
                             "\"cache_creation_input_tokens\":0,"
                             "\"cache_read_input_tokens\":0}",
                             rq->prompt, rq->completion);
        }

        p = ngx_slprintf(p, end, "}");
        break;
    }

    if (p == end) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "llm mock: response buffer too small");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = p;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    cl = ngx_alloc_chain_link(r->pool);
    if (cl == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cl->buf = b;
    cl->next = NULL;

    ctx->out = cl;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;

    ngx_http_llm_mock_set_type(r, "application/json",
                               sizeof("application/json") - 1);

    return NGX_OK;
}


static u_char *
ngx_http_llm_mock_response_object(u_char *p, u_char *end,
    ngx_http_llm_mock_loc_conf_t *mlcf, ngx_http_llm_mock_req_t *rq)
{
    p = ngx_slprintf(p, end,
                     "{\"id\":\"resp_mock\",\"object\":\"response\","
                     "\"created_at\":1700000000,\"model\":\"%V\","
                     "\"status\":\"completed\",\"output\":[{\"type\":"
                     "\"message\",\"id\":\"msg_mock\",\"role\":\"assistant\","
                     "\"content\":[{\"type\":\"output_text\","
                     "\"text\":\"%V\"}]}]",
                     &rq->model, &mlcf->text);

    if (mlcf->usage) {
        p = ngx_slprintf(p, end,
                         ",\"usage\":{\"input_tokens\":%ui,"
                         "\"output_tokens\":%ui,\"total_tokens\":%ui}",
                         rq->prompt, rq->completion,
                         rq->prompt + rq->completion);
    }

    return ngx_slprintf(p, end, "}");
}


static ngx_int_t
ngx_http_llm_mock_sse(ngx_http_request_t *r,
    ngx_http_llm_mock_loc_conf_t *mlcf, ngx_http_llm_mock_ctx_t *ctx,
    ngx_http_llm_mock_req_t *rq, ngx_uint_t kind)
{
    u_char                   *p;
    size_t                    len;
    ngx_str_t                 value;
    ngx_buf_t                *last;
    ngx_http_llm_mock_sse_t   sse;

    ngx_memzero(&sse, sizeof(ngx_http_llm_mock_sse_t));

    sse.nbufs = mlcf->nchunks + NGX_HTTP_LLM_MOCK_EVENTS_FIXED;

    len = sse.nbufs * (NGX_HTTP_LLM_MOCK_EVENT_MAX + rq->model.len)
          + NGX_HTTP_LLM_MOCK_EVENT_EXTRA + 5 * mlcf->text.len;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sse.bufs = ngx_pcalloc(r->pool, sse.nbufs * sizeof(ngx_buf_t));
    if (sse.bufs == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sse.start = p;
    sse.last = p;
    sse.end = p + len;
    sse.ll = &sse.out;
    sse.r = r;

    switch (kind) {

    case NGX_HTTP_LLM_MOCK_RESPONSES:
        ngx_http_llm_mock_sse_responses(&sse, mlcf, rq);
        break;

    case NGX_HTTP_LLM_MOCK_MESSAGES:
        ngx_http_llm_mock_sse_anthropic(&sse, mlcf, rq);
        break;

    default: /* NGX_HTTP_LLM_MOCK_CHAT, NGX_HTTP_LLM_MOCK_COMPLETIONS */
        ngx_http_llm_mock_sse_openai(&sse, mlcf, rq, kind);
        break;
    }

    if (sse.out == NULL || sse.last == sse.end) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "llm mock: stream buffer too small");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    last = &sse.bufs[sse.n - 1];
    last->last_buf = (r == r->main) ? 1 : 0;
    last->last_in_chain = 1;

    ctx->out = sse.out;
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


static void
ngx_http_llm_mock_sse_openai(ngx_http_llm_mock_sse_t *sse,
    ngx_http_llm_mock_loc_conf_t *mlcf, ngx_http_llm_mock_req_t *rq,
    ngx_uint_t kind)
{
    char        *prefix, *delta, *final;
    u_char      *unull;
    ngx_uint_t   i;

    if (kind == NGX_HTTP_LLM_MOCK_CHAT) {
        prefix = "data: {\"id\":\"chatcmpl-mock\","
                 "\"object\":\"chat.completion.chunk\","
                 "\"created\":1700000000,\"model\":\"%V\",\"choices\":[";
        delta = "{\"index\":0,\"delta\":{\"content\":\"%V\"},"
                "\"finish_reason\":null}]%s}\n\n";
        final = "{\"index\":0,\"delta\":{},"
                "\"finish_reason\":\"stop\"}]%s}\n\n";

    } else {
        prefix = "data: {\"id\":\"cmpl-mock\",\"object\":\"text_completion\","
                 "\"created\":1700000000,\"model\":\"%V\",\"choices\":[";
        delta = "{\"text\":\"%V\",\"index\":0,"
                "\"finish_reason\":null}]%s}\n\n";
        final = "{\"text\":\"\",\"index\":0,"
                "\"finish_reason\":\"stop\"}]%s}\n\n";
    }

    unull = rq->include_usage ? (u_char *) ",\"usage\":null" : (u_char *) "";

    for (i = 0; i < mlcf->nchunks; i++) {
        sse->last = ngx_slprintf(sse->last, sse->end, prefix, &rq->model);
        sse->last = ngx_slprintf(sse->last, sse->end, delta,
                                 &mlcf->chunks[i], unull);

        if (ngx_http_llm_mock_sse_event(sse) != NGX_OK) {
            return;
        }
    }

    sse->last = ngx_slprintf(sse->last, sse->end, prefix, &rq->model);
    sse->last = ngx_slprintf(sse->last, sse->end, final, unull);

    if (ngx_http_llm_mock_sse_event(sse) != NGX_OK) {
        return;
    }

    if (rq->include_usage && mlcf->usage) {
        sse->last = ngx_slprintf(sse->last, sse->end, prefix, &rq->model);
        sse->last = ngx_slprintf(sse->last, sse->end,
                                 "]" NGX_HTTP_LLM_MOCK_OPENAI_USAGE "}\n\n",
                                 rq->prompt, rq->completion,
                                 rq->prompt + rq->completion);

        if (ngx_http_llm_mock_sse_event(sse) != NGX_OK) {
            return;
        }
    }

    sse->last = ngx_slprintf(sse->last, sse->end, "data: [DONE]\n\n");

    (void) ngx_http_llm_mock_sse_event(sse);
}


static void
ngx_http_llm_mock_sse_responses(ngx_http_llm_mock_sse_t *sse,
    ngx_http_llm_mock_loc_conf_t *mlcf, ngx_http_llm_mock_req_t *rq)
{
    ngx_uint_t  i;

    sse->last = ngx_slprintf(sse->last, sse->end,
                             "event: response.created\n"
                             "data: {\"type\":\"response.created\","
                             "\"response\":{\"id\":\"resp_mock\","
                             "\"object\":\"response\","
                             "\"created_at\":1700000000,\"model\":\"%V\","
                             "\"status\":\"in_progress\",\"output\":[]}}\n\n",
                             &rq->model);

    if (ngx_http_llm_mock_sse_event(sse) != NGX_OK) {
        return;
    }

    sse->last = ngx_slprintf(sse->last, sse->end,
                             "event: response.output_item.added\n"
                             "data: {\"type\":\"response.output_item.added\","
                             "\"output_index\":0,"
                             "\"item\":{\"type\":\"message\","
                             "\"id\":\"msg_mock\",\"status\":\"in_progress\","
                             "\"role\":\"assistant\",\"content\":[]}}\n\n");

    if (ngx_http_llm_mock_sse_event(sse) != NGX_OK) {
        return;
    }

    sse->last = ngx_slprintf(sse->last, sse->end,
                             "event: response.content_part.added\n"
                             "data: {\"type\":\"response.content_part.added\","
                             "\"item_id\":\"msg_mock\",\"output_index\":0,"
                             "\"content_index\":0,\"part\":"
                             "{\"type\":\"output_text\",\"text\":\"\"}}\n\n");

    if (ngx_http_llm_mock_sse_event(sse) != NGX_OK) {
        return;
    }

    for (i = 0; i < mlcf->nchunks; i++) {
        sse->last = ngx_slprintf(sse->last, sse->end,
                                 "event: response.output_text.delta\n"
                                 "data: {\"type\":"
                                 "\"response.output_text.delta\","
                                 "\"item_id\":\"msg_mock\",\"output_index\":0,"
                                 "\"content_index\":0,\"delta\":\"%V\"}\n\n",
                                 &mlcf->chunks[i]);

        if (ngx_http_llm_mock_sse_event(sse) != NGX_OK) {
            return;
        }
    }

    sse->last = ngx_slprintf(sse->last, sse->end,
                             "event: response.output_text.done\n"
                             "data: {\"type\":\"response.output_text.done\","
                             "\"item_id\":\"msg_mock\",\"output_index\":0,"
                             "\"content_index\":0,\"text\":\"%V\"}\n\n",
                             &mlcf->text);

    if (ngx_http_llm_mock_sse_event(sse) != NGX_OK) {
        return;
    }

    sse->last = ngx_slprintf(sse->last, sse->end,
                             "event: response.content_part.done\n"
                             "data: {\"type\":\"response.content_part.done\","
                             "\"item_id\":\"msg_mock\",\"output_index\":0,"
                             "\"content_index\":0,\"part\":"
                             "{\"type\":\"output_text\",\"text\":\"%V\"}}\n\n",
                             &mlcf->text);

    if (ngx_http_llm_mock_sse_event(sse) != NGX_OK) {
        return;
    }

    sse->last = ngx_slprintf(sse->last, sse->end,
                             "event: response.output_item.done\n"
                             "data: {\"type\":\"response.output_item.done\","
                             "\"output_index\":0,"
                             "\"item\":{\"type\":\"message\","
                             "\"id\":\"msg_mock\",\"status\":\"completed\","
                             "\"role\":\"assistant\",\"content\":"
                             "[{\"type\":\"output_text\","
                             "\"text\":\"%V\"}]}}\n\n",
                             &mlcf->text);

    if (ngx_http_llm_mock_sse_event(sse) != NGX_OK) {
        return;
    }

    sse->last = ngx_slprintf(sse->last, sse->end,
                             "event: response.completed\n"
                             "data: {\"type\":\"response.completed\","
                             "\"response\":");
    sse->last = ngx_http_llm_mock_response_object(sse->last, sse->end,
                                                  mlcf, rq);
    sse->last = ngx_slprintf(sse->last, sse->end, "}\n\n");

    (void) ngx_http_llm_mock_sse_event(sse);
}


static void
ngx_http_llm_mock_sse_anthropic(ngx_http_llm_mock_sse_t *sse,
    ngx_http_llm_mock_loc_conf_t *mlcf, ngx_http_llm_mock_req_t *rq)
{
    ngx_uint_t  i;

    sse->last = ngx_slprintf(sse->last, sse->end,
                             "event: message_start\n"
                             "data: {\"type\":\"message_start\",\"message\":"
                             "{\"id\":\"msg_mock\",\"type\":\"message\","
                             "\"role\":\"assistant\",\"model\":\"%V\","
                             "\"content\":[],\"stop_reason\":null",
                             &rq->model);

    if (mlcf->usage) {
        sse->last = ngx_slprintf(sse->last, sse->end,
                                 ",\"usage\":{\"input_tokens\":%ui,"
                                 "\"output_tokens\":1,"
                                 "\"cache_creation_input_tokens\":0,"
                                 "\"cache_read_input_tokens\":0}",
                                 rq->prompt);
    }

    sse->last = ngx_slprintf(sse->last, sse->end, "}}\n\n");

    if (ngx_http_llm_mock_sse_event(sse) != NGX_OK) {
        return;
    }

    sse->last = ngx_slprintf(sse->last, sse->end,
                             "event: content_block_start\n"
                             "data: {\"type\":\"content_block_start\","
                             "\"index\":0,\"content_block\":"
                             "{\"type\":\"text\",\"text\":\"\"}}\n\n");

    if (ngx_http_llm_mock_sse_event(sse) != NGX_OK) {
        return;
    }

    for (i = 0; i < mlcf->nchunks; i++) {
        sse->last = ngx_slprintf(sse->last, sse->end,
                                 "event: content_block_delta\n"
                                 "data: {\"type\":\"content_block_delta\","
                                 "\"index\":0,\"delta\":{\"type\":"
                                 "\"text_delta\",\"text\":\"%V\"}}\n\n",
                                 &mlcf->chunks[i]);

        if (ngx_http_llm_mock_sse_event(sse) != NGX_OK) {
            return;
        }
    }

    sse->last = ngx_slprintf(sse->last, sse->end,
                             "event: content_block_stop\n"
                             "data: {\"type\":\"content_block_stop\","
                             "\"index\":0}\n\n");

    if (ngx_http_llm_mock_sse_event(sse) != NGX_OK) {
        return;
    }

    sse->last = ngx_slprintf(sse->last, sse->end,
                             "event: message_delta\n"
                             "data: {\"type\":\"message_delta\",\"delta\":"
                             "{\"stop_reason\":\"end_turn\","
                             "\"stop_sequence\":null}");

    if (mlcf->usage) {
        sse->last = ngx_slprintf(sse->last, sse->end,
                                 ",\"usage\":{\"output_tokens\":%ui}",
                                 rq->completion);
    }

    sse->last = ngx_slprintf(sse->last, sse->end, "}\n\n");

    if (ngx_http_llm_mock_sse_event(sse) != NGX_OK) {
        return;
    }

    sse->last = ngx_slprintf(sse->last, sse->end,
                             "event: message_stop\n"
                             "data: {\"type\":\"message_stop\"}\n\n");

    (void) ngx_http_llm_mock_sse_event(sse);
}


/* closes the event being built: one flushed buffer per event */

static ngx_int_t
ngx_http_llm_mock_sse_event(ngx_http_llm_mock_sse_t *sse)
{
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    if (sse->last == sse->end || sse->n == sse->nbufs) {
        sse->out = NULL;
        return NGX_ERROR;
    }

    cl = ngx_alloc_chain_link(sse->r->pool);
    if (cl == NULL) {
        sse->out = NULL;
        return NGX_ERROR;
    }

    b = &sse->bufs[sse->n++];

    b->start = sse->start;
    b->pos = sse->start;
    b->last = sse->last;
    b->end = sse->last;
    b->memory = 1;
    b->flush = 1;

    cl->buf = b;
    cl->next = NULL;

    *sse->ll = cl;
    sse->ll = &cl->next;

    sse->start = sse->last;

    return NGX_OK;
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


static ngx_int_t
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


static void
ngx_http_llm_mock_set_type(ngx_http_request_t *r, char *type, size_t len)
{
    r->headers_out.content_type.len = len;
    r->headers_out.content_type.data = (u_char *) type;
    r->headers_out.content_type_len = len;
    r->headers_out.content_type_lowcase = NULL;
}


/* configuration */

static void *
ngx_http_llm_mock_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_llm_mock_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_llm_mock_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->enabled = 0;
     *     conf->retry_after = { 0, NULL };
     *     conf->content = { 0, NULL };
     *     conf->text = { 0, NULL };
     *     conf->chunks = NULL;
     *     conf->nchunks = 0;
     *     conf->words = 0;
     */

    conf->api = NGX_CONF_UNSET_UINT;
    conf->status = NGX_CONF_UNSET_UINT;
    conf->delay = NGX_CONF_UNSET_MSEC;
    conf->interval = NGX_CONF_UNSET_MSEC;
    conf->cut = NGX_CONF_UNSET;
    conf->echo = NGX_CONF_UNSET_UINT;
    conf->prompt_tokens = NGX_CONF_UNSET;
    conf->completion_tokens = NGX_CONF_UNSET;
    conf->usage = NGX_CONF_UNSET;

    return conf;
}


static char *
ngx_http_llm_mock_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_llm_mock_loc_conf_t *prev = parent;
    ngx_http_llm_mock_loc_conf_t *conf = child;

    ngx_conf_merge_uint_value(conf->api, prev->api,
                              NGX_HTTP_LLM_MOCK_API_AUTO);
    ngx_conf_merge_uint_value(conf->status, prev->status, NGX_HTTP_OK);
    ngx_conf_merge_msec_value(conf->delay, prev->delay, 0);
    ngx_conf_merge_msec_value(conf->interval, prev->interval, 0);
    ngx_conf_merge_value(conf->cut, prev->cut, -1);
    ngx_conf_merge_uint_value(conf->echo, prev->echo,
                              NGX_HTTP_LLM_MOCK_ECHO_OFF);
    ngx_conf_merge_str_value(conf->retry_after, prev->retry_after, "");
    ngx_conf_merge_value(conf->prompt_tokens, prev->prompt_tokens, -1);
    ngx_conf_merge_value(conf->completion_tokens, prev->completion_tokens,
                         -1);
    ngx_conf_merge_value(conf->usage, prev->usage, 1);

    if (conf->content.data == NULL && prev->text.data) {
        conf->content = prev->content;
        conf->text = prev->text;
        conf->chunks = prev->chunks;
        conf->nchunks = prev->nchunks;
        conf->words = prev->words;

        return NGX_CONF_OK;
    }

    ngx_conf_merge_str_value(conf->content, prev->content,
                             NGX_HTTP_LLM_MOCK_DEFAULT_CONTENT);

    if (ngx_http_llm_mock_init_content(cf, conf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * Precomputes the JSON-escaped content and its stream pieces: every piece
 * is a word with the white space that follows it (the first one also gets
 * any leading white space), so the pieces concatenate to the content.
 */

static ngx_int_t
ngx_http_llm_mock_init_content(ngx_conf_t *cf,
    ngx_http_llm_mock_loc_conf_t *mlcf)
{
    u_char      *p, *end, *start;
    ngx_uint_t   words, space;

    p = mlcf->content.data;
    end = p + mlcf->content.len;

    if (ngx_http_llm_mock_escape(cf, &mlcf->text, p, end) != NGX_OK) {
        return NGX_ERROR;
    }

    /* count words */

    words = 0;
    space = 1;

    for ( /* void */ ; p < end; p++) {
        if (ngx_http_llm_mock_is_space(*p)) {
            space = 1;

        } else {
            words += space;
            space = 0;
        }
    }

    mlcf->words = words;
    mlcf->nchunks = 0;

    if (mlcf->content.len == 0) {
        return NGX_OK;
    }

    mlcf->chunks = ngx_palloc(cf->pool, ngx_max(words, 1) * sizeof(ngx_str_t));
    if (mlcf->chunks == NULL) {
        return NGX_ERROR;
    }

    /* a new piece starts at every word but the first one */

    start = mlcf->content.data;
    space = 1;
    words = 0;

    for (p = start; p < end; p++) {

        if (ngx_http_llm_mock_is_space(*p)) {
            space = 1;
            continue;
        }

        if (space && words++ > 0) {
            if (ngx_http_llm_mock_escape(cf, &mlcf->chunks[mlcf->nchunks++],
                                         start, p)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            start = p;
        }

        space = 0;
    }

    return ngx_http_llm_mock_escape(cf, &mlcf->chunks[mlcf->nchunks++],
                                    start, end);
}


static ngx_int_t
ngx_http_llm_mock_escape(ngx_conf_t *cf, ngx_str_t *dst, u_char *src,
    u_char *end)
{
    size_t  len;

    len = (end - src) + ngx_escape_json(NULL, src, end - src);

    dst->data = ngx_pnalloc(cf->pool, len + 1);
    if (dst->data == NULL) {
        return NGX_ERROR;
    }

    dst->len = (u_char *) ngx_escape_json(dst->data, src, end - src)
               - dst->data;

    return NGX_OK;
}


static char *
ngx_http_llm_mock(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_llm_mock_loc_conf_t *mlcf = conf;

    u_char                    *p;
    ngx_int_t                  n;
    ngx_str_t                 *value, s;
    ngx_uint_t                 i;
    ngx_http_core_loc_conf_t  *clcf;

    if (mlcf->enabled) {
        return "is duplicate";
    }

    mlcf->enabled = 1;

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "api=", 4) == 0) {
            s.data = value[i].data + 4;
            s.len = value[i].len - 4;

            if (s.len == 4 && ngx_strncmp(s.data, "auto", 4) == 0) {
                mlcf->api = NGX_HTTP_LLM_MOCK_API_AUTO;

            } else if (s.len == 6 && ngx_strncmp(s.data, "openai", 6) == 0) {
                mlcf->api = NGX_HTTP_LLM_MOCK_API_OPENAI;

            } else if (s.len == 9 && ngx_strncmp(s.data, "anthropic", 9) == 0)
            {
                mlcf->api = NGX_HTTP_LLM_MOCK_API_ANTHROPIC;

            } else {
                return ngx_http_llm_mock_invalid(cf, cmd, &value[i],
                                  "it must be \"auto\", \"openai\" "
                                  "or \"anthropic\"");
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "status=", 7) == 0) {
            n = ngx_atoi(value[i].data + 7, value[i].len - 7);

            if (n < 200 || n > 599) {
                return ngx_http_llm_mock_invalid(cf, cmd, &value[i],
                                  "it must be a status code "
                                  "from 200 to 599");
            }

            mlcf->status = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "delay=", 6) == 0
            || ngx_strncmp(value[i].data, "interval=", 9) == 0)
        {
            p = (u_char *) ngx_strchr(value[i].data, '=') + 1;

            s.data = p;
            s.len = value[i].data + value[i].len - p;

            n = ngx_parse_time(&s, 0);

            if (n == NGX_ERROR || s.len == 0) {
                return ngx_http_llm_mock_invalid(cf, cmd, &value[i],
                                  "it must be a time, e.g. \"500ms\" "
                                  "or \"2s\"");
            }

            if (value[i].data[0] == 'd') {
                mlcf->delay = (ngx_msec_t) n;

            } else {
                mlcf->interval = (ngx_msec_t) n;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "cut=", 4) == 0) {
            n = ngx_atoi(value[i].data + 4, value[i].len - 4);

            if (n == NGX_ERROR) {
                return ngx_http_llm_mock_invalid(cf, cmd, &value[i],
                                  "it must be a number of events");
            }

            mlcf->cut = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "echo=", 5) == 0) {
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;

            if (s.len == 4 && ngx_strncmp(s.data, "body", 4) == 0) {
                mlcf->echo = NGX_HTTP_LLM_MOCK_ECHO_BODY;

            } else if (s.len == 7 && ngx_strncmp(s.data, "headers", 7) == 0) {
                mlcf->echo = NGX_HTTP_LLM_MOCK_ECHO_HEADERS;

            } else {
                return ngx_http_llm_mock_invalid(cf, cmd, &value[i],
                                  "it must be \"body\" or \"headers\"");
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "retry_after=", 12) == 0) {
            s.data = value[i].data + 12;
            s.len = value[i].len - 12;

            if (ngx_atoi(s.data, s.len) == NGX_ERROR) {
                return ngx_http_llm_mock_invalid(cf, cmd, &value[i],
                                  "it must be a number of seconds");
            }

            mlcf->retry_after = s;
            continue;
        }

        if (ngx_strncmp(value[i].data, "content=", 8) == 0) {
            s.data = value[i].data + 8;
            s.len = value[i].len - 8;

            /* content="word" arrives with the quotes */

            if (s.len >= 2
                && (s.data[0] == '"' || s.data[0] == '\'')
                && s.data[s.len - 1] == s.data[0])
            {
                s.data++;
                s.len -= 2;
            }

            mlcf->content = s;
            continue;
        }

        if (ngx_strncmp(value[i].data, "prompt_tokens=", 14) == 0) {
            n = ngx_atoi(value[i].data + 14, value[i].len - 14);

            if (n == NGX_ERROR) {
                return ngx_http_llm_mock_invalid(cf, cmd, &value[i],
                                  "it must be a number of tokens");
            }

            mlcf->prompt_tokens = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "completion_tokens=", 18) == 0) {
            n = ngx_atoi(value[i].data + 18, value[i].len - 18);

            if (n == NGX_ERROR) {
                return ngx_http_llm_mock_invalid(cf, cmd, &value[i],
                                  "it must be a number of tokens");
            }

            mlcf->completion_tokens = n;
            continue;
        }

        if (ngx_strcmp(value[i].data, "no_usage") == 0) {
            mlcf->usage = 0;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\" in \"%V\" directive",
                           &value[i], &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (mlcf->echo != NGX_CONF_UNSET_UINT
        && mlcf->echo != NGX_HTTP_LLM_MOCK_ECHO_OFF
        && mlcf->status != NGX_CONF_UNSET_UINT
        && mlcf->status != NGX_HTTP_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"echo\" and \"status\" parameters "
                           "of \"%V\" directive are mutually exclusive",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_llm_mock_handler;

    return NGX_CONF_OK;
}


static char *
ngx_http_llm_mock_invalid(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_str_t *value, char *reason)
{
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in \"%V\" directive, %s",
                       value, &cmd->name, reason);

    return NGX_CONF_ERROR;
}
