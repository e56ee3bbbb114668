
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * API translation: the dispatch table of the pairs, the field table
 * walker, errors in every format and the SSE framer shared by the pairs.
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_llm_router_xlate.h"


static int ngx_http_llm_xlate_request_in(int from, int to,
    const unsigned char *body, size_t len,
    const ngx_http_llm_xlate_conf_t *conf, ngx_http_llm_xlate_result_t *res);
static int ngx_http_llm_xlate_response_in(int from, int to,
    const unsigned char *body, size_t len, const char *model, int64_t created,
    ngx_http_llm_xlate_buf_t *out);
static int ngx_http_llm_xlate_error_in(int from, int to, int status,
    const unsigned char *body, size_t len, ngx_http_llm_xlate_buf_t *out);
static int ngx_http_llm_xlate_error_write_in(int to, int status,
    const char *type, const char *message, const char *param,
    ngx_http_llm_xlate_buf_t *out);
static const char *ngx_http_llm_xlate_status_type(int format, int status);
static int64_t ngx_http_llm_xlate_bound(ngx_http_llm_xlate_req_t *x,
    cJSON *v);


static const char  *ngx_http_llm_xlate_names[NGX_HTTP_LLM_XLATE_NFORMATS] = {
    "openai", "anthropic", "gemini", "responses"
};


/* indexed by [client format][provider format] */
static const ngx_http_llm_xlate_pair_t
    *ngx_http_llm_xlate_pairs[NGX_HTTP_LLM_XLATE_NFORMATS]
                             [NGX_HTTP_LLM_XLATE_NFORMATS] =
{
    { NULL, &ngx_http_llm_xlate_chat_messages,
      &ngx_http_llm_xlate_chat_gemini, NULL },
    { &ngx_http_llm_xlate_messages_chat, NULL,
      &ngx_http_llm_xlate_messages_gemini, NULL },
    { NULL, NULL, NULL, NULL },     /* Gemini is a provider's API only */
    /* Responses is a client format only: providers speak chat to it */
    { &ngx_http_llm_xlate_responses_chat,
      &ngx_http_llm_xlate_responses_messages, NULL, NULL },
};


/* error "type" by status, per format; the first match wins */
typedef struct {
    int          status;       /* 0: any other 4xx, 1: any other 5xx */
    const char  *type[NGX_HTTP_LLM_XLATE_NFORMATS];
} ngx_http_llm_xlate_etype_t;


static const ngx_http_llm_xlate_etype_t  ngx_http_llm_xlate_etypes[] = {
    { 400, { "invalid_request_error", "invalid_request_error" } },
    { 401, { "authentication_error", "authentication_error" } },
    { 402, { "insufficient_quota", "billing_error" } },
    { 403, { "permission_error", "permission_error" } },
    { 404, { "not_found_error", "not_found_error" } },
    { 413, { "invalid_request_error", "request_too_large" } },
    { 429, { "rate_limit_error", "rate_limit_error" } },
    { 504, { "timeout_error", "timeout_error" } },
    { 529, { "server_error", "overloaded_error" } },
    { 0,   { "invalid_request_error", "invalid_request_error" } },
    { 1,   { "server_error", "api_error" } },
};


/*
 * Finish reasons (OpenAI) and stop reasons (Anthropic); the first row
 * with a match wins, so each column's first spelling is the one written.
 */
static const char  *ngx_http_llm_xlate_stops[][NGX_HTTP_LLM_XLATE_NFORMATS] = {
    { "stop", "end_turn" },
    { "stop", "stop_sequence" },
    { "stop", "pause_turn" },
    { "length", "max_tokens" },
    { "length", "model_context_window_exceeded" },
    { "tool_calls", "tool_use" },
    { "function_call", "tool_use" },
    { "content_filter", "refusal" },
    { NULL, NULL }
};


