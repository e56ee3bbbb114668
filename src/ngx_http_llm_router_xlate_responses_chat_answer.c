
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * An OpenAI Responses API client, an OpenAI chat completions provider:
 * the answer, chat -> responses, and the response object and items the
 * stream (ngx_http_llm_router_xlate_responses_sse.c) sends too; the
 * request is in ngx_http_llm_router_xlate_responses_chat.c.
 *
 * References: https://platform.openai.com/docs/api-reference/responses/object
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_llm_router_xlate.h"


/*
 * Chat finish reasons that end a response early: status "incomplete"
 * with incomplete_details.reason (the Responses object's reference).
 */
static const char  *rc_incomplete[][2] = {
    { "length", "max_output_tokens" },
    { "content_filter", "content_filter" },
    { NULL, NULL }
};


const char *
ngx_http_llm_xlate_rc_incomplete(const char *finish)
{
    int  i;

    for (i = 0; finish && rc_incomplete[i][0]; i++) {
        if (strcmp(finish, rc_incomplete[i][0]) == 0) {
            return rc_incomplete[i][1];
        }
    }

    return NULL;
}


/* the answer: a chat.completion -> a response */

cJSON *
ngx_http_llm_xlate_rc_response(cJSON *src, const char *model,
    int64_t created)
{
    int                        n;
    char                       id[NGX_HTTP_LLM_XLATE_ID_MAX],
                               item[NGX_HTTP_LLM_XLATE_ID_MAX];
    cJSON                     *dst, *output, *choice, *msg, *c, *fn, *u,
                              *part, *it;
    int64_t                    t;
    const char                *cid, *text, *refusal, *finish, *status,
                              *call;
    ngx_http_llm_xlate_usage_t                 usage;
    ngx_http_llm_xlate_req_t   x;

    memset(&x, 0, sizeof(ngx_http_llm_xlate_req_t));

    cid = ngx_http_llm_xlate_str(src, "id");
    snprintf(id, sizeof(id), "resp_%.100s", cid ? cid : "gateway");

    t = ngx_http_llm_xlate_int(src, "created");
    created = t > 0 ? t : created;

    choice = cJSON_GetArrayItem(
                 cJSON_GetObjectItemCaseSensitive(src, "choices"), 0);
    msg = cJSON_GetObjectItemCaseSensitive(choice, "message");
    finish = ngx_http_llm_xlate_str(choice, "finish_reason");
    status = ngx_http_llm_xlate_rc_incomplete(finish) ? "incomplete"
                                                       : "completed";

    output = cJSON_CreateArray();
    n = 0;

    text = ngx_http_llm_xlate_str(msg, "content");
    refusal = ngx_http_llm_xlate_str(msg, "refusal");

    if ((text && text[0]) || (refusal && refusal[0])) {
        if (refusal && refusal[0]) {
            part = cJSON_CreateObject();
            ngx_http_llm_xlate_add_str(&x, part, "type", "refusal");
            ngx_http_llm_xlate_add_str(&x, part, "refusal", refusal);

        } else {
            part = ngx_http_llm_xlate_rc_part(text);
        }

        snprintf(item, sizeof(item), "msg_%d_%.100s", n++, cid ? cid : "");
        ngx_http_llm_xlate_add(&x, output, NULL,
                               ngx_http_llm_xlate_rc_message(item, status,
                                                             part));
    }

    c = cJSON_GetObjectItemCaseSensitive(msg, "tool_calls");

    for (c = cJSON_IsArray(c) ? c->child : NULL; c; c = c->next) {
        fn = cJSON_GetObjectItemCaseSensitive(c, "function");
        call = ngx_http_llm_xlate_str(c, "id");

        snprintf(item, sizeof(item), "fc_%d_%.100s", n++, cid ? cid : "");
        it = ngx_http_llm_xlate_rc_call(item, "completed", call ? call : item,
                          ngx_http_llm_xlate_str(fn, "name"),
                          ngx_http_llm_xlate_str(fn, "arguments"));
        ngx_http_llm_xlate_add(&x, output, NULL, it);
    }

    u = cJSON_GetObjectItemCaseSensitive(src, "usage");
    usage.input = ngx_http_llm_xlate_int(u, "prompt_tokens");
    usage.output = ngx_http_llm_xlate_int(u, "completion_tokens");
    usage.cached = ngx_http_llm_xlate_int(
                 cJSON_GetObjectItemCaseSensitive(u, "prompt_tokens_details"),
                 "cached_tokens");
    usage.reasoning = ngx_http_llm_xlate_int(
             cJSON_GetObjectItemCaseSensitive(u, "completion_tokens_details"),
             "reasoning_tokens");

    if (x.oom || output == NULL) {
        cJSON_Delete(output);
        return NULL;
    }

    dst = ngx_http_llm_xlate_rc_object(id, model, created, finish, output,
                    cJSON_IsObject(u) ? &usage : NULL);

    return dst;
}


