
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * One active health probe: a connection of its own to one address of a
 * provider (never one from a keepalive pool), TLS with SNI and the
 * location's proxy_ssl_* verification, one request, and the status line
 * of the answer read with nginx's own parser.  Event driven; the only
 * timer is cancelable, so that a graceful shutdown never waits for it.
 */


#include "ngx_http_llm_router_health.h"


#define NGX_HTTP_LLM_PROBE_IN   1024    /* a status line fits */


static ngx_int_t ngx_http_llm_probe_request(ngx_http_llm_probe_t *pr);
static void ngx_http_llm_probe_connected(ngx_http_llm_probe_t *pr);
#if (NGX_HTTP_SSL)
static void ngx_http_llm_probe_ssl_handshake(ngx_connection_t *c);
#endif
static void ngx_http_llm_probe_write(ngx_event_t *wev);
static void ngx_http_llm_probe_read(ngx_event_t *rev);
static void ngx_http_llm_probe_timeout(ngx_event_t *ev);
static void ngx_http_llm_probe_done(ngx_http_llm_probe_t *pr,
    ngx_uint_t outcome, const char *reason);
static void ngx_http_llm_probe_close(ngx_http_llm_probe_t *pr);


ngx_int_t
ngx_http_llm_probe_start(ngx_http_llm_probe_t *pr, ngx_log_t *log)
{
    ngx_int_t                 rc;
    ngx_connection_t         *c;
    ngx_http_llm_provider_t  *prov;

    prov = pr->prov;

    pr->pool = ngx_create_pool(1024, log);
    if (pr->pool == NULL) {
        return NGX_ERROR;
    }

    pr->busy = 1;
    pr->start = ngx_current_msec;
    pr->probe_key = 0;

    if (prov->keys->nelts) {
        pr->probe_key = pr->key % prov->keys->nelts;
        pr->key = pr->probe_key + 1;
    }

    if (ngx_http_llm_probe_request(pr) != NGX_OK) {
        ngx_destroy_pool(pr->pool);
        pr->pool = NULL;
        pr->busy = 0;
        return NGX_ERROR;
    }

    pr->timer.handler = ngx_http_llm_probe_timeout;
    pr->timer.data = pr;
    pr->timer.log = log;
    pr->timer.cancelable = 1;

    ngx_add_timer(&pr->timer, prov->check->timeout);

    ngx_memzero(&pr->pc, sizeof(ngx_peer_connection_t));

    pr->pc.sockaddr = pr->sockaddr;
    pr->pc.socklen = pr->socklen;
    pr->pc.name = &pr->name;
    pr->pc.get = ngx_event_get_peer;
    pr->pc.log = log;
    pr->pc.log_error = NGX_ERROR_INFO;

    rc = ngx_event_connect_peer(&pr->pc);

    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
        ngx_http_llm_probe_done(pr, NGX_HTTP_LLM_OUT_ERROR,
                                "connect failed");
        return NGX_OK;
    }

    c = pr->pc.connection;
    c->data = pr;
    c->pool = pr->pool;
    c->log = log;
    c->read->log = log;
    c->write->log = log;
    c->read->handler = ngx_http_llm_probe_read;
    c->write->handler = ngx_http_llm_probe_write;

    if (rc == NGX_AGAIN) {
        /* the write event says when the connection is up */
        return NGX_OK;
    }

    ngx_http_llm_probe_connected(pr);

    return NGX_OK;
}


/* the probe's request: GET (or POST check_body) with the provider's key */

