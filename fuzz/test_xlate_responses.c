/*
 * Deterministic tests of the Responses API translators
 * (src/ngx_http_llm_router_xlate_responses*.c): request bodies to chat and
 * through chat to Anthropic, answers, errors and SSE streams, byte for
 * byte; every stream is also fed split at every byte position and one
 * byte at a time, which must give the same output; the answer's kept
 * output is bounded.
 *
 * The expected texts were checked against OpenAI's API reference
 * (responses/create, responses/object, responses-streaming) by hand.
 *
 * The last line is "N passed, N failed"; the exit code is non-zero on
 * failure.
 */

#define _POSIX_C_SOURCE  200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_llm_router_xlate.h"


#define CHAT       NGX_HTTP_LLM_XLATE_CHAT
#define MESSAGES   NGX_HTTP_LLM_XLATE_MESSAGES
#define RESPONSES  NGX_HTTP_LLM_XLATE_RESPONSES


/*
 * Every stream opens with response.created and response.in_progress, both
 * with the response object in progress (id, created_at vary).
 */
#define RESP_OBJ(id, t)                                                       \
    "{\"id\":\"" id "\",\"object\":\"response\",\"created_at\":" t            \
    ",\"status\":\"in_progress\",\"error\":null,\"incomplete_details\":"      \
    "null,\"instructions\":null,\"max_output_tokens\":null,\"model\":"        \
    "\"client-model\",\"output\":[],\"parallel_tool_calls\":true,"            \
    "\"previous_response_id\":null,\"reasoning\":{\"effort\":null,"           \
    "\"summary\":null},\"store\":false,\"text\":{\"format\":{\"type\":"       \
    "\"text\"}},\"tool_choice\":\"auto\",\"tools\":[],\"truncation\":"        \
    "\"disabled\",\"usage\":null,\"user\":null,\"metadata\":{}}"

#define RESP_OPEN(id, t)                                                      \
    "event: response.created\n"                                               \
    "data: {\"type\":\"response.created\",\"response\":" RESP_OBJ(id, t)      \
    ",\"sequence_number\":0}\n\n"                                             \
    "event: response.in_progress\n"                                           \
    "data: {\"type\":\"response.in_progress\",\"response\":"                  \
    RESP_OBJ(id, t) ",\"sequence_number\":1}\n\n"


typedef struct {
    const char  *name;
    int          to;         /* the provider's format */
    int          mct;        /* max_completion_tokens */
    const char  *in;
    const char  *out;        /* expected body, NULL: refused */
    int          status;
    const char  *param;
    const char  *dropped;
} req_case_t;


typedef struct {
    const char  *name;
    int          from;       /* the provider's format */
    const char  *in;
    const char  *out;
} body_case_t;


typedef struct {
    const char  *name;
    int          from;
    const char  *in;
    const char  *out;
    int          rc_end;     /* expected result of sse_end */
} sse_case_t;


static unsigned long  passed, failed;


static void
check(int ok, const char *name, const char *what, const char *got,
    const char *want)
{
    if (ok) {
        passed++;
        return;
    }

    failed++;
    printf("FAIL %s: %s\n  got:  %s\n  want: %s\n", name, what,
           got ? got : "(null)", want ? want : "(null)");
}


