
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * libFuzzer harness of llm_redis' reply path: the worker's connection to
 * Redis (src/ngx_http_llm_router_redis.c and _redis_queue.c, the real
 * files) with its hiredis reader (_resp.c), driven through its read
 * handler by a fake server.
 * nginx's event loop is stubbed: connect() succeeds at once, what the
 * module sends is kept, posted events and timers are run by the harness.
 *
 * Input: byte 0 = flags (bit 0 AUTH, bit 1 SELECT, bit 2 the server
 * closes after its bytes, bit 3 the oldest command times out after
 * them, bit 4 a request reserves its budgets first (fleet.c, its reply
 * handler, then the settle), bit 5 that request goes away at once, bit 6
 * on_error=reject, bit 7 the server closes before the turn's batch
 * goes), byte 1 = commands queued after the handshake's (low
 * 4 bits, plain or script by the bits of byte 2), byte 2 = seed of the split,
 * the rest = what the server sends.  Each input runs twice: the server's
 * bytes in one read, then in pieces of 1..16 bytes, each read a heap
 * block of its exact size.
 *
 * Checked: no crash, leak or UB; every command queued gets its handler
 * called exactly once (a reply, or NULL when the connection failed:
 * garbage, an error to the handshake, a reply to no command, the server
 * closing, a timeout), at the latest when the worker exits; a reply
 * handed over is of a RESP2 type within the reader's limits; a script
 * call's handler sees NOSCRIPT only after the call was sent again; what the
 * module sends is a sequence of well-formed commands; both splits give
 * the same calls with the same replies and the same final state.
 * LLVMFuzzerInitialize() runs fixed cases first: valid replies give
 * their values, NOSCRIPT loads the script and resends the call, and
 * garbage, an error to AUTH, a timeout and a close fail every command;
 * arrays and strings at the reader's limits pass, one more is refused.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>
#include <ngx_http.h>

#include "ngx_http_llm_router.h"
#include "ngx_http_llm_router_redis.h"
#include "ngx_http_llm_router_resp.h"
#include "ngx_stubs.h"


#define FUZZ_OPS      16
#define FUZZ_LOG      4096
#define FUZZ_TIMERS   8


typedef struct {
    ngx_uint_t    calls;
    ngx_uint_t    script;
    ngx_uint_t    declined;
    ngx_uint_t    noscript;     /* a NOSCRIPT reply handed over */
} fuzz_op_t;


typedef struct {
    fuzz_op_t     ops[FUZZ_OPS];
    ngx_uint_t    nops;
    u_char        log[FUZZ_LOG];  /* the calls, in order, serialized */
    size_t        log_len;
    ngx_uint_t    up;             /* after the server's bytes */
    ngx_uint_t    exits;
    ngx_uint_t    evalsha;        /* commands sent */
    ngx_uint_t    load;
    ngx_uint_t    reserved;       /* outcomes of the reservation */
} fuzz_result_t;


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static void fuzz_run(u_char flags, ngx_uint_t nops, ngx_uint_t kinds,
    const u_char *data, size_t size, uint32_t seed, fuzz_result_t *res);
static void fuzz_append(fuzz_result_t *res, const char *s, size_t len);


ngx_module_t                 ngx_http_llm_router_module;
ngx_module_t                 ngx_http_module;
ngx_uint_t                   ngx_process = NGX_PROCESS_WORKER;
ngx_uint_t                   ngx_exiting;
sig_atomic_t                 ngx_quit;
sig_atomic_t                 ngx_terminate;
ngx_pid_t                    ngx_pid = 1;
ngx_pid_t                    ngx_parent = 1;
volatile ngx_msec_t          ngx_current_msec = 1000;
ngx_queue_t                  ngx_posted_events;
ngx_rbtree_t                 ngx_event_timer_rbtree;
volatile ngx_cycle_t        *ngx_cycle;

static fuzz_result_t        *fuzz_res;
static ngx_event_t          *fuzz_timers[FUZZ_TIMERS];

static ngx_connection_t      fuzz_conn;
static ngx_event_t           fuzz_rev, fuzz_wev;
static ngx_uint_t            fuzz_open;
static ngx_uint_t            fuzz_connects;
static ngx_log_t             fuzz_log;

/* the server's bytes: what the current read may return */
static const u_char         *fuzz_in;
static size_t                fuzz_in_len;
static ngx_uint_t            fuzz_eof;

/* the budget reservation's request, and what it was told */
static ngx_pool_t            fuzz_pool;
static ngx_http_llm_ctx_t   *fuzz_ctx;
static ngx_uint_t            fuzz_reject;
static ngx_uint_t            fuzz_status;

/* what the module sent */
static u_char               *fuzz_out;
static size_t                fuzz_out_len, fuzz_out_size;


/* nginx's event loop, as the connection uses it */

ngx_int_t
ngx_event_get_peer(ngx_peer_connection_t *pc, void *data)
{
    return NGX_OK;
}


