
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * An OpenAI Responses API client, a chat completions stream: chunks ->
 * the Responses events (the response object and its items are built by
 * ngx_http_llm_router_xlate_responses_chat_answer.c).  Anthropic streams
 * come here as chunks too (ngx_http_llm_router_xlate_responses_messages.c).
 *
 * References:
 * https://platform.openai.com/docs/api-reference/responses-streaming
 * https://platform.openai.com/docs/api-reference/chat-streaming
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_llm_router_xlate.h"


#define RC_ITEM_NONE     0
#define RC_ITEM_MESSAGE  1
#define RC_ITEM_CALL     2


static void rc_read_usage(ngx_http_llm_xlate_sse_t *s,
    ngx_http_llm_xlate_rsp_t *r, cJSON *u);
static cJSON *rc_ev(const char *type);
static int rc_emit(ngx_http_llm_xlate_rsp_t *r, int oom, cJSON *ev,
    ngx_http_llm_xlate_buf_t *out);
static int rc_start(ngx_http_llm_xlate_sse_t *s, ngx_http_llm_xlate_rsp_t *r,
    cJSON *data, ngx_http_llm_xlate_buf_t *out);
static int rc_open(ngx_http_llm_xlate_sse_t *s, ngx_http_llm_xlate_rsp_t *r,
    int type, const char *call_id, const char *name,
    ngx_http_llm_xlate_buf_t *out);
static int rc_delta(ngx_http_llm_xlate_sse_t *s, ngx_http_llm_xlate_rsp_t *r,
    const char *delta, ngx_http_llm_xlate_buf_t *out);
static int rc_close(ngx_http_llm_xlate_sse_t *s, ngx_http_llm_xlate_rsp_t *r,
    ngx_http_llm_xlate_buf_t *out);
static int rc_calls(ngx_http_llm_xlate_sse_t *s, ngx_http_llm_xlate_rsp_t *r,
    cJSON *calls, ngx_http_llm_xlate_buf_t *out);
static int rc_finish(ngx_http_llm_xlate_sse_t *s,
    ngx_http_llm_xlate_rsp_t *r, ngx_http_llm_xlate_buf_t *out);
static cJSON *rc_items(ngx_http_llm_xlate_rsp_t *r);
static char *rc_string(ngx_http_llm_xlate_buf_t *b);


/* provider error types -> the codes of a failed response's error */
static const char  *rc_codes[][2] = {
    { "rate_limit_error", "rate_limit_exceeded" },
    { "rate_limit_exceeded", "rate_limit_exceeded" },
    { "insufficient_quota", "insufficient_quota" },
    { "context_length_exceeded", "context_length_exceeded" },
    { NULL, NULL }
};


ngx_http_llm_xlate_rsp_t *
ngx_http_llm_xlate_rc_state(ngx_http_llm_xlate_sse_t *s)
{
    if (s->rsp == NULL) {
        s->rsp = calloc(1, sizeof(ngx_http_llm_xlate_rsp_t));
    }

    return s->rsp;
}