static const req_case_t  req_cases[] = {
    { "codex-like history -> chat", CHAT, 1,
      "{\"model\":\"gpt-5\",\"instructions\":\"Be brief.\",\"input\":[{\""
      "type\":\"message\",\"role\":\"developer\",\"content\":[{\"type\":"
      "\"input_text\",\"text\":\"dev note\"}]},{\"role\":\"user\",\"conte"
      "nt\":[{\"type\":\"input_text\",\"text\":\"look\"},{\"type\":\"inpu"
      "t_image\",\"image_url\":\"https://x/y.png\",\"detail\":\"high\"}]}"
      ",{\"type\":\"reasoning\",\"id\":\"rs_1\",\"summary\":[]},{\"type\""
      ":\"message\",\"role\":\"assistant\",\"content\":[{\"type\":\"outpu"
      "t_text\",\"text\":\"calling\"}]},{\"type\":\"function_call\",\"cal"
      "l_id\":\"call_1\",\"name\":\"shell\",\"arguments\":\"{\\\"cmd\\\":"
      "\\\"ls\\\"}\"},{\"type\":\"function_call\",\"call_id\":\"call_2\","
      "\"name\":\"shell\",\"arguments\":\"{}\"},{\"type\":\"function_call"
      "_output\",\"call_id\":\"call_1\",\"output\":\"a b\"},{\"type\":\"f"
      "unction_call_output\",\"call_id\":\"call_2\",\"output\":[{\"type\""
      ":\"input_text\",\"text\":\"x\"}]}],\"tools\":[{\"type\":\"function"
      "\",\"name\":\"shell\",\"description\":\"run\",\"parameters\":{\"ty"
      "pe\":\"object\",\"properties\":{\"cmd\":{\"type\":\"string\"}}},\""
      "strict\":false},{\"type\":\"web_search\"}],\"tool_choice\":\"auto"
      "\",\"parallel_tool_calls\":false,\"max_output_tokens\":500,\"tempe"
      "rature\":0.2,\"reasoning\":{\"effort\":\"high\",\"summary\":\"auto"
      "\"},\"text\":{\"format\":{\"type\":\"json_schema\",\"name\":\"out"
      "\",\"schema\":{\"type\":\"object\"},\"strict\":true},\"verbosity\""
      ":\"low\"},\"stream\":true,\"store\":false,\"include\":[\"reasoning"
      ".encrypted_content\"],\"prompt_cache_key\":\"k\"}",
      "{\"model\":\"target\",\"messages\":[{\"role\":\"system\",\"content"
      "\":\"Be brief.\"},{\"role\":\"system\",\"content\":\"dev note\"},{"
      "\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"look"
      "\"},{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://x/y.p"
      "ng\",\"detail\":\"high\"}}]},{\"role\":\"assistant\",\"content\":"
      "\"calling\",\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function"
      "\",\"function\":{\"name\":\"shell\",\"arguments\":\"{\\\"cmd\\\":"
      "\\\"ls\\\"}\"}},{\"id\":\"call_2\",\"type\":\"function\",\"functio"
      "n\":{\"name\":\"shell\",\"arguments\":\"{}\"}}]},{\"role\":\"tool"
      "\",\"tool_call_id\":\"call_1\",\"content\":\"a b\"},{\"role\":\"to"
      "ol\",\"tool_call_id\":\"call_2\",\"content\":\"x\"}],\"tools\":[{"
      "\"type\":\"function\",\"function\":{\"name\":\"shell\",\"descripti"
      "on\":\"run\",\"parameters\":{\"type\":\"object\",\"properties\":{"
      "\"cmd\":{\"type\":\"string\"}}},\"strict\":false}}],\"max_completi"
      "on_tokens\":500,\"temperature\":0.2,\"reasoning_effort\":\"high\","
      "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"n"
      "ame\":\"out\",\"schema\":{\"type\":\"object\"},\"strict\":true}},"
      "\"stream\":true,\"stream_options\":{\"include_usage\":true},\"tool"
      "_choice\":\"auto\",\"parallel_tool_calls\":false}",
      0, "", "input.reasoning, tools.web_search, reasoning.summary, "
      "text.verbosity, include, prompt_cache_key" },

    { "codex-like history -> anthropic", MESSAGES, 0,
      "{\"model\": \"gpt-5\", \"instructions\": \"Be brief.\", \"input\":"
      " [{\"type\": \"message\", \"role\": \"developer\", \"content\": [{"
      "\"type\": \"input_text\", \"text\": \"dev note\"}]}, {\"role\": \""
      "user\", \"content\": [{\"type\": \"input_text\", \"text\": \"look"
      "\"}, {\"type\": \"input_image\", \"image_url\": \"https://x/y.png"
      "\", \"detail\": \"high\"}]}, {\"type\": \"reasoning\", \"id\": \"r"
      "s_1\", \"summary\": []}, {\"type\": \"message\", \"role\": \"assis"
      "tant\", \"content\": [{\"type\": \"output_text\", \"text\": \"call"
      "ing\"}]}, {\"type\": \"function_call\", \"call_id\": \"call_1\", "
      "\"name\": \"shell\", \"arguments\": \"{\\\"cmd\\\":\\\"ls\\\"}\"},"
      " {\"type\": \"function_call\", \"call_id\": \"call_2\", \"name\": "
      "\"shell\", \"arguments\": \"{}\"}, {\"type\": \"function_call_outp"
      "ut\", \"call_id\": \"call_1\", \"output\": \"a b\"}, {\"type\": \""
      "function_call_output\", \"call_id\": \"call_2\", \"output\": [{\"t"
      "ype\": \"input_text\", \"text\": \"x\"}]}], \"tools\": [{\"type\":"
      " \"function\", \"name\": \"shell\", \"description\": \"run\", \"pa"
      "rameters\": {\"type\": \"object\", \"properties\": {\"cmd\": {\"ty"
      "pe\": \"string\"}}}, \"strict\": false}, {\"type\": \"web_search\""
      "}], \"tool_choice\": \"auto\", \"parallel_tool_calls\": false, \"m"
      "ax_output_tokens\": 500, \"temperature\": 0.2, \"reasoning\": {\"e"
      "ffort\": \"high\", \"summary\": \"auto\"}, \"stream\": true, \"sto"
      "re\": false, \"include\": [\"reasoning.encrypted_content\"], \"pro"
      "mpt_cache_key\": \"k\"}",
      "{\"model\":\"target\",\"messages\":[{\"role\":\"user\",\"content\""
      ":[{\"type\":\"text\",\"text\":\"look\"},{\"type\":\"image\",\"sour"
      "ce\":{\"type\":\"url\",\"url\":\"https://x/y.png\"}}]},{\"role\":"
      "\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"calling\""
      "},{\"type\":\"tool_use\",\"id\":\"call_1\",\"name\":\"shell\",\"in"
      "put\":{\"cmd\":\"ls\"}},{\"type\":\"tool_use\",\"id\":\"call_2\","
      "\"name\":\"shell\",\"input\":{}}]},{\"role\":\"user\",\"content\":"
      "[{\"type\":\"tool_result\",\"tool_use_id\":\"call_1\",\"content\":"
      "\"a b\"},{\"type\":\"tool_result\",\"tool_use_id\":\"call_2\",\"co"
      "ntent\":\"x\"}]}],\"system\":[{\"type\":\"text\",\"text\":\"Be bri"
      "ef.\"},{\"type\":\"text\",\"text\":\"dev note\"}],\"tools\":[{\"na"
      "me\":\"shell\",\"description\":\"run\",\"input_schema\":{\"type\":"
      "\"object\",\"properties\":{\"cmd\":{\"type\":\"string\"}}}}],\"tem"
      "perature\":0.2,\"stream\":true,\"max_tokens\":500,\"tool_choice\":"
      "{\"type\":\"auto\",\"disable_parallel_tool_use\":true}}",
      0, "", "input.reasoning, tools.web_search, reasoning.effort, "
      "reasoning.summary, include, prompt_cache_key, detail, strict" },

    { "json_schema has no anthropic equivalent", MESSAGES, 0,
      "{\"model\":\"gpt-5\",\"instructions\":\"Be brief.\",\"input\":[{\""
      "type\":\"message\",\"role\":\"developer\",\"content\":[{\"type\":"
      "\"input_text\",\"text\":\"dev note\"}]},{\"role\":\"user\",\"conte"
      "nt\":[{\"type\":\"input_text\",\"text\":\"look\"},{\"type\":\"inpu"
      "t_image\",\"image_url\":\"https://x/y.png\",\"detail\":\"high\"}]}"
      ",{\"type\":\"reasoning\",\"id\":\"rs_1\",\"summary\":[]},{\"type\""
      ":\"message\",\"role\":\"assistant\",\"content\":[{\"type\":\"outpu"
      "t_text\",\"text\":\"calling\"}]},{\"type\":\"function_call\",\"cal"
      "l_id\":\"call_1\",\"name\":\"shell\",\"arguments\":\"{\\\"cmd\\\":"
      "\\\"ls\\\"}\"},{\"type\":\"function_call\",\"call_id\":\"call_2\","
      "\"name\":\"shell\",\"arguments\":\"{}\"},{\"type\":\"function_call"
      "_output\",\"call_id\":\"call_1\",\"output\":\"a b\"},{\"type\":\"f"
      "unction_call_output\",\"call_id\":\"call_2\",\"output\":[{\"type\""
      ":\"input_text\",\"text\":\"x\"}]}],\"tools\":[{\"type\":\"function"
      "\",\"name\":\"shell\",\"description\":\"run\",\"parameters\":{\"ty"
      "pe\":\"object\",\"properties\":{\"cmd\":{\"type\":\"string\"}}},\""
      "strict\":false},{\"type\":\"web_search\"}],\"tool_choice\":\"auto"
      "\",\"parallel_tool_calls\":false,\"max_output_tokens\":500,\"tempe"
      "rature\":0.2,\"reasoning\":{\"effort\":\"high\",\"summary\":\"auto"
      "\"},\"text\":{\"format\":{\"type\":\"json_schema\",\"name\":\"out"
      "\",\"schema\":{\"type\":\"object\"},\"strict\":true},\"verbosity\""
      ":\"low\"},\"stream\":true,\"store\":false,\"include\":[\"reasoning"
      ".encrypted_content\"],\"prompt_cache_key\":\"k\"}",
      NULL,
      400, "text.format", "input.reasoning, tools.web_search, "
      "reasoning.effort, reasoning.summary, text.verbosity, include, "
      "prompt_cache_key, detail, strict" },

    { "previous_response_id", CHAT, 0,
      "{\"model\":\"m\",\"input\":\"hi\",\"previous_response_id\":\"resp_"
      "1\"}",
      NULL,
      400, "previous_response_id", "" },

    { "store true", MESSAGES, 0,
      "{\"model\":\"m\",\"input\":\"hi\",\"store\":true}",
      NULL,
      400, "store", "" },

    { "background true", CHAT, 0,
      "{\"model\":\"m\",\"input\":\"hi\",\"background\":true}",
      NULL,
      400, "background", "" },

    { "store and background false", CHAT, 0,
      "{\"model\":\"m\",\"input\":\"hi\",\"store\":false,\"background\":f"
      "alse}",
      "{\"model\":\"target\",\"messages\":[{\"role\":\"user\",\"content\""
      ":\"hi\"}]}",
      0, "", "" },

    { "hosted tool_choice", CHAT, 0,
      "{\"model\":\"m\",\"input\":\"hi\",\"tools\":[{\"type\":\"web_searc"
      "h_preview\"}],\"tool_choice\":{\"type\":\"web_search_preview\"}}",
      NULL,
      400, "tool_choice", "tools.web_search_preview" },

    { "hosted tools only: tool_choice dropped", CHAT, 0,
      "{\"model\":\"m\",\"input\":\"hi\",\"tools\":[{\"type\":\"file_sear"
      "ch\",\"vector_store_ids\":[\"v\"]}],\"tool_choice\":\"auto\",\"par"
      "allel_tool_calls\":true}",
      "{\"model\":\"target\",\"messages\":[{\"role\":\"user\",\"content\""
      ":\"hi\"}]}",
      0, "", "tools.file_search, tool_choice, parallel_tool_calls" },

    { "function tool_choice", MESSAGES, 0,
      "{\"model\":\"m\",\"input\":\"hi\",\"tools\":[{\"type\":\"function"
      "\",\"name\":\"f\"}],\"tool_choice\":{\"type\":\"function\",\"name"
      "\":\"f\"}}",
      "{\"model\":\"target\",\"messages\":[{\"role\":\"user\",\"content\""
      ":[{\"type\":\"text\",\"text\":\"hi\"}]}],\"tools\":[{\"name\":\"f"
      "\",\"input_schema\":{\"type\":\"object\"}}],\"max_tokens\":4096,\""
      "tool_choice\":{\"type\":\"tool\",\"name\":\"f\"}}",
      0, "", "" },

    { "web_search_call item", MESSAGES, 0,
      "{\"model\":\"m\",\"input\":[{\"type\":\"web_search_call\",\"id\":"
      "\"x\"}]}",
      NULL,
      400, "input[0]", "" },

    { "item_reference", CHAT, 0,
      "{\"model\":\"m\",\"input\":[{\"type\":\"item_reference\",\"id\":\""
      "x\"}]}",
      NULL,
      400, "input[0]", "" },

    { "stored file image", CHAT, 0,
      "{\"model\":\"m\",\"input\":[{\"role\":\"user\",\"content\":[{\"typ"
      "e\":\"input_image\",\"file_id\":\"f\"}]}]}",
      NULL,
      400, "input[0].content[0]", "" },

    { "image in an assistant message", CHAT, 0,
      "{\"model\":\"m\",\"input\":[{\"role\":\"assistant\",\"content\":[{"
      "\"type\":\"input_image\",\"image_url\":\"https://x\"}]}]}",
      NULL,
      400, "input[0].content[0]", "" },

    { "inline file", CHAT, 0,
      "{\"model\":\"m\",\"input\":[{\"role\":\"user\",\"content\":[{\"typ"
      "e\":\"input_text\",\"text\":\"read\"},{\"type\":\"input_file\",\"f"
      "ilename\":\"a.pdf\",\"file_data\":\"data:application/pdf;base64,JV"
      "BE\"}]}]}",
      "{\"model\":\"target\",\"messages\":[{\"role\":\"user\",\"content\""
      ":[{\"type\":\"text\",\"text\":\"read\"},{\"type\":\"file\",\"file"
      "\":{\"file_data\":\"data:application/pdf;base64,JVBE\",\"filename"
      "\":\"a.pdf\"}}]}]}",
      0, "", "" },

    { "bad role", CHAT, 0,
      "{\"model\":\"m\",\"input\":[{\"role\":\"tool\",\"content\":\"x\"}]"
      "}",
      NULL,
      400, "input[0]", "" },

    { "instructions alone", CHAT, 0,
      "{\"model\":\"m\",\"instructions\":\"sys\"}",
      "{\"model\":\"target\",\"messages\":[{\"role\":\"system\",\"content"
      "\":\"sys\"}]}",
      0, "", "" },

    { "no input", CHAT, 0,
      "{\"model\":\"m\"}",
      NULL,
      400, "input", "" },

    { "max_output_tokens 0", MESSAGES, 0,
      "{\"model\":\"m\",\"input\":\"x\",\"max_output_tokens\":0}",
      NULL,
      400, "max_output_tokens", "" },

    { "temperature above 1 to anthropic", MESSAGES, 0,
      "{\"model\":\"m\",\"input\":\"x\",\"temperature\":1.5}",
      NULL,
      400, "temperature", "" },

    { "json_object to chat", CHAT, 0,
      "{\"model\":\"m\",\"input\":\"x\",\"text\":{\"format\":{\"type\":\""
      "json_object\"}}}",
      "{\"model\":\"target\",\"messages\":[{\"role\":\"user\",\"content\""
      ":\"x\"}],\"response_format\":{\"type\":\"json_object\"}}",
      0, "", "" },

    { "text format text", CHAT, 0,
      "{\"model\":\"m\",\"input\":\"x\",\"text\":{\"format\":{\"type\":\""
      "text\"}},\"top_logprobs\":null}",
      "{\"model\":\"target\",\"messages\":[{\"role\":\"user\",\"content\""
      ":\"x\"}]}",
      0, "", "" },

    { "top_logprobs", CHAT, 0,
      "{\"model\":\"m\",\"input\":\"x\",\"top_logprobs\":2}",
      NULL,
      400, "top_logprobs", "" },

    { "unknown field", CHAT, 0,
      "{\"model\":\"m\",\"input\":\"x\",\"frobnicate\":1,\"user\":\"u\"}",
      "{\"model\":\"target\",\"messages\":[{\"role\":\"user\",\"content\""
      ":\"x\"}],\"user\":\"u\"}",
      0, "", "frobnicate" },

    { "members named empty (once in the list)", MESSAGES, 0,
      "{\"model\":\"m\",\"input\":\"x\",\"\":1,\"\":2}",
      "{\"model\":\"target\",\"messages\":[{\"role\":\"user\",\"content\""
      ":[{\"type\":\"text\",\"text\":\"x\"}]}],\"max_tokens\":4096}",
      0, "", "\"\"" },

    { "members given twice: the last counts", CHAT, 0,
      "{\"model\":\"m\",\"input\":\"x\",\"input\":\"y\",\"tools\":[{\"typ"
      "e\":\"function\",\"name\":\"f\"}],\"tool_choice\":\"auto\",\"tool_"
      "choice\":\"none\"}",
      "{\"model\":\"target\",\"messages\":[{\"role\":\"user\",\"content\""
      ":\"y\"}],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":"
      "\"f\"}}],\"tool_choice\":\"none\"}",
      0, "", "" },

    { NULL, 0, 0, NULL, NULL, 0, NULL, NULL }
};


