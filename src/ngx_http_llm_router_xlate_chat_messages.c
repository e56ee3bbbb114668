
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * An OpenAI chat completions client, an Anthropic messages provider:
 * the request chat -> messages, the answer and its SSE messages -> chat.
 *
 * References: https://platform.openai.com/docs/api-reference/chat
 * https://docs.anthropic.com/en/api/messages
 * https://docs.anthropic.com/en/docs/build-with-claude/streaming
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_llm_router_xlate.h"


static int cm_request(ngx_http_llm_xlate_req_t *x);
static int cm_messages(ngx_http_llm_xlate_req_t *x, cJSON *v);
static int cm_system(ngx_http_llm_xlate_req_t *x, cJSON *content,
    cJSON *system, int i);
static int cm_user(ngx_http_llm_xlate_req_t *x, cJSON *content,
    cJSON *blocks, int i);
static int cm_image(ngx_http_llm_xlate_req_t *x, cJSON *part, cJSON *blocks,
    const char *param);
static int cm_file(ngx_http_llm_xlate_req_t *x, cJSON *part, cJSON *blocks,
    const char *param);
static int cm_assistant(ngx_http_llm_xlate_req_t *x, cJSON *m, cJSON *blocks,
    int i);
static int cm_tool_result(ngx_http_llm_xlate_req_t *x, cJSON *m,
    cJSON *blocks, int i);
static void cm_append(ngx_http_llm_xlate_req_t *x, cJSON *msgs,
    const char *role, cJSON *blocks);
static int cm_temperature(ngx_http_llm_xlate_req_t *x, cJSON *v);
static int cm_stop(ngx_http_llm_xlate_req_t *x, cJSON *v);
static int cm_stream(ngx_http_llm_xlate_req_t *x, cJSON *v);
static int cm_tools(ngx_http_llm_xlate_req_t *x, cJSON *v);
static int cm_tool_choice(ngx_http_llm_xlate_req_t *x, cJSON *v);
static int cm_parallel(ngx_http_llm_xlate_req_t *x, cJSON *v);
static int cm_user_id(ngx_http_llm_xlate_req_t *x, cJSON *v);
static int cm_n(ngx_http_llm_xlate_req_t *x, cJSON *v);
static int cm_logprobs(ngx_http_llm_xlate_req_t *x, cJSON *v);
static int cm_response_format(ngx_http_llm_xlate_req_t *x, cJSON *v);
static int cm_reasoning(ngx_http_llm_xlate_req_t *x, cJSON *v);
static int cm_modalities(ngx_http_llm_xlate_req_t *x, cJSON *v);


const ngx_http_llm_xlate_pair_t  ngx_http_llm_xlate_chat_messages = {
    NGX_HTTP_LLM_XLATE_CHAT,
    NGX_HTTP_LLM_XLATE_MESSAGES,
    cm_request,
    ngx_http_llm_xlate_cm_response,     /* _chat_messages_answer.c */
    ngx_http_llm_xlate_cm_event,
    NULL,                               /* the plain error event */
    ngx_http_llm_xlate_cm_write,
    ngx_http_llm_xlate_cm_fast,
    ngx_http_llm_xlate_cm_fast_request, /* _chat_messages_fast.c */
    ngx_http_llm_xlate_cm_fast_answer   /* _chat_messages_fast_answer.c */
};


/*
 * The chat request's top-level fields.  DROP: only steers the provider;
 * REFUSE: changes what the client gets back, Anthropic has nothing like it.
 */
