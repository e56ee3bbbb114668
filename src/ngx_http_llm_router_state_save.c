
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * Writing the state file (see ngx_http_llm_router_state.c): one timer per
 * worker process and a last write at exit; the counters are copied under
 * the zone's mutex and written without it, over the tables of totals and
 * provider counters.
 */


#include "ngx_http_llm_router_state.h"


#define NGX_HTTP_LLM_STATE_BUFSIZE    65536
#define NGX_HTTP_LLM_STATE_LOG_EVERY  60


/* a series as copied from the zone; the label follows */
typedef struct {
    uint32_t                         type;
    uint32_t                         len;
    time_t                           window;
    int64_t                          v[NGX_HTTP_LLM_SERIES_NVALUES];
} ngx_http_llm_state_rec_t;


/* a provider's counters as copied from the zone, up to its name */
typedef struct {
    u_char                          *name;
    size_t                           name_len;
    ngx_http_llm_shm_provider_t      node;
} ngx_http_llm_state_prov_t;


typedef struct {
    u_char                          *mem;
    u_char                          *recs;
    u_char                          *recs_end;
    ngx_http_llm_state_prov_t       *provs;
    ngx_uint_t                       nprovs;
    ngx_http_llm_shctx_t             sh;        /* the totals */
} ngx_http_llm_state_snap_t;


/* a buffered writer; the first error stops it */
typedef struct {
    ngx_fd_t                         fd;
    u_char                          *start;
    u_char                          *pos;
    u_char                          *end;
    ngx_err_t                        err;
    unsigned                         failed:1;
} ngx_http_llm_state_out_t;


static void ngx_http_llm_state_timer(ngx_event_t *ev);
static void ngx_http_llm_state_save(ngx_http_llm_main_conf_t *lmcf,
    ngx_log_t *log, ngx_uint_t force);
static ngx_int_t ngx_http_llm_state_snapshot_locked(
    ngx_http_llm_main_conf_t *lmcf, ngx_http_llm_state_snap_t *snap,
    ngx_log_t *log);
static ngx_int_t ngx_http_llm_state_write(ngx_http_llm_main_conf_t *lmcf,
    ngx_http_llm_state_snap_t *snap, u_char *tmp, ngx_log_t *log);
static void ngx_http_llm_state_write_series(ngx_http_llm_state_out_t *out,
    ngx_http_llm_state_snap_t *snap);
static ngx_uint_t ngx_http_llm_state_may_log(void);

static void ngx_http_llm_out_flush(ngx_http_llm_state_out_t *out);
static void ngx_http_llm_out_need(ngx_http_llm_state_out_t *out, size_t n);
static void ngx_http_llm_out_lit(ngx_http_llm_state_out_t *out,
    const char *s);
static void ngx_http_llm_out_int(ngx_http_llm_state_out_t *out, int64_t v);
static void ngx_http_llm_out_fields(ngx_http_llm_state_out_t *out,
    const ngx_http_llm_state_field_t *f, void *base, ngx_uint_t first);
static void ngx_http_llm_out_str(ngx_http_llm_state_out_t *out, u_char *s,
    size_t len);


/*
 * per process: the timer outlives a cycle in single process mode; the
 * dummy connection is its data, for the debug log (ngx_event_ident())
 */
static ngx_event_t       ngx_http_llm_state_ev;
static ngx_connection_t  ngx_http_llm_state_conn;
static time_t            ngx_http_llm_state_logged;


/* writing, in worker processes (or the single process) */

/* writing, in worker processes (or the single process) */

ngx_int_t
ngx_http_llm_state_init_process(ngx_cycle_t *cycle)
{
    ngx_event_t               *ev;
    ngx_http_llm_main_conf_t  *lmcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    lmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_llm_router_module);

    if (lmcf == NULL || lmcf->sh == NULL || lmcf->state_path.len == 0) {
        return NGX_OK;
    }

    /*
     * a static event rather than one from the cycle's pool: in single
     * process mode a reload frees the old cycle while the timer runs on
     * (it always uses the current cycle's configuration)
     */

    ev = &ngx_http_llm_state_ev;

    ngx_http_llm_state_conn.fd = (ngx_socket_t) -1;

    ev->handler = ngx_http_llm_state_timer;
    ev->data = &ngx_http_llm_state_conn;
    ev->log = cycle->log;
    ev->cancelable = 1;

    lmcf->state_event = ev;

    if (!ev->timer_set) {
        ngx_add_timer(ev, lmcf->state_interval);
    }

    return NGX_OK;
}


