
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * llm_redis tls=on: TLS with nginx's own SSL layer on the worker's
 * connection to Redis (hiredis 0.14 has none).  The context is made when
 * the configuration is loaded, so that nginx -t reports a bad file; each
 * worker takes a reference to it, as its connection outlives a cycle in
 * single process mode.  The handshake runs on nginx's events; the peer's
 * certificate is checked (chain, then name) before the first command, so
 * the password never goes to a server that is not the right one.
 */


#include "ngx_http_llm_router.h"
#include "ngx_http_llm_router_redis.h"


#if (NGX_SSL)

static ngx_int_t ngx_http_llm_redis_tls_file(ngx_conf_t *cf, ngx_str_t *file,
    const char *param);
static void ngx_http_llm_redis_tls_log(ngx_log_t *log, ngx_uint_t level,
    u_char *buf, size_t len);


/* at the end of llm_redis' parameters: the context, or the nginx -t error */

char *
ngx_http_llm_redis_tls_conf(ngx_conf_t *cf, ngx_http_llm_redis_conf_t *rc)
{
    ngx_ssl_t           *ssl;
    ngx_pool_cleanup_t  *cln;

    if (rc->tls_certificate.len != rc->tls_certificate_key.len
        && (rc->tls_certificate.len == 0 || rc->tls_certificate_key.len == 0))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "llm_redis \"%s\" needs \"%s\" too",
                           rc->tls_certificate.len ? "tls_certificate="
                                                   : "tls_certificate_key=",
                           rc->tls_certificate.len ? "tls_certificate_key="
                                                   : "tls_certificate=");
        return NGX_CONF_ERROR;
    }

    if (rc->tls_verify && rc->tls_name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "llm_redis \"tls=on\" on a unix socket needs "
                           "\"tls_name=\" (the name in the server's "
                           "certificate) or \"tls_verify=off\"");
        return NGX_CONF_ERROR;
    }

    ssl = ngx_pcalloc(cf->pool, sizeof(ngx_ssl_t));
    if (ssl == NULL) {
        return NGX_CONF_ERROR;
    }

    ssl->log = cf->log;

    if (ngx_ssl_create(ssl, NGX_SSL_TLSv1_2|NGX_SSL_TLSv1_3, NULL)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        ngx_ssl_cleanup_ctx(ssl);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_ssl_cleanup_ctx;
    cln->data = ssl;

    rc->ssl = ssl;

    if (rc->tls_certificate.len) {
        if (ngx_http_llm_redis_tls_file(cf, &rc->tls_certificate,
                                        "tls_certificate=")
                != NGX_OK
            || ngx_http_llm_redis_tls_file(cf, &rc->tls_certificate_key,
                                           "tls_certificate_key=")
               != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        if (ngx_ssl_certificate(cf, ssl, &rc->tls_certificate,
                                &rc->tls_certificate_key, NULL)
            != NGX_OK)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "llm_redis: cannot use \"tls_certificate=%V\" "
                               "with \"tls_certificate_key=%V\"",
                               &rc->tls_certificate,
                               &rc->tls_certificate_key);
            return NGX_CONF_ERROR;
        }
    }

    if (!rc->tls_verify) {
        return NGX_CONF_OK;
    }

    if (rc->tls_trusted_certificate.len == 0) {
        /* the system's CAs, as redis-cli --tls does */
        if (SSL_CTX_set_default_verify_paths(ssl->ctx) != 1) {
            ngx_ssl_error(NGX_LOG_EMERG, cf->log, 0,
                          "SSL_CTX_set_default_verify_paths() failed");
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "llm_redis: no trusted CAs, set "
                               "\"tls_trusted_certificate=\"");
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    if (ngx_http_llm_redis_tls_file(cf, &rc->tls_trusted_certificate,
                                    "tls_trusted_certificate=")
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (ngx_ssl_trusted_certificate(cf, ssl, &rc->tls_trusted_certificate, 4)
        != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "llm_redis: cannot use "
                           "\"tls_trusted_certificate=%V\"",
                           &rc->tls_trusted_certificate);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* a readable file, relative to the configuration's directory */

static ngx_int_t
ngx_http_llm_redis_tls_file(ngx_conf_t *cf, ngx_str_t *file,
    const char *param)
{
    ngx_fd_t  fd;

    if (ngx_conf_full_name(cf->cycle, file, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    fd = ngx_open_file(file->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "llm_redis \"%s\": cannot open \"%V\"",
                           param, file);
        return NGX_ERROR;
    }

    (void) ngx_close_file(fd);

    return NGX_OK;
}


/*
 * A worker's reference to the context (it outlives the cycle), and the
 * log of its connections: nginx's SSL errors are kept in "why", for the
 * one line per change of state, never written.
 */

ngx_int_t
ngx_http_llm_redis_tls_init(ngx_http_llm_redis_conf_t *rc, ngx_ssl_t *ssl,
    ngx_log_t *tls_log, u_char *why, ngx_log_t *log)
{
    ngx_memzero(ssl, sizeof(ngx_ssl_t));

    if (!rc->tls) {
        return NGX_OK;
    }

    *tls_log = *log;
    tls_log->log_level = NGX_LOG_INFO;
    tls_log->writer = ngx_http_llm_redis_tls_log;
    tls_log->wdata = why;
    tls_log->next = NULL;

    if (SSL_CTX_up_ref(rc->ssl->ctx) != 1) {
        return NGX_ERROR;
    }

    ssl->ctx = rc->ssl->ctx;
    ssl->log = log;
    ssl->buffer_size = NGX_SSL_BUFSIZE;

    return NGX_OK;
}


void
ngx_http_llm_redis_tls_free(ngx_ssl_t *ssl)
{
    if (ssl->ctx) {
        SSL_CTX_free(ssl->ctx);
        ssl->ctx = NULL;
    }
}


/*
 * Starts the handshake on a connected socket: NGX_OK (done at once: call
 * ngx_http_llm_redis_tls_check()), NGX_AGAIN (handler is called when it
 * ends, either way), NGX_ERROR.  c->pool must be set.
 */

ngx_int_t
ngx_http_llm_redis_tls_start(ngx_connection_t *c, ngx_ssl_t *ssl,
    ngx_http_llm_redis_conf_t *rc, ngx_connection_handler_pt handler)
{
    ngx_int_t  n;

    if (ngx_ssl_create_connection(ssl, c, NGX_SSL_CLIENT) != NGX_OK) {
        return NGX_ERROR;
    }

    /* SNI is a name, never an address (RFC 6066) */

    if (rc->tls_name.len
        && ngx_inet_addr(rc->tls_name.data, rc->tls_name.len) == INADDR_NONE
#if (NGX_HAVE_INET6)
        && ngx_strlchr(rc->tls_name.data,
                       rc->tls_name.data + rc->tls_name.len, ':')
           == NULL
#endif
        && SSL_set_tlsext_host_name(c->ssl->connection,
                                    (char *) rc->tls_name.data)
           == 0)
    {
        ngx_ssl_error(NGX_LOG_ERR, c->log, 0, "SSL_set_tlsext_host_name() "
                      "failed");
        return NGX_ERROR;
    }

    n = ngx_ssl_handshake(c);

    if (n == NGX_AGAIN) {
        c->ssl->handler = handler;
    }

    return n;
}


/*
 * After the handshake: NGX_OK, or NGX_ERROR with the reason in err (a
 * NUL-terminated string).
 */

ngx_int_t
ngx_http_llm_redis_tls_check(ngx_connection_t *c,
    ngx_http_llm_redis_conf_t *rc, u_char *err, size_t size)
{
    int    ok;
    long   v;
    X509  *cert;

    if (c->ssl == NULL) {
        *ngx_cpymem(err, "setup failed", 12) = '\0';
        return NGX_ERROR;
    }

    if (!c->ssl->handshaked) {
        *ngx_cpymem(err, "handshake failed", 16) = '\0';
        return NGX_ERROR;
    }

    if (!rc->tls_verify) {
        return NGX_OK;
    }

    v = SSL_get_verify_result(c->ssl->connection);

    if (v != X509_V_OK) {
        *ngx_snprintf(err, size - 1, "certificate verify error: (%l:%s)",
                      v, X509_verify_cert_error_string(v)) = '\0';
        return NGX_ERROR;
    }

    cert = SSL_get_peer_certificate(c->ssl->connection);
    if (cert == NULL) {
        *ngx_cpymem(err, "no certificate", 14) = '\0';
        return NGX_ERROR;
    }

    /* an address is checked against the certificate's IP names */

    ok = X509_check_ip_asc(cert, (char *) rc->tls_name.data, 0);

    if (ok == -2) {
        ok = X509_check_host(cert, (char *) rc->tls_name.data,
                             rc->tls_name.len, 0, NULL);
    }

    X509_free(cert);

    if (ok != 1) {
        *ngx_snprintf(err, size - 1, "the certificate is not for \"%V\"",
                      &rc->tls_name) = '\0';
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* keeps the first message since "why" was emptied, without the prefix */

static void
ngx_http_llm_redis_tls_log(ngx_log_t *log, ngx_uint_t level, u_char *buf,
    size_t len)
{
    u_char  *why, *p, *last;

    why = log->wdata;

    if (why[0]) {
        return;
    }

    last = buf + len;

    while (last > buf && (last[-1] == LF || last[-1] == CR)) {
        last--;
    }

    /* "2026/01/02 03:04:05 [crit] 12#0: *3 message" */

    p = ngx_strlchr(buf, last, '#');
    p = p ? ngx_strlchr(p, last, ' ') : NULL;

    if (p == NULL) {
        return;
    }

    p++;

    if (p < last && *p == '*') {
        p = ngx_strlchr(p, last, ' ');
        if (p == NULL) {
            return;
        }

        p++;
    }

    len = ngx_min((size_t) (last - p), NGX_HTTP_LLM_REDIS_WHY - 1);
    *ngx_cpymem(why, p, len) = '\0';
}


/* no close_notify exchange: nothing waits for the peer */

void
ngx_http_llm_redis_tls_close(ngx_connection_t *c)
{
    if (c->ssl) {
        c->ssl->no_wait_shutdown = 1;
        c->ssl->no_send_shutdown = 1;
        (void) ngx_ssl_shutdown(c);
    }
}

#endif