static const body_case_t  resp_cases[] = {
    { "chat text and call", CHAT,
      "{\"id\":\"chatcmpl-9\",\"object\":\"chat.completion\",\"created\":"
      "1700000100,\"model\":\"up\",\"choices\":[{\"index\":0,\"message\":"
      "{\"role\":\"assistant\",\"content\":\"Hello\",\"tool_calls\":[{\"i"
      "d\":\"call_a\",\"type\":\"function\",\"function\":{\"name\":\"f\","
      "\"arguments\":\"{\\\"x\\\":1}\"}}]},\"finish_reason\":\"tool_calls"
      "\"}],\"usage\":{\"prompt_tokens\":20,\"completion_tokens\":7,\"tot"
      "al_tokens\":27,\"prompt_tokens_details\":{\"cached_tokens\":5},\"c"
      "ompletion_tokens_details\":{\"reasoning_tokens\":2}}}",
      "{\"id\":\"resp_chatcmpl-9\",\"object\":\"response\",\"created_at\""
      ":1700000100,\"status\":\"completed\",\"error\":null,\"incomplete_d"
      "etails\":null,\"instructions\":null,\"max_output_tokens\":null,\"m"
      "odel\":\"client-model\",\"output\":[{\"id\":\"msg_0_chatcmpl-9\","
      "\"type\":\"message\",\"status\":\"completed\",\"role\":\"assistant"
      "\",\"content\":[{\"type\":\"output_text\",\"text\":\"Hello\",\"ann"
      "otations\":[]}]},{\"id\":\"fc_1_chatcmpl-9\",\"type\":\"function_c"
      "all\",\"status\":\"completed\",\"arguments\":\"{\\\"x\\\":1}\",\"c"
      "all_id\":\"call_a\",\"name\":\"f\"}],\"parallel_tool_calls\":true,"
      "\"previous_response_id\":null,\"reasoning\":{\"effort\":null,\"sum"
      "mary\":null},\"store\":false,\"text\":{\"format\":{\"type\":\"text"
      "\"}},\"tool_choice\":\"auto\",\"tools\":[],\"truncation\":\"disabl"
      "ed\",\"usage\":{\"input_tokens\":20,\"input_tokens_details\":{\"ca"
      "ched_tokens\":5},\"output_tokens\":7,\"output_tokens_details\":{\""
      "reasoning_tokens\":2},\"total_tokens\":27},\"user\":null,\"metadat"
      "a\":{}}" },

    { "chat refusal, content_filter", CHAT,
      "{\"id\":\"c2\",\"created\":5,\"choices\":[{\"index\":0,\"message\""
      ":{\"role\":\"assistant\",\"content\":null,\"refusal\":\"I cannot\""
      "},\"finish_reason\":\"content_filter\"}]}",
      "{\"id\":\"resp_c2\",\"object\":\"response\",\"created_at\":5,\"sta"
      "tus\":\"incomplete\",\"error\":null,\"incomplete_details\":{\"reas"
      "on\":\"content_filter\"},\"instructions\":null,\"max_output_tokens"
      "\":null,\"model\":\"client-model\",\"output\":[{\"id\":\"msg_0_c2"
      "\",\"type\":\"message\",\"status\":\"incomplete\",\"role\":\"assis"
      "tant\",\"content\":[{\"type\":\"refusal\",\"refusal\":\"I cannot\""
      "}]}],\"parallel_tool_calls\":true,\"previous_response_id\":null,\""
      "reasoning\":{\"effort\":null,\"summary\":null},\"store\":false,\"t"
      "ext\":{\"format\":{\"type\":\"text\"}},\"tool_choice\":\"auto\",\""
      "tools\":[],\"truncation\":\"disabled\",\"usage\":null,\"user\":nul"
      "l,\"metadata\":{}}" },

    { "anthropic max_tokens, cache", MESSAGES,
      "{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"co"
      "ntent\":[{\"type\":\"text\",\"text\":\"Hi\"}],\"stop_reason\":\"ma"
      "x_tokens\",\"usage\":{\"input_tokens\":10,\"cache_read_input_token"
      "s\":30,\"cache_creation_input_tokens\":5,\"output_tokens\":4}}",
      "{\"id\":\"resp_msg_1\",\"object\":\"response\",\"created_at\":1700"
      "000000,\"status\":\"incomplete\",\"error\":null,\"incomplete_detai"
      "ls\":{\"reason\":\"max_output_tokens\"},\"instructions\":null,\"ma"
      "x_output_tokens\":null,\"model\":\"client-model\",\"output\":[{\"i"
      "d\":\"msg_0_msg_1\",\"type\":\"message\",\"status\":\"incomplete\""
      ",\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\",\"t"
      "ext\":\"Hi\",\"annotations\":[]}]}],\"parallel_tool_calls\":true,"
      "\"previous_response_id\":null,\"reasoning\":{\"effort\":null,\"sum"
      "mary\":null},\"store\":false,\"text\":{\"format\":{\"type\":\"text"
      "\"}},\"tool_choice\":\"auto\",\"tools\":[],\"truncation\":\"disabl"
      "ed\",\"usage\":{\"input_tokens\":45,\"input_tokens_details\":{\"ca"
      "ched_tokens\":30},\"output_tokens\":4,\"output_tokens_details\":{"
      "\"reasoning_tokens\":0},\"total_tokens\":49},\"user\":null,\"metad"
      "ata\":{}}" },

    { "anthropic tool_use", MESSAGES,
      "{\"id\":\"msg_2\",\"type\":\"message\",\"role\":\"assistant\",\"co"
      "ntent\":[{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"get"
      "\",\"input\":{\"a\":1}}],\"stop_reason\":\"tool_use\",\"usage\":{"
      "\"input_tokens\":3,\"output_tokens\":4}}",
      "{\"id\":\"resp_msg_2\",\"object\":\"response\",\"created_at\":1700"
      "000000,\"status\":\"completed\",\"error\":null,\"incomplete_detail"
      "s\":null,\"instructions\":null,\"max_output_tokens\":null,\"model"
      "\":\"client-model\",\"output\":[{\"id\":\"fc_0_msg_2\",\"type\":\""
      "function_call\",\"status\":\"completed\",\"arguments\":\"{\\\"a\\"
      "\":1}\",\"call_id\":\"toolu_1\",\"name\":\"get\"}],\"parallel_tool"
      "_calls\":true,\"previous_response_id\":null,\"reasoning\":{\"effor"
      "t\":null,\"summary\":null},\"store\":false,\"text\":{\"format\":{"
      "\"type\":\"text\"}},\"tool_choice\":\"auto\",\"tools\":[],\"trunca"
      "tion\":\"disabled\",\"usage\":{\"input_tokens\":3,\"input_tokens_d"
      "etails\":{\"cached_tokens\":0},\"output_tokens\":4,\"output_tokens"
      "_details\":{\"reasoning_tokens\":0},\"total_tokens\":7},\"user\":n"
      "ull,\"metadata\":{}}" },

    { NULL, 0, NULL, NULL }
};


