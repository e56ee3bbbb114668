/*
 * libFuzzer harness of the API translators (src/ngx_http_llm_router_xlate*).
 *
 * The first byte picks what the rest of the input is: a request body, a
 * provider's JSON answer or error (of either pair), or an SSE stream.
 * Checked beyond "no crash, no leak, no UB": every body produced is JSON;
 * a stream gives the same output whether it arrives whole, cut at a
 * point the input chooses, or one byte at a time; the carry stays bounded;
 * the chat <- messages stream's fast path writes what cm_event() writes,
 * the chat -> messages request's fast path what the general one does, and
 * so does the chat <- messages answer's fast path.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_llm_router_xlate.h"
#include "fuzz_cuts.h"


const char *__asan_default_options(void);


/*
 * ASan's quarantine at 16 MB instead of 256: still catches a use after
 * free within an input, without touching fresh pages on every run (the
 * default halved the rate here).
 */

const char *
__asan_default_options(void)
{
    return "quarantine_size_mb=16";
}


static void
fuzz_json_out(const ngx_http_llm_xlate_buf_t *b)
{
    cJSON  *root;

    if (b->len == 0) {
        return;
    }

    root = cJSON_ParseWithLength((const char *) b->data, b->len);
    if (root == NULL) {
        abort();
    }

    cJSON_Delete(root);
}


static void
fuzz_sse(int from, int to, const uint8_t *data, size_t size, size_t step,
    ngx_http_llm_xlate_buf_t *out)
{
    size_t                     i, n;
    ngx_http_llm_xlate_sse_t   s;

    ngx_http_llm_xlate_sse_init(&s, from, to, "model", 1, 1);

    for (i = 0; i < size; i += n) {
        n = fuzz_piece(i, step);
        n = (n && size - i > n) ? n : size - i;
        ngx_http_llm_xlate_sse_feed(&s, data + i, n, out);

        if (s.carry_size > 2 * NGX_HTTP_LLM_XLATE_EVENT_MAX) {
            abort();
        }
    }

    ngx_http_llm_xlate_sse_end(&s, out);
    ngx_http_llm_xlate_sse_free(&s);
}


/*
 * The fast path of an Anthropic stream to a chat client against the
 * general one, on one event's data: DECLINED, or the bytes cm_event()
 * writes from cJSON's tree of it (which must be an object without
 * "error": the framer would not have called cm_event() otherwise).
 */

static void
fuzz_fast_one(const uint8_t *d, const uint8_t *last)
{
    int                        rc, rc2;
    cJSON                     *root;
    ngx_http_llm_xlate_buf_t   x, y;
    ngx_http_llm_xlate_sse_t   a, b;

    memset(&x, 0, sizeof(x));
    memset(&y, 0, sizeof(y));
    ngx_http_llm_xlate_sse_init(&a, NGX_HTTP_LLM_XLATE_MESSAGES,
                                NGX_HTTP_LLM_XLATE_CHAT, "m\"\x01", 1, 7);
    ngx_http_llm_xlate_sse_init(&b, NGX_HTTP_LLM_XLATE_MESSAGES,
                                NGX_HTTP_LLM_XLATE_CHAT, "m\"\x01", 1, 7);
    memcpy(a.id, "msg_\\1", 7);
    memcpy(b.id, "msg_\\1", 7);

    rc = ngx_http_llm_xlate_cm_fast(&a, d, last, &x);

    if (rc != NGX_HTTP_LLM_XLATE_DECLINED) {
        root = cJSON_ParseWithLength((const char *) d, last - d);

        if (!cJSON_IsObject(root)
            || cJSON_GetObjectItemCaseSensitive(root, "error"))
        {
            abort();
        }

        rc2 = ngx_http_llm_xlate_cm_event(&b, NULL, root, &y);
        cJSON_Delete(root);

        if (rc != rc2 || x.len != y.len
            || (x.len && memcmp(x.data, y.data, x.len) != 0)
            || a.head_len != b.head_len
            || (a.head_len && memcmp(a.head, b.head, a.head_len) != 0))
        {
            abort();
        }

        /* the rest of the state too (the heads are malloc'd apart) */
        ngx_http_llm_xlate_sse_free(&a);
        ngx_http_llm_xlate_sse_free(&b);

        if (memcmp(&a, &b, sizeof(a)) != 0) {
            abort();
        }
    }

    ngx_http_llm_xlate_sse_free(&a);
    ngx_http_llm_xlate_sse_free(&b);

    ngx_http_llm_xlate_buf_free(&x);
    ngx_http_llm_xlate_buf_free(&y);
}


/*
 * The input after a byte cJSON skips as white space and no fast path
 * takes: the general path's copy of it.
 */

static uint8_t *
fuzz_shifted(const uint8_t *data, size_t size)
{
    uint8_t  *shifted;

    shifted = malloc(size + 1);
    if (shifted == NULL) {
        abort();
    }

    shifted[0] = '\x01';
    memcpy(shifted + 1, data, size);

    return shifted;
}


/*
 * The chat -> messages request's fast path against the general one: the
 * body after a byte cJSON skips as white space and the fast path does
 * not take (so ngx_http_llm_xlate_request() runs the general path).
 */

