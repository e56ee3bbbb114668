
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * llm_status: the zone's counters as Prometheus text, JSON or an HTML
 * page.  The zone is copied into the request's pool under the mutex and
 * formatted after it is released, by the writer of the format, which
 * walks the table of sections and metrics below.
 */


#include "ngx_http_llm_router_status.h"


typedef struct {
    ngx_str_t                        name;
    ngx_str_t                        content_type;
    ngx_int_t                      (*write)(ngx_http_llm_status_t *st,
                                            ngx_http_llm_writer_t *w);
} ngx_http_llm_status_format_t;


static ngx_int_t ngx_http_llm_status_handler(ngx_http_request_t *r);
static ngx_uint_t ngx_http_llm_rows_one(ngx_http_llm_status_t *st,
    u_char **first, size_t *size);
static ngx_uint_t ngx_http_llm_rows_providers(ngx_http_llm_status_t *st,
    u_char **first, size_t *size);
static ngx_uint_t ngx_http_llm_rows_requests(ngx_http_llm_status_t *st,
    u_char **first, size_t *size);
static ngx_uint_t ngx_http_llm_rows_tenants(ngx_http_llm_status_t *st,
    u_char **first, size_t *size);
static ngx_uint_t ngx_http_llm_rows_budgets(ngx_http_llm_status_t *st,
    u_char **first, size_t *size);
static ngx_uint_t ngx_http_llm_rows_traffic(ngx_http_llm_status_t *st,
    u_char **first, size_t *size);
static ngx_uint_t ngx_http_llm_rows_series(ngx_http_llm_status_t *st,
    ngx_uint_t type, u_char **first, size_t *size);
static ngx_uint_t ngx_http_llm_rows_fleet(ngx_http_llm_status_t *st,
    u_char **first, size_t *size);


static ngx_http_llm_status_format_t  ngx_http_llm_status_formats[] = {

    { ngx_string("prometheus"), ngx_string("text/plain; version=0.0.4"),
      ngx_http_llm_status_prometheus },

    { ngx_string("json"), ngx_string("application/json"),
      ngx_http_llm_status_json },

    { ngx_string("html"), ngx_string("text/html; charset=utf-8"),
      ngx_http_llm_status_html }
};


/*
 * The metrics, defined once.
 *
 * A section is a set of rows (the snapshot itself, the providers, the
 * series of one type, ...) and the metrics that each row has; a metric
 * names its value in every format that shows it (NULL: not in that
 * format) and says where the value lives in a row (an offset) and of what
 * kind it is.  The writers (_prometheus.c, _json.c, _html.c) walk these
 * tables and nothing else:
 *
 *   Prometheus  a section's labels (type LABEL with a "prom" name) label
 *               every sample; each metric with a "prom" name is a family
 *               with "help", its samples one per row, in row order;
 *   JSON        a section is an object (S_ONE) or an array of objects
 *               under its "json" key (or the document itself, NULL); the
 *               labels and metrics with a "json" key are its members;
 *   HTML        a section with a "title" is a table (S_CARDS: cards) with
 *               a column per metric that has an "html" title; "cell"
 *               writes a cell that is more than its value (a bar, a
 *               state), a section's "html" writes the section itself.
 *
 * Rows are written in table order; sections in the order that "order"
 * gives each format (1, 2, ...; 0: not in that format; numbers unique per
 * format), so that each format keeps its own layout.  One value may have
 * several rows when formats show it differently (the latency histogram
 * and its quantile columns).  A value UNSET (an unknown window end) is no
 * sample in Prometheus and null in JSON.
 *
 * To add a metric: add its value to the snapshot (ngx_http_llm_status_t
 * or a row struct in ngx_http_llm_router_status.h), fill it in
 * ngx_http_llm_status_collect() or _copy_locked(), and add one row to
 * its section below.  To add a section (a new family of rows): a rows
 * function that returns its rows, a table of metrics, and one entry in
 * ngx_http_llm_status_sections[] with its order in each format.
 */

#define ST(f)   offsetof(ngx_http_llm_status_t, f)
#define TOT(n)  (offsetof(ngx_http_llm_status_t, total) + (n) * sizeof(int64_t))
#define PR(f)   offsetof(ngx_http_llm_status_provider_t, f)
#define SE(f)   offsetof(ngx_http_llm_status_series_t, f)
#define SF(i)   (offsetof(ngx_http_llm_status_series_t, f)                   \
                 + (i) * sizeof(ngx_str_t))
#define SV(n)   (offsetof(ngx_http_llm_status_series_t, v)                   \
                 + (n) * sizeof(int64_t))

