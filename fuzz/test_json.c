/*
 * Deterministic tests of ngx_http_llm_json_scan():
 *
 *   test_json [CORPUS_DIR]   table-driven cases for every result code,
 *                            byte-exact spans and error offsets, SWAR
 *                            boundary sweeps, then the differential check
 *                            (json_diff.c) over the corpus and 200000
 *                            mutations of it (fixed seed)
 *   test_json --bench        MB/s of the scanner and of cJSON on 100 KB
 *                            chat bodies
 *
 * The last line is "N passed, N failed"; the exit code is non-zero on
 * failure.
 */

#define _POSIX_C_SOURCE  200809L

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "ngx_http_llm_router_json.h"
#include "json_ref.h"
#include "json_diff.h"


#define OK           NGX_HTTP_LLM_JSON_OK
#define MALFORMED    NGX_HTTP_LLM_JSON_MALFORMED
#define TOO_DEEP     NGX_HTTP_LLM_JSON_TOO_DEEP
#define NOT_OBJECT   NGX_HTTP_LLM_JSON_NOT_OBJECT
#define M_DUP        NGX_HTTP_LLM_JSON_MODEL_DUPLICATE
#define DUP_KEY      NGX_HTTP_LLM_JSON_DUPLICATE_KEY
#define M_MISSING    NGX_HTTP_LLM_JSON_MODEL_MISSING
#define M_NOT_STR    NGX_HTTP_LLM_JSON_MODEL_NOT_STRING
#define M_EMPTY      NGX_HTTP_LLM_JSON_MODEL_EMPTY
#define M_CONTROL    NGX_HTTP_LLM_JSON_MODEL_CONTROL

/* a string literal with its length, so that it may hold NUL bytes */
#define T(s)         (s), (sizeof(s) - 1)

#define MUTATIONS    200000
#define MAX_INPUT    (256 * 1024)


typedef struct {
    const char  *json;
    size_t       len;
    int          rc;
    size_t       off;       /* expected error_offset */
    const char  *model;     /* expected decoded name, checked if set */
    size_t       model_len;
    int          spans;     /* check the fields below */
    const char  *sm;        /* exact span texts, NULL: absent */
    const char  *ss;
    const char  *sso;
    const char  *siu;
    const char  *smt;
    const char  *smct;
    int          stream_true;
    int          iu_true;
    const char  *mtv;       /* expected max_tokens_value, NULL: -1 */
    const char  *mctv;
} case_t;


static unsigned long  passed, failed;
static json_diff_stats_t  stats;