static const ngx_http_llm_xlate_field_t  cm_fields[] = {
    { "model",                 NGX_HTTP_LLM_XF_CALL, NULL,
                               ngx_http_llm_xlate_model },
    { "messages",              NGX_HTTP_LLM_XF_CALL, NULL, cm_messages },
    { "max_tokens",            NGX_HTTP_LLM_XF_CALL, NULL,
                               ngx_http_llm_xlate_max_tokens_in },
    { "max_completion_tokens", NGX_HTTP_LLM_XF_CALL, NULL,
                               ngx_http_llm_xlate_max_tokens_in },
    { "temperature",           NGX_HTTP_LLM_XF_CALL, NULL, cm_temperature },
    { "top_p",                 NGX_HTTP_LLM_XF_COPY, NULL, NULL },
    { "stop",                  NGX_HTTP_LLM_XF_CALL, NULL, cm_stop },
    { "stream",                NGX_HTTP_LLM_XF_CALL, NULL, cm_stream },
    { "stream_options",        NGX_HTTP_LLM_XF_CALL, NULL,
                               ngx_http_llm_xlate_stream_options },
    { "tools",                 NGX_HTTP_LLM_XF_CALL, NULL, cm_tools },
    { "tool_choice",           NGX_HTTP_LLM_XF_CALL, NULL, cm_tool_choice },
    { "parallel_tool_calls",   NGX_HTTP_LLM_XF_CALL, NULL, cm_parallel },
    { "user",                  NGX_HTTP_LLM_XF_CALL, NULL, cm_user_id },
    { "n",                     NGX_HTTP_LLM_XF_CALL, NULL, cm_n },
    { "logprobs",              NGX_HTTP_LLM_XF_CALL, NULL, cm_logprobs },
    { "top_logprobs",          NGX_HTTP_LLM_XF_CALL, NULL, cm_logprobs },
    { "response_format",       NGX_HTTP_LLM_XF_CALL, NULL,
                               cm_response_format },
    { "reasoning_effort",      NGX_HTTP_LLM_XF_CALL, NULL, cm_reasoning },
    { "modalities",            NGX_HTTP_LLM_XF_CALL, NULL, cm_modalities },
    { "audio",                 NGX_HTTP_LLM_XF_REFUSE, NULL, NULL },
    { "functions",             NGX_HTTP_LLM_XF_REFUSE, NULL, NULL },
    { "function_call",         NGX_HTTP_LLM_XF_REFUSE, NULL, NULL },
    { "presence_penalty",      NGX_HTTP_LLM_XF_DROP, NULL, NULL },
    { "frequency_penalty",     NGX_HTTP_LLM_XF_DROP, NULL, NULL },
    { "logit_bias",            NGX_HTTP_LLM_XF_DROP, NULL, NULL },
    { "seed",                  NGX_HTTP_LLM_XF_DROP, NULL, NULL },
    { "service_tier",          NGX_HTTP_LLM_XF_DROP, NULL, NULL },
    { "store",                 NGX_HTTP_LLM_XF_DROP, NULL, NULL },
    { "metadata",              NGX_HTTP_LLM_XF_DROP, NULL, NULL },
    { "prediction",            NGX_HTTP_LLM_XF_DROP, NULL, NULL },
    { "web_search_options",    NGX_HTTP_LLM_XF_DROP, NULL, NULL },
    { "prompt_cache_key",      NGX_HTTP_LLM_XF_DROP, NULL, NULL },
    { "safety_identifier",     NGX_HTTP_LLM_XF_DROP, NULL, NULL },
    { "verbosity",             NGX_HTTP_LLM_XF_DROP, NULL, NULL },
    { NULL, 0, NULL, NULL }
};


/* reasoning_effort -> thinking budget_tokens (Anthropic's minimum 1024) */
static const ngx_http_llm_xlate_effort_t  cm_efforts[] = {
    { "none", 0 },
    { "minimal", 0 },
    { "low", 1024 },
    { "medium", 4096 },
    { "high", 16384 },
    { NULL, 0 }
};


