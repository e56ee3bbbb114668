/*
 * libFuzzer harness: the SIMD scanner (AVX2 when the CPU has it, SSE2 /
 * NEON), the SSE2-only build and the scanner as it was before issue 10
 * (scan_before.c) against the portable one, which is the scanner as it
 * was before SIMD.  Every result must be identical: code, error offset,
 * every span (as an offset), the decoded model name, the flags and the
 * integer values, the request signals.  Without cJSON and the reference
 * parser it runs some hundred times faster than fuzz_json, so that tens
 * of millions of inputs are cheap; each input is also checked as the
 * contents of a string in a valid body, at 4 alignments, so that the
 * vector loops see the bytes at other positions of a vector.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_llm_router_json.h"


int ngx_http_llm_json_scan_simd(const unsigned char *buf, size_t len,
    unsigned char *name_buf, ngx_http_llm_json_doc_t *doc);
int ngx_http_llm_json_scan_sse2(const unsigned char *buf, size_t len,
    unsigned char *name_buf, ngx_http_llm_json_doc_t *doc);
int ngx_http_llm_json_scan_before(const unsigned char *buf, size_t len,
    unsigned char *name_buf, ngx_http_llm_json_doc_t *doc);
int ngx_http_llm_json_scan_portable(const unsigned char *buf, size_t len,
    unsigned char *name_buf, ngx_http_llm_json_doc_t *doc);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


#define SPAN(d, s, buf)                                                       \
    ((d)->s.start ? (long) ((d)->s.start - (buf)) : -1L),                     \
    ((d)->s.end ? (long) ((d)->s.end - (buf)) : -1L)


static void
spans(const ngx_http_llm_json_doc_t *d, const uint8_t *buf, long *o)
{
    long  v[] = {
        SPAN(d, object, buf), SPAN(d, model, buf), SPAN(d, stream, buf),
        SPAN(d, stream_options, buf), SPAN(d, include_usage, buf),
        SPAN(d, max_tokens, buf), SPAN(d, max_completion_tokens, buf),
        SPAN(d, max_output_tokens, buf), SPAN(d, n, buf),
        SPAN(d, best_of, buf),
        d->stream_true, d->include_usage_true,
        (long) d->max_tokens_value, (long) d->max_completion_tokens_value,
        (long) d->max_output_tokens_value, (long) d->n_value,
        (long) d->best_of_value, (long) d->error_offset,
        d->model_name ? (long) d->model_len : -1L,
        SPAN(d, input, buf), SPAN(d, user_text, buf), d->tools, d->images
    };

    /* 10 spans of 2 offsets, 9 more values, the signals' 6: 35 */
    memcpy(o, v, sizeof(v));
}


static void
compare(const uint8_t *buf, size_t size)
{
    int                       rs, r2, rb, rp;
    long                      os[35], o2[35], ob[35], op[35];
    uint8_t                  *ns, *n2, *nb, *np;
    ngx_http_llm_json_doc_t   ds, d2, db, dp;

    ns = malloc(size + 1);
    n2 = malloc(size + 1);
    nb = malloc(size + 1);
    np = malloc(size + 1);

    rs = ngx_http_llm_json_scan_simd(buf, size, ns, &ds);
    r2 = ngx_http_llm_json_scan_sse2(buf, size, n2, &d2);
    rb = ngx_http_llm_json_scan_before(buf, size, nb, &db);
    rp = ngx_http_llm_json_scan_portable(buf, size, np, &dp);

    spans(&ds, buf, os);
    spans(&d2, buf, o2);
    spans(&db, buf, ob);
    spans(&dp, buf, op);

    if (rs != rp || memcmp(os, op, sizeof(os)) != 0
        || (ds.model_name != NULL
            && memcmp(ds.model_name, dp.model_name, ds.model_len) != 0)
        || r2 != rp || memcmp(o2, op, sizeof(o2)) != 0
        || (d2.model_name != NULL
            && memcmp(d2.model_name, dp.model_name, d2.model_len) != 0)
        || rb != rp || memcmp(ob, op, sizeof(ob)) != 0
        || (db.model_name != NULL
            && memcmp(db.model_name, dp.model_name, db.model_len) != 0))
    {
        fprintf(stderr, "simd %d, sse2 %d, before %d, portable %d, "
                "offsets %ld %ld %ld %ld, input (%zu bytes): %.*s\n",
                rs, r2, rb, rp, os[27], o2[27], ob[27], op[27], size,
                (int) (size > 400 ? 400 : size), (const char *) buf);
        abort();
    }

    free(ns);
    free(n2);
    free(nb);
    free(np);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t          i, k, h;
    uint8_t        *b;
    static const char  head[] = "{\"model\":\"m\",\"x\":\"";
    static const char  tail[] = "\"}";
    static const size_t  pad[] = { 0, 1, 6, 13 };

    /* exact-size copies: ASan catches a read past the input */

    b = malloc(size ? size : 1);
    memcpy(b, data, size);
    compare(b, size);
    free(b);

    for (i = 0; i < 4; i++) {
        k = pad[i];
        h = sizeof(head) - 1 + k;
        b = malloc(h + size + sizeof(tail) - 1);
        memcpy(b, head, sizeof(head) - 1);
        memset(b + sizeof(head) - 1, 'a', k);
        memcpy(b + h, data, size);
        memcpy(b + h + size, tail, sizeof(tail) - 1);
        compare(b, h + size + sizeof(tail) - 1);
        free(b);
    }

    return 0;
}