static ssize_t
fuzz_recv(ngx_connection_t *c, u_char *buf, size_t size)
{
    if (fuzz_in_len == 0) {
        return fuzz_eof ? 0 : NGX_AGAIN;
    }

    size = ngx_min(size, fuzz_in_len);
    memcpy(buf, fuzz_in, size);

    fuzz_in += size;
    fuzz_in_len -= size;

    return size;
}


static ssize_t
fuzz_send(ngx_connection_t *c, u_char *buf, size_t size)
{
    if (fuzz_out_len + size > fuzz_out_size) {
        fuzz_out_size = 2 * (fuzz_out_len + size);
        fuzz_out = realloc(fuzz_out, fuzz_out_size);
        if (fuzz_out == NULL) {
            abort();
        }
    }

    /* a short write now and then */
    size = size > 7 ? size - 7 : size;

    memcpy(fuzz_out + fuzz_out_len, buf, size);
    fuzz_out_len += size;

    return size;
}


ngx_int_t
ngx_event_connect_peer(ngx_peer_connection_t *pc)
{
    if (fuzz_open) {
        abort();                    /* one connection at a time */
    }

    ngx_memzero(&fuzz_conn, sizeof(ngx_connection_t));
    ngx_memzero(&fuzz_rev, sizeof(ngx_event_t));
    ngx_memzero(&fuzz_wev, sizeof(ngx_event_t));

    fuzz_conn.fd = -1;
    fuzz_conn.read = &fuzz_rev;
    fuzz_conn.write = &fuzz_wev;
    fuzz_conn.recv = fuzz_recv;
    fuzz_conn.send = fuzz_send;
    fuzz_conn.log = &fuzz_log;
    fuzz_rev.data = &fuzz_conn;
    fuzz_wev.data = &fuzz_conn;
    fuzz_rev.log = &fuzz_log;
    fuzz_wev.log = &fuzz_log;
    fuzz_wev.write = 1;

    fuzz_open = 1;
    fuzz_connects++;
    pc->connection = &fuzz_conn;

    return NGX_OK;
}


/* the fake connection is no socket: nothing to set */

ngx_int_t
ngx_tcp_nodelay(ngx_connection_t *c)
{
    if (c != &fuzz_conn || !fuzz_open) {
        abort();
    }

    c->tcp_nodelay = NGX_TCP_NODELAY_SET;

    return NGX_OK;
}


void
ngx_close_connection(ngx_connection_t *c)
{
    if (c != &fuzz_conn || !fuzz_open) {
        abort();
    }

    if (fuzz_rev.posted) {
        ngx_delete_posted_event(&fuzz_rev);
    }

    if (fuzz_wev.posted) {
        ngx_delete_posted_event(&fuzz_wev);
    }

    fuzz_open = 0;
}


ngx_int_t
ngx_handle_read_event(ngx_event_t *rev, ngx_uint_t flags)
{
    return NGX_OK;
}


ngx_int_t
ngx_handle_write_event(ngx_event_t *wev, size_t lowat)
{
    return NGX_OK;
}


void
ngx_rbtree_insert(ngx_rbtree_t *tree, ngx_rbtree_node_t *node)
{
    ngx_uint_t  i;

    for (i = 0; i < FUZZ_TIMERS; i++) {
        if (fuzz_timers[i] == NULL) {
            fuzz_timers[i] = (ngx_event_t *)
                             ((u_char *) node - offsetof(ngx_event_t, timer));
            return;
        }
    }

    abort();
}


void
ngx_rbtree_delete(ngx_rbtree_t *tree, ngx_rbtree_node_t *node)
{
    ngx_uint_t  i;

    for (i = 0; i < FUZZ_TIMERS; i++) {
        if (fuzz_timers[i] && &fuzz_timers[i]->timer == node) {
            fuzz_timers[i] = NULL;
            return;
        }
    }

    abort();
}


void
ngx_time_update(void)
{
}


void *
ngx_calloc(size_t size, ngx_log_t *log)
{
    return calloc(1, size);
}


u_char *
ngx_strerror(ngx_err_t err, u_char *errstr, size_t size)
{
    return ngx_cpymem(errstr, "error", ngx_min(size, 5));
}


ngx_pool_cleanup_t *
ngx_pool_cleanup_add(ngx_pool_t *p, size_t size)
{
    ngx_pool_cleanup_t  *c;

    c = ngx_pcalloc(p, sizeof(ngx_pool_cleanup_t));
    c->next = p->cleanup;
    p->cleanup = c;

    return c;
}


void
ngx_gmtime(time_t t, ngx_tm_t *tp)
{
    gmtime_r(&t, tp);
    tp->ngx_tm_mon++;
    tp->ngx_tm_year += 1900;
}


/* error.c: the request's error, as the status it answers */

ngx_int_t
ngx_http_llm_set_error(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    ngx_uint_t status, const char *code, const char *param,
    const char *fmt, ...)
{
    fuzz_status = status;

    return status;
}


