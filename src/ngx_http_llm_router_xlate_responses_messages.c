
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * An OpenAI Responses API client, an Anthropic messages provider: through
 * chat completions, the pivot both pairs already speak.  The request goes
 * responses -> chat -> messages, the answer messages -> chat -> responses,
 * and each Anthropic event is turned into chat chunks and those into the
 * Responses events at once (one event's chunks are all that is held).
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_llm_router_xlate.h"


static int rm_request(ngx_http_llm_xlate_req_t *x);
static cJSON *rm_response(cJSON *src, const char *model, int64_t created);
static int rm_event(ngx_http_llm_xlate_sse_t *s, const char *name,
    cJSON *data, ngx_http_llm_xlate_buf_t *out);


const ngx_http_llm_xlate_pair_t  ngx_http_llm_xlate_responses_messages = {
    NGX_HTTP_LLM_XLATE_RESPONSES,
    NGX_HTTP_LLM_XLATE_MESSAGES,
    rm_request,
    rm_response,
    rm_event,
    ngx_http_llm_xlate_rc_fail,
    NULL,
    NULL,
    NULL,
    NULL
};


/* a refusal by the chat -> messages step names the client's field */
static const char  *rm_params[][2] = {
    { "messages", "input" },
    { "max_completion_tokens", "max_output_tokens" },
    { "max_tokens", "max_output_tokens" },
    { "response_format", "text.format" },
    { "reasoning_effort", "reasoning.effort" },
    { NULL, NULL }
};


static int
rm_request(ngx_http_llm_xlate_req_t *x)
{
    int                           i, rc;
    char                          param[sizeof(x->res->param)];
    size_t                        n;
    cJSON                        *chat;
    ngx_http_llm_xlate_conf_t     conf;
    const ngx_http_llm_xlate_conf_t  *saved;

    /* chat's max_tokens name does not matter: the next step reads both */
    saved = x->conf;
    conf = *saved;
    conf.max_completion_tokens = 0;
    x->conf = &conf;
    x->pivot = 1;

    rc = ngx_http_llm_xlate_rc_request(x);

    if (rc != NGX_HTTP_LLM_XLATE_OK || x->res->status || x->oom) {
        x->conf = saved;
        return x->oom ? NGX_HTTP_LLM_XLATE_NOMEM : rc;
    }

    /* the chat body is the next step's source */

    chat = x->dst;
    x->dst = cJSON_CreateObject();
    cJSON_Delete(x->src);
    x->src = chat;
    x->conf = saved;

    if (x->dst == NULL) {
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    x->max_tokens = -1;
    x->budget = 0;
    x->parallel = -1;

    rc = ngx_http_llm_xlate_chat_messages.request(x);

    if (rc != NGX_HTTP_LLM_XLATE_OK || !x->res->status) {
        return rc;
    }

    for (i = 0; rm_params[i][0]; i++) {
        n = strlen(rm_params[i][0]);

        if (strncmp(x->res->param, rm_params[i][0], n) == 0
            && (x->res->param[n] == '\0' || x->res->param[n] == '['
                || x->res->param[n] == '.'))
        {
            snprintf(param, sizeof(param), "%s%s", rm_params[i][1],
                     x->res->param + n);
            memcpy(x->res->param, param, sizeof(param));
            break;
        }
    }

    return rc;
}


static cJSON *
rm_response(cJSON *src, const char *model, int64_t created)
{
    cJSON  *chat, *dst;

    chat = ngx_http_llm_xlate_chat_messages.response(src, model, created);
    if (chat == NULL) {
        return NULL;
    }

    dst = ngx_http_llm_xlate_rc_response(chat, model, created);
    cJSON_Delete(chat);

    return dst;
}


/*
 * Anthropic's event -> chat chunks ("data: JSON" blocks, as the pair
 * writes them) -> the Responses events.
 */

static int
rm_event(ngx_http_llm_xlate_sse_t *s, const char *name, cJSON *data,
    ngx_http_llm_xlate_buf_t *out)
{
    int                        rc;
    cJSON                     *chunk;
    unsigned char             *p, *last, *end;
    ngx_http_llm_xlate_rsp_t  *r;

    r = ngx_http_llm_xlate_rc_state(s);
    if (r == NULL) {
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    r->chunks.len = 0;

    rc = ngx_http_llm_xlate_chat_messages.event(s, name, data, &r->chunks);
    if (rc != NGX_HTTP_LLM_XLATE_OK) {
        return rc;
    }

    if (r->chunks.len == 0) {
        return NGX_HTTP_LLM_XLATE_OK;
    }

    p = r->chunks.data;
    last = p + r->chunks.len;

    while (p + 6 < last && !s->failed) {
        end = p;

        while (end + 1 < last && !(end[0] == '\n' && end[1] == '\n')) {
            end++;
        }

        if (end + 1 >= last || memcmp(p, "data: ", 6) != 0) {
            break;
        }

        p += 6;

        if (end - p == 6 && memcmp(p, "[DONE]", 6) == 0) {
            rc = ngx_http_llm_xlate_rc_event(s, "[DONE]", NULL, out);

        } else {
            chunk = cJSON_ParseWithLength((const char *) p, end - p);

            rc = chunk ? ngx_http_llm_xlate_rc_event(s, NULL, chunk, out)
                       : NGX_HTTP_LLM_XLATE_NOMEM;
            cJSON_Delete(chunk);
        }

        if (rc != NGX_HTTP_LLM_XLATE_OK) {
            return rc;
        }

        p = end + 2;
    }

    return NGX_HTTP_LLM_XLATE_OK;
}
