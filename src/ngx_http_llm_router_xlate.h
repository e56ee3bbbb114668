
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * API translation: pure functions over bodies and SSE streams.
 *
 * Plain C99 with the standard library and cJSON only, so that the same
 * files build inside nginx and standalone (fuzz/test_xlate.c,
 * fuzz/fuzz_xlate.c).  Memory comes from malloc (cJSON's and the output
 * buffers); the caller frees what it gets.
 *
 * Formats are what a body looks like, not who sends it: the client's
 * endpoint gives one, the provider's api= the other.  One file per pair
 * (ngx_http_llm_router_xlate_<pair>.c) holds its field tables, request,
 * answer and SSE translators; this file's dispatch table finds them.
 */


#ifndef _NGX_HTTP_LLM_ROUTER_XLATE_H_INCLUDED_
#define _NGX_HTTP_LLM_ROUTER_XLATE_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "ngx_http_llm_router_xlate_json.h"


#define NGX_HTTP_LLM_XLATE_CHAT        0   /* OpenAI chat completions */
#define NGX_HTTP_LLM_XLATE_MESSAGES    1   /* Anthropic messages */
#define NGX_HTTP_LLM_XLATE_GEMINI      2   /* Gemini generateContent */
#define NGX_HTTP_LLM_XLATE_RESPONSES   3   /* OpenAI Responses (client) */
#define NGX_HTTP_LLM_XLATE_NFORMATS    4

/*
 * One SSE event (its "event:" and "data:" lines) is held until its blank
 * line arrives; a bigger one ends the stream with an error.  Deltas are a
 * few hundred bytes; the bound only stops a broken provider.
 */
#define NGX_HTTP_LLM_XLATE_EVENT_MAX   (1024 * 1024)

#define NGX_HTTP_LLM_XLATE_ID_MAX      128
#define NGX_HTTP_LLM_XLATE_MODEL_MAX   257
#define NGX_HTTP_LLM_XLATE_NOTE_MAX    256

/*
 * A Responses client's stream repeats each item whole when it is done and
 * every item in response.completed (Codex takes the items from
 * output_item.done, the Agents SDK from response.completed), so the
 * answer's text is kept up to this bound.
 */
#define NGX_HTTP_LLM_XLATE_OUTPUT_MAX  (16 * 1024 * 1024)


typedef struct {
    const char                     *model;      /* sent to the provider */
    int64_t                         max_tokens_default;  /* <= 0: 4096 */
    /* an OpenAI target takes max_completion_tokens (OpenAI, Azure) */
    unsigned                        max_completion_tokens:1;
} ngx_http_llm_xlate_conf_t;


typedef struct {
    ngx_http_llm_xlate_buf_t        body;       /* the provider's body */

    /* a refusal: a 400 in the client's format naming param */
    int                             status;
    char                            param[64];
    char                            message[NGX_HTTP_LLM_XLATE_NOTE_MAX];

    /* fields only a provider would have used, for x-llm-dropped */
    char                            dropped[NGX_HTTP_LLM_XLATE_NOTE_MAX];

    int64_t                         max_tokens;  /* as sent, -1: none */
    unsigned                        stream:1;
    /* a chat client asked for the usage chunk */
    unsigned                        include_usage:1;
} ngx_http_llm_xlate_result_t;


/* what a stream to a Responses client keeps (xlate_responses_*.c) */
typedef struct {
    int64_t                         seq;        /* sequence_number */
    int64_t                         reasoning_tokens;
    int                             type;       /* of the open item */
    int                             index;      /* its output_index */
    int                             nitems;
    int                             tool;       /* chat index of the call */
    unsigned                        started:1;
    char                            id[NGX_HTTP_LLM_XLATE_ID_MAX];
    char                            item_id[NGX_HTTP_LLM_XLATE_ID_MAX];
    char                            call_id[NGX_HTTP_LLM_XLATE_ID_MAX];
    char                            name[NGX_HTTP_LLM_XLATE_ID_MAX];
    ngx_http_llm_xlate_buf_t        text;       /* of the open item */
    ngx_http_llm_xlate_buf_t        items;      /* done items, JSON, ","d */
    ngx_http_llm_xlate_buf_t        chunks;     /* via chat: one event's */
} ngx_http_llm_xlate_rsp_t;


/*
 * Per stream state of an SSE translation: fixed size plus the carry of
 * one partial event.
 */
