
/*
 * ngx_http_llm_router_module: single-pass JSON scanner for request bodies.
 *
 * One forward pass validates the whole body as RFC 8259 JSON and records
 * where a few top-level members are; no tree, no allocation, no copy.  The
 * body itself is forwarded untouched, so only spans are needed.  Strings
 * (found a vector at a time) are json_string.c's.
 */


#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ngx_http_llm_router_json.h"


#if (!defined NGX_HTTP_LLM_JSON_PORTABLE && defined __SSE2__)
#include <emmintrin.h>
#define NGX_HTTP_LLM_JSON_PROBE  1
#endif


/* decoded length of the longest key we look for, "max_completion_tokens" */
#define NGX_HTTP_LLM_JSON_KEY_MAX  21


/*
 * Whitespace between tokens.  Every token starts with a byte above ' ',
 * so one compare settles the usual case, no space at all.
 */
#define ngx_http_llm_json_ws(p, end)                                          \
    if (p < end && *p <= ' ') {                                               \
        p = ngx_http_llm_json_skip(p, end);                                   \
    }

/*
 * n (4 .. 16) bytes at p are those of s: two overlapping words compared,
 * which compilers do inline, unlike memcmp() of an odd length
 */
#define ngx_http_llm_json_eq(p, s, n)                                         \
    ((n) <= 8                                                                 \
     ? (memcmp(p, s, 4) == 0 && memcmp((p) + (n) - 4, (s) + (n) - 4, 4) == 0) \
     : (memcmp(p, s, 8) == 0 && memcmp((p) + (n) - 8, (s) + (n) - 8, 8) == 0))


static const unsigned char *ngx_http_llm_json_skip(const unsigned char *p,
    const unsigned char *end);
static const unsigned char *ngx_http_llm_json_str(const unsigned char *p,
    const unsigned char *end, int *escaped, const unsigned char **err);


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
static void ngx_http_llm_json_value_done(ngx_http_llm_json_doc_t *doc,
    ngx_http_llm_json_span_t *span);


static const unsigned char  ngx_http_llm_json_space[256] = {
    ['\t'] = 1, ['\n'] = 1, ['\r'] = 1, [' '] = 1
};


/* the members whose value is read as an integer, and where it goes */
static const struct {
    size_t                     span;
    size_t                     value;
} ngx_http_llm_json_ints[] = {
    { offsetof(ngx_http_llm_json_doc_t, max_tokens),
      offsetof(ngx_http_llm_json_doc_t, max_tokens_value) },
    { offsetof(ngx_http_llm_json_doc_t, max_completion_tokens),
      offsetof(ngx_http_llm_json_doc_t, max_completion_tokens_value) },
    { offsetof(ngx_http_llm_json_doc_t, max_output_tokens),
      offsetof(ngx_http_llm_json_doc_t, max_output_tokens_value) },
    { offsetof(ngx_http_llm_json_doc_t, n),
      offsetof(ngx_http_llm_json_doc_t, n_value) },
    { offsetof(ngx_http_llm_json_doc_t, best_of),
      offsetof(ngx_http_llm_json_doc_t, best_of_value) }
};

#define NGX_HTTP_LLM_JSON_NINTS                                               \
    (sizeof(ngx_http_llm_json_ints) / sizeof(ngx_http_llm_json_ints[0]))

/* a member of the doc by its offset */
#define ngx_http_llm_json_at(doc, off, type)                                  \
    ((type *) (void *) ((unsigned char *) (doc) + (off)))


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


