
/*
 * ngx_http_llm_router_module: the JSON scanner's strings and numbers
 * (json.c scans the rest): a string's end found, its escapes checked, a
 * key or the model decoded; a number's end, an integer's value.
 *
 * String contents, the bulk of a chat body, are skipped a vector at a time
 * (SSE2 on x86-64, NEON on arm64), or 8 bytes at a time elsewhere: a word
 * is tested for '"', '\\' and bytes < 0x20 with borrow tricks (the
 * "haszero"/"hasless" SWAR idioms).  The choice is made at compile time;
 * -DNGX_HTTP_LLM_JSON_PORTABLE forces the word loop (fuzz/ tests both).
 * On x86-64 a CPU with AVX2, found at run time, skips them 32 bytes per
 * vector instead of 16 (-DNGX_HTTP_LLM_JSON_NO_AVX2: SSE2 only).
 */


#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ngx_http_llm_router_json.h"


#if !(defined NGX_HTTP_LLM_JSON_PORTABLE)
#if (defined __SSE2__)
#include <emmintrin.h>
#define NGX_HTTP_LLM_JSON_SSE2  1
#if (defined __x86_64__ && defined __GNUC__                                   \
     && !defined NGX_HTTP_LLM_JSON_NO_AVX2)
#include <immintrin.h>
#define NGX_HTTP_LLM_JSON_AVX2  1
#endif
#elif (defined __aarch64__ && defined __ARM_NEON)
#include <arm_neon.h>
#define NGX_HTTP_LLM_JSON_NEON  1
#endif
#endif


#define NGX_HTTP_LLM_JSON_ONES     0x0101010101010101ULL
#define NGX_HTTP_LLM_JSON_HIGHS    0x8080808080808080ULL

#define ngx_http_llm_json_special(c)                                          \
    ((c) == '"' || (c) == '\\' || (c) < 0x20)

#define ngx_http_llm_json_digit(c)  ((unsigned) ((c) - '0') < 10)


/*
 * With GCC/clang on a little-endian CPU the lowest flagged byte of a SWAR
 * mask is the first special byte in memory; elsewhere the bytes of the
 * word are rescanned one by one.
 */
#if (defined __GNUC__ && defined __BYTE_ORDER__                               \
     && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
#define NGX_HTTP_LLM_JSON_CTZ  1
#else
#define NGX_HTTP_LLM_JSON_CTZ  0
#endif


#if !(NGX_HTTP_LLM_JSON_SSE2 || NGX_HTTP_LLM_JSON_NEON)
static uint64_t ngx_http_llm_json_mask(uint64_t w);
#endif
static const unsigned char *ngx_http_llm_json_find(const unsigned char *p,
    const unsigned char *end);
static const unsigned char *ngx_http_llm_json_escape(const unsigned char *p,
    const unsigned char *end, const unsigned char **err);
#if (NGX_HTTP_LLM_JSON_AVX2)
static const unsigned char *ngx_http_llm_json_string_avx2(
    const unsigned char *p, const unsigned char *end, int *escaped,
    const unsigned char **err);
static const unsigned char *ngx_http_llm_json_string_sse2(
    const unsigned char *p, const unsigned char *end, int *escaped,
    const unsigned char **err);
static const unsigned char *ngx_http_llm_json_string_cpu(
    const unsigned char *p, const unsigned char *end, int *escaped,
    const unsigned char **err);

/* -1: not known yet, 0: SSE2, 1: AVX2 */
static int  ngx_http_llm_json_avx2 = -1;
#endif
static uint32_t ngx_http_llm_json_hex4(const unsigned char *p);


#if (NGX_HTTP_LLM_JSON_SSE2)

/*
 * The first byte of p .. end that is '"', '\\' or < 0x20, or end.
 *
 * One test per 16 bytes: x ^ 0x02 maps '"' to 0x20 and the bytes below
 * 0x20 onto themselves, so a saturating x ^ 0x02 - 0x20 is zero exactly
 * for those; x ^ '\\' is zero for the backslash; the smaller of the two
 * is zero for a special byte.  Long strings go 64 bytes per round, with
 * one compare and one mask for the four vectors.
 */

