/*
 * Reference JSON validator for the differential tests: clarity over speed.
 * See json_ref.h.
 */

#include <string.h>

#include "json_ref.h"


typedef struct {
    const unsigned char  *buf;
    size_t                len;
    size_t                pos;
    unsigned              flags;
    int                   max_depth;
    int                   code;
    size_t                error_offset;
} ref_t;


static int ref_value(ref_t *r, int depth);


static int
ref_fail(ref_t *r, int code, size_t off)
{
    if (r->code == REF_OK) {
        r->code = code;
        r->error_offset = off;
    }

    return -1;
}


/* the byte at pos, or -1 at the end of the input */
static int
ref_peek(ref_t *r)
{
    return r->pos < r->len ? r->buf[r->pos] : -1;
}


static int
ref_is_digit(int c)
{
    return c >= '0' && c <= '9';
}


static int
ref_hex(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }

    return -1;
}


/* four hex digits at buf[i]; -1 if one is missing or not hex */
static long
ref_hex4(ref_t *r, size_t i)
{
    long  v;
    int   k, d;

    if (i > r->len || r->len - i < 4) {
        return -1;
    }

    v = 0;

    for (k = 0; k < 4; k++) {
        d = ref_hex(r->buf[i + k]);
        if (d < 0) {
            return -1;
        }

        v = v * 16 + d;
    }

    return v;
}


static void
ref_space(ref_t *r)
{
    int  c;

    for ( ;; ) {
        c = ref_peek(r);

        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            r->pos++;
            continue;
        }

        if ((r->flags & REF_CJSON_SPACE) && c >= 0 && c <= 0x20) {
            r->pos++;
            continue;
        }

        return;
    }
}


/* RFC 8259 section 7, pos at the opening quote */
static int
ref_string_strict(ref_t *r)
{
    size_t  bs;
    long    hi, lo;
    int     c;

    r->pos++;

    for ( ;; ) {
        c = ref_peek(r);

        if (c < 0) {
            return ref_fail(r, REF_MALFORMED, r->len);
        }

        if (c == '"') {
            r->pos++;
            return 0;
        }

        if (c < 0x20) {
            return ref_fail(r, REF_MALFORMED, r->pos);
        }

        if (c != '\\') {
            r->pos++;
            continue;
        }

        bs = r->pos;
        r->pos++;
        c = ref_peek(r);

        if (c < 0) {
            return ref_fail(r, REF_MALFORMED, bs);
        }

        if (strchr("\"\\/bfnrt", c) != NULL && c != 0) {
            r->pos++;
            continue;
        }

        if (c != 'u') {
            return ref_fail(r, REF_MALFORMED, bs);
        }

        hi = ref_hex4(r, r->pos + 1);
        if (hi < 0 || (hi >= 0xdc00 && hi <= 0xdfff)) {
            return ref_fail(r, REF_MALFORMED, bs);
        }

        r->pos += 5;

        if (hi < 0xd800 || hi > 0xdbff) {
            continue;
        }

        /* a high surrogate must be followed by an escaped low one */

        if (r->len - r->pos < 6
            || r->buf[r->pos] != '\\' || r->buf[r->pos + 1] != 'u')
        {
            return ref_fail(r, REF_MALFORMED, bs);
        }

        lo = ref_hex4(r, r->pos + 2);
        if (lo < 0xdc00 || lo > 0xdfff) {
            return ref_fail(r, REF_MALFORMED, bs);
        }

        r->pos += 6;
    }
}


/* cJSON's hex parser: any non-hex digit makes the whole value 0 */
static long
ref_cjson_hex4(const unsigned char *p)
{
    long  v;
    int   k, d;

    v = 0;

    for (k = 0; k < 4; k++) {
        d = ref_hex(p[k]);
        if (d < 0) {
            return 0;
        }

        v = v * 16 + d;
    }

    return v;
}


/*
 * cJSON's two passes: the first finds the closing quote, skipping one byte
 * after each '\' and accepting anything else; the second decodes escapes
 * from the start and may get out of step with the first one after a
 * malformed \u (it always advances 6 bytes).
 */
