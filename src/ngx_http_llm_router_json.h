
/*
 * ngx_http_llm_router_module: single-pass JSON scanner for request bodies.
 *
 * Plain C99 with the standard library only, so that the same file builds
 * inside nginx and standalone (fuzz/, unit tests).
 */


#ifndef _NGX_HTTP_LLM_ROUTER_JSON_H_INCLUDED_
#define _NGX_HTTP_LLM_ROUTER_JSON_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


/*
 * Result codes of ngx_http_llm_json_scan().
 *
 * Precedence, highest first (exactly one code is returned):
 *
 *   MALFORMED, TOO_DEEP   syntax level, whichever is met first in document
 *                         order; nothing after that point is examined
 *   NOT_OBJECT            the whole text is valid JSON, top level is not {}
 *   MODEL_DUPLICATE       the remaining codes need a valid top-level object
 *   DUPLICATE_KEY
 *   MODEL_MISSING
 *   MODEL_NOT_STRING
 *   MODEL_EMPTY
 *   MODEL_CONTROL
 *
 * So a semantic code is only ever returned for a document that was
 * validated completely.
 */

#define NGX_HTTP_LLM_JSON_OK                 0
/* any RFC 8259 violation, including empty or whitespace-only input */
#define NGX_HTTP_LLM_JSON_MALFORMED          1
/* more than NGX_HTTP_LLM_JSON_MAX_DEPTH nested arrays/objects */
#define NGX_HTTP_LLM_JSON_TOO_DEEP           2
#define NGX_HTTP_LLM_JSON_NOT_OBJECT         3
/* two top-level keys decode to "model" */
#define NGX_HTTP_LLM_JSON_MODEL_DUPLICATE    4
/*
 * two top-level keys decode to the same one of "stream", "stream_options",
 * "max_tokens", "max_completion_tokens", or two keys of the first top-level
 * "stream_options" object decode to "include_usage"
 */
#define NGX_HTTP_LLM_JSON_DUPLICATE_KEY      5
#define NGX_HTTP_LLM_JSON_MODEL_MISSING      6
#define NGX_HTTP_LLM_JSON_MODEL_NOT_STRING   7
/* the decoded model name is "" */
#define NGX_HTTP_LLM_JSON_MODEL_EMPTY        8
/* the decoded model name has a byte < 0x20 or 0x7f */
#define NGX_HTTP_LLM_JSON_MODEL_CONTROL      9

#define NGX_HTTP_LLM_JSON_NCODES             10


/*
 * Nesting limit: the top-level object is level 1; 256 levels are accepted,
 * the 257th opening bracket yields TOO_DEEP.  Chat bodies nest 4-6 levels
 * (tool JSON schemas a few more); the limit bounds the scanner's
 * stack-allocated state to 256 bytes.
 */
#define NGX_HTTP_LLM_JSON_MAX_DEPTH          256


typedef struct {
    const unsigned char       *start;   /* first byte ('"' of a string) */
    const unsigned char       *end;     /* one past the last byte */
} ngx_http_llm_json_span_t;             /* start == NULL: member absent */