#define LABEL   NGX_HTTP_LLM_M_LABEL
#define COUNTER NGX_HTTP_LLM_M_COUNTER
#define GAUGE   NGX_HTTP_LLM_M_GAUGE
#define HIST    NGX_HTTP_LLM_M_HISTOGRAM
#define VALUE   NGX_HTTP_LLM_M_VALUE

#define K_INT   NGX_HTTP_LLM_K_INT
#define K_USD   NGX_HTTP_LLM_K_USD
#define K_AMT   NGX_HTTP_LLM_K_AMOUNT
#define K_TIME  NGX_HTTP_LLM_K_TIME
#define K_BOOL  NGX_HTTP_LLM_K_BOOL
#define K_STR   NGX_HTTP_LLM_K_STR
#define K_HIST  NGX_HTTP_LLM_K_HIST


/* the document: when it was made */
static const ngx_http_llm_metric_t  ngx_http_llm_page_metrics[] = {
    /* prom, json, html, type, kind, offset, flags, cell, help */
    { NULL, "time", NULL, VALUE, K_TIME, ST(now), 0, NULL, NULL }
};


static const ngx_http_llm_metric_t  ngx_http_llm_zone_metrics[] = {
    { NULL, "name", NULL, VALUE, K_STR, ST(zone_name), 0, NULL, NULL },
    { "llm_zone_size_bytes", "size", NULL, GAUGE, K_INT, ST(zone_size),
      0, NULL, "Size of the zone." },
    { "llm_zone_free_bytes", "free", NULL, GAUGE, K_INT, ST(zone_free),
      0, NULL, "Free pages of the zone, in bytes." },
    { "llm_zone_series", "series", NULL, GAUGE, K_INT, ST(zone_series),
      0, NULL, "Counter series held in the zone." },
    { "llm_zone_evictions_total", "evictions", NULL, COUNTER, K_INT,
      ST(evicted), 0, NULL,
      "Series evicted (least recently used) when the zone was full." },
    { "llm_zone_start_time_seconds", "started", NULL, GAUGE, K_TIME,
      ST(started), 0, NULL, "Unix time at which the counters started." }
};


static const ngx_http_llm_metric_t  ngx_http_llm_totals_metrics[] = {
    { NULL, "requests", NULL, VALUE, K_INT, TOT(NGX_HTTP_LLM_V_REQUESTS),
      0, NULL, NULL },
    { NULL, "prompt_tokens", NULL, VALUE, K_INT, TOT(NGX_HTTP_LLM_V_PROMPT),
      0, NULL, NULL },
    { NULL, "completion_tokens", NULL, VALUE, K_INT,
      TOT(NGX_HTTP_LLM_V_COMPLETION), 0, NULL, NULL },
    { NULL, "cached_tokens", NULL, VALUE, K_INT, TOT(NGX_HTTP_LLM_V_CACHED),
      0, NULL, NULL },
    { NULL, "cost_usd", NULL, VALUE, K_USD, TOT(NGX_HTTP_LLM_V_COST),
      0, NULL, NULL },
    { NULL, "cost_nano_usd", NULL, VALUE, K_INT, TOT(NGX_HTTP_LLM_V_COST),
      0, NULL, NULL },
    { NULL, "usage_missing", NULL, VALUE, K_INT, ST(usage_missing),
      0, NULL, NULL },
    { NULL, "errors", NULL, VALUE, K_INT, ST(errors), 0, NULL, NULL },
    { "llm_failovers_total", "failovers", NULL, COUNTER, K_INT,
      ST(failovers), 0, NULL,
      "Requests that were tried on more than one provider." },
    { "llm_budget_rejections_total", "budget_rejections", NULL, COUNTER,
      K_INT, ST(budget_rejections), 0, NULL,
      "Requests rejected by any budget (429)." }
};


/* the HTML page's cards: the totals at a glance */
static const ngx_http_llm_metric_t  ngx_http_llm_cards_metrics[] = {
    { NULL, NULL, "Requests", VALUE, K_INT, TOT(NGX_HTTP_LLM_V_REQUESTS),
      0, NULL, NULL },
    { NULL, NULL, "Errors (4xx/5xx)", VALUE, K_INT, ST(errors),
      0, NULL, NULL },
    { NULL, NULL, "Tokens in / out", VALUE, K_INT,
      TOT(NGX_HTTP_LLM_V_PROMPT), NGX_HTTP_LLM_F_WIDE,
      ngx_http_llm_html_tokens, NULL },
    { NULL, NULL, "Cost", VALUE, K_USD, TOT(NGX_HTTP_LLM_V_COST),
      0, NULL, NULL },
    { NULL, NULL, "Failovers", VALUE, K_INT, ST(failovers), 0, NULL, NULL },
    { NULL, NULL, "Over budget (429)", VALUE, K_INT, ST(budget_rejections),
      0, NULL, NULL },
    { NULL, NULL, "Usage missing", VALUE, K_INT, ST(usage_missing),
      0, NULL, NULL }
};


