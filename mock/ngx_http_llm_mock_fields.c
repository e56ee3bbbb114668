
/*
 * ngx_http_llm_mock_module: the top-level fields each endpoint takes.
 *
 * A location that names its API (api=openai, api=chat, api=anthropic)
 * refuses a request with a top-level field the real endpoint does not
 * know, with that provider's own 400, so a field a translation leaks
 * (Responses' "input" in a chat request, say) fails a test.  api=auto
 * checks nothing (many tests send bodies of their own making).
 *
 * References (the request bodies' members):
 *   https://platform.openai.com/docs/api-reference/chat/create
 *   https://platform.openai.com/docs/api-reference/responses/create
 *   https://docs.anthropic.com/en/api/messages
 */


#include "ngx_http_llm_mock.h"


typedef struct {
    ngx_http_llm_mock_api_t   *api;
    char                      *suffix;
    char                     **fields;     /* NULL ends */
    char                      *error;      /* %f: the field */
} ngx_http_llm_mock_fields_t;


static u_char *ngx_http_llm_mock_skip_ws(u_char *p, u_char *end);
static u_char *ngx_http_llm_mock_skip_string(u_char *p, u_char *end);
static u_char *ngx_http_llm_mock_skip_value(u_char *p, u_char *end);


static char  *ngx_http_llm_mock_chat_fields[] = {
    "messages", "model", "audio", "frequency_penalty", "function_call",
    "functions", "logit_bias", "logprobs", "max_completion_tokens",
    "max_tokens", "metadata", "modalities", "n", "parallel_tool_calls",
    "prediction", "presence_penalty", "prompt_cache_key",
    "prompt_cache_retention", "reasoning_effort", "response_format",
    "safety_identifier", "seed", "service_tier", "stop", "store", "stream",
    "stream_options", "temperature", "tool_choice", "tools", "top_logprobs",
    "top_p", "user", "verbosity", "web_search_options", NULL
};


static char  *ngx_http_llm_mock_responses_fields[] = {
    "background", "conversation", "include", "input", "instructions",
    "max_output_tokens", "max_tool_calls", "metadata", "model",
    "parallel_tool_calls", "previous_response_id", "prompt",
    "prompt_cache_key", "prompt_cache_retention", "reasoning",
    "safety_identifier", "service_tier", "store", "stream",
    "stream_options", "temperature", "text", "tool_choice", "tools",
    "top_logprobs", "top_p", "truncation", "user", NULL
};


static char  *ngx_http_llm_mock_messages_fields[] = {
    "model", "messages", "max_tokens", "system", "metadata",
    "stop_sequences", "stream", "temperature", "top_k", "top_p", "tools",
    "tool_choice", "thinking", "service_tier", "container", "mcp_servers",
    "context_management", NULL
};


/* what each provider answers to a member it does not know */

#define OPENAI_CHAT_UNKNOWN                                                   \
    "{\"error\":{\"message\":\"Unrecognized request argument supplied: %f\"," \
    "\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}}"

#define OPENAI_RESPONSES_UNKNOWN                                              \
    "{\"error\":{\"message\":\"Unknown parameter: '%f'.\","                   \
    "\"type\":\"invalid_request_error\",\"param\":\"%f\","                    \
    "\"code\":\"unknown_parameter\"}}"

#define ANTHROPIC_UNKNOWN                                                     \
    "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\","      \
    "\"message\":\"%f: Extra inputs are not permitted\"}}"


static ngx_http_llm_mock_fields_t  ngx_http_llm_mock_fields[] = {
    { &ngx_http_llm_mock_openai, "/chat/completions",
      ngx_http_llm_mock_chat_fields, OPENAI_CHAT_UNKNOWN },
    { &ngx_http_llm_mock_chat, "/chat/completions",
      ngx_http_llm_mock_chat_fields, OPENAI_CHAT_UNKNOWN },
    { &ngx_http_llm_mock_openai, "/responses",
      ngx_http_llm_mock_responses_fields, OPENAI_RESPONSES_UNKNOWN },
    { &ngx_http_llm_mock_anthropic, "/messages",
      ngx_http_llm_mock_messages_fields, ANTHROPIC_UNKNOWN },
    { NULL, NULL, NULL, NULL }
};


/*
 * The first top-level member of body that endpoint ep of api does not
 * take: its name in *field and the reply's template; NULL when every
 * member is known, the endpoint has no list, or the body is not a JSON
 * object (the mock does not validate JSON).
 */

char *
ngx_http_llm_mock_endpoint_field(ngx_http_llm_mock_api_t *api,
    ngx_http_llm_mock_endpoint_t *ep, ngx_str_t *body, ngx_str_t *field)
{
    char                         **f;
    u_char                        *p, *end, *name, *last;
    size_t                         len;
    ngx_http_llm_mock_fields_t    *t;

    for (t = ngx_http_llm_mock_fields; t->api; t++) {
        if (t->api == api && ep->suffix.len == ngx_strlen(t->suffix)
            && ngx_strncmp(ep->suffix.data, t->suffix, ep->suffix.len) == 0)
        {
            break;
        }
    }

    if (t->api == NULL || body->len == 0) {
        return NULL;
    }

    p = ngx_http_llm_mock_skip_ws(body->data, body->data + body->len);
    end = body->data + body->len;

    if (p == end || *p != '{') {
        return NULL;
    }

    p = ngx_http_llm_mock_skip_ws(p + 1, end);

    while (p < end && *p == '"') {
        name = p + 1;
        p = ngx_http_llm_mock_skip_string(p, end);
        if (p == NULL) {
            return NULL;
        }

        last = p - 1;
        len = last - name;

        for (f = t->fields; *f; f++) {
            if (ngx_strlen(*f) == len && ngx_strncmp(name, *f, len) == 0) {
                break;
            }
        }

        if (*f == NULL) {
            field->data = name;
            field->len = len;
            return t->error;
        }

        p = ngx_http_llm_mock_skip_ws(p, end);
        if (p == end || *p != ':') {
            return NULL;
        }

        p = ngx_http_llm_mock_skip_value(ngx_http_llm_mock_skip_ws(p + 1, end),
                                         end);
        if (p == NULL) {
            return NULL;
        }

        p = ngx_http_llm_mock_skip_ws(p, end);
        if (p == end || *p != ',') {
            return NULL;
        }

        p = ngx_http_llm_mock_skip_ws(p + 1, end);
    }

    return NULL;
}


static u_char *
ngx_http_llm_mock_skip_ws(u_char *p, u_char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) {
        p++;
    }

    return p;
}


/* p at the opening quote; returns what follows the closing one */

static u_char *
ngx_http_llm_mock_skip_string(u_char *p, u_char *end)
{
    for (p++; p < end; p++) {
        if (*p == '\\') {
            p++;
            continue;
        }

        if (*p == '"') {
            return p + 1;
        }
    }

    return NULL;
}


/* a value of any kind: strings skipped whole, brackets counted */

static u_char *
ngx_http_llm_mock_skip_value(u_char *p, u_char *end)
{
    ngx_uint_t  depth;

    depth = 0;

    while (p < end) {
        switch (*p) {

        case '"':
            p = ngx_http_llm_mock_skip_string(p, end);
            if (p == NULL) {
                return NULL;
            }

            if (depth == 0) {
                return p;
            }

            continue;

        case '{':
        case '[':
            depth++;
            break;

        case '}':
        case ']':
            if (depth == 0) {
                return p;
            }

            if (--depth == 0) {
                return p + 1;
            }

            break;

        case ',':
            if (depth == 0) {
                return p;
            }

            break;

        default:
            break;
        }

        p++;
    }

    return NULL;
}
