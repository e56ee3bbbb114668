
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * hedge=time: when the attempt in flight has no response header after
 * "time", the next target is started too.  nginx's upstream drives one
 * connection; the other one is held here, "detached", and only watched
 * (its first bytes peeked, never read) until it answers:
 *
 *   - at the hedge time the balancer hands the attempt's connection to
 *     this file instead of letting nginx close it, and nginx goes on to
 *     the next target as after a failure;
 *   - if nginx's attempt answers first, the held connection is closed;
 *   - if the held one answers first, nginx's attempt is ended the same
 *     way and the balancer gives nginx the held connection back, already
 *     connected and with its request sent (nothing is sent again): nginx
 *     reads and relays the answer as from any upstream, streams included;
 *   - if either fails, the other one carries on alone.
 *
 * nginx is moved from one connection to the other through its own retry
 * path (a read timeout made up on the connection left behind), so that
 * every state it keeps stays its own; the "upstream timed out" line it
 * logs for that made-up timeout is muted.
 */


#include "ngx_http_llm_router.h"


#define NGX_HTTP_LLM_HEDGE_IDLE       0   /* timer armed, or no hedge */
#define NGX_HTTP_LLM_HEDGE_DETACHING  1   /* nginx leaves the first one */
#define NGX_HTTP_LLM_HEDGE_RACING     2   /* one held here, one in nginx */
#define NGX_HTTP_LLM_HEDGE_SWITCHING  3   /* nginx goes back to the held */
#define NGX_HTTP_LLM_HEDGE_DONE       4

/* "HTTP/1.1 200" */
#define NGX_HTTP_LLM_STATUS_LINE      12


struct ngx_http_llm_hedge_s {
    ngx_http_request_t              *request;
    ngx_http_llm_ctx_t              *ctx;
    ngx_event_t                      timer;

    /* the held attempt */
    ngx_connection_t                *c;
    ngx_http_llm_target_t           *target;
    ngx_uint_t                       key_index;
    ngx_str_t                        key;
    struct sockaddr                 *sockaddr;
    socklen_t                        socklen;
    ngx_str_t                       *name;
    ngx_msec_t                       start;
    ngx_uint_t                       slot;    /* in ctx->attempts */

    ngx_uint_t                       phase;
    ngx_uint_t                       log_level;
    unsigned                         muted:1;
};


static void ngx_http_llm_hedge_timer(ngx_event_t *ev);
static ngx_http_llm_target_t *ngx_http_llm_hedge_candidate(
    ngx_http_llm_ctx_t *ctx);
static ngx_uint_t ngx_http_llm_hedge_can_retry(ngx_http_request_t *r);
static void ngx_http_llm_hedge_read(ngx_event_t *rev);
static ngx_int_t ngx_http_llm_hedge_peek(ngx_connection_t *c, u_char *buf,
    size_t size);
static void ngx_http_llm_hedge_switch(ngx_http_llm_hedge_t *h);
static void ngx_http_llm_hedge_lost(ngx_http_llm_hedge_t *h,
    ngx_uint_t outcome);
static void ngx_http_llm_hedge_close(ngx_http_llm_hedge_t *h);
static void ngx_http_llm_hedge_mute(ngx_http_llm_hedge_t *h);
static void ngx_http_llm_hedge_unmute(ngx_http_llm_hedge_t *h);
static void ngx_http_llm_hedge_cleanup(void *data);
static void ngx_http_llm_hedge_dummy(ngx_event_t *ev);


/* the first attempt starts: the hedge timer too */

void
ngx_http_llm_hedge_arm(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx)
{
    ngx_pool_cleanup_t    *cln;
    ngx_http_llm_hedge_t  *h;

    if (ctx->route == NULL || ctx->route->hedge == 0 || ctx->nplan < 2
        || ctx->hedge)
    {
        return;
    }

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_llm_hedge_t));
    if (cln == NULL) {
        return;
    }

    h = cln->data;
    ngx_memzero(h, sizeof(ngx_http_llm_hedge_t));

    h->request = r;
    h->ctx = ctx;
    h->timer.handler = ngx_http_llm_hedge_timer;
    h->timer.data = h;
    h->timer.log = r->connection->log;

    cln->handler = ngx_http_llm_hedge_cleanup;

    ctx->hedge = h;

    ngx_add_timer(&h->timer, ctx->route->hedge);
}


