
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * An OpenAI Responses API client (Codex, the Agents SDK), an OpenAI chat
 * completions provider: the request responses -> chat (the answer and its
 * SSE are in ngx_http_llm_router_xlate_responses_chat_answer.c).  An
 * Anthropic provider is reached through chat
 * (ngx_http_llm_router_xlate_responses_messages.c).
 *
 * References: https://platform.openai.com/docs/api-reference/responses/create
 * https://platform.openai.com/docs/guides/migrate-to-responses
 * https://platform.openai.com/docs/api-reference/chat/create
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_llm_router_xlate.h"


static int rc_input(ngx_http_llm_xlate_req_t *x, cJSON *v);
static cJSON *rc_messages(ngx_http_llm_xlate_req_t *x);
static int rc_item(ngx_http_llm_xlate_req_t *x, cJSON *msgs, cJSON *item,
    int i);
static int rc_message(ngx_http_llm_xlate_req_t *x, cJSON *msgs, cJSON *item,
    const char *param);
static int rc_part(ngx_http_llm_xlate_req_t *x, cJSON *part, cJSON *parts,
    ngx_http_llm_xlate_buf_t *text, const char *param);
static int rc_call(ngx_http_llm_xlate_req_t *x, cJSON *msgs, cJSON *item,
    const char *param);
static int rc_output(ngx_http_llm_xlate_req_t *x, cJSON *msgs, cJSON *item,
    const char *param);
static int rc_stream(ngx_http_llm_xlate_req_t *x, cJSON *v);
static int rc_tools(ngx_http_llm_xlate_req_t *x, cJSON *v);
static int rc_tool_choice(ngx_http_llm_xlate_req_t *x, cJSON *v);
static int rc_parallel(ngx_http_llm_xlate_req_t *x, cJSON *v);
static int rc_reasoning(ngx_http_llm_xlate_req_t *x, cJSON *v);
static int rc_text(ngx_http_llm_xlate_req_t *x, cJSON *v);
static int rc_state(ngx_http_llm_xlate_req_t *x, cJSON *v);
static int rc_flag(ngx_http_llm_xlate_req_t *x, cJSON *v);


const ngx_http_llm_xlate_pair_t  ngx_http_llm_xlate_responses_chat = {
    NGX_HTTP_LLM_XLATE_RESPONSES,
    NGX_HTTP_LLM_XLATE_CHAT,
    ngx_http_llm_xlate_rc_request,
    ngx_http_llm_xlate_rc_response,     /* _responses_chat_answer.c */
    ngx_http_llm_xlate_rc_event,
    ngx_http_llm_xlate_rc_fail,
    NULL,
    NULL,
    NULL,
    NULL
};


/*
 * The Responses request's top-level fields.  DROP: only steers the
 * provider; REFUSE (or a handler refusing): changes what the client gets
 * back, or needs state kept by OpenAI that the gateway does not keep.
 */