const char *
ngx_http_llm_xlate_stop(const char *reason, int to)
{
    int  i, from;

    if (reason == NULL) {
        return NULL;
    }

    from = (to == NGX_HTTP_LLM_XLATE_CHAT) ? NGX_HTTP_LLM_XLATE_MESSAGES
                                           : NGX_HTTP_LLM_XLATE_CHAT;

    for (i = 0; ngx_http_llm_xlate_stops[i][0]; i++) {
        if (strcmp(ngx_http_llm_xlate_stops[i][from], reason) == 0) {
            return ngx_http_llm_xlate_stops[i][to];
        }
    }

    /* unknown reasons end the turn */
    return ngx_http_llm_xlate_stops[0][to];
}


int
ngx_http_llm_xlate_format(const char *name, size_t len)
{
    int  i;

    for (i = 0; i < NGX_HTTP_LLM_XLATE_NFORMATS; i++) {
        if (strlen(ngx_http_llm_xlate_names[i]) == len
            && memcmp(ngx_http_llm_xlate_names[i], name, len) == 0)
        {
            return i;
        }
    }

    return -1;
}


const char *
ngx_http_llm_xlate_format_name(int format)
{
    if (format < 0 || format >= NGX_HTTP_LLM_XLATE_NFORMATS) {
        return "unknown";
    }

    return ngx_http_llm_xlate_names[format];
}


const ngx_http_llm_xlate_pair_t *
ngx_http_llm_xlate_pair(int client, int provider)
{
    if (client < 0 || client >= NGX_HTTP_LLM_XLATE_NFORMATS
        || provider < 0 || provider >= NGX_HTTP_LLM_XLATE_NFORMATS)
    {
        return NULL;
    }

    return ngx_http_llm_xlate_pairs[client][provider];
}


int
ngx_http_llm_xlate_supported(int from, int to)
{
    return ngx_http_llm_xlate_pair(from, to) != NULL;
}


int
ngx_http_llm_xlate_request(int from, int to, const unsigned char *body,
    size_t len, const ngx_http_llm_xlate_conf_t *conf,
    ngx_http_llm_xlate_result_t *res)
{
    int  rc;

    /* cJSON's allocations from the scratch arena */
    ngx_http_llm_xlate_enter();
    rc = ngx_http_llm_xlate_request_in(from, to, body, len, conf, res);
    ngx_http_llm_xlate_leave();

    return rc;
}


