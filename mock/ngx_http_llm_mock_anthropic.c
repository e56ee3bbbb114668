
/*
 * ngx_http_llm_mock_module: Anthropic's API as tables (see
 * ngx_http_llm_mock.h for the placeholders).
 *
 * Endpoint: /messages.  Any other URI, OpenAI's paths included, gets
 * Anthropic's 404 not_found_error.  (Anthropic's OpenAI-compatibility
 * layer is not imitated: a router test that needs OpenAI's format talks
 * to an OpenAI mock.)
 */


#include "ngx_http_llm_mock.h"


#define ANTHROPIC_EVENT(name)                                                 \
    "event: " name "\ndata: {\"type\":\"" name "\""


static ngx_http_llm_mock_event_t  ngx_http_llm_mock_anthropic_events[] = {

    /* input tokens come first, output tokens in message_delta */

    { NGX_HTTP_LLM_MOCK_ONCE,
      ANTHROPIC_EVENT("message_start")
      ",\"message\":{\"id\":\"msg_mock\",\"type\":\"message\","
      "\"role\":\"assistant\",\"model\":\"%m\","
      "\"content\":[],\"stop_reason\":null"
      "%[u,\"usage\":{\"input_tokens\":%p,\"output_tokens\":1,"
      "\"cache_creation_input_tokens\":0,"
      "\"cache_read_input_tokens\":0}%]}}\n\n" },

    { NGX_HTTP_LLM_MOCK_ONCE,
      ANTHROPIC_EVENT("content_block_start")
      ",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}"
      "\n\n" },

    { NGX_HTTP_LLM_MOCK_EACH_PIECE,
      ANTHROPIC_EVENT("content_block_delta")
      ",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"%c\"}}"
      "\n\n" },

    { NGX_HTTP_LLM_MOCK_ONCE,
      ANTHROPIC_EVENT("content_block_stop") ",\"index\":0}\n\n" },

    { NGX_HTTP_LLM_MOCK_ONCE,
      ANTHROPIC_EVENT("message_delta")
      ",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null}"
      "%[u,\"usage\":{\"output_tokens\":%o}%]}\n\n" },

    { NGX_HTTP_LLM_MOCK_ONCE, ANTHROPIC_EVENT("message_stop") "}\n\n" },

    { 0, NULL }
};


static ngx_http_llm_mock_endpoint_t  ngx_http_llm_mock_anthropic_endpoints[] =
{
    { ngx_string("/messages"), NGX_HTTP_LLM_MOCK_STREAM_BODY,
      "{\"id\":\"msg_mock\",\"type\":\"message\",\"role\":\"assistant\","
      "\"model\":\"%m\",\"content\":[{\"type\":\"text\",\"text\":\"%t\"}],"
      "\"stop_reason\":\"end_turn\",\"stop_sequence\":null"
      "%[u,\"usage\":{\"input_tokens\":%p,\"output_tokens\":%o,"
      "\"cache_creation_input_tokens\":0,"
      "\"cache_read_input_tokens\":0}%]}",
      ngx_http_llm_mock_anthropic_events },

    { ngx_null_string, 0, NULL, NULL }
};


/* the error types of Anthropic's documentation, by status */

static ngx_http_llm_mock_error_type_t  ngx_http_llm_mock_anthropic_errors[] = {
    { 400, "invalid_request_error" },
    { 401, "authentication_error" },
    { 402, "billing_error" },
    { 403, "permission_error" },
    { 404, "not_found_error" },
    { 413, "request_too_large" },
    { 429, "rate_limit_error" },
    { 504, "timeout_error" },
    { 529, "overloaded_error" },
    { 0, "api_error" }
};


ngx_http_llm_mock_api_t  ngx_http_llm_mock_anthropic = {
    ngx_string("anthropic"),
    ngx_http_llm_mock_anthropic_endpoints,

    "{\"type\":\"error\",\"error\":{\"type\":\"%e\","
    "\"message\":\"mock error %n\"}}",
    ngx_http_llm_mock_anthropic_errors,

    "{\"type\":\"error\",\"error\":{\"type\":\"not_found_error\","
    "\"message\":\"Not Found\"}}",

    NULL, NULL, NULL            /* no checks beyond the paths */
};
