
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * A Gemini provider (generateContent, streamGenerateContent): the request
 * chat -> Gemini; an Anthropic messages client goes through chat (the
 * messages -> chat translator, then this one), so Gemini is one file per
 * API, not one per pair.  The answers are in _chat_gemini_answer.c.
 *
 * References (Gemini API, v1beta):
 * https://ai.google.dev/api/generate-content (GenerateContentRequest,
 *   GenerationConfig, ThinkingConfig)
 * https://ai.google.dev/api/caching#Content (Content, Part, Blob,
 *   FileData, FunctionCall, FunctionResponse, Tool, FunctionDeclaration
 *   with parametersJsonSchema, ToolConfig, FunctionCallingConfig)
 * https://platform.openai.com/docs/api-reference/chat/create
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ngx_http_llm_router_xlate.h"


static int cg_request(ngx_http_llm_xlate_req_t *x);
static int mg_request(ngx_http_llm_xlate_req_t *x);
static cJSON *cg_config(ngx_http_llm_xlate_req_t *x);
static int cg_model(ngx_http_llm_xlate_req_t *x, cJSON *v);
static int cg_messages(ngx_http_llm_xlate_req_t *x, cJSON *v);
static int cg_text(ngx_http_llm_xlate_req_t *x, cJSON *content,
    cJSON *parts, const char *param);
static int cg_user(ngx_http_llm_xlate_req_t *x, cJSON *content,
    cJSON *parts, int i);
static int cg_media(ngx_http_llm_xlate_req_t *x, const char *url,
    cJSON *parts, const char *param);
static int cg_assistant(ngx_http_llm_xlate_req_t *x, cJSON *m, cJSON *parts,
    int i);
static int cg_tool_result(ngx_http_llm_xlate_req_t *x, cJSON *v, int i,
    cJSON *parts);
static void cg_append(ngx_http_llm_xlate_req_t *x, cJSON *contents,
    const char *role, cJSON *parts);
static int cg_gen(ngx_http_llm_xlate_req_t *x, cJSON *v);
static int cg_max_tokens(ngx_http_llm_xlate_req_t *x, cJSON *v);
static int cg_stop(ngx_http_llm_xlate_req_t *x, cJSON *v);
static int cg_stream(ngx_http_llm_xlate_req_t *x, cJSON *v);
static int cg_stream_options(ngx_http_llm_xlate_req_t *x, cJSON *v);
static int cg_tools(ngx_http_llm_xlate_req_t *x, cJSON *v);
static int cg_tool_choice(ngx_http_llm_xlate_req_t *x, cJSON *v);
static int cg_parallel(ngx_http_llm_xlate_req_t *x, cJSON *v);
static int cg_n(ngx_http_llm_xlate_req_t *x, cJSON *v);
static int cg_logprobs(ngx_http_llm_xlate_req_t *x, cJSON *v);
static int cg_response_format(ngx_http_llm_xlate_req_t *x, cJSON *v);
static int cg_reasoning(ngx_http_llm_xlate_req_t *x, cJSON *v);
static int cg_modalities(ngx_http_llm_xlate_req_t *x, cJSON *v);


const ngx_http_llm_xlate_pair_t  ngx_http_llm_xlate_chat_gemini = {
    NGX_HTTP_LLM_XLATE_CHAT,
    NGX_HTTP_LLM_XLATE_GEMINI,
    cg_request,
    ngx_http_llm_xlate_gc_response,     /* _chat_gemini_answer.c */
    ngx_http_llm_xlate_gc_event
};


const ngx_http_llm_xlate_pair_t  ngx_http_llm_xlate_messages_gemini = {
    NGX_HTTP_LLM_XLATE_MESSAGES,
    NGX_HTTP_LLM_XLATE_GEMINI,
    mg_request,
    ngx_http_llm_xlate_gm_response,     /* through chat */
    ngx_http_llm_xlate_gc_event         /* looks at s->to */
};


/*
 * The chat request's top-level fields.  "gen" rows go to generationConfig
 * under the name in "to".  DROP: only steers the provider; REFUSE:
 * changes what the client gets back, Gemini has nothing like it.
 */