typedef struct {
    ngx_http_llm_json_span_t   object;          /* top-level '{' .. '}' */

    ngx_http_llm_json_span_t   model;           /* value span, any type */
    unsigned char             *model_name;      /* decoded, in name_buf */
    size_t                     model_len;

    ngx_http_llm_json_span_t   stream;
    int                        stream_true;     /* value is literally true */

    ngx_http_llm_json_span_t   stream_options;
    ngx_http_llm_json_span_t   include_usage;   /* in stream_options {} */
    int                        include_usage_true;

    ngx_http_llm_json_span_t   max_tokens;
    ngx_http_llm_json_span_t   max_completion_tokens;
    ngx_http_llm_json_span_t   max_output_tokens;   /* Responses API */
    ngx_http_llm_json_span_t   n;                   /* choices */
    ngx_http_llm_json_span_t   best_of;             /* legacy completions */
    /* -1: absent, or not a plain integer 0 .. INT64_MAX (e.g. -0, 1.0) */
    int64_t                    max_tokens_value;
    int64_t                    max_completion_tokens_value;
    int64_t                    max_output_tokens_value;
    int64_t                    n_value;
    int64_t                    best_of_value;

    /*
     * What the request needs, for routing by task (no effect on the
     * result code): the first top-level "messages", "input" or "prompt"
     * value; the text of the last message whose "role" is "user" in a
     * top-level "messages" or "input" array (its "content" string, or the
     * first "text" string of its content parts), else a top-level
     * "prompt" or "input" string; "tools" or "functions" being a
     * non-empty array; any "type" member equal to "image_url", "image" or
     * "input_image" below the top level.  Escaped keys and values are not
     * recognised here.
     */
    ngx_http_llm_json_span_t   input;
    ngx_http_llm_json_span_t   user_text;       /* a JSON string */
    int                        tools;
    int                        images;

    size_t                     error_offset;    /* see below */
} ngx_http_llm_json_doc_t;


/*
 * Validates buf[0 .. len) as strict RFC 8259 JSON in one pass, without
 * building a tree and without allocating, and reports the spans of the
 * top-level members above (the first occurrence of each; keys are compared
 * after unescaping).  Nothing in buf is modified.
 *
 * name_buf is scratch for the decoded model name; it must hold at least
 * len bytes (a decoded string is never longer than its JSON text).  On
 * OK, MODEL_EMPTY and MODEL_CONTROL, model_name/model_len point into it;
 * otherwise model_name is NULL.  With len 0, buf and name_buf may be NULL
 * (the result is MALFORMED).
 *
 * Not checked: UTF-8 validity of the bytes outside escapes (they are
 * forwarded untouched anyway); \u escapes are checked (surrogates must
 * pair) and decoded to UTF-8.  A leading UTF-8 BOM is rejected.
 *
 * error_offset:
 *   MALFORMED   offset of the first byte that cannot continue a valid
 *               document (len when the input ends early); for an invalid
 *               escape, the offset of its '\' (of the high surrogate's '\'
 *               when a surrogate pair is broken); for an invalid literal
 *               such as "nul" or "trux", the offset of its first letter
 *   TOO_DEEP    offset of the opening bracket past the limit
 *   NOT_OBJECT  offset of the top-level value
 *   MODEL_DUPLICATE, DUPLICATE_KEY
 *               offset of the '"' of the repeated key
 *   MODEL_MISSING
 *               offset of the top-level closing '}'
 *   MODEL_NOT_STRING, MODEL_EMPTY, MODEL_CONTROL
 *               offset of the model value
 *   OK          0
 *
 * On MALFORMED and TOO_DEEP the spans are unspecified; on the other codes
 * they are complete.
 */
int ngx_http_llm_json_scan(const unsigned char *buf, size_t len,
    unsigned char *name_buf, ngx_http_llm_json_doc_t *doc);

/* a static string per code, e.g. "malformed JSON" */
const char *ngx_http_llm_json_strerror(int rc);

/* strings and numbers, for the scanner (json_string.c) */
const unsigned char *ngx_http_llm_json_string(const unsigned char *p,
    const unsigned char *end, int *escaped, const unsigned char **err);
size_t ngx_http_llm_json_unescape(unsigned char *dst, size_t size,
    const unsigned char *p, const unsigned char *last);
/* a number's end, or NULL and *err its first bad byte */
const unsigned char *ngx_http_llm_json_number_end(const unsigned char *p,
    const unsigned char *end, const unsigned char **err);
/* a plain JSON integer 0 .. INT64_MAX, otherwise -1 */
int64_t ngx_http_llm_json_int_value(const unsigned char *p,
    const unsigned char *last);


#endif /* _NGX_HTTP_LLM_ROUTER_JSON_H_INCLUDED_ */
