
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * The "llm_router" upstream: a balancer over the providers' own upstreams.
 * Each attempt is delegated to the current provider's balancer (round
 * robin, hash, keepalive... keep working); when an attempt fails, the next
 * target gets a request rebuilt for it, before anything reaches the client.
 */


#include "ngx_http_llm_router.h"


static ngx_int_t ngx_http_llm_balancer_init_peer(ngx_http_request_t *r,
    ngx_http_upstream_srv_conf_t *us);
static ngx_int_t ngx_http_llm_balancer_delegate(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx);
static ngx_int_t ngx_http_llm_balancer_get(ngx_peer_connection_t *pc,
    void *data);
static void ngx_http_llm_balancer_free(ngx_peer_connection_t *pc,
    void *data, ngx_uint_t state);
#if (NGX_HTTP_SSL)
static ngx_int_t ngx_http_llm_balancer_set_session(ngx_peer_connection_t *pc,
    void *data);
static void ngx_http_llm_balancer_save_session(ngx_peer_connection_t *pc,
    void *data);
#endif
static ngx_int_t ngx_http_llm_reinit_request(ngx_http_request_t *r);
static ngx_int_t ngx_http_llm_process_header(ngx_http_request_t *r);
static void ngx_http_llm_record(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, ngx_uint_t outcome);
static ngx_msec_t ngx_http_llm_retry_after(ngx_http_request_t *r);
static ngx_int_t ngx_http_llm_set_timeouts(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, ngx_http_llm_provider_t *prov);


ngx_int_t
ngx_http_llm_balancer_init(ngx_conf_t *cf, ngx_http_upstream_srv_conf_t *us)
{
    us->peer.init = ngx_http_llm_balancer_init_peer;

    return NGX_OK;
}


static ngx_int_t
ngx_http_llm_balancer_init_peer(ngx_http_request_t *r,
    ngx_http_upstream_srv_conf_t *us)
{
    ngx_http_upstream_t  *u;
    ngx_http_llm_ctx_t   *ctx;

    ctx = (r == r->main) ? ngx_http_llm_get_ctx(r) : NULL;

    if (ctx == NULL || ctx->target == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "llm router: \"llm_router\" upstream used in a "
                      "location without \"llm_router on\"");
        return NGX_ERROR;
    }

    if (ctx->log_muted) {
        r->connection->log->log_level = ctx->log_level;
        ctx->log_muted = 0;
    }

    u = r->upstream;

    ctx->proxied = 1;
    ctx->tries = ctx->nplan + 1;
    ctx->conf = u->conf;

    /* proxy resets process_header on every retry: wrap reinit too */

    ctx->reinit_request = u->reinit_request;
    u->reinit_request = ngx_http_llm_reinit_request;

    ctx->process_header = u->process_header;
    u->process_header = ngx_http_llm_process_header;

    return ngx_http_llm_balancer_delegate(r, ctx);
}


/* lets the current target's upstream set up its own peer selection */

static ngx_int_t
ngx_http_llm_balancer_delegate(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx)
{
    ngx_http_upstream_t           *u;
    ngx_http_upstream_srv_conf_t  *uscf;

    u = r->upstream;
    uscf = ctx->target->provider->uscf;

    /* round robin reuses peer.data when it is set */
    u->peer.data = NULL;

    if (uscf->peer.init(r, uscf) != NGX_OK) {
        return NGX_ERROR;
    }

    ctx->peer_get = u->peer.get;
    ctx->peer_free = u->peer.free;
    ctx->peer_data = u->peer.data;

    u->peer.get = ngx_http_llm_balancer_get;
    u->peer.free = ngx_http_llm_balancer_free;
    u->peer.data = ctx;
    u->peer.tries = ctx->tries;

#if (NGX_HTTP_SSL)
    ctx->peer_set_session = u->peer.set_session;
    ctx->peer_save_session = u->peer.save_session;

    u->peer.set_session = ngx_http_llm_balancer_set_session;
    u->peer.save_session = ngx_http_llm_balancer_save_session;
#endif

    return NGX_OK;
}


