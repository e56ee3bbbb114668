
/*
 * ngx_http_llm_mock_module: the parts shared by its files.
 *
 *   ngx_http_llm_mock_module.c     the directive, its configuration and
 *                                  the table of APIs
 *   ngx_http_llm_mock_handler.c    the content handler: body, timers,
 *                                  sending, cuts, echo replies
 *   ngx_http_llm_mock_reply.c      replies built from an API's tables:
 *                                  endpoint lookup, template renderer,
 *                                  JSON, stream and error replies
 *   ngx_http_llm_mock_openai.c     OpenAI's endpoints, events and errors
 *   ngx_http_llm_mock_anthropic.c  Anthropic's
 *   ngx_http_llm_mock_gemini.c     Gemini's native API
 *   ngx_http_llm_mock_azure.c      Azure OpenAI's deployment URLs
 *   ngx_http_llm_mock_fields.c     the top-level fields each endpoint
 *                                  takes (api=NAME only)
 *
 * How to add an API (e.g. Cohere's):
 *
 *   1. mock/ngx_http_llm_mock_cohere.c defines one
 *      ngx_http_llm_mock_api_t: its name (the value of api=), its
 *      endpoints (URI suffix, how streaming is asked for, the JSON reply
 *      template, the stream's event template), its error templates and
 *      its status -> error type table; optionally a check of the path,
 *      arguments and key, and its request's known fields.  Copy the
 *      shape of ngx_http_llm_mock_anthropic.c (or _gemini.c for the
 *      checks).
 *   2. Declare it below ("extern ngx_http_llm_mock_api_t ...") and add it
 *      to ngx_http_llm_mock_apis[] in ngx_http_llm_mock_module.c; the
 *      order of that array is the order api=auto tries suffixes in.
 *   3. Add the file to mock/config, and a test to t/005-mock.t.
 *
 * A mock answers only what the real provider answers: a URI that is not
 * one of the API's endpoints gets that provider's own 404 reply.
 *
 * Templates are plain text with these placeholders (nothing else starts
 * with '%'):
 *
 *   %m  the model from the request body     %t  the whole content (JSON)
 *   %c  the current stream piece (JSON)      %p  prompt/input tokens
 *   %o  completion/output tokens             %s  %p + %o
 *   %n  the status code                      %e  the API's error type
 *   %r  the method and path, JSON-escaped    %%  a '%'
 *   %f  the unknown request field, JSON-escaped
 *   %[u ... %]  only when usage is reported (no "no_usage")
 *   %[i ... %]  only when the client asked for "include_usage"
 */


#ifndef _NGX_HTTP_LLM_MOCK_H_INCLUDED_
#define _NGX_HTTP_LLM_MOCK_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


#define NGX_HTTP_LLM_MOCK_ECHO_OFF        0
#define NGX_HTTP_LLM_MOCK_ECHO_BODY       1
#define NGX_HTTP_LLM_MOCK_ECHO_HEADERS    2

/* how an endpoint is asked for a stream */
#define NGX_HTTP_LLM_MOCK_STREAM_BODY     0    /* "stream": true */
#define NGX_HTTP_LLM_MOCK_STREAM_NEVER    1    /* "stream" is ignored */
#define NGX_HTTP_LLM_MOCK_STREAM_ALWAYS   2    /* the URI says so */

/* when an event of a stream template is sent */
#define NGX_HTTP_LLM_MOCK_ONCE            0
#define NGX_HTTP_LLM_MOCK_EACH_PIECE      1    /* once per content piece */
#define NGX_HTTP_LLM_MOCK_IF_USAGE_CHUNK  2    /* include_usage and usage */

#define NGX_HTTP_LLM_MOCK_DEFAULT_MODEL    "mock-model"
#define NGX_HTTP_LLM_MOCK_DEFAULT_CONTENT  "Hello from the mock provider"


typedef struct {
    ngx_uint_t                 when;
    char                      *data;
} ngx_http_llm_mock_event_t;


typedef struct {
    ngx_str_t                  suffix;     /* of the URI, e.g. "/messages" */
    ngx_uint_t                 stream;     /* NGX_HTTP_LLM_MOCK_STREAM_* */
    char                      *json;       /* the reply without a stream */
    ngx_http_llm_mock_event_t *events;     /* ends with { 0, NULL } */
} ngx_http_llm_mock_endpoint_t;


typedef struct {
    ngx_uint_t                 status;     /* 0: any other status */
    char                      *type;
} ngx_http_llm_mock_error_type_t;