static void
fuzz_fast_request(const uint8_t *data, size_t size,
    const ngx_http_llm_xlate_conf_t *conf)
{
    int                           rc, rc2;
    uint8_t                      *shifted;
    ngx_http_llm_xlate_result_t   a, b;

    memset(&a, 0, sizeof(a));
    a.max_tokens = -1;

    rc = ngx_http_llm_xlate_cm_fast_request(data, size, conf, &a);

    if (rc == NGX_HTTP_LLM_XLATE_DECLINED) {
        ngx_http_llm_xlate_buf_free(&a.body);
        return;
    }

    shifted = fuzz_shifted(data, size);

    rc2 = ngx_http_llm_xlate_request(NGX_HTTP_LLM_XLATE_CHAT,
                                     NGX_HTTP_LLM_XLATE_MESSAGES, shifted,
                                     size + 1, conf, &b);
    free(shifted);

    if (rc != rc2 || a.status != b.status || a.max_tokens != b.max_tokens
        || a.stream != b.stream || a.include_usage != b.include_usage
        || strcmp(a.dropped, b.dropped) != 0
        || a.body.len != b.body.len
        || (a.body.len && memcmp(a.body.data, b.body.data, a.body.len) != 0))
    {
        abort();
    }

    ngx_http_llm_xlate_buf_free(&a.body);
    ngx_http_llm_xlate_buf_free(&b.body);
}


/*
 * The chat <- messages answer's fast path against the general one: the
 * body after a byte cJSON skips as white space and the fast path does
 * not take (so ngx_http_llm_xlate_response() runs the general path);
 * a model and a time that the writer escapes and spells out.
 */

static void
fuzz_fast_answer(const uint8_t *data, size_t size)
{
    int                        rc, rc2;
    uint8_t                   *shifted;
    ngx_http_llm_xlate_buf_t   x, y;

    static const char          model[] = "m\"\x01\xc3\xa9";

    memset(&x, 0, sizeof(x));
    memset(&y, 0, sizeof(y));

    /* what was in out before stays */
    if (ngx_http_llm_xlate_buf_append(&x, "<", 1) != NGX_HTTP_LLM_XLATE_OK
        || ngx_http_llm_xlate_buf_append(&y, "<", 1) != NGX_HTTP_LLM_XLATE_OK)
    {
        abort();
    }

    rc = ngx_http_llm_xlate_cm_fast_answer(data, size, model,
                                           1733000000123LL, &x);

    if (rc == NGX_HTTP_LLM_XLATE_DECLINED) {
        if (x.len != 1) {
            abort();
        }

        ngx_http_llm_xlate_buf_free(&x);
        ngx_http_llm_xlate_buf_free(&y);
        return;
    }

    shifted = fuzz_shifted(data, size);

    rc2 = ngx_http_llm_xlate_response(NGX_HTTP_LLM_XLATE_MESSAGES,
                                      NGX_HTTP_LLM_XLATE_CHAT, shifted,
                                      size + 1, model, 1733000000123LL, &y);
    free(shifted);

    if (rc != rc2 || x.len != y.len || memcmp(x.data, y.data, x.len) != 0) {
        abort();
    }

    ngx_http_llm_xlate_buf_free(&x);
    ngx_http_llm_xlate_buf_free(&y);
}


/* every "data:" line of the input, as the framer cuts it */

static void
fuzz_fast(const uint8_t *data, size_t size)
{
    const uint8_t  *p, *nl, *end, *d, *last;

    end = data + size;

    for (p = data; p < end; p = nl + 1) {
        nl = memchr(p, '\n', end - p);
        if (nl == NULL) {
            nl = end;
        }

        if (nl - p >= 5 && memcmp(p, "data:", 5) == 0) {
            d = p + 5;
            d += (d < nl && *d == ' ');
            last = nl - (nl > d && nl[-1] == '\r');
            fuzz_fast_one(d, last);
        }
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                           mode, from, to;
    size_t                        step;
    ngx_http_llm_xlate_buf_t      a, b, c;
    ngx_http_llm_xlate_conf_t     conf;
    ngx_http_llm_xlate_result_t   res;

    if (size < 2) {
        return 0;
    }

    mode = data[0] % 8;
    step = data[1];
    from = mode & 1;
    to = !from;
    data += 2;
    size -= 2;

    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    memset(&c, 0, sizeof(c));

    switch (mode >> 1) {

    case 0:
        memset(&conf, 0, sizeof(conf));
        conf.model = (step & 2) ? NULL : "target-model";
        conf.max_completion_tokens = step & 1;
        conf.max_tokens_default = step;

        if (from == NGX_HTTP_LLM_XLATE_CHAT) {
            fuzz_fast_request(data, size, &conf);
        }

        if (ngx_http_llm_xlate_request(from, to, data, size, &conf, &res)
            == NGX_HTTP_LLM_XLATE_OK && res.status == 0)
        {
            fuzz_json_out(&res.body);
        }

        ngx_http_llm_xlate_buf_free(&res.body);
        break;

    case 1:
        if (from == NGX_HTTP_LLM_XLATE_MESSAGES) {
            fuzz_fast_answer(data, size);
        }

        ngx_http_llm_xlate_response(from, to, data, size, "m", 1, &a);
        fuzz_json_out(&a);
        break;

    case 2:
        ngx_http_llm_xlate_error(from, to, 400 + step, data, size, &a);
        fuzz_json_out(&a);
        break;

    default:
        if (from == NGX_HTTP_LLM_XLATE_MESSAGES) {
            fuzz_fast(data, size);
        }

        fuzz_sse(from, to, data, size, 0, &a);

        if (fuzz_full()) {
            fuzz_sse(from, to, data, size, step ? step : 1, &b);
            fuzz_sse(from, to, data, size, 1, &c);
            fuzz_same(&a, &c);

        } else {
            fuzz_sse(from, to, data, size, FUZZ_RANDOM + (step ? step : 1),
                     &b);
        }

        fuzz_same(&a, &b);

        break;
    }

    ngx_http_llm_xlate_buf_free(&a);
    ngx_http_llm_xlate_buf_free(&b);
    ngx_http_llm_xlate_buf_free(&c);

    return 0;
}
