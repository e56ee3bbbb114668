/*
 * Differential check of ngx_http_llm_json_scan() against a strict
 * reference and against cJSON.  See json_diff.h and README.md.
 *
 * The argument that every tolerated difference is documented:
 *   1. the scanner must agree exactly (code and error offset) with
 *      ref_parse(flags 0, depth 256), the strict reference;
 *   2. cJSON must agree (accept/reject) with ref_parse(REF_CJSON_ALL,
 *      depth 1000), the reference with cJSON's documented laxities on;
 *   both are checked on every input, so scanner and cJSON can only differ
 *   where those flags and the depth limit make the two references differ.
 *   Whenever both accept, the tree cJSON built is the oracle for the
 *   result code, the model name and every reported span.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ngx_http_llm_router_json.h"
#include "json_ref.h"
#include "json_diff.h"


#define FAIL(...)                                                             \
    do {                                                                      \
        snprintf(msg, msg_size, __VA_ARGS__);                                 \
        ret = -1;                                                             \
        goto out;                                                             \
    } while (0)


typedef struct {
    const char                *name;
    ngx_http_llm_json_span_t  *span;
    cJSON                     *first;
    int                        count;
} member_t;


static int
is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}


static int
has_nul_escape(const unsigned char *p, size_t n)
{
    size_t  i;

    for (i = 0; i + 6 <= n; i++) {
        if (p[i] == '\\' && p[i + 1] == 'u' && memcmp(p + i + 2, "0000", 4)
            == 0)
        {
            return 1;
        }
    }

    return 0;
}


static void
count_members(cJSON *obj, member_t *m, int n)
{
    cJSON  *c;
    int     i;

    for (c = obj->child; c != NULL; c = c->next) {
        for (i = 0; i < n; i++) {
            if (strcmp(c->string, m[i].name) == 0) {
                if (m[i].first == NULL) {
                    m[i].first = c;
                }

                m[i].count++;
            }
        }
    }
}


/*
 * The span must hold exactly the text of item: no surrounding space, and
 * cJSON parses it to a tree that prints the same.
 */
static int
check_span(const ngx_http_llm_json_span_t *span, const cJSON *item,
    const ngx_http_llm_json_doc_t *doc, char *why, size_t why_size)
{
    int      ok;
    char    *text, *a, *b;
    size_t   n;
    cJSON   *parsed;

    if (item == NULL || span->start == NULL) {
        if (item != NULL || span->start != NULL || span->end != NULL) {
            snprintf(why, why_size, "presence differs (cJSON %s)",
                     item ? "has it" : "has not");
            return -1;
        }

        return 0;
    }

    if (span->start <= doc->object.start || span->end >= doc->object.end
        || span->end <= span->start)
    {
        snprintf(why, why_size, "span outside the object");
        return -1;
    }

    if (is_space(span->start[0]) || is_space(span->end[-1])) {
        snprintf(why, why_size, "span has surrounding space");
        return -1;
    }

    n = (size_t) (span->end - span->start);
    text = malloc(n + 1);
    memcpy(text, span->start, n);
    text[n] = '\0';

    parsed = cJSON_ParseWithLengthOpts(text, n + 1, NULL, 1);
    free(text);

    if (parsed == NULL) {
        snprintf(why, why_size, "span text is not one JSON value");
        return -1;
    }

    a = cJSON_PrintUnformatted(item);
    b = cJSON_PrintUnformatted(parsed);
    ok = (a != NULL && b != NULL && strcmp(a, b) == 0);

    if (!ok) {
        snprintf(why, why_size, "span value differs: %.40s vs %.40s",
                 a ? a : "?", b ? b : "?");
    }

    free(a);
    free(b);
    cJSON_Delete(parsed);

    return ok ? 0 : -1;
}


/* value must be the integer written in the span, or -1 if it is none */
static int
check_int(const ngx_http_llm_json_span_t *span, int64_t value)
{
    size_t  n, i;
    char    text[32];

    if (span->start == NULL) {
        return value == -1 ? 0 : -1;
    }

    n = (size_t) (span->end - span->start);

    for (i = 0; i < n; i++) {
        if (span->start[i] < '0' || span->start[i] > '9') {
            return value == -1 ? 0 : -1;
        }
    }

    if (n > 19 || (n == 19 && memcmp(span->start, "9223372036854775807", 19)
                                  > 0))
    {
        return value == -1 ? 0 : -1;
    }

    if (value < 0) {
        return -1;
    }

    snprintf(text, sizeof(text), "%lld", (long long) value);

    return (strlen(text) == n && memcmp(text, span->start, n) == 0) ? 0 : -1;
}


