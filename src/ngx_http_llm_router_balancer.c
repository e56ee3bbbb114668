
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
static void ngx_http_llm_balancer_notify(ngx_peer_connection_t *pc,
    void *data, ngx_uint_t type);
#if (NGX_HTTP_SSL)
static ngx_int_t ngx_http_llm_balancer_set_session(ngx_peer_connection_t *pc,
    void *data);
static void ngx_http_llm_balancer_save_session(ngx_peer_connection_t *pc,
    void *data);
#endif
static ngx_int_t ngx_http_llm_reinit_request(ngx_http_request_t *r);
static ngx_int_t ngx_http_llm_process_header(ngx_http_request_t *r);
static ngx_int_t ngx_http_llm_chunked_check(ngx_http_request_t *r,
    ngx_buf_t *buf);
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

    ngx_http_llm_cache_init_peer(r, ctx);

    /* proxy resets process_header on every retry: wrap reinit too */

    ctx->reinit_request = u->reinit_request;
    u->reinit_request = ngx_http_llm_reinit_request;

    ctx->process_header = u->process_header;
    u->process_header = ngx_http_llm_process_header;

    return ngx_http_llm_balancer_delegate(r, ctx);
}


/*
 * Lets the current target's upstream set up its own peer selection, then
 * wraps every callback it set, keeping the delegate's own data for them.
 */

static ngx_int_t
ngx_http_llm_balancer_delegate(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx)
{
    ngx_http_llm_peer_t           *lp;
    ngx_http_upstream_t           *u;
    ngx_http_upstream_srv_conf_t  *uscf;

    u = r->upstream;
    uscf = ctx->target->provider->uscf;
    lp = &ctx->peer;

    /*
     * round robin reuses peer.data when it is set; a balancer that wraps
     * another (keepalive, sticky) saves whatever it finds: none of the
     * previous provider's callbacks, nor the router's, may be left
     */

    u->peer.data = NULL;
    u->peer.get = NULL;
    u->peer.free = NULL;
    u->peer.notify = NULL;
#if (NGX_HTTP_SSL)
    u->peer.set_session = NULL;
    u->peer.save_session = NULL;
#endif

    if (uscf->peer.init(r, uscf) != NGX_OK) {
        return NGX_ERROR;
    }

    lp->ctx = ctx;
    lp->data = u->peer.data;
    lp->get = u->peer.get;
    lp->free = u->peer.free;
    lp->notify = u->peer.notify;

    u->peer.data = lp;
    u->peer.get = ngx_http_llm_balancer_get;
    u->peer.free = ngx_http_llm_balancer_free;
    u->peer.notify = lp->notify ? ngx_http_llm_balancer_notify : NULL;
    u->peer.tries = ctx->tries;

#if (NGX_HTTP_SSL)
    lp->set_session = u->peer.set_session;
    lp->save_session = u->peer.save_session;

    u->peer.set_session = ngx_http_llm_balancer_set_session;
    u->peer.save_session = ngx_http_llm_balancer_save_session;
#endif

    return NGX_OK;
}