static const case_t  cases[] = {

    /* OK and spans */

    { T("{\"model\":\"gpt-4o\"}"), OK, 0, T("gpt-4o"), 1,
      .sm = "\"gpt-4o\"" },
    { T(" \t\r\n{ \"model\" : \"m\" , \"stream\" :true }\n "), OK, 0,
      T("m"), 1, .sm = "\"m\"", .ss = "true", .stream_true = 1 },
    { T("{\"model\":\"m\",\"stream\":false}"), OK, 0, T("m"), 1,
      .sm = "\"m\"", .ss = "false" },
    { T("{\"model\":\"m\",\"stream\":\"true\"}"), OK, 0, T("m"), 1,
      .sm = "\"m\"", .ss = "\"true\"" },
    { T("{\"model\":\"m\",\"stream\":{\"a\":[1,2]}}"), OK, 0, T("m"), 1,
      .sm = "\"m\"", .ss = "{\"a\":[1,2]}" },
    { T("{\"model\":\"m\",\"stream\":true,\"stream_options\":"
        "{\"include_usage\":true,\"x\":[1,{\"include_usage\":false}]}}"),
      OK, 0, T("m"), 1, .sm = "\"m\"", .ss = "true",
      .sso = "{\"include_usage\":true,\"x\":[1,{\"include_usage\":false}]}",
      .siu = "true", .stream_true = 1, .iu_true = 1 },
    { T("{\"stream_options\" : { \"a\" : 1 , \"include_usage\" : false } ,"
        "\"model\":\"m\"}"),
      OK, 0, T("m"), 1, .sm = "\"m\"",
      .sso = "{ \"a\" : 1 , \"include_usage\" : false }", .siu = "false" },
    { T("{\"model\":\"m\",\"stream_options\":{\"include_usage\":[true]}}"),
      OK, 0, T("m"), 1, .sm = "\"m\"",
      .sso = "{\"include_usage\":[true]}", .siu = "[true]" },
    /* include_usage counts only directly in the top-level stream_options */
    { T("{\"model\":\"m\",\"stream_options\":[{\"include_usage\":true}]}"),
      OK, 0, T("m"), 1, .sm = "\"m\"",
      .sso = "[{\"include_usage\":true}]" },
    { T("{\"model\":\"m\",\"include_usage\":true}"), OK, 0, T("m"), 1,
      .sm = "\"m\"" },
    { T("{\"model\":\"m\",\"x\":{\"stream_options\":{\"include_usage\":1}}}"),
      OK, 0, T("m"), 1, .sm = "\"m\"" },
    { T("{\"model\":\"m\",\"stream_options\":{\"x\":{\"include_usage\":1,"
        "\"include_usage\":2}}}"), OK, 0, T("m"), 1, .sm = "\"m\"",
      .sso = "{\"x\":{\"include_usage\":1,\"include_usage\":2}}" },
    { T("{\"model\":\"m\",\"stream_options\":{\"incl\\u0075de_usage\":true}}"),
      OK, 0, T("m"), 1, .sm = "\"m\"",
      .sso = "{\"incl\\u0075de_usage\":true}", .siu = "true", .iu_true = 1 },
    /* only top-level keys count */
    { T("{\"messages\":[{\"model\":\"x\"}],\"model\":\"y\"}"), OK, 0,
      T("y"), 1, .sm = "\"y\"" },
    { T("{\"x\":{\"model\":\"a\",\"model\":\"a\"},\"model\":\"b\"}"), OK, 0,
      T("b"), 1, .sm = "\"b\"" },
    { T("{\"stream\":null,\"model\":\"m\",\"max_tokens\":5}"), OK, 0,
      T("m"), 1, .sm = "\"m\"", .ss = "null", .smt = "5", .mtv = "5" },

    /* keys are compared after unescaping */

    { T("{\"mod\\u0065l\":\"m\\u00e9\"}"), OK, 0, T("m\xc3\xa9"), 1,
      .sm = "\"m\\u00e9\"" },
    { T("{\"\\u006d\\u006F\\u0064\\u0065\\u006C\":\"x\"}"), OK, 0, T("x") },
    { T("{\"str\\u0065am\":true,\"model\":\"x\"}"), OK, 0, T("x"), 1,
      .sm = "\"x\"", .ss = "true", .stream_true = 1 },
    { T("{\"model\\/\":\"x\"}"), M_MISSING, 14 },
    { T("{\"Model\":\"x\"}"), M_MISSING, 12 },
    { T("{\"model \":\"x\"}"), M_MISSING, 13 },
    { T("{\"mode\":\"x\",\"modell\":\"y\"}"), M_MISSING, 24 },
    { T("{\"max_completion_tokens\\u0000\":1,\"model\":\"x\"}"), OK, 0,
      T("x") },

    /* string decoding */

    { T("{\"model\":\"a\\/b\\\\c\\\"d\"}"), OK, 0, T("a/b\\c\"d") },
    { T("{\"model\":\"\\u0041\\u00e9\\u07ff\\u0800\\u4e2d\\uffff\"}"), OK, 0,
      T("A\xc3\xa9\xdf\xbf\xe0\xa0\x80\xe4\xb8\xad\xef\xbf\xbf") },
    { T("{\"model\":\"\\ud83d\\ude00x\"}"), OK, 0, T("\xf0\x9f\x98\x80x") },
    { T("{\"model\":\"\\uD83D\\uDE00\"}"), OK, 0, T("\xf0\x9f\x98\x80") },
    { T("{\"model\":\"\\ud800\\udc00\\udbff\\udfff\"}"), OK, 0,
      T("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf") },
    { T("{\"model\":\"\\u0020\"}"), OK, 0, T(" ") },
    /* UTF-8 is not validated; raw bytes pass through */
    { T("{\"model\":\"\xe6\xa8\xa1\xe5\x9e\x8b\"}"), OK, 0,
      T("\xe6\xa8\xa1\xe5\x9e\x8b") },
    { T("{\"model\":\"\xff\xfe\xc0\x80\"}"), OK, 0, T("\xff\xfe\xc0\x80") },
    { T("{\"model\":\"\xed\xa0\x80\"}"), OK, 0, T("\xed\xa0\x80") },

    /* numbers: values and spans, big integers left as they are */

    { T("{\"model\":\"m\",\"max_tokens\":9007199254740993}"), OK, 0, T("m"),
      1, .sm = "\"m\"", .smt = "9007199254740993",
      .mtv = "9007199254740993" },
    { T("{\"model\":\"m\",\"max_tokens\":9223372036854775807,"
        "\"max_completion_tokens\":0}"), OK, 0, T("m"), 1, .sm = "\"m\"",
      .smt = "9223372036854775807", .mtv = "9223372036854775807",
      .smct = "0", .mctv = "0" },
    { T("{\"model\":\"m\",\"max_tokens\":9223372036854775808}"), OK, 0,
      T("m"), 1, .sm = "\"m\"", .smt = "9223372036854775808" },
    { T("{\"model\":\"m\",\"max_tokens\":99999999999999999999999}"), OK, 0,
      T("m"), 1, .sm = "\"m\"", .smt = "99999999999999999999999" },
    { T("{\"model\":\"m\",\"max_tokens\":-0}"), OK, 0, T("m"), 1,
      .sm = "\"m\"", .smt = "-0" },
    { T("{\"model\":\"m\",\"max_tokens\":-1}"), OK, 0, T("m"), 1,
      .sm = "\"m\"", .smt = "-1" },
    { T("{\"model\":\"m\",\"max_tokens\":1.0}"), OK, 0, T("m"), 1,
      .sm = "\"m\"", .smt = "1.0" },
    { T("{\"model\":\"m\",\"max_tokens\":1e3}"), OK, 0, T("m"), 1,
      .sm = "\"m\"", .smt = "1e3" },
    { T("{\"model\":\"m\",\"max_tokens\":\"5\"}"), OK, 0, T("m"), 1,
      .sm = "\"m\"", .smt = "\"5\"" },
    { T("{\"max_completion_tokens\":4096 ,\"model\":\"m\"}"), OK, 0, T("m"),
      1, .sm = "\"m\"", .smct = "4096", .mctv = "4096" },
    { T("{\"model\":\"m\",\"n\":[0,-0,0.5,-1.5e+10,1E-2,2e0,123456789012345678"
        "9012345678901234567890123456789012345678901234567890123456789]}"),
      OK, 0, T("m") },

    /* model problems: error_offset is the value */

    { T("{\"model\":\"\"}"), M_EMPTY, 9, T(""), 1, .sm = "\"\"" },
    { T("{\"model\":42}"), M_NOT_STR, 9, .spans = 1, .sm = "42" },
    { T("{\"model\":null}"), M_NOT_STR, 9 },
    { T("{\"model\":[\"a\"]}"), M_NOT_STR, 9, .spans = 1, .sm = "[\"a\"]" },
    { T("{\"model\":{\"name\":\"a\"}}"), M_NOT_STR, 9 },
    { T("{\"model\":true}"), M_NOT_STR, 9 },
    { T("{\"model\":\"a\\nb\"}"), M_CONTROL, 9, T("a\nb") },
    { T("{\"model\":\"a\\u0000b\"}"), M_CONTROL, 9, T("a\0b") },
    { T("{\"model\":\"\\u001f\"}"), M_CONTROL, 9, T("\x1f") },
    { T("{\"model\":\"\\u007f\"}"), M_CONTROL, 9, T("\x7f") },
    { T("{\"model\":\"a\x7f\"}"), M_CONTROL, 9, T("a\x7f") },
    { T("{\"model\":\"\\t\"}"), M_CONTROL, 9, T("\t") },
    { T("{}"), M_MISSING, 1 },
    { T(" { } "), M_MISSING, 3 },
    { T("{\"messages\":[]}"), M_MISSING, 14 },

    /* duplicates: error_offset is the repeated key */

    { T("{\"model\":\"a\",\"model\":\"b\"}"), M_DUP, 13 },
    { T("{\"model\":\"a\",\"model\":\"a\"}"), M_DUP, 13 },
    { T("{\"model\":\"a\",\"mod\\u0065l\":\"a\"}"), M_DUP, 13 },
    { T("{\"model\":1,\"model\":\"a\"}"), M_DUP, 11 },
    { T("{\"stream\":true,\"stream\":false,\"model\":\"a\"}"), DUP_KEY, 15 },
    { T("{\"model\":\"a\",\"max_tokens\":1,\"max_tokens\":1}"), DUP_KEY, 28 },
    { T("{\"model\":\"a\",\"max_completion_tokens\":1,"
        "\"max_completion_\\u0074okens\":2}"), DUP_KEY, 39 },
    { T("{\"model\":\"a\",\"stream_options\":{},\"stream_options\":"
        "{\"include_usage\":true}}"), DUP_KEY, 33, .spans = 1,
      .sm = "\"a\"", .sso = "{}" },
    { T("{\"model\":\"a\",\"stream_options\":{\"include_usage\":true,"
        "\"include_usage\":false}}"), DUP_KEY, 52 },
    /* precedence: MODEL_DUPLICATE > DUPLICATE_KEY > MODEL_MISSING */
    { T("{\"stream\":1,\"stream\":2,\"model\":\"a\",\"model\":\"b\"}"), M_DUP,
      35 },
    { T("{\"stream\":1,\"stream\":2}"), DUP_KEY, 12 },
    { T("{\"model\":\"a\",\"model\":5,\"x\":}"), MALFORMED, 27 },

    /* top level not an object */

    { T("[]"), NOT_OBJECT, 0 },
    { T("  [{\"model\":\"m\"}]"), NOT_OBJECT, 2 },
    { T("\"model\""), NOT_OBJECT, 0 },
    { T(" 42 "), NOT_OBJECT, 1 },
    { T("null"), NOT_OBJECT, 0 },
    { T("true"), NOT_OBJECT, 0 },
    { T("-0.5e1"), NOT_OBJECT, 0 },
    { T("[1,]"), MALFORMED, 3 },
    { T("[1] 2"), MALFORMED, 4 },

    /* malformed: empty input, structure */

    { T(""), MALFORMED, 0 },
    { T("   \n"), MALFORMED, 4 },
    { T("{"), MALFORMED, 1 },
    { T("{\"model\":\"m\""), MALFORMED, 12 },
    { T("{\"model\":\"m\",}"), MALFORMED, 13 },
    { T("{\"model\" \"m\"}"), MALFORMED, 9 },
    { T("{\"model\":}"), MALFORMED, 9 },
    { T("{\"model\":"), MALFORMED, 9 },
    { T("{model:\"m\"}"), MALFORMED, 1 },
    { T("{'model':'m'}"), MALFORMED, 1 },
    { T("{\"model\":\"m\"} x"), MALFORMED, 14 },
    { T("{\"model\":\"m\"}}"), MALFORMED, 13 },
    { T("{\"model\":\"m\"}{}"), MALFORMED, 13 },
    { T("{\"model\":\"m\"/*c*/}"), MALFORMED, 12 },
    { T("{\"model\":\"m\",\"a\":[1,]}"), MALFORMED, 20 },
    { T("{\"model\":\"m\",,}"), MALFORMED, 13 },
    { T("{\"a\":1 \"b\":2}"), MALFORMED, 7 },
    { T("{1:2}"), MALFORMED, 1 },
    { T("{\"a\"}"), MALFORMED, 4 },
    { T("{\"a\":1:}"), MALFORMED, 6 },
    { T("{]"), MALFORMED, 1 },
    { T("[}"), MALFORMED, 1 },
    { T("]"), MALFORMED, 0 },
    { T("{\"a\":[}"), MALFORMED, 6 },
    { T("{\"a\":{]}"), MALFORMED, 6 },
    { T("{\"a\":[1}"), MALFORMED, 7 },

    /* malformed: whitespace RFC 8259 does not allow */

    { T("\xef\xbb\xbf{\"model\":\"m\"}"), MALFORMED, 0 },
    { T("{\v\"model\":\"m\"}"), MALFORMED, 1 },
    { T("{\f\"model\":\"m\"}"), MALFORMED, 1 },
    { T("{\"model\":\"m\"}\0"), MALFORMED, 13 },
    { T("{\"model\":\xc2\xa0\"m\"}"), MALFORMED, 9 },

    /* malformed: numbers */

    { T("{\"a\":01}"), MALFORMED, 6 },
    { T("{\"a\":-01}"), MALFORMED, 7 },
    { T("{\"a\":00}"), MALFORMED, 6 },
    { T("{\"a\":1.}"), MALFORMED, 7 },
    { T("{\"a\":1.e5}"), MALFORMED, 7 },
    { T("{\"a\":.5}"), MALFORMED, 5 },
    { T("{\"a\":-.5}"), MALFORMED, 6 },
    { T("{\"a\":+1}"), MALFORMED, 5 },
    { T("{\"a\":-}"), MALFORMED, 6 },
    { T("{\"a\":--1}"), MALFORMED, 6 },
    { T("{\"a\":1e}"), MALFORMED, 7 },
    { T("{\"a\":1E+}"), MALFORMED, 8 },
    { T("{\"a\":1e+-1}"), MALFORMED, 8 },
    { T("{\"a\":0x1}"), MALFORMED, 6 },
    { T("{\"a\":1 2}"), MALFORMED, 7 },
    { T("{\"a\":Infinity}"), MALFORMED, 5 },
    { T("{\"a\":NaN}"), MALFORMED, 5 },
    { T("-"), MALFORMED, 1 },
    { T("1."), MALFORMED, 2 },

    /* malformed: literals, error_offset is the first letter */

    { T("{\"a\":tru}"), MALFORMED, 5 },
    { T("{\"a\":trUe}"), MALFORMED, 5 },
    { T("{\"a\":True}"), MALFORMED, 5 },
    { T("{\"a\":nul}"), MALFORMED, 5 },
    { T("{\"a\":nulll}"), MALFORMED, 9 },
    { T("{\"a\":falsey}"), MALFORMED, 10 },
    { T("{\"a\":f"), MALFORMED, 5 },

    /* malformed: strings */

    { T("{\"model\":\"a\x01" "b\"}"), MALFORMED, 11 },
    { T("{\"model\":\"a\nb\"}"), MALFORMED, 11 },
    { T("{\"model\":\"a\tb\"}"), MALFORMED, 11 },
    { T("{\"model\":\"a\0b\"}"), MALFORMED, 11 },
    { T("{\"mo\x1f" "del\":\"a\"}"), MALFORMED, 4 },
    { T("{\"model\":\"abc"), MALFORMED, 13 },
    { T("{\"model\":\"abc\\"), MALFORMED, 13 },
    { T("{\"model\":\"abc\\\""), MALFORMED, 15 },
    { T("{\"model\":\"a\\xb\"}"), MALFORMED, 11 },
    { T("{\"model\":\"a\\'b\"}"), MALFORMED, 11 },
    { T("{\"model\":\"a\\U0041\"}"), MALFORMED, 11 },
    { T("{\"model\":\"a\\u12G4\"}"), MALFORMED, 11 },
    { T("{\"model\":\"a\\u123\"}"), MALFORMED, 11 },
    { T("{\"model\":\"a\\u12"), MALFORMED, 11 },
    { T("{\"model\":\"a\\u\"}"), MALFORMED, 11 },
    /* surrogates: error_offset is the '\' of the high surrogate */
    { T("{\"model\":\"a\\ud800\"}"), MALFORMED, 11 },
    { T("{\"model\":\"a\\ud800x\"}"), MALFORMED, 11 },
    { T("{\"model\":\"a\\ud800\\ud800\"}"), MALFORMED, 11 },
    { T("{\"model\":\"a\\ud800\\n\"}"), MALFORMED, 11 },
    { T("{\"model\":\"a\\ud800\\u0041\"}"), MALFORMED, 11 },
    { T("{\"model\":\"a\\ud800\\uzzzz\"}"), MALFORMED, 11 },
    { T("{\"model\":\"a\\ud800\\udc0"), MALFORMED, 11 },
    { T("{\"model\":\"a\\ud800"), MALFORMED, 11 },
    { T("{\"model\":\"a\\udc00\"}"), MALFORMED, 11 },
    { T("{\"model\":\"a\\uDFFF\\uD800\"}"), MALFORMED, 11 },
    { T("{\"model\":\"\\ud83d\\ude00\\ud83d\"}"), MALFORMED, 22 },
    { T("{\"x\":\"\\udbff\\ue000\"}"), MALFORMED, 6 },
};


