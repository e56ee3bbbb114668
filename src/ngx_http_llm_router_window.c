
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * Budget windows and metric names: what the zone's budgets
 * (ngx_http_llm_router_budget.c) and the fleet's on Redis
 * (ngx_http_llm_router_fleet.c) both compute, below either of them.
 */


#include "ngx_http_llm_router.h"


ngx_str_t  ngx_http_llm_budget_metric_names[NGX_HTTP_LLM_NMETRICS] = {
    ngx_string("tokens"),
    ngx_string("requests"),
    ngx_string("cost")
};


/* fixed windows aligned on the UTC epoch; months by the UTC calendar */

time_t
ngx_http_llm_window_start(time_t now, time_t window)
{
    ngx_tm_t  tm;

    if (window) {
        return now - now % window;
    }

    ngx_gmtime(now, &tm);

    return now - (tm.ngx_tm_mday - 1) * 86400 - tm.ngx_tm_hour * 3600
           - tm.ngx_tm_min * 60 - tm.ngx_tm_sec;
}


time_t
ngx_http_llm_window_end(time_t now, time_t window)
{
    time_t    start;
    ngx_tm_t  tm;

    start = ngx_http_llm_window_start(now, window);

    if (window) {
        return start + window;
    }

    /* 32 days on is always in the next month */

    ngx_gmtime(start + 32 * 86400, &tm);

    return start + 32 * 86400 - (tm.ngx_tm_mday - 1) * 86400;
}


const char *
ngx_http_llm_budget_metric_name(ngx_uint_t metric)
{
    /* ngx_string() literals: NUL-terminated */
    return (const char *) ngx_http_llm_budget_metric_names[metric].data;
}
