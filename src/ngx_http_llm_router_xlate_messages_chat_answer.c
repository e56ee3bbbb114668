
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * An Anthropic messages client, an OpenAI chat completions provider: the
 * answer and its SSE, chat -> messages (the request is in
 * ngx_http_llm_router_xlate_messages_chat.c).
 *
 * References: https://platform.openai.com/docs/api-reference/chat/object
 * https://platform.openai.com/docs/api-reference/chat-streaming
 * https://docs.anthropic.com/en/docs/build-with-claude/streaming
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_llm_router_xlate.h"


#define MC_BLOCK_NONE   0
#define MC_BLOCK_TEXT   1
#define MC_BLOCK_TOOL   2
#define MC_BLOCK_THINK  3


static int mc_start(ngx_http_llm_xlate_sse_t *s, cJSON *data,
    ngx_http_llm_xlate_buf_t *out);
static int mc_open(ngx_http_llm_xlate_sse_t *s, int type, cJSON *block,
    ngx_http_llm_xlate_buf_t *out);
static int mc_close(ngx_http_llm_xlate_sse_t *s,
    ngx_http_llm_xlate_buf_t *out);
static int mc_delta(ngx_http_llm_xlate_sse_t *s, const char *type,
    const char *name, const char *value, ngx_http_llm_xlate_buf_t *out);
static int mc_tool_calls(ngx_http_llm_xlate_sse_t *s, cJSON *calls,
    ngx_http_llm_xlate_buf_t *out);
static int mc_finish(ngx_http_llm_xlate_sse_t *s,
    ngx_http_llm_xlate_buf_t *out);


/* the answer: a chat.completion -> an Anthropic message */