static void
ngx_http_llm_hedge_timer(ngx_event_t *ev)
{
    ngx_http_llm_hedge_t *h = ev->data;

    ngx_connection_t       *c;
    ngx_http_request_t     *r;
    ngx_http_upstream_t    *u;
    ngx_http_llm_ctx_t     *ctx;
    ngx_http_llm_target_t  *t;

    r = h->request;
    ctx = h->ctx;
    u = r->upstream;

    if (h->phase != NGX_HTTP_LLM_HEDGE_IDLE || u == NULL || u->header_sent
        || ctx->stop)
    {
        return;
    }

    c = u->peer.connection;

    if (c == NULL || !u->request_body_sent || u->buffer.last != u->buffer.pos)
    {
        /* still connecting or sending, or answering: look again later */
        ngx_add_timer(&h->timer, ctx->route->hedge);
        return;
    }

    if (!ngx_http_llm_hedge_can_retry(r)) {
        return;
    }

    t = ngx_http_llm_hedge_candidate(ctx);

    if (t == NULL) {
        return;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "llm router: no answer from provider \"%V\" after %M ms, "
                  "hedging with provider \"%V\"",
                  &ctx->target->provider->name, ctx->route->hedge,
                  &t->provider->name);

    h->phase = NGX_HTTP_LLM_HEDGE_DETACHING;

    /*
     * nginx's retry path, through a made-up read timeout: the balancer's
     * free takes the connection, its get then picks the next target;
     * the request may be over when this returns
     */

    ngx_http_llm_hedge_mute(h);

    c->read->timedout = 1;
    c->read->handler(c->read);
}


/*
 * Whether the plan has a target left to race with, as the balancer's next
 * pick would find it, but read only: a half-open circuit's one trial is
 * not claimed here (the balancer claims it, if it picks that target).
 */

static ngx_http_llm_target_t *
ngx_http_llm_hedge_candidate(ngx_http_llm_ctx_t *ctx)
{
    ngx_uint_t                    i;
    ngx_msec_t                    now;
    ngx_http_llm_target_t        *t;
    ngx_http_llm_provider_t      *p;
    ngx_http_llm_shm_provider_t  *n;

    now = ngx_current_msec;

    for (i = ctx->next; i < ctx->nplan; i++) {
        t = ctx->plan[i];
        p = t->provider;
        n = p->shm;

        if (ctx->force) {
            return t;
        }

        if (ngx_http_llm_health_down(p)) {
            continue;
        }

        if (n == NULL || p->max_fails == 0 || n->open_until == 0
            || ((ngx_msec_int_t) (now - n->open_until) >= 0
                && (n->trial_until == 0
                    || (ngx_msec_int_t) (now - n->trial_until) >= 0)))
        {
            return t;
        }
    }

    return NULL;
}


/* whether nginx retries a timeout or an error of this request */

static ngx_uint_t
ngx_http_llm_hedge_can_retry(ngx_http_request_t *r)
{
    ngx_uint_t            need;
    ngx_http_upstream_t  *u;

    u = r->upstream;

    need = NGX_HTTP_UPSTREAM_FT_TIMEOUT | NGX_HTTP_UPSTREAM_FT_ERROR
           | NGX_HTTP_UPSTREAM_FT_NON_IDEMPOTENT;

    if ((u->conf->next_upstream & need) != need
        || r->request_body_no_buffering)
    {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "llm router: no hedge, proxy_next_upstream lacks "
                       "error, timeout or non_idempotent");
        return 0;
    }

    if (u->conf->next_upstream_timeout
        && ngx_current_msec - u->peer.start_time
           >= u->conf->next_upstream_timeout)
    {
        return 0;
    }

    return 1;
}


/*
 * The balancer's free, while nginx leaves an attempt for the hedge's
 * sake: hedge's own outcome for it, never a failure.  Returns 1 if it
 * dealt with the call.
 */

