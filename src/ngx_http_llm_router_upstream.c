
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * llm_upstream: providers, presets, credentials and failure policy.
 */


#include "ngx_http_llm_router.h"


#define NGX_HTTP_LLM_KEY_FILE_MAX  (1024 * 1024)


/* what llm_upstream's parameters said, before a preset fills the gaps */
typedef struct {
    ngx_http_llm_preset_t           *preset;
    ngx_uint_t                       api;
    ngx_flag_t                       tls;
    in_port_t                        port;
    ngx_str_t                        host;
    ngx_str_t                        path;
    ngx_str_t                        upstream;
    ngx_str_t                        key;
    ngx_str_t                        key_file;
    ngx_str_t                        key_env;
    ngx_str_t                        fail_on;
    ngx_uint_t                       nkeysrc;
    ngx_str_t                        api_version;
} ngx_http_llm_upstream_args_t;


static ngx_int_t ngx_http_llm_upstream_param(ngx_conf_t *cf,
    ngx_http_llm_provider_t *prov, ngx_http_llm_upstream_args_t *a,
    ngx_str_t *v);
static ngx_int_t ngx_http_llm_upstream_address(ngx_conf_t *cf,
    ngx_http_llm_main_conf_t *lmcf, ngx_http_llm_provider_t *prov,
    ngx_http_llm_upstream_args_t *a);
static ngx_int_t ngx_http_llm_upstream_api_version(ngx_conf_t *cf,
    ngx_http_llm_provider_t *prov, ngx_http_llm_upstream_args_t *a);
static ngx_int_t ngx_http_llm_upstream_keys(ngx_conf_t *cf,
    ngx_http_llm_provider_t *prov, ngx_http_llm_upstream_args_t *a);
static ngx_int_t ngx_http_llm_parse_fail_on(ngx_conf_t *cf,
    ngx_http_llm_provider_t *p, ngx_str_t *value);
static void ngx_http_llm_fail_on_default(ngx_http_llm_provider_t *p);
static ngx_int_t ngx_http_llm_add_key(ngx_conf_t *cf,
    ngx_http_llm_provider_t *p, u_char *key, size_t len);
static ngx_int_t ngx_http_llm_upstream_responses(ngx_conf_t *cf,
    ngx_http_llm_provider_t *p, ngx_uint_t api,
    ngx_http_llm_preset_t *preset);


/* statuses that fail over unless fail_on= says otherwise */
static ngx_uint_t  ngx_http_llm_default_fail_status[] = {
    429, 500, 502, 503, 504, 529, 0
};


/*
 * llm_upstream name [preset=] [api=] [upstream=|host= port= tls= path=]
 * [key=|key_file=|key_env=] [limits and timeouts] [check parameters]
 */

