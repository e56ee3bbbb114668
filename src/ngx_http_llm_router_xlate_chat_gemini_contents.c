
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * A Gemini provider: the chat request's messages -> contents and
 * systemInstruction (the rest of the request is in _chat_gemini.c).
 *
 * References: https://ai.google.dev/api/caching#Content (Content, Part,
 * Blob, FileData, FunctionCall, FunctionResponse),
 * https://ai.google.dev/gemini-api/docs/thought-signatures
 * https://platform.openai.com/docs/api-reference/chat/create
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ngx_http_llm_router_xlate.h"


static int cg_text(ngx_http_llm_xlate_req_t *x, cJSON *content,
    cJSON *parts, const char *param);
static int cg_user(ngx_http_llm_xlate_req_t *x, cJSON *content,
    cJSON *parts, int i);
static int cg_media(ngx_http_llm_xlate_req_t *x, const char *url,
    cJSON *parts, const char *param);
static int cg_gemini3(const char *model);
static int cg_assistant(ngx_http_llm_xlate_req_t *x, cJSON *m, cJSON *parts,
    int i);
static int cg_tool_result(ngx_http_llm_xlate_req_t *x, cJSON *v, int i,
    cJSON *parts);
static void cg_append(ngx_http_llm_xlate_req_t *x, cJSON *contents,
    const char *role, cJSON *parts);


/* image URLs name no media type; Gemini's fileData wants one */
static const struct {
    const char  *ext;
    const char  *type;
} cg_media_types[] = {
    { ".png", "image/png" },
    { ".jpg", "image/jpeg" },
    { ".jpeg", "image/jpeg" },
    { ".webp", "image/webp" },
    { ".gif", "image/gif" },
    { ".heic", "image/heic" },
    { ".heif", "image/heif" },
    { ".pdf", "application/pdf" },
    { NULL, NULL }
};


int
ngx_http_llm_xlate_cg_messages(ngx_http_llm_xlate_req_t *x, cJSON *v)
{
    int          i, rc;
    char         param[64];
    cJSON       *m, *contents, *system, *parts;
    const char  *role, *r;

    if (!cJSON_IsArray(v)) {
        return ngx_http_llm_xlate_refuse(x, "messages",
                                         "'messages' must be an array");
    }

    contents = ngx_http_llm_xlate_add(x, x->dst, "contents",
                                      cJSON_CreateArray());
    system = NULL;
    i = 0;

    for (m = v->child; m; m = m->next, i++) {
        role = ngx_http_llm_xlate_str(m, "role");
        snprintf(param, sizeof(param), "messages[%d].content", i);

        if (role == NULL) {
            snprintf(param, sizeof(param), "messages[%d].role", i);
            return ngx_http_llm_xlate_refuse(x, param,
                                             "'%s' must be a string", param);
        }

        if (cJSON_GetObjectItemCaseSensitive(m, "name")) {
            ngx_http_llm_xlate_drop(x, "name");
        }

        parts = cJSON_CreateArray();
        if (parts == NULL) {
            return NGX_HTTP_LLM_XLATE_NOMEM;
        }

        if (strcmp(role, "system") == 0 || strcmp(role, "developer") == 0) {
            if (system == NULL) {
                system = ngx_http_llm_xlate_add(x, x->dst,
                                                "systemInstruction",
                                                cJSON_CreateObject());
                ngx_http_llm_xlate_add(x, system, "parts",
                                       cJSON_CreateArray());
            }

            rc = cg_text(x, cJSON_GetObjectItemCaseSensitive(m, "content"),
                         cJSON_GetObjectItemCaseSensitive(system, "parts"),
                         param);
            cJSON_Delete(parts);

            if (rc != NGX_HTTP_LLM_XLATE_OK || x->res->status) {
                return rc;
            }

            continue;
        }

        if (strcmp(role, "user") == 0) {
            rc = cg_user(x, cJSON_GetObjectItemCaseSensitive(m, "content"),
                         parts, i);
            r = "user";

        } else if (strcmp(role, "assistant") == 0) {
            rc = cg_assistant(x, m, parts, i);
            r = "model";

        } else if (strcmp(role, "tool") == 0) {
            rc = cg_tool_result(x, v, i, parts);
            r = "user";

        } else {
            cJSON_Delete(parts);
            snprintf(param, sizeof(param), "messages[%d].role", i);
            return ngx_http_llm_xlate_refuse(x, param,
                       "role '%.32s' has no equivalent at Gemini", role);
        }

        if (rc != NGX_HTTP_LLM_XLATE_OK || x->res->status) {
            cJSON_Delete(parts);
            return rc;
        }

        if (parts->child == NULL) {
            /* Gemini refuses a content without parts; nothing is lost */
            cJSON_Delete(parts);
            continue;
        }

        cg_append(x, contents, r, parts);
    }

    return x->oom ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
}