void
ngx_http_llm_state_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_llm_main_conf_t  *lmcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return;
    }

    if (ngx_http_llm_state_ev.timer_set) {
        ngx_del_timer(&ngx_http_llm_state_ev);
    }

    lmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_llm_router_module);

    if (lmcf == NULL || lmcf->sh == NULL || lmcf->state_path.len == 0) {
        return;
    }

    ngx_http_llm_state_save(lmcf, cycle->log, 1);
}


static void
ngx_http_llm_state_timer(ngx_event_t *ev)
{
    ngx_cycle_t               *cycle;
    ngx_http_llm_main_conf_t  *lmcf;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        /* exit_process writes the file */
        return;
    }

    cycle = (ngx_cycle_t *) ngx_cycle;

    lmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_llm_router_module);

    if (lmcf == NULL || lmcf->sh == NULL || lmcf->state_path.len == 0) {
        return;
    }

    ev->log = cycle->log;
    lmcf->state_event = ev;

    ngx_http_llm_state_save(lmcf, ev->log, 0);

    ngx_add_timer(ev, lmcf->state_interval);
}


static void
ngx_http_llm_state_save(ngx_http_llm_main_conf_t *lmcf, ngx_log_t *log,
    ngx_uint_t force)
{
    u_char                     *tmp, *name;
    ngx_err_t                   err;
    ngx_int_t                   rc;
    ngx_msec_t                  now, stamp;
    ngx_slab_pool_t            *shpool;
    ngx_http_llm_shctx_t       *sh;
    ngx_http_llm_state_snap_t   snap;

    sh = lmcf->sh;
    shpool = lmcf->shpool;

    /* "path" and "path.tmp.<pid>", both null-terminated */

    name = ngx_alloc(2 * lmcf->state_path.len + NGX_INT64_LEN + 8, log);
    if (name == NULL) {
        return;
    }

    ngx_memcpy(name, lmcf->state_path.data, lmcf->state_path.len);
    name[lmcf->state_path.len] = '\0';

    tmp = name + lmcf->state_path.len + 1;
    ngx_sprintf(tmp, "%V.tmp.%P%Z", &lmcf->state_path, ngx_pid);

    ngx_memzero(&snap, sizeof(ngx_http_llm_state_snap_t));

    now = ngx_current_msec;

    ngx_shmtx_lock(&shpool->mutex);

    /* the whole server writes at most once per interval (or at exit) */

    if (!force && sh->state_saved
        && (ngx_msec_int_t) (now - sh->state_saved)
           < (ngx_msec_int_t) lmcf->state_interval)
    {
        ngx_shmtx_unlock(&shpool->mutex);
        ngx_free(name);
        return;
    }

    stamp = now;

    if ((ngx_msec_int_t) (stamp - sh->state_saved) <= 0) {
        stamp = sh->state_saved + 1;
    }

    sh->state_saved = stamp;

    rc = ngx_http_llm_state_snapshot_locked(lmcf, &snap, log);

    ngx_shmtx_unlock(&shpool->mutex);

    if (rc != NGX_OK) {
        ngx_free(name);
        return;
    }

    rc = ngx_http_llm_state_write(lmcf, &snap, tmp, log);

    ngx_free(snap.mem);

    if (rc != NGX_OK) {
        (void) ngx_delete_file(tmp);
        ngx_free(name);
        return;
    }

    /* a newer snapshot, taken meanwhile by another process, wins */

    err = 0;

    ngx_shmtx_lock(&shpool->mutex);

    if (sh->state_saved == stamp) {
        rc = ngx_rename_file(tmp, name);

        if (rc == NGX_FILE_ERROR) {
            err = ngx_errno;
        }

    } else {
        rc = NGX_DECLINED;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    if (rc == NGX_FILE_ERROR) {
        if (ngx_http_llm_state_may_log()) {
            ngx_log_error(NGX_LOG_ERR, log, err,
                          "llm_zone \"%V\": " ngx_rename_file_n " \"%s\" to "
                          "\"%s\" failed, the state file is not written",
                          &lmcf->shm_zone->shm.name, tmp, name);
        }
    }

    if (rc != NGX_OK) {
        (void) ngx_delete_file(tmp);

    } else {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, 0,
                       "llm state file \"%s\" written, stamp %M", name,
                       stamp);
    }

    ngx_free(name);
}


