/*
 * libFuzzer harness for ngx_http_llm_json_scan():
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I../src \
 *       fuzz_json.c json_diff.c json_ref.c \
 *       ../src/ngx_http_llm_router_json.c -lcjson
 *
 * Every input goes through json_diff_check(): the scanner must agree with
 * the strict reference exactly and with cJSON up to cJSON's documented
 * laxities (README.md); anything else aborts.  The sanitizers catch reads
 * past the input, which libFuzzer allocates with its exact size.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

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


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char  msg[512];

    if (json_diff_check(data, size, &stats, msg, sizeof(msg)) != 0) {
        fprintf(stderr, "json_diff: %s\ninput (%zu bytes): %.*s\n",
                msg, size, (int) (size > 400 ? 400 : size),
                (const char *) data);
        abort();
    }

    return 0;
}
