
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * libFuzzer harness for the two key-file readers: llm_client_keys
 * (src/ngx_http_llm_router_keys.c, through its directive) and the
 * key_file= of llm_upstream (ngx_http_llm_read_key_file() in
 * src/ngx_http_llm_router_upstream.c), both on a real file.
 *
 * Input: byte 0 = flags (bit 0 client keys, else an upstream key file;
 * bit 1 the provider speaks the OpenAI API), then the file.  Checked:
 * the reader accepts exactly what a reference reading of the documented
 * format accepts; an upstream's keys are the file's key lines in order
 * (as "Bearer <key>" for OpenAI); no plaintext key is left in the
 * temporary pool (the read buffer is wiped) and, for client keys, none is
 * kept in the configuration pool either (only digests are).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/sha.h>

#include "ngx_http_llm_router.h"
#include "ngx_stubs.h"


#define FUZZ_KEY_MIN     12    /* shorter keys may occur by chance */
#define FUZZ_MAX_LINES   4096


typedef struct {
    u_char      *start;
    u_char      *end;
} fuzz_line_t;


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


ngx_module_t   ngx_http_llm_router_module;
ngx_str_t      ngx_http_llm_endpoint_names[1];

static char    fuzz_file[64];


/* the module's other files: never reached by the readers */

ngx_pool_cleanup_t *
ngx_pool_cleanup_add(ngx_pool_t *p, size_t size)
{
    abort();
}


uint32_t
ngx_utf8_decode(u_char **p, size_t n)
{
    abort();
}


time_t
ngx_parse_http_time(u_char *value, size_t len)
{
    abort();
}


ngx_int_t
ngx_http_llm_set_error(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    ngx_uint_t status, const char *code, const char *param,
    const char *fmt, ...)
{
    abort();
}


ngx_str_t *
ngx_http_llm_error_quote(ngx_pool_t *pool, ngx_str_t *s)
{
    abort();
}


ngx_int_t
ngx_http_llm_health_param(ngx_conf_t *cf, ngx_http_llm_provider_t *prov,
    ngx_str_t *value)
{
    abort();
}


ngx_int_t
ngx_http_llm_health_conf(ngx_conf_t *cf, ngx_http_llm_main_conf_t *lmcf,
    ngx_http_llm_provider_t *prov, const char *preset)
{
    abort();
}


ngx_http_upstream_srv_conf_t *
ngx_http_upstream_add(ngx_conf_t *cf, ngx_url_t *u, ngx_uint_t flags)
{
    abort();
}


ngx_int_t
ngx_atoi(u_char *line, size_t n)
{
    abort();
}


ngx_int_t
ngx_parse_time(ngx_str_t *line, ngx_uint_t is_sec)
{
    abort();
}


u_char *
ngx_cpystrn(u_char *dst, u_char *src, size_t n)
{
    abort();
}


/* the reference: lines as documented, blanks and "#" comments skipped */

static size_t
fuzz_lines(u_char *p, u_char *last, fuzz_line_t *lines)
{
    u_char  *eol, *s, *e;
    size_t   n;

    for (n = 0; p < last; p = eol + 1) {
        eol = memchr(p, '\n', last - p);
        if (eol == NULL) {
            eol = last;
        }

        for (s = p; s < eol && (*s == ' ' || *s == '\t'); s++) { /* void */ }

        for (e = eol; e > s && (e[-1] == ' ' || e[-1] == '\t'
                                || e[-1] == '\r'); e--)
        { /* void */ }

        if (s < e && *s != '#') {
            if (n == FUZZ_MAX_LINES) {
                return (size_t) -1;
            }

            lines[n].start = s;
            lines[n].end = e;
            n++;
        }

        if (eol == last) {
            break;
        }
    }

    return n;
}


static int
fuzz_hex(u_char *p, size_t len, u_char *digest)
{
    size_t  i;
    int     hi, lo;

    if (len != 64) {
        return -1;
    }

    for (i = 0; i < 32; i++) {
        hi = isxdigit(p[2 * i]) ? (isdigit(p[2 * i]) ? p[2 * i] - '0'
                                   : (p[2 * i] | 0x20) - 'a' + 10) : -1;
        lo = isxdigit(p[2 * i + 1]) ? (isdigit(p[2 * i + 1])
                                       ? p[2 * i + 1] - '0'
                                       : (p[2 * i + 1] | 0x20) - 'a' + 10)
                                    : -1;
        if (hi < 0 || lo < 0) {
            return -1;
        }

        digest[i] = (u_char) (hi * 16 + lo);
    }

    return 0;
}


/* "<key or sha256:hex> <tenant> [models=a,b]": 0 if valid, digest set */