/* copies the counters into process memory; the caller holds the mutex */

static ngx_int_t
ngx_http_llm_state_snapshot_locked(ngx_http_llm_main_conf_t *lmcf,
    ngx_http_llm_state_snap_t *snap, ngx_log_t *log)
{
    u_char                       *p, *names;
    size_t                        size, nsize;
    ngx_uint_t                    i, n;
    ngx_queue_t                  *q;
    ngx_http_llm_shctx_t         *sh;
    ngx_http_llm_series_t        *s;
    ngx_http_llm_provider_t      *prov;
    ngx_http_llm_state_rec_t     *rec;
    ngx_http_llm_state_prov_t    *sp;
    ngx_http_llm_shm_provider_t  *node;

    sh = lmcf->sh;

    size = 0;

    for (q = ngx_queue_head(&sh->lru);
         q != ngx_queue_sentinel(&sh->lru);
         q = ngx_queue_next(q))
    {
        s = ngx_queue_data(q, ngx_http_llm_series_t, queue);
        size += ngx_align(sizeof(ngx_http_llm_state_rec_t) + s->len, 8);
    }

    prov = lmcf->providers.elts;
    n = lmcf->providers.nelts;
    nsize = 0;

    for (i = 0; i < n; i++) {
        nsize += prov[i].name.len;
    }

    snap->mem = ngx_alloc(size + n * sizeof(ngx_http_llm_state_prov_t)
                          + nsize + 1, log);
    if (snap->mem == NULL) {
        return NGX_ERROR;
    }

    snap->provs = (ngx_http_llm_state_prov_t *) snap->mem;
    snap->recs = snap->mem + n * sizeof(ngx_http_llm_state_prov_t);
    snap->recs_end = snap->recs + size;
    names = snap->recs_end;

    /* providers of this configuration */

    for (i = 0; i < n; i++) {
        node = prov[i].shm;

        if (node == NULL) {
            continue;
        }

        sp = &snap->provs[snap->nprovs++];

        sp->name = names;
        sp->name_len = prov[i].name.len;
        names = ngx_cpymem(names, prov[i].name.data, prov[i].name.len);

        ngx_memcpy(&sp->node, node,
                   offsetof(ngx_http_llm_shm_provider_t, name));
    }

    /* series, most recently used first */

    p = snap->recs;

    for (q = ngx_queue_head(&sh->lru);
         q != ngx_queue_sentinel(&sh->lru);
         q = ngx_queue_next(q))
    {
        s = ngx_queue_data(q, ngx_http_llm_series_t, queue);

        rec = (ngx_http_llm_state_rec_t *) p;
        rec->type = s->type;
        rec->len = s->len;
        rec->window = s->window;
        ngx_memcpy(rec->v, s->v, sizeof(rec->v));
        ngx_memcpy(p + sizeof(ngx_http_llm_state_rec_t), s->label, s->len);

        p += ngx_align(sizeof(ngx_http_llm_state_rec_t) + s->len, 8);
    }

    snap->sh = *sh;

    return NGX_OK;
}


