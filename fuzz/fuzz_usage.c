
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * libFuzzer harness for the usage scanner of JSON answers and of SSE
 * streams (src/ngx_http_llm_router_usage.c) and the SSE event splitting
 * and usage-chunk removal (src/ngx_http_llm_router_filter.c), both driven
 * through the module's real body filter, as nginx calls it.
 *
 * Input: byte 0 = flags (bit 0 SSE, bit 1 strip the usage chunk, bit 2
 * stream must end with its final event), byte 1 = seed of the random
 * split, then the answer body.  The body is fed whole, in random pieces,
 * one byte per read and split in two at every byte; each piece in a heap
 * allocation of its exact size, so ASan sees any read past a read's end.
 * Every way must give the same usage (tokens, cached, seen), the same
 * end-of-stream verdict, the same result code and the same bytes out;
 * pool memory must stay within a bound (below).
 *
 * Cost: while fuzzing, the pass of one byte per read runs for one input
 * in FUZZ_BYTEWISE_ONE_IN (those whose byte 1 is a multiple of it: the
 * fuzzer can pick them) and feeds bodies over FUZZ_BYTEWISE_MAX bytes in
 * pieces of 1..3 bytes instead of one byte per read; bodies over
 * FUZZ_EVERY_MAX bytes are split in two at FUZZ_CUTS points the input's
 * seed picks instead of at every byte.  With FUZZ_FULL set in the
 * environment (the corpus replay of `make parsers-test`), every body is
 * fed one byte per read and split in two at every byte.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_llm_router.h"
#include "ngx_stubs.h"


/* what the scanner keeps of a JSON usage object split by reads */
#define FUZZ_USAGE_MAX   1024
#define FUZZ_MAX_CHUNKS  (64 * 1024)

#define FUZZ_BYTEWISE_MAX  128
#define FUZZ_BYTEWISE_ONE_IN  4
#define FUZZ_EVERY_MAX     32
#define FUZZ_CUTS          8


typedef struct {
    int64_t      prompt;
    int64_t      completion;
    int64_t      cached;
    ngx_uint_t   usage_seen;
    ngx_uint_t   sse_done;
    ngx_int_t    rc;
    u_char      *out;
    size_t       out_len;
    size_t       out_size;
    size_t       pool_bytes;
} fuzz_result_t;


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


ngx_module_t                       ngx_http_llm_router_module;
ngx_http_output_header_filter_pt   ngx_http_top_header_filter;
ngx_http_output_body_filter_pt     ngx_http_top_body_filter;

static fuzz_result_t              *fuzz_current;
static int                         fuzz_full = -1;
static ngx_buf_t                   fuzz_bufs[FUZZ_MAX_CHUNKS + 1];
static ngx_http_output_body_filter_pt  fuzz_filter;


/* the module's other files: never reached by the body filter's paths */

ngx_int_t
ngx_http_llm_attempts_string(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    ngx_str_t *s)
{
    abort();
}


ngx_int_t
ngx_http_llm_budget_headers(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx)
{
    abort();
}


ngx_http_llm_ctx_t *
ngx_http_llm_create_ctx(ngx_http_request_t *r)
{
    abort();
}


ngx_http_llm_ctx_t *
ngx_http_llm_get_ctx(ngx_http_request_t *r)
{
    abort();
}


ngx_buf_t *
ngx_http_llm_error_body(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    ngx_uint_t status)
{
    abort();
}


ngx_int_t
ngx_http_llm_error_response(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx)
{
    abort();
}


void
ngx_http_llm_finalize(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx)
{
    abort();
}


ngx_http_llm_provider_t *
ngx_http_llm_find_provider(ngx_http_llm_main_conf_t *lmcf, ngx_str_t *name)
{
    abort();
}


void
ngx_http_llm_cache_served(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx)
{
    abort();
}


ngx_int_t
ngx_http_llm_xlate_header(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx)
{
    abort();
}


ngx_int_t
ngx_http_llm_xlate_body(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    ngx_chain_t *in, ngx_http_output_body_filter_pt next)
{
    abort();
}


/* the circuit breaker's verdict on an answer: not the parser's business */

void
ngx_http_llm_circuit_answer_end(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, ngx_uint_t complete)
{
}


/* the next body filter: what reaches the client, all of it sent */

