
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * llm_upstream's presets (preset=) and the names of the APIs (api=,
 * $llm_api): tables only, read by upstream.c and variables.c.
 */


#include "ngx_http_llm_router.h"


/*
 * Anthropic-compatible endpoints (for Claude Code), per the providers'
 * references:
 *   deepseek  https://api-docs.deepseek.com/guides/anthropic_api
 *   qwen      https://help.aliyun.com/zh/model-studio/anthropic-api-messages
 *   moonshot  https://platform.moonshot.cn/docs (/anthropic/v1/messages)
 *   zhipu     https://docs.bigmodel.cn (Claude Code: /api/anthropic)
 *   minimax   https://platform.minimax.io/docs/api-reference/text-anthropic-api
 * OpenAI-compatible ones:
 *   hunyuan   https://cloud.tencent.com/document/product/1729/111007
 *   qianfan   https://cloud.baidu.com/doc/WENXINWORKSHOP/s/2m3fihw8s
 *   siliconflow https://docs.siliconflow.cn/docs/userguide/quickstart
 * Native APIs:
 *   gemini    https://ai.google.dev/api/generate-content (api=gemini:
 *             /v1beta/models/{model}:generateContent, x-goog-api-key)
 *   azure     https://learn.microsoft.com/azure/ai-foundry/openai/reference
 *             (host=RESOURCE.openai.azure.com, /openai/deployments/{model}/
 *             ...?api-version=, api-key; 2024-10-21 is the latest GA
 *             version of the dated inference API)
 */

/*
 * Presets whose provider serves the Responses API itself; every other
 * OpenAI-API provider gets Responses requests as chat completions.
 */
const char  *ngx_http_llm_responses_presets[] = {
    "openai", NULL
};


/* $llm_api, by api= */
ngx_str_t  ngx_http_llm_api_names[] = {
    ngx_string("openai"),
    ngx_string("anthropic"),
    ngx_string("gemini"),
    ngx_string("azure")
};


ngx_http_llm_preset_t  ngx_http_llm_presets[] = {
    { "openai", NGX_HTTP_LLM_API_OPENAI, "api.openai.com", 443, 1, "/v1",
      NULL, NULL },
    { "anthropic", NGX_HTTP_LLM_API_ANTHROPIC, "api.anthropic.com", 443, 1,
      "/v1", NULL, NULL },
    { "deepseek", NGX_HTTP_LLM_API_OPENAI, "api.deepseek.com", 443, 1,
      "/v1", NULL, "/anthropic/v1" },
    { "qwen", NGX_HTTP_LLM_API_OPENAI, "dashscope.aliyuncs.com", 443, 1,
      "/compatible-mode/v1", NULL, "/apps/anthropic/v1" },
    { "moonshot", NGX_HTTP_LLM_API_OPENAI, "api.moonshot.cn", 443, 1,
      "/v1", NULL, "/anthropic/v1" },
    { "zhipu", NGX_HTTP_LLM_API_OPENAI, "open.bigmodel.cn", 443, 1,
      "/api/paas/v4", NULL, "/api/anthropic/v1" },
    { "doubao", NGX_HTTP_LLM_API_OPENAI, "ark.cn-beijing.volces.com", 443, 1,
      "/api/v3", NULL, NULL },
    { "minimax", NGX_HTTP_LLM_API_OPENAI, "api.minimax.chat", 443, 1,
      "/v1", "api.minimax.io", "/anthropic/v1" },
    { "gemini", NGX_HTTP_LLM_API_OPENAI,
      "generativelanguage.googleapis.com", 443, 1, "/v1beta/openai",
      NULL, NULL },
    /* the host is the resource's: host=RESOURCE.openai.azure.com */
    { "azure", NGX_HTTP_LLM_API_AZURE, NULL, 443, 1, "", NULL, NULL },
    { "mistral", NGX_HTTP_LLM_API_OPENAI, "api.mistral.ai", 443, 1, "/v1",
      NULL, NULL },
    { "groq", NGX_HTTP_LLM_API_OPENAI, "api.groq.com", 443, 1,
      "/openai/v1", NULL, NULL },
    { "openrouter", NGX_HTTP_LLM_API_OPENAI, "openrouter.ai", 443, 1,
      "/api/v1", NULL, NULL },
    { "together", NGX_HTTP_LLM_API_OPENAI, "api.together.xyz", 443, 1,
      "/v1", NULL, NULL },
    { "xai", NGX_HTTP_LLM_API_OPENAI, "api.x.ai", 443, 1, "/v1",
      NULL, NULL },
    { "hunyuan", NGX_HTTP_LLM_API_OPENAI, "api.hunyuan.cloud.tencent.com",
      443, 1, "/v1", NULL, NULL },
    { "qianfan", NGX_HTTP_LLM_API_OPENAI, "qianfan.baidubce.com", 443, 1,
      "/v2", NULL, NULL },
    { "siliconflow", NGX_HTTP_LLM_API_OPENAI, "api.siliconflow.cn", 443, 1,
      "/v1", NULL, NULL },
    { "ollama", NGX_HTTP_LLM_API_OPENAI, "127.0.0.1", 11434, 0, "/v1",
      NULL, NULL },
    { "vllm", NGX_HTTP_LLM_API_OPENAI, "127.0.0.1", 8000, 0, "/v1",
      NULL, NULL },
    { NULL, 0, NULL, 0, 0, NULL, NULL, NULL }
};
