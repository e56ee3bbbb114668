
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * llm_redis: one connection per worker to the Redis that a fleet of
 * nginx nodes shares.  hiredis formats the commands and parses the
 * replies (its redisReader); the socket is an nginx connection driven by
 * nginx's events, and every command has a deadline kept by an nginx
 * timer.  hiredis' own async context is not used: it asserts (aborts the
 * worker) on a reply no command asked for, which a broken server or a
 * proxy in between can send.
 *
 * Replies come in the order of the commands, so the commands in flight
 * are a FIFO and one timer, set to the deadline of the oldest, detects a
 * slow server: it then counts as down, every command in flight gets a
 * NULL reply at once, and the connection is made anew with a backoff.
 * The commands are appended and queued by redis_queue.c, below this
 * file; the state of the connection is in redis_conn.h, shared by both.
 */


#include "ngx_http_llm_router.h"
#include "ngx_http_llm_router_redis.h"
#include "ngx_http_llm_router_redis_conn.h"
#include "ngx_http_llm_router_resp.h"


#define NGX_HTTP_LLM_REDIS_BACKOFF_MIN  100
#define NGX_HTTP_LLM_REDIS_BACKOFF_MAX  2000


static void ngx_http_llm_redis_connect(void);
static void ngx_http_llm_redis_fail(ngx_uint_t level, const char *fmt, ...);
static void ngx_http_llm_redis_fail_errno(ngx_err_t err, const char *what);
static void ngx_http_llm_redis_write_handler(ngx_event_t *wev);
static void ngx_http_llm_redis_read_handler(ngx_event_t *rev);
static ngx_int_t ngx_http_llm_redis_replies(void);
static void ngx_http_llm_redis_timeout(ngx_event_t *ev);
static void ngx_http_llm_redis_reconnect(ngx_event_t *ev);
static void ngx_http_llm_redis_sync(ngx_event_t *ev);
static void ngx_http_llm_redis_handshake(void *data, redisReply *reply);
#if (NGX_SSL)
static void ngx_http_llm_redis_tls_done(ngx_connection_t *c);
#endif


ngx_int_t
ngx_http_llm_redis_init_process(ngx_cycle_t *cycle,
    ngx_http_llm_redis_hook_pt sync, ngx_http_llm_redis_hook_pt exit)
{
    ngx_uint_t                  i;
    ngx_event_t                *ev[3];
    ngx_http_llm_redis_t       *rs;
    ngx_http_llm_main_conf_t   *lmcf;
    ngx_http_llm_redis_conf_t  *rc;

    static ngx_event_handler_pt  handlers[] = {
        ngx_http_llm_redis_timeout, ngx_http_llm_redis_reconnect,
        ngx_http_llm_redis_sync
    };

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    lmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_llm_router_module);

    if (lmcf == NULL || lmcf->redis == NULL) {
        return NGX_OK;
    }

    rc = lmcf->redis;
    rs = &ngx_http_llm_redis;

    ngx_memzero(rs, sizeof(ngx_http_llm_redis_t));

    /*
     * a copy in the heap: in single process mode a reload frees the
     * cycle that this connection keeps using
     */

    if (ngx_http_llm_redis_conf_copy(cycle, rc, &rs->copy, rs->sha)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    rs->conf = &rs->copy;
    rs->log = cycle->log;

#if (NGX_SSL)
    if (ngx_http_llm_redis_tls_init(rc, &rs->ssl, &rs->tls_log, rs->why,
                                    cycle->log)
        != NGX_OK)
    {
        return NGX_ERROR;
    }
#endif

    rs->on_sync = sync;
    rs->on_exit = exit;
    ngx_queue_init(&rs->ops);

    rs->dummy.fd = (ngx_socket_t) -1;

    ev[0] = &rs->timer;
    ev[1] = &rs->reconnect;
    ev[2] = &rs->sync;

    for (i = 0; i < 3; i++) {
        ev[i]->handler = handlers[i];
        ev[i]->data = &rs->dummy;
        ev[i]->log = cycle->log;
        ev[i]->cancelable = 1;
    }

    rs->backoff = NGX_HTTP_LLM_REDIS_BACKOFF_MIN;

    /* loading the configuration may have taken longer than a timeout */
    ngx_time_update();

    ngx_http_llm_redis_connect();

    ngx_add_timer(&rs->sync, rc->sync);

    return NGX_OK;
}


