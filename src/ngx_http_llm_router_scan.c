
/*
 * ngx_http_llm_router_module: byte searches of the answer path.
 *
 * The event stream filter looks for line ends in every event and for
 * "usage" in events' data; the usage reader of a JSON answer skips
 * string contents and walks below the top level to the bracket that
 * closes to it.  Byte at a time these cost 4 to 6 instructions per
 * byte; with SSE2 (always there on x86-64) or NEON (arm64) a 16-byte
 * vector is tested in about as many, and the last, partial vector of a
 * search is an overlapping load instead of a byte loop.  Elsewhere 8 bytes
 * are tested at a time with the "haszero" idiom.  The choice is made at
 * compile time; -DNGX_HTTP_LLM_SCAN_PORTABLE forces the word loop (fuzz/
 * compares the two).
 */


#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ngx_http_llm_router_scan.h"


#if !(defined NGX_HTTP_LLM_SCAN_PORTABLE)
#if (defined __SSE2__)
#include <emmintrin.h>
#define NGX_HTTP_LLM_SCAN_SSE2  1
#if (defined __x86_64__ && defined __GNUC__                                   \
     && !defined NGX_HTTP_LLM_SCAN_NO_AVX2)
#include <immintrin.h>
#define NGX_HTTP_LLM_SCAN_AVX2  1
#endif
#elif (defined __aarch64__ && defined __ARM_NEON)
#include <arm_neon.h>
#define NGX_HTTP_LLM_SCAN_NEON  1
#endif
#endif


#define NGX_HTTP_LLM_SCAN_ONES   0x0101010101010101ULL
#define NGX_HTTP_LLM_SCAN_HIGHS  0x8080808080808080ULL


/* inline: a and b become constant vectors in each search */
static inline const unsigned char *ngx_http_llm_scan_any2(
    const unsigned char *p, const unsigned char *end, unsigned char a,
    unsigned char b);


/*
 * A bracket outside strings on the walk below the top level (or 'Y', '_',
 * 'y', 0x7f, which the vector search also finds: passed over): 1 if it
 * closes to depth 1.
 */

static inline int
ngx_http_llm_scan_bracket(const unsigned char *c,
    ngx_http_llm_scan_below_t *b)
{
    switch (*c) {

    case '{':
    case '[':
        b->depth++;
        b->open = *c;
        return 0;

    case '}':
    case ']':
        if (b->depth == 2) {
            b->cut = 0;
            return 1;
        }

        b->depth--;
        return 0;

    default:
        return 0;
    }
}


/*
 * The walk below the top level a byte at a time (the portable search, and
 * the last bytes of the vector one).  str: 0 outside strings, 1 inside
 * one, 2 right after a '\\' inside one.
 */

static const unsigned char *
ngx_http_llm_scan_below_bytes(const unsigned char *p,
    const unsigned char *end, ngx_http_llm_scan_below_t *b, unsigned str)
{
    for ( /* void */ ; p < end; p++) {

        if (str) {
            str = (str == 2) ? 1 : (*p == '"') ? 0 : (*p == '\\') ? 2 : 1;

        } else if (*p == '"') {
            str = 1;

        } else if (ngx_http_llm_scan_bracket(p, b)) {
            return p;
        }
    }

    b->cut = (unsigned char) str;

    return end;
}


const unsigned char *
ngx_http_llm_scan_quote(const unsigned char *p, const unsigned char *end)
{
    return ngx_http_llm_scan_any2(p, end, '"', '\\');
}


#if (NGX_HTTP_LLM_SCAN_SSE2 || NGX_HTTP_LLM_SCAN_NEON)

#if (NGX_HTTP_LLM_SCAN_SSE2)

typedef __m128i  ngx_http_llm_vec_t;

#define ngx_http_llm_vec_set(c)      _mm_set1_epi8((char) (c))
#define ngx_http_llm_vec_load(p)                                              \
    _mm_loadu_si128((const __m128i *) (const void *) (p))
#define ngx_http_llm_vec_eq(v, w)    _mm_cmpeq_epi8(v, w)
#define ngx_http_llm_vec_or(v, w)    _mm_or_si128(v, w)
#define ngx_http_llm_vec_and(v, w)   _mm_and_si128(v, w)

/* a bit per byte, the first byte in bit 0 */
#define ngx_http_llm_vec_mask(v)                                              \
    ((uint64_t) (unsigned) _mm_movemask_epi8(v))
#define NGX_HTTP_LLM_SCAN_BITS       1
#define NGX_HTTP_LLM_SCAN_FULL       0xffffULL

#else

