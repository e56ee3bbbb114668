/* See scan_simd.c: the same scanner with its portable word loop. */

#define NGX_HTTP_LLM_JSON_PORTABLE  1

#define ngx_http_llm_json_scan      ngx_http_llm_json_scan_portable
#define ngx_http_llm_json_strerror  ngx_http_llm_json_strerror_portable
#define ngx_http_llm_json_string    ngx_http_llm_json_string_portable
#define ngx_http_llm_json_unescape  ngx_http_llm_json_unescape_portable
#define ngx_http_llm_json_number_end  ngx_http_llm_json_number_end_portable
#define ngx_http_llm_json_int_value  ngx_http_llm_json_int_value_portable

#include "../src/ngx_http_llm_router_json.c"
#include "../src/ngx_http_llm_router_json_string.c"
