
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * llm_route / llm_route_weighted: which providers serve which model, and
 * in what order they are tried.
 */


#include "ngx_http_llm_router.h"


static char *ngx_http_llm_route_block(ngx_conf_t *cf, ngx_command_t *dummy,
    void *conf);
static ngx_int_t ngx_http_llm_target_parse(ngx_conf_t *cf,
    ngx_http_llm_route_t *route, ngx_str_t *value);
static ngx_http_llm_target_t *ngx_http_llm_route_pick_weighted(
    ngx_http_llm_route_t *route);


/*
 * llm_route name|~regex|default target... [parameters] or a block.  Over
 * 150 lines: one flat list of parameters, each checked where it is read.
 */

char *
ngx_http_llm_route_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_llm_loc_conf_t *lcf = conf;

    char                  *rv;
    u_char                 errstr[NGX_MAX_CONF_ERRSTR];
    ngx_str_t             *value, name;
    ngx_uint_t             i;
    ngx_conf_t             save;
    ngx_http_llm_route_t  *route, *r;
    ngx_regex_compile_t    rc;

    value = cf->args->elts;
    name = value[1];

    if (lcf->routes == NULL) {
        lcf->routes = ngx_pcalloc(cf->pool, sizeof(ngx_http_llm_routes_t));
        if (lcf->routes == NULL) {
            return NGX_CONF_ERROR;
        }

        if (ngx_array_init(&lcf->routes->exact, cf->pool, 4,
                           sizeof(ngx_http_llm_route_t))
            != NGX_OK
            || ngx_array_init(&lcf->routes->regex, cf->pool, 2,
                              sizeof(ngx_http_llm_route_t))
               != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    if (name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "empty model in \"%V\"",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (name.len == 7 && ngx_strncmp(name.data, "default", 7) == 0) {

        if (lcf->routes->dflt) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate default route");
            return NGX_CONF_ERROR;
        }

        route = ngx_pcalloc(cf->pool, sizeof(ngx_http_llm_route_t));
        lcf->routes->dflt = route;

    } else if (name.data[0] == '~') {
        route = ngx_array_push(&lcf->routes->regex);

    } else {
        if (name.data[0] == '\\') {
            name.data++;
            name.len--;
        }

        r = lcf->routes->exact.elts;

        for (i = 0; i < lcf->routes->exact.nelts; i++) {
            if (r[i].name.len == name.len
                && ngx_strncmp(r[i].name.data, name.data, name.len) == 0)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "duplicate route \"%V\"", &name);
                return NGX_CONF_ERROR;
            }
        }

        route = ngx_array_push(&lcf->routes->exact);
    }

    if (route == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(route, sizeof(ngx_http_llm_route_t));

    route->name = name;

    if (ngx_http_llm_label_make(cf->pool, &name, &route->label) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    route->file_name = cf->conf_file->file.name.data;
    route->line = cf->conf_file->line;

    if (ngx_array_init(&route->targets, cf->pool, 4,
                       sizeof(ngx_http_llm_target_t))
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (name.data[0] == '~') {
        ngx_memzero(&rc, sizeof(ngx_regex_compile_t));

        rc.pattern.data = name.data + 1;
        rc.pattern.len = name.len - 1;
        rc.err.len = NGX_MAX_CONF_ERRSTR;
        rc.err.data = errstr;

        if (rc.pattern.len && rc.pattern.data[0] == '*') {
            rc.pattern.data++;
            rc.pattern.len--;
            rc.options = NGX_REGEX_CASELESS;
        }

        if (rc.pattern.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "empty regex in route \"%V\"", &name);
            return NGX_CONF_ERROR;
        }

        route->regex = ngx_http_regex_compile(cf, &rc);
        if (route->regex == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    if (cmd->type & NGX_CONF_BLOCK) {
        route->weighted = 1;

        for (i = 2; i < cf->args->nelts; i++) {
            if (ngx_http_llm_select_param(cf, route, &value[i]) != NGX_OK) {
                return NGX_CONF_ERROR;
            }
        }

        save = *cf;
        cf->handler = ngx_http_llm_route_block;
        cf->handler_conf = (char *) route;

        rv = ngx_conf_parse(cf, NULL);

        *cf = save;

        if (rv != NGX_CONF_OK) {
            return rv;
        }

        if (route->targets.nelts == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "no target in route \"%V\"", &name);
            return NGX_CONF_ERROR;
        }

        if (route->nprimary == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "route \"%V\" has only backup targets", &name);
            return NGX_CONF_ERROR;
        }

        if (route->hash && route->select != NGX_HTTP_LLM_SELECT_HASH) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"hash=\" needs \"select=hash\" in route "
                               "\"%V\"", &name);
            return NGX_CONF_ERROR;
        }

        if (route->hash == NULL && route->select == NGX_HTTP_LLM_SELECT_HASH) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"select=hash\" needs \"hash=\" in route "
                               "\"%V\"", &name);
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    if (cf->args->nelts < 3) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "no target in route \"%V\"", &name);
        return NGX_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {
        if (ngx_http_llm_target_parse(cf, route, &value[i]) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    route->nprimary = 1;

    return NGX_CONF_OK;
}


/* one line inside llm_route_weighted { ... } */

static char *
ngx_http_llm_route_block(ngx_conf_t *cf, ngx_command_t *dummy, void *conf)
{
    ngx_http_llm_route_t *route = (ngx_http_llm_route_t *) conf;

    ngx_int_t               n;
    ngx_str_t              *value;
    ngx_uint_t              i;
    ngx_http_llm_target_t  *t;

    value = cf->args->elts;

    if (ngx_http_llm_target_parse(cf, route, &value[0]) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    t = (ngx_http_llm_target_t *) route->targets.elts
        + route->targets.nelts - 1;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "weight=", 7) == 0) {
            n = ngx_atoi(value[i].data + 7, value[i].len - 7);
            if (n < 1 || n > 1000) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid weight \"%V\" in route \"%V\"",
                                   &value[i], &route->name);
                return NGX_CONF_ERROR;
            }

            t->weight = n;
            continue;
        }

        if (value[i].len == 6 && ngx_strncmp(value[i].data, "backup", 6) == 0)
        {
            t->backup = 1;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\" in route \"%V\"",
                           &value[i], &route->name);
        return NGX_CONF_ERROR;
    }

    if (t->backup && t->weight != 1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "a backup target takes no weight in route \"%V\"",
                           &route->name);
        return NGX_CONF_ERROR;
    }

    if (!t->backup) {
        if (route->targets.nelts - 1 != route->nprimary) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "primary target \"%V\" after a backup in "
                               "route \"%V\"", &value[0], &route->name);
            return NGX_CONF_ERROR;
        }

        route->nprimary++;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_llm_target_parse(ngx_conf_t *cf, ngx_http_llm_route_t *route,
    ngx_str_t *value)
{
    u_char                 *colon, *p;
    ngx_http_llm_target_t  *t;

    if (route->targets.nelts == NGX_HTTP_LLM_MAX_ATTEMPTS) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "route \"%V\" has more than %d targets",
                           &route->name, NGX_HTTP_LLM_MAX_ATTEMPTS);
        return NGX_ERROR;
    }

    t = ngx_array_push(&route->targets);
    if (t == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(t, sizeof(ngx_http_llm_target_t));
    t->weight = 1;

    /* provider[:model]; the model itself may hold ':' (e.g. "llama3:8b") */

    colon = ngx_strlchr(value->data, value->data + value->len, ':');

    if (colon) {
        t->provider_name.data = value->data;
        t->provider_name.len = colon - value->data;
        t->model.data = colon + 1;
        t->model.len = value->data + value->len - colon - 1;

        if (t->model.len == 0) {
            goto invalid;
        }

        for (p = t->model.data; p < t->model.data + t->model.len; p++) {
            if (*p < 0x20 || *p == '"' || *p == '\\' || *p == 0x7f) {
                goto invalid;
            }
        }

    } else {
        t->provider_name = *value;
    }

    if (t->provider_name.len == 0) {
        goto invalid;
    }

    return NGX_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid target \"%V\" in route \"%V\"",
                       value, &route->name);
    return NGX_ERROR;
}