static int
ngx_http_llm_xlate_request_in(int from, int to, const unsigned char *body,
    size_t len, const ngx_http_llm_xlate_conf_t *conf,
    ngx_http_llm_xlate_result_t *res)
{
    int                               rc;
    ngx_http_llm_xlate_req_t          x;
    const ngx_http_llm_xlate_pair_t  *pair;

    memset(res, 0, sizeof(ngx_http_llm_xlate_result_t));
    res->max_tokens = -1;

    pair = ngx_http_llm_xlate_pair(from, to);
    if (pair == NULL) {
        return NGX_HTTP_LLM_XLATE_BAD;
    }

    if (pair->fast_request) {
        /* the usual request without a cJSON tree */
        rc = pair->fast_request(body, len, conf, res);

        if (rc != NGX_HTTP_LLM_XLATE_DECLINED) {
            return rc;
        }
    }

    memset(&x, 0, sizeof(ngx_http_llm_xlate_req_t));
    x.conf = conf;
    x.res = res;
    x.max_tokens = -1;
    x.parallel = -1;

    x.src = cJSON_ParseWithLength((const char *) body, len);
    if (x.src == NULL || !cJSON_IsObject(x.src)) {
        cJSON_Delete(x.src);
        return NGX_HTTP_LLM_XLATE_BAD;
    }

    x.dst = cJSON_CreateObject();
    if (x.dst == NULL) {
        cJSON_Delete(x.src);
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    rc = pair->request(&x);

    if (rc == NGX_HTTP_LLM_XLATE_OK && res->status == 0) {
        /* the provider's body is about the client's size: one buffer */
        if (x.oom
            || ngx_http_llm_xlate_buf_reserve(&res->body, len + len / 8 + 256)
               != NGX_HTTP_LLM_XLATE_OK
            || ngx_http_llm_xlate_print(&res->body, x.dst)
               != NGX_HTTP_LLM_XLATE_OK
            || ngx_http_llm_xlate_buf_append(&res->body, "", 1)
               != NGX_HTTP_LLM_XLATE_OK)
        {
            ngx_http_llm_xlate_buf_free(&res->body);
            rc = NGX_HTTP_LLM_XLATE_NOMEM;

        } else {
            /* a C string too, as cJSON_Print's was */
            res->body.len--;
        }
    }

    cJSON_Delete(x.tool_choice);
    cJSON_Delete(x.src);
    cJSON_Delete(x.dst);

    return rc;
}


int
ngx_http_llm_xlate_response(int from, int to, const unsigned char *body,
    size_t len, const char *model, int64_t created,
    ngx_http_llm_xlate_buf_t *out)
{
    int  rc;

    /* cJSON's allocations from the scratch arena */
    ngx_http_llm_xlate_enter();
    rc = ngx_http_llm_xlate_response_in(from, to, body, len, model, created,
                                        out);
    ngx_http_llm_xlate_leave();

    return rc;
}


static int
ngx_http_llm_xlate_response_in(int from, int to, const unsigned char *body,
    size_t len, const char *model, int64_t created,
    ngx_http_llm_xlate_buf_t *out)
{
    int                               rc;
    cJSON                            *src, *dst;
    const ngx_http_llm_xlate_pair_t  *pair;

    pair = ngx_http_llm_xlate_pair(to, from);
    if (pair == NULL) {
        return NGX_HTTP_LLM_XLATE_BAD;
    }

    if (pair->fast_answer) {
        /* the usual answer without a cJSON tree */
        rc = pair->fast_answer(body, len, model, created, out);

        if (rc != NGX_HTTP_LLM_XLATE_DECLINED) {
            return rc;
        }
    }

    src = cJSON_ParseWithLength((const char *) body, len);
    if (src == NULL || !cJSON_IsObject(src)) {
        cJSON_Delete(src);
        return NGX_HTTP_LLM_XLATE_BAD;
    }

    if (pair->write) {
        rc = pair->write(src, model, created, out);
        cJSON_Delete(src);

        return rc;
    }

    dst = pair->response(src, model, created);
    cJSON_Delete(src);

    if (dst == NULL) {
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    rc = ngx_http_llm_xlate_print(out, dst);
    cJSON_Delete(dst);

    return rc == NGX_HTTP_LLM_XLATE_OK ? rc : NGX_HTTP_LLM_XLATE_NOMEM;
}


/* the field table walker */

int
ngx_http_llm_xlate_fields(ngx_http_llm_xlate_req_t *x,
    const ngx_http_llm_xlate_field_t *table)
{
    int                                rc;
    cJSON                             *item, *next;
    const ngx_http_llm_xlate_field_t  *f;

    for (item = x->src->child; item; item = next) {
        next = item->next;

        /* null means "not given" to every client SDK */
        if (item->string == NULL || cJSON_IsNull(item)) {
            continue;
        }

        for (f = table; f->name; f++) {
            if (strcmp(f->name, item->string) == 0) {
                break;
            }
        }

        if (f->name == NULL) {
            /* unknown to the table: never forwarded, never silent */
            ngx_http_llm_xlate_drop(x, item->string);
            continue;
        }

        switch (f->action) {

        case NGX_HTTP_LLM_XF_COPY:
            ngx_http_llm_xlate_add(x, x->dst, f->name,
                                   ngx_http_llm_xlate_take(x->src, item));
            break;

        case NGX_HTTP_LLM_XF_RENAME:
            ngx_http_llm_xlate_add(x, x->dst, f->to,
                                   ngx_http_llm_xlate_take(x->src, item));
            break;

        case NGX_HTTP_LLM_XF_DROP:
            ngx_http_llm_xlate_drop(x, f->name);
            break;

        case NGX_HTTP_LLM_XF_REFUSE:
            return ngx_http_llm_xlate_refuse(x, f->name,
                       "'%s' has no equivalent at the provider's API",
                       f->name);

        case NGX_HTTP_LLM_XF_CALL:
            rc = f->handler(x, item);
            if (rc != NGX_HTTP_LLM_XLATE_OK || x->res->status) {
                return rc;
            }
            break;

        default: /* NGX_HTTP_LLM_XF_SKIP */
            break;
        }
    }

    return x->oom ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
}


int
ngx_http_llm_xlate_refuse(ngx_http_llm_xlate_req_t *x, const char *param,
    const char *fmt, ...)
{
    va_list  args;

    x->res->status = 400;
    snprintf(x->res->param, sizeof(x->res->param), "%s", param);

    va_start(args, fmt);
    vsnprintf(x->res->message, sizeof(x->res->message), fmt, args);
    va_end(args);

    return NGX_HTTP_LLM_XLATE_OK;
}


/*
 * A chat client's stream_options, to a provider that always reports
 * usage: the client's wish shapes our output only
 */

int
ngx_http_llm_xlate_stream_options(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    x->res->include_usage = cJSON_IsTrue(
        cJSON_GetObjectItemCaseSensitive(v, "include_usage"));

    return NGX_HTTP_LLM_XLATE_OK;
}


/* a chat chunk's usage (OpenAI's shape): the stream's counts */

void
ngx_http_llm_xlate_chat_usage(ngx_http_llm_xlate_sse_t *s, cJSON *u)
{
    int64_t  n;

    n = ngx_http_llm_xlate_int(u, "prompt_tokens");
    if (n >= 0) {
        s->prompt_tokens = n;
        s->usage_seen = 1;
    }

    n = ngx_http_llm_xlate_int(u, "completion_tokens");
    if (n >= 0) {
        s->completion_tokens = n;
        s->usage_seen = 1;
    }

    n = ngx_http_llm_xlate_int(
            cJSON_GetObjectItemCaseSensitive(u, "prompt_tokens_details"),
            "cached_tokens");
    if (n >= 0) {
        s->cached_tokens = n;
    }
}


/* the route's model=, or the client's */

int
ngx_http_llm_xlate_model(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    const char  *model;

    model = x->conf->model ? x->conf->model : v->valuestring;

    if (model == NULL) {
        return ngx_http_llm_xlate_refuse(x, "model",
                                         "'model' must be a string");
    }

    ngx_http_llm_xlate_add_str(x, x->dst, "model", model);

    return NGX_HTTP_LLM_XLATE_OK;
}


/* a bound on tokens: a positive integer, or refused (then < 1) */

static int64_t
ngx_http_llm_xlate_bound(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    int64_t  n;

    n = ngx_http_llm_xlate_int(x->src, v->string);

    if (n < 1) {
        (void) ngx_http_llm_xlate_refuse(x, v->string,
                   "'%s' must be a positive integer", v->string);
    }

    return n;
}


/* a chat client's max_tokens or max_completion_tokens: kept for later */

int
ngx_http_llm_xlate_max_tokens_in(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    int64_t  n;

    n = ngx_http_llm_xlate_bound(x, v);

    if (n < 1) {
        /* refused: x->res says why */
        return NGX_HTTP_LLM_XLATE_OK;
    }

    /* max_completion_tokens replaces the older max_tokens */
    if (x->max_tokens < 0 || strcmp(v->string, "max_completion_tokens") == 0)
    {
        x->max_tokens = n;
    }

    return NGX_HTTP_LLM_XLATE_OK;
}


/* another client's bound, to a chat provider: as its conf names it */

int
ngx_http_llm_xlate_max_tokens_out(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    int64_t  n;

    n = ngx_http_llm_xlate_bound(x, v);

    if (n < 1) {
        /* refused: x->res says why */
        return NGX_HTTP_LLM_XLATE_OK;
    }

    x->res->max_tokens = n;

    ngx_http_llm_xlate_add(x, x->dst,
                           x->conf->max_completion_tokens
                               ? "max_completion_tokens" : "max_tokens",
                           ngx_http_llm_xlate_take(x->src, v));

    return NGX_HTTP_LLM_XLATE_OK;
}


/* a known reasoning_effort: its budget in x->budget; else refused */

int
ngx_http_llm_xlate_effort(ngx_http_llm_xlate_req_t *x, cJSON *v,
    const ngx_http_llm_xlate_effort_t *efforts)
{
    int  i;

    for (i = 0; cJSON_IsString(v) && efforts[i].effort; i++) {
        if (strcmp(efforts[i].effort, v->valuestring) == 0) {
            x->budget = efforts[i].budget;
            return NGX_HTTP_LLM_XLATE_OK;
        }
    }

    return ngx_http_llm_xlate_refuse(x, "reasoning_effort",
               "'reasoning_effort' must be none, minimal, low, medium "
               "or high");
}


/* modalities: text only, as the provider answers nothing else */

int
ngx_http_llm_xlate_text_only(ngx_http_llm_xlate_req_t *x, cJSON *v,
    const char *provider)
{
    cJSON  *m;

    for (m = cJSON_IsArray(v) ? v->child : NULL; m; m = m->next) {
        if (!cJSON_IsString(m) || strcmp(m->valuestring, "text")) {
            return ngx_http_llm_xlate_refuse(x, "modalities",
                       "'modalities' other than text have no equivalent "
                       "at %s", provider);
        }
    }

    return NGX_HTTP_LLM_XLATE_OK;
}


/* adds a name to the dropped list once; a full list ends with "..." */

void
ngx_http_llm_xlate_drop(ngx_http_llm_xlate_req_t *x, const char *name)
{
    char    *d, *p;
    size_t   len, n;

    /* a member named "" (strstr() would find it everywhere, forever) */
    if (name[0] == '\0') {
        name = "\"\"";
    }

    d = x->res->dropped;
    len = strlen(d);
    n = strlen(name);

    for (p = d; (p = strstr(p, name)) != NULL; p += n) {
        if ((p == d || p[-1] == ' ') && (p[n] == ',' || p[n] == '\0')) {
            return;
        }
    }

    if (len && len >= sizeof(x->res->dropped) - 4) {
        return;
    }

    if (len + (len ? 2 : 0) + n + 4 >= sizeof(x->res->dropped)) {
        memcpy(d + len, len ? ", ..." : "...", len ? 6 : 4);
        return;
    }

    if (len) {
        memcpy(d + len, ", ", 2);
        len += 2;
    }

    memcpy(d + len, name, n + 1);
}


cJSON *
ngx_http_llm_xlate_take(cJSON *obj, cJSON *item)
{
    return cJSON_DetachItemViaPointer(obj, item);
}


/* adds item to obj (an array when name is NULL); NULL sets x->oom */

cJSON *
ngx_http_llm_xlate_add(ngx_http_llm_xlate_req_t *x, cJSON *obj,
    const char *name, cJSON *item)
{
    if (item == NULL || obj == NULL) {
        x->oom = 1;
        cJSON_Delete(item);
        return NULL;
    }

    if (name == NULL) {
        if (!cJSON_AddItemToArray(obj, item)) {
            x->oom = 1;
            cJSON_Delete(item);
            return NULL;
        }

        return item;
    }

    if (!cJSON_AddItemToObject(obj, name, item)) {
        x->oom = 1;
        cJSON_Delete(item);
        return NULL;
    }

    return item;
}


cJSON *
ngx_http_llm_xlate_add_str(ngx_http_llm_xlate_req_t *x, cJSON *obj,
    const char *name, const char *s)
{
    /* a member the provider left out is an empty string, not a failure */
    return ngx_http_llm_xlate_add(x, obj, name, cJSON_CreateString(s ? s : ""));
}


const char *
ngx_http_llm_xlate_str(cJSON *obj, const char *name)
{
    cJSON  *item;

    item = cJSON_GetObjectItemCaseSensitive(obj, name);

    return cJSON_IsString(item) ? item->valuestring : NULL;
}


/*
 * A chat client's tool_choice in a target's words: modes[] names "none",
 * "auto", "required" and a named function, in that order; *name is the
 * function's.  NULL: it has no equivalent.
 */

const char *
ngx_http_llm_xlate_tool_choice(cJSON *v, const char *modes[4],
    const char **name)
{
    size_t               i;
    static const char   *chat[] = { "none", "auto", "required" };

    *name = NULL;

    if (cJSON_IsString(v)) {
        for (i = 0; i < 3; i++) {
            if (strcmp(v->valuestring, chat[i]) == 0) {
                return modes[i];
            }
        }

        return NULL;
    }

    *name = ngx_http_llm_xlate_str(
                cJSON_GetObjectItemCaseSensitive(v, "function"), "name");

    return *name ? modes[3] : NULL;
}


/* an integral member 0 .. 2^53, else -1 */

int64_t
ngx_http_llm_xlate_int(cJSON *obj, const char *name)
{
    cJSON  *item;

    item = cJSON_GetObjectItemCaseSensitive(obj, name);

    if (!cJSON_IsNumber(item) || item->valuedouble < 0
        || item->valuedouble > 9007199254740992.0
        || item->valuedouble != (double) (int64_t) item->valuedouble)
    {
        return -1;
    }

    return (int64_t) item->valuedouble;
}


void
ngx_http_llm_xlate_buf_free(ngx_http_llm_xlate_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->size = 0;
}


/*
 * One SSE event: "event: NAME\ndata: JSON\n\n" (Anthropic) or, without
 * a name, "data: JSON\n\n" (OpenAI).  data is deleted.
 */

int
ngx_http_llm_xlate_emit(ngx_http_llm_xlate_buf_t *out, const char *event,
    cJSON *data)
{
    int     rc;
    size_t  len;

    if (data == NULL) {
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    len = out->len;
    rc = NGX_HTTP_LLM_XLATE_OK;

    if (event) {
        rc |= ngx_http_llm_xlate_buf_append(out, "event: ", 7);
        rc |= ngx_http_llm_xlate_buf_append(out, event, strlen(event));
        rc |= ngx_http_llm_xlate_buf_append(out, "\n", 1);
    }

    rc |= ngx_http_llm_xlate_buf_append(out, "data: ", 6);
    rc |= ngx_http_llm_xlate_print(out, data);
    rc |= ngx_http_llm_xlate_buf_append(out, "\n\n", 2);

    cJSON_Delete(data);

    if (rc) {
        /* never half an event */
        out->len = len;
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    return NGX_HTTP_LLM_XLATE_OK;
}


/* errors */

static const char *
ngx_http_llm_xlate_status_type(int format, int status)
{
    const ngx_http_llm_xlate_etype_t  *t;

    for (t = ngx_http_llm_xlate_etypes; ; t++) {
        if (t->status == status
            || (t->status == 0 && status < 500)
            || t->status == 1)
        {
            return t->type[format];
        }
    }
}


int
ngx_http_llm_xlate_error_write(int to, int status, const char *type,
    const char *message, const char *param, ngx_http_llm_xlate_buf_t *out)
{
    int  rc;

    /* cJSON's allocations from the scratch arena */
    ngx_http_llm_xlate_enter();
    rc = ngx_http_llm_xlate_error_write_in(to, status, type, message, param,
                                           out);
    ngx_http_llm_xlate_leave();

    return rc;
}


static int
ngx_http_llm_xlate_error_write_in(int to, int status, const char *type,
    const char *message, const char *param, ngx_http_llm_xlate_buf_t *out)
{
    int     rc;
    cJSON  *root, *err;

    if (to < 0 || to >= NGX_HTTP_LLM_XLATE_NFORMATS) {
        return NGX_HTTP_LLM_XLATE_BAD;
    }

    /* the Responses API's errors are OpenAI's (its reference, "Errors") */
    if (to == NGX_HTTP_LLM_XLATE_RESPONSES) {
        to = NGX_HTTP_LLM_XLATE_CHAT;
    }

    if (type == NULL || type[0] == '\0') {
        type = ngx_http_llm_xlate_status_type(to, status);
    }

    root = cJSON_CreateObject();
    err = cJSON_CreateObject();

    if (root == NULL || err == NULL) {
        cJSON_Delete(root);
        cJSON_Delete(err);
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    if (to == NGX_HTTP_LLM_XLATE_MESSAGES) {
        cJSON_AddStringToObject(root, "type", "error");
        cJSON_AddItemToObject(root, "error", err);
        cJSON_AddStringToObject(err, "type", type);
        cJSON_AddStringToObject(err, "message", message);

    } else {
        cJSON_AddItemToObject(root, "error", err);
        cJSON_AddStringToObject(err, "message", message);
        cJSON_AddStringToObject(err, "type", type);

        if (param && param[0]) {
            cJSON_AddStringToObject(err, "param", param);

        } else {
            cJSON_AddNullToObject(err, "param");
        }

        cJSON_AddNullToObject(err, "code");
    }

    rc = ngx_http_llm_xlate_print(out, root);
    cJSON_Delete(root);

    return rc == NGX_HTTP_LLM_XLATE_OK ? rc : NGX_HTTP_LLM_XLATE_NOMEM;
}


/*
 * Reads what providers put in an error answer: OpenAI's and Anthropic's
 * {"error":{...}}, {"error":"text"}, {"message":"text"}, and a list of
 * those (Google's OpenAI-compatible endpoint).
 */

int
ngx_http_llm_xlate_error(int from, int to, int status,
    const unsigned char *body, size_t len, ngx_http_llm_xlate_buf_t *out)
{
    int  rc;

    /* cJSON's allocations from the scratch arena */
    ngx_http_llm_xlate_enter();
    rc = ngx_http_llm_xlate_error_in(from, to, status, body, len, out);
    ngx_http_llm_xlate_leave();

    return rc;
}


static int
ngx_http_llm_xlate_error_in(int from, int to, int status,
    const unsigned char *body, size_t len, ngx_http_llm_xlate_buf_t *out)
{
    int     rc;
    cJSON  *root, *e;

    (void) from;

    root = body ? cJSON_ParseWithLength((const char *) body, len) : NULL;
    e = root;

    if (cJSON_IsArray(e)) {
        e = e->child;
    }

    rc = ngx_http_llm_xlate_error_json(to, status, e, out, 0);
    cJSON_Delete(root);

    return rc;
}


int
ngx_http_llm_xlate_error_json(int to, int status, cJSON *e,
    ngx_http_llm_xlate_buf_t *out, int sse)
{
    int                                rc;
    char                               buf[96];
    cJSON                             *err;
    const char                        *message, *type, *param;
    const ngx_http_llm_xlate_etype_t  *t;

    message = NULL;
    type = NULL;
    param = NULL;

    if (to == NGX_HTTP_LLM_XLATE_RESPONSES) {
        to = NGX_HTTP_LLM_XLATE_CHAT;
    }

    if (cJSON_IsObject(e)) {
        err = cJSON_GetObjectItemCaseSensitive(e, "error");

        if (cJSON_IsObject(err)) {
            message = ngx_http_llm_xlate_str(err, "message");
            type = ngx_http_llm_xlate_str(err, "type");
            param = ngx_http_llm_xlate_str(err, "param");

            if (type == NULL) {
                /* Google: {"error":{"code":400,"status":"INVALID_..."}} */
                type = ngx_http_llm_xlate_str(err, "status");
            }

        } else if (cJSON_IsString(err)) {
            message = err->valuestring;

        } else {
            message = ngx_http_llm_xlate_str(e, "message");
        }
    }

    /* Anthropic's clients know its own types only */
    if (type && to == NGX_HTTP_LLM_XLATE_MESSAGES) {
        for (t = ngx_http_llm_xlate_etypes; t->status > 1; t++) {
            if (strcmp(type, t->type[to]) == 0) {
                break;
            }
        }

        if (t->status <= 1 && strcmp(type, "api_error") != 0) {
            type = NULL;
        }
    }

    if (message == NULL) {
        snprintf(buf, sizeof(buf), "the provider answered %d", status);
        message = buf;
    }

    if (!sse) {
        return ngx_http_llm_xlate_error_write(to, status, type, message,
                                              param, out);
    }

    if (to == NGX_HTTP_LLM_XLATE_MESSAGES) {
        rc = ngx_http_llm_xlate_buf_append(out, "event: error\ndata: ", 19);

    } else {
        rc = ngx_http_llm_xlate_buf_append(out, "data: ", 6);
    }

    rc |= ngx_http_llm_xlate_error_write(to, status, type, message, param,
                                         out);
    rc |= ngx_http_llm_xlate_buf_append(out, "\n\n", 2);

    return rc ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
}