static const ngx_http_llm_xlate_field_t  rc_fields[] = {
    { "model",                NGX_HTTP_LLM_XF_CALL, NULL,
                              ngx_http_llm_xlate_model },
    { "input",                NGX_HTTP_LLM_XF_CALL, NULL, rc_input },
    { "instructions",         NGX_HTTP_LLM_XF_SKIP, NULL, NULL },
    { "max_output_tokens",    NGX_HTTP_LLM_XF_CALL, NULL,
                              ngx_http_llm_xlate_max_tokens_out },
    { "temperature",          NGX_HTTP_LLM_XF_COPY, NULL, NULL },
    { "top_p",                NGX_HTTP_LLM_XF_COPY, NULL, NULL },
    { "stream",               NGX_HTTP_LLM_XF_CALL, NULL, rc_stream },
    { "tools",                NGX_HTTP_LLM_XF_CALL, NULL, rc_tools },
    { "tool_choice",          NGX_HTTP_LLM_XF_CALL, NULL, rc_tool_choice },
    { "parallel_tool_calls",  NGX_HTTP_LLM_XF_CALL, NULL, rc_parallel },
    { "reasoning",            NGX_HTTP_LLM_XF_CALL, NULL, rc_reasoning },
    { "text",                 NGX_HTTP_LLM_XF_CALL, NULL, rc_text },
    { "user",                 NGX_HTTP_LLM_XF_COPY, NULL, NULL },
    { "store",                NGX_HTTP_LLM_XF_CALL, NULL, rc_flag },
    { "background",           NGX_HTTP_LLM_XF_CALL, NULL, rc_flag },
    { "previous_response_id", NGX_HTTP_LLM_XF_CALL, NULL, rc_state },
    { "conversation",         NGX_HTTP_LLM_XF_CALL, NULL, rc_state },
    { "prompt",               NGX_HTTP_LLM_XF_CALL, NULL, rc_state },
    { "top_logprobs",         NGX_HTTP_LLM_XF_REFUSE, NULL, NULL },
    { "include",              NGX_HTTP_LLM_XF_DROP, NULL, NULL },
    { "metadata",             NGX_HTTP_LLM_XF_DROP, NULL, NULL },
    { "prompt_cache_key",     NGX_HTTP_LLM_XF_DROP, NULL, NULL },
    { "prompt_cache_retention", NGX_HTTP_LLM_XF_DROP, NULL, NULL },
    { "safety_identifier",    NGX_HTTP_LLM_XF_DROP, NULL, NULL },
    { "service_tier",         NGX_HTTP_LLM_XF_DROP, NULL, NULL },
    { "truncation",           NGX_HTTP_LLM_XF_DROP, NULL, NULL },
    { "max_tool_calls",       NGX_HTTP_LLM_XF_DROP, NULL, NULL },
    { "stream_options",       NGX_HTTP_LLM_XF_DROP, NULL, NULL },
    { NULL, 0, NULL, NULL }
};


/*
 * Content parts of an input message -> chat content parts.  Text parts
 * of either direction are accepted in any message (clients send their
 * history's output_text back as it came).
 */
#define RC_PART_TEXT   0
#define RC_PART_IMAGE  1
#define RC_PART_FILE   2

static const struct {
    const char  *type;
    int          kind;
} rc_parts[] = {
    { "input_text", RC_PART_TEXT },
    { "output_text", RC_PART_TEXT },
    { "text", RC_PART_TEXT },
    { "refusal", RC_PART_TEXT },
    { "input_image", RC_PART_IMAGE },
    { "input_file", RC_PART_FILE },
    { NULL, 0 }
};


int
ngx_http_llm_xlate_rc_request(ngx_http_llm_xlate_req_t *x)
{
    int     rc;
    cJSON  *msgs, *tools;

    rc = ngx_http_llm_xlate_fields(x, rc_fields);

    if (rc != NGX_HTTP_LLM_XLATE_OK || x->res->status) {
        return rc;
    }

    if (cJSON_GetObjectItemCaseSensitive(x->dst, "messages") == NULL) {
        /* no input: the instructions alone, if any */
        msgs = rc_messages(x);

        if (x->res->status || x->oom) {
            return x->oom ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
        }

        if (cJSON_GetArraySize(msgs) == 0) {
            return ngx_http_llm_xlate_refuse(x, "input",
                                             "'input' is required");
        }
    }

    tools = cJSON_GetObjectItemCaseSensitive(x->dst, "tools");

    if (x->tool_choice) {
        if (tools) {
            ngx_http_llm_xlate_add(x, x->dst, "tool_choice", x->tool_choice);

        } else {
            /* every tool was a hosted one the provider lacks */
            cJSON_Delete(x->tool_choice);
            ngx_http_llm_xlate_drop(x, "tool_choice");
        }

        x->tool_choice = NULL;
    }

    /* chat providers refuse parallel_tool_calls without tools */
    if (x->parallel >= 0) {
        if (tools) {
            ngx_http_llm_xlate_add(x, x->dst, "parallel_tool_calls",
                                   cJSON_CreateBool(x->parallel));

        } else {
            ngx_http_llm_xlate_drop(x, "parallel_tool_calls");
        }
    }

    return x->oom ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
}