char *
ngx_http_llm_upstream_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_llm_main_conf_t *lmcf = conf;

    u_char                        *p;
    ngx_int_t                      n;
    ngx_str_t                     *value;
    ngx_uint_t                     i;
    ngx_http_llm_provider_t       *prov;
    ngx_http_llm_upstream_args_t   a;

    value = cf->args->elts;

    if (ngx_http_llm_find_provider(lmcf, &value[1]) != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate llm_upstream \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    for (p = value[1].data; p < value[1].data + value[1].len; p++) {
        if (*p == ':' || *p <= ' ' || *p == 0x7f) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid llm_upstream name \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    prov = ngx_array_push(&lmcf->providers);
    if (prov == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(prov, sizeof(ngx_http_llm_provider_t));

    prov->name = value[1];
    prov->index = lmcf->providers.nelts - 1;
    prov->file_name = cf->conf_file->file.name.data;
    prov->line = cf->conf_file->line;
    prov->max_fails = NGX_CONF_UNSET_UINT;
    prov->fail_timeout = NGX_CONF_UNSET_MSEC;
    prov->connect_timeout = NGX_CONF_UNSET_MSEC;
    prov->read_timeout = NGX_CONF_UNSET_MSEC;
    prov->responses = NGX_CONF_UNSET;

    ngx_memzero(&a, sizeof(ngx_http_llm_upstream_args_t));

    a.api = NGX_CONF_UNSET_UINT;
    a.tls = NGX_CONF_UNSET;

    for (i = 2; i < cf->args->nelts; i++) {

        n = ngx_http_llm_upstream_param(cf, prov, &a, &value[i]);

        if (n == NGX_OK) {
            continue;
        }

        if (n == NGX_ERROR) {
            return NGX_CONF_ERROR;
        }

        n = ngx_http_llm_health_param(cf, prov, &value[i]);

        if (n == NGX_OK) {
            continue;
        }

        if (n == NGX_ERROR) {
            return NGX_CONF_ERROR;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\" in llm_upstream \"%V\"",
                           &value[i], &prov->name);
        return NGX_CONF_ERROR;
    }

    if (a.nkeysrc > 1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "llm_upstream \"%V\" takes only one of \"key=\", "
                           "\"key_file=\" and \"key_env=\"", &prov->name);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_llm_upstream_address(cf, lmcf, prov, &a) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_llm_upstream_api_version(cf, prov, &a) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_llm_upstream_keys(cf, prov, &a) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /* failure policy */

    if (prov->max_fails == NGX_CONF_UNSET_UINT) {
        prov->max_fails = 1;
    }

    if (prov->fail_timeout == NGX_CONF_UNSET_MSEC) {
        prov->fail_timeout = 10000;
    }

    if (a.fail_on.data) {
        if (ngx_http_llm_parse_fail_on(cf, prov, &a.fail_on) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

    } else {
        ngx_http_llm_fail_on_default(prov);
    }

    if (ngx_http_llm_health_conf(cf, lmcf, prov,
                                 a.preset ? a.preset->name : NULL)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * One parameter of llm_upstream other than the check ones: NGX_OK, or
 * NGX_ERROR (said), or NGX_DECLINED: not one of these.  Over 150 lines:
 * a flat list of some fifteen parameters, each checked where it is read.
 */

static ngx_int_t
ngx_http_llm_upstream_param(ngx_conf_t *cf, ngx_http_llm_provider_t *prov,
    ngx_http_llm_upstream_args_t *a, ngx_str_t *v)
{
    u_char      *p;
    ngx_int_t    n;
    ngx_str_t    s;
    ngx_msec_t   ms;

    if (ngx_strncmp(v->data, "preset=", 7) == 0) {
        s.data = v->data + 7;
        s.len = v->len - 7;

        for (a->preset = ngx_http_llm_presets; a->preset->name; a->preset++) {
            if (s.len == ngx_strlen(a->preset->name)
                && ngx_strncmp(s.data, a->preset->name, s.len) == 0)
            {
                break;
            }
        }

        if (a->preset->name == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown preset \"%V\"", &s);
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    if (ngx_strncmp(v->data, "api=", 4) == 0) {
        s.data = v->data + 4;
        s.len = v->len - 4;

        if (s.len == 6 && ngx_strncmp(s.data, "openai", 6) == 0) {
            a->api = NGX_HTTP_LLM_API_OPENAI;

        } else if (s.len == 9 && ngx_strncmp(s.data, "anthropic", 9) == 0)
        {
            a->api = NGX_HTTP_LLM_API_ANTHROPIC;

        } else if (s.len == 6 && ngx_strncmp(s.data, "gemini", 6) == 0) {
            a->api = NGX_HTTP_LLM_API_GEMINI;

        } else if (s.len == 5 && ngx_strncmp(s.data, "azure", 5) == 0) {
            a->api = NGX_HTTP_LLM_API_AZURE;

        } else {
            goto invalid;
        }

        return NGX_OK;
    }

    if (ngx_strncmp(v->data, "api_version=", 12) == 0) {
        a->api_version.data = v->data + 12;
        a->api_version.len = v->len - 12;

        /* it goes into the query string as it is */
        for (p = a->api_version.data;
             p < a->api_version.data + a->api_version.len;
             p++)
        {
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
                  || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'
                  || *p == '_'))
            {
                goto invalid;
            }
        }

        if (a->api_version.len == 0) {
            goto invalid;
        }

        return NGX_OK;
    }

    if (ngx_strncmp(v->data, "upstream=", 9) == 0) {
        a->upstream.data = v->data + 9;
        a->upstream.len = v->len - 9;

        if (a->upstream.len == 0) {
            goto invalid;
        }

        return NGX_OK;
    }

    if (ngx_strncmp(v->data, "host=", 5) == 0) {
        a->host.data = v->data + 5;
        a->host.len = v->len - 5;

        if (a->host.len == 0
            || ngx_strlchr(a->host.data, a->host.data + a->host.len, '/')
            || ngx_strlchr(a->host.data, a->host.data + a->host.len, ' '))
        {
            goto invalid;
        }

        return NGX_OK;
    }

    if (ngx_strncmp(v->data, "port=", 5) == 0) {
        n = ngx_atoi(v->data + 5, v->len - 5);
        if (n < 1 || n > 65535) {
            goto invalid;
        }

        a->port = (in_port_t) n;
        return NGX_OK;
    }

    if (ngx_strncmp(v->data, "tls=", 4) == 0) {
        s.data = v->data + 4;
        s.len = v->len - 4;

        if (s.len == 2 && ngx_strncmp(s.data, "on", 2) == 0) {
            a->tls = 1;

        } else if (s.len == 3 && ngx_strncmp(s.data, "off", 3) == 0) {
            a->tls = 0;

        } else {
            goto invalid;
        }

        return NGX_OK;
    }

    if (ngx_strncmp(v->data, "path=", 5) == 0) {
        a->path.data = v->data + 5;
        a->path.len = v->len - 5;

        if (a->path.len && a->path.data[0] != '/') {
            goto invalid;
        }

        for (p = a->path.data; p < a->path.data + a->path.len; p++) {
            if (*p <= ' ' || *p == '?' || *p == '#' || *p == 0x7f) {
                goto invalid;
            }
        }

        while (a->path.len && a->path.data[a->path.len - 1] == '/') {
            a->path.len--;
        }

        return NGX_OK;
    }

    if (ngx_strncmp(v->data, "key=", 4) == 0) {
        a->key.data = v->data + 4;
        a->key.len = v->len - 4;
        a->nkeysrc++;

        if (a->key.len == 0) {
            goto invalid;
        }

        return NGX_OK;
    }

    if (ngx_strncmp(v->data, "key_file=", 9) == 0) {
        a->key_file.data = v->data + 9;
        a->key_file.len = v->len - 9;
        a->nkeysrc++;

        if (a->key_file.len == 0) {
            goto invalid;
        }

        return NGX_OK;
    }

    if (ngx_strncmp(v->data, "key_env=", 8) == 0) {
        a->key_env.data = v->data + 8;
        a->key_env.len = v->len - 8;
        a->nkeysrc++;

        if (a->key_env.len == 0) {
            goto invalid;
        }

        return NGX_OK;
    }

    if (ngx_strncmp(v->data, "max_tokens_default=", 19) == 0) {
        n = ngx_atoi(v->data + 19, v->len - 19);
        if (n == NGX_ERROR || n == 0) {
            goto invalid;
        }

        prov->max_tokens_default = n;
        return NGX_OK;
    }

    if (ngx_strcmp(v->data, "responses=on") == 0
        || ngx_strcmp(v->data, "responses=off") == 0)
    {
        prov->responses = (v->data[11] == 'n');
        return NGX_OK;
    }

    if (ngx_strncmp(v->data, "max_fails=", 10) == 0) {
        n = ngx_atoi(v->data + 10, v->len - 10);
        if (n == NGX_ERROR) {
            goto invalid;
        }

        prov->max_fails = n;
        return NGX_OK;
    }

    if (ngx_strncmp(v->data, "fail_timeout=", 13) == 0) {
        s.data = v->data + 13;
        s.len = v->len - 13;

        ms = ngx_parse_time(&s, 0);
        if (ms == (ngx_msec_t) NGX_ERROR || ms == 0) {
            goto invalid;
        }

        prov->fail_timeout = ms;
        return NGX_OK;
    }

    if (ngx_strncmp(v->data, "connect_timeout=", 16) == 0) {
        s.data = v->data + 16;
        s.len = v->len - 16;

        ms = ngx_parse_time(&s, 0);
        if (ms == (ngx_msec_t) NGX_ERROR || ms == 0) {
            goto invalid;
        }

        prov->connect_timeout = ms;
        return NGX_OK;
    }

    if (ngx_strncmp(v->data, "read_timeout=", 13) == 0) {
        s.data = v->data + 13;
        s.len = v->len - 13;

        ms = ngx_parse_time(&s, 0);
        if (ms == (ngx_msec_t) NGX_ERROR || ms == 0) {
            goto invalid;
        }

        prov->read_timeout = ms;
        return NGX_OK;
    }

    if (ngx_strncmp(v->data, "fail_on=", 8) == 0) {
        a->fail_on.data = v->data + 8;
        a->fail_on.len = v->len - 8;
        return NGX_OK;
    }

    return NGX_DECLINED;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid value \"%V\" in llm_upstream \"%V\"",
                       v, &prov->name);
    return NGX_ERROR;
}


/*
 * Where the provider is: the preset first, then what was given explicitly;
 * its URIs and upstream{} (or host:port).  Over 150 lines on purpose: one
 * short step per source of the address, in the order they override.
 */

static ngx_int_t
ngx_http_llm_upstream_address(ngx_conf_t *cf, ngx_http_llm_main_conf_t *lmcf,
    ngx_http_llm_provider_t *prov, ngx_http_llm_upstream_args_t *a)
{
    u_char      *p;
    ngx_str_t    s;
    ngx_url_t    u;
    ngx_uint_t   i;
    const char  *phost, *ppath;

    /* the preset first, then whatever was given explicitly */

    if (a->preset) {
        if (a->api == NGX_CONF_UNSET_UINT) {
            a->api = a->preset->api;
        }

        /* the preset's endpoint for the API it is given */

        phost = a->preset->host;
        ppath = a->preset->path;

        if (a->api == NGX_HTTP_LLM_API_ANTHROPIC && a->preset->anthropic_path) {
            ppath = a->preset->anthropic_path;

            if (a->preset->anthropic_host) {
                phost = a->preset->anthropic_host;
            }
        }

        if (a->api == NGX_HTTP_LLM_API_GEMINI
            && ngx_strcmp(a->preset->name, "gemini") == 0)
        {
            /* Google's native API, beside its OpenAI-compatible one */
            ppath = "/v1beta";
        }

        if (phost == NULL && a->host.data == NULL && a->upstream.data == NULL)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "llm_upstream \"%V\" needs \"host=\" with "
                               "preset \"%s\" (the resource's host, e.g. "
                               "RESOURCE.openai.azure.com)", &prov->name,
                               a->preset->name);
            return NGX_ERROR;
        }

        if (a->tls == NGX_CONF_UNSET) {
            a->tls = a->preset->tls;
        }

        if (a->host.data == NULL && phost) {
            a->host.data = (u_char *) phost;
            a->host.len = ngx_strlen(phost);

            if (a->port == 0) {
                a->port = a->preset->port;
            }
        }

        if (a->path.data == NULL) {
            a->path.data = (u_char *) ppath;
            a->path.len = ngx_strlen(ppath);
        }
    }

    if (a->api == NGX_CONF_UNSET_UINT) {
        a->api = NGX_HTTP_LLM_API_OPENAI;
    }

    if (ngx_http_llm_upstream_responses(cf, prov, a->api, a->preset)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (a->tls == NGX_CONF_UNSET) {
        a->tls = 1;
    }

    if (a->port == 0) {
        a->port = a->tls ? 443 : 80;
    }

    if (a->path.data == NULL) {
        ngx_str_set(&a->path, "");
    }

    if (a->host.data == NULL && a->upstream.data == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "llm_upstream \"%V\" needs \"host=\", "
                           "\"upstream=\" or \"preset=\"", &prov->name);
        return NGX_ERROR;
    }

    if (a->host.data == NULL) {
        a->host = a->upstream;
    }

    prov->api = a->api;
    prov->tls = a->tls;
    prov->port = a->port;
    prov->path = a->path;
    prov->host = a->host;

    if ((a->tls && a->port == 443) || (!a->tls && a->port == 80)) {
        prov->host_header = a->host;

    } else {
        prov->host_header.data = ngx_pnalloc(cf->pool, a->host.len + 6);
        if (prov->host_header.data == NULL) {
            return NGX_ERROR;
        }

        prov->host_header.len = ngx_sprintf(prov->host_header.data, "%V:%d",
                                            &a->host, (int) a->port)
                                - prov->host_header.data;
    }

    for (i = 0; i < NGX_HTTP_LLM_EP_MODELS; i++) {
        s = ngx_http_llm_endpoint_names[i];

        prov->uri[i].len = a->path.len + 1 + s.len;
        prov->uri[i].data = ngx_pnalloc(cf->pool, prov->uri[i].len);
        if (prov->uri[i].data == NULL) {
            return NGX_ERROR;
        }

        p = ngx_cpymem(prov->uri[i].data, a->path.data, a->path.len);
        *p++ = '/';
        ngx_memcpy(p, s.data, s.len);
    }

    /* where to connect: an upstream{} block, or host:port like proxy_pass */

    ngx_memzero(&u, sizeof(ngx_url_t));

    if (a->upstream.data) {
        u.url = a->upstream;
        u.no_resolve = 1;

    } else {
        u.url.data = ngx_pnalloc(cf->pool, a->host.len + 6);
        if (u.url.data == NULL) {
            return NGX_ERROR;
        }

        u.url.len = ngx_sprintf(u.url.data, "%V:%d", &a->host, (int) a->port)
                    - u.url.data;
    }

    u.default_port = a->port;

    prov->uscf = ngx_http_upstream_add(cf, &u, 0);
    if (prov->uscf == NULL) {
        return NGX_ERROR;
    }

    if (prov->uscf == lmcf->router_upstream) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "llm_upstream \"%V\" may not use the "
                           "\"llm_router\" upstream", &prov->name);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* api=azure: api_version= (default the latest GA one) as the query string */

static ngx_int_t
ngx_http_llm_upstream_api_version(ngx_conf_t *cf,
    ngx_http_llm_provider_t *prov, ngx_http_llm_upstream_args_t *a)
{
    ngx_str_t  v;

    if (prov->api != NGX_HTTP_LLM_API_AZURE) {
        if (a->api_version.data) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"api_version=\" in llm_upstream \"%V\" is "
                               "for api=azure only", &prov->name);
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    v = a->api_version;

    if (v.data == NULL) {
        ngx_str_set(&v, NGX_HTTP_LLM_AZURE_API_VERSION);
    }

    prov->api_version.len = sizeof("api-version=") - 1 + v.len;
    prov->api_version.data = ngx_pnalloc(cf->pool, prov->api_version.len);
    if (prov->api_version.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ngx_cpymem(prov->api_version.data, "api-version=",
                          sizeof("api-version=") - 1),
               v.data, v.len);

    return NGX_OK;
}


/* the provider's keys: key=, key_env= or key_file= */

static ngx_int_t
ngx_http_llm_upstream_keys(ngx_conf_t *cf, ngx_http_llm_provider_t *prov,
    ngx_http_llm_upstream_args_t *a)
{
    u_char     *p;
    ngx_str_t   s;

    prov->keys = ngx_array_create(cf->pool, 1, sizeof(ngx_str_t));
    if (prov->keys == NULL) {
        return NGX_ERROR;
    }

    if (a->key.data) {
        if (ngx_http_llm_add_key(cf, prov, a->key.data, a->key.len) != NGX_OK) {
            return NGX_ERROR;
        }

    } else if (a->key_env.data) {
        s.data = ngx_pnalloc(cf->pool, a->key_env.len + 1);
        if (s.data == NULL) {
            return NGX_ERROR;
        }

        (void) ngx_cpystrn(s.data, a->key_env.data, a->key_env.len + 1);

        p = (u_char *) getenv((char *) s.data);

        if (p == NULL || *p == '\0') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "environment variable \"%V\" of llm_upstream "
                               "\"%V\" is not set", &a->key_env, &prov->name);
            return NGX_ERROR;
        }

        if (ngx_http_llm_add_key(cf, prov, p, ngx_strlen(p)) != NGX_OK) {
            return NGX_ERROR;
        }

    } else if (a->key_file.data) {
        if (ngx_http_llm_read_key_file(cf, prov, &a->key_file) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static void
ngx_http_llm_fail_on_default(ngx_http_llm_provider_t *p)
{
    ngx_uint_t  *s, n;

    p->fail_error = 1;
    p->fail_timeout_on = 1;

    for (s = ngx_http_llm_default_fail_status; *s; s++) {
        n = *s - 400;
        p->fail_status[n / 64] |= (uint64_t) 1 << (n % 64);
    }
}


static ngx_int_t
ngx_http_llm_parse_fail_on(ngx_conf_t *cf, ngx_http_llm_provider_t *p,
    ngx_str_t *value)
{
    u_char     *pos, *end, *last;
    ngx_int_t   n;
    ngx_str_t   item;

    pos = value->data;
    end = value->data + value->len;

    if (value->len == 0) {
        goto invalid_all;
    }

    while (pos <= end) {
        last = ngx_strlchr(pos, end, ',');
        if (last == NULL) {
            last = end;
        }

        item.data = pos;
        item.len = last - pos;

        if (item.len == 5 && ngx_strncmp(item.data, "error", 5) == 0) {
            p->fail_error = 1;

        } else if (item.len == 7 && ngx_strncmp(item.data, "timeout", 7) == 0)
        {
            p->fail_timeout_on = 1;

        } else if (item.len == 7 && ngx_strncmp(item.data, "default", 7) == 0)
        {
            ngx_http_llm_fail_on_default(p);

        } else {
            n = ngx_atoi(item.data, item.len);

            if (n < 400 || n > 599) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"fail_on\" value \"%V\" in "
                                   "llm_upstream \"%V\": expected error, "
                                   "timeout, default or a status 400-599",
                                   &item, &p->name);
                return NGX_ERROR;
            }

            n -= 400;
            p->fail_status[n / 64] |= (uint64_t) 1 << (n % 64);
        }

        pos = last + 1;
    }

    return NGX_OK;

invalid_all:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "empty \"fail_on\" in llm_upstream \"%V\"", &p->name);
    return NGX_ERROR;
}


