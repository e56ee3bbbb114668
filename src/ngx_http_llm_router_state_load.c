
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * Loading the state file (see ngx_http_llm_router_state.c), in the master
 * when the zone is created afresh: the whole file is checked first, then
 * restored under the zone's mutex by the same walk (ld->apply), over the
 * tables of totals and provider counters and the series types.
 */


#include "ngx_http_llm_router_state.h"

#include <cjson/cJSON.h>


typedef struct {
    ngx_http_llm_main_conf_t        *lmcf;
    ngx_log_t                       *log;
    ngx_str_t                       *path;
    ngx_str_t                       *zone;
    time_t                           now;
    ngx_uint_t                       apply;
    ngx_uint_t                       reserve;   /* free pages to keep */
    ngx_uint_t                       restored;
    ngx_uint_t                       dropped;
    ngx_uint_t                       noroom;
    u_char                          *reason;
    u_char                           errbuf[NGX_MAX_ERROR_STR];
} ngx_http_llm_state_load_t;


static u_char *ngx_http_llm_state_read(ngx_http_llm_state_load_t *ld,
    ngx_fd_t fd, size_t *len);
static void ngx_http_llm_state_parse(ngx_http_llm_state_load_t *ld,
    u_char *buf, size_t len);
static ngx_uint_t ngx_http_llm_state_unclosed(u_char *p, size_t len);
static ngx_int_t ngx_http_llm_state_check(ngx_http_llm_state_load_t *ld,
    cJSON *root);
static ngx_int_t ngx_http_llm_state_totals(ngx_http_llm_state_load_t *ld,
    cJSON *totals);
static ngx_int_t ngx_http_llm_state_provider(ngx_http_llm_state_load_t *ld,
    cJSON *item, ngx_uint_t n);
static ngx_int_t ngx_http_llm_state_counters(cJSON *obj,
    const ngx_http_llm_state_field_t *fields, void *base);
static ngx_int_t ngx_http_llm_state_series(ngx_http_llm_state_load_t *ld,
    cJSON *item, ngx_uint_t n);
static ngx_int_t ngx_http_llm_state_label(cJSON *obj, ngx_uint_t type,
    u_char *label, size_t *len);
static ngx_int_t ngx_http_llm_state_restore(ngx_http_llm_state_load_t *ld,
    ngx_uint_t type, u_char *label, size_t len, time_t window, int64_t *v);
static ngx_int_t ngx_http_llm_state_error(ngx_http_llm_state_load_t *ld,
    const char *fmt, ...);
static ngx_int_t ngx_http_llm_state_int(cJSON *item, int64_t min,
    int64_t max, int64_t *v);
static ngx_int_t ngx_http_llm_state_ints(cJSON *array, ngx_uint_t n,
    int64_t *v);
static ngx_int_t ngx_http_llm_state_field(cJSON *obj, const char *name,
    int64_t *v);


ngx_int_t
ngx_http_llm_state_load(ngx_http_llm_main_conf_t *lmcf, ngx_log_t *log)
{
    u_char                     *buf, *name;
    size_t                      len;
    ngx_fd_t                    fd;
    ngx_err_t                   err;
    ngx_str_t                  *path, *zone;
    ngx_http_llm_state_load_t  *ld;

    path = &lmcf->state_path;

    if (path->len == 0 || lmcf->sh == NULL) {
        return NGX_OK;
    }

    zone = &lmcf->shm_zone->shm.name;

    ld = ngx_alloc(sizeof(ngx_http_llm_state_load_t) + path->len + 1, log);
    if (ld == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(ld, sizeof(ngx_http_llm_state_load_t));

    ld->lmcf = lmcf;
    ld->log = log;
    ld->path = path;
    ld->zone = zone;

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

    buf = ngx_http_llm_state_read(ld, fd, &len);

    if (buf) {
        ngx_http_llm_state_parse(ld, buf, len);
        ngx_free(buf);
    }

    if (ld->reason) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "llm_zone \"%V\": state file \"%V\" is ignored: %s",
                      zone, path, ld->reason);
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      ngx_close_file_n " \"%V\" failed", path);
    }

    ngx_free(ld);

    return NGX_OK;
}


/* the whole file, null-terminated; NULL: a reason is set or logged */

