
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * Module definition: directives, configuration structures, phase handler
 * registration and the zone, state and worker hooks (the request context
 * is util.c's).
 */


#include "ngx_http_llm_router.h"
#include "ngx_http_llm_router_redis.h"
#include "ngx_http_llm_router_xlate.h"


static void *ngx_http_llm_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_llm_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_llm_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_llm_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_llm_route_key(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_llm_router(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_llm_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_llm_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_llm_init_process(ngx_cycle_t *cycle);
static void ngx_http_llm_exit_process(ngx_cycle_t *cycle);


static ngx_command_t  ngx_http_llm_router_commands[] = {

    { ngx_string("llm_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_llm_zone_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("llm_upstream"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_llm_upstream_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("llm_route"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_llm_route_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    /* nginx cannot give one directive both a ";" and a "{}" form */
    { ngx_string("llm_route_weighted"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_BLOCK
                        |NGX_CONF_1MORE,
      ngx_http_llm_route_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("llm_route_key"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_llm_route_key,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("llm_client_keys"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_llm_client_keys_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_llm_loc_conf_t, client_keys),
      NULL },

    { ngx_string("llm_price"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_llm_price_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("llm_budget"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_llm_budget_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("llm_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_llm_status_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("llm_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_llm_redis_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("llm_router"),
      NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_http_llm_router,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_llm_router_module_ctx = {
    ngx_http_llm_preconfiguration,         /* preconfiguration */
    ngx_http_llm_postconfiguration,        /* postconfiguration */

    ngx_http_llm_create_main_conf,         /* create main configuration */
    ngx_http_llm_init_main_conf,           /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_llm_create_loc_conf,          /* create location configuration */
    ngx_http_llm_merge_loc_conf            /* merge location configuration */
};


ngx_module_t  ngx_http_llm_router_module = {
    NGX_MODULE_V1,
    &ngx_http_llm_router_module_ctx,       /* module context */
    ngx_http_llm_router_commands,          /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_llm_init_process,             /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_llm_exit_process,             /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_str_t  ngx_http_llm_router_upstream_name =
    ngx_string("llm_router");


static void *
ngx_http_llm_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_llm_main_conf_t  *lmcf;

    lmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_llm_main_conf_t));
    if (lmcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&lmcf->providers, cf->pool, 8,
                       sizeof(ngx_http_llm_provider_t))
        != NGX_OK
        || ngx_array_init(&lmcf->prices, cf->pool, 8,
                          sizeof(ngx_http_llm_price_t))
           != NGX_OK
        || ngx_array_init(&lmcf->budgets, cf->pool, 4,
                          sizeof(ngx_http_llm_budget_t *))
           != NGX_OK)
    {
        return NULL;
    }

    lmcf->state_interval = NGX_CONF_UNSET_MSEC;

    return lmcf;
}


static char *
ngx_http_llm_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_llm_main_conf_t  *lmcf = conf;

    ngx_uint_t                i;
    ngx_http_llm_provider_t  *prov;

    if (ngx_http_llm_prices_resolve(cf, lmcf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /* every provider's series label, made once */

    prov = lmcf->providers.elts;

    for (i = 0; i < lmcf->providers.nelts; i++) {
        if (ngx_http_llm_label_make(cf->pool, &prov[i].name, &prov[i].label)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    ngx_conf_init_msec_value(lmcf->state_interval, 10000);

    if (lmcf->shm_zone == NULL && lmcf->providers.nelts) {
        if (ngx_http_llm_zone_default(cf, lmcf) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_llm_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_llm_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_llm_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->routes = NULL;
     *     conf->route_key = NULL;
     */

    conf->enabled = NGX_CONF_UNSET;
    conf->client_keys = NGX_CONF_UNSET_PTR;

    return conf;
}


static char *
ngx_http_llm_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_llm_loc_conf_t *prev = parent;
    ngx_http_llm_loc_conf_t *conf = child;

    ngx_conf_merge_value(conf->enabled, prev->enabled, 0);

    if (conf->file_name == NULL) {
        conf->file_name = prev->file_name;
        conf->line = prev->line;
    }

    if (conf->routes == NULL) {
        conf->routes = prev->routes;
    }

    if (conf->route_key == NULL) {
        conf->route_key = prev->route_key;
    }

    ngx_conf_merge_ptr_value(conf->client_keys, prev->client_keys, NULL);

    if (conf->budgets == NULL) {
        conf->budgets = prev->budgets;
    }

    /* every llm_upstream is known once the http block is parsed */

    if (conf->routes && !conf->routes->resolved) {
        if (ngx_http_llm_routes_resolve(cf, conf->routes) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    if (conf->enabled && conf->routes == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"llm_router\" is on but no \"llm_route\" is "
                      "defined for this location in %s:%ui",
                      conf->file_name, conf->line);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_llm_route_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_llm_loc_conf_t *lcf = conf;

    ngx_str_t                         *value;
    ngx_http_compile_complex_value_t   ccv;

    if (lcf->route_key != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "empty route key in \"%V\"", &cmd->name);
        return NGX_CONF_ERROR;
    }

    lcf->route_key = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
    if (lcf->route_key == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = lcf->route_key;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_llm_router(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_llm_loc_conf_t *lcf = conf;

    char                      *rv;
    ngx_http_llm_main_conf_t  *lmcf;

    rv = ngx_conf_set_flag_slot(cf, cmd, &lcf->enabled);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    /* where it was turned on, for errors found when merging */
    lcf->file_name = cf->conf_file->file.name.data;
    lcf->line = cf->conf_file->line;

    /* health probes verify TLS with the first router location's settings */

    lmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_llm_router_module);

    if (lcf->enabled && lmcf->probe_loc_conf == NULL) {
        lmcf->probe_loc_conf = ((ngx_http_conf_ctx_t *) cf->ctx)->loc_conf;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_llm_init_process(ngx_cycle_t *cycle)
{
    if (ngx_http_llm_state_init_process(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_llm_health_init_process(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    /* the connection calls the fleet back: no call from redis.c up */
    return ngx_http_llm_redis_init_process(cycle, ngx_http_llm_fleet_tick,
                                           ngx_http_llm_fleet_exit_process);
}


static void
ngx_http_llm_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_llm_redis_exit_process(cycle);
    ngx_http_llm_xlate_arena_free();
    ngx_http_llm_health_exit_process(cycle);
    ngx_http_llm_state_exit_process(cycle);
}


static ngx_int_t
ngx_http_llm_preconfiguration(ngx_conf_t *cf)
{
    ngx_url_t                  u;
    ngx_http_llm_main_conf_t  *lmcf;

    lmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_llm_router_module);

    /*
     * The "meta" upstream that conf/llm_params proxies to; it must exist
     * with our init_upstream before the upstream module initialises
     * upstreams, or "proxy_pass https://llm_router" would try to resolve
     * a host of that name.
     */

    ngx_memzero(&u, sizeof(ngx_url_t));
    u.host = ngx_http_llm_router_upstream_name;
    u.no_port = 1;

    lmcf->router_upstream = ngx_http_upstream_add(cf, &u,
                                                  NGX_HTTP_UPSTREAM_CREATE);
    if (lmcf->router_upstream == NULL) {
        return NGX_ERROR;
    }

    lmcf->router_upstream->peer.init_upstream = ngx_http_llm_balancer_init;

    return ngx_http_llm_add_variables(cf);
}


static ngx_int_t
ngx_http_llm_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    /*
     * REWRITE: this module's handler runs before the rewrite module's, so
     * that "if" and "set" see the $llm_* variables; not ACCESS, which
     * "satisfy any" may skip
     */

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_REWRITE_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_llm_rewrite_handler;

    /* requests that end without a last buffer are settled here */

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_llm_log_handler;

    return ngx_http_llm_filter_init(cf);
}