static ngx_int_t
ngx_http_llm_balancer_get(ngx_peer_connection_t *pc, void *data)
{
    ngx_http_llm_peer_t *lp = data;

    ngx_int_t                 rc;
    ngx_uint_t                level;
    ngx_http_request_t       *r;
    ngx_http_llm_ctx_t       *ctx;
    ngx_http_upstream_t      *u;
    ngx_http_llm_target_t    *t;
    ngx_http_llm_provider_t  *prov;

    ctx = lp->ctx;
    r = ctx->request;
    u = r->upstream;

    for ( ;; ) {

        if (ctx->got_first_get) {

            /* hedge=: the attempt held aside may be nginx's next one */

            if (ctx->hedge) {
                rc = ngx_http_llm_hedge_get(pc, ctx);
                if (rc != NGX_DECLINED) {
                    return rc;
                }
            }

            if (ctx->key_retry) {
                /* the same target again, with its next key */
                t = ctx->target;

            } else {
                t = ctx->stop ? NULL : ngx_http_llm_next_target(r, ctx,
                                                                ctx->force);

                if (t == NULL) {
                    /*
                     * no more attempts: NGX_BUSY would log "no live
                     * upstreams", which is not what happened; with no
                     * tries left nginx answers 502 and the header filter
                     * names each failed attempt
                     */

                    if (!ctx->stop) {
                        ctx->exhausted = 1;
                    }

                    pc->tries = 0;
                    pc->cached = 0;

                    return NGX_DECLINED;
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

        if (!ctx->got_first_get) {
            ngx_http_llm_hedge_arm(r, ctx);
        }

        ctx->got_first_get = 1;
        ctx->recorded = 0;

        prov = ctx->target->provider;

        /* a server that probes found down is skipped, as max_fails does */

        rc = ngx_http_llm_health_get(prov, pc, lp->get, lp->free, lp->data);
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
    ngx_http_llm_peer_t *lp = data;

    ngx_uint_t           outcome;
    ngx_connection_t    *c;
    ngx_http_request_t  *r;
    ngx_http_llm_ctx_t  *ctx;

    ctx = lp->ctx;
    r = ctx->request;

    if (ctx->hedge && ngx_http_llm_hedge_free(pc, ctx)) {
        return;
    }

    if (lp->free) {
        lp->free(pc, lp->data, state);
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


/*
 * Newer nginx calls notify once the header is read (least_time measures
 * its time; keepalive and sticky wrap it): the delegate gets its data.
 */

static void
ngx_http_llm_balancer_notify(ngx_peer_connection_t *pc, void *data,
    ngx_uint_t type)
{
    ngx_http_llm_peer_t *lp = data;

    if (lp->notify) {
        lp->notify(pc, lp->data, type);
    }
}


#if (NGX_HTTP_SSL)

static ngx_int_t
ngx_http_llm_balancer_set_session(ngx_peer_connection_t *pc, void *data)
{
    ngx_http_llm_peer_t *lp = data;

    if (lp->set_session) {
        return lp->set_session(pc, lp->data);
    }

    return NGX_OK;
}


static void
ngx_http_llm_balancer_save_session(ngx_peer_connection_t *pc, void *data)
{
    ngx_http_llm_peer_t *lp = data;

    if (lp->save_session) {
        lp->save_session(pc, lp->data);
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
    ngx_uint_t            status, version;
    ngx_table_elt_t      *h;
    ngx_http_upstream_t  *u;
    ngx_http_llm_ctx_t   *ctx;

    static ngx_str_t  encoding = ngx_string("Content-Encoding");

    ctx = ngx_http_llm_get_ctx(r);
    u = r->upstream;
    version = r->http_version;

    rc = ctx->process_header(r);

    /* proxy moves from the status line to the headers by switching */

    if (u->process_header != ngx_http_llm_process_header) {
        ctx->process_header = u->process_header;
        u->process_header = ngx_http_llm_process_header;
    }

    if (rc == NGX_OK && r->http_version != version) {
        /*
         * no status line: proxy takes the bytes for an HTTP/0.9 answer,
         * to be relayed raw; from a provider it is a broken answer
         */

        r->http_version = version;
        u->headers_in.connection_close = 1;

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "llm router: provider \"%V\" sent no valid HTTP "
                      "header", &ctx->target->provider->name);

        return NGX_HTTP_UPSTREAM_INVALID_HEADER;
    }

    if (rc != NGX_OK) {
        return rc;
    }

    if (u->headers_in.chunked
        && ngx_http_llm_chunked_check(r, &u->buffer) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "llm router: provider \"%V\" sent an invalid "
                      "chunked body", &ctx->target->provider->name);

        return NGX_HTTP_UPSTREAM_INVALID_HEADER;
    }

    /* by name: nginx 1.23 dropped headers_in.content_encoding */
    h = ngx_http_llm_find_header(&u->headers_in.headers, &encoding);

    if (h && h->value.len
        && !(h->value.len == 8
             && ngx_strncasecmp(h->value.data, (u_char *) "identity", 8)
                == 0))
    {
        /*
         * llm_params asks for no encoding: neither the usage nor the
         * events of an encoding not asked for can be read, nor can the
         * client be assumed to read it
         */

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "llm router: provider \"%V\" sent an answer in "
                      "\"Content-Encoding: %V\", which was not asked for",
                      &ctx->target->provider->name, &h->value);

        return NGX_HTTP_UPSTREAM_INVALID_HEADER;
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

    if (ctx->hedge) {
        ngx_http_llm_hedge_answered(r, ctx);
    }

    u->peer.tries = 1;

    return NGX_OK;
}


/*
 * The body bytes read with the header: a chunked body that is broken
 * from its first bytes is a failed attempt, found while nothing has been
 * sent to the client.  Parsed on a copy: proxy parses them again.
 */

static ngx_int_t
ngx_http_llm_chunked_check(ngx_http_request_t *r, ngx_buf_t *buf)
{
    off_t               size;
    ngx_buf_t           b;
    ngx_int_t           rc;
    ngx_http_chunked_t  chunked;

    b = *buf;
    ngx_memzero(&chunked, sizeof(ngx_http_chunked_t));

    while (b.pos < b.last) {
#if (nginx_version >= 1027002)
        /* nginx 1.27.2 added trailers (proxy_pass_trailers) */
        rc = ngx_http_parse_chunked(r, &b, &chunked, 0);
#else
        rc = ngx_http_parse_chunked(r, &b, &chunked);
#endif

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc != NGX_OK) {
            /* NGX_AGAIN: the rest comes later; NGX_DONE: the end */
            break;
        }

        size = ngx_min(chunked.size, b.last - b.pos);
        b.pos += size;
        chunked.size -= size;
    }

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

    if (!failed && outcome >= 200 && outcome < 300) {
        /*
         * a 2xx header is not yet an answer: a provider that cuts its
         * body or stream has failed, and must not close its circuit
         */
        ctx->answer_open = 1;

    } else if (failed || outcome < 400) {
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


/* a provider's Retry-After, parsed by util.c (and fuzz/fuzz_retry.c) */

static ngx_msec_t
ngx_http_llm_retry_after(ngx_http_request_t *r)
{
    ngx_table_elt_t  *h;

    static ngx_str_t  name = ngx_string("Retry-After");

    h = ngx_http_llm_find_header(&r->upstream->headers_in.headers, &name);

    if (h == NULL) {
        return 0;
    }

    return (ngx_msec_t) ngx_http_llm_retry_after_parse(h->value.data,
                                                       h->value.len,
                                                       ngx_time())
           * 1000;
}
