
/*
 * ngx_http_llm_router_module: single-pass JSON scanner for request bodies.
 *
 * One forward pass validates the whole body as RFC 8259 JSON and records
 * where a few top-level members are; no tree, no allocation, no copy.  The
 * body itself is forwarded untouched, so only spans are needed.
 *
 * String contents, the bulk of a chat body, are skipped a vector at a time
 * (SSE2 on x86-64, NEON on arm64), or 8 bytes at a time elsewhere: a word
 * is tested for '"', '\\' and bytes < 0x20 with borrow tricks (the
 * "haszero"/"hasless" SWAR idioms).  The choice is made at compile time;
 * -DNGX_HTTP_LLM_JSON_PORTABLE forces the word loop (fuzz/ tests both).
 */


#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ngx_http_llm_router_json.h"


#if !(defined NGX_HTTP_LLM_JSON_PORTABLE)
#if (defined __SSE2__)
#include <emmintrin.h>
#define NGX_HTTP_LLM_JSON_SSE2  1
#elif (defined __aarch64__ && defined __ARM_NEON)
#include <arm_neon.h>
#define NGX_HTTP_LLM_JSON_NEON  1
#endif
#endif


/* decoded length of the longest key we look for, "max_completion_tokens" */
#define NGX_HTTP_LLM_JSON_KEY_MAX  21

#define NGX_HTTP_LLM_JSON_ONES     0x0101010101010101ULL
#define NGX_HTTP_LLM_JSON_HIGHS    0x8080808080808080ULL

#define ngx_http_llm_json_digit(c)  ((unsigned) ((c) - '0') < 10)

#define ngx_http_llm_json_special(c)                                          \
    ((c) == '"' || (c) == '\\' || (c) < 0x20)


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
static const unsigned char *ngx_http_llm_json_skip(const unsigned char *p,
    const unsigned char *end);
static const unsigned char *ngx_http_llm_json_string(const unsigned char *p,
    const unsigned char *end, int *escaped, const unsigned char **err);
static const unsigned char *ngx_http_llm_json_number(const unsigned char *p,
    const unsigned char *end, const unsigned char **err);
static uint32_t ngx_http_llm_json_hex4(const unsigned char *p);
static size_t ngx_http_llm_json_unescape(unsigned char *dst, size_t size,
    const unsigned char *p, const unsigned char *last);
/* the request signals' state during a scan */
typedef struct {
    int                        want;       /* what the next value is */
    int                        in_input;   /* in the top-level input value */
    int                        in_msgs;    /* in its array of messages */
    int                        in_content; /* in a message's content parts */
    int                        user;       /* the message's role is user */
    ngx_http_llm_json_span_t   text;       /* the message's text */
} ngx_http_llm_json_sig_t;

#define NGX_HTTP_LLM_SIG_INPUT    1
#define NGX_HTTP_LLM_SIG_TOOLS    2
#define NGX_HTTP_LLM_SIG_ROLE     3
#define NGX_HTTP_LLM_SIG_CONTENT  4
#define NGX_HTTP_LLM_SIG_TEXT     5
#define NGX_HTTP_LLM_SIG_TYPE     6

static int ngx_http_llm_json_sig_key(ngx_http_llm_json_sig_t *sig,
    const unsigned char *k, size_t n, int depth);
static void ngx_http_llm_json_sig_value(ngx_http_llm_json_sig_t *sig,
    ngx_http_llm_json_doc_t *doc, int want, const unsigned char *p,
    const unsigned char *last, const unsigned char *end);
static ngx_http_llm_json_span_t *ngx_http_llm_json_member(
    ngx_http_llm_json_doc_t *doc, const unsigned char *p,
    const unsigned char *last, int escaped, int depth);
static int64_t ngx_http_llm_json_int(const unsigned char *p,
    const unsigned char *last);
static void ngx_http_llm_json_value_done(ngx_http_llm_json_doc_t *doc,
    ngx_http_llm_json_span_t *span);


static const unsigned char  ngx_http_llm_json_space[256] = {
    ['\t'] = 1, ['\n'] = 1, ['\r'] = 1, [' '] = 1
};


static const char  *ngx_http_llm_json_errors[] = {
    "ok",
    "malformed JSON",
    "JSON nested too deeply",
    "JSON body is not an object",
    "duplicate \"model\" key",
    "duplicate key",
    "missing \"model\"",
    "\"model\" is not a string",
    "empty \"model\"",
    "control character in \"model\""
};


