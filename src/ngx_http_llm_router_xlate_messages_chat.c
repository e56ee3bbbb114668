
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * An Anthropic messages client (Claude Code, the Anthropic SDKs), an
 * OpenAI chat completions provider: the request messages -> chat, the
 * answer and its SSE chat -> messages.
 *
 * References: https://docs.anthropic.com/en/api/messages
 * https://docs.anthropic.com/en/docs/build-with-claude/streaming
 * https://platform.openai.com/docs/api-reference/chat
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_llm_router_xlate.h"


static int mc_request(ngx_http_llm_xlate_req_t *x);
static int mc_messages(ngx_http_llm_xlate_req_t *x, cJSON *v);
static int mc_system(ngx_http_llm_xlate_req_t *x, cJSON *msgs);
static int mc_join(ngx_http_llm_xlate_req_t *x, cJSON *content,
    ngx_http_llm_xlate_buf_t *text, const char *param);
static int mc_user(ngx_http_llm_xlate_req_t *x, cJSON *msgs, cJSON *content,
    int i);
static int mc_part(ngx_http_llm_xlate_req_t *x, cJSON *b, cJSON *parts,
    const char *type, const char *param);
static int mc_tool_result(ngx_http_llm_xlate_req_t *x, cJSON *msgs,
    cJSON *b, const char *param);
static int mc_assistant(ngx_http_llm_xlate_req_t *x, cJSON *msgs,
    cJSON *content, int i);
static int mc_stream(ngx_http_llm_xlate_req_t *x, cJSON *v);
static int mc_tools(ngx_http_llm_xlate_req_t *x, cJSON *v);
static int mc_tool_choice(ngx_http_llm_xlate_req_t *x, cJSON *v);


const ngx_http_llm_xlate_pair_t  ngx_http_llm_xlate_messages_chat = {
    NGX_HTTP_LLM_XLATE_MESSAGES,
    NGX_HTTP_LLM_XLATE_CHAT,
    mc_request,
    ngx_http_llm_xlate_mc_response,     /* _messages_chat_answer.c */
    ngx_http_llm_xlate_mc_event,
    NULL,                               /* the plain error event */
    NULL,
    NULL,
    NULL,
    NULL
};


/*
 * The messages request's top-level fields.  DROP: only steers the
 * provider (thinking: OpenAI's reasoning models take no budget and the
 * others would refuse reasoning_effort); REFUSE: changes the answer.
 */
static const ngx_http_llm_xlate_field_t  mc_fields[] = {
    { "model",              NGX_HTTP_LLM_XF_CALL, NULL,
                            ngx_http_llm_xlate_model },
    { "messages",           NGX_HTTP_LLM_XF_CALL, NULL, mc_messages },
    { "system",             NGX_HTTP_LLM_XF_SKIP, NULL, NULL },
    { "max_tokens",         NGX_HTTP_LLM_XF_CALL, NULL,
                            ngx_http_llm_xlate_max_tokens_out },
    { "temperature",        NGX_HTTP_LLM_XF_COPY, NULL, NULL },
    { "top_p",              NGX_HTTP_LLM_XF_COPY, NULL, NULL },
    { "top_k",              NGX_HTTP_LLM_XF_REFUSE, NULL, NULL },
    { "stop_sequences",     NGX_HTTP_LLM_XF_RENAME, "stop", NULL },
    { "stream",             NGX_HTTP_LLM_XF_CALL, NULL, mc_stream },
    { "tools",              NGX_HTTP_LLM_XF_CALL, NULL, mc_tools },
    { "tool_choice",        NGX_HTTP_LLM_XF_CALL, NULL, mc_tool_choice },
    { "metadata",           NGX_HTTP_LLM_XF_DROP, NULL, NULL },
    { "thinking",           NGX_HTTP_LLM_XF_DROP, NULL, NULL },
    { "service_tier",       NGX_HTTP_LLM_XF_DROP, NULL, NULL },
    { "container",          NGX_HTTP_LLM_XF_DROP, NULL, NULL },
    { "mcp_servers",        NGX_HTTP_LLM_XF_DROP, NULL, NULL },
    { "context_management", NGX_HTTP_LLM_XF_DROP, NULL, NULL },
    { NULL, 0, NULL, NULL }
};