ngx_uint_t
ngx_http_llm_hedge_free(ngx_peer_connection_t *pc, ngx_http_llm_ctx_t *ctx)
{
    ngx_connection_t        *c;
    ngx_http_llm_hedge_t    *h;
    ngx_http_llm_attempt_t  *a;

    h = ctx->hedge;

    if (h == NULL
        || (h->phase != NGX_HTTP_LLM_HEDGE_DETACHING
            && h->phase != NGX_HTTP_LLM_HEDGE_SWITCHING)
        || ctx->recorded)
    {
        return 0;
    }

    c = pc->connection;

    if (ctx->peer.free) {
        /* the provider's balancer: not failed (keepalive keeps nothing) */
        ctx->peer.free(pc, ctx->peer.data, 0);
    }

    pc->tries = ctx->tries;
    ctx->recorded = 1;

    if (ctx->nattempts < NGX_HTTP_LLM_MAX_ATTEMPTS) {
        a = &ctx->attempts[ctx->nattempts++];
        a->target = ctx->target;
        a->status = NGX_HTTP_LLM_OUT_HEDGED;
    }

    if (h->phase == NGX_HTTP_LLM_HEDGE_SWITCHING) {
        /* nginx closes this one: the held one answered first */

        if (ctx->target->provider->shm) {
            (void) ngx_atomic_fetch_add(
                                &ctx->target->provider->shm->attempts, 1);
        }

        return 1;
    }

    /* the held attempt is counted when its outcome is known */

    /* DETACHING: the connection is held here, nginx forgets it */

    h->c = c;
    h->target = ctx->target;
    h->key_index = ctx->key_index;
    h->key = ctx->key;
    h->sockaddr = pc->sockaddr;
    h->socklen = pc->socklen;
    h->name = pc->name;
    h->start = ctx->request->upstream->start_time;
    h->slot = ctx->nattempts - 1;

    pc->connection = NULL;

    c->data = h;

#if (NGX_HTTP_SSL)
    if (c->ssl) {
        /*
         * nginx's session callback takes c->data for the request: a TLS 1.3
         * session ticket read while the connection is held here would make
         * it write through the hedge; this connection's session is not kept
         */
        c->ssl->save_session = NULL;
    }
#endif
    c->read->timedout = 0;
    c->read->handler = ngx_http_llm_hedge_read;
    c->write->handler = ngx_http_llm_hedge_dummy;

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    ngx_add_timer(c->read, ctx->request->upstream->conf->read_timeout);

    if (c->read->ready) {
        ngx_post_event(c->read, &ngx_posted_events);
    }

    return 1;
}


/*
 * The balancer's get: nginx's next attempt.  Gives nginx the held
 * connection back (NGX_DONE: connected, request sent) when it answered
 * first, or when nginx's own attempt failed meanwhile; NGX_DECLINED: the
 * next target as usual.
 */

ngx_int_t
ngx_http_llm_hedge_get(ngx_peer_connection_t *pc, ngx_http_llm_ctx_t *ctx)
{
    ngx_connection_t         *c;
    ngx_http_upstream_t      *u;
    ngx_http_llm_hedge_t     *h;
    ngx_http_llm_provider_t  *prov;

    h = ctx->hedge;

    if (h == NULL) {
        return NGX_DECLINED;
    }

    ngx_http_llm_hedge_unmute(h);

    if (h->phase == NGX_HTTP_LLM_HEDGE_DETACHING) {
        h->phase = NGX_HTTP_LLM_HEDGE_RACING;
        return NGX_DECLINED;
    }

    if (h->c == NULL
        || (ctx->key_retry && h->phase == NGX_HTTP_LLM_HEDGE_RACING))
    {
        /* a key refused: the same target with its next key races on */
        return NGX_DECLINED;
    }

    if (h->phase == NGX_HTTP_LLM_HEDGE_SWITCHING) {
        ngx_log_error(NGX_LOG_INFO, ctx->request->connection->log, 0,
                      "llm router: provider \"%V\" answered first, the "
                      "connection to provider \"%V\" is closed",
                      &h->target->provider->name,
                      &ctx->target->provider->name);
    }

    c = h->c;
    h->c = NULL;
    h->phase = NGX_HTTP_LLM_HEDGE_DONE;

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    u = ctx->request->upstream;
    prov = h->target->provider;

    pc->connection = c;
    pc->sockaddr = h->sockaddr;
    pc->socklen = h->socklen;
    pc->name = h->name;
    pc->tries = ctx->tries;

    /* its placeholder goes: the outcome is recorded as for any attempt */

    if (h->slot < ctx->nattempts) {
        ngx_memmove(&ctx->attempts[h->slot], &ctx->attempts[h->slot + 1],
                    (ctx->nattempts - h->slot - 1)
                    * sizeof(ngx_http_llm_attempt_t));
        ctx->nattempts--;
    }

    ctx->target = h->target;
    ctx->upstream_model = h->target->model.len ? h->target->model
                                               : ctx->model;
    ctx->key_index = h->key_index;
    ctx->key = h->key;
    ctx->recorded = 0;

    ngx_http_llm_peer_forget(&ctx->peer);

#if (NGX_HTTP_SSL)
    u->ssl = (prov->tls && u->conf->ssl) ? 1 : 0;
    u->ssl_name = prov->host;
#endif

    /* the request was sent on it: nothing to send again */

    u->request_bufs = NULL;
    u->start_time = h->start;

    return NGX_DONE;
}