static const ngx_http_llm_xlate_field_t  cg_fields[] = {
    { "model",                 NGX_HTTP_LLM_XF_CALL, NULL, cg_model },
    { "messages",              NGX_HTTP_LLM_XF_CALL, NULL, cg_messages },
    { "max_tokens",            NGX_HTTP_LLM_XF_CALL, NULL, cg_max_tokens },
    { "max_completion_tokens", NGX_HTTP_LLM_XF_CALL, NULL, cg_max_tokens },
    { "temperature",           NGX_HTTP_LLM_XF_CALL, "temperature", cg_gen },
    { "top_p",                 NGX_HTTP_LLM_XF_CALL, "topP", cg_gen },
    { "top_k",                 NGX_HTTP_LLM_XF_CALL, "topK", cg_gen },
    { "seed",                  NGX_HTTP_LLM_XF_CALL, "seed", cg_gen },
    { "presence_penalty",      NGX_HTTP_LLM_XF_CALL, "presencePenalty",
                               cg_gen },
    { "frequency_penalty",     NGX_HTTP_LLM_XF_CALL, "frequencyPenalty",
                               cg_gen },
    { "stop",                  NGX_HTTP_LLM_XF_CALL, NULL, cg_stop },
    { "stream",                NGX_HTTP_LLM_XF_CALL, NULL, cg_stream },
    { "stream_options",        NGX_HTTP_LLM_XF_CALL, NULL,
                               cg_stream_options },
    { "tools",                 NGX_HTTP_LLM_XF_CALL, NULL, cg_tools },
    { "tool_choice",           NGX_HTTP_LLM_XF_CALL, NULL, cg_tool_choice },
    { "parallel_tool_calls",   NGX_HTTP_LLM_XF_CALL, NULL, cg_parallel },
    { "n",                     NGX_HTTP_LLM_XF_CALL, NULL, cg_n },
    { "logprobs",              NGX_HTTP_LLM_XF_CALL, NULL, cg_logprobs },
    { "top_logprobs",          NGX_HTTP_LLM_XF_CALL, NULL, cg_logprobs },
    { "response_format",       NGX_HTTP_LLM_XF_CALL, NULL,
                               cg_response_format },
    { "reasoning_effort",      NGX_HTTP_LLM_XF_CALL, NULL, cg_reasoning },
    { "modalities",            NGX_HTTP_LLM_XF_CALL, NULL, cg_modalities },
    { "audio",                 NGX_HTTP_LLM_XF_REFUSE, NULL, NULL },
    { "functions",             NGX_HTTP_LLM_XF_REFUSE, NULL, NULL },
    { "function_call",         NGX_HTTP_LLM_XF_REFUSE, NULL, NULL },
    { "user",                  NGX_HTTP_LLM_XF_DROP, NULL, NULL },
    { "logit_bias",            NGX_HTTP_LLM_XF_DROP, NULL, NULL },
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


/* reasoning_effort -> thinkingConfig.thinkingBudget (Gemini 2.5) */
static const struct {
    const char  *effort;
    int64_t      budget;
} cg_efforts[] = {
    { "none", 0 },
    { "minimal", 0 },
    { "low", 1024 },
    { "medium", 8192 },
    { "high", 24576 },
    { NULL, 0 }
};


/* image URLs name no media type; Gemini's fileData wants one */
static const struct {
    const char  *ext;
    const char  *type;
} cg_media_types[] = {
    { ".png", "image/png" },
    { ".jpg", "image/jpeg" },
    { ".jpeg", "image/jpeg" },
    { ".webp", "image/webp" },
    { ".gif", "image/gif" },
    { ".heic", "image/heic" },
    { ".heif", "image/heif" },
    { ".pdf", "application/pdf" },
    { NULL, NULL }
};


static int
cg_request(ngx_http_llm_xlate_req_t *x)
{
    cJSON  *gen, *tc, *fc;

    if (ngx_http_llm_xlate_fields(x, cg_fields) != NGX_HTTP_LLM_XLATE_OK
        || x->res->status)
    {
        return x->oom ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
    }

    if (x->max_tokens > 0) {
        x->res->max_tokens = x->max_tokens;
        gen = cg_config(x);
        ngx_http_llm_xlate_add(x, gen, "maxOutputTokens",
                               cJSON_CreateNumber((double) x->max_tokens));
    }

    if (x->budget >= 0 && cJSON_GetObjectItemCaseSensitive(x->src,
                                                           "reasoning_effort"))
    {
        gen = cg_config(x);
        tc = ngx_http_llm_xlate_add(x, gen, "thinkingConfig",
                                    cJSON_CreateObject());
        ngx_http_llm_xlate_add(x, tc, "thinkingBudget",
                               cJSON_CreateNumber((double) x->budget));

        if (x->budget > 0) {
            /* thoughts come back as reasoning_content */
            ngx_http_llm_xlate_add(x, tc, "includeThoughts",
                                   cJSON_CreateTrue());
        }
    }

    if (x->tool_choice) {
        if (cJSON_GetObjectItemCaseSensitive(x->dst, "tools")) {
            tc = ngx_http_llm_xlate_add(x, x->dst, "toolConfig",
                                        cJSON_CreateObject());
            fc = ngx_http_llm_xlate_add(x, tc, "functionCallingConfig",
                                        x->tool_choice);
            (void) fc;

        } else {
            cJSON_Delete(x->tool_choice);
            ngx_http_llm_xlate_drop(x, "tool_choice");
        }

        x->tool_choice = NULL;
    }

    return x->oom ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
}


/*
 * An Anthropic client: its request becomes a chat request, which becomes
 * a Gemini one.  What chat lacks but Gemini has (top_k, the thinking
 * budget) is carried around the middle step.
 */

static int
mg_request(ngx_http_llm_xlate_req_t *x)
{
    int                        rc;
    cJSON                     *chat, *top_k, *thinking, *gen, *tc;
    int64_t                    budget;
    const char                *type;
    ngx_http_llm_xlate_req_t   m, g;
    ngx_http_llm_xlate_conf_t  conf;

    top_k = cJSON_GetObjectItemCaseSensitive(x->src, "top_k");
    top_k = top_k ? ngx_http_llm_xlate_take(x->src, top_k) : NULL;
    thinking = cJSON_GetObjectItemCaseSensitive(x->src, "thinking");
    thinking = thinking ? ngx_http_llm_xlate_take(x->src, thinking) : NULL;

    chat = cJSON_CreateObject();
    if (chat == NULL) {
        cJSON_Delete(top_k);
        cJSON_Delete(thinking);
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    conf = *x->conf;
    conf.max_completion_tokens = 0;

    memset(&m, 0, sizeof(ngx_http_llm_xlate_req_t));
    m.src = x->src;
    m.dst = chat;
    m.conf = &conf;
    m.res = x->res;
    m.max_tokens = -1;
    m.parallel = -1;

    rc = ngx_http_llm_xlate_messages_chat.request(&m);
    cJSON_Delete(m.tool_choice);

    if (rc != NGX_HTTP_LLM_XLATE_OK || x->res->status) {
        goto done;
    }

    if (cJSON_IsNumber(top_k)) {
        ngx_http_llm_xlate_add(&m, chat, "top_k", top_k);
        top_k = NULL;
    }

    memset(&g, 0, sizeof(ngx_http_llm_xlate_req_t));
    g.src = chat;
    g.dst = x->dst;
    g.conf = x->conf;
    g.res = x->res;
    g.max_tokens = -1;
    g.parallel = -1;
    g.budget = -1;

    rc = cg_request(&g);
    cJSON_Delete(g.tool_choice);

    if (rc != NGX_HTTP_LLM_XLATE_OK || x->res->status || g.oom || m.oom) {
        rc = (g.oom || m.oom) ? NGX_HTTP_LLM_XLATE_NOMEM : rc;
        goto done;
    }

    type = ngx_http_llm_xlate_str(thinking, "type");

    if (type) {
        budget = strcmp(type, "enabled") == 0
                 ? ngx_http_llm_xlate_int(thinking, "budget_tokens") : 0;

        g.src = x->src;
        gen = cg_config(&g);
        tc = ngx_http_llm_xlate_add(&g, gen, "thinkingConfig",
                                    cJSON_CreateObject());

        if (budget < 0) {
            /* adaptive: Gemini's dynamic budget */
            budget = -1;
        }

        ngx_http_llm_xlate_add(&g, tc, "thinkingBudget",
                               cJSON_CreateNumber((double) budget));

        if (budget != 0) {
            ngx_http_llm_xlate_add(&g, tc, "includeThoughts",
                                   cJSON_CreateTrue());
        }

        rc = g.oom ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
    }

done:

    cJSON_Delete(top_k);
    cJSON_Delete(thinking);
    cJSON_Delete(chat);

    return rc;
}


static cJSON *
cg_config(ngx_http_llm_xlate_req_t *x)
{
    cJSON  *gen;

    gen = cJSON_GetObjectItemCaseSensitive(x->dst, "generationConfig");

    if (gen == NULL) {
        gen = ngx_http_llm_xlate_add(x, x->dst, "generationConfig",
                                     cJSON_CreateObject());
    }

    return gen;
}


/* the model is in the URL ({path}/models/{model}:generateContent) */

static int
cg_model(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    if (x->conf->model == NULL && !cJSON_IsString(v)) {
        return ngx_http_llm_xlate_refuse(x, "model",
                                         "'model' must be a string");
    }

    return NGX_HTTP_LLM_XLATE_OK;
}


static int
cg_messages(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    int          i, rc;
    char         param[64];
    cJSON       *m, *contents, *system, *parts;
    const char  *role, *r;

    if (!cJSON_IsArray(v)) {
        return ngx_http_llm_xlate_refuse(x, "messages",
                                         "'messages' must be an array");
    }

    contents = ngx_http_llm_xlate_add(x, x->dst, "contents",
                                      cJSON_CreateArray());
    system = NULL;
    i = 0;

    for (m = v->child; m; m = m->next, i++) {
        role = ngx_http_llm_xlate_str(m, "role");
        snprintf(param, sizeof(param), "messages[%d].content", i);

        if (role == NULL) {
            snprintf(param, sizeof(param), "messages[%d].role", i);
            return ngx_http_llm_xlate_refuse(x, param,
                                             "'%s' must be a string", param);
        }

        if (cJSON_GetObjectItemCaseSensitive(m, "name")) {
            ngx_http_llm_xlate_drop(x, "name");
        }

        parts = cJSON_CreateArray();
        if (parts == NULL) {
            return NGX_HTTP_LLM_XLATE_NOMEM;
        }

        if (strcmp(role, "system") == 0 || strcmp(role, "developer") == 0) {
            if (system == NULL) {
                system = ngx_http_llm_xlate_add(x, x->dst,
                                                "systemInstruction",
                                                cJSON_CreateObject());
                ngx_http_llm_xlate_add(x, system, "parts",
                                       cJSON_CreateArray());
            }

            rc = cg_text(x, cJSON_GetObjectItemCaseSensitive(m, "content"),
                         cJSON_GetObjectItemCaseSensitive(system, "parts"),
                         param);
            cJSON_Delete(parts);

            if (rc != NGX_HTTP_LLM_XLATE_OK || x->res->status) {
                return rc;
            }

            continue;
        }

        if (strcmp(role, "user") == 0) {
            rc = cg_user(x, cJSON_GetObjectItemCaseSensitive(m, "content"),
                         parts, i);
            r = "user";

        } else if (strcmp(role, "assistant") == 0) {
            rc = cg_assistant(x, m, parts, i);
            r = "model";

        } else if (strcmp(role, "tool") == 0) {
            rc = cg_tool_result(x, v, i, parts);
            r = "user";

        } else {
            cJSON_Delete(parts);
            snprintf(param, sizeof(param), "messages[%d].role", i);
            return ngx_http_llm_xlate_refuse(x, param,
                       "role '%.32s' has no equivalent at Gemini", role);
        }

        if (rc != NGX_HTTP_LLM_XLATE_OK || x->res->status) {
            cJSON_Delete(parts);
            return rc;
        }

        if (parts->child == NULL) {
            /* Gemini refuses a content without parts; nothing is lost */
            cJSON_Delete(parts);
            continue;
        }

        cg_append(x, contents, r, parts);
    }

    return x->oom ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
}


/* consecutive turns of one role become one (function responses, mostly) */

static void
cg_append(ngx_http_llm_xlate_req_t *x, cJSON *contents, const char *role,
    cJSON *parts)
{
    cJSON       *last, *p, *b;
    const char  *r;

    last = contents ? cJSON_GetArrayItem(contents,
                                         cJSON_GetArraySize(contents) - 1)
                    : NULL;
    r = last ? ngx_http_llm_xlate_str(last, "role") : NULL;

    if (r && strcmp(r, role) == 0) {
        p = cJSON_GetObjectItemCaseSensitive(last, "parts");

        while ((b = parts->child) != NULL) {
            ngx_http_llm_xlate_add(x, p, NULL,
                                   cJSON_DetachItemViaPointer(parts, b));
        }

        cJSON_Delete(parts);
        return;
    }

    last = ngx_http_llm_xlate_add(x, contents, NULL, cJSON_CreateObject());
    ngx_http_llm_xlate_add_str(x, last, "role", role);
    ngx_http_llm_xlate_add(x, last, "parts", parts);
}


static void
cg_text_part(ngx_http_llm_xlate_req_t *x, cJSON *parts, const char *text)
{
    cJSON  *p;

    if (text[0]) {
        p = ngx_http_llm_xlate_add(x, parts, NULL, cJSON_CreateObject());
        ngx_http_llm_xlate_add_str(x, p, "text", text);
    }
}


/* a string or text parts, as text parts */

static int
cg_text(ngx_http_llm_xlate_req_t *x, cJSON *content, cJSON *parts,
    const char *param)
{
    int          i;
    char         p[64];
    cJSON       *part;
    const char  *type, *text;

    if (cJSON_IsString(content)) {
        cg_text_part(x, parts, content->valuestring);
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

        cg_text_part(x, parts, text);
    }

    return NGX_HTTP_LLM_XLATE_OK;
}


static int
cg_user(ngx_http_llm_xlate_req_t *x, cJSON *content, cJSON *parts, int i)
{
    int          j, rc;
    char         param[64];
    cJSON       *part, *o, *p;
    const char  *type, *url, *fmt;

    snprintf(param, sizeof(param), "messages[%d].content", i);

    if (!cJSON_IsArray(content)) {
        return cg_text(x, content, parts, param);
    }

    j = 0;

    for (part = content->child; part; part = part->next, j++) {
        type = ngx_http_llm_xlate_str(part, "type");
        snprintf(param, sizeof(param), "messages[%d].content[%d]", i, j);
        rc = NGX_HTTP_LLM_XLATE_OK;

        if (type && strcmp(type, "text") == 0
            && ngx_http_llm_xlate_str(part, "text"))
        {
            cg_text_part(x, parts, ngx_http_llm_xlate_str(part, "text"));

        } else if (type && strcmp(type, "image_url") == 0) {
            o = cJSON_GetObjectItemCaseSensitive(part, "image_url");
            url = cJSON_IsString(o) ? o->valuestring
                                    : ngx_http_llm_xlate_str(o, "url");

            if (cJSON_GetObjectItemCaseSensitive(o, "detail")) {
                ngx_http_llm_xlate_drop(x, "detail");
            }

            rc = cg_media(x, url, parts, param);

        } else if (type && strcmp(type, "file") == 0) {
            o = cJSON_GetObjectItemCaseSensitive(part, "file");
            url = ngx_http_llm_xlate_str(o, "file_data");

            /* a file_id names OpenAI's storage: nothing Gemini can read */
            if (url == NULL || strncmp(url, "data:", 5) != 0) {
                return ngx_http_llm_xlate_refuse(x, param,
                           "'%s' must carry file_data as a base64 data URL",
                           param);
            }

            rc = cg_media(x, url, parts, param);

        } else if (type && strcmp(type, "input_audio") == 0) {
            o = cJSON_GetObjectItemCaseSensitive(part, "input_audio");
            url = ngx_http_llm_xlate_str(o, "data");
            fmt = ngx_http_llm_xlate_str(o, "format");

            if (url == NULL || fmt == NULL
                || (strcmp(fmt, "wav") && strcmp(fmt, "mp3")))
            {
                return ngx_http_llm_xlate_refuse(x, param,
                           "'%s' needs base64 data in wav or mp3", param);
            }

            p = ngx_http_llm_xlate_add(x, parts, NULL, cJSON_CreateObject());
            o = ngx_http_llm_xlate_add(x, p, "inlineData",
                                       cJSON_CreateObject());
            ngx_http_llm_xlate_add_str(x, o, "mimeType",
                                       fmt[0] == 'w' ? "audio/wav"
                                                     : "audio/mp3");
            ngx_http_llm_xlate_add_str(x, o, "data", url);

        } else {
            return ngx_http_llm_xlate_refuse(x, param,
                       "'%s' of type '%.32s' has no equivalent at Gemini",
                       param, type ? type : "?");
        }

        if (rc != NGX_HTTP_LLM_XLATE_OK || x->res->status) {
            return rc;
        }
    }

    return NGX_HTTP_LLM_XLATE_OK;
}


/*
 * "data:MEDIA;base64,DATA" -> inlineData; any other URL -> fileData
 * (Files API URIs, and URLs Gemini fetches itself), with the media type
 * its extension gives.
 */

static int
cg_media(ngx_http_llm_xlate_req_t *x, const char *url, cJSON *parts,
    const char *param)
{
    int          i;
    char         media[128];
    size_t       len, n;
    cJSON       *p, *o;
    const char  *semi, *end;

    if (url == NULL || url[0] == '\0') {
        return ngx_http_llm_xlate_refuse(x, param, "'%s' has no URL", param);
    }

    p = ngx_http_llm_xlate_add(x, parts, NULL, cJSON_CreateObject());

    if (strncmp(url, "data:", 5) == 0) {
        semi = strstr(url, ";base64,");

        if (semi == NULL || semi - url - 5 >= (long) sizeof(media)
            || semi == url + 5)
        {
            return ngx_http_llm_xlate_refuse(x, param,
                       "'%s' is a data URL without a media type and base64",
                       param);
        }

        snprintf(media, sizeof(media), "%.*s", (int) (semi - url - 5),
                 url + 5);

        o = ngx_http_llm_xlate_add(x, p, "inlineData", cJSON_CreateObject());
        ngx_http_llm_xlate_add_str(x, o, "mimeType", media);
        ngx_http_llm_xlate_add_str(x, o, "data", semi + 8);

        return NGX_HTTP_LLM_XLATE_OK;
    }

    if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0
        && strncmp(url, "gs://", 5) != 0)
    {
        return ngx_http_llm_xlate_refuse(x, param,
                   "'%s' must be a data URL or an http(s) URL", param);
    }

    o = ngx_http_llm_xlate_add(x, p, "fileData", cJSON_CreateObject());

    end = strpbrk(url, "?#");
    len = end ? (size_t) (end - url) : strlen(url);

    for (i = 0; cg_media_types[i].ext; i++) {
        n = strlen(cg_media_types[i].ext);

        if (len > n && strncasecmp(url + len - n, cg_media_types[i].ext, n)
                       == 0)
        {
            ngx_http_llm_xlate_add_str(x, o, "mimeType",
                                       cg_media_types[i].type);
            break;
        }
    }

    ngx_http_llm_xlate_add_str(x, o, "fileUri", url);

    return NGX_HTTP_LLM_XLATE_OK;
}


static int
cg_assistant(ngx_http_llm_xlate_req_t *x, cJSON *m, cJSON *parts, int i)
{
    int          j, rc;
    char         param[80];
    cJSON       *calls, *call, *fn, *p, *fc, *args;
    const char  *name, *a;

    snprintf(param, sizeof(param), "messages[%d].content", i);

    rc = cg_text(x, cJSON_GetObjectItemCaseSensitive(m, "content"), parts,
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
        name = ngx_http_llm_xlate_str(fn, "name");
        a = ngx_http_llm_xlate_str(fn, "arguments");

        if (name == NULL) {
            snprintf(param, sizeof(param),
                     "messages[%d].tool_calls[%d].function.name", i, j);
            return ngx_http_llm_xlate_refuse(x, param,
                                             "'%s' must be a string", param);
        }

        args = (a && a[0]) ? cJSON_Parse(a) : cJSON_CreateObject();

        if (!cJSON_IsObject(args)) {
            cJSON_Delete(args);
            snprintf(param, sizeof(param),
                     "messages[%d].tool_calls[%d].function.arguments", i, j);
            return ngx_http_llm_xlate_refuse(x, param,
                       "'%s' must be a JSON object", param);
        }

        /* Gemini's own call ids are not sent back: ours are made up */
        p = ngx_http_llm_xlate_add(x, parts, NULL, cJSON_CreateObject());
        fc = ngx_http_llm_xlate_add(x, p, "functionCall", cJSON_CreateObject());
        ngx_http_llm_xlate_add_str(x, fc, "name", name);
        ngx_http_llm_xlate_add(x, fc, "args", args);
    }

    return NGX_HTTP_LLM_XLATE_OK;
}


/*
 * A "tool" message: Gemini answers a call by its function's name, which
 * the client does not repeat: the most recent assistant turn before it
 * that made a call of this id has it.
 */

static int
cg_tool_result(ngx_http_llm_xlate_req_t *x, cJSON *v, int i, cJSON *parts)
{
    int                        k, rc;
    char                       param[64];
    cJSON                     *m, *call, *p, *fr, *resp;
    const char                *id, *cid, *name;
    ngx_http_llm_xlate_buf_t   text;

    m = cJSON_GetArrayItem(v, i);
    id = ngx_http_llm_xlate_str(m, "tool_call_id");

    snprintf(param, sizeof(param), "messages[%d].tool_call_id", i);

    if (id == NULL) {
        return ngx_http_llm_xlate_refuse(x, param,
                                         "'%s' must be a string", param);
    }

    name = NULL;

    for (k = i - 1; k >= 0 && name == NULL; k--) {
        call = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(v, k),
                                                "tool_calls");

        for (call = cJSON_IsArray(call) ? call->child : NULL;
             call;
             call = call->next)
        {
            cid = ngx_http_llm_xlate_str(call, "id");

            if (cid && strcmp(cid, id) == 0) {
                name = ngx_http_llm_xlate_str(
                    cJSON_GetObjectItemCaseSensitive(call, "function"),
                    "name");
                break;
            }
        }
    }

    if (name == NULL) {
        return ngx_http_llm_xlate_refuse(x, param,
                   "'%s' names no earlier tool call (Gemini answers a "
                   "call by its function's name)", param);
    }

    memset(&text, 0, sizeof(ngx_http_llm_xlate_buf_t));

    snprintf(param, sizeof(param), "messages[%d].content", i);

    resp = cJSON_CreateArray();
    if (resp == NULL) {
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    rc = cg_text(x, cJSON_GetObjectItemCaseSensitive(m, "content"), resp,
                 param);

    for (p = resp->child; p && rc == NGX_HTTP_LLM_XLATE_OK; p = p->next) {
        rc = ngx_http_llm_xlate_buf_append(&text,
                                           ngx_http_llm_xlate_str(p, "text"),
                                           strlen(ngx_http_llm_xlate_str(
                                               p, "text")));
    }

    cJSON_Delete(resp);
    rc |= ngx_http_llm_xlate_buf_append(&text, "", 1);

    if (rc != NGX_HTTP_LLM_XLATE_OK || x->res->status) {
        ngx_http_llm_xlate_buf_free(&text);
        return rc ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
    }

    /* the response is an object: the text under "output", as Google's
     * reference suggests for a function's output */
    p = ngx_http_llm_xlate_add(x, parts, NULL, cJSON_CreateObject());
    fr = ngx_http_llm_xlate_add(x, p, "functionResponse", cJSON_CreateObject());
    ngx_http_llm_xlate_add_str(x, fr, "name", name);
    resp = ngx_http_llm_xlate_add(x, fr, "response", cJSON_CreateObject());
    ngx_http_llm_xlate_add_str(x, resp, "output", (char *) text.data);

    ngx_http_llm_xlate_buf_free(&text);

    return NGX_HTTP_LLM_XLATE_OK;
}


/* a number that goes to generationConfig as it is */

static int
cg_gen(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    const ngx_http_llm_xlate_field_t  *f;

    if (!cJSON_IsNumber(v)) {
        return ngx_http_llm_xlate_refuse(x, v->string,
                                         "'%s' must be a number", v->string);
    }

    for (f = cg_fields; f->name; f++) {
        if (strcmp(f->name, v->string) == 0) {
            break;
        }
    }

    ngx_http_llm_xlate_add(x, cg_config(x), f->to,
                           cJSON_CreateNumber(v->valuedouble));

    return NGX_HTTP_LLM_XLATE_OK;
}


static int
cg_max_tokens(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    int64_t  n;

    n = ngx_http_llm_xlate_int(x->src, v->string);

    if (n < 1) {
        return ngx_http_llm_xlate_refuse(x, v->string,
                   "'%s' must be a positive integer", v->string);
    }

    /* max_completion_tokens replaces the older max_tokens */
    if (x->max_tokens < 0 || strcmp(v->string, "max_completion_tokens") == 0)
    {
        x->max_tokens = n;
    }

    return NGX_HTTP_LLM_XLATE_OK;
}


static int
cg_stop(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    cJSON  *a, *s;

    a = ngx_http_llm_xlate_add(x, cg_config(x), "stopSequences",
                               cJSON_CreateArray());

    if (cJSON_IsString(v)) {
        ngx_http_llm_xlate_add_str(x, a, NULL, v->valuestring);
        return NGX_HTTP_LLM_XLATE_OK;
    }

    for (s = cJSON_IsArray(v) ? v->child : NULL; s; s = s->next) {
        if (!cJSON_IsString(s)) {
            return ngx_http_llm_xlate_refuse(x, "stop",
                       "'stop' must be a string or an array of strings");
        }

        ngx_http_llm_xlate_add_str(x, a, NULL, s->valuestring);
    }

    return NGX_HTTP_LLM_XLATE_OK;
}


/* the method says it (streamGenerateContent?alt=sse), not the body */

static int
cg_stream(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    x->res->stream = cJSON_IsTrue(v);

    return NGX_HTTP_LLM_XLATE_OK;
}


/* Gemini always reports usage; the client's wish shapes our output */

static int
cg_stream_options(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    x->res->include_usage = cJSON_IsTrue(
        cJSON_GetObjectItemCaseSensitive(v, "include_usage"));

    return NGX_HTTP_LLM_XLATE_OK;
}


static int
cg_tools(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    int          i;
    char         param[64];
    cJSON       *t, *fn, *tools, *decls, *decl, *schema;
    const char  *type, *name, *desc;

    if (!cJSON_IsArray(v)) {
        return ngx_http_llm_xlate_refuse(x, "tools",
                                         "'tools' must be an array");
    }

    if (v->child == NULL) {
        return NGX_HTTP_LLM_XLATE_OK;
    }

    tools = ngx_http_llm_xlate_add(x, x->dst, "tools", cJSON_CreateArray());
    t = ngx_http_llm_xlate_add(x, tools, NULL, cJSON_CreateObject());
    decls = ngx_http_llm_xlate_add(x, t, "functionDeclarations",
                                   cJSON_CreateArray());
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

        decl = ngx_http_llm_xlate_add(x, decls, NULL, cJSON_CreateObject());
        ngx_http_llm_xlate_add_str(x, decl, "name", name);

        desc = ngx_http_llm_xlate_str(fn, "description");
        if (desc) {
            ngx_http_llm_xlate_add_str(x, decl, "description", desc);
        }

        /*
         * parametersJsonSchema takes JSON Schema as it is (parameters
         * takes Google's OpenAPI subset only); no parameters: none.
         */
        schema = cJSON_GetObjectItemCaseSensitive(fn, "parameters");

        if (cJSON_IsObject(schema)) {
            ngx_http_llm_xlate_add(x, decl, "parametersJsonSchema",
                                   cJSON_DetachItemViaPointer(fn, schema));
        }

        if (cJSON_GetObjectItemCaseSensitive(fn, "strict")) {
            ngx_http_llm_xlate_drop(x, "strict");
        }
    }

    return NGX_HTTP_LLM_XLATE_OK;
}


