
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * The state file of "llm_zone name size state=path [state_interval=time]":
 * counters and budgets are written to "path" periodically and when a
 * process exits, and read back when the zone is created afresh (the first
 * start, or a zone that a reload could not reuse), so that a restart loses
 * at most the last interval.
 *
 * The file is one JSON object, written here and read with cJSON:
 *
 *   {"magic":"ngx_http_llm_router state","version":1,"zone":"name",
 *    "saved":1700000000,
 *    "totals":{"failovers":0,"budget_rejections":0,"usage_missing":0,
 *              "evicted":0},
 *    "providers":[
 *     {"name":"a","attempts":0,"failures":0,"circuit_opened":0,
 *      "latency":[10 counts],"latency_sum":0,"latency_count":0,
 *      "ttft":[10 counts],"ttft_sum":0,"ttft_count":0}],
 *    "series":[
 *     {"type":1,"label":["route","provider","model","200"],"window":0,
 *      "v":[8 values]},
 *     {"type":2,"label":["tenant","model"],"window":0,"v":[...]},
 *     {"type":3,"label":["budget","key","tokens"],"window":1700000000,
 *      "v":[...]}]}
 *
 * "saved" is the unix time of the snapshot; "series" are the zone's
 * series (NGX_HTTP_LLM_SERIES_*, their values NGX_HTTP_LLM_V_*, in the
 * zone's order), most recently used first, so that a smaller zone keeps
 * the most recent ones; the label holds the fields that the zone keeps
 * separated by '\0'.  Integers are exact up to 2^53 (cJSON reads numbers
 * as doubles) and 2^62 at most is accepted.  Label bytes other than '"',
 * '\\' and control characters are written as they are.
 *
 * Loading is strict: the magic, the format version, the zone name and the
 * type and range of every field are checked before anything is restored,
 * and a file that fails is ignored as a whole with one line at "error"
 * level.  Budget reservations are never restored (the requests that held
 * them are gone); budget series of a window that starts in the future are
 * dropped.  Provider statistics are restored for configured providers
 * only; circuit breaker state is not (monotonic times do not survive a
 * restart).
 *
 * Writing: one timer per worker process.  Under the zone's mutex a tick
 * checks and updates sh->state_saved, so that the whole server writes at
 * most once per interval, and copies the counters into process memory;
 * the file is written without the mutex to "path.tmp.<pid>" in the same
 * directory and renamed over "path".  Every snapshot is stamped in
 * sh->state_saved; the rename is done (under the mutex, a metadata
 * operation) only if no newer snapshot was taken meanwhile, so that an
 * older snapshot never replaces a newer one when several workers exit at
 * once.
 */


#include "ngx_http_llm_router.h"

#include <cjson/cJSON.h>


#define NGX_HTTP_LLM_STATE_MAGIC      "ngx_http_llm_router state"
#define NGX_HTTP_LLM_STATE_VERSION    1
#define NGX_HTTP_LLM_STATE_LABEL_MAX  1023
#define NGX_HTTP_LLM_STATE_NAME_MAX   1024
#define NGX_HTTP_LLM_STATE_INT_MAX    ((int64_t) 1 << 62)
#define NGX_HTTP_LLM_STATE_BUFSIZE    65536
#define NGX_HTTP_LLM_STATE_LOG_EVERY  60


/* a series as copied from the zone; the label follows */
typedef struct {
    uint32_t                         type;
    uint32_t                         len;
    time_t                           window;
    int64_t                          v[NGX_HTTP_LLM_SERIES_NVALUES];
} ngx_http_llm_state_rec_t;


typedef struct {
    u_char                          *name;
    size_t                           name_len;
    int64_t                          attempts;
    int64_t                          failures;
    int64_t                          circuit_opened;
    int64_t                          latency[NGX_HTTP_LLM_HIST_BUCKETS];
    int64_t                          latency_sum;
    int64_t                          latency_count;
    int64_t                          ttft[NGX_HTTP_LLM_HIST_BUCKETS];
    int64_t                          ttft_sum;
    int64_t                          ttft_count;
} ngx_http_llm_state_prov_t;


typedef struct {
    u_char                          *mem;
    u_char                          *recs;
    u_char                          *recs_end;
    ngx_http_llm_state_prov_t       *provs;
    ngx_uint_t                       nprovs;
    int64_t                          failovers;
    int64_t                          budget_rejections;
    int64_t                          usage_missing;
    int64_t                          evicted;
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


typedef struct {
    ngx_http_llm_main_conf_t        *lmcf;
    ngx_log_t                       *log;
    time_t                           now;
    ngx_uint_t                       apply;
    ngx_uint_t                       reserve;   /* free pages to keep */
    ngx_uint_t                       restored;
    ngx_uint_t                       dropped;
    ngx_uint_t                       noroom;
    u_char                          *reason;
    u_char                           errbuf[NGX_MAX_ERROR_STR];
} ngx_http_llm_state_load_t;


static ngx_uint_t ngx_http_llm_state_unclosed(u_char *p, size_t len);
static ngx_int_t ngx_http_llm_state_check(ngx_http_llm_state_load_t *ld,
    cJSON *root);
static ngx_int_t ngx_http_llm_state_totals(ngx_http_llm_state_load_t *ld,
    cJSON *totals);
static ngx_int_t ngx_http_llm_state_provider(ngx_http_llm_state_load_t *ld,
    cJSON *item, ngx_uint_t n);
static ngx_int_t ngx_http_llm_state_series(ngx_http_llm_state_load_t *ld,
    cJSON *item, ngx_uint_t n);
static ngx_int_t ngx_http_llm_state_error(ngx_http_llm_state_load_t *ld,
    const char *fmt, ...);
static ngx_int_t ngx_http_llm_state_int(cJSON *item, int64_t min,
    int64_t max, int64_t *v);
static ngx_int_t ngx_http_llm_state_ints(cJSON *array, ngx_uint_t n,
    int64_t *v);
static ngx_int_t ngx_http_llm_state_field(cJSON *obj, const char *name,
    int64_t *v);

static void ngx_http_llm_state_timer(ngx_event_t *ev);
static void ngx_http_llm_state_save(ngx_http_llm_main_conf_t *lmcf,
    ngx_log_t *log, ngx_uint_t force);
static ngx_int_t ngx_http_llm_state_snapshot_locked(
    ngx_http_llm_main_conf_t *lmcf, ngx_http_llm_state_snap_t *snap,
    ngx_log_t *log);
static ngx_int_t ngx_http_llm_state_write(ngx_http_llm_main_conf_t *lmcf,
    ngx_http_llm_state_snap_t *snap, u_char *tmp, ngx_log_t *log);
static ngx_uint_t ngx_http_llm_state_may_log(void);

static void ngx_http_llm_out_flush(ngx_http_llm_state_out_t *out);
static void ngx_http_llm_out_need(ngx_http_llm_state_out_t *out, size_t n);
static void ngx_http_llm_out_lit(ngx_http_llm_state_out_t *out,
    const char *s);
static void ngx_http_llm_out_int(ngx_http_llm_state_out_t *out, int64_t v);
static void ngx_http_llm_out_ints(ngx_http_llm_state_out_t *out,
    int64_t *v, ngx_uint_t n);
static void ngx_http_llm_out_str(ngx_http_llm_state_out_t *out, u_char *s,
    size_t len);


/*
 * per process: the timer outlives a cycle in single process mode; the
 * dummy connection is its data, for the debug log (ngx_event_ident())
 */
static ngx_event_t       ngx_http_llm_state_ev;
static ngx_connection_t  ngx_http_llm_state_conn;
static time_t            ngx_http_llm_state_logged;


/* loading, in the master when the zone is created */

ngx_int_t
ngx_http_llm_state_load(ngx_http_llm_main_conf_t *lmcf, ngx_log_t *log)
{
    off_t                       size, max;
    cJSON                      *root;
    u_char                     *buf, *name;
    size_t                      len;
    ssize_t                     n, rc;
    ngx_fd_t                    fd;
    ngx_err_t                   err;
    ngx_str_t                  *path, *zone;
    ngx_uint_t                  total, log_nomem;
    const char                 *end;
    ngx_file_info_t             fi;
    ngx_slab_pool_t            *shpool;
    ngx_http_llm_state_load_t  *ld;

    path = &lmcf->state_path;
    zone = &lmcf->shm_zone->shm.name;
    shpool = lmcf->shpool;

    if (path->len == 0 || lmcf->sh == NULL) {
        return NGX_OK;
    }

    buf = NULL;
    root = NULL;

    ld = ngx_alloc(sizeof(ngx_http_llm_state_load_t) + path->len + 1, log);
    if (ld == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(ld, sizeof(ngx_http_llm_state_load_t));

    name = (u_char *) (ld + 1);
    ngx_memcpy(name, path->data, path->len);
    name[path->len] = '\0';

    fd = ngx_open_file(name, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        err = ngx_errno;

        if (err == NGX_ENOENT) {
            ngx_log_error(NGX_LOG_INFO, log, 0,
                          "llm_zone \"%V\": no state file \"%V\" yet, "
                          "the counters start empty", zone, path);

        } else {
            ngx_log_error(NGX_LOG_ERR, log, err,
                          "llm_zone \"%V\": state file \"%V\" is ignored: "
                          ngx_open_file_n " failed", zone, path);
        }

        ngx_free(ld);
        return NGX_OK;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "llm_zone \"%V\": state file \"%V\" is ignored: "
                      ngx_fd_info_n " failed", zone, path);
        goto done;
    }

    /* JSON takes less than twice the zone's memory; be generous */

    size = ngx_file_size(&fi);
    max = (off_t) lmcf->shm_zone->shm.size * 8 + 1024 * 1024;

    if (!ngx_is_file(&fi)) {
        ld->reason = (u_char *) "it is not a regular file";

    } else if (size == 0) {
        ld->reason = (u_char *) "it is empty";

    } else if (size > max) {
        ngx_http_llm_state_error(ld, "it is too large (%O bytes, %O at most "
                                 "for this zone)", size, max);
    }

    if (ld->reason) {
        goto done;
    }

    len = (size_t) size;

    buf = ngx_alloc(len + 1, log);
    if (buf == NULL) {
        goto done;
    }

    for (n = 0; (size_t) n < len; /* void */) {
        rc = ngx_read_fd(fd, buf + n, len - n);

        if (rc == -1) {
            err = ngx_errno;

            if (err == NGX_EINTR) {
                continue;
            }

            ngx_log_error(NGX_LOG_ERR, log, err,
                          "llm_zone \"%V\": state file \"%V\" is ignored: "
                          ngx_read_fd_n " failed", zone, path);
            goto done;
        }

        if (rc == 0) {
            break;
        }

        n += rc;
    }

    len = (size_t) n;
    buf[len] = '\0';

    /* the terminating '\0' is part of the buffer: nothing may follow */

    end = NULL;
    root = cJSON_ParseWithLengthOpts((char *) buf, len + 1, &end, 1);

    if (root == NULL) {
        n = end ? (u_char *) end - buf : (ssize_t) len;

        if (ngx_http_llm_state_unclosed(buf, len)) {
            ngx_http_llm_state_error(ld, "it is truncated (JSON ends "
                                     "unclosed after %uz bytes)", len);

        } else {
            ngx_http_llm_state_error(ld, "it is not valid JSON (at byte %z "
                                     "of %uz)", n, len);
        }

        goto done;
    }

    if ((u_char *) end != buf + len) {
        ngx_http_llm_state_error(ld, "it is not valid JSON (a null byte at "
                                 "byte %z of %uz)", (u_char *) end - buf,
                                 len);
        goto done;
    }

    ld->lmcf = lmcf;
    ld->log = log;
    ld->now = ngx_time();

    /* first check everything, then restore */

    if (ngx_http_llm_state_check(ld, root) != NGX_OK) {
        goto done;
    }

    total = shpool->last - shpool->pages;
    ld->reserve = 4 + total / 16;
    ld->apply = 1;

    log_nomem = shpool->log_nomem;
    shpool->log_nomem = 0;

    ngx_shmtx_lock(&shpool->mutex);

    (void) ngx_http_llm_state_check(ld, root);

    ngx_shmtx_unlock(&shpool->mutex);

    shpool->log_nomem = log_nomem;

    ngx_log_error(NGX_LOG_NOTICE, log, 0,
                  "llm_zone \"%V\": state file \"%V\" loaded, %ui counters "
                  "restored, %ui dropped", zone, path, ld->restored,
                  ld->dropped);

    if (ld->noroom) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "llm_zone \"%V\" is too small for state file \"%V\": "
                      "%ui least recently used counters are not restored",
                      zone, path, ld->noroom);
    }

done:

    if (ld->reason) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "llm_zone \"%V\": state file \"%V\" is ignored: %s",
                      zone, path, ld->reason);
    }

    if (root) {
        cJSON_Delete(root);
    }

    if (buf) {
        ngx_free(buf);
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      ngx_close_file_n " \"%V\" failed", path);
    }

    ngx_free(ld);

    return NGX_OK;
}


