/*
 * libFuzzer harness of the API translators (src/ngx_http_llm_router_xlate*).
 *
 * The first byte picks what the rest of the input is: a request body, a
 * provider's JSON answer or error (of either pair), or an SSE stream.
 * Checked beyond "no crash, no leak, no UB": every body produced is JSON;
 * a stream gives the same output whether it arrives whole, cut at a
 * point the input chooses, or one byte at a time; the carry stays bounded.
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
        conf.model = "target-model";
        conf.max_completion_tokens = step & 1;
        conf.max_tokens_default = step;

        if (ngx_http_llm_xlate_request(from, to, data, size, &conf, &res)
            == NGX_HTTP_LLM_XLATE_OK && res.status == 0)
        {
            fuzz_json_out(&res.body);
        }

        ngx_http_llm_xlate_buf_free(&res.body);
        break;

    case 1:
        ngx_http_llm_xlate_response(from, to, data, size, "m", 1, &a);
        fuzz_json_out(&a);
        break;

    case 2:
        ngx_http_llm_xlate_error(from, to, 400 + step, data, size, &a);
        fuzz_json_out(&a);
        break;

    default:
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