static const unsigned char *
ngx_http_llm_json_find(const unsigned char *p, const unsigned char *end)
{
    unsigned  m;
    uint64_t  m64;
    __m128i   k02, k20, kbs, zero, v0, v1, v2, v3;

#define ngx_http_llm_json_sse2(v, a)                                          \
    v = _mm_loadu_si128((const __m128i *) (const void *) (a));                \
    v = _mm_min_epu8(_mm_subs_epu8(_mm_xor_si128(v, k02), k20),               \
                     _mm_xor_si128(v, kbs))

    k02 = _mm_set1_epi8(0x02);
    k20 = _mm_set1_epi8(0x20);
    kbs = _mm_set1_epi8('\\');
    zero = _mm_setzero_si128();

    /* most strings are short: one vector first */

    if (end - p >= 16) {
        ngx_http_llm_json_sse2(v0, p);
        m = (unsigned) _mm_movemask_epi8(_mm_cmpeq_epi8(v0, zero));

        if (m != 0) {
            return p + __builtin_ctz(m);
        }

        p += 16;
    }

    while (end - p >= 64) {
        ngx_http_llm_json_sse2(v0, p);
        ngx_http_llm_json_sse2(v1, p + 16);
        ngx_http_llm_json_sse2(v2, p + 32);
        ngx_http_llm_json_sse2(v3, p + 48);

        m = (unsigned) _mm_movemask_epi8(
                _mm_cmpeq_epi8(_mm_min_epu8(_mm_min_epu8(v0, v1),
                                            _mm_min_epu8(v2, v3)),
                               zero));

        if (m != 0) {
            m64 = (uint64_t) (unsigned) _mm_movemask_epi8(
                                               _mm_cmpeq_epi8(v0, zero))
                  | (uint64_t) (unsigned) _mm_movemask_epi8(
                                          _mm_cmpeq_epi8(v1, zero)) << 16
                  | (uint64_t) (unsigned) _mm_movemask_epi8(
                                          _mm_cmpeq_epi8(v2, zero)) << 32
                  | (uint64_t) (unsigned) _mm_movemask_epi8(
                                          _mm_cmpeq_epi8(v3, zero)) << 48;

            return p + __builtin_ctzll(m64);
        }

        p += 64;
    }

    while (end - p >= 16) {
        ngx_http_llm_json_sse2(v0, p);
        m = (unsigned) _mm_movemask_epi8(_mm_cmpeq_epi8(v0, zero));

        if (m != 0) {
            return p + __builtin_ctz(m);
        }

        p += 16;
    }

#undef ngx_http_llm_json_sse2

    while (p < end && !ngx_http_llm_json_special(*p)) {
        p++;
    }

    return p;
}

#elif (NGX_HTTP_LLM_JSON_NEON)

/*
 * As the SSE2 variant above.  NEON has no byte mask instruction: the
 * "shift right and narrow" of the 0x00/0xff compare result keeps 4 bits
 * per byte, a 64-bit mask whose trailing zeros / 4 is the byte's index.
 */

static const unsigned char *
ngx_http_llm_json_find(const unsigned char *p, const unsigned char *end)
{
    uint64_t    m;
    uint8x16_t  k02, k20, kbs, v0, v1, v2, v3;

#define ngx_http_llm_json_neon(v, a)                                          \
    v = vld1q_u8(a);                                                          \
    v = vminq_u8(vqsubq_u8(veorq_u8(v, k02), k20), veorq_u8(v, kbs))

#define ngx_http_llm_json_neon_mask(v)                                        \
    vget_lane_u64(vreinterpret_u64_u8(vshrn_n_u16(                            \
        vreinterpretq_u16_u8(vceqzq_u8(v)), 4)), 0)

    k02 = vdupq_n_u8(0x02);
    k20 = vdupq_n_u8(0x20);
    kbs = vdupq_n_u8('\\');

    if (end - p >= 16) {
        ngx_http_llm_json_neon(v0, p);
        m = ngx_http_llm_json_neon_mask(v0);

        if (m != 0) {
            return p + (__builtin_ctzll(m) >> 2);
        }

        p += 16;
    }

    while (end - p >= 64) {
        ngx_http_llm_json_neon(v0, p);
        ngx_http_llm_json_neon(v1, p + 16);
        ngx_http_llm_json_neon(v2, p + 32);
        ngx_http_llm_json_neon(v3, p + 48);

        if (vminvq_u8(vminq_u8(vminq_u8(v0, v1), vminq_u8(v2, v3))) == 0) {
            break;
        }

        p += 64;
    }

    /* the 16-byte loop finds the byte in the last block of four */

    while (end - p >= 16) {
        ngx_http_llm_json_neon(v0, p);
        m = ngx_http_llm_json_neon_mask(v0);

        if (m != 0) {
            return p + (__builtin_ctzll(m) >> 2);
        }

        p += 16;
    }

#undef ngx_http_llm_json_neon
#undef ngx_http_llm_json_neon_mask

    while (p < end && !ngx_http_llm_json_special(*p)) {
        p++;
    }

    return p;
}

