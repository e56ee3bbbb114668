/*
 * Deterministic tests of the API translators (src/ngx_http_llm_router_xlate*):
 * request bodies, answers, errors and SSE streams of every pair, byte for
 * byte; every stream is also fed split at every byte position and one
 * byte at a time, which must give the same output.
 *
 * The last line is "N passed, N failed"; the exit code is non-zero on
 * failure.
 */

#define _POSIX_C_SOURCE  200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_llm_router_xlate.h"


#define CHAT      NGX_HTTP_LLM_XLATE_CHAT
#define MESSAGES  NGX_HTTP_LLM_XLATE_MESSAGES
#define GEMINI    NGX_HTTP_LLM_XLATE_GEMINI


typedef struct {
    const char  *name;
    int          from;
    int          to;
    const char  *in;
    const char  *out;        /* expected body, or NULL */
    int          status;     /* expected refusal */
    const char  *param;
    const char  *dropped;
    int64_t      max_default;
    int          mct;        /* max_completion_tokens */
} req_case_t;


typedef struct {
    const char  *name;
    int          from;       /* provider's format */
    int          to;         /* client's */
    int          include_usage;
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

    /* OpenAI chat -> Anthropic messages */

    { "chat basic", CHAT, MESSAGES,
      "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"system\","
      "\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":\"Hi\"}],"
      "\"max_tokens\":100,\"temperature\":0.5,\"top_p\":0.9,"
      "\"stop\":\"END\",\"stream\":true,"
      "\"stream_options\":{\"include_usage\":true}}",
      "{\"model\":\"claude-x\",\"messages\":[{\"role\":\"user\","
      "\"content\":[{\"type\":\"text\",\"text\":\"Hi\"}]}],"
      "\"system\":[{\"type\":\"text\",\"text\":\"Be brief.\"}],"
      "\"temperature\":0.5,\"top_p\":0.9,\"stop_sequences\":[\"END\"],"
      "\"stream\":true,\"max_tokens\":100}",
      0, NULL, "", 0, 0 },

    { "chat default max_tokens", CHAT, MESSAGES,
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
      "{\"model\":\"claude-x\",\"messages\":[{\"role\":\"user\","
      "\"content\":[{\"type\":\"text\",\"text\":\"x\"}]}],"
      "\"max_tokens\":4096}",
      0, NULL, "", 0, 0 },

    { "chat max_tokens_default", CHAT, MESSAGES,
      "{\"model\":\"m\",\"max_completion_tokens\":7,\"max_tokens\":9,"
      "\"messages\":[{\"role\":\"developer\",\"content\":[{\"type\":\"text\","
      "\"text\":\"A\"},{\"type\":\"text\",\"text\":\"B\"}]},"
      "{\"role\":\"user\",\"content\":\"x\"}]}",
      "{\"model\":\"claude-x\",\"messages\":[{\"role\":\"user\","
      "\"content\":[{\"type\":\"text\",\"text\":\"x\"}]}],"
      "\"system\":[{\"type\":\"text\",\"text\":\"A\"},{\"type\":\"text\","
      "\"text\":\"B\"}],\"max_tokens\":7}",
      0, NULL, "", 1000, 0 },

    { "chat tools", CHAT, MESSAGES,
      "{\"model\":\"m\",\"messages\":["
      "{\"role\":\"user\",\"content\":\"weather?\"},"
      "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":"
      "\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"get\","
      "\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}},{\"id\":\"call_2\","
      "\"type\":\"function\",\"function\":{\"name\":\"now\",\"arguments\":"
      "\"\"}}]},"
      "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":\"20C\"},"
      "{\"role\":\"tool\",\"tool_call_id\":\"call_2\",\"content\":[{\"type\":"
      "\"text\",\"text\":\"noon\"}]},"
      "{\"role\":\"user\",\"content\":\"thanks\"}],"
      "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get\","
      "\"description\":\"Weather\",\"parameters\":{\"type\":\"object\","
      "\"properties\":{\"city\":{\"type\":\"string\"}}},\"strict\":true}},"
      "{\"type\":\"function\",\"function\":{\"name\":\"now\"}}],"
      "\"tool_choice\":\"required\",\"parallel_tool_calls\":false}",
      "{\"model\":\"claude-x\",\"messages\":["
      "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":"
      "\"weather?\"}]},"
      "{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":"
      "\"call_1\",\"name\":\"get\",\"input\":{\"city\":\"Paris\"}},{\"type\":"
      "\"tool_use\",\"id\":\"call_2\",\"name\":\"now\",\"input\":{}}]},"
      "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\","
      "\"tool_use_id\":\"call_1\",\"content\":\"20C\"},{\"type\":"
      "\"tool_result\",\"tool_use_id\":\"call_2\",\"content\":[{\"type\":"
      "\"text\",\"text\":\"noon\"}]},{\"type\":\"text\",\"text\":\"thanks\"}]}"
      "],\"tools\":[{\"name\":\"get\",\"description\":\"Weather\","
      "\"input_schema\":{\"type\":\"object\",\"properties\":{\"city\":"
      "{\"type\":\"string\"}}}},{\"name\":\"now\",\"input_schema\":"
      "{\"type\":\"object\"}}],\"max_tokens\":4096,\"tool_choice\":{\"type\":"
      "\"any\",\"disable_parallel_tool_use\":true}}",
      0, NULL, "strict", 0, 0 },

    { "chat images", CHAT, MESSAGES,
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":["
      "{\"type\":\"text\",\"text\":\"What?\"},{\"type\":\"image_url\","
      "\"image_url\":{\"url\":\"data:image/png;base64,iVBOR\",\"detail\":"
      "\"high\"}},{\"type\":\"image_url\",\"image_url\":{\"url\":"
      "\"https://x/y.jpg\"}}]}],\"tool_choice\":{\"type\":\"function\","
      "\"function\":{\"name\":\"f\"}}}",
      "{\"model\":\"claude-x\",\"messages\":[{\"role\":\"user\",\"content\":["
      "{\"type\":\"text\",\"text\":\"What?\"},{\"type\":\"image\",\"source\":"
      "{\"type\":\"base64\",\"media_type\":\"image/png\",\"data\":\"iVBOR\"}},"
      "{\"type\":\"image\",\"source\":{\"type\":\"url\",\"url\":"
      "\"https://x/y.jpg\"}}]}],\"max_tokens\":4096,\"tool_choice\":{\"type\":"
      "\"tool\",\"name\":\"f\"}}",
      0, NULL, "detail", 0, 0 },

    { "chat drops", CHAT, MESSAGES,
      "{\"model\":\"m\",\"messages\":[],\"seed\":1,\"metadata\":{},"
      "\"frobnicate\":2,\"seed\":3,\"n\":1,\"logprobs\":false,\"user\":\"u1\","
      "\"response_format\":{\"type\":\"text\"},\"temperature\":null}",
      "{\"model\":\"claude-x\",\"messages\":[],\"metadata\":{\"user_id\":"
      "\"u1\"},\"max_tokens\":4096}",
      0, NULL, "seed, metadata, frobnicate", 0, 0 },

    { "chat reasoning", CHAT, MESSAGES,
      "{\"model\":\"m\",\"messages\":[],\"reasoning_effort\":\"low\","
      "\"temperature\":0.2,\"max_tokens\":500}",
      "{\"model\":\"claude-x\",\"messages\":[],\"thinking\":{\"type\":"
      "\"enabled\",\"budget_tokens\":1024},\"max_tokens\":1524}",
      0, NULL, "temperature", 0, 0 },

    { "chat n", CHAT, MESSAGES,
      "{\"model\":\"m\",\"messages\":[],\"n\":2}", NULL, 400, "n", "", 0, 0 },
    { "chat logprobs", CHAT, MESSAGES,
      "{\"model\":\"m\",\"messages\":[],\"logprobs\":true}", NULL, 400,
      "logprobs", "", 0, 0 },
    { "chat json mode", CHAT, MESSAGES,
      "{\"model\":\"m\",\"messages\":[],\"response_format\":{\"type\":"
      "\"json_object\"}}", NULL, 400, "response_format", "", 0, 0 },
    { "chat temperature 2", CHAT, MESSAGES,
      "{\"model\":\"m\",\"messages\":[],\"temperature\":1.5}", NULL, 400,
      "temperature", "", 0, 0 },
    { "chat audio", CHAT, MESSAGES,
      "{\"model\":\"m\",\"messages\":[],\"audio\":{}}", NULL, 400, "audio",
      "", 0, 0 },
    { "chat bad role", CHAT, MESSAGES,
      "{\"model\":\"m\",\"messages\":[{\"role\":\"wizard\",\"content\":\"\"}"
      "]}", NULL, 400, "messages[0].role", "", 0, 0 },
    { "chat bad arguments", CHAT, MESSAGES,
      "{\"model\":\"m\",\"messages\":[{\"role\":\"assistant\",\"tool_calls\":"
      "[{\"id\":\"a\",\"function\":{\"name\":\"f\",\"arguments\":\"[1\"}}]}]}",
      NULL, 400, "messages[0].tool_calls[0].function.arguments", "", 0, 0 },
    { "chat audio part", CHAT, MESSAGES,
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{"
      "\"type\":\"input_audio\"}]}]}", NULL, 400, "messages[0].content[0]",
      "", 0, 0 },

    /* Anthropic messages -> OpenAI chat */

    { "messages basic", MESSAGES, CHAT,
      "{\"model\":\"claude\",\"max_tokens\":1024,\"system\":[{\"type\":"
      "\"text\",\"text\":\"You are Claude Code.\",\"cache_control\":{"
      "\"type\":\"ephemeral\"}},{\"type\":\"text\",\"text\":\"Be good.\"}],"
      "\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}],"
      "\"stop_sequences\":[\"X\"],\"temperature\":1,\"stream\":true,"
      "\"metadata\":{\"user_id\":\"u\"},\"thinking\":{\"type\":\"enabled\","
      "\"budget_tokens\":2000}}",
      "{\"model\":\"gpt-x\",\"max_tokens\":1024,\"messages\":[{\"role\":"
      "\"system\",\"content\":\"You are Claude Code.\\n\\nBe good.\"},"
      "{\"role\":\"user\",\"content\":\"Hello\"}],\"stop\":[\"X\"],"
      "\"temperature\":1,\"stream\":true,\"stream_options\":{"
      "\"include_usage\":true}}",
      0, NULL, "cache_control, metadata, thinking", 0, 0 },

    { "messages tools", MESSAGES, CHAT,
      "{\"model\":\"claude\",\"max_tokens\":10,\"messages\":["
      "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\"},"
      "{\"type\":\"text\",\"text\":\"b\"}]},"
      "{\"role\":\"assistant\",\"content\":[{\"type\":\"thinking\","
      "\"thinking\":\"hm\",\"signature\":\"s\"},{\"type\":\"text\",\"text\":"
      "\"Let me look.\"},{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":"
      "\"read\",\"input\":{\"path\":\"/x\"}}]},"
      "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\","
      "\"tool_use_id\":\"toolu_1\",\"content\":[{\"type\":\"text\",\"text\":"
      "\"data\"}],\"is_error\":true},{\"type\":\"text\",\"text\":\"go on\"}]}"
      "],\"tools\":[{\"name\":\"read\",\"description\":\"Read\","
      "\"input_schema\":{\"type\":\"object\"}},{\"type\":"
      "\"web_search_20250305\",\"name\":\"web_search\"}],"
      "\"tool_choice\":{\"type\":\"any\",\"disable_parallel_tool_use\":true}}",
      "{\"model\":\"gpt-x\",\"max_completion_tokens\":10,\"messages\":["
      "{\"role\":\"user\",\"content\":\"a\\n\\nb\"},"
      "{\"role\":\"assistant\",\"content\":\"Let me look.\",\"tool_calls\":["
      "{\"id\":\"toolu_1\",\"type\":\"function\",\"function\":{\"name\":"
      "\"read\",\"arguments\":\"{\\\"path\\\":\\\"/x\\\"}\"}}]},"
      "{\"role\":\"tool\",\"tool_call_id\":\"toolu_1\",\"content\":\"data\"},"
      "{\"role\":\"user\",\"content\":\"go on\"}],"
      "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"read\","
      "\"description\":\"Read\",\"parameters\":{\"type\":\"object\"}}}],"
      "\"tool_choice\":\"required\",\"parallel_tool_calls\":false}",
      0, NULL, "thinking, is_error, web_search_20250305", 0, 1 },

    { "messages images", MESSAGES, CHAT,
      "{\"model\":\"claude\",\"max_tokens\":10,\"messages\":["
      "{\"role\":\"user\",\"content\":[{\"type\":\"image\",\"source\":{"
      "\"type\":\"base64\",\"media_type\":\"image/jpeg\",\"data\":\"/9j/\"}},"
      "{\"type\":\"image\",\"source\":{\"type\":\"url\",\"url\":"
      "\"https://x/a.png\"}},{\"type\":\"document\",\"source\":{\"type\":"
      "\"base64\",\"media_type\":\"application/pdf\",\"data\":\"JVBER\"}},"
      "{\"type\":\"text\",\"text\":\"Describe\"}]}]}",
      "{\"model\":\"gpt-x\",\"max_tokens\":10,\"messages\":[{\"role\":"
      "\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":"
      "\"data:image/jpeg;base64,/9j/\"}},{\"type\":\"image_url\","
      "\"image_url\":{\"url\":\"https://x/a.png\"}},{\"type\":\"file\","
      "\"file\":{\"filename\":\"document.pdf\",\"file_data\":"
      "\"data:application/pdf;base64,JVBER\"}},{\"type\":\"text\",\"text\":"
      "\"Describe\"}]}]}",
      0, NULL, "", 0, 0 },

    { "messages hosted tools only", MESSAGES, CHAT,
      "{\"model\":\"claude\",\"max_tokens\":10,\"messages\":[],\"tools\":[{"
      "\"type\":\"bash_20250124\",\"name\":\"bash\"}],\"tool_choice\":{"
      "\"type\":\"auto\"}}",
      "{\"model\":\"gpt-x\",\"max_tokens\":10,\"messages\":[]}",
      0, NULL, "bash_20250124, tool_choice", 0, 0 },

    { "empty member name", CHAT, MESSAGES,
      "{\"model\":\"m\",\"\":1,\"messages\":[],\"\":2}",
      "{\"model\":\"claude-x\",\"messages\":[],\"max_tokens\":4096}",
      0, NULL, "\"\"", 0, 0 },

    { "messages top_k", MESSAGES, CHAT,
      "{\"model\":\"c\",\"max_tokens\":1,\"messages\":[],\"top_k\":5}", NULL,
      400, "top_k", "", 0, 0 },
    { "messages bad role", MESSAGES, CHAT,
      "{\"model\":\"c\",\"max_tokens\":1,\"messages\":[{\"role\":\"system\","
      "\"content\":\"x\"}]}", NULL, 400, "messages[0].role", "", 0, 0 },
    { "messages max_tokens", MESSAGES, CHAT,
      "{\"model\":\"c\",\"max_tokens\":0,\"messages\":[]}", NULL, 400,
      "max_tokens", "", 0, 0 },

    /* OpenAI chat and Anthropic messages (through chat) -> Gemini */

    { "gemini chat full", CHAT, GEMINI,
      "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"system\",\"content"
      "\":\"Be brief.\"},{\"role\":\"user\",\"content\":[{\"type\":\"text"
      "\",\"text\":\"What is this?\"},{\"type\":\"image_url\",\"image_url"
      "\":{\"url\":\"data:image/png;base64,iVBOR\",\"detail\":\"high\"}},"
      "{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://x.test/ca"
      "t.JPG?s=1\"}}]},{\"role\":\"assistant\",\"content\":null,\"tool_ca"
      "lls\":[{\"id\":\"call_a\",\"type\":\"function\",\"function\":{\"na"
      "me\":\"get\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}]},{"
      "\"role\":\"tool\",\"tool_call_id\":\"call_a\",\"content\":\"20C\"}"
      ",{\"role\":\"user\",\"content\":\"thanks\"}],\"max_tokens\":100,\""
      "temperature\":0.5,\"top_p\":0.9,\"stop\":\"END\",\"stream\":true,"
      "\"stream_options\":{\"include_usage\":true},\"tools\":[{\"type\":"
      "\"function\",\"function\":{\"name\":\"get\",\"description\":\"Weat"
      "her\",\"parameters\":{\"type\":\"object\",\"properties\":{\"city\""
      ":{\"type\":\"string\"}},\"additionalProperties\":false},\"strict\""
      ":true}}],\"tool_choice\":{\"type\":\"function\",\"function\":{\"na"
      "me\":\"get\"}},\"user\":\"u1\",\"seed\":3,\"reasoning_effort\":\"l"
      "ow\"}\n",
      "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"What is t"
      "his?\"},{\"inlineData\":{\"mimeType\":\"image/png\",\"data\":\"iVB"
      "OR\"}},{\"fileData\":{\"mimeType\":\"image/jpeg\",\"fileUri\":\"ht"
      "tps://x.test/cat.JPG?s=1\"}}]},{\"role\":\"model\",\"parts\":[{\"f"
      "unctionCall\":{\"name\":\"get\",\"args\":{\"city\":\"Paris\"}}}]},"
      "{\"role\":\"user\",\"parts\":[{\"functionResponse\":{\"name\":\"ge"
      "t\",\"response\":{\"output\":\"20C\"}}},{\"text\":\"thanks\"}]}],"
      "\"systemInstruction\":{\"parts\":[{\"text\":\"Be brief.\"}]},\"gen"
      "erationConfig\":{\"temperature\":0.5,\"topP\":0.9,\"stopSequences"
      "\":[\"END\"],\"seed\":3,\"maxOutputTokens\":100,\"thinkingConfig\""
      ":{\"thinkingBudget\":1024,\"includeThoughts\":true}},\"tools\":[{"
      "\"functionDeclarations\":[{\"name\":\"get\",\"description\":\"Weat"
      "her\",\"parametersJsonSchema\":{\"type\":\"object\",\"properties\""
      ":{\"city\":{\"type\":\"string\"}},\"additionalProperties\":false}}"
      "]}],\"toolConfig\":{\"functionCallingConfig\":{\"mode\":\"ANY\",\""
      "allowedFunctionNames\":[\"get\"]}}}",
      0, NULL, "detail, strict, user", 0, 0 },

    { "gemini messages through chat", MESSAGES, GEMINI,
      "{\"model\":\"claude-x\",\"max_tokens\":200,\"system\":[{\"type\":"
      "\"text\",\"text\":\"Sys\",\"cache_control\":{\"type\":\"ephemeral"
      "\"}}],\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"te"
      "xt\",\"text\":\"Look\"},{\"type\":\"image\",\"source\":{\"type\":"
      "\"base64\",\"media_type\":\"image/jpeg\",\"data\":\"/9j/\"}}]},{\""
      "role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"Ca"
      "lling\"},{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"get"
      "\",\"input\":{\"city\":\"Rome\"}}]},{\"role\":\"user\",\"content\""
      ":[{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_1\",\"content"
      "\":\"25C\"}]}],\"tools\":[{\"name\":\"get\",\"description\":\"W\","
      "\"input_schema\":{\"type\":\"object\",\"properties\":{\"city\":{\""
      "type\":\"string\"}}}}],\"tool_choice\":{\"type\":\"auto\"},\"top_k"
      "\":40,\"thinking\":{\"type\":\"enabled\",\"budget_tokens\":2048},"
      "\"stop_sequences\":[\"X\"],\"stream\":true,\"metadata\":{\"user_id"
      "\":\"u\"}}\n",
      "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Look\"},{"
      "\"inlineData\":{\"mimeType\":\"image/jpeg\",\"data\":\"/9j/\"}}]},"
      "{\"role\":\"model\",\"parts\":[{\"text\":\"Calling\"},{\"functionC"
      "all\":{\"name\":\"get\",\"args\":{\"city\":\"Rome\"}}}]},{\"role\""
      ":\"user\",\"parts\":[{\"functionResponse\":{\"name\":\"get\",\"res"
      "ponse\":{\"output\":\"25C\"}}}]}],\"systemInstruction\":{\"parts\""
      ":[{\"text\":\"Sys\"}]},\"tools\":[{\"functionDeclarations\":[{\"na"
      "me\":\"get\",\"description\":\"W\",\"parametersJsonSchema\":{\"typ"
      "e\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}}]}"
      "],\"generationConfig\":{\"stopSequences\":[\"X\"],\"topK\":40,\"ma"
      "xOutputTokens\":200,\"thinkingConfig\":{\"thinkingBudget\":2048,\""
      "includeThoughts\":true}},\"toolConfig\":{\"functionCallingConfig\""
      ":{\"mode\":\"AUTO\"}}}",
      0, NULL, "cache_control, metadata", 0, 0 },

    { "gemini json_schema, tool_choice none", CHAT, GEMINI,
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x"
      "\"}],\"response_format\":{\"type\":\"json_schema\",\"json_schema\""
      ":{\"name\":\"s\",\"schema\":{\"type\":\"object\"}}},\"tool_choice"
      "\":\"none\",\"tools\":[{\"type\":\"function\",\"function\":{\"name"
      "\":\"f\"}}],\"parallel_tool_calls\":false,\"presence_penalty\":0.5"
      ",\"reasoning_effort\":\"none\",\"metadata\":{\"a\":\"b\"},\"messag"
      "es_extra\":1}",
      "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"x\"}]}],"
      "\"generationConfig\":{\"responseMimeType\":\"application/json\",\""
      "responseJsonSchema\":{\"type\":\"object\"},\"presencePenalty\":0.5"
      ",\"thinkingConfig\":{\"thinkingBudget\":0}},\"tools\":[{\"function"
      "Declarations\":[{\"name\":\"f\"}]}],\"toolConfig\":{\"functionCall"
      "ingConfig\":{\"mode\":\"NONE\"}}}",
      0, NULL, "parallel_tool_calls, metadata, messages_extra", 0, 0 },

    { "gemini-3 call history", CHAT, GEMINI,
      "{\"model\":\"m\",\"messages\":[{\"role\":\"assistant\",\"tool_calls\":"
      "[{\"id\":\"a\",\"type\":\"function\",\"function\":{\"name\":\"f\","
      "\"arguments\":\"{}\"}}]},{\"role\":\"tool\",\"tool_call_id\":\"a\","
      "\"content\":\"ok\"}]}",
      "{\"contents\":[{\"role\":\"model\",\"parts\":[{\"functionCall\":{"
      "\"name\":\"f\",\"args\":{}},\"thoughtSignature\":"
      "\"skip_thought_signature_validator\"}]},{\"role\":\"user\","
      "\"parts\":[{\"functionResponse\":{\"name\":\"f\",\"response\":"
      "{\"output\":\"ok\"}}}]}]}",
      0, NULL, "", 0, 0 },

    { "gemini n", CHAT, GEMINI,
      "{\"model\":\"m\",\"n\":3,\"messages\":[]}", NULL,
      400, "n", "", 0, 0 },

    { "gemini logprobs", CHAT, GEMINI,
      "{\"model\":\"m\",\"top_logprobs\":2,\"messages\":[]}", NULL,
      400, "top_logprobs", "", 0, 0 },

    { "gemini unknown call id", CHAT, GEMINI,
      "{\"model\":\"m\",\"messages\":[{\"role\":\"assistant\",\"tool_call"
      "s\":[{\"id\":\"a\",\"type\":\"function\",\"function\":{\"name\":\""
      "f\",\"arguments\":\"{}\"}}]},{\"role\":\"tool\",\"tool_call_id\":"
      "\"b\",\"content\":\"x\"}]}", NULL,
      400, "messages[1].tool_call_id", "", 0, 0 },

    { "gemini image scheme", CHAT, GEMINI,
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\""
      "type\":\"image_url\",\"image_url\":{\"url\":\"file:///etc/passwd\""
      "}}]}]}", NULL,
      400, "messages[0].content[0]", "", 0, 0 },

    { "gemini file id", CHAT, GEMINI,
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\""
      "type\":\"file\",\"file\":{\"file_id\":\"file-1\"}}]}]}", NULL,
      400, "messages[0].content[0]", "", 0, 0 },

    { "gemini bad args", CHAT, GEMINI,
      "{\"model\":\"m\",\"messages\":[{\"role\":\"assistant\",\"tool_call"
      "s\":[{\"id\":\"a\",\"type\":\"function\",\"function\":{\"name\":\""
      "f\",\"arguments\":\"[1]\"}}]}]}", NULL,
      400, "messages[0].tool_calls[0].function.arguments", "", 0, 0 },

    { NULL, 0, 0, NULL, NULL, 0, NULL, NULL, 0, 0 }
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
        conf.model = (c->to == MESSAGES) ? "claude-x"
                     : strstr(c->name, "gemini-3") ? "gemini-3-flash-preview"
                     : "gpt-x";
        conf.max_tokens_default = c->max_default;
        conf.max_completion_tokens = c->mct;

        rc = ngx_http_llm_xlate_request(c->from, c->to,
                                        (const unsigned char *) c->in,
                                        strlen(c->in), &conf, &res);

        check(rc == NGX_HTTP_LLM_XLATE_OK, c->name, "rc", NULL, NULL);
        check(res.status == c->status, c->name, "status", res.message, "");

        if (c->status) {
            check(strcmp(res.param, c->param) == 0, c->name, "param",
                  res.param, c->param);
            check(res.body.data == NULL, c->name, "no body", NULL, NULL);

        } else {
            got = res.body.data ? (char *) res.body.data : NULL;
            check(got && strcmp(got, c->out) == 0, c->name, "body", got,
                  c->out);
            check(strcmp(res.dropped, c->dropped) == 0, c->name, "dropped",
                  res.dropped, c->dropped);
        }

        ngx_http_llm_xlate_buf_free(&res.body);
    }
}