static ngx_int_t
ngx_http_llm_balancer_get(ngx_peer_connection_t *pc, void *data)
{
    ngx_http_llm_ctx_t *ctx = data;

    ngx_int_t                 rc;
    ngx_uint_t                level;
    ngx_http_request_t       *r;
    ngx_http_upstream_t      *u;
    ngx_http_llm_target_t    *t;
    ngx_http_llm_provider_t  *prov;

    r = ctx->request;
    u = r->upstream;

    for ( ;; ) {

        if (ctx->got_first_get) {

            if (ctx->key_retry) {
                /* the same target again, with its next key */
                t = ctx->target;

            } else {
                if (ctx->stop) {
                    return NGX_BUSY;
                }

                t = ngx_http_llm_next_target(r, ctx, ctx->force);

                if (t == NULL) {
                    ctx->exhausted = 1;
                    return NGX_BUSY;
                }
            }

            rc = ngx_http_llm_build_request(r, ctx, t);

            if (rc == NGX_DECLINED) {
                /* the request has what this target's API cannot take */
                ctx->key_retry = 0;
                continue;
            }

            if (rc != NGX_OK) {
                return NGX_ERROR;
            }

            /* proxy rebuilds the headers: keep the key out of debug logs */

            level = r->connection->log->log_level;
            r->connection->log->log_level &= ~NGX_LOG_DEBUG_ALL;

            u->request_bufs = r->request_body->bufs;
            rc = u->create_request(r);

            r->connection->log->log_level = level;

            if (rc != NGX_OK) {
                return NGX_ERROR;
            }

            if (ngx_http_llm_balancer_delegate(r, ctx) != NGX_OK) {
                return NGX_ERROR;
            }
        }

        ctx->got_first_get = 1;
        ctx->recorded = 0;

        prov = ctx->target->provider;

        /* a server that probes found down is skipped, as max_fails does */

        rc = ngx_http_llm_health_get(prov, pc, ctx->peer_get, ctx->peer_free,
                                     ctx->peer_data);
        pc->tries = ctx->tries;

        if (rc != NGX_BUSY) {
            break;
        }

        /* the provider's upstream has no live server: next target */

        ngx_http_llm_record(r, ctx, NGX_HTTP_LLM_OUT_DOWN);
    }

    if (ngx_http_llm_set_timeouts(r, ctx, prov) != NGX_OK) {
        return NGX_ERROR;
    }

#if (NGX_HTTP_SSL)
    u->ssl = (prov->tls && u->conf->ssl) ? 1 : 0;
    u->ssl_name = prov->host;

    if (prov->tls && u->conf->ssl == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "llm router: provider \"%V\" needs TLS but the "
                      "location proxies to \"http://llm_router\"; use "
                      "\"proxy_pass https://llm_router\"", &prov->name);
    }
#endif

    return rc;
}


static void
ngx_http_llm_balancer_free(ngx_peer_connection_t *pc, void *data,
    ngx_uint_t state)
{
    ngx_http_llm_ctx_t *ctx = data;

    ngx_uint_t           outcome;
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = ctx->request;

    if (ctx->peer_free) {
        ctx->peer_free(pc, ctx->peer_data, state);
    }

    pc->tries = ctx->tries;

    if (ctx->recorded) {
        return;
    }

    if (!(state & NGX_PEER_FAILED)) {
        /* the request ended before the provider answered: client gone */
        ctx->recorded = 1;
        return;
    }

    /* no response header was seen: a connect error or a timeout */

    c = pc->connection;

    if (c && (c->read->timedout || c->write->timedout)) {
        outcome = NGX_HTTP_LLM_OUT_TIMEOUT;

    } else {
        outcome = NGX_HTTP_LLM_OUT_ERROR;
    }

    ngx_http_llm_record(r, ctx, outcome);

    if (!ngx_http_llm_provider_fails_on(ctx->target->provider, outcome)) {
        ctx->stop = 1;
    }
}


#if (NGX_HTTP_SSL)