/* nginx's attempt answers the client: the held one has lost */

void
ngx_http_llm_hedge_answered(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx)
{
    ngx_http_llm_hedge_t  *h;

    h = ctx->hedge;

    if (h == NULL) {
        return;
    }

    if (h->timer.timer_set) {
        ngx_del_timer(&h->timer);
    }

    if (h->c) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "llm router: provider \"%V\" answered first, the "
                      "connection to provider \"%V\" is closed",
                      &ctx->target->provider->name,
                      &h->target->provider->name);

        ngx_http_llm_hedge_close(h);
    }

    h->phase = NGX_HTTP_LLM_HEDGE_DONE;
}


/* the held connection: its status line, peeked */

static void
ngx_http_llm_hedge_read(ngx_event_t *rev)
{
    u_char                    buf[NGX_HTTP_LLM_STATUS_LINE];
    ngx_int_t                 n, status;
    ngx_connection_t         *c;
    ngx_http_llm_hedge_t     *h;
    ngx_http_llm_provider_t  *prov;

    c = rev->data;
    h = c->data;

    if (rev->timedout) {
        ngx_http_llm_hedge_lost(h, NGX_HTTP_LLM_OUT_TIMEOUT);
        return;
    }

    n = ngx_http_llm_hedge_peek(c, buf, sizeof(buf));

    if (n == NGX_AGAIN) {
        if (ngx_handle_read_event(rev, 0) != NGX_OK) {
            ngx_http_llm_hedge_lost(h, NGX_HTTP_LLM_OUT_ERROR);
        }

        return;
    }

    if (n == NGX_ERROR) {
        ngx_http_llm_hedge_lost(h, NGX_HTTP_LLM_OUT_ERROR);
        return;
    }

    if (n < NGX_HTTP_LLM_STATUS_LINE) {
        /* the rest of the status line is on its way */
        return;
    }

    status = ngx_atoi(buf + 9, 3);

    if (ngx_strncmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' '
        || status < 100)
    {
        ngx_http_llm_hedge_lost(h, NGX_HTTP_LLM_OUT_ERROR);
        return;
    }

    prov = h->target->provider;

    if (ngx_http_llm_provider_fails_on(prov, status)
        || status == 401 || status == 402 || status == 403)
    {
        ngx_http_llm_hedge_lost(h, status);
        return;
    }

    /* the answer: nginx is moved to this connection */

    ngx_http_llm_hedge_switch(h);
}


/* up to size bytes of what arrived, left in place for nginx to read */

static ngx_int_t
ngx_http_llm_hedge_peek(ngx_connection_t *c, u_char *buf, size_t size)
{
    ssize_t    n;
    ngx_err_t  err;

#if (NGX_HTTP_SSL)

    int  sslerr;

    if (c->ssl) {
        ERR_clear_error();

        n = SSL_peek(c->ssl->connection, buf, (int) size);

        if (n > 0) {
            return n;
        }

        sslerr = SSL_get_error(c->ssl->connection, (int) n);

        if (sslerr == SSL_ERROR_WANT_READ) {
            c->read->ready = 0;
            return NGX_AGAIN;
        }

        return NGX_ERROR;
    }

#endif

    n = recv(c->fd, buf, size, MSG_PEEK);

    if (n > 0) {
        return n;
    }

    if (n == 0) {
        /* closed before answering */
        return NGX_ERROR;
    }

    err = ngx_socket_errno;

    if (err == NGX_EAGAIN || err == NGX_EINTR) {
        c->read->ready = 0;
        return NGX_AGAIN;
    }

    return NGX_ERROR;
}


/*
 * The held connection answered first: nginx's attempt is ended through
 * its retry path, and the balancer's get hands the held one over.
 */