/* redis_conf.c: the copy the worker keeps (SHA1 digests made up) */

ngx_int_t
ngx_http_llm_redis_conf_copy(ngx_cycle_t *cycle,
    ngx_http_llm_redis_conf_t *rc, ngx_http_llm_redis_conf_t *copy,
    u_char sha[][40])
{
    ngx_uint_t  i;

    *copy = *rc;

    copy->name.data = malloc(rc->name.len);
    ngx_memcpy(copy->name.data, rc->name.data, rc->name.len);
    ngx_str_set(&copy->node, "fuzzhost:1");

    for (i = 0; i < NGX_HTTP_LLM_NSCRIPTS; i++) {
        ngx_memset(sha[i], 'a' + i, 40);
    }

    return ngx_http_llm_redis_hello(copy, cycle->log);
}


/*
 * The fleet's batch of this turn (a posted event of fleet.c, not the
 * connection's): queued at once, as the end of a turn of nginx's event
 * loop does before the next read; Redis answers only what it was sent.
 */

static void
fuzz_flush(void)
{
    ngx_queue_t  *q, *next;
    ngx_event_t  *ev;

    for (q = ngx_queue_head(&ngx_posted_events);
         q != ngx_queue_sentinel(&ngx_posted_events);
         q = next)
    {
        next = ngx_queue_next(q);
        ev = ngx_queue_data(q, ngx_event_t, queue);

        if (ev != &fuzz_wev && ev != &fuzz_rev) {
            ngx_delete_posted_event(ev);
            ev->handler(ev);
            return;
        }
    }
}


/* the posted events: the write handler sends what was queued */

static void
fuzz_posted(void)
{
    ngx_queue_t  *q;
    ngx_event_t  *ev;

    while (!ngx_queue_empty(&ngx_posted_events)) {
        q = ngx_queue_head(&ngx_posted_events);
        ev = ngx_queue_data(q, ngx_event_t, queue);
        ngx_delete_posted_event(ev);
        ev->handler(ev);
    }
}


static void
fuzz_sync(ngx_log_t *log)
{
    abort();                        /* its timer never fires here */
}


static void
fuzz_exit(ngx_log_t *log)
{
    fuzz_res->exits++;
    ngx_http_llm_fleet_exit(log);
}


/*
 * The reservation's outcome (budget.c's part): NGX_OK, NGX_DECLINED (no
 * answer, on_error=local) or the status of the error set; then, unless
 * the worker is exiting, the settle the end of the request sends.
 */

static void
fuzz_reserved(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx, ngx_int_t rc,
    ngx_http_llm_reservation_t *refused)
{
    char        num[32];
    int64_t     used[NGX_HTTP_LLM_MAX_RESERVATIONS];
    ngx_uint_t  i;

    if (fuzz_res->reserved++ || ctx != fuzz_ctx) {
        abort();
    }

    switch (rc) {

    case NGX_OK:
        if (ctx->budget.nreservations != 3 || refused) {
            abort();
        }

        break;

    case NGX_DECLINED:
        if (fuzz_reject || !ctx->budget.fleet_local || refused) {
            abort();
        }

        break;

    case NGX_HTTP_SERVICE_UNAVAILABLE:
        if (!fuzz_reject || refused || fuzz_status != (ngx_uint_t) rc) {
            abort();
        }

        break;

    case NGX_HTTP_TOO_MANY_REQUESTS:
        if (refused == NULL || ctx->budget.retry_after < 1
            || fuzz_status != (ngx_uint_t) rc)
        {
            abort();
        }

        break;

    default:
        abort();
    }

    snprintf(num, sizeof(num), "R%ld;", (long) rc);
    fuzz_append(fuzz_res, num, strlen(num));

    if (!ngx_exiting) {
        for (i = 0; i < NGX_HTTP_LLM_MAX_RESERVATIONS; i++) {
            used[i] = i;
        }

        ngx_http_llm_fleet_settle(r, ctx, used);
        fuzz_flush();
    }
}


/* a request under two budgets (three limits) reserves on Redis */

