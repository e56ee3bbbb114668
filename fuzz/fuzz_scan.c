/*
 * The byte searches of src/ngx_http_llm_router_scan.c, built twice (the
 * SIMD variant and the portable word loop, their symbols renamed by the
 * Makefile), against byte loops: every search from each of the input's
 * first 17 bytes (every position in a vector, every length of the last
 * one) to its end, for line ends, quotes, "usage" and a needle the input
 * chooses, and the walk below a JSON text's top level.  A libFuzzer harness; with -DTEST_SCAN
 * a standalone test of random inputs from a fixed seed (make test).
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/ngx_http_llm_router_scan.h"


typedef const unsigned char  *(*any_pt)(const unsigned char *p,
    const unsigned char *end);
typedef const unsigned char  *(*find_pt)(const unsigned char *p,
    const unsigned char *end, const unsigned char *needle, size_t len);

const unsigned char *ngx_http_llm_scan_eol_simd(const unsigned char *p,
    const unsigned char *end);
const unsigned char *ngx_http_llm_scan_quote_simd(const unsigned char *p,
    const unsigned char *end);
const unsigned char *ngx_http_llm_scan_find_simd(const unsigned char *p,
    const unsigned char *end, const unsigned char *needle, size_t len);
const unsigned char *ngx_http_llm_scan_below_simd(const unsigned char *p,
    const unsigned char *end, ngx_http_llm_scan_below_t *b);
const unsigned char *ngx_http_llm_scan_eol_portable(const unsigned char *p,
    const unsigned char *end);
const unsigned char *ngx_http_llm_scan_below_portable(
    const unsigned char *p, const unsigned char *end,
    ngx_http_llm_scan_below_t *b);
const unsigned char *ngx_http_llm_scan_quote_portable(const unsigned char *p,
    const unsigned char *end);
const unsigned char *ngx_http_llm_scan_find_portable(const unsigned char *p,
    const unsigned char *end, const unsigned char *needle, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


/*
 * The byte loops' answers for every start at once: for each position, the
 * first match at or after it (size: none), walking back from the end.
 */

static void
ref_next(const uint8_t *data, size_t size, const unsigned char *needle,
    size_t len, int a, int b, size_t *next)
{
    size_t  i;

    next[size] = size;

    for (i = size; i-- > 0; /* void */) {
        if (needle == NULL) {
            next[i] = (data[i] == a || data[i] == b) ? i : next[i + 1];

        } else {
            next[i] = (size - i >= len && memcmp(data + i, needle, len) == 0)
                      ? i : next[i + 1];
        }
    }
}


/* the walk below the top level, a byte at a time */

static const unsigned char *
ref_below(const unsigned char *p, const unsigned char *end,
    ngx_http_llm_scan_below_t *b)
{
    int  str, esc;

    str = 0;
    esc = 0;

    for ( /* void */ ; p < end; p++) {
        if (str) {
            if (esc) {
                esc = 0;

            } else if (*p == '\\') {
                esc = 1;

            } else if (*p == '"') {
                str = 0;
            }

            continue;
        }

        if (*p == '"') {
            str = 1;

        } else if (*p == '{' || *p == '[') {
            b->depth++;
            b->open = *p;

        } else if (*p == '}' || *p == ']') {
            if (b->depth == 2) {
                b->cut = 0;
                return p;
            }

            b->depth--;
        }
    }

    b->cut = (unsigned char) (str ? (esc ? 2 : 1) : 0);

    return end;
}


static void
fail(const char *what, size_t start, const uint8_t *data, size_t size)
{
    fprintf(stderr, "%s differs from the byte loop at start %zu, input "
            "(%zu bytes): %.*s\n", what, start, size,
            (int) (size > 200 ? 200 : size), (const char *) data);
    abort();
}


#define AT(n)  ((n) == size ? end : data + (n))
#define FOUND(n)  ((n) == size ? NULL : data + (n))


