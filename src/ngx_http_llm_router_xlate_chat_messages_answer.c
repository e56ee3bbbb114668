
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * An OpenAI chat completions client, an Anthropic messages provider: the
 * answer and its SSE, messages -> chat (the request is in
 * ngx_http_llm_router_xlate_chat_messages.c).
 *
 * References: https://docs.anthropic.com/en/api/messages
 * https://docs.anthropic.com/en/docs/build-with-claude/streaming
 * https://platform.openai.com/docs/api-reference/chat/object
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_llm_router_xlate.h"


#define CM_BLOCK_NONE   0
#define CM_BLOCK_TEXT   1
#define CM_BLOCK_TOOL   2
#define CM_BLOCK_THINK  3
#define CM_BLOCK_OTHER  4


static void cm_usage(ngx_http_llm_xlate_req_t *x, cJSON *dst, cJSON *usage);
static void cm_event_usage(ngx_http_llm_xlate_sse_t *s, cJSON *usage);
static int cm_chunk(ngx_http_llm_xlate_sse_t *s, cJSON *delta,
    const char *finish, ngx_http_llm_xlate_buf_t *out);


/* the answer: an Anthropic message -> a chat.completion */

cJSON *
ngx_http_llm_xlate_cm_response(cJSON *src, const char *model, int64_t created)
{
    int                        ntools;
    cJSON                     *dst, *choices, *choice, *msg, *b, *calls, *c,
                              *fn, *input;
    char                      *args;
    const char                *type, *id, *text;
    ngx_http_llm_xlate_buf_t   content, reasoning;
    ngx_http_llm_xlate_req_t   x;

    memset(&x, 0, sizeof(ngx_http_llm_xlate_req_t));
    memset(&content, 0, sizeof(ngx_http_llm_xlate_buf_t));
    memset(&reasoning, 0, sizeof(ngx_http_llm_xlate_buf_t));

    dst = cJSON_CreateObject();
    if (dst == NULL) {
        return NULL;
    }

    id = ngx_http_llm_xlate_str(src, "id");

    ngx_http_llm_xlate_add_str(&x, dst, "id", id ? id : "chatcmpl");
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

    b = cJSON_GetObjectItemCaseSensitive(src, "content");

    for (b = cJSON_IsArray(b) ? b->child : NULL; b; b = b->next) {
        type = ngx_http_llm_xlate_str(b, "type");
        if (type == NULL) {
            continue;
        }

        if (strcmp(type, "text") == 0
            && (text = ngx_http_llm_xlate_str(b, "text")) != NULL)
        {
            x.oom |= ngx_http_llm_xlate_buf_append(&content, text,
                                                   strlen(text));

        } else if (strcmp(type, "thinking") == 0
                   && (text = ngx_http_llm_xlate_str(b, "thinking")) != NULL)
        {
            x.oom |= ngx_http_llm_xlate_buf_append(&reasoning, text,
                                                   strlen(text));

        } else if (strcmp(type, "tool_use") == 0) {
            if (calls == NULL) {
                calls = cJSON_CreateArray();
            }

            input = cJSON_GetObjectItemCaseSensitive(b, "input");
            args = input ? cJSON_PrintUnformatted(input) : NULL;

            c = ngx_http_llm_xlate_add(&x, calls, NULL, cJSON_CreateObject());
            ngx_http_llm_xlate_add(&x, c, "index",
                                   cJSON_CreateNumber(ntools++));
            ngx_http_llm_xlate_add_str(&x, c, "id",
                                       ngx_http_llm_xlate_str(b, "id"));
            ngx_http_llm_xlate_add_str(&x, c, "type", "function");
            fn = ngx_http_llm_xlate_add(&x, c, "function",
                                        cJSON_CreateObject());
            ngx_http_llm_xlate_add_str(&x, fn, "name",
                                       ngx_http_llm_xlate_str(b, "name"));
            ngx_http_llm_xlate_add_str(&x, fn, "arguments",
                                       args ? args : "{}");
            free(args);
        }

        /* server tools' blocks and redacted thinking have no chat form */
    }

    if (content.len) {
        x.oom |= ngx_http_llm_xlate_buf_append(&content, "", 1);
        ngx_http_llm_xlate_add_str(&x, msg, "content",
                                   (char *) content.data);

    } else {
        ngx_http_llm_xlate_add(&x, msg, "content", cJSON_CreateNull());
    }

    if (reasoning.len) {
        /* the name DeepSeek, vLLM and LiteLLM use */
        x.oom |= ngx_http_llm_xlate_buf_append(&reasoning, "", 1);
        ngx_http_llm_xlate_add_str(&x, msg, "reasoning_content",
                                   (char *) reasoning.data);
    }

    if (calls) {
        ngx_http_llm_xlate_add(&x, msg, "tool_calls", calls);
    }

    ngx_http_llm_xlate_add(&x, choice, "logprobs", cJSON_CreateNull());
    ngx_http_llm_xlate_add_str(&x, choice, "finish_reason",
        ngx_http_llm_xlate_stop(ngx_http_llm_xlate_str(src, "stop_reason"),
                                NGX_HTTP_LLM_XLATE_CHAT));

    cm_usage(&x, dst, cJSON_GetObjectItemCaseSensitive(src, "usage"));

    ngx_http_llm_xlate_buf_free(&content);
    ngx_http_llm_xlate_buf_free(&reasoning);

    if (x.oom) {
        cJSON_Delete(dst);
        return NULL;
    }

    return dst;
}


