/*
 * libFuzzer harness for ngx_http_llm_json_scan():
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I../src \
 *       fuzz_json.c json_diff.c json_ref.c \
 *       ../src/ngx_http_llm_router_json.c \
 *       ../src/ngx_http_llm_router_json_string.c -lcjson
 *
 * Every input goes through json_diff_check(): the scanner must agree with
 * the strict reference exactly and with cJSON up to cJSON's documented
 * laxities (README.md); anything else aborts.  The sanitizers catch reads
 * past the input, which libFuzzer allocates with its exact size.
 *
 * Most mutants of a JSON text are invalid near their start, so each input
 * is also checked inside a valid chat body, as string contents and as the
 * model value: the semantic checks and the string loop then see it at
 * every alignment.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_diff.h"


static json_diff_stats_t  stats;


static void
print_stats(void)
{
    json_diff_print_stats(&stats);
}


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;

    atexit(print_stats);

    return 0;
}


static void
check(const uint8_t *data, size_t size, const char *how)
{
    char  msg[512];

    if (json_diff_check(data, size, &stats, msg, sizeof(msg)) != 0) {
        fprintf(stderr, "json_diff (%s): %s\ninput (%zu bytes): %.*s\n",
                how, msg, size, (int) (size > 400 ? 400 : size),
                (const char *) data);
        abort();
    }
}


static void
check_wrapped(const uint8_t *data, size_t size, const char *head,
    const char *tail, const char *how)
{
    size_t    h, t;
    uint8_t  *b;

    h = strlen(head);
    t = strlen(tail);

    b = malloc(h + size + t);
    memcpy(b, head, h);
    memcpy(b + h, data, size);
    memcpy(b + h + size, tail, t);

    check(b, h + size + t, how);

    free(b);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check(data, size, "as is");

    check_wrapped(data, size,
                  "{\"model\":\"m\",\"stream\":true,\"messages\":"
                  "[{\"role\":\"user\",\"content\":\"", "\"}]}",
                  "as string contents");

    check_wrapped(data, size, "{\"max_tokens\":1,\"model\":",
                  ",\"stream_options\":{\"include_usage\":true}}",
                  "as the model value");

    return 0;
}