/*
 * A response object; output is taken (NULL: an empty list), u NULL: no
 * usage yet.
 */

cJSON *
ngx_http_llm_xlate_rc_object(const char *id, const char *model, int64_t created,
    const char *finish, cJSON *output, const ngx_http_llm_xlate_usage_t *u)
{
    cJSON                     *dst, *o, *d;
    int64_t                    in, out, cached, reasoning;
    const char                *reason, *status;
    ngx_http_llm_xlate_req_t   x;

    memset(&x, 0, sizeof(ngx_http_llm_xlate_req_t));

    reason = ngx_http_llm_xlate_rc_incomplete(finish);

    if (finish == NULL) {
        status = "in_progress";

    } else {
        status = reason ? "incomplete" : "completed";
    }

    dst = cJSON_CreateObject();
    ngx_http_llm_xlate_add_str(&x, dst, "id", id);
    ngx_http_llm_xlate_add_str(&x, dst, "object", "response");
    ngx_http_llm_xlate_add(&x, dst, "created_at",
                           cJSON_CreateNumber((double) created));
    ngx_http_llm_xlate_add_str(&x, dst, "status", status);
    ngx_http_llm_xlate_add(&x, dst, "error", cJSON_CreateNull());

    if (reason) {
        o = ngx_http_llm_xlate_add(&x, dst, "incomplete_details",
                                   cJSON_CreateObject());
        ngx_http_llm_xlate_add_str(&x, o, "reason", reason);

    } else {
        ngx_http_llm_xlate_add(&x, dst, "incomplete_details",
                               cJSON_CreateNull());
    }

    ngx_http_llm_xlate_add(&x, dst, "instructions", cJSON_CreateNull());
    ngx_http_llm_xlate_add(&x, dst, "max_output_tokens", cJSON_CreateNull());
    ngx_http_llm_xlate_add_str(&x, dst, "model", model);
    ngx_http_llm_xlate_add(&x, dst, "output",
                           output ? output : cJSON_CreateArray());
    ngx_http_llm_xlate_add(&x, dst, "parallel_tool_calls", cJSON_CreateTrue());
    ngx_http_llm_xlate_add(&x, dst, "previous_response_id",
                           cJSON_CreateNull());
    o = ngx_http_llm_xlate_add(&x, dst, "reasoning", cJSON_CreateObject());
    ngx_http_llm_xlate_add(&x, o, "effort", cJSON_CreateNull());
    ngx_http_llm_xlate_add(&x, o, "summary", cJSON_CreateNull());
    ngx_http_llm_xlate_add(&x, dst, "store", cJSON_CreateFalse());
    o = ngx_http_llm_xlate_add(&x, dst, "text", cJSON_CreateObject());
    o = ngx_http_llm_xlate_add(&x, o, "format", cJSON_CreateObject());
    ngx_http_llm_xlate_add_str(&x, o, "type", "text");
    ngx_http_llm_xlate_add_str(&x, dst, "tool_choice", "auto");
    ngx_http_llm_xlate_add(&x, dst, "tools", cJSON_CreateArray());
    ngx_http_llm_xlate_add_str(&x, dst, "truncation", "disabled");

    if (u) {
        in = u->input < 0 ? 0 : u->input;
        out = u->output < 0 ? 0 : u->output;
        cached = (u->cached < 0 || u->cached > in) ? 0 : u->cached;
        reasoning = (u->reasoning < 0 || u->reasoning > out)
                    ? 0 : u->reasoning;

        o = ngx_http_llm_xlate_add(&x, dst, "usage", cJSON_CreateObject());
        ngx_http_llm_xlate_add(&x, o, "input_tokens",
                               cJSON_CreateNumber((double) in));
        d = ngx_http_llm_xlate_add(&x, o, "input_tokens_details",
                                   cJSON_CreateObject());
        ngx_http_llm_xlate_add(&x, d, "cached_tokens",
                               cJSON_CreateNumber((double) cached));
        ngx_http_llm_xlate_add(&x, o, "output_tokens",
                               cJSON_CreateNumber((double) out));
        d = ngx_http_llm_xlate_add(&x, o, "output_tokens_details",
                                   cJSON_CreateObject());
        ngx_http_llm_xlate_add(&x, d, "reasoning_tokens",
                               cJSON_CreateNumber((double) reasoning));
        ngx_http_llm_xlate_add(&x, o, "total_tokens",
                               cJSON_CreateNumber((double) (in + out)));

    } else {
        ngx_http_llm_xlate_add(&x, dst, "usage", cJSON_CreateNull());
    }

    ngx_http_llm_xlate_add(&x, dst, "user", cJSON_CreateNull());
    ngx_http_llm_xlate_add(&x, dst, "metadata", cJSON_CreateObject());

    if (x.oom) {
        cJSON_Delete(dst);
        return NULL;
    }

    return dst;
}


