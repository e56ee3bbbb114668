
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * nginx core stubs for the fuzz harnesses (ngx_stubs.c).
 */


#ifndef _NGX_STUBS_H_INCLUDED_
#define _NGX_STUBS_H_INCLUDED_


extern ngx_uint_t  ngx_stubs_zero;

void *ngx_stubs_alloc(size_t size);
void *ngx_stubs_palloc(ngx_pool_t *pool, size_t size);
ngx_uint_t ngx_stubs_pool_holds(ngx_pool_t *pool, u_char *s, size_t n);
size_t ngx_stubs_pool_bytes(void);
void ngx_stubs_pool_reset(void);


#endif /* _NGX_STUBS_H_INCLUDED_ */