static int
ref_string_cjson(ref_t *r)
{
    size_t  q, i;
    long    first, second;

    q = r->pos + 1;

    while (q < r->len && r->buf[q] != '"') {
        if (r->buf[q] == '\\') {
            if (q + 1 >= r->len) {
                return ref_fail(r, REF_MALFORMED, q);
            }

            q++;
        }

        q++;
    }

    if (q >= r->len) {
        return ref_fail(r, REF_MALFORMED, r->len);
    }

    i = r->pos + 1;

    while (i < q) {
        if (r->buf[i] != '\\') {
            i++;
            continue;
        }

        switch (r->buf[i + 1]) {
        case 'b': case 'f': case 'n': case 'r': case 't':
        case '"': case '\\': case '/':
            i += 2;
            break;

        case 'u':
            if (q - i < 6) {
                return ref_fail(r, REF_MALFORMED, i);
            }

            first = ref_cjson_hex4(r->buf + i + 2);

            if (first >= 0xdc00 && first <= 0xdfff) {
                return ref_fail(r, REF_MALFORMED, i);
            }

            if (first >= 0xd800 && first <= 0xdbff) {
                if (q - (i + 6) < 6
                    || r->buf[i + 6] != '\\' || r->buf[i + 7] != 'u')
                {
                    return ref_fail(r, REF_MALFORMED, i);
                }

                second = ref_cjson_hex4(r->buf + i + 8);
                if (second < 0xdc00 || second > 0xdfff) {
                    return ref_fail(r, REF_MALFORMED, i);
                }

                i += 12;

            } else {
                i += 6;
            }

            break;

        default:
            return ref_fail(r, REF_MALFORMED, i);
        }
    }

    r->pos = q + 1;

    return 0;
}


static int
ref_string(ref_t *r)
{
    if (r->flags & REF_CJSON_STRINGS) {
        return ref_string_cjson(r);
    }

    return ref_string_strict(r);
}


/* RFC 8259 section 6 */
static int
ref_number_strict(ref_t *r)
{
    if (ref_peek(r) == '-') {
        r->pos++;
    }

    if (ref_peek(r) == '0') {
        r->pos++;

    } else if (ref_is_digit(ref_peek(r))) {
        while (ref_is_digit(ref_peek(r))) {
            r->pos++;
        }

    } else {
        return ref_fail(r, REF_MALFORMED, r->pos);
    }

    if (ref_peek(r) == '.') {
        r->pos++;

        if (!ref_is_digit(ref_peek(r))) {
            return ref_fail(r, REF_MALFORMED, r->pos);
        }

        while (ref_is_digit(ref_peek(r))) {
            r->pos++;
        }
    }

    if (ref_peek(r) == 'e' || ref_peek(r) == 'E') {
        r->pos++;

        if (ref_peek(r) == '+' || ref_peek(r) == '-') {
            r->pos++;
        }

        if (!ref_is_digit(ref_peek(r))) {
            return ref_fail(r, REF_MALFORMED, r->pos);
        }

        while (ref_is_digit(ref_peek(r))) {
            r->pos++;
        }
    }

    return 0;
}


/*
 * cJSON copies the run of [0-9+-eE.] and lets strtod() take the longest
 * prefix it can; this is that prefix, per C99 7.20.1.3 (decimal form only:
 * 'x', 'i', 'n' are not copied).  Upstream 1.7.15 cut the run at 63 bytes;
 * Debian's fix for CVE-2023-26819 (1.7.15-1+deb12u3) removed that limit.
 */
static size_t
ref_strtod_prefix(const unsigned char *s, size_t n)
{
    size_t  i, j, d1, d2, d3;

    i = 0;

    if (i < n && (s[i] == '+' || s[i] == '-')) {
        i++;
    }

    for (d1 = 0; i < n && ref_is_digit(s[i]); d1++) {
        i++;
    }

    if (i < n && s[i] == '.') {
        j = i + 1;

        for (d2 = 0; j < n && ref_is_digit(s[j]); d2++) {
            j++;
        }

        if (d1 + d2 == 0) {
            return 0;
        }

        i = j;

    } else if (d1 == 0) {
        return 0;
    }

    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        j = i + 1;

        if (j < n && (s[j] == '+' || s[j] == '-')) {
            j++;
        }

        for (d3 = 0; j < n && ref_is_digit(s[j]); d3++) {
            j++;
        }

        if (d3 > 0) {
            i = j;
        }
    }

    return i;
}