static void
check(int ok, const char *what, const char *detail)
{
    if (ok) {
        passed++;
        return;
    }

    failed++;
    printf("FAIL %s: %s\n", what, detail);
}


static int
span_is(const ngx_http_llm_json_span_t *span, const char *want)
{
    if (want == NULL) {
        return span->start == NULL && span->end == NULL;
    }

    return span->start != NULL
           && (size_t) (span->end - span->start) == strlen(want)
           && memcmp(span->start, want, strlen(want)) == 0;
}


static void
run_case(const case_t *c)
{
    int                       rc, ok;
    char                      what[96], detail[600];
    int64_t                   mtv, mctv;
    unsigned char            *buf, *save, *name;
    ngx_http_llm_json_doc_t   doc;

    /* exact-size copies: the sanitizers catch any read past the input */
    buf = malloc(c->len ? c->len : 1);
    save = malloc(c->len ? c->len : 1);
    name = malloc(c->len ? c->len : 1);
    memcpy(buf, c->json, c->len);
    memcpy(save, c->json, c->len);

    rc = ngx_http_llm_json_scan(buf, c->len, name, &doc);

    snprintf(what, sizeof(what), "case %.60s", c->json);

    snprintf(detail, sizeof(detail), "rc %s (%d) at %zu, want %s at %zu",
             ngx_http_llm_json_strerror(rc), rc, doc.error_offset,
             ngx_http_llm_json_strerror(c->rc), c->off);
    check(rc == c->rc && doc.error_offset == c->off, what, detail);

    check(memcmp(buf, save, c->len) == 0, what, "input modified");

    if (c->model != NULL) {
        snprintf(detail, sizeof(detail), "model \"%.*s\" (%zu), want %zu",
                 (int) doc.model_len,
                 doc.model_name ? (char *) doc.model_name : "", doc.model_len,
                 c->model_len);
        check(doc.model_name != NULL && doc.model_len == c->model_len
              && memcmp(doc.model_name, c->model, c->model_len) == 0,
              what, detail);
    }

    if (c->spans || c->sm != NULL) {
        mtv = c->mtv ? strtoll(c->mtv, NULL, 10) : -1;
        mctv = c->mctv ? strtoll(c->mctv, NULL, 10) : -1;

        ok = span_is(&doc.model, c->sm)
             && span_is(&doc.stream, c->ss)
             && span_is(&doc.stream_options, c->sso)
             && span_is(&doc.include_usage, c->siu)
             && span_is(&doc.max_tokens, c->smt)
             && span_is(&doc.max_completion_tokens, c->smct)
             && doc.stream_true == c->stream_true
             && doc.include_usage_true == c->iu_true
             && doc.max_tokens_value == mtv
             && doc.max_completion_tokens_value == mctv;

        snprintf(detail, sizeof(detail),
                 "spans/values differ: stream_true %d iu_true %d "
                 "max_tokens %lld max_completion_tokens %lld",
                 doc.stream_true, doc.include_usage_true,
                 (long long) doc.max_tokens_value,
                 (long long) doc.max_completion_tokens_value);
        check(ok, what, detail);
    }

    /* the references must agree with the hand-written expectation too */

    check(json_diff_check(buf, c->len, &stats, detail, sizeof(detail)) == 0,
          what, detail);

    free(buf);
    free(save);
    free(name);
}