#else

/*
 * Flags the bytes of w that are '"', '\\' or < 0x20 by setting their high
 * bit.  Borrows may also flag bytes after a flagged one (in memory order
 * on little-endian), never before it, so the lowest flag is exact.
 */

static uint64_t
ngx_http_llm_json_mask(uint64_t w)
{
    uint64_t  q, b;

    q = w ^ (NGX_HTTP_LLM_JSON_ONES * '"');
    b = w ^ (NGX_HTTP_LLM_JSON_ONES * '\\');

    q = (q - NGX_HTTP_LLM_JSON_ONES) & ~q;
    b = (b - NGX_HTTP_LLM_JSON_ONES) & ~b;
    w = (w - NGX_HTTP_LLM_JSON_ONES * 0x20) & ~w;

    return (q | b | w) & NGX_HTTP_LLM_JSON_HIGHS;
}


/* the first byte of p .. end that is '"', '\\' or < 0x20, or end */

static const unsigned char *
ngx_http_llm_json_find(const unsigned char *p, const unsigned char *end)
{
    uint64_t  w0, w1, m0, m1;

    /* 16 bytes per round, memcpy() is a plain load */

    while (end - p >= 16) {
        memcpy(&w0, p, 8);
        memcpy(&w1, p + 8, 8);

        m0 = ngx_http_llm_json_mask(w0);
        m1 = ngx_http_llm_json_mask(w1);

        if ((m0 | m1) == 0) {
            p += 16;
            continue;
        }

#if (NGX_HTTP_LLM_JSON_CTZ)
        if (m0 != 0) {
            return p + ((size_t) __builtin_ctzll(m0) >> 3);
        }

        return p + 8 + ((size_t) __builtin_ctzll(m1) >> 3);
#else
        break;
#endif
    }

    while (p < end && !ngx_http_llm_json_special(*p)) {
        p++;
    }

    return p;
}

#endif


#if (NGX_HTTP_LLM_JSON_AVX2)

/*
 * As the SSE2 find above, 32 bytes per vector: the same three operations
 * and one compare per 32 bytes, 64 bytes per round.
 */

__attribute__((target("avx2")))
static inline const unsigned char *
ngx_http_llm_json_find_avx2(const unsigned char *p, const unsigned char *end)
{
    unsigned  m;
    uint64_t  m64;
    __m256i   k02, k20, kbs, zero, v0, v1;

#define ngx_http_llm_json_avx2_test(v, a)                                     \
    v = _mm256_loadu_si256((const __m256i *) (const void *) (a));             \
    v = _mm256_min_epu8(_mm256_subs_epu8(_mm256_xor_si256(v, k02), k20),      \
                        _mm256_xor_si256(v, kbs))

    k02 = _mm256_set1_epi8(0x02);
    k20 = _mm256_set1_epi8(0x20);
    kbs = _mm256_set1_epi8('\\');
    zero = _mm256_setzero_si256();

    /* most strings are short: one vector first */

    if (end - p >= 32) {
        ngx_http_llm_json_avx2_test(v0, p);
        m = (unsigned) _mm256_movemask_epi8(_mm256_cmpeq_epi8(v0, zero));

        if (m != 0) {
            return p + __builtin_ctz(m);
        }

        p += 32;
    }

    while (end - p >= 64) {
        ngx_http_llm_json_avx2_test(v0, p);
        ngx_http_llm_json_avx2_test(v1, p + 32);

        m = (unsigned) _mm256_movemask_epi8(
                _mm256_cmpeq_epi8(_mm256_min_epu8(v0, v1), zero));

        if (m != 0) {
            m64 = (uint64_t) (unsigned) _mm256_movemask_epi8(
                                            _mm256_cmpeq_epi8(v0, zero))
                  | (uint64_t) (unsigned) _mm256_movemask_epi8(
                                        _mm256_cmpeq_epi8(v1, zero)) << 32;

            return p + __builtin_ctzll(m64);
        }

        p += 64;
    }

    if (end - p >= 32) {
        ngx_http_llm_json_avx2_test(v0, p);
        m = (unsigned) _mm256_movemask_epi8(_mm256_cmpeq_epi8(v0, zero));

        if (m != 0) {
            return p + __builtin_ctz(m);
        }

        p += 32;
    }

#undef ngx_http_llm_json_avx2_test

    /* the last bytes of the body, SSE2's */

    return ngx_http_llm_json_find(p, end);
}