static int
expected_code(member_t *m, int nm, member_t *iu)
{
    int          i;
    const char  *s;

    if (m[0].count > 1) {
        return NGX_HTTP_LLM_JSON_MODEL_DUPLICATE;
    }

    for (i = 1; i < nm; i++) {
        if (m[i].count > 1) {
            return NGX_HTTP_LLM_JSON_DUPLICATE_KEY;
        }
    }

    if (iu->count > 1) {
        return NGX_HTTP_LLM_JSON_DUPLICATE_KEY;
    }

    if (m[0].count == 0) {
        return NGX_HTTP_LLM_JSON_MODEL_MISSING;
    }

    if (!cJSON_IsString(m[0].first)) {
        return NGX_HTTP_LLM_JSON_MODEL_NOT_STRING;
    }

    s = m[0].first->valuestring;

    if (s[0] == '\0') {
        return NGX_HTTP_LLM_JSON_MODEL_EMPTY;
    }

    for ( /* void */ ; *s; s++) {
        if ((unsigned char) *s < 0x20 || *s == 0x7f) {
            return NGX_HTTP_LLM_JSON_MODEL_CONTROL;
        }
    }

    return NGX_HTTP_LLM_JSON_OK;
}


/*
 * What the gateway does with the spans: put another model name in place.
 * The result must scan the same apart from the model.
 */
static int
check_splice(const unsigned char *data, size_t size,
    const ngx_http_llm_json_doc_t *doc, char *why, size_t why_size)
{
    int                       rc;
    size_t                    head, tail, n;
    ptrdiff_t                 delta;
    unsigned char            *out, *name;
    ngx_http_llm_json_doc_t   d;
    static const char         model[] = "\"gw/model-\\u00e9\"";

    head = (size_t) (doc->model.start - data);
    tail = (size_t) (data + size - doc->model.end);
    n = head + sizeof(model) - 1 + tail;

    out = malloc(n);
    name = malloc(n);
    memcpy(out, data, head);
    memcpy(out + head, model, sizeof(model) - 1);
    memcpy(out + head + sizeof(model) - 1, doc->model.end, tail);

    rc = ngx_http_llm_json_scan(out, n, name, &d);
    delta = (ptrdiff_t) n - (ptrdiff_t) size;

    if (rc != NGX_HTTP_LLM_JSON_OK
        || d.model_len != 11 || memcmp(d.model_name, "gw/model-\xc3\xa9", 11)
        || d.object.end - out != doc->object.end - data + delta
        || d.stream_true != doc->stream_true
        || d.include_usage_true != doc->include_usage_true
        || d.max_tokens_value != doc->max_tokens_value
        || d.max_completion_tokens_value
           != doc->max_completion_tokens_value
        || (d.stream.start == NULL) != (doc->stream.start == NULL)
        || (d.stream_options.start == NULL)
           != (doc->stream_options.start == NULL))
    {
        snprintf(why, why_size, "splice: rc %d", rc);
        rc = -1;

    } else {
        rc = 0;
    }

    free(out);
    free(name);

    return rc;
}


static int
ref_accepts(const unsigned char *data, size_t size, unsigned flags,
    int depth)
{
    return ref_parse(data, size, flags, depth).code == REF_OK;
}