typedef struct {
    const char  *name;
    int          from;       /* provider */
    int          to;         /* client */
    const char  *in;
    const char  *out;
} resp_case_t;


static const resp_case_t  resp_cases[] = {

    { "anthropic answer", MESSAGES, CHAT,
      "{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\","
      "\"model\":\"claude-x\",\"content\":[{\"type\":\"thinking\","
      "\"thinking\":\"T\",\"signature\":\"S\"},{\"type\":\"text\",\"text\":"
      "\"Hi \"},{\"type\":\"text\",\"text\":\"there\"},{\"type\":\"tool_use\","
      "\"id\":\"toolu_1\",\"name\":\"f\",\"input\":{\"a\":1}}],"
      "\"stop_reason\":\"tool_use\",\"stop_sequence\":null,\"usage\":{"
      "\"input_tokens\":10,\"cache_read_input_tokens\":100,"
      "\"cache_creation_input_tokens\":5,\"output_tokens\":7}}",
      "{\"id\":\"msg_1\",\"object\":\"chat.completion\",\"created\":1700000000,"
      "\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"message\":{\"role\":"
      "\"assistant\",\"content\":\"Hi there\",\"reasoning_content\":\"T\","
      "\"tool_calls\":[{\"index\":0,\"id\":\"toolu_1\",\"type\":\"function\","
      "\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"a\\\":1}\"}}]},"
      "\"logprobs\":null,\"finish_reason\":\"tool_calls\"}],\"usage\":{"
      "\"prompt_tokens\":115,\"completion_tokens\":7,\"total_tokens\":122,"
      "\"prompt_tokens_details\":{\"cached_tokens\":100}}}" },

    { "anthropic max_tokens", MESSAGES, CHAT,
      "{\"id\":\"msg_2\",\"content\":[],\"stop_reason\":\"max_tokens\"}",
      "{\"id\":\"msg_2\",\"object\":\"chat.completion\",\"created\":1700000000,"
      "\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"message\":{\"role\":"
      "\"assistant\",\"content\":null},\"logprobs\":null,\"finish_reason\":"
      "\"length\"}],\"usage\":{\"prompt_tokens\":0,\"completion_tokens\":0,"
      "\"total_tokens\":0,\"prompt_tokens_details\":{\"cached_tokens\":0}}}" },

    { "openai answer", CHAT, MESSAGES,
      "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,"
      "\"model\":\"gpt-4o-2024\",\"choices\":[{\"index\":0,\"message\":{"
      "\"role\":\"assistant\",\"content\":\"Sure.\",\"tool_calls\":[{\"id\":"
      "\"call_9\",\"type\":\"function\",\"function\":{\"name\":\"g\","
      "\"arguments\":\"{\\\"q\\\":\\\"x\\\"}\"}}]},\"finish_reason\":"
      "\"tool_calls\"}],\"usage\":{\"prompt_tokens\":50,\"completion_tokens\":"
      "5,\"total_tokens\":55,\"prompt_tokens_details\":{\"cached_tokens\":"
      "20}}}",
      "{\"id\":\"chatcmpl-1\",\"type\":\"message\",\"role\":\"assistant\","
      "\"model\":\"claude-sonnet\",\"content\":[{\"type\":\"text\",\"text\":"
      "\"Sure.\"},{\"type\":\"tool_use\",\"id\":\"call_9\",\"name\":\"g\","
      "\"input\":{\"q\":\"x\"}}],\"stop_reason\":\"tool_use\","
      "\"stop_sequence\":null,\"usage\":{\"input_tokens\":30,"
      "\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":20,"
      "\"output_tokens\":5}}" },

    { "deepseek reasoning", CHAT, MESSAGES,
      "{\"id\":\"x\",\"choices\":[{\"message\":{\"content\":\"4\","
      "\"reasoning_content\":\"2+2\"},\"finish_reason\":\"length\"}]}",
      "{\"id\":\"x\",\"type\":\"message\",\"role\":\"assistant\",\"model\":"
      "\"claude-sonnet\",\"content\":[{\"type\":\"thinking\",\"thinking\":"
      "\"2+2\",\"signature\":\"\"},{\"type\":\"text\",\"text\":\"4\"}],"
      "\"stop_reason\":\"max_tokens\",\"stop_sequence\":null,\"usage\":{"
      "\"input_tokens\":0,\"cache_creation_input_tokens\":0,"
      "\"cache_read_input_tokens\":0,\"output_tokens\":0}}" },

    { "gemini answer -> chat", GEMINI, CHAT,
      "{\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"te"
      "xt\":\"Let me think\",\"thought\":true},{\"text\":\"Hello \"},{\"t"
      "ext\":\"world\"},{\"functionCall\":{\"name\":\"get\",\"args\":{\"c"
      "ity\":\"Paris\"}}}]},\"finishReason\":\"STOP\",\"index\":0}],\"usa"
      "geMetadata\":{\"promptTokenCount\":120,\"candidatesTokenCount\":30"
      ",\"totalTokenCount\":175,\"cachedContentTokenCount\":100,\"thought"
      "sTokenCount\":25},\"modelVersion\":\"gemini-2.5-flash\",\"response"
      "Id\":\"abc123\"}\n",
      "{\"id\":\"chatcmpl-abc123\",\"object\":\"chat.completion\",\"creat"
      "ed\":1700000000,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"m"
      "essage\":{\"role\":\"assistant\",\"content\":\"Hello world\",\"rea"
      "soning_content\":\"Let me think\",\"tool_calls\":[{\"index\":0,\"i"
      "d\":\"call_abc123_0\",\"type\":\"function\",\"function\":{\"name\""
      ":\"get\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}]},\"logp"
      "robs\":null,\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt"
      "_tokens\":120,\"completion_tokens\":55,\"total_tokens\":175,\"prom"
      "pt_tokens_details\":{\"cached_tokens\":100},\"completion_tokens_de"
      "tails\":{\"reasoning_tokens\":25}}}" },

    { "gemini answer -> messages", GEMINI, MESSAGES,
      "{\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"te"
      "xt\":\"Let me think\",\"thought\":true},{\"text\":\"Hello \"},{\"t"
      "ext\":\"world\"},{\"functionCall\":{\"name\":\"get\",\"args\":{\"c"
      "ity\":\"Paris\"}}}]},\"finishReason\":\"STOP\",\"index\":0}],\"usa"
      "geMetadata\":{\"promptTokenCount\":120,\"candidatesTokenCount\":30"
      ",\"totalTokenCount\":175,\"cachedContentTokenCount\":100,\"thought"
      "sTokenCount\":25},\"modelVersion\":\"gemini-2.5-flash\",\"response"
      "Id\":\"abc123\"}\n",
      "{\"id\":\"msg_abc123\",\"type\":\"message\",\"role\":\"assistant\""
      ",\"model\":\"claude-sonnet\",\"content\":[{\"type\":\"thinking\","
      "\"thinking\":\"Let me think\",\"signature\":\"\"},{\"type\":\"text"
      "\",\"text\":\"Hello world\"},{\"type\":\"tool_use\",\"id\":\"call_"
      "abc123_0\",\"name\":\"get\",\"input\":{\"city\":\"Paris\"}}],\"sto"
      "p_reason\":\"tool_use\",\"stop_sequence\":null,\"usage\":{\"input_"
      "tokens\":20,\"cache_creation_input_tokens\":0,\"cache_read_input_t"
      "okens\":100,\"output_tokens\":55}}" },

    { "gemini blocked -> chat", GEMINI, CHAT,
      "{\"promptFeedback\":{\"blockReason\":\"SAFETY\"},\"usageMetadata\""
      ":{\"promptTokenCount\":7,\"totalTokenCount\":7}}",
      "{\"id\":\"chatcmpl-gemini\",\"object\":\"chat.completion\",\"creat"
      "ed\":1700000000,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"m"
      "essage\":{\"role\":\"assistant\",\"content\":null},\"logprobs\":nu"
      "ll,\"finish_reason\":\"content_filter\"}],\"usage\":{\"prompt_toke"
      "ns\":7,\"completion_tokens\":0,\"total_tokens\":7,\"prompt_tokens_"
      "details\":{\"cached_tokens\":0}}}" },

    { "gemini max tokens -> chat", GEMINI, CHAT,
      "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"cut\"}],\"ro"
      "le\":\"model\"},\"finishReason\":\"MAX_TOKENS\",\"index\":0}],\"us"
      "ageMetadata\":{\"promptTokenCount\":3,\"candidatesTokenCount\":4,"
      "\"totalTokenCount\":7}}",
      "{\"id\":\"chatcmpl-gemini\",\"object\":\"chat.completion\",\"creat"
      "ed\":1700000000,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"m"
      "essage\":{\"role\":\"assistant\",\"content\":\"cut\"},\"logprobs\""
      ":null,\"finish_reason\":\"length\"}],\"usage\":{\"prompt_tokens\":"
      "3,\"completion_tokens\":4,\"total_tokens\":7,\"prompt_tokens_detai"
      "ls\":{\"cached_tokens\":0}}}" },

    { NULL, 0, 0, NULL, NULL }
};


