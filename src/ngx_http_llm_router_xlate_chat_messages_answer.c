
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

/* cm_text(): the blocks had no text */
#define CM_NO_TEXT      1


static int cm_text(cJSON *blocks, const char *type, const char *key,
    ngx_http_llm_xlate_buf_t *out);
static void cm_event_usage(ngx_http_llm_xlate_sse_t *s, cJSON *usage);
static int cm_usage(ngx_http_llm_xlate_buf_t *out, int64_t in, int64_t read,
    int64_t completion);
static int cm_tail(const char *finish, ngx_http_llm_xlate_buf_t *out);


#define cm_lit(out, s)  ngx_http_llm_xlate_buf_append(out, s, sizeof(s) - 1)


/*
 * The answer: an Anthropic message -> a chat.completion, written straight
 * into out in the order a tree of it would print (no tree is built).
 */

int
ngx_http_llm_xlate_cm_write(cJSON *src, const char *model, int64_t created,
    ngx_http_llm_xlate_buf_t *out)
{
    int                        rc, ntools, text;
    size_t                     len;
    cJSON                     *blocks, *b, *input, *usage;
    const char                *type, *id;
    int64_t                    in, read, write, completion;
    ngx_http_llm_xlate_buf_t   args;

    len = out->len;
    id = ngx_http_llm_xlate_str(src, "id");
    blocks = cJSON_GetObjectItemCaseSensitive(src, "content");
    blocks = cJSON_IsArray(blocks) ? blocks->child : NULL;

    rc = cm_lit(out, "{\"id\":");
    rc |= ngx_http_llm_xlate_print_str(out, id ? id : "chatcmpl");
    rc |= cm_lit(out, ",\"object\":\"chat.completion\",\"created\":");
    rc |= ngx_http_llm_xlate_print_num(out, (double) created);
    rc |= cm_lit(out, ",\"model\":");
    rc |= ngx_http_llm_xlate_print_str(out, model);
    rc |= cm_lit(out, ",\"choices\":[{\"index\":0,\"message\":"
                      "{\"role\":\"assistant\",\"content\":");

    text = cm_text(blocks, "text", NULL, out);
    rc |= (text == CM_NO_TEXT) ? cm_lit(out, "null") : text;

    /* the name DeepSeek, vLLM and LiteLLM use */
    text = cm_text(blocks, "thinking", ",\"reasoning_content\":", out);
    rc |= (text == CM_NO_TEXT) ? NGX_HTTP_LLM_XLATE_OK : text;

    ntools = 0;
    memset(&args, 0, sizeof(ngx_http_llm_xlate_buf_t));

    for (b = blocks; b; b = b->next) {
        type = ngx_http_llm_xlate_str(b, "type");

        if (type == NULL || strcmp(type, "tool_use") != 0) {
            /* server tools' blocks and redacted thinking: no chat form */
            continue;
        }

        rc |= ntools ? cm_lit(out, ",") : cm_lit(out, ",\"tool_calls\":[");
        rc |= cm_lit(out, "{\"index\":");
        rc |= ngx_http_llm_xlate_print_int(out, ntools++);
        rc |= cm_lit(out, ",\"id\":");
        rc |= ngx_http_llm_xlate_print_str(out,
                                           ngx_http_llm_xlate_str(b, "id"));
        rc |= cm_lit(out, ",\"type\":\"function\",\"function\":{\"name\":");
        rc |= ngx_http_llm_xlate_print_str(out,
                                           ngx_http_llm_xlate_str(b, "name"));
        rc |= cm_lit(out, ",\"arguments\":");

        input = cJSON_GetObjectItemCaseSensitive(b, "input");
        args.len = 0;

        if (input && ngx_http_llm_xlate_print(&args, input)
                     == NGX_HTTP_LLM_XLATE_OK
            && ngx_http_llm_xlate_buf_append(&args, "", 1)
               == NGX_HTTP_LLM_XLATE_OK)
        {
            rc |= ngx_http_llm_xlate_print_str(out, (char *) args.data);

        } else {
            rc |= cm_lit(out, "\"{}\"");
        }

        rc |= cm_lit(out, "}}");
    }

    ngx_http_llm_xlate_buf_free(&args);

    if (ntools) {
        rc |= cm_lit(out, "]");
    }

    rc |= cm_lit(out, "},\"logprobs\":null,\"finish_reason\":");
    rc |= ngx_http_llm_xlate_print_str(out,
              ngx_http_llm_xlate_stop(ngx_http_llm_xlate_str(src,
                                                             "stop_reason"),
                                      NGX_HTTP_LLM_XLATE_CHAT));
    rc |= cm_lit(out, "}],");

    /*
     * Anthropic's input_tokens leave out what was read from or written to
     * the cache; OpenAI's prompt_tokens include the cache reads.
     */

    usage = cJSON_GetObjectItemCaseSensitive(src, "usage");
    in = ngx_http_llm_xlate_int(usage, "input_tokens");
    completion = ngx_http_llm_xlate_int(usage, "output_tokens");
    read = ngx_http_llm_xlate_int(usage, "cache_read_input_tokens");
    write = ngx_http_llm_xlate_int(usage, "cache_creation_input_tokens");

    in = (in < 0 ? 0 : in) + (read < 0 ? 0 : read)
         + (write < 0 ? 0 : write);

    rc |= cm_usage(out, in, read < 0 ? 0 : read,
                   completion < 0 ? 0 : completion);
    rc |= cm_lit(out, "}");

    if (rc) {
        out->len = len;
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    return NGX_HTTP_LLM_XLATE_OK;
}


/*
 * The texts of the blocks of a type joined into one JSON string, after
 * key (NULL: none); CM_NO_TEXT when they are all empty (nothing is
 * written then).
 */

static int
cm_text(cJSON *blocks, const char *type, const char *key,
    ngx_http_llm_xlate_buf_t *out)
{
    int           rc, n;
    cJSON        *b;
    const char   *t, *text;

    rc = NGX_HTTP_LLM_XLATE_OK;
    n = 0;

    for (b = blocks; b; b = b->next) {
        t = ngx_http_llm_xlate_str(b, "type");
        text = ngx_http_llm_xlate_str(b, type);

        if (t == NULL || strcmp(t, type) != 0 || text == NULL
            || text[0] == '\0')
        {
            continue;
        }

        if (n++ == 0) {
            if (key) {
                rc |= ngx_http_llm_xlate_buf_append(out, key, strlen(key));
            }

            rc |= cm_lit(out, "\"");
        }

        rc |= ngx_http_llm_xlate_print_esc(out, text);
    }

    if (n == 0) {
        return CM_NO_TEXT;
    }

    rc |= cm_lit(out, "\"");

    return rc ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
}


/* the answer as a tree, for the Responses pair that goes through chat */

cJSON *
ngx_http_llm_xlate_cm_response(cJSON *src, const char *model, int64_t created)
{
    cJSON                     *dst;
    ngx_http_llm_xlate_buf_t   out;

    memset(&out, 0, sizeof(ngx_http_llm_xlate_buf_t));

    dst = NULL;

    if (ngx_http_llm_xlate_cm_write(src, model, created, &out)
        == NGX_HTTP_LLM_XLATE_OK)
    {
        dst = cJSON_ParseWithLength((char *) out.data, out.len);
    }

    ngx_http_llm_xlate_buf_free(&out);

    return dst;
}


static int
cm_usage(ngx_http_llm_xlate_buf_t *out, int64_t in, int64_t read,
    int64_t completion)
{
    int  rc;

    rc = cm_lit(out, "\"usage\":{\"prompt_tokens\":");
    rc |= ngx_http_llm_xlate_print_num(out, (double) in);
    rc |= cm_lit(out, ",\"completion_tokens\":");
    rc |= ngx_http_llm_xlate_print_num(out, (double) completion);
    rc |= cm_lit(out, ",\"total_tokens\":");
    rc |= ngx_http_llm_xlate_print_num(out, (double) (in + completion));
    rc |= cm_lit(out, ",\"prompt_tokens_details\":{\"cached_tokens\":");
    rc |= ngx_http_llm_xlate_print_num(out, (double) read);
    rc |= cm_lit(out, "}}");

    return rc ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
}


/*
 * The stream: Anthropic's events -> chat.completion.chunk events, each
 * written straight into out (no tree per event).  Over 150 lines on
 * purpose: one case per event type, each a few lines, reads as the state
 * machine it is (split, the state would be scattered).
 */

int
ngx_http_llm_xlate_cm_event(ngx_http_llm_xlate_sse_t *s, const char *name,
    cJSON *data, ngx_http_llm_xlate_buf_t *out)
{
    int          rc;
    size_t       len;
    cJSON       *m, *b, *d;
    const char  *type, *t, *text;

    (void) name;

    type = ngx_http_llm_xlate_str(data, "type");
    if (type == NULL) {
        return NGX_HTTP_LLM_XLATE_OK;
    }

    len = out->len;
    rc = NGX_HTTP_LLM_XLATE_OK;

    if (strcmp(type, "message_start") == 0) {
        m = cJSON_GetObjectItemCaseSensitive(data, "message");
        t = ngx_http_llm_xlate_str(m, "id");

        if (t) {
            snprintf(s->id, sizeof(s->id), "%s", t);
        }

        cm_event_usage(s, cJSON_GetObjectItemCaseSensitive(m, "usage"));

        return ngx_http_llm_xlate_cm_start(s, out);
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

            rc = ngx_http_llm_xlate_cm_head(s, out);
            rc |= cm_lit(out, "{\"content\":");
            rc |= ngx_http_llm_xlate_print_str(out, text);
            rc |= cm_lit(out, "}");
            rc |= cm_tail(NULL, out);

            goto done;
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

        rc = ngx_http_llm_xlate_cm_head(s, out);
        rc |= cm_lit(out, "{\"tool_calls\":[{\"index\":");
        rc |= ngx_http_llm_xlate_print_int(out, s->tool);
        rc |= cm_lit(out, ",\"id\":");
        rc |= ngx_http_llm_xlate_print_str(out,
                                           ngx_http_llm_xlate_str(b, "id"));
        rc |= cm_lit(out, ",\"type\":\"function\",\"function\":{\"name\":");
        rc |= ngx_http_llm_xlate_print_str(out,
                                           ngx_http_llm_xlate_str(b, "name"));
        rc |= cm_lit(out, ",\"arguments\":\"\"}}]}");
        rc |= cm_tail(NULL, out);

        goto done;
    }

    if (strcmp(type, "content_block_delta") == 0) {
        d = cJSON_GetObjectItemCaseSensitive(data, "delta");
        t = ngx_http_llm_xlate_str(d, "type");

        if (t == NULL) {
            return NGX_HTTP_LLM_XLATE_OK;
        }

        if (strcmp(t, "text_delta") == 0
            && (text = ngx_http_llm_xlate_str(d, "text")) != NULL)
        {
            rc = ngx_http_llm_xlate_cm_head(s, out);
            rc |= cm_lit(out, "{\"content\":");

        } else if (strcmp(t, "thinking_delta") == 0
                   && (text = ngx_http_llm_xlate_str(d, "thinking")) != NULL)
        {
            rc = ngx_http_llm_xlate_cm_head(s, out);
            rc |= cm_lit(out, "{\"reasoning_content\":");

        } else if (strcmp(t, "input_json_delta") == 0
                   && s->block_type == CM_BLOCK_TOOL
                   && (text = ngx_http_llm_xlate_str(d, "partial_json"))
                      != NULL
                   && text[0])
        {
            rc = ngx_http_llm_xlate_cm_head(s, out);
            rc |= cm_lit(out, "{\"tool_calls\":[{\"index\":");
            rc |= ngx_http_llm_xlate_print_int(out, s->tool);
            rc |= cm_lit(out, ",\"function\":{\"arguments\":");
            rc |= ngx_http_llm_xlate_print_str(out, text);
            rc |= cm_lit(out, "}}]}");
            rc |= cm_tail(NULL, out);

            goto done;

        } else {
            /* signatures, citations, server tools: no chat form */
            return NGX_HTTP_LLM_XLATE_OK;
        }

        rc |= ngx_http_llm_xlate_print_str(out, text);
        rc |= cm_lit(out, "}");
        rc |= cm_tail(NULL, out);

        goto done;
    }

    if (strcmp(type, "message_delta") == 0) {
        d = cJSON_GetObjectItemCaseSensitive(data, "delta");
        t = ngx_http_llm_xlate_stop(ngx_http_llm_xlate_str(d, "stop_reason"),
                                    NGX_HTTP_LLM_XLATE_CHAT);

        snprintf(s->stop, sizeof(s->stop), "%s", t);
        cm_event_usage(s, cJSON_GetObjectItemCaseSensitive(data, "usage"));

        return ngx_http_llm_xlate_cm_finish(s, out);
    }

    /* content_block_stop, message_stop, ping... */
    return ngx_http_llm_xlate_cm_bare(s, type, out);

done:

    if (rc) {
        /* never half an event */
        out->len = len;
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    return NGX_HTTP_LLM_XLATE_OK;
}


/*
 * The events that carry nothing but their type, for cm_event() and the
 * fast path (_fast_event.c): content_block_stop, message_stop; the others
 * (ping, events added after this was written) have no chat form.
 */

int
ngx_http_llm_xlate_cm_bare(ngx_http_llm_xlate_sse_t *s, const char *type,
    ngx_http_llm_xlate_buf_t *out)
{
    int     rc;
    size_t  len;

    if (strcmp(type, "content_block_stop") == 0) {
        s->block = -1;
        s->block_type = CM_BLOCK_NONE;
        return NGX_HTTP_LLM_XLATE_OK;
    }

    if (strcmp(type, "message_stop") != 0) {
        return NGX_HTTP_LLM_XLATE_OK;
    }

    s->done = 1;
    len = out->len;
    rc = NGX_HTTP_LLM_XLATE_OK;

    if (s->include_usage) {
        rc = cm_lit(out, "data: {\"id\":");
        rc |= ngx_http_llm_xlate_print_str(out, s->id);
        rc |= cm_lit(out, ",\"object\":\"chat.completion.chunk\","
                          "\"created\":");
        rc |= ngx_http_llm_xlate_print_num(out, (double) s->created);
        rc |= cm_lit(out, ",\"model\":");
        rc |= ngx_http_llm_xlate_print_str(out, s->model);
        rc |= cm_lit(out, ",\"choices\":[],");
        rc |= cm_usage(out, s->prompt_tokens, s->cached_tokens,
                       s->completion_tokens);
        rc |= cm_lit(out, "}\n\n");
    }

    rc |= cm_lit(out, "data: [DONE]\n\n");

    if (rc) {
        /* never half an event */
        out->len = len;
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    return NGX_HTTP_LLM_XLATE_OK;
}


/* message_start has the input, message_delta the output (and maybe more) */

static void
cm_event_usage(ngx_http_llm_xlate_sse_t *s, cJSON *usage)
{
    if (!cJSON_IsObject(usage)) {
        return;
    }

    ngx_http_llm_xlate_cm_usage(s,
        ngx_http_llm_xlate_int(usage, "input_tokens"),
        ngx_http_llm_xlate_int(usage, "output_tokens"),
        ngx_http_llm_xlate_int(usage, "cache_read_input_tokens"),
        ngx_http_llm_xlate_int(usage, "cache_creation_input_tokens"));
}


/*
 * The counts of a usage object (-1: absent, null, not a count), for
 * cm_event() and the fast path.
 */

void
ngx_http_llm_xlate_cm_usage(ngx_http_llm_xlate_sse_t *s, int64_t in,
    int64_t out, int64_t read, int64_t write)
{
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


/*
 * message_start, its id and usage taken: the first chunk; and
 * message_delta, its stop reason and usage taken: the finish reason's
 * chunk.  For cm_event() and the fast path.
 */

int
ngx_http_llm_xlate_cm_start(ngx_http_llm_xlate_sse_t *s,
    ngx_http_llm_xlate_buf_t *out)
{
    int     rc;
    size_t  len;

    /* the chunks' head names the id */
    free(s->head);
    s->head = NULL;

    s->started = 1;

    len = out->len;

    rc = ngx_http_llm_xlate_cm_head(s, out);
    rc |= cm_lit(out, "{\"role\":\"assistant\",\"content\":\"\"}");
    rc |= cm_tail(NULL, out);

    if (rc) {
        /* never half an event */
        out->len = len;
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    return NGX_HTTP_LLM_XLATE_OK;
}


int
ngx_http_llm_xlate_cm_finish(ngx_http_llm_xlate_sse_t *s,
    ngx_http_llm_xlate_buf_t *out)
{
    int     rc;
    size_t  len;

    len = out->len;

    rc = ngx_http_llm_xlate_cm_head(s, out);
    rc |= cm_lit(out, "{}");
    rc |= cm_tail(s->stop, out);

    if (rc) {
        out->len = len;
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    return NGX_HTTP_LLM_XLATE_OK;
}


/* content_block_start of a text block without text, for both paths */

void
ngx_http_llm_xlate_cm_text_block(ngx_http_llm_xlate_sse_t *s, int index)
{
    s->block = index;
    s->block_type = CM_BLOCK_TEXT;
}


/* a chat.completion.chunk event up to its delta, and after it */

int
ngx_http_llm_xlate_cm_head(ngx_http_llm_xlate_sse_t *s,
    ngx_http_llm_xlate_buf_t *out)
{
    int                        rc;
    ngx_http_llm_xlate_buf_t   head;

    /* the same for every chunk until the next message_start: kept */

    if (s->head == NULL) {
        memset(&head, 0, sizeof(ngx_http_llm_xlate_buf_t));

        rc = cm_lit(&head, "data: {\"id\":");
        rc |= ngx_http_llm_xlate_print_str(&head, s->id);
        rc |= cm_lit(&head, ",\"object\":\"chat.completion.chunk\","
                            "\"created\":");
        rc |= ngx_http_llm_xlate_print_num(&head, (double) s->created);
        rc |= cm_lit(&head, ",\"model\":");
        rc |= ngx_http_llm_xlate_print_str(&head, s->model);
        rc |= cm_lit(&head, ",\"choices\":[{\"index\":0,\"delta\":");

        if (rc) {
            ngx_http_llm_xlate_buf_free(&head);
            return NGX_HTTP_LLM_XLATE_NOMEM;
        }

        s->head = head.data;
        s->head_len = head.len;
    }

    return ngx_http_llm_xlate_buf_append(out, s->head, s->head_len);
}


static int
cm_tail(const char *finish, ngx_http_llm_xlate_buf_t *out)
{
    int  rc;

    rc = cm_lit(out, ",\"finish_reason\":");

    if (finish) {
        rc |= ngx_http_llm_xlate_print_str(out, finish);

    } else {
        rc |= cm_lit(out, "null");
    }

    rc |= cm_lit(out, "}]}\n\n");

    return rc ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
}