int
ngx_http_llm_json_scan(const unsigned char *buf, size_t len,
    unsigned char *name_buf, ngx_http_llm_json_doc_t *doc)
{
    int                        depth, escaped, in_options, want;
    size_t                     i;
    const unsigned char       *p, *q, *end, *root, *root_end, *key, *err;
    const unsigned char       *model_dup, *key_dup;
    ngx_http_llm_json_sig_t    sig;
    ngx_http_llm_json_span_t  *span, *top, *nested;
    unsigned char              stack[NGX_HTTP_LLM_JSON_MAX_DEPTH];

    memset(doc, 0, sizeof(ngx_http_llm_json_doc_t));
    doc->max_tokens_value = -1;
    doc->max_completion_tokens_value = -1;
    doc->max_output_tokens_value = -1;
    doc->n_value = -1;
    doc->best_of_value = -1;

    if (len == 0) {
        /* an empty body may come with buf == NULL: no pointer arithmetic */
        return NGX_HTTP_LLM_JSON_MALFORMED;
    }

    end = buf + len;
    depth = 0;
    in_options = 0;
    top = NULL;       /* top-level member whose value is being scanned */
    nested = NULL;    /* same for stream_options.include_usage */
    root_end = NULL;
    model_dup = NULL;
    key_dup = NULL;
    memset(&sig, 0, sizeof(ngx_http_llm_json_sig_t));

    p = ngx_http_llm_json_skip(buf, end);
    root = p;

    /*
     * A goto state machine: "value" expects a value, "key" a member name,
     * "next" runs after each complete value.  stack[] holds the closing
     * bracket of every open container.
     */

value:

    if (p == end) {
        err = p;
        goto malformed;
    }

    want = sig.want;
    sig.want = 0;

    if (want && *p != '"') {
        ngx_http_llm_json_sig_value(&sig, doc, want, p, p, end);
    }

    switch (*p) {

    case '{':
        if (depth == NGX_HTTP_LLM_JSON_MAX_DEPTH) {
            goto too_deep;
        }

        stack[depth++] = '}';
        p = ngx_http_llm_json_skip(p + 1, end);

        if (p < end && *p == '}') {
            p++;
            depth--;
            goto next;
        }

        goto key;

    case '[':
        if (depth == NGX_HTTP_LLM_JSON_MAX_DEPTH) {
            goto too_deep;
        }

        stack[depth++] = ']';
        p = ngx_http_llm_json_skip(p + 1, end);

        if (p < end && *p == ']') {
            p++;
            depth--;
            goto next;
        }

        goto value;

    case '"':
        q = ngx_http_llm_json_string(p + 1, end, &escaped, &err);
        if (q == NULL) {
            goto malformed;
        }

        if (want) {
            ngx_http_llm_json_sig_value(&sig, doc, escaped ? -want : want,
                                        p, q + 1, end);
        }

        p = q + 1;
        goto next;

    case 't':
        if (end - p >= 4 && memcmp(p, "true", 4) == 0) {
            p += 4;
            goto next;
        }

        err = p;
        goto malformed;

    case 'f':
        if (end - p >= 5 && memcmp(p, "false", 5) == 0) {
            p += 5;
            goto next;
        }

        err = p;
        goto malformed;

    case 'n':
        if (end - p >= 4 && memcmp(p, "null", 4) == 0) {
            p += 4;
            goto next;
        }

        err = p;
        goto malformed;

    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        p = ngx_http_llm_json_number(p, end, &err);
        if (p == NULL) {
            goto malformed;
        }

        goto next;

    default:
        err = p;
        goto malformed;
    }

key:

    if (p == end || *p != '"') {
        err = p;
        goto malformed;
    }

    key = p;
    escaped = 0;

    q = ngx_http_llm_json_string(p + 1, end, &escaped, &err);
    if (q == NULL) {
        goto malformed;
    }

    span = NULL;

    if (!escaped) {
        sig.want = ngx_http_llm_json_sig_key(&sig, key + 1,
                                             (size_t) (q - key - 1), depth);
    }

    /* depth 1 is the top-level object: arrays never reach "key" */

    if (depth == 1 || (depth == 2 && in_options)) {
        span = ngx_http_llm_json_member(doc, key + 1, q, escaped, depth);

        if (span != NULL && span->start != NULL) {

            /* a repeated key: the provider might read the other one */

            if (span == &doc->model) {
                if (model_dup == NULL) {
                    model_dup = key;
                }

            } else if (key_dup == NULL) {
                key_dup = key;
            }

            span = NULL;
        }
    }

    p = ngx_http_llm_json_skip(q + 1, end);

    if (p == end || *p != ':') {
        err = p;
        goto malformed;
    }

    p = ngx_http_llm_json_skip(p + 1, end);

    if (span != NULL && p < end) {
        span->start = p;

        if (depth == 1) {
            top = span;

            if (span == &doc->stream_options && *p == '{') {
                in_options = 1;
            }

        } else {
            nested = span;
        }
    }

    goto value;

next:

    /* p is one past a complete value */

    if (sig.in_input && depth <= 3) {
        if (depth == 1) {
            /* the end of the top-level input member */
            doc->input.end = p;
            sig.in_input = 0;
            sig.in_msgs = 0;

        } else if (depth == 2) {
            /* the end of a message: the last user message's text wins */
            if (sig.user && sig.text.start != NULL) {
                doc->user_text = sig.text;
            }

            sig.user = 0;
            sig.text.start = NULL;

        } else {
            /* the end of a message's member */
            sig.in_content = 0;
        }
    }

    if (depth == 1 && top != NULL) {
        top->end = p;
        ngx_http_llm_json_value_done(doc, top);
        top = NULL;
        in_options = 0;

    } else if (depth == 2 && nested != NULL) {
        nested->end = p;
        ngx_http_llm_json_value_done(doc, nested);
        nested = NULL;

    } else if (depth == 0) {
        root_end = p;
        p = ngx_http_llm_json_skip(p, end);

        if (p != end) {
            err = p;
            goto malformed;
        }

        goto done;
    }

    p = ngx_http_llm_json_skip(p, end);

    if (p == end) {
        err = p;
        goto malformed;
    }

    if (*p == ',') {
        p = ngx_http_llm_json_skip(p + 1, end);

        if (stack[depth - 1] == '}') {
            goto key;
        }

        goto value;
    }

    if (*p == stack[depth - 1]) {
        p++;
        depth--;
        goto next;
    }

    err = p;
    goto malformed;

done:

    if (doc->user_text.start == NULL && doc->input.start != NULL
        && *doc->input.start == '"')
    {
        /* "prompt" or "input" as a plain string */
        doc->user_text = doc->input;
    }

    if (*root != '{') {
        doc->error_offset = (size_t) (root - buf);
        return NGX_HTTP_LLM_JSON_NOT_OBJECT;
    }

    doc->object.start = root;
    doc->object.end = root_end;

    if (model_dup != NULL) {
        doc->error_offset = (size_t) (model_dup - buf);
        return NGX_HTTP_LLM_JSON_MODEL_DUPLICATE;
    }

    if (key_dup != NULL) {
        doc->error_offset = (size_t) (key_dup - buf);
        return NGX_HTTP_LLM_JSON_DUPLICATE_KEY;
    }

    if (doc->model.start == NULL) {
        doc->error_offset = (size_t) (root_end - 1 - buf);
        return NGX_HTTP_LLM_JSON_MODEL_MISSING;
    }

    doc->error_offset = (size_t) (doc->model.start - buf);

    if (*doc->model.start != '"') {
        return NGX_HTTP_LLM_JSON_MODEL_NOT_STRING;
    }

    /* the text without quotes is len - 2 bytes at most: it fits name_buf */

    doc->model_name = name_buf;
    doc->model_len = ngx_http_llm_json_unescape(name_buf, len,
                                                doc->model.start + 1,
                                                doc->model.end - 1);

    if (doc->model_len == 0) {
        return NGX_HTTP_LLM_JSON_MODEL_EMPTY;
    }

    for (i = 0; i < doc->model_len; i++) {
        if (name_buf[i] < 0x20 || name_buf[i] == 0x7f) {
            return NGX_HTTP_LLM_JSON_MODEL_CONTROL;
        }
    }

    doc->error_offset = 0;

    return NGX_HTTP_LLM_JSON_OK;

too_deep:

    doc->error_offset = (size_t) (p - buf);
    return NGX_HTTP_LLM_JSON_TOO_DEEP;

malformed:

    doc->error_offset = (size_t) (err - buf);
    return NGX_HTTP_LLM_JSON_MALFORMED;
}


