
/*
 * Placeholder until the state file lands.
 */


#include "ngx_http_llm_router.h"


ngx_int_t
ngx_http_llm_state_load(ngx_http_llm_main_conf_t *lmcf, ngx_log_t *log)
{
    return NGX_OK;
}


ngx_int_t
ngx_http_llm_state_init_process(ngx_cycle_t *cycle)
{
    return NGX_OK;
}


void
ngx_http_llm_state_exit_process(ngx_cycle_t *cycle)
{
}