void
ngx_http_llm_redis_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_llm_redis_t  *rs;

    rs = &ngx_http_llm_redis;

    if (rs->conf == NULL) {
        return;
    }

    /*
     * the fleet's last commands (leases' and batches' settles) are
     * written by ngx_http_llm_redis_drain(), which it calls; what is in
     * flight then is answered "no reply"; nothing is logged
     */
    rs->on_exit(cycle->log);

    rs->reported_down = 1;
    ngx_http_llm_redis_fail(NGX_LOG_INFO, "worker exiting");

    if (rs->reconnect.timer_set) {
        ngx_del_timer(&rs->reconnect);
    }

    if (rs->sync.timer_set) {
        ngx_del_timer(&rs->sync);
    }

    ngx_http_llm_redis_buf_free(&rs->out);
#if (NGX_SSL)
    ngx_http_llm_redis_tls_free(&rs->ssl);
#endif
    ngx_free(rs->copy.name.data);
    ngx_free(rs->copy.hello[0].data);
    rs->conf = NULL;
}


/*
 * The worker exits: what waits in the output buffer is written now, once
 * (the event loop does not run again), then the connection is closed and
 * what is in flight answered "no reply".
 */

void
ngx_http_llm_redis_drain(void)
{
    ngx_http_llm_redis_t  *rs;

    rs = &ngx_http_llm_redis;

    if (rs->conf == NULL) {
        return;
    }

    if (rs->c && rs->connected && rs->out.len) {
        rs->c->write->handler(rs->c->write);
    }

    rs->reported_down = 1;
    ngx_http_llm_redis_fail(NGX_LOG_INFO, "worker exiting");
}


/* changes with every connection made or lost */

ngx_uint_t
ngx_http_llm_redis_generation(void)
{
    return ngx_http_llm_redis.generation;
}


ngx_str_t *
ngx_http_llm_redis_node(void)
{
    return &ngx_http_llm_redis.copy.node;
}


ngx_uint_t
ngx_http_llm_redis_up(void)
{
    return ngx_http_llm_redis.state == NGX_HTTP_LLM_REDIS_UP;
}


static void
ngx_http_llm_redis_connect(void)
{
    ngx_int_t                   rc;
    ngx_uint_t                  i;
    ngx_connection_t           *c;
    ngx_http_llm_redis_t       *rs;
    ngx_http_llm_redis_op_t    *op;
    ngx_http_llm_redis_conf_t  *conf;

    rs = &ngx_http_llm_redis;
    conf = rs->conf;

    ngx_memzero(&rs->pc, sizeof(ngx_peer_connection_t));

    rs->pc.sockaddr = conf->addr.sockaddr;
    rs->pc.socklen = conf->addr.socklen;
    rs->pc.name = &conf->name;
    rs->pc.get = ngx_event_get_peer;
    /*
     * ngx_event_connect_peer() logs a refused connect() at "error": once
     * per attempt, while one line per change of state is wanted
     */
    rs->quiet = *rs->log;
    rs->quiet.log_level = NGX_LOG_CRIT;

    rs->pc.log = &rs->quiet;
    rs->pc.log_error = NGX_ERROR_INFO;

    rs->generation++;

    rc = ngx_event_connect_peer(&rs->pc);

    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
        if (rs->pc.connection) {
            ngx_close_connection(rs->pc.connection);
            rs->pc.connection = NULL;
        }

        ngx_http_llm_redis_fail_errno(ngx_socket_errno, "connect()");
        return;
    }

    c = rs->pc.connection;
    c->data = rs;
    c->log = rs->log;
    c->read->handler = ngx_http_llm_redis_read_handler;
    c->write->handler = ngx_http_llm_redis_write_handler;

    rs->c = c;
    rs->tcp = (rc == NGX_OK);
    rs->connected = rs->tcp && !conf->tls;
    rs->state = NGX_HTTP_LLM_REDIS_CONNECTING;

    /*
     * a turn's commands go in one small write; with Nagle's algorithm it
     * would wait for the reply to the previous one (a unix socket: no-op)
     */
    if (ngx_tcp_nodelay(c) != NGX_OK) {
        ngx_http_llm_redis_fail_errno(ngx_socket_errno,
                                      "setsockopt(TCP_NODELAY)");
        return;
    }

#if (NGX_SSL)
    if (conf->tls) {
        rs->why[0] = '\0';
        c->log = &rs->tls_log;
        c->pool = ngx_create_pool(1024, rs->log);
    }