static ngx_int_t
fuzz_next_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    size_t          n;
    fuzz_result_t  *res;

    res = fuzz_current;

    for ( /* void */ ; in; in = in->next) {
        if (!ngx_buf_in_memory(in->buf)) {
            continue;
        }

        n = in->buf->last - in->buf->pos;

        if (res->out_len + n > res->out_size) {
            res->out_size = (res->out_len + n) * 2;
            res->out = realloc(res->out, res->out_size);
            if (res->out == NULL) {
                abort();
            }
        }

        if (n) {
            memcpy(res->out + res->out_len, in->buf->pos, n);
        }

        res->out_len += n;
        in->buf->pos = in->buf->last;
    }

    return NGX_OK;
}


static void
fuzz_run(const u_char *body, size_t len, u_char flags, size_t *cuts,
    size_t ncuts, fuzz_result_t *res)
{
    u_char                    *copy;
    size_t                     i, from, to;
    ngx_buf_t                 *b;
    ngx_log_t                  log;
    ngx_int_t                  rc;
    ngx_pool_t                 pool;
    ngx_chain_t                cl;
    ngx_connection_t           c;
    ngx_http_request_t        *r;
    ngx_http_llm_ctx_t        *ctx;
    ngx_http_llm_target_t     *target;
    ngx_http_llm_provider_t   *prov;

    memset(res, 0, sizeof(fuzz_result_t));
    fuzz_current = res;

    ngx_memzero(&log, sizeof(ngx_log_t));
    ngx_memzero(&pool, sizeof(ngx_pool_t));
    ngx_memzero(&c, sizeof(ngx_connection_t));
    c.log = &log;

    r = ngx_pcalloc(&pool, sizeof(ngx_http_request_t));
    r->main = r;
    r->pool = &pool;
    r->connection = &c;
    r->ctx = ngx_pcalloc(&pool, sizeof(void *));

    prov = ngx_pcalloc(&pool, sizeof(ngx_http_llm_provider_t));
    ngx_str_set(&prov->name, "fuzz");
    target = ngx_pcalloc(&pool, sizeof(ngx_http_llm_target_t));
    target->provider = prov;

    ctx = ngx_pcalloc(&pool, sizeof(ngx_http_llm_ctx_t));
    ctx->request = r;
    ctx->target = target;
    ctx->proxied = 1;
    ctx->sse.active = (flags & 1) ? 1 : 0;
    ctx->usage.json_watch = !ctx->sse.active;
    ctx->strip_usage = (flags & 2) ? 1 : 0;
    ctx->sse.unframed = (flags & 4) ? 1 : 0;
    r->ctx[0] = ctx;

    rc = NGX_OK;
    from = 0;

    for (i = 0; i <= ncuts && rc != NGX_ERROR; i++) {
        to = (i < ncuts) ? cuts[i] : len;

        /* exactly the read's bytes: ASan catches reads past them */
        copy = ngx_stubs_alloc(to - from);
        memcpy(copy, body + from, to - from);

        /* the buffer headers are the harness's own: fewer mallocs */
        b = &fuzz_bufs[i];
        ngx_memzero(b, sizeof(ngx_buf_t));
        b->start = copy;
        b->pos = copy;
        b->last = copy + (to - from);
        b->end = b->last;
        b->temporary = 1;
        b->flush = 1;               /* as the unbuffered upstream sets */
        b->last_buf = (i == ncuts);

        cl.buf = b;
        cl.next = NULL;

        rc = fuzz_filter(r, &cl);
        from = to;
    }

    res->rc = rc;
    res->prompt = ctx->usage.prompt_tokens;
    res->completion = ctx->usage.completion_tokens;
    res->cached = ctx->usage.cached_tokens;
    res->usage_seen = ctx->usage.seen;
    res->sse_done = ctx->sse.done;
    res->pool_bytes = ngx_stubs_pool_bytes();

    ngx_stubs_pool_reset();
}


static void
fuzz_fail(const char *how, const char *what, const u_char *body, size_t len)
{
    fprintf(stderr, "fuzz_usage: %s: %s differs from the whole body's\n"
            "body (%zu bytes): %.*s\n", how, what, len,
            (int) (len > 400 ? 400 : len), body);
    abort();
}