static void
run_diff(const unsigned char *data, size_t n, const char *what)
{
    char            detail[600];
    unsigned char  *buf;

    buf = malloc(n ? n : 1);
    memcpy(buf, data, n);

    if (json_diff_check(buf, n, &stats, detail, sizeof(detail)) == 0) {
        passed++;

    } else {
        failed++;
        printf("FAIL %s: %s\n  input (%zu bytes): %.*s\n", what, detail, n,
               (int) (n > 300 ? 300 : n), (const char *) buf);
    }

    free(buf);
}


/* expected code and offset of a generated document */
static void
expect(const char *what, const unsigned char *data, size_t n, int want_rc,
    size_t want_off)
{
    int                       rc;
    char                      detail[200];
    unsigned char            *buf, *name;
    ngx_http_llm_json_doc_t   doc;

    buf = malloc(n);
    name = malloc(n);
    memcpy(buf, data, n);

    rc = ngx_http_llm_json_scan(buf, n, name, &doc);

    snprintf(detail, sizeof(detail), "rc %d at %zu, want %d at %zu", rc,
             doc.error_offset, want_rc, want_off);
    check(rc == want_rc && doc.error_offset == want_off, what, detail);

    free(buf);
    free(name);

    run_diff(data, n, what);
}


static void
test_depth(void)
{
    size_t                n, i, d, head;
    static unsigned char  b[4096];

    /* the top-level object is level 1: 255 more levels are fine */

    for (d = 254; d <= 258; d++) {
        head = (size_t) sprintf((char *) b, "{\"model\":\"m\",\"a\":");
        n = head;

        for (i = 0; i < d; i++) {
            b[n++] = (i & 1) ? '{' : '[';
            if (i & 1) {
                memcpy(b + n, "\"k\":", 4);
                n += 4;
            }
        }

        b[n++] = '0';

        for (i = d; i-- > 0; ) {
            b[n++] = (i & 1) ? '}' : ']';
        }

        b[n++] = '}';

        if (d + 1 <= NGX_HTTP_LLM_JSON_MAX_DEPTH) {
            expect("depth within the limit", b, n, OK, 0);

        } else {
            /* offset of the 257th bracket */
            expect("depth over the limit", b, n, TOO_DEEP,
                   head + 255 + 4 * 127);
        }
    }

    /* arrays only: 256 levels are valid JSON, just not an object */

    for (d = 255; d <= 257; d++) {
        memset(b, '[', d);
        memset(b + d, ']', d);

        expect("nested arrays", b, 2 * d,
               d <= NGX_HTTP_LLM_JSON_MAX_DEPTH ? NOT_OBJECT : TOO_DEEP,
               d <= NGX_HTTP_LLM_JSON_MAX_DEPTH ? 0 : 256);
    }

    /* TOO_DEEP is met first: what follows is not looked at */
    memset(b, '[', 300);
    memcpy(b + 300, "garbage", 7);
    expect("too deep, then garbage", b, 307, TOO_DEEP, 256);

    /* a syntax error before the limit wins */
    memcpy(b, "{\"a\":x,", 7);
    memset(b + 7, '[', 300);
    expect("garbage, then too deep", b, 307, MALFORMED, 5);

    /* deeper than cJSON's 1000: cJSON rejects too */
    memset(b, '[', 1200);
    memset(b + 1200, ']', 1200);
    expect("deeper than cJSON's limit", b, 2400, TOO_DEEP, 256);
}