static const body_case_t  err_cases[] = {
    { "anthropic error", MESSAGES,
      "{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"mes"
      "sage\":\"slow\"}}",
      "{\"error\":{\"message\":\"slow\",\"type\":\"rate_limit_error\",\"p"
      "aram\":null,\"code\":null}}" },

    { "chat error", CHAT,
      "{\"error\":{\"message\":\"bad\",\"type\":\"invalid_request_error\""
      ",\"param\":\"input\",\"code\":null}}",
      "{\"error\":{\"message\":\"bad\",\"type\":\"invalid_request_error\""
      ",\"param\":\"input\",\"code\":null}}" },

    { NULL, 0, NULL, NULL }
};


static const sse_case_t  sse_cases[] = {
    { "chat stream: text then two calls", CHAT,
      "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{"
      "\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}"
      "\n"
      "\n"
      "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{"
      "\"content\":\"Hi\"}}]}\n"
      "\n"
      "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{"
      "\"content\":\"!\"}}]}\n"
      "\n"
      "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{"
      "\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function"
      "\",\"function\":{\"name\":\"get\",\"arguments\":\"\"}}]}}]}\n"
      "\n"
      "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{"
      "\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"a"
      "\\\":\"}}]}}]}\n"
      "\n"
      "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{"
      "\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"1}\"}}]"
      "}}]}\n"
      "\n"
      "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{"
      "},\"finish_reason\":\"tool_calls\"}]}\n"
      "\n"
      "data: {\"id\":\"chatcmpl-1\",\"choices\":[],\"usage\":{\"prompt_to"
      "kens\":100,\"completion_tokens\":9,\"prompt_tokens_details\":{\"ca"
      "ched_tokens\":60}}}\n"
      "\n"
      "data: [DONE]\n"
      "\n",

      RESP_OPEN("resp_chatcmpl-1", "1700000000")
      "event: response.output_item.added\n"
      "data: {\"type\":\"response.output_item.added\",\"output_index\":0,"
      "\"item\":{\"id\":\"msg_0_chatcmpl-1\",\"type\":\"message\",\"statu"
      "s\":\"in_progress\",\"role\":\"assistant\",\"content\":[]},\"seque"
      "nce_number\":2}\n"
      "\n"
      "event: response.content_part.added\n"
      "data: {\"type\":\"response.content_part.added\",\"item_id\":\"msg_"
      "0_chatcmpl-1\",\"output_index\":0,\"content_index\":0,\"part\":{\""
      "type\":\"output_text\",\"text\":\"\",\"annotations\":[]},\"sequenc"
      "e_number\":3}\n"
      "\n"
      "event: response.output_text.delta\n"
      "data: {\"type\":\"response.output_text.delta\",\"item_id\":\"msg_0"
      "_chatcmpl-1\",\"output_index\":0,\"content_index\":0,\"delta\":\"H"
      "i\",\"logprobs\":[],\"sequence_number\":4}\n"
      "\n"
      "event: response.output_text.delta\n"
      "data: {\"type\":\"response.output_text.delta\",\"item_id\":\"msg_0"
      "_chatcmpl-1\",\"output_index\":0,\"content_index\":0,\"delta\":\"!"
      "\",\"logprobs\":[],\"sequence_number\":5}\n"
      "\n"
      "event: response.output_text.done\n"
      "data: {\"type\":\"response.output_text.done\",\"item_id\":\"msg_0_"
      "chatcmpl-1\",\"output_index\":0,\"content_index\":0,\"text\":\"Hi!"
      "\",\"logprobs\":[],\"sequence_number\":6}\n"
      "\n"
      "event: response.content_part.done\n"
      "data: {\"type\":\"response.content_part.done\",\"item_id\":\"msg_0"
      "_chatcmpl-1\",\"output_index\":0,\"content_index\":0,\"part\":{\"t"
      "ype\":\"output_text\",\"text\":\"Hi!\",\"annotations\":[]},\"seque"
      "nce_number\":7}\n"
      "\n"
      "event: response.output_item.done\n"
      "data: {\"type\":\"response.output_item.done\",\"output_index\":0,"
      "\"item\":{\"id\":\"msg_0_chatcmpl-1\",\"type\":\"message\",\"statu"
      "s\":\"completed\",\"role\":\"assistant\",\"content\":[{\"type\":\""
      "output_text\",\"text\":\"Hi!\",\"annotations\":[]}]},\"sequence_nu"
      "mber\":8}\n"
      "\n"
      "event: response.output_item.added\n"
      "data: {\"type\":\"response.output_item.added\",\"output_index\":1,"
      "\"item\":{\"id\":\"fc_1_chatcmpl-1\",\"type\":\"function_call\",\""
      "status\":\"in_progress\",\"arguments\":\"\",\"call_id\":\"call_1\""
      ",\"name\":\"get\"},\"sequence_number\":9}\n"
      "\n"
      "event: response.function_call_arguments.delta\n"
      "data: {\"type\":\"response.function_call_arguments.delta\",\"item_"
      "id\":\"fc_1_chatcmpl-1\",\"output_index\":1,\"delta\":\"{\\\"a\\\""
      ":\",\"sequence_number\":10}\n"
      "\n"
      "event: response.function_call_arguments.delta\n"
      "data: {\"type\":\"response.function_call_arguments.delta\",\"item_"
      "id\":\"fc_1_chatcmpl-1\",\"output_index\":1,\"delta\":\"1}\",\"seq"
      "uence_number\":11}\n"
      "\n"
      "event: response.function_call_arguments.done\n"
      "data: {\"type\":\"response.function_call_arguments.done\",\"item_i"
      "d\":\"fc_1_chatcmpl-1\",\"output_index\":1,\"arguments\":\"{\\\"a"
      "\\\":1}\",\"sequence_number\":12}\n"
      "\n"
      "event: response.output_item.done\n"
      "data: {\"type\":\"response.output_item.done\",\"output_index\":1,"
      "\"item\":{\"id\":\"fc_1_chatcmpl-1\",\"type\":\"function_call\",\""
      "status\":\"completed\",\"arguments\":\"{\\\"a\\\":1}\",\"call_id\""
      ":\"call_1\",\"name\":\"get\"},\"sequence_number\":13}\n"
      "\n"
      "event: response.completed\n"
      "data: {\"type\":\"response.completed\",\"response\":{\"id\":\"resp"
      "_chatcmpl-1\",\"object\":\"response\",\"created_at\":1700000000,\""
      "status\":\"completed\",\"error\":null,\"incomplete_details\":null,"
      "\"instructions\":null,\"max_output_tokens\":null,\"model\":\"clien"
      "t-model\",\"output\":[{\"id\":\"msg_0_chatcmpl-1\",\"type\":\"mess"
      "age\",\"status\":\"completed\",\"role\":\"assistant\",\"content\":"
      "[{\"type\":\"output_text\",\"text\":\"Hi!\",\"annotations\":[]}]},"
      "{\"id\":\"fc_1_chatcmpl-1\",\"type\":\"function_call\",\"status\":"
      "\"completed\",\"arguments\":\"{\\\"a\\\":1}\",\"call_id\":\"call_1"
      "\",\"name\":\"get\"}],\"parallel_tool_calls\":true,\"previous_resp"
      "onse_id\":null,\"reasoning\":{\"effort\":null,\"summary\":null},\""
      "store\":false,\"text\":{\"format\":{\"type\":\"text\"}},\"tool_cho"
      "ice\":\"auto\",\"tools\":[],\"truncation\":\"disabled\",\"usage\":"
      "{\"input_tokens\":100,\"input_tokens_details\":{\"cached_tokens\":"
      "60},\"output_tokens\":9,\"output_tokens_details\":{\"reasoning_tok"
      "ens\":0},\"total_tokens\":109},\"user\":null,\"metadata\":{}},\"se"
      "quence_number\":14}\n"
      "\n",
      NGX_HTTP_LLM_XLATE_OK },

    { "anthropic stream: text then a call", MESSAGES,
      "event: message_start\n"
      "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01\","
      "\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model"
      "\":\"claude\",\"usage\":{\"input_tokens\":10,\"cache_read_input_to"
      "kens\":30,\"output_tokens\":1}}}\n"
      "\n"
      "event: content_block_start\n"
      "data: {\"type\":\"content_block_start\",\"index\":0,\"content_bloc"
      "k\":{\"type\":\"text\",\"text\":\"\"}}\n"
      "\n"
      "event: ping\n"
      "data: {\"type\":\"ping\"}\n"
      "\n"
      "event: content_block_delta\n"
      "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"t"
      "ype\":\"text_delta\",\"text\":\"Yo\"}}\n"
      "\n"
      "event: content_block_stop\n"
      "data: {\"type\":\"content_block_stop\",\"index\":0}\n"
      "\n"
      "event: content_block_start\n"
      "data: {\"type\":\"content_block_start\",\"index\":1,\"content_bloc"
      "k\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"get\",\"i"
      "nput\":{}}}\n"
      "\n"
      "event: content_block_delta\n"
      "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"t"
      "ype\":\"input_json_delta\",\"partial_json\":\"{\\\"a\\\"\"}}\n"
      "\n"
      "event: content_block_delta\n"
      "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"t"
      "ype\":\"input_json_delta\",\"partial_json\":\":2}\"}}\n"
      "\n"
      "event: content_block_stop\n"
      "data: {\"type\":\"content_block_stop\",\"index\":1}\n"
      "\n"
      "event: message_delta\n"
      "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"too"
      "l_use\"},\"usage\":{\"output_tokens\":12}}\n"
      "\n"
      "event: message_stop\n"
      "data: {\"type\":\"message_stop\"}\n"
      "\n",

      RESP_OPEN("resp_msg_01", "1700000000")
      "event: response.output_item.added\n"
      "data: {\"type\":\"response.output_item.added\",\"output_index\":0,"
      "\"item\":{\"id\":\"msg_0_msg_01\",\"type\":\"message\",\"status\":"
      "\"in_progress\",\"role\":\"assistant\",\"content\":[]},\"sequence_"
      "number\":2}\n"
      "\n"
      "event: response.content_part.added\n"
      "data: {\"type\":\"response.content_part.added\",\"item_id\":\"msg_"
      "0_msg_01\",\"output_index\":0,\"content_index\":0,\"part\":{\"type"
      "\":\"output_text\",\"text\":\"\",\"annotations\":[]},\"sequence_nu"
      "mber\":3}\n"
      "\n"
      "event: response.output_text.delta\n"
      "data: {\"type\":\"response.output_text.delta\",\"item_id\":\"msg_0"
      "_msg_01\",\"output_index\":0,\"content_index\":0,\"delta\":\"Yo\","
      "\"logprobs\":[],\"sequence_number\":4}\n"
      "\n"
      "event: response.output_text.done\n"
      "data: {\"type\":\"response.output_text.done\",\"item_id\":\"msg_0_"
      "msg_01\",\"output_index\":0,\"content_index\":0,\"text\":\"Yo\",\""
      "logprobs\":[],\"sequence_number\":5}\n"
      "\n"
      "event: response.content_part.done\n"
      "data: {\"type\":\"response.content_part.done\",\"item_id\":\"msg_0"
      "_msg_01\",\"output_index\":0,\"content_index\":0,\"part\":{\"type"
      "\":\"output_text\",\"text\":\"Yo\",\"annotations\":[]},\"sequence_"
      "number\":6}\n"
      "\n"
      "event: response.output_item.done\n"
      "data: {\"type\":\"response.output_item.done\",\"output_index\":0,"
      "\"item\":{\"id\":\"msg_0_msg_01\",\"type\":\"message\",\"status\":"
      "\"completed\",\"role\":\"assistant\",\"content\":[{\"type\":\"outp"
      "ut_text\",\"text\":\"Yo\",\"annotations\":[]}]},\"sequence_number"
      "\":7}\n"
      "\n"
      "event: response.output_item.added\n"
      "data: {\"type\":\"response.output_item.added\",\"output_index\":1,"
      "\"item\":{\"id\":\"fc_1_msg_01\",\"type\":\"function_call\",\"stat"
      "us\":\"in_progress\",\"arguments\":\"\",\"call_id\":\"toolu_1\",\""
      "name\":\"get\"},\"sequence_number\":8}\n"
      "\n"
      "event: response.function_call_arguments.delta\n"
      "data: {\"type\":\"response.function_call_arguments.delta\",\"item_"
      "id\":\"fc_1_msg_01\",\"output_index\":1,\"delta\":\"{\\\"a\\\"\","
      "\"sequence_number\":9}\n"
      "\n"
      "event: response.function_call_arguments.delta\n"
      "data: {\"type\":\"response.function_call_arguments.delta\",\"item_"
      "id\":\"fc_1_msg_01\",\"output_index\":1,\"delta\":\":2}\",\"sequen"
      "ce_number\":10}\n"
      "\n"
      "event: response.function_call_arguments.done\n"
      "data: {\"type\":\"response.function_call_arguments.done\",\"item_i"
      "d\":\"fc_1_msg_01\",\"output_index\":1,\"arguments\":\"{\\\"a\\\":"
      "2}\",\"sequence_number\":11}\n"
      "\n"
      "event: response.output_item.done\n"
      "data: {\"type\":\"response.output_item.done\",\"output_index\":1,"
      "\"item\":{\"id\":\"fc_1_msg_01\",\"type\":\"function_call\",\"stat"
      "us\":\"completed\",\"arguments\":\"{\\\"a\\\":2}\",\"call_id\":\"t"
      "oolu_1\",\"name\":\"get\"},\"sequence_number\":12}\n"
      "\n"
      "event: response.completed\n"
      "data: {\"type\":\"response.completed\",\"response\":{\"id\":\"resp"
      "_msg_01\",\"object\":\"response\",\"created_at\":1700000000,\"stat"
      "us\":\"completed\",\"error\":null,\"incomplete_details\":null,\"in"
      "structions\":null,\"max_output_tokens\":null,\"model\":\"client-mo"
      "del\",\"output\":[{\"id\":\"msg_0_msg_01\",\"type\":\"message\",\""
      "status\":\"completed\",\"role\":\"assistant\",\"content\":[{\"type"
      "\":\"output_text\",\"text\":\"Yo\",\"annotations\":[]}]},{\"id\":"
      "\"fc_1_msg_01\",\"type\":\"function_call\",\"status\":\"completed"
      "\",\"arguments\":\"{\\\"a\\\":2}\",\"call_id\":\"toolu_1\",\"name"
      "\":\"get\"}],\"parallel_tool_calls\":true,\"previous_response_id\""
      ":null,\"reasoning\":{\"effort\":null,\"summary\":null},\"store\":f"
      "alse,\"text\":{\"format\":{\"type\":\"text\"}},\"tool_choice\":\"a"
      "uto\",\"tools\":[],\"truncation\":\"disabled\",\"usage\":{\"input_"
      "tokens\":40,\"input_tokens_details\":{\"cached_tokens\":30},\"outp"
      "ut_tokens\":12,\"output_tokens_details\":{\"reasoning_tokens\":0},"
      "\"total_tokens\":52},\"user\":null,\"metadata\":{}},\"sequence_num"
      "ber\":13}\n"
      "\n",
      NGX_HTTP_LLM_XLATE_OK },

    { "chat stream cut", CHAT,
      "data: {\"id\":\"c\",\"created\":7,\"choices\":[{\"delta\":{\"conte"
      "nt\":\"x\"}}]}\n"
      "\n",

      RESP_OPEN("resp_c", "7")
      "event: response.output_item.added\n"
      "data: {\"type\":\"response.output_item.added\",\"output_index\":0,"
      "\"item\":{\"id\":\"msg_0_c\",\"type\":\"message\",\"status\":\"in_"
      "progress\",\"role\":\"assistant\",\"content\":[]},\"sequence_numbe"
      "r\":2}\n"
      "\n"
      "event: response.content_part.added\n"
      "data: {\"type\":\"response.content_part.added\",\"item_id\":\"msg_"
      "0_c\",\"output_index\":0,\"content_index\":0,\"part\":{\"type\":\""
      "output_text\",\"text\":\"\",\"annotations\":[]},\"sequence_number"
      "\":3}\n"
      "\n"
      "event: response.output_text.delta\n"
      "data: {\"type\":\"response.output_text.delta\",\"item_id\":\"msg_0"
      "_c\",\"output_index\":0,\"content_index\":0,\"delta\":\"x\",\"logp"
      "robs\":[],\"sequence_number\":4}\n"
      "\n"
      "event: response.failed\n"
      "data: {\"type\":\"response.failed\",\"response\":{\"id\":\"resp_c"
      "\",\"object\":\"response\",\"created_at\":7,\"incomplete_details\""
      ":null,\"instructions\":null,\"max_output_tokens\":null,\"model\":"
      "\"client-model\",\"output\":[],\"parallel_tool_calls\":true,\"prev"
      "ious_response_id\":null,\"reasoning\":{\"effort\":null,\"summary\""
      ":null},\"store\":false,\"text\":{\"format\":{\"type\":\"text\"}},"
      "\"tool_choice\":\"auto\",\"tools\":[],\"truncation\":\"disabled\","
      "\"usage\":null,\"user\":null,\"metadata\":{},\"status\":\"failed\""
      ",\"error\":{\"code\":\"server_error\",\"message\":\"the provider's"
      " stream was cut\"}},\"sequence_number\":5}\n"
      "\n",
      NGX_HTTP_LLM_XLATE_BAD },

    { "chat stream length", CHAT,
      "data: {\"id\":\"c\",\"created\":7,\"choices\":[{\"delta\":{\"conte"
      "nt\":\"ab\"}}]}\r\n"
      "\r\n"
      "data: {\"id\":\"c\",\"choices\":[{\"delta\":{},\"finish_reason\":"
      "\"length\"}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":"
      "1}}\n"
      "\n"
      "data: [DONE]\n"
      "\n",

      RESP_OPEN("resp_c", "7")
      "event: response.output_item.added\n"
      "data: {\"type\":\"response.output_item.added\",\"output_index\":0,"
      "\"item\":{\"id\":\"msg_0_c\",\"type\":\"message\",\"status\":\"in_"
      "progress\",\"role\":\"assistant\",\"content\":[]},\"sequence_numbe"
      "r\":2}\n"
      "\n"
      "event: response.content_part.added\n"
      "data: {\"type\":\"response.content_part.added\",\"item_id\":\"msg_"
      "0_c\",\"output_index\":0,\"content_index\":0,\"part\":{\"type\":\""
      "output_text\",\"text\":\"\",\"annotations\":[]},\"sequence_number"
      "\":3}\n"
      "\n"
      "event: response.output_text.delta\n"
      "data: {\"type\":\"response.output_text.delta\",\"item_id\":\"msg_0"
      "_c\",\"output_index\":0,\"content_index\":0,\"delta\":\"ab\",\"log"
      "probs\":[],\"sequence_number\":4}\n"
      "\n"
      "event: response.output_text.done\n"
      "data: {\"type\":\"response.output_text.done\",\"item_id\":\"msg_0_"
      "c\",\"output_index\":0,\"content_index\":0,\"text\":\"ab\",\"logpr"
      "obs\":[],\"sequence_number\":5}\n"
      "\n"
      "event: response.content_part.done\n"
      "data: {\"type\":\"response.content_part.done\",\"item_id\":\"msg_0"
      "_c\",\"output_index\":0,\"content_index\":0,\"part\":{\"type\":\"o"
      "utput_text\",\"text\":\"ab\",\"annotations\":[]},\"sequence_number"
      "\":6}\n"
      "\n"
      "event: response.output_item.done\n"
      "data: {\"type\":\"response.output_item.done\",\"output_index\":0,"
      "\"item\":{\"id\":\"msg_0_c\",\"type\":\"message\",\"status\":\"inc"
      "omplete\",\"role\":\"assistant\",\"content\":[{\"type\":\"output_t"
      "ext\",\"text\":\"ab\",\"annotations\":[]}]},\"sequence_number\":7}"
      "\n"
      "\n"
      "event: response.incomplete\n"
      "data: {\"type\":\"response.incomplete\",\"response\":{\"id\":\"res"
      "p_c\",\"object\":\"response\",\"created_at\":7,\"status\":\"incomp"
      "lete\",\"error\":null,\"incomplete_details\":{\"reason\":\"max_out"
      "put_tokens\"},\"instructions\":null,\"max_output_tokens\":null,\"m"
      "odel\":\"client-model\",\"output\":[{\"id\":\"msg_0_c\",\"type\":"
      "\"message\",\"status\":\"incomplete\",\"role\":\"assistant\",\"con"
      "tent\":[{\"type\":\"output_text\",\"text\":\"ab\",\"annotations\":"
      "[]}]}],\"parallel_tool_calls\":true,\"previous_response_id\":null,"
      "\"reasoning\":{\"effort\":null,\"summary\":null},\"store\":false,"
      "\"text\":{\"format\":{\"type\":\"text\"}},\"tool_choice\":\"auto\""
      ",\"tools\":[],\"truncation\":\"disabled\",\"usage\":{\"input_token"
      "s\":3,\"input_tokens_details\":{\"cached_tokens\":0},\"output_toke"
      "ns\":1,\"output_tokens_details\":{\"reasoning_tokens\":0},\"total_"
      "tokens\":4},\"user\":null,\"metadata\":{}},\"sequence_number\":8}"
      "\n"
      "\n",
      NGX_HTTP_LLM_XLATE_OK },

    { "anthropic error event", MESSAGES,
      "event: error\n"
      "data: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\""
      ",\"message\":\"Overloaded\"}}\n"
      "\n",

      RESP_OPEN("resp_gateway", "1700000000")
      "event: response.failed\n"
      "data: {\"type\":\"response.failed\",\"response\":{\"id\":\"resp_ga"
      "teway\",\"object\":\"response\",\"created_at\":1700000000,\"incomp"
      "lete_details\":null,\"instructions\":null,\"max_output_tokens\":nu"
      "ll,\"model\":\"client-model\",\"output\":[],\"parallel_tool_calls"
      "\":true,\"previous_response_id\":null,\"reasoning\":{\"effort\":nu"
      "ll,\"summary\":null},\"store\":false,\"text\":{\"format\":{\"type"
      "\":\"text\"}},\"tool_choice\":\"auto\",\"tools\":[],\"truncation\""
      ":\"disabled\",\"usage\":null,\"user\":null,\"metadata\":{},\"statu"
      "s\":\"failed\",\"error\":{\"code\":\"server_error\",\"message\":\""
      "Overloaded\"}},\"sequence_number\":2}\n"
      "\n",
      NGX_HTTP_LLM_XLATE_BAD },

    { "chat error chunk after text", CHAT,
      "data: {\"id\":\"c\",\"created\":7,\"choices\":[{\"delta\":{\"conte"
      "nt\":\"x\"}}]}\n"
      "\n"
      "data: {\"error\":{\"message\":\"boom\",\"code\":\"rate_limit_excee"
      "ded\"}}\n"
      "\n",

      RESP_OPEN("resp_c", "7")
      "event: response.output_item.added\n"
      "data: {\"type\":\"response.output_item.added\",\"output_index\":0,"
      "\"item\":{\"id\":\"msg_0_c\",\"type\":\"message\",\"status\":\"in_"
      "progress\",\"role\":\"assistant\",\"content\":[]},\"sequence_numbe"
      "r\":2}\n"
      "\n"
      "event: response.content_part.added\n"
      "data: {\"type\":\"response.content_part.added\",\"item_id\":\"msg_"
      "0_c\",\"output_index\":0,\"content_index\":0,\"part\":{\"type\":\""
      "output_text\",\"text\":\"\",\"annotations\":[]},\"sequence_number"
      "\":3}\n"
      "\n"
      "event: response.output_text.delta\n"
      "data: {\"type\":\"response.output_text.delta\",\"item_id\":\"msg_0"
      "_c\",\"output_index\":0,\"content_index\":0,\"delta\":\"x\",\"logp"
      "robs\":[],\"sequence_number\":4}\n"
      "\n"
      "event: response.failed\n"
      "data: {\"type\":\"response.failed\",\"response\":{\"id\":\"resp_c"
      "\",\"object\":\"response\",\"created_at\":7,\"incomplete_details\""
      ":null,\"instructions\":null,\"max_output_tokens\":null,\"model\":"
      "\"client-model\",\"output\":[],\"parallel_tool_calls\":true,\"prev"
      "ious_response_id\":null,\"reasoning\":{\"effort\":null,\"summary\""
      ":null},\"store\":false,\"text\":{\"format\":{\"type\":\"text\"}},"
      "\"tool_choice\":\"auto\",\"tools\":[],\"truncation\":\"disabled\","
      "\"usage\":null,\"user\":null,\"metadata\":{},\"status\":\"failed\""
      ",\"error\":{\"code\":\"rate_limit_exceeded\",\"message\":\"boom\"}"
      "},\"sequence_number\":5}\n"
      "\n",
      NGX_HTTP_LLM_XLATE_BAD },

    { "chat refusal stream", CHAT,
      "data: {\"id\":\"r\",\"created\":9,\"choices\":[{\"delta\":{\"refus"
      "al\":\"No\"}}]}\n"
      "\n"
      "data: {\"id\":\"r\",\"choices\":[{\"delta\":{},\"finish_reason\":"
      "\"stop\"}]}\n"
      "\n"
      "data: [DONE]\n"
      "\n",

      RESP_OPEN("resp_r", "9")
      "event: response.output_item.added\n"
      "data: {\"type\":\"response.output_item.added\",\"output_index\":0,"
      "\"item\":{\"id\":\"msg_0_r\",\"type\":\"message\",\"status\":\"in_"
      "progress\",\"role\":\"assistant\",\"content\":[]},\"sequence_numbe"
      "r\":2}\n"
      "\n"
      "event: response.content_part.added\n"
      "data: {\"type\":\"response.content_part.added\",\"item_id\":\"msg_"
      "0_r\",\"output_index\":0,\"content_index\":0,\"part\":{\"type\":\""
      "output_text\",\"text\":\"\",\"annotations\":[]},\"sequence_number"
      "\":3}\n"
      "\n"
      "event: response.output_text.delta\n"
      "data: {\"type\":\"response.output_text.delta\",\"item_id\":\"msg_0"
      "_r\",\"output_index\":0,\"content_index\":0,\"delta\":\"No\",\"log"
      "probs\":[],\"sequence_number\":4}\n"
      "\n"
      "event: response.output_text.done\n"
      "data: {\"type\":\"response.output_text.done\",\"item_id\":\"msg_0_"
      "r\",\"output_index\":0,\"content_index\":0,\"text\":\"No\",\"logpr"
      "obs\":[],\"sequence_number\":5}\n"
      "\n"
      "event: response.content_part.done\n"
      "data: {\"type\":\"response.content_part.done\",\"item_id\":\"msg_0"
      "_r\",\"output_index\":0,\"content_index\":0,\"part\":{\"type\":\"o"
      "utput_text\",\"text\":\"No\",\"annotations\":[]},\"sequence_number"
      "\":6}\n"
      "\n"
      "event: response.output_item.done\n"
      "data: {\"type\":\"response.output_item.done\",\"output_index\":0,"
      "\"item\":{\"id\":\"msg_0_r\",\"type\":\"message\",\"status\":\"com"
      "pleted\",\"role\":\"assistant\",\"content\":[{\"type\":\"output_te"
      "xt\",\"text\":\"No\",\"annotations\":[]}]},\"sequence_number\":7}"
      "\n"
      "\n"
      "event: response.completed\n"
      "data: {\"type\":\"response.completed\",\"response\":{\"id\":\"resp"
      "_r\",\"object\":\"response\",\"created_at\":9,\"status\":\"complet"
      "ed\",\"error\":null,\"incomplete_details\":null,\"instructions\":n"
      "ull,\"max_output_tokens\":null,\"model\":\"client-model\",\"output"
      "\":[{\"id\":\"msg_0_r\",\"type\":\"message\",\"status\":\"complete"
      "d\",\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\","
      "\"text\":\"No\",\"annotations\":[]}]}],\"parallel_tool_calls\":tru"
      "e,\"previous_response_id\":null,\"reasoning\":{\"effort\":null,\"s"
      "ummary\":null},\"store\":false,\"text\":{\"format\":{\"type\":\"te"
      "xt\"}},\"tool_choice\":\"auto\",\"tools\":[],\"truncation\":\"disa"
      "bled\",\"usage\":null,\"user\":null,\"metadata\":{}},\"sequence_nu"
      "mber\":8}\n"
      "\n",
      NGX_HTTP_LLM_XLATE_OK },

    { NULL, 0, NULL, NULL, 0 }
};