typedef struct ngx_http_llm_xlate_sse_s  ngx_http_llm_xlate_sse_t;

struct ngx_http_llm_xlate_sse_s {
    int                             from;     /* the provider's format */
    int                             to;       /* the client's */
    int64_t                         created;
    char                            id[NGX_HTTP_LLM_XLATE_ID_MAX];
    char                            model[NGX_HTTP_LLM_XLATE_MODEL_MAX];

    /* usage as the provider reported it, in OpenAI's terms */
    int64_t                         prompt_tokens;   /* cached included */
    int64_t                         completion_tokens;
    int64_t                         cached_tokens;   /* read from cache */
    int64_t                         cache_write_tokens;

    /* the open content block (Anthropic side) */
    int                             block;      /* index, -1: none */
    int                             block_type;
    int                             tool;       /* OpenAI tool index */
    int                             ntools;
    char                            stop[32];   /* finish/stop reason */

    unsigned                        include_usage:1;
    unsigned                        started:1;  /* first event sent */
    unsigned                        done:1;     /* terminal event sent */
    unsigned                        failed:1;   /* error event sent */
    unsigned                        usage_seen:1;

    /* the partial event */
    unsigned char                  *carry;
    size_t                          carry_len;
    size_t                          carry_size;
    size_t                          carry_scan;   /* lines looked at */

    /*
     * The fields of the event's lines looked at, as offsets from the
     * event's start: its name, its data (the first data line; more than
     * one are joined when the event ends)
     */
    size_t                          ev_name;
    size_t                          ev_name_len;
    size_t                          ev_data;
    size_t                          ev_data_len;
    size_t                          ev_ndata;

    /* a chat client's chunks up to their delta (malloc'd, NULL: none) */
    unsigned char                  *head;
    size_t                          head_len;

    /* a translation through chat: the chat -> client step's state */
    ngx_http_llm_xlate_sse_t       *pivot;

    ngx_http_llm_xlate_rsp_t       *rsp;      /* a Responses client */
};


/* NGX_HTTP_LLM_XLATE_CHAT..., or -1 for an unknown name */
int ngx_http_llm_xlate_format(const char *name, size_t len);
const char *ngx_http_llm_xlate_format_name(int format);

/* whether the pair from -> to has a translator */
int ngx_http_llm_xlate_supported(int from, int to);

/*
 * Translates a client's request body of format "from" for a provider of
 * format "to".  Returns OK (res->status 0: res->body is the new body;
 * res->status 400: refused, res->param and res->message say why),
 * NOMEM, or BAD (not a JSON object: the caller has validated it before,
 * so this is only a safety net).
 */
int ngx_http_llm_xlate_request(int from, int to, const unsigned char *body,
    size_t len, const ngx_http_llm_xlate_conf_t *conf,
    ngx_http_llm_xlate_result_t *res);

/*
 * Translates a provider's JSON answer (2xx) of format "from" into the
 * client's format "to", naming the model the client asked for.
 */
int ngx_http_llm_xlate_response(int from, int to, const unsigned char *body,
    size_t len, const char *model, int64_t created,
    ngx_http_llm_xlate_buf_t *out);

/*
 * Turns a provider's error answer of any status into the client's error
 * format; a body that is not the provider's error shape gives a generic
 * message naming the status.
 */
int ngx_http_llm_xlate_error(int from, int to, int status,
    const unsigned char *body, size_t len, ngx_http_llm_xlate_buf_t *out);

/* writes an error in format "to" */
int ngx_http_llm_xlate_error_write(int to, int status, const char *type,
    const char *message, const char *param, ngx_http_llm_xlate_buf_t *out);

void ngx_http_llm_xlate_sse_init(ngx_http_llm_xlate_sse_t *s, int from,
    int to, const char *model, int include_usage, int64_t created);

/*
 * Feeds the next bytes of the provider's stream; complete events are
 * translated and appended to out.  Returns OK, NOMEM or TOO_BIG (then an
 * error event was appended and the stream is over).
 */
int ngx_http_llm_xlate_sse_feed(ngx_http_llm_xlate_sse_t *s,
    const unsigned char *p, size_t n, ngx_http_llm_xlate_buf_t *out);

/*
 * The provider's stream ended.  Returns OK if it ended with its terminal
 * event; otherwise BAD after appending an error event in the client's
 * format (so that a cut stream never looks complete).
 */