static ngx_int_t
ngx_http_llm_route_resolve(ngx_conf_t *cf, ngx_http_llm_main_conf_t *lmcf,
    ngx_http_llm_route_t *route)
{
    ngx_uint_t              i;
    ngx_http_llm_target_t  *t;

    t = route->targets.elts;

    for (i = 0; i < route->targets.nelts; i++) {
        t[i].provider = ngx_http_llm_find_provider(lmcf, &t[i].provider_name);

        if (t[i].provider == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "unknown llm_upstream \"%V\" in route \"%V\" "
                          "in %s:%ui", &t[i].provider_name, &route->name,
                          route->file_name, route->line);
            return NGX_ERROR;
        }

        if (t[i].model.len) {
            t[i].price = ngx_http_llm_price_find(lmcf, t[i].provider,
                                                 &t[i].model);

            /* the model's series label, made once */

            if (ngx_http_llm_label_make(cf->pool, &t[i].model,
                                        &t[i].model_label)
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }

    return ngx_http_llm_select_resolve(cf, lmcf, route);
}


ngx_int_t
ngx_http_llm_routes_resolve(ngx_conf_t *cf, ngx_http_llm_routes_t *routes)
{
    ngx_uint_t                 i;
    ngx_http_llm_route_t      *r;
    ngx_http_llm_main_conf_t  *lmcf;

    lmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_llm_router_module);

    r = routes->exact.elts;
    for (i = 0; i < routes->exact.nelts; i++) {
        if (ngx_http_llm_route_resolve(cf, lmcf, &r[i]) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    r = routes->regex.elts;
    for (i = 0; i < routes->regex.nelts; i++) {
        if (ngx_http_llm_route_resolve(cf, lmcf, &r[i]) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (routes->dflt
        && ngx_http_llm_route_resolve(cf, lmcf, routes->dflt) != NGX_OK)
    {
        return NGX_ERROR;
    }

    routes->resolved = 1;

    return NGX_OK;
}


/* exact names first, then regexes in order, then "default", as map does */

ngx_http_llm_route_t *
ngx_http_llm_route_find(ngx_http_request_t *r, ngx_http_llm_routes_t *routes,
    ngx_str_t *key)
{
    ngx_int_t              rc;
    ngx_uint_t             i;
    ngx_http_llm_route_t  *route;

    route = routes->exact.elts;

    for (i = 0; i < routes->exact.nelts; i++) {
        if (route[i].name.len == key->len
            && ngx_strncmp(route[i].name.data, key->data, key->len) == 0)
        {
            return &route[i];
        }
    }

    route = routes->regex.elts;

    for (i = 0; i < routes->regex.nelts; i++) {
        rc = ngx_http_regex_exec(r, route[i].regex, key);

        if (rc == NGX_OK) {
            return &route[i];
        }

        if (rc == NGX_ERROR) {
            return NULL;
        }
    }

    return routes->dflt;
}


/*
 * Plans the order of targets for one request: for the short form the
 * targets as written; for the weighted form one primary chosen by smooth
 * weighted round robin (nginx's algorithm), then the other primaries,
 * then the backups in order; select= then reorders the primaries.
 */

void
ngx_http_llm_route_plan(ngx_http_llm_route_t *route, ngx_http_llm_ctx_t *ctx)
{
    ngx_uint_t              i, n;
    ngx_http_llm_target_t  *t, *first;

    t = route->targets.elts;
    n = 0;
    first = NULL;

    if (route->weighted && route->nprimary > 1) {
        first = ngx_http_llm_route_pick_weighted(route);
        ctx->plan[n++] = first;
    }

    for (i = 0; i < route->targets.nelts; i++) {
        if (&t[i] != first) {
            ctx->plan[n++] = &t[i];
        }
    }

    ctx->nplan = n;
    ctx->next = 0;

    if (route->select != NGX_HTTP_LLM_SELECT_WEIGHTED) {
        ngx_http_llm_select_order(route, ctx);
    }
}


static ngx_http_llm_target_t *
ngx_http_llm_route_pick_weighted(ngx_http_llm_route_t *route)
{
    ngx_int_t               total;
    ngx_uint_t              i;
    ngx_http_llm_target_t  *t, *best;

    t = route->targets.elts;
    best = NULL;
    total = 0;

    for (i = 0; i < route->nprimary; i++) {
        t[i].current_weight += t[i].weight;
        total += t[i].weight;

        if (best == NULL || t[i].current_weight > best->current_weight) {
            best = &t[i];
        }
    }

    best->current_weight -= total;

    return best;
}