static void
test_responses(void)
{
    int                        rc;
    const resp_case_t         *c;
    ngx_http_llm_xlate_buf_t   out;

    for (c = resp_cases; c->name; c++) {
        memset(&out, 0, sizeof(out));

        rc = ngx_http_llm_xlate_response(c->from, c->to,
                 (const unsigned char *) c->in, strlen(c->in),
                 c->to == CHAT ? "gpt-4o" : "claude-sonnet", 1700000000,
                 &out);
        ngx_http_llm_xlate_buf_append(&out, "", 1);

        check(rc == NGX_HTTP_LLM_XLATE_OK
              && strcmp((char *) out.data, c->out) == 0,
              c->name, "answer", (char *) out.data, c->out);

        ngx_http_llm_xlate_buf_free(&out);
    }

    memset(&out, 0, sizeof(out));
    rc = ngx_http_llm_xlate_response(MESSAGES, CHAT,
                                     (const unsigned char *) "[1]", 3, "m",
                                     0, &out);
    check(rc == NGX_HTTP_LLM_XLATE_BAD && out.len == 0, "answer not object",
          "rc", NULL, NULL);
    ngx_http_llm_xlate_buf_free(&out);
}


typedef struct {
    const char  *name;
    int          from;
    int          to;
    int          status;
    const char  *in;
    const char  *out;
} err_case_t;