static const ngx_http_llm_metric_t  ngx_http_llm_provider_metrics[] = {
    { NULL, NULL, "State", VALUE, K_INT, PR(state), 0,
      ngx_http_llm_html_state, NULL },
    { "provider", "name", "Provider", LABEL, K_STR, PR(name),
      NGX_HTTP_LLM_F_BOLD, NULL, NULL },
    { NULL, "state", NULL, VALUE, K_STR, PR(state_name), 0, NULL, NULL },
    { "llm_provider_circuit_state", "state_code", NULL, GAUGE, K_INT,
      PR(state), 0, NULL,
      "Circuit breaker: 0 closed, 1 open, 2 half-open." },
    { NULL, "up", NULL, VALUE, K_BOOL, PR(up), 0, NULL, NULL },
    { NULL, "retry_in_ms", NULL, VALUE, K_INT, PR(retry_in), 0, NULL, NULL },
    { NULL, "fails", NULL, VALUE, K_INT, PR(fails), 0, NULL, NULL },
    { NULL, "max_fails", NULL, VALUE, K_INT, PR(max_fails), 0, NULL, NULL },
    { "llm_provider_attempts_total", "attempts", "Attempts", COUNTER, K_INT,
      PR(attempts), 0, NULL, "Attempts sent to a provider." },
    { "llm_provider_failures_total", "failures", "Failures", COUNTER, K_INT,
      PR(failures), 0, NULL, "Attempts that failed (fail_on outcomes)." },
    { NULL, NULL, "Failure rate", VALUE, K_INT, PR(failures),
      NGX_HTTP_LLM_F_NUM, ngx_http_llm_html_rate, NULL },
    { NULL, NULL, "Latency p50", VALUE, K_HIST, PR(latency),
      NGX_HTTP_LLM_F_NUM, ngx_http_llm_html_p50, NULL },
    { NULL, NULL, "p95", VALUE, K_HIST, PR(latency),
      NGX_HTTP_LLM_F_NUM, ngx_http_llm_html_p95, NULL },
    { NULL, NULL, "TTFT p50", VALUE, K_HIST, PR(ttft),
      NGX_HTTP_LLM_F_NUM, ngx_http_llm_html_p50, NULL },
    { "llm_provider_circuit_opened_total", "circuit_opened",
      "Circuit opened", COUNTER, K_INT, PR(opened), 0, NULL,
      "Times the circuit breaker opened." },
    { NULL, NULL, "Circuit", VALUE, K_INT, PR(state), NGX_HTTP_LLM_F_MUTED,
      ngx_http_llm_html_circuit, NULL },
    { "llm_provider_latency_seconds", "latency", NULL, HIST, K_HIST,
      PR(latency), 0, NULL,
      "Duration of requests a provider served, to the last byte." },
    { "llm_provider_ttft_seconds", "ttft", NULL, HIST, K_HIST, PR(ttft),
      0, NULL,
      "Time to the first response byte from the provider that served." }
};


/* active health checks: providers with "check", their servers and keys */
#define HE(f)   offsetof(ngx_http_llm_status_health_t, f)

static const ngx_http_llm_metric_t  ngx_http_llm_health_metrics[] = {
    { "provider", "provider", "Provider", LABEL, K_STR, HE(provider),
      NGX_HTTP_LLM_F_BOLD, NULL, NULL },
    { NULL, "state", "State", VALUE, K_STR, HE(state_name), 0, NULL, NULL },
    { "llm_provider_up", "up", NULL, GAUGE, K_BOOL, HE(up), 0, NULL,
      "1 while probes find a server of the provider up (active checks)." },
    { "llm_provider_health_since_seconds", "since", NULL, GAUGE, K_TIME,
      HE(since), 0, NULL, "When the provider's health last changed." },
    { NULL, NULL, "Since", VALUE, K_STR, HE(since_text), 0, NULL, NULL },
    { NULL, "checked", NULL, VALUE, K_TIME, HE(checked), 0, NULL, NULL },
    { NULL, NULL, "Last probe", VALUE, K_STR, HE(checked_text), 0, NULL,
      NULL },
    { NULL, "last", "Outcome", VALUE, K_STR, HE(last), 0, NULL, NULL },
    { "llm_provider_probe_latency_milliseconds", "latency_ms", "Latency ms",
      GAUGE, K_INT, HE(latency), 0, NULL,
      "Duration of the provider's last probe." },
    { "llm_provider_probes_total", "probes", "Probes", COUNTER, K_INT,
      HE(probes), 0, NULL, "Health probes sent to the provider." },
    { "llm_provider_probe_failures_total", "probe_failures", "Failed",
      COUNTER, K_INT, HE(failures), 0, NULL,
      "Health probes of the provider that failed." }
};


