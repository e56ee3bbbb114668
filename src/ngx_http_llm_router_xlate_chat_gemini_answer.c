
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * A Gemini provider: the answer (GenerateContentResponse) and its SSE
 * (streamGenerateContent?alt=sse: one GenerateContentResponse per event,
 * no terminal event: the candidate's finishReason ends it) -> chat, and
 * through chat -> Anthropic messages (the messages <- chat translator of
 * _messages_chat_answer.c takes our chat chunks as they are made).
 *
 * References: https://ai.google.dev/api/generate-content
 * (GenerateContentResponse, Candidate, FinishReason, UsageMetadata,
 * PromptFeedback), https://ai.google.dev/api/caching#Part
 * https://platform.openai.com/docs/api-reference/chat/object
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_llm_router_xlate.h"


/*
 * Gemini's finishReason -> OpenAI's finish_reason; a candidate that
 * called a function and stopped is "tool_calls" (Gemini says STOP).
 */
static const char  *gc_finish[][2] = {
    { "STOP", "stop" },
    { "MAX_TOKENS", "length" },
    { "SAFETY", "content_filter" },
    { "RECITATION", "content_filter" },
    { "LANGUAGE", "content_filter" },
    { "BLOCKLIST", "content_filter" },
    { "PROHIBITED_CONTENT", "content_filter" },
    { "SPII", "content_filter" },
    { "IMAGE_SAFETY", "content_filter" },
    { "IMAGE_PROHIBITED_CONTENT", "content_filter" },
    { "IMAGE_RECITATION", "content_filter" },
    { NULL, NULL }
};


typedef struct {
    int64_t   prompt;       /* cached and tool-use prompts included */
    int64_t   completion;   /* thoughts included, as OpenAI counts */
    int64_t   cached;
    int64_t   thoughts;
    int       seen;
} gc_usage_t;


static const char *gc_reason(const char *reason, int tools);
static void gc_usage_read(cJSON *um, gc_usage_t *u);
static int ngx_http_llm_xlate_gemini_usage_in(const unsigned char *body,
    size_t len, int64_t *prompt, int64_t *completion, int64_t *cached);
static void gc_usage_write(ngx_http_llm_xlate_req_t *x, cJSON *dst,
    gc_usage_t *u);
static void gc_call_id(char *buf, size_t size, const char *id, cJSON *fc,
    int n);
static int gc_send(ngx_http_llm_xlate_sse_t *s, cJSON *delta,
    const char *finish, ngx_http_llm_xlate_buf_t *out);
static int gc_end(ngx_http_llm_xlate_sse_t *s, ngx_http_llm_xlate_buf_t *out);


static const char *
gc_reason(const char *reason, int tools)
{
    int  i;

    for (i = 0; reason && gc_finish[i][0]; i++) {
        if (strcmp(gc_finish[i][0], reason) == 0) {
            if (i == 0 && tools) {
                return "tool_calls";
            }

            return gc_finish[i][1];
        }
    }

    /* MALFORMED_FUNCTION_CALL, OTHER, and reasons added later */
    return tools ? "tool_calls" : "stop";
}


/*
 * promptTokenCount includes cachedContentTokenCount (as OpenAI's
 * prompt_tokens include cached_tokens); toolUsePromptTokenCount and
 * thoughtsTokenCount are counted apart and billed as input and output.
 */

static void
gc_usage_read(cJSON *um, gc_usage_t *u)
{
    int64_t  prompt, cand, cached, tool, thoughts;

    if (!cJSON_IsObject(um)) {
        return;
    }

    prompt = ngx_http_llm_xlate_int(um, "promptTokenCount");
    cand = ngx_http_llm_xlate_int(um, "candidatesTokenCount");
    cached = ngx_http_llm_xlate_int(um, "cachedContentTokenCount");
    tool = ngx_http_llm_xlate_int(um, "toolUsePromptTokenCount");
    thoughts = ngx_http_llm_xlate_int(um, "thoughtsTokenCount");

    if (prompt < 0 && cand < 0) {
        return;
    }

    u->prompt = (prompt < 0 ? 0 : prompt) + (tool < 0 ? 0 : tool);
    u->thoughts = thoughts < 0 ? 0 : thoughts;
    u->completion = (cand < 0 ? 0 : cand) + u->thoughts;
    u->cached = cached < 0 ? 0 : cached;
    u->seen = 1;
}


static void
gc_usage_write(ngx_http_llm_xlate_req_t *x, cJSON *dst, gc_usage_t *u)
{
    cJSON  *o, *d;

    o = ngx_http_llm_xlate_add(x, dst, "usage", cJSON_CreateObject());
    ngx_http_llm_xlate_add(x, o, "prompt_tokens",
                           cJSON_CreateNumber((double) u->prompt));
    ngx_http_llm_xlate_add(x, o, "completion_tokens",
                           cJSON_CreateNumber((double) u->completion));
    ngx_http_llm_xlate_add(x, o, "total_tokens",
                           cJSON_CreateNumber((double) (u->prompt
                                                        + u->completion)));
    d = ngx_http_llm_xlate_add(x, o, "prompt_tokens_details",
                               cJSON_CreateObject());
    ngx_http_llm_xlate_add(x, d, "cached_tokens",
                           cJSON_CreateNumber((double) u->cached));

    if (u->thoughts) {
        /* known in a JSON answer; a stream's state keeps the sum only */
        d = ngx_http_llm_xlate_add(x, o, "completion_tokens_details",
                                   cJSON_CreateObject());
        ngx_http_llm_xlate_add(x, d, "reasoning_tokens",
                               cJSON_CreateNumber((double) u->thoughts));
    }
}


/*
 * Gemini gives call ids only sometimes: ours are made of the answer's
 * id and the call's position, unique across a conversation; the request
 * translator finds a result's function name by looking the id up.
 */

static void
gc_call_id(char *buf, size_t size, const char *id, cJSON *fc, int n)
{
    const char  *own;

    own = ngx_http_llm_xlate_str(fc, "id");

    if (own && own[0]) {
        snprintf(buf, size, "%.100s", own);
        return;
    }

    snprintf(buf, size, "call_%.64s_%d", (id && id[0]) ? id : "gemini", n);
}


/* usage for the router's accounting, from a JSON answer */

int
ngx_http_llm_xlate_gemini_usage(const unsigned char *body, size_t len,
    int64_t *prompt, int64_t *completion, int64_t *cached)
{
    int  rc;

    /* cJSON's allocations from the scratch arena */
    ngx_http_llm_xlate_enter();
    rc = ngx_http_llm_xlate_gemini_usage_in(body, len, prompt, completion,
                                            cached);
    ngx_http_llm_xlate_leave();

    return rc;
}


static int
ngx_http_llm_xlate_gemini_usage_in(const unsigned char *body, size_t len,
    int64_t *prompt, int64_t *completion, int64_t *cached)
{
    cJSON       *root;
    gc_usage_t   u;

    memset(&u, 0, sizeof(gc_usage_t));

    root = cJSON_ParseWithLength((const char *) body, len);
    gc_usage_read(cJSON_GetObjectItemCaseSensitive(root, "usageMetadata"),
                  &u);
    cJSON_Delete(root);

    if (!u.seen) {
        return NGX_HTTP_LLM_XLATE_BAD;
    }

    *prompt = u.prompt;
    *completion = u.completion;
    *cached = u.cached;

    return NGX_HTTP_LLM_XLATE_OK;
}


/* the answer: a GenerateContentResponse -> a chat.completion */

cJSON *
ngx_http_llm_xlate_gc_response(cJSON *src, const char *model, int64_t created)
{
    int                        ntools;
    char                       id[NGX_HTTP_LLM_XLATE_ID_MAX], cid[128];
    char                      *args;
    cJSON                     *dst, *choices, *choice, *msg, *cand, *p,
                              *calls, *c, *fn, *fc;
    const char                *rid, *text, *finish;
    gc_usage_t                 u;
    ngx_http_llm_xlate_buf_t   content, reasoning;
    ngx_http_llm_xlate_req_t   x;

    memset(&x, 0, sizeof(ngx_http_llm_xlate_req_t));
    memset(&u, 0, sizeof(gc_usage_t));
    memset(&content, 0, sizeof(ngx_http_llm_xlate_buf_t));
    memset(&reasoning, 0, sizeof(ngx_http_llm_xlate_buf_t));

    dst = cJSON_CreateObject();
    if (dst == NULL) {
        return NULL;
    }

    rid = ngx_http_llm_xlate_str(src, "responseId");
    snprintf(id, sizeof(id), "chatcmpl-%.100s", rid ? rid : "gemini");

    ngx_http_llm_xlate_add_str(&x, dst, "id", id);
    ngx_http_llm_xlate_add_str(&x, dst, "object", "chat.completion");
    ngx_http_llm_xlate_add(&x, dst, "created",
                           cJSON_CreateNumber((double) created));
    ngx_http_llm_xlate_add_str(&x, dst, "model", model);

    choices = ngx_http_llm_xlate_add(&x, dst, "choices", cJSON_CreateArray());
    choice = ngx_http_llm_xlate_add(&x, choices, NULL, cJSON_CreateObject());
    ngx_http_llm_xlate_add(&x, choice, "index", cJSON_CreateNumber(0));
    msg = ngx_http_llm_xlate_add(&x, choice, "message", cJSON_CreateObject());
    ngx_http_llm_xlate_add_str(&x, msg, "role", "assistant");

    calls = NULL;
    ntools = 0;

    cand = cJSON_GetArrayItem(
               cJSON_GetObjectItemCaseSensitive(src, "candidates"), 0);
    p = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(cand, "content"), "parts");

    for (p = cJSON_IsArray(p) ? p->child : NULL; p; p = p->next) {
        text = ngx_http_llm_xlate_str(p, "text");
        fc = cJSON_GetObjectItemCaseSensitive(p, "functionCall");

        if (text && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p,
                                                                  "thought")))
        {
            x.oom |= ngx_http_llm_xlate_buf_append(&reasoning, text,
                                                   strlen(text));

        } else if (text) {
            x.oom |= ngx_http_llm_xlate_buf_append(&content, text,
                                                   strlen(text));

        } else if (cJSON_IsObject(fc)) {
            if (calls == NULL) {
                calls = cJSON_CreateArray();
            }

            fn = cJSON_GetObjectItemCaseSensitive(fc, "args");
            args = cJSON_IsObject(fn) ? cJSON_PrintUnformatted(fn) : NULL;
            gc_call_id(cid, sizeof(cid), rid, fc, ntools);

            c = ngx_http_llm_xlate_add(&x, calls, NULL, cJSON_CreateObject());
            ngx_http_llm_xlate_add(&x, c, "index",
                                   cJSON_CreateNumber(ntools++));
            ngx_http_llm_xlate_add_str(&x, c, "id", cid);
            ngx_http_llm_xlate_add_str(&x, c, "type", "function");
            fn = ngx_http_llm_xlate_add(&x, c, "function",
                                        cJSON_CreateObject());
            ngx_http_llm_xlate_add_str(&x, fn, "name",
                                       ngx_http_llm_xlate_str(fc, "name"));
            ngx_http_llm_xlate_add_str(&x, fn, "arguments",
                                       args ? args : "{}");
            cJSON_free(args);
        }

        /* executableCode, codeExecutionResult, inline media: no chat form */
    }

    if (content.len) {
        x.oom |= ngx_http_llm_xlate_buf_append(&content, "", 1);
        ngx_http_llm_xlate_add_str(&x, msg, "content", (char *) content.data);

    } else {
        ngx_http_llm_xlate_add(&x, msg, "content", cJSON_CreateNull());
    }

    if (reasoning.len) {
        x.oom |= ngx_http_llm_xlate_buf_append(&reasoning, "", 1);
        ngx_http_llm_xlate_add_str(&x, msg, "reasoning_content",
                                   (char *) reasoning.data);
    }

    if (calls) {
        ngx_http_llm_xlate_add(&x, msg, "tool_calls", calls);
    }

    /* no candidate: the prompt was blocked (promptFeedback.blockReason) */
    finish = cand ? gc_reason(ngx_http_llm_xlate_str(cand, "finishReason"),
                              ntools)
                  : "content_filter";

    ngx_http_llm_xlate_add(&x, choice, "logprobs", cJSON_CreateNull());
    ngx_http_llm_xlate_add_str(&x, choice, "finish_reason", finish);

    gc_usage_read(cJSON_GetObjectItemCaseSensitive(src, "usageMetadata"), &u);
    gc_usage_write(&x, dst, &u);

    ngx_http_llm_xlate_buf_free(&content);
    ngx_http_llm_xlate_buf_free(&reasoning);

    if (x.oom) {
        cJSON_Delete(dst);
        return NULL;
    }

    return dst;
}


