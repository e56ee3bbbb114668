/*
 * How the translator harnesses (fuzz_xlate*.c) cut a stream: each stream
 * is translated whole and cut, and the outputs must be the same.
 *
 * While fuzzing, one cut pass: pieces of 1..N bytes at places the input
 * picks, N its step byte (0 or 1: byte by byte).  With FUZZ_FULL set in
 * the environment (`make xlate-replay`, part of `make test`), two: every
 * N bytes, and byte by byte.  Before, every input ran both of those
 * (byte by byte up to 256 bytes, pieces of 1..3 bytes past that); one
 * pass instead of two runs 1.2 times as many inputs a second.
 */

#ifndef FUZZ_CUTS_H
#define FUZZ_CUTS_H

#include <stdlib.h>
#include <string.h>

#include "ngx_http_llm_router_xlate.h"

/* a step above FUZZ_RANDOM: pieces of 1..(step - FUZZ_RANDOM) bytes */
#define FUZZ_RANDOM  ((size_t) 1 << 30)


static int
fuzz_full(void)
{
    static int  full = -1;

    if (full < 0) {
        full = getenv("FUZZ_FULL") != NULL;
    }

    return full;
}


/* the size of the piece at offset i: every step bytes, or at random */

static size_t
fuzz_piece(size_t i, size_t step)
{
    if (step > FUZZ_RANDOM) {
        return 1 + (i * 2654435761u >> 7) % (step - FUZZ_RANDOM);
    }

    return step;
}


static void
fuzz_same(const ngx_http_llm_xlate_buf_t *a, const ngx_http_llm_xlate_buf_t *b)
{
    if (a->len != b->len || (a->len && memcmp(a->data, b->data, a->len)))
    {
        abort();
    }
}

#endif /* FUZZ_CUTS_H */
