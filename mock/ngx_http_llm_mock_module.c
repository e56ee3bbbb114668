
/*
 * ngx_http_llm_mock_module
 *
 * An offline mock LLM provider used by the tests, the demo and the
 * benchmark of ngx_http_llm_router_module.  It imitates each provider's
 * API strictly (only the endpoints that provider serves, its own error
 * replies), from the tables of ngx_http_llm_mock_<api>.c; how to add an
 * API is told at the top of ngx_http_llm_mock.h.
 *
 * The request body is only scanned (no JSON parser), and every response is
 * built into exactly sized pool buffers, so the mock stays cheap enough to
 * be driven at high request rates.
 *
 * This file: the llm_mock directive, its configuration, the API table.
 */


#include "ngx_http_llm_mock.h"


#define ngx_http_llm_mock_is_space(c)                                         \
    ((c) == ' ' || (c) == '\t' || (c) == '\r' || (c) == '\n')


static void *ngx_http_llm_mock_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_llm_mock_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_llm_mock_init_content(ngx_conf_t *cf,
    ngx_http_llm_mock_loc_conf_t *mlcf);
static ngx_int_t ngx_http_llm_mock_escape(ngx_conf_t *cf, ngx_str_t *dst,
    u_char *src, u_char *end);
static char *ngx_http_llm_mock(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_llm_mock_invalid(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_str_t *value, char *reason);


/* api=auto tries the endpoints of these APIs, in this order */

ngx_http_llm_mock_api_t  *ngx_http_llm_mock_apis[] = {
    &ngx_http_llm_mock_openai,
    &ngx_http_llm_mock_anthropic,
    &ngx_http_llm_mock_gemini,
    &ngx_http_llm_mock_azure,       /* its paths end as OpenAI's: api=azure */
    &ngx_http_llm_mock_chat,       /* never reached by auto: openai's ones */
    NULL
};


static ngx_command_t  ngx_http_llm_mock_commands[] = {

    { ngx_string("llm_mock"),
      NGX_HTTP_LOC_CONF|NGX_CONF_ANY,
      ngx_http_llm_mock,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_llm_mock_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_llm_mock_create_loc_conf,     /* create location configuration */
    ngx_http_llm_mock_merge_loc_conf       /* merge location configuration */
};


ngx_module_t  ngx_http_llm_mock_module = {
    NGX_MODULE_V1,
    &ngx_http_llm_mock_module_ctx,         /* module context */
    ngx_http_llm_mock_commands,            /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/* configuration */

static void *
ngx_http_llm_mock_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_llm_mock_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_llm_mock_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->enabled = 0;
     *     conf->retry_after = { 0, NULL };
     *     conf->content = { 0, NULL };
     *     conf->text = { 0, NULL };
     *     conf->chunks = NULL;
     *     conf->nchunks = 0;
     *     conf->words = 0;
     */

    conf->api = NGX_CONF_UNSET_PTR;
    conf->status = NGX_CONF_UNSET_UINT;
    conf->delay = NGX_CONF_UNSET_MSEC;
    conf->interval = NGX_CONF_UNSET_MSEC;
    conf->cut = NGX_CONF_UNSET;
    conf->echo = NGX_CONF_UNSET_UINT;
    conf->prompt_tokens = NGX_CONF_UNSET;
    conf->completion_tokens = NGX_CONF_UNSET;
    conf->usage = NGX_CONF_UNSET;

    return conf;
}


static char *
ngx_http_llm_mock_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_llm_mock_loc_conf_t *prev = parent;
    ngx_http_llm_mock_loc_conf_t *conf = child;

    ngx_conf_merge_ptr_value(conf->api, prev->api, NULL);
    ngx_conf_merge_uint_value(conf->status, prev->status, NGX_HTTP_OK);
    ngx_conf_merge_msec_value(conf->delay, prev->delay, 0);
    ngx_conf_merge_msec_value(conf->interval, prev->interval, 0);
    ngx_conf_merge_value(conf->cut, prev->cut, -1);
    ngx_conf_merge_uint_value(conf->echo, prev->echo,
                              NGX_HTTP_LLM_MOCK_ECHO_OFF);
    ngx_conf_merge_str_value(conf->retry_after, prev->retry_after, "");
    ngx_conf_merge_value(conf->prompt_tokens, prev->prompt_tokens, -1);
    ngx_conf_merge_value(conf->completion_tokens, prev->completion_tokens,
                         -1);
    ngx_conf_merge_value(conf->usage, prev->usage, 1);

    if (conf->content.data == NULL && prev->text.data) {
        conf->content = prev->content;
        conf->text = prev->text;
        conf->chunks = prev->chunks;
        conf->nchunks = prev->nchunks;
        conf->words = prev->words;

        return NGX_CONF_OK;
    }

    ngx_conf_merge_str_value(conf->content, prev->content,
                             NGX_HTTP_LLM_MOCK_DEFAULT_CONTENT);

    if (ngx_http_llm_mock_init_content(cf, conf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * Precomputes the JSON-escaped content and its stream pieces: every piece
 * is a word with the white space that follows it (the first one also gets
 * any leading white space), so the pieces concatenate to the content.
 */

static ngx_int_t
ngx_http_llm_mock_init_content(ngx_conf_t *cf,
    ngx_http_llm_mock_loc_conf_t *mlcf)
{
    u_char      *p, *end, *start;
    ngx_uint_t   words, space;

    p = mlcf->content.data;
    end = p + mlcf->content.len;

    if (ngx_http_llm_mock_escape(cf, &mlcf->text, p, end) != NGX_OK) {
        return NGX_ERROR;
    }

    /* count words */

    words = 0;
    space = 1;

    for ( /* void */ ; p < end; p++) {
        if (ngx_http_llm_mock_is_space(*p)) {
            space = 1;

        } else {
            words += space;
            space = 0;
        }
    }

    mlcf->words = words;
    mlcf->nchunks = 0;

    if (mlcf->content.len == 0) {
        return NGX_OK;
    }

    mlcf->chunks = ngx_palloc(cf->pool, ngx_max(words, 1) * sizeof(ngx_str_t));
    if (mlcf->chunks == NULL) {
        return NGX_ERROR;
    }

    /* a new piece starts at every word but the first one */

    start = mlcf->content.data;
    space = 1;
    words = 0;

    for (p = start; p < end; p++) {

        if (ngx_http_llm_mock_is_space(*p)) {
            space = 1;
            continue;
        }

        if (space && words++ > 0) {
            if (ngx_http_llm_mock_escape(cf, &mlcf->chunks[mlcf->nchunks++],
                                         start, p)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            start = p;
        }

        space = 0;
    }

    return ngx_http_llm_mock_escape(cf, &mlcf->chunks[mlcf->nchunks++],
                                    start, end);
}


static ngx_int_t
ngx_http_llm_mock_escape(ngx_conf_t *cf, ngx_str_t *dst, u_char *src,
    u_char *end)
{
    size_t  len;

    len = (end - src) + ngx_escape_json(NULL, src, end - src);

    dst->data = ngx_pnalloc(cf->pool, len + 1);
    if (dst->data == NULL) {
        return NGX_ERROR;
    }

    dst->len = (u_char *) ngx_escape_json(dst->data, src, end - src)
               - dst->data;

    return NGX_OK;
}


static char *
ngx_http_llm_mock(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_llm_mock_loc_conf_t *mlcf = conf;

    u_char                     *p;
    ngx_int_t                   n;
    ngx_str_t                  *value, s;
    ngx_uint_t                  i;
    ngx_http_llm_mock_api_t   **api;
    ngx_http_core_loc_conf_t   *clcf;

    if (mlcf->enabled) {
        return "is duplicate";
    }

    mlcf->enabled = 1;

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "api=", 4) == 0) {
            s.data = value[i].data + 4;
            s.len = value[i].len - 4;

            if (s.len == 4 && ngx_strncmp(s.data, "auto", 4) == 0) {
                mlcf->api = NULL;
                continue;
            }

            for (api = ngx_http_llm_mock_apis; *api; api++) {
                if (s.len == (*api)->name.len
                    && ngx_strncmp(s.data, (*api)->name.data, s.len) == 0)
                {
                    break;
                }
            }

            if (*api == NULL) {
                return ngx_http_llm_mock_invalid(cf, cmd, &value[i],
                                  "it must be \"auto\" or the name of "
                                  "an API, such as \"openai\" or "
                                  "\"anthropic\"");
            }

            mlcf->api = *api;
            continue;
        }

        if (ngx_strncmp(value[i].data, "status=", 7) == 0) {
            n = ngx_atoi(value[i].data + 7, value[i].len - 7);

            if (n < 200 || n > 599) {
                return ngx_http_llm_mock_invalid(cf, cmd, &value[i],
                                  "it must be a status code "
                                  "from 200 to 599");
            }

            mlcf->status = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "delay=", 6) == 0
            || ngx_strncmp(value[i].data, "interval=", 9) == 0)
        {
            p = (u_char *) ngx_strchr(value[i].data, '=') + 1;

            s.data = p;
            s.len = value[i].data + value[i].len - p;

            n = ngx_parse_time(&s, 0);

            if (n == NGX_ERROR || s.len == 0) {
                return ngx_http_llm_mock_invalid(cf, cmd, &value[i],
                                  "it must be a time, e.g. \"500ms\" "
                                  "or \"2s\"");
            }

            if (value[i].data[0] == 'd') {
                mlcf->delay = (ngx_msec_t) n;

            } else {
                mlcf->interval = (ngx_msec_t) n;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "cut=", 4) == 0) {
            n = ngx_atoi(value[i].data + 4, value[i].len - 4);

            if (n == NGX_ERROR) {
                return ngx_http_llm_mock_invalid(cf, cmd, &value[i],
                                  "it must be a number of events");
            }

            mlcf->cut = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "echo=", 5) == 0) {
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;

            if (s.len == 4 && ngx_strncmp(s.data, "body", 4) == 0) {
                mlcf->echo = NGX_HTTP_LLM_MOCK_ECHO_BODY;

            } else if (s.len == 7 && ngx_strncmp(s.data, "headers", 7) == 0) {
                mlcf->echo = NGX_HTTP_LLM_MOCK_ECHO_HEADERS;

            } else {
                return ngx_http_llm_mock_invalid(cf, cmd, &value[i],
                                  "it must be \"body\" or \"headers\"");
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "retry_after=", 12) == 0) {
            s.data = value[i].data + 12;
            s.len = value[i].len - 12;

            if (ngx_atoi(s.data, s.len) == NGX_ERROR) {
                return ngx_http_llm_mock_invalid(cf, cmd, &value[i],
                                  "it must be a number of seconds");
            }

            mlcf->retry_after = s;
            continue;
        }

        if (ngx_strncmp(value[i].data, "content=", 8) == 0) {
            s.data = value[i].data + 8;
            s.len = value[i].len - 8;

            /* content="word" arrives with the quotes */

            if (s.len >= 2
                && (s.data[0] == '"' || s.data[0] == '\'')
                && s.data[s.len - 1] == s.data[0])
            {
                s.data++;
                s.len -= 2;
            }

            mlcf->content = s;
            continue;
        }

        if (ngx_strncmp(value[i].data, "prompt_tokens=", 14) == 0) {
            n = ngx_atoi(value[i].data + 14, value[i].len - 14);

            if (n == NGX_ERROR) {
                return ngx_http_llm_mock_invalid(cf, cmd, &value[i],
                                  "it must be a number of tokens");
            }

            mlcf->prompt_tokens = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "completion_tokens=", 18) == 0) {
            n = ngx_atoi(value[i].data + 18, value[i].len - 18);

            if (n == NGX_ERROR) {
                return ngx_http_llm_mock_invalid(cf, cmd, &value[i],
                                  "it must be a number of tokens");
            }

            mlcf->completion_tokens = n;
            continue;
        }

        if (ngx_strcmp(value[i].data, "no_usage") == 0) {
            mlcf->usage = 0;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\" in \"%V\" directive",
                           &value[i], &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (mlcf->echo != NGX_CONF_UNSET_UINT
        && mlcf->echo != NGX_HTTP_LLM_MOCK_ECHO_OFF
        && mlcf->status != NGX_CONF_UNSET_UINT
        && mlcf->status != NGX_HTTP_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"echo\" and \"status\" parameters "
                           "of \"%V\" directive are mutually exclusive",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_llm_mock_handler;

    return NGX_CONF_OK;
}


static char *
ngx_http_llm_mock_invalid(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_str_t *value, char *reason)
{
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in \"%V\" directive, %s",
                       value, &cmd->name, reason);

    return NGX_CONF_ERROR;
}
