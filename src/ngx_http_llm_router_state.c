
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * The state file of "llm_zone name size state=path [state_interval=time]":
 * counters and budgets are written to "path" periodically and when a
 * process exits, and read back when the zone is created afresh (the first
 * start, or a zone that a reload could not reuse), so that a restart loses
 * at most the last interval.
 *
 * The file is one JSON object, written by _state_save.c and read with
 * cJSON by _state_load.c; both walk the tables below and the series
 * types (ngx_http_llm_series_types[]), so that its layout is here once:
 *
 *   {"magic":"ngx_http_llm_router state","version":1,"zone":"name",
 *    "saved":1700000000,
 *    "totals":{"failovers":0,"budget_rejections":0,"usage_missing":0,
 *              "evicted":0},
 *    "providers":[
 *     {"name":"a","attempts":0,"failures":0,"circuit_opened":0,
 *      "latency":[10 counts],"latency_sum":0,"latency_count":0,
 *      "ttft":[10 counts],"ttft_sum":0,"ttft_count":0}],
 *    "series":[
 *     {"type":1,"label":["route","provider","model","200"],"window":0,
 *      "v":[8 values]},
 *     {"type":2,"label":["tenant","model"],"window":0,"v":[...]},
 *     {"type":3,"label":["budget","key","tokens"],"window":1700000000,
 *      "v":[...]}]}
 *
 * "saved" is the unix time of the snapshot; "series" are the zone's
 * series (NGX_HTTP_LLM_SERIES_*, their values NGX_HTTP_LLM_V_*, in the
 * zone's order), most recently used first, so that a smaller zone keeps
 * the most recent ones; the label holds the fields that the zone keeps
 * separated by '\0', as many as its type has (ngx_http_llm_series_types[]
 * names them).  Integers are exact up to 2^53 (cJSON reads numbers as
 * doubles) and 2^62 at most is accepted.  Label bytes other than '"',
 * '\\' and control characters are written as they are.
 *
 * Loading is strict: the magic, the format version, the zone name and the
 * type and range of every field are checked before anything is restored,
 * and a file that fails is ignored as a whole with one line at "error"
 * level.  Budget reservations are never restored (the requests that held
 * them are gone); budget series of a window that starts in the future are
 * dropped.  Provider statistics are restored for configured providers
 * only; circuit breaker state is not (monotonic times do not survive a
 * restart).
 *
 * Writing: one timer per worker process.  Under the zone's mutex a tick
 * checks and updates sh->state_saved, so that the whole server writes at
 * most once per interval, and copies the counters into process memory;
 * the file is written without the mutex to "path.tmp.<pid>" in the same
 * directory and renamed over "path".  Every snapshot is stamped in
 * sh->state_saved; the rename is done (under the mutex, a metadata
 * operation) only if no newer snapshot was taken meanwhile, so that an
 * older snapshot never replaces a newer one when several workers exit at
 * once.
 */


#include "ngx_http_llm_router_state.h"


/*
 * The counters of the file besides the series, in the file's order: a
 * new counter is one row here (and its field in the zone's struct).
 */

#define SH(f)  offsetof(ngx_http_llm_shctx_t, f)
#define PN(f)  offsetof(ngx_http_llm_shm_provider_t, f)

const ngx_http_llm_state_field_t  ngx_http_llm_state_totals_fields[] = {
    { "failovers", SH(failovers), 1, 0 },
    { "budget_rejections", SH(budget_rejections), 1, 0 },
    { "usage_missing", SH(usage_missing), 1, 0 },
    { "evicted", SH(evicted), 1, 0 },
    { NULL, 0, 0, 0 }
};


/* restored for configured providers only, matched by name */

const ngx_http_llm_state_field_t  ngx_http_llm_state_provider_fields[] = {
    { "attempts", PN(attempts), 1, 1 },
    { "failures", PN(failures), 1, 1 },
    { "circuit_opened", PN(circuit_opened), 1, 0 },
    { "latency", PN(latency), NGX_HTTP_LLM_HIST_BUCKETS, 0 },
    { "latency_sum", PN(latency_sum), 1, 0 },
    { "latency_count", PN(latency_count), 1, 0 },
    { "ttft", PN(ttft), NGX_HTTP_LLM_HIST_BUCKETS, 0 },
    { "ttft_sum", PN(ttft_sum), 1, 0 },
    { "ttft_count", PN(ttft_count), 1, 0 },
    { NULL, 0, 0, 0 }
};