/* consecutive turns of one role become one (function responses, mostly) */

static void
cg_append(ngx_http_llm_xlate_req_t *x, cJSON *contents, const char *role,
    cJSON *parts)
{
    cJSON       *last, *p, *b;
    const char  *r;

    last = contents ? cJSON_GetArrayItem(contents,
                                         cJSON_GetArraySize(contents) - 1)
                    : NULL;
    r = last ? ngx_http_llm_xlate_str(last, "role") : NULL;

    if (r && strcmp(r, role) == 0) {
        p = cJSON_GetObjectItemCaseSensitive(last, "parts");

        while ((b = parts->child) != NULL) {
            ngx_http_llm_xlate_add(x, p, NULL,
                                   cJSON_DetachItemViaPointer(parts, b));
        }

        cJSON_Delete(parts);
        return;
    }

    last = ngx_http_llm_xlate_add(x, contents, NULL, cJSON_CreateObject());
    ngx_http_llm_xlate_add_str(x, last, "role", role);
    ngx_http_llm_xlate_add(x, last, "parts", parts);
}


static void
cg_text_part(ngx_http_llm_xlate_req_t *x, cJSON *parts, const char *text)
{
    cJSON  *p;

    if (text[0]) {
        p = ngx_http_llm_xlate_add(x, parts, NULL, cJSON_CreateObject());
        ngx_http_llm_xlate_add_str(x, p, "text", text);
    }
}


/* a string or text parts, as text parts */

static int
cg_text(ngx_http_llm_xlate_req_t *x, cJSON *content, cJSON *parts,
    const char *param)
{
    int          i;
    char         p[64];
    cJSON       *part;
    const char  *type, *text;

    if (cJSON_IsString(content)) {
        cg_text_part(x, parts, content->valuestring);
        return NGX_HTTP_LLM_XLATE_OK;
    }

    if (content == NULL || cJSON_IsNull(content)) {
        return NGX_HTTP_LLM_XLATE_OK;
    }

    if (!cJSON_IsArray(content)) {
        return ngx_http_llm_xlate_refuse(x, param,
                   "'%s' must be a string or an array", param);
    }

    i = 0;

    for (part = content->child; part; part = part->next, i++) {
        type = ngx_http_llm_xlate_str(part, "type");
        text = ngx_http_llm_xlate_str(part, "text");

        if (type == NULL
            || (strcmp(type, "text") && strcmp(type, "refusal"))
            || (text == NULL
                && (text = ngx_http_llm_xlate_str(part, "refusal")) == NULL))
        {
            snprintf(p, sizeof(p), "%.40s[%d]", param, i);
            return ngx_http_llm_xlate_refuse(x, p,
                       "'%s' must be a text part here", p);
        }

        cg_text_part(x, parts, text);
    }

    return NGX_HTTP_LLM_XLATE_OK;
}