static int
cm_request(ngx_http_llm_xlate_req_t *x)
{
    int64_t      max;
    cJSON       *thinking;
    const char  *type;

    if (ngx_http_llm_xlate_fields(x, cm_fields) != NGX_HTTP_LLM_XLATE_OK
        || x->res->status)
    {
        return x->oom ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
    }

    /* Anthropic requires max_tokens */

    max = x->max_tokens;

    if (max < 0) {
        max = x->conf->max_tokens_default > 0 ? x->conf->max_tokens_default
                                              : 4096;
    }

    if (x->budget) {
        /* the budget is part of max_tokens and must stay below it */
        if (max <= x->budget) {
            max += x->budget;
        }

        thinking = cJSON_CreateObject();
        ngx_http_llm_xlate_add(x, x->dst, "thinking", thinking);
        ngx_http_llm_xlate_add_str(x, thinking, "type", "enabled");
        ngx_http_llm_xlate_add(x, thinking, "budget_tokens",
                               cJSON_CreateNumber((double) x->budget));

        /* with thinking Anthropic takes neither temperature nor top_p */
        if (cJSON_GetObjectItemCaseSensitive(x->dst, "temperature")) {
            cJSON_DeleteItemFromObjectCaseSensitive(x->dst, "temperature");
            ngx_http_llm_xlate_drop(x, "temperature");
        }

        if (cJSON_GetObjectItemCaseSensitive(x->dst, "top_p")) {
            cJSON_DeleteItemFromObjectCaseSensitive(x->dst, "top_p");
            ngx_http_llm_xlate_drop(x, "top_p");
        }
    }

    x->res->max_tokens = max;
    ngx_http_llm_xlate_add(x, x->dst, "max_tokens",
                           cJSON_CreateNumber((double) max));

    if (x->tool_choice) {
        type = ngx_http_llm_xlate_str(x->tool_choice, "type");

        /* "none" has no such flag */
        if (x->parallel == 0 && type && strcmp(type, "none") != 0) {
            ngx_http_llm_xlate_add(x, x->tool_choice,
                                   "disable_parallel_tool_use",
                                   cJSON_CreateTrue());
        }

        ngx_http_llm_xlate_add(x, x->dst, "tool_choice", x->tool_choice);
        x->tool_choice = NULL;

    } else if (x->parallel == 0
               && cJSON_GetObjectItemCaseSensitive(x->dst, "tools"))
    {
        x->tool_choice = cJSON_CreateObject();
        ngx_http_llm_xlate_add_str(x, x->tool_choice, "type", "auto");
        ngx_http_llm_xlate_add(x, x->tool_choice,
                               "disable_parallel_tool_use",
                               cJSON_CreateTrue());
        ngx_http_llm_xlate_add(x, x->dst, "tool_choice", x->tool_choice);
        x->tool_choice = NULL;
    }

    return x->oom ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
}


static int
cm_messages(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    int          i, rc;
    char         param[64];
    cJSON       *m, *msgs, *system, *blocks;
    const char  *role;

    if (!cJSON_IsArray(v)) {
        return ngx_http_llm_xlate_refuse(x, "messages",
                                         "'messages' must be an array");
    }

    msgs = ngx_http_llm_xlate_add(x, x->dst, "messages", cJSON_CreateArray());
    system = NULL;
    i = 0;

    for (m = v->child; m; m = m->next, i++) {
        role = ngx_http_llm_xlate_str(m, "role");

        if (role == NULL) {
            snprintf(param, sizeof(param), "messages[%d].role", i);
            return ngx_http_llm_xlate_refuse(x, param,
                                             "'%s' must be a string", param);
        }

        blocks = cJSON_CreateArray();
        if (blocks == NULL) {
            return NGX_HTTP_LLM_XLATE_NOMEM;
        }

        if (strcmp(role, "system") == 0 || strcmp(role, "developer") == 0) {
            cJSON_Delete(blocks);

            if (system == NULL) {
                system = ngx_http_llm_xlate_add(x, x->dst, "system",
                                                cJSON_CreateArray());
            }

            rc = cm_system(x,
                           cJSON_GetObjectItemCaseSensitive(m, "content"),
                           system, i);
            if (rc != NGX_HTTP_LLM_XLATE_OK || x->res->status) {
                return rc;
            }

            continue;
        }

        if (strcmp(role, "user") == 0) {
            rc = cm_user(x, cJSON_GetObjectItemCaseSensitive(m, "content"),
                         blocks, i);

        } else if (strcmp(role, "assistant") == 0) {
            rc = cm_assistant(x, m, blocks, i);

        } else if (strcmp(role, "tool") == 0) {
            rc = cm_tool_result(x, m, blocks, i);
            role = "user";

        } else {
            cJSON_Delete(blocks);
            snprintf(param, sizeof(param), "messages[%d].role", i);
            return ngx_http_llm_xlate_refuse(x, param,
                       "role '%.32s' has no equivalent at Anthropic", role);
        }

        if (rc != NGX_HTTP_LLM_XLATE_OK || x->res->status) {
            cJSON_Delete(blocks);
            return rc;
        }

        if (blocks->child == NULL) {
            /* Anthropic refuses empty content; nothing is lost */
            cJSON_Delete(blocks);
            continue;
        }

        cm_append(x, msgs, role, blocks);
    }

    return x->oom ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
}


/* consecutive messages of one role become one (tool results, mostly) */