int ngx_http_llm_xlate_sse_end(ngx_http_llm_xlate_sse_t *s,
    ngx_http_llm_xlate_buf_t *out);

void ngx_http_llm_xlate_sse_free(ngx_http_llm_xlate_sse_t *s);

void ngx_http_llm_xlate_buf_free(ngx_http_llm_xlate_buf_t *b);


/* for the translators (ngx_http_llm_router_xlate_*.c) */

/* actions of a field table entry */
#define NGX_HTTP_LLM_XF_COPY           0   /* same name, same value */
#define NGX_HTTP_LLM_XF_RENAME         1   /* same value, name "to" */
#define NGX_HTTP_LLM_XF_DROP           2   /* steers the provider only */
#define NGX_HTTP_LLM_XF_REFUSE         3   /* changes the answer: 400 */
#define NGX_HTTP_LLM_XF_CALL           4   /* handler */
#define NGX_HTTP_LLM_XF_SKIP           5   /* consumed elsewhere */


typedef struct ngx_http_llm_xlate_req_s  ngx_http_llm_xlate_req_t;

typedef int (*ngx_http_llm_xlate_field_pt)(ngx_http_llm_xlate_req_t *x,
    cJSON *value);

typedef struct {
    const char                     *name;
    int                             action;
    const char                     *to;
    ngx_http_llm_xlate_field_pt     handler;
} ngx_http_llm_xlate_field_t;


struct ngx_http_llm_xlate_req_s {
    cJSON                                  *src;
    cJSON                                  *dst;
    const ngx_http_llm_xlate_conf_t        *conf;
    ngx_http_llm_xlate_result_t            *res;
    int64_t                                 max_tokens;  /* -1: unset */
    int64_t                                 budget;  /* thinking, 0: off */
    cJSON                                  *tool_choice;  /* built */
    int                                     parallel;     /* -1: unset */
    int                                     oom;
    unsigned                                pivot:1;  /* chat, then on */
};


typedef struct {
    int                             from;
    int                             to;
    int                           (*request)(ngx_http_llm_xlate_req_t *x);
    cJSON                        *(*response)(cJSON *src, const char *model,
                                              int64_t created);
    int                           (*event)(ngx_http_llm_xlate_sse_t *s,
                                           const char *name, cJSON *data,
                                           ngx_http_llm_xlate_buf_t *out);
    /*
     * the stream failed (the provider's error event e, or NULL and a
     * message); NULL: the client format's plain error event
     */
    int                           (*fail)(ngx_http_llm_xlate_sse_t *s,
                                          cJSON *e, const char *message,
                                          ngx_http_llm_xlate_buf_t *out);
    /* the answer written straight into out; NULL: response() printed */
    int                           (*write)(cJSON *src, const char *model,
                                           int64_t created,
                                           ngx_http_llm_xlate_buf_t *out);
    /*
     * fast paths, byte for byte what the general path writes, or DECLINED
     * for what they do not take; NULL: always the general path.  An
     * event's data p .. last without cJSON, as event() would:
     */
    int                           (*fast_event)(ngx_http_llm_xlate_sse_t *s,
                                                const unsigned char *p,
                                                const unsigned char *last,
                                                ngx_http_llm_xlate_buf_t *out);
    /* a request body, as request() and the writer would (res zeroed) */
    int                           (*fast_request)(const unsigned char *body,
                                      size_t len,
                                      const ngx_http_llm_xlate_conf_t *conf,
                                      ngx_http_llm_xlate_result_t *res);
    /* a provider's JSON answer, as write() or response() would */
    int                           (*fast_answer)(const unsigned char *body,
                                                 size_t len,
                                                 const char *model,
                                                 int64_t created,
                                                 ngx_http_llm_xlate_buf_t *out);
} ngx_http_llm_xlate_pair_t;


extern const ngx_http_llm_xlate_pair_t  ngx_http_llm_xlate_chat_messages;
extern const ngx_http_llm_xlate_pair_t  ngx_http_llm_xlate_messages_chat;
extern const ngx_http_llm_xlate_pair_t  ngx_http_llm_xlate_responses_chat;
extern const ngx_http_llm_xlate_pair_t  ngx_http_llm_xlate_responses_messages;

/* the answers' halves of the pairs, in their _answer.c files */
cJSON *ngx_http_llm_xlate_cm_response(cJSON *src, const char *model,
    int64_t created);
