/*
 * The differential check shared by fuzz_json.c and test_json.c: runs
 * ngx_http_llm_json_scan(), the strict reference, the cJSON-emulating
 * reference and cJSON itself on one input and compares everything they
 * can be compared on.  See README.md for the tolerated differences.
 */

#ifndef JSON_DIFF_H
#define JSON_DIFF_H

#include <stddef.h>


typedef struct {
    unsigned long  inputs;
    unsigned long  codes[16];           /* by scanner result code */
    unsigned long  both_accept;
    unsigned long  both_reject;
    /* scanner rejects, cJSON accepts, by cJSON laxity */
    unsigned long  lax_numbers;
    unsigned long  lax_space;
    unsigned long  lax_strings;
    unsigned long  lax_bom;
    unsigned long  lax_depth;
    unsigned long  lax_combined;        /* needs two laxities at once */
    unsigned long  semantic_checked;
    unsigned long  semantic_skipped_nul;  /* input has \u0000 */
    unsigned long  spliced;
} json_diff_stats_t;


/*
 * Returns 0 when all agree or the difference is a documented cJSON
 * laxity, -1 with a description in msg otherwise.
 */
int json_diff_check(const unsigned char *data, size_t size,
    json_diff_stats_t *st, char *msg, size_t msg_size);

void json_diff_print_stats(const json_diff_stats_t *st);

#endif