static int
fuzz_client_line(fuzz_line_t *l, u_char *digest)
{
    u_char     *p, *f[4], *fe[4], *m, *c;
    ngx_uint_t  n;

    for (p = l->start; p < l->end; p++) {
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f) {
            return -1;
        }
    }

    for (n = 0, p = l->start; p < l->end; n++) {
        while (p < l->end && (*p == ' ' || *p == '\t')) {
            p++;
        }

        if (p == l->end) {
            break;
        }

        if (n == 4) {
            return -1;
        }

        f[n] = p;

        while (p < l->end && *p != ' ' && *p != '\t') {
            p++;
        }

        fe[n] = p;
    }

    if (n < 2 || n > 3) {
        return -1;
    }

    if (fe[0] - f[0] >= 7 && memcmp(f[0], "sha256:", 7) == 0) {
        if (fuzz_hex(f[0] + 7, fe[0] - f[0] - 7, digest) != 0) {
            return -1;
        }

    } else {
        SHA256(f[0], fe[0] - f[0], digest);
    }

    if (n == 3) {
        if (fe[2] - f[2] < 8 || memcmp(f[2], "models=", 7) != 0) {
            return -1;
        }

        for (m = f[2] + 7; ; m = c + 1) {
            c = memchr(m, ',', fe[2] - m);
            if (c == NULL) {
                c = fe[2];
            }

            if (c == m) {
                return -1;
            }

            if (c == fe[2]) {
                break;
            }
        }
    }

    return 0;
}


static int
fuzz_digest_cmp(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}


static ngx_int_t
fuzz_client_expect(fuzz_line_t *lines, size_t n)
{
    u_char  *digests;
    size_t   i;

    if (n == 0 || n == (size_t) -1) {
        return NGX_ERROR;
    }

    digests = malloc(n * 32);
    if (digests == NULL) {
        abort();
    }

    for (i = 0; i < n; i++) {
        if (fuzz_client_line(&lines[i], digests + 32 * i) != 0) {
            free(digests);
            return NGX_ERROR;
        }
    }

    qsort(digests, n, 32, fuzz_digest_cmp);

    for (i = 1; i < n; i++) {
        if (memcmp(digests + 32 * (i - 1), digests + 32 * i, 32) == 0) {
            free(digests);
            return NGX_ERROR;
        }
    }

    free(digests);

    return NGX_OK;
}


static void
fuzz_fail(const char *what, const uint8_t *data, size_t size)
{
    fprintf(stderr, "fuzz_keys: %s\nfile (%zu bytes): %.*s\n", what,
            size - 1, (int) (size > 400 ? 400 : size - 1), data + 1);
    abort();
}


/* the plaintext key of a line, if it is one and long enough to look for */