static void
test_requests(void)
{
    int                           rc;
    char                         *got;
    const req_case_t             *c;
    ngx_http_llm_xlate_conf_t     conf;
    ngx_http_llm_xlate_result_t   res;

    for (c = req_cases; c->name; c++) {
        memset(&conf, 0, sizeof(conf));
        conf.model = "target";
        conf.max_completion_tokens = c->mct;

        rc = ngx_http_llm_xlate_request(RESPONSES, c->to,
                                        (const unsigned char *) c->in,
                                        strlen(c->in), &conf, &res);

        check(rc == NGX_HTTP_LLM_XLATE_OK, c->name, "rc", NULL, NULL);
        check(res.status == c->status, c->name, "status", res.message,
              NULL);
        check(strcmp(res.param, c->param) == 0, c->name, "param", res.param,
              c->param);
        check(strcmp(res.dropped, c->dropped) == 0, c->name, "dropped",
              res.dropped, c->dropped);

        if (c->out) {
            got = malloc(res.body.len + 1);
            memcpy(got, res.body.data, res.body.len);
            got[res.body.len] = '\0';
            check(strcmp(got, c->out) == 0, c->name, "body", got, c->out);
            free(got);
        }

        ngx_http_llm_xlate_buf_free(&res.body);
    }
}