const char *
ngx_http_llm_json_strerror(int rc)
{
    if (rc < 0 || rc >= NGX_HTTP_LLM_JSON_NCODES) {
        return "unknown JSON scanner error";
    }

    return ngx_http_llm_json_errors[rc];
}


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


/* a table: one load and one test per byte, and most runs are one space */

static const unsigned char *
ngx_http_llm_json_skip(const unsigned char *p, const unsigned char *end)
{
    while (p < end && ngx_http_llm_json_space[*p]) {
        p++;
    }

    return p;
}


/*
 * p is past the opening quote.  Returns the closing quote, or NULL and
 * *err: the offending byte, the '\' of a bad escape, or end.
 */

static const unsigned char *
ngx_http_llm_json_string(const unsigned char *p, const unsigned char *end,
    int *escaped, const unsigned char **err)
{
    uint32_t              c;
    const unsigned char  *bs;

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
        bs = p;

        if (end - p < 2) {
            goto invalid;
        }

        switch (p[1]) {

        case '"': case '\\': case '/':
        case 'b': case 'f': case 'n': case 'r': case 't':
            p += 2;
            continue;

        case 'u':
            if (end - p < 6) {
                goto invalid;
            }

            c = ngx_http_llm_json_hex4(p + 2);
            p += 6;

            if (c < 0xd800 || (c > 0xdfff && c <= 0xffff)) {
                continue;
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

            p += 6;
            continue;

        default:
            goto invalid;
        }
    }

invalid:

    *err = bs;
    return NULL;
}


