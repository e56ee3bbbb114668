
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * An OpenAI chat completions client, an Anthropic messages provider: the
 * stream's fast paths, byte for byte what cm_event() writes, leaving the
 * stream as it would (fuzz/fuzz_xlate.c holds both to it), straight from
 * the event's data.  cm_fast(): the text deltas, nearly every event of an
 * answer, and the events that carry nothing but their type.
 * cm_fast_event(): the usual events around them, message_start,
 * content_block_start of a text block without text, message_delta with a
 * known stop reason; each comes once an answer, yet their cJSON trees
 * cost more than all the deltas of a short answer.  It takes the subset
 * of JSON of the answer's fast path (xlate_read.h): keys without escapes,
 * the members read not repeated, integers, true, false, null, strings the
 * scanner's validator takes, objects and arrays of them.  The members
 * read are the ones cm_event() reads, or DECLINED: another event or block
 * (tool_use, thinking), an "error" or unknown top-level member, an id
 * with escapes, a text block with text, an unknown stop reason, a count
 * that is not 0 .. 999999999 or null, 1.5, an escaped key...
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_llm_router_xlate.h"
#include "ngx_http_llm_router_xlate_read.h"


/* the top-level members read, each once */
#define CE_TYPE          0x01
#define CE_MESSAGE       0x02
#define CE_INDEX         0x04
#define CE_BLOCK         0x08
#define CE_DELTA         0x10
#define CE_USAGE         0x20

/* the usage's counts, in ngx_http_llm_xlate_cm_usage()'s order */
#define CE_IN            0
#define CE_OUT           1
#define CE_READ          2
#define CE_WRITE         3

/* members skipped: nesting, far below cJSON's limit of 1000 */
#define CE_DEPTH         16


#define ce_key(c, key, n)  ngx_http_llm_xlate_read_key(&(c)->rd, key, n)
#define ce_next(c, close)  ngx_http_llm_xlate_read_next(&(c)->rd, close)
#define ce_open(c)         ngx_http_llm_xlate_read_open(&(c)->rd, '{', '}')
#define ce_value(c)        ngx_http_llm_xlate_read_value(&(c)->rd, CE_DEPTH)
#define ce_is(key, n, s)                                                      \
    ((n) == sizeof(s) - 1 && memcmp(key, s, sizeof(s) - 1) == 0)
/* a string span is the JSON text s */
#define ce_span_is(span, s)                                                   \
    ((size_t) ((span).end - (span).start) == sizeof(s) - 1                    \
     && memcmp((span).start, s, sizeof(s) - 1) == 0)


typedef struct {
    const unsigned char         *start;   /* the opening quote */
    const unsigned char         *end;     /* past the closing quote */
} ce_span_t;


typedef struct {
    ngx_http_llm_xlate_read_t    rd;
    ce_span_t                    type;
    ce_span_t                    id;      /* start NULL: none */
    ce_span_t                    block;   /* the block's type */
    ce_span_t                    text;    /* the block's text */
    const char                  *stop;    /* in chat's terms, NULL: none */
    int64_t                      index;
    int64_t                      usage[4];   /* -1: none or null */
} ce_t;


/* reads the value of a member whose key was read */
typedef int (*ce_member_pt)(ce_t *c, const unsigned char *key, size_t n,
    void *data);


static const unsigned char *cm_text_delta(const unsigned char *p,
    const unsigned char *last, const unsigned char **end, int *escaped);
static const unsigned char *cm_object(const unsigned char *p,
    const unsigned char *last, ngx_http_llm_json_span_t *spans,
    ngx_http_llm_json_span_t *inner);
static int cm_name(const unsigned char *key, size_t n, int top);
static const unsigned char *cm_skip(const unsigned char *p,
    const unsigned char *last);
static int ce_object(ce_t *c, ce_member_pt member, void *data);
static int ce_top(ce_t *c, const unsigned char *key, size_t n, void *data);
static int ce_message(ce_t *c, const unsigned char *key, size_t n,
    void *data);