cJSON *
ngx_http_llm_xlate_mc_response(cJSON *src, const char *model, int64_t created)
{
    int64_t                    in, out, cached;
    cJSON                     *dst, *content, *choice, *msg, *b, *c, *fn,
                              *input, *u;
    const char                *id, *t, *args;
    ngx_http_llm_xlate_req_t   x;

    (void) created;

    memset(&x, 0, sizeof(ngx_http_llm_xlate_req_t));

    dst = cJSON_CreateObject();
    if (dst == NULL) {
        return NULL;
    }

    id = ngx_http_llm_xlate_str(src, "id");
    choice = cJSON_GetArrayItem(
                 cJSON_GetObjectItemCaseSensitive(src, "choices"), 0);
    msg = cJSON_GetObjectItemCaseSensitive(choice, "message");

    ngx_http_llm_xlate_add_str(&x, dst, "id", id ? id : "msg");
    ngx_http_llm_xlate_add_str(&x, dst, "type", "message");
    ngx_http_llm_xlate_add_str(&x, dst, "role", "assistant");
    ngx_http_llm_xlate_add_str(&x, dst, "model", model);

    content = ngx_http_llm_xlate_add(&x, dst, "content", cJSON_CreateArray());

    t = ngx_http_llm_xlate_str(msg, "reasoning_content");

    if (t && t[0]) {
        b = ngx_http_llm_xlate_add(&x, content, NULL, cJSON_CreateObject());
        ngx_http_llm_xlate_add_str(&x, b, "type", "thinking");
        ngx_http_llm_xlate_add_str(&x, b, "thinking", t);
        ngx_http_llm_xlate_add_str(&x, b, "signature", "");
    }

    t = ngx_http_llm_xlate_str(msg, "content");

    if (t && t[0]) {
        b = ngx_http_llm_xlate_add(&x, content, NULL, cJSON_CreateObject());
        ngx_http_llm_xlate_add_str(&x, b, "type", "text");
        ngx_http_llm_xlate_add_str(&x, b, "text", t);
    }

    c = cJSON_GetObjectItemCaseSensitive(msg, "tool_calls");

    for (c = cJSON_IsArray(c) ? c->child : NULL; c; c = c->next) {
        fn = cJSON_GetObjectItemCaseSensitive(c, "function");
        args = ngx_http_llm_xlate_str(fn, "arguments");
        input = (args && args[0]) ? cJSON_Parse(args) : NULL;

        if (!cJSON_IsObject(input)) {
            cJSON_Delete(input);
            input = cJSON_CreateObject();
        }

        b = ngx_http_llm_xlate_add(&x, content, NULL, cJSON_CreateObject());
        ngx_http_llm_xlate_add_str(&x, b, "type", "tool_use");
        ngx_http_llm_xlate_add_str(&x, b, "id",
                                   ngx_http_llm_xlate_str(c, "id"));
        ngx_http_llm_xlate_add_str(&x, b, "name",
                                   ngx_http_llm_xlate_str(fn, "name"));
        ngx_http_llm_xlate_add(&x, b, "input", input);
    }

    ngx_http_llm_xlate_add_str(&x, dst, "stop_reason",
        ngx_http_llm_xlate_stop(
            ngx_http_llm_xlate_str(choice, "finish_reason"),
            NGX_HTTP_LLM_XLATE_MESSAGES));
    ngx_http_llm_xlate_add(&x, dst, "stop_sequence", cJSON_CreateNull());

    u = cJSON_GetObjectItemCaseSensitive(src, "usage");
    in = ngx_http_llm_xlate_int(u, "prompt_tokens");
    out = ngx_http_llm_xlate_int(u, "completion_tokens");
    cached = ngx_http_llm_xlate_int(
                 cJSON_GetObjectItemCaseSensitive(u, "prompt_tokens_details"),
                 "cached_tokens");

    in = in < 0 ? 0 : in;
    out = out < 0 ? 0 : out;
    cached = (cached < 0 || cached > in) ? 0 : cached;

    u = ngx_http_llm_xlate_add(&x, dst, "usage", cJSON_CreateObject());
    ngx_http_llm_xlate_add(&x, u, "input_tokens",
                           cJSON_CreateNumber((double) (in - cached)));
    ngx_http_llm_xlate_add(&x, u, "cache_creation_input_tokens",
                           cJSON_CreateNumber(0));
    ngx_http_llm_xlate_add(&x, u, "cache_read_input_tokens",
                           cJSON_CreateNumber((double) cached));
    ngx_http_llm_xlate_add(&x, u, "output_tokens",
                           cJSON_CreateNumber((double) out));

    if (x.oom) {
        cJSON_Delete(dst);
        return NULL;
    }

    return dst;
}


/* the stream: chat.completion.chunk events -> Anthropic's events */

int
ngx_http_llm_xlate_mc_event(ngx_http_llm_xlate_sse_t *s, const char *name,
    cJSON *data, ngx_http_llm_xlate_buf_t *out)
{
    int           rc;
    cJSON        *u, *choice, *delta;
    const char   *t;

    if (name && strcmp(name, "[DONE]") == 0) {
        return mc_finish(s, out);
    }

    if (!s->started) {
        rc = mc_start(s, data, out);
        if (rc != NGX_HTTP_LLM_XLATE_OK) {
            return rc;
        }
    }

    u = cJSON_GetObjectItemCaseSensitive(data, "usage");

    if (cJSON_IsObject(u)) {
        ngx_http_llm_xlate_chat_usage(s, u);
    }

    choice = cJSON_GetArrayItem(
                 cJSON_GetObjectItemCaseSensitive(data, "choices"), 0);
    delta = cJSON_GetObjectItemCaseSensitive(choice, "delta");

    t = ngx_http_llm_xlate_str(delta, "reasoning_content");

    if (t && t[0]) {
        rc = mc_delta(s, "thinking_delta", "thinking", t, out);
        if (rc != NGX_HTTP_LLM_XLATE_OK) {
            return rc;
        }
    }

    t = ngx_http_llm_xlate_str(delta, "content");

    if (t && t[0]) {
        rc = mc_delta(s, "text_delta", "text", t, out);
        if (rc != NGX_HTTP_LLM_XLATE_OK) {
            return rc;
        }
    }

    rc = mc_tool_calls(s, cJSON_GetObjectItemCaseSensitive(delta,
                                                           "tool_calls"),
                       out);
    if (rc != NGX_HTTP_LLM_XLATE_OK) {
        return rc;
    }

    t = ngx_http_llm_xlate_str(choice, "finish_reason");

    if (t) {
        snprintf(s->stop, sizeof(s->stop), "%s",
                 ngx_http_llm_xlate_stop(t, NGX_HTTP_LLM_XLATE_MESSAGES));
    }

    return NGX_HTTP_LLM_XLATE_OK;
}


