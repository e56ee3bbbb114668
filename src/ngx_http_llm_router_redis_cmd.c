
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * llm_redis: the commands the fleet sends, formatted (resp.c) and queued
 * on the worker's connection (redis.c).
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