static int ce_block(ce_t *c, const unsigned char *key, size_t n, void *data);
static int ce_delta(ce_t *c, const unsigned char *key, size_t n, void *data);
static int ce_usage(ce_t *c, const unsigned char *key, size_t n, void *data);
static int ce_string(ce_t *c, ce_span_t *s);
static int64_t ce_spelled(const unsigned char *p, const unsigned char *last,
    const char *head, size_t nhead, const char *tail, size_t ntail);


/*
 * The stream's fast path: content_block_delta with a text_delta, nearly
 * every event of an answer, written without a cJSON tree (and the events
 * that carry nothing but their type: content_block_stop, message_stop,
 * ping; the others of the usual stream are cm_fast_event()'s).  It takes a
 * subset of JSON that cJSON parses whole (cJSON drops what it cannot
 * parse): objects nested two deep at most, keys without escapes, values
 * strings (checked by the request scanner's string validator) or
 * integers of fewer than 63 bytes (cJSON reads 63 bytes of a number).
 * Members are found as cJSON finds them: the first of a name.  The text
 * is copied as it came when its escapes are all ones cJSON writes back
 * the same (\" \\ \b \f \n \r \t; a \u or \/ cJSON decodes and writes
 * otherwise).  Anything else (another event or delta, an "error" member,
 * arrays, true, 1.5, an escaped key) is DECLINED and takes cm_event():
 * the fuzzer holds both to the same bytes (fuzz/fuzz_xlate.c).
 */

#define CM_TEXT_OPEN   "{\"content\":"
#define CM_BLOCK_STOP  "{\"type\":\"content_block_stop\",\"index\":"
#define CM_MESSAGE_STOP  "{\"type\":\"message_stop\"}"
#define CM_TEXT_CLOSE  "},\"finish_reason\":null}]}\n\n"