int ngx_http_llm_xlate_cm_write(cJSON *src, const char *model,
    int64_t created, ngx_http_llm_xlate_buf_t *out);
int ngx_http_llm_xlate_cm_event(ngx_http_llm_xlate_sse_t *s,
    const char *name, cJSON *data, ngx_http_llm_xlate_buf_t *out);
/* the request's fast path, in _chat_messages_fast.c */
int ngx_http_llm_xlate_cm_fast_request(const unsigned char *body,
    size_t len, const ngx_http_llm_xlate_conf_t *conf,
    ngx_http_llm_xlate_result_t *res);
/* the answer's fast path, in _chat_messages_fast_answer.c */
int ngx_http_llm_xlate_cm_fast_answer(const unsigned char *body, size_t len,
    const char *model, int64_t created, ngx_http_llm_xlate_buf_t *out);
const char *ngx_http_llm_xlate_cm_fast_stop(const unsigned char *start,
    const unsigned char *end);
/* the stream's fast path, in _chat_messages_fast_event.c */
int ngx_http_llm_xlate_cm_fast(ngx_http_llm_xlate_sse_t *s,
    const unsigned char *p, const unsigned char *last,
    ngx_http_llm_xlate_buf_t *out);
int ngx_http_llm_xlate_cm_fast_event(ngx_http_llm_xlate_sse_t *s,
    const unsigned char *p, const unsigned char *last,
    ngx_http_llm_xlate_buf_t *out);
/* what cm_event() and the stream's fast paths share */
int ngx_http_llm_xlate_cm_head(ngx_http_llm_xlate_sse_t *s,
    ngx_http_llm_xlate_buf_t *out);
int ngx_http_llm_xlate_cm_bare(ngx_http_llm_xlate_sse_t *s, const char *type,
    ngx_http_llm_xlate_buf_t *out);
void ngx_http_llm_xlate_cm_usage(ngx_http_llm_xlate_sse_t *s, int64_t in,
    int64_t out, int64_t read, int64_t write);
int ngx_http_llm_xlate_cm_start(ngx_http_llm_xlate_sse_t *s,
    ngx_http_llm_xlate_buf_t *out);
int ngx_http_llm_xlate_cm_finish(ngx_http_llm_xlate_sse_t *s,
    ngx_http_llm_xlate_buf_t *out);
void ngx_http_llm_xlate_cm_text_block(ngx_http_llm_xlate_sse_t *s,
    int index);
cJSON *ngx_http_llm_xlate_mc_response(cJSON *src, const char *model,
    int64_t created);
int ngx_http_llm_xlate_mc_event(ngx_http_llm_xlate_sse_t *s,
    const char *name, cJSON *data, ngx_http_llm_xlate_buf_t *out);

/* Gemini, in _chat_gemini*.c: chat and messages (through chat) */
extern const ngx_http_llm_xlate_pair_t  ngx_http_llm_xlate_chat_gemini;
extern const ngx_http_llm_xlate_pair_t  ngx_http_llm_xlate_messages_gemini;
int ngx_http_llm_xlate_cg_messages(ngx_http_llm_xlate_req_t *x, cJSON *v);
cJSON *ngx_http_llm_xlate_gc_response(cJSON *src, const char *model,
    int64_t created);
cJSON *ngx_http_llm_xlate_gm_response(cJSON *src, const char *model,
    int64_t created);
int ngx_http_llm_xlate_gc_event(ngx_http_llm_xlate_sse_t *s,
    const char *name, cJSON *data, ngx_http_llm_xlate_buf_t *out);
/* usage of a Gemini JSON answer in OpenAI's terms (cached included) */
int ngx_http_llm_xlate_gemini_usage(const unsigned char *body, size_t len,
    int64_t *prompt, int64_t *completion, int64_t *cached);

/* the Responses pair's halves (xlate_responses_chat*.c), for the pivot */
int ngx_http_llm_xlate_rc_request(ngx_http_llm_xlate_req_t *x);
cJSON *ngx_http_llm_xlate_rc_response(cJSON *src, const char *model,
    int64_t created);
int ngx_http_llm_xlate_rc_event(ngx_http_llm_xlate_sse_t *s,
    const char *name, cJSON *data, ngx_http_llm_xlate_buf_t *out);
