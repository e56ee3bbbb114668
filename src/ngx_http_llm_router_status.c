
/*
 * Placeholder until llm_status lands.
 */


#include "ngx_http_llm_router.h"


char *
ngx_http_llm_status_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return "is not supported yet";
}