/* a string or an object or array still open at the end: a cut file */

static ngx_uint_t
ngx_http_llm_state_unclosed(u_char *p, size_t len)
{
    u_char      *end;
    ngx_uint_t   depth, str, esc;

    depth = 0;
    str = 0;
    esc = 0;

    for (end = p + len; p < end; p++) {

        if (str) {
            if (esc) {
                esc = 0;

            } else if (*p == '\\') {
                esc = 1;

            } else if (*p == '"') {
                str = 0;
            }

            continue;
        }

        switch (*p) {

        case '"':
            str = 1;
            break;

        case '{':
        case '[':
            depth++;
            break;

        case '}':
        case ']':
            if (depth == 0) {
                return 0;
            }

            depth--;
            break;
        }
    }

    return (str || depth);
}


/* validates the whole file, or (ld->apply) restores it */

static ngx_int_t
ngx_http_llm_state_check(ngx_http_llm_state_load_t *ld, cJSON *root)
{
    u_char     *p;
    cJSON      *item, *elt;
    int64_t     v;
    ngx_str_t  *zone;
    ngx_uint_t  n;

    if (!cJSON_IsObject(root)) {
        return ngx_http_llm_state_error(ld, "it is not a JSON object");
    }

    item = cJSON_GetObjectItemCaseSensitive(root, "magic");

    if (!cJSON_IsString(item) || item->valuestring == NULL
        || ngx_strcmp(item->valuestring, NGX_HTTP_LLM_STATE_MAGIC) != 0)
    {
        return ngx_http_llm_state_error(ld, "it is not a state file of the "
                                        "llm router (no \"magic\": \"%s\")",
                                        NGX_HTTP_LLM_STATE_MAGIC);
    }

    item = cJSON_GetObjectItemCaseSensitive(root, "version");

    if (ngx_http_llm_state_int(item, 0, NGX_HTTP_LLM_STATE_INT_MAX, &v)
        != NGX_OK)
    {
        return ngx_http_llm_state_error(ld, "invalid \"version\"");
    }

    if (v != NGX_HTTP_LLM_STATE_VERSION) {
        return ngx_http_llm_state_error(ld, "format version %L is not "
                                        "supported (%d is)", v,
                                        NGX_HTTP_LLM_STATE_VERSION);
    }

    item = cJSON_GetObjectItemCaseSensitive(root, "zone");
    zone = &ld->lmcf->shm_zone->shm.name;

    if (!cJSON_IsString(item) || item->valuestring == NULL) {
        return ngx_http_llm_state_error(ld, "invalid \"zone\"");
    }

    if (ngx_strlen(item->valuestring) != zone->len
        || ngx_strncmp(item->valuestring, zone->data, zone->len) != 0)
    {
        /* shown in the log: short, no control characters */

        for (p = (u_char *) item->valuestring; *p; p++) {
            if (*p < 0x20 || *p == 0x7f
                || p - (u_char *) item->valuestring == 64)
            {
                *p = '\0';
                break;
            }
        }

        return ngx_http_llm_state_error(ld, "it belongs to llm_zone \"%s\"",
                                        item->valuestring);
    }

    if (ngx_http_llm_state_field(root, "saved", &v) != NGX_OK) {
        return ngx_http_llm_state_error(ld, "invalid \"saved\"");
    }

    item = cJSON_GetObjectItemCaseSensitive(root, "totals");

    if (ngx_http_llm_state_totals(ld, item) != NGX_OK) {
        return NGX_ERROR;
    }

    item = cJSON_GetObjectItemCaseSensitive(root, "providers");

    if (!cJSON_IsArray(item)) {
        return ngx_http_llm_state_error(ld, "invalid \"providers\"");
    }

    n = 0;

    cJSON_ArrayForEach(elt, item) {
        if (ngx_http_llm_state_provider(ld, elt, n++) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    item = cJSON_GetObjectItemCaseSensitive(root, "series");

    if (!cJSON_IsArray(item)) {
        return ngx_http_llm_state_error(ld, "invalid \"series\"");
    }

    n = 0;

    cJSON_ArrayForEach(elt, item) {
        if (ngx_http_llm_state_series(ld, elt, n++) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_llm_state_totals(ngx_http_llm_state_load_t *ld, cJSON *totals)
{
    int64_t                v[4];
    ngx_uint_t             i;
    ngx_http_llm_shctx_t  *sh;

    static const char  *names[] = {
        "failovers", "budget_rejections", "usage_missing", "evicted"
    };

    if (!cJSON_IsObject(totals)) {
        return ngx_http_llm_state_error(ld, "invalid \"totals\"");
    }

    for (i = 0; i < 4; i++) {
        if (ngx_http_llm_state_field(totals, names[i], &v[i]) != NGX_OK) {
            return ngx_http_llm_state_error(ld, "invalid \"totals\".\"%s\"",
                                            names[i]);
        }
    }

    if (ld->apply) {
        sh = ld->lmcf->sh;

        sh->failovers = v[0];
        sh->budget_rejections = v[1];
        sh->usage_missing = v[2];
        sh->evicted = v[3];
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_llm_state_provider(ngx_http_llm_state_load_t *ld, cJSON *item,
    ngx_uint_t n)
{
    size_t                        len;
    cJSON                        *name;
    ngx_uint_t                    i;
    ngx_queue_t                  *q;
    ngx_http_llm_shctx_t         *sh;
    ngx_http_llm_provider_t      *prov;
    ngx_http_llm_state_prov_t     p;
    ngx_http_llm_shm_provider_t  *node;

    if (!cJSON_IsObject(item)) {
        return ngx_http_llm_state_error(ld, "provider #%ui is not an object",
                                        n);
    }

    name = cJSON_GetObjectItemCaseSensitive(item, "name");

    if (!cJSON_IsString(name) || name->valuestring == NULL
        || name->valuestring[0] == '\0'
        || ngx_strlen(name->valuestring) > NGX_HTTP_LLM_STATE_NAME_MAX)
    {
        return ngx_http_llm_state_error(ld, "provider #%ui has an invalid "
                                        "\"name\"", n);
    }

    if (ngx_http_llm_state_field(item, "attempts", &p.attempts) != NGX_OK
        || ngx_http_llm_state_field(item, "failures", &p.failures) != NGX_OK
        || ngx_http_llm_state_field(item, "circuit_opened",
                                    &p.circuit_opened)
           != NGX_OK
        || ngx_http_llm_state_field(item, "latency_sum", &p.latency_sum)
           != NGX_OK
        || ngx_http_llm_state_field(item, "latency_count", &p.latency_count)
           != NGX_OK
        || ngx_http_llm_state_field(item, "ttft_sum", &p.ttft_sum) != NGX_OK
        || ngx_http_llm_state_field(item, "ttft_count", &p.ttft_count)
           != NGX_OK
        || ngx_http_llm_state_ints(
                  cJSON_GetObjectItemCaseSensitive(item, "latency"),
                  NGX_HTTP_LLM_HIST_BUCKETS, p.latency)
           != NGX_OK
        || ngx_http_llm_state_ints(
                  cJSON_GetObjectItemCaseSensitive(item, "ttft"),
                  NGX_HTTP_LLM_HIST_BUCKETS, p.ttft)
           != NGX_OK)
    {
        return ngx_http_llm_state_error(ld, "provider #%ui has an invalid "
                                        "counter", n);
    }

    if (!ld->apply) {
        return NGX_OK;
    }

    /* statistics of the providers that are still configured */

    len = ngx_strlen(name->valuestring);
    prov = ld->lmcf->providers.elts;

    for (i = 0; i < ld->lmcf->providers.nelts; i++) {
        if (prov[i].name.len == len
            && ngx_strncmp(prov[i].name.data, name->valuestring, len) == 0)
        {
            break;
        }
    }

    if (i == ld->lmcf->providers.nelts) {
        return NGX_OK;
    }

    sh = ld->lmcf->sh;

    for (q = ngx_queue_head(&sh->providers);
         q != ngx_queue_sentinel(&sh->providers);
         q = ngx_queue_next(q))
    {
        node = ngx_queue_data(q, ngx_http_llm_shm_provider_t, queue);

        if (node->name_len == len
            && ngx_strncmp(node->name, name->valuestring, len) == 0)
        {
            /* a duplicate: the first one stays */
            return NGX_OK;
        }
    }

    /* the zone's init finds it by name and completes it */

    node = ngx_slab_calloc_locked(ld->lmcf->shpool,
                                  offsetof(ngx_http_llm_shm_provider_t, name)
                                  + len);
    if (node == NULL) {
        ld->noroom++;
        return NGX_OK;
    }

    node->name_len = len;
    ngx_memcpy(node->name, name->valuestring, len);

    node->attempts = (ngx_atomic_t) p.attempts;
    node->failures = (ngx_atomic_t) p.failures;
    node->circuit_opened = p.circuit_opened;
    ngx_memcpy(node->latency, p.latency, sizeof(p.latency));
    node->latency_sum = p.latency_sum;
    node->latency_count = p.latency_count;
    ngx_memcpy(node->ttft, p.ttft, sizeof(p.ttft));
    node->ttft_sum = p.ttft_sum;
    node->ttft_count = p.ttft_count;

    ngx_queue_insert_tail(&sh->providers, &node->queue);

    return NGX_OK;
}


static ngx_int_t
ngx_http_llm_state_series(ngx_http_llm_state_load_t *ld, cJSON *item,
    ngx_uint_t n)
{
    u_char                 *p, *field[4];
    cJSON                  *elt, *obj;
    size_t                  len, flen[4];
    int64_t                 type, window, v[NGX_HTTP_LLM_SERIES_NVALUES];
    ngx_uint_t              i, nseries;
    ngx_http_llm_shctx_t   *sh;
    ngx_http_llm_series_t  *s;
    u_char                  label[NGX_HTTP_LLM_STATE_LABEL_MAX + 1];

    if (!cJSON_IsObject(item)) {
        return ngx_http_llm_state_error(ld, "series #%ui is not an object",
                                        n);
    }

    if (ngx_http_llm_state_field(item, "type", &type) != NGX_OK
        || type < NGX_HTTP_LLM_SERIES_REQUESTS
        || type > NGX_HTTP_LLM_SERIES_BUDGET)
    {
        return ngx_http_llm_state_error(ld, "series #%ui has an invalid "
                                        "\"type\"", n);
    }

    /* the label: its fields joined by '\0', as in the zone */

    obj = cJSON_GetObjectItemCaseSensitive(item, "label");

    if (!cJSON_IsArray(obj)
        || (ngx_uint_t) cJSON_GetArraySize(obj)
           != ngx_http_llm_series_types[type].nfields)
    {
        return ngx_http_llm_state_error(ld, "series #%ui has an invalid "
                                        "\"label\"", n);
    }

    p = label;
    i = 0;

    cJSON_ArrayForEach(elt, obj) {

        if (!cJSON_IsString(elt) || elt->valuestring == NULL) {
            return ngx_http_llm_state_error(ld, "series #%ui has an invalid "
                                            "\"label\"", n);
        }

        len = ngx_strlen(elt->valuestring);

        if (len >= (size_t) (label + sizeof(label) - p)) {
            return ngx_http_llm_state_error(ld, "series #%ui has a label "
                                            "longer than %d bytes", n,
                                            NGX_HTTP_LLM_STATE_LABEL_MAX);
        }

        field[i] = p;
        flen[i] = len;
        i++;

        p = ngx_cpymem(p, elt->valuestring, len);
        *p++ = '\0';
    }

    len = p - label - 1;

    switch (type) {

    case NGX_HTTP_LLM_SERIES_REQUESTS:

        /* route provider model status: the status is 1 to 3 digits */

        if (flen[3] == 0 || flen[3] > 3) {
            goto invalid_label;
        }

        for (i = 0; i < flen[3]; i++) {
            if (field[3][i] < '0' || field[3][i] > '9') {
                goto invalid_label;
            }
        }

        break;

    case NGX_HTTP_LLM_SERIES_TENANT:

        if (flen[0] == 0) {
            goto invalid_label;
        }

        break;

    default: /* NGX_HTTP_LLM_SERIES_BUDGET */

        if (flen[0] == 0 || flen[1] == 0) {
            goto invalid_label;
        }

        for (i = 0; i < NGX_HTTP_LLM_NMETRICS; i++) {
            if (flen[2] == ngx_http_llm_budget_metric_names[i].len
                && ngx_strncmp(field[2],
                               ngx_http_llm_budget_metric_names[i].data,
                               flen[2]) == 0)
            {
                break;
            }
        }

        if (i == NGX_HTTP_LLM_NMETRICS) {
            goto invalid_label;
        }
    }

    /* the window: budgets only, a start in unix time */

    if (ngx_http_llm_state_field(item, "window", &window) != NGX_OK
        || window > ((int64_t) 1 << 40)
        || (type == NGX_HTTP_LLM_SERIES_BUDGET) != (window != 0))
    {
        return ngx_http_llm_state_error(ld, "series #%ui has an invalid "
                                        "\"window\"", n);
    }

    if (ngx_http_llm_state_ints(cJSON_GetObjectItemCaseSensitive(item, "v"),
                                NGX_HTTP_LLM_SERIES_NVALUES, v)
        != NGX_OK)
    {
        return ngx_http_llm_state_error(ld, "series #%ui has an invalid "
                                        "\"v\"", n);
    }

    if (!ld->apply) {
        return NGX_OK;
    }

    if (type == NGX_HTTP_LLM_SERIES_BUDGET) {

        /* the requests that reserved are gone */
        v[NGX_HTTP_LLM_V_RESERVED] = 0;

        /* a window that starts later: the clock went back */

        if (window > ld->now) {
            ld->dropped++;
            return NGX_OK;
        }

#ifdef NGX_HTTP_LLM_V_WINDOW_END
        if (v[NGX_HTTP_LLM_V_WINDOW_END]
            && v[NGX_HTTP_LLM_V_WINDOW_END] <= ld->now)
        {
            ld->dropped++;
            return NGX_OK;
        }
#endif
    }

    /* leave room for the providers and for new series */

    if (ld->lmcf->shpool->pfree < ld->reserve) {
        ld->noroom++;
        return NGX_OK;
    }

    sh = ld->lmcf->sh;
    nseries = sh->nseries;

    s = ngx_http_llm_series_get_locked(ld->lmcf, (ngx_uint_t) type, label,
                                       len, ld->log);
    if (s == NULL) {
        ld->noroom++;
        return NGX_OK;
    }

    if ((ngx_uint_t) sh->nseries == nseries) {
        /* a duplicate: the first one (more recent) stays */
        return NGX_OK;
    }

    s->window = (time_t) window;
    ngx_memcpy(s->v, v, sizeof(v));

    /* the file is most recently used first: keep that order */

    ngx_queue_remove(&s->queue);
    ngx_queue_insert_tail(&sh->lru, &s->queue);

    ld->restored++;

    return NGX_OK;

invalid_label:

    return ngx_http_llm_state_error(ld, "series #%ui has an invalid "
                                    "\"label\"", n);
}


static ngx_int_t
ngx_http_llm_state_error(ngx_http_llm_state_load_t *ld, const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf(ld->errbuf, ld->errbuf + sizeof(ld->errbuf) - 1, fmt,
                      args);
    va_end(args);

    *p = '\0';
    ld->reason = ld->errbuf;

    return NGX_ERROR;
}


/* an integer in [min, max]; cJSON keeps numbers as doubles */

static ngx_int_t
ngx_http_llm_state_int(cJSON *item, int64_t min, int64_t max, int64_t *v)
{
    double  d;

    if (!cJSON_IsNumber(item)) {
        return NGX_ERROR;
    }

    d = item->valuedouble;

    /* false for NaN */

    if (!(d >= (double) min && d <= (double) max)) {
        return NGX_ERROR;
    }

    if ((double) (int64_t) d != d) {
        return NGX_ERROR;
    }

    *v = (int64_t) d;

    return NGX_OK;
}


static ngx_int_t
ngx_http_llm_state_ints(cJSON *array, ngx_uint_t n, int64_t *v)
{
    cJSON       *elt;
    ngx_uint_t   i;

    if (!cJSON_IsArray(array) || (ngx_uint_t) cJSON_GetArraySize(array) != n)
    {
        return NGX_ERROR;
    }

    i = 0;

    cJSON_ArrayForEach(elt, array) {
        if (ngx_http_llm_state_int(elt, 0, NGX_HTTP_LLM_STATE_INT_MAX, &v[i++])
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_llm_state_field(cJSON *obj, const char *name, int64_t *v)
{
    return ngx_http_llm_state_int(cJSON_GetObjectItemCaseSensitive(obj, name),
                                  0, NGX_HTTP_LLM_STATE_INT_MAX, v);
}


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

        sp->attempts = (int64_t) node->attempts;
        sp->failures = (int64_t) node->failures;
        sp->circuit_opened = node->circuit_opened;
        ngx_memcpy(sp->latency, node->latency, sizeof(sp->latency));
        sp->latency_sum = node->latency_sum;
        sp->latency_count = node->latency_count;
        ngx_memcpy(sp->ttft, node->ttft, sizeof(sp->ttft));
        sp->ttft_sum = node->ttft_sum;
        sp->ttft_count = node->ttft_count;
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

    snap->failovers = sh->failovers;
    snap->budget_rejections = sh->budget_rejections;
    snap->usage_missing = sh->usage_missing;
    snap->evicted = sh->evicted;

    return NGX_OK;
}


static ngx_int_t
ngx_http_llm_state_write(ngx_http_llm_main_conf_t *lmcf,
    ngx_http_llm_state_snap_t *snap, u_char *tmp, ngx_log_t *log)
{
    u_char                     *p, *label, *last, *f;
    ngx_uint_t                  i, first;
    const char                 *op;
    ngx_http_llm_state_out_t    out;
    ngx_http_llm_state_rec_t   *rec;
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

    ngx_http_llm_out_lit(&out, ",\n\"totals\":{\"failovers\":");
    ngx_http_llm_out_int(&out, snap->failovers);
    ngx_http_llm_out_lit(&out, ",\"budget_rejections\":");
    ngx_http_llm_out_int(&out, snap->budget_rejections);
    ngx_http_llm_out_lit(&out, ",\"usage_missing\":");
    ngx_http_llm_out_int(&out, snap->usage_missing);
    ngx_http_llm_out_lit(&out, ",\"evicted\":");
    ngx_http_llm_out_int(&out, snap->evicted);

    ngx_http_llm_out_lit(&out, "},\n\"providers\":[");

    for (i = 0; i < snap->nprovs; i++) {
        sp = &snap->provs[i];

        ngx_http_llm_out_lit(&out, i ? ",\n{\"name\":" : "\n{\"name\":");
        ngx_http_llm_out_str(&out, sp->name, sp->name_len);
        ngx_http_llm_out_lit(&out, ",\"attempts\":");
        ngx_http_llm_out_int(&out, sp->attempts);
        ngx_http_llm_out_lit(&out, ",\"failures\":");
        ngx_http_llm_out_int(&out, sp->failures);
        ngx_http_llm_out_lit(&out, ",\"circuit_opened\":");
        ngx_http_llm_out_int(&out, sp->circuit_opened);
        ngx_http_llm_out_lit(&out, ",\"latency\":");
        ngx_http_llm_out_ints(&out, sp->latency, NGX_HTTP_LLM_HIST_BUCKETS);
        ngx_http_llm_out_lit(&out, ",\"latency_sum\":");
        ngx_http_llm_out_int(&out, sp->latency_sum);
        ngx_http_llm_out_lit(&out, ",\"latency_count\":");
        ngx_http_llm_out_int(&out, sp->latency_count);
        ngx_http_llm_out_lit(&out, ",\"ttft\":");
        ngx_http_llm_out_ints(&out, sp->ttft, NGX_HTTP_LLM_HIST_BUCKETS);
        ngx_http_llm_out_lit(&out, ",\"ttft_sum\":");
        ngx_http_llm_out_int(&out, sp->ttft_sum);
        ngx_http_llm_out_lit(&out, ",\"ttft_count\":");
        ngx_http_llm_out_int(&out, sp->ttft_count);
        ngx_http_llm_out_lit(&out, "}");
    }

    ngx_http_llm_out_lit(&out, "],\n\"series\":[");

    first = 1;

    for (p = snap->recs; p < snap->recs_end; /* void */) {
        rec = (ngx_http_llm_state_rec_t *) p;
        label = p + sizeof(ngx_http_llm_state_rec_t);
        last = label + rec->len;

        ngx_http_llm_out_lit(&out, first ? "\n{\"type\":" : ",\n{\"type\":");
        ngx_http_llm_out_int(&out, rec->type);
        ngx_http_llm_out_lit(&out, ",\"label\":[");

        /* fields separated by '\0' */

        for (f = label; /* void */; f++) {
            if (f == last || *f == '\0') {
                if (label != p + sizeof(ngx_http_llm_state_rec_t)) {
                    ngx_http_llm_out_lit(&out, ",");
                }

                ngx_http_llm_out_str(&out, label, f - label);
                label = f + 1;

                if (f == last) {
                    break;
                }
            }
        }

        ngx_http_llm_out_lit(&out, "],\"window\":");
        ngx_http_llm_out_int(&out, (int64_t) rec->window);
        ngx_http_llm_out_lit(&out, ",\"v\":");
        ngx_http_llm_out_ints(&out, rec->v, NGX_HTTP_LLM_SERIES_NVALUES);
        ngx_http_llm_out_lit(&out, "}");

        first = 0;
        p += ngx_align(sizeof(ngx_http_llm_state_rec_t) + rec->len, 8);
    }

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


static void
ngx_http_llm_out_ints(ngx_http_llm_state_out_t *out, int64_t *v,
    ngx_uint_t n)
{
    ngx_uint_t  i;

    ngx_http_llm_out_need(out, n * (NGX_INT64_LEN + 1) + 2);

    *out->pos++ = '[';

    for (i = 0; i < n; i++) {
        if (i) {
            *out->pos++ = ',';
        }

        out->pos = ngx_sprintf(out->pos, "%L", v[i]);
    }

    *out->pos++ = ']';
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