static void
cm_append(ngx_http_llm_xlate_req_t *x, cJSON *msgs, const char *role,
    cJSON *blocks)
{
    cJSON        *last, *content, *b;
    const char   *r;

    last = msgs ? cJSON_GetArrayItem(msgs, cJSON_GetArraySize(msgs) - 1)
                : NULL;
    r = last ? ngx_http_llm_xlate_str(last, "role") : NULL;

    if (r && strcmp(r, role) == 0) {
        content = cJSON_GetObjectItemCaseSensitive(last, "content");

        while ((b = blocks->child) != NULL) {
            ngx_http_llm_xlate_add(x, content, NULL,
                                   cJSON_DetachItemViaPointer(blocks, b));
        }

        cJSON_Delete(blocks);
        return;
    }

    last = ngx_http_llm_xlate_add(x, msgs, NULL, cJSON_CreateObject());
    ngx_http_llm_xlate_add_str(x, last, "role", role);
    ngx_http_llm_xlate_add(x, last, "content", blocks);
}


/* text of a string or of text parts, as text blocks */

static int
cm_text(ngx_http_llm_xlate_req_t *x, cJSON *content, cJSON *blocks,
    const char *param)
{
    int          i;
    char         p[64];
    cJSON       *part, *b;
    const char  *type, *text;

    if (cJSON_IsString(content)) {
        if (content->valuestring[0]) {
            b = ngx_http_llm_xlate_add(x, blocks, NULL, cJSON_CreateObject());
            ngx_http_llm_xlate_add_str(x, b, "type", "text");
            ngx_http_llm_xlate_add_str(x, b, "text", content->valuestring);
        }

        return NGX_HTTP_LLM_XLATE_OK;
    }

    if (content == NULL || cJSON_IsNull(content)) {
        return NGX_HTTP_LLM_XLATE_OK;
    }

    if (!cJSON_IsArray(content)) {
        return ngx_http_llm_xlate_refuse(x, param,
                   "'%s' must be a string or an array", param);
    }

    i = 0;

    for (part = content->child; part; part = part->next, i++) {
        type = ngx_http_llm_xlate_str(part, "type");
        text = ngx_http_llm_xlate_str(part, "text");

        if (type == NULL
            || (strcmp(type, "text") && strcmp(type, "refusal"))
            || (text == NULL
                && (text = ngx_http_llm_xlate_str(part, "refusal")) == NULL))
        {
            snprintf(p, sizeof(p), "%.40s[%d]", param, i);
            return ngx_http_llm_xlate_refuse(x, p,
                       "'%s' must be a text part here", p);
        }

        if (text[0]) {
            b = ngx_http_llm_xlate_add(x, blocks, NULL, cJSON_CreateObject());
            ngx_http_llm_xlate_add_str(x, b, "type", "text");
            ngx_http_llm_xlate_add_str(x, b, "text", text);
        }
    }

    return NGX_HTTP_LLM_XLATE_OK;
}


static int
cm_system(ngx_http_llm_xlate_req_t *x, cJSON *content, cJSON *system, int i)
{
    char  param[64];

    snprintf(param, sizeof(param), "messages[%d].content", i);

    return cm_text(x, content, system, param);
}


static int
cm_user(ngx_http_llm_xlate_req_t *x, cJSON *content, cJSON *blocks, int i)
{
    int          j, rc;
    char         param[64];
    cJSON       *part;
    const char  *type;

    snprintf(param, sizeof(param), "messages[%d].content", i);

    if (!cJSON_IsArray(content)) {
        return cm_text(x, content, blocks, param);
    }

    j = 0;

    for (part = content->child; part; part = part->next, j++) {
        type = ngx_http_llm_xlate_str(part, "type");
        snprintf(param, sizeof(param), "messages[%d].content[%d]", i, j);

        if (type && strcmp(type, "image_url") == 0) {
            rc = cm_image(x, part, blocks, param);

        } else if (type && strcmp(type, "file") == 0) {
            rc = cm_file(x, part, blocks, param);

        } else if (type && strcmp(type, "text") == 0) {
            rc = cm_text(x, cJSON_GetObjectItemCaseSensitive(part, "text"),
                         blocks, param);

        } else {
            return ngx_http_llm_xlate_refuse(x, param,
                       "'%s' of type '%.32s' has no equivalent at Anthropic",
                       param, type ? type : "?");
        }

        if (rc != NGX_HTTP_LLM_XLATE_OK || x->res->status) {
            return rc;
        }
    }

    return NGX_HTTP_LLM_XLATE_OK;
}