cJSON *
ngx_http_llm_xlate_rc_part(const char *text)
{
    cJSON                     *part;
    ngx_http_llm_xlate_req_t   x;

    memset(&x, 0, sizeof(ngx_http_llm_xlate_req_t));

    part = cJSON_CreateObject();
    ngx_http_llm_xlate_add_str(&x, part, "type", "output_text");
    ngx_http_llm_xlate_add_str(&x, part, "text", text);
    ngx_http_llm_xlate_add(&x, part, "annotations", cJSON_CreateArray());

    if (x.oom) {
        cJSON_Delete(part);
        return NULL;
    }

    return part;
}


/* part is taken; NULL: no content yet */

cJSON *
ngx_http_llm_xlate_rc_message(const char *id, const char *status, cJSON *part)
{
    cJSON                     *item, *content;
    ngx_http_llm_xlate_req_t   x;

    memset(&x, 0, sizeof(ngx_http_llm_xlate_req_t));

    item = cJSON_CreateObject();
    ngx_http_llm_xlate_add_str(&x, item, "id", id);
    ngx_http_llm_xlate_add_str(&x, item, "type", "message");
    ngx_http_llm_xlate_add_str(&x, item, "status", status);
    ngx_http_llm_xlate_add_str(&x, item, "role", "assistant");
    content = ngx_http_llm_xlate_add(&x, item, "content",
                                     cJSON_CreateArray());

    if (part) {
        ngx_http_llm_xlate_add(&x, content, NULL, part);
    }

    if (x.oom) {
        cJSON_Delete(item);
        return NULL;
    }

    return item;
}


cJSON *
ngx_http_llm_xlate_rc_call(const char *id, const char *status,
    const char *call_id, const char *name, const char *args)
{
    cJSON                     *item;
    ngx_http_llm_xlate_req_t   x;

    memset(&x, 0, sizeof(ngx_http_llm_xlate_req_t));

    item = cJSON_CreateObject();
    ngx_http_llm_xlate_add_str(&x, item, "id", id);
    ngx_http_llm_xlate_add_str(&x, item, "type", "function_call");
    ngx_http_llm_xlate_add_str(&x, item, "status", status);
    ngx_http_llm_xlate_add_str(&x, item, "arguments", args);
    ngx_http_llm_xlate_add_str(&x, item, "call_id", call_id);
    ngx_http_llm_xlate_add_str(&x, item, "name", name);

    if (x.oom) {
        cJSON_Delete(item);
        return NULL;
    }

    return item;
}
