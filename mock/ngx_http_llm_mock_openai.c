
/*
 * ngx_http_llm_mock_module: OpenAI's API as tables (see
 * ngx_http_llm_mock.h for the placeholders).
 *
 * Endpoints: /chat/completions, /completions, /embeddings, /responses.
 * Any other URI, /messages included, gets OpenAI's 404 "Invalid URL".
 * api=chat: an OpenAI-compatible provider without /responses.
 */


#include "ngx_http_llm_mock.h"


#define OPENAI_USAGE                                                          \
    "\"usage\":{\"prompt_tokens\":%p,\"completion_tokens\":%o,"               \
    "\"total_tokens\":%s}"

#define OPENAI_CHAT_CHUNK                                                     \
    "data: {\"id\":\"chatcmpl-mock\",\"object\":\"chat.completion.chunk\","   \
    "\"created\":1700000000,\"model\":\"%m\",\"choices\":["

#define OPENAI_TEXT_CHUNK                                                     \
    "data: {\"id\":\"cmpl-mock\",\"object\":\"text_completion\","             \
    "\"created\":1700000000,\"model\":\"%m\",\"choices\":["

/* with include_usage, every chunk says "usage": null but the last one */
#define OPENAI_USAGE_NULL  "%[i,\"usage\":null%]"

#define RESPONSE_OBJECT                                                       \
    "{\"id\":\"resp_mock\",\"object\":\"response\","                          \
    "\"created_at\":1700000000,\"model\":\"%m\","                             \
    "\"status\":\"completed\",\"output\":[{\"type\":\"message\","             \
    "\"id\":\"msg_mock\",\"role\":\"assistant\",\"content\":"                 \
    "[{\"type\":\"output_text\",\"text\":\"%t\"}]}]"                          \
    "%[u,\"usage\":{\"input_tokens\":%p,\"output_tokens\":%o,"                \
    "\"total_tokens\":%s}%]}"

#define RESPONSE_EVENT(name)                                                  \
    "event: " name "\ndata: {\"type\":\"" name "\","


static ngx_http_llm_mock_event_t  ngx_http_llm_mock_openai_chat_events[] = {

    { NGX_HTTP_LLM_MOCK_EACH_PIECE,
      OPENAI_CHAT_CHUNK "{\"index\":0,\"delta\":{\"content\":\"%c\"},"
      "\"finish_reason\":null}]" OPENAI_USAGE_NULL "}\n\n" },

    { NGX_HTTP_LLM_MOCK_ONCE,
      OPENAI_CHAT_CHUNK "{\"index\":0,\"delta\":{},"
      "\"finish_reason\":\"stop\"}]" OPENAI_USAGE_NULL "}\n\n" },

    { NGX_HTTP_LLM_MOCK_IF_USAGE_CHUNK,
      OPENAI_CHAT_CHUNK "]," OPENAI_USAGE "}\n\n" },

    { NGX_HTTP_LLM_MOCK_ONCE, "data: [DONE]\n\n" },

    { 0, NULL }
};


static ngx_http_llm_mock_event_t  ngx_http_llm_mock_openai_text_events[] = {

    { NGX_HTTP_LLM_MOCK_EACH_PIECE,
      OPENAI_TEXT_CHUNK "{\"text\":\"%c\",\"index\":0,"
      "\"finish_reason\":null}]" OPENAI_USAGE_NULL "}\n\n" },

    { NGX_HTTP_LLM_MOCK_ONCE,
      OPENAI_TEXT_CHUNK "{\"text\":\"\",\"index\":0,"
      "\"finish_reason\":\"stop\"}]" OPENAI_USAGE_NULL "}\n\n" },

    { NGX_HTTP_LLM_MOCK_IF_USAGE_CHUNK,
      OPENAI_TEXT_CHUNK "]," OPENAI_USAGE "}\n\n" },

    { NGX_HTTP_LLM_MOCK_ONCE, "data: [DONE]\n\n" },

    { 0, NULL }
};