/* "data:MEDIA;base64,DATA" -> base64 source, else an URL source */

static cJSON *
cm_source(ngx_http_llm_xlate_req_t *x, const char *url)
{
    cJSON       *src;
    const char  *semi;
    char         media[128];

    src = cJSON_CreateObject();
    if (src == NULL) {
        x->oom = 1;
        return NULL;
    }

    if (strncmp(url, "data:", 5) == 0) {
        semi = strstr(url, ";base64,");

        if (semi == NULL || semi - url - 5 >= (long) sizeof(media)) {
            cJSON_Delete(src);
            return NULL;
        }

        snprintf(media, sizeof(media), "%.*s", (int) (semi - url - 5),
                 url + 5);

        ngx_http_llm_xlate_add_str(x, src, "type", "base64");
        ngx_http_llm_xlate_add_str(x, src, "media_type", media);
        ngx_http_llm_xlate_add_str(x, src, "data", semi + 8);

        return src;
    }

    ngx_http_llm_xlate_add_str(x, src, "type", "url");
    ngx_http_llm_xlate_add_str(x, src, "url", url);

    return src;
}


static int
cm_image(ngx_http_llm_xlate_req_t *x, cJSON *part, cJSON *blocks,
    const char *param)
{
    cJSON       *iu, *b, *src;
    const char  *url;

    iu = cJSON_GetObjectItemCaseSensitive(part, "image_url");
    url = cJSON_IsString(iu) ? iu->valuestring
                             : ngx_http_llm_xlate_str(iu, "url");

    if (url == NULL) {
        return ngx_http_llm_xlate_refuse(x, param,
                                         "'%s' has no image URL", param);
    }

    if (cJSON_GetObjectItemCaseSensitive(iu, "detail")) {
        ngx_http_llm_xlate_drop(x, "detail");
    }

    src = cm_source(x, url);
    if (src == NULL) {
        return x->oom ? NGX_HTTP_LLM_XLATE_NOMEM
                      : ngx_http_llm_xlate_refuse(x, param,
                            "'%s' is a data URL without base64", param);
    }

    b = ngx_http_llm_xlate_add(x, blocks, NULL, cJSON_CreateObject());
    ngx_http_llm_xlate_add_str(x, b, "type", "image");
    ngx_http_llm_xlate_add(x, b, "source", src);

    return NGX_HTTP_LLM_XLATE_OK;
}


static int
cm_file(ngx_http_llm_xlate_req_t *x, cJSON *part, cJSON *blocks,
    const char *param)
{
    cJSON       *b, *src;
    const char  *data;

    data = ngx_http_llm_xlate_str(
               cJSON_GetObjectItemCaseSensitive(part, "file"), "file_data");

    /* a file_id names OpenAI's file storage: nothing Anthropic can read */
    if (data == NULL || strncmp(data, "data:", 5) != 0) {
        return ngx_http_llm_xlate_refuse(x, param,
                   "'%s' must carry file_data as a base64 data URL", param);
    }

    src = cm_source(x, data);
    if (src == NULL) {
        return x->oom ? NGX_HTTP_LLM_XLATE_NOMEM
                      : ngx_http_llm_xlate_refuse(x, param,
                            "'%s' is a data URL without base64", param);
    }

    b = ngx_http_llm_xlate_add(x, blocks, NULL, cJSON_CreateObject());
    ngx_http_llm_xlate_add_str(x, b, "type", "document");
    ngx_http_llm_xlate_add(x, b, "source", src);

    return NGX_HTTP_LLM_XLATE_OK;
}