typedef struct {
    ngx_str_t                        name;          /* api=name */
    ngx_http_llm_mock_endpoint_t    *endpoints;     /* null suffix ends */
    char                            *error;         /* reply to status=N */
    ngx_http_llm_mock_error_type_t  *error_types;   /* status 0 ends */
    char                            *not_found;     /* any other URI */

    /*
     * Optional, for APIs that refuse more than unknown paths:
     * check: what the real API refuses before reading the body (path
     * shape, arguments, credentials): 0, or the status with *tpl its
     * reply; fields: the request's known top-level keys (NULL ends),
     * any other is refused with 400 and the "unknown" template (%f).
     */
    ngx_uint_t                     (*check)(ngx_http_request_t *r,
                                            char **tpl);
    char                           **fields;
    char                            *unknown;
} ngx_http_llm_mock_api_t;


typedef struct {
    ngx_flag_t                 enabled;

    ngx_http_llm_mock_api_t   *api;        /* NULL: auto */
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


/* what the request body says */

typedef struct {
    ngx_str_t                  model;

    unsigned                   stream:1;
    unsigned                   include_usage:1;
} ngx_http_llm_mock_req_t;


/* the values a template's placeholders take */

typedef struct {
    ngx_str_t                  model;
    ngx_str_t                  text;
    ngx_str_t                  piece;
    ngx_str_t                  request;    /* "POST /v1/x", not escaped */
    ngx_str_t                  field;      /* unknown, not escaped */
    char                      *error_type;
    ngx_uint_t                 prompt;
    ngx_uint_t                 completion;
    ngx_uint_t                 status;

    unsigned                   usage:1;
    unsigned                   include_usage:1;
} ngx_http_llm_mock_vars_t;


extern ngx_module_t             ngx_http_llm_mock_module;
extern ngx_http_llm_mock_api_t *ngx_http_llm_mock_apis[];

extern ngx_http_llm_mock_api_t  ngx_http_llm_mock_openai;
extern ngx_http_llm_mock_api_t  ngx_http_llm_mock_anthropic;
extern ngx_http_llm_mock_api_t  ngx_http_llm_mock_gemini;
extern ngx_http_llm_mock_api_t  ngx_http_llm_mock_azure;
extern ngx_http_llm_mock_api_t  ngx_http_llm_mock_chat;


ngx_int_t ngx_http_llm_mock_handler(ngx_http_request_t *r);

ngx_http_llm_mock_endpoint_t *ngx_http_llm_mock_endpoint(
    ngx_http_request_t *r, ngx_http_llm_mock_loc_conf_t *mlcf,
    ngx_http_llm_mock_api_t **api);
ngx_int_t ngx_http_llm_mock_reply(ngx_http_request_t *r,
    ngx_http_llm_mock_loc_conf_t *mlcf, ngx_http_llm_mock_ctx_t *ctx,
    ngx_http_llm_mock_endpoint_t *ep, ngx_http_llm_mock_req_t *rq,
    size_t body_len);
char *ngx_http_llm_mock_endpoint_field(ngx_http_llm_mock_api_t *api,
    ngx_http_llm_mock_endpoint_t *ep, ngx_str_t *body, ngx_str_t *field);
ngx_int_t ngx_http_llm_mock_error(ngx_http_request_t *r,
    ngx_http_llm_mock_loc_conf_t *mlcf, ngx_http_llm_mock_ctx_t *ctx,
    ngx_http_llm_mock_api_t *api, ngx_uint_t status, ngx_uint_t unknown);

ngx_int_t ngx_http_llm_mock_refuse(ngx_http_request_t *r,
    ngx_http_llm_mock_ctx_t *ctx, char *tpl, ngx_uint_t status,
    ngx_str_t *field);
ngx_uint_t ngx_http_llm_mock_unknown_field(ngx_str_t *body, char **fields,
    ngx_str_t *name);

ngx_int_t ngx_http_llm_mock_out(ngx_http_request_t *r,
    ngx_http_llm_mock_ctx_t *ctx, ngx_buf_t *b);
ngx_int_t ngx_http_llm_mock_add_header(ngx_http_request_t *r, char *name,
    size_t len, ngx_str_t *value);
void ngx_http_llm_mock_set_type(ngx_http_request_t *r, char *type,
    size_t len);


#endif /* _NGX_HTTP_LLM_MOCK_H_INCLUDED_ */
