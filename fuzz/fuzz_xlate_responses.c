/*
 * libFuzzer harness of the Responses API translators
 * (src/ngx_http_llm_router_xlate_responses*.c and the shared framer).
 *
 * The first byte picks what the rest of the input is: a Responses request
 * body (to chat or, through chat, to Anthropic), a provider's JSON answer
 * or error (chat or Anthropic), or a provider's SSE stream.  Checked beyond
 * "no crash, no leak, no UB": every body produced is JSON; every SSE event
 * produced is "event: NAME" and a data line of JSON whose type is NAME and
 * whose sequence_number counts from 0; a stream gives the same output
 * whether it arrives whole, cut at a point the input chooses, or one byte
 * at a time; the carry and the kept output stay bounded.
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


/* every event: "event: T\ndata: {"type":"T",...,"sequence_number":n}" */

static void
fuzz_events(const ngx_http_llm_xlate_buf_t *b)
{
    size_t          n;
    double          seq;
    cJSON          *data, *type, *num;
    const char     *p, *last, *nl, *name, *d;

    p = (const char *) b->data;
    last = p + b->len;
    seq = 0;

    while (p < last) {
        if (last - p < 7 || memcmp(p, "event: ", 7) != 0) {
            abort();
        }

        name = p + 7;
        nl = memchr(name, '\n', last - name);
        if (nl == NULL || last - nl < 7 || memcmp(nl + 1, "data: ", 6) != 0) {
            abort();
        }

        n = nl - name;
        d = nl + 7;
        nl = memchr(d, '\n', last - d);
        if (nl == NULL || nl + 1 >= last || nl[1] != '\n') {
            abort();
        }

        data = cJSON_ParseWithLength(d, nl - d);
        type = cJSON_GetObjectItemCaseSensitive(data, "type");
        num = cJSON_GetObjectItemCaseSensitive(data, "sequence_number");

        if (!cJSON_IsString(type) || strlen(type->valuestring) != n
            || memcmp(type->valuestring, name, n) != 0
            || !cJSON_IsNumber(num) || num->valuedouble != seq)
        {
            abort();
        }

        cJSON_Delete(data);
        seq++;
        p = nl + 2;
    }
}


static void
fuzz_sse(int from, const uint8_t *data, size_t size, size_t step,
    ngx_http_llm_xlate_buf_t *out)
{
    size_t                     i, n;
    ngx_http_llm_xlate_sse_t   s;

    ngx_http_llm_xlate_sse_init(&s, from, NGX_HTTP_LLM_XLATE_RESPONSES,
                                "model", 0, 1);

    for (i = 0; i < size; i += n) {
        n = fuzz_piece(i, step);
        n = (n && size - i > n) ? n : size - i;
        ngx_http_llm_xlate_sse_feed(&s, data + i, n, out);

        if (s.carry_size > 2 * NGX_HTTP_LLM_XLATE_EVENT_MAX
            || (s.rsp && s.rsp->text.len + s.rsp->items.len
                         > NGX_HTTP_LLM_XLATE_OUTPUT_MAX + 4096))
        {
            abort();
        }
    }

    ngx_http_llm_xlate_sse_end(&s, out);
    ngx_http_llm_xlate_sse_free(&s);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                           mode, from;
    size_t                        step;
    ngx_http_llm_xlate_buf_t      a, b, c;
    ngx_http_llm_xlate_conf_t     conf;
    ngx_http_llm_xlate_result_t   res;

    if (size < 2) {
        return 0;
    }

    mode = data[0] % 8;
    step = data[1];
    from = (mode & 1) ? NGX_HTTP_LLM_XLATE_MESSAGES : NGX_HTTP_LLM_XLATE_CHAT;
    data += 2;
    size -= 2;

    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    memset(&c, 0, sizeof(c));

    switch (mode >> 1) {

    case 0:
        memset(&conf, 0, sizeof(conf));
        conf.model = "target-model";
        conf.max_completion_tokens = step & 1;
        conf.max_tokens_default = step;

        if (ngx_http_llm_xlate_request(NGX_HTTP_LLM_XLATE_RESPONSES, from,
                                       data, size, &conf, &res)
            == NGX_HTTP_LLM_XLATE_OK && res.status == 0)
        {
            fuzz_json_out(&res.body);
        }

        ngx_http_llm_xlate_buf_free(&res.body);
        break;

    case 1:
        ngx_http_llm_xlate_response(from, NGX_HTTP_LLM_XLATE_RESPONSES,
                                    data, size, "m", 1, &a);
        fuzz_json_out(&a);
        break;

    case 2:
        ngx_http_llm_xlate_error(from, NGX_HTTP_LLM_XLATE_RESPONSES,
                                 400 + step, data, size, &a);
        fuzz_json_out(&a);
        break;

    default:
        fuzz_sse(from, data, size, 0, &a);

        if (fuzz_full()) {
            fuzz_sse(from, data, size, step ? step : 1, &b);
            fuzz_sse(from, data, size, 1, &c);
            fuzz_same(&a, &c);

        } else {
            fuzz_sse(from, data, size, FUZZ_RANDOM + (step ? step : 1),
                     &b);
        }

        fuzz_same(&a, &b);

        fuzz_events(&a);
        break;
    }

    ngx_http_llm_xlate_buf_free(&a);
    ngx_http_llm_xlate_buf_free(&b);
    ngx_http_llm_xlate_buf_free(&c);

    return 0;
}
