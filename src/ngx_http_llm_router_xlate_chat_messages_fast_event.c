
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * An OpenAI chat completions client, an Anthropic messages provider: the
 * stream's fast path for the usual events around the text deltas (those
 * are cm_fast()'s): message_start, content_block_start of a text block
 * without text, message_delta with a known stop reason.  Each comes once
 * an answer, yet their cJSON trees cost more than all the deltas of a
 * short answer.  This writes the same bytes as cm_event() and leaves the
 * stream in the same state (fuzz/fuzz_xlate.c holds both to it), straight
 * from the event's data, for the subset of JSON of the answer's fast path
 * (xlate_read.h): keys without escapes, the members read not repeated,
 * integers, true, false, null, strings the scanner's validator takes,
 * objects and arrays of them.  The members read are the ones cm_event()
 * reads, and its type, or DECLINED: another event or block (tool_use,
 * thinking), an "error" or unknown top-level member, an id with escapes,
 * a text block with text, an unknown stop reason, a count that is not
 * 0 .. 999999999 or null, 1.5, an escaped key...
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
    const char                  *stop;    /* in chat's terms, NULL: none */
    int64_t                      index;
    int64_t                      usage[4];   /* -1: none or null */
} ce_t;


static int ce_member(ce_t *c, unsigned *seen);
static int ce_message(ce_t *c);
static int ce_block(ce_t *c);
static int ce_delta(ce_t *c);
static int ce_usage(ce_t *c);
static int ce_string(ce_t *c, ce_span_t *s);


/*
 * Returns OK (the chunk, if any, appended to out), NOMEM, or DECLINED
 * (out and the stream as they were given).
 */