static ngx_int_t
ngx_http_llm_probe_request(ngx_http_llm_probe_t *pr)
{
    u_char                   *p;
    size_t                    len;
    ngx_str_t                *key;
    ngx_http_llm_check_t     *chk;
    ngx_http_llm_provider_t  *prov;

    prov = pr->prov;
    chk = prov->check;
    key = prov->keys->nelts ? (ngx_str_t *) prov->keys->elts + pr->probe_key
                            : NULL;

    len = sizeof("POST  HTTP/1.1" CRLF) + chk->uri.len
          + sizeof("Host: " CRLF) + prov->host_header.len
          + sizeof("User-Agent: nginx-llm-router-probe" CRLF)
          + sizeof("Connection: close" CRLF)
          + sizeof("Accept-Encoding: identity" CRLF)
          + sizeof("Content-Type: application/json" CRLF)
          + sizeof("Content-Length: " CRLF) + NGX_SIZE_T_LEN
          + sizeof("anthropic-version: " NGX_HTTP_LLM_ANTHROPIC_VERSION CRLF)
          + sizeof("Authorization: " CRLF) + (key ? key->len : 0)
          + sizeof(CRLF) + chk->body.len;

    pr->out = ngx_create_temp_buf(pr->pool, len);
    if (pr->out == NULL) {
        return NGX_ERROR;
    }

    p = pr->out->last;

    p = ngx_sprintf(p, "%s %V HTTP/1.1" CRLF "Host: %V" CRLF
                    "User-Agent: nginx-llm-router-probe" CRLF
                    "Connection: close" CRLF
                    "Accept-Encoding: identity" CRLF,
                    chk->body.len ? "POST" : "GET", &chk->uri,
                    &prov->host_header);

    if (key) {
        if (prov->api == NGX_HTTP_LLM_API_ANTHROPIC) {
            p = ngx_sprintf(p, "x-api-key: %V" CRLF "anthropic-version: "
                            NGX_HTTP_LLM_ANTHROPIC_VERSION CRLF, key);

        } else if (prov->api == NGX_HTTP_LLM_API_GEMINI) {
            p = ngx_sprintf(p, "x-goog-api-key: %V" CRLF, key);

        } else if (prov->api == NGX_HTTP_LLM_API_AZURE) {
            p = ngx_sprintf(p, "api-key: %V" CRLF, key);

        } else {
            p = ngx_sprintf(p, "Authorization: %V" CRLF, key);
        }

    } else if (prov->api == NGX_HTTP_LLM_API_ANTHROPIC) {
        p = ngx_cpymem(p, "anthropic-version: " NGX_HTTP_LLM_ANTHROPIC_VERSION
                       CRLF, sizeof("anthropic-version: "
                                    NGX_HTTP_LLM_ANTHROPIC_VERSION CRLF) - 1);
    }

    if (chk->body.len) {
        p = ngx_sprintf(p, "Content-Type: application/json" CRLF
                        "Content-Length: %uz" CRLF, chk->body.len);
    }

    *p++ = CR; *p++ = LF;

    p = ngx_http_llm_cpystr(p, &chk->body);

    pr->out->last = p;

    pr->in = ngx_create_temp_buf(pr->pool, NGX_HTTP_LLM_PROBE_IN);
    if (pr->in == NULL) {
        return NGX_ERROR;
    }

    /* ngx_http_parse_status_line() keeps its state in a request */

    pr->parser = ngx_pcalloc(pr->pool, sizeof(ngx_http_request_t));
    if (pr->parser == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_llm_probe_connected(ngx_http_llm_probe_t *pr)
{
#if (NGX_HTTP_SSL)
    u_char                    *name;
    ngx_int_t                  rc;
    ngx_connection_t          *c;
    ngx_http_llm_provider_t   *prov;
    ngx_http_upstream_conf_t  *ucf;

    c = pr->pc.connection;
    prov = pr->prov;
    ucf = pr->upstream;

    if (prov->tls && c->ssl == NULL) {

        if (ucf == NULL || ucf->ssl == NULL) {
            ngx_http_llm_probe_done(pr, NGX_HTTP_LLM_OUT_ERROR,
                                    "no TLS settings: the router location "
                                    "must proxy to \"https://llm_router\"");
            return;
        }

        if (ngx_ssl_create_connection(ucf->ssl, c, NGX_SSL_BUFFER
                                                   |NGX_SSL_CLIENT)
            != NGX_OK)
        {
            ngx_http_llm_probe_done(pr, NGX_HTTP_LLM_OUT_ERROR,
                                    "TLS setup failed");
            return;
        }

        /* SNI as proxy sends it: a name, never an address */

        if (ucf->ssl_server_name
            && ngx_inet_addr(prov->host.data, prov->host.len) == INADDR_NONE)
        {
            name = ngx_pnalloc(pr->pool, prov->host.len + 1);
            if (name == NULL) {
                ngx_http_llm_probe_done(pr, NGX_HTTP_LLM_OUT_ERROR,
                                        "out of memory");
                return;
            }

            (void) ngx_cpystrn(name, prov->host.data, prov->host.len + 1);

            if (SSL_set_tlsext_host_name(c->ssl->connection, (char *) name)
                == 0)
            {
                ngx_http_llm_probe_done(pr, NGX_HTTP_LLM_OUT_ERROR,
                                        "TLS SNI failed");
                return;
            }
        }

        rc = ngx_ssl_handshake(c);

        if (rc == NGX_AGAIN) {
            c->ssl->handler = ngx_http_llm_probe_ssl_handshake;
            return;
        }

        ngx_http_llm_probe_ssl_handshake(c);
        return;
    }
#endif

    ngx_http_llm_probe_write(pr->pc.connection->write);
}


#if (NGX_HTTP_SSL)

static void
ngx_http_llm_probe_ssl_handshake(ngx_connection_t *c)
{
    long                       rc;
    ngx_http_llm_probe_t      *pr;
    ngx_http_upstream_conf_t  *ucf;

    pr = c->data;
    ucf = pr->upstream;

    if (!c->ssl->handshaked) {
        ngx_http_llm_probe_done(pr, NGX_HTTP_LLM_OUT_ERROR,
                                "TLS handshake failed");
        return;
    }

    if (ucf->ssl_verify) {
        rc = SSL_get_verify_result(c->ssl->connection);

        if (rc != X509_V_OK) {
            ngx_log_error(NGX_LOG_INFO, c->log, 0,
                          "llm router: probe of \"%V\": certificate verify "
                          "error: (%l:%s)", &pr->prov->name, rc,
                          X509_verify_cert_error_string(rc));
            ngx_http_llm_probe_done(pr, NGX_HTTP_LLM_OUT_ERROR,
                                    "certificate verify error");
            return;
        }

        if (ngx_ssl_check_host(c, &pr->prov->host) != NGX_OK) {
            ngx_http_llm_probe_done(pr, NGX_HTTP_LLM_OUT_ERROR,
                                    "certificate does not match the host");
            return;
        }
    }

    c->read->handler = ngx_http_llm_probe_read;
    c->write->handler = ngx_http_llm_probe_write;

    ngx_http_llm_probe_write(c->write);
}

#endif


static void
ngx_http_llm_probe_write(ngx_event_t *wev)
{
    ssize_t                n;
    ngx_buf_t             *b;
    ngx_connection_t      *c;
    ngx_http_llm_probe_t  *pr;

    c = wev->data;
    pr = c->data;
    b = pr->out;

    if (b->pos == b->start && c->ssl == NULL && pr->prov->tls) {
        /* connected now: TLS first */
        ngx_http_llm_probe_connected(pr);
        return;
    }

    while (b->pos < b->last) {
        n = c->send(c, b->pos, b->last - b->pos);

        if (n == NGX_AGAIN) {
            if (ngx_handle_write_event(wev, 0) != NGX_OK) {
                ngx_http_llm_probe_done(pr, NGX_HTTP_LLM_OUT_ERROR,
                                        "event failed");
            }

            return;
        }

        if (n == NGX_ERROR || n == 0) {
            ngx_http_llm_probe_done(pr, NGX_HTTP_LLM_OUT_ERROR,
                                    "send failed");
            return;
        }

        b->pos += n;
    }

    /* all sent: nothing more to write, wait for the answer */

    wev->handler = ngx_http_empty_handler;

    if (c->read->ready) {
        ngx_http_llm_probe_read(c->read);
        return;
    }

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_http_llm_probe_done(pr, NGX_HTTP_LLM_OUT_ERROR, "event failed");
    }
}


static void
ngx_http_llm_probe_read(ngx_event_t *rev)
{
    ssize_t                n;
    ngx_int_t              rc;
    ngx_buf_t             *b;
    ngx_connection_t      *c;
    ngx_http_status_t      status;
    ngx_http_llm_probe_t  *pr;

    c = rev->data;
    pr = c->data;
    b = pr->in;

    if (pr->out->pos < pr->out->last) {
        /* readable before the request went out: an answer without one */
        ngx_http_llm_probe_write(c->write);
        return;
    }

    for ( ;; ) {
        if (b->last == b->end) {
            ngx_http_llm_probe_done(pr, NGX_HTTP_LLM_OUT_ERROR,
                                    "no status line in the answer");
            return;
        }

        n = c->recv(c, b->last, b->end - b->last);

        if (n == NGX_AGAIN) {
            if (ngx_handle_read_event(rev, 0) != NGX_OK) {
                ngx_http_llm_probe_done(pr, NGX_HTTP_LLM_OUT_ERROR,
                                        "event failed");
            }

            return;
        }

        if (n == NGX_ERROR || n == 0) {
            ngx_http_llm_probe_done(pr, NGX_HTTP_LLM_OUT_ERROR,
                                    "connection closed before the status");
            return;
        }

        b->last += n;

        ngx_memzero(&status, sizeof(ngx_http_status_t));

        rc = ngx_http_parse_status_line(pr->parser, b, &status);

        if (rc == NGX_AGAIN) {
            continue;
        }

        if (rc == NGX_ERROR) {
            ngx_http_llm_probe_done(pr, NGX_HTTP_LLM_OUT_ERROR,
                                    "not an HTTP answer");
            return;
        }

        /* the status is all a probe needs: the rest is never read */

        ngx_http_llm_probe_done(pr, status.code, NULL);
        return;
    }
}


static void
ngx_http_llm_probe_timeout(ngx_event_t *ev)
{
    ngx_http_llm_probe_done(ev->data, NGX_HTTP_LLM_OUT_TIMEOUT, "timeout");
}


static void
ngx_http_llm_probe_done(ngx_http_llm_probe_t *pr, ngx_uint_t outcome,
    const char *reason)
{
    ngx_log_t  *log;

    log = pr->pc.log ? pr->pc.log : pr->timer.log;

    if (reason) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, 0,
                       "llm router: probe of \"%V\": %s",
                       &pr->prov->name, reason);
    }

    ngx_http_llm_probe_close(pr);

    pr->done(pr, outcome, reason, log);
}


void
ngx_http_llm_probe_abort(ngx_http_llm_probe_t *pr)
{
    if (pr->busy) {
        ngx_http_llm_probe_close(pr);
    }
}


static void
ngx_http_llm_probe_close(ngx_http_llm_probe_t *pr)
{
    ngx_connection_t  *c;

    if (pr->timer.timer_set) {
        ngx_del_timer(&pr->timer);
    }

    c = pr->pc.connection;

    if (c) {
#if (NGX_HTTP_SSL)
        if (c->ssl) {
            /* no close_notify exchange: nothing waits for the peer */
            c->ssl->no_wait_shutdown = 1;
            c->ssl->no_send_shutdown = 1;
            (void) ngx_ssl_shutdown(c);
        }
#endif
        ngx_close_connection(c);
        pr->pc.connection = NULL;
    }

    if (pr->pool) {
        ngx_destroy_pool(pr->pool);
        pr->pool = NULL;
    }

    pr->busy = 0;
}