static int
cm_assistant(ngx_http_llm_xlate_req_t *x, cJSON *m, cJSON *blocks, int i)
{
    int          j, rc;
    char         param[80];
    cJSON       *calls, *call, *fn, *b, *input;
    const char  *id, *name, *args;

    snprintf(param, sizeof(param), "messages[%d].content", i);

    rc = cm_text(x, cJSON_GetObjectItemCaseSensitive(m, "content"), blocks,
                 param);
    if (rc != NGX_HTTP_LLM_XLATE_OK || x->res->status) {
        return rc;
    }

    calls = cJSON_GetObjectItemCaseSensitive(m, "tool_calls");
    j = 0;

    for (call = cJSON_IsArray(calls) ? calls->child : NULL;
         call;
         call = call->next, j++)
    {
        fn = cJSON_GetObjectItemCaseSensitive(call, "function");
        id = ngx_http_llm_xlate_str(call, "id");
        name = ngx_http_llm_xlate_str(fn, "name");
        args = ngx_http_llm_xlate_str(fn, "arguments");

        snprintf(param, sizeof(param), "messages[%d].tool_calls[%d]", i, j);

        if (id == NULL || name == NULL) {
            return ngx_http_llm_xlate_refuse(x, param,
                       "'%s' needs an id and a function name", param);
        }

        input = (args && args[0]) ? cJSON_Parse(args) : cJSON_CreateObject();

        if (!cJSON_IsObject(input)) {
            cJSON_Delete(input);
            snprintf(param, sizeof(param),
                     "messages[%d].tool_calls[%d].function.arguments", i, j);
            return ngx_http_llm_xlate_refuse(x, param,
                       "'%s' must be a JSON object", param);
        }

        b = ngx_http_llm_xlate_add(x, blocks, NULL, cJSON_CreateObject());
        ngx_http_llm_xlate_add_str(x, b, "type", "tool_use");
        ngx_http_llm_xlate_add_str(x, b, "id", id);
        ngx_http_llm_xlate_add_str(x, b, "name", name);
        ngx_http_llm_xlate_add(x, b, "input", input);
    }

    return NGX_HTTP_LLM_XLATE_OK;
}


static int
cm_tool_result(ngx_http_llm_xlate_req_t *x, cJSON *m, cJSON *blocks, int i)
{
    int          rc;
    char         param[64];
    cJSON       *b, *content, *text;
    const char  *id;

    id = ngx_http_llm_xlate_str(m, "tool_call_id");

    if (id == NULL) {
        snprintf(param, sizeof(param), "messages[%d].tool_call_id", i);
        return ngx_http_llm_xlate_refuse(x, param,
                                         "'%s' must be a string", param);
    }

    b = ngx_http_llm_xlate_add(x, blocks, NULL, cJSON_CreateObject());
    ngx_http_llm_xlate_add_str(x, b, "type", "tool_result");
    ngx_http_llm_xlate_add_str(x, b, "tool_use_id", id);

    content = cJSON_GetObjectItemCaseSensitive(m, "content");

    if (cJSON_IsString(content)) {
        ngx_http_llm_xlate_add_str(x, b, "content", content->valuestring);
        return NGX_HTTP_LLM_XLATE_OK;
    }

    text = ngx_http_llm_xlate_add(x, b, "content", cJSON_CreateArray());

    snprintf(param, sizeof(param), "messages[%d].content", i);
    rc = cm_text(x, content, text, param);

    return rc;
}


static int
cm_temperature(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    /* OpenAI's range is 0..2, Anthropic's 0..1 */
    if (cJSON_IsNumber(v) && v->valuedouble > 1.0) {
        return ngx_http_llm_xlate_refuse(x, "temperature",
                   "'temperature' above 1 has no equivalent at Anthropic");
    }

    ngx_http_llm_xlate_add(x, x->dst, "temperature",
                           ngx_http_llm_xlate_take(x->src, v));

    return NGX_HTTP_LLM_XLATE_OK;
}


static int
cm_stop(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    cJSON  *a;

    if (cJSON_IsString(v)) {
        a = ngx_http_llm_xlate_add(x, x->dst, "stop_sequences",
                                   cJSON_CreateArray());
        ngx_http_llm_xlate_add_str(x, a, NULL, v->valuestring);
        return NGX_HTTP_LLM_XLATE_OK;
    }

    ngx_http_llm_xlate_add(x, x->dst, "stop_sequences",
                           ngx_http_llm_xlate_take(x->src, v));

    return NGX_HTTP_LLM_XLATE_OK;
}


static int
cm_stream(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    x->res->stream = cJSON_IsTrue(v);

    ngx_http_llm_xlate_add(x, x->dst, "stream",
                           ngx_http_llm_xlate_take(x->src, v));

    return NGX_HTTP_LLM_XLATE_OK;
}


