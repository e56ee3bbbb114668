
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * llm_zone, the shared zone: created at start, kept across reloads (each
 * provider's node matched by name); when it is set up, each part that
 * keeps something there sets up its own share (the series, health,
 * latency averages, the state file).  The providers' circuits and keys
 * in it: circuit.c.
 */


#include "ngx_http_llm_router.h"


#define NGX_HTTP_LLM_SHM_MAGIC    0x6c6c6d72   /* "llmr" */
#define NGX_HTTP_LLM_SHM_VERSION  6


static ngx_int_t ngx_http_llm_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_int_t ngx_http_llm_zone_add(ngx_conf_t *cf,
    ngx_http_llm_main_conf_t *lmcf, ngx_str_t *name, ssize_t size);


static ngx_str_t  ngx_http_llm_default_zone_name = ngx_string("llm_router");


char *
ngx_http_llm_zone_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_llm_main_conf_t *lmcf = conf;

    ssize_t     size;
    ngx_str_t  *value, s;
    ngx_uint_t  i;

    value = cf->args->elts;

    if (lmcf->shm_zone) {
        return "is duplicate";
    }

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "empty zone name in \"%V\"", &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (cf->args->nelts < 3) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "llm_zone \"%V\" has no size", &value[1]);
        return NGX_CONF_ERROR;
    }

    size = ngx_parse_size(&value[2]);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid size \"%V\" of llm_zone \"%V\"",
                           &value[2], &value[1]);
        return NGX_CONF_ERROR;
    }

    if (size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "llm_zone \"%V\" is too small, %uz at least",
                           &value[1], 8 * ngx_pagesize);
        return NGX_CONF_ERROR;
    }

    for (i = 3; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "state=", 6) == 0) {
            s.data = value[i].data + 6;
            s.len = value[i].len - 6;

            if (s.len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "empty \"state=\" in llm_zone \"%V\"",
                                   &value[1]);
                return NGX_CONF_ERROR;
            }

            if (ngx_conf_full_name(cf->cycle, &s, 0) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            lmcf->state_path = s;
            continue;
        }

        if (ngx_strncmp(value[i].data, "state_interval=", 15) == 0) {
            s.data = value[i].data + 15;
            s.len = value[i].len - 15;

            lmcf->state_interval = ngx_parse_time(&s, 0);

            if (lmcf->state_interval == (ngx_msec_t) NGX_ERROR
                || lmcf->state_interval < 1000)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\" in llm_zone \"%V\", "
                                   "1s at least", &value[i], &value[1]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\" in llm_zone \"%V\"",
                           &value[i], &value[1]);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_llm_zone_add(cf, lmcf, &value[1], size) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_llm_zone_default(ngx_conf_t *cf, ngx_http_llm_main_conf_t *lmcf)
{
    return ngx_http_llm_zone_add(cf, lmcf, &ngx_http_llm_default_zone_name,
                                 NGX_HTTP_LLM_DEFAULT_ZONE_SIZE);
}


static ngx_int_t
ngx_http_llm_zone_add(ngx_conf_t *cf, ngx_http_llm_main_conf_t *lmcf,
    ngx_str_t *name, ssize_t size)
{
    ngx_shm_zone_t  *zone;

    zone = ngx_shared_memory_add(cf, name, size, &ngx_http_llm_router_module);
    if (zone == NULL) {
        return NGX_ERROR;
    }

    if (zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "llm_zone \"%V\" is already used", name);
        return NGX_ERROR;
    }

    zone->init = ngx_http_llm_init_zone;
    zone->data = lmcf;

    lmcf->shm_zone = zone;

    return NGX_OK;
}


/*
 * The zone, new or kept across a reload: its header, the series, the
 * state file, the providers' nodes (with their servers' and keys'
 * health).  Over 150 lines: the steps are done in order, the providers'
 * under one lock, and each is short.
 */