/* an Anthropic client: Gemini -> chat -> messages */

cJSON *
ngx_http_llm_xlate_gm_response(cJSON *src, const char *model, int64_t created)
{
    char         id[NGX_HTTP_LLM_XLATE_ID_MAX];
    cJSON       *chat, *dst, *item;
    const char  *rid;

    chat = ngx_http_llm_xlate_gc_response(src, model, created);
    if (chat == NULL) {
        return NULL;
    }

    dst = ngx_http_llm_xlate_mc_response(chat, model, created);
    cJSON_Delete(chat);

    rid = ngx_http_llm_xlate_str(src, "responseId");

    if (dst) {
        /* Anthropic's ids are msg_... */
        snprintf(id, sizeof(id), "msg_%.100s", rid ? rid : "gemini");
        item = cJSON_CreateString(id);

        if (item == NULL
            || !cJSON_ReplaceItemInObjectCaseSensitive(dst, "id", item))
        {
            cJSON_Delete(item);
            cJSON_Delete(dst);
            return NULL;
        }
    }

    return dst;
}


/*
 * The stream: each event is a GenerateContentResponse with the new
 * parts and the usage so far; the one with a finishReason is the last.
 */

int
ngx_http_llm_xlate_gc_event(ngx_http_llm_xlate_sse_t *s, const char *name,
    cJSON *data, ngx_http_llm_xlate_buf_t *out)
{
    int                        rc;
    char                       cid[128];
    char                      *args;
    cJSON                     *cand, *p, *fc, *delta, *calls, *c, *fn;
    gc_usage_t                 u;
    const char                *text, *rid, *finish;
    ngx_http_llm_xlate_req_t   x;

    if (name && strcmp(name, "[DONE]") == 0) {
        /* not Gemini's; the finishReason ends the stream */
        return NGX_HTTP_LLM_XLATE_OK;
    }

    memset(&x, 0, sizeof(ngx_http_llm_xlate_req_t));
    memset(&u, 0, sizeof(gc_usage_t));

    gc_usage_read(cJSON_GetObjectItemCaseSensitive(data, "usageMetadata"),
                  &u);

    if (u.seen) {
        /* every event has the usage so far: the last one is the total */
        s->prompt_tokens = u.prompt;
        s->completion_tokens = u.completion;
        s->cached_tokens = u.cached;
        s->usage_seen = 1;
    }

    if (!s->started) {
        rid = ngx_http_llm_xlate_str(data, "responseId");
        snprintf(s->id, sizeof(s->id), "%s%.100s",
                 s->to == NGX_HTTP_LLM_XLATE_CHAT ? "chatcmpl-" : "msg_",
                 rid ? rid : "gemini");

        delta = cJSON_CreateObject();
        ngx_http_llm_xlate_add_str(&x, delta, "role", "assistant");
        ngx_http_llm_xlate_add_str(&x, delta, "content", "");

        if (x.oom) {
            cJSON_Delete(delta);
            return NGX_HTTP_LLM_XLATE_NOMEM;
        }

        rc = gc_send(s, delta, NULL, out);
        if (rc != NGX_HTTP_LLM_XLATE_OK) {
            return rc;
        }

        s->started = 1;
    }

    cand = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(data,
                                                               "candidates"),
                              0);

    if (cand == NULL) {
        if (cJSON_GetObjectItemCaseSensitive(data, "promptFeedback")
            && ngx_http_llm_xlate_str(cJSON_GetObjectItemCaseSensitive(
                   data, "promptFeedback"), "blockReason"))
        {
            snprintf(s->stop, sizeof(s->stop), "content_filter");
            return gc_end(s, out);
        }

        return NGX_HTTP_LLM_XLATE_OK;
    }

    p = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(cand, "content"), "parts");

    for (p = cJSON_IsArray(p) ? p->child : NULL; p; p = p->next) {
        text = ngx_http_llm_xlate_str(p, "text");
        fc = cJSON_GetObjectItemCaseSensitive(p, "functionCall");
        delta = NULL;

        if (text && text[0]) {
            delta = cJSON_CreateObject();
            ngx_http_llm_xlate_add_str(&x, delta,
                cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "thought"))
                    ? "reasoning_content" : "content",
                text);

        } else if (cJSON_IsObject(fc)) {
            /* a call comes whole: its id, name and arguments in one delta */
            fn = cJSON_GetObjectItemCaseSensitive(fc, "args");
            args = cJSON_IsObject(fn) ? cJSON_PrintUnformatted(fn) : NULL;
            /* the answer's id without our "chatcmpl-" or "msg_" */
            gc_call_id(cid, sizeof(cid),
                       s->id + (s->to == NGX_HTTP_LLM_XLATE_CHAT ? 9 : 4),
                       fc, s->ntools);

            delta = cJSON_CreateObject();
            calls = ngx_http_llm_xlate_add(&x, delta, "tool_calls",
                                           cJSON_CreateArray());
            c = ngx_http_llm_xlate_add(&x, calls, NULL, cJSON_CreateObject());
            ngx_http_llm_xlate_add(&x, c, "index",
                                   cJSON_CreateNumber(s->ntools++));
            ngx_http_llm_xlate_add_str(&x, c, "id", cid);
            ngx_http_llm_xlate_add_str(&x, c, "type", "function");
            fn = ngx_http_llm_xlate_add(&x, c, "function",
                                        cJSON_CreateObject());
            ngx_http_llm_xlate_add_str(&x, fn, "name",
                                       ngx_http_llm_xlate_str(fc, "name"));
            ngx_http_llm_xlate_add_str(&x, fn, "arguments",
                                       args ? args : "{}");
            cJSON_free(args);
        }

        if (delta == NULL) {
            continue;
        }

        if (x.oom) {
            cJSON_Delete(delta);
            return NGX_HTTP_LLM_XLATE_NOMEM;
        }

        rc = gc_send(s, delta, NULL, out);
        if (rc != NGX_HTTP_LLM_XLATE_OK) {
            return rc;
        }
    }

    finish = ngx_http_llm_xlate_str(cand, "finishReason");

    if (finish == NULL) {
        return NGX_HTTP_LLM_XLATE_OK;
    }

    snprintf(s->stop, sizeof(s->stop), "%s", gc_reason(finish, s->ntools));

    return gc_end(s, out);
}