/* RFC 8259: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */

static const unsigned char *
ngx_http_llm_json_number(const unsigned char *p, const unsigned char *end,
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

static size_t
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


/*
 * Maps a key (the text between its quotes) of the top-level object
 * (depth 1) or of the stream_options object (depth 2) to the span that
 * records its value; NULL for keys of no interest.
 */

static ngx_http_llm_json_span_t *
ngx_http_llm_json_member(ngx_http_llm_json_doc_t *doc,
    const unsigned char *p, const unsigned char *last, int escaped, int depth)
{
    size_t         n;
    unsigned char  name[NGX_HTTP_LLM_JSON_KEY_MAX];

    if (escaped) {
        /* "mod\u0065l" is "model" to the provider, so it is to us */
        n = ngx_http_llm_json_unescape(name, sizeof(name), p, last);
        if (n == (size_t) -1) {
            return NULL;
        }

        p = name;

    } else {
        n = (size_t) (last - p);
    }

    if (depth == 2) {
        if (n == 13 && memcmp(p, "include_usage", 13) == 0) {
            return &doc->include_usage;
        }

        return NULL;
    }

    switch (n) {

    case 1:
        if (*p == 'n') {
            return &doc->n;
        }

        break;

    case 5:
        if (memcmp(p, "model", 5) == 0) {
            return &doc->model;
        }

        break;

    case 6:
        if (memcmp(p, "stream", 6) == 0) {
            return &doc->stream;
        }

        break;

    case 10:
        if (memcmp(p, "max_tokens", 10) == 0) {
            return &doc->max_tokens;
        }

        break;

    case 7:
        if (memcmp(p, "best_of", 7) == 0) {
            return &doc->best_of;
        }

        break;

    case 14:
        if (memcmp(p, "stream_options", 14) == 0) {
            return &doc->stream_options;
        }

        break;

    case 17:
        if (memcmp(p, "max_output_tokens", 17) == 0) {
            return &doc->max_output_tokens;
        }

        break;

    case 21:
        if (memcmp(p, "max_completion_tokens", 21) == 0) {
            return &doc->max_completion_tokens;
        }

        break;
    }

    return NULL;
}


/* a plain JSON integer 0 .. INT64_MAX, otherwise -1 */

static int64_t
ngx_http_llm_json_int(const unsigned char *p, const unsigned char *last)
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


static void
ngx_http_llm_json_value_done(ngx_http_llm_json_doc_t *doc,
    ngx_http_llm_json_span_t *span)
{
    /* a valid 4-byte value starting with 't' can only be true */

    if (span == &doc->stream) {
        doc->stream_true = (span->end - span->start == 4
                            && *span->start == 't');

    } else if (span == &doc->include_usage) {
        doc->include_usage_true = (span->end - span->start == 4
                                   && *span->start == 't');

    } else if (span == &doc->max_tokens) {
        doc->max_tokens_value = ngx_http_llm_json_int(span->start,
                                                      span->end);

    } else if (span == &doc->max_completion_tokens) {
        doc->max_completion_tokens_value =
                          ngx_http_llm_json_int(span->start, span->end);

    } else if (span == &doc->max_output_tokens) {
        doc->max_output_tokens_value = ngx_http_llm_json_int(span->start,
                                                             span->end);

    } else if (span == &doc->n) {
        doc->n_value = ngx_http_llm_json_int(span->start, span->end);

    } else if (span == &doc->best_of) {
        doc->best_of_value = ngx_http_llm_json_int(span->start, span->end);
    }
}


/*
 * A member name, for the request signals: what its value will say.  The
 * top-level input and tools, then in a message of the input array (depth
 * 3) its role and content, in its content parts (depth 5) the text, and
 * any "type" below the top level.
 */

static int
ngx_http_llm_json_sig_key(ngx_http_llm_json_sig_t *sig,
    const unsigned char *k, size_t n, int depth)
{
    if (depth == 1) {
        if ((n == 8 && memcmp(k, "messages", 8) == 0)
            || (n == 5 && memcmp(k, "input", 5) == 0)
            || (n == 6 && memcmp(k, "prompt", 6) == 0))
        {
            return NGX_HTTP_LLM_SIG_INPUT;
        }

        if ((n == 5 && memcmp(k, "tools", 5) == 0)
            || (n == 9 && memcmp(k, "functions", 9) == 0))
        {
            return NGX_HTTP_LLM_SIG_TOOLS;
        }

        return 0;
    }

    if (n == 4 && memcmp(k, "type", 4) == 0) {
        return NGX_HTTP_LLM_SIG_TYPE;
    }

    if (depth == 3 && sig->in_msgs) {
        if (n == 4 && memcmp(k, "role", 4) == 0) {
            return NGX_HTTP_LLM_SIG_ROLE;
        }

        if (n == 7 && memcmp(k, "content", 7) == 0) {
            return NGX_HTTP_LLM_SIG_CONTENT;
        }

    } else if (depth == 5 && sig->in_content) {
        if (n == 4 && memcmp(k, "text", 4) == 0) {
            return NGX_HTTP_LLM_SIG_TEXT;
        }
    }

    return 0;
}


/*
 * The value of a member the signals want: p is its first byte; for a
 * string, last is one past its closing quote (want < 0: it has escapes),
 * else last == p.
 */

static void
ngx_http_llm_json_sig_value(ngx_http_llm_json_sig_t *sig,
    ngx_http_llm_json_doc_t *doc, int want, const unsigned char *p,
    const unsigned char *last, const unsigned char *end)
{
    size_t  n;

    switch (want < 0 ? -want : want) {

    case NGX_HTTP_LLM_SIG_INPUT:
        if (doc->input.start == NULL) {
            doc->input.start = p;
            sig->in_input = 1;
            sig->in_msgs = (*p == '[');
        }

        if (last != p) {
            /* a string: its end is known now */
            doc->input.end = last;
            sig->in_input = 0;
        }

        return;

    case NGX_HTTP_LLM_SIG_TOOLS:
        if (*p == '[') {
            p = ngx_http_llm_json_skip(p + 1, end);
            doc->tools |= (p < end && *p != ']');
        }

        return;

    case NGX_HTTP_LLM_SIG_ROLE:
        sig->user = (want > 0 && last - p == 6
                     && memcmp(p, "\"user\"", 6) == 0);
        return;

    case NGX_HTTP_LLM_SIG_CONTENT:
        if (*p == '[') {
            sig->in_content = 1;

        } else if (last != p) {
            sig->text.start = p;
            sig->text.end = last;
        }

        return;

    case NGX_HTTP_LLM_SIG_TEXT:
        if (last != p && sig->text.start == NULL) {
            sig->text.start = p;
            sig->text.end = last;
        }

        return;

    default: /* NGX_HTTP_LLM_SIG_TYPE */
        if (want < 0 || last == p) {
            return;
        }

        n = (size_t) (last - p);

        if ((n == 11 && memcmp(p, "\"image_url\"", 11) == 0)
            || (n == 7 && memcmp(p, "\"image\"", 7) == 0)
            || (n == 13 && memcmp(p, "\"input_image\"", 13) == 0))
        {
            doc->images = 1;
        }
    }
}