static void
check(const uint8_t *data, size_t size, const unsigned char *needle,
    size_t len)
{
    size_t                     s, *eol, *quote, *usage, *find;
    const unsigned char       *p, *end, *u, *want;
    ngx_http_llm_scan_below_t  bw, bs, bp;

    end = data + size;
    u = (const unsigned char *) "\"usage\"";

    eol = malloc(4 * (size + 1) * sizeof(size_t));
    if (eol == NULL) {
        abort();
    }

    quote = eol + size + 1;
    usage = quote + size + 1;
    find = usage + size + 1;

    ref_next(data, size, NULL, 0, '\r', '\n', eol);
    ref_next(data, size, NULL, 0, '"', '\\', quote);
    ref_next(data, size, u, 7, 0, 0, usage);

    if (len >= 2) {
        ref_next(data, size, needle, len, 0, 0, find);
    }

    for (s = 0; s <= size && s <= 16; s++) {
        p = data + s;

        if (ngx_http_llm_scan_eol_simd(p, end) != AT(eol[s])
            || ngx_http_llm_scan_eol_portable(p, end) != AT(eol[s]))
        {
            fail("eol", s, data, size);
        }

        if (ngx_http_llm_scan_quote_simd(p, end) != AT(quote[s])
            || ngx_http_llm_scan_quote_portable(p, end) != AT(quote[s]))
        {
            fail("quote", s, data, size);
        }

        if (ngx_http_llm_scan_find_simd(p, end, u, 7) != FOUND(usage[s])
            || ngx_http_llm_scan_find_portable(p, end, u, 7)
               != FOUND(usage[s]))
        {
            fail("find \"usage\"", s, data, size);
        }

        if (len >= 2
            && (ngx_http_llm_scan_find_simd(p, end, needle, len)
                != FOUND(find[s])
                || ngx_http_llm_scan_find_portable(p, end, needle, len)
                   != FOUND(find[s])))
        {
            fail("find", s, data, size);
        }

        /* from depths 2 to 4, with an opening bracket or none before */

        bw.depth = 2 + s % 3;
        bw.open = (s & 1) ? '{' : 0;
        bw.cut = 7;
        bs = bw;
        bp = bw;

        want = ref_below(p, end, &bw);

        if (ngx_http_llm_scan_below_simd(p, end, &bs) != want
            || ngx_http_llm_scan_below_portable(p, end, &bp) != want
            || bs.depth != bw.depth || bp.depth != bw.depth
            || bs.open != bw.open || bp.open != bw.open
            || bs.cut != bw.cut || bp.cut != bw.cut)
        {
            fail("below", s, data, size);
        }
    }

    free(eol);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t          len;
    uint8_t        *copy;
    unsigned char   needle[18];

    /* the first byte: a needle of 2 to 17 bytes from the input's end */

    len = 0;

    if (size > 1) {
        len = (size_t) (data[0] % 16) + 2;

        if (len > size - 1) {
            len = size - 1;
        }

        memcpy(needle, data + size - len, len);
        data++;
        size--;
    }

    /* an allocation of the input's size: reads past it are caught */

    copy = malloc(size ? size : 1);
    if (copy == NULL) {
        return 0;
    }

    memcpy(copy, data, size);
    check(copy, size, needle, len);
    free(copy);

    return 0;
}


#if (defined TEST_SCAN)

/* inputs of a small alphabet, so that matches and near matches abound */

int
main(void)
{
    size_t             i, j, n, size;
    uint8_t            buf[300];
    uint64_t           seed;
    static const char  alphabet[] = "\"usage\\\r\n :{}a[]Y_y\x7f";

    seed = 20261202;
    n = 50000;

    for (i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        size = (size_t) (seed >> 33) % sizeof(buf);

        for (j = 0; j < size; j++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            buf[j] = (uint8_t) alphabet[(seed >> 33) % (sizeof(alphabet) - 1)];

            if (((seed >> 20) & 31) == 0) {
                buf[j] = (uint8_t) (seed >> 40);
            }

            /* every other input: long lines, vectors of 64 bytes and more */

            if ((i & 1) && (buf[j] == '\r' || buf[j] == '\n')
                && ((seed >> 10) & 63) != 0)
            {
                buf[j] = 'a';
            }
        }

        LLVMFuzzerTestOneInput(buf, size);
    }

    printf("scan: %zu inputs, SIMD and portable searches equal to byte "
           "loops\n", n);

    return 0;
}

#endif
