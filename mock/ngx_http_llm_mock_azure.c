
/*
 * ngx_http_llm_mock_module: Azure OpenAI as tables (see
 * ngx_http_llm_mock.h for the placeholders).
 *
 * Endpoints: {path}/openai/deployments/{deployment}/chat/completions,
 * /completions and /embeddings, with ?api-version=; the answers are
 * OpenAI's.  As the real one: no api-version, or a path that is not a
 * deployment's, is 404 "Resource not found"; no key (api-key, or an
 * Entra ID bearer token) is 401; an unknown request field is 400
 * "Unrecognized request argument supplied"; errors have Azure's shape
 * ({"error":{"code":"429","message":...}}).
 *
 * Reference: https://learn.microsoft.com/azure/ai-foundry/openai/reference
 */


#include "ngx_http_llm_mock.h"


static ngx_uint_t ngx_http_llm_mock_azure_check(ngx_http_request_t *r,
    char **tpl);


#define AZURE_CHUNK                                                           \
    "data: {\"id\":\"chatcmpl-mock\",\"object\":\"chat.completion.chunk\","   \
    "\"created\":1700000000,\"model\":\"%m\",\"choices\":["

#define AZURE_USAGE                                                           \
    "\"usage\":{\"prompt_tokens\":%p,\"completion_tokens\":%o,"               \
    "\"total_tokens\":%s,\"prompt_tokens_details\":{\"cached_tokens\":0}}"


static ngx_http_llm_mock_event_t  ngx_http_llm_mock_azure_chat_events[] = {

    /* Azure's first chunk: no choices, the prompt filter's results */
    { NGX_HTTP_LLM_MOCK_ONCE,
      "data: {\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\","
      "\"object\":\"\",\"prompt_filter_results\":[{\"prompt_index\":0,"
      "\"content_filter_results\":{}}]}\n\n" },

    { NGX_HTTP_LLM_MOCK_EACH_PIECE,
      AZURE_CHUNK "{\"index\":0,\"delta\":{\"content\":\"%c\"},"
      "\"finish_reason\":null}]%[i,\"usage\":null%]}\n\n" },

    { NGX_HTTP_LLM_MOCK_ONCE,
      AZURE_CHUNK "{\"index\":0,\"delta\":{},"
      "\"finish_reason\":\"stop\"}]%[i,\"usage\":null%]}\n\n" },

    { NGX_HTTP_LLM_MOCK_IF_USAGE_CHUNK, AZURE_CHUNK "]," AZURE_USAGE "}\n\n" },

    { NGX_HTTP_LLM_MOCK_ONCE, "data: [DONE]\n\n" },

    { 0, NULL }
};


static ngx_http_llm_mock_endpoint_t  ngx_http_llm_mock_azure_endpoints[] = {

    { ngx_string("/chat/completions"), NGX_HTTP_LLM_MOCK_STREAM_BODY,
      "{\"id\":\"chatcmpl-mock\",\"object\":\"chat.completion\","
      "\"created\":1700000000,\"model\":\"%m\",\"choices\":[{\"index\":0,"
      "\"message\":{\"role\":\"assistant\",\"content\":\"%t\"},"
      "\"finish_reason\":\"stop\",\"content_filter_results\":{}}],"
      "\"prompt_filter_results\":[{\"prompt_index\":0,"
      "\"content_filter_results\":{}}]%[u," AZURE_USAGE "%]}",
      ngx_http_llm_mock_azure_chat_events },

    { ngx_string("/embeddings"), NGX_HTTP_LLM_MOCK_STREAM_NEVER,
      "{\"object\":\"list\",\"data\":[{\"object\":\"embedding\","
      "\"index\":0,\"embedding\":[0.0023,-0.0094,0.0157]}],"
      "\"model\":\"%m\"%[u,\"usage\":{\"prompt_tokens\":%p,"
      "\"total_tokens\":%p}%]}",
      NULL },

    { ngx_null_string, 0, NULL, NULL }
};


static ngx_http_llm_mock_error_type_t  ngx_http_llm_mock_azure_errors[] = {
    { 400, "invalid_request_error" },
    { 0, "server_error" }
};


/* chat completions' and embeddings' request fields */

static char  *ngx_http_llm_mock_azure_fields[] = {
    "model", "messages", "max_tokens", "max_completion_tokens",
    "temperature", "top_p", "n", "stream", "stream_options", "stop",
    "presence_penalty", "frequency_penalty", "logit_bias", "user",
    "logprobs", "top_logprobs", "response_format", "seed", "tools",
    "tool_choice", "parallel_tool_calls", "functions", "function_call",
    "data_sources", "reasoning_effort", "store", "metadata", "modalities",
    "audio", "prediction", "user_security_context", "input",
    "encoding_format", "dimensions", NULL
};


/* {path}/openai/deployments/NAME/endpoint?api-version=V, with a key */

static ngx_uint_t
ngx_http_llm_mock_azure_check(ngx_http_request_t *r, char **tpl)
{
    u_char           *p, *last, *d;
    ngx_str_t         v;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;
    ngx_uint_t        i, key;

    static u_char     dep[] = "/openai/deployments/";

    last = r->uri.data + r->uri.len;
    d = NULL;

    for (p = r->uri.data; p + sizeof(dep) - 1 <= last; p++) {
        if (ngx_strncmp(p, dep, sizeof(dep) - 1) == 0) {
            d = p + sizeof(dep) - 1;
            break;
        }
    }

    /* the deployment's name, then exactly one endpoint */
    p = d ? ngx_strlchr(d, last, '/') : NULL;

    if (p == NULL || p == d
        || (last - p != 17 && last - p != 11)
        || ngx_http_arg(r, (u_char *) "api-version", 11, &v) != NGX_OK
        || v.len == 0)
    {
        *tpl = "{\"error\":{\"code\":\"404\",\"message\":"
               "\"Resource not found\"}}";
        return NGX_HTTP_NOT_FOUND;
    }

    key = 0;
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; !key; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].value.len
            && ((h[i].key.len == 7
                 && ngx_strncasecmp(h[i].key.data, (u_char *) "api-key", 7)
                    == 0)
                || (h[i].key.len == 13
                    && ngx_strncasecmp(h[i].key.data,
                                       (u_char *) "authorization", 13)
                       == 0)))
        {
            key = 1;
        }
    }

    if (!key) {
        *tpl = "{\"error\":{\"code\":\"401\",\"message\":\"Access denied "
               "due to invalid subscription key or wrong API endpoint. Make "
               "sure to provide a valid key for an active subscription and "
               "use a correct regional API endpoint for your resource.\"}}";
        return NGX_HTTP_UNAUTHORIZED;
    }

    return 0;
}


ngx_http_llm_mock_api_t  ngx_http_llm_mock_azure = {
    ngx_string("azure"),
    ngx_http_llm_mock_azure_endpoints,

    "{\"error\":{\"code\":\"%n\",\"message\":\"mock error %n\"}}",
    ngx_http_llm_mock_azure_errors,

    "{\"error\":{\"code\":\"404\",\"message\":\"Resource not found\"}}",

    ngx_http_llm_mock_azure_check,
    ngx_http_llm_mock_azure_fields,

    "{\"error\":{\"message\":\"Unrecognized request argument supplied: "
    "%f\",\"type\":\"invalid_request_error\",\"param\":null,"
    "\"code\":null}}"
};