static void
test_bodies(const body_case_t *cases, int error)
{
    int                        rc;
    char                      *got;
    const body_case_t         *c;
    ngx_http_llm_xlate_buf_t   out;

    for (c = cases; c->name; c++) {
        memset(&out, 0, sizeof(out));

        if (error) {
            rc = ngx_http_llm_xlate_error(c->from, RESPONSES, 429,
                                          (const unsigned char *) c->in,
                                          strlen(c->in), &out);
        } else {
            rc = ngx_http_llm_xlate_response(c->from, RESPONSES,
                                             (const unsigned char *) c->in,
                                             strlen(c->in), "client-model",
                                             1700000000, &out);
        }

        ngx_http_llm_xlate_buf_append(&out, "", 1);
        got = (char *) out.data;

        check(rc == NGX_HTTP_LLM_XLATE_OK && strcmp(got, c->out) == 0,
              c->name, "answer", got, c->out);

        ngx_http_llm_xlate_buf_free(&out);
    }
}


/* feeds in[0..n) in pieces cut at the given points; returns the output */

static char *
sse_run(const sse_case_t *c, const size_t *cuts, size_t ncuts, int *rc_end)
{
    size_t                     i, from, to, n;
    ngx_http_llm_xlate_sse_t   s;
    ngx_http_llm_xlate_buf_t   out;

    n = strlen(c->in);
    memset(&out, 0, sizeof(out));

    ngx_http_llm_xlate_sse_init(&s, c->from, RESPONSES, "client-model", 0,
                                1700000000);

    from = 0;

    for (i = 0; i <= ncuts; i++) {
        to = (i < ncuts) ? cuts[i] : n;
        ngx_http_llm_xlate_sse_feed(&s, (const unsigned char *) c->in + from,
                                    to - from, &out);
        from = to;
    }

    *rc_end = ngx_http_llm_xlate_sse_end(&s, &out);
    ngx_http_llm_xlate_sse_free(&s);
    ngx_http_llm_xlate_buf_append(&out, "", 1);

    return (char *) out.data;
}


