
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * llm_client_keys: the gateway's own API keys, one tenant per key.
 *
 * Only SHA-256 digests of the keys are kept: a plaintext key is hashed
 * when the file is read and the read buffer is wiped, so no key stays in
 * memory after "nginx -t" or a reload.  A request's key is hashed and
 * looked up by digest; no key is ever logged, not even at debug level.
 */


#include "ngx_http_llm_router.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>


#define NGX_HTTP_LLM_CLIENT_KEYS_MAX  (64 * 1024 * 1024)
#define NGX_HTTP_LLM_DIGEST_LEN       SHA256_DIGEST_LENGTH


struct ngx_http_llm_client_key_s {
    u_char                           digest[NGX_HTTP_LLM_DIGEST_LEN];
    ngx_str_t                        tenant;
    ngx_array_t                     *models;  /* ngx_str_t, NULL: all */
    ngx_uint_t                       line;    /* in the key file */
};


struct ngx_http_llm_client_keys_s {
    ngx_str_t                        file;    /* full name */
    ngx_http_llm_client_key_t       *keys;    /* sorted by digest */
    ngx_uint_t                       nkeys;
};


static ngx_int_t ngx_http_llm_client_keys_read(ngx_conf_t *cf,
    ngx_http_llm_client_keys_t *ck);
static ngx_int_t ngx_http_llm_client_keys_parse(ngx_conf_t *cf,
    ngx_http_llm_client_keys_t *ck, u_char *buf, size_t len);
static ngx_int_t ngx_http_llm_client_keys_line(ngx_conf_t *cf,
    ngx_http_llm_client_keys_t *ck, ngx_array_t *keys, ngx_uint_t line,
    u_char *start, u_char *end);
static ngx_int_t ngx_http_llm_client_keys_models(ngx_conf_t *cf,
    ngx_http_llm_client_keys_t *ck, ngx_http_llm_client_key_t *key,
    ngx_str_t *list);
static ngx_int_t ngx_http_llm_client_keys_hex(u_char *digest, u_char *hex,
    size_t len);
static int ngx_libc_cdecl ngx_http_llm_client_keys_cmp(const void *one,
    const void *two);
static ngx_int_t ngx_http_llm_client_key_get(ngx_http_request_t *r,
    ngx_str_t *key);


static ngx_str_t  ngx_http_llm_x_api_key = ngx_string("x-api-key");
static ngx_str_t  ngx_http_llm_api_key = ngx_string("api-key");