static void
fuzz_reserve(ngx_http_llm_main_conf_t *lmcf, ngx_uint_t freed,
    ngx_uint_t down)
{
    ngx_int_t                  rc;
    ngx_str_t                 *keys;
    ngx_array_t               *budgets;
    ngx_connection_t          *c;
    ngx_http_request_t        *r;
    ngx_http_llm_budget_t     *b;
    ngx_http_llm_loc_conf_t   *lcf;
    ngx_pool_cleanup_t        *cln;
    static int64_t             est[NGX_HTTP_LLM_NMETRICS] = { 1, 100, 5 };
    static void               *main_conf[1];

    ngx_memzero(&fuzz_pool, sizeof(ngx_pool_t));
    main_conf[0] = lmcf;

    c = ngx_pcalloc(&fuzz_pool, sizeof(ngx_connection_t));
    c->log = &fuzz_log;
    r = ngx_pcalloc(&fuzz_pool, sizeof(ngx_http_request_t));
    r->pool = &fuzz_pool;
    r->connection = c;
    r->main_conf = main_conf;

    b = ngx_pcalloc(&fuzz_pool, 2 * sizeof(ngx_http_llm_budget_t));
    ngx_str_set(&b[0].name, "team");
    b[0].limit[0].limit = 10;
    b[0].limit[0].window = 60;
    b[0].limit[0].set = 1;
    b[0].limit[1].limit = 1000;
    b[0].limit[1].window = 0;            /* a month */
    b[0].limit[1].set = 1;
    ngx_str_set(&b[1].name, "cost");
    b[1].limit[2].limit = 50;
    b[1].limit[2].window = 86400;
    b[1].limit[2].set = 1;
    b[1].dry_run = 1;

    budgets = ngx_pcalloc(&fuzz_pool, sizeof(ngx_array_t));
    budgets->elts = b;
    budgets->nelts = 2;
    budgets->size = sizeof(ngx_http_llm_budget_t);

    lcf = ngx_pcalloc(&fuzz_pool, sizeof(ngx_http_llm_loc_conf_t));
    lcf->budgets = budgets;

    fuzz_ctx = ngx_pcalloc(&fuzz_pool, sizeof(ngx_http_llm_ctx_t));
    fuzz_ctx->request = r;
    fuzz_ctx->lcf = lcf;
    fuzz_ctx->budget.reservations = ngx_pcalloc(&fuzz_pool,
                                      NGX_HTTP_LLM_MAX_RESERVATIONS
                                      * sizeof(ngx_http_llm_reservation_t));

    keys = ngx_pcalloc(&fuzz_pool, 2 * sizeof(ngx_str_t));
    ngx_str_set(&keys[0], "tenant-a");
    ngx_str_set(&keys[1], "tenant-a");

    rc = ngx_http_llm_fleet_reserve(r, fuzz_ctx, keys, est, fuzz_reserved);

    if (rc != NGX_AGAIN) {
        abort();                        /* Redis is connecting: queued */
    }

    if (down && fuzz_open) {
        /* the server closes before the turn's batch goes: never sent */
        fuzz_eof = 1;
        fuzz_rev.handler(&fuzz_rev);
        fuzz_eof = 0;
    }

    fuzz_flush();

    if (freed) {
        /* the client goes away before the answer: forgotten */
        for (cln = fuzz_pool.cleanup; cln; cln = cln->next) {
            cln->handler(cln->data);
        }

        fuzz_pool.cleanup = NULL;
    }
}


static void
fuzz_append(fuzz_result_t *res, const char *s, size_t len)
{
    len = ngx_min(len, FUZZ_LOG - res->log_len);
    ngx_memcpy(res->log + res->log_len, s, len);
    res->log_len += len;
}


/* a reply, checked and written to the log of calls */

static void
fuzz_reply(fuzz_result_t *res, redisReply *reply, ngx_uint_t depth)
{
    char    num[64];
    size_t  i;

    snprintf(num, sizeof(num), "%d", reply->type);
    fuzz_append(res, num, strlen(num));

    switch (reply->type) {

    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
        if (reply->len > NGX_HTTP_LLM_RESP_MAX_STRING
            || (reply->len && reply->str == NULL))
        {
            abort();
        }

        snprintf(num, sizeof(num), ":%zu:", reply->len);
        fuzz_append(res, num, strlen(num));
        fuzz_append(res, reply->str, reply->len);
        break;

    case REDIS_REPLY_INTEGER:
        snprintf(num, sizeof(num), ":%lld", reply->integer);
        fuzz_append(res, num, strlen(num));
        break;

    case REDIS_REPLY_NIL:
        break;

    case REDIS_REPLY_ARRAY:
        if (reply->elements > NGX_HTTP_LLM_RESP_MAX_ELEMENTS
            || depth > 7)
        {
            abort();
        }

        snprintf(num, sizeof(num), "[%zu", reply->elements);
        fuzz_append(res, num, strlen(num));

        for (i = 0; i < reply->elements; i++) {
            fuzz_reply(res, reply->element[i], depth + 1);
        }

        fuzz_append(res, "]", 1);
        break;

    default:
        abort();
    }

    fuzz_append(res, ";", 1);
}


static void
fuzz_handler(void *data, redisReply *reply)
{
    fuzz_op_t  *op = data;

    if (op->calls++) {
        abort();                    /* a second call */
    }

    if (reply == NULL) {
        fuzz_append(fuzz_res, "NULL;", 5);
        return;
    }

    if (op->script && reply->type == REDIS_REPLY_ERROR && reply->len >= 8
        && ngx_strncmp(reply->str, "NOSCRIPT", 8) == 0)
    {
        op->noscript = 1;
    }

    fuzz_reply(fuzz_res, reply, 0);
}


/*
 * What the module sent: commands "*N\r\n" then N times "$L\r\nbytes\r\n";
 * counts the EVALSHA and the SCRIPT LOAD among them.
 */