/*
 * Anthropic's input_tokens leave out what was read from or written to
 * the cache; OpenAI's prompt_tokens include the cache reads.
 */

static void
cm_usage(ngx_http_llm_xlate_req_t *x, cJSON *dst, cJSON *usage)
{
    int64_t  in, out, read, write;
    cJSON   *u, *d;

    in = ngx_http_llm_xlate_int(usage, "input_tokens");
    out = ngx_http_llm_xlate_int(usage, "output_tokens");
    read = ngx_http_llm_xlate_int(usage, "cache_read_input_tokens");
    write = ngx_http_llm_xlate_int(usage, "cache_creation_input_tokens");

    in = (in < 0 ? 0 : in) + (read < 0 ? 0 : read)
         + (write < 0 ? 0 : write);
    out = out < 0 ? 0 : out;

    u = ngx_http_llm_xlate_add(x, dst, "usage", cJSON_CreateObject());
    ngx_http_llm_xlate_add(x, u, "prompt_tokens",
                           cJSON_CreateNumber((double) in));
    ngx_http_llm_xlate_add(x, u, "completion_tokens",
                           cJSON_CreateNumber((double) out));
    ngx_http_llm_xlate_add(x, u, "total_tokens",
                           cJSON_CreateNumber((double) (in + out)));

    d = ngx_http_llm_xlate_add(x, u, "prompt_tokens_details",
                               cJSON_CreateObject());
    ngx_http_llm_xlate_add(x, d, "cached_tokens",
                           cJSON_CreateNumber(read < 0 ? 0 : (double) read));
}


/*
 * The stream: Anthropic's events -> chat.completion.chunk events.  Over
 * 150 lines on purpose: one case per event type, each a few lines, reads
 * as the state machine it is (split, the state would be scattered).
 */