int
ngx_http_llm_xlate_cm_fast_event(ngx_http_llm_xlate_sse_t *s,
    const unsigned char *p, const unsigned char *last,
    ngx_http_llm_xlate_buf_t *out)
{
    int       rc;
    size_t    n;
    unsigned  seen;
    ce_t      c;

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

    if (ce_open(&c) != 1) {
        return NGX_HTTP_LLM_XLATE_DECLINED;
    }

    seen = 0;

    do {
        if (ce_member(&c, &seen) != NGX_HTTP_LLM_XLATE_OK) {
            return NGX_HTTP_LLM_XLATE_DECLINED;
        }

        rc = ce_next(&c, '}');

    } while (rc == 1);

    /* cJSON would ignore what follows; this takes white space only */
    ngx_http_llm_xlate_read_space(&c.rd);

    if (rc != 0 || c.rd.p != c.rd.last) {
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


/* one top-level member: the event's type first, as Anthropic sends it */

static int
ce_member(ce_t *c, unsigned *seen)
{
    size_t                n;
    unsigned              bit;
    const unsigned char  *key;

    if (ce_key(c, &key, &n) != NGX_HTTP_LLM_XLATE_OK) {
        return NGX_HTTP_LLM_XLATE_DECLINED;
    }

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
        return ce_message(c);

    case CE_INDEX:
        return ngx_http_llm_xlate_read_count(&c->rd, &c->index, 0);

    case CE_BLOCK:
        return ce_block(c);

    case CE_DELTA:
        return ce_delta(c);

    default: /* CE_USAGE */
        return ce_usage(c);
    }
}


/* message_start's "message": its id maybe, its usage maybe, the rest */

static int
ce_message(ce_t *c)
{
    int                   rc, usage;
    size_t                n;
    const unsigned char  *key;

    rc = ce_open(c);

    if (rc != 1) {
        return rc == 0 ? NGX_HTTP_LLM_XLATE_OK : NGX_HTTP_LLM_XLATE_DECLINED;
    }

    usage = 0;

    do {
        if (ce_key(c, &key, &n) != NGX_HTTP_LLM_XLATE_OK) {
            return NGX_HTTP_LLM_XLATE_DECLINED;
        }

        if (ce_is(key, n, "id")) {
            /* cJSON decodes escapes: the general path's */

            if (c->id.start || ce_string(c, &c->id) != NGX_HTTP_LLM_XLATE_OK
                || memchr(c->id.start, '\\', c->id.end - c->id.start))
            {
                return NGX_HTTP_LLM_XLATE_DECLINED;
            }

        } else if (ce_is(key, n, "usage")) {
            if (usage++ || ce_usage(c) != NGX_HTTP_LLM_XLATE_OK) {
                return NGX_HTTP_LLM_XLATE_DECLINED;
            }

        } else if (ce_value(c) != NGX_HTTP_LLM_XLATE_OK) {
            /* type, role, model, content, stop_reason...: not read */
            return NGX_HTTP_LLM_XLATE_DECLINED;
        }

        rc = ce_next(c, '}');

    } while (rc == 1);

    return rc == 0 ? NGX_HTTP_LLM_XLATE_OK : NGX_HTTP_LLM_XLATE_DECLINED;
}


/* content_block_start's block: {"type": "text", "text": ""} and more */

static int
ce_block(ce_t *c)
{
    int                   rc;
    size_t                n;
    ce_span_t             type, text;
    const unsigned char  *key;

    if (ce_open(c) != 1) {
        return NGX_HTTP_LLM_XLATE_DECLINED;
    }

    type.start = NULL;
    text.start = NULL;

    do {
        if (ce_key(c, &key, &n) != NGX_HTTP_LLM_XLATE_OK) {
            return NGX_HTTP_LLM_XLATE_DECLINED;
        }

        if (ce_is(key, n, "type")) {
            if (type.start || ce_string(c, &type) != NGX_HTTP_LLM_XLATE_OK) {
                return NGX_HTTP_LLM_XLATE_DECLINED;
            }

        } else if (ce_is(key, n, "text")) {
            if (text.start || ce_string(c, &text) != NGX_HTTP_LLM_XLATE_OK) {
                return NGX_HTTP_LLM_XLATE_DECLINED;
            }

        } else if (ce_value(c) != NGX_HTTP_LLM_XLATE_OK) {
            return NGX_HTTP_LLM_XLATE_DECLINED;
        }

        rc = ce_next(c, '}');

    } while (rc == 1);

    /* tool_use, thinking, a text to write: the general path's */

    if (rc != 0 || type.start == NULL || text.start == NULL
        || !ce_span_is(type, "\"text\"") || !ce_span_is(text, "\"\""))
    {
        return NGX_HTTP_LLM_XLATE_DECLINED;
    }

    return NGX_HTTP_LLM_XLATE_OK;
}


/* message_delta's delta: a known stop reason, stop_sequence... */

static int
ce_delta(ce_t *c)
{
    int                   rc;
    size_t                n;
    ce_span_t             reason;
    const unsigned char  *key;

    if (ce_open(c) != 1) {
        return NGX_HTTP_LLM_XLATE_DECLINED;
    }

    do {
        if (ce_key(c, &key, &n) != NGX_HTTP_LLM_XLATE_OK) {
            return NGX_HTTP_LLM_XLATE_DECLINED;
        }

        if (ce_is(key, n, "stop_reason")) {
            if (c->stop || ce_string(c, &reason) != NGX_HTTP_LLM_XLATE_OK) {
                return NGX_HTTP_LLM_XLATE_DECLINED;
            }

            c->stop = ngx_http_llm_xlate_cm_fast_stop(reason.start,
                                                      reason.end);

            if (c->stop == NULL) {
                return NGX_HTTP_LLM_XLATE_DECLINED;
            }

        } else if (ce_value(c) != NGX_HTTP_LLM_XLATE_OK) {
            return NGX_HTTP_LLM_XLATE_DECLINED;
        }

        rc = ce_next(c, '}');

    } while (rc == 1);

    return rc == 0 ? NGX_HTTP_LLM_XLATE_OK : NGX_HTTP_LLM_XLATE_DECLINED;
}


/*
 * A usage object: the counts cm_event() reads, each maybe (null: none,
 * as ngx_http_llm_xlate_int() reads it), and members not read
 * (cache_creation, service_tier, server_tool_use...).
 */

static int
ce_usage(ce_t *c)
{
    int                   rc, i;
    size_t                n;
    unsigned              seen;
    const unsigned char  *key;

    rc = ce_open(c);
    seen = 0;

    while (rc == 1) {
        if (ce_key(c, &key, &n) != NGX_HTTP_LLM_XLATE_OK) {
            return NGX_HTTP_LLM_XLATE_DECLINED;
        }

        i = ce_is(key, n, "input_tokens") ? CE_IN
            : ce_is(key, n, "output_tokens") ? CE_OUT
            : ce_is(key, n, "cache_read_input_tokens") ? CE_READ
            : ce_is(key, n, "cache_creation_input_tokens") ? CE_WRITE : -1;

        if (i < 0) {
            rc = ce_value(c);

        } else if (seen & (1u << i)) {
            /* cJSON finds the first of a name: one is no doubt */
            rc = NGX_HTTP_LLM_XLATE_DECLINED;

        } else {
            seen |= 1u << i;
            rc = ngx_http_llm_xlate_read_count(&c->rd, &c->usage[i], 1);
        }

        if (rc != NGX_HTTP_LLM_XLATE_OK) {
            return NGX_HTTP_LLM_XLATE_DECLINED;
        }

        rc = ce_next(c, '}');
    }

    return rc == 0 ? NGX_HTTP_LLM_XLATE_OK : NGX_HTTP_LLM_XLATE_DECLINED;
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