/*
 * Every way out is a jump, so that this costs a test and no frame: the
 * CPU is asked once, on the first string, and the functions below are
 * not inlined here.
 */

const unsigned char *
ngx_http_llm_json_string(const unsigned char *p, const unsigned char *end,
    int *escaped, const unsigned char **err)
{
    if (ngx_http_llm_json_avx2 > 0) {
        return ngx_http_llm_json_string_avx2(p, end, escaped, err);
    }

    if (ngx_http_llm_json_avx2 < 0) {
        return ngx_http_llm_json_string_cpu(p, end, escaped, err);
    }

    return ngx_http_llm_json_string_sse2(p, end, escaped, err);
}


__attribute__((noinline))
static const unsigned char *
ngx_http_llm_json_string_cpu(const unsigned char *p,
    const unsigned char *end, int *escaped, const unsigned char **err)
{
    __builtin_cpu_init();
    ngx_http_llm_json_avx2 = __builtin_cpu_supports("avx2") ? 1 : 0;

    return ngx_http_llm_json_string(p, end, escaped, err);
}


/*
 * Without a call or a frame: the first special byte found by AVX2, when
 * it is the closing quote; from an escape, a control byte or the end on
 * the SSE2 loop, which starts with that byte.
 */

__attribute__((target("avx2"), noinline))
static const unsigned char *
ngx_http_llm_json_string_avx2(const unsigned char *p,
    const unsigned char *end, int *escaped, const unsigned char **err)
{
    p = ngx_http_llm_json_find_avx2(p, end);

    if (p < end && *p == '"') {
        return p;
    }

    return ngx_http_llm_json_string_sse2(p, end, escaped, err);
}


__attribute__((noinline))
static const unsigned char *
ngx_http_llm_json_string_sse2(const unsigned char *p,
    const unsigned char *end, int *escaped, const unsigned char **err)

#else

/*
 * p is past the opening quote.  Returns the closing quote, or NULL and
 * *err: the offending byte, the '\' of a bad escape, or end.
 */

const unsigned char *
ngx_http_llm_json_string(const unsigned char *p, const unsigned char *end,
    int *escaped, const unsigned char **err)

#endif
{
    for ( ;; ) {

        p = ngx_http_llm_json_find(p, end);

        if (p == end) {
            *err = p;
            return NULL;
        }

        if (*p == '"') {
            return p;
        }

        if (*p < 0x20) {
            *err = p;
            return NULL;
        }

        /* a backslash */

        *escaped = 1;

        p = ngx_http_llm_json_escape(p, end, err);
        if (p == NULL) {
            return NULL;
        }
    }
}


/*
 * p is at a backslash.  Returns the byte after the escape, or NULL and
 * *err: the '\' of a bad escape (of the high surrogate's when a pair is
 * broken).
 */

static const unsigned char *
ngx_http_llm_json_escape(const unsigned char *p, const unsigned char *end,
    const unsigned char **err)
{
    uint32_t              c;
    const unsigned char  *bs;

    bs = p;

    if (end - p < 2) {
        goto invalid;
    }

    switch (p[1]) {

    case '"': case '\\': case '/':
    case 'b': case 'f': case 'n': case 'r': case 't':
        return p + 2;

    case 'u':
        if (end - p < 6) {
            goto invalid;
        }

        c = ngx_http_llm_json_hex4(p + 2);
        p += 6;

        if (c < 0xd800 || (c > 0xdfff && c <= 0xffff)) {
            return p;
        }

        if (c > 0xdbff) {
            /* a bad hex digit, or a low surrogate without a high one */
            goto invalid;
        }

        if (end - p < 6 || p[0] != '\\' || p[1] != 'u') {
            goto invalid;
        }

        c = ngx_http_llm_json_hex4(p + 2);

        if (c < 0xdc00 || c > 0xdfff) {
            goto invalid;
        }

        return p + 6;

    default:
        goto invalid;
    }

invalid:

    *err = bs;
    return NULL;
}


/* returns 0 .. 0xffff, or 0xffffffff for a non-hex digit */

static uint32_t
ngx_http_llm_json_hex4(const unsigned char *p)
{
    uint32_t       v;
    unsigned int   i, c;

    v = 0;

    for (i = 0; i < 4; i++) {
        c = p[i];

        if (c >= '0' && c <= '9') {
            c -= '0';

        } else {
            c |= 0x20;

            if (c < 'a' || c > 'f') {
                return 0xffffffff;
            }

            c -= 'a' - 10;
        }

        v = (v << 4) | c;
    }

    return v;
}