/*
 * Every byte value at every position of a string of 24 bytes, alone and
 * followed by the bytes next to the thresholds of the SWAR masks and of
 * the SIMD tests, and of one of 80 bytes, alone: the word, vector and
 * 64-byte loops and the byte tail must all stop at exactly the first
 * special byte.
 */
static void
test_swar(void)
{
    size_t          n, k, j, l, head, len;
    unsigned int    b;
    unsigned char   doc[128];
    static const size_t         lens[] = { 24, 80 };
    static const unsigned char  next[] = {
        'a', 0x00, 0x01, 0x02, 0x1f, 0x20, 0x21, '"', 0x23, '\\', 0x5d,
        0x5e, 0x7f, 0x80, 0xa2, 0xdc, 0xfd, 0xff
    };

    head = (size_t) sprintf((char *) doc, "{\"model\":\"");

    for (l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
        len = lens[l];

        for (k = 0; k < len; k++) {
            for (b = 0; b < 256; b++) {
                for (j = 0; j < sizeof(next); j++) {
                    if ((k == len - 1 || len > 24) && j > 0) {
                        break;
                    }

                    n = head;
                    memset(doc + n, 'a', len);
                    doc[n + k] = (unsigned char) b;

                    if (k < len - 1) {
                        doc[n + k + 1] = next[j];
                    }

                    n += len;
                    memcpy(doc + n, "\"}", 2);
                    n += 2;

                    run_diff(doc, n, "swar sweep");
                }
            }
        }
    }
}