static int
mc_request(ngx_http_llm_xlate_req_t *x)
{
    int  rc;

    rc = ngx_http_llm_xlate_fields(x, mc_fields);

    if (rc != NGX_HTTP_LLM_XLATE_OK || x->res->status) {
        return rc;
    }

    if (x->tool_choice) {
        if (cJSON_GetObjectItemCaseSensitive(x->dst, "tools")) {
            ngx_http_llm_xlate_add(x, x->dst, "tool_choice", x->tool_choice);

            if (x->parallel == 0) {
                ngx_http_llm_xlate_add(x, x->dst, "parallel_tool_calls",
                                       cJSON_CreateFalse());
            }

        } else {
            /* every tool was a hosted one the provider lacks */
            cJSON_Delete(x->tool_choice);
            ngx_http_llm_xlate_drop(x, "tool_choice");
        }

        x->tool_choice = NULL;
    }

    return x->oom ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
}


static int
mc_messages(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    int          i, rc;
    char         param[64];
    cJSON       *m, *msgs, *content;
    const char  *role;

    if (!cJSON_IsArray(v)) {
        return ngx_http_llm_xlate_refuse(x, "messages",
                                         "'messages' must be an array");
    }

    msgs = ngx_http_llm_xlate_add(x, x->dst, "messages", cJSON_CreateArray());

    rc = mc_system(x, msgs);
    if (rc != NGX_HTTP_LLM_XLATE_OK || x->res->status) {
        return rc;
    }

    i = 0;

    for (m = v->child; m; m = m->next, i++) {
        role = ngx_http_llm_xlate_str(m, "role");
        content = cJSON_GetObjectItemCaseSensitive(m, "content");

        if (role && strcmp(role, "user") == 0) {
            rc = mc_user(x, msgs, content, i);

        } else if (role && strcmp(role, "assistant") == 0) {
            rc = mc_assistant(x, msgs, content, i);

        } else {
            snprintf(param, sizeof(param), "messages[%d].role", i);
            return ngx_http_llm_xlate_refuse(x, param,
                       "'%s' must be user or assistant", param);
        }

        if (rc != NGX_HTTP_LLM_XLATE_OK || x->res->status) {
            return rc;
        }
    }

    return x->oom ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
}


static int
mc_system(ngx_http_llm_xlate_req_t *x, cJSON *msgs)
{
    int                        rc;
    cJSON                     *system, *m;
    ngx_http_llm_xlate_buf_t   text;

    system = cJSON_GetObjectItemCaseSensitive(x->src, "system");

    if (system == NULL || cJSON_IsNull(system)) {
        return NGX_HTTP_LLM_XLATE_OK;
    }

    memset(&text, 0, sizeof(ngx_http_llm_xlate_buf_t));

    rc = mc_join(x, system, &text, "system");

    if (rc == NGX_HTTP_LLM_XLATE_OK && x->res->status == 0 && text.len) {
        m = ngx_http_llm_xlate_add(x, msgs, NULL, cJSON_CreateObject());
        ngx_http_llm_xlate_add_str(x, m, "role", "system");
        ngx_http_llm_xlate_add_str(x, m, "content", (char *) text.data);
    }

    ngx_http_llm_xlate_buf_free(&text);

    return rc;
}


/*
 * The text of a string or of text blocks, blocks joined by a blank line,
 * NUL-terminated in text.  Other blocks are refused.
 */

static int
mc_join(ngx_http_llm_xlate_req_t *x, cJSON *content,
    ngx_http_llm_xlate_buf_t *text, const char *param)
{
    int          i, rc;
    char         p[64];
    cJSON       *b;
    const char  *type, *t;

    rc = NGX_HTTP_LLM_XLATE_OK;

    if (cJSON_IsString(content)) {
        rc = ngx_http_llm_xlate_buf_append(text, content->valuestring,
                                           strlen(content->valuestring));

    } else if (cJSON_IsArray(content)) {
        i = 0;

        for (b = content->child; b; b = b->next, i++) {
            type = ngx_http_llm_xlate_str(b, "type");
            t = ngx_http_llm_xlate_str(b, "text");

            if (type == NULL || strcmp(type, "text") || t == NULL) {
                snprintf(p, sizeof(p), "%.40s[%d]", param, i);
                return ngx_http_llm_xlate_refuse(x, p,
                           "'%s' must be a text block here", p);
            }

            if (cJSON_GetObjectItemCaseSensitive(b, "cache_control")) {
                ngx_http_llm_xlate_drop(x, "cache_control");
            }

            if (text->len) {
                rc |= ngx_http_llm_xlate_buf_append(text, "\n\n", 2);
            }

            rc |= ngx_http_llm_xlate_buf_append(text, t, strlen(t));
        }

    } else if (content && !cJSON_IsNull(content)) {
        return ngx_http_llm_xlate_refuse(x, param,
                   "'%s' must be a string or an array", param);
    }

    rc |= ngx_http_llm_xlate_buf_append(text, "", 1);
    text->len--;

    return rc ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
}


