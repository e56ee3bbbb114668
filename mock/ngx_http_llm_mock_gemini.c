
/*
 * ngx_http_llm_mock_module: Gemini's native API as tables (see
 * ngx_http_llm_mock.h for the placeholders).
 *
 * Endpoints: {path}/models/{model}:generateContent and
 * :streamGenerateContent?alt=sse (SSE, events end with CRLF CRLF, every
 * event has the usage so far, the last one a finishReason).  As the real
 * one: no key (x-goog-api-key or ?key=) is 403 PERMISSION_DENIED, an
 * unknown top-level field of the request is 400 INVALID_ARGUMENT "Unknown
 * name", any other URI (OpenAI's and Anthropic's paths included) is 404
 * NOT_FOUND, in Google's error shape.
 *
 * Reference: https://ai.google.dev/api/generate-content,
 * https://ai.google.dev/gemini-api/docs/troubleshooting (error codes).
 */


#include "ngx_http_llm_mock.h"


static ngx_uint_t ngx_http_llm_mock_gemini_check(ngx_http_request_t *r,
    char **tpl);


#define GEMINI_ERROR(code, status, message)                                   \
    "{\"error\":{\"code\":" code ",\"message\":\"" message "\","             \
    "\"status\":\"" status "\"}}"

#define GEMINI_CHUNK(parts, finish, usage)                                    \
    "data: {\"candidates\":[{\"content\":{\"parts\":[" parts "],"             \
    "\"role\":\"model\"}" finish ",\"index\":0}]" usage                       \
    ",\"modelVersion\":\"%m\",\"responseId\":\"mock-resp\"}\r\n\r\n"


static ngx_http_llm_mock_event_t  ngx_http_llm_mock_gemini_events[] = {

    /* every event has the usage so far: the prompt's, then the total */

    { NGX_HTTP_LLM_MOCK_EACH_PIECE,
      GEMINI_CHUNK("{\"text\":\"%c\"}", "",
                   "%[u,\"usageMetadata\":{\"promptTokenCount\":%p,"
                   "\"totalTokenCount\":%p}%]") },

    { NGX_HTTP_LLM_MOCK_ONCE,
      GEMINI_CHUNK("{\"text\":\"\"}", ",\"finishReason\":\"STOP\"",
                   "%[u,\"usageMetadata\":{\"promptTokenCount\":%p,"
                   "\"candidatesTokenCount\":%o,\"totalTokenCount\":%s,"
                   "\"promptTokensDetails\":[{\"modality\":\"TEXT\","
                   "\"tokenCount\":%p}]}%]") },

    { 0, NULL }
};


static ngx_http_llm_mock_endpoint_t  ngx_http_llm_mock_gemini_endpoints[] = {

    { ngx_string(":generateContent"), NGX_HTTP_LLM_MOCK_STREAM_NEVER,
      "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"%t\"}],"
      "\"role\":\"model\"},\"finishReason\":\"STOP\",\"index\":0}]"
      "%[u,\"usageMetadata\":{\"promptTokenCount\":%p,"
      "\"candidatesTokenCount\":%o,\"totalTokenCount\":%s,"
      "\"promptTokensDetails\":[{\"modality\":\"TEXT\",\"tokenCount\":%p}]}%]"
      ",\"modelVersion\":\"%m\",\"responseId\":\"mock-resp\"}",
      NULL },

    { ngx_string(":streamGenerateContent"), NGX_HTTP_LLM_MOCK_STREAM_ALWAYS,
      NULL, ngx_http_llm_mock_gemini_events },

    { ngx_null_string, 0, NULL, NULL }
};


/* google.rpc.Code names by HTTP status (Gemini API troubleshooting) */

static ngx_http_llm_mock_error_type_t  ngx_http_llm_mock_gemini_errors[] = {
    { 400, "INVALID_ARGUMENT" },
    { 401, "UNAUTHENTICATED" },
    { 403, "PERMISSION_DENIED" },
    { 404, "NOT_FOUND" },
    { 429, "RESOURCE_EXHAUSTED" },
    { 503, "UNAVAILABLE" },
    { 504, "DEADLINE_EXCEEDED" },
    { 0, "INTERNAL" }
};


/* GenerateContentRequest's fields */

static char  *ngx_http_llm_mock_gemini_fields[] = {
    "contents", "systemInstruction", "tools", "toolConfig",
    "generationConfig", "safetySettings", "cachedContent", "labels",
    "model", NULL
};


/*
 * The path is {path}/models/NAME:method; streaming only with alt=sse
 * (without it Google streams one JSON array, which is not imitated);
 * a key must come with it.
 */

static ngx_uint_t
ngx_http_llm_mock_gemini_check(ngx_http_request_t *r, char **tpl)
{
    u_char           *colon, *slash;
    ngx_str_t         v;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;
    ngx_uint_t        i, key;

    colon = ngx_strlchr(r->uri.data, r->uri.data + r->uri.len, ':');
    slash = colon;

    while (slash && slash > r->uri.data && slash[-1] != '/') {
        slash--;
    }

    if (colon == NULL || slash == colon || slash - r->uri.data < 8
        || ngx_strncmp(slash - 8, "/models/", 8) != 0)
    {
        *tpl = GEMINI_ERROR("404", "NOT_FOUND", "Requested entity was not "
                            "found.");
        return NGX_HTTP_NOT_FOUND;
    }

    key = (ngx_http_arg(r, (u_char *) "key", 3, &v) == NGX_OK && v.len);

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

        if (h[i].key.len == sizeof("x-goog-api-key") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "x-goog-api-key",
                               h[i].key.len) == 0
            && h[i].value.len)
        {
            key = 1;
        }
    }

    if (!key) {
        *tpl = GEMINI_ERROR("403", "PERMISSION_DENIED", "Method doesn't "
                            "allow unregistered callers (callers without "
                            "established identity). Please use API Key or "
                            "other form of API consumer identity to call "
                            "this API.");
        return NGX_HTTP_FORBIDDEN;
    }

    if (r->uri.len > 22
        && ngx_strncmp(r->uri.data + r->uri.len - 22,
                       ":streamGenerateContent", 22) == 0
        && (ngx_http_arg(r, (u_char *) "alt", 3, &v) != NGX_OK
            || v.len != 3 || ngx_strncmp(v.data, "sse", 3) != 0))
    {
        *tpl = GEMINI_ERROR("400", "INVALID_ARGUMENT", "mock: "
                            "streamGenerateContent is imitated with "
                            "alt=sse only");
        return NGX_HTTP_BAD_REQUEST;
    }

    return 0;
}


ngx_http_llm_mock_api_t  ngx_http_llm_mock_gemini = {
    ngx_string("gemini"),
    ngx_http_llm_mock_gemini_endpoints,

    "{\"error\":{\"code\":%n,\"message\":\"mock error %n\","
    "\"status\":\"%e\"}}",
    ngx_http_llm_mock_gemini_errors,

    /* Google's 404 for a path no method has */
    GEMINI_ERROR("404", "NOT_FOUND", "%r: not found"),

    ngx_http_llm_mock_gemini_check,
    ngx_http_llm_mock_gemini_fields,

    "{\"error\":{\"code\":400,\"message\":\"Invalid JSON payload received. "
    "Unknown name \\\"%f\\\": Cannot find field.\",\"status\":"
    "\"INVALID_ARGUMENT\",\"details\":[{\"@type\":\"type.googleapis.com/"
    "google.rpc.BadRequest\",\"fieldViolations\":[{\"description\":"
    "\"Invalid JSON payload received. Unknown name \\\"%f\\\": Cannot find "
    "field.\"}]}]}}"
};