static const ngx_http_llm_metric_t  ngx_http_llm_health_server_metrics[] = {
    { "provider", "provider", "Provider", LABEL, K_STR, HE(provider),
      NGX_HTTP_LLM_F_BOLD, NULL, NULL },
    { "server", "server", "Server", LABEL, K_STR, HE(target), 0, NULL,
      NULL },
    { NULL, "state", "State", VALUE, K_STR, HE(state_name), 0, NULL, NULL },
    { "llm_upstream_server_up", "up", NULL, GAUGE, K_BOOL, HE(up), 0, NULL,
      "1 while probes find the server up (active checks)." },
    { NULL, "since", NULL, VALUE, K_TIME, HE(since), 0, NULL, NULL },
    { NULL, NULL, "Since", VALUE, K_STR, HE(since_text), 0, NULL, NULL },
    { NULL, "checked", NULL, VALUE, K_TIME, HE(checked), 0, NULL, NULL },
    { NULL, NULL, "Last probe", VALUE, K_STR, HE(checked_text), 0, NULL,
      NULL },
    { NULL, "last", "Outcome", VALUE, K_STR, HE(last), 0, NULL, NULL },
    { NULL, "latency_ms", "Latency ms", VALUE, K_INT, HE(latency), 0, NULL,
      NULL },
    { "llm_upstream_server_probes_total", "probes", "Probes", COUNTER, K_INT,
      HE(probes), 0, NULL, "Health probes sent to the server." },
    { "llm_upstream_server_probe_failures_total", "probe_failures",
      "Failed", COUNTER, K_INT, HE(failures), 0, NULL,
      "Health probes of the server that failed." }
};


static const ngx_http_llm_metric_t  ngx_http_llm_health_key_metrics[] = {
    { "provider", "provider", "Provider", LABEL, K_STR, HE(provider),
      NGX_HTTP_LLM_F_BOLD, NULL, NULL },
    { "key", "key", "Key", LABEL, K_STR, HE(target), 0, NULL, NULL },
    { NULL, "state", "State", VALUE, K_STR, HE(state_name), 0, NULL, NULL },
    { "llm_provider_key_usable", "usable", NULL, GAUGE, K_BOOL, HE(up), 0,
      NULL, "1 unless probes found the key refused or it cools down." },
    { NULL, "since", NULL, VALUE, K_TIME, HE(since), 0, NULL, NULL },
    { NULL, NULL, "Since", VALUE, K_STR, HE(since_text), 0, NULL, NULL },
    { NULL, "checked", NULL, VALUE, K_TIME, HE(checked), 0, NULL, NULL },
    { NULL, NULL, "Last probe", VALUE, K_STR, HE(checked_text), 0, NULL,
      NULL },
    { NULL, "last", "Outcome", VALUE, K_STR, HE(last), 0, NULL, NULL },
    { "llm_provider_key_probes_total", "probes", "Probes", COUNTER, K_INT,
      HE(probes), 0, NULL, "Health probes sent with the key." }
};


/* REQUESTS series, one per status */
static const ngx_http_llm_metric_t  ngx_http_llm_requests_metrics[] = {
    { "route", "route", NULL, LABEL, K_STR, SF(0), 0, NULL, NULL },
    { "provider", "provider", NULL, LABEL, K_STR, SF(1), 0, NULL, NULL },
    { "model", "model", NULL, LABEL, K_STR, SF(2), 0, NULL, NULL },
    { "status", "status", NULL, LABEL, K_STR, SF(3), NGX_HTTP_LLM_F_NUMBER,
      NULL, NULL },
    { "llm_requests_total", "requests", NULL, COUNTER, K_INT,
      SV(NGX_HTTP_LLM_V_REQUESTS), 0, NULL,
      "Requests by route, provider, model and status." },
    { NULL, "prompt_tokens", NULL, VALUE, K_INT, SV(NGX_HTTP_LLM_V_PROMPT),
      0, NULL, NULL },
    { NULL, "completion_tokens", NULL, VALUE, K_INT,
      SV(NGX_HTTP_LLM_V_COMPLETION), 0, NULL, NULL },
    { NULL, "cached_tokens", NULL, VALUE, K_INT, SV(NGX_HTTP_LLM_V_CACHED),
      0, NULL, NULL },
    { NULL, "cost_usd", NULL, VALUE, K_USD, SV(NGX_HTTP_LLM_V_COST),
      0, NULL, NULL },
    { NULL, "cost_nano_usd", NULL, VALUE, K_INT, SV(NGX_HTTP_LLM_V_COST),
      0, NULL, NULL },
    { NULL, "usage_missing", NULL, VALUE, K_INT,
      SV(NGX_HTTP_LLM_V_USAGE_MISSING), 0, NULL, NULL }
};