typedef uint8x16_t  ngx_http_llm_vec_t;

#define ngx_http_llm_vec_set(c)      vdupq_n_u8(c)
#define ngx_http_llm_vec_load(p)     vld1q_u8(p)
#define ngx_http_llm_vec_eq(v, w)    vceqq_u8(v, w)
#define ngx_http_llm_vec_or(v, w)    vorrq_u8(v, w)
#define ngx_http_llm_vec_and(v, w)   vandq_u8(v, w)

/*
 * NEON has no byte mask: "shift right and narrow" keeps 4 bits a byte,
 * of which one is kept
 */
#define ngx_http_llm_vec_mask(v)                                              \
    (vget_lane_u64(vreinterpret_u64_u8(vshrn_n_u16(                           \
        vreinterpretq_u16_u8(v), 4)), 0) & 0x1111111111111111ULL)
#define NGX_HTTP_LLM_SCAN_BITS       4
#define NGX_HTTP_LLM_SCAN_FULL       0x1111111111111111ULL

#endif


/*
 * The first a or b.  A search shorter than a vector is a byte loop; the
 * last vector of a longer one is loaded so that it ends at end.
 */

static inline const unsigned char *
ngx_http_llm_scan_any2(const unsigned char *p, const unsigned char *end,
    unsigned char a, unsigned char b)
{
    uint64_t            m;
    ngx_http_llm_vec_t  va, vb, v;

    if (end - p < 16) {
        while (p < end && *p != a && *p != b) {
            p++;
        }

        return p;
    }

    va = ngx_http_llm_vec_set(a);
    vb = ngx_http_llm_vec_set(b);

    for ( ;; ) {
        if (end - p <= 16) {
            /* the bytes it shares with the vector before have neither */
            p = end - 16;

            v = ngx_http_llm_vec_load(p);
            m = ngx_http_llm_vec_mask(ngx_http_llm_vec_or(
                    ngx_http_llm_vec_eq(v, va), ngx_http_llm_vec_eq(v, vb)));

            if (m == 0) {
                return end;
            }

            return p + __builtin_ctzll(m) / NGX_HTTP_LLM_SCAN_BITS;
        }

        v = ngx_http_llm_vec_load(p);
        m = ngx_http_llm_vec_mask(ngx_http_llm_vec_or(
                ngx_http_llm_vec_eq(v, va), ngx_http_llm_vec_eq(v, vb)));

        if (m != 0) {
            return p + __builtin_ctzll(m) / NGX_HTTP_LLM_SCAN_BITS;
        }

        p += 16;
    }
}


/*
 * Candidates are the positions whose second and last bytes match the
 * needle's, 16 positions per round (two loads, two compares); each is
 * checked with memcmp().  In JSON text a quote and a letter at the
 * needle's distance are rare, so most rounds have none.
 */

const unsigned char *
ngx_http_llm_scan_find(const unsigned char *p, const unsigned char *end,
    const unsigned char *needle, size_t len)
{
    size_t                f, l;
    uint64_t              m;
    ngx_http_llm_vec_t    vf, vl, v, w;
    const unsigned char  *c;

    f = (len > 2) ? 1 : 0;
    l = len - 1;

    vf = ngx_http_llm_vec_set(needle[f]);
    vl = ngx_http_llm_vec_set(needle[l]);

    while (end - p >= (ptrdiff_t) (l + 16)) {
        v = ngx_http_llm_vec_load(p + f);
        w = ngx_http_llm_vec_load(p + l);

        m = ngx_http_llm_vec_mask(ngx_http_llm_vec_and(
                ngx_http_llm_vec_eq(v, vf), ngx_http_llm_vec_eq(w, vl)));

        while (m != 0) {
            c = p + __builtin_ctzll(m) / NGX_HTTP_LLM_SCAN_BITS;

            if (memcmp(c, needle, len) == 0) {
                return c;
            }

            m &= m - 1;
        }

        p += 16;
    }

    for ( /* void */ ; end - p >= (ptrdiff_t) len; p++) {
        if (p[f] == needle[f] && memcmp(p, needle, len) == 0) {
            return p;
        }
    }

    return NULL;
}


#if (NGX_HTTP_LLM_SCAN_AVX2)

/*
 * A CPU with AVX2 (asked once, on the first search) takes the searches
 * longer than 64 bytes 64 a round, in two 32-byte vectors; an event's
 * line is one such search.  -DNGX_HTTP_LLM_SCAN_NO_AVX2: SSE2 only.
 */

/* -1: not known yet, 0: SSE2, 1: AVX2 */
static int  ngx_http_llm_scan_avx2 = -1;