/* the finish chunk, the usage chunk if asked for, and [DONE] */

static int
gc_end(ngx_http_llm_xlate_sse_t *s, ngx_http_llm_xlate_buf_t *out)
{
    int                        rc;
    cJSON                     *m;
    gc_usage_t                 u;
    ngx_http_llm_xlate_req_t   x;

    rc = gc_send(s, cJSON_CreateObject(), s->stop, out);
    if (rc != NGX_HTTP_LLM_XLATE_OK) {
        return rc;
    }

    memset(&x, 0, sizeof(ngx_http_llm_xlate_req_t));

    /* an Anthropic client's message_delta needs the usage */
    if (s->include_usage || s->to == NGX_HTTP_LLM_XLATE_MESSAGES) {
        u.prompt = s->prompt_tokens;
        u.completion = s->completion_tokens;
        u.cached = s->cached_tokens;
        u.thoughts = 0;

        m = cJSON_CreateObject();
        ngx_http_llm_xlate_add_str(&x, m, "id", s->id);
        ngx_http_llm_xlate_add_str(&x, m, "object", "chat.completion.chunk");
        ngx_http_llm_xlate_add(&x, m, "created",
                               cJSON_CreateNumber((double) s->created));
        ngx_http_llm_xlate_add_str(&x, m, "model", s->model);
        ngx_http_llm_xlate_add(&x, m, "choices", cJSON_CreateArray());
        gc_usage_write(&x, m, &u);

        if (x.oom) {
            cJSON_Delete(m);
            return NGX_HTTP_LLM_XLATE_NOMEM;
        }

        if (s->to == NGX_HTTP_LLM_XLATE_CHAT) {
            rc = ngx_http_llm_xlate_emit(out, NULL, m);

        } else {
            rc = ngx_http_llm_xlate_mc_event(s->pivot, NULL, m, out);
            cJSON_Delete(m);
        }

        if (rc != NGX_HTTP_LLM_XLATE_OK) {
            return rc;
        }
    }

    s->done = 1;

    if (s->to == NGX_HTTP_LLM_XLATE_CHAT) {
        return ngx_http_llm_xlate_buf_append(out, "data: [DONE]\n\n", 14);
    }

    return ngx_http_llm_xlate_mc_event(s->pivot, "[DONE]", NULL, out);
}