/* REQUESTS series summed over the status */
static const ngx_http_llm_metric_t  ngx_http_llm_traffic_metrics[] = {
    { "route", NULL, "Route", LABEL, K_STR, SF(0), NGX_HTTP_LLM_F_WRAP,
      NULL, NULL },
    { "provider", NULL, "Provider", LABEL, K_STR, SF(1), 0, NULL, NULL },
    { "model", NULL, "Model", LABEL, K_STR, SF(2), NGX_HTTP_LLM_F_WRAP,
      NULL, NULL },
    { NULL, NULL, "Requests", VALUE, K_INT, SV(NGX_HTTP_LLM_V_REQUESTS),
      0, NULL, NULL },
    { NULL, NULL, "Errors", VALUE, K_INT, SE(errors), 0, NULL, NULL },
    { "llm_prompt_tokens_total", NULL, "Prompt tokens", COUNTER, K_INT,
      SV(NGX_HTTP_LLM_V_PROMPT), 0, NULL,
      "Prompt (input) tokens, as reported by providers." },
    { "llm_completion_tokens_total", NULL, "Completion tokens", COUNTER,
      K_INT, SV(NGX_HTTP_LLM_V_COMPLETION), 0, NULL,
      "Completion (output) tokens, as reported by providers." },
    { "llm_cached_tokens_total", NULL, NULL, COUNTER, K_INT,
      SV(NGX_HTTP_LLM_V_CACHED), 0, NULL,
      "Cached prompt tokens, as reported by providers." },
    { "llm_cost_usd_total", NULL, "Cost (USD)", COUNTER, K_USD,
      SV(NGX_HTTP_LLM_V_COST), 0, NULL, "Cost in USD, from llm_price." },
    { "llm_usage_missing_total", NULL, NULL, COUNTER, K_INT,
      SV(NGX_HTTP_LLM_V_USAGE_MISSING), 0, NULL,
      "Served requests whose answer carried no usage "
      "(charged their reservation)." }
};


static const ngx_http_llm_metric_t  ngx_http_llm_tenant_metrics[] = {
    { "tenant", "tenant", "Tenant", LABEL, K_STR, SF(0),
      NGX_HTTP_LLM_F_WRAP|NGX_HTTP_LLM_F_BOLD, NULL, NULL },
    { "model", "model", "Model", LABEL, K_STR, SF(1), NGX_HTTP_LLM_F_WRAP,
      NULL, NULL },
    { "llm_tenant_requests_total", "requests", "Requests", COUNTER, K_INT,
      SV(NGX_HTTP_LLM_V_REQUESTS), 0, NULL,
      "Requests by tenant (llm_client_keys) and requested model." },
    { "llm_tenant_prompt_tokens_total", "prompt_tokens", "Prompt tokens",
      COUNTER, K_INT, SV(NGX_HTTP_LLM_V_PROMPT), 0, NULL,
      "Prompt tokens by tenant and model." },
    { "llm_tenant_completion_tokens_total", "completion_tokens",
      "Completion tokens", COUNTER, K_INT, SV(NGX_HTTP_LLM_V_COMPLETION),
      0, NULL, "Completion tokens by tenant and model." },
    { "llm_tenant_cached_tokens_total", "cached_tokens", "Cached tokens",
      COUNTER, K_INT, SV(NGX_HTTP_LLM_V_CACHED), 0, NULL,
      "Cached prompt tokens by tenant and model." },
    { "llm_tenant_cost_usd_total", "cost_usd", "Cost (USD)", COUNTER, K_USD,
      SV(NGX_HTTP_LLM_V_COST), 0, NULL, "Cost in USD by tenant and model." },
    { NULL, "cost_nano_usd", NULL, VALUE, K_INT, SV(NGX_HTTP_LLM_V_COST),
      0, NULL, NULL },
    { NULL, "usage_missing", NULL, VALUE, K_INT,
      SV(NGX_HTTP_LLM_V_USAGE_MISSING), 0, NULL, NULL }
};