#define ngx_http_llm_scan_eol_avx2_mask(q)                                    \
    ((uint32_t) _mm256_movemask_epi8(_mm256_or_si256(                         \
         _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)               \
                                              (const void *) (q)), vr),       \
         _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)               \
                                              (const void *) (q)), vn))))


/*
 * The last round is a window that ends at end, over positions the rounds
 * before may have tested already: they had no line end.
 */

__attribute__((target("avx2")))
static const unsigned char *
ngx_http_llm_scan_eol_avx2(const unsigned char *p, const unsigned char *end)
{
    uint64_t  m;
    __m256i   vr, vn;

    vr = _mm256_set1_epi8('\r');
    vn = _mm256_set1_epi8('\n');

    for ( ;; ) {
        if (end - p <= 64) {
            p = end - 64;
        }

        m = (uint64_t) ngx_http_llm_scan_eol_avx2_mask(p)
            | (uint64_t) ngx_http_llm_scan_eol_avx2_mask(p + 32) << 32;

        if (m != 0) {
            return p + __builtin_ctzll(m);
        }

        if (p == end - 64) {
            return end;
        }

        p += 64;
    }
}

#undef ngx_http_llm_scan_eol_avx2_mask

#endif


static const unsigned char *ngx_http_llm_scan_eol_vec(
    const unsigned char *p, const unsigned char *end);


/*
 * A jump to the AVX2 loop or to the 16-byte one, without a frame of its
 * own (an event's line is searched once per event)
 */

const unsigned char *
ngx_http_llm_scan_eol(const unsigned char *p, const unsigned char *end)
{
#if (NGX_HTTP_LLM_SCAN_AVX2)

    if (ngx_http_llm_scan_avx2 > 0 && end - p > 64) {
        return ngx_http_llm_scan_eol_avx2(p, end);
    }

#endif

    return ngx_http_llm_scan_eol_vec(p, end);
}


/* not inlined: its frame would be the jump's */

#if (defined __GNUC__)
__attribute__((noinline))
#endif
static const unsigned char *
ngx_http_llm_scan_eol_vec(const unsigned char *p, const unsigned char *end)
{
#if (NGX_HTTP_LLM_SCAN_AVX2)

    if (ngx_http_llm_scan_avx2 < 0) {
        /* the CPU asked on the first search */
        __builtin_cpu_init();
        ngx_http_llm_scan_avx2 = __builtin_cpu_supports("avx2") ? 1 : 0;

        if (ngx_http_llm_scan_avx2 && end - p > 64) {
            return ngx_http_llm_scan_eol_avx2(p, end);
        }
    }

#endif

    return ngx_http_llm_scan_any2(p, end, '\r', '\n');
}


/*
 * 16 bytes a round.  A vector without brackets ('[', ']', '{' and '}' are
 * the bytes that are 0x59 with bits 1, 2 and 5 cleared; so are 'Y', '_',
 * 'y' and 0x7f) and without '\\' changes only whether the walk is in a
 * string: by its quotes' parity.  Otherwise, without a '\\', each quote
 * opens or closes a string: the bytes within strings are the quotes'
 * running parity (shifts and xors), and the brackets outside them are
 * looked at.  With one, every quote, '\\' and bracket is looked at in
 * turn; a '\\' in a string clears the bit of the byte after it, or, last
 * in the vector, the next vector's first.  The last vector ends at end;
 * the bits of its bytes walked already are cleared.
 */