static ngx_int_t
ngx_http_llm_state_write(ngx_http_llm_main_conf_t *lmcf,
    ngx_http_llm_state_snap_t *snap, u_char *tmp, ngx_log_t *log)
{
    ngx_uint_t                  i;
    const char                 *op;
    ngx_http_llm_state_out_t    out;
    ngx_http_llm_state_prov_t  *sp;

    out.start = ngx_alloc(NGX_HTTP_LLM_STATE_BUFSIZE, log);
    if (out.start == NULL) {
        return NGX_ERROR;
    }

    out.pos = out.start;
    out.end = out.start + NGX_HTTP_LLM_STATE_BUFSIZE;
    out.err = 0;
    out.failed = 0;

    out.fd = ngx_open_file(tmp, NGX_FILE_WRONLY, NGX_FILE_TRUNCATE,
                           NGX_FILE_OWNER_ACCESS);

    if (out.fd == NGX_INVALID_FILE) {
        out.err = ngx_errno;
        op = ngx_open_file_n;
        goto failed;
    }

    ngx_http_llm_out_lit(&out, "{\"magic\":\"" NGX_HTTP_LLM_STATE_MAGIC
                               "\",\"version\":");
    ngx_http_llm_out_int(&out, NGX_HTTP_LLM_STATE_VERSION);
    ngx_http_llm_out_lit(&out, ",\"zone\":");
    ngx_http_llm_out_str(&out, lmcf->shm_zone->shm.name.data,
                         lmcf->shm_zone->shm.name.len);
    ngx_http_llm_out_lit(&out, ",\"saved\":");
    ngx_http_llm_out_int(&out, (int64_t) ngx_time());

    ngx_http_llm_out_lit(&out, ",\n\"totals\":{");
    ngx_http_llm_out_fields(&out, ngx_http_llm_state_totals_fields,
                            &snap->sh, 1);
    ngx_http_llm_out_lit(&out, "},\n\"providers\":[");

    for (i = 0; i < snap->nprovs; i++) {
        sp = &snap->provs[i];

        ngx_http_llm_out_lit(&out, i ? ",\n{\"name\":" : "\n{\"name\":");
        ngx_http_llm_out_str(&out, sp->name, sp->name_len);
        ngx_http_llm_out_fields(&out, ngx_http_llm_state_provider_fields,
                                &sp->node, 0);
        ngx_http_llm_out_lit(&out, "}");
    }

    ngx_http_llm_out_lit(&out, "],\n\"series\":[");
    ngx_http_llm_state_write_series(&out, snap);
    ngx_http_llm_out_lit(&out, "]}\n");
    ngx_http_llm_out_flush(&out);

    if (out.failed) {
        op = ngx_write_fd_n;
        goto failed;
    }

    if (ngx_close_file(out.fd) == NGX_FILE_ERROR) {
        out.fd = NGX_INVALID_FILE;
        out.err = ngx_errno;
        op = ngx_close_file_n;
        goto failed;
    }

    ngx_free(out.start);

    return NGX_OK;

failed:

    if (out.fd != NGX_INVALID_FILE) {
        (void) ngx_close_file(out.fd);
    }

    ngx_free(out.start);

    if (ngx_http_llm_state_may_log()) {
        ngx_log_error(NGX_LOG_ERR, log, out.err,
                      "llm_zone \"%V\": %s \"%s\" failed, the state file is "
                      "not written", &lmcf->shm_zone->shm.name, op, tmp);
    }

    return NGX_ERROR;
}


/* the series: the label's fields are separated by '\0' in the zone */

static void
ngx_http_llm_state_write_series(ngx_http_llm_state_out_t *out,
    ngx_http_llm_state_snap_t *snap)
{
    u_char                    *p, *label, *last, *f;
    ngx_uint_t                 i, first;
    ngx_http_llm_state_rec_t  *rec;

    first = 1;

    for (p = snap->recs; p < snap->recs_end; /* void */) {
        rec = (ngx_http_llm_state_rec_t *) p;
        label = p + sizeof(ngx_http_llm_state_rec_t);
        last = label + rec->len;

        ngx_http_llm_out_lit(out, first ? "\n{\"type\":" : ",\n{\"type\":");
        ngx_http_llm_out_int(out, rec->type);
        ngx_http_llm_out_lit(out, ",\"label\":[");

        for (f = label; /* void */; f++) {
            if (f == last || *f == '\0') {
                if (label != p + sizeof(ngx_http_llm_state_rec_t)) {
                    ngx_http_llm_out_lit(out, ",");
                }

                ngx_http_llm_out_str(out, label, f - label);
                label = f + 1;

                if (f == last) {
                    break;
                }
            }
        }

        ngx_http_llm_out_lit(out, "],\"window\":");
        ngx_http_llm_out_int(out, (int64_t) rec->window);
        ngx_http_llm_out_lit(out, ",\"v\":[");

        for (i = 0; i < NGX_HTTP_LLM_SERIES_NVALUES; i++) {
            if (i) {
                ngx_http_llm_out_lit(out, ",");
            }

            ngx_http_llm_out_int(out, rec->v[i]);
        }

        ngx_http_llm_out_lit(out, "]}");

        first = 0;
        p += ngx_align(sizeof(ngx_http_llm_state_rec_t) + rec->len, 8);
    }
}