static void
fuzz_check_sent(ngx_uint_t *evalsha, ngx_uint_t *load)
{
    long     n, len;
    char    *end;
    u_char  *p, *last, *arg0;

    p = fuzz_out;
    last = fuzz_out + fuzz_out_len;
    *evalsha = 0;
    *load = 0;

    while (p < last) {
        if (*p++ != '*') {
            abort();
        }

        n = strtol((char *) p, &end, 10);
        p = (u_char *) end;

        if (n < 1 || last - p < 2 || p[0] != '\r' || p[1] != '\n') {
            abort();
        }

        p += 2;
        arg0 = NULL;

        while (n--) {
            if (p >= last || *p++ != '$') {
                abort();
            }

            len = strtol((char *) p, &end, 10);
            p = (u_char *) end;

            if (len < 0 || last - p < len + 4 || p[0] != '\r' || p[1] != '\n'
                || p[len + 2] != '\r' || p[len + 3] != '\n')
            {
                abort();
            }

            if (arg0 == NULL) {
                arg0 = p + 2;
                *evalsha += (len == 7 && ngx_strncmp(arg0, "EVALSHA", 7) == 0);
                *load += (len == 6 && ngx_strncmp(arg0, "SCRIPT", 6) == 0);
            }

            p += len + 4;
        }
    }
}


/*
 * One connection's life: the handshake, nops commands, the server's
 * bytes in reads of the sizes given (0: all at once), then the worker's
 * exit.
 */

static void
fuzz_run(u_char flags, ngx_uint_t nops, ngx_uint_t kinds,
    const u_char *data, size_t size, uint32_t seed, fuzz_result_t *res)
{
    u_char                     *copy;
    size_t                      piece;
    ngx_uint_t                  i, evalsha, load, retried;
    ngx_cycle_t                 cycle;
    ngx_pool_cleanup_t         *cln;
    ngx_http_conf_ctx_t         hctx;
    ngx_http_llm_main_conf_t    lmcf;
    ngx_http_llm_redis_conf_t   rc;
    void                       *conf_ctx[1], *main_conf[1];
    static const char          *argv[4];
    static size_t               argvlen[4];

    ngx_memzero(res, sizeof(fuzz_result_t));
    fuzz_res = res;
    fuzz_out_len = 0;
    fuzz_connects = 0;
    ngx_current_msec = 1000;

    ngx_memzero(&fuzz_log, sizeof(ngx_log_t));
    ngx_memzero(&cycle, sizeof(ngx_cycle_t));
    ngx_memzero(&hctx, sizeof(ngx_http_conf_ctx_t));
    ngx_memzero(&lmcf, sizeof(ngx_http_llm_main_conf_t));
    ngx_memzero(&rc, sizeof(ngx_http_llm_redis_conf_t));
    ngx_queue_init(&ngx_posted_events);

    ngx_str_set(&rc.name, "127.0.0.1:6379");
    rc.timeout = 100;
    rc.sync = 1000;

    if (flags & 1) {
        ngx_str_set(&rc.password, "secret");
    }

    if (flags & 2) {
        rc.db = 3;
    }

    lmcf.redis = &rc;
    main_conf[0] = &lmcf;
    hctx.main_conf = main_conf;
    conf_ctx[0] = &hctx;
    cycle.conf_ctx = (void ****) conf_ctx;
    cycle.log = &fuzz_log;
    ngx_cycle = &cycle;

    fuzz_reject = (flags & 64) ? 1 : 0;
    rc.on_error = fuzz_reject ? NGX_HTTP_LLM_REDIS_REJECT
                              : NGX_HTTP_LLM_REDIS_LOCAL;
    fuzz_status = 0;

    if (ngx_http_llm_redis_init_process(&cycle, fuzz_sync, fuzz_exit)
        != NGX_OK)
    {
        abort();
    }

    fuzz_posted();

    if (flags & 16) {
        fuzz_reserve(&lmcf, flags & 32, flags & 128);
    }

    /* the commands, queued while the handshake is in flight */

    for (i = 0; i < nops; i++) {
        res->ops[i].script = (kinds >> i) & 1;

        if (res->ops[i].script) {
            argv[2] = "1";
            argvlen[2] = 1;
            argv[3] = "key";
            argvlen[3] = 3;

            if (ngx_http_llm_redis_script(i % NGX_HTTP_LLM_NSCRIPTS, 4, argv,
                                          argvlen, fuzz_handler,
                                          &res->ops[i])
                != NGX_OK)
            {
                res->ops[i].declined = 1;
            }

        } else {
            argv[0] = "GET";
            argvlen[0] = 3;
            argv[1] = "key";
            argvlen[1] = 3;

            if (ngx_http_llm_redis_command(2, argv, argvlen, fuzz_handler,
                                           &res->ops[i])
                != NGX_OK)
            {
                res->ops[i].declined = 1;
            }
        }
    }

    res->nops = nops;
    fuzz_posted();

    /* the server's bytes, read by read, each its exact size */

    while (size) {
        if (seed == 0) {
            piece = size;

        } else {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            piece = ngx_min(size, 1 + seed % 16);
        }

        copy = malloc(piece);
        memcpy(copy, data, piece);
        fuzz_in = copy;
        fuzz_in_len = piece;

        if (fuzz_open) {
            fuzz_rev.handler(&fuzz_rev);
            fuzz_posted();
        }

        free(copy);
        fuzz_in = NULL;
        fuzz_in_len = 0;
        data += piece;
        size -= piece;
    }

    if ((flags & 4) && fuzz_open) {
        fuzz_eof = 1;
        fuzz_rev.handler(&fuzz_rev);
        fuzz_posted();
        fuzz_eof = 0;
    }

    if (flags & 8) {
        /* the oldest command's deadline passes */
        ngx_current_msec += 1000;

        for (i = 0; i < FUZZ_TIMERS; i++) {
            if (fuzz_timers[i]
                && fuzz_timers[i]->handler != NULL
                && fuzz_timers[i]->timer.key <= ngx_current_msec - 1000
                                                + rc.timeout)
            {
                fuzz_timers[i]->handler(fuzz_timers[i]);
                fuzz_posted();
                break;
            }
        }
    }

    res->up = ngx_http_llm_redis_up();

    if (res->up && !fuzz_open) {
        abort();
    }

    fuzz_check_sent(&evalsha, &load);

    /* the worker exits: whatever is in flight is answered NULL */

    ngx_exiting = 1;
    ngx_http_llm_redis_exit_process(&cycle);
    ngx_exiting = 0;

    if (fuzz_open || res->exits != 1 || !ngx_queue_empty(&ngx_posted_events))
    {
        abort();
    }

    /* the outcome, once, if wanted (never sent: before it went away) */
    if ((flags & 16) && res->reserved != (!(flags & 32) || (flags & 128))) {
        abort();
    }

    if (flags & 16) {
        /* the request ends */
        for (cln = fuzz_pool.cleanup; cln; cln = cln->next) {
            cln->handler(cln->data);
        }

        ngx_stubs_pool_reset();
    }

    /* no timer is left behind */
    for (i = 0; i < FUZZ_TIMERS; i++) {
        if (fuzz_timers[i]) {
            abort();
        }
    }

    retried = load - fuzz_connects * NGX_HTTP_LLM_NSCRIPTS;

    for (i = 0; i < nops; i++) {
        if (res->ops[i].calls != !res->ops[i].declined) {
            fprintf(stderr, "command %lu: %lu calls\n", (unsigned long) i,
                    (unsigned long) res->ops[i].calls);
            abort();
        }

        /*
         * NOSCRIPT reaches the handler only for a call sent again (seen
         * when the connection is up: what was queued has been sent)
         */
        if (res->ops[i].noscript && res->up && retried == 0) {
            abort();
        }
    }

    res->evalsha = evalsha;
    res->load = load;
}