/*
 * Decodes the text between the quotes of a string that was already
 * validated.  Returns the decoded length, or (size_t) -1 if it would
 * exceed size.
 */

size_t
ngx_http_llm_json_unescape(unsigned char *dst, size_t size,
    const unsigned char *p, const unsigned char *last)
{
    size_t                n, k;
    uint32_t              c, lo;
    unsigned char         utf8[4];
    const unsigned char  *bs;

    n = 0;

    while (p < last) {

        if (*p != '\\') {
            bs = memchr(p, '\\', (size_t) (last - p));
            if (bs == NULL) {
                bs = last;
            }

            k = (size_t) (bs - p);
            if (k > size - n) {
                return (size_t) -1;
            }

            memcpy(dst + n, p, k);
            n += k;
            p = bs;
            continue;
        }

        switch (p[1]) {
        case 'b':
            c = '\b';
            break;
        case 'f':
            c = '\f';
            break;
        case 'n':
            c = '\n';
            break;
        case 'r':
            c = '\r';
            break;
        case 't':
            c = '\t';
            break;
        case 'u':
            c = ngx_http_llm_json_hex4(p + 2);
            break;
        default:
            /* '"', '\\', '/' */
            c = p[1];
            break;
        }

        if (p[1] != 'u') {
            p += 2;

        } else if (c >= 0xd800 && c <= 0xdbff) {
            lo = ngx_http_llm_json_hex4(p + 8);
            c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
            p += 12;

        } else {
            p += 6;
        }

        if (c < 0x80) {
            utf8[0] = (unsigned char) c;
            k = 1;

        } else if (c < 0x800) {
            utf8[0] = (unsigned char) (0xc0 | (c >> 6));
            utf8[1] = (unsigned char) (0x80 | (c & 0x3f));
            k = 2;

        } else if (c < 0x10000) {
            utf8[0] = (unsigned char) (0xe0 | (c >> 12));
            utf8[1] = (unsigned char) (0x80 | ((c >> 6) & 0x3f));
            utf8[2] = (unsigned char) (0x80 | (c & 0x3f));
            k = 3;

        } else {
            utf8[0] = (unsigned char) (0xf0 | (c >> 18));
            utf8[1] = (unsigned char) (0x80 | ((c >> 12) & 0x3f));
            utf8[2] = (unsigned char) (0x80 | ((c >> 6) & 0x3f));
            utf8[3] = (unsigned char) (0x80 | (c & 0x3f));
            k = 4;
        }

        if (k > size - n) {
            return (size_t) -1;
        }

        memcpy(dst + n, utf8, k);
        n += k;
    }

    return n;
}


/* RFC 8259: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */

const unsigned char *
ngx_http_llm_json_number_end(const unsigned char *p, const unsigned char *end,
    const unsigned char **err)
{
    if (*p == '-') {
        p++;
    }

    if (p == end) {
        goto invalid;
    }

    if (*p == '0') {
        p++;

    } else if (*p >= '1' && *p <= '9') {
        do {
            p++;
        } while (p < end && ngx_http_llm_json_digit(*p));

    } else {
        goto invalid;
    }

    if (p < end && *p == '.') {
        p++;

        if (p == end || !ngx_http_llm_json_digit(*p)) {
            goto invalid;
        }

        do {
            p++;
        } while (p < end && ngx_http_llm_json_digit(*p));
    }

    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;

        if (p < end && (*p == '+' || *p == '-')) {
            p++;
        }

        if (p == end || !ngx_http_llm_json_digit(*p)) {
            goto invalid;
        }

        do {
            p++;
        } while (p < end && ngx_http_llm_json_digit(*p));
    }

    /* "01" or "1x" stop here; the caller rejects the byte that follows */

    return p;

invalid:

    *err = p;
    return NULL;
}


/* a plain JSON integer 0 .. INT64_MAX, otherwise -1 */

int64_t
ngx_http_llm_json_int_value(const unsigned char *p, const unsigned char *last)
{
    int64_t   v;
    unsigned  d;

    if (p == last) {
        return -1;
    }

    /* the value is valid JSON, so digits only means no leading zero */

    v = 0;

    for ( /* void */ ; p < last; p++) {
        d = (unsigned) (*p - '0');

        if (d > 9 || v > (INT64_MAX - (int64_t) d) / 10) {
            return -1;
        }

        v = v * 10 + (int64_t) d;
    }

    return v;
}