/* a big body: long contents before and after the members */
static void
test_big(void)
{
    int                       rc;
    size_t                    n, i, len;
    unsigned char            *b, *name;
    ngx_http_llm_json_doc_t   doc;
    static const char         tail[] =
        "\"}],\"max_tokens\":9007199254740993,\"model\":\"big-\\u00e9\","
        "\"stream\":true}";

    len = 3 * 1024 * 1024;
    b = malloc(len + 256);
    name = malloc(len + 256);

    n = (size_t) sprintf((char *) b,
                         "{\"messages\":[{\"role\":\"user\",\"content\":\"");

    for (i = 0; n < len; i++) {
        if (i % 97 == 0) {
            memcpy(b + n, "\\n", 2);
            n += 2;

        } else if (i % 211 == 0) {
            memcpy(b + n, "\\ud83d\\ude00", 12);
            n += 12;

        } else {
            b[n++] = (unsigned char) ('a' + i % 26);
        }
    }

    memcpy(b + n, tail, sizeof(tail) - 1);
    n += sizeof(tail) - 1;

    rc = ngx_http_llm_json_scan(b, n, name, &doc);

    check(rc == OK && doc.model_len == 6
          && memcmp(doc.model_name, "big-\xc3\xa9", 6) == 0
          && doc.stream_true && doc.max_tokens_value == 9007199254740993LL
          && doc.object.start == b && doc.object.end == b + n,
          "3 MB body", "wrong result");

    run_diff(b, n, "3 MB body");

    free(b);
    free(name);
}


static uint64_t  rng_state = 0x9e3779b97f4a7c15ULL;