/* amounts (K_AMT) are USD for metric="cost" */
static const ngx_http_llm_metric_t  ngx_http_llm_budget_metrics[] = {
    { "budget", "name", "Budget", LABEL, K_STR, SF(0), NGX_HTTP_LLM_F_BOLD,
      NULL, NULL },
    { "key", "key", "Key", LABEL, K_STR, SF(1), NGX_HTTP_LLM_F_WRAP,
      NULL, NULL },
    { "metric", "metric", "Metric", LABEL, K_STR, SF(2), 0, NULL, NULL },
    { NULL, NULL, "Used / reserved", VALUE, K_AMT, SE(used), 0,
      ngx_http_llm_html_bar, NULL },
    { "llm_budget_used", "used", "Used", GAUGE, K_AMT, SE(used), 0, NULL,
      "Budget used in the current window." },
    { "llm_budget_reserved", "reserved", "Reserved", GAUGE, K_AMT,
      SE(reserved), 0, NULL, "Budget reserved by requests in flight." },
    { "llm_budget_limit", "limit", "Limit", GAUGE, K_AMT, SE(limit), 0, NULL,
      "Budget limit per window (USD for metric=\"cost\")." },
    { "llm_budget_remaining", "remaining", "Left", GAUGE, K_AMT,
      SE(remaining), NGX_HTTP_LLM_F_BOLD, NULL,
      "Budget left: limit - used - reserved, at least 0." },
    { "llm_budget_rejected_requests_total", "rejected", "Rejected", COUNTER,
      K_INT, SV(NGX_HTTP_LLM_V_REJECTED), 0, NULL,
      "Requests rejected by this budget." },
    { NULL, "window_start", NULL, VALUE, K_TIME, SE(start), 0, NULL, NULL },
    { "llm_budget_window_end_seconds", "window_end", "Resets", GAUGE, K_TIME,
      SE(end), 0, ngx_http_llm_html_resets,
      "Unix time at which the budget's window resets." },
    { NULL, "reset_in", NULL, VALUE, K_INT, SE(reset_in), 0, NULL, NULL }
};


/* llm_redis: two rows, the fleet's totals and this node's own */
#define FL(f)   offsetof(ngx_http_llm_status_fleet_t, f)
#define FV(n)   (offsetof(ngx_http_llm_status_fleet_t, v)                    \
                 + (n) * sizeof(int64_t))

static const ngx_http_llm_metric_t  ngx_http_llm_fleet_metrics[] = {
    { "scope", "scope", "Counted by", LABEL, K_STR, FL(scope),
      NGX_HTTP_LLM_F_BOLD, NULL, NULL },
    { "llm_fleet_nodes", "nodes", "Nodes", GAUGE, K_INT, FL(nodes), 0, NULL,
      "Nodes seen on Redis in the last minute (1 for scope=\"node\")." },
    { "llm_fleet_requests_total", "requests", "Requests", COUNTER, K_INT,
      FV(NGX_HTTP_LLM_V_REQUESTS), 0, NULL,
      "Requests counted by every node of the fleet (scope=\"fleet\", as "
      "last read from Redis) and by this node (scope=\"node\")." },
    { "llm_fleet_errors_total", "errors", "Errors", COUNTER, K_INT,
      FV(NGX_HTTP_LLM_V_ERRORS), 0, NULL,
      "Requests answered with a status of 400 or more." },
    { "llm_fleet_prompt_tokens_total", "prompt_tokens", "Prompt tokens",
      COUNTER, K_INT, FV(NGX_HTTP_LLM_V_PROMPT), 0, NULL,
      "Prompt tokens, as reported by providers." },
    { "llm_fleet_completion_tokens_total", "completion_tokens",
      "Completion tokens", COUNTER, K_INT, FV(NGX_HTTP_LLM_V_COMPLETION),
      0, NULL, "Completion tokens, as reported by providers." },
    { "llm_fleet_cached_tokens_total", "cached_tokens", NULL, COUNTER, K_INT,
      FV(NGX_HTTP_LLM_V_CACHED), 0, NULL, "Cached prompt tokens." },
    { "llm_fleet_cost_usd_total", "cost_usd", "Cost (USD)", COUNTER, K_USD,
      FV(NGX_HTTP_LLM_V_COST), 0, NULL, "Cost in USD, from llm_price." },
    { NULL, "cost_nano_usd", NULL, VALUE, K_INT, FV(NGX_HTTP_LLM_V_COST),
      0, NULL, NULL },
    { "llm_fleet_usage_missing_total", "usage_missing", NULL, COUNTER, K_INT,
      FV(NGX_HTTP_LLM_V_USAGE_MISSING), 0, NULL,
      "Served requests whose answer carried no usage." },
    { "llm_fleet_synced_seconds", "synced", NULL, GAUGE, K_TIME, FL(synced),
      0, NULL, "Unix time at which the fleet's totals were last read." }
};