static u_char *
ngx_http_llm_state_read(ngx_http_llm_state_load_t *ld, ngx_fd_t fd,
    size_t *len)
{
    off_t             size, max;
    u_char           *buf;
    ssize_t           n, rc;
    ngx_err_t         err;
    ngx_file_info_t   fi;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ERR, ld->log, ngx_errno,
                      "llm_zone \"%V\": state file \"%V\" is ignored: "
                      ngx_fd_info_n " failed", ld->zone, ld->path);
        return NULL;
    }

    /* JSON takes less than twice the zone's memory; be generous */

    size = ngx_file_size(&fi);
    max = (off_t) ld->lmcf->shm_zone->shm.size * 8 + 1024 * 1024;

    if (!ngx_is_file(&fi)) {
        ld->reason = (u_char *) "it is not a regular file";

    } else if (size == 0) {
        ld->reason = (u_char *) "it is empty";

    } else if (size > max) {
        ngx_http_llm_state_error(ld, "it is too large (%O bytes, %O at most "
                                 "for this zone)", size, max);
    }

    if (ld->reason) {
        return NULL;
    }

    buf = ngx_alloc((size_t) size + 1, ld->log);
    if (buf == NULL) {
        return NULL;
    }

    for (n = 0; n < size; /* void */) {
        rc = ngx_read_fd(fd, buf + n, (size_t) (size - n));

        if (rc == -1) {
            err = ngx_errno;

            if (err == NGX_EINTR) {
                continue;
            }

            ngx_log_error(NGX_LOG_ERR, ld->log, err,
                          "llm_zone \"%V\": state file \"%V\" is ignored: "
                          ngx_read_fd_n " failed", ld->zone, ld->path);
            ngx_free(buf);
            return NULL;
        }

        if (rc == 0) {
            break;
        }

        n += rc;
    }

    buf[n] = '\0';
    *len = (size_t) n;

    return buf;
}


static void
ngx_http_llm_state_parse(ngx_http_llm_state_load_t *ld, u_char *buf,
    size_t len)
{
    cJSON            *root;
    ssize_t           n;
    ngx_uint_t        total, log_nomem;
    const char       *end;
    ngx_slab_pool_t  *shpool;

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

        return;
    }

    if ((u_char *) end != buf + len) {
        ngx_http_llm_state_error(ld, "it is not valid JSON (a null byte at "
                                 "byte %z of %uz)", (u_char *) end - buf,
                                 len);
        goto done;
    }

    ld->now = ngx_time();

    /* first check everything, then restore */

    if (ngx_http_llm_state_check(ld, root) != NGX_OK) {
        goto done;
    }

    shpool = ld->lmcf->shpool;

    total = shpool->last - shpool->pages;
    ld->reserve = 4 + total / 16;
    ld->apply = 1;

    log_nomem = shpool->log_nomem;
    shpool->log_nomem = 0;

    ngx_shmtx_lock(&shpool->mutex);

    (void) ngx_http_llm_state_check(ld, root);

    ngx_shmtx_unlock(&shpool->mutex);

    shpool->log_nomem = log_nomem;

    ngx_log_error(NGX_LOG_NOTICE, ld->log, 0,
                  "llm_zone \"%V\": state file \"%V\" loaded, %ui counters "
                  "restored, %ui dropped", ld->zone, ld->path, ld->restored,
                  ld->dropped);

    if (ld->noroom) {
        ngx_log_error(NGX_LOG_WARN, ld->log, 0,
                      "llm_zone \"%V\" is too small for state file \"%V\": "
                      "%ui least recently used counters are not restored",
                      ld->zone, ld->path, ld->noroom);
    }

done:

    cJSON_Delete(root);
}