int
ngx_http_llm_xlate_cm_event(ngx_http_llm_xlate_sse_t *s, const char *name,
    cJSON *data, ngx_http_llm_xlate_buf_t *out)
{
    int                        rc;
    cJSON                     *m, *b, *d, *delta, *calls, *c, *fn;
    const char                *type, *t, *text;
    ngx_http_llm_xlate_req_t   x;

    (void) name;

    type = ngx_http_llm_xlate_str(data, "type");
    if (type == NULL) {
        return NGX_HTTP_LLM_XLATE_OK;
    }

    memset(&x, 0, sizeof(ngx_http_llm_xlate_req_t));

    if (strcmp(type, "message_start") == 0) {
        m = cJSON_GetObjectItemCaseSensitive(data, "message");
        t = ngx_http_llm_xlate_str(m, "id");

        if (t) {
            snprintf(s->id, sizeof(s->id), "%s", t);
        }

        cm_event_usage(s, cJSON_GetObjectItemCaseSensitive(m, "usage"));

        s->started = 1;

        delta = cJSON_CreateObject();
        ngx_http_llm_xlate_add_str(&x, delta, "role", "assistant");
        ngx_http_llm_xlate_add_str(&x, delta, "content", "");

        return x.oom ? NGX_HTTP_LLM_XLATE_NOMEM
                     : cm_chunk(s, delta, NULL, out);
    }

    if (strcmp(type, "content_block_start") == 0) {
        b = cJSON_GetObjectItemCaseSensitive(data, "content_block");
        t = ngx_http_llm_xlate_str(b, "type");
        s->block = (int) ngx_http_llm_xlate_int(data, "index");

        if (t && strcmp(t, "text") == 0) {
            s->block_type = CM_BLOCK_TEXT;
            text = ngx_http_llm_xlate_str(b, "text");

            if (text == NULL || text[0] == '\0') {
                return NGX_HTTP_LLM_XLATE_OK;
            }

            delta = cJSON_CreateObject();
            ngx_http_llm_xlate_add_str(&x, delta, "content", text);

            return x.oom ? NGX_HTTP_LLM_XLATE_NOMEM
                         : cm_chunk(s, delta, NULL, out);
        }

        if (t && strcmp(t, "thinking") == 0) {
            s->block_type = CM_BLOCK_THINK;
            return NGX_HTTP_LLM_XLATE_OK;
        }

        if (t == NULL || strcmp(t, "tool_use") != 0) {
            s->block_type = CM_BLOCK_OTHER;
            return NGX_HTTP_LLM_XLATE_OK;
        }

        s->block_type = CM_BLOCK_TOOL;
        s->tool = s->ntools++;

        delta = cJSON_CreateObject();
        calls = ngx_http_llm_xlate_add(&x, delta, "tool_calls",
                                       cJSON_CreateArray());
        c = ngx_http_llm_xlate_add(&x, calls, NULL, cJSON_CreateObject());
        ngx_http_llm_xlate_add(&x, c, "index", cJSON_CreateNumber(s->tool));
        ngx_http_llm_xlate_add_str(&x, c, "id",
                                   ngx_http_llm_xlate_str(b, "id"));
        ngx_http_llm_xlate_add_str(&x, c, "type", "function");
        fn = ngx_http_llm_xlate_add(&x, c, "function", cJSON_CreateObject());
        ngx_http_llm_xlate_add_str(&x, fn, "name",
                                   ngx_http_llm_xlate_str(b, "name"));
        ngx_http_llm_xlate_add_str(&x, fn, "arguments", "");

        if (x.oom) {
            cJSON_Delete(delta);
            return NGX_HTTP_LLM_XLATE_NOMEM;
        }

        return cm_chunk(s, delta, NULL, out);
    }

    if (strcmp(type, "content_block_delta") == 0) {
        d = cJSON_GetObjectItemCaseSensitive(data, "delta");
        t = ngx_http_llm_xlate_str(d, "type");

        if (t == NULL) {
            return NGX_HTTP_LLM_XLATE_OK;
        }

        delta = NULL;

        if (strcmp(t, "text_delta") == 0
            && (text = ngx_http_llm_xlate_str(d, "text")) != NULL)
        {
            delta = cJSON_CreateObject();
            ngx_http_llm_xlate_add_str(&x, delta, "content", text);

        } else if (strcmp(t, "thinking_delta") == 0
                   && (text = ngx_http_llm_xlate_str(d, "thinking")) != NULL)
        {
            delta = cJSON_CreateObject();
            ngx_http_llm_xlate_add_str(&x, delta, "reasoning_content", text);

        } else if (strcmp(t, "input_json_delta") == 0
                   && s->block_type == CM_BLOCK_TOOL
                   && (text = ngx_http_llm_xlate_str(d, "partial_json"))
                      != NULL
                   && text[0])
        {
            delta = cJSON_CreateObject();
            calls = ngx_http_llm_xlate_add(&x, delta, "tool_calls",
                                           cJSON_CreateArray());
            c = ngx_http_llm_xlate_add(&x, calls, NULL, cJSON_CreateObject());
            ngx_http_llm_xlate_add(&x, c, "index",
                                   cJSON_CreateNumber(s->tool));
            fn = ngx_http_llm_xlate_add(&x, c, "function",
                                        cJSON_CreateObject());
            ngx_http_llm_xlate_add_str(&x, fn, "arguments", text);
        }

        if (delta == NULL) {
            /* signatures, citations, server tools: no chat form */
            return NGX_HTTP_LLM_XLATE_OK;
        }

        if (x.oom) {
            cJSON_Delete(delta);
            return NGX_HTTP_LLM_XLATE_NOMEM;
        }

        return cm_chunk(s, delta, NULL, out);
    }

    if (strcmp(type, "content_block_stop") == 0) {
        s->block = -1;
        s->block_type = CM_BLOCK_NONE;
        return NGX_HTTP_LLM_XLATE_OK;
    }

    if (strcmp(type, "message_delta") == 0) {
        d = cJSON_GetObjectItemCaseSensitive(data, "delta");
        t = ngx_http_llm_xlate_stop(ngx_http_llm_xlate_str(d, "stop_reason"),
                                    NGX_HTTP_LLM_XLATE_CHAT);

        snprintf(s->stop, sizeof(s->stop), "%s", t);
        cm_event_usage(s, cJSON_GetObjectItemCaseSensitive(data, "usage"));

        return cm_chunk(s, cJSON_CreateObject(), s->stop, out);
    }

    if (strcmp(type, "message_stop") != 0) {
        /* ping, and events added after this was written */
        return NGX_HTTP_LLM_XLATE_OK;
    }

    s->done = 1;

    if (s->include_usage) {
        m = cJSON_CreateObject();
        ngx_http_llm_xlate_add_str(&x, m, "id", s->id);
        ngx_http_llm_xlate_add_str(&x, m, "object", "chat.completion.chunk");
        ngx_http_llm_xlate_add(&x, m, "created",
                               cJSON_CreateNumber((double) s->created));
        ngx_http_llm_xlate_add_str(&x, m, "model", s->model);
        ngx_http_llm_xlate_add(&x, m, "choices", cJSON_CreateArray());

        b = ngx_http_llm_xlate_add(&x, m, "usage", cJSON_CreateObject());
        ngx_http_llm_xlate_add(&x, b, "prompt_tokens",
                               cJSON_CreateNumber((double) s->prompt_tokens));
        ngx_http_llm_xlate_add(&x, b, "completion_tokens",
            cJSON_CreateNumber((double) s->completion_tokens));
        ngx_http_llm_xlate_add(&x, b, "total_tokens",
            cJSON_CreateNumber((double) (s->prompt_tokens
                                         + s->completion_tokens)));
        d = ngx_http_llm_xlate_add(&x, b, "prompt_tokens_details",
                                   cJSON_CreateObject());
        ngx_http_llm_xlate_add(&x, d, "cached_tokens",
                               cJSON_CreateNumber((double) s->cached_tokens));

        if (x.oom) {
            cJSON_Delete(m);
            return NGX_HTTP_LLM_XLATE_NOMEM;
        }

        rc = ngx_http_llm_xlate_emit(out, NULL, m);
        if (rc != NGX_HTTP_LLM_XLATE_OK) {
            return rc;
        }
    }

    return ngx_http_llm_xlate_buf_append(out, "data: [DONE]\n\n", 14);
}


