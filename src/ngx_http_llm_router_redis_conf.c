
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * llm_redis: the directive, and the copy of its configuration that a
 * worker's connection (ngx_http_llm_router_redis.c) keeps.
 */


#include "ngx_http_llm_router.h"
#include "ngx_http_llm_router_redis.h"
#include "ngx_http_llm_router_resp.h"
#include <ngx_sha1.h>


typedef struct {
    ngx_str_t                        name;
    size_t                           offset;
} ngx_http_llm_redis_tls_t;


static ngx_int_t ngx_http_llm_redis_parse_time(ngx_str_t *s, ngx_msec_t *t);


/*
 * Longer than 150 lines: one flat block per parameter, each with its own
 * nginx -t error; split up it would only pass the same state around.
 */

char *
ngx_http_llm_redis_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_llm_main_conf_t *lmcf = conf;

    char                       *env;
    u_char                     *p;
    ngx_str_t                  *value, *sp, s, var;
    ngx_url_t                   u;
    ngx_int_t                   n;
    ngx_str_t                  *have_tls;
    ngx_uint_t                  i, have_password;
    ngx_http_llm_redis_conf_t  *rc;
    ngx_http_llm_redis_tls_t   *t;

    static ngx_http_llm_redis_tls_t  tls[] = {
        { ngx_string("tls_name="),
          offsetof(ngx_http_llm_redis_conf_t, tls_name) },
        { ngx_string("tls_trusted_certificate="),
          offsetof(ngx_http_llm_redis_conf_t, tls_trusted_certificate) },
        { ngx_string("tls_certificate="),
          offsetof(ngx_http_llm_redis_conf_t, tls_certificate) },
        { ngx_string("tls_certificate_key="),
          offsetof(ngx_http_llm_redis_conf_t, tls_certificate_key) },
        { ngx_null_string, 0 }
    };

    if (lmcf->redis) {
        return "is duplicate";
    }

    rc = ngx_pcalloc(cf->pool, sizeof(ngx_http_llm_redis_conf_t));
    if (rc == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url = value[1];
    u.default_port = 6379;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s in llm_redis \"%V\"",
                           u.err ? u.err : "invalid address", &u.url);
        return NGX_CONF_ERROR;
    }

    if (u.naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "no address for llm_redis \"%V\"", &u.url);
        return NGX_CONF_ERROR;
    }

    rc->addr = u.addrs[0];
    rc->name = value[1];
    rc->db = 0;
    rc->timeout = 1000;
    rc->sync = 1000;
    rc->on_error = NGX_HTTP_LLM_REDIS_LOCAL;
    rc->lease = NGX_HTTP_LLM_REDIS_LEASE;
    rc->tls_verify = 1;
    have_password = 0;
    have_tls = NULL;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "password=", 9) == 0) {
            if (have_password++) {
                goto twice;
            }

            rc->password.data = value[i].data + 9;
            rc->password.len = value[i].len - 9;

            if (rc->password.len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "empty \"password=\" in llm_redis");
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "password_env=", 13) == 0) {
            if (have_password++) {
                goto twice;
            }

            var.len = value[i].len - 13;
            var.data = ngx_pnalloc(cf->pool, var.len + 1);
            if (var.data == NULL) {
                return NGX_CONF_ERROR;
            }

            p = ngx_cpymem(var.data, value[i].data + 13, var.len);
            *p = '\0';

            env = var.len ? getenv((char *) var.data) : NULL;

            if (env == NULL || *env == '\0') {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "llm_redis: environment variable \"%V\" "
                                   "is not set or empty", &var);
                return NGX_CONF_ERROR;
            }

            rc->password.len = ngx_strlen(env);
            rc->password.data = ngx_pnalloc(cf->pool, rc->password.len);
            if (rc->password.data == NULL) {
                return NGX_CONF_ERROR;
            }

            ngx_memcpy(rc->password.data, env, rc->password.len);
            continue;
        }

        if (ngx_strncmp(value[i].data, "db=", 3) == 0) {
            n = ngx_atoi(value[i].data + 3, value[i].len - 3);
            if (n == NGX_ERROR || n > 1000000) {
                goto invalid;
            }

            rc->db = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "tls=", 4) == 0) {
            if (value[i].len == 7
                && ngx_strncmp(value[i].data + 4, "off", 3) == 0)
            {
                rc->tls = 0;
                continue;
            }

            if (value[i].len == 6
                && ngx_strncmp(value[i].data + 4, "on", 2) == 0)
            {
#if (NGX_SSL)
                rc->tls = 1;
                continue;
#else
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "llm_redis \"tls=on\" needs an nginx "
                                   "built with SSL");
                return NGX_CONF_ERROR;
#endif
            }

            goto invalid;
        }

        if (ngx_strncmp(value[i].data, "tls_verify=", 11) == 0) {
            if (value[i].len == 14
                && ngx_strncmp(value[i].data + 11, "off", 3) == 0)
            {
                rc->tls_verify = 0;

            } else if (value[i].len == 13
                       && ngx_strncmp(value[i].data + 11, "on", 2) == 0)
            {
                rc->tls_verify = 1;

            } else {
                goto invalid;
            }

            have_tls = &value[i];
            continue;
        }

        /* the tls_*= that take a name or a file */

        for (t = tls; t->name.len; t++) {
            if (value[i].len > t->name.len
                && ngx_strncmp(value[i].data, t->name.data, t->name.len)
                   == 0)
            {
                break;
            }
        }

        if (t->name.len) {
            sp = (ngx_str_t *) ((u_char *) rc + t->offset);
            sp->data = value[i].data + t->name.len;
            sp->len = value[i].len - t->name.len;
            have_tls = &value[i];
            continue;
        }

        if (ngx_strncmp(value[i].data, "timeout=", 8) == 0) {
            s.data = value[i].data + 8;
            s.len = value[i].len - 8;

            if (ngx_http_llm_redis_parse_time(&s, &rc->timeout) != NGX_OK) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "sync=", 5) == 0) {
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;

            if (ngx_http_llm_redis_parse_time(&s, &rc->sync) != NGX_OK) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "lease=", 6) == 0) {
            s.data = value[i].data + 6;
            s.len = value[i].len - 6;

            if (s.len == 3 && ngx_strncmp(s.data, "off", 3) == 0) {
                rc->lease = 0;
                continue;
            }

            n = ngx_atoi(s.data, s.len);

            if (n == NGX_ERROR || n < 2 || n > 1024) {
                goto invalid;
            }

            rc->lease = (ngx_uint_t) n;

            continue;
        }

        if (ngx_strncmp(value[i].data, "on_error=", 9) == 0) {
            s.data = value[i].data + 9;
            s.len = value[i].len - 9;

            if (s.len == 5 && ngx_strncmp(s.data, "local", 5) == 0) {
                rc->on_error = NGX_HTTP_LLM_REDIS_LOCAL;

            } else if (s.len == 6 && ngx_strncmp(s.data, "reject", 6) == 0) {
                rc->on_error = NGX_HTTP_LLM_REDIS_REJECT;

            } else {
                goto invalid;
            }

            continue;
        }

        goto invalid;
    }

    if (have_tls && !rc->tls) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "llm_redis \"%V\" needs \"tls=on\"", have_tls);
        return NGX_CONF_ERROR;
    }

