
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * $llm_* variables.  All are non-cacheable: they change with every
 * attempt, and proxy re-reads them when the request is rebuilt for the
 * next provider.
 */


#include "ngx_http_llm_router.h"


#define NGX_HTTP_LLM_VAR_MODEL           0
#define NGX_HTTP_LLM_VAR_ROUTE           1
#define NGX_HTTP_LLM_VAR_PROVIDER        2
#define NGX_HTTP_LLM_VAR_UPSTREAM_MODEL  3
#define NGX_HTTP_LLM_VAR_ATTEMPTS        4
#define NGX_HTTP_LLM_VAR_STREAM          5
#define NGX_HTTP_LLM_VAR_HOST            6
#define NGX_HTTP_LLM_VAR_AUTHORIZATION   7
#define NGX_HTTP_LLM_VAR_X_API_KEY       8
#define NGX_HTTP_LLM_VAR_ANTHROPIC_VER   9
#define NGX_HTTP_LLM_VAR_PROMPT_TOKENS   10
#define NGX_HTTP_LLM_VAR_COMPL_TOKENS    11
#define NGX_HTTP_LLM_VAR_TOTAL_TOKENS    12
#define NGX_HTTP_LLM_VAR_COST            13
#define NGX_HTTP_LLM_VAR_TENANT          14
#define NGX_HTTP_LLM_VAR_TTFT            15
#define NGX_HTTP_LLM_VAR_API             16
#define NGX_HTTP_LLM_VAR_API_KEY         17
#define NGX_HTTP_LLM_VAR_X_GOOG_API_KEY  18


static ngx_int_t ngx_http_llm_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_str_t  ngx_http_llm_anthropic_version =
    ngx_string("anthropic-version");