/* a string or an object or array still open at the end: a cut file */

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
    zone = ld->zone;

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
    ngx_uint_t                         i;
    ngx_http_llm_shctx_t               sh;
    const ngx_http_llm_state_field_t  *f;

    if (!cJSON_IsObject(totals)) {
        return ngx_http_llm_state_error(ld, "invalid \"totals\"");
    }

    for (f = ngx_http_llm_state_totals_fields; f->name; f++) {
        if (ngx_http_llm_state_counters(totals, f, &sh) != NGX_OK) {
            return ngx_http_llm_state_error(ld, "invalid \"totals\".\"%s\"",
                                            f->name);
        }
    }

    if (ld->apply) {
        for (f = ngx_http_llm_state_totals_fields; f->name; f++) {
            for (i = 0; i < f->n; i++) {
                ngx_http_llm_state_set(f, ld->lmcf->sh, i,
                                       ngx_http_llm_state_get(f, &sh, i));
            }
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_llm_state_provider(ngx_http_llm_state_load_t *ld, cJSON *item,
    ngx_uint_t n)
{
    size_t                              len;
    cJSON                              *name;
    ngx_uint_t                          i;
    ngx_queue_t                        *q;
    ngx_http_llm_shctx_t               *sh;
    ngx_http_llm_provider_t            *prov;
    ngx_http_llm_shm_provider_t         p, *node;
    const ngx_http_llm_state_field_t   *f;

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

    for (f = ngx_http_llm_state_provider_fields; f->name; f++) {
        if (ngx_http_llm_state_counters(item, f, &p) != NGX_OK) {
            return ngx_http_llm_state_error(ld, "provider #%ui has an "
                                            "invalid counter", n);
        }
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

    for (f = ngx_http_llm_state_provider_fields; f->name; f++) {
        for (i = 0; i < f->n; i++) {
            ngx_http_llm_state_set(f, node, i,
                                   ngx_http_llm_state_get(f, &p, i));
        }
    }

    ngx_queue_insert_tail(&sh->providers, &node->queue);

    return NGX_OK;
}


/* a counter of the table: a number, or an array of f->n numbers */

static ngx_int_t
ngx_http_llm_state_counters(cJSON *obj, const ngx_http_llm_state_field_t *f,
    void *base)
{
    int64_t     v[NGX_HTTP_LLM_HIST_BUCKETS];
    ngx_uint_t  i;

    if (f->n == 1) {
        if (ngx_http_llm_state_field(obj, f->name, &v[0]) != NGX_OK) {
            return NGX_ERROR;
        }

    } else if (f->n > NGX_HTTP_LLM_HIST_BUCKETS
               || ngx_http_llm_state_ints(
                      cJSON_GetObjectItemCaseSensitive(obj, f->name), f->n, v)
                  != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < f->n; i++) {
        ngx_http_llm_state_set(f, base, i, v[i]);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_llm_state_series(ngx_http_llm_state_load_t *ld, cJSON *item,
    ngx_uint_t n)
{
    size_t     len;
    int64_t    type, window, v[NGX_HTTP_LLM_SERIES_NVALUES];
    ngx_int_t  rc;
    u_char     label[NGX_HTTP_LLM_STATE_LABEL_MAX + 1];

    if (!cJSON_IsObject(item)) {
        return ngx_http_llm_state_error(ld, "series #%ui is not an object",
                                        n);
    }

    if (ngx_http_llm_state_field(item, "type", &type) != NGX_OK
        || type <= 0 || type >= NGX_HTTP_LLM_SERIES_NTYPES)
    {
        return ngx_http_llm_state_error(ld, "series #%ui has an invalid "
                                        "\"type\"", n);
    }

    rc = ngx_http_llm_state_label(
                        cJSON_GetObjectItemCaseSensitive(item, "label"),
                        (ngx_uint_t) type, label, &len);

    if (rc == NGX_DECLINED) {
        return ngx_http_llm_state_error(ld, "series #%ui has a label "
                                        "longer than %d bytes", n,
                                        NGX_HTTP_LLM_STATE_LABEL_MAX);
    }

    if (rc != NGX_OK) {
        return ngx_http_llm_state_error(ld, "series #%ui has an invalid "
                                        "\"label\"", n);
    }

    /* the window: a start in unix time, for the types that have one */

    if (ngx_http_llm_state_field(item, "window", &window) != NGX_OK
        || window > NGX_HTTP_LLM_STATE_WINDOW_MAX
        || ngx_http_llm_series_types[type].window != (window != 0))
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

    return ngx_http_llm_state_restore(ld, (ngx_uint_t) type, label, len,
                                      (time_t) window, v);
}


/*
 * The label: its fields joined by '\0', as in the zone, as many as the
 * type has and each one what the type wants; NGX_DECLINED: too long.
 */

static ngx_int_t
ngx_http_llm_state_label(cJSON *obj, ngx_uint_t type, u_char *label,
    size_t *len)
{
    u_char                            *p, *field[NGX_HTTP_LLM_SERIES_MAXFIELDS];
    cJSON                             *elt;
    size_t                             flen[NGX_HTTP_LLM_SERIES_MAXFIELDS];
    ngx_uint_t                         i, j;
    const ngx_http_llm_series_type_t  *t;

    t = &ngx_http_llm_series_types[type];

    if (!cJSON_IsArray(obj)
        || (ngx_uint_t) cJSON_GetArraySize(obj) != t->nfields)
    {
        return NGX_ERROR;
    }

    p = label;
    i = 0;

    cJSON_ArrayForEach(elt, obj) {

        if (!cJSON_IsString(elt) || elt->valuestring == NULL) {
            return NGX_ERROR;
        }

        flen[i] = ngx_strlen(elt->valuestring);

        if (flen[i] >= (size_t) (label + NGX_HTTP_LLM_STATE_LABEL_MAX + 1 - p))
        {
            return NGX_DECLINED;
        }

        field[i] = p;
        p = ngx_cpymem(p, elt->valuestring, flen[i]);
        *p++ = '\0';
        i++;
    }

    *len = p - label - 1;

    for (i = 0; i < t->nfields; i++) {

        switch (t->check[i]) {

        case NGX_HTTP_LLM_FIELD_NONEMPTY:
            if (flen[i] == 0) {
                return NGX_ERROR;
            }

            break;

        case NGX_HTTP_LLM_FIELD_STATUS:
            if (flen[i] == 0 || flen[i] > 3) {
                return NGX_ERROR;
            }

            for (j = 0; j < flen[i]; j++) {
                if (field[i][j] < '0' || field[i][j] > '9') {
                    return NGX_ERROR;
                }
            }

            break;

        case NGX_HTTP_LLM_FIELD_METRIC:
            for (j = 0; j < NGX_HTTP_LLM_NMETRICS; j++) {
                if (flen[i] == ngx_http_llm_budget_metric_names[j].len
                    && ngx_strncmp(field[i],
                                   ngx_http_llm_budget_metric_names[j].data,
                                   flen[i]) == 0)
                {
                    break;
                }
            }

            if (j == NGX_HTTP_LLM_NMETRICS) {
                return NGX_ERROR;
            }

            break;

        default: /* NGX_HTTP_LLM_FIELD_ANY */
            break;
        }
    }

    return NGX_OK;
}


/* a checked series into the zone; the caller holds the mutex */

static ngx_int_t
ngx_http_llm_state_restore(ngx_http_llm_state_load_t *ld, ngx_uint_t type,
    u_char *label, size_t len, time_t window, int64_t *v)
{
    ngx_uint_t                         nseries;
    ngx_http_llm_shctx_t              *sh;
    ngx_http_llm_series_t             *s;
    const ngx_http_llm_series_type_t  *t;

    t = &ngx_http_llm_series_types[type];

    if (t->transient >= 0) {
        /* the requests that reserved are gone */
        v[t->transient] = 0;
    }

    if (t->window) {

        /* a window that starts later: the clock went back */

        if (window > ld->now) {
            ld->dropped++;
            return NGX_OK;
        }

        if (v[NGX_HTTP_LLM_V_WINDOW_END]
            && v[NGX_HTTP_LLM_V_WINDOW_END] <= ld->now)
        {
            ld->dropped++;
            return NGX_OK;
        }
    }

    /* leave room for the providers and for new series */

    if (ld->lmcf->shpool->pfree < ld->reserve) {
        ld->noroom++;
        return NGX_OK;
    }

    sh = ld->lmcf->sh;
    nseries = sh->nseries;

    s = ngx_http_llm_series_get_locked(ld->lmcf, type, label, len, ld->log);
    if (s == NULL) {
        ld->noroom++;
        return NGX_OK;
    }

    if ((ngx_uint_t) sh->nseries == nseries) {
        /* a duplicate: the first one (more recent) stays */
        return NGX_OK;
    }

    s->window = window;
    ngx_memcpy(s->v, v, NGX_HTTP_LLM_SERIES_NVALUES * sizeof(int64_t));

    /* the file is most recently used first: keep that order */

    ngx_queue_remove(&s->queue);
    ngx_queue_insert_tail(&sh->lru, &s->queue);

    ld->restored++;

    return NGX_OK;
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