static uint64_t
rng(void)
{
    /* xorshift64*, fixed seed: the same mutations on every run */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;

    return rng_state * 0x2545f4914f6cdd1dULL;
}


typedef struct {
    unsigned char  *data;
    size_t          len;
    char            name[256];
} seed_t;


static const char  *tokens[] = {
    "\"", "\\", "\\u", "\\ud83d", "\\ude00", "\\udc00", "\\ud800\\udc00",
    "\\u0000", "\\u00e9", "\\n", "{", "}", "[", "]", ",", ":", "0", "-", ".",
    "e", "E+", "1e-7", "true", "false", "null", " ", "\t", "\r\n",
    "\x00", "\x01", "\x1f", "\x7f", "\xff", "\xef\xbb\xbf", "\"model\":",
    "\"mod\\u0065l\":", "\"stream\":true,", "\"stream_options\":{",
    "\"include_usage\":", "\"max_tokens\":", "9223372036854775808",
    "00000000000000000000000000000000000000000000000000000000000000001",
    "[[[[[[[[[[[[[[[[", "]]]]]]]]]]]]]]]]", "\"\"", "01", ".5", "1.", "+1"
};


static size_t
mutate(unsigned char *b, size_t n, size_t cap, const seed_t *seeds,
    size_t nseeds)
{
    size_t       i, k, m, at;
    const char  *t;
    unsigned     r;

    r = (unsigned) (rng() % 8);
    at = n ? (size_t) (rng() % n) : 0;

    switch (r) {

    case 0:  /* flip a bit */
        if (n) {
            b[at] ^= (unsigned char) (1u << (rng() % 8));
        }
        break;

    case 1:  /* overwrite a byte with a structural one */
        if (n) {
            b[at] = (unsigned char)
                    "\"\\{}[],: 0-.eu\x00\x1f\x7f\x80"[rng() % 19];
        }
        break;

    case 2:  /* delete a range */
        k = 1 + (size_t) (rng() % 16);
        if (at + k > n) {
            k = n - at;
        }
        memmove(b + at, b + at + k, n - at - k);
        n -= k;
        break;

    case 3:  /* insert a token */
    case 4:
        i = (size_t) (rng() % (sizeof(tokens) / sizeof(tokens[0])));
        t = tokens[i];
        k = (t[0] == '\0') ? 1 : strlen(t);
        if (n + k <= cap) {
            memmove(b + at + k, b + at, n - at);
            memcpy(b + at, t, k);
            n += k;
        }
        break;

    case 5:  /* duplicate a range */
        k = 1 + (size_t) (rng() % 64);
        if (at + k > n) {
            k = n - at;
        }
        if (n + k <= cap) {
            memmove(b + at + k, b + at, n - at);
            n += k;
        }
        break;

    case 6:  /* truncate */
        n = at;
        break;

    default:  /* splice in a piece of another seed */
        i = (size_t) (rng() % nseeds);
        if (seeds[i].len == 0) {
            break;
        }
        m = (size_t) (rng() % seeds[i].len);
        k = 1 + (size_t) (rng() % (seeds[i].len - m));
        if (n + k <= cap) {
            memmove(b + at + k, b + at, n - at);
            memcpy(b + at, seeds[i].data + m, k);
            n += k;
        }
        break;
    }

    return n;
}


static size_t
load_corpus(const char *dir, seed_t **out)
{
    DIR            *d;
    FILE           *f;
    char            path[2048];
    size_t          n, cap;
    seed_t         *seeds;
    struct dirent  *e;

    seeds = NULL;
    n = 0;
    cap = 0;

    d = opendir(dir);
    if (d == NULL) {
        printf("cannot open corpus directory %s\n", dir);
        return 0;
    }

    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }

        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);

        f = fopen(path, "rb");
        if (f == NULL) {
            continue;
        }

        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            seeds = realloc(seeds, cap * sizeof(seed_t));
        }

        seeds[n].data = malloc(MAX_INPUT);
        seeds[n].len = fread(seeds[n].data, 1, MAX_INPUT, f);
        snprintf(seeds[n].name, sizeof(seeds[n].name), "%.200s", e->d_name);
        fclose(f);
        n++;
    }

    closedir(d);

    /* readdir() order varies: sort for a reproducible mutation stream */
    {
        size_t  i, j;
        seed_t  t;

        for (i = 1; i < n; i++) {
            for (j = i; j > 0 && strcmp(seeds[j - 1].name, seeds[j].name) > 0;
                 j--)
            {
                t = seeds[j];
                seeds[j] = seeds[j - 1];
                seeds[j - 1] = t;
            }
        }
    }

    *out = seeds;

    return n;
}