static void
fuzz_compare(fuzz_result_t *a, fuzz_result_t *b, const char *how,
    const u_char *body, size_t len, ngx_uint_t usage)
{
    if (usage
        && (a->usage_seen != b->usage_seen || a->prompt != b->prompt
            || a->completion != b->completion || a->cached != b->cached))
    {
        fprintf(stderr, "whole: seen %lu %ld/%ld/%ld, split: seen %lu "
                "%ld/%ld/%ld\n", (unsigned long) a->usage_seen,
                (long) a->prompt, (long) a->completion, (long) a->cached,
                (unsigned long) b->usage_seen, (long) b->prompt,
                (long) b->completion, (long) b->cached);
        fuzz_fail(how, "usage", body, len);
    }

    if (a->sse_done != b->sse_done) {
        fuzz_fail(how, "end-of-stream verdict", body, len);
    }

    if (a->rc != b->rc) {
        fuzz_fail(how, "result code", body, len);
    }

    /* a stream cut with an error: what was sent before it may differ */

    if (a->rc == NGX_ERROR) {
        return;
    }

    if (a->out_len != b->out_len
        || (a->out_len && memcmp(a->out, b->out, a->out_len) != 0))
    {
        fuzz_fail(how, "output", body, len);
    }
}


/*
 * Pool memory: the SSE carry (at most 2 x 256 KB with its doublings),
 * the copies of what is kept (each at least 1 KB, reused once sent), a
 * buffer header per read that ends a copy, and the reads themselves.
 */

static void
fuzz_check_memory(fuzz_result_t *res, size_t len, size_t nreads,
    const u_char *body)
{
    size_t  bound;

    bound = 2 * 256 * 1024 + 4 * len + nreads * (2 * sizeof(ngx_buf_t)
                                                + sizeof(ngx_chain_t) + 2048)
            + 64 * 1024;

    if (res->pool_bytes > bound) {
        fprintf(stderr, "pool: %zu bytes for %zu bytes in %zu reads\n",
                res->pool_bytes, len, nreads);
        fuzz_fail("memory", "pool size", body, len);
    }
}


/*
 * The reference for a JSON answer: the usage scanner as it was before it
 * skipped a top-level key and the bytes between the brackets below the
 * top level at once, a byte at a time.  Each top-level "usage" object
 * it finds is read by the usage reader of SSE events (one that shares
 * only the token counts' reading with the scanner under test), into
 * ctx: both must agree on every body.
 */