static void
fuzz_compare(fuzz_result_t *a, fuzz_result_t *b)
{
    if (a->up != b->up || a->log_len != b->log_len
        || ngx_memcmp(a->log, b->log, a->log_len) != 0)
    {
        fprintf(stderr, "whole: up %lu %.*s\nsplit: up %lu %.*s\n",
                (unsigned long) a->up, (int) a->log_len, a->log,
                (unsigned long) b->up, (int) b->log_len, b->log);
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char          flags;
    uint32_t        seed;
    ngx_uint_t      nops, kinds;
    fuzz_result_t   whole, split;

    if (size < 3) {
        return 0;
    }

    flags = data[0];
    nops = data[1] & 15;
    kinds = data[2] * 0x0101u;
    seed = data[2] * 2654435761u + 1;

    fuzz_run(flags, nops, kinds, data + 3, size - 3, 0, &whole);
    fuzz_run(flags, nops, kinds, data + 3, size - 3, seed, &split);
    fuzz_compare(&whole, &split);

    return 0;
}


/* fixed cases: what valid and broken replies must give */

#define FUZZ_H  "+OK\r\n+OK\r\n+OK\r\n+OK\r\n+OK\r\n"
#define FUZZ_SHA  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

typedef struct {
    u_char       flags;
    ngx_uint_t   nops;
    ngx_uint_t   kinds;
    const char  *in;
    const char  *log;
    ngx_uint_t   up;
    ngx_uint_t   evalsha;
    ngx_uint_t   load;
} fuzz_case_t;


static const fuzz_case_t  fuzz_cases[] = {

    /* types: 1 string, 2 array, 3 integer, 4 nil, 5 status, 6 error */
    { 0, 3, 0, FUZZ_H ":42\r\n$3\r\nabc\r\n$-1\r\n",
      "3:42;1:3:abc;4;", 1, 0, 5 },
    { 0, 2, 3, FUZZ_H "*3\r\n:1\r\n:5\r\n:0\r\n*2\r\n:0\r\n:-3\r\n",
      "2[33:1;3:5;3:0;];2[23:0;3:-3;];", 1, 2, 5 },
    { 0, 2, 0, FUZZ_H "*2\r\n*1\r\n+in\r\n-ERR x\r\n+PONG\r\n",
      "2[22[15:2:in;];6:5:ERR x;];5:4:PONG;", 1, 0, 5 },

    /* NOSCRIPT: SCRIPT LOAD, the same EVALSHA again, its reply */
    { 0, 1, 1, FUZZ_H "-NOSCRIPT No matching script\r\n$40\r\n" FUZZ_SHA
                 "\r\n*2\r\n:1\r\n:7\r\n",
      "2[23:1;3:7;];", 1, 2, 6 },

    /* AUTH and SELECT first */
    { 3, 1, 0, "+OK\r\n+OK\r\n" FUZZ_H ":1\r\n", "3:1;", 1, 0, 5 },

    /* the connection fails: every command gets NULL */
    { 3, 2, 0, "-ERR invalid password\r\n", "NULL;NULL;", 0, 0, 5 },
    { 0, 2, 0, FUZZ_H "?garbage\r\n", "NULL;NULL;", 0, 0, 5 },
    { 0, 2, 0, FUZZ_H "*100000000\r\n", "NULL;NULL;", 0, 0, 5 },

    /* a string over the limit is refused once it is whole: not yet */
    { 0, 2, 0, FUZZ_H "$100000\r\n", "NULL;NULL;", 1, 0, 5 },

    { 4, 2, 0, FUZZ_H ":1\r\n", "3:1;NULL;", 0, 0, 5 },
    { 4, 2, 0, FUZZ_H ":1\r\n:2", "3:1;NULL;", 0, 0, 5 },
    { 8, 2, 0, FUZZ_H ":1\r\n", "3:1;NULL;", 0, 0, 5 },
    { 8, 2, 0, "+OK\r\n", "NULL;NULL;", 0, 0, 5 },
    { 0, 1, 0, FUZZ_H ":1\r\n:2\r\n", "3:1;", 0, 0, 5 },

    /* the worker exits with a command in flight */
    { 0, 2, 0, FUZZ_H ":1\r\n", "3:1;NULL;", 1, 0, 5 },

    /*
     * a budget reservation (3 limits): "R" and its outcome, NGX_OK (0),
     * NGX_DECLINED (-5: this node's share), 429 or 503; a reservation
     * made or unknown is settled (a second EVALSHA)
     */
    { 16, 0, 0, FUZZ_H "*5\r\n:1\r\n:0\r\n:9\r\n:900\r\n:45\r\n:1\r\n",
      "R0;", 1, 2, 5 },
    { 16, 1, 0, FUZZ_H "*3\r\n:0\r\n:2\r\n:0\r\n:7\r\n",
      "R429;3:7;", 1, 1, 5 },
    { 16, 0, 0, FUZZ_H ":1\r\n", "R-5;", 1, 2, 5 },
    { 80, 0, 0, FUZZ_H ":1\r\n", "R503;", 1, 2, 5 },
    { 16, 0, 0, FUZZ_H "?x\r\n", "R-5;", 0, 1, 5 },
    { 80, 0, 0, FUZZ_H "?x\r\n", "R503;", 0, 1, 5 },
    { 16, 0, 0, FUZZ_H, "R-5;", 1, 1, 5 },

    /*
     * the server closes before the turn's batch goes: the reservation is
     * never sent (no EVALSHA), its outcome "not sent" (no settle)
     */
    { 144, 0, 0, FUZZ_H, "R-5;", 0, 0, 5 },
    { 208, 0, 0, FUZZ_H, "R503;", 0, 0, 5 },

    /* the request went away: no outcome, the reply is dropped */
    { 48, 0, 0, FUZZ_H "*5\r\n:1\r\n:0\r\n:9\r\n:900\r\n:45\r\n",
      "", 1, 1, 5 },
};


/* the reader's limits: 1024 elements, strings of 64 KB */

static void
fuzz_limits(void)
{
    char           *in, *p;
    size_t          i;
    uint32_t        seed;
    fuzz_result_t   res;

    in = malloc(100000);
    if (in == NULL) {
        abort();
    }

    for (seed = 0; seed < 2; seed++) {

        /* an array of 1024 integers is handed over, one more is not */

        p = in + sprintf(in, FUZZ_H "*1024\r\n");

        for (i = 0; i < 1024; i++) {
            p += sprintf(p, ":%zu\r\n", i);
        }

        fuzz_run(0, 1, 0, (u_char *) in, p - in, seed, &res);

        if (!res.up || res.log_len < 8 || ngx_memcmp(res.log, "2[1024", 6))
        {
            abort();
        }

        p = in + sprintf(in, FUZZ_H "*1025\r\n");
        fuzz_run(0, 1, 0, (u_char *) in, p - in, seed, &res);

        if (res.up || res.log_len != 5) {
            abort();
        }

        /* a string of 65536 bytes is handed over, one more is not */

        for (i = 65536; i <= 65537; i++) {
            p = in + sprintf(in, FUZZ_H "$%zu\r\n", i);
            ngx_memset(p, 'x', i);
            p = (char *) ngx_cpymem(p + i, "\r\n", 2);

            fuzz_run(0, 1, 0, (u_char *) in, p - in, seed, &res);

            if (i == 65536 ? !res.up || res.log_len < 9
                               || ngx_memcmp(res.log, "1:65536:x", 9)
                           : res.up || res.log_len != 5)
            {
                fprintf(stderr, "fuzz_redis: string of %zu: up %lu\n", i,
                        (unsigned long) res.up);
                abort();
            }
        }
    }

    free(in);
}


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    size_t          i, len;
    uint32_t        seed;
    fuzz_result_t   res;
    const char     *sent;

    for (i = 0; i < sizeof(fuzz_cases) / sizeof(fuzz_cases[0]); i++) {
        for (seed = 0; seed < 3; seed++) {
            fuzz_run(fuzz_cases[i].flags, fuzz_cases[i].nops,
                     fuzz_cases[i].kinds, (u_char *) fuzz_cases[i].in,
                     strlen(fuzz_cases[i].in), seed, &res);

            len = strlen(fuzz_cases[i].log);

            if (res.log_len != len
                || ngx_memcmp(res.log, fuzz_cases[i].log, len) != 0
                || res.up != fuzz_cases[i].up
                || res.evalsha != fuzz_cases[i].evalsha
                || res.load != fuzz_cases[i].load)
            {
                fprintf(stderr, "fuzz_redis: case %zu (seed %u): log %.*s "
                        "up %lu, %lu EVALSHA, %lu SCRIPT LOAD\n", i,
                        (unsigned) seed, (int) res.log_len, res.log,
                        (unsigned long) res.up, (unsigned long) res.evalsha,
                        (unsigned long) res.load);
                abort();
            }
        }
    }

    fuzz_limits();

    /* AUTH and SELECT go first, with the password and the db */
    sent = "*2\r\n$4\r\nAUTH\r\n$6\r\nsecret\r\n"
           "*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n*3\r\n$6\r\nSCRIPT\r\n";

    fuzz_run(3, 0, 0, NULL, 0, 0, &res);

    if (fuzz_out_len < strlen(sent)
        || ngx_memcmp(fuzz_out, sent, strlen(sent)) != 0)
    {
        fprintf(stderr, "fuzz_redis: handshake %.*s\n",
                (int) ngx_min(fuzz_out_len, 80), fuzz_out);
        abort();
    }

    fprintf(stderr, "fuzz_redis: %zu fixed cases and the limits passed\n",
            sizeof(fuzz_cases) / sizeof(fuzz_cases[0]));

    return 0;
}