static ngx_int_t
fuzz_plain_key(fuzz_line_t *l, ngx_uint_t client, ngx_str_t *key)
{
    int      n;
    u_char  *p;
    char     msg[128];

    p = l->start;

    if (client) {
        while (p < l->end && *p != ' ' && *p != '\t') {
            p++;
        }

        if (p - l->start >= 7 && memcmp(l->start, "sha256:", 7) == 0) {
            return NGX_DECLINED;
        }

    } else {
        p = l->end;
    }

    key->data = l->start;
    key->len = p - l->start;

    if (key->len < FUZZ_KEY_MIN) {
        return NGX_DECLINED;
    }

    /* the readers' own messages name the file: any part of them */

    n = snprintf(msg, sizeof(msg), "key file \"%s\" of llm_upstream "
                 "\"fuzz\"", fuzz_file);

    if (memmem(msg, n, key->data, key->len) != NULL) {
        return NGX_DECLINED;
    }

    /*
     * keys as they are in practice, printable: a wiped buffer is zeros
     * (the stubs' pools start zeroed), and the fuzzer, which sees what
     * memcmp() compares, learns to write the bytes of pointers kept
     */

    for (p = l->start; p < l->start + key->len; p++) {
        if (*p <= ' ' || *p >= 0x7f) {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/* whether s is inside what the file legitimately keeps (tenants, models) */

static ngx_uint_t
fuzz_in_kept(fuzz_line_t *lines, size_t n, ngx_str_t *s)
{
    u_char  *p;
    size_t   i;

    for (i = 0; i < n; i++) {
        for (p = lines[i].start; p < lines[i].end && *p != ' '
                                 && *p != '\t'; p++)
        { /* void */ }

        /* memmem(): not a loop traced byte by byte by the fuzzer */
        if (p + s->len <= lines[i].end
            && memmem(p, lines[i].end - p, s->data, s->len) != NULL)
        {
            return 1;
        }
    }

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                          fd;
    char                        *rv;
    size_t                       n, i;
    ngx_int_t                    rc, expect;
    ngx_str_t                    args[2], name, key, *v;
    ngx_log_t                    log;
    ngx_uint_t                   client, openai, j;
    ngx_pool_t                   pool, temp_pool;
    ngx_conf_t                   cf;
    ngx_array_t                  arr;
    fuzz_line_t                 *lines;
    ngx_command_t                cmd;
    ngx_http_llm_provider_t      prov;
    ngx_http_llm_client_keys_t  *ck;

    if (size < 1) {
        return 0;
    }

    if (fuzz_file[0] == '\0') {
        snprintf(fuzz_file, sizeof(fuzz_file), "%s/fuzz-keys-%ld",
                 getenv("FUZZ_TMP") ? getenv("FUZZ_TMP") : "/dev/shm",
                 (long) getpid());
    }

    client = data[0] & 1;
    openai = (data[0] & 2) ? 1 : 0;

    fd = open(fuzz_file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd == -1 || write(fd, data + 1, size - 1) != (ssize_t) (size - 1)) {
        abort();
    }

    close(fd);

    lines = malloc(FUZZ_MAX_LINES * sizeof(fuzz_line_t));
    if (lines == NULL) {
        abort();
    }

    n = fuzz_lines((u_char *) data + 1, (u_char *) data + size, lines);

    ngx_memzero(&log, sizeof(ngx_log_t));
    ngx_memzero(&pool, sizeof(ngx_pool_t));
    ngx_memzero(&temp_pool, sizeof(ngx_pool_t));
    ngx_memzero(&cf, sizeof(ngx_conf_t));
    cf.pool = &pool;
    cf.temp_pool = &temp_pool;
    cf.log = &log;

    name.data = (u_char *) fuzz_file;
    name.len = strlen(fuzz_file);

    if (client) {
        ngx_str_set(&args[0], "llm_client_keys");
        args[1] = name;
        arr.elts = args;
        arr.nelts = 2;
        arr.size = sizeof(ngx_str_t);
        arr.nalloc = 2;
        arr.pool = &pool;
        cf.args = &arr;

        ngx_memzero(&cmd, sizeof(ngx_command_t));
        ngx_str_set(&cmd.name, "llm_client_keys");
        cmd.offset = 0;

        ck = NGX_CONF_UNSET_PTR;

        rv = ngx_http_llm_client_keys_directive(&cf, &cmd, &ck);
        rc = (rv == NGX_CONF_OK) ? NGX_OK : NGX_ERROR;

        expect = fuzz_client_expect(lines, n);

        if (rc == NGX_OK && (ck == NGX_CONF_UNSET_PTR || ck == NULL)) {
            fuzz_fail("accepted, but no keys set", data, size);
        }

    } else {
        ngx_memzero(&prov, sizeof(ngx_http_llm_provider_t));
        ngx_str_set(&prov.name, "fuzz");
        prov.api = openai ? NGX_HTTP_LLM_API_OPENAI
                          : NGX_HTTP_LLM_API_ANTHROPIC;
        prov.keys = ngx_array_create(&pool, 1, sizeof(ngx_str_t));

        rc = ngx_http_llm_read_key_file(&cf, &prov, &name);

        expect = (n == 0 || n == (size_t) -1) ? NGX_ERROR : NGX_OK;

        for (i = 0; expect == NGX_OK && i < n; i++) {
            for (key.data = lines[i].start; key.data < lines[i].end;
                 key.data++)
            {
                if (*key.data <= ' ' || *key.data >= 0x7f) {
                    expect = NGX_ERROR;
                    break;
                }
            }
        }

        if (rc == NGX_OK && expect == NGX_OK) {
            if (prov.keys->nelts != n) {
                fuzz_fail("not one key per key line", data, size);
            }

            v = prov.keys->elts;

            for (i = 0; i < n; i++) {
                key.data = lines[i].start;
                key.len = lines[i].end - lines[i].start;
                j = openai ? 7 : 0;

                if (v[i].len != key.len + j
                    || (openai && memcmp(v[i].data, "Bearer ", 7) != 0)
                    || memcmp(v[i].data + j, key.data, key.len) != 0)
                {
                    fuzz_fail("a key differs from its line", data, size);
                }
            }
        }
    }

    if (getenv("FUZZ_VERBOSE")) {
        fprintf(stderr, "%s: %s, expected %s, %zu key lines\n",
                client ? "client keys" : "key file",
                rc == NGX_OK ? "accepted" : "rejected",
                expect == NGX_OK ? "accepted" : "rejected", n);
    }

    /* more lines than the reference keeps: no verdict to compare */

    if (rc != expect && n != (size_t) -1) {
        fuzz_fail(rc == NGX_OK ? "accepted an invalid file"
                               : "rejected a valid file", data, size);
    }

    /* secrets: wiped from the read buffer; client keys: digests only */

    for (i = 0; i < n && n != (size_t) -1; i++) {
        if (fuzz_plain_key(&lines[i], client, &key) != NGX_OK) {
            continue;
        }

        if (ngx_stubs_pool_holds(&temp_pool, key.data, key.len)) {
            fuzz_fail("a key left in the temporary pool", data, size);
        }

        if (client && !fuzz_in_kept(lines, n, &key)
            && ngx_stubs_pool_holds(&pool, key.data, key.len))
        {
            fuzz_fail("a plaintext client key kept", data, size);
        }
    }

    free(lines);
    ngx_stubs_pool_reset();

    return 0;
}