static int
cg_user(ngx_http_llm_xlate_req_t *x, cJSON *content, cJSON *parts, int i)
{
    int          j, rc;
    char         param[64];
    cJSON       *part, *o, *p;
    const char  *type, *url, *fmt;

    snprintf(param, sizeof(param), "messages[%d].content", i);

    if (!cJSON_IsArray(content)) {
        return cg_text(x, content, parts, param);
    }

    j = 0;

    for (part = content->child; part; part = part->next, j++) {
        type = ngx_http_llm_xlate_str(part, "type");
        snprintf(param, sizeof(param), "messages[%d].content[%d]", i, j);
        rc = NGX_HTTP_LLM_XLATE_OK;

        if (type && strcmp(type, "text") == 0
            && ngx_http_llm_xlate_str(part, "text"))
        {
            cg_text_part(x, parts, ngx_http_llm_xlate_str(part, "text"));

        } else if (type && strcmp(type, "image_url") == 0) {
            o = cJSON_GetObjectItemCaseSensitive(part, "image_url");
            url = cJSON_IsString(o) ? o->valuestring
                                    : ngx_http_llm_xlate_str(o, "url");

            if (cJSON_GetObjectItemCaseSensitive(o, "detail")) {
                ngx_http_llm_xlate_drop(x, "detail");
            }

            rc = cg_media(x, url, parts, param);

        } else if (type && strcmp(type, "file") == 0) {
            o = cJSON_GetObjectItemCaseSensitive(part, "file");
            url = ngx_http_llm_xlate_str(o, "file_data");

            /* a file_id names OpenAI's storage: nothing Gemini can read */
            if (url == NULL || strncmp(url, "data:", 5) != 0) {
                return ngx_http_llm_xlate_refuse(x, param,
                           "'%s' must carry file_data as a base64 data URL",
                           param);
            }

            rc = cg_media(x, url, parts, param);

        } else if (type && strcmp(type, "input_audio") == 0) {
            o = cJSON_GetObjectItemCaseSensitive(part, "input_audio");
            url = ngx_http_llm_xlate_str(o, "data");
            fmt = ngx_http_llm_xlate_str(o, "format");

            if (url == NULL || fmt == NULL
                || (strcmp(fmt, "wav") && strcmp(fmt, "mp3")))
            {
                return ngx_http_llm_xlate_refuse(x, param,
                           "'%s' needs base64 data in wav or mp3", param);
            }

            p = ngx_http_llm_xlate_add(x, parts, NULL, cJSON_CreateObject());
            o = ngx_http_llm_xlate_add(x, p, "inlineData",
                                       cJSON_CreateObject());
            ngx_http_llm_xlate_add_str(x, o, "mimeType",
                                       fmt[0] == 'w' ? "audio/wav"
                                                     : "audio/mp3");
            ngx_http_llm_xlate_add_str(x, o, "data", url);

        } else {
            return ngx_http_llm_xlate_refuse(x, param,
                       "'%s' of type '%.32s' has no equivalent at Gemini",
                       param, type ? type : "?");
        }

        if (rc != NGX_HTTP_LLM_XLATE_OK || x->res->status) {
            return rc;
        }
    }

    return NGX_HTTP_LLM_XLATE_OK;
}


/*
 * "data:MEDIA;base64,DATA" -> inlineData; any other URL -> fileData
 * (Files API URIs, and URLs Gemini fetches itself), with the media type
 * its extension gives.
 */