#if (NGX_SSL)
    if (rc->tls) {
        if (rc->tls_name.len == 0 && u.family != AF_UNIX) {
            /* the address' host, as redis-cli takes it */
            rc->tls_name.data = ngx_pnalloc(cf->pool, u.host.len + 1);
            if (rc->tls_name.data == NULL) {
                return NGX_CONF_ERROR;
            }

            rc->tls_name.len = u.host.len;
            *ngx_cpymem(rc->tls_name.data, u.host.data, u.host.len) = '\0';

            /* "[::1]" is checked as "::1" */
            if (rc->tls_name.len > 2 && rc->tls_name.data[0] == '[') {
                rc->tls_name.data++;
                rc->tls_name.len -= 2;
                rc->tls_name.data[rc->tls_name.len] = '\0';
            }
        }

        if (ngx_http_llm_redis_tls_conf(cf, rc) != NGX_CONF_OK) {
            return NGX_CONF_ERROR;
        }
    }
#endif

    lmcf->redis = rc;

    return NGX_CONF_OK;

twice:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "llm_redis takes one \"password=\" or "
                       "\"password_env=\"");
    return NGX_CONF_ERROR;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in llm_redis", &value[i]);
    return NGX_CONF_ERROR;
}


static ngx_int_t
ngx_http_llm_redis_parse_time(ngx_str_t *s, ngx_msec_t *t)
{
    ngx_int_t  n;

    n = ngx_parse_time(s, 0);

    if (n == NGX_ERROR || n <= 0 || n > 3600000) {
        return NGX_ERROR;
    }

    *t = (ngx_msec_t) n;

    return NGX_OK;
}


/*
 * The configuration in the heap, with the node's name ("host:conf
 * file": one nginx instance, its workers alike, across reloads, binary
 * upgrades and restarts, so that a restarted node is not counted as a
 * new one for a minute) and the scripts' sha1.
 */

ngx_int_t
ngx_http_llm_redis_conf_copy(ngx_cycle_t *cycle, ngx_http_llm_redis_conf_t *rc,
    ngx_http_llm_redis_conf_t *copy, u_char sha[][40])
{
    u_char      *p, digest[20];
    ngx_uint_t   i, n;
    ngx_sha1_t   ctx;

    static u_char  hex[] = "0123456789abcdef";

    *copy = *rc;

    p = ngx_alloc(rc->name.len + rc->password.len + rc->addr.socklen
                  + rc->tls_name.len + 1
                  + cycle->hostname.len + cycle->conf_file.len + 2,
                  cycle->log);
    if (p == NULL) {
        return NGX_ERROR;
    }

    copy->name.data = p;
    p = ngx_cpymem(p, rc->name.data, rc->name.len);
    copy->password.data = p;
    p = ngx_http_llm_cpystr(p, &rc->password);
    copy->addr.sockaddr = (struct sockaddr *) p;
    p = ngx_cpymem(p, rc->addr.sockaddr, rc->addr.socklen);
    copy->tls_name.data = p;
    p = ngx_http_llm_cpystr(p, &rc->tls_name);
    *p++ = '\0';
    /* the files were read into the context: not needed any more */
    ngx_str_null(&copy->tls_trusted_certificate);
    ngx_str_null(&copy->tls_certificate);
    ngx_str_null(&copy->tls_certificate_key);

    copy->node.data = p;
    copy->node.len = ngx_sprintf(p, "%V:%V", &cycle->hostname,
                                 &cycle->conf_file)
                     - p;

    for (i = 0; i < NGX_HTTP_LLM_NSCRIPTS; i++) {
        ngx_sha1_init(&ctx);
        ngx_sha1_update(&ctx, ngx_http_llm_scripts[i].data,
                        ngx_http_llm_scripts[i].len);
        ngx_sha1_final(digest, &ctx);

        p = sha[i];

        for (n = 0; n < 20; n++) {
            *p++ = hex[digest[n] >> 4];
            *p++ = hex[digest[n] & 0xf];
        }
    }

    return ngx_http_llm_redis_hello(copy, cycle->log);
}