static void
test_sse(void)
{
    int                rc;
    char              *got, name[128];
    size_t             i, n, *cuts;
    const sse_case_t  *c;

    for (c = sse_cases; c->name; c++) {
        n = strlen(c->in);

        got = sse_run(c, NULL, 0, &rc);
        check(strcmp(got, c->out) == 0, c->name, "whole", got, c->out);
        check(rc == c->rc_end, c->name, "end", NULL, NULL);
        free(got);

        for (i = 1; i < n; i++) {
            got = sse_run(c, &i, 1, &rc);
            snprintf(name, sizeof(name), "%s (cut at %zu)", c->name, i);
            check(strcmp(got, c->out) == 0 && rc == c->rc_end, name,
                  "split", got, c->out);
            free(got);
        }

        cuts = malloc(n * sizeof(size_t));
        for (i = 0; i + 1 < n; i++) {
            cuts[i] = i + 1;
        }

        got = sse_run(c, cuts, n ? n - 1 : 0, &rc);
        snprintf(name, sizeof(name), "%s (bytewise)", c->name);
        check(strcmp(got, c->out) == 0 && rc == c->rc_end, name, "bytes",
              got, c->out);
        free(got);
        free(cuts);
    }
}


/*
 * An answer larger than NGX_HTTP_LLM_XLATE_OUTPUT_MAX: the stream ends
 * with response.failed and the kept text stops growing.
 */