int
json_diff_check(const unsigned char *data, size_t size,
    json_diff_stats_t *st, char *msg, size_t msg_size)
{
    int                       rc, ret, ours_ok, expect, any, i;
    char                      why[160];
    size_t                    first, last, want;
    cJSON                    *cj;
    member_t                  m[8], iu;
    ref_result_t              strict, lax;
    unsigned char            *copy, *name;
    ngx_http_llm_json_doc_t   doc;

    ret = 0;
    cj = NULL;
    msg[0] = '\0';

    copy = malloc(size + 1);
    memcpy(copy, data, size);
    copy[size] = '\0';
    name = malloc(size ? size : 1);

    rc = ngx_http_llm_json_scan(data, size, name, &doc);

    st->inputs++;

    if (rc < 0 || rc >= NGX_HTTP_LLM_JSON_NCODES) {
        FAIL("scanner returned %d", rc);
    }

    st->codes[rc]++;

    if (doc.error_offset > size) {
        FAIL("error_offset %zu > size %zu", doc.error_offset, size);
    }

    /* 1. the scanner is the strict reference */

    strict = ref_parse(data, size, 0, NGX_HTTP_LLM_JSON_MAX_DEPTH);
    ours_ok = (rc != NGX_HTTP_LLM_JSON_MALFORMED
               && rc != NGX_HTTP_LLM_JSON_TOO_DEEP);

    if (!ours_ok) {
        if (strict.code != rc || strict.error_offset != doc.error_offset) {
            FAIL("scanner %s at %zu, strict reference %d at %zu",
                 ngx_http_llm_json_strerror(rc), doc.error_offset,
                 strict.code, strict.error_offset);
        }

    } else {
        if (strict.code != REF_OK) {
            FAIL("scanner %s, strict reference %d at %zu",
                 ngx_http_llm_json_strerror(rc), strict.code,
                 strict.error_offset);
        }

        if ((rc == NGX_HTTP_LLM_JSON_NOT_OBJECT) != (strict.root != '{')) {
            FAIL("scanner %s, top-level value starts with 0x%02x",
                 ngx_http_llm_json_strerror(rc), strict.root);
        }
    }

    /* 2. cJSON is the laxer reference */

    cj = cJSON_ParseWithLengthOpts((const char *) copy, size + 1, NULL, 1);
    lax = ref_parse(data, size, REF_CJSON_ALL, REF_CJSON_MAX_DEPTH);

    if ((cj != NULL) != (lax.code == REF_OK)) {
        FAIL("cJSON %s but the cJSON emulation %s: an undocumented laxity",
             cj ? "accepts" : "rejects",
             lax.code == REF_OK ? "accepts" : "rejects");
    }

    if (ours_ok && cj != NULL) {
        st->both_accept++;

    } else if (!ours_ok && cj == NULL) {
        st->both_reject++;

    } else if (ours_ok) {
        /* cJSON is laxer in every respect but depth, which is 1000 */
        FAIL("cJSON rejects what the scanner accepts");

    } else {
        /* which laxity cJSON needed: leave each out in turn */
        any = 0;

        if (!ref_accepts(data, size, REF_CJSON_ALL & ~REF_CJSON_NUMBERS,
                         REF_CJSON_MAX_DEPTH))
        {
            st->lax_numbers++;
            any = 1;
        }

        if (!ref_accepts(data, size, REF_CJSON_ALL & ~REF_CJSON_SPACE,
                         REF_CJSON_MAX_DEPTH))
        {
            st->lax_space++;
            any = 1;
        }

        if (!ref_accepts(data, size, REF_CJSON_ALL & ~REF_CJSON_STRINGS,
                         REF_CJSON_MAX_DEPTH))
        {
            st->lax_strings++;
            any = 1;
        }

        if (!ref_accepts(data, size, REF_CJSON_ALL & ~REF_CJSON_BOM,
                         REF_CJSON_MAX_DEPTH))
        {
            st->lax_bom++;
            any = 1;
        }

        if (!ref_accepts(data, size, REF_CJSON_ALL,
                         NGX_HTTP_LLM_JSON_MAX_DEPTH))
        {
            st->lax_depth++;
            any = 1;
        }

        if (!any) {
            st->lax_combined++;
        }
    }

    if (!ours_ok || cj == NULL) {
        goto out;
    }

    /* 3. both accept: cJSON's tree is the oracle for everything else */

    if (rc == NGX_HTTP_LLM_JSON_NOT_OBJECT) {
        if (cJSON_IsObject(cj)) {
            FAIL("NOT_OBJECT but cJSON has an object");
        }

        goto out;
    }

    if (!cJSON_IsObject(cj)) {
        FAIL("scanner %s but cJSON has no object",
             ngx_http_llm_json_strerror(rc));
    }

    for (first = 0; is_space(data[first]); first++) { /* void */ }
    for (last = size - 1; is_space(data[last]); last--) { /* void */ }

    if (doc.object.start != data + first || doc.object.end != data + last + 1)
    {
        FAIL("object span [%td, %td), expected [%zu, %zu)",
             doc.object.start ? doc.object.start - data : -1,
             doc.object.end ? doc.object.end - data : -1, first, last + 1);
    }

    if (has_nul_escape(data, size)) {
        /* cJSON cuts decoded strings at NUL: its keys are not exact */
        st->semantic_skipped_nul++;
        goto out;
    }

    st->semantic_checked++;

    memset(m, 0, sizeof(m));
    m[0].name = "model";
    m[0].span = &doc.model;
    m[1].name = "stream";
    m[1].span = &doc.stream;
    m[2].name = "stream_options";
    m[2].span = &doc.stream_options;
    m[3].name = "max_tokens";
    m[3].span = &doc.max_tokens;
    m[4].name = "max_completion_tokens";
    m[4].span = &doc.max_completion_tokens;
    m[5].name = "max_output_tokens";
    m[5].span = &doc.max_output_tokens;
    m[6].name = "n";
    m[6].span = &doc.n;
    m[7].name = "best_of";
    m[7].span = &doc.best_of;

    memset(&iu, 0, sizeof(iu));
    iu.name = "include_usage";
    iu.span = &doc.include_usage;

    count_members(cj, m, 8);

    if (cJSON_IsObject(m[2].first)) {
        count_members(m[2].first, &iu, 1);
    }

    expect = expected_code(m, 8, &iu);

    if (rc != expect) {
        FAIL("scanner %s, cJSON says %s", ngx_http_llm_json_strerror(rc),
             ngx_http_llm_json_strerror(expect));
    }

    for (i = 0; i < 8; i++) {
        if (check_span(m[i].span, m[i].first, &doc, why, sizeof(why)) != 0) {
            FAIL("\"%s\": %s", m[i].name, why);
        }
    }

    if (check_span(iu.span, iu.first, &doc, why, sizeof(why)) != 0) {
        FAIL("\"include_usage\": %s", why);
    }

    switch (rc) {

    case NGX_HTTP_LLM_JSON_OK:
        want = 0;
        break;

    case NGX_HTTP_LLM_JSON_MODEL_DUPLICATE:
    case NGX_HTTP_LLM_JSON_DUPLICATE_KEY:
        /* a key: the scanner's own decoding is checked via the code */
        want = data[doc.error_offset] == '"' ? doc.error_offset : (size_t) -1;
        break;

    case NGX_HTTP_LLM_JSON_MODEL_MISSING:
        want = last;
        break;

    default:
        want = (size_t) (m[0].span->start - data);
        break;
    }

    if (doc.error_offset != want) {
        FAIL("%s at %zu, expected at %zu", ngx_http_llm_json_strerror(rc),
             doc.error_offset, want);
    }

    if (doc.stream_true != (m[1].first != NULL && cJSON_IsTrue(m[1].first))) {
        FAIL("stream_true %d", doc.stream_true);
    }

    if (doc.include_usage_true != (iu.first != NULL && cJSON_IsTrue(iu.first)))
    {
        FAIL("include_usage_true %d", doc.include_usage_true);
    }

    if (check_int(&doc.max_tokens, doc.max_tokens_value) != 0) {
        FAIL("max_tokens_value %lld", (long long) doc.max_tokens_value);
    }

    if (check_int(&doc.max_completion_tokens,
                  doc.max_completion_tokens_value) != 0)
    {
        FAIL("max_completion_tokens_value %lld",
             (long long) doc.max_completion_tokens_value);
    }

    if (check_int(&doc.max_output_tokens, doc.max_output_tokens_value) != 0) {
        FAIL("max_output_tokens_value %lld",
             (long long) doc.max_output_tokens_value);
    }

    if (check_int(&doc.n, doc.n_value) != 0) {
        FAIL("n_value %lld", (long long) doc.n_value);
    }

    if (check_int(&doc.best_of, doc.best_of_value) != 0) {
        FAIL("best_of_value %lld", (long long) doc.best_of_value);
    }

    if (rc == NGX_HTTP_LLM_JSON_OK || rc == NGX_HTTP_LLM_JSON_MODEL_EMPTY
        || rc == NGX_HTTP_LLM_JSON_MODEL_CONTROL)
    {
        if (doc.model_name != name
            || doc.model_len != strlen(m[0].first->valuestring)
            || memcmp(doc.model_name, m[0].first->valuestring, doc.model_len)
               != 0)
        {
            FAIL("model name differs from cJSON's \"%.40s\"",
                 m[0].first->valuestring);
        }

    } else if (doc.model_name != NULL) {
        FAIL("model_name set on %s", ngx_http_llm_json_strerror(rc));
    }

    if (rc == NGX_HTTP_LLM_JSON_OK) {
        st->spliced++;

        if (check_splice(data, size, &doc, why, sizeof(why)) != 0) {
            FAIL("%s", why);
        }
    }

out:

    cJSON_Delete(cj);
    free(copy);
    free(name);

    return ret;
}


void
json_diff_print_stats(const json_diff_stats_t *st)
{
    int  i;

    printf("inputs %lu: both accept %lu, both reject %lu\n",
           st->inputs, st->both_accept, st->both_reject);

    printf("scanner codes:");
    for (i = 0; i < NGX_HTTP_LLM_JSON_NCODES; i++) {
        printf(" %s=%lu", ngx_http_llm_json_strerror(i), st->codes[i]);
    }
    printf("\n");

    printf("tolerated, cJSON accepts what RFC 8259 forbids: numbers %lu, "
           "space %lu, strings %lu, bom %lu, depth %lu, combined %lu\n",
           st->lax_numbers, st->lax_space, st->lax_strings, st->lax_bom,
           st->lax_depth, st->lax_combined);

    printf("semantics checked against cJSON %lu (skipped for \\u0000: %lu),"
           " spliced %lu\n",
           st->semantic_checked, st->semantic_skipped_nul, st->spliced);
}