#define ngx_http_llm_metrics(m)  m, sizeof(m) / sizeof(m[0])

const ngx_http_llm_section_t  ngx_http_llm_status_sections[] = {

    /* json, title, empty, order { prometheus, json, html }, flags, rows,
       html, metrics */

    { NULL, NULL, NULL, { 0, 1, 1 }, NGX_HTTP_LLM_S_ONE,
      ngx_http_llm_rows_one, ngx_http_llm_html_subtitle,
      ngx_http_llm_metrics(ngx_http_llm_page_metrics) },

    { "zone", NULL, NULL, { 7, 2, 11 },
      NGX_HTTP_LLM_S_ONE|NGX_HTTP_LLM_S_ZONE,
      ngx_http_llm_rows_one, ngx_http_llm_html_footer,
      ngx_http_llm_metrics(ngx_http_llm_zone_metrics) },

    { "totals", NULL, NULL, { 3, 3, 0 }, NGX_HTTP_LLM_S_ONE,
      ngx_http_llm_rows_one, NULL,
      ngx_http_llm_metrics(ngx_http_llm_totals_metrics) },

    { NULL, NULL, NULL, { 0, 0, 2 },
      NGX_HTTP_LLM_S_ONE|NGX_HTTP_LLM_S_CARDS,
      ngx_http_llm_rows_one, NULL,
      ngx_http_llm_metrics(ngx_http_llm_cards_metrics) },

    { "providers", "Providers", "No llm_upstream is configured.",
      { 4, 4, 3 }, 0, ngx_http_llm_rows_providers, NULL,
      ngx_http_llm_metrics(ngx_http_llm_provider_metrics) },

    { "requests", NULL, NULL, { 1, 5, 0 }, 0,
      ngx_http_llm_rows_requests, NULL,
      ngx_http_llm_metrics(ngx_http_llm_requests_metrics) },

    { "tenants", "Spend by tenant and model",
      "No tenant traffic yet (tenants come from llm_client_keys).",
      { 6, 6, 5 }, 0, ngx_http_llm_rows_tenants, NULL,
      ngx_http_llm_metrics(ngx_http_llm_tenant_metrics) },

    { "budgets", "Budgets left", "No budget has been used yet (llm_budget).",
      { 5, 7, 4 }, 0, ngx_http_llm_rows_budgets, NULL,
      ngx_http_llm_metrics(ngx_http_llm_budget_metrics) },

    { NULL, "Traffic by route, provider and model", "No requests yet.",
      { 2, 0, 6 }, 0, ngx_http_llm_rows_traffic, NULL,
      ngx_http_llm_metrics(ngx_http_llm_traffic_metrics) },

    { "health", "Health checks", "No llm_upstream has \"check\".",
      { 8, 8, 7 }, 0, ngx_http_llm_rows_health_providers, NULL,
      ngx_http_llm_metrics(ngx_http_llm_health_metrics) },

    { "health_servers", "Servers (health checks)",
      "No llm_upstream has \"check\".",
      { 9, 9, 8 }, 0, ngx_http_llm_rows_health_servers, NULL,
      ngx_http_llm_metrics(ngx_http_llm_health_server_metrics) },

    { "health_keys", "Keys (health checks)",
      "No llm_upstream has \"check\".",
      { 10, 10, 9 }, 0, ngx_http_llm_rows_health_keys, NULL,
      ngx_http_llm_metrics(ngx_http_llm_health_key_metrics) },

    { "fleet", "Fleet (llm_redis)", "No llm_redis is configured.",
      { 11, 11, 10 }, 0, ngx_http_llm_rows_fleet, NULL,
      ngx_http_llm_metrics(ngx_http_llm_fleet_metrics) }
};

const ngx_uint_t  ngx_http_llm_status_nsections =
    sizeof(ngx_http_llm_status_sections)
    / sizeof(ngx_http_llm_status_sections[0]);