static ngx_int_t
ngx_http_llm_balancer_set_session(ngx_peer_connection_t *pc, void *data)
{
    ngx_http_llm_ctx_t *ctx = data;

    if (ctx->peer_set_session) {
        return ctx->peer_set_session(pc, ctx->peer_data);
    }

    return NGX_OK;
}


static void
ngx_http_llm_balancer_save_session(ngx_peer_connection_t *pc, void *data)
{
    ngx_http_llm_ctx_t *ctx = data;

    if (ctx->peer_save_session) {
        ctx->peer_save_session(pc, ctx->peer_data);
    }
}

#endif


static ngx_int_t
ngx_http_llm_reinit_request(ngx_http_request_t *r)
{
    ngx_int_t             rc;
    ngx_http_upstream_t  *u;
    ngx_http_llm_ctx_t   *ctx;

    ctx = ngx_http_llm_get_ctx(r);
    u = r->upstream;

    rc = ctx->reinit_request(r);

    ctx->process_header = u->process_header;
    u->process_header = ngx_http_llm_process_header;

    return rc;
}


/*
 * Classifies the provider's answer once its header is parsed.  A failure
 * that fails over is turned into a 502, which "proxy_next_upstream
 * http_502" retries, and the balancer then picks the next target or
 * gives up; any other answer goes to the client as it is.
 */

static ngx_int_t
ngx_http_llm_process_header(ngx_http_request_t *r)
{
    ngx_int_t             rc, next;
    ngx_uint_t            status;
    ngx_http_upstream_t  *u;
    ngx_http_llm_ctx_t   *ctx;

    ctx = ngx_http_llm_get_ctx(r);
    u = r->upstream;

    rc = ctx->process_header(r);

    /* proxy moves from the status line to the headers by switching */

    if (u->process_header != ngx_http_llm_process_header) {
        ctx->process_header = u->process_header;
        u->process_header = ngx_http_llm_process_header;
    }

    if (rc != NGX_OK) {
        return rc;
    }

    status = u->headers_in.status_n;

    if (status == 401 || status == 429) {
        ctx->retry_after = ngx_http_llm_retry_after(r);
    }

    if (status == 401 || status == 403 || status == 429) {
        /* the key was refused or is rate limited: the next key, at once */

        next = ngx_http_llm_key_next(ctx->target->provider, ctx->key_index,
                                     ctx->keys_tried);

        if (next != NGX_DECLINED) {
            ctx->key_retry = 1;
            ctx->key_retry_index = next;

            ngx_http_llm_record(r, ctx, status);

            ctx->forced_502 = 1;
            u->headers_in.status_n = NGX_HTTP_BAD_GATEWAY;
            u->peer.tries = ctx->tries;
            return NGX_OK;
        }
    }

    ngx_http_llm_record(r, ctx, status);

    ctx->forced_502 = 0;

    if (ngx_http_llm_provider_fails_on(ctx->target->provider, status)) {
        u->headers_in.status_n = NGX_HTTP_BAD_GATEWAY;
        u->peer.tries = ctx->tries;

        /* should nginx not retry after all, the filter answers instead */
        ctx->forced_502 = 1;
        return NGX_OK;
    }

    if (status == 401 || status == 402 || status == 403) {
        /*
         * the provider refused the gateway's own key; its message may
         * quote part of it, so the client gets the router's 502 instead
         */
        ctx->stop = 1;
        ctx->refused = 1;
        ctx->forced_502 = 1;
        u->headers_in.status_n = NGX_HTTP_BAD_GATEWAY;
        u->peer.tries = ctx->tries;
        return NGX_OK;
    }

    /* anything else is the answer: no retry by nginx either */

    u->peer.tries = 1;

    return NGX_OK;
}


