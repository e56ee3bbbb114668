
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * The fleet's batches: the reservations a worker's requests make in one
 * turn of its event loop go to Redis as one script call (a posted event
 * sends them when the turn's events are handled), applied there in
 * order, each alone: a request gets its own answer, a budget is never
 * overshot.  Settles likewise, one call per turn (not waited for; a
 * batch sent again counts each request once, by its marker).  One batch
 * of reservations is in flight at a time.
 *
 * Calls run one way: fleet.c calls this file, which tells it the
 * outcome of each item through the answer handler the item was added
 * with (fr->answer: a request's, or a lease ask's).
 */


#include "ngx_http_llm_router.h"
#include "ngx_http_llm_router_redis.h"
#include "ngx_http_llm_router_resp.h"
#include "ngx_http_llm_router_fleet.h"


#define NGX_HTTP_LLM_FLEET_MARKER_TTL   21600


static void ngx_http_llm_fleet_next_free(ngx_http_llm_fleet_next_t *next);
static char *ngx_http_llm_fleet_next_cmd(ngx_http_llm_fleet_next_t *next,
    ngx_uint_t script, int *len);
static void ngx_http_llm_fleet_flush(ngx_event_t *ev);
static void ngx_http_llm_fleet_flush_reserves(ngx_log_t *log);
static void ngx_http_llm_fleet_flush_settles(ngx_log_t *log);
static void ngx_http_llm_fleet_reserved(void *data, redisReply *reply);
static void ngx_http_llm_fleet_item_answer(ngx_http_llm_fleet_req_t *fr,
    int rv, size_t index, long long *left, ngx_uint_t unknown);


static ngx_http_llm_fleet_next_t  ngx_http_llm_fleet_reserves;
static ngx_http_llm_fleet_next_t  ngx_http_llm_fleet_settles;
static ngx_event_t                ngx_http_llm_fleet_flush_ev;

/* reservation batches sent and not answered yet */
static ngx_uint_t                 ngx_http_llm_fleet_reserving;


/*
 * A request's reservation (or a lease's ask) joins the next batch: its
 * keys and arguments.  Its marker is the batch's (made with the batch),
 * its field there its place in the batch; fr->answer gets its outcome.
 */

ngx_int_t
ngx_http_llm_fleet_add(ngx_http_llm_fleet_req_t *fr, ngx_pool_t *pool,
    ngx_log_t *log)
{
    u_char                      *p;
    time_t                       now, end;
    size_t                       saved[2];
    ngx_str_t                    m;
    ngx_uint_t                   i, elements;
    ngx_http_llm_fleet_next_t   *next;
    ngx_http_llm_reservation_t  *res;

    next = &ngx_http_llm_fleet_reserves;
    now = ngx_time();
    elements = ngx_max(fr->n + 2, 3);

    if (next->n == NGX_HTTP_LLM_FLEET_BATCH
        || next->elements + elements > NGX_HTTP_LLM_RESP_MAX_ELEMENTS)
    {
        ngx_http_llm_fleet_flush_reserves(log);
    }

    saved[0] = next->keys.len;
    saved[1] = next->args.len;

    if (next->n == 0) {
        /* a new batch: its marker, the markers' ttl */

        if (ngx_http_llm_fleet_marker(pool, &m, "r") != NGX_OK) {
            return NGX_ERROR;
        }

        if (next->marker.len < m.len) {
            p = ngx_alloc(m.len + 32, log);
            if (p == NULL) {
                return NGX_ERROR;
            }

            ngx_free(next->marker.data);
            next->marker.data = p;
        }

        next->marker.len = ngx_cpymem(next->marker.data, m.data, m.len)
                           - next->marker.data;

        if (ngx_http_llm_fleet_arg(&next->keys, m.data, m.len, log)
            != NGX_OK
            || ngx_http_llm_fleet_arg_num(&next->args,
                                          NGX_HTTP_LLM_FLEET_MARKER_TTL, log)
               != NGX_OK)
        {
            goto failed;
        }

        fr->marker = m;

    } else {
        fr->marker.data = ngx_pnalloc(pool, next->marker.len);
        if (fr->marker.data == NULL) {
            return NGX_ERROR;
        }

        fr->marker.len = next->marker.len;
        ngx_memcpy(fr->marker.data, next->marker.data, next->marker.len);
    }

    fr->field = next->n + 1;

    if (ngx_http_llm_fleet_arg_num(&next->args, fr->field, log) != NGX_OK
        || ngx_http_llm_fleet_arg_num(&next->args, fr->n, log) != NGX_OK)
    {
        goto failed;
    }

    for (i = 0; i < fr->n; i++) {
        res = &fr->res[i];
        end = ngx_http_llm_window_end(now,
                                      res->budget->limit[res->metric].window);

        if (ngx_http_llm_fleet_arg(&next->keys, fr->rkeys[i].data,
                                   fr->rkeys[i].len, log)
            != NGX_OK
            || ngx_http_llm_fleet_arg_num(&next->args,
                                   res->budget->limit[res->metric].limit
                                   - fr->floor, log)
               != NGX_OK
            || ngx_http_llm_fleet_arg_num(&next->args, res->amount, log)
               != NGX_OK
            || ngx_http_llm_fleet_arg_num(&next->args, end - now + 60, log)
               != NGX_OK
            || ngx_http_llm_fleet_arg(&next->args,
                                   (u_char *) (res->budget->dry_run ? "1"
                                                                    : "0"),
                                   1, log)
               != NGX_OK)
        {
            goto failed;
        }
    }

    next->nkeys += (next->n == 0) + fr->n;
    next->nargs += (next->n == 0) + 2 + 4 * fr->n;
    next->elements += elements;

    next->items[next->n].fr = fr;
    next->items[next->n].n = fr->n;
    fr->item = &next->items[next->n];
    next->n++;

    ngx_http_llm_fleet_post();

    return NGX_OK;

failed:

    ngx_http_llm_fleet_next_undo(next, saved);

    return NGX_ERROR;
}


/* what a failed addition appended is taken back (its buffers stay) */

void
ngx_http_llm_fleet_next_undo(ngx_http_llm_fleet_next_t *next, size_t *saved)
{
    next->keys.len = saved[0];
    next->args.len = saved[1];
}


static void
ngx_http_llm_fleet_next_free(ngx_http_llm_fleet_next_t *next)
{
    ngx_free(next->keys.data);
    ngx_free(next->args.data);
    ngx_free(next->marker.data);
    ngx_str_null(&next->marker);
    ngx_memzero(&next->keys, sizeof(ngx_http_llm_redis_buf_t));
    ngx_memzero(&next->args, sizeof(ngx_http_llm_redis_buf_t));
    next->nkeys = 0;
    next->nargs = 0;
    next->n = 0;
    next->elements = 0;
}


/*
 * The batch's command (from malloc(), NULL if out of memory), and the
 * batch emptied for the next turn; its buffers are kept.
 */

static char *
ngx_http_llm_fleet_next_cmd(ngx_http_llm_fleet_next_t *next,
    ngx_uint_t script, int *len)
{
    char  *cmd;

    cmd = ngx_http_llm_fleet_batch_cmd(script, &next->keys, next->nkeys,
                                       &next->args, next->nargs, len);

    next->keys.len = 0;
    next->args.len = 0;
    next->nkeys = 0;
    next->nargs = 0;
    next->n = 0;
    next->elements = 0;

    return cmd;
}


/* once per turn of the event loop: after the events of this one */

void
ngx_http_llm_fleet_post(void)
{
    ngx_event_t  *ev;

    ev = &ngx_http_llm_fleet_flush_ev;

    if (ev->posted) {
        return;
    }

    ev->handler = ngx_http_llm_fleet_flush;
    ev->log = ngx_cycle->log;
    ev->data = ev;

    ngx_post_event(ev, &ngx_posted_events);
}


static void
ngx_http_llm_fleet_flush(ngx_event_t *ev)
{
    /*
     * One batch of reservations in flight at a time: what comes meanwhile
     * waits for its reply and goes in the next call, so that under load
     * a call carries many requests (a key is read and written once per
     * call, and there are fewer round trips).  Settles go with them.
     */
    if (ngx_http_llm_fleet_reserving) {
        return;
    }

    /* settles first: a reservation after them finds the room they free */
    ngx_http_llm_fleet_flush_settles(ev->log);
    ngx_http_llm_fleet_flush_reserves(ev->log);
}


static void
ngx_http_llm_fleet_flush_reserves(ngx_log_t *log)
{
    int                          len;
    char                        *cmd;
    ngx_uint_t                   i, n;
    ngx_http_llm_fleet_req_t    *fr;
    ngx_http_llm_fleet_next_t   *next;
    ngx_http_llm_fleet_batch_t  *batch;

    next = &ngx_http_llm_fleet_reserves;
    n = next->n;

    if (n == 0) {
        return;
    }

    batch = ngx_alloc(sizeof(ngx_http_llm_fleet_batch_t)
                      + n * sizeof(ngx_http_llm_fleet_item_t), log);

    cmd = ngx_http_llm_fleet_next_cmd(next, NGX_HTTP_LLM_SCRIPT_RESERVE, &len);

    if (batch == NULL) {
        if (cmd) {
            redisFreeCommand(cmd);
        }

        /* never sent: each gets its answer all the same */

        for (i = 0; i < n; i++) {
            fr = next->items[i].fr;

            if (fr) {
                next->items[i].fr = NULL;
                ngx_http_llm_fleet_item_answer(fr, NGX_HTTP_LLM_RESP_INVALID,
                                               0, NULL, 0);
            }
        }

        return;
    }

    batch->n = n;
    ngx_memcpy(batch->items, next->items,
               n * sizeof(ngx_http_llm_fleet_item_t));

    for (i = 0; i < n; i++) {
        if (batch->items[i].fr) {
            batch->items[i].fr->item = &batch->items[i];
        }
    }

    /* counted first: a failing connection may answer it at once */
    ngx_http_llm_fleet_reserving++;

    if (cmd == NULL
        || ngx_http_llm_redis_queue(cmd, len, NGX_HTTP_LLM_SCRIPT_RESERVE + 1,
                                    0, ngx_http_llm_fleet_reserved, batch)
           != NGX_OK)
    {
        /*
         * never sent: Redis went down in this turn; not "unknown" (the
         * command was taken over by ngx_http_llm_redis_queue(), freed)
         */

        for (i = 0; i < batch->n; i++) {
            fr = batch->items[i].fr;

            if (fr) {
                batch->items[i].fr = NULL;
                ngx_http_llm_fleet_item_answer(fr, NGX_HTTP_LLM_RESP_INVALID,
                                               0, NULL, 0);
            }
        }

        ngx_http_llm_fleet_reserving--;
        ngx_free(batch);
    }
}


/*
 * The batch's reply: each request's part, in order.  A reply that is
 * not the script's as a whole (an error, garbage, none at all) is no
 * answer for any of them: Redis may hold their reservations.
 */

static void
ngx_http_llm_fleet_reserved(void *data, redisReply *reply)
{
    ngx_http_llm_fleet_batch_t *batch = data;

    int                         rv;
    size_t                      pos, index;
    long long                   left[NGX_HTTP_LLM_MAX_RESERVATIONS];
    ngx_uint_t                  i, valid;
    ngx_http_llm_fleet_req_t   *fr;
    ngx_http_llm_main_conf_t   *lmcf;
    ngx_http_llm_redis_conf_t  *rc;

    pos = 0;
    valid = 1;

    ngx_http_llm_fleet_reserving--;

    if (ngx_http_llm_fleet_reserves.n || ngx_http_llm_fleet_settles.n) {
        ngx_http_llm_fleet_post();
    }

    for (i = 0; i < batch->n; i++) {
        if (ngx_http_llm_resp_reserve_at(reply, &pos, batch->items[i].n,
                                         &index, left)
            == NGX_HTTP_LLM_RESP_INVALID)
        {
            valid = 0;
            break;
        }
    }

    if (valid && pos != reply->elements) {
        valid = 0;
    }

    if (!valid && reply) {
        lmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                                   ngx_http_llm_router_module);
        rc = lmcf->redis;

        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "llm router: redis %V: unexpected reply to the "
                      "reservation (type %d%s%*s)", &rc->name,
                      reply->type,
                      reply->type == REDIS_REPLY_ERROR ? ": " : "",
                      (size_t) (reply->type == REDIS_REPLY_ERROR
                                ? ngx_min(reply->len, 200) : 0),
                      reply->str ? reply->str : "");
    }

    pos = 0;

    /* items[] is read again after each handler: it may end others */

    for (i = 0; i < batch->n; i++) {
        rv = NGX_HTTP_LLM_RESP_INVALID;
        index = 0;

        if (valid) {
            rv = ngx_http_llm_resp_reserve_at(reply, &pos, batch->items[i].n,
                                              &index, left);
        }

        fr = batch->items[i].fr;

        if (fr == NULL) {
            /* the request is gone; a reservation made expires with its
             * window */
            continue;
        }

        batch->items[i].fr = NULL;
        ngx_http_llm_fleet_item_answer(fr, rv, index, left, 1);
    }

    ngx_free(batch);
}