/*
 * One chat.completion.chunk: written out for a chat client, or handed to
 * the chat -> messages translator (its own state in s->pivot, made on
 * first use) for an Anthropic client.  delta is consumed.
 */

static int
gc_send(ngx_http_llm_xlate_sse_t *s, cJSON *delta, const char *finish,
    ngx_http_llm_xlate_buf_t *out)
{
    int                        rc;
    cJSON                     *m, *choices, *c;
    ngx_http_llm_xlate_req_t   x;

    memset(&x, 0, sizeof(ngx_http_llm_xlate_req_t));

    if (s->to == NGX_HTTP_LLM_XLATE_MESSAGES && s->pivot == NULL) {
        s->pivot = malloc(sizeof(ngx_http_llm_xlate_sse_t));
        if (s->pivot == NULL) {
            cJSON_Delete(delta);
            return NGX_HTTP_LLM_XLATE_NOMEM;
        }

        ngx_http_llm_xlate_sse_init(s->pivot, NGX_HTTP_LLM_XLATE_CHAT,
                                    NGX_HTTP_LLM_XLATE_MESSAGES, s->model, 1,
                                    s->created);
    }

    m = cJSON_CreateObject();
    ngx_http_llm_xlate_add_str(&x, m, "id", s->id);
    ngx_http_llm_xlate_add_str(&x, m, "object", "chat.completion.chunk");
    ngx_http_llm_xlate_add(&x, m, "created",
                           cJSON_CreateNumber((double) s->created));
    ngx_http_llm_xlate_add_str(&x, m, "model", s->model);
    choices = ngx_http_llm_xlate_add(&x, m, "choices", cJSON_CreateArray());
    c = ngx_http_llm_xlate_add(&x, choices, NULL, cJSON_CreateObject());
    ngx_http_llm_xlate_add(&x, c, "index", cJSON_CreateNumber(0));
    ngx_http_llm_xlate_add(&x, c, "delta", delta);
    ngx_http_llm_xlate_add(&x, c, "finish_reason",
                           finish ? cJSON_CreateString(finish)
                                  : cJSON_CreateNull());

    if (x.oom) {
        cJSON_Delete(m);
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    if (s->to == NGX_HTTP_LLM_XLATE_CHAT) {
        return ngx_http_llm_xlate_emit(out, NULL, m);
    }

    rc = ngx_http_llm_xlate_mc_event(s->pivot, NULL, m, out);
    cJSON_Delete(m);

    return rc;
}