const unsigned char *
ngx_http_llm_scan_below(const unsigned char *p, const unsigned char *end,
    ngx_http_llm_scan_below_t *b)
{
    unsigned              str;
    uint64_t              m, q, e, x, bit, done;
    ngx_http_llm_vec_t    vq, vb, vk, vs, v, w;
    const unsigned char  *c;

    if (end - p < 16) {
        return ngx_http_llm_scan_below_bytes(p, end, b, 0);
    }

    str = 0;
    done = 0;

    vq = ngx_http_llm_vec_set('"');
    vb = ngx_http_llm_vec_set('\\');
    vk = ngx_http_llm_vec_set(0xd9);
    vs = ngx_http_llm_vec_set(0x59);

    for ( ;; ) {
        if (end - p < 16) {
            if (p == end) {
                b->cut = (unsigned char) str;
                return end;
            }

            /* the bits of the bytes before p go */
            done = ((uint64_t) 1 << (16 - (end - p))
                                    * NGX_HTTP_LLM_SCAN_BITS) - 1;
            p = end - 16;
        }

        v = ngx_http_llm_vec_load(p);
        w = ngx_http_llm_vec_eq(v, vb);
        q = ngx_http_llm_vec_mask(ngx_http_llm_vec_eq(v, vq)) & ~done;
        m = ngx_http_llm_vec_mask(ngx_http_llm_vec_or(w,
                ngx_http_llm_vec_eq(ngx_http_llm_vec_and(v, vk), vs)))
            & ~done;

        if (m == 0 && str != 2) {
            str ^= (unsigned) __builtin_parityll(q);
            p += 16;
            continue;
        }

        e = ngx_http_llm_vec_mask(w) & ~done;

        if (e == 0 && str != 2) {
            x = q ^ (q << NGX_HTTP_LLM_SCAN_BITS);
            x ^= x << 2 * NGX_HTTP_LLM_SCAN_BITS;
            x ^= x << 4 * NGX_HTTP_LLM_SCAN_BITS;
            x ^= x << 8 * NGX_HTTP_LLM_SCAN_BITS;
            x = (str ? ~x : x) & NGX_HTTP_LLM_SCAN_FULL;

            str = (unsigned) (x >> 15 * NGX_HTTP_LLM_SCAN_BITS);

            for (m &= ~x; m != 0; m &= m - 1) {
                c = p + __builtin_ctzll(m) / NGX_HTTP_LLM_SCAN_BITS;

                if (ngx_http_llm_scan_bracket(c, b)) {
                    return c;
                }
            }

            p += 16;
            continue;
        }

        m |= q;

        if (str == 2) {
            /* escaped by the vector before's last byte */
            m &= ~(done + 1);
            str = 1;
        }

        while (m != 0) {
            bit = m & (0 - m);
            m ^= bit;
            c = p + __builtin_ctzll(bit) / NGX_HTTP_LLM_SCAN_BITS;

            if (str) {
                if (*c == '"') {
                    str = 0;

                } else if (*c == '\\') {
                    if (c == p + 15) {
                        str = 2;

                    } else {
                        m &= ~(bit << NGX_HTTP_LLM_SCAN_BITS);
                    }
                }

            } else if (*c == '"') {
                str = 1;

            } else if (ngx_http_llm_scan_bracket(c, b)) {
                return c;
            }
        }

        p += 16;
    }
}

#else

/*
 * The high bit of each byte of w equal to a or b.  Borrows may also flag
 * bytes after a flagged one, never before it: the words are tested, the
 * bytes of the first flagged word are looked at one by one.
 */

static uint64_t
ngx_http_llm_scan_mask2(uint64_t w, uint64_t a, uint64_t b)
{
    uint64_t  x, y;

    x = w ^ a;
    y = w ^ b;

    x = (x - NGX_HTTP_LLM_SCAN_ONES) & ~x;
    y = (y - NGX_HTTP_LLM_SCAN_ONES) & ~y;

    return (x | y) & NGX_HTTP_LLM_SCAN_HIGHS;
}


static inline const unsigned char *
ngx_http_llm_scan_any2(const unsigned char *p, const unsigned char *end,
    unsigned char a, unsigned char b)
{
    uint64_t  w, wa, wb;

    wa = NGX_HTTP_LLM_SCAN_ONES * a;
    wb = NGX_HTTP_LLM_SCAN_ONES * b;

    /* memcpy() is a plain load */

    while (end - p >= 8) {
        memcpy(&w, p, 8);

        if (ngx_http_llm_scan_mask2(w, wa, wb) != 0) {
            break;
        }

        p += 8;
    }

    while (p < end && *p != a && *p != b) {
        p++;
    }

    return p;
}


/* the needle's second byte by memchr() (a vector loop in libc) */

const unsigned char *
ngx_http_llm_scan_find(const unsigned char *p, const unsigned char *end,
    const unsigned char *needle, size_t len)
{
    size_t                f;
    const unsigned char  *c;

    f = (len > 2) ? 1 : 0;

    while (end - p >= (ptrdiff_t) len) {
        c = memchr(p + f, needle[f], (size_t) (end - p) - len + 1);

        if (c == NULL) {
            return NULL;
        }

        c -= f;

        if (memcmp(c, needle, len) == 0) {
            return c;
        }

        p = c + 1;
    }

    return NULL;
}


const unsigned char *
ngx_http_llm_scan_eol(const unsigned char *p, const unsigned char *end)
{
    return ngx_http_llm_scan_any2(p, end, '\r', '\n');
}


const unsigned char *
ngx_http_llm_scan_below(const unsigned char *p, const unsigned char *end,
    ngx_http_llm_scan_below_t *b)
{
    return ngx_http_llm_scan_below_bytes(p, end, b, 0);
}

#endif