/*
 * Over 150 lines: the scanner is one loop with gotos between its states
 * (value, key, after a value), so that its state stays in registers.
 */

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

    for (i = 0; i < NGX_HTTP_LLM_JSON_NINTS; i++) {
        *ngx_http_llm_json_at(doc, ngx_http_llm_json_ints[i].value,
                              int64_t) = -1;
    }

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
        p++;
        ngx_http_llm_json_ws(p, end);

        if (p < end && *p == '}') {
            p++;
            depth--;
            goto next;
        }

        if (depth == 3 && sig.in_msgs) {
            goto message;
        }

        goto key;

    case '[':
        if (depth == NGX_HTTP_LLM_JSON_MAX_DEPTH) {
            goto too_deep;
        }

        stack[depth++] = ']';
        p++;
        ngx_http_llm_json_ws(p, end);

        if (p < end && *p == ']') {
            p++;
            depth--;
            goto next;
        }

        goto value;

    case '"':
        q = ngx_http_llm_json_str(p + 1, end, &escaped, &err);
        if (q == NULL) {
            goto malformed;
        }

        /* a message's role and content here, other values sig_value()'s */

        if (want == NGX_HTTP_LLM_SIG_ROLE) {
            sig.user = (!escaped && q - p == 5
                        && memcmp(p, "\"user\"", 6) == 0);

        } else if (want == NGX_HTTP_LLM_SIG_CONTENT) {
            sig.text.start = p;
            sig.text.end = q + 1;

        } else if (want) {
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
        p = ngx_http_llm_json_number_end(p, end, &err);
        if (p == NULL) {
            goto malformed;
        }

        goto next;

    default:
        err = p;
        goto malformed;
    }

message:

    /*
     * A message of the input array, p at its first member: most are
     * {"role": "...", "content": "..."}, read here without the loop's
     * dispatch, key lookups and depth switch, one space allowed where
     * json.dumps() writes one.  Every step is the one the loop would take;
     * any other byte goes on in the loop at the state reached (key, value
     * or next, whitespace skipped), so results and error offsets are the
     * loop's.
     */

    if (end - p < 16 || !ngx_http_llm_json_eq(p, "\"role\":", 7)) {
        goto key;
    }

    /* as the loop reads a key: its escapes noted from here on */

    p += 7;
    p += (*p == ' ');
    escaped = 0;

    if (*p != '"') {
        ngx_http_llm_json_ws(p, end);
        sig.want = NGX_HTTP_LLM_SIG_ROLE;
        goto value;
    }

    q = ngx_http_llm_json_str(p + 1, end, &escaped, &err);
    if (q == NULL) {
        goto malformed;
    }

    sig.user = (!escaped && q - p == 5
                && ngx_http_llm_json_eq(p, "\"user\"", 6));
    sig.in_content = 0;
    p = q + 1;

    if (p == end || *p != ',') {
        goto next;
    }

    p++;
    p += (p < end && *p == ' ');

    if (end - p < 16 || !ngx_http_llm_json_eq(p, "\"content\":", 10)) {
        ngx_http_llm_json_ws(p, end);
        goto key;
    }

    p += 10;
    p += (*p == ' ');
    escaped = 0;

    if (*p != '"') {
        ngx_http_llm_json_ws(p, end);
        sig.want = NGX_HTTP_LLM_SIG_CONTENT;
        goto value;
    }

    q = ngx_http_llm_json_str(p + 1, end, &escaped, &err);
    if (q == NULL) {
        goto malformed;
    }

    sig.text.start = p;
    sig.text.end = q + 1;
    p = q + 1;

    if (p == end || *p != '}') {
        goto next;
    }

    /* the end of the message, as next does it at depth 2 */

    p++;
    depth--;

    if (sig.user) {
        doc->user_text = sig.text;
    }

    sig.user = 0;
    sig.text.start = NULL;

    if (p == end || *p != ',') {
        goto next;
    }

    /* and the next one, as value does it */

    p++;
    p += (p < end && *p == ' ');

    if (p == end || *p != '{') {
        ngx_http_llm_json_ws(p, end);
        goto value;
    }

    stack[depth++] = '}';
    p++;
    ngx_http_llm_json_ws(p, end);

    if (p < end && *p == '}') {
        p++;
        depth--;
        goto next;
    }

    goto message;