static void
ngx_http_llm_record(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    ngx_uint_t outcome)
{
    ngx_uint_t                failed;
    ngx_http_llm_attempt_t   *a;
    ngx_http_llm_provider_t  *prov;

    prov = ctx->target->provider;
    ctx->recorded = 1;

    if (ctx->nattempts < NGX_HTTP_LLM_MAX_ATTEMPTS) {
        a = &ctx->attempts[ctx->nattempts++];
        a->target = ctx->target;
        a->status = outcome;
        a->key = (prov->keys->nelts > 1) ? ctx->key_index + 1 : 0;
    }

    if ((outcome == 401 || outcome == 403 || outcome == 429)
        && prov->keys->nelts > 1)
    {
        ngx_http_llm_key_cool(prov, r->connection->log, ctx->key_index,
                              ngx_max(ctx->retry_after, prov->fail_timeout));
    }

    if (ctx->key_retry) {
        /* a key's failure, not the provider's: the circuit stays as is */

        if (prov->shm) {
            (void) ngx_atomic_fetch_add(&prov->shm->attempts, 1);
        }

        ctx->retry_after = 0;
        return;
    }

    failed = ngx_http_llm_provider_fails_on(prov, outcome);

    ngx_http_llm_select_sample(r, ctx->target, outcome);

    if (prov->shm) {
        (void) ngx_atomic_fetch_add(&prov->shm->attempts, 1);

        if (failed) {
            (void) ngx_atomic_fetch_add(&prov->shm->failures, 1);
        }
    }

    if (failed) {
        if (outcome >= 100) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "llm router: provider \"%V\" failed (status %ui)",
                          &prov->name, outcome);

        } else {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "llm router: provider \"%V\" failed (%s)",
                          &prov->name,
                          outcome == NGX_HTTP_LLM_OUT_TIMEOUT ? "timeout"
                          : outcome == NGX_HTTP_LLM_OUT_DOWN ? "no live server"
                          : "error");
        }
    }

    if (failed || outcome < 400) {
        ngx_http_llm_circuit_result(prov, r->connection->log, failed,
                                    ctx->retry_after);
    }

    ctx->retry_after = 0;
}


/*
 * A provider's connect_timeout= and read_timeout= apply to its attempts
 * through a copy of the location's upstream conf, which others share.
 */

static ngx_int_t
ngx_http_llm_set_timeouts(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    ngx_http_llm_provider_t *prov)
{
    ngx_http_upstream_t  *u;

    u = r->upstream;

    if (prov->connect_timeout == NGX_CONF_UNSET_MSEC
        && prov->read_timeout == NGX_CONF_UNSET_MSEC)
    {
        u->conf = ctx->conf;
        return NGX_OK;
    }

    if (ctx->conf_copy == NULL) {
        ctx->conf_copy = ngx_palloc(r->pool,
                                    sizeof(ngx_http_upstream_conf_t));
        if (ctx->conf_copy == NULL) {
            return NGX_ERROR;
        }
    }

    *ctx->conf_copy = *ctx->conf;

    if (prov->connect_timeout != NGX_CONF_UNSET_MSEC) {
        ctx->conf_copy->connect_timeout = prov->connect_timeout;
    }

    if (prov->read_timeout != NGX_CONF_UNSET_MSEC) {
        ctx->conf_copy->read_timeout = prov->read_timeout;
    }

    u->conf = ctx->conf_copy;

    return NGX_OK;
}


/* Retry-After in seconds or as an HTTP date */

static ngx_msec_t
ngx_http_llm_retry_after(ngx_http_request_t *r)
{
    time_t            t;
    ngx_int_t         n;
    ngx_table_elt_t  *h;

    static ngx_str_t  name = ngx_string("Retry-After");

    h = ngx_http_llm_find_header(&r->upstream->headers_in.headers, &name);

    if (h == NULL) {
        return 0;
    }

    n = ngx_atoi(h->value.data, h->value.len);

    if (n == NGX_ERROR) {
        t = ngx_parse_http_time(h->value.data, h->value.len);
        if (t == NGX_ERROR || t <= ngx_time()) {
            return 0;
        }

        n = t - ngx_time();
    }

    /* a day at most: a bogus header must not park a provider */
    n = ngx_min(n, 86400);

    return (ngx_msec_t) n * 1000;
}