static int
ref_number_cjson(ref_t *r)
{
    size_t  n, k;

    for (n = 0; r->pos + n < r->len; n++) {
        if (strchr("0123456789+-eE.", r->buf[r->pos + n]) == NULL
            || r->buf[r->pos + n] == '\0')
        {
            break;
        }
    }

    k = ref_strtod_prefix(r->buf + r->pos, n);
    if (k == 0) {
        return ref_fail(r, REF_MALFORMED, r->pos);
    }

    r->pos += k;

    return 0;
}


static int
ref_literal(ref_t *r, const char *word)
{
    size_t  n;

    n = strlen(word);

    if (r->len - r->pos < n || memcmp(r->buf + r->pos, word, n) != 0) {
        return ref_fail(r, REF_MALFORMED, r->pos);
    }

    r->pos += n;

    return 0;
}


static int
ref_array(ref_t *r, int depth)
{
    if (depth > r->max_depth) {
        return ref_fail(r, REF_TOO_DEEP, r->pos);
    }

    r->pos++;
    ref_space(r);

    if (ref_peek(r) == ']') {
        r->pos++;
        return 0;
    }

    for ( ;; ) {
        if (ref_value(r, depth) != 0) {
            return -1;
        }

        ref_space(r);

        if (ref_peek(r) == ',') {
            r->pos++;
            ref_space(r);
            continue;
        }

        if (ref_peek(r) == ']') {
            r->pos++;
            return 0;
        }

        return ref_fail(r, REF_MALFORMED, r->pos);
    }
}


static int
ref_object(ref_t *r, int depth)
{
    if (depth > r->max_depth) {
        return ref_fail(r, REF_TOO_DEEP, r->pos);
    }

    r->pos++;
    ref_space(r);

    if (ref_peek(r) == '}') {
        r->pos++;
        return 0;
    }

    for ( ;; ) {
        if (ref_peek(r) != '"') {
            return ref_fail(r, REF_MALFORMED, r->pos);
        }

        if (ref_string(r) != 0) {
            return -1;
        }

        ref_space(r);

        if (ref_peek(r) != ':') {
            return ref_fail(r, REF_MALFORMED, r->pos);
        }

        r->pos++;
        ref_space(r);

        if (ref_value(r, depth) != 0) {
            return -1;
        }

        ref_space(r);

        if (ref_peek(r) == ',') {
            r->pos++;
            ref_space(r);
            continue;
        }

        if (ref_peek(r) == '}') {
            r->pos++;
            return 0;
        }

        return ref_fail(r, REF_MALFORMED, r->pos);
    }
}


/* depth: number of containers around the value */
static int
ref_value(ref_t *r, int depth)
{
    int  c;

    c = ref_peek(r);

    switch (c) {
    case '{':
        return ref_object(r, depth + 1);
    case '[':
        return ref_array(r, depth + 1);
    case '"':
        return ref_string(r);
    case 't':
        return ref_literal(r, "true");
    case 'f':
        return ref_literal(r, "false");
    case 'n':
        return ref_literal(r, "null");
    }

    if (c == '-' || ref_is_digit(c)) {
        if (r->flags & REF_CJSON_NUMBERS) {
            return ref_number_cjson(r);
        }

        return ref_number_strict(r);
    }

    return ref_fail(r, REF_MALFORMED, c < 0 ? r->len : r->pos);
}


ref_result_t
ref_parse(const unsigned char *buf, size_t len, unsigned flags,
    int max_depth)
{
    ref_t         r;
    ref_result_t  res;

    memset(&r, 0, sizeof(r));
    r.buf = buf;
    r.len = len;
    r.flags = flags;
    r.max_depth = max_depth;

    /* cJSON looks for the BOM only if the buffer with its NUL is >= 5 */
    if ((flags & REF_CJSON_BOM) && len >= 4
        && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
    {
        r.pos = 3;
    }

    ref_space(&r);
    res.root = r.pos < len ? buf[r.pos] : 0;

    if (ref_value(&r, 0) == 0) {
        ref_space(&r);

        if (r.pos != len) {
            ref_fail(&r, REF_MALFORMED, r.pos);
        }
    }

    res.code = r.code;
    res.error_offset = r.error_offset;

    return res;
}
