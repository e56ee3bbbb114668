/*
 * See scan_simd.c: the same scanner with SSE2 only, as on an x86-64 CPU
 * without AVX2 (elsewhere the same as scan_simd.c).
 */

#define NGX_HTTP_LLM_JSON_NO_AVX2  1

#define ngx_http_llm_json_scan      ngx_http_llm_json_scan_sse2
#define ngx_http_llm_json_strerror  ngx_http_llm_json_strerror_sse2
#define ngx_http_llm_json_string    ngx_http_llm_json_string_sse2_only
#define ngx_http_llm_json_unescape  ngx_http_llm_json_unescape_sse2
#define ngx_http_llm_json_number_end  ngx_http_llm_json_number_end_sse2
#define ngx_http_llm_json_int_value  ngx_http_llm_json_int_value_sse2

#include "../src/ngx_http_llm_router_json.c"
#include "../src/ngx_http_llm_router_json_string.c"