char *
ngx_http_llm_client_keys_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    char  *p = conf;

    ngx_str_t                    *value;
    ngx_http_llm_client_keys_t  **field, *ck;

    field = (ngx_http_llm_client_keys_t **) (p + cmd->offset);

    if (*field != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        *field = NULL;
        return NGX_CONF_OK;
    }

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "empty path in \"%V\"", &cmd->name);
        return NGX_CONF_ERROR;
    }

    ck = ngx_pcalloc(cf->pool, sizeof(ngx_http_llm_client_keys_t));
    if (ck == NULL) {
        return NGX_CONF_ERROR;
    }

    /* relative to the configuration prefix, as llm_upstream key_file= */

    ck->file = value[1];

    if (ngx_conf_full_name(cf->cycle, &ck->file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_llm_client_keys_read(cf, ck) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    *field = ck;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_llm_client_keys_read(ngx_conf_t *cf, ngx_http_llm_client_keys_t *ck)
{
    ngx_int_t  rc;
    ngx_str_t  what, content;

    what.data = ngx_pnalloc(cf->temp_pool,
                            sizeof("client keys file \"\"") - 1
                            + ck->file.len);
    if (what.data == NULL) {
        return NGX_ERROR;
    }

    what.len = ngx_sprintf(what.data, "client keys file \"%V\"", &ck->file)
               - what.data;

    if (ngx_http_llm_key_file_read(cf, ck->file.data, &what,
                                   NGX_HTTP_LLM_CLIENT_KEYS_MAX, &content)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    rc = ngx_http_llm_client_keys_parse(cf, ck, content.data, content.len);

    ngx_http_llm_key_file_wipe(&content);

    return rc;
}


static ngx_int_t
ngx_http_llm_client_keys_parse(ngx_conf_t *cf, ngx_http_llm_client_keys_t *ck,
    u_char *buf, size_t len)
{
    u_char                     *pos, *end, *s, *e;
    ngx_uint_t                  i, line;
    ngx_array_t                 keys;
    ngx_http_llm_client_key_t  *k;

    if (ngx_array_init(&keys, cf->pool, 16, sizeof(ngx_http_llm_client_key_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    pos = buf;
    end = buf + len;
    line = 0;

    while (pos < end) {
        line++;

        pos = ngx_http_llm_conf_line(pos, end, &s, &e);

        if (s < e && *s != '#') {
            if (ngx_http_llm_client_keys_line(cf, ck, &keys, line, s, e)
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }

    if (keys.nelts == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "client keys file \"%s\" has no keys",
                           ck->file.data);
        return NGX_ERROR;
    }

    k = keys.elts;

    ngx_qsort(k, keys.nelts, sizeof(ngx_http_llm_client_key_t),
              ngx_http_llm_client_keys_cmp);

    /* equal digests are neighbours once sorted */

    for (i = 1; i < keys.nelts; i++) {
        if (ngx_memcmp(k[i - 1].digest, k[i].digest, NGX_HTTP_LLM_DIGEST_LEN)
            == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate key in lines %ui and %ui of "
                               "client keys file \"%s\"",
                               ngx_min(k[i - 1].line, k[i].line),
                               ngx_max(k[i - 1].line, k[i].line),
                               ck->file.data);
            return NGX_ERROR;
        }
    }

    ck->keys = k;
    ck->nkeys = keys.nelts;

    return NGX_OK;
}


/*
 * "<key or sha256:hex> <tenant> [models=a,b]".  Error messages name the
 * line, never what it holds: the first field may be a key.
 */

static ngx_int_t
ngx_http_llm_client_keys_line(ngx_conf_t *cf, ngx_http_llm_client_keys_t *ck,
    ngx_array_t *keys, ngx_uint_t line, u_char *start, u_char *end)
{
    u_char                     *p;
    ngx_str_t                   field[4];
    ngx_uint_t                  n, i;
    ngx_http_llm_client_key_t  *key;

    for (p = start; p < end; p++) {
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "control character in line %ui of client "
                               "keys file \"%s\"", line, ck->file.data);
            return NGX_ERROR;
        }
    }

    /* fields are separated by spaces and tabs */

    n = 0;
    p = start;

    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t')) {
            p++;
        }

        if (p == end) {
            break;
        }

        if (n == 4) {
            goto malformed;
        }

        field[n].data = p;

        while (p < end && *p != ' ' && *p != '\t') {
            p++;
        }

        field[n].len = p - field[n].data;
        n++;
    }

    if (n < 2) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "no tenant in line %ui of client keys file \"%s\"",
                           line, ck->file.data);
        return NGX_ERROR;
    }

    if (n > 3) {
        goto malformed;
    }

    key = ngx_array_push(keys);
    if (key == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(key, sizeof(ngx_http_llm_client_key_t));

    key->line = line;

    if (field[0].len >= 7 && ngx_strncmp(field[0].data, "sha256:", 7) == 0) {
        if (ngx_http_llm_client_keys_hex(key->digest, field[0].data + 7,
                                         field[0].len - 7)
            != NGX_OK)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid sha256 digest in line %ui of client "
                               "keys file \"%s\", 64 hex digits expected",
                               line, ck->file.data);
            return NGX_ERROR;
        }

    } else {
        SHA256(field[0].data, field[0].len, key->digest);
    }

    /* the read buffer is wiped: the tenant and models are copied */

    key->tenant.len = field[1].len;
    key->tenant.data = ngx_pstrdup(cf->pool, &field[1]);
    if (key->tenant.data == NULL) {
        return NGX_ERROR;
    }

    for (i = 2; i < n; i++) {
        if (field[i].len >= 7 && ngx_strncmp(field[i].data, "models=", 7) == 0)
        {
            field[i].data += 7;
            field[i].len -= 7;

            if (ngx_http_llm_client_keys_models(cf, ck, key, &field[i])
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter in line %ui of client keys "
                           "file \"%s\", only \"models=\" is known",
                           line, ck->file.data);
        return NGX_ERROR;
    }

    return NGX_OK;

malformed:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "too many fields in line %ui of client keys file "
                       "\"%s\"", line, ck->file.data);
    return NGX_ERROR;
}