/* leases are off in the harness (lease=0): their tree is never used */

ngx_module_t  ngx_core_module;


ngx_uint_t
ngx_http_llm_fleet_nodes(void)
{
    return 1;
}


/* fleet_sync.c is fuzz_fleet_sync's: the harness runs no sync */

void
ngx_http_llm_fleet_sync(ngx_log_t *log)
{
}


ngx_str_node_t *
ngx_str_rbtree_lookup(ngx_rbtree_t *rbtree, ngx_str_t *val, uint32_t hash)
{
    abort();
}


void
ngx_str_rbtree_insert_value(ngx_rbtree_node_t *temp, ngx_rbtree_node_t *node,
    ngx_rbtree_node_t *sentinel)
{
    abort();
}


/*
 * TLS is off in the harness (its handshake is nginx's): init, free and close
 * are called with tls off and do nothing, the rest is never reached
 */

ngx_pool_t *
ngx_create_pool(size_t size, ngx_log_t *log)
{
    abort();
}


void
ngx_destroy_pool(ngx_pool_t *pool)
{
    abort();
}


ngx_int_t
ngx_http_llm_redis_tls_init(ngx_http_llm_redis_conf_t *rc, ngx_ssl_t *ssl,
    ngx_log_t *tls_log, u_char *why, ngx_log_t *log)
{
    if (rc->tls) {
        abort();
    }

    return NGX_OK;
}


void
ngx_http_llm_redis_tls_free(ngx_ssl_t *ssl)
{
}


ngx_int_t
ngx_http_llm_redis_tls_start(ngx_connection_t *c, ngx_ssl_t *ssl,
    ngx_http_llm_redis_conf_t *rc, ngx_connection_handler_pt handler)
{
    abort();
}


ngx_int_t
ngx_http_llm_redis_tls_check(ngx_connection_t *c,
    ngx_http_llm_redis_conf_t *rc, u_char *err, size_t size)
{
    abort();
}


void
ngx_http_llm_redis_tls_close(ngx_connection_t *c)
{
    if (c->ssl) {
        abort();
    }
}