static ngx_http_variable_t  ngx_http_llm_vars[] = {

    { ngx_string("llm_model"), NULL, ngx_http_llm_variable,
      NGX_HTTP_LLM_VAR_MODEL, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("llm_route"), NULL, ngx_http_llm_variable,
      NGX_HTTP_LLM_VAR_ROUTE, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("llm_provider"), NULL, ngx_http_llm_variable,
      NGX_HTTP_LLM_VAR_PROVIDER, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("llm_upstream_model"), NULL, ngx_http_llm_variable,
      NGX_HTTP_LLM_VAR_UPSTREAM_MODEL, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("llm_attempts"), NULL, ngx_http_llm_variable,
      NGX_HTTP_LLM_VAR_ATTEMPTS, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("llm_stream"), NULL, ngx_http_llm_variable,
      NGX_HTTP_LLM_VAR_STREAM, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("llm_upstream_host"), NULL, ngx_http_llm_variable,
      NGX_HTTP_LLM_VAR_HOST, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("llm_prompt_tokens"), NULL, ngx_http_llm_variable,
      NGX_HTTP_LLM_VAR_PROMPT_TOKENS, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("llm_completion_tokens"), NULL, ngx_http_llm_variable,
      NGX_HTTP_LLM_VAR_COMPL_TOKENS, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("llm_total_tokens"), NULL, ngx_http_llm_variable,
      NGX_HTTP_LLM_VAR_TOTAL_TOKENS, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("llm_cost"), NULL, ngx_http_llm_variable,
      NGX_HTTP_LLM_VAR_COST, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("llm_tenant"), NULL, ngx_http_llm_variable,
      NGX_HTTP_LLM_VAR_TENANT, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("llm_ttft"), NULL, ngx_http_llm_variable,
      NGX_HTTP_LLM_VAR_TTFT, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("llm_api"), NULL, ngx_http_llm_variable,
      NGX_HTTP_LLM_VAR_API, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    /* secrets: for conf/llm_params' proxy_set_header only */

    { ngx_string("llm_upstream_authorization"), NULL, ngx_http_llm_variable,
      NGX_HTTP_LLM_VAR_AUTHORIZATION, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("llm_upstream_x_api_key"), NULL, ngx_http_llm_variable,
      NGX_HTTP_LLM_VAR_X_API_KEY, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("llm_upstream_api_key"), NULL, ngx_http_llm_variable,
      NGX_HTTP_LLM_VAR_API_KEY, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("llm_upstream_x_goog_api_key"), NULL, ngx_http_llm_variable,
      NGX_HTTP_LLM_VAR_X_GOOG_API_KEY, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("llm_upstream_anthropic_version"), NULL,
      ngx_http_llm_variable, NGX_HTTP_LLM_VAR_ANTHROPIC_VER,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


/* the variables of the request's context, its signals, the cache key */
static ngx_http_variable_t  *ngx_http_llm_var_tables[] = {
    ngx_http_llm_vars,
    ngx_http_llm_signal_vars,
    ngx_http_llm_cache_vars,
    NULL
};


ngx_int_t
ngx_http_llm_add_variables(ngx_conf_t *cf)
{
    ngx_uint_t            i;
    ngx_http_variable_t  *var, *v;

    for (i = 0; ngx_http_llm_var_tables[i]; i++) {
        for (v = ngx_http_llm_var_tables[i]; v->name.len; v++) {
            var = ngx_http_add_variable(cf, &v->name, v->flags);
            if (var == NULL) {
                return NGX_ERROR;
            }

            var->get_handler = v->get_handler;
            var->data = v->data;
        }
    }

    return NGX_OK;
}


/*
 * The $llm_* variables of the context, one case per variable.  Over 150
 * lines: a switch of short cases, one per variable.
 */

static ngx_int_t
ngx_http_llm_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    u_char                   *p;
    ngx_str_t                 s;
    ngx_table_elt_t          *h;
    ngx_http_llm_ctx_t       *ctx;
    ngx_http_llm_provider_t  *prov;

    ctx = ngx_http_llm_get_ctx(r->main);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    prov = ctx->target ? ctx->target->provider : NULL;
    ngx_str_null(&s);

    switch (data) {

    case NGX_HTTP_LLM_VAR_MODEL:
        s = ctx->model;
        break;

    case NGX_HTTP_LLM_VAR_ROUTE:
        if (ctx->route) {
            s = ctx->route->name;
        }
        break;

    case NGX_HTTP_LLM_VAR_PROVIDER:
        if (prov) {
            s = prov->name;
        }
        break;

    case NGX_HTTP_LLM_VAR_UPSTREAM_MODEL:
        s = ctx->upstream_model;
        break;

    case NGX_HTTP_LLM_VAR_ATTEMPTS:
        if (ngx_http_llm_attempts_string(r, ctx, &s) != NGX_OK) {
            return NGX_ERROR;
        }
        break;

    case NGX_HTTP_LLM_VAR_STREAM:
        if (ctx->stream) {
            ngx_str_set(&s, "1");
        }
        break;

    case NGX_HTTP_LLM_VAR_HOST:
        if (prov) {
            s = prov->host_header;
        }
        break;

    case NGX_HTTP_LLM_VAR_AUTHORIZATION:
        if (prov && prov->api == NGX_HTTP_LLM_API_OPENAI) {
            s = ctx->key;
        }
        break;

    case NGX_HTTP_LLM_VAR_API:
        /* the API the provider spoke (the client's may differ) */
        if (prov) {
            s = ngx_http_llm_api_names[prov->api];
        }
        break;

    case NGX_HTTP_LLM_VAR_API_KEY:
        if (prov && prov->api == NGX_HTTP_LLM_API_AZURE) {
            s = ctx->key;
        }
        break;

    case NGX_HTTP_LLM_VAR_X_GOOG_API_KEY:
        if (prov && prov->api == NGX_HTTP_LLM_API_GEMINI) {
            s = ctx->key;
        }
        break;

    case NGX_HTTP_LLM_VAR_X_API_KEY:
        if (prov && prov->api == NGX_HTTP_LLM_API_ANTHROPIC) {
            s = ctx->key;
        }
        break;

    case NGX_HTTP_LLM_VAR_PROMPT_TOKENS:
    case NGX_HTTP_LLM_VAR_COMPL_TOKENS:
    case NGX_HTTP_LLM_VAR_TOTAL_TOKENS:
        if (!ctx->usage.seen) {
            break;
        }

        p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
        if (p == NULL) {
            return NGX_ERROR;
        }

        s.data = p;
        s.len = ngx_sprintf(p, "%L",
                            data == NGX_HTTP_LLM_VAR_PROMPT_TOKENS
                            ? ctx->usage.prompt_tokens
                            : data == NGX_HTTP_LLM_VAR_COMPL_TOKENS
                            ? ctx->usage.completion_tokens
                            : ctx->usage.prompt_tokens
                              + ctx->usage.completion_tokens)
                - p;
        break;

    case NGX_HTTP_LLM_VAR_COST:
        if (!ctx->usage.seen) {
            break;
        }

        /* USD with nine decimals: nano-USD is what is counted */

        p = ngx_pnalloc(r->pool, NGX_INT64_LEN + 2);
        if (p == NULL) {
            return NGX_ERROR;
        }

        s.data = p;
        s.len = ngx_sprintf(p, "%L.%09L", ctx->usage.cost / 1000000000,
                            ctx->usage.cost % 1000000000)
                - p;
        break;

    case NGX_HTTP_LLM_VAR_TENANT:
        s = ctx->tenant;
        break;

    case NGX_HTTP_LLM_VAR_TTFT:
        if (!ctx->usage.ttft_set) {
            break;
        }

        p = ngx_pnalloc(r->pool, NGX_INT_T_LEN + 4);
        if (p == NULL) {
            return NGX_ERROR;
        }

        s.data = p;
        s.len = ngx_sprintf(p, "%M.%03M", ctx->usage.ttft / 1000,
                            ctx->usage.ttft % 1000)
                - p;
        break;

    default: /* NGX_HTTP_LLM_VAR_ANTHROPIC_VER */
        if (prov && prov->api == NGX_HTTP_LLM_API_ANTHROPIC) {
            /* the client's own anthropic-version, if it sent one */
            h = ngx_http_llm_find_header(&r->headers_in.headers,
                                         &ngx_http_llm_anthropic_version);

            if (h && h->value.len) {
                s = h->value;

            } else {
                ngx_str_set(&s, NGX_HTTP_LLM_ANTHROPIC_VERSION);
            }
        }
        break;
    }

    if (s.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = s.data;
    v->len = s.len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}
