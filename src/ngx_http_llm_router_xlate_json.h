
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * API translation, the bottom layer: the translators' results, their
 * output buffer, the JSON writer and cJSON's scratch arena
 * (ngx_http_llm_router_xlate_json.c).  Plain C99, as the translators.
 */


#ifndef _NGX_HTTP_LLM_ROUTER_XLATE_JSON_H_INCLUDED_
#define _NGX_HTTP_LLM_ROUTER_XLATE_JSON_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>


/* results of the functions below */
#define NGX_HTTP_LLM_XLATE_OK          0
#define NGX_HTTP_LLM_XLATE_NOMEM      -1
/* the input is not what the format says (not JSON, wrong shape) */
#define NGX_HTTP_LLM_XLATE_BAD        -2
/* the SSE stream has an event larger than NGX_HTTP_LLM_XLATE_EVENT_MAX */
#define NGX_HTTP_LLM_XLATE_TOO_BIG    -3
/* a fast path does not take this input: the general path does */
#define NGX_HTTP_LLM_XLATE_DECLINED   -4


typedef struct {
    unsigned char                  *data;
    size_t                          len;
    size_t                          size;
} ngx_http_llm_xlate_buf_t;


int ngx_http_llm_xlate_buf_append(ngx_http_llm_xlate_buf_t *b,
    const void *p, size_t n);
/* the JSON writer (xlate_json.c): cJSON_PrintUnformatted's bytes, appended */
int ngx_http_llm_xlate_print(ngx_http_llm_xlate_buf_t *out,
    const cJSON *item);
int ngx_http_llm_xlate_print_str(ngx_http_llm_xlate_buf_t *b, const char *s);
int ngx_http_llm_xlate_print_int(ngx_http_llm_xlate_buf_t *b, int64_t v);
int ngx_http_llm_xlate_print_esc(ngx_http_llm_xlate_buf_t *b, const char *s);
int ngx_http_llm_xlate_print_num(ngx_http_llm_xlate_buf_t *b, double d);
int ngx_http_llm_xlate_buf_reserve(ngx_http_llm_xlate_buf_t *b, size_t n);
/* the entry points' scope of cJSON's scratch arena (xlate_json.c) */
void ngx_http_llm_xlate_enter(void);
void ngx_http_llm_xlate_leave(void);
void ngx_http_llm_xlate_arena_free(void);    /* at process exit */
size_t ngx_http_llm_xlate_arena_peak(void);


#endif /* _NGX_HTTP_LLM_ROUTER_XLATE_JSON_H_INCLUDED_ */