static int
cg_media(ngx_http_llm_xlate_req_t *x, const char *url, cJSON *parts,
    const char *param)
{
    int          i;
    char         media[128];
    size_t       len, n;
    cJSON       *p, *o;
    const char  *semi, *end;

    if (url == NULL || url[0] == '\0') {
        return ngx_http_llm_xlate_refuse(x, param, "'%s' has no URL", param);
    }

    p = ngx_http_llm_xlate_add(x, parts, NULL, cJSON_CreateObject());

    if (strncmp(url, "data:", 5) == 0) {
        semi = strstr(url, ";base64,");

        if (semi == NULL || semi - url - 5 >= (long) sizeof(media)
            || semi == url + 5)
        {
            return ngx_http_llm_xlate_refuse(x, param,
                       "'%s' is a data URL without a media type and base64",
                       param);
        }

        snprintf(media, sizeof(media), "%.*s", (int) (semi - url - 5),
                 url + 5);

        o = ngx_http_llm_xlate_add(x, p, "inlineData", cJSON_CreateObject());
        ngx_http_llm_xlate_add_str(x, o, "mimeType", media);
        ngx_http_llm_xlate_add_str(x, o, "data", semi + 8);

        return NGX_HTTP_LLM_XLATE_OK;
    }

    if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0
        && strncmp(url, "gs://", 5) != 0)
    {
        return ngx_http_llm_xlate_refuse(x, param,
                   "'%s' must be a data URL or an http(s) URL", param);
    }

    o = ngx_http_llm_xlate_add(x, p, "fileData", cJSON_CreateObject());

    end = strpbrk(url, "?#");
    len = end ? (size_t) (end - url) : strlen(url);

    for (i = 0; cg_media_types[i].ext; i++) {
        n = strlen(cg_media_types[i].ext);

        if (len > n && strncasecmp(url + len - n, cg_media_types[i].ext, n)
                       == 0)
        {
            ngx_http_llm_xlate_add_str(x, o, "mimeType",
                                       cg_media_types[i].type);
            break;
        }
    }

    ngx_http_llm_xlate_add_str(x, o, "fileUri", url);

    return NGX_HTTP_LLM_XLATE_OK;
}


static int
cg_gemini3(const char *model)
{
    if (model == NULL) {
        return 0;
    }

    if (strncmp(model, "models/", 7) == 0) {
        model += 7;
    }

    return strncmp(model, "gemini-3", 8) == 0
           && (model[8] == '-' || model[8] == '.');
}


static int
cg_assistant(ngx_http_llm_xlate_req_t *x, cJSON *m, cJSON *parts, int i)
{
    int          j, rc;
    char         param[80];
    cJSON       *calls, *call, *fn, *p, *fc, *args;
    const char  *name, *a;

    snprintf(param, sizeof(param), "messages[%d].content", i);

    rc = cg_text(x, cJSON_GetObjectItemCaseSensitive(m, "content"), parts,
                 param);
    if (rc != NGX_HTTP_LLM_XLATE_OK || x->res->status) {
        return rc;
    }

    calls = cJSON_GetObjectItemCaseSensitive(m, "tool_calls");
    j = 0;

    for (call = cJSON_IsArray(calls) ? calls->child : NULL;
         call;
         call = call->next, j++)
    {
        fn = cJSON_GetObjectItemCaseSensitive(call, "function");
        name = ngx_http_llm_xlate_str(fn, "name");
        a = ngx_http_llm_xlate_str(fn, "arguments");

        if (name == NULL) {
            snprintf(param, sizeof(param),
                     "messages[%d].tool_calls[%d].function.name", i, j);
            return ngx_http_llm_xlate_refuse(x, param,
                                             "'%s' must be a string", param);
        }

        args = (a && a[0]) ? cJSON_Parse(a) : cJSON_CreateObject();

        if (!cJSON_IsObject(args)) {
            cJSON_Delete(args);
            snprintf(param, sizeof(param),
                     "messages[%d].tool_calls[%d].function.arguments", i, j);
            return ngx_http_llm_xlate_refuse(x, param,
                       "'%s' must be a JSON object", param);
        }

        /* Gemini's own call ids are not sent back: ours are made up */
        p = ngx_http_llm_xlate_add(x, parts, NULL, cJSON_CreateObject());
        fc = ngx_http_llm_xlate_add(x, p, "functionCall", cJSON_CreateObject());
        ngx_http_llm_xlate_add_str(x, fc, "name", name);
        ngx_http_llm_xlate_add(x, fc, "args", args);

        if (cg_gemini3(x->conf->model)) {
            /*
             * Gemini 3 refuses a call in the history without the
             * thoughtSignature it came with, which no chat client keeps;
             * Google documents this value for such histories
             * (https://ai.google.dev/gemini-api/docs/thought-signatures)
             */
            ngx_http_llm_xlate_add_str(x, p, "thoughtSignature",
                                       "skip_thought_signature_validator");
        }
    }

    return NGX_HTTP_LLM_XLATE_OK;
}