/* "messages" with the instructions as its system message */

static cJSON *
rc_messages(ngx_http_llm_xlate_req_t *x)
{
    cJSON  *msgs, *m, *ins;

    /* "input" given twice: the last one counts */
    cJSON_DeleteItemFromObjectCaseSensitive(x->dst, "messages");

    msgs = ngx_http_llm_xlate_add(x, x->dst, "messages", cJSON_CreateArray());
    ins = cJSON_GetObjectItemCaseSensitive(x->src, "instructions");

    if (msgs == NULL || ins == NULL || cJSON_IsNull(ins)) {
        return msgs;
    }

    if (!cJSON_IsString(ins)) {
        (void) ngx_http_llm_xlate_refuse(x, "instructions",
                                         "'instructions' must be a string");
        return msgs;
    }

    m = ngx_http_llm_xlate_add(x, msgs, NULL, cJSON_CreateObject());
    ngx_http_llm_xlate_add_str(x, m, "role", "system");
    ngx_http_llm_xlate_add_str(x, m, "content", ins->valuestring);

    return msgs;
}


static int
rc_input(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    int     i, rc;
    cJSON  *msgs, *m, *item;

    msgs = rc_messages(x);

    if (msgs == NULL || x->res->status) {
        return x->oom ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
    }

    if (cJSON_IsString(v)) {
        m = ngx_http_llm_xlate_add(x, msgs, NULL, cJSON_CreateObject());
        ngx_http_llm_xlate_add_str(x, m, "role", "user");
        ngx_http_llm_xlate_add_str(x, m, "content", v->valuestring);

        return x->oom ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
    }

    if (!cJSON_IsArray(v)) {
        return ngx_http_llm_xlate_refuse(x, "input",
                   "'input' must be a string or an array of items");
    }

    i = 0;

    for (item = v->child; item; item = item->next, i++) {
        rc = rc_item(x, msgs, item, i);

        if (rc != NGX_HTTP_LLM_XLATE_OK || x->res->status) {
            return rc;
        }
    }

    return x->oom ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
}


static int
rc_item(ngx_http_llm_xlate_req_t *x, cJSON *msgs, cJSON *item, int i)
{
    char         param[64];
    const char  *type;

    snprintf(param, sizeof(param), "input[%d]", i);

    if (!cJSON_IsObject(item)) {
        return ngx_http_llm_xlate_refuse(x, param,
                                         "'%s' must be an object", param);
    }

    type = ngx_http_llm_xlate_str(item, "type");

    if (type == NULL || strcmp(type, "message") == 0) {
        return rc_message(x, msgs, item, param);
    }

    if (strcmp(type, "function_call") == 0) {
        return rc_call(x, msgs, item, param);
    }

    if (strcmp(type, "function_call_output") == 0) {
        return rc_output(x, msgs, item, param);
    }

    if (strcmp(type, "reasoning") == 0) {
        /* the model's own notes: chat providers take none back */
        ngx_http_llm_xlate_drop(x, "input.reasoning");
        return NGX_HTTP_LLM_XLATE_OK;
    }

    if (strcmp(type, "item_reference") == 0) {
        return ngx_http_llm_xlate_refuse(x, param,
                   "'%s' refers to an item stored by OpenAI; the gateway "
                   "keeps none: send the item itself", param);
    }

    /* calls of hosted or custom tools (their tools are dropped) */

    return ngx_http_llm_xlate_refuse(x, param,
               "'%s' is a %s item, which the provider's API cannot "
               "represent", param, type);
}