static const err_case_t  err_cases[] = {
    { "openai 429 -> anthropic", CHAT, MESSAGES, 429,
      "{\"error\":{\"message\":\"Rate limit\",\"type\":\"requests\","
      "\"param\":null,\"code\":\"rate_limit_exceeded\"}}",
      "{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\","
      "\"message\":\"Rate limit\"}}" },
    { "anthropic 529 -> openai", MESSAGES, CHAT, 529,
      "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
      "\"message\":\"Overloaded\"}}",
      "{\"error\":{\"message\":\"Overloaded\",\"type\":\"overloaded_error\","
      "\"param\":null,\"code\":null}}" },
    { "anthropic 400 -> openai", MESSAGES, CHAT, 400,
      "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\","
      "\"message\":\"max_tokens: too big\"}}",
      "{\"error\":{\"message\":\"max_tokens: too big\",\"type\":"
      "\"invalid_request_error\",\"param\":null,\"code\":null}}" },
    { "html 502 -> anthropic", CHAT, MESSAGES, 502,
      "<html>Bad Gateway</html>",
      "{\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":"
      "\"the provider answered 502\"}}" },
    { "google list -> openai", CHAT, CHAT, 400,
      "[{\"error\":{\"code\":400,\"message\":\"bad\",\"status\":"
      "\"INVALID_ARGUMENT\"}}]",
      "{\"error\":{\"message\":\"bad\",\"type\":\"INVALID_ARGUMENT\","
      "\"param\":null,\"code\":null}}" },
    { "gemini 429 -> anthropic", GEMINI, MESSAGES, 429,
      "{\"error\":{\"code\":429,\"message\":\"Quota\",\"status\":"
      "\"RESOURCE_EXHAUSTED\"}}",
      "{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\","
      "\"message\":\"Quota\"}}" },
    { "string error -> anthropic", CHAT, MESSAGES, 401,
      "{\"error\":\"no key\"}",
      "{\"type\":\"error\",\"error\":{\"type\":\"authentication_error\","
      "\"message\":\"no key\"}}" },
    { NULL, 0, 0, 0, NULL, NULL }
};


static void
test_errors(void)
{
    int                        rc;
    const err_case_t          *c;
    ngx_http_llm_xlate_buf_t   out;

    for (c = err_cases; c->name; c++) {
        memset(&out, 0, sizeof(out));

        rc = ngx_http_llm_xlate_error(c->from, c->to, c->status,
                                      (const unsigned char *) c->in,
                                      strlen(c->in), &out);
        ngx_http_llm_xlate_buf_append(&out, "", 1);

        check(rc == NGX_HTTP_LLM_XLATE_OK
              && strcmp((char *) out.data, c->out) == 0,
              c->name, "error", (char *) out.data, c->out);

        ngx_http_llm_xlate_buf_free(&out);
    }
}


#define A_EV(name, json)  "event: " name "\ndata: " json "\n\n"
#define O_EV(json)        "data: " json "\n\n"
#define CHUNK(delta, finish)                                                  \
    O_EV("{\"id\":\"msg_1\",\"object\":\"chat.completion.chunk\",\"created\":" \
         "1700000000,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,"         \
         "\"delta\":" delta ",\"finish_reason\":" finish "}]}")


