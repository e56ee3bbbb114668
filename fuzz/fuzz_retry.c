
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * libFuzzer harness for the Retry-After parser
 * (ngx_http_llm_retry_after_parse(), src/ngx_http_llm_router_util.c):
 * the input is the header's value, in a heap block of its exact size.
 * A reference reading must give the same number of seconds: digits only,
 * their value capped at NGX_HTTP_LLM_RETRY_AFTER_MAX however many there
 * are; anything else is an HTTP date, whose seconds from now (capped) count
 * if it is in the future; anything else is no wait (0).
 *
 * The date itself is read by nginx's ngx_parse_http_time() (core, not this
 * module, and fuzzed with nginx); here it is a model that answers from the
 * value's first byte: an error, a time in the past, now, soon, or far
 * ahead, so that every branch of the module's code runs.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_llm_router.h"
#include "ngx_stubs.h"


#define FUZZ_NOW  1767225600    /* 2026-01-01 */


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


ngx_module_t  ngx_http_llm_router_module;


/* util.c's other helpers: never reached by this harness */

ngx_pool_cleanup_t *
ngx_pool_cleanup_add(ngx_pool_t *p, size_t size)
{
    abort();
}


uint32_t
ngx_utf8_decode(u_char **p, size_t n)
{
    abort();
}


time_t
ngx_parse_http_time(u_char *value, size_t len)
{
    if (len == 0) {
        return NGX_ERROR;
    }

    switch (value[0] % 5) {
    case 0:
        return NGX_ERROR;
    case 1:
        return FUZZ_NOW - 1 - value[0];
    case 2:
        return FUZZ_NOW;
    case 3:
        return FUZZ_NOW + 1 + (len > 1 ? value[1] * 10 : 0);
    default:
        return NGX_MAX_TIME_T_VALUE;
    }
}


static time_t
fuzz_reference(const u_char *p, size_t len)
{
    size_t  i;
    time_t  n, t;

    if (len == 0) {
        return 0;
    }

    if (p[0] >= '0' && p[0] <= '9') {
        n = 0;

        for (i = 0; i < len; i++) {
            if (p[i] < '0' || p[i] > '9') {
                return 0;
            }

            /* capped at every step: no overflow, the same as capped once */
            n = n * 10 + (p[i] - '0');

            if (n > NGX_HTTP_LLM_RETRY_AFTER_MAX) {
                n = NGX_HTTP_LLM_RETRY_AFTER_MAX;
            }
        }

        return n;
    }

    t = ngx_parse_http_time((u_char *) p, len);

    if (t == NGX_ERROR || t <= FUZZ_NOW) {
        return 0;
    }

    return ngx_min(t - FUZZ_NOW, NGX_HTTP_LLM_RETRY_AFTER_MAX);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char  *copy;
    time_t   got, want;

    /* exactly the value's bytes: ASan catches a read past them */
    copy = malloc(size ? size : 1);
    if (copy == NULL) {
        abort();
    }

    memcpy(copy, data, size);

    got = ngx_http_llm_retry_after_parse(copy, size, FUZZ_NOW);
    want = fuzz_reference(data, size);

    if (got != want) {
        fprintf(stderr, "fuzz_retry: %ld seconds, expected %ld, for "
                "\"%.*s\"\n", (long) got, (long) want,
                (int) (size > 200 ? 200 : size), data);
        abort();
    }

    if (got < 0 || got > NGX_HTTP_LLM_RETRY_AFTER_MAX) {
        abort();
    }

    free(copy);

    return 0;
}
