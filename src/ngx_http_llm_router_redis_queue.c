
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * llm_redis: the commands queued on the worker's connection, below
 * redis.c.  A command is appended to the output buffer, which the write
 * handler (redis.c) sends, and waits in the FIFO of commands in flight
 * for its reply, which the read side (redis.c) hands it in order; one
 * timer follows the deadline of the oldest.  Called by redis_cmd.c and
 * the fleet (queue, accepts, sha), and by redis.c (append, op, arm).
 */


#include "ngx_http_llm_router.h"
#include "ngx_http_llm_router_redis.h"
#include "ngx_http_llm_router_redis_conn.h"


static ngx_int_t ngx_http_llm_redis_push(char *cmd, int len,
    ngx_http_llm_redis_handler_pt handler, void *data, ngx_uint_t script,
    ngx_uint_t kept);


ngx_http_llm_redis_t  ngx_http_llm_redis;


/* appends a formatted command to the output buffer */

ngx_int_t
ngx_http_llm_redis_append(void *cmd, size_t len)
{
    ngx_http_llm_redis_t  *rs;

    rs = &ngx_http_llm_redis;

    if (ngx_http_llm_redis_buf_add(&rs->out, cmd, len, rs->log) != NGX_OK) {
        return NGX_ERROR;
    }

    if (rs->connected && rs->c && !rs->c->write->posted) {
        ngx_post_event(rs->c->write, &ngx_posted_events);
    }

    return NGX_OK;
}


/* queues a formatted command; takes cmd over (frees it) unless kept */

static ngx_int_t
ngx_http_llm_redis_push(char *cmd, int len,
    ngx_http_llm_redis_handler_pt handler, void *data, ngx_uint_t script,
    ngx_uint_t kept)
{
    ngx_http_llm_redis_op_t  *op;

    if (ngx_http_llm_redis_append(cmd, len) != NGX_OK
        || (op = ngx_http_llm_redis_op(handler, data, script, cmd, len))
           == NULL)
    {
        if (!kept) {
            redisFreeCommand(cmd);
        }

        return NGX_ERROR;
    }

    op->kept = kept ? 1 : 0;

    if (!script && !kept) {
        redisFreeCommand(cmd);
    }

    return NGX_OK;
}


/* waits for the reply to what was appended; a script keeps its command */

ngx_http_llm_redis_op_t *
ngx_http_llm_redis_op(ngx_http_llm_redis_handler_pt handler, void *data,
    ngx_uint_t script, char *cmd, int len)
{
    ngx_http_llm_redis_t     *rs;
    ngx_http_llm_redis_op_t  *op;

    rs = &ngx_http_llm_redis;

    op = ngx_http_llm_redis_op_alloc(rs->log);
    if (op == NULL) {
        return NULL;
    }

    op->handler = handler;
    op->data = data;
    op->deadline = ngx_current_msec + rs->conf->timeout;
    op->script = script ? 1 : 0;

    if (script) {
        op->cmd = cmd;
        op->cmd_len = len;
    }

    ngx_queue_insert_tail(&rs->ops, &op->queue);

    if (!rs->timer.timer_set) {
        ngx_add_timer(&rs->timer, rs->conf->timeout);
    }

    return op;
}


/*
 * Takes a formatted command over (a script's is kept to be sent again
 * after NOSCRIPT), or only uses it if "kept" (the caller keeps it until
 * the handler is called).  NGX_OK: the handler will be called (maybe with
 * NULL); NGX_DECLINED: Redis is down now, the handler will not be called.
 */

ngx_int_t
ngx_http_llm_redis_queue(char *cmd, int len, ngx_uint_t script,
    ngx_uint_t kept, ngx_http_llm_redis_handler_pt handler, void *data)
{
    if (ngx_http_llm_redis.state == NGX_HTTP_LLM_REDIS_DOWN
        || ngx_http_llm_redis.conf == NULL)
    {
        if (!kept) {
            redisFreeCommand(cmd);
        }

        return NGX_DECLINED;
    }

    if (ngx_http_llm_redis_push(cmd, len, handler, data, script, kept)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


ngx_uint_t
ngx_http_llm_redis_accepts(void)
{
    return ngx_http_llm_redis.state != NGX_HTTP_LLM_REDIS_DOWN
           && ngx_http_llm_redis.conf != NULL;
}


u_char *
ngx_http_llm_redis_sha(ngx_uint_t script)
{
    return ngx_http_llm_redis.sha[script];
}


/* the timer follows the deadline of the oldest command in flight */

void
ngx_http_llm_redis_arm(void)
{
    ngx_msec_int_t            left;
    ngx_queue_t              *q;
    ngx_http_llm_redis_t     *rs;
    ngx_http_llm_redis_op_t  *op;

    rs = &ngx_http_llm_redis;

    if (ngx_queue_empty(&rs->ops)) {
        if (rs->timer.timer_set) {
            ngx_del_timer(&rs->timer);
        }

        return;
    }

    q = ngx_queue_head(&rs->ops);
    op = ngx_queue_data(q, ngx_http_llm_redis_op_t, queue);

    left = (ngx_msec_int_t) (op->deadline - ngx_current_msec);

    ngx_add_timer(&rs->timer, (ngx_msec_t) ngx_max(left, 1));
}