static ngx_int_t
ngx_http_llm_client_keys_models(ngx_conf_t *cf, ngx_http_llm_client_keys_t *ck,
    ngx_http_llm_client_key_t *key, ngx_str_t *list)
{
    u_char     *p, *last, *comma;
    ngx_str_t  *m, name;

    if (list->len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "empty \"models=\" in line %ui of client keys "
                           "file \"%s\"", key->line, ck->file.data);
        return NGX_ERROR;
    }

    key->models = ngx_array_create(cf->pool, 4, sizeof(ngx_str_t));
    if (key->models == NULL) {
        return NGX_ERROR;
    }

    p = list->data;
    last = list->data + list->len;

    for ( ;; ) {
        comma = ngx_strlchr(p, last, ',');
        if (comma == NULL) {
            comma = last;
        }

        name.data = p;
        name.len = comma - p;

        if (name.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "empty model name in \"models=\" in line %ui "
                               "of client keys file \"%s\"",
                               key->line, ck->file.data);
            return NGX_ERROR;
        }

        m = ngx_array_push(key->models);
        if (m == NULL) {
            return NGX_ERROR;
        }

        m->len = name.len;
        m->data = ngx_pstrdup(cf->pool, &name);
        if (m->data == NULL) {
            return NGX_ERROR;
        }

        if (comma == last) {
            break;
        }

        p = comma + 1;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_llm_client_keys_hex(u_char *digest, u_char *hex, size_t len)
{
    ngx_int_t   n;
    ngx_uint_t  i;

    if (len != 2 * NGX_HTTP_LLM_DIGEST_LEN) {
        return NGX_ERROR;
    }

    for (i = 0; i < NGX_HTTP_LLM_DIGEST_LEN; i++) {
        n = ngx_hextoi(&hex[2 * i], 2);
        if (n == NGX_ERROR) {
            return NGX_ERROR;
        }

        digest[i] = (u_char) n;
    }

    return NGX_OK;
}


static int ngx_libc_cdecl
ngx_http_llm_client_keys_cmp(const void *one, const void *two)
{
    const ngx_http_llm_client_key_t  *a = one;
    const ngx_http_llm_client_key_t  *b = two;

    return ngx_memcmp(a->digest, b->digest, NGX_HTTP_LLM_DIGEST_LEN);
}


/*
 * The presented key is hashed and the digest looked up by binary search.
 * The search's timing depends only on that digest, which tells nothing
 * usable about a stored key (finding a key from a digest is a SHA-256
 * preimage); the match itself is confirmed with CRYPTO_memcmp().  Hashing
 * first also means that no comparison ever runs over key bytes.
 */