/*
 * A user turn: its tool_result blocks become "tool" messages first (they
 * answer the previous assistant turn), the rest one user message.
 */

static int
mc_user(ngx_http_llm_xlate_req_t *x, cJSON *msgs, cJSON *content, int i)
{
    int                        j, rc, text_only;
    char                       param[64];
    cJSON                     *b, *parts, *m, *p;
    const char                *type;
    ngx_http_llm_xlate_buf_t   text;

    if (cJSON_IsString(content)) {
        m = ngx_http_llm_xlate_add(x, msgs, NULL, cJSON_CreateObject());
        ngx_http_llm_xlate_add_str(x, m, "role", "user");
        ngx_http_llm_xlate_add_str(x, m, "content", content->valuestring);
        return NGX_HTTP_LLM_XLATE_OK;
    }

    if (!cJSON_IsArray(content)) {
        snprintf(param, sizeof(param), "messages[%d].content", i);
        return ngx_http_llm_xlate_refuse(x, param,
                   "'%s' must be a string or an array", param);
    }

    parts = cJSON_CreateArray();
    if (parts == NULL) {
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    j = 0;
    rc = NGX_HTTP_LLM_XLATE_OK;

    for (b = content->child; b; b = b->next, j++) {
        type = ngx_http_llm_xlate_str(b, "type");
        snprintf(param, sizeof(param), "messages[%d].content[%d]", i, j);

        if (type && strcmp(type, "tool_result") == 0) {
            rc = mc_tool_result(x, msgs, b, param);

        } else {
            rc = mc_part(x, b, parts, type, param);
        }

        if (rc != NGX_HTTP_LLM_XLATE_OK || x->res->status) {
            cJSON_Delete(parts);
            return rc;
        }
    }

    if (parts->child == NULL) {
        cJSON_Delete(parts);
        return x->oom ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
    }

    /* text only: one string, which every OpenAI-compatible API takes */

    text_only = 1;

    for (p = parts->child; p; p = p->next) {
        if (strcmp(ngx_http_llm_xlate_str(p, "type"), "text") != 0) {
            text_only = 0;
        }
    }

    m = ngx_http_llm_xlate_add(x, msgs, NULL, cJSON_CreateObject());
    ngx_http_llm_xlate_add_str(x, m, "role", "user");

    if (!text_only) {
        ngx_http_llm_xlate_add(x, m, "content", parts);
        return x->oom ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
    }

    memset(&text, 0, sizeof(ngx_http_llm_xlate_buf_t));

    rc = mc_join(x, parts, &text, param);

    if (rc == NGX_HTTP_LLM_XLATE_OK) {
        ngx_http_llm_xlate_add_str(x, m, "content", (char *) text.data);
    }

    ngx_http_llm_xlate_buf_free(&text);
    cJSON_Delete(parts);

    return rc != NGX_HTTP_LLM_XLATE_OK ? rc
           : x->oom ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
}


static int
mc_part(ngx_http_llm_xlate_req_t *x, cJSON *b, cJSON *parts,
    const char *type, const char *param)
{
    char         *url;
    size_t        len;
    cJSON        *part, *src, *o;
    const char   *stype, *media, *data;

    if (cJSON_GetObjectItemCaseSensitive(b, "cache_control")) {
        ngx_http_llm_xlate_drop(x, "cache_control");
    }

    if (type && strcmp(type, "text") == 0
        && ngx_http_llm_xlate_str(b, "text"))
    {
        part = ngx_http_llm_xlate_add(x, parts, NULL, cJSON_CreateObject());
        ngx_http_llm_xlate_add_str(x, part, "type", "text");
        ngx_http_llm_xlate_add_str(x, part, "text",
                                   ngx_http_llm_xlate_str(b, "text"));
        return NGX_HTTP_LLM_XLATE_OK;
    }

    src = cJSON_GetObjectItemCaseSensitive(b, "source");
    stype = ngx_http_llm_xlate_str(src, "type");
    media = ngx_http_llm_xlate_str(src, "media_type");
    data = ngx_http_llm_xlate_str(src, "data");

    if (type == NULL || stype == NULL
        || (strcmp(type, "image") && strcmp(type, "document")))
    {
        return ngx_http_llm_xlate_refuse(x, param,
                   "'%s' of type '%.32s' has no equivalent at the "
                   "provider's API", param, type ? type : "?");
    }

    if (strcmp(stype, "url") == 0 && strcmp(type, "image") == 0) {
        part = ngx_http_llm_xlate_add(x, parts, NULL, cJSON_CreateObject());
        ngx_http_llm_xlate_add_str(x, part, "type", "image_url");
        o = ngx_http_llm_xlate_add(x, part, "image_url", cJSON_CreateObject());
        ngx_http_llm_xlate_add_str(x, o, "url",
                                   ngx_http_llm_xlate_str(src, "url"));
        return NGX_HTTP_LLM_XLATE_OK;
    }

    if (strcmp(stype, "text") == 0 && data) {
        /* a plain text document is text */
        part = ngx_http_llm_xlate_add(x, parts, NULL, cJSON_CreateObject());
        ngx_http_llm_xlate_add_str(x, part, "type", "text");
        ngx_http_llm_xlate_add_str(x, part, "text", data);
        return NGX_HTTP_LLM_XLATE_OK;
    }

    if (strcmp(stype, "base64") != 0 || media == NULL || data == NULL) {
        return ngx_http_llm_xlate_refuse(x, param,
                   "'%s' needs a base64 source or an image URL", param);
    }

    len = strlen(media) + strlen(data) + 14;
    url = malloc(len);
    if (url == NULL) {
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    snprintf(url, len, "data:%s;base64,%s", media, data);

    part = ngx_http_llm_xlate_add(x, parts, NULL, cJSON_CreateObject());

    if (strcmp(type, "image") == 0) {
        ngx_http_llm_xlate_add_str(x, part, "type", "image_url");
        o = ngx_http_llm_xlate_add(x, part, "image_url", cJSON_CreateObject());
        ngx_http_llm_xlate_add_str(x, o, "url", url);

    } else {
        ngx_http_llm_xlate_add_str(x, part, "type", "file");
        o = ngx_http_llm_xlate_add(x, part, "file", cJSON_CreateObject());
        ngx_http_llm_xlate_add_str(x, o, "filename", "document.pdf");
        ngx_http_llm_xlate_add_str(x, o, "file_data", url);
    }

    free(url);

    return NGX_HTTP_LLM_XLATE_OK;
}


static int
mc_tool_result(ngx_http_llm_xlate_req_t *x, cJSON *msgs, cJSON *b,
    const char *param)
{
    int                        rc;
    cJSON                     *m, *content, *c, *texts;
    const char                *id, *type;
    ngx_http_llm_xlate_buf_t   text;

    id = ngx_http_llm_xlate_str(b, "tool_use_id");

    if (id == NULL) {
        return ngx_http_llm_xlate_refuse(x, param,
                   "'%s' needs a tool_use_id", param);
    }

    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(b, "is_error"))) {
        ngx_http_llm_xlate_drop(x, "is_error");
    }

    if (cJSON_GetObjectItemCaseSensitive(b, "cache_control")) {
        ngx_http_llm_xlate_drop(x, "cache_control");
    }

    content = cJSON_GetObjectItemCaseSensitive(b, "content");

    /* a chat tool message holds text only: other blocks are named */

    texts = NULL;

    if (cJSON_IsArray(content)) {
        texts = cJSON_CreateArray();
        if (texts == NULL) {
            return NGX_HTTP_LLM_XLATE_NOMEM;
        }

        for (c = content->child; c; c = c->next) {
            type = ngx_http_llm_xlate_str(c, "type");

            if (type && strcmp(type, "text") == 0) {
                ngx_http_llm_xlate_add(x, texts, NULL,
                                       cJSON_Duplicate(c, 1));

            } else {
                ngx_http_llm_xlate_drop(x, "tool_result.content");
            }
        }

        content = texts;
    }

    memset(&text, 0, sizeof(ngx_http_llm_xlate_buf_t));

    rc = mc_join(x, content, &text, param);

    if (rc == NGX_HTTP_LLM_XLATE_OK && x->res->status == 0) {
        m = ngx_http_llm_xlate_add(x, msgs, NULL, cJSON_CreateObject());
        ngx_http_llm_xlate_add_str(x, m, "role", "tool");
        ngx_http_llm_xlate_add_str(x, m, "tool_call_id", id);
        ngx_http_llm_xlate_add_str(x, m, "content",
                                   text.data ? (char *) text.data : "");
    }

    ngx_http_llm_xlate_buf_free(&text);
    cJSON_Delete(texts);

    return rc;
}


