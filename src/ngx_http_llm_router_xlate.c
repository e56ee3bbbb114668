
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * API translation: the dispatch table of the pairs, the field table
 * walker, errors in every format and the SSE framer shared by the pairs.
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_llm_router_xlate.h"


static const ngx_http_llm_xlate_pair_t *ngx_http_llm_xlate_pair(int client,
    int provider);
static size_t ngx_http_llm_xlate_frame(ngx_http_llm_xlate_sse_t *s,
    const unsigned char *p, size_t n, size_t *scan,
    ngx_http_llm_xlate_buf_t *out, int *rc);
static int ngx_http_llm_xlate_dispatch(ngx_http_llm_xlate_sse_t *s,
    const unsigned char *p, const unsigned char *last,
    ngx_http_llm_xlate_buf_t *out);
static int ngx_http_llm_xlate_sse_error(ngx_http_llm_xlate_sse_t *s,
    const char *type, const char *message, ngx_http_llm_xlate_buf_t *out);
static const char *ngx_http_llm_xlate_status_type(int format, int status);
static int ngx_http_llm_xlate_error_json(int to, int status, cJSON *err,
    ngx_http_llm_xlate_buf_t *out, int sse);


static const char  *ngx_http_llm_xlate_names[NGX_HTTP_LLM_XLATE_NFORMATS] = {
    "openai", "anthropic"
};


/* indexed by [client format][provider format] */
static const ngx_http_llm_xlate_pair_t
    *ngx_http_llm_xlate_pairs[NGX_HTTP_LLM_XLATE_NFORMATS]
                             [NGX_HTTP_LLM_XLATE_NFORMATS] =
{
    { NULL, &ngx_http_llm_xlate_chat_messages },
    { &ngx_http_llm_xlate_messages_chat, NULL },
};


/* error "type" by status, per format; the first match wins */
typedef struct {
    int          status;       /* 0: any other 4xx, 1: any other 5xx */
    const char  *type[NGX_HTTP_LLM_XLATE_NFORMATS];
} ngx_http_llm_xlate_etype_t;


static const ngx_http_llm_xlate_etype_t  ngx_http_llm_xlate_etypes[] = {
    { 400, { "invalid_request_error", "invalid_request_error" } },
    { 401, { "authentication_error", "authentication_error" } },
    { 402, { "insufficient_quota", "billing_error" } },
    { 403, { "permission_error", "permission_error" } },
    { 404, { "not_found_error", "not_found_error" } },
    { 413, { "invalid_request_error", "request_too_large" } },
    { 429, { "rate_limit_error", "rate_limit_error" } },
    { 504, { "timeout_error", "timeout_error" } },
    { 529, { "server_error", "overloaded_error" } },
    { 0,   { "invalid_request_error", "invalid_request_error" } },
    { 1,   { "server_error", "api_error" } },
};


/*
 * Finish reasons (OpenAI) and stop reasons (Anthropic); the first row
 * with a match wins, so each column's first spelling is the one written.
 */
static const char  *ngx_http_llm_xlate_stops[][NGX_HTTP_LLM_XLATE_NFORMATS] = {
    { "stop", "end_turn" },
    { "stop", "stop_sequence" },
    { "stop", "pause_turn" },
    { "length", "max_tokens" },
    { "length", "model_context_window_exceeded" },
    { "tool_calls", "tool_use" },
    { "function_call", "tool_use" },
    { "content_filter", "refusal" },
    { NULL, NULL }
};


const char *
ngx_http_llm_xlate_stop(const char *reason, int to)
{
    int  i, from;

    if (reason == NULL) {
        return NULL;
    }

    from = (to == NGX_HTTP_LLM_XLATE_CHAT) ? NGX_HTTP_LLM_XLATE_MESSAGES
                                           : NGX_HTTP_LLM_XLATE_CHAT;

    for (i = 0; ngx_http_llm_xlate_stops[i][0]; i++) {
        if (strcmp(ngx_http_llm_xlate_stops[i][from], reason) == 0) {
            return ngx_http_llm_xlate_stops[i][to];
        }
    }

    /* unknown reasons end the turn */
    return ngx_http_llm_xlate_stops[0][to];
}