/*
 * A "tool" message: Gemini answers a call by its function's name, which
 * the client does not repeat: the most recent assistant turn before it
 * that made a call of this id has it.
 */

static int
cg_tool_result(ngx_http_llm_xlate_req_t *x, cJSON *v, int i, cJSON *parts)
{
    int                        k, rc;
    char                       param[64];
    cJSON                     *m, *call, *p, *fr, *resp;
    const char                *id, *cid, *name;
    ngx_http_llm_xlate_buf_t   text;

    m = cJSON_GetArrayItem(v, i);
    id = ngx_http_llm_xlate_str(m, "tool_call_id");

    snprintf(param, sizeof(param), "messages[%d].tool_call_id", i);

    if (id == NULL) {
        return ngx_http_llm_xlate_refuse(x, param,
                                         "'%s' must be a string", param);
    }

    name = NULL;

    for (k = i - 1; k >= 0 && name == NULL; k--) {
        call = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(v, k),
                                                "tool_calls");

        for (call = cJSON_IsArray(call) ? call->child : NULL;
             call;
             call = call->next)
        {
            cid = ngx_http_llm_xlate_str(call, "id");

            if (cid && strcmp(cid, id) == 0) {
                name = ngx_http_llm_xlate_str(
                    cJSON_GetObjectItemCaseSensitive(call, "function"),
                    "name");
                break;
            }
        }
    }

    if (name == NULL) {
        return ngx_http_llm_xlate_refuse(x, param,
                   "'%s' names no earlier tool call (Gemini answers a "
                   "call by its function's name)", param);
    }

    memset(&text, 0, sizeof(ngx_http_llm_xlate_buf_t));

    snprintf(param, sizeof(param), "messages[%d].content", i);

    resp = cJSON_CreateArray();
    if (resp == NULL) {
        return NGX_HTTP_LLM_XLATE_NOMEM;
    }

    rc = cg_text(x, cJSON_GetObjectItemCaseSensitive(m, "content"), resp,
                 param);

    for (p = resp->child; p && rc == NGX_HTTP_LLM_XLATE_OK; p = p->next) {
        rc = ngx_http_llm_xlate_buf_append(&text,
                                           ngx_http_llm_xlate_str(p, "text"),
                                           strlen(ngx_http_llm_xlate_str(
                                               p, "text")));
    }

    cJSON_Delete(resp);
    rc |= ngx_http_llm_xlate_buf_append(&text, "", 1);

    if (rc != NGX_HTTP_LLM_XLATE_OK || x->res->status) {
        ngx_http_llm_xlate_buf_free(&text);
        return rc ? NGX_HTTP_LLM_XLATE_NOMEM : NGX_HTTP_LLM_XLATE_OK;
    }

    /* an object: the text under "output", as Google suggests */
    p = ngx_http_llm_xlate_add(x, parts, NULL, cJSON_CreateObject());
    fr = ngx_http_llm_xlate_add(x, p, "functionResponse", cJSON_CreateObject());
    ngx_http_llm_xlate_add_str(x, fr, "name", name);
    resp = ngx_http_llm_xlate_add(x, fr, "response", cJSON_CreateObject());
    ngx_http_llm_xlate_add_str(x, resp, "output", (char *) text.data);

    ngx_http_llm_xlate_buf_free(&text);

    return NGX_HTTP_LLM_XLATE_OK;
}
