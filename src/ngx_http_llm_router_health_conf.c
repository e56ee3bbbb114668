
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * Active health checks, configuration: llm_upstream's check parameters
 * (check=, check_uri=, check_body=...), checked and completed when the
 * configuration is read.  The checks at run time: health.c.
 */


#include "ngx_http_llm_router_health.h"


#define NGX_HTTP_LLM_CHECK_BODY_MAX  (64 * 1024)


typedef struct {
    const char                      *preset;
    const char                      *uri;      /* NULL: none is free */
    unsigned                         absolute:1;  /* not under path= */
} ngx_http_llm_probe_preset_t;


static ngx_http_llm_check_t *ngx_http_llm_check_get(ngx_conf_t *cf,
    ngx_http_llm_provider_t *prov);
static ngx_int_t ngx_http_llm_check_body(ngx_conf_t *cf,
    ngx_http_llm_provider_t *prov);


/*
 * Probes that cost nothing, where a preset's provider has no free
 * "{path}/models" (see the README for each preset).
 */
static ngx_http_llm_probe_preset_t  ngx_http_llm_probe_presets[] = {
    { "openrouter", "/key", 0 },        /* the key's own limits */
    { "vllm", "/health", 1 },
    { "doubao", NULL, 0 },
    { "zhipu", NULL, 0 },
    /* Azure lists models outside the deployments; any GA version does */
    { "azure", "/openai/models?api-version=2024-10-21", 0 },
    { NULL, NULL, 0 }
};


ngx_int_t
ngx_http_llm_health_param(ngx_conf_t *cf, ngx_http_llm_provider_t *prov,
    ngx_str_t *value)
{
    u_char                *p;
    ngx_int_t              n;
    ngx_str_t              s;
    ngx_msec_t             ms;
    ngx_http_llm_check_t  *chk;

    if (value->len == 5 && ngx_strncmp(value->data, "check", 5) == 0) {
        chk = ngx_http_llm_check_get(cf, prov);
        if (chk == NULL) {
            return NGX_ERROR;
        }

        chk->on = 1;
        return NGX_OK;
    }

    if (ngx_strncmp(value->data, "check=", 6) == 0) {
        s.data = value->data + 6;
        s.len = value->len - 6;

        if (s.len == 0 || s.data[0] != '/') {
            goto invalid;
        }

        for (p = s.data; p < s.data + s.len; p++) {
            if (*p <= ' ' || *p == '#' || *p == 0x7f) {
                goto invalid;
            }
        }

        chk = ngx_http_llm_check_get(cf, prov);
        if (chk == NULL) {
            return NGX_ERROR;
        }

        chk->on = 1;
        chk->given_uri = s;
        return NGX_OK;
    }

    if (ngx_strncmp(value->data, "check_body=", 11) == 0) {
        s.data = value->data + 11;
        s.len = value->len - 11;

        if (s.len == 0) {
            goto invalid;
        }

        chk = ngx_http_llm_check_get(cf, prov);
        if (chk == NULL) {
            return NGX_ERROR;
        }

        chk->body_file = s;
        return NGX_OK;
    }

    if (ngx_strncmp(value->data, "check_interval=", 15) == 0
        || ngx_strncmp(value->data, "check_timeout=", 14) == 0)
    {
        n = (value->data[6] == 'i') ? 15 : 14;

        s.data = value->data + n;
        s.len = value->len - n;

        ms = ngx_parse_time(&s, 0);
        if (ms == (ngx_msec_t) NGX_ERROR || ms < 10) {
            goto invalid;
        }

        chk = ngx_http_llm_check_get(cf, prov);
        if (chk == NULL) {
            return NGX_ERROR;
        }

        if (n == 15) {
            chk->interval = ms;

        } else {
            chk->timeout = ms;
        }

        return NGX_OK;
    }

    if (ngx_strncmp(value->data, "rise=", 5) == 0
        || ngx_strncmp(value->data, "fall=", 5) == 0)
    {
        n = ngx_atoi(value->data + 5, value->len - 5);
        if (n < 1 || n > 1000) {
            goto invalid;
        }

        chk = ngx_http_llm_check_get(cf, prov);
        if (chk == NULL) {
            return NGX_ERROR;
        }

        if (value->data[0] == 'r') {
            chk->rise = n;

        } else {
            chk->fall = n;
        }

        return NGX_OK;
    }

    return NGX_DECLINED;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid value \"%V\" in llm_upstream \"%V\"",
                       value, &prov->name);
    return NGX_ERROR;
}