int
ngx_http_llm_xlate_rc_event(ngx_http_llm_xlate_sse_t *s, const char *name,
    cJSON *data, ngx_http_llm_xlate_buf_t *out)
{
    int                        rc;
    cJSON                     *choice, *delta;
    const char                *t;
    ngx_http_llm_xlate_rsp_t  *r;

    r = ngx_http_llm_xlate_rc_state(s);
    if (r == NULL) {
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    if (name && strcmp(name, "[DONE]") == 0) {
        return rc_finish(s, r, out);
    }

    if (!r->started) {
        rc = rc_start(s, r, data, out);
        if (rc != NGX_HTTP_LLM_XLATE_OK) {
            return rc;
        }
    }

    rc_read_usage(s, r, cJSON_GetObjectItemCaseSensitive(data, "usage"));

    choice = cJSON_GetArrayItem(
                 cJSON_GetObjectItemCaseSensitive(data, "choices"), 0);
    delta = cJSON_GetObjectItemCaseSensitive(choice, "delta");

    /* refusals are text to the client: the stream has no refusal part */
    t = ngx_http_llm_xlate_str(delta, "content");

    if (t == NULL || t[0] == '\0') {
        t = ngx_http_llm_xlate_str(delta, "refusal");
    }

    if (t && t[0]) {
        if (r->type != RC_ITEM_MESSAGE) {
            rc = rc_open(s, r, RC_ITEM_MESSAGE, NULL, NULL, out);
            if (rc != NGX_HTTP_LLM_XLATE_OK) {
                return rc;
            }
        }

        rc = rc_delta(s, r, t, out);
        if (rc != NGX_HTTP_LLM_XLATE_OK) {
            return rc;
        }
    }

    rc = rc_calls(s, r, cJSON_GetObjectItemCaseSensitive(delta, "tool_calls"),
                  out);
    if (rc != NGX_HTTP_LLM_XLATE_OK) {
        return rc;
    }

    t = ngx_http_llm_xlate_str(choice, "finish_reason");

    if (t) {
        snprintf(s->stop, sizeof(s->stop), "%s", t);
    }

    return NGX_HTTP_LLM_XLATE_OK;
}


static void
rc_read_usage(ngx_http_llm_xlate_sse_t *s, ngx_http_llm_xlate_rsp_t *r,
    cJSON *u)
{
    int64_t  n;

    if (!cJSON_IsObject(u)) {
        return;
    }

    ngx_http_llm_xlate_chat_usage(s, u);

    n = ngx_http_llm_xlate_int(
            cJSON_GetObjectItemCaseSensitive(u, "completion_tokens_details"),
            "reasoning_tokens");
    if (n >= 0) {
        r->reasoning_tokens = n;
    }
}


static cJSON *
rc_ev(const char *type)
{
    cJSON  *ev;

    ev = cJSON_CreateObject();

    if (ev && cJSON_AddStringToObject(ev, "type", type) == NULL) {
        cJSON_Delete(ev);
        return NULL;
    }

    return ev;
}


/*
 * "event: TYPE" and the data with its sequence_number; ev is deleted,
 * also when it could not be made whole (oom: an addition failed)
 */

static int
rc_emit(ngx_http_llm_xlate_rsp_t *r, int oom, cJSON *ev,
    ngx_http_llm_xlate_buf_t *out)
{
    char         name[64];
    const char  *type;

    type = ngx_http_llm_xlate_str(ev, "type");

    if (oom || type == NULL
        || cJSON_AddNumberToObject(ev, "sequence_number", (double) r->seq)
           == NULL)
    {
        cJSON_Delete(ev);
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    /* emit() deletes ev, and the name with it */
    snprintf(name, sizeof(name), "%s", type);
    r->seq++;

    return ngx_http_llm_xlate_emit(out, name, ev);
}


static int
rc_start(ngx_http_llm_xlate_sse_t *s, ngx_http_llm_xlate_rsp_t *r,
    cJSON *data, ngx_http_llm_xlate_buf_t *out)
{
    int           rc;
    cJSON        *ev;
    int64_t       created;
    const char   *id;

    static const char  *types[] = { "response.created",
                                    "response.in_progress", NULL };
    const char        **type;

    id = ngx_http_llm_xlate_str(data, "id");
    snprintf(r->id, sizeof(r->id), "resp_%.100s", id ? id : "gateway");

    /* the provider's time, as for a JSON answer */
    created = ngx_http_llm_xlate_int(data, "created");
    if (created > 0) {
        s->created = created;
    }
    r->started = 1;
    r->index = -1;
    r->tool = -1;

    for (type = types; *type; type++) {
        ev = rc_ev(*type);

        if (ev == NULL
            || !cJSON_AddItemToObject(ev, "response",
                   ngx_http_llm_xlate_rc_object(r->id, s->model, s->created,
                                                NULL, NULL, NULL)))
        {
            cJSON_Delete(ev);
            return NGX_HTTP_LLM_XLATE_NOMEM;
        }

        rc = rc_emit(r, 0, ev, out);
        if (rc != NGX_HTTP_LLM_XLATE_OK) {
            return rc;
        }
    }

    return NGX_HTTP_LLM_XLATE_OK;
}


/* closes the open item and opens one of this type */

static int
rc_open(ngx_http_llm_xlate_sse_t *s, ngx_http_llm_xlate_rsp_t *r, int type,
    const char *call_id, const char *name, ngx_http_llm_xlate_buf_t *out)
{
    int                        rc;
    cJSON                     *ev, *item;
    ngx_http_llm_xlate_req_t   x;

    rc = rc_close(s, r, out);
    if (rc != NGX_HTTP_LLM_XLATE_OK) {
        return rc;
    }

    memset(&x, 0, sizeof(ngx_http_llm_xlate_req_t));

    r->type = type;
    r->index = r->nitems++;
    r->text.len = 0;

    if (type == RC_ITEM_MESSAGE) {
        snprintf(r->item_id, sizeof(r->item_id), "msg_%d_%.100s", r->index,
                 r->id + 5);
        item = ngx_http_llm_xlate_rc_message(r->item_id, "in_progress", NULL);

    } else {
        snprintf(r->item_id, sizeof(r->item_id), "fc_%d_%.100s", r->index,
                 r->id + 5);
        snprintf(r->call_id, sizeof(r->call_id), "%s",
                 call_id ? call_id : r->item_id);
        snprintf(r->name, sizeof(r->name), "%s", name ? name : "");
        item = ngx_http_llm_xlate_rc_call(r->item_id, "in_progress",
                                          r->call_id, r->name, "");
    }

    ev = rc_ev("response.output_item.added");
    ngx_http_llm_xlate_add(&x, ev, "output_index",
                           cJSON_CreateNumber(r->index));
    ngx_http_llm_xlate_add(&x, ev, "item", item);

    rc = rc_emit(r, x.oom, ev, out);

    if (rc != NGX_HTTP_LLM_XLATE_OK || type != RC_ITEM_MESSAGE) {
        return rc;
    }

    ev = rc_ev("response.content_part.added");
    ngx_http_llm_xlate_add_str(&x, ev, "item_id", r->item_id);
    ngx_http_llm_xlate_add(&x, ev, "output_index",
                           cJSON_CreateNumber(r->index));
    ngx_http_llm_xlate_add(&x, ev, "content_index", cJSON_CreateNumber(0));
    ngx_http_llm_xlate_add(&x, ev, "part", ngx_http_llm_xlate_rc_part(""));

    return rc_emit(r, x.oom, ev, out);
}


/* text or arguments of the open item */

static int
rc_delta(ngx_http_llm_xlate_sse_t *s, ngx_http_llm_xlate_rsp_t *r,
    const char *delta, ngx_http_llm_xlate_buf_t *out)
{
    size_t                     n;
    cJSON                     *ev;
    ngx_http_llm_xlate_req_t   x;

    n = strlen(delta);

    if (r->text.len + r->items.len + n > NGX_HTTP_LLM_XLATE_OUTPUT_MAX) {
        return ngx_http_llm_xlate_rc_fail(s, NULL, "the answer is larger "
                                          "than the gateway translates", out);
    }

    if (ngx_http_llm_xlate_buf_append(&r->text, delta, n)
        != NGX_HTTP_LLM_XLATE_OK)
    {
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    memset(&x, 0, sizeof(ngx_http_llm_xlate_req_t));

    if (r->type == RC_ITEM_MESSAGE) {
        ev = rc_ev("response.output_text.delta");
        ngx_http_llm_xlate_add_str(&x, ev, "item_id", r->item_id);
        ngx_http_llm_xlate_add(&x, ev, "output_index",
                               cJSON_CreateNumber(r->index));
        ngx_http_llm_xlate_add(&x, ev, "content_index",
                               cJSON_CreateNumber(0));
        ngx_http_llm_xlate_add_str(&x, ev, "delta", delta);
        ngx_http_llm_xlate_add(&x, ev, "logprobs", cJSON_CreateArray());

    } else {
        ev = rc_ev("response.function_call_arguments.delta");
        ngx_http_llm_xlate_add_str(&x, ev, "item_id", r->item_id);
        ngx_http_llm_xlate_add(&x, ev, "output_index",
                               cJSON_CreateNumber(r->index));
        ngx_http_llm_xlate_add_str(&x, ev, "delta", delta);
    }

    return rc_emit(r, x.oom, ev, out);
}


/*
 * The open item's closing events, each with the whole text, and the item
 * kept for response.completed.
 */

static int
rc_close(ngx_http_llm_xlate_sse_t *s, ngx_http_llm_xlate_rsp_t *r,
    ngx_http_llm_xlate_buf_t *out)
{
    int                        rc;
    char                      *text, *p;
    cJSON                     *ev, *item;
    const char                *status;
    ngx_http_llm_xlate_req_t   x;

    if (r->type == RC_ITEM_NONE) {
        return NGX_HTTP_LLM_XLATE_OK;
    }

    text = rc_string(&r->text);
    if (text == NULL) {
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    memset(&x, 0, sizeof(ngx_http_llm_xlate_req_t));

    status = ngx_http_llm_xlate_rc_incomplete(s->stop) ? "incomplete"
                                                        : "completed";

    if (r->type == RC_ITEM_MESSAGE) {
        ev = rc_ev("response.output_text.done");
        ngx_http_llm_xlate_add_str(&x, ev, "item_id", r->item_id);
        ngx_http_llm_xlate_add(&x, ev, "output_index",
                               cJSON_CreateNumber(r->index));
        ngx_http_llm_xlate_add(&x, ev, "content_index",
                               cJSON_CreateNumber(0));
        ngx_http_llm_xlate_add_str(&x, ev, "text", text);
        ngx_http_llm_xlate_add(&x, ev, "logprobs", cJSON_CreateArray());

        rc = rc_emit(r, x.oom, ev, out);

        if (rc == NGX_HTTP_LLM_XLATE_OK) {
            ev = rc_ev("response.content_part.done");
            ngx_http_llm_xlate_add_str(&x, ev, "item_id", r->item_id);
            ngx_http_llm_xlate_add(&x, ev, "output_index",
                                   cJSON_CreateNumber(r->index));
            ngx_http_llm_xlate_add(&x, ev, "content_index",
                                   cJSON_CreateNumber(0));
            ngx_http_llm_xlate_add(&x, ev, "part",
                                   ngx_http_llm_xlate_rc_part(text));

            rc = rc_emit(r, x.oom, ev, out);
        }

        item = ngx_http_llm_xlate_rc_message(r->item_id, status,
                                         ngx_http_llm_xlate_rc_part(text));

    } else {
        ev = rc_ev("response.function_call_arguments.done");
        ngx_http_llm_xlate_add_str(&x, ev, "item_id", r->item_id);
        ngx_http_llm_xlate_add(&x, ev, "output_index",
                               cJSON_CreateNumber(r->index));
        ngx_http_llm_xlate_add_str(&x, ev, "arguments", text);

        rc = rc_emit(r, x.oom, ev, out);

        item = ngx_http_llm_xlate_rc_call(r->item_id, "completed",
                                          r->call_id, r->name, text);
    }

    free(text);
    r->type = RC_ITEM_NONE;
    r->text.len = 0;

    if (rc != NGX_HTTP_LLM_XLATE_OK || item == NULL) {
        cJSON_Delete(item);
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    /* kept as text: the finished items are only repeated at the end */

    p = cJSON_PrintUnformatted(item);

    if (p == NULL
        || (r->items.len
            && ngx_http_llm_xlate_buf_append(&r->items, ",", 1))
        || ngx_http_llm_xlate_buf_append(&r->items, p, strlen(p)))
    {
        cJSON_free(p);
        cJSON_Delete(item);
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    cJSON_free(p);

    ev = rc_ev("response.output_item.done");
    ngx_http_llm_xlate_add(&x, ev, "output_index",
                           cJSON_CreateNumber(r->index));
    ngx_http_llm_xlate_add(&x, ev, "item", item);

    return rc_emit(r, x.oom, ev, out);
}


/*
 * Providers stream calls one after the other: a new index or an id starts
 * a new function_call item; the arguments come in pieces.
 */

static int
rc_calls(ngx_http_llm_xlate_sse_t *s, ngx_http_llm_xlate_rsp_t *r,
    cJSON *calls, ngx_http_llm_xlate_buf_t *out)
{
    int          rc;
    cJSON       *c, *fn;
    int64_t      index;
    const char  *id, *name, *args;

    for (c = cJSON_IsArray(calls) ? calls->child : NULL; c; c = c->next) {
        index = ngx_http_llm_xlate_int(c, "index");
        index = index < 0 ? 0 : index;
        id = ngx_http_llm_xlate_str(c, "id");
        fn = cJSON_GetObjectItemCaseSensitive(c, "function");
        name = ngx_http_llm_xlate_str(fn, "name");
        args = ngx_http_llm_xlate_str(fn, "arguments");

        if (r->type != RC_ITEM_CALL || index != r->tool
            || (id && id[0] && strcmp(id, r->call_id) != 0))
        {
            rc = rc_open(s, r, RC_ITEM_CALL, (id && id[0]) ? id : NULL,
                         name, out);
            if (rc != NGX_HTTP_LLM_XLATE_OK) {
                return rc;
            }

            r->tool = (int) index;
        }

        if (args && args[0]) {
            rc = rc_delta(s, r, args, out);
            if (rc != NGX_HTTP_LLM_XLATE_OK || s->failed) {
                return rc;
            }
        }
    }

    return NGX_HTTP_LLM_XLATE_OK;
}


static int
rc_finish(ngx_http_llm_xlate_sse_t *s, ngx_http_llm_xlate_rsp_t *r,
    ngx_http_llm_xlate_buf_t *out)
{
    int          rc;
    cJSON       *ev, *resp, *items;
    ngx_http_llm_xlate_usage_t   u;

    if (!r->started) {
        rc = rc_start(s, r, NULL, out);
        if (rc != NGX_HTTP_LLM_XLATE_OK) {
            return rc;
        }
    }

    rc = rc_close(s, r, out);
    if (rc != NGX_HTTP_LLM_XLATE_OK) {
        return rc;
    }

    u.input = s->prompt_tokens;
    u.output = s->completion_tokens;
    u.cached = s->cached_tokens;
    u.reasoning = r->reasoning_tokens;

    items = rc_items(r);
    if (items == NULL) {
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    resp = ngx_http_llm_xlate_rc_object(r->id, s->model, s->created,
                     s->stop[0] ? s->stop : "stop", items,
                     s->usage_seen ? &u : NULL);

    ev = rc_ev(ngx_http_llm_xlate_rc_incomplete(s->stop) ? "response.incomplete"
                                             : "response.completed");

    if (resp == NULL || ev == NULL
        || !cJSON_AddItemToObject(ev, "response", resp))
    {
        cJSON_Delete(resp);
        cJSON_Delete(ev);
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    s->done = 1;

    return rc_emit(r, 0, ev, out);
}


/* the finished items as a list; NULL: out of memory */

static cJSON *
rc_items(ngx_http_llm_xlate_rsp_t *r)
{
    char   *p;
    cJSON  *items;

    if (r->items.len == 0) {
        return cJSON_CreateArray();
    }

    p = malloc(r->items.len + 2);
    if (p == NULL) {
        return NULL;
    }

    p[0] = '[';
    memcpy(p + 1, r->items.data, r->items.len);
    p[r->items.len + 1] = ']';

    items = cJSON_ParseWithLength(p, r->items.len + 2);
    free(p);

    return items;
}


/* the buffer as a string of its own */

static char *
rc_string(ngx_http_llm_xlate_buf_t *b)
{
    char  *p;

    p = malloc(b->len + 1);
    if (p == NULL) {
        return NULL;
    }

    if (b->len) {
        memcpy(p, b->data, b->len);
    }

    p[b->len] = '\0';

    return p;
}


/*
 * A stream that failed (the provider's error event e, or a message):
 * response.failed with what was done, as Codex and the Agents SDK read
 * it (the response's error.code and error.message).
 */

int
ngx_http_llm_xlate_rc_fail(ngx_http_llm_xlate_sse_t *s, cJSON *e,
    const char *message, ngx_http_llm_xlate_buf_t *out)
{
    int                        i, rc;
    cJSON                     *ev, *resp, *err, *o;
    ngx_http_llm_xlate_usage_t                 u;
    const char                *type, *code;
    ngx_http_llm_xlate_rsp_t  *r;
    ngx_http_llm_xlate_req_t   x;

    s->failed = 1;

    r = ngx_http_llm_xlate_rc_state(s);
    if (r == NULL) {
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    if (!r->started) {
        rc = rc_start(s, r, NULL, out);
        if (rc != NGX_HTTP_LLM_XLATE_OK) {
            return rc;
        }
    }

    err = cJSON_GetObjectItemCaseSensitive(e, "error");
    type = NULL;

    if (cJSON_IsObject(err)) {
        type = ngx_http_llm_xlate_str(err, "code");
        type = type ? type : ngx_http_llm_xlate_str(err, "type");
        message = ngx_http_llm_xlate_str(err, "message");

    } else if (cJSON_IsString(err)) {
        message = err->valuestring;
    }

    code = "server_error";

    for (i = 0; type && rc_codes[i][0]; i++) {
        if (strcmp(type, rc_codes[i][0]) == 0) {
            code = rc_codes[i][1];
            break;
        }
    }

    u.input = s->prompt_tokens;
    u.output = s->completion_tokens;
    u.cached = s->cached_tokens;
    u.reasoning = r->reasoning_tokens;

    memset(&x, 0, sizeof(ngx_http_llm_xlate_req_t));

    o = rc_items(r);
    resp = o ? ngx_http_llm_xlate_rc_object(r->id, s->model, s->created,
                                            "stop", o,
                                            s->usage_seen ? &u : NULL)
             : NULL;
    ev = rc_ev("response.failed");
    ngx_http_llm_xlate_add(&x, ev, "response", resp);

    if (!x.oom) {
        cJSON_DeleteItemFromObjectCaseSensitive(resp, "status");
        cJSON_DeleteItemFromObjectCaseSensitive(resp, "error");
        ngx_http_llm_xlate_add_str(&x, resp, "status", "failed");
        o = ngx_http_llm_xlate_add(&x, resp, "error", cJSON_CreateObject());
        ngx_http_llm_xlate_add_str(&x, o, "code", code);
        ngx_http_llm_xlate_add_str(&x, o, "message",
                                   message ? message
                                           : "the provider's stream failed");
    }

    return rc_emit(r, x.oom, ev, out);
}