static const sse_case_t  sse_cases[] = {

    { "anthropic stream -> chat", MESSAGES, CHAT, 1,
      A_EV("message_start", "{\"type\":\"message_start\",\"message\":{\"id\":"
           "\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":"
           "[],\"model\":\"claude-x\",\"usage\":{\"input_tokens\":12,"
           "\"cache_read_input_tokens\":30,\"output_tokens\":1}}}")
      "event: ping\r\ndata: {\"type\": \"ping\"}\r\n\r\n"
      A_EV("content_block_start", "{\"type\":\"content_block_start\","
           "\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}")
      A_EV("content_block_delta", "{\"type\":\"content_block_delta\","
           "\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hel\"}}")
      A_EV("content_block_delta", "{\"type\":\"content_block_delta\","
           "\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"lo\"}}")
      A_EV("content_block_stop", "{\"type\":\"content_block_stop\","
           "\"index\":0}")
      A_EV("content_block_start", "{\"type\":\"content_block_start\","
           "\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":"
           "\"toolu_1\",\"name\":\"get\",\"input\":{}}}")
      A_EV("content_block_delta", "{\"type\":\"content_block_delta\","
           "\"index\":1,\"delta\":{\"type\":\"input_json_delta\","
           "\"partial_json\":\"\"}}")
      A_EV("content_block_delta", "{\"type\":\"content_block_delta\","
           "\"index\":1,\"delta\":{\"type\":\"input_json_delta\","
           "\"partial_json\":\"{\\\"city\\\": \"}}")
      A_EV("content_block_delta", "{\"type\":\"content_block_delta\","
           "\"index\":1,\"delta\":{\"type\":\"input_json_delta\","
           "\"partial_json\":\"\\\"Paris\\\"}\"}}")
      A_EV("content_block_stop", "{\"type\":\"content_block_stop\","
           "\"index\":1}")
      A_EV("message_delta", "{\"type\":\"message_delta\",\"delta\":{"
           "\"stop_reason\":\"tool_use\",\"stop_sequence\":null},\"usage\":{"
           "\"output_tokens\":25}}")
      A_EV("message_stop", "{\"type\":\"message_stop\"}"),

      CHUNK("{\"role\":\"assistant\",\"content\":\"\"}", "null")
      CHUNK("{\"content\":\"Hel\"}", "null")
      CHUNK("{\"content\":\"lo\"}", "null")
      CHUNK("{\"tool_calls\":[{\"index\":0,\"id\":\"toolu_1\",\"type\":"
            "\"function\",\"function\":{\"name\":\"get\",\"arguments\":"
            "\"\"}}]}", "null")
      CHUNK("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
            "\"{\\\"city\\\": \"}}]}", "null")
      CHUNK("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
            "\"\\\"Paris\\\"}\"}}]}", "null")
      CHUNK("{}", "\"tool_calls\"")
      O_EV("{\"id\":\"msg_1\",\"object\":\"chat.completion.chunk\","
           "\"created\":1700000000,\"model\":\"gpt-4o\",\"choices\":[],"
           "\"usage\":{\"prompt_tokens\":42,\"completion_tokens\":25,"
           "\"total_tokens\":67,\"prompt_tokens_details\":{\"cached_tokens\":"
           "30}}}")
      "data: [DONE]\n\n",
      NGX_HTTP_LLM_XLATE_OK },

    { "anthropic error event -> chat", MESSAGES, CHAT, 0,
      A_EV("message_start", "{\"type\":\"message_start\",\"message\":{\"id\":"
           "\"msg_1\",\"usage\":{\"input_tokens\":1}}}")
      A_EV("error", "{\"type\":\"error\",\"error\":{\"type\":"
           "\"overloaded_error\",\"message\":\"Overloaded\"}}")
      A_EV("message_stop", "{\"type\":\"message_stop\"}"),

      CHUNK("{\"role\":\"assistant\",\"content\":\"\"}", "null")
      O_EV("{\"error\":{\"message\":\"Overloaded\",\"type\":"
           "\"overloaded_error\",\"param\":null,\"code\":null}}"),
      NGX_HTTP_LLM_XLATE_BAD },

    { "anthropic cut -> chat", MESSAGES, CHAT, 0,
      A_EV("message_start", "{\"type\":\"message_start\",\"message\":{\"id\":"
           "\"msg_1\"}}")
      "event: content_block_start\ndata: {\"type\":",

      CHUNK("{\"role\":\"assistant\",\"content\":\"\"}", "null")
      O_EV("{\"error\":{\"message\":\"the provider's stream was cut\","
           "\"type\":\"server_error\",\"param\":null,\"code\":null}}"),
      NGX_HTTP_LLM_XLATE_BAD },

    { "openai stream -> anthropic", CHAT, MESSAGES, 0,
      O_EV("{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","
           "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
           "\"content\":\"\"},\"finish_reason\":null}]}")
      O_EV("{\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{"
           "\"reasoning_content\":\"Hmm\"}}]}")
      O_EV("{\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{"
           "\"content\":\"Hi\"}}]}")
      ": keep-alive\n\n"
      O_EV("{\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{"
           "\"content\":\"!\"}}]}")
      O_EV("{\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{"
           "\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":"
           "\"function\",\"function\":{\"name\":\"get\",\"arguments\":\"\"}}]"
           "}}]}")
      O_EV("{\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{"
           "\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
           "\"{\\\"a\\\":\"}}]}}]}")
      O_EV("{\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{"
           "\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
           "\"1}\"}}]}}]}")
      O_EV("{\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{"
           "\"tool_calls\":[{\"index\":1,\"id\":\"call_2\",\"function\":{"
           "\"name\":\"put\",\"arguments\":\"{}\"}}]}}]}")
      O_EV("{\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{},"
           "\"finish_reason\":\"tool_calls\"}]}")
      O_EV("{\"id\":\"chatcmpl-1\",\"choices\":[],\"usage\":{"
           "\"prompt_tokens\":100,\"completion_tokens\":9,\"total_tokens\":"
           "109,\"prompt_tokens_details\":{\"cached_tokens\":60}}}")
      "data: [DONE]\n\n",

      A_EV("message_start", "{\"type\":\"message_start\",\"message\":{"
           "\"id\":\"chatcmpl-1\",\"type\":\"message\",\"role\":\"assistant\","
           "\"content\":[],\"model\":\"claude-sonnet\",\"stop_reason\":null,"
           "\"stop_sequence\":null,\"usage\":{\"input_tokens\":0,"
           "\"output_tokens\":0}}}")
      A_EV("content_block_start", "{\"type\":\"content_block_start\","
           "\"index\":0,\"content_block\":{\"type\":\"thinking\","
           "\"thinking\":\"\",\"signature\":\"\"}}")
      A_EV("content_block_delta", "{\"type\":\"content_block_delta\","
           "\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":"
           "\"Hmm\"}}")
      A_EV("content_block_stop", "{\"type\":\"content_block_stop\","
           "\"index\":0}")
      A_EV("content_block_start", "{\"type\":\"content_block_start\","
           "\"index\":1,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}")
      A_EV("content_block_delta", "{\"type\":\"content_block_delta\","
           "\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}")
      A_EV("content_block_delta", "{\"type\":\"content_block_delta\","
           "\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"!\"}}")
      A_EV("content_block_stop", "{\"type\":\"content_block_stop\","
           "\"index\":1}")
      A_EV("content_block_start", "{\"type\":\"content_block_start\","
           "\"index\":2,\"content_block\":{\"type\":\"tool_use\",\"id\":"
           "\"call_1\",\"name\":\"get\",\"input\":{}}}")
      A_EV("content_block_delta", "{\"type\":\"content_block_delta\","
           "\"index\":2,\"delta\":{\"type\":\"input_json_delta\","
           "\"partial_json\":\"{\\\"a\\\":\"}}")
      A_EV("content_block_delta", "{\"type\":\"content_block_delta\","
           "\"index\":2,\"delta\":{\"type\":\"input_json_delta\","
           "\"partial_json\":\"1}\"}}")
      A_EV("content_block_stop", "{\"type\":\"content_block_stop\","
           "\"index\":2}")
      A_EV("content_block_start", "{\"type\":\"content_block_start\","
           "\"index\":3,\"content_block\":{\"type\":\"tool_use\",\"id\":"
           "\"call_2\",\"name\":\"put\",\"input\":{}}}")
      A_EV("content_block_delta", "{\"type\":\"content_block_delta\","
           "\"index\":3,\"delta\":{\"type\":\"input_json_delta\","
           "\"partial_json\":\"{}\"}}")
      A_EV("content_block_stop", "{\"type\":\"content_block_stop\","
           "\"index\":3}")
      A_EV("message_delta", "{\"type\":\"message_delta\",\"delta\":{"
           "\"stop_reason\":\"tool_use\",\"stop_sequence\":null},\"usage\":{"
           "\"input_tokens\":40,\"cache_read_input_tokens\":60,"
           "\"output_tokens\":9}}")
      A_EV("message_stop", "{\"type\":\"message_stop\"}"),
      NGX_HTTP_LLM_XLATE_OK },

    { "openai error chunk -> anthropic", CHAT, MESSAGES, 0,
      O_EV("{\"error\":{\"message\":\"boom\",\"type\":\"server_error\"}}"),
      A_EV("error", "{\"type\":\"error\",\"error\":{\"type\":\"api_error\","
           "\"message\":\"boom\"}}"),
      NGX_HTTP_LLM_XLATE_BAD },

    { "openai cut -> anthropic", CHAT, MESSAGES, 0,
      O_EV("{\"id\":\"c\",\"choices\":[{\"delta\":{\"content\":\"x\"}}]}"),
      A_EV("message_start", "{\"type\":\"message_start\",\"message\":{"
           "\"id\":\"c\",\"type\":\"message\",\"role\":\"assistant\","
           "\"content\":[],\"model\":\"claude-sonnet\",\"stop_reason\":null,"
           "\"stop_sequence\":null,\"usage\":{\"input_tokens\":0,"
           "\"output_tokens\":0}}}")
      A_EV("content_block_start", "{\"type\":\"content_block_start\","
           "\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}")
      A_EV("content_block_delta", "{\"type\":\"content_block_delta\","
           "\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"x\"}}")
      A_EV("error", "{\"type\":\"error\",\"error\":{\"type\":\"api_error\","
           "\"message\":\"the provider's stream was cut\"}}"),
      NGX_HTTP_LLM_XLATE_BAD },

    { "gemini stream -> chat", GEMINI, CHAT, 1,
      "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":"
      "[{\"text\":\"Hmm\",\"thought\":true}]},\"index\":0}],\"usageMetada"
      "ta\":{\"promptTokenCount\":12,\"totalTokenCount\":12},\"modelVersi"
      "on\":\"gemini-2.5-flash\",\"responseId\":\"r1\"}\n\ndata: {\"candi"
      "dates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"H"
      "el\"}]},\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":12,"
      "\"candidatesTokenCount\":1,\"totalTokenCount\":13},\"responseId\":"
      "\"r1\"}\n\ndata: {\"candidates\":[{\"content\":{\"role\":\"model\""
      ",\"parts\":[{\"text\":\"lo\"},{\"functionCall\":{\"name\":\"get\","
      "\"args\":{\"city\":\"Oslo\"}}}]},\"finishReason\":\"STOP\",\"index"
      "\":0}],\"usageMetadata\":{\"promptTokenCount\":12,\"candidatesToke"
      "nCount\":5,\"totalTokenCount\":20,\"cachedContentTokenCount\":4,\""
      "thoughtsTokenCount\":3},\"responseId\":\"r1\"}\n\n",
      "data: {\"id\":\"chatcmpl-r1\",\"object\":\"chat.completion.chunk\""
      ",\"created\":1700000000,\"model\":\"gpt-4o\",\"choices\":[{\"index"
      "\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_"
      "reason\":null}]}\n\ndata: {\"id\":\"chatcmpl-r1\",\"object\":\"cha"
      "t.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o\","
      "\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"Hmm\""
      "},\"finish_reason\":null}]}\n\ndata: {\"id\":\"chatcmpl-r1\",\"obj"
      "ect\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":"
      "\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel"
      "\"},\"finish_reason\":null}]}\n\ndata: {\"id\":\"chatcmpl-r1\",\"o"
      "bject\":\"chat.completion.chunk\",\"created\":1700000000,\"model\""
      ":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo"
      "\"},\"finish_reason\":null}]}\n\ndata: {\"id\":\"chatcmpl-r1\",\"o"
      "bject\":\"chat.completion.chunk\",\"created\":1700000000,\"model\""
      ":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{"
      "\"index\":0,\"id\":\"call_r1_0\",\"type\":\"function\",\"function"
      "\":{\"name\":\"get\",\"arguments\":\"{\\\"city\\\":\\\"Oslo\\\"}\""
      "}}]},\"finish_reason\":null}]}\n\ndata: {\"id\":\"chatcmpl-r1\",\""
      "object\":\"chat.completion.chunk\",\"created\":1700000000,\"model"
      "\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reas"
      "on\":\"tool_calls\"}]}\n\ndata: {\"id\":\"chatcmpl-r1\",\"object\""
      ":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-"
      "4o\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_t"
      "okens\":8,\"total_tokens\":20,\"prompt_tokens_details\":{\"cached_"
      "tokens\":4}}}\n\ndata: [DONE]\n\n",
      NGX_HTTP_LLM_XLATE_OK },

    { "gemini stream -> messages", GEMINI, MESSAGES, 0,
      "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":"
      "[{\"text\":\"Hmm\",\"thought\":true}]},\"index\":0}],\"usageMetada"
      "ta\":{\"promptTokenCount\":12,\"totalTokenCount\":12},\"modelVersi"
      "on\":\"gemini-2.5-flash\",\"responseId\":\"r1\"}\n\ndata: {\"candi"
      "dates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"H"
      "el\"}]},\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":12,"
      "\"candidatesTokenCount\":1,\"totalTokenCount\":13},\"responseId\":"
      "\"r1\"}\n\ndata: {\"candidates\":[{\"content\":{\"role\":\"model\""
      ",\"parts\":[{\"text\":\"lo\"},{\"functionCall\":{\"name\":\"get\","
      "\"args\":{\"city\":\"Oslo\"}}}]},\"finishReason\":\"STOP\",\"index"
      "\":0}],\"usageMetadata\":{\"promptTokenCount\":12,\"candidatesToke"
      "nCount\":5,\"totalTokenCount\":20,\"cachedContentTokenCount\":4,\""
      "thoughtsTokenCount\":3},\"responseId\":\"r1\"}\n\n",
      "event: message_start\ndata: {\"type\":\"message_start\",\"message"
      "\":{\"id\":\"msg_r1\",\"type\":\"message\",\"role\":\"assistant\","
      "\"content\":[],\"model\":\"claude-sonnet\",\"stop_reason\":null,\""
      "stop_sequence\":null,\"usage\":{\"input_tokens\":0,\"output_tokens"
      "\":0}}}\n\nevent: content_block_start\ndata: {\"type\":\"content_b"
      "lock_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\","
      "\"thinking\":\"\",\"signature\":\"\"}}\n\nevent: content_block_del"
      "ta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
      "{\"type\":\"thinking_delta\",\"thinking\":\"Hmm\"}}\n\nevent: cont"
      "ent_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0"
      "}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_s"
      "tart\",\"index\":1,\"content_block\":{\"type\":\"text\",\"text\":"
      "\"\"}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_bl"
      "ock_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text"
      "\":\"Hel\"}}\n\nevent: content_block_delta\ndata: {\"type\":\"cont"
      "ent_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\","
      "\"text\":\"lo\"}}\n\nevent: content_block_stop\ndata: {\"type\":\""
      "content_block_stop\",\"index\":1}\n\nevent: content_block_start\nd"
      "ata: {\"type\":\"content_block_start\",\"index\":2,\"content_block"
      "\":{\"type\":\"tool_use\",\"id\":\"call_r1_0\",\"name\":\"get\",\""
      "input\":{}}}\n\nevent: content_block_delta\ndata: {\"type\":\"cont"
      "ent_block_delta\",\"index\":2,\"delta\":{\"type\":\"input_json_del"
      "ta\",\"partial_json\":\"{\\\"city\\\":\\\"Oslo\\\"}\"}}\n\nevent: "
      "content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index"
      "\":2}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\","
      "\"delta\":{\"stop_reason\":\"tool_use\",\"stop_sequence\":null},\""
      "usage\":{\"input_tokens\":8,\"cache_read_input_tokens\":4,\"output"
      "_tokens\":8}}\n\nevent: message_stop\ndata: {\"type\":\"message_st"
      "op\"}\n\n",
      NGX_HTTP_LLM_XLATE_OK },

    { "gemini cut -> chat", GEMINI, CHAT, 0,
      "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hel\"}"
      "],\"role\":\"model\"},\"index\":0}],\"responseId\":\"r9\"}\n\n: ke"
      "ep-alive\n\ndata: {\"candidates\":[{\"content\":{\"parts\":[{\"tex"
      "t\":\"lo\"}],\"role\":\"model\"},\"index\":0}],\"responseId\":\"r9"
      "\"}\n\n",
      "data: {\"id\":\"chatcmpl-r9\",\"object\":\"chat.completion.chunk\""
      ",\"created\":1700000000,\"model\":\"gpt-4o\",\"choices\":[{\"index"
      "\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_"
      "reason\":null}]}\n\ndata: {\"id\":\"chatcmpl-r9\",\"object\":\"cha"
      "t.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o\","
      "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"},\"finish"
      "_reason\":null}]}\n\ndata: {\"id\":\"chatcmpl-r9\",\"object\":\"ch"
      "at.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o\","
      "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_"
      "reason\":null}]}\n\ndata: {\"error\":{\"message\":\"the provider's"
      " stream was cut\",\"type\":\"server_error\",\"param\":null,\"code"
      "\":null}}\n\n",
      NGX_HTTP_LLM_XLATE_BAD },

    { "gemini cut -> messages", GEMINI, MESSAGES, 0,
      "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hel\"}"
      "],\"role\":\"model\"},\"index\":0}],\"responseId\":\"r9\"}\n\n: ke"
      "ep-alive\n\ndata: {\"candidates\":[{\"content\":{\"parts\":[{\"tex"
      "t\":\"lo\"}],\"role\":\"model\"},\"index\":0}],\"responseId\":\"r9"
      "\"}\n\n",
      "event: message_start\ndata: {\"type\":\"message_start\",\"message"
      "\":{\"id\":\"msg_r9\",\"type\":\"message\",\"role\":\"assistant\","
      "\"content\":[],\"model\":\"claude-sonnet\",\"stop_reason\":null,\""
      "stop_sequence\":null,\"usage\":{\"input_tokens\":0,\"output_tokens"
      "\":0}}}\n\nevent: content_block_start\ndata: {\"type\":\"content_b"
      "lock_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"te"
      "xt\":\"\"}}\n\nevent: content_block_delta\ndata: {\"type\":\"conte"
      "nt_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\""
      "text\":\"Hel\"}}\n\nevent: content_block_delta\ndata: {\"type\":\""
      "content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta"
      "\",\"text\":\"lo\"}}\n\nevent: error\ndata: {\"type\":\"error\",\""
      "error\":{\"type\":\"api_error\",\"message\":\"the provider's strea"
      "m was cut\"}}\n\n",
      NGX_HTTP_LLM_XLATE_BAD },

    { NULL, 0, 0, 0, NULL, NULL, 0 }
};


/* feeds in[0..n) in pieces cut at the given points; returns the output */