#endif

    c->read->log = c->log;
    c->write->log = c->log;

    rs->out.len = 0;
    rs->out.sent = 0;

    rs->reader = ngx_http_llm_resp_reader();
    if (rs->reader == NULL || (conf->tls && c->pool == NULL)) {
        ngx_http_llm_redis_fail(NGX_LOG_ERR, "out of memory");
        return;
    }

    /* AUTH, SELECT, SCRIPT LOAD: the first commands, answered in order */

    rs->handshake = 0;

    for (i = 0; i < 2 + NGX_HTTP_LLM_NSCRIPTS; i++) {
        if (conf->hello[i].len == 0) {
            continue;
        }

        if (ngx_http_llm_redis_append(conf->hello[i].data, conf->hello[i].len)
                != NGX_OK
            || (op = ngx_http_llm_redis_op(ngx_http_llm_redis_handshake,
                                           (void *) i, 0, NULL, 0))
               == NULL)
        {
            ngx_http_llm_redis_fail(NGX_LOG_ERR, "out of memory");
            return;
        }

        /* not answered "no reply" when the connection fails */
        op->handshake = 1;

        rs->handshake++;
    }

    if (rs->tcp) {
        ngx_post_event(c->write, &ngx_posted_events);
    }
}


static void
ngx_http_llm_redis_handshake(void *data, redisReply *reply)
{
    ngx_uint_t             step;
    ngx_http_llm_redis_t  *rs;

    static const char  *what[] = { "AUTH", "SELECT", "SCRIPT LOAD" };

    rs = &ngx_http_llm_redis;
    step = (ngx_uint_t) data;

    if (reply == NULL) {
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        /* Redis' reason, not the password: AUTH errors never echo it */
        ngx_http_llm_redis_fail(NGX_LOG_ERR, "%s refused: \"%*s\"",
                                what[ngx_min(step, 2)],
                                (size_t) ngx_min(reply->len, 200),
                                reply->str);
        return;
    }

    if (--rs->handshake) {
        return;
    }

    rs->state = NGX_HTTP_LLM_REDIS_UP;
    rs->backoff = NGX_HTTP_LLM_REDIS_BACKOFF_MIN;

    if (rs->reported_down) {
        rs->reported_down = 0;
        ngx_log_error(NGX_LOG_NOTICE, rs->log, 0,
                      "llm router: redis %V is up again, budgets are "
                      "shared", &rs->conf->name);
    }
}


/*
 * The connection is gone (or never was): every command in flight gets
 * no reply, now.  One log line per change of state.
 */

static void
ngx_http_llm_redis_fail(ngx_uint_t level, const char *fmt, ...)
{
    u_char                   *p, buf[NGX_MAX_ERROR_STR];
    size_t                    len;
    va_list                   args;
    ngx_pool_t               *pool;
    ngx_queue_t              *q;
    ngx_http_llm_redis_t     *rs;
    ngx_http_llm_redis_op_t  *op;

    rs = &ngx_http_llm_redis;

    /* first: the arguments may point into the reader */
    va_start(args, fmt);
    p = ngx_vslprintf(buf, buf + sizeof(buf), fmt, args);
    va_end(args);

    len = p - buf;

    rs->generation++;

    if (rs->c) {
        pool = rs->c->pool;
#if (NGX_SSL)
        ngx_http_llm_redis_tls_close(rs->c);
#endif
        ngx_close_connection(rs->c);
        rs->c = NULL;

        if (pool) {
            ngx_destroy_pool(pool);
        }
    }

    if (rs->reader) {
        redisReaderFree(rs->reader);
        rs->reader = NULL;
    }

    if (rs->timer.timer_set) {
        ngx_del_timer(&rs->timer);
    }

    rs->out.len = 0;
    rs->out.sent = 0;
    rs->tcp = 0;
    rs->connected = 0;
    rs->handshake = 0;

    rs->state = NGX_HTTP_LLM_REDIS_DOWN;

    if (!rs->reported_down) {
        rs->reported_down = 1;

        ngx_log_error(level, rs->log, 0,
                      "llm router: redis %V is down (%*s), budgets %s",
                      &rs->conf->name, len, buf,
                      rs->conf->on_error == NGX_HTTP_LLM_REDIS_LOCAL
                      ? "enforce this node's share" : "reject requests");
    }

    while (!ngx_queue_empty(&rs->ops)) {
        q = ngx_queue_head(&rs->ops);
        ngx_queue_remove(q);

        op = ngx_queue_data(q, ngx_http_llm_redis_op_t, queue);

        if (op->handler && !op->handshake) {
            op->handler(op->data, NULL);
        }

        ngx_http_llm_redis_op_free(op);
    }

    if (!ngx_exiting && !ngx_terminate && !ngx_quit
        && !rs->reconnect.timer_set && rs->conf)
    {
        ngx_add_timer(&rs->reconnect, rs->backoff);
        rs->backoff = ngx_min(rs->backoff * 2,
                              NGX_HTTP_LLM_REDIS_BACKOFF_MAX);
    }
}