static void
test_corpus(const char *dir)
{
    char            what[128];
    size_t          nseeds, i, n, k, rounds;
    seed_t         *seeds;
    unsigned char  *b;

    nseeds = load_corpus(dir, &seeds);
    check(nseeds > 0, "corpus", "no seed files");
    if (nseeds == 0) {
        return;
    }

    for (i = 0; i < nseeds; i++) {
        snprintf(what, sizeof(what), "seed %.64s", seeds[i].name);
        run_diff(seeds[i].data, seeds[i].len, what);
    }

    b = malloc(MAX_INPUT);

    for (i = 0; i < MUTATIONS; i++) {
        k = (size_t) (rng() % nseeds);
        n = seeds[k].len;
        memcpy(b, seeds[k].data, n);

        for (rounds = 1 + (size_t) (rng() % 4); rounds > 0; rounds--) {
            n = mutate(b, n, MAX_INPUT, seeds, nseeds);
        }

        snprintf(what, sizeof(what), "mutation %zu of %.64s", i,
                 seeds[k].name);
        run_diff(b, n, what);
    }

    free(b);

    for (i = 0; i < nseeds; i++) {
        free(seeds[i].data);
    }

    free(seeds);
}


static double
now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}


/*
 * A ~100 KB chat body: a messages array whose contents are long strings.
 * escape_every: one "\n" or "\"" per that many bytes of content (0: none).
 */
static size_t
make_chat(unsigned char *b, size_t size, unsigned escape_every)
{
    size_t        n, i, msg;
    static const char  words[] =
        "the quick brown fox jumps over the lazy dog while the gateway "
        "routes chat completions to the upstream provider, caf\xc3\xa9 ";

    n = (size_t) sprintf((char *) b,
                         "{\"model\":\"gpt-4o-mini\",\"stream\":true,"
                         "\"stream_options\":{\"include_usage\":true},"
                         "\"max_tokens\":1024,\"temperature\":0.7,"
                         "\"messages\":[");

    for (msg = 0; n < size - 6000; msg++) {
        n += (size_t) sprintf((char *) b + n,
                              "%s{\"role\":\"%s\",\"content\":\"",
                              msg ? "," : "", msg & 1 ? "assistant" : "user");

        for (i = 0; i < 4000; i++) {
            if (escape_every && i % escape_every == escape_every - 1) {
                memcpy(b + n, i & 1 ? "\\n" : "\\\"", 2);
                n += 2;

            } else {
                b[n++] = (unsigned char) words[i % (sizeof(words) - 1)];
            }
        }

        memcpy(b + n, "\"}", 2);
        n += 2;
    }

    memcpy(b + n, "]}", 2);

    return n + 2;
}


/* the best of 5 rounds of >= 0.2 s each: the machine may be shared */
static double
bench_rate(const unsigned char *b, size_t n, int use_cjson,
    unsigned char *name, int *err)
{
    int                       round;
    long                      iters, i;
    double                    t0, t, best, rate;
    cJSON                    *cj;
    ngx_http_llm_json_doc_t   doc;

    best = 0;

    for (round = 0; round < 5; round++) {
        iters = 0;
        t0 = now();

        do {
            for (i = 0; i < 100; i++) {
                if (use_cjson) {
                    cj = cJSON_ParseWithLength((const char *) b, n);
                    *err |= (cj == NULL);
                    cJSON_Delete(cj);

                } else {
                    *err |= ngx_http_llm_json_scan(b, n, name, &doc);
                }
            }

            iters += 100;
            t = now() - t0;
        } while (t < 0.2);

        rate = (double) n * (double) iters / t / 1e6;
        if (rate > best) {
            best = rate;
        }
    }

    return best;
}


static void
bench_one(const char *what, const unsigned char *b, size_t n)
{
    int             err;
    double          scan_mbs, cjson_mbs;
    unsigned char  *name;

    name = malloc(n);
    err = 0;

    scan_mbs = bench_rate(b, n, 0, name, &err);
    cjson_mbs = bench_rate(b, n, 1, name, &err);

    printf("%-36s %6zu bytes  scanner %5.0f MB/s  cJSON %4.0f MB/s"
           "  x%.1f%s\n", what, n, scan_mbs, cjson_mbs,
           scan_mbs / cjson_mbs, err ? "  ERROR" : "");

    free(name);

    if (err) {
        exit(1);
    }
}


static int
bench(void)
{
    size_t          n;
    unsigned char  *b;

    b = malloc(200 * 1024);

    n = make_chat(b, 100 * 1024, 0);
    bench_one("chat body, contents without escapes", b, n);

    n = make_chat(b, 100 * 1024, 200);
    bench_one("chat body, an escape per 200 bytes", b, n);

    n = make_chat(b, 100 * 1024, 40);
    bench_one("chat body, an escape per 40 bytes", b, n);

    free(b);

    return 0;
}


int
main(int argc, char **argv)
{
    size_t  i;

    if (argc > 1 && strcmp(argv[1], "--bench") == 0) {
        return bench();
    }

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        run_case(&cases[i]);
    }

    printf("table: %zu cases\n", sizeof(cases) / sizeof(cases[0]));

    {
        ngx_http_llm_json_doc_t  doc;

        /* nginx may hand over an empty body as a NULL pointer */
        check(ngx_http_llm_json_scan(NULL, 0, NULL, &doc) == MALFORMED
              && doc.error_offset == 0 && doc.model.start == NULL,
              "NULL body", "not MALFORMED at 0");
    }

    test_depth();
    test_swar();
    test_big();
    test_corpus(argc > 1 ? argv[1] : "corpus");

    json_diff_print_stats(&stats);

    printf("%lu passed, %lu failed\n", passed, failed);

    return failed ? 1 : 0;
}