static ngx_http_llm_mock_event_t  ngx_http_llm_mock_openai_resp_events[] = {

    { NGX_HTTP_LLM_MOCK_ONCE,
      RESPONSE_EVENT("response.created")
      "\"response\":{\"id\":\"resp_mock\",\"object\":\"response\","
      "\"created_at\":1700000000,\"model\":\"%m\","
      "\"status\":\"in_progress\",\"output\":[]}}\n\n" },

    { NGX_HTTP_LLM_MOCK_ONCE,
      RESPONSE_EVENT("response.output_item.added")
      "\"output_index\":0,\"item\":{\"type\":\"message\","
      "\"id\":\"msg_mock\",\"status\":\"in_progress\","
      "\"role\":\"assistant\",\"content\":[]}}\n\n" },

    { NGX_HTTP_LLM_MOCK_ONCE,
      RESPONSE_EVENT("response.content_part.added")
      "\"item_id\":\"msg_mock\",\"output_index\":0,\"content_index\":0,"
      "\"part\":{\"type\":\"output_text\",\"text\":\"\"}}\n\n" },

    { NGX_HTTP_LLM_MOCK_EACH_PIECE,
      RESPONSE_EVENT("response.output_text.delta")
      "\"item_id\":\"msg_mock\",\"output_index\":0,\"content_index\":0,"
      "\"delta\":\"%c\"}\n\n" },

    { NGX_HTTP_LLM_MOCK_ONCE,
      RESPONSE_EVENT("response.output_text.done")
      "\"item_id\":\"msg_mock\",\"output_index\":0,\"content_index\":0,"
      "\"text\":\"%t\"}\n\n" },

    { NGX_HTTP_LLM_MOCK_ONCE,
      RESPONSE_EVENT("response.content_part.done")
      "\"item_id\":\"msg_mock\",\"output_index\":0,\"content_index\":0,"
      "\"part\":{\"type\":\"output_text\",\"text\":\"%t\"}}\n\n" },

    { NGX_HTTP_LLM_MOCK_ONCE,
      RESPONSE_EVENT("response.output_item.done")
      "\"output_index\":0,\"item\":{\"type\":\"message\","
      "\"id\":\"msg_mock\",\"status\":\"completed\","
      "\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\","
      "\"text\":\"%t\"}]}}\n\n" },

    { NGX_HTTP_LLM_MOCK_ONCE,
      RESPONSE_EVENT("response.completed")
      "\"response\":" RESPONSE_OBJECT "}\n\n" },

    { 0, NULL }
};


/* the endpoints every OpenAI-compatible provider serves */

#define OPENAI_CHAT_ENDPOINTS                                                 \
                                                                              \
    /* "/chat/completions" before "/completions": the first suffix wins */    \
                                                                              \
    { ngx_string("/chat/completions"), NGX_HTTP_LLM_MOCK_STREAM_BODY,         \
      "{\"id\":\"chatcmpl-mock\",\"object\":\"chat.completion\","             \
      "\"created\":1700000000,\"model\":\"%m\","                               \
      "\"choices\":[{\"index\":0,\"message\":"                                \
      "{\"role\":\"assistant\",\"content\":\"%t\"},"                           \
      "\"finish_reason\":\"stop\"}]%[u," OPENAI_USAGE "%]}",                   \
      ngx_http_llm_mock_openai_chat_events },                                 \
                                                                              \
    { ngx_string("/completions"), NGX_HTTP_LLM_MOCK_STREAM_BODY,              \
      "{\"id\":\"cmpl-mock\",\"object\":\"text_completion\","                 \
      "\"created\":1700000000,\"model\":\"%m\","                               \
      "\"choices\":[{\"text\":\"%t\",\"index\":0,"                            \
      "\"finish_reason\":\"stop\"}]%[u," OPENAI_USAGE "%]}",                   \
      ngx_http_llm_mock_openai_text_events },                                 \
                                                                              \
    { ngx_string("/embeddings"), NGX_HTTP_LLM_MOCK_STREAM_NEVER,              \
      "{\"object\":\"list\",\"data\":[{\"object\":\"embedding\","              \
      "\"index\":0,\"embedding\":[0.1,0.2,0.3]}],\"model\":\"%m\""            \
      "%[u,\"usage\":{\"prompt_tokens\":%p,\"total_tokens\":%p}%]}",          \
      NULL }


static ngx_http_llm_mock_endpoint_t  ngx_http_llm_mock_openai_endpoints[] = {

    OPENAI_CHAT_ENDPOINTS,

    { ngx_string("/responses"), NGX_HTTP_LLM_MOCK_STREAM_BODY,
      RESPONSE_OBJECT,
      ngx_http_llm_mock_openai_resp_events },

    { ngx_null_string, 0, NULL, NULL }
};


/*
 * A provider with OpenAI's chat completions API but not its Responses API
 * (DeepSeek, Groq, Mistral, vLLM's older releases...): /responses is 404.
 */
static ngx_http_llm_mock_endpoint_t  ngx_http_llm_mock_chat_endpoints[] = {

    OPENAI_CHAT_ENDPOINTS,

    { ngx_null_string, 0, NULL, NULL }
};


static ngx_http_llm_mock_error_type_t  ngx_http_llm_mock_openai_errors[] = {
    { 0, "server_error" }
};


ngx_http_llm_mock_api_t  ngx_http_llm_mock_openai = {
    ngx_string("openai"),
    ngx_http_llm_mock_openai_endpoints,

    "{\"error\":{\"message\":\"mock error %n\",\"type\":\"%e\","
    "\"param\":null,\"code\":null}}",
    ngx_http_llm_mock_openai_errors,

    /* what api.openai.com answers, with 404, to a URI it does not serve */
    "{\"error\":{\"message\":\"Invalid URL (%r)\","
    "\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}}",

    NULL, NULL, NULL            /* no checks beyond the paths */
};


ngx_http_llm_mock_api_t  ngx_http_llm_mock_chat = {
    ngx_string("chat"),
    ngx_http_llm_mock_chat_endpoints,

    "{\"error\":{\"message\":\"mock error %n\",\"type\":\"%e\","
    "\"param\":null,\"code\":null}}",
    ngx_http_llm_mock_openai_errors,

    "{\"error\":{\"message\":\"Invalid URL (%r)\","
    "\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}}",

    NULL, NULL, NULL            /* fields: ngx_http_llm_mock_fields.c */
};