static void
ngx_http_llm_redis_fail_errno(ngx_err_t err, const char *what)
{
    u_char  *p, buf[NGX_MAX_ERROR_STR];

#if (NGX_SSL)
    if (ngx_http_llm_redis.why[0]) {
        /* nginx's SSL layer said why: errno does not */
        ngx_http_llm_redis_fail(NGX_LOG_ERR, "%s failed: %s", what,
                                ngx_http_llm_redis.why);
        return;
    }
#endif

    p = ngx_strerror(err, buf, sizeof(buf) - 1);
    *p = '\0';

    ngx_http_llm_redis_fail(NGX_LOG_ERR, "%s failed: %s", what, buf);
}


static void
ngx_http_llm_redis_reconnect(ngx_event_t *ev)
{
    if (ngx_http_llm_redis.conf == NULL || ngx_exiting) {
        return;
    }

    ngx_http_llm_redis_connect();
}


static void
ngx_http_llm_redis_sync(ngx_event_t *ev)
{
    ngx_http_llm_redis_t  *rs;

    rs = &ngx_http_llm_redis;

    if (rs->conf == NULL || ngx_exiting) {
        return;
    }

    rs->on_sync(rs->log);

    ngx_add_timer(&rs->sync, rs->conf->sync);
}


#if (NGX_SSL)

/* the handshake ended: the certificate checked, the commands go out */

static void
ngx_http_llm_redis_tls_done(ngx_connection_t *c)
{
    u_char                 err[NGX_MAX_ERROR_STR / 4];
    ngx_http_llm_redis_t  *rs;

    rs = &ngx_http_llm_redis;

    if (c != rs->c) {
        return;
    }

    if (ngx_http_llm_redis_tls_check(c, rs->conf, err, sizeof(err))
        != NGX_OK)
    {
        ngx_http_llm_redis_fail(NGX_LOG_ERR, "TLS %s%s%s", err,
                                rs->why[0] ? ": " : "", rs->why);
        return;
    }

    c->read->handler = ngx_http_llm_redis_read_handler;
    c->write->handler = ngx_http_llm_redis_write_handler;

    rs->connected = 1;

    ngx_http_llm_redis_write_handler(c->write);
}

#endif


static void
ngx_http_llm_redis_write_handler(ngx_event_t *wev)
{
    int                    err;
    ssize_t                n;
    socklen_t              len;
    ngx_connection_t      *c;
    ngx_http_llm_redis_t  *rs;

    c = wev->data;
    rs = &ngx_http_llm_redis;

    if (c != rs->c) {
        return;
    }

    if (!rs->connected) {
        if (!rs->tcp) {
            err = 0;
            len = sizeof(int);

            if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &err, &len)
                == -1)
            {
                err = ngx_socket_errno;
            }

            if (err) {
                ngx_http_llm_redis_fail_errno(err, "connect()");
                return;
            }

            rs->tcp = 1;
        }

#if (NGX_SSL)
        if (rs->conf->tls) {
            if (ngx_http_llm_redis_tls_start(c, &rs->ssl, rs->conf,
                                             ngx_http_llm_redis_tls_done)
                != NGX_AGAIN)
            {
                ngx_http_llm_redis_tls_done(c);
            }

            return;
        }
#endif

        rs->connected = 1;
    }

    while (rs->out.sent < rs->out.len) {
        n = c->send(c, rs->out.data + rs->out.sent,
                    rs->out.len - rs->out.sent);

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == NGX_ERROR || n <= 0) {
            ngx_http_llm_redis_fail_errno(ngx_socket_errno, "send()");
            return;
        }

        rs->out.sent += n;
    }

    if (rs->out.sent == rs->out.len) {
        rs->out.sent = 0;
        rs->out.len = 0;
    }

    if (ngx_handle_write_event(wev, 0) != NGX_OK) {
        ngx_http_llm_redis_fail(NGX_LOG_ERR, "write event failed");
    }
}


