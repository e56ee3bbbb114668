/*
 * The scanner built twice into one binary for fuzz_simd.c: this file as
 * the platform's SIMD variant (SSE2 / NEON), scan_portable.c as the word
 * loop.  The renames keep the two builds' public symbols apart.
 */

#define ngx_http_llm_json_scan      ngx_http_llm_json_scan_simd
#define ngx_http_llm_json_strerror  ngx_http_llm_json_strerror_simd
#define ngx_http_llm_json_string    ngx_http_llm_json_string_simd
#define ngx_http_llm_json_unescape  ngx_http_llm_json_unescape_simd
#define ngx_http_llm_json_number_end  ngx_http_llm_json_number_end_simd
#define ngx_http_llm_json_int_value  ngx_http_llm_json_int_value_simd

#include "../src/ngx_http_llm_router_json.c"
#include "../src/ngx_http_llm_router_json_string.c"