static int
mc_start(ngx_http_llm_xlate_sse_t *s, cJSON *data,
    ngx_http_llm_xlate_buf_t *out)
{
    cJSON                     *ev, *m, *u;
    const char                *id;
    ngx_http_llm_xlate_req_t   x;

    memset(&x, 0, sizeof(ngx_http_llm_xlate_req_t));

    id = ngx_http_llm_xlate_str(data, "id");
    snprintf(s->id, sizeof(s->id), "%s", id ? id : "msg");
    s->started = 1;

    ev = cJSON_CreateObject();
    ngx_http_llm_xlate_add_str(&x, ev, "type", "message_start");
    m = ngx_http_llm_xlate_add(&x, ev, "message", cJSON_CreateObject());
    ngx_http_llm_xlate_add_str(&x, m, "id", s->id);
    ngx_http_llm_xlate_add_str(&x, m, "type", "message");
    ngx_http_llm_xlate_add_str(&x, m, "role", "assistant");
    ngx_http_llm_xlate_add(&x, m, "content", cJSON_CreateArray());
    ngx_http_llm_xlate_add_str(&x, m, "model", s->model);
    ngx_http_llm_xlate_add(&x, m, "stop_reason", cJSON_CreateNull());
    ngx_http_llm_xlate_add(&x, m, "stop_sequence", cJSON_CreateNull());

    /* OpenAI reports usage at the end only: message_delta has it */
    u = ngx_http_llm_xlate_add(&x, m, "usage", cJSON_CreateObject());
    ngx_http_llm_xlate_add(&x, u, "input_tokens", cJSON_CreateNumber(0));
    ngx_http_llm_xlate_add(&x, u, "output_tokens", cJSON_CreateNumber(0));

    if (x.oom) {
        cJSON_Delete(ev);
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    return ngx_http_llm_xlate_emit(out, "message_start", ev);
}


/* opens a content block of this type unless one is open */

static int
mc_open(ngx_http_llm_xlate_sse_t *s, int type, cJSON *block,
    ngx_http_llm_xlate_buf_t *out)
{
    int                        rc;
    cJSON                     *ev;
    ngx_http_llm_xlate_req_t   x;

    if (s->block >= 0 && s->block_type == type && type != MC_BLOCK_TOOL) {
        cJSON_Delete(block);
        return NGX_HTTP_LLM_XLATE_OK;
    }

    rc = mc_close(s, out);
    if (rc != NGX_HTTP_LLM_XLATE_OK) {
        cJSON_Delete(block);
        return rc;
    }

    memset(&x, 0, sizeof(ngx_http_llm_xlate_req_t));

    s->block = s->ntools++;
    s->block_type = type;

    ev = cJSON_CreateObject();
    ngx_http_llm_xlate_add_str(&x, ev, "type", "content_block_start");
    ngx_http_llm_xlate_add(&x, ev, "index", cJSON_CreateNumber(s->block));
    ngx_http_llm_xlate_add(&x, ev, "content_block", block);

    if (x.oom) {
        cJSON_Delete(ev);
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    return ngx_http_llm_xlate_emit(out, "content_block_start", ev);
}


static int
mc_close(ngx_http_llm_xlate_sse_t *s, ngx_http_llm_xlate_buf_t *out)
{
    cJSON                     *ev;
    ngx_http_llm_xlate_req_t   x;

    if (s->block < 0) {
        return NGX_HTTP_LLM_XLATE_OK;
    }

    memset(&x, 0, sizeof(ngx_http_llm_xlate_req_t));

    ev = cJSON_CreateObject();
    ngx_http_llm_xlate_add_str(&x, ev, "type", "content_block_stop");
    ngx_http_llm_xlate_add(&x, ev, "index", cJSON_CreateNumber(s->block));

    s->block = -1;
    s->block_type = MC_BLOCK_NONE;

    if (x.oom) {
        cJSON_Delete(ev);
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    return ngx_http_llm_xlate_emit(out, "content_block_stop", ev);
}


/* text or thinking: the block is opened on its first delta */

static int
mc_delta(ngx_http_llm_xlate_sse_t *s, const char *type, const char *name,
    const char *value, ngx_http_llm_xlate_buf_t *out)
{
    int                        rc, think;
    cJSON                     *b, *ev, *d;
    ngx_http_llm_xlate_req_t   x;

    memset(&x, 0, sizeof(ngx_http_llm_xlate_req_t));

    think = (strcmp(name, "thinking") == 0);

    b = cJSON_CreateObject();
    ngx_http_llm_xlate_add_str(&x, b, "type", think ? "thinking" : "text");
    ngx_http_llm_xlate_add_str(&x, b, name, "");

    if (think) {
        ngx_http_llm_xlate_add_str(&x, b, "signature", "");
    }

    if (x.oom) {
        cJSON_Delete(b);
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    rc = mc_open(s, think ? MC_BLOCK_THINK : MC_BLOCK_TEXT, b, out);
    if (rc != NGX_HTTP_LLM_XLATE_OK) {
        return rc;
    }

    ev = cJSON_CreateObject();
    ngx_http_llm_xlate_add_str(&x, ev, "type", "content_block_delta");
    ngx_http_llm_xlate_add(&x, ev, "index", cJSON_CreateNumber(s->block));
    d = ngx_http_llm_xlate_add(&x, ev, "delta", cJSON_CreateObject());
    ngx_http_llm_xlate_add_str(&x, d, "type", type);
    ngx_http_llm_xlate_add_str(&x, d, name, value);

    if (x.oom) {
        cJSON_Delete(ev);
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    return ngx_http_llm_xlate_emit(out, "content_block_delta", ev);
}


/*
 * A call starts with its id and name, then its arguments come in pieces;
 * providers stream calls one after the other, so a new index or an id
 * starts a new tool_use block.
 */

static int
mc_tool_calls(ngx_http_llm_xlate_sse_t *s, cJSON *calls,
    ngx_http_llm_xlate_buf_t *out)
{
    int                        rc;
    char                       made[32];
    cJSON                     *c, *fn, *b, *ev, *d;
    int64_t                    index;
    const char                *id, *name, *args;
    ngx_http_llm_xlate_req_t   x;

    for (c = cJSON_IsArray(calls) ? calls->child : NULL; c; c = c->next) {
        memset(&x, 0, sizeof(ngx_http_llm_xlate_req_t));

        index = ngx_http_llm_xlate_int(c, "index");
        index = index < 0 ? 0 : index;
        id = ngx_http_llm_xlate_str(c, "id");
        fn = cJSON_GetObjectItemCaseSensitive(c, "function");
        name = ngx_http_llm_xlate_str(fn, "name");
        args = ngx_http_llm_xlate_str(fn, "arguments");

        if (s->block_type != MC_BLOCK_TOOL || index != s->tool
            || (id && id[0]))
        {
            if (id == NULL || id[0] == '\0') {
                snprintf(made, sizeof(made), "toolu_%d", s->ntools);
                id = made;
            }

            b = cJSON_CreateObject();
            ngx_http_llm_xlate_add_str(&x, b, "type", "tool_use");
            ngx_http_llm_xlate_add_str(&x, b, "id", id);
            ngx_http_llm_xlate_add_str(&x, b, "name", name ? name : "");
            ngx_http_llm_xlate_add(&x, b, "input", cJSON_CreateObject());

            if (x.oom) {
                cJSON_Delete(b);
                return NGX_HTTP_LLM_XLATE_NOMEM;
            }

            rc = mc_open(s, MC_BLOCK_TOOL, b, out);
            if (rc != NGX_HTTP_LLM_XLATE_OK) {
                return rc;
            }

            s->tool = (int) index;
        }

        if (args == NULL || args[0] == '\0') {
            continue;
        }

        ev = cJSON_CreateObject();
        ngx_http_llm_xlate_add_str(&x, ev, "type", "content_block_delta");
        ngx_http_llm_xlate_add(&x, ev, "index", cJSON_CreateNumber(s->block));
        d = ngx_http_llm_xlate_add(&x, ev, "delta", cJSON_CreateObject());
        ngx_http_llm_xlate_add_str(&x, d, "type", "input_json_delta");
        ngx_http_llm_xlate_add_str(&x, d, "partial_json", args);

        if (x.oom) {
            cJSON_Delete(ev);
            return NGX_HTTP_LLM_XLATE_NOMEM;
        }

        rc = ngx_http_llm_xlate_emit(out, "content_block_delta", ev);
        if (rc != NGX_HTTP_LLM_XLATE_OK) {
            return rc;
        }
    }

    return NGX_HTTP_LLM_XLATE_OK;
}


static int
mc_finish(ngx_http_llm_xlate_sse_t *s, ngx_http_llm_xlate_buf_t *out)
{
    int                        rc;
    cJSON                     *ev, *d, *u;
    int64_t                    cached;
    ngx_http_llm_xlate_req_t   x;

    if (!s->started) {
        rc = mc_start(s, NULL, out);
        if (rc != NGX_HTTP_LLM_XLATE_OK) {
            return rc;
        }
    }

    rc = mc_close(s, out);
    if (rc != NGX_HTTP_LLM_XLATE_OK) {
        return rc;
    }

    memset(&x, 0, sizeof(ngx_http_llm_xlate_req_t));

    cached = s->cached_tokens > s->prompt_tokens ? 0 : s->cached_tokens;

    ev = cJSON_CreateObject();
    ngx_http_llm_xlate_add_str(&x, ev, "type", "message_delta");
    d = ngx_http_llm_xlate_add(&x, ev, "delta", cJSON_CreateObject());
    ngx_http_llm_xlate_add_str(&x, d, "stop_reason",
                               s->stop[0] ? s->stop : "end_turn");
    ngx_http_llm_xlate_add(&x, d, "stop_sequence", cJSON_CreateNull());
    u = ngx_http_llm_xlate_add(&x, ev, "usage", cJSON_CreateObject());
    ngx_http_llm_xlate_add(&x, u, "input_tokens",
        cJSON_CreateNumber((double) (s->prompt_tokens - cached)));
    ngx_http_llm_xlate_add(&x, u, "cache_read_input_tokens",
                           cJSON_CreateNumber((double) cached));
    ngx_http_llm_xlate_add(&x, u, "output_tokens",
                           cJSON_CreateNumber((double) s->completion_tokens));

    if (x.oom) {
        cJSON_Delete(ev);
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    rc = ngx_http_llm_xlate_emit(out, "message_delta", ev);
    if (rc != NGX_HTTP_LLM_XLATE_OK) {
        return rc;
    }

    s->done = 1;

    return ngx_http_llm_xlate_buf_append(out,
               "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
               51);
}