ngx_uint_t
ngx_http_llm_provider_fails_on(ngx_http_llm_provider_t *p, ngx_uint_t outcome)
{
    ngx_uint_t  n;

    switch (outcome) {

    case NGX_HTTP_LLM_OUT_ERROR:
    case NGX_HTTP_LLM_OUT_DOWN:
        return p->fail_error;

    case NGX_HTTP_LLM_OUT_TIMEOUT:
        return p->fail_timeout_on;
    }

    if (outcome < 400 || outcome > 599) {
        return 0;
    }

    n = outcome - 400;

    return (p->fail_status[n / 64] & ((uint64_t) 1 << (n % 64))) ? 1 : 0;
}


static ngx_int_t
ngx_http_llm_add_key(ngx_conf_t *cf, ngx_http_llm_provider_t *p, u_char *key,
    size_t len)
{
    u_char     *c;
    ngx_str_t  *v;

    /* a key ends up in a request header: refuse anything that could split it */

    for (c = key; c < key + len; c++) {
        if (*c <= ' ' || *c >= 0x7f) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid character in a key of llm_upstream "
                               "\"%V\"", &p->name);
            return NGX_ERROR;
        }
    }

    v = ngx_array_push(p->keys);
    if (v == NULL) {
        return NGX_ERROR;
    }

    if (p->api == NGX_HTTP_LLM_API_OPENAI) {
        v->len = sizeof("Bearer ") - 1 + len;
        v->data = ngx_pnalloc(cf->pool, v->len);
        if (v->data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(ngx_cpymem(v->data, "Bearer ", 7), key, len);

    } else {
        v->len = len;
        v->data = ngx_pnalloc(cf->pool, len);
        if (v->data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(v->data, key, len);
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_llm_read_key_file(ngx_conf_t *cf, ngx_http_llm_provider_t *p,
    ngx_str_t *name)
{
    u_char     *pos, *end, *s, *e;
    ngx_int_t   rc;
    ngx_str_t   file, what, content;

    file = *name;

    if (ngx_conf_full_name(cf->cycle, &file, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    what.data = ngx_pnalloc(cf->temp_pool,
                            sizeof("key file \"\" of llm_upstream \"\"") - 1
                            + file.len + p->name.len);
    if (what.data == NULL) {
        return NGX_ERROR;
    }

    what.len = ngx_sprintf(what.data, "key file \"%V\" of llm_upstream \"%V\"",
                           &file, &p->name)
               - what.data;

    if (ngx_http_llm_key_file_read(cf, file.data, &what,
                                   NGX_HTTP_LLM_KEY_FILE_MAX, &content)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* one key a line; blank lines and "#" comments are skipped */

    rc = NGX_OK;
    pos = content.data;
    end = content.data + content.len;

    while (pos < end) {
        pos = ngx_http_llm_conf_line(pos, end, &s, &e);

        if (s < e && *s != '#') {
            if (ngx_http_llm_add_key(cf, p, s, e - s) != NGX_OK) {
                rc = NGX_ERROR;
                break;
            }
        }
    }

    ngx_http_llm_key_file_wipe(&content);

    if (rc == NGX_OK && p->keys->nelts == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%V has no keys", &what);
        return NGX_ERROR;
    }

    return rc;
}


ngx_http_llm_provider_t *
ngx_http_llm_find_provider(ngx_http_llm_main_conf_t *lmcf, ngx_str_t *name)
{
    ngx_uint_t                i;
    ngx_http_llm_provider_t  *p;

    p = lmcf->providers.elts;

    for (i = 0; i < lmcf->providers.nelts; i++) {
        if (p[i].name.len == name->len
            && ngx_strncmp(p[i].name.data, name->data, name->len) == 0)
        {
            return &p[i];
        }
    }

    return NULL;
}


/*
 * responses=on|off: on for api=azure (its v1 Responses API) and the
 * presets that serve it; only OpenAI's API and Azure's have it.
 */

static ngx_int_t
ngx_http_llm_upstream_responses(ngx_conf_t *cf, ngx_http_llm_provider_t *p,
    ngx_uint_t api, ngx_http_llm_preset_t *preset)
{
    const char  **name;

    if (p->responses == 1
        && api != NGX_HTTP_LLM_API_OPENAI && api != NGX_HTTP_LLM_API_AZURE)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"responses=on\" of llm_upstream \"%V\" needs "
                           "\"api=openai\" or \"api=azure\"", &p->name);
        return NGX_ERROR;
    }

    if (p->responses != NGX_CONF_UNSET) {
        return NGX_OK;
    }

    p->responses = (api == NGX_HTTP_LLM_API_AZURE);

    for (name = ngx_http_llm_responses_presets;
         preset && api == NGX_HTTP_LLM_API_OPENAI && *name;
         name++)
    {
        if (ngx_strcmp(preset->name, *name) == 0) {
            p->responses = 1;
            break;
        }
    }

    return NGX_OK;
}