static char *
sse_run(const sse_case_t *c, const size_t *cuts, size_t ncuts, int *rc_end)
{
    size_t                     i, from, to, n;
    ngx_http_llm_xlate_sse_t   s;
    ngx_http_llm_xlate_buf_t   out;

    n = strlen(c->in);
    memset(&out, 0, sizeof(out));

    ngx_http_llm_xlate_sse_init(&s, c->from, c->to,
                                c->to == CHAT ? "gpt-4o" : "claude-sonnet",
                                c->include_usage, 1700000000);

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

        /* two pieces, cut at every byte */

        for (i = 1; i < n; i++) {
            got = sse_run(c, &i, 1, &rc);
            snprintf(name, sizeof(name), "%s (cut at %zu)", c->name, i);
            check(strcmp(got, c->out) == 0 && rc == c->rc_end, name,
                  "split", got, c->out);
            free(got);
        }

        /* one byte at a time */

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


static void
test_sse_bounds(void)
{
    int                        rc;
    char                      *big;
    size_t                     n;
    ngx_http_llm_xlate_sse_t   s;
    ngx_http_llm_xlate_buf_t   out;

    n = NGX_HTTP_LLM_XLATE_EVENT_MAX + 100;
    big = malloc(n);
    memset(big, 'a', n);
    memcpy(big, "data: \"", 7);

    memset(&out, 0, sizeof(out));
    ngx_http_llm_xlate_sse_init(&s, MESSAGES, CHAT, "m", 0, 0);

    rc = ngx_http_llm_xlate_sse_feed(&s, (unsigned char *) big, 1000, &out);
    check(rc == NGX_HTTP_LLM_XLATE_OK && out.len == 0, "oversized event",
          "first piece", NULL, NULL);

    rc = ngx_http_llm_xlate_sse_feed(&s, (unsigned char *) big + 1000,
                                     n - 1000, &out);
    check(rc == NGX_HTTP_LLM_XLATE_TOO_BIG && s.failed, "oversized event",
          "refused", NULL, NULL);
    check(s.carry_size <= 2 * NGX_HTTP_LLM_XLATE_EVENT_MAX, "oversized event",
          "carry bounded", NULL, NULL);

    rc = ngx_http_llm_xlate_sse_end(&s, &out);
    check(rc == NGX_HTTP_LLM_XLATE_BAD, "oversized event", "end", NULL, NULL);

    ngx_http_llm_xlate_sse_free(&s);
    ngx_http_llm_xlate_buf_free(&out);
    free(big);

    check(ngx_http_llm_xlate_supported(CHAT, MESSAGES)
          && ngx_http_llm_xlate_supported(MESSAGES, CHAT)
          && !ngx_http_llm_xlate_supported(CHAT, CHAT)
          && ngx_http_llm_xlate_supported(CHAT, GEMINI)
          && ngx_http_llm_xlate_supported(MESSAGES, GEMINI)
          && !ngx_http_llm_xlate_supported(GEMINI, CHAT)
          && !ngx_http_llm_xlate_supported(5, CHAT),
          "supported", "pairs", NULL, NULL);
}


/* the JSON writer writes what cJSON_PrintUnformatted writes, byte for byte */

static void
test_print(void)
{
    int                        rc;
    char                      *want, ctl[40];
    size_t                     i;
    cJSON                     *v;
    ngx_http_llm_xlate_buf_t   out;

    static const char  *docs[] = {
        "{}", "[]", "null", "true", "false", "\"\"", "0", "-0", "1", "-1",
        "0.5", "-0.1", "3.14159265358979", "0.1", "1e300", "-1e-300",
        "999999999999999", "1000000000000000", "-999999999999999",
        "12345678901234567890", "2147483647", "2147483648", "-2147483649",
        "9007199254740993", "1.5e15", "4.9e-324", "1.7976931348623157e308",
        "123.456e2", "[1,2.5,-3,\"x\",null,true,false,{},[]]",
        "{\"a\":{\"b\":[{\"c\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0001\\u001f"
        "\\u007f\\u00e9\\u20ac\\ud83d\\ude00\"}]},\"\":1,\"k\\n\":\"v\"}",
        "{\"model\":\"m\",\"temperature\":0.7,\"top_p\":1,"
        "\"max_tokens\":4096,\"stop\":[\"a\",\"b\"]}",
        NULL
    };

    memset(&out, 0, sizeof(out));

    for (i = 0; docs[i]; i++) {
        v = cJSON_Parse(docs[i]);
        want = v ? cJSON_PrintUnformatted(v) : NULL;
        out.len = 0;
        rc = v ? ngx_http_llm_xlate_print(&out, v) : -1;
        rc |= ngx_http_llm_xlate_buf_append(&out, "", 1);

        check(rc == 0 && want && strcmp((char *) out.data, want) == 0,
              docs[i], "print", out.data ? (char *) out.data : NULL, want);

        cJSON_free(want);
        cJSON_Delete(v);
    }

    /* every control byte, and a number made, not parsed */
    for (i = 1; i < 32; i++) {
        ctl[i - 1] = (char) i;
    }

    ctl[31] = '\0';
    v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, ctl, ctl);
    cJSON_AddNumberToObject(v, "n", -0.0);
    cJSON_AddNumberToObject(v, "big", 1e15);
    cJSON_AddNumberToObject(v, "neg", -123456789012345.0);
    cJSON_AddRawToObject(v, "raw", "[1, 2]");

    want = cJSON_PrintUnformatted(v);
    out.len = 0;
    rc = ngx_http_llm_xlate_print(&out, v);
    rc |= ngx_http_llm_xlate_buf_append(&out, "", 1);

    check(rc == 0 && want && strcmp((char *) out.data, want) == 0,
          "controls", "print", (char *) out.data, want);

    cJSON_free(want);
    cJSON_Delete(v);

    /* a byte to escape (or a high one) at every place of a word or two */
    for (i = 0; i < 39 * 8; i++) {
        static const unsigned char  special[] = {
            '"', '\\', '\n', 1, 0x1f, 0x7f, 0xe9, 0xff
        };

        memset(ctl, 'a', 39);
        ctl[39] = '\0';
        ctl[i / 8] = (char) special[i % 8];
        ctl[(i * 7) % 39] = (char) 0xc3;

        v = cJSON_CreateString(ctl);
        want = cJSON_PrintUnformatted(v);
        out.len = 0;
        rc = ngx_http_llm_xlate_print(&out, v);
        rc |= ngx_http_llm_xlate_buf_append(&out, "", 1);

        check(rc == 0 && want && strcmp((char *) out.data, want) == 0,
              "escapes", "print", (char *) out.data, want);

        cJSON_free(want);
        cJSON_Delete(v);
    }

    ngx_http_llm_xlate_buf_free(&out);
}


/*
 * The chat <- messages stream's fast path: which events it takes, and
 * that it writes what cm_event() writes from cJSON's tree of them.
 */