static int
rc_message(ngx_http_llm_xlate_req_t *x, cJSON *msgs, cJSON *item,
    const char *param)
{
    int                        j, rc, plain;
    char                       pp[96];
    cJSON                     *content, *part, *parts, *m;
    const char                *role;
    ngx_http_llm_xlate_buf_t   text;

    role = ngx_http_llm_xlate_str(item, "role");

    if (role == NULL
        || (strcmp(role, "user") != 0 && strcmp(role, "assistant") != 0
            && strcmp(role, "system") != 0
            && strcmp(role, "developer") != 0))
    {
        return ngx_http_llm_xlate_refuse(x, param,
                   "'%s.role' must be user, assistant, system or "
                   "developer", param);
    }

    /* developer is OpenAI's newer name; every chat provider knows system */
    if (strcmp(role, "developer") == 0) {
        role = "system";
    }

    content = cJSON_GetObjectItemCaseSensitive(item, "content");

    m = cJSON_CreateObject();
    ngx_http_llm_xlate_add_str(x, m, "role", role);

    if (cJSON_IsString(content)) {
        ngx_http_llm_xlate_add(x, m, "content",
                               ngx_http_llm_xlate_take(item, content));
        ngx_http_llm_xlate_add(x, msgs, NULL, m);

        return x->oom ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
    }

    if (!cJSON_IsArray(content)) {
        cJSON_Delete(m);
        return ngx_http_llm_xlate_refuse(x, param,
                   "'%s.content' must be a string or an array", param);
    }

    /*
     * Only users' messages take parts in every chat API; the others get
     * their text joined, as do users' messages of text alone.
     */

    plain = strcmp(role, "user") != 0;
    parts = cJSON_CreateArray();
    memset(&text, 0, sizeof(ngx_http_llm_xlate_buf_t));
    rc = NGX_HTTP_LLM_XLATE_OK;
    j = 0;

    for (part = content->child; part; part = part->next, j++) {
        snprintf(pp, sizeof(pp), "%s.content[%d]", param, j);

        rc = rc_part(x, part, plain ? NULL : parts, &text, pp);

        if (rc != NGX_HTTP_LLM_XLATE_OK || x->res->status) {
            break;
        }
    }

    if (rc == NGX_HTTP_LLM_XLATE_OK && !x->res->status) {
        rc = ngx_http_llm_xlate_buf_append(&text, "", 1);
    }

    if (rc != NGX_HTTP_LLM_XLATE_OK || x->res->status || parts == NULL) {
        cJSON_Delete(m);
        cJSON_Delete(parts);
        ngx_http_llm_xlate_buf_free(&text);

        return (rc != NGX_HTTP_LLM_XLATE_OK || parts == NULL)
               ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
    }

    if (plain || cJSON_GetArraySize(parts) == 0) {
        cJSON_Delete(parts);
        ngx_http_llm_xlate_add_str(x, m, "content", (char *) text.data);

    } else {
        ngx_http_llm_xlate_add(x, m, "content", parts);
    }

    ngx_http_llm_xlate_buf_free(&text);
    ngx_http_llm_xlate_add(x, msgs, NULL, m);

    return x->oom ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
}


/*
 * One content part: text is appended to text (parts NULL) or becomes a
 * chat text part; images and files become chat parts (users only).
 */

