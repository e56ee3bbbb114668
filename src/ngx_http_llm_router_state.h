
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * The state file, inside: its format constants and the tables of the
 * counters it keeps (ngx_http_llm_router_state.c), which the loader
 * (_state_load.c) and the writer (_state_save.c) both walk; the series
 * are described by ngx_http_llm_series_types[].  Only the state files
 * include this header.
 */


#ifndef _NGX_HTTP_LLM_ROUTER_STATE_H_INCLUDED_
#define _NGX_HTTP_LLM_ROUTER_STATE_H_INCLUDED_


#include "ngx_http_llm_router.h"


#define NGX_HTTP_LLM_STATE_MAGIC      "ngx_http_llm_router state"
#define NGX_HTTP_LLM_STATE_VERSION    1
#define NGX_HTTP_LLM_STATE_LABEL_MAX  1023
#define NGX_HTTP_LLM_STATE_NAME_MAX   1024
#define NGX_HTTP_LLM_STATE_INT_MAX    ((int64_t) 1 << 62)
#define NGX_HTTP_LLM_STATE_WINDOW_MAX ((int64_t) 1 << 40)


/* a counter of the zone that the file keeps: "name": n integers */
typedef struct {
    const char                      *name;
    size_t                           offset;  /* in its struct */
    ngx_uint_t                       n;       /* 1: a number; or an array */
    ngx_uint_t                       atomic;  /* ngx_atomic_t, or int64_t */
} ngx_http_llm_state_field_t;


/* "totals": in ngx_http_llm_shctx_t; "providers": in the provider node */
extern const ngx_http_llm_state_field_t  ngx_http_llm_state_totals_fields[];
extern const ngx_http_llm_state_field_t  ngx_http_llm_state_provider_fields[];


static ngx_inline int64_t
ngx_http_llm_state_get(const ngx_http_llm_state_field_t *f, void *base,
    ngx_uint_t i)
{
    u_char  *p;

    p = (u_char *) base + f->offset;

    if (f->atomic) {
        return (int64_t) ((ngx_atomic_t *) p)[i];
    }

    return ((int64_t *) p)[i];
}


static ngx_inline void
ngx_http_llm_state_set(const ngx_http_llm_state_field_t *f, void *base,
    ngx_uint_t i, int64_t v)
{
    u_char  *p;

    p = (u_char *) base + f->offset;

    if (f->atomic) {
        ((ngx_atomic_t *) p)[i] = (ngx_atomic_uint_t) v;
        return;
    }

    ((int64_t *) p)[i] = v;
}


#endif /* _NGX_HTTP_LLM_ROUTER_STATE_H_INCLUDED_ */