/* none -> NONE, auto -> AUTO, required -> ANY, a function -> ANY of it */

static int
cg_tool_choice(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    cJSON       *a;
    const char  *mode, *name;

    mode = NULL;
    name = NULL;

    if (cJSON_IsString(v)) {
        if (strcmp(v->valuestring, "none") == 0) {
            mode = "NONE";

        } else if (strcmp(v->valuestring, "auto") == 0) {
            mode = "AUTO";

        } else if (strcmp(v->valuestring, "required") == 0) {
            mode = "ANY";
        }

    } else {
        name = ngx_http_llm_xlate_str(
                   cJSON_GetObjectItemCaseSensitive(v, "function"), "name");
        mode = name ? "ANY" : NULL;
    }

    if (mode == NULL) {
        return ngx_http_llm_xlate_refuse(x, "tool_choice",
                   "this 'tool_choice' has no equivalent at Gemini");
    }

    cJSON_Delete(x->tool_choice);

    x->tool_choice = cJSON_CreateObject();
    ngx_http_llm_xlate_add_str(x, x->tool_choice, "mode", mode);

    if (name) {
        a = ngx_http_llm_xlate_add(x, x->tool_choice, "allowedFunctionNames",
                                   cJSON_CreateArray());
        ngx_http_llm_xlate_add_str(x, a, NULL, name);
    }

    return NGX_HTTP_LLM_XLATE_OK;
}