int
ngx_http_llm_xlate_cm_fast(ngx_http_llm_xlate_sse_t *s,
    const unsigned char *p, const unsigned char *last,
    ngx_http_llm_xlate_buf_t *out)
{
    int                        rc, escaped;
    size_t                     len, n;
    unsigned char             *q;
    const unsigned char       *t, *text, *end;
    ngx_http_llm_json_span_t   top[3], delta[2];

    text = cm_text_delta(p, last, &end, &escaped);

    if (text) {
        goto text;
    }

    /*
     * a block's end and the message's as Anthropic spells them, byte for
     * byte (the walks below take them too, after the other events')
     */

    if (ce_spelled(p, last, CM_BLOCK_STOP, sizeof(CM_BLOCK_STOP) - 1, "}", 1)
        >= 0)
    {
        return ngx_http_llm_xlate_cm_bare(s, "content_block_stop", out);
    }

    if ((size_t) (last - p) == sizeof(CM_MESSAGE_STOP) - 1
        && memcmp(p, CM_MESSAGE_STOP, sizeof(CM_MESSAGE_STOP) - 1) == 0)
    {
        return ngx_http_llm_xlate_cm_bare(s, "message_stop", out);
    }

    /* message_start, a text block's start, message_delta */
    rc = ngx_http_llm_xlate_cm_fast_event(s, p, last, out);

    if (rc != NGX_HTTP_LLM_XLATE_DECLINED) {
        return rc;
    }

    p = cm_skip(p, last);

    if (p == last || *p != '{') {
        return NGX_HTTP_LLM_XLATE_DECLINED;
    }

    memset(delta, 0, sizeof(delta));

    p = cm_object(p, last, top, delta);

    if (p == NULL || cm_skip(p, last) != last || top[2].start != NULL) {
        return NGX_HTTP_LLM_XLATE_DECLINED;
    }

    /* the type as it came (an escaped one is cJSON's to decode) */

    if (ce_span_is(top[0], "\"content_block_stop\"")) {
        return ngx_http_llm_xlate_cm_bare(s, "content_block_stop", out);
    }

    if (ce_span_is(top[0], "\"message_stop\"")) {
        return ngx_http_llm_xlate_cm_bare(s, "message_stop", out);
    }

    if (ce_span_is(top[0], "\"ping\"")) {
        return NGX_HTTP_LLM_XLATE_OK;
    }

    if (!ce_span_is(top[0], "\"content_block_delta\"")
        || !ce_span_is(delta[0], "\"text_delta\"")
        || delta[1].start == NULL || delta[1].start[0] != '"')
    {
        return NGX_HTTP_LLM_XLATE_DECLINED;
    }

    text = delta[1].start;
    end = delta[1].end;
    escaped = 1;

text:

    /* only escapes that cJSON writes back the same */

    t = escaped ? memchr(text + 1, '\\', end - text - 2) : NULL;

    while (t) {
        if (t[1] == 'u' || t[1] == '/') {
            return NGX_HTTP_LLM_XLATE_DECLINED;
        }

        t += 2;
        t = memchr(t, '\\', end - 1 - t);
    }

    len = out->len;
    n = end - text;

    if (s->head == NULL) {
        /* made once a message by cm_head() (its copy taken back) */
        rc = ngx_http_llm_xlate_cm_head(s, out);
        out->len = len;

        if (rc != NGX_HTTP_LLM_XLATE_OK) {
            return NGX_HTTP_LLM_XLATE_NOMEM;
        }
    }

    /* cm_event()'s bytes, its literals joined, after one reserve */

    if (ngx_http_llm_xlate_buf_reserve(out, s->head_len
                                            + sizeof(CM_TEXT_OPEN) - 1 + n
                                            + sizeof(CM_TEXT_CLOSE) - 1)
        != NGX_HTTP_LLM_XLATE_OK)
    {
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    q = out->data + out->len;
    memcpy(q, s->head, s->head_len);
    q += s->head_len;
    memcpy(q, CM_TEXT_OPEN, sizeof(CM_TEXT_OPEN) - 1);
    q += sizeof(CM_TEXT_OPEN) - 1;
    memcpy(q, text, n);
    q += n;
    memcpy(q, CM_TEXT_CLOSE, sizeof(CM_TEXT_CLOSE) - 1);
    q += sizeof(CM_TEXT_CLOSE) - 1;

    out->len = q - out->data;

    return NGX_HTTP_LLM_XLATE_OK;
}


/*
 * A text delta spelled as Anthropic spells it, byte for byte (the walk
 * below takes it too, at four times the cost): the text's opening quote,
 * *end past its closing one, *escaped whether it has escapes; or NULL.
 */

#define CM_DELTA_HEAD  "{\"type\":\"content_block_delta\",\"index\":"
#define CM_DELTA_TEXT  ",\"delta\":{\"type\":\"text_delta\",\"text\":\""

static const unsigned char *
cm_text_delta(const unsigned char *p, const unsigned char *last,
    const unsigned char **end, int *escaped)
{
    const unsigned char  *index, *q, *err;

    if ((size_t) (last - p) < sizeof(CM_DELTA_HEAD) + sizeof(CM_DELTA_TEXT)
        || memcmp(p, CM_DELTA_HEAD, sizeof(CM_DELTA_HEAD) - 1) != 0)
    {
        return NULL;
    }

    /* an integer as cm_object() takes it */

    index = p + sizeof(CM_DELTA_HEAD) - 1;
    p = index;

    if (p < last && *p == '0') {
        p++;

    } else {
        while (p < last && *p >= '0' && *p <= '9') {
            p++;
        }
    }

    if (p == index || p - index > NGX_HTTP_LLM_XLATE_READ_NUMBER_MAX
        || (size_t) (last - p) < sizeof(CM_DELTA_TEXT) + 2
        || memcmp(p, CM_DELTA_TEXT, sizeof(CM_DELTA_TEXT) - 1) != 0)
    {
        return NULL;
    }

    p += sizeof(CM_DELTA_TEXT) - 1;

    *escaped = 0;
    q = ngx_http_llm_json_string(p, last, escaped, &err);

    if (q == NULL || last - q != 3 || memcmp(q, "\"}}", 3) != 0) {
        return NULL;
    }

    *end = q + 1;

    return p - 1;
}


/*
 * The object at p in the fast path's subset; returns its end, or NULL.
 * With inner, the top level: spans[] of the first "type", "delta" and
 * "error", and inner[] of the first "type" and "text" in the object value
 * of the first "delta".  Without inner, the second level: spans[] (NULL:
 * none wanted) of the first "type" and "text"; an object value refused.
 * A start NULL: absent.
 */

static const unsigned char *
cm_object(const unsigned char *p, const unsigned char *last,
    ngx_http_llm_json_span_t *spans, ngx_http_llm_json_span_t *inner)
{
    int                   escaped, found;
    size_t                n;
    const unsigned char  *key, *v, *err;

    if (spans) {
        memset(spans, 0, (inner ? 3 : 2) * sizeof(ngx_http_llm_json_span_t));
    }

    /* past '{' */
    p = cm_skip(p + 1, last);

    if (p < last && *p == '}') {
        return p + 1;
    }

    for ( ;; ) {

        /* the key, without escapes or control bytes */

        if (p == last || *p != '"') {
            return NULL;
        }

        key = ++p;

        while (p < last && *p != '"') {
            if (*p < 0x20 || *p == '\\') {
                return NULL;
            }

            p++;
        }

        if (p == last) {
            return NULL;
        }

        n = p - key;
        p = cm_skip(p + 1, last);

        if (p == last || *p != ':') {
            return NULL;
        }

        v = cm_skip(p + 1, last);

        if (v == last) {
            return NULL;
        }

        found = -1;

        if (spans) {
            found = cm_name(key, n, inner != NULL);

            if (found >= 0 && spans[found].start != NULL) {
                /* cJSON finds the first */
                found = -1;
            }
        }

        /* the value */

        if (*v == '"') {
            escaped = 0;
            p = ngx_http_llm_json_string(v + 1, last, &escaped, &err);

            if (p == NULL) {
                return NULL;
            }

            p++;

        } else if (*v == '{' && inner) {
            p = cm_object(v, last, found == 1 ? inner : NULL, NULL);

            if (p == NULL) {
                return NULL;
            }

        } else {
            /* an integer */
            p = v + (*v == '-');

            if (p == last || *p < '0' || *p > '9') {
                return NULL;
            }

            if (*p++ != '0') {
                while (p < last && *p >= '0' && *p <= '9') {
                    p++;
                }
            }

            if (p - v > NGX_HTTP_LLM_XLATE_READ_NUMBER_MAX) {
                return NULL;
            }
        }

        if (found >= 0) {
            spans[found].start = v;
            spans[found].end = p;
        }

        /* a ',' and the next key, or the end */

        p = cm_skip(p, last);

        if (p == last) {
            return NULL;
        }

        if (*p == '}') {
            return p + 1;
        }

        if (*p != ',') {
            return NULL;
        }

        p = cm_skip(p + 1, last);
    }
}


/* 0 "type", 1 "delta" (top) or "text", 2 "error" (top), -1 another */

static int
cm_name(const unsigned char *key, size_t n, int top)
{
    if (n == 4) {
        if (memcmp(key, "type", 4) == 0) {
            return 0;
        }

        return (!top && memcmp(key, "text", 4) == 0) ? 1 : -1;
    }

    if (n == 5 && top) {
        if (memcmp(key, "delta", 5) == 0) {
            return 1;
        }

        return memcmp(key, "error", 5) == 0 ? 2 : -1;
    }

    return -1;
}


/* past JSON's white space */

static const unsigned char *
cm_skip(const unsigned char *p, const unsigned char *last)
{
    while (p < last
           && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
    {
        p++;
    }

    return p;
}


#define CE_BLOCK_HEAD  "{\"type\":\"content_block_start\",\"index\":"
#define CE_BLOCK_TAIL  ",\"content_block\":{\"type\":\"text\",\"text\":\"\"}}"
#define CE_END_HEAD                                                           \
    "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\","     \
    "\"stop_sequence\":null},\"usage\":{\"output_tokens\":"

/*
 * Returns OK (the chunk, if any, appended to out), NOMEM, or DECLINED
 * (out and the stream as they were given).
 */

int
ngx_http_llm_xlate_cm_fast_event(ngx_http_llm_xlate_sse_t *s,
    const unsigned char *p, const unsigned char *last,
    ngx_http_llm_xlate_buf_t *out)
{
    size_t    n;
    int64_t   v;
    unsigned  seen;
    ce_t      c;

    /* as Anthropic spells them, byte for byte (the walk takes them too) */

    v = ce_spelled(p, last, CE_BLOCK_HEAD, sizeof(CE_BLOCK_HEAD) - 1,
                   CE_BLOCK_TAIL, sizeof(CE_BLOCK_TAIL) - 1);

    if (v >= 0) {
        ngx_http_llm_xlate_cm_text_block(s, (int) v);
        return NGX_HTTP_LLM_XLATE_OK;
    }

    v = ce_spelled(p, last, CE_END_HEAD, sizeof(CE_END_HEAD) - 1, "}}", 2);

    if (v >= 0) {
        memcpy(s->stop, "stop", sizeof("stop"));
        ngx_http_llm_xlate_cm_usage(s, -1, v, -1, -1);

        return ngx_http_llm_xlate_cm_finish(s, out);
    }

    c.rd.p = p;
    c.rd.last = last;
    c.id.start = NULL;
    c.stop = NULL;
    c.usage[CE_IN] = -1;
    c.usage[CE_OUT] = -1;
    c.usage[CE_READ] = -1;
    c.usage[CE_WRITE] = -1;

    /* the whole event is read before the stream is touched */

    ngx_http_llm_xlate_read_space(&c.rd);
    seen = 0;

    if (ce_object(&c, ce_top, &seen) != NGX_HTTP_LLM_XLATE_OK) {
        return NGX_HTTP_LLM_XLATE_DECLINED;
    }

    /* cJSON would ignore what follows; this takes white space only */
    ngx_http_llm_xlate_read_space(&c.rd);

    if (c.rd.p != c.rd.last) {
        return NGX_HTTP_LLM_XLATE_DECLINED;
    }

    if (seen == (CE_TYPE | CE_MESSAGE)
        && ce_span_is(c.type, "\"message_start\""))
    {
        if (c.id.start) {
            /* snprintf()'s cut */
            n = c.id.end - c.id.start - 2;
            n = (n < sizeof(s->id)) ? n : sizeof(s->id) - 1;
            memcpy(s->id, c.id.start + 1, n);
            s->id[n] = '\0';
        }

        ngx_http_llm_xlate_cm_usage(s, c.usage[CE_IN], c.usage[CE_OUT],
                                    c.usage[CE_READ], c.usage[CE_WRITE]);

        return ngx_http_llm_xlate_cm_start(s, out);
    }

    if (seen == (CE_TYPE | CE_INDEX | CE_BLOCK)
        && ce_span_is(c.type, "\"content_block_start\""))
    {
        ngx_http_llm_xlate_cm_text_block(s, (int) c.index);
        return NGX_HTTP_LLM_XLATE_OK;
    }

    if ((seen & ~CE_USAGE) == (CE_TYPE | CE_DELTA)
        && ce_span_is(c.type, "\"message_delta\"")
        && c.stop != NULL)
    {
        /* the reasons in chat's terms are all shorter than s->stop */
        memcpy(s->stop, c.stop, strlen(c.stop) + 1);

        ngx_http_llm_xlate_cm_usage(s, c.usage[CE_IN], c.usage[CE_OUT],
                                    c.usage[CE_READ], c.usage[CE_WRITE]);

        return ngx_http_llm_xlate_cm_finish(s, out);
    }

    return NGX_HTTP_LLM_XLATE_DECLINED;
}


/*
 * An object at c->rd.p, each member's value read by member() (its key
 * read already); an empty one is OK.
 */

static int
ce_object(ce_t *c, ce_member_pt member, void *data)
{
    int                   rc;
    size_t                n;
    const unsigned char  *key;

    rc = ce_open(c);

    while (rc == 1) {
        if (ce_key(c, &key, &n) != NGX_HTTP_LLM_XLATE_OK
            || member(c, key, n, data) != NGX_HTTP_LLM_XLATE_OK)
        {
            return NGX_HTTP_LLM_XLATE_DECLINED;
        }

        rc = ce_next(c, '}');
    }

    return rc == 0 ? NGX_HTTP_LLM_XLATE_OK : NGX_HTTP_LLM_XLATE_DECLINED;
}


/* a top-level member: the event's type first, as Anthropic sends it */

static int
ce_top(ce_t *c, const unsigned char *key, size_t n, void *data)
{
    unsigned  bit, inner, *seen;

    seen = data;

    bit = ce_is(key, n, "type") ? CE_TYPE
          : ce_is(key, n, "message") ? CE_MESSAGE
          : ce_is(key, n, "index") ? CE_INDEX
          : ce_is(key, n, "content_block") ? CE_BLOCK
          : ce_is(key, n, "delta") ? CE_DELTA
          : ce_is(key, n, "usage") ? CE_USAGE : 0;

    /* "error", another member: the general path's; cJSON finds the first */

    if (bit == 0 || (*seen & bit)) {
        return NGX_HTTP_LLM_XLATE_DECLINED;
    }

    *seen |= bit;

    switch (bit) {

    case CE_TYPE:
        if (ce_string(c, &c->type) != NGX_HTTP_LLM_XLATE_OK) {
            return NGX_HTTP_LLM_XLATE_DECLINED;
        }

        /* the text deltas and the bare events end here */

        return (ce_span_is(c->type, "\"message_start\"")
                || ce_span_is(c->type, "\"content_block_start\"")
                || ce_span_is(c->type, "\"message_delta\""))
               ? NGX_HTTP_LLM_XLATE_OK : NGX_HTTP_LLM_XLATE_DECLINED;

    case CE_MESSAGE:
        inner = 0;
        return ce_object(c, ce_message, &inner);

    case CE_INDEX:
        return ngx_http_llm_xlate_read_count(&c->rd, &c->index, 0);

    case CE_BLOCK:
        c->text.start = NULL;
        c->block.start = NULL;

        /* tool_use, thinking, a text to write: the general path's */

        return (ce_object(c, ce_block, NULL) == NGX_HTTP_LLM_XLATE_OK
                && c->block.start && ce_span_is(c->block, "\"text\"")
                && c->text.start && ce_span_is(c->text, "\"\""))
               ? NGX_HTTP_LLM_XLATE_OK : NGX_HTTP_LLM_XLATE_DECLINED;

    case CE_DELTA:
        return ce_object(c, ce_delta, NULL);

    default: /* CE_USAGE */
        inner = 0;
        return ce_object(c, ce_usage, &inner);
    }
}


/* message_start's "message": its id maybe, its usage maybe, the rest */

static int
ce_message(ce_t *c, const unsigned char *key, size_t n, void *data)
{
    unsigned  *usage, seen;

    usage = data;

    if (ce_is(key, n, "id")) {
        /* cJSON decodes escapes: the general path's */

        return (c->id.start == NULL
                && ce_string(c, &c->id) == NGX_HTTP_LLM_XLATE_OK
                && memchr(c->id.start, '\\', c->id.end - c->id.start)
                   == NULL)
               ? NGX_HTTP_LLM_XLATE_OK : NGX_HTTP_LLM_XLATE_DECLINED;
    }

    if (ce_is(key, n, "usage")) {
        if ((*usage)++) {
            return NGX_HTTP_LLM_XLATE_DECLINED;
        }

        seen = 0;
        return ce_object(c, ce_usage, &seen);
    }

    /* type, role, model, content, stop_reason...: not read */
    return ce_value(c);
}


/* content_block_start's block: its type and text, the rest */

static int
ce_block(ce_t *c, const unsigned char *key, size_t n, void *data)
{
    ce_span_t  *s;

    (void) data;

    s = ce_is(key, n, "type") ? &c->block
        : ce_is(key, n, "text") ? &c->text : NULL;

    if (s == NULL) {
        return ce_value(c);
    }

    return (s->start == NULL && ce_string(c, s) == NGX_HTTP_LLM_XLATE_OK)
           ? NGX_HTTP_LLM_XLATE_OK : NGX_HTTP_LLM_XLATE_DECLINED;
}


/* message_delta's delta: a known stop reason, stop_sequence... */

static int
ce_delta(ce_t *c, const unsigned char *key, size_t n, void *data)
{
    ce_span_t  reason;

    (void) data;

    if (!ce_is(key, n, "stop_reason")) {
        return ce_value(c);
    }

    if (c->stop || ce_string(c, &reason) != NGX_HTTP_LLM_XLATE_OK) {
        return NGX_HTTP_LLM_XLATE_DECLINED;
    }

    c->stop = ngx_http_llm_xlate_cm_fast_stop(reason.start, reason.end);

    return c->stop ? NGX_HTTP_LLM_XLATE_OK : NGX_HTTP_LLM_XLATE_DECLINED;
}


/*
 * A usage object's member: a count cm_event() reads (null: none, as
 * ngx_http_llm_xlate_int() reads it), or one not read (cache_creation,
 * service_tier, server_tool_use...).
 */

static int
ce_usage(ce_t *c, const unsigned char *key, size_t n, void *data)
{
    int        i;
    unsigned  *seen;

    seen = data;

    i = ce_is(key, n, "input_tokens") ? CE_IN
        : ce_is(key, n, "output_tokens") ? CE_OUT
        : ce_is(key, n, "cache_read_input_tokens") ? CE_READ
        : ce_is(key, n, "cache_creation_input_tokens") ? CE_WRITE : -1;

    if (i < 0) {
        return ce_value(c);
    }

    /* cJSON finds the first of a name: one is no doubt */

    if (*seen & (1u << i)) {
        return NGX_HTTP_LLM_XLATE_DECLINED;
    }

    *seen |= 1u << i;

    return ngx_http_llm_xlate_read_count(&c->rd, &c->usage[i], 1);
}


/* a valid string; s: its quotes */

static int
ce_string(ce_t *c, ce_span_t *s)
{
    int  rc;

    rc = ngx_http_llm_xlate_read_string(&c->rd, 0, &s->start);

    if (rc == NGX_HTTP_LLM_XLATE_OK) {
        s->end = c->rd.p;
    }

    return rc;
}


/*
 * An event spelled head, a count as read_count() takes it, tail, and
 * nothing after: the count, or -1.
 */

static int64_t
ce_spelled(const unsigned char *p, const unsigned char *last,
    const char *head, size_t nhead, const char *tail, size_t ntail)
{
    int64_t                    v;
    ngx_http_llm_xlate_read_t  rd;

    if ((size_t) (last - p) < nhead + ntail || memcmp(p, head, nhead) != 0) {
        return -1;
    }

    rd.p = p + nhead;
    rd.last = last - ntail;

    if (ngx_http_llm_xlate_read_count(&rd, &v, 0) != NGX_HTTP_LLM_XLATE_OK
        || rd.p != rd.last || memcmp(rd.p, tail, ntail) != 0)
    {
        return -1;
    }

    return v;
}