static void
ngx_http_llm_redis_read_handler(ngx_event_t *rev)
{
    u_char                 buf[16384];
    ssize_t                n;
    ngx_uint_t             gen;
    ngx_connection_t      *c;
    ngx_http_llm_redis_t  *rs;

    c = rev->data;
    rs = &ngx_http_llm_redis;

    if (c != rs->c) {
        return;
    }

    if (c->close) {
        ngx_http_llm_redis_fail(NGX_LOG_INFO, "worker exiting");
        return;
    }

    gen = rs->generation;

    for ( ;; ) {
        n = c->recv(c, buf, sizeof(buf));

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == 0) {
            ngx_http_llm_redis_fail(NGX_LOG_ERR, "connection closed by "
                                    "the server");
            return;
        }

        if (n < 0) {
            /* a refused connect() is seen here, when epoll reports it */
            ngx_http_llm_redis_fail_errno(ngx_socket_errno,
                                          rs->connected ? "recv()"
                                                        : "connect()");
            return;
        }

        if (redisReaderFeed(rs->reader, (char *) buf, n) != REDIS_OK) {
            ngx_http_llm_redis_fail(NGX_LOG_ERR, "out of memory");
            return;
        }

        if (ngx_http_llm_redis_replies() != NGX_OK
            || gen != rs->generation)
        {
            return;
        }

        if (rs->reader->len - rs->reader->pos
            > NGX_HTTP_LLM_REDIS_MAX_REPLY)
        {
            ngx_http_llm_redis_fail(NGX_LOG_ERR, "a reply over %uz bytes",
                                    (size_t) NGX_HTTP_LLM_REDIS_MAX_REPLY);
            return;
        }
    }

    if (ngx_handle_read_event(rev, 0) != NGX_OK) {
        ngx_http_llm_redis_fail(NGX_LOG_ERR, "read event failed");
    }
}


/* hands the complete replies to the commands in flight, in order */

static ngx_int_t
ngx_http_llm_redis_replies(void)
{
    void                     *r;
    ngx_uint_t                gen;
    redisReply               *reply;
    ngx_queue_t              *q;
    ngx_http_llm_redis_t     *rs;
    ngx_http_llm_redis_op_t  *op;

    rs = &ngx_http_llm_redis;
    gen = rs->generation;

    for ( ;; ) {
        r = NULL;

        if (redisReaderGetReply(rs->reader, &r) != REDIS_OK) {
            ngx_http_llm_redis_fail(NGX_LOG_ERR, "protocol error: %s",
                                    rs->reader->errstr);
            return NGX_ERROR;
        }

        if (r == NULL) {
            break;
        }

        reply = r;

        if (ngx_queue_empty(&rs->ops)) {
            freeReplyObject(reply);
            ngx_http_llm_redis_fail(NGX_LOG_ERR, "a reply to no command");
            return NGX_ERROR;
        }

        q = ngx_queue_head(&rs->ops);
        ngx_queue_remove(q);

        op = ngx_queue_data(q, ngx_http_llm_redis_op_t, queue);

        if (op->script && !op->retried
            && reply->type == REDIS_REPLY_ERROR && reply->len >= 8
            && ngx_strncmp(reply->str, "NOSCRIPT", 8) == 0)
        {
            /* flushed or another server: load it, then send it again */

            freeReplyObject(reply);
            op->retried = 1;

            if (ngx_http_llm_redis_append(rs->conf->hello[op->script + 1].data,
                                          rs->conf->hello[op->script + 1].len)
                    != NGX_OK
                || ngx_http_llm_redis_op(NULL, NULL, 0, NULL, 0) == NULL
                || ngx_http_llm_redis_append(op->cmd, op->cmd_len) != NGX_OK)
            {
                op->handler(op->data, NULL);
                ngx_http_llm_redis_op_free(op);
                continue;
            }

            op->deadline = ngx_current_msec + rs->conf->timeout;
            ngx_queue_insert_tail(&rs->ops, &op->queue);
            continue;
        }

        if (op->handler) {
            op->handler(op->data, reply);
        }

        freeReplyObject(reply);

        ngx_http_llm_redis_op_free(op);

        if (gen != rs->generation) {
            /* the handler failed the connection */
            return NGX_ERROR;
        }
    }

    ngx_http_llm_redis_arm();

    return NGX_OK;
}


static void
ngx_http_llm_redis_timeout(ngx_event_t *ev)
{
    ngx_queue_t              *q;
    ngx_http_llm_redis_t     *rs;
    ngx_http_llm_redis_op_t  *op;

    rs = &ngx_http_llm_redis;

    if (ngx_queue_empty(&rs->ops)) {
        return;
    }

    q = ngx_queue_head(&rs->ops);
    op = ngx_queue_data(q, ngx_http_llm_redis_op_t, queue);

    if ((ngx_msec_int_t) (op->deadline - ngx_current_msec) > 0) {
        ngx_http_llm_redis_arm();
        return;
    }

    ngx_http_llm_redis_fail(NGX_LOG_ERR, "%s within %M ms",
                            rs->tcp && !rs->connected
                            ? "TLS handshake: no answer" : "no reply",
                            rs->conf->timeout);
}