static void
test_fast(void)
{
    int                        rc, rc2, taken;
    cJSON                     *root;
    size_t                     i;
    const char                *d;
    ngx_http_llm_xlate_buf_t   x, y;
    ngx_http_llm_xlate_sse_t   a, b;

    static const struct {
        const char  *data;
        int          taken;
    } cases[] = {
        { "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
          "\"text_delta\",\"text\":\"Hello\"}}", 1 },
        { " { \"delta\" : { \"text\" : \"a\\\"b\\\\c\\n\\t\\r\\b\\f\" , "
          "\"type\" : \"text_delta\" } , \"type\" : \"content_block_delta\""
          " } ", 1 },
        { "{\"type\":\"content_block_delta\",\"index\":-12,\"x\":{\"a\":"
          "0,\"b\":\"}\"},\"delta\":{\"type\":\"text_delta\",\"text\":"
          "\"\xc3\xa9\x7f\",\"text\":\"second\"},\"delta\":{},"
          "\"type\":\"ping\"}", 1 },
        /* outside the fast path's subset */
        { "{\"type\":\"content_block_delta\",\"index\":[1,{\"a\":[true,"
          "null,-1.5e3,\"}]\"]}],\"delta\":{\"type\":\"text_delta\","
          "\"text\":\"x\"}}", 0 },
        { "{\"type\":\"content_block_delta\",\"index\":01,\"delta\":{"
          "\"type\":\"text_delta\",\"text\":\"x\"}}", 0 },
        { "{\"type\":\"content_block_delta\",\"delta\":{\"type\":"
          "\"text_delta\",\"text\":\"x\",}}", 0 },
        { "{\"type\":\"content_block_delta\",\"delta\":{\"type\":"
          "\"text_delta\",\"text\":\"x\"}", 0 },
        { "{\"delta\":\"s\",\"type\":\"content_block_delta\",\"delta\":{"
          "\"type\":\"text_delta\",\"text\":\"x\"}}", 0 },
        { "{\"type\":\"content_block_delta\",\"delta\":{\"type\":"
          "\"text_delta\",\"text\":\"\"}}", 1 },
        /* cJSON decodes these and writes them otherwise */
        { "{\"type\":\"content_block_delta\",\"delta\":{\"type\":"
          "\"text_delta\",\"text\":\"caf\\u00e9\"}}", 0 },
        { "{\"type\":\"content_block_delta\",\"delta\":{\"type\":"
          "\"text_delta\",\"text\":\"a\\/b\"}}", 0 },
        /* an escaped key may be any name */
        { "{\"typ\\u0065\":\"message_stop\",\"type\":\"content_block_delta\","
          "\"delta\":{\"type\":\"text_delta\",\"text\":\"x\"}}", 0 },
        { "{\"type\":\"content_block_delta\",\"error\":{},\"delta\":{"
          "\"type\":\"text_delta\",\"text\":\"x\"}}", 0 },
        /* the first "type" is cJSON's: a ping */
        { "{\"type\":\"ping\",\"type\":\"content_block_delta\",\"delta\":{"
          "\"type\":\"text_delta\",\"text\":\"x\"}}", 1 },
        { "{\"type\":\"content_block_delta\",\"delta\":{\"type\":"
          "\"thinking_delta\",\"thinking\":\"x\"}}", 0 },
        { "{\"type\":\"content_block_delta\",\"delta\":{\"type\":"
          "\"text_delta\",\"text\":7}}", 0 },
        { "{\"type\":\"content_block_delta\",\"delta\":[]}", 0 },
        /* cJSON takes 63 bytes of a number, then fails */
        { "{\"type\":\"content_block_delta\",\"index\":1234567890123456789012"
          "345678901234567890123456789012345678901234,\"delta\":{\"type\":"
          "\"text_delta\",\"text\":\"x\"}}", 0 },
        /* not JSON for the scanner (cJSON takes the first) */
        { "{\"type\":\"content_block_delta\",\"delta\":{\"type\":"
          "\"text_delta\",\"text\":\"x\"}} trailing", 0 },
        { "{\"type\":\"content_block_delta\",\"delta\":{\"type\":"
          "\"text_delta\",\"text\":\"x\tTAB\"}}", 0 },
        { "[1]", 0 },
        /* Anthropic's spelling (no walk), and near misses (the walk) */
        { "{\"type\":\"content_block_delta\",\"index\":12,\"delta\":{"
          "\"type\":\"text_delta\",\"text\":\"a\\n\\\"b\"}}", 1 },
        { "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{"
          "\"type\":\"text_delta\",\"text\":\"a\\u0041\"}}", 0 },
        { "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{"
          "\"type\":\"text_delta\",\"text\":\"a\"}} ", 1 },
        { "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{"
          "\"type\":\"text_delta\",\"text\":\"a\",\"text\":\"\\/\"}}", 1 },
        { "{\"type\":\"content_block_delta\",\"index\":00,\"delta\":{"
          "\"type\":\"text_delta\",\"text\":\"a\"}}", 0 },
        { "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{"
          "\"type\":\"text_delta\",\"text\":\"a\"}}}", 0 },
        /* the events that carry nothing but their type */
        { "{\"type\":\"content_block_stop\",\"index\":0}", 1 },
        { "{\"type\":\"message_stop\"}", 1 },
        { "{\"type\": \"ping\"}", 1 },
        { "{\"type\":\"message_st\\u006fp\"}", 0 },
        { "{\"type\":\"message_stop\",\"error\":null}", 0 },
        /* next to Anthropic's own spelling of the two (taken as spelled) */
        { "{\"type\":\"content_block_stop\",\"index\":12}", 1 },
        { "{\"type\":\"content_block_stop\",\"index\":999999999}", 1 },
        { "{\"type\":\"content_block_stop\",\"index\":1234567890}", 1 },
        { "{\"type\":\"content_block_stop\",\"index\":-1}", 1 },
        { "{\"type\":\"content_block_stop\",\"index\":01}", 0 },
        { "{\"type\":\"content_block_stop\",\"index\":}", 0 },
        { "{\"type\":\"content_block_stop\",\"index\":0} ", 1 },
        { "{\"type\":\"content_block_stop\",\"index\":0}}", 0 },
        { "{\"type\":\"content_block_stop\",\"index\":0,\"x\":1}", 1 },
        { "{\"type\":\"message_stop\"} ", 1 },
        { "{\"type\":\"message_stop\"}}", 0 },
        { "{\"type\":\"message_stop\",\"type\":\"ping\"}", 1 },
        /* message_start, a text block's start, message_delta */
        { "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_mock\","
          "\"type\":\"message\",\"role\":\"assistant\",\"model\":\"m\","
          "\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":"
          "12,\"output_tokens\":1,\"cache_creation_input_tokens\":0,"
          "\"cache_read_input_tokens\":0}}}", 1 },
        { "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_01X\","
          "\"type\":\"message\",\"role\":\"assistant\",\"content\":[],"
          "\"model\":\"claude-sonnet-4-5\",\"stop_reason\":null,"
          "\"stop_sequence\":null,\"usage\":{\"input_tokens\":25,"
          "\"cache_creation_input_tokens\":3,\"cache_read_input_tokens\":7,"
          "\"cache_creation\":{\"ephemeral_5m_input_tokens\":3,"
          "\"ephemeral_1h_input_tokens\":0},\"output_tokens\":1,"
          "\"service_tier\":\"standard\"}}}", 1 },
        { " { \"message\" : { \"content\" : [ ] , \"id\" : \"m\" } , "
          "\"type\" : \"message_start\" } ", 1 },
        { "{\"type\":\"message_start\",\"message\":{}}", 1 },
        { "{\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"usage\":"
          "{\"input_tokens\":5,\"output_tokens\":0,"
          "\"cache_read_input_tokens\":null,\"x\":[1,{\"y\":false}]}}}", 1 },
        { "{\"type\":\"message_start\",\"message\":{\"id\":\"0123456789"
          "0123456789012345678901234567890123456789012345678901234567890123"
          "456789012345678901234567890123456789012345678901234567890123456"
          "7890123456789\xc3\xa9\"}}", 1 },
        { "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":"
          "{\"type\":\"text\",\"text\":\"\"}}", 1 },
        { "{\"type\":\"content_block_start\",\"index\":3,\"content_block\":"
          "{\"text\":\"\",\"citations\":[],\"type\":\"text\"}}", 1 },
        { "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
          "\"end_turn\"}}", 1 },
        { "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
          "\"end_turn\",\"stop_sequence\":null},\"usage\":{"
          "\"output_tokens\":15}}", 1 },
        { "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
          "\"tool_use\",\"stop_sequence\":null},\"usage\":{"
          "\"input_tokens\":25,\"cache_creation_input_tokens\":3,"
          "\"cache_read_input_tokens\":7,\"output_tokens\":99,"
          "\"server_tool_use\":{\"web_search_requests\":0}}}", 1 },
        { "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
          "\"max_tokens\",\"stop_sequence\":\"\\n\"},\"usage\":{}}", 1 },
        /* Anthropic's spelling (no walk), and near misses */
        { "{\"type\":\"content_block_start\",\"index\":12,\"content_block\":"
          "{\"type\":\"text\",\"text\":\"\"}} ", 1 },
        { "{\"type\":\"content_block_start\",\"index\":00,\"content_block\":"
          "{\"type\":\"text\",\"text\":\"\"}}", 0 },
        { "{\"type\":\"content_block_start\",\"index\":1234567890,"
          "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}", 0 },
        { "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":"
          "{\"type\":\"text\",\"text\":\"\"}}}", 0 },
        { "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
          "\"end_turn\",\"stop_sequence\":null},\"usage\":{"
          "\"output_tokens\":0}}", 1 },
        { "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
          "\"end_turn\",\"stop_sequence\":null},\"usage\":{"
          "\"output_tokens\":007}}", 0 },
        { "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
          "\"end_turn\",\"stop_sequence\":null},\"usage\":{"
          "\"output_tokens\":1.0}}", 0 },
        { "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
          "\"end_turn\",\"stop_sequence\":null},\"usage\":{"
          "\"output_tokens\":}}", 0 },
        { "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
          "\"end_turn\",\"stop_sequence\":null},\"usage\":{"
          "\"output_tokens\":5}}x", 0 },
        /* and what cJSON decodes, or what is not theirs */
        { "{\"type\":\"message_start\",\"message\":{\"id\":\"m\\u0041\"}}", 0 },
        { "{\"type\":\"message_start\",\"message\":{\"id\":\"a\\nb\"}}", 0 },
        { "{\"type\":\"message_start\",\"message\":{\"id\":7}}", 0 },
        { "{\"type\":\"message_start\",\"message\":{\"id\":\"a\","
          "\"id\":\"b\"}}", 0 },
        { "{\"type\":\"message_start\",\"message\":{\"usage\":{"
          "\"input_tokens\":1.5}}}", 0 },
        { "{\"type\":\"message_start\",\"message\":{\"usage\":{"
          "\"input_tokens\":1e3}}}", 0 },
        { "{\"type\":\"message_start\",\"message\":{\"usage\":{"
          "\"input_tokens\":-1}}}", 0 },
        { "{\"type\":\"message_start\",\"message\":{\"usage\":{"
          "\"input_tokens\":1234567890}}}", 0 },
        { "{\"type\":\"message_start\",\"message\":{\"usage\":{"
          "\"input_tokens\":null,\"input_tokens\":5}}}", 0 },
        { "{\"type\":\"message_start\",\"message\":{\"usage\":{}, "
          "\"usage\":{\"input_tokens\":5}}}", 0 },
        { "{\"type\":\"message_start\",\"message\":{\"usage\":null}}", 0 },
        { "{\"type\":\"message_start\",\"message\":[]}", 0 },
        { "{\"type\":\"message_start\",\"message\":{},\"error\":{}}", 0 },
        { "{\"type\":\"message_start\",\"message\":{},\"x\":1}", 0 },
        { "{\"type\":\"message_st\\u0061rt\",\"message\":{}}", 0 },
        { "{\"type\":\"message_start\",\"message\":{},\"usage\":{}}", 0 },
        { "{\"type\":\"content_block_start\",\"index\":1,\"content_block\":"
          "{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"f\",\"input\":{}}}",
          0 },
        { "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":"
          "{\"type\":\"thinking\",\"thinking\":\"\"}}", 0 },
        { "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":"
          "{\"type\":\"text\",\"text\":\"Hi\"}}", 0 },
        { "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":"
          "{\"type\":\"text\"}}", 0 },
        { "{\"type\":\"content_block_start\",\"index\":null,"
          "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}", 0 },
        { "{\"type\":\"content_block_start\",\"content_block\":"
          "{\"type\":\"text\",\"text\":\"\"}}", 0 },
        { "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":null}}",
          0 },
        { "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
          "\"weird\"}}", 0 },
        { "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
          "\"end\\u005fturn\"}}", 0 },
        { "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
          "\"end_turn\",\"stop_reason\":\"tool_use\"}}", 0 },
        { "{\"type\":\"message_delta\",\"usage\":{\"output_tokens\":1}}", 0 },
        { "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
          "\"end_turn\"},\"usage\":{\"output_tokens\":01}}", 0 },
        { NULL, 0 }
    };

    for (i = 0; cases[i].data; i++) {
        d = cases[i].data;
        memset(&x, 0, sizeof(x));
        memset(&y, 0, sizeof(y));
        ngx_http_llm_xlate_sse_init(&a, MESSAGES, CHAT, "gpt-4o", 1, 7);
        ngx_http_llm_xlate_sse_init(&b, MESSAGES, CHAT, "gpt-4o", 1, 7);

        rc = ngx_http_llm_xlate_cm_fast(&a, (const unsigned char *) d,
                                        (const unsigned char *) d
                                        + strlen(d), &x);
        taken = (rc != NGX_HTTP_LLM_XLATE_DECLINED);
        check(taken == cases[i].taken, d, "fast path taken", NULL, NULL);

        if (taken) {
            ngx_http_llm_xlate_buf_append(&x, "", 1);
            root = cJSON_Parse(d);
            rc2 = ngx_http_llm_xlate_cm_event(&b, NULL, root, &y);
            ngx_http_llm_xlate_buf_append(&y, "", 1);
            cJSON_Delete(root);
            check(rc == rc2 && strcmp((char *) x.data, (char *) y.data) == 0,
                  d, "fast = general", (char *) x.data, (char *) y.data);
        }

        ngx_http_llm_xlate_sse_free(&a);
        ngx_http_llm_xlate_sse_free(&b);
        check(!taken || memcmp(&a, &b, sizeof(a)) == 0, d,
              "fast state = general", NULL, NULL);

        ngx_http_llm_xlate_buf_free(&x);
        ngx_http_llm_xlate_buf_free(&y);
    }
}


/*
 * The chat -> messages request's fast path: which bodies it takes, and
 * that it writes what the general path writes (given the body after a
 * byte cJSON skips and the fast path does not take).
 */

static void
test_fast_request(void)
{
    int                           rc, rc2, taken, k;
    char                         *shifted, name[64];
    size_t                        i, n;
    const char                   *d;
    ngx_http_llm_xlate_conf_t     conf;
    ngx_http_llm_xlate_result_t   a, b;

    static const struct {
        const char  *body;
        int          taken;
    } cases[] = {
        { "{\"model\":\"gpt-4o\",\"max_tokens\":256,\"messages\":[{\"role\":"
          "\"user\",\"content\":\"Hi\"},{\"role\":\"assistant\",\"content\":"
          "\"Hello\"},{\"role\":\"user\",\"content\":\"a\\\"b\\n\"}]}", 1 },
        { " { \"messages\" : [ { \"content\" : \"x\" , \"role\" : \"user\" } ,"
          " {\"role\":\"user\",\"content\":\"\"}, {\"role\":\"user\"},"
          " {\"role\":\"user\",\"content\":\"y\"} ] , \"stream\" : true ,"
          " \"stream_options\" : { \"include_usage\" : true } ,"
          " \"model\" : \"m\\\\\" } ", 1 },
        { "{\"max_tokens\":5,\"max_completion_tokens\":7,\"messages\":[],"
          "\"stream\":false,\"stream_options\":{}}", 1 },
        { "{\"messages\":[{\"role\":\"assistant\",\"content\":\"\xc3\xa9\"}],"
          "\"max_completion_tokens\":9,\"max_tokens\":3}", 1 },
        { "{}", 1 },
        /* the general path's */
        { "{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":"
          "\"s\"}]}", 0 },
        { "{\"messages\":[{\"role\":\"user\",\"content\":\"caf\\u00e9\"}]}",
          0 },
        { "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
          "\"text\",\"text\":\"x\"}]}]}", 0 },
        { "{\"messages\":[{\"role\":\"user\",\"name\":\"n\",\"content\":"
          "\"x\"}]}", 0 },
        { "{\"messages\":[{\"role\":\"user\",\"role\":\"user\",\"content\":"
          "\"x\"}]}", 0 },
        { "{\"model\":\"a\",\"model\":\"b\",\"messages\":[]}", 0 },
        { "{\"max_tokens\":0,\"messages\":[]}", 0 },
        { "{\"max_tokens\":1.5,\"messages\":[]}", 0 },
        { "{\"max_tokens\":1234567890,\"messages\":[]}", 0 },
        { "{\"temperature\":0.5,\"messages\":[]}", 0 },
        { "{\"stream\":null,\"messages\":[]}", 0 },
        { "{\"mod\\u0065l\":\"x\",\"messages\":[]}", 0 },
        { "{\"messages\":[]} x", 0 },
        { "{\"messages\":[],}", 0 },
        { "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"},]}", 0 },
        { "{\"stream_options\":{\"include_usage\":true,\"x\":1}}", 0 },
        { NULL, 0 }
    };

    for (i = 0; cases[i].body; i++) {
        for (k = 0; k < 2; k++) {
            d = cases[i].body;
            n = strlen(d);

            memset(&conf, 0, sizeof(conf));
            conf.model = k ? NULL : "claude-x\"";
            conf.max_tokens_default = k ? 0 : 1000;

            memset(&a, 0, sizeof(a));
            a.max_tokens = -1;

            rc = ngx_http_llm_xlate_cm_fast_request((const unsigned char *) d,
                                                    n, &conf, &a);
            taken = (rc != NGX_HTTP_LLM_XLATE_DECLINED);
            snprintf(name, sizeof(name), "fast request %zu/%d", i, k);
            check(taken == cases[i].taken, name, "taken", d, NULL);

            if (taken) {
                shifted = malloc(n + 1);
                shifted[0] = '\x01';
                memcpy(shifted + 1, d, n);

                rc2 = ngx_http_llm_xlate_request(CHAT, MESSAGES,
                          (const unsigned char *) shifted, n + 1, &conf, &b);
                free(shifted);

                check(rc == rc2 && a.max_tokens == b.max_tokens
                      && a.stream == b.stream
                      && a.include_usage == b.include_usage
                      && a.status == b.status
                      && strcmp(a.dropped, b.dropped) == 0
                      && a.body.len == b.body.len
                      && strcmp((char *) a.body.data, (char *) b.body.data)
                         == 0,
                      name, "fast = general", (char *) a.body.data,
                      (char *) b.body.data);

                ngx_http_llm_xlate_buf_free(&b.body);
            }

            ngx_http_llm_xlate_buf_free(&a.body);
        }
    }
}