static ngx_http_llm_check_t *
ngx_http_llm_check_get(ngx_conf_t *cf, ngx_http_llm_provider_t *prov)
{
    ngx_http_llm_check_t  *chk;

    if (prov->check) {
        return prov->check;
    }

    chk = ngx_pcalloc(cf->pool, sizeof(ngx_http_llm_check_t));
    if (chk == NULL) {
        return NULL;
    }

    chk->interval = NGX_CONF_UNSET_MSEC;
    chk->timeout = NGX_CONF_UNSET_MSEC;
    chk->rise = NGX_CONF_UNSET_UINT;
    chk->fall = NGX_CONF_UNSET_UINT;

    prov->check = chk;

    return chk;
}


/* once llm_upstream's parameters are known: defaults and the probe */

ngx_int_t
ngx_http_llm_health_conf(ngx_conf_t *cf, ngx_http_llm_main_conf_t *lmcf,
    ngx_http_llm_provider_t *prov, const char *preset)
{
    u_char                       *p;
    ngx_str_t                     rel;
    ngx_http_llm_check_t         *chk;
    ngx_http_llm_probe_preset_t  *pp;

    chk = prov->check;

    if (chk == NULL) {
        return NGX_OK;
    }

    if (!chk->on) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "llm_upstream \"%V\" has health check parameters "
                           "without \"check\"", &prov->name);
        return NGX_ERROR;
    }

    ngx_conf_init_msec_value(chk->interval, 10000);
    ngx_conf_init_msec_value(chk->timeout, 5000);
    ngx_conf_init_uint_value(chk->rise, 2);
    ngx_conf_init_uint_value(chk->fall, 3);

    if (chk->body_file.len
        && ngx_http_llm_check_body(cf, prov) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (chk->given_uri.len) {
        chk->uri = chk->given_uri;
        goto done;
    }

    ngx_str_set(&rel, "/models");

    if (chk->body.len) {
        ngx_str_set(&rel, "/chat/completions");

    } else if (preset) {
        for (pp = ngx_http_llm_probe_presets; pp->preset; pp++) {
            if (ngx_strcmp(pp->preset, preset) != 0) {
                continue;
            }

            if (pp->uri == NULL) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "preset \"%s\" has no free probe: give "
                                   "\"check=uri\" or \"check_body=\" in "
                                   "llm_upstream \"%V\"", preset,
                                   &prov->name);
                return NGX_ERROR;
            }

            rel.data = (u_char *) pp->uri;
            rel.len = ngx_strlen(pp->uri);

            if (pp->absolute) {
                chk->uri = rel;
                goto done;
            }

            break;
        }
    }

    chk->uri.len = prov->path.len + rel.len;
    chk->uri.data = ngx_pnalloc(cf->pool, chk->uri.len);
    if (chk->uri.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(chk->uri.data, prov->path.data, prov->path.len);
    ngx_memcpy(p, rel.data, rel.len);

done:

    if (lmcf->probe_tick == 0 || chk->interval < lmcf->probe_tick) {
        lmcf->probe_tick = ngx_min(chk->interval, 1000);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_llm_check_body(ngx_conf_t *cf, ngx_http_llm_provider_t *prov)
{
    ssize_t                n;
    ngx_fd_t               fd;
    ngx_str_t              file;
    ngx_file_info_t        fi;
    ngx_http_llm_check_t  *chk;

    chk = prov->check;
    file = chk->body_file;

    if (ngx_conf_full_name(cf->cycle, &file, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    fd = ngx_open_file(file.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"check_body\" file \"%s\" of "
                           "llm_upstream \"%V\" failed", file.data,
                           &prov->name);
        return NGX_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_fd_info_n " \"%s\" failed", file.data);
        goto failed;
    }

    if (ngx_file_size(&fi) == 0
        || ngx_file_size(&fi) > NGX_HTTP_LLM_CHECK_BODY_MAX)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"check_body\" file \"%s\" of llm_upstream "
                           "\"%V\" is empty or larger than %uz", file.data,
                           &prov->name, (size_t) NGX_HTTP_LLM_CHECK_BODY_MAX);
        goto failed;
    }

    chk->body.len = (size_t) ngx_file_size(&fi);
    chk->body.data = ngx_pnalloc(cf->pool, chk->body.len);
    if (chk->body.data == NULL) {
        goto failed;
    }

    n = ngx_read_fd(fd, chk->body.data, chk->body.len);
    if (n != (ssize_t) chk->body.len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_read_fd_n " \"%s\" failed", file.data);
        goto failed;
    }

    ngx_close_file(fd);

    return NGX_OK;

failed:

    ngx_close_file(fd);
    return NGX_ERROR;
}