static int
rc_part(ngx_http_llm_xlate_req_t *x, cJSON *part, cJSON *parts,
    ngx_http_llm_xlate_buf_t *text, const char *param)
{
    int          k;
    cJSON       *p, *o, *detail;
    const char  *type, *s, *name;

    type = ngx_http_llm_xlate_str(part, "type");

    for (k = 0; type && rc_parts[k].type; k++) {
        if (strcmp(rc_parts[k].type, type) == 0) {
            break;
        }
    }

    if (type == NULL || rc_parts[k].type == NULL) {
        return ngx_http_llm_xlate_refuse(x, param,
                   "'%s' is of a type the provider's API cannot represent",
                   param);
    }

    if (rc_parts[k].kind == RC_PART_TEXT) {
        s = ngx_http_llm_xlate_str(part, strcmp(type, "refusal") == 0
                                         ? "refusal" : "text");
        if (s == NULL) {
            return ngx_http_llm_xlate_refuse(x, param,
                                             "'%s' has no text", param);
        }

        if (parts == NULL || cJSON_GetArraySize(parts) == 0) {
            /* text alone stays a string: every chat provider takes it */
            return ngx_http_llm_xlate_buf_append(text, s, strlen(s));
        }

        p = ngx_http_llm_xlate_add(x, parts, NULL, cJSON_CreateObject());
        ngx_http_llm_xlate_add_str(x, p, "type", "text");
        ngx_http_llm_xlate_add_str(x, p, "text", s);

        return x->oom ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
    }

    if (parts == NULL) {
        return ngx_http_llm_xlate_refuse(x, param,
                   "'%s': only a user's message can hold an image or a "
                   "file at the provider's API", param);
    }

    /* text gathered so far becomes the first part */

    if (cJSON_GetArraySize(parts) == 0 && text->len) {
        if (ngx_http_llm_xlate_buf_append(text, "", 1)
            != NGX_HTTP_LLM_XLATE_OK)
        {
            return NGX_HTTP_LLM_XLATE_NOMEM;
        }

        p = ngx_http_llm_xlate_add(x, parts, NULL, cJSON_CreateObject());
        ngx_http_llm_xlate_add_str(x, p, "type", "text");
        ngx_http_llm_xlate_add_str(x, p, "text", (char *) text->data);
        text->len = 0;
    }

    if (rc_parts[k].kind == RC_PART_IMAGE) {
        s = ngx_http_llm_xlate_str(part, "image_url");

        if (s == NULL) {
            /* file_id: a file stored by OpenAI */
            return ngx_http_llm_xlate_refuse(x, param,
                       "'%s' has no image_url (files stored by OpenAI "
                       "cannot be sent to the provider)", param);
        }

        p = ngx_http_llm_xlate_add(x, parts, NULL, cJSON_CreateObject());
        ngx_http_llm_xlate_add_str(x, p, "type", "image_url");
        o = ngx_http_llm_xlate_add(x, p, "image_url", cJSON_CreateObject());
        ngx_http_llm_xlate_add_str(x, o, "url", s);

        detail = cJSON_GetObjectItemCaseSensitive(part, "detail");

        if (cJSON_IsString(detail) && strcmp(detail->valuestring, "auto")) {
            ngx_http_llm_xlate_add(x, o, "detail",
                                   ngx_http_llm_xlate_take(part, detail));
        }

        return x->oom ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
    }

    /* RC_PART_FILE: inline data only */

    s = ngx_http_llm_xlate_str(part, "file_data");
    name = ngx_http_llm_xlate_str(part, "filename");

    if (s == NULL) {
        return ngx_http_llm_xlate_refuse(x, param,
                   "'%s' has no file_data (files stored by OpenAI or "
                   "given by URL cannot be sent to the provider)", param);
    }

    p = ngx_http_llm_xlate_add(x, parts, NULL, cJSON_CreateObject());
    ngx_http_llm_xlate_add_str(x, p, "type", "file");
    o = ngx_http_llm_xlate_add(x, p, "file", cJSON_CreateObject());
    ngx_http_llm_xlate_add_str(x, o, "file_data", s);

    if (name) {
        ngx_http_llm_xlate_add_str(x, o, "filename", name);
    }

    return x->oom ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
}


/*
 * A function_call item joins the assistant message before it (chat keeps
 * a turn's text and calls in one message); tool results must follow it.
 */

static int
rc_call(ngx_http_llm_xlate_req_t *x, cJSON *msgs, cJSON *item,
    const char *param)
{
    cJSON       *last, *calls, *c, *fn;
    const char  *id, *name, *args, *role;

    id = ngx_http_llm_xlate_str(item, "call_id");
    name = ngx_http_llm_xlate_str(item, "name");
    args = ngx_http_llm_xlate_str(item, "arguments");

    if (id == NULL || name == NULL || args == NULL) {
        return ngx_http_llm_xlate_refuse(x, param,
                   "'%s' needs call_id, name and arguments", param);
    }

    last = cJSON_GetArrayItem(msgs, cJSON_GetArraySize(msgs) - 1);
    role = ngx_http_llm_xlate_str(last, "role");

    if (role == NULL || strcmp(role, "assistant") != 0) {
        last = ngx_http_llm_xlate_add(x, msgs, NULL, cJSON_CreateObject());
        ngx_http_llm_xlate_add_str(x, last, "role", "assistant");
        ngx_http_llm_xlate_add(x, last, "content", cJSON_CreateNull());
    }

    calls = cJSON_GetObjectItemCaseSensitive(last, "tool_calls");

    if (calls == NULL) {
        calls = ngx_http_llm_xlate_add(x, last, "tool_calls",
                                       cJSON_CreateArray());
    }

    c = ngx_http_llm_xlate_add(x, calls, NULL, cJSON_CreateObject());
    ngx_http_llm_xlate_add_str(x, c, "id", id);
    ngx_http_llm_xlate_add_str(x, c, "type", "function");
    fn = ngx_http_llm_xlate_add(x, c, "function", cJSON_CreateObject());
    ngx_http_llm_xlate_add_str(x, fn, "name", name);
    ngx_http_llm_xlate_add_str(x, fn, "arguments", args);

    return x->oom ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
}