static void
fuzz_ref_usage(const u_char *p, const u_char *last, ngx_http_llm_ctx_t *ctx,
    u_char *out)
{
    u_char         c, key[5];
    size_t         n, key_len;
    ngx_uint_t     depth, in_string, escape, want_key, in_key, usage_next,
                   capture;
    const u_char  *from;

    depth = 0;
    in_string = 0;
    escape = 0;
    want_key = 0;
    in_key = 0;
    usage_next = 0;
    capture = 0;
    key_len = 0;
    from = NULL;

    for ( /* void */ ; p < last; p++) {
        c = *p;

        if (in_string) {
            if (escape) {
                escape = 0;

            } else if (c == '\\') {
                escape = 1;

            } else if (c != '"') {
                if (in_key) {
                    if (key_len < sizeof(key)) {
                        key[key_len] = c;
                    }

                    key_len++;
                }

            } else {
                in_string = 0;

                if (in_key) {
                    in_key = 0;
                    usage_next = (key_len == 5
                                  && memcmp(key, "usage", 5) == 0);
                }
            }

            continue;
        }

        switch (c) {

        case '"':
            in_string = 1;

            if (depth == 1 && want_key) {
                in_key = 1;
                want_key = 0;
                key_len = 0;
            }

            break;

        case '{':
        case '[':
            if (depth == 1 && usage_next && c == '{') {
                capture = 1;
                from = p;
            }

            usage_next = 0;
            depth++;
            want_key = (c == '{');
            break;

        case '}':
        case ']':
            if (depth) {
                depth--;
            }

            if (capture && depth == 1) {
                capture = 0;

                /*
                 * a space after the object: an object that ends with
                 * ,"usage":null} would be passed over as OpenAI's chunks
                 * are, where the scanner reads it
                 */
                memcpy(out, "\"usage\":", 8);
                n = 8 + (p + 1 - from);
                memcpy(out + 8, from, p + 1 - from);
                out[n++] = ' ';
                ngx_http_llm_usage_event(ctx, out, n);
            }

            break;

        case ',':
            if (depth == 1) {
                want_key = 1;
                usage_next = 0;
            }

            break;

        case ' ':
        case '\n':
        case ':':
        case '\t':
        case '\r':
            break;

        default:
            if (depth == 1) {
                usage_next = 0;
            }
        }
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char               flags, *wrap;
    size_t               len, i, n, *cuts;
    uint32_t             seed;
    ngx_uint_t           usage;
    const u_char        *body;
    fuzz_result_t        whole, split;
    ngx_http_llm_ctx_t  *rctx;

    if (size < 2) {
        return 0;
    }

    if (fuzz_filter == NULL) {
        ngx_stubs_zero = 0;
        fuzz_full = getenv("FUZZ_FULL") != NULL;
        ngx_http_top_body_filter = fuzz_next_body_filter;
        ngx_http_llm_filter_init(NULL);
        fuzz_filter = ngx_http_top_body_filter;
    }

    flags = data[0];
    seed = data[1] * 2654435761u + 1;
    body = data + 2;
    len = size - 2;

    if (len > FUZZ_MAX_CHUNKS) {
        return 0;
    }

    cuts = malloc((len + 1) * sizeof(size_t));
    if (cuts == NULL) {
        abort();
    }

    /*
     * A JSON usage object longer than the scanner keeps is, by design,
     * only read when no read splits it: short JSON bodies must agree.
     */
    usage = (flags & 1) || len <= FUZZ_USAGE_MAX;

    fuzz_run(body, len, flags, NULL, 0, &whole);
    fuzz_check_memory(&whole, len, 1, body);

    if (!(flags & 1)) {
        /* the usage objects the reference finds read the same */
        wrap = malloc(len + 9);
        rctx = calloc(1, sizeof(ngx_http_llm_ctx_t));
        if (wrap == NULL || rctx == NULL) {
            abort();
        }

        fuzz_ref_usage(body, body + len, rctx, wrap);

        if (rctx->usage.seen != whole.usage_seen
            || rctx->usage.prompt_tokens != whole.prompt
            || rctx->usage.completion_tokens != whole.completion
            || rctx->usage.cached_tokens != whole.cached)
        {
            fprintf(stderr, "reference: seen %lu %ld/%ld/%ld, scanner: "
                    "seen %lu %ld/%ld/%ld\n",
                    (unsigned long) rctx->usage.seen,
                    (long) rctx->usage.prompt_tokens,
                    (long) rctx->usage.completion_tokens,
                    (long) rctx->usage.cached_tokens,
                    (unsigned long) whole.usage_seen, (long) whole.prompt,
                    (long) whole.completion, (long) whole.cached);
            fuzz_fail("reference", "usage", body, len);
        }

        free(rctx);
        free(wrap);
    }

    if (getenv("FUZZ_VERBOSE")) {
        fprintf(stderr, "flags %u: usage seen %lu prompt %ld completion %ld "
                "cached %ld, final event %lu, rc %ld, %zu of %zu bytes out\n",
                flags, (unsigned long) whole.usage_seen, (long) whole.prompt,
                (long) whole.completion, (long) whole.cached,
                (unsigned long) whole.sse_done, (long) whole.rc,
                whole.out_len, len);
    }

    if (len > 1) {
        /* random pieces, mostly short */
        for (n = 0, i = 0; ; ) {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            i += 1 + ((seed & 3) ? seed % 16 : seed % 512);

            if (i >= len) {
                break;
            }

            cuts[n++] = i;
        }

        fuzz_run(body, len, flags, cuts, n, &split);
        fuzz_check_memory(&split, len, n + 1, body);
        fuzz_compare(&whole, &split, "random split", body, len, usage);
        free(split.out);

        /*
         * one byte per read (long bodies: 1..3 bytes per read); while
         * fuzzing, for one input in FUZZ_BYTEWISE_ONE_IN
         */
        if (fuzz_full || data[1] % FUZZ_BYTEWISE_ONE_IN == 0) {
            for (n = 0, i = 1; i < len; n++) {
                cuts[n] = i;

                if (fuzz_full || len <= FUZZ_BYTEWISE_MAX) {
                    i++;

                } else {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    i += 1 + seed % 3;
                }
            }

            fuzz_run(body, len, flags, cuts, n, &split);
            fuzz_check_memory(&split, len, n + 1, body);
            fuzz_compare(&whole, &split, "one byte per read", body, len,
                         usage);
            free(split.out);
        }
    }

    /* in two at every byte (long bodies: at FUZZ_CUTS points) */
    for (i = 1; i < len; i++) {
        if (fuzz_full || len <= FUZZ_EVERY_MAX) {
            cuts[0] = i;

        } else if (i > FUZZ_CUTS) {
            break;

        } else {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            cuts[0] = 1 + seed % (len - 1);
        }

        fuzz_run(body, len, flags, cuts, 1, &split);
        fuzz_compare(&whole, &split, "split in two", body, len, usage);
        free(split.out);
    }

    free(whole.out);
    free(cuts);

    return 0;
}