/* an item out of its batch: whoever added it gets its outcome */

static void
ngx_http_llm_fleet_item_answer(ngx_http_llm_fleet_req_t *fr, int rv,
    size_t index, long long *left, ngx_uint_t unknown)
{
    fr->item = NULL;
    fr->answer(fr, rv, index, left, unknown);
}


/*
 * A settle's first arguments in the next batch: its reservations' batch
 * marker, its field there, how many reservations follow (saved: where
 * the batch's buffers ended, to take it back).  The settles' batch, for
 * the caller to add the rest to, or NULL if out of memory.
 */

ngx_http_llm_fleet_next_t *
ngx_http_llm_fleet_settle_start(ngx_http_llm_fleet_req_t *fr, ngx_uint_t n,
    size_t *saved, ngx_log_t *log)
{
    ngx_http_llm_fleet_next_t  *next;

    next = &ngx_http_llm_fleet_settles;

    if (next->n == NGX_HTTP_LLM_FLEET_BATCH) {
        ngx_http_llm_fleet_flush_settles(log);
    }

    saved[0] = next->keys.len;
    saved[1] = next->args.len;

    if (ngx_http_llm_fleet_arg(&next->keys, fr->marker.data, fr->marker.len,
                               log)
        != NGX_OK
        || ngx_http_llm_fleet_arg_num(&next->args, fr->field, log) != NGX_OK
        || ngx_http_llm_fleet_arg_num(&next->args, n, log) != NGX_OK)
    {
        ngx_http_llm_fleet_next_undo(next, saved);
        return NULL;
    }

    return next;
}