ngx_int_t
ngx_http_llm_client_key_check(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx)
{
    u_char                       digest[NGX_HTTP_LLM_DIGEST_LEN];
    ngx_int_t                    rc;
    ngx_str_t                    key;
    ngx_uint_t                   lo, hi, mid;
    ngx_http_llm_client_key_t   *k;
    ngx_http_llm_client_keys_t  *ck;

    ck = ctx->lcf->client_keys;

    if (ngx_http_llm_client_key_get(r, &key) != NGX_OK) {
        return ngx_http_llm_set_error(r, ctx, NGX_HTTP_UNAUTHORIZED,
                                      "invalid_api_key", NULL,
                                      "Missing API key: send it as "
                                      "\"Authorization: Bearer KEY\" or "
                                      "\"x-api-key: KEY\"");
    }

    SHA256(key.data, key.len, digest);

    k = NULL;
    lo = 0;
    hi = ck->nkeys;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        rc = ngx_memcmp(digest, ck->keys[mid].digest,
                        NGX_HTTP_LLM_DIGEST_LEN);

        if (rc == 0) {
            k = &ck->keys[mid];
            break;
        }

        if (rc < 0) {
            hi = mid;

        } else {
            lo = mid + 1;
        }
    }

    if (k == NULL
        || CRYPTO_memcmp(digest, k->digest, NGX_HTTP_LLM_DIGEST_LEN) != 0)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "client key not found in \"%V\"", &ck->file);

        return ngx_http_llm_set_error(r, ctx, NGX_HTTP_UNAUTHORIZED,
                                      "invalid_api_key", NULL,
                                      "Invalid API key");
    }

    ctx->client_key = k;
    ctx->tenant = k->tenant;

    return NGX_OK;
}


/*
 * Has no side effect but ngx_http_llm_set_error() on a refusal: it is
 * also called to filter the GET models listing, model by model.
 */

ngx_int_t
ngx_http_llm_client_model_check(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, ngx_str_t *model)
{
    /* fail closed should a request get here without a key check */

    if (ctx->client_key == NULL) {
        return ngx_http_llm_set_error(r, ctx, NGX_HTTP_UNAUTHORIZED,
                                      "invalid_api_key", NULL,
                                      "Missing API key");
    }

    if (ngx_http_llm_client_model_allowed(ctx->client_key, model)) {
        return NGX_OK;
    }

    return ngx_http_llm_set_error(r, ctx, NGX_HTTP_FORBIDDEN,
                                  "model_not_allowed", "model",
                                  "This API key may not use the model `%V`",
                                  ngx_http_llm_error_quote(r->pool, model));
}


/* whether key may use model; no side effects (the models listing) */

ngx_uint_t
ngx_http_llm_client_model_allowed(ngx_http_llm_client_key_t *k,
    ngx_str_t *model)
{
    ngx_str_t   *m;
    ngx_uint_t   i;

    if (k == NULL) {
        return 0;
    }

    if (k->models == NULL) {
        return 1;
    }

    m = k->models->elts;

    for (i = 0; i < k->models->nelts; i++) {
        if (m[i].len == model->len
            && ngx_memcmp(m[i].data, model->data, model->len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/*
 * The key from "Authorization: Bearer", "x-api-key" or "api-key", the
 * first present in that order.  An Authorization header with another
 * scheme (e.g. Basic for an auth_basic in front) is not a key.
 */

static ngx_int_t
ngx_http_llm_client_key_get(ngx_http_request_t *r, ngx_str_t *key)
{
    u_char           *p, *last;
    ngx_table_elt_t  *h;

    h = r->headers_in.authorization;

    if (h && h->value.len >= 6
        && ngx_strncasecmp(h->value.data, (u_char *) "Bearer", 6) == 0
        && (h->value.len == 6
            || h->value.data[6] == ' ' || h->value.data[6] == '\t'))
    {
        p = h->value.data + 6;
        last = h->value.data + h->value.len;

        while (p < last && (*p == ' ' || *p == '\t')) {
            p++;
        }

        key->data = p;
        key->len = last - p;

        return key->len ? NGX_OK : NGX_DECLINED;
    }

    h = ngx_http_llm_find_header(&r->headers_in.headers,
                                 &ngx_http_llm_x_api_key);

    if (h == NULL) {
        h = ngx_http_llm_find_header(&r->headers_in.headers,
                                     &ngx_http_llm_api_key);
    }

    if (h == NULL || h->value.len == 0) {
        return NGX_DECLINED;
    }

    *key = h->value;

    return NGX_OK;
}
