
/*
 * ngx_http_llm_router_module: byte searches of the answer path (the
 * event stream's line ends, a JSON answer's strings, "usage" in an
 * event), a vector at a time.
 *
 * Plain C99 with the standard library only, so that the same file builds
 * inside nginx and standalone (fuzz/ compares the SIMD build with the
 * portable one and with a byte loop).
 */


#ifndef _NGX_HTTP_LLM_ROUTER_SCAN_H_INCLUDED_
#define _NGX_HTTP_LLM_ROUTER_SCAN_H_INCLUDED_


#include <stddef.h>


/* the first '\r' or '\n' of p .. end, or end */
const unsigned char *ngx_http_llm_scan_eol(const unsigned char *p,
    const unsigned char *end);

/* the first '"' or '\\' of p .. end, or end */
const unsigned char *ngx_http_llm_scan_quote(const unsigned char *p,
    const unsigned char *end);

/* the first '"', '[', ']', '{' or '}' of p .. end, or end */
const unsigned char *ngx_http_llm_scan_nest(const unsigned char *p,
    const unsigned char *end);

/*
 * The first occurrence of needle (len >= 2 bytes) in p .. end, or NULL;
 * the bytes are compared as they are (no case folding).
 */
const unsigned char *ngx_http_llm_scan_find(const unsigned char *p,
    const unsigned char *end, const unsigned char *needle, size_t len);


#endif /* _NGX_HTTP_LLM_ROUTER_SCAN_H_INCLUDED_ */