/*
 * The chat <- messages answer's fast path: which answers it takes, and
 * that it writes what the general path writes (given the body after a
 * byte cJSON skips and the fast path does not take).
 */

#define FA_HEAD                                                               \
    "{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\","
#define FA_USAGE "\"usage\":{\"input_tokens\":10,\"output_tokens\":3}"
#define FA_TEXT  "\"content\":[{\"type\":\"text\",\"text\":\"Hi\"}],"
#define FA_STOP  "\"stop_reason\":\"end_turn\","

static void
test_fast_answer(void)
{
    int                        rc, rc2, taken;
    char                      *shifted, name[64];
    size_t                     i, n;
    const char                *d;
    ngx_http_llm_xlate_buf_t   x, y;

    static const struct {
        const char  *body;
        int          taken;
    } cases[] = {
        /* Anthropic's answer as it comes */
        { "{\"id\":\"msg_01XFDUDYJgAACzvnptvVoYEL\",\"type\":\"message\","
          "\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5\","
          "\"content\":[{\"type\":\"text\",\"text\":\"Hello!\\nHow can I "
          "help \\\"you\\\" \\\\ today?\\t\\b\\f\\r \xc3\xa9\"}],"
          "\"stop_reason\":\"end_turn\",\"stop_sequence\":null,"
          "\"usage\":{\"input_tokens\":12,\"cache_creation_input_tokens\":"
          "100,\"cache_read_input_tokens\":2000,\"cache_creation\":{"
          "\"ephemeral_5m_input_tokens\":100,\"ephemeral_1h_input_tokens\":"
          "0},\"output_tokens\":25,\"service_tier\":\"standard\","
          "\"server_tool_use\":null}}", 1 },
        /* any order, white space, texts joined, empty ones left out */
        { " {\r\n \"usage\" : { \"output_tokens\" : 0 , \"input_tokens\" : 0 ,"
          " \"cache_read_input_tokens\" : null } ,\t\"stop_reason\" :"
          " \"max_tokens\" , \"content\" : [ { \"text\" : \"a\" , \"type\" :"
          " \"text\" , \"citations\" : [ { \"x\" : [ 1 , -2 , true , false ]"
          " } ] } , {\"type\":\"text\",\"text\":\"\"} , {\"type\":\"text\","
          "\"text\":\"b\\\\\"} ] , \"role\" : \"assistant\" , \"type\" :"
          " \"message\" , \"id\" : \"x\\\"y\" } \n", 1 },
        { FA_HEAD "\"content\":[]," FA_STOP FA_USAGE "}", 1 },
        { FA_HEAD "\"content\":[{\"type\":\"text\",\"text\":\"\"}],"
          "\"stop_reason\":\"tool_use\"," FA_USAGE "}", 1 },
        { FA_HEAD FA_TEXT "\"stop_reason\":\"refusal\"," FA_USAGE "}", 1 },
        { FA_HEAD FA_TEXT "\"stop_reason\":\"stop_sequence\","
          "\"stop_sequence\":\"END\"," FA_USAGE "}", 1 },
        { FA_HEAD FA_TEXT "\"stop_reason\":\"pause_turn\","
          "\"usage\":{\"input_tokens\":999999999,\"output_tokens\":"
          "999999999,\"cache_read_input_tokens\":999999999,"
          "\"cache_creation_input_tokens\":999999999}}", 1 },
        /* the general path's */
        { FA_HEAD "\"content\":[{\"type\":\"tool_use\",\"id\":\"t\","
          "\"name\":\"f\",\"input\":{}}],\"stop_reason\":\"tool_use\","
          FA_USAGE "}", 0 },
        { FA_HEAD "\"content\":[{\"type\":\"thinking\",\"thinking\":\"h\","
          "\"signature\":\"s\"},{\"type\":\"text\",\"text\":\"x\"}],"
          FA_STOP FA_USAGE "}", 0 },
        { FA_HEAD FA_TEXT "\"stop_reason\":\"something_new\"," FA_USAGE "}",
          0 },
        { FA_HEAD FA_TEXT "\"stop_reason\":null," FA_USAGE "}", 0 },
        { FA_HEAD FA_TEXT FA_STOP FA_USAGE ",\"id\":\"msg_2\"}", 0 },
        { FA_HEAD FA_TEXT FA_STOP "\"usage\":{\"input_tokens\":1,"
          "\"input_tokens\":2,\"output_tokens\":3}}", 0 },
        { FA_HEAD "\"content\":[{\"type\":\"text\",\"text\":\"a\","
          "\"text\":\"b\"}]," FA_STOP FA_USAGE "}", 0 },
        /* cJSON decodes these and writes them otherwise */
        { FA_HEAD "\"content\":[{\"type\":\"text\",\"text\":\"caf\\u00e9\"}],"
          FA_STOP FA_USAGE "}", 0 },
        { FA_HEAD "\"content\":[{\"type\":\"text\",\"text\":\"a\\/b\"}],"
          FA_STOP FA_USAGE "}", 0 },
        { FA_HEAD FA_TEXT FA_STOP FA_USAGE ",\"x\":\"\\u0041\"}", 0 },
        /* an escaped key may be any name */
        { FA_HEAD FA_TEXT FA_STOP FA_USAGE ",\"i\\u0064\":\"z\"}", 0 },
        { FA_HEAD FA_TEXT "\"stop_reason\":\"end\\u005fturn\"," FA_USAGE "}",
          0 },
        /* a member missing, or of another kind */
        { "{\"type\":\"message\",\"role\":\"assistant\"," FA_TEXT FA_STOP
          FA_USAGE "}", 0 },
        { FA_HEAD FA_TEXT FA_STOP "\"usage\":{\"input_tokens\":1}}", 0 },
        { FA_HEAD FA_TEXT FA_STOP "\"usage\":{\"input_tokens\":null,"
          "\"output_tokens\":1}}", 0 },
        { FA_HEAD FA_TEXT FA_STOP "\"usage\":{\"input_tokens\":1.5,"
          "\"output_tokens\":1}}", 0 },
        { FA_HEAD FA_TEXT FA_STOP "\"usage\":{\"input_tokens\":1e3,"
          "\"output_tokens\":1}}", 0 },
        { FA_HEAD FA_TEXT FA_STOP "\"usage\":{\"input_tokens\":-1,"
          "\"output_tokens\":1}}", 0 },
        { FA_HEAD FA_TEXT FA_STOP "\"usage\":{\"input_tokens\":01,"
          "\"output_tokens\":1}}", 0 },
        { FA_HEAD FA_TEXT FA_STOP "\"usage\":{\"input_tokens\":1234567890,"
          "\"output_tokens\":1}}", 0 },
        { FA_HEAD FA_TEXT FA_STOP FA_USAGE ",\"x\":1.5}", 0 },
        { FA_HEAD "\"content\":\"Hi\"," FA_STOP FA_USAGE "}", 0 },
        { FA_HEAD "\"content\":[\"Hi\"]," FA_STOP FA_USAGE "}", 0 },
        { FA_HEAD "\"content\":[{\"type\":\"text\"}]," FA_STOP FA_USAGE "}",
          0 },
        { FA_HEAD "\"content\":[{\"type\":\"text\",\"text\":7}]," FA_STOP
          FA_USAGE "}", 0 },
        { "{\"id\":\"msg_1\",\"type\":\"error\",\"role\":\"assistant\","
          FA_TEXT FA_STOP FA_USAGE "}", 0 },
        { "{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"user\","
          FA_TEXT FA_STOP FA_USAGE "}", 0 },
        { "{\"id\":7,\"type\":\"message\",\"role\":\"assistant\","
          FA_TEXT FA_STOP FA_USAGE "}", 0 },
        /* not JSON for the fast path (cJSON takes the first) */
        { FA_HEAD FA_TEXT FA_STOP FA_USAGE "} x", 0 },
        { FA_HEAD FA_TEXT FA_STOP FA_USAGE ",}", 0 },
        { FA_HEAD FA_TEXT FA_STOP FA_USAGE, 0 },
        { FA_HEAD "\"content\":[{\"type\":\"text\",\"text\":\"a\tb\"}],"
          FA_STOP FA_USAGE "}", 0 },
        { "{}", 0 },
        { "[]", 0 },
        { NULL, 0 }
    };

    for (i = 0; cases[i].body; i++) {
        d = cases[i].body;
        n = strlen(d);
        snprintf(name, sizeof(name), "fast answer %zu", i);

        memset(&x, 0, sizeof(x));
        memset(&y, 0, sizeof(y));

        rc = ngx_http_llm_xlate_cm_fast_answer((const unsigned char *) d, n,
                                               "gpt-4o\"", 1700000000, &x);
        taken = (rc != NGX_HTTP_LLM_XLATE_DECLINED);
        check(taken == cases[i].taken, name, "taken", d, NULL);
        check(taken || x.len == 0, name, "declined writes nothing", d, NULL);

        if (taken) {
            shifted = malloc(n + 1);
            shifted[0] = '\x01';
            memcpy(shifted + 1, d, n);

            rc2 = ngx_http_llm_xlate_response(MESSAGES, CHAT,
                      (const unsigned char *) shifted, n + 1, "gpt-4o\"",
                      1700000000, &y);
            free(shifted);

            ngx_http_llm_xlate_buf_append(&x, "", 1);
            ngx_http_llm_xlate_buf_append(&y, "", 1);

            check(rc == NGX_HTTP_LLM_XLATE_OK && rc == rc2
                  && strcmp((char *) x.data, (char *) y.data) == 0,
                  name, "fast = general", (char *) x.data, (char *) y.data);
        }

        ngx_http_llm_xlate_buf_free(&x);
        ngx_http_llm_xlate_buf_free(&y);
    }
}


int
main(void)
{
    test_print();
    test_requests();
    test_responses();
    test_errors();
    test_sse();
    test_sse_bounds();
    test_fast();
    test_fast_request();
    test_fast_answer();

    printf("%lu passed, %lu failed\n", passed, failed);

    return failed ? 1 : 0;
}