/* a failing write is logged once a minute at most */

/* a failing write is logged once a minute at most */

static ngx_uint_t
ngx_http_llm_state_may_log(void)
{
    time_t  now;

    now = ngx_time();

    if (ngx_http_llm_state_logged
        && now - ngx_http_llm_state_logged < NGX_HTTP_LLM_STATE_LOG_EVERY)
    {
        return 0;
    }

    ngx_http_llm_state_logged = now;

    return 1;
}


static void
ngx_http_llm_out_flush(ngx_http_llm_state_out_t *out)
{
    u_char   *p;
    ssize_t   n;

    for (p = out->start; p < out->pos && !out->failed; /* void */) {
        n = ngx_write_fd(out->fd, p, out->pos - p);

        if (n == -1) {
            if (ngx_errno == NGX_EINTR) {
                continue;
            }

            out->err = ngx_errno;
            out->failed = 1;
            break;
        }

        if (n == 0) {
            out->err = NGX_ENOSPC;
            out->failed = 1;
            break;
        }

        p += n;
    }

    out->pos = out->start;
}


static void
ngx_http_llm_out_need(ngx_http_llm_state_out_t *out, size_t n)
{
    if ((size_t) (out->end - out->pos) < n) {
        ngx_http_llm_out_flush(out);
    }
}


/* literals are short */

static void
ngx_http_llm_out_lit(ngx_http_llm_state_out_t *out, const char *s)
{
    size_t  len;

    len = ngx_strlen(s);

    ngx_http_llm_out_need(out, len);
    out->pos = ngx_cpymem(out->pos, s, len);
}


static void
ngx_http_llm_out_int(ngx_http_llm_state_out_t *out, int64_t v)
{
    ngx_http_llm_out_need(out, NGX_INT64_LEN);
    out->pos = ngx_sprintf(out->pos, "%L", v);
}


/* "name":v or "name":[v,...] for each counter of a table */

static void
ngx_http_llm_out_fields(ngx_http_llm_state_out_t *out,
    const ngx_http_llm_state_field_t *f, void *base, ngx_uint_t first)
{
    ngx_uint_t  i;

    for ( /* void */ ; f->name; f++) {
        ngx_http_llm_out_lit(out, first ? "\"" : ",\"");
        ngx_http_llm_out_lit(out, f->name);
        ngx_http_llm_out_lit(out, f->n == 1 ? "\":" : "\":[");

        for (i = 0; i < f->n; i++) {
            if (i) {
                ngx_http_llm_out_lit(out, ",");
            }

            ngx_http_llm_out_int(out, ngx_http_llm_state_get(f, base, i));
        }

        if (f->n != 1) {
            ngx_http_llm_out_lit(out, "]");
        }

        first = 0;
    }
}

static void
ngx_http_llm_out_str(ngx_http_llm_state_out_t *out, u_char *s, size_t len)
{
    u_char  c, *end;

    static u_char  hex[] = "0123456789abcdef";

    ngx_http_llm_out_need(out, 1);
    *out->pos++ = '"';

    for (end = s + len; s < end; s++) {
        c = *s;

        ngx_http_llm_out_need(out, 6);

        if (c == '"' || c == '\\') {
            *out->pos++ = '\\';
            *out->pos++ = c;

        } else if (c < 0x20 || c == 0x7f) {
            *out->pos++ = '\\';
            *out->pos++ = 'u';
            *out->pos++ = '0';
            *out->pos++ = '0';
            *out->pos++ = hex[c >> 4];
            *out->pos++ = hex[c & 0xf];

        } else {
            *out->pos++ = c;
        }
    }

    ngx_http_llm_out_need(out, 1);
    *out->pos++ = '"';
}