/* message_start has the input, message_delta the output (and maybe more) */

static void
cm_event_usage(ngx_http_llm_xlate_sse_t *s, cJSON *usage)
{
    int64_t  in, out, read, write;

    if (!cJSON_IsObject(usage)) {
        return;
    }

    in = ngx_http_llm_xlate_int(usage, "input_tokens");
    out = ngx_http_llm_xlate_int(usage, "output_tokens");
    read = ngx_http_llm_xlate_int(usage, "cache_read_input_tokens");
    write = ngx_http_llm_xlate_int(usage, "cache_creation_input_tokens");

    if (read >= 0) {
        s->cached_tokens = read;
    }

    if (write >= 0) {
        s->cache_write_tokens = write;
    }

    if (in >= 0) {
        s->prompt_tokens = in + s->cached_tokens + s->cache_write_tokens;
        s->usage_seen = 1;
    }

    if (out >= 0) {
        s->completion_tokens = out;
        s->usage_seen = 1;
    }
}


static int
cm_chunk(ngx_http_llm_xlate_sse_t *s, cJSON *delta, const char *finish,
    ngx_http_llm_xlate_buf_t *out)
{
    cJSON                     *m, *choices, *c;
    ngx_http_llm_xlate_req_t   x;

    memset(&x, 0, sizeof(ngx_http_llm_xlate_req_t));

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

    return ngx_http_llm_xlate_emit(out, NULL, m);
}
