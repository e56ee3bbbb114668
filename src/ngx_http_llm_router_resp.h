
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 */


#ifndef _NGX_HTTP_LLM_ROUTER_RESP_H_INCLUDED_
#define _NGX_HTTP_LLM_ROUTER_RESP_H_INCLUDED_


#include <hiredis/hiredis.h>


#define NGX_HTTP_LLM_RESP_MAX_ELEMENTS  1024
#define NGX_HTTP_LLM_RESP_MAX_STRING    65536

#define NGX_HTTP_LLM_RESP_INVALID       -1
#define NGX_HTTP_LLM_RESP_REFUSED       0
#define NGX_HTTP_LLM_RESP_RESERVED      1


redisReader *ngx_http_llm_resp_reader(void);
int ngx_http_llm_resp_reserve_at(const redisReply *reply, size_t *pos,
    size_t n, size_t *index, long long *left);
int ngx_http_llm_resp_reserve(const redisReply *reply, size_t n,
    size_t *index, long long *left);
int ngx_http_llm_resp_format(char **target, int argc, const char **argv,
    const size_t *argvlen);


#endif /* _NGX_HTTP_LLM_ROUTER_RESP_H_INCLUDED_ */
