
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * llm_redis: the commands the fleet sends, formatted (resp.c) and queued
 * on the worker's connection (redis_queue.c).
 */


#include "ngx_http_llm_router.h"
#include "ngx_http_llm_router_redis.h"
#include "ngx_http_llm_router_resp.h"


/*
 * NGX_OK: the handler will be called (maybe with NULL); NGX_DECLINED:
 * Redis is down now, the handler will not be called.
 */

ngx_int_t
ngx_http_llm_redis_command(int argc, const char **argv, const size_t *argvlen,
    ngx_http_llm_redis_handler_pt handler, void *data)
{
    int    len;
    char  *cmd;

    if (!ngx_http_llm_redis_accepts()) {
        return NGX_DECLINED;
    }

    len = ngx_http_llm_resp_format(&cmd, argc, argv, argvlen);
    if (len < 0) {
        return NGX_DECLINED;
    }

    return ngx_http_llm_redis_queue(cmd, len, 0, 0, handler, data);
}


/* EVALSHA script argv...; argv[0] and argv[1] are filled in here */

ngx_int_t
ngx_http_llm_redis_script(ngx_uint_t script, int argc, const char **argv,
    const size_t *argvlen, ngx_http_llm_redis_handler_pt handler, void *data)
{
    int    len;
    char  *cmd;

    if (!ngx_http_llm_redis_accepts()) {
        return NGX_DECLINED;
    }

    argv[0] = "EVALSHA";
    ((size_t *) argvlen)[0] = 7;
    argv[1] = (char *) ngx_http_llm_redis_sha(script);
    ((size_t *) argvlen)[1] = 40;

    len = ngx_http_llm_resp_format(&cmd, argc, argv, argvlen);
    if (len < 0) {
        return NGX_DECLINED;
    }

    return ngx_http_llm_redis_queue(cmd, len, script + 1, 0, handler, data);
}


/*
 * A script call formatted by the caller (with the sha), who keeps it
 * until the handler is called: not copied.
 */

ngx_int_t
ngx_http_llm_redis_send(char *cmd, int len, ngx_uint_t script,
    ngx_http_llm_redis_handler_pt handler, void *data)
{
    return ngx_http_llm_redis_queue(cmd, len, script + 1, 1, handler, data);
}


/*
 * AUTH, SELECT, SCRIPT LOAD: what each connection sends first, formatted
 * once per worker (redis_conf.c) into copy->hello
 */

ngx_int_t
ngx_http_llm_redis_hello(ngx_http_llm_redis_conf_t *copy, ngx_log_t *log)
{
    int          n[2 + NGX_HTTP_LLM_NSCRIPTS], argc;
    char        *cmd[2 + NGX_HTTP_LLM_NSCRIPTS];
    u_char      *p, db[NGX_INT_T_LEN];
    size_t       argvlen[3], size;
    ngx_uint_t   i;
    const char  *argv[3];

    size = 0;

    for (i = 0; i < 2 + NGX_HTTP_LLM_NSCRIPTS; i++) {
        if (i == 0) {
            argv[0] = "AUTH";
            argvlen[0] = 4;
            argv[1] = (char *) copy->password.data;
            argvlen[1] = copy->password.len;
            argc = copy->password.len ? 2 : 0;

        } else if (i == 1) {
            argv[0] = "SELECT";
            argvlen[0] = 6;
            argv[1] = (char *) db;
            argvlen[1] = ngx_sprintf(db, "%i", copy->db) - db;
            argc = copy->db ? 2 : 0;

        } else {
            argv[0] = "SCRIPT";
            argvlen[0] = 6;
            argv[1] = "LOAD";
            argvlen[1] = 4;
            argv[2] = (char *) ngx_http_llm_scripts[i - 2].data;
            argvlen[2] = ngx_http_llm_scripts[i - 2].len;
            argc = 3;
        }

        cmd[i] = NULL;
        n[i] = argc ? ngx_http_llm_resp_format(&cmd[i], argc, argv, argvlen)
                    : 0;

        if (n[i] < 0) {
            goto failed;
        }

        size += n[i];
    }

    p = ngx_alloc(size, log);
    if (p == NULL) {
        goto failed;
    }

    for (i = 0; i < 2 + NGX_HTTP_LLM_NSCRIPTS; i++) {
        copy->hello[i].data = p;
        copy->hello[i].len = n[i];

        if (cmd[i]) {
            /* none without a password or a database */
            p = ngx_cpymem(p, cmd[i], n[i]);
            redisFreeCommand(cmd[i]);
        }
    }

    return NGX_OK;

failed:

    while (i--) {
        redisFreeCommand(cmd[i]);
    }

    return NGX_ERROR;
}