int ngx_http_llm_xlate_rc_fail(ngx_http_llm_xlate_sse_t *s, cJSON *e,
    const char *message, ngx_http_llm_xlate_buf_t *out);
ngx_http_llm_xlate_rsp_t *ngx_http_llm_xlate_rc_state(
    ngx_http_llm_xlate_sse_t *s);

/* a response object and its items (xlate_responses_chat_answer.c) */
typedef struct {
    int64_t                         input;    /* cached included */
    int64_t                         output;
    int64_t                         cached;
    int64_t                         reasoning;
} ngx_http_llm_xlate_usage_t;

/* finish: a chat finish reason, NULL: in progress; u NULL: no usage */
cJSON *ngx_http_llm_xlate_rc_object(const char *id, const char *model,
    int64_t created, const char *finish, cJSON *output,
    const ngx_http_llm_xlate_usage_t *u);
cJSON *ngx_http_llm_xlate_rc_message(const char *id, const char *status,
    cJSON *part);
cJSON *ngx_http_llm_xlate_rc_call(const char *id, const char *status,
    const char *call_id, const char *name, const char *args);
cJSON *ngx_http_llm_xlate_rc_part(const char *text);
/* incomplete_details.reason for a chat finish reason, NULL: complete */
const char *ngx_http_llm_xlate_rc_incomplete(const char *finish);

/* [client][provider]; NULL: no translator */
const ngx_http_llm_xlate_pair_t *ngx_http_llm_xlate_pair(int client,
    int provider);
/* an error object (or NULL) in format "to"; sse: as an SSE event */
int ngx_http_llm_xlate_error_json(int to, int status, cJSON *e,
    ngx_http_llm_xlate_buf_t *out, int sse);

int ngx_http_llm_xlate_fields(ngx_http_llm_xlate_req_t *x,
    const ngx_http_llm_xlate_field_t *table);
int ngx_http_llm_xlate_refuse(ngx_http_llm_xlate_req_t *x, const char *param,
    const char *fmt, ...);
void ngx_http_llm_xlate_drop(ngx_http_llm_xlate_req_t *x, const char *name);

/* reasoning_effort -> a thinking budget: each provider's table */
typedef struct {
    const char                   *effort;
    int64_t                       budget;
} ngx_http_llm_xlate_effort_t;

int ngx_http_llm_xlate_effort(ngx_http_llm_xlate_req_t *x, cJSON *v,
    const ngx_http_llm_xlate_effort_t *efforts);
int ngx_http_llm_xlate_text_only(ngx_http_llm_xlate_req_t *x, cJSON *v,
    const char *provider);

/* members alike in every API: field handlers for the pairs' tables */
int ngx_http_llm_xlate_model(ngx_http_llm_xlate_req_t *x, cJSON *v);
int ngx_http_llm_xlate_stream_options(ngx_http_llm_xlate_req_t *x,
    cJSON *v);
void ngx_http_llm_xlate_chat_usage(ngx_http_llm_xlate_sse_t *s, cJSON *u);
int ngx_http_llm_xlate_max_tokens_in(ngx_http_llm_xlate_req_t *x, cJSON *v);
int ngx_http_llm_xlate_max_tokens_out(ngx_http_llm_xlate_req_t *x,
    cJSON *v);
cJSON *ngx_http_llm_xlate_take(cJSON *obj, cJSON *item);
cJSON *ngx_http_llm_xlate_add(ngx_http_llm_xlate_req_t *x, cJSON *obj,
    const char *name, cJSON *item);
const char *ngx_http_llm_xlate_str(cJSON *obj, const char *name);
const char *ngx_http_llm_xlate_tool_choice(cJSON *v, const char *modes[4],
    const char **name);
int ngx_http_llm_xlate_emit(ngx_http_llm_xlate_buf_t *out, const char *event,
    cJSON *data);
int64_t ngx_http_llm_xlate_int(cJSON *obj, const char *name);
cJSON *ngx_http_llm_xlate_add_str(ngx_http_llm_xlate_req_t *x, cJSON *obj,
    const char *name, const char *s);
/* finish/stop reasons: to NGX_HTTP_LLM_XLATE_CHAT or _MESSAGES terms */
const char *ngx_http_llm_xlate_stop(const char *reason, int to);


#endif /* _NGX_HTTP_LLM_ROUTER_XLATE_H_INCLUDED_ */