static int
mc_assistant(ngx_http_llm_xlate_req_t *x, cJSON *msgs, cJSON *content, int i)
{
    int                        rc;
    char                      *args, param[64];
    cJSON                     *b, *m, *calls, *c, *fn, *input;
    const char                *type, *t;
    ngx_http_llm_xlate_buf_t   text;

    memset(&text, 0, sizeof(ngx_http_llm_xlate_buf_t));
    calls = NULL;
    rc = NGX_HTTP_LLM_XLATE_OK;

    if (cJSON_IsString(content)) {
        rc = ngx_http_llm_xlate_buf_append(&text, content->valuestring,
                                           strlen(content->valuestring));

    } else if (!cJSON_IsArray(content)) {
        snprintf(param, sizeof(param), "messages[%d].content", i);
        return ngx_http_llm_xlate_refuse(x, param,
                   "'%s' must be a string or an array", param);
    }

    for (b = cJSON_IsArray(content) ? content->child : NULL; b; b = b->next) {
        type = ngx_http_llm_xlate_str(b, "type");

        if (type == NULL) {
            continue;
        }

        if (strcmp(type, "text") == 0
            && (t = ngx_http_llm_xlate_str(b, "text")) != NULL)
        {
            rc |= ngx_http_llm_xlate_buf_append(&text, t, strlen(t));

        } else if (strcmp(type, "tool_use") == 0) {
            if (calls == NULL) {
                calls = cJSON_CreateArray();
            }

            input = cJSON_GetObjectItemCaseSensitive(b, "input");
            args = input ? cJSON_PrintUnformatted(input) : NULL;

            c = ngx_http_llm_xlate_add(x, calls, NULL, cJSON_CreateObject());
            ngx_http_llm_xlate_add_str(x, c, "id",
                                       ngx_http_llm_xlate_str(b, "id"));
            ngx_http_llm_xlate_add_str(x, c, "type", "function");
            fn = ngx_http_llm_xlate_add(x, c, "function",
                                        cJSON_CreateObject());
            ngx_http_llm_xlate_add_str(x, fn, "name",
                                       ngx_http_llm_xlate_str(b, "name"));
            ngx_http_llm_xlate_add_str(x, fn, "arguments",
                                       args ? args : "{}");
            cJSON_free(args);

        } else {
            /* thinking, redacted_thinking, server tools' blocks */
            ngx_http_llm_xlate_drop(x, type);
        }
    }

    rc |= ngx_http_llm_xlate_buf_append(&text, "", 1);

    if (rc == NGX_HTTP_LLM_XLATE_OK && (text.len > 1 || calls)) {
        m = ngx_http_llm_xlate_add(x, msgs, NULL, cJSON_CreateObject());
        ngx_http_llm_xlate_add_str(x, m, "role", "assistant");

        if (text.len > 1) {
            ngx_http_llm_xlate_add_str(x, m, "content", (char *) text.data);

        } else {
            ngx_http_llm_xlate_add(x, m, "content", cJSON_CreateNull());
        }

        if (calls) {
            ngx_http_llm_xlate_add(x, m, "tool_calls", calls);
            calls = NULL;
        }
    }

    cJSON_Delete(calls);
    ngx_http_llm_xlate_buf_free(&text);

    return rc ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
}