static ngx_int_t
ngx_http_llm_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_llm_main_conf_t *lmcf = shm_zone->data;

    size_t                        n;
    ngx_msec_t                   *cool;
    ngx_uint_t                    i;
    ngx_queue_t                  *q;
    ngx_slab_pool_t              *shpool;
    ngx_http_llm_shctx_t         *sh;
    ngx_http_llm_provider_t      *prov;
    ngx_http_llm_shm_provider_t  *node;

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (data || shm_zone->shm.exists) {
        /* a reload: the previous cycle's state is reused */
        sh = shpool->data;

        if (sh == NULL || sh->magic != NGX_HTTP_LLM_SHM_MAGIC
            || sh->version != NGX_HTTP_LLM_SHM_VERSION)
        {
            ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                          "llm_zone \"%V\" has an incompatible layout",
                          &shm_zone->shm.name);
            return NGX_ERROR;
        }

    } else {
        sh = ngx_slab_calloc(shpool, sizeof(ngx_http_llm_shctx_t));
        if (sh == NULL) {
            return NGX_ERROR;
        }

        sh->magic = NGX_HTTP_LLM_SHM_MAGIC;
        sh->version = NGX_HTTP_LLM_SHM_VERSION;
        ngx_queue_init(&sh->providers);
        ngx_queue_init(&sh->latency);
        ngx_http_llm_stats_init_locked(sh);
        sh->started = ngx_time();

        shpool->data = sh;

        n = sizeof(" in llm_zone \"\"") + shm_zone->shm.name.len;

        shpool->log_ctx = ngx_slab_alloc(shpool, n);
        if (shpool->log_ctx == NULL) {
            return NGX_ERROR;
        }

        ngx_sprintf(shpool->log_ctx, " in llm_zone \"%V\"%Z",
                    &shm_zone->shm.name);

        /* a full zone evicts counters and says so itself: no [crit] */
        shpool->log_nomem = 0;
    }

    lmcf->sh = sh;
    lmcf->shpool = shpool;

    /* a fresh zone: counters and budgets of the previous run, if kept */

    if (data == NULL && !shm_zone->shm.exists && lmcf->state_path.len) {
        (void) ngx_http_llm_state_load(lmcf, shm_zone->shm.log);
    }

    /* the old cycle's workers may be running: take the lock */

    ngx_shmtx_lock(&shpool->mutex);

    prov = lmcf->providers.elts;

    for (i = 0; i < lmcf->providers.nelts; i++) {

        node = NULL;

        for (q = ngx_queue_head(&sh->providers);
             q != ngx_queue_sentinel(&sh->providers);
             q = ngx_queue_next(q))
        {
            node = ngx_queue_data(q, ngx_http_llm_shm_provider_t, queue);

            if (node->name_len == prov[i].name.len
                && ngx_strncmp(node->name, prov[i].name.data,
                               node->name_len) == 0)
            {
                break;
            }

            node = NULL;
        }

        if (node == NULL) {
            n = offsetof(ngx_http_llm_shm_provider_t, name)
                + prov[i].name.len;

            node = ngx_slab_calloc_locked(shpool, n);
            if (node == NULL) {
                goto nomem;
            }

            node->name_len = prov[i].name.len;
            ngx_memcpy(node->name, prov[i].name.data, node->name_len);

            ngx_queue_insert_tail(&sh->providers, &node->queue);
        }

        /*
         * grow, never shrink: workers of the old cycle may still index
         * the array with their own number of keys
         */

        if (node->nkeys < prov[i].keys->nelts) {
            cool = ngx_slab_calloc_locked(shpool,
                                   prov[i].keys->nelts * sizeof(ngx_msec_t));
            if (cool == NULL) {
                goto nomem;
            }

            node->key_cool = cool;
            node->nkeys = prov[i].keys->nelts;
        }

        if (ngx_http_llm_health_init_zone_locked(shpool, &prov[i], node)
            != NGX_OK)
        {
            goto nomem;
        }

        prov[i].shm = node;
        prov[i].shpool = shpool;
    }

    if (ngx_http_llm_select_init_zone(lmcf) != NGX_OK) {
        goto nomem;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return NGX_OK;

nomem:

    ngx_shmtx_unlock(&shpool->mutex);

    ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                  "llm_zone \"%V\" is too small for %ui providers",
                  &shm_zone->shm.name, lmcf->providers.nelts);

    return NGX_ERROR;
}