int
ngx_http_llm_xlate_format(const char *name, size_t len)
{
    int  i;

    for (i = 0; i < NGX_HTTP_LLM_XLATE_NFORMATS; i++) {
        if (strlen(ngx_http_llm_xlate_names[i]) == len
            && memcmp(ngx_http_llm_xlate_names[i], name, len) == 0)
        {
            return i;
        }
    }

    return -1;
}


const char *
ngx_http_llm_xlate_format_name(int format)
{
    if (format < 0 || format >= NGX_HTTP_LLM_XLATE_NFORMATS) {
        return "unknown";
    }

    return ngx_http_llm_xlate_names[format];
}


static const ngx_http_llm_xlate_pair_t *
ngx_http_llm_xlate_pair(int client, int provider)
{
    if (client < 0 || client >= NGX_HTTP_LLM_XLATE_NFORMATS
        || provider < 0 || provider >= NGX_HTTP_LLM_XLATE_NFORMATS)
    {
        return NULL;
    }

    return ngx_http_llm_xlate_pairs[client][provider];
}


int
ngx_http_llm_xlate_supported(int from, int to)
{
    return ngx_http_llm_xlate_pair(from, to) != NULL;
}


int
ngx_http_llm_xlate_request(int from, int to, const unsigned char *body,
    size_t len, const ngx_http_llm_xlate_conf_t *conf,
    ngx_http_llm_xlate_result_t *res)
{
    int                               rc;
    char                             *p;
    ngx_http_llm_xlate_req_t          x;
    const ngx_http_llm_xlate_pair_t  *pair;

    memset(res, 0, sizeof(ngx_http_llm_xlate_result_t));
    res->max_tokens = -1;

    pair = ngx_http_llm_xlate_pair(from, to);
    if (pair == NULL) {
        return NGX_HTTP_LLM_XLATE_BAD;
    }

    memset(&x, 0, sizeof(ngx_http_llm_xlate_req_t));
    x.conf = conf;
    x.res = res;
    x.max_tokens = -1;
    x.parallel = -1;

    x.src = cJSON_ParseWithLength((const char *) body, len);
    if (x.src == NULL || !cJSON_IsObject(x.src)) {
        cJSON_Delete(x.src);
        return NGX_HTTP_LLM_XLATE_BAD;
    }

    x.dst = cJSON_CreateObject();
    if (x.dst == NULL) {
        cJSON_Delete(x.src);
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    rc = pair->request(&x);

    if (rc == NGX_HTTP_LLM_XLATE_OK && res->status == 0) {
        p = x.oom ? NULL : cJSON_PrintUnformatted(x.dst);

        if (p == NULL) {
            rc = NGX_HTTP_LLM_XLATE_NOMEM;

        } else {
            res->body.data = (unsigned char *) p;
            res->body.len = strlen(p);
            res->body.size = res->body.len + 1;
        }
    }

    cJSON_Delete(x.tool_choice);
    cJSON_Delete(x.src);
    cJSON_Delete(x.dst);

    return rc;
}


int
ngx_http_llm_xlate_response(int from, int to, const unsigned char *body,
    size_t len, const char *model, int64_t created,
    ngx_http_llm_xlate_buf_t *out)
{
    int                               rc;
    char                             *p;
    cJSON                            *src, *dst;
    const ngx_http_llm_xlate_pair_t  *pair;

    pair = ngx_http_llm_xlate_pair(to, from);
    if (pair == NULL) {
        return NGX_HTTP_LLM_XLATE_BAD;
    }

    src = cJSON_ParseWithLength((const char *) body, len);
    if (src == NULL || !cJSON_IsObject(src)) {
        cJSON_Delete(src);
        return NGX_HTTP_LLM_XLATE_BAD;
    }

    dst = pair->response(src, model, created);
    cJSON_Delete(src);

    if (dst == NULL) {
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    p = cJSON_PrintUnformatted(dst);
    cJSON_Delete(dst);

    if (p == NULL) {
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    rc = ngx_http_llm_xlate_buf_append(out, p, strlen(p));
    free(p);

    return rc;
}


/* the field table walker */

int
ngx_http_llm_xlate_fields(ngx_http_llm_xlate_req_t *x,
    const ngx_http_llm_xlate_field_t *table)
{
    int                                rc;
    cJSON                             *item, *next;
    const ngx_http_llm_xlate_field_t  *f;

    for (item = x->src->child; item; item = next) {
        next = item->next;

        /* null means "not given" to every client SDK */
        if (item->string == NULL || cJSON_IsNull(item)) {
            continue;
        }

        for (f = table; f->name; f++) {
            if (strcmp(f->name, item->string) == 0) {
                break;
            }
        }

        if (f->name == NULL) {
            /* unknown to the table: never forwarded, never silent */
            ngx_http_llm_xlate_drop(x, item->string);
            continue;
        }

        switch (f->action) {

        case NGX_HTTP_LLM_XF_COPY:
            ngx_http_llm_xlate_add(x, x->dst, f->name,
                                   ngx_http_llm_xlate_take(x->src, item));
            break;

        case NGX_HTTP_LLM_XF_RENAME:
            ngx_http_llm_xlate_add(x, x->dst, f->to,
                                   ngx_http_llm_xlate_take(x->src, item));
            break;

        case NGX_HTTP_LLM_XF_DROP:
            ngx_http_llm_xlate_drop(x, f->name);
            break;

        case NGX_HTTP_LLM_XF_REFUSE:
            return ngx_http_llm_xlate_refuse(x, f->name,
                       "'%s' has no equivalent at the provider's API",
                       f->name);

        case NGX_HTTP_LLM_XF_CALL:
            rc = f->handler(x, item);
            if (rc != NGX_HTTP_LLM_XLATE_OK || x->res->status) {
                return rc;
            }
            break;

        default: /* NGX_HTTP_LLM_XF_SKIP */
            break;
        }
    }

    return x->oom ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
}


int
ngx_http_llm_xlate_refuse(ngx_http_llm_xlate_req_t *x, const char *param,
    const char *fmt, ...)
{
    va_list  args;

    x->res->status = 400;
    snprintf(x->res->param, sizeof(x->res->param), "%s", param);

    va_start(args, fmt);
    vsnprintf(x->res->message, sizeof(x->res->message), fmt, args);
    va_end(args);

    return NGX_HTTP_LLM_XLATE_OK;
}


/* adds a name to the dropped list once; a full list ends with "..." */

void
ngx_http_llm_xlate_drop(ngx_http_llm_xlate_req_t *x, const char *name)
{
    char    *d, *p;
    size_t   len, n;

    d = x->res->dropped;
    len = strlen(d);
    n = strlen(name);

    for (p = d; (p = strstr(p, name)) != NULL; p += n) {
        if ((p == d || p[-1] == ' ') && (p[n] == ',' || p[n] == '\0')) {
            return;
        }
    }

    if (len && len >= sizeof(x->res->dropped) - 4) {
        return;
    }

    if (len + (len ? 2 : 0) + n + 4 >= sizeof(x->res->dropped)) {
        memcpy(d + len, len ? ", ..." : "...", len ? 6 : 4);
        return;
    }

    if (len) {
        memcpy(d + len, ", ", 2);
        len += 2;
    }

    memcpy(d + len, name, n + 1);
}


cJSON *
ngx_http_llm_xlate_take(cJSON *obj, cJSON *item)
{
    return cJSON_DetachItemViaPointer(obj, item);
}


/* adds item to obj (an array when name is NULL); NULL sets x->oom */

cJSON *
ngx_http_llm_xlate_add(ngx_http_llm_xlate_req_t *x, cJSON *obj,
    const char *name, cJSON *item)
{
    if (item == NULL || obj == NULL) {
        x->oom = 1;
        cJSON_Delete(item);
        return NULL;
    }

    if (name == NULL) {
        if (!cJSON_AddItemToArray(obj, item)) {
            x->oom = 1;
            cJSON_Delete(item);
            return NULL;
        }

        return item;
    }

    if (!cJSON_AddItemToObject(obj, name, item)) {
        x->oom = 1;
        cJSON_Delete(item);
        return NULL;
    }

    return item;
}


cJSON *
ngx_http_llm_xlate_add_str(ngx_http_llm_xlate_req_t *x, cJSON *obj,
    const char *name, const char *s)
{
    /* a member the provider left out is an empty string, not a failure */
    return ngx_http_llm_xlate_add(x, obj, name, cJSON_CreateString(s ? s : ""));
}


const char *
ngx_http_llm_xlate_str(cJSON *obj, const char *name)
{
    cJSON  *item;

    item = cJSON_GetObjectItemCaseSensitive(obj, name);

    return cJSON_IsString(item) ? item->valuestring : NULL;
}


/* an integral member 0 .. 2^53, else -1 */

int64_t
ngx_http_llm_xlate_int(cJSON *obj, const char *name)
{
    cJSON  *item;

    item = cJSON_GetObjectItemCaseSensitive(obj, name);

    if (!cJSON_IsNumber(item) || item->valuedouble < 0
        || item->valuedouble > 9007199254740992.0
        || item->valuedouble != (double) (int64_t) item->valuedouble)
    {
        return -1;
    }

    return (int64_t) item->valuedouble;
}


int
ngx_http_llm_xlate_buf_append(ngx_http_llm_xlate_buf_t *b, const void *p,
    size_t n)
{
    size_t          size;
    unsigned char  *data;

    if (b->len + n > b->size) {
        size = b->size ? b->size : 256;

        while (size < b->len + n) {
            size *= 2;
        }

        data = realloc(b->data, size);
        if (data == NULL) {
            return NGX_HTTP_LLM_XLATE_NOMEM;
        }

        b->data = data;
        b->size = size;
    }

    if (n) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
    }

    return NGX_HTTP_LLM_XLATE_OK;
}


void
ngx_http_llm_xlate_buf_free(ngx_http_llm_xlate_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->size = 0;
}


/*
 * One SSE event: "event: NAME\ndata: JSON\n\n" (Anthropic) or, without
 * a name, "data: JSON\n\n" (OpenAI).  data is deleted.
 */

int
ngx_http_llm_xlate_emit(ngx_http_llm_xlate_buf_t *out, const char *event,
    cJSON *data)
{
    int    rc;
    char  *p;

    p = data ? cJSON_PrintUnformatted(data) : NULL;
    cJSON_Delete(data);

    if (p == NULL) {
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    rc = NGX_HTTP_LLM_XLATE_OK;

    if (event) {
        rc |= ngx_http_llm_xlate_buf_append(out, "event: ", 7);
        rc |= ngx_http_llm_xlate_buf_append(out, event, strlen(event));
        rc |= ngx_http_llm_xlate_buf_append(out, "\n", 1);
    }

    rc |= ngx_http_llm_xlate_buf_append(out, "data: ", 6);
    rc |= ngx_http_llm_xlate_buf_append(out, p, strlen(p));
    rc |= ngx_http_llm_xlate_buf_append(out, "\n\n", 2);

    free(p);

    return rc ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
}


/* errors */

static const char *
ngx_http_llm_xlate_status_type(int format, int status)
{
    const ngx_http_llm_xlate_etype_t  *t;

    for (t = ngx_http_llm_xlate_etypes; ; t++) {
        if (t->status == status
            || (t->status == 0 && status < 500)
            || t->status == 1)
        {
            return t->type[format];
        }
    }
}


int
ngx_http_llm_xlate_error_write(int to, int status, const char *type,
    const char *message, const char *param, ngx_http_llm_xlate_buf_t *out)
{
    int     rc;
    char   *p;
    cJSON  *root, *err;

    if (to < 0 || to >= NGX_HTTP_LLM_XLATE_NFORMATS) {
        return NGX_HTTP_LLM_XLATE_BAD;
    }

    if (type == NULL || type[0] == '\0') {
        type = ngx_http_llm_xlate_status_type(to, status);
    }

    root = cJSON_CreateObject();
    err = cJSON_CreateObject();

    if (root == NULL || err == NULL) {
        cJSON_Delete(root);
        cJSON_Delete(err);
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    if (to == NGX_HTTP_LLM_XLATE_MESSAGES) {
        cJSON_AddStringToObject(root, "type", "error");
        cJSON_AddItemToObject(root, "error", err);
        cJSON_AddStringToObject(err, "type", type);
        cJSON_AddStringToObject(err, "message", message);

    } else {
        cJSON_AddItemToObject(root, "error", err);
        cJSON_AddStringToObject(err, "message", message);
        cJSON_AddStringToObject(err, "type", type);

        if (param && param[0]) {
            cJSON_AddStringToObject(err, "param", param);

        } else {
            cJSON_AddNullToObject(err, "param");
        }

        cJSON_AddNullToObject(err, "code");
    }

    p = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);

    if (p == NULL) {
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    rc = ngx_http_llm_xlate_buf_append(out, p, strlen(p));
    free(p);

    return rc;
}


/*
 * Reads what providers put in an error answer: OpenAI's and Anthropic's
 * {"error":{...}}, {"error":"text"}, {"message":"text"}, and a list of
 * those (Google's OpenAI-compatible endpoint).
 */

int
ngx_http_llm_xlate_error(int from, int to, int status,
    const unsigned char *body, size_t len, ngx_http_llm_xlate_buf_t *out)
{
    int     rc;
    cJSON  *root, *e;

    (void) from;

    root = body ? cJSON_ParseWithLength((const char *) body, len) : NULL;
    e = root;

    if (cJSON_IsArray(e)) {
        e = e->child;
    }

    rc = ngx_http_llm_xlate_error_json(to, status, e, out, 0);
    cJSON_Delete(root);

    return rc;
}


static int
ngx_http_llm_xlate_error_json(int to, int status, cJSON *e,
    ngx_http_llm_xlate_buf_t *out, int sse)
{
    int                                rc;
    char                               buf[96];
    cJSON                             *err;
    const char                        *message, *type, *param;
    const ngx_http_llm_xlate_etype_t  *t;

    message = NULL;
    type = NULL;
    param = NULL;

    if (cJSON_IsObject(e)) {
        err = cJSON_GetObjectItemCaseSensitive(e, "error");

        if (cJSON_IsObject(err)) {
            message = ngx_http_llm_xlate_str(err, "message");
            type = ngx_http_llm_xlate_str(err, "type");
            param = ngx_http_llm_xlate_str(err, "param");

            if (type == NULL) {
                /* Google: {"error":{"code":400,"status":"INVALID_..."}} */
                type = ngx_http_llm_xlate_str(err, "status");
            }

        } else if (cJSON_IsString(err)) {
            message = err->valuestring;

        } else {
            message = ngx_http_llm_xlate_str(e, "message");
        }
    }

    /* Anthropic's clients know its own types only */
    if (type && to == NGX_HTTP_LLM_XLATE_MESSAGES) {
        for (t = ngx_http_llm_xlate_etypes; t->status > 1; t++) {
            if (strcmp(type, t->type[to]) == 0) {
                break;
            }
        }

        if (t->status <= 1 && strcmp(type, "api_error") != 0) {
            type = NULL;
        }
    }

    if (message == NULL) {
        snprintf(buf, sizeof(buf), "the provider answered %d", status);
        message = buf;
    }

    if (!sse) {
        return ngx_http_llm_xlate_error_write(to, status, type, message,
                                              param, out);
    }

    if (to == NGX_HTTP_LLM_XLATE_MESSAGES) {
        rc = ngx_http_llm_xlate_buf_append(out, "event: error\ndata: ", 19);

    } else {
        rc = ngx_http_llm_xlate_buf_append(out, "data: ", 6);
    }

    rc |= ngx_http_llm_xlate_error_write(to, status, type, message, param,
                                         out);
    rc |= ngx_http_llm_xlate_buf_append(out, "\n\n", 2);

    return rc ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
}


/* SSE */

void
ngx_http_llm_xlate_sse_init(ngx_http_llm_xlate_sse_t *s, int from, int to,
    const char *model, int include_usage, int64_t created)
{
    memset(s, 0, sizeof(ngx_http_llm_xlate_sse_t));

    s->from = from;
    s->to = to;
    s->created = created;
    s->include_usage = include_usage ? 1 : 0;
    s->block = -1;
    s->tool = -1;

    snprintf(s->model, sizeof(s->model), "%s", model ? model : "");
}


int
ngx_http_llm_xlate_sse_feed(ngx_http_llm_xlate_sse_t *s,
    const unsigned char *p, size_t n, ngx_http_llm_xlate_buf_t *out)
{
    int                   rc;
    size_t                used, size, scan, m;
    unsigned char        *carry;
    const unsigned char  *nl;

    rc = NGX_HTTP_LLM_XLATE_OK;

    /*
     * Complete events are taken straight from the input; only a partial
     * event is carried, and bytes join it a line at a time, so the carry
     * never holds more than one event (and one line).
     */

    while (n && !s->done && !s->failed && rc == NGX_HTTP_LLM_XLATE_OK) {

        if (s->carry_len == 0) {
            scan = 0;
            used = ngx_http_llm_xlate_frame(s, p, n, &scan, out, &rc);
            p += used;
            n -= used;
            s->carry_scan = scan - used;

            if (n == 0 || rc != NGX_HTTP_LLM_XLATE_OK || s->done
                || s->failed)
            {
                break;
            }

            m = n;

        } else {
            nl = memchr(p, '\n', n);
            m = nl ? (size_t) (nl - p) + 1 : n;
        }

        if (s->carry_len + m > NGX_HTTP_LLM_XLATE_EVENT_MAX) {
            s->carry_len = 0;
            s->carry_scan = 0;
            ngx_http_llm_xlate_sse_error(s, NULL,
                                         "the provider sent an oversized "
                                         "event", out);
            return NGX_HTTP_LLM_XLATE_TOO_BIG;
        }

        if (s->carry_len + m > s->carry_size) {
            size = s->carry_size ? s->carry_size : 512;

            while (size < s->carry_len + m) {
                size *= 2;
            }

            carry = realloc(s->carry, size);
            if (carry == NULL) {
                return NGX_HTTP_LLM_XLATE_NOMEM;
            }

            s->carry = carry;
            s->carry_size = size;
        }

        memcpy(s->carry + s->carry_len, p, m);
        s->carry_len += m;
        p += m;
        n -= m;

        scan = s->carry_scan;
        used = ngx_http_llm_xlate_frame(s, s->carry, s->carry_len, &scan,
                                        out, &rc);

        if (used) {
            memmove(s->carry, s->carry + used, s->carry_len - used);
            s->carry_len -= used;
        }

        s->carry_scan = scan - used;
    }

    /* anything after the terminal event is not for the client */

    return rc;
}


/*
 * Dispatches every complete event of p[0 .. n); returns the bytes used.
 * An event ends with an empty line; lines end with LF or CRLF.  Lines
 * before *scan were looked at already (an event that comes in small
 * pieces is not scanned again from its start each time); on return
 * *scan is where the next unfinished line starts.
 */

static size_t
ngx_http_llm_xlate_frame(ngx_http_llm_xlate_sse_t *s, const unsigned char *p,
    size_t n, size_t *scan, ngx_http_llm_xlate_buf_t *out, int *rc)
{
    const unsigned char  *start, *line, *nl, *end;

    start = p;
    line = p + *scan;
    end = p + n;

    while (line < end) {
        nl = memchr(line, '\n', end - line);
        if (nl == NULL) {
            break;
        }

        if (nl == line || (nl == line + 1 && line[0] == '\r')) {
            /* an empty line: the event is start .. line */

            if (line > start) {
                *rc = ngx_http_llm_xlate_dispatch(s, start, line, out);

                if (*rc != NGX_HTTP_LLM_XLATE_OK || s->done || s->failed) {
                    *scan = n;
                    return n;
                }
            }

            start = nl + 1;
        }

        line = nl + 1;
    }

    *scan = line - p;

    return start - p;
}


static int
ngx_http_llm_xlate_dispatch(ngx_http_llm_xlate_sse_t *s,
    const unsigned char *p, const unsigned char *last,
    ngx_http_llm_xlate_buf_t *out)
{
    int                               rc;
    char                              name[64];
    size_t                            len, nlen, ndata;
    cJSON                            *data;
    const unsigned char              *nl, *v, *d, *dlast;
    ngx_http_llm_xlate_buf_t          joined;
    const ngx_http_llm_xlate_pair_t  *pair;

    name[0] = '\0';
    d = NULL;
    dlast = NULL;
    ndata = 0;
    memset(&joined, 0, sizeof(ngx_http_llm_xlate_buf_t));
    rc = NGX_HTTP_LLM_XLATE_OK;

    while (p < last) {
        nl = memchr(p, '\n', last - p);
        if (nl == NULL) {
            nl = last;
        }

        len = nl - p;
        if (len && p[len - 1] == '\r') {
            len--;
        }

        v = memchr(p, ':', len);
        nlen = v ? (size_t) (v - p) : len;

        if (v) {
            v++;
            if (v < p + len && *v == ' ') {
                v++;
            }

        } else {
            v = p + len;
        }

        if (nlen == 5 && memcmp(p, "event", 5) == 0) {
            snprintf(name, sizeof(name), "%.*s", (int) (p + len - v), v);

        } else if (nlen == 4 && memcmp(p, "data", 4) == 0) {
            if (ndata++ == 0) {
                d = v;
                dlast = p + len;

            } else {
                /* several data lines are one value joined by LF */
                if (ndata == 2) {
                    rc |= ngx_http_llm_xlate_buf_append(&joined, d,
                                                        dlast - d);
                }

                rc |= ngx_http_llm_xlate_buf_append(&joined, "\n", 1);
                rc |= ngx_http_llm_xlate_buf_append(&joined, v, p + len - v);
            }
        }

        p = nl + 1;
    }

    if (rc != NGX_HTTP_LLM_XLATE_OK) {
        ngx_http_llm_xlate_buf_free(&joined);
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    if (ndata > 1) {
        d = joined.data;
        dlast = joined.data + joined.len;
    }

    if (ndata == 0) {
        /* comments and keep-alives carry nothing to translate */
        return NGX_HTTP_LLM_XLATE_OK;
    }

    if (dlast - d == 6 && memcmp(d, "[DONE]", 6) == 0) {
        ngx_http_llm_xlate_buf_free(&joined);
        pair = ngx_http_llm_xlate_pair(s->to, s->from);
        return pair->event(s, "[DONE]", NULL, out);
    }

    data = cJSON_ParseWithLength((const char *) d, dlast - d);
    ngx_http_llm_xlate_buf_free(&joined);

    if (!cJSON_IsObject(data)) {
        /* not an event of the provider's API: nothing a client can use */
        cJSON_Delete(data);
        return NGX_HTTP_LLM_XLATE_OK;
    }

    if (cJSON_GetObjectItemCaseSensitive(data, "error")) {
        /* the provider's error event, in the client's shape */
        s->failed = 1;
        rc = ngx_http_llm_xlate_error_json(s->to, 500, data, out, 1);
        cJSON_Delete(data);
        return rc;
    }

    pair = ngx_http_llm_xlate_pair(s->to, s->from);
    rc = pair->event(s, name[0] ? name : NULL, data, out);
    cJSON_Delete(data);

    if (rc != NGX_HTTP_LLM_XLATE_OK) {
        /* out of memory: the stream cannot go on consistently */
        s->failed = 1;
    }

    return rc;
}


int
ngx_http_llm_xlate_sse_end(ngx_http_llm_xlate_sse_t *s,
    ngx_http_llm_xlate_buf_t *out)
{
    if (s->done || s->failed) {
        return s->done ? NGX_HTTP_LLM_XLATE_OK : NGX_HTTP_LLM_XLATE_BAD;
    }

    if (ngx_http_llm_xlate_sse_error(s, NULL,
                                     "the provider's stream was cut", out)
        != NGX_HTTP_LLM_XLATE_OK)
    {
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    return NGX_HTTP_LLM_XLATE_BAD;
}


static int
ngx_http_llm_xlate_sse_error(ngx_http_llm_xlate_sse_t *s, const char *type,
    const char *message, ngx_http_llm_xlate_buf_t *out)
{
    int  rc;

    s->failed = 1;

    if (s->to == NGX_HTTP_LLM_XLATE_MESSAGES) {
        rc = ngx_http_llm_xlate_buf_append(out, "event: error\ndata: ", 19);

    } else {
        rc = ngx_http_llm_xlate_buf_append(out, "data: ", 6);
    }

    rc |= ngx_http_llm_xlate_error_write(s->to, 502, type, message, NULL, out);
    rc |= ngx_http_llm_xlate_buf_append(out, "\n\n", 2);

    return rc ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
}


void
ngx_http_llm_xlate_sse_free(ngx_http_llm_xlate_sse_t *s)
{
    free(s->carry);
    s->carry = NULL;
    s->carry_len = 0;
    s->carry_size = 0;
}
