/*
 * libFuzzer harness of the Gemini translators
 * (src/ngx_http_llm_router_xlate_chat_gemini*.c, with the chat <-> messages
 * ones the Anthropic client goes through).
 *
 * The first byte picks what the rest is, and for whom: a client's request
 * (OpenAI chat or Anthropic messages) to translate for Gemini, Gemini's
 * JSON answer or error, or a Gemini SSE stream, translated for either
 * client.  Checked beyond "no crash, no leak, no UB": every body produced
 * is JSON; every event of a translated stream is JSON (or [DONE]); a
 * stream gives the same output whole, cut at a point the input chooses,
 * and one byte at a time; the carry stays bounded.
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
fuzz_json_out(const unsigned char *p, size_t len)
{
    cJSON  *root;

    if (len == 0) {
        return;
    }

    root = cJSON_ParseWithLength((const char *) p, len);
    if (root == NULL) {
        abort();
    }

    cJSON_Delete(root);
}


/* every "data: " line of the output is JSON or [DONE] */

static void
fuzz_events_out(const ngx_http_llm_xlate_buf_t *b)
{
    const unsigned char  *p, *end, *nl;

    p = b->data;
    end = b->data + b->len;

    while (p < end) {
        nl = memchr(p, '\n', end - p);
        if (nl == NULL) {
            abort();        /* every event ends with a blank line */
        }

        if (nl - p > 6 && memcmp(p, "data: ", 6) == 0
            && !(nl - p == 12 && memcmp(p + 6, "[DONE]", 6) == 0))
        {
            fuzz_json_out(p + 6, nl - p - 6);
        }

        p = nl + 1;
    }
}


static void
fuzz_sse(int to, int usage, const uint8_t *data, size_t size, size_t step,
    ngx_http_llm_xlate_buf_t *out)
{
    size_t                     i, n;
    ngx_http_llm_xlate_sse_t   s;

    ngx_http_llm_xlate_sse_init(&s, NGX_HTTP_LLM_XLATE_GEMINI, to, "model",
                                usage, 1);

    for (i = 0; i < size; i += n) {
        n = fuzz_piece(i, step);
        n = (n && size - i > n) ? n : size - i;
        ngx_http_llm_xlate_sse_feed(&s, data + i, n, out);

        if (s.carry_size > 2 * NGX_HTTP_LLM_XLATE_EVENT_MAX
            || (s.pivot && s.pivot->carry_size))
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
    int                           mode, client;
    size_t                        step;
    ngx_http_llm_xlate_buf_t      a, b, c;
    ngx_http_llm_xlate_conf_t     conf;
    ngx_http_llm_xlate_result_t   res;

    if (size < 2) {
        return 0;
    }

    mode = data[0] % 8;
    step = data[1];
    client = (mode & 1) ? NGX_HTTP_LLM_XLATE_MESSAGES
                        : NGX_HTTP_LLM_XLATE_CHAT;
    data += 2;
    size -= 2;

    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    memset(&c, 0, sizeof(c));

    switch (mode >> 1) {

    case 0:
        memset(&conf, 0, sizeof(conf));
        conf.model = "gemini-model";
        conf.max_tokens_default = step;

        if (ngx_http_llm_xlate_request(client, NGX_HTTP_LLM_XLATE_GEMINI,
                                       data, size, &conf, &res)
            == NGX_HTTP_LLM_XLATE_OK && res.status == 0)
        {
            fuzz_json_out(res.body.data, res.body.len);
        }

        ngx_http_llm_xlate_buf_free(&res.body);
        break;

    case 1:
        ngx_http_llm_xlate_response(NGX_HTTP_LLM_XLATE_GEMINI, client, data,
                                    size, "m", 1, &a);
        fuzz_json_out(a.data, a.len);
        break;

    case 2:
        ngx_http_llm_xlate_error(NGX_HTTP_LLM_XLATE_GEMINI, client,
                                 400 + step, data, size, &a);
        fuzz_json_out(a.data, a.len);
        break;

    default:
        /* the usage chunk asked for or not: the cut's parity says */
        fuzz_sse(client, step & 1, data, size, 0, &a);

        if (fuzz_full()) {
            fuzz_sse(client, step & 1, data, size, step ? step : 1, &b);
            fuzz_sse(client, step & 1, data, size, 1, &c);
            fuzz_same(&a, &c);

        } else {
            fuzz_sse(client, step & 1, data, size,
                     FUZZ_RANDOM + (step ? step : 1), &b);
        }

        fuzz_same(&a, &b);

        fuzz_events_out(&a);
        break;
    }

    ngx_http_llm_xlate_buf_free(&a);
    ngx_http_llm_xlate_buf_free(&b);
    ngx_http_llm_xlate_buf_free(&c);

    return 0;
}
