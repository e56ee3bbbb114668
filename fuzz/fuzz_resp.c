
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * The Redis reply path of llm_redis: bytes from the server go through the
 * worker's hiredis reader (src/ngx_http_llm_router_resp.c, with its
 * limits) in pieces, and every reply is read as a reservation's reply.
 * libFuzzer harness; built without -fsanitize=fuzzer (TEST_RESP) it runs
 * the files given, then fixed cases, under ASan + UBSan.
 *
 * Input: byte 0 = number of budget keys (mod 48, 0 = 48), byte 1 = piece size,
 * the rest = what the server sends.  The same bytes, cut in pieces, are
 * also the arguments of a command: its format must be hiredis' own.
 */


#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_llm_router_resp.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static void format_diff(const uint8_t *data, size_t size, size_t piece);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int           rc;
    void         *reply;
    size_t        n, piece, off, len, index;
    long long     left[64];
    redisReader  *r;

    if (size < 2) {
        return 0;
    }

    n = data[0] % 48 ? data[0] % 48 : 48;
    piece = data[1] ? data[1] : 1;
    data += 2;
    size -= 2;

    format_diff(data, size, data[-1]);

    r = ngx_http_llm_resp_reader();
    if (r == NULL) {
        return 0;
    }

    for (off = 0; off < size; off += len) {
        len = size - off < piece ? size - off : piece;

        if (redisReaderFeed(r, (const char *) data + off, len) != REDIS_OK) {
            break;
        }

        for ( ;; ) {
            reply = NULL;

            if (redisReaderGetReply(r, &reply) != REDIS_OK) {
                goto done;
            }

            if (reply == NULL) {
                break;
            }

            index = 0;
            rc = ngx_http_llm_resp_reserve(reply, n, &index, left);

            if (rc == NGX_HTTP_LLM_RESP_REFUSED && index >= n) {
                abort();
            }

            freeReplyObject(reply);
        }
    }

done:

    redisReaderFree(r);

    return 0;
}


/* the command formatter against hiredis': the same bytes */

static void
format_diff(const uint8_t *data, size_t size, size_t piece)
{
    int          argc, a, b;
    char        *ours, *theirs;
    size_t       off, argvlen[64];
    const char  *argv[64];

    argc = 0;

    for (off = 0; off < size && argc < 64; off += argvlen[argc++]) {
        argv[argc] = (const char *) data + off;
        argvlen[argc] = size - off < piece ? size - off : piece;
    }

    a = ngx_http_llm_resp_format(&ours, argc, argv, argvlen);
    b = redisFormatCommandArgv(&theirs, argc, argv, argvlen);

    if (a != b || a < 0 || memcmp(ours, theirs, a) != 0) {
        abort();
    }

    free(ours);
    redisFreeCommand(theirs);
}


#ifdef TEST_RESP

static const struct {
    const char  *name;
    const char  *bytes;
    int          expect;     /* of the first reply; 9: the reader fails */
} cases[] = {
    { "reserved", "\x01\x40*3\r\n:1\r\n:0\r\n:900\r\n", 1 },
    { "refused", "\x02\x40*3\r\n:0\r\n:2\r\n:5\r\n", 0 },
    { "index 0", "\x02\x40*3\r\n:0\r\n:0\r\n:5\r\n", -1 },
    { "index past n", "\x02\x40*3\r\n:0\r\n:3\r\n:5\r\n", -1 },
    { "too short", "\x02\x40*3\r\n:1\r\n:0\r\n:5\r\n", -1 },
    { "nested", "\x01\x40*3\r\n*1\r\n:1\r\n:0\r\n:5\r\n", -1 },
    { "error", "\x01\x40-ERR boom\r\n", -1 },
    { "2^31", "\x01\x40*2147483648\r\n:1\r\n:1\r\n", 9 },
    { "2^32+3", "\x01\x40*4294967299\r\n:1\r\n:0\r\n:7\r\n", 9 },
    { "10^8 elements", "\x01\x40*100000000\r\n:1\r\n", 9 },
    { "2^63-1", "\x01\x40*9223372036854775807\r\n:1\r\n", 9 },
    { "negative", "\x01\x40*-5\r\n", 9 },
    { "huge string", "\x01\x40$1048577\r\n", 9 },
    { "garbage", "\x01\x01?what\r\n", 9 },
    { "byte by byte", "\x01\x01*3\r\n:1\r\n:0\r\n:1\r\n", 1 },
};


static int
run_case(const char *bytes, size_t size)
{
    int           rc;
    void         *reply;
    size_t        n, index;
    long long     left[64];
    redisReader  *r;

    n = (unsigned char) bytes[0] % 48 ? (unsigned char) bytes[0] % 48 : 48;

    r = ngx_http_llm_resp_reader();

    if (redisReaderFeed(r, bytes + 2, size - 2) != REDIS_OK) {
        redisReaderFree(r);
        return 9;
    }

    reply = NULL;

    if (redisReaderGetReply(r, &reply) != REDIS_OK || reply == NULL) {
        redisReaderFree(r);
        return 9;
    }

    rc = ngx_http_llm_resp_reserve(reply, n, &index, left);

    freeReplyObject(reply);
    redisReaderFree(r);

    return rc;
}


int
main(int argc, char **argv)
{
    int      i, failed, got;
    long     len;
    FILE    *f;
    uint8_t *buf;
    size_t   k;

    failed = 0;

    for (i = 1; i < argc; i++) {
        f = fopen(argv[i], "rb");
        if (f == NULL) {
            continue;
        }

        fseek(f, 0, SEEK_END);
        len = ftell(f);
        fseek(f, 0, SEEK_SET);

        buf = malloc(len + 1);
        if (buf == NULL || fread(buf, 1, len, f) != (size_t) len) {
            fclose(f);
            free(buf);
            continue;
        }

        fclose(f);
        LLVMFuzzerTestOneInput(buf, len);
        free(buf);
    }

    for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        got = run_case(cases[k].bytes, strlen(cases[k].bytes));

        LLVMFuzzerTestOneInput((const uint8_t *) cases[k].bytes,
                               strlen(cases[k].bytes));

        if (got != cases[k].expect) {
            printf("FAIL %s: %d, expected %d\n", cases[k].name, got,
                   cases[k].expect);
            failed++;
        }
    }

    printf("resp: %zu cases, %d failed\n",
           sizeof(cases) / sizeof(cases[0]), failed);

    return failed != 0;
}

#endif