static void
test_output_bound(void)
{
    int                        rc;
    char                      *ev;
    size_t                     i, n, size;
    ngx_http_llm_xlate_sse_t   s;
    ngx_http_llm_xlate_buf_t   out;

    size = 512 * 1024;
    ev = malloc(size + 128);
    n = (size_t) sprintf(ev, "data: {\"id\":\"c\",\"choices\":[{\"delta\":"
                         "{\"content\":\"");
    memset(ev + n, 'a', size);
    n += size;
    n += (size_t) sprintf(ev + n, "\"}}]}\n\n");

    memset(&out, 0, sizeof(out));
    ngx_http_llm_xlate_sse_init(&s, CHAT, RESPONSES, "m", 0, 1);

    for (i = 0; i < 40 && !s.failed; i++) {
        out.len = 0;
        rc = ngx_http_llm_xlate_sse_feed(&s, (unsigned char *) ev, n, &out);
        check(rc == NGX_HTTP_LLM_XLATE_OK, "output bound", "feed", NULL,
              NULL);
    }

    check(s.failed && i == NGX_HTTP_LLM_XLATE_OUTPUT_MAX / size + 1,
          "output bound", "failed at the bound", NULL, NULL);
    check(s.rsp->text.len + s.rsp->items.len <= NGX_HTTP_LLM_XLATE_OUTPUT_MAX,
          "output bound", "kept", NULL, NULL);
    check(out.len > 16 && memcmp(out.data, "event: response.failed\n", 23)
                          == 0,
          "output bound", "response.failed", NULL, NULL);

    rc = ngx_http_llm_xlate_sse_end(&s, &out);
    check(rc == NGX_HTTP_LLM_XLATE_BAD, "output bound", "end", NULL, NULL);

    ngx_http_llm_xlate_sse_free(&s);
    ngx_http_llm_xlate_buf_free(&out);
    free(ev);

    check(ngx_http_llm_xlate_supported(RESPONSES, CHAT)
          && ngx_http_llm_xlate_supported(RESPONSES, MESSAGES)
          && !ngx_http_llm_xlate_supported(RESPONSES, RESPONSES)
          && !ngx_http_llm_xlate_supported(CHAT, RESPONSES)
          && ngx_http_llm_xlate_format("responses", 9) == RESPONSES,
          "supported", "pairs", NULL, NULL);
}


int
main(void)
{
    test_requests();
    test_bodies(resp_cases, 0);
    test_bodies(err_cases, 1);
    test_sse();
    test_output_bound();

    printf("%lu passed, %lu failed\n", passed, failed);

    return failed ? 1 : 0;
}
