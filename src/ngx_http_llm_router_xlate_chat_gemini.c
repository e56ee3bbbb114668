
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * A Gemini provider (generateContent, streamGenerateContent): the request
 * chat -> Gemini; an Anthropic messages client goes through chat (the
 * messages -> chat translator, then this one), so Gemini is one file per
 * API, not one per pair.  The messages are in _chat_gemini_contents.c,
 * the answers in _chat_gemini_answer.c.
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

#include "ngx_http_llm_router_xlate.h"


static int cg_request(ngx_http_llm_xlate_req_t *x);
static int mg_request(ngx_http_llm_xlate_req_t *x);
static cJSON *cg_config(ngx_http_llm_xlate_req_t *x);
static int cg_model(ngx_http_llm_xlate_req_t *x, cJSON *v);
static int cg_gen(ngx_http_llm_xlate_req_t *x, cJSON *v);
static int cg_stop(ngx_http_llm_xlate_req_t *x, cJSON *v);
static int cg_stream(ngx_http_llm_xlate_req_t *x, cJSON *v);
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
    ngx_http_llm_xlate_gc_event,
    NULL,                               /* the plain error event */
    NULL,
    NULL,
    NULL,
    NULL
};


const ngx_http_llm_xlate_pair_t  ngx_http_llm_xlate_messages_gemini = {
    NGX_HTTP_LLM_XLATE_MESSAGES,
    NGX_HTTP_LLM_XLATE_GEMINI,
    mg_request,
    ngx_http_llm_xlate_gm_response,     /* through chat */
    ngx_http_llm_xlate_gc_event,        /* looks at s->to */
    NULL,                               /* the plain error event */
    NULL,
    NULL,
    NULL,
    NULL
};


/*
 * The chat request's top-level fields.  "gen" rows go to generationConfig
 * under the name in "to".  DROP: only steers the provider; REFUSE:
 * changes what the client gets back, Gemini has nothing like it.
 */
static const ngx_http_llm_xlate_field_t  cg_fields[] = {
    { "model",                 NGX_HTTP_LLM_XF_CALL, NULL, cg_model },
    { "messages",              NGX_HTTP_LLM_XF_CALL, NULL,
                               ngx_http_llm_xlate_cg_messages },
    { "max_tokens",            NGX_HTTP_LLM_XF_CALL, NULL,
                               ngx_http_llm_xlate_max_tokens_in },
    { "max_completion_tokens", NGX_HTTP_LLM_XF_CALL, NULL,
                               ngx_http_llm_xlate_max_tokens_in },
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
                               ngx_http_llm_xlate_stream_options },
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
static const ngx_http_llm_xlate_effort_t  cg_efforts[] = {
    { "none", 0 },
    { "minimal", 0 },
    { "low", 1024 },
    { "medium", 8192 },
    { "high", 24576 },
    { NULL, 0 }
};


static int
cg_request(ngx_http_llm_xlate_req_t *x)
{
    cJSON  *gen, *tc;

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
            ngx_http_llm_xlate_add(x, tc, "functionCallingConfig",
                                   x->tool_choice);

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

    static const char  *modes[] = { "NONE", "AUTO", "ANY", "ANY" };

    mode = ngx_http_llm_xlate_tool_choice(v, modes, &name);

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
    return ngx_http_llm_xlate_effort(x, v, cg_efforts);
}


static int
cg_modalities(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    return ngx_http_llm_xlate_text_only(x, v, "Gemini");
}