/* this turn's settles: one job, kept until Redis answered it */

static void
ngx_http_llm_fleet_flush_settles(ngx_log_t *log)
{
    int                         len;
    char                       *cmd;
    ngx_http_llm_fleet_next_t  *next;

    next = &ngx_http_llm_fleet_settles;

    if (next->n == 0) {
        return;
    }

    cmd = ngx_http_llm_fleet_next_cmd(next, NGX_HTTP_LLM_SCRIPT_SETTLE, &len);

    if (cmd) {
        ngx_http_llm_fleet_job_cmd(NGX_HTTP_LLM_SCRIPT_SETTLE, cmd, len, log);
    }
}


/*
 * The worker exits: a batch not sent yet is sent now (its reservations
 * are answered "no reply" with the rest), then its settles.
 */

void
ngx_http_llm_fleet_batch_flush(ngx_log_t *log)
{
    ngx_http_llm_fleet_flush_reserves(log);
    ngx_http_llm_fleet_flush_settles(log);
}


/* the worker exits, its connection drained: what waits is dropped */

void
ngx_http_llm_fleet_batch_free(void)
{
    if (ngx_http_llm_fleet_flush_ev.posted) {
        ngx_delete_posted_event(&ngx_http_llm_fleet_flush_ev);
    }

    ngx_http_llm_fleet_next_free(&ngx_http_llm_fleet_reserves);
    ngx_http_llm_fleet_next_free(&ngx_http_llm_fleet_settles);
}
