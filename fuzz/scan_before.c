/*
 * See scan_simd.c: the scanner as it was before the changes of issue 10
 * (before/, commit 22ec530), the oracle fuzz_simd holds the request
 * signals (input, user text, tools, images) and everything else to.
 */

#define ngx_http_llm_json_scan      ngx_http_llm_json_scan_before
#define ngx_http_llm_json_strerror  ngx_http_llm_json_strerror_before
#define ngx_http_llm_json_string    ngx_http_llm_json_string_before
#define ngx_http_llm_json_unescape  ngx_http_llm_json_unescape_before

#include "before/ngx_http_llm_router_json.c"
#include "before/ngx_http_llm_router_json_string.c"