static void
ngx_http_llm_hedge_switch(ngx_http_llm_hedge_t *h)
{
    ngx_connection_t     *c;
    ngx_http_request_t   *r;
    ngx_http_upstream_t  *u;

    r = h->request;
    u = r->upstream;
    c = u ? u->peer.connection : NULL;

    if (c == NULL || u->header_sent || !ngx_http_llm_hedge_can_retry(r)) {
        /* nginx's attempt is answering or cannot be left: it goes on */
        ngx_http_llm_hedge_lost(h, NGX_HTTP_LLM_OUT_HEDGED);
        return;
    }

    h->phase = NGX_HTTP_LLM_HEDGE_SWITCHING;

    /* the read timer of the held connection: nginx sets its own */

    if (h->c->read->timer_set) {
        ngx_del_timer(h->c->read);
    }

    ngx_http_llm_hedge_mute(h);

    c->read->timedout = 1;
    c->read->handler(c->read);

    /* the request may be over here */
}


/* the held attempt failed or lost: nginx's attempt carries on alone */

static void
ngx_http_llm_hedge_lost(ngx_http_llm_hedge_t *h, ngx_uint_t outcome)
{
    ngx_uint_t                failed;
    ngx_http_llm_ctx_t       *ctx;
    ngx_http_llm_provider_t  *prov;

    ctx = h->ctx;
    prov = h->target->provider;

    if (h->slot < ctx->nattempts) {
        ctx->attempts[h->slot].status = outcome;
    }

    failed = ngx_http_llm_provider_fails_on(prov, outcome);

    if (prov->shm) {
        (void) ngx_atomic_fetch_add(&prov->shm->attempts, 1);

        if (failed) {
            (void) ngx_atomic_fetch_add(&prov->shm->failures, 1);
        }
    }

    if (failed && outcome >= 100) {
        ngx_log_error(NGX_LOG_WARN, h->request->connection->log, 0,
                      "llm router: provider \"%V\" failed (status %ui), "
                      "hedged", &prov->name, outcome);

    } else if (failed) {
        ngx_log_error(NGX_LOG_WARN, h->request->connection->log, 0,
                      "llm router: provider \"%V\" failed (%s), hedged",
                      &prov->name,
                      outcome == NGX_HTTP_LLM_OUT_TIMEOUT ? "timeout"
                                                          : "error");
    }

    if (failed) {

        ngx_http_llm_circuit_result(prov, h->request->connection->log, 1, 0);
    }

    ngx_http_llm_hedge_close(h);

    h->phase = NGX_HTTP_LLM_HEDGE_DONE;
}


static void
ngx_http_llm_hedge_close(ngx_http_llm_hedge_t *h)
{
    ngx_connection_t  *c;

    c = h->c;
    h->c = NULL;

    if (c == NULL) {
        return;
    }

#if (NGX_HTTP_SSL)
    if (c->ssl) {
        c->ssl->no_wait_shutdown = 1;
        c->ssl->no_send_shutdown = 1;
        (void) ngx_ssl_shutdown(c);
    }
#endif

    if (c->pool) {
        ngx_destroy_pool(c->pool);
        c->pool = NULL;
    }

    ngx_close_connection(c);
}


/*
 * nginx logs "upstream timed out" for the made-up timeout; the level of
 * the client connection's log is lowered until the balancer's get, which
 * always follows (the retry was checked for).
 */

static void
ngx_http_llm_hedge_mute(ngx_http_llm_hedge_t *h)
{
    ngx_log_t  *log;

    log = h->request->connection->log;

    if (!h->muted) {
        h->log_level = log->log_level;
        h->muted = 1;
    }

    if (log->log_level > NGX_LOG_CRIT) {
        log->log_level = NGX_LOG_CRIT;
    }
}


static void
ngx_http_llm_hedge_unmute(ngx_http_llm_hedge_t *h)
{
    if (h->muted) {
        h->request->connection->log->log_level = h->log_level;
        h->muted = 0;
    }
}


static void
ngx_http_llm_hedge_cleanup(void *data)
{
    ngx_http_llm_hedge_t *h = data;

    if (h->timer.timer_set) {
        ngx_del_timer(&h->timer);
    }

    ngx_http_llm_hedge_unmute(h);
    ngx_http_llm_hedge_close(h);

    if (h->ctx->hedge == h) {
        h->ctx->hedge = NULL;
    }
}


static void
ngx_http_llm_hedge_dummy(ngx_event_t *ev)
{
}