/* the usage chunk is asked for: message_delta carries the usage */

static int
mc_stream(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    cJSON  *so;

    x->res->stream = cJSON_IsTrue(v);

    ngx_http_llm_xlate_add(x, x->dst, "stream",
                           ngx_http_llm_xlate_take(x->src, v));

    if (x->res->stream) {
        so = ngx_http_llm_xlate_add(x, x->dst, "stream_options",
                                    cJSON_CreateObject());
        ngx_http_llm_xlate_add(x, so, "include_usage", cJSON_CreateTrue());
    }

    return NGX_HTTP_LLM_XLATE_OK;
}


static int
mc_tools(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    int          i;
    char         param[64];
    cJSON       *t, *tools, *tool, *fn, *schema;
    const char  *type, *name, *desc;

    if (!cJSON_IsArray(v)) {
        return ngx_http_llm_xlate_refuse(x, "tools",
                                         "'tools' must be an array");
    }

    tools = NULL;
    i = 0;

    for (t = v->child; t; t = t->next, i++) {
        type = ngx_http_llm_xlate_str(t, "type");
        name = ngx_http_llm_xlate_str(t, "name");

        if (type && strcmp(type, "custom") != 0) {
            /* a hosted tool (web_search_..., bash_..., computer_...) */
            ngx_http_llm_xlate_drop(x, type);
            continue;
        }

        if (name == NULL) {
            snprintf(param, sizeof(param), "tools[%d].name", i);
            return ngx_http_llm_xlate_refuse(x, param,
                                             "'%s' must be a string", param);
        }

        if (cJSON_GetObjectItemCaseSensitive(t, "cache_control")) {
            ngx_http_llm_xlate_drop(x, "cache_control");
        }

        if (cJSON_GetObjectItemCaseSensitive(t, "defer_loading")) {
            ngx_http_llm_xlate_drop(x, "defer_loading");
        }

        if (tools == NULL) {
            tools = ngx_http_llm_xlate_add(x, x->dst, "tools",
                                           cJSON_CreateArray());
        }

        tool = ngx_http_llm_xlate_add(x, tools, NULL, cJSON_CreateObject());
        ngx_http_llm_xlate_add_str(x, tool, "type", "function");
        fn = ngx_http_llm_xlate_add(x, tool, "function", cJSON_CreateObject());
        ngx_http_llm_xlate_add_str(x, fn, "name", name);

        desc = ngx_http_llm_xlate_str(t, "description");
        if (desc) {
            ngx_http_llm_xlate_add_str(x, fn, "description", desc);
        }

        schema = cJSON_GetObjectItemCaseSensitive(t, "input_schema");
        schema = cJSON_IsObject(schema) ? cJSON_DetachItemViaPointer(t, schema)
                                        : cJSON_CreateObject();

        ngx_http_llm_xlate_add(x, fn, "parameters", schema);
    }

    return NGX_HTTP_LLM_XLATE_OK;
}


