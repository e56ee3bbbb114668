
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * An OpenAI chat completions client, an Anthropic messages provider: the
 * answer's fast path.  Most answers are a message of the assistant with
 * text blocks, a stop reason and the usage; cJSON's tree of them cost
 * more than the rest of the translation.  This writes the same bytes as
 * cm_write() (fuzz/fuzz_xlate.c holds both to it), straight from the
 * body, for a subset of JSON that cJSON parses whole: keys without
 * escapes, the members read not repeated, strings checked by the request
 * scanner's string validator whose escapes cJSON writes back the same
 * (\" \\ \b \f \n \r \t: a \u or \/ cJSON decodes and writes otherwise),
 * integers, true, false, null, and objects and arrays of them.  Anything
 * else (tool_use or thinking blocks, an unknown stop reason, a missing
 * member, 1.5, an escaped key...) is DECLINED and takes cm_write().
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_llm_router_xlate.h"
#include "ngx_http_llm_router_xlate_read.h"


/* the top-level members read, each once */
#define CA_ID            0x01
#define CA_TYPE          0x02
#define CA_ROLE          0x04
#define CA_CONTENT       0x08
#define CA_STOP          0x10
#define CA_USAGE         0x20
#define CA_ALL           0x3f

/* usage's members read */
#define CA_IN            0x01
#define CA_OUT           0x02
#define CA_READ          0x04
#define CA_WRITE         0x08

/* text blocks with text: more are the general path's */
#define CA_TEXTS         16
/* members skipped: nesting, far below cJSON's limit of 1000 */
#define CA_DEPTH         16


/* the tokens every fast path reads alike (xlate_read.h) */
#define ca_key(c, key, n)  ngx_http_llm_xlate_read_key(&(c)->rd, key, n)
#define ca_next(c, close)  ngx_http_llm_xlate_read_next(&(c)->rd, close)
#define ca_space(c)        ngx_http_llm_xlate_read_space(&(c)->rd)
#define ca_open(c, o, cl)  ngx_http_llm_xlate_read_open(&(c)->rd, o, cl)
#define ca_value(c, depth) ngx_http_llm_xlate_read_value(&(c)->rd, depth)
#define ca_count(c, v, nl) ngx_http_llm_xlate_read_count(&(c)->rd, v, nl)


typedef struct {
    const unsigned char         *start;   /* the opening quote */
    const unsigned char         *end;     /* past the closing quote */
} ca_span_t;


typedef struct {
    const unsigned char         *body;
    ngx_http_llm_xlate_read_t    rd;
    ca_span_t                    id;
    const char                  *stop;    /* in chat's terms */
    ca_span_t                    texts[CA_TEXTS];
    size_t                       ntexts;
    int64_t                      in;
    int64_t                      out;
    int64_t                      read;    /* -1: none */
    int64_t                      write;   /* -1: none */
} ca_t;


static int ca_member(ca_t *c, unsigned *seen);
static int ca_content(ca_t *c);
static int ca_block(ca_t *c);
static int ca_usage(ca_t *c);
static int ca_write(ca_t *c, const char *model, int64_t created,
    ngx_http_llm_xlate_buf_t *out);
static int ca_string(ca_t *c, ca_span_t *s);


#define ca_lit(out, s)  ngx_http_llm_xlate_buf_append(out, s, sizeof(s) - 1)
#define ca_is(key, n, s)                                                      \
    ((n) == sizeof(s) - 1 && memcmp(key, s, sizeof(s) - 1) == 0)
/* a string span is the JSON text s */
#define ca_span_is(span, s)                                                   \
    ((size_t) ((span).end - (span).start) == sizeof(s) - 1                    \
     && memcmp((span).start, s, sizeof(s) - 1) == 0)


/* Anthropic's stop reasons, as ngx_http_llm_xlate_stop() knows them */
static const char  *ca_stops[] = {
    "end_turn", "stop_sequence", "pause_turn", "max_tokens",
    "model_context_window_exceeded", "tool_use", "refusal", NULL
};


/*
 * Returns OK (the chat.completion appended to out), NOMEM, or DECLINED
 * (out as it was given).
 */

int
ngx_http_llm_xlate_cm_fast_answer(const unsigned char *body, size_t len,
    const char *model, int64_t created, ngx_http_llm_xlate_buf_t *out)
{
    int       rc;
    unsigned  seen;
    ca_t      c;

    memset(&c, 0, sizeof(ca_t));
    c.body = body;
    c.rd.p = body;
    c.rd.last = body + len;

    /* the whole answer is read before a byte is written */

    ca_space(&c);

    rc = ca_open(&c, '{', '}');

    if (rc != 1) {
        /* an empty object lacks what is required */
        return NGX_HTTP_LLM_XLATE_DECLINED;
    }

    seen = 0;

    do {
        if (ca_member(&c, &seen) != NGX_HTTP_LLM_XLATE_OK) {
            return NGX_HTTP_LLM_XLATE_DECLINED;
        }

        rc = ca_next(&c, '}');

    } while (rc == 1);

    if (rc != 0 || seen != CA_ALL) {
        return NGX_HTTP_LLM_XLATE_DECLINED;
    }

    /* cJSON would ignore what follows; this takes white space only */
    ca_space(&c);

    if (c.rd.p != c.rd.last) {
        return NGX_HTTP_LLM_XLATE_DECLINED;
    }

    return ca_write(&c, model, created, out);
}


/* one top-level member */

static int
ca_member(ca_t *c, unsigned *seen)
{
    size_t                n;
    unsigned              bit;
    ca_span_t             s;
    const unsigned char  *key;

    if (ca_key(c, &key, &n) != NGX_HTTP_LLM_XLATE_OK) {
        return NGX_HTTP_LLM_XLATE_DECLINED;
    }

    bit = ca_is(key, n, "id") ? CA_ID
          : ca_is(key, n, "type") ? CA_TYPE
          : ca_is(key, n, "role") ? CA_ROLE
          : ca_is(key, n, "content") ? CA_CONTENT
          : ca_is(key, n, "stop_reason") ? CA_STOP
          : ca_is(key, n, "usage") ? CA_USAGE : 0;

    if (bit == 0) {
        /* model, stop_sequence, container...: not read */
        return ca_value(c, CA_DEPTH);
    }

    /* cJSON finds the first of a name: one is no doubt */
    if (*seen & bit) {
        return NGX_HTTP_LLM_XLATE_DECLINED;
    }

    *seen |= bit;

    switch (bit) {

    case CA_ID:
        return ca_string(c, &c->id);

    case CA_TYPE:
        if (ca_string(c, &s) != NGX_HTTP_LLM_XLATE_OK
            || !ca_span_is(s, "\"message\""))
        {
            return NGX_HTTP_LLM_XLATE_DECLINED;
        }

        return NGX_HTTP_LLM_XLATE_OK;

    case CA_ROLE:
        if (ca_string(c, &s) != NGX_HTTP_LLM_XLATE_OK
            || !ca_span_is(s, "\"assistant\""))
        {
            return NGX_HTTP_LLM_XLATE_DECLINED;
        }

        return NGX_HTTP_LLM_XLATE_OK;

    case CA_CONTENT:
        return ca_content(c);

    case CA_STOP:
        if (ca_string(c, &s) != NGX_HTTP_LLM_XLATE_OK) {
            return NGX_HTTP_LLM_XLATE_DECLINED;
        }

        c->stop = ngx_http_llm_xlate_cm_fast_stop(s.start, s.end);

        return c->stop ? NGX_HTTP_LLM_XLATE_OK : NGX_HTTP_LLM_XLATE_DECLINED;

    default: /* CA_USAGE */
        return ca_usage(c);
    }
}


/* "content": an array of text blocks, maybe empty */

static int
ca_content(ca_t *c)
{
    int  rc;

    rc = ca_open(c, '[', ']');

    if (rc != 1) {
        return rc == 0 ? NGX_HTTP_LLM_XLATE_OK : NGX_HTTP_LLM_XLATE_DECLINED;
    }

    do {
        if (ca_block(c) != NGX_HTTP_LLM_XLATE_OK) {
            return NGX_HTTP_LLM_XLATE_DECLINED;
        }

        rc = ca_next(c, ']');

    } while (rc == 1);

    return rc == 0 ? NGX_HTTP_LLM_XLATE_OK : NGX_HTTP_LLM_XLATE_DECLINED;
}


/*
 * A block {"type": "text", "text": a string, and members not read
 * (citations...)}; its text kept unless empty (cm_text() skips those).
 */

static int
ca_block(ca_t *c)
{
    int                   rc;
    size_t                n;
    ca_span_t             type, text;
    const unsigned char  *key;

    if (ca_open(c, '{', '}') != 1) {
        return NGX_HTTP_LLM_XLATE_DECLINED;
    }

    type.start = NULL;
    text.start = NULL;

    do {
        if (ca_key(c, &key, &n) != NGX_HTTP_LLM_XLATE_OK) {
            return NGX_HTTP_LLM_XLATE_DECLINED;
        }

        if (ca_is(key, n, "type")) {
            if (type.start || ca_string(c, &type) != NGX_HTTP_LLM_XLATE_OK) {
                return NGX_HTTP_LLM_XLATE_DECLINED;
            }

        } else if (ca_is(key, n, "text")) {
            if (text.start || ca_string(c, &text) != NGX_HTTP_LLM_XLATE_OK) {
                return NGX_HTTP_LLM_XLATE_DECLINED;
            }

        } else if (ca_value(c, CA_DEPTH) != NGX_HTTP_LLM_XLATE_OK) {
            return NGX_HTTP_LLM_XLATE_DECLINED;
        }

        rc = ca_next(c, '}');

    } while (rc == 1);

    /* tool_use, thinking, server tools' blocks: the general path's */

    if (rc != 0 || type.start == NULL || text.start == NULL
        || !ca_span_is(type, "\"text\""))
    {
        return NGX_HTTP_LLM_XLATE_DECLINED;
    }

    /* no escape decodes to nothing: "" is the only empty text */

    if (text.end - text.start == 2) {
        return NGX_HTTP_LLM_XLATE_OK;
    }

    if (c->ntexts == CA_TEXTS) {
        return NGX_HTTP_LLM_XLATE_DECLINED;
    }

    c->texts[c->ntexts++] = text;

    return NGX_HTTP_LLM_XLATE_OK;
}


/*
 * "usage": input_tokens and output_tokens, the cache's counts maybe
 * (or null), and members not read (service_tier, cache_creation...).
 */

static int
ca_usage(ca_t *c)
{
    int                   rc;
    size_t                n;
    int64_t              *v;
    unsigned              seen, bit;
    const unsigned char  *key;

    if (ca_open(c, '{', '}') != 1) {
        return NGX_HTTP_LLM_XLATE_DECLINED;
    }

    seen = 0;
    c->read = -1;
    c->write = -1;

    do {
        if (ca_key(c, &key, &n) != NGX_HTTP_LLM_XLATE_OK) {
            return NGX_HTTP_LLM_XLATE_DECLINED;
        }

        if (ca_is(key, n, "input_tokens")) {
            bit = CA_IN;
            v = &c->in;

        } else if (ca_is(key, n, "output_tokens")) {
            bit = CA_OUT;
            v = &c->out;

        } else if (ca_is(key, n, "cache_read_input_tokens")) {
            bit = CA_READ;
            v = &c->read;

        } else if (ca_is(key, n, "cache_creation_input_tokens")) {
            bit = CA_WRITE;
            v = &c->write;

        } else {
            bit = 0;
            v = NULL;
        }

        if (bit == 0) {
            rc = ca_value(c, CA_DEPTH);

        } else if (seen & bit) {
            rc = NGX_HTTP_LLM_XLATE_DECLINED;

        } else {
            seen |= bit;
            /* a cache count may be null: the general path reads 0 */
            rc = ca_count(c, v, bit & (CA_READ | CA_WRITE));
        }

        if (rc != NGX_HTTP_LLM_XLATE_OK) {
            return NGX_HTTP_LLM_XLATE_DECLINED;
        }

        rc = ca_next(c, '}');

    } while (rc == 1);

    if (rc != 0 || (seen & (CA_IN | CA_OUT)) != (CA_IN | CA_OUT)) {
        return NGX_HTTP_LLM_XLATE_DECLINED;
    }

    return NGX_HTTP_LLM_XLATE_OK;
}


/*
 * A known stop reason, the string start .. end spelled without escapes,
 * in chat's terms; or NULL (also for the stream's fast path).
 */

const char *
ngx_http_llm_xlate_cm_fast_stop(const unsigned char *start,
    const unsigned char *end)
{
    size_t        n, i;
    const char   *reason;

    n = end - start - 2;

    for (i = 0; ca_stops[i]; i++) {
        reason = ca_stops[i];

        if (strlen(reason) == n && memcmp(start + 1, reason, n) == 0) {
            return ngx_http_llm_xlate_stop(reason, NGX_HTTP_LLM_XLATE_CHAT);
        }
    }

    return NULL;
}


/* cm_write()'s bytes, its literals joined */

static int
ca_write(ca_t *c, const char *model, int64_t created,
    ngx_http_llm_xlate_buf_t *out)
{
    int       rc;
    size_t    len, i;
    int64_t   in, read;

    len = out->len;

    /* the answer is about the body's size: one buffer */
    rc = ngx_http_llm_xlate_buf_reserve(out, (c->rd.last - c->body) + 512);

    rc |= ca_lit(out, "{\"id\":");
    rc |= ngx_http_llm_xlate_buf_append(out, c->id.start,
                                        c->id.end - c->id.start);
    rc |= ca_lit(out, ",\"object\":\"chat.completion\",\"created\":");
    rc |= ngx_http_llm_xlate_print_num(out, (double) created);
    rc |= ca_lit(out, ",\"model\":");
    rc |= ngx_http_llm_xlate_print_str(out, model);
    rc |= ca_lit(out, ",\"choices\":[{\"index\":0,\"message\":"
                      "{\"role\":\"assistant\",\"content\":");

    if (c->ntexts == 0) {
        rc |= ca_lit(out, "null");

    } else {
        rc |= ca_lit(out, "\"");

        /* the texts as they came, within their quotes */
        for (i = 0; i < c->ntexts; i++) {
            rc |= ngx_http_llm_xlate_buf_append(out, c->texts[i].start + 1,
                      c->texts[i].end - c->texts[i].start - 2);
        }

        rc |= ca_lit(out, "\"");
    }

    rc |= ca_lit(out, "},\"logprobs\":null,\"finish_reason\":");
    rc |= ngx_http_llm_xlate_print_str(out, c->stop);
    rc |= ca_lit(out, "}],");

    /* OpenAI's prompt_tokens include the cache's reads and writes */

    read = c->read < 0 ? 0 : c->read;
    in = c->in + read + (c->write < 0 ? 0 : c->write);

    rc |= ca_lit(out, "\"usage\":{\"prompt_tokens\":");
    rc |= ngx_http_llm_xlate_print_num(out, (double) in);
    rc |= ca_lit(out, ",\"completion_tokens\":");
    rc |= ngx_http_llm_xlate_print_num(out, (double) c->out);
    rc |= ca_lit(out, ",\"total_tokens\":");
    rc |= ngx_http_llm_xlate_print_num(out, (double) (in + c->out));
    rc |= ca_lit(out, ",\"prompt_tokens_details\":{\"cached_tokens\":");
    rc |= ngx_http_llm_xlate_print_num(out, (double) read);
    rc |= ca_lit(out, "}}}");

    if (rc) {
        out->len = len;
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    return NGX_HTTP_LLM_XLATE_OK;
}


/*
 * A valid string with only escapes cJSON writes back the same: its bytes
 * are then what the JSON writer makes of cJSON's value.  s: its quotes.
 */

static int
ca_string(ca_t *c, ca_span_t *s)
{
    int  rc;

    rc = ngx_http_llm_xlate_read_string(&c->rd, 1, &s->start);

    if (rc == NGX_HTTP_LLM_XLATE_OK) {
        s->end = c->rd.p;
    }

    return rc;
}