key:

    if (p == end || *p != '"') {
        err = p;
        goto malformed;
    }

    key = p;
    escaped = 0;

    q = ngx_http_llm_json_str(p + 1, end, &escaped, &err);
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

    p = q + 1;
    ngx_http_llm_json_ws(p, end);

    if (p == end || *p != ':') {
        err = p;
        goto malformed;
    }

    p++;
    ngx_http_llm_json_ws(p, end);

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

    /* p is one past a complete value; the depth says of what */

    switch (depth) {

    case 3:
        if (sig.in_input) {
            /* the end of a message's member */
            sig.in_content = 0;
        }

        break;

    case 2:
        if (sig.in_input) {
            /* the end of a message: the last user message's text wins */
            if (sig.user && sig.text.start != NULL) {
                doc->user_text = sig.text;
            }

            sig.user = 0;
            sig.text.start = NULL;
        }

        if (nested != NULL) {
            nested->end = p;
            ngx_http_llm_json_value_done(doc, nested);
            nested = NULL;
        }

        break;

    case 1:
        if (sig.in_input) {
            /* the end of the top-level input member */
            doc->input.end = p;
            sig.in_input = 0;
            sig.in_msgs = 0;
        }

        if (top != NULL) {
            top->end = p;
            ngx_http_llm_json_value_done(doc, top);
            top = NULL;
            in_options = 0;
        }

        break;

    case 0:
        root_end = p;
        p = ngx_http_llm_json_skip(p, end);

        if (p != end) {
            err = p;
            goto malformed;
        }

        goto done;
    }

    ngx_http_llm_json_ws(p, end);

    if (p == end) {
        err = p;
        goto malformed;
    }

    if (*p == ',') {
        p++;
        ngx_http_llm_json_ws(p, end);

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


/*
 * A table: one load and one test per byte.  Most runs are one space
 * (json.dumps() writes one after ':' and ','), settled first.
 */

static const unsigned char *
ngx_http_llm_json_skip(const unsigned char *p, const unsigned char *end)
{
    if (p < end && *p == ' ') {
        p++;

        if (p < end && *p > ' ') {
            return p;
        }
    }

    while (p < end && ngx_http_llm_json_space[*p]) {
        p++;
    }

    return p;
}


/*
 * A string's closing quote, p past the opening one (as json_string()).
 * Keys and roles end within 16 bytes: one SSE2 test here, its constants
 * kept in the scanner's registers, instead of a call.  A string longer
 * than that goes on in json_string(), and one with an escape or a bad
 * byte starts there again at that byte (the first it will find).
 */

static inline const unsigned char *
ngx_http_llm_json_str(const unsigned char *p, const unsigned char *end,
    int *escaped, const unsigned char **err)
{
#if (NGX_HTTP_LLM_JSON_PROBE)
    unsigned  m;
    __m128i   v;

    if (end - p >= 16) {
        v = _mm_loadu_si128((const __m128i *) (const void *) p);
        v = _mm_min_epu8(_mm_subs_epu8(_mm_xor_si128(v, _mm_set1_epi8(0x02)),
                                       _mm_set1_epi8(0x20)),
                         _mm_xor_si128(v, _mm_set1_epi8('\\')));
        m = (unsigned) _mm_movemask_epi8(_mm_cmpeq_epi8(v,
                                                    _mm_setzero_si128()));

        if (m == 0) {
            return ngx_http_llm_json_string(p + 16, end, escaped, err);
        }

        p += __builtin_ctz(m);

        if (*p == '"') {
            return p;
        }
    }
#endif

    return ngx_http_llm_json_string(p, end, escaped, err);
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


static void
ngx_http_llm_json_value_done(ngx_http_llm_json_doc_t *doc,
    ngx_http_llm_json_span_t *span)
{
    size_t  i;

    /* a valid 4-byte value starting with 't' can only be true */

    if (span == &doc->stream) {
        doc->stream_true = (span->end - span->start == 4
                            && *span->start == 't');

    } else if (span == &doc->include_usage) {
        doc->include_usage_true = (span->end - span->start == 4
                                   && *span->start == 't');

    } else {
        for (i = 0; i < NGX_HTTP_LLM_JSON_NINTS; i++) {
            if (span == ngx_http_llm_json_at(doc,
                                             ngx_http_llm_json_ints[i].span,
                                             ngx_http_llm_json_span_t))
            {
                *ngx_http_llm_json_at(doc, ngx_http_llm_json_ints[i].value,
                                      int64_t) =
                    ngx_http_llm_json_int_value(span->start, span->end);
                return;
            }
        }
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

    /*
     * a role or a content that is a string is the scanner's loop's (no
     * call for the two members every message has); here, other values
     */

    case NGX_HTTP_LLM_SIG_ROLE:
        sig->user = 0;
        return;

    case NGX_HTTP_LLM_SIG_CONTENT:
        if (*p == '[') {
            sig->in_content = 1;
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
