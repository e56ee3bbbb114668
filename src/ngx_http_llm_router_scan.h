
/*
 * ngx_http_llm_router_module: byte searches of the answer path (the
 * event stream's line ends, a JSON answer's strings and its levels
 * below the top one, "usage" in an event), a vector at a time.
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

/* where a walk below a JSON text's top level stands */
typedef struct {
    size_t                           depth;   /* 2 or more */
    unsigned char                    open;    /* last '{' or '[' passed */
    unsigned char                    cut;     /* see below */
} ngx_http_llm_scan_below_t;

/*
 * From p, outside strings, at depth b->depth: the bracket that closes to
 * depth 1 (b->depth is then 2), or end.  Strings are passed whole, a
 * '\\' in one with the byte after it; every other bracket raises or
 * lowers b->depth, and b->open is the last opening one (unchanged if
 * none).  At end, b->cut is 0 outside a string, 1 inside one, 2 right
 * after a '\\' inside one.
 */
const unsigned char *ngx_http_llm_scan_below(const unsigned char *p,
    const unsigned char *end, ngx_http_llm_scan_below_t *b);

/*
 * The first occurrence of needle (len >= 2 bytes) in p .. end, or NULL;
 * the bytes are compared as they are (no case folding).
 */
const unsigned char *ngx_http_llm_scan_find(const unsigned char *p,
    const unsigned char *end, const unsigned char *needle, size_t len);


#endif /* _NGX_HTTP_LLM_ROUTER_SCAN_H_INCLUDED_ */