/* Gemini has no switch for it: false is dropped, and said so */

static int
cg_parallel(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    if (cJSON_IsFalse(v)) {
        ngx_http_llm_xlate_drop(x, "parallel_tool_calls");
    }

    return NGX_HTTP_LLM_XLATE_OK;
}


static int
cg_n(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    (void) v;

    if (ngx_http_llm_xlate_int(x->src, "n") != 1) {
        return ngx_http_llm_xlate_refuse(x, "n",
                   "'n' other than 1 is not translated to Gemini "
                   "(one answer per request)");
    }

    return NGX_HTTP_LLM_XLATE_OK;
}


static int
cg_logprobs(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    if (cJSON_IsFalse(v) || (cJSON_IsNumber(v) && v->valuedouble == 0)) {
        return NGX_HTTP_LLM_XLATE_OK;
    }

    return ngx_http_llm_xlate_refuse(x, v->string,
               "'%s' is not translated to Gemini", v->string);
}


/* json_object -> responseMimeType; json_schema -> responseJsonSchema too */

static int
cg_response_format(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    cJSON       *js, *schema, *gen;
    const char  *type;

    type = ngx_http_llm_xlate_str(v, "type");

    if (type && strcmp(type, "text") == 0) {
        return NGX_HTTP_LLM_XLATE_OK;
    }

    if (type && strcmp(type, "json_object") == 0) {
        ngx_http_llm_xlate_add_str(x, cg_config(x), "responseMimeType",
                                   "application/json");
        return NGX_HTTP_LLM_XLATE_OK;
    }

    js = cJSON_GetObjectItemCaseSensitive(v, "json_schema");
    schema = cJSON_GetObjectItemCaseSensitive(js, "schema");

    if (type == NULL || strcmp(type, "json_schema") || !cJSON_IsObject(schema))
    {
        return ngx_http_llm_xlate_refuse(x, "response_format",
                   "'response_format' must be text, json_object or "
                   "json_schema with a schema");
    }

    gen = cg_config(x);
    ngx_http_llm_xlate_add_str(x, gen, "responseMimeType",
                               "application/json");
    ngx_http_llm_xlate_add(x, gen, "responseJsonSchema",
                           cJSON_DetachItemViaPointer(js, schema));

    return NGX_HTTP_LLM_XLATE_OK;
}


static int
cg_reasoning(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    int  i;

    for (i = 0; cJSON_IsString(v) && cg_efforts[i].effort; i++) {
        if (strcmp(cg_efforts[i].effort, v->valuestring) == 0) {
            x->budget = cg_efforts[i].budget;
            return NGX_HTTP_LLM_XLATE_OK;
        }
    }

    return ngx_http_llm_xlate_refuse(x, "reasoning_effort",
               "'reasoning_effort' must be none, minimal, low, medium "
               "or high");
}


static int
cg_modalities(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    cJSON  *m;

    for (m = cJSON_IsArray(v) ? v->child : NULL; m; m = m->next) {
        if (!cJSON_IsString(m) || strcmp(m->valuestring, "text")) {
            return ngx_http_llm_xlate_refuse(x, "modalities",
                       "'modalities' other than text are not translated "
                       "to Gemini");
        }
    }

    return NGX_HTTP_LLM_XLATE_OK;
}