static int
mc_tool_choice(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    cJSON       *fn;
    const char  *type, *name;

    type = ngx_http_llm_xlate_str(v, "type");
    name = ngx_http_llm_xlate_str(v, "name");

    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
            v, "disable_parallel_tool_use")))
    {
        x->parallel = 0;
    }

    cJSON_Delete(x->tool_choice);
    x->tool_choice = NULL;

    if (type && strcmp(type, "auto") == 0) {
        x->tool_choice = cJSON_CreateString("auto");

    } else if (type && strcmp(type, "any") == 0) {
        x->tool_choice = cJSON_CreateString("required");

    } else if (type && strcmp(type, "none") == 0) {
        x->tool_choice = cJSON_CreateString("none");

    } else if (type && strcmp(type, "tool") == 0 && name) {
        x->tool_choice = cJSON_CreateObject();
        ngx_http_llm_xlate_add_str(x, x->tool_choice, "type", "function");
        fn = ngx_http_llm_xlate_add(x, x->tool_choice, "function",
                                    cJSON_CreateObject());
        ngx_http_llm_xlate_add_str(x, fn, "name", name);

    } else {
        return ngx_http_llm_xlate_refuse(x, "tool_choice",
                   "this 'tool_choice' has no equivalent at the provider");
    }

    if (x->tool_choice == NULL) {
        x->oom = 1;
    }

    return NGX_HTTP_LLM_XLATE_OK;
}
