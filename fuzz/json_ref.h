/*
 * A slow, deliberately simple recursive-descent JSON validator used as the
 * oracle of the differential tests.
 *
 * With flags == 0 it is strict RFC 8259 and reports the same error codes
 * and error offsets as ngx_http_llm_json_scan() (see the header there).
 *
 * Each REF_CJSON_* flag switches on one documented deviation of cJSON
 * 1.7.15 as Debian 12 ships it (1.7.15-1+deb12u3 or later); with
 * REF_CJSON_ALL and max_depth 1000 it accepts exactly what
 * cJSON_ParseWithLengthOpts(copy, len + 1, NULL, 1) accepts on a
 * NUL-terminated copy.  The differential harness checks both
 * claims on every input, so a difference between the scanner and cJSON is
 * tolerated only when it is explained by these flags.  See README.md.
 */

#ifndef JSON_REF_H
#define JSON_REF_H

#include <stddef.h>


#define REF_OK         0
#define REF_MALFORMED  1     /* == NGX_HTTP_LLM_JSON_MALFORMED */
#define REF_TOO_DEEP   2     /* == NGX_HTTP_LLM_JSON_TOO_DEEP */

/* numbers per strtod(): "01", "1.", "-.5", "1.e5" */
#define REF_CJSON_NUMBERS  0x01
/* every byte 0x00 .. 0x20 is whitespace, not only SP HT LF CR */
#define REF_CJSON_SPACE    0x02
/* raw bytes < 0x20 in strings; "\u" + 4 non-hex bytes decodes as U+0000 */
#define REF_CJSON_STRINGS  0x04
/* a leading UTF-8 byte order mark is skipped */
#define REF_CJSON_BOM      0x08
#define REF_CJSON_ALL      0x0f

#define REF_CJSON_MAX_DEPTH  1000


typedef struct {
    int            code;        /* REF_OK, REF_MALFORMED, REF_TOO_DEEP */
    size_t         error_offset;
    unsigned char  root;        /* first byte of the top-level value */
} ref_result_t;


ref_result_t ref_parse(const unsigned char *buf, size_t len, unsigned flags,
    int max_depth);

#endif