char *
ngx_http_llm_status_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_llm_loc_conf_t *lcf = conf;

    ngx_str_t                 *value;
    ngx_uint_t                 i, n;
    ngx_http_core_loc_conf_t  *clcf;

    if (lcf->status_format) {
        return "is duplicate";
    }

    value = cf->args->elts;
    n = sizeof(ngx_http_llm_status_formats)
        / sizeof(ngx_http_llm_status_formats[0]);

    /* status_format: the format's index + 1, 0 is "no llm_status" */

    if (cf->args->nelts == 1) {
        lcf->status_format = NGX_HTTP_LLM_STATUS_PROMETHEUS + 1;

    } else {
        for (i = 0; i < n; i++) {
            if (value[1].len == ngx_http_llm_status_formats[i].name.len
                && ngx_strncmp(value[1].data,
                               ngx_http_llm_status_formats[i].name.data,
                               value[1].len)
                   == 0)
            {
                lcf->status_format = i + 1;
                break;
            }
        }

        if (i == n) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid format \"%V\" in \"%V\" directive, "
                               "it must be \"prometheus\", \"json\" or "
                               "\"html\"", &value[1], &cmd->name);
            return NGX_CONF_ERROR;
        }
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_llm_status_handler;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_llm_status_handler(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_chain_t                   *cl;
    ngx_http_llm_status_t         *st;
    ngx_http_llm_writer_t          w;
    ngx_http_llm_loc_conf_t       *lcf;
    ngx_http_llm_status_format_t  *fmt;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_llm_router_module);
    fmt = &ngx_http_llm_status_formats[lcf->status_format - 1];

    r->headers_out.content_type = fmt->content_type;
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    r->headers_out.status = NGX_HTTP_OK;

    if (r->method == NGX_HTTP_HEAD) {
        return ngx_http_send_header(r);
    }

    st = ngx_pcalloc(r->pool, sizeof(ngx_http_llm_status_t));
    if (st == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_llm_status_collect(r, st) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memzero(&w, sizeof(ngx_http_llm_writer_t));
    w.pool = r->pool;
    w.last = &w.out;

    rc = fmt->write(st, &w);

    if (rc != NGX_OK || w.error || w.out == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (cl = w.out; cl->next; cl = cl->next) { /* void */ }

    cl->buf->last_buf = 1;
    cl->buf->last_in_chain = 1;

    r->headers_out.content_length_n = w.size;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, w.out);
}


/* the rows of the sections */

static ngx_uint_t
ngx_http_llm_rows_one(ngx_http_llm_status_t *st, u_char **first,
    size_t *size)
{
    *first = (u_char *) st;
    *size = sizeof(ngx_http_llm_status_t);

    return 1;
}


static ngx_uint_t
ngx_http_llm_rows_providers(ngx_http_llm_status_t *st, u_char **first,
    size_t *size)
{
    *first = (u_char *) st->providers;
    *size = sizeof(ngx_http_llm_status_provider_t);

    return st->nproviders;
}


static ngx_uint_t
ngx_http_llm_rows_requests(ngx_http_llm_status_t *st, u_char **first,
    size_t *size)
{
    return ngx_http_llm_rows_series(st, NGX_HTTP_LLM_SERIES_REQUESTS, first,
                                    size);
}


static ngx_uint_t
ngx_http_llm_rows_tenants(ngx_http_llm_status_t *st, u_char **first,
    size_t *size)
{
    return ngx_http_llm_rows_series(st, NGX_HTTP_LLM_SERIES_TENANT, first,
                                    size);
}


static ngx_uint_t
ngx_http_llm_rows_budgets(ngx_http_llm_status_t *st, u_char **first,
    size_t *size)
{
    return ngx_http_llm_rows_series(st, NGX_HTTP_LLM_SERIES_BUDGET, first,
                                    size);
}


static ngx_uint_t
ngx_http_llm_rows_traffic(ngx_http_llm_status_t *st, u_char **first,
    size_t *size)
{
    *first = (u_char *) st->traffic;
    *size = sizeof(ngx_http_llm_status_series_t);

    return st->ntraffic;
}


static ngx_uint_t
ngx_http_llm_rows_series(ngx_http_llm_status_t *st, ngx_uint_t type,
    u_char **first, size_t *size)
{
    *first = (u_char *) &st->series[st->first[type]];
    *size = sizeof(ngx_http_llm_status_series_t);

    return st->last[type] - st->first[type];
}


static ngx_uint_t
ngx_http_llm_rows_fleet(ngx_http_llm_status_t *st, u_char **first,
    size_t *size)
{
    *first = (u_char *) st->fleet;
    *size = sizeof(ngx_http_llm_status_fleet_t);

    return st->nfleet;
}
