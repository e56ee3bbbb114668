
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * Redis replies: a hiredis reader with limits, and the reading of a
 * reservation's reply; commands formatted.  Plain C on hiredis only (no
 * nginx), so that fuzz/fuzz_resp.c runs the very code the workers run.
 */


#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_llm_router_resp.h"


static void *ngx_http_llm_resp_array(const redisReadTask *task,
    int elements);
static void *ngx_http_llm_resp_string(const redisReadTask *task, char *str,
    size_t len);


static char *ngx_http_llm_resp_number(char *p, char type, size_t n);


static redisReplyObjectFunctions   ngx_http_llm_resp_fns;
static redisReplyObjectFunctions  *ngx_http_llm_resp_default;


/*
 * hiredis 0.14 bounds an array's length only by INT_MAX: "*100000000"
 * allocates 800 MB before a single element has arrived.  Arrays and
 * strings past what the scripts return are refused (the reader fails,
 * the connection is dropped).
 */

redisReader *
ngx_http_llm_resp_reader(void)
{
    redisReader  *r;

    r = redisReaderCreate();
    if (r == NULL) {
        return NULL;
    }

    if (ngx_http_llm_resp_default == NULL) {
        ngx_http_llm_resp_default = r->fn;
        ngx_http_llm_resp_fns = *r->fn;
        ngx_http_llm_resp_fns.createArray = ngx_http_llm_resp_array;
        ngx_http_llm_resp_fns.createString = ngx_http_llm_resp_string;
    }

    r->fn = &ngx_http_llm_resp_fns;

    return r;
}


static void *
ngx_http_llm_resp_array(const redisReadTask *task, int elements)
{
    if (elements < 0 || elements > NGX_HTTP_LLM_RESP_MAX_ELEMENTS) {
        return NULL;
    }

    return ngx_http_llm_resp_default->createArray(task, elements);
}


static void *
ngx_http_llm_resp_string(const redisReadTask *task, char *str, size_t len)
{
    if (len > NGX_HTTP_LLM_RESP_MAX_STRING) {
        return NULL;
    }

    return ngx_http_llm_resp_default->createString(task, str, len);
}


/*
 * One request's part of the reservation script's reply, at *pos of its
 * array, for n budget keys: {1, 0, left * n} (reserved; left before it,
 * per key), or {0, index, left} (refused by key index, 1-based); *pos
 * moves past it.  Anything else is not a reply of that script.
 */

int
ngx_http_llm_resp_reserve_at(const redisReply *reply, size_t *pos, size_t n,
    size_t *index, long long *left)
{
    size_t        i, count, p, len;
    redisReply  **e;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->element == NULL || *pos >= reply->elements
        || reply->elements - *pos < 3)
    {
        return NGX_HTTP_LLM_RESP_INVALID;
    }

    p = *pos;
    e = reply->element;

    if (e[p] == NULL || e[p]->type != REDIS_REPLY_INTEGER) {
        return NGX_HTTP_LLM_RESP_INVALID;
    }

    switch (e[p]->integer) {
    case 1:
        len = 2 + n;
        break;
    case 0:
        len = 3;
        break;
    default:
        return NGX_HTTP_LLM_RESP_INVALID;
    }

    if (n == 0 || reply->elements - p < len) {
        return NGX_HTTP_LLM_RESP_INVALID;
    }

    for (i = p + 1; i < p + len; i++) {
        if (e[i] == NULL || e[i]->type != REDIS_REPLY_INTEGER) {
            return NGX_HTTP_LLM_RESP_INVALID;
        }
    }

    *pos = p + len;

    if (e[p]->integer == 1) {
        if (e[p + 1]->integer != 0) {
            return NGX_HTTP_LLM_RESP_INVALID;
        }

        for (i = 0; i < n; i++) {
            left[i] = e[p + 2 + i]->integer;
        }

        return NGX_HTTP_LLM_RESP_RESERVED;
    }

    count = (size_t) e[p + 1]->integer;

    if (e[p + 1]->integer < 1 || count > n) {
        return NGX_HTTP_LLM_RESP_INVALID;
    }

    *index = count - 1;
    left[0] = e[p + 2]->integer;

    return NGX_HTTP_LLM_RESP_REFUSED;
}


/* a reply to one request alone: all of it is its part */

int
ngx_http_llm_resp_reserve(const redisReply *reply, size_t n, size_t *index,
    long long *left)
{
    int     rc;
    size_t  pos;

    pos = 0;
    rc = ngx_http_llm_resp_reserve_at(reply, &pos, n, index, left);

    if (rc != NGX_HTTP_LLM_RESP_INVALID && pos != reply->elements) {
        return NGX_HTTP_LLM_RESP_INVALID;
    }

    return rc;
}


/*
 * A command as RESP ("*argc", then "$len" and each argument), in memory
 * from malloc() that redisFreeCommand() frees.  What
 * redisFormatCommandArgv() does, without its snprintf() per argument: a
 * third of what a request under a Redis budget costs the gateway.
 */

int
ngx_http_llm_resp_format(char **target, int argc, const char **argv,
    const size_t *argvlen)
{
    int      i;
    char    *cmd, *p;
    size_t   len;

    len = 1 + 20 + 2;

    for (i = 0; i < argc; i++) {
        len += 1 + 20 + 2 + argvlen[i] + 2;
    }

    cmd = malloc(len);
    if (cmd == NULL) {
        return -1;
    }

    p = ngx_http_llm_resp_number(cmd, '*', (size_t) argc);

    for (i = 0; i < argc; i++) {
        p = ngx_http_llm_resp_number(p, '$', argvlen[i]);
        memcpy(p, argv[i], argvlen[i]);
        p += argvlen[i];
        *p++ = '\r';
        *p++ = '\n';
    }

    *target = cmd;

    return (int) (p - cmd);
}


static char *
ngx_http_llm_resp_number(char *p, char type, size_t n)
{
    char   digits[20], *d;

    *p++ = type;
    d = digits + sizeof(digits);

    do {
        *--d = (char) ('0' + n % 10);
        n /= 10;
    } while (n);

    memcpy(p, d, digits + sizeof(digits) - d);
    p += digits + sizeof(digits) - d;

    *p++ = '\r';
    *p++ = '\n';

    return p;
}