static int
cm_tools(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    int          i;
    char         param[64];
    cJSON       *t, *fn, *tools, *tool, *schema;
    const char  *type, *name;

    if (!cJSON_IsArray(v)) {
        return ngx_http_llm_xlate_refuse(x, "tools",
                                         "'tools' must be an array");
    }

    tools = ngx_http_llm_xlate_add(x, x->dst, "tools", cJSON_CreateArray());
    i = 0;

    for (t = v->child; t; t = t->next, i++) {
        type = ngx_http_llm_xlate_str(t, "type");
        fn = cJSON_GetObjectItemCaseSensitive(t, "function");
        name = ngx_http_llm_xlate_str(fn, "name");

        snprintf(param, sizeof(param), "tools[%d]", i);

        if ((type && strcmp(type, "function")) || name == NULL) {
            return ngx_http_llm_xlate_refuse(x, param,
                       "'%s' must be a function with a name", param);
        }

        tool = ngx_http_llm_xlate_add(x, tools, NULL, cJSON_CreateObject());
        ngx_http_llm_xlate_add_str(x, tool, "name", name);

        if (ngx_http_llm_xlate_str(fn, "description")) {
            ngx_http_llm_xlate_add_str(x, tool, "description",
                ngx_http_llm_xlate_str(fn, "description"));
        }

        schema = cJSON_GetObjectItemCaseSensitive(fn, "parameters");

        if (cJSON_IsObject(schema)) {
            schema = cJSON_DetachItemViaPointer(fn, schema);

        } else {
            schema = cJSON_CreateObject();
        }

        /* input_schema must be an object schema */
        if (schema && !cJSON_GetObjectItemCaseSensitive(schema, "type")) {
            ngx_http_llm_xlate_add_str(x, schema, "type", "object");
        }

        ngx_http_llm_xlate_add(x, tool, "input_schema", schema);

        if (cJSON_GetObjectItemCaseSensitive(fn, "strict")) {
            ngx_http_llm_xlate_drop(x, "strict");
        }
    }

    return NGX_HTTP_LLM_XLATE_OK;
}


static int
cm_tool_choice(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    const char  *type, *name;

    static const char  *types[] = { "none", "auto", "any", "tool" };

    type = ngx_http_llm_xlate_tool_choice(v, types, &name);

    if (type == NULL) {
        return ngx_http_llm_xlate_refuse(x, "tool_choice",
                   "this 'tool_choice' has no equivalent at Anthropic");
    }

    cJSON_Delete(x->tool_choice);

    x->tool_choice = cJSON_CreateObject();
    ngx_http_llm_xlate_add_str(x, x->tool_choice, "type", type);

    if (name) {
        ngx_http_llm_xlate_add_str(x, x->tool_choice, "name", name);
    }

    return NGX_HTTP_LLM_XLATE_OK;
}


static int
cm_parallel(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    x->parallel = cJSON_IsFalse(v) ? 0 : 1;

    return NGX_HTTP_LLM_XLATE_OK;
}


static int
cm_user_id(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    cJSON  *md;

    if (!cJSON_IsString(v)) {
        return ngx_http_llm_xlate_refuse(x, "user", "'user' must be a string");
    }

    md = ngx_http_llm_xlate_add(x, x->dst, "metadata", cJSON_CreateObject());
    ngx_http_llm_xlate_add_str(x, md, "user_id", v->valuestring);

    return NGX_HTTP_LLM_XLATE_OK;
}


static int
cm_n(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    if (ngx_http_llm_xlate_int(x->src, "n") != 1) {
        return ngx_http_llm_xlate_refuse(x, "n",
                   "'n' other than 1 has no equivalent at Anthropic "
                   "(one answer per request)");
    }

    (void) v;

    return NGX_HTTP_LLM_XLATE_OK;
}


static int
cm_logprobs(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    if (cJSON_IsFalse(v) || (cJSON_IsNumber(v) && v->valuedouble == 0)) {
        return NGX_HTTP_LLM_XLATE_OK;
    }

    return ngx_http_llm_xlate_refuse(x, v->string,
               "'%s' has no equivalent at Anthropic", v->string);
}


static int
cm_response_format(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    const char  *type;

    type = ngx_http_llm_xlate_str(v, "type");

    if (type && strcmp(type, "text") == 0) {
        return NGX_HTTP_LLM_XLATE_OK;
    }

    return ngx_http_llm_xlate_refuse(x, "response_format",
               "'response_format' %.32s has no equivalent at Anthropic",
               type ? type : "");
}


static int
cm_reasoning(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    return ngx_http_llm_xlate_effort(x, v, cm_efforts);
}


static int
cm_modalities(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    return ngx_http_llm_xlate_text_only(x, v, "Anthropic");
}