static int
rc_output(ngx_http_llm_xlate_req_t *x, cJSON *msgs, cJSON *item,
    const char *param)
{
    int                        j, rc;
    char                       pp[96];
    cJSON                     *out, *part, *m;
    const char                *id;
    ngx_http_llm_xlate_buf_t   text;

    id = ngx_http_llm_xlate_str(item, "call_id");
    out = cJSON_GetObjectItemCaseSensitive(item, "output");

    if (id == NULL || (!cJSON_IsString(out) && !cJSON_IsArray(out))) {
        return ngx_http_llm_xlate_refuse(x, param,
                   "'%s' needs call_id and output", param);
    }

    memset(&text, 0, sizeof(ngx_http_llm_xlate_buf_t));
    rc = NGX_HTTP_LLM_XLATE_OK;

    if (cJSON_IsString(out)) {
        rc = ngx_http_llm_xlate_buf_append(&text, out->valuestring,
                                           strlen(out->valuestring));

    } else {
        /* a tool message holds text only */
        j = 0;

        for (part = out->child; part; part = part->next, j++) {
            snprintf(pp, sizeof(pp), "%s.output[%d]", param, j);

            rc = rc_part(x, part, NULL, &text, pp);

            if (rc != NGX_HTTP_LLM_XLATE_OK || x->res->status) {
                break;
            }
        }
    }

    if (rc == NGX_HTTP_LLM_XLATE_OK) {
        rc = ngx_http_llm_xlate_buf_append(&text, "", 1);
    }

    if (rc == NGX_HTTP_LLM_XLATE_OK && !x->res->status) {
        m = ngx_http_llm_xlate_add(x, msgs, NULL, cJSON_CreateObject());
        ngx_http_llm_xlate_add_str(x, m, "role", "tool");
        ngx_http_llm_xlate_add_str(x, m, "tool_call_id", id);
        ngx_http_llm_xlate_add_str(x, m, "content", (char *) text.data);
    }

    ngx_http_llm_xlate_buf_free(&text);

    if (rc != NGX_HTTP_LLM_XLATE_OK || x->oom) {
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    return NGX_HTTP_LLM_XLATE_OK;
}


/* the usage chunk is always asked for: response.completed has usage */

static int
rc_stream(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    cJSON  *so;

    x->res->stream = cJSON_IsTrue(v);

    if (!x->res->stream) {
        return NGX_HTTP_LLM_XLATE_OK;
    }

    x->res->include_usage = 1;

    ngx_http_llm_xlate_add(x, x->dst, "stream", cJSON_CreateTrue());
    so = ngx_http_llm_xlate_add(x, x->dst, "stream_options",
                                cJSON_CreateObject());
    ngx_http_llm_xlate_add(x, so, "include_usage", cJSON_CreateTrue());

    return x->oom ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
}


/*
 * Function tools are flat in the Responses API ({type, name, parameters})
 * and wrapped in chat ({type, function: {...}}); hosted tools run at
 * OpenAI only: dropped and named, as SPEC.md says of hosted tools.
 */

static int
rc_tools(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    int          i;
    char         param[64], drop[96];
    cJSON       *t, *tools, *tool, *fn, *f;
    const char  *type, *name;

    if (!cJSON_IsArray(v)) {
        return ngx_http_llm_xlate_refuse(x, "tools",
                                         "'tools' must be an array");
    }

    tools = NULL;
    i = 0;

    for (t = v->child; t; t = t->next, i++) {
        type = ngx_http_llm_xlate_str(t, "type");

        if (type == NULL) {
            snprintf(param, sizeof(param), "tools[%d]", i);
            return ngx_http_llm_xlate_refuse(x, param,
                                             "'%s' has no type", param);
        }

        if (strcmp(type, "function") != 0) {
            snprintf(drop, sizeof(drop), "tools.%s", type);
            ngx_http_llm_xlate_drop(x, drop);
            continue;
        }

        name = ngx_http_llm_xlate_str(t, "name");

        if (name == NULL) {
            snprintf(param, sizeof(param), "tools[%d].name", i);
            return ngx_http_llm_xlate_refuse(x, param,
                                             "'%s' must be a string", param);
        }

        if (tools == NULL) {
            tools = ngx_http_llm_xlate_add(x, x->dst, "tools",
                                           cJSON_CreateArray());
        }

        tool = ngx_http_llm_xlate_add(x, tools, NULL, cJSON_CreateObject());
        ngx_http_llm_xlate_add_str(x, tool, "type", "function");
        fn = ngx_http_llm_xlate_add(x, tool, "function", cJSON_CreateObject());
        ngx_http_llm_xlate_add_str(x, fn, "name", name);

        /* the schema is moved, not copied */

        f = cJSON_GetObjectItemCaseSensitive(t, "description");
        if (cJSON_IsString(f)) {
            ngx_http_llm_xlate_add(x, fn, "description",
                                   ngx_http_llm_xlate_take(t, f));
        }

        f = cJSON_GetObjectItemCaseSensitive(t, "parameters");
        if (cJSON_IsObject(f)) {
            ngx_http_llm_xlate_add(x, fn, "parameters",
                                   ngx_http_llm_xlate_take(t, f));
        }

        f = cJSON_GetObjectItemCaseSensitive(t, "strict");
        if (cJSON_IsBool(f)) {
            ngx_http_llm_xlate_add(x, fn, "strict",
                                   ngx_http_llm_xlate_take(t, f));
        }
    }

    return x->oom ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
}


static int
rc_tool_choice(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    cJSON       *fn;
    const char  *type, *name;

    /* a member given twice: the last one counts */
    cJSON_Delete(x->tool_choice);
    x->tool_choice = NULL;

    if (cJSON_IsString(v)) {
        if (strcmp(v->valuestring, "auto") != 0
            && strcmp(v->valuestring, "none") != 0
            && strcmp(v->valuestring, "required") != 0)
        {
            return ngx_http_llm_xlate_refuse(x, "tool_choice",
                       "'tool_choice' must be auto, none, required or "
                       "a function");
        }

        x->tool_choice = ngx_http_llm_xlate_take(x->src, v);

        return NGX_HTTP_LLM_XLATE_OK;
    }

    type = ngx_http_llm_xlate_str(v, "type");
    name = ngx_http_llm_xlate_str(v, "name");

    if (type == NULL || strcmp(type, "function") != 0 || name == NULL) {
        /* a hosted tool, allowed_tools, a custom tool: not at the target */
        return ngx_http_llm_xlate_refuse(x, "tool_choice",
                   "'tool_choice' of type %s has no equivalent at the "
                   "provider's API", type ? type : "(none)");
    }

    x->tool_choice = cJSON_CreateObject();
    ngx_http_llm_xlate_add_str(x, x->tool_choice, "type", "function");
    fn = ngx_http_llm_xlate_add(x, x->tool_choice, "function",
                                cJSON_CreateObject());
    ngx_http_llm_xlate_add_str(x, fn, "name", name);

    return x->oom ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
}


static int
rc_parallel(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    if (!cJSON_IsBool(v)) {
        return ngx_http_llm_xlate_refuse(x, "parallel_tool_calls",
                   "'parallel_tool_calls' must be a boolean");
    }

    x->parallel = cJSON_IsTrue(v);

    return NGX_HTTP_LLM_XLATE_OK;
}


/*
 * reasoning.effort is chat's reasoning_effort.  Towards Anthropic it is
 * dropped: thinking there needs its signed blocks sent back with every
 * tool result, which a Responses client keeps in items OpenAI encrypts.
 */

static int
rc_reasoning(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    cJSON  *effort;

    if (!cJSON_IsObject(v)) {
        return ngx_http_llm_xlate_refuse(x, "reasoning",
                                         "'reasoning' must be an object");
    }

    effort = cJSON_GetObjectItemCaseSensitive(v, "effort");

    if (cJSON_IsString(effort)) {
        if (x->pivot) {
            ngx_http_llm_xlate_drop(x, "reasoning.effort");

        } else {
            ngx_http_llm_xlate_add(x, x->dst, "reasoning_effort",
                                   ngx_http_llm_xlate_take(v, effort));
        }
    }

    if (cJSON_GetObjectItemCaseSensitive(v, "summary")
        || cJSON_GetObjectItemCaseSensitive(v, "generate_summary"))
    {
        ngx_http_llm_xlate_drop(x, "reasoning.summary");
    }

    return x->oom ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
}


/* text.format -> response_format; text.verbosity only steers */

static int
rc_text(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    cJSON       *format, *rf, *js, *f;
    const char  *type;

    static const char  *schema[] = { "name", "description", "schema",
                                     "strict", NULL };
    const char        **n;

    if (!cJSON_IsObject(v)) {
        return ngx_http_llm_xlate_refuse(x, "text",
                                         "'text' must be an object");
    }

    if (cJSON_GetObjectItemCaseSensitive(v, "verbosity")) {
        ngx_http_llm_xlate_drop(x, "text.verbosity");
    }

    format = cJSON_GetObjectItemCaseSensitive(v, "format");

    if (format == NULL || cJSON_IsNull(format)) {
        return NGX_HTTP_LLM_XLATE_OK;
    }

    type = ngx_http_llm_xlate_str(format, "type");

    if (type && strcmp(type, "text") == 0) {
        return NGX_HTTP_LLM_XLATE_OK;
    }

    if (type && strcmp(type, "json_object") == 0) {
        rf = ngx_http_llm_xlate_add(x, x->dst, "response_format",
                                    cJSON_CreateObject());
        ngx_http_llm_xlate_add_str(x, rf, "type", "json_object");

        return x->oom ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
    }

    if (type == NULL || strcmp(type, "json_schema") != 0) {
        return ngx_http_llm_xlate_refuse(x, "text.format",
                   "'text.format' must be of type text, json_object or "
                   "json_schema");
    }

    /* flat in the Responses API, nested under json_schema in chat */

    rf = ngx_http_llm_xlate_add(x, x->dst, "response_format",
                                cJSON_CreateObject());
    ngx_http_llm_xlate_add_str(x, rf, "type", "json_schema");
    js = ngx_http_llm_xlate_add(x, rf, "json_schema", cJSON_CreateObject());

    for (n = schema; *n; n++) {
        f = cJSON_GetObjectItemCaseSensitive(format, *n);

        if (f && !cJSON_IsNull(f)) {
            ngx_http_llm_xlate_add(x, js, *n,
                                   ngx_http_llm_xlate_take(format, f));
        }
    }

    return x->oom ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
}


/* what needs responses stored by OpenAI: the gateway keeps none */

static int
rc_state(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    (void) v;

    return ngx_http_llm_xlate_refuse(x, v->string,
               "'%s' needs state stored by OpenAI, which the provider does "
               "not have: send the whole conversation in 'input'",
               v->string);
}


/* store and background: false is what the gateway does anyway */

static int
rc_flag(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    if (cJSON_IsFalse(v)) {
        return NGX_HTTP_LLM_XLATE_OK;
    }

    return ngx_http_llm_xlate_refuse(x, v->string,
               "'%s' needs responses stored by OpenAI, which the "
               "provider does not do: send '%s': false", v->string,
               v->string);
}
