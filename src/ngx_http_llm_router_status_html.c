
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * llm_status html: a page without scripts, written from the table of
 * sections and metrics (ngx_http_llm_router_status.c): a section is a
 * table (or cards) with a column per metric that has an HTML title; the
 * cells that are more than a value, and the subtitle and footer, are
 * written here.
 */


#include "ngx_http_llm_router_status.h"


#define NGX_HTTP_LLM_STATUS_NONE        ((ngx_msec_t) -1)


static void ngx_http_llm_html_cards(ngx_http_llm_writer_t *w,
    ngx_http_llm_status_t *st, const ngx_http_llm_section_t *sec);
static void ngx_http_llm_html_table(ngx_http_llm_writer_t *w,
    ngx_http_llm_status_t *st, const ngx_http_llm_section_t *sec);
static const char *ngx_http_llm_html_class(const ngx_http_llm_metric_t *m);
static void ngx_http_llm_html_value(ngx_http_llm_writer_t *w,
    ngx_http_llm_status_t *st, const ngx_http_llm_metric_t *m, u_char *row);
static void ngx_http_llm_html_quantile(ngx_http_llm_writer_t *w,
    ngx_http_llm_status_hist_t *h, double q);

static void ngx_http_llm_html_escape(ngx_http_llm_writer_t *w, ngx_str_t *s);
static void ngx_http_llm_html_label(ngx_http_llm_writer_t *w, ngx_str_t *s);
static void ngx_http_llm_html_number(ngx_http_llm_writer_t *w, int64_t n);
static void ngx_http_llm_html_usd(ngx_http_llm_writer_t *w, int64_t nano);
static void ngx_http_llm_html_ms(ngx_http_llm_writer_t *w, ngx_msec_t ms,
    ngx_uint_t over);
static void ngx_http_llm_html_time(ngx_http_llm_writer_t *w, time_t t,
    time_t now);
static void ngx_http_llm_html_budget_value(ngx_http_llm_writer_t *w,
    ngx_int_t metric, int64_t v);


static ngx_str_t  ngx_http_llm_html_head = ngx_string(
    "<!DOCTYPE html>\n"
    "<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width\">\n"
    "<meta http-equiv=\"refresh\" content=\"30\">\n"
    "<title>LLM router status</title>\n"
    "<style>\n"
    "body{font:14px/1.45 system-ui,-apple-system,\"Segoe UI\","
    "Roboto,\"DejaVu Sans\",sans-serif;margin:0;background:#f6f7f9;"
    "color:#1f2328}\n"
    "main{max-width:1160px;margin:0 auto;padding:20px 24px 32px}\n"
    "h1{font-size:22px;margin:0 0 2px}\n"
    "h2{font-size:16px;margin:22px 0 8px}\n"
    ".sub{color:#59636e;margin:0 0 16px}\n"
    ".cards{display:flex;flex-wrap:wrap;gap:10px}\n"
    ".card{flex:1 1 0;min-width:110px;background:#fff;"
    "border:1px solid #d1d9e0;border-radius:8px;padding:10px 14px}\n"
    ".card.wide{flex-grow:1.6}\n"
    ".card b{display:block;font-size:20px}\n"
    ".card span{color:#59636e;font-size:11px;text-transform:uppercase;"
    "white-space:nowrap;"
    "letter-spacing:.04em}\n"
    ".tbl{overflow-x:auto;background:#fff;border:1px solid #d1d9e0;"
    "border-radius:8px}\n"
    "table{border-collapse:collapse;width:100%}\n"
    "tr:last-child td{border-bottom:0}\n"
    "th,td{padding:5px 10px;text-align:left;"
    "border-bottom:1px solid #eaeef2;white-space:nowrap}\n"
    "th{background:#f0f2f5;font-weight:600;font-size:12px;"
    "color:#3d444d}\n"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}\n"
    "td.w{white-space:normal;word-break:break-all}\n"
    ".pill{display:inline-block;min-width:68px;text-align:center;"
    "border-radius:10px;padding:1px 8px;font-weight:600;font-size:12px}\n"
    ".up{background:#dafbe1;color:#116329}\n"
    ".down{background:#ffebe9;color:#a40e26}\n"
    ".half{background:#fff8c5;color:#7d4e00}\n"
    ".bar{position:relative;height:14px;width:170px;background:#eaeef2;"
    "border-radius:7px;overflow:hidden}\n"
    ".bar i{position:absolute;top:0;bottom:0}\n"
    ".u{background:#2f81f7}.u.hi{background:#d1242f}"
    ".u.mid{background:#bf8700}\n"
    ".r{background:repeating-linear-gradient(45deg,#8fb8f8,#8fb8f8 3px,"
    "#c7dbfb 3px,#c7dbfb 6px)}\n"
    ".muted{color:#59636e}\n"
    "small{display:block;color:#59636e;font-size:12px}\n"
    ".empty{background:#fff;border:1px dashed #d1d9e0;border-radius:8px;"
    "padding:10px 14px;color:#59636e}\n"
    "footer{margin-top:24px;color:#59636e;font-size:12px}\n"
    "</style></head><body><main>\n"
    "<h1>LLM router status</h1>\n");


ngx_int_t
ngx_http_llm_status_html(ngx_http_llm_status_t *st, ngx_http_llm_writer_t *w)
{
    const ngx_http_llm_section_t  *sec;

    ngx_http_llm_write(w, ngx_http_llm_html_head.data,
                       ngx_http_llm_html_head.len);

    for (sec = ngx_http_llm_status_next(NGX_HTTP_LLM_STATUS_HTML, NULL);
         sec;
         sec = ngx_http_llm_status_next(NGX_HTTP_LLM_STATUS_HTML, sec))
    {
        if (sec->html) {
            sec->html(w, st, NULL, NULL);

        } else if (sec->flags & NGX_HTTP_LLM_S_CARDS) {
            ngx_http_llm_html_cards(w, st, sec);

        } else {
            ngx_http_llm_html_table(w, st, sec);
        }
    }

    ngx_http_llm_printf(w, "</main></body></html>\n");

    return NGX_OK;
}


static void
ngx_http_llm_html_cards(ngx_http_llm_writer_t *w, ngx_http_llm_status_t *st,
    const ngx_http_llm_section_t *sec)
{
    u_char                       *row;
    size_t                        size;
    ngx_uint_t                    i;
    const ngx_http_llm_metric_t  *m;

    (void) sec->rows(st, &row, &size);

    ngx_http_llm_printf(w, "<div class=\"cards\">\n");

    for (i = 0; i < sec->nmetrics; i++) {
        m = &sec->metrics[i];

        if (m->html == NULL) {
            continue;
        }

        ngx_http_llm_printf(w, "<div class=\"card%s\"><span>%s</span><b>",
                            (m->flags & NGX_HTTP_LLM_F_WIDE) ? " wide" : "",
                            m->html);
        ngx_http_llm_html_value(w, st, m, row);
        ngx_http_llm_printf(w, "</b></div>\n");
    }

    ngx_http_llm_printf(w, "</div>\n");
}


static void
ngx_http_llm_html_table(ngx_http_llm_writer_t *w, ngx_http_llm_status_t *st,
    const ngx_http_llm_section_t *sec)
{
    u_char                       *first, *row;
    size_t                        size;
    ngx_uint_t                    i, k, n, bold;
    const char                   *cls;
    const ngx_http_llm_metric_t  *m;

    ngx_http_llm_printf(w, "<h2>%s</h2>\n", sec->title);

    n = sec->rows(st, &first, &size);

    if (n == 0) {
        ngx_http_llm_printf(w, "<div class=\"empty\">%s</div>\n", sec->empty);
        return;
    }

    ngx_http_llm_printf(w, "<div class=\"tbl\"><table><tr>");

    for (k = 0; k < sec->nmetrics; k++) {
        m = &sec->metrics[k];

        if (m->html == NULL) {
            continue;
        }

        cls = ngx_http_llm_html_class(m);

        ngx_http_llm_printf(w, "<th%s>%s</th>",
                            ngx_strcmp(cls, " class=\"n\"") == 0 ? cls : "",
                            m->html);
    }

    ngx_http_llm_printf(w, "</tr>\n");

    for (i = 0; i < n; i++) {
        row = first + i * size;

        ngx_http_llm_printf(w, "<tr>");

        for (k = 0; k < sec->nmetrics; k++) {
            m = &sec->metrics[k];

            if (m->html == NULL) {
                continue;
            }

            bold = m->flags & NGX_HTTP_LLM_F_BOLD;

            ngx_http_llm_printf(w, "<td%s>%s", ngx_http_llm_html_class(m),
                                bold ? "<b>" : "");
            ngx_http_llm_html_value(w, st, m, row);
            ngx_http_llm_printf(w, "%s</td>", bold ? "</b>" : "");
        }

        ngx_http_llm_printf(w, "</tr>\n");
    }

    ngx_http_llm_printf(w, "</table></div>\n");
}


static const char *
ngx_http_llm_html_class(const ngx_http_llm_metric_t *m)
{
    if (m->flags & NGX_HTTP_LLM_F_WRAP) {
        return " class=\"w\"";
    }

    if (m->flags & NGX_HTTP_LLM_F_MUTED) {
        return " class=\"muted\"";
    }

    if ((m->flags & NGX_HTTP_LLM_F_NUM)
        || (m->cell == NULL
            && (m->kind == NGX_HTTP_LLM_K_INT
                || m->kind == NGX_HTTP_LLM_K_USD
                || m->kind == NGX_HTTP_LLM_K_AMOUNT)))
    {
        return " class=\"n\"";
    }

    return "";
}


static void
ngx_http_llm_html_value(ngx_http_llm_writer_t *w, ngx_http_llm_status_t *st,
    const ngx_http_llm_metric_t *m, u_char *row)
{
    int64_t  v;

    if (m->cell) {
        m->cell(w, st, m, row);
        return;
    }

    if (m->kind == NGX_HTTP_LLM_K_STR) {
        ngx_http_llm_html_label(w, (ngx_str_t *) (row + m->offset));
        return;
    }

    v = ngx_http_llm_value(row, m);

    switch (m->kind) {

    case NGX_HTTP_LLM_K_USD:
        ngx_http_llm_html_usd(w, v);
        break;

    case NGX_HTTP_LLM_K_AMOUNT:
        ngx_http_llm_html_budget_value(w,
                            ((ngx_http_llm_status_series_t *) row)->metric, v);
        break;

    case NGX_HTTP_LLM_K_TIME:
        ngx_http_llm_html_time(w, (time_t) v, (time_t) st->now);
        break;

    default:
        ngx_http_llm_html_number(w, v);
    }
}


/* the line under the heading: providers at a glance */

void
ngx_http_llm_html_subtitle(ngx_http_llm_writer_t *w,
    ngx_http_llm_status_t *st, const ngx_http_llm_metric_t *m, u_char *row)
{
    ngx_uint_t  i, up, down, half;

    up = 0;
    down = 0;
    half = 0;

    for (i = 0; i < st->nproviders; i++) {
        switch (st->providers[i].state) {
        case NGX_HTTP_LLM_CIRCUIT_OPEN:
            down++;
            break;
        case NGX_HTTP_LLM_CIRCUIT_HALF_OPEN:
            half++;
            break;
        default:
            up++;
        }
    }

    ngx_http_llm_printf(w, "<p class=\"sub\">%ui provider%s: "
                        "<span class=\"pill up\">%ui up</span> "
                        "<span class=\"pill down\">%ui down</span> "
                        "<span class=\"pill half\">%ui half-open</span>"
                        " &middot; generated ",
                        st->nproviders, st->nproviders == 1 ? "" : "s",
                        up, down, half);
    ngx_http_llm_html_time(w, (time_t) st->now, 0);

    if (st->zone) {
        ngx_http_llm_printf(w, " &middot; counting since ");
        ngx_http_llm_html_time(w, (time_t) st->started, 0);
    }

    ngx_http_llm_printf(w, "</p>\n");
}


/* the zone */

void
ngx_http_llm_html_footer(ngx_http_llm_writer_t *w, ngx_http_llm_status_t *st,
    const ngx_http_llm_metric_t *m, u_char *row)
{
    ngx_http_llm_printf(w, "<footer>");

    if (st->zone) {
        ngx_http_llm_printf(w, "llm_zone &ldquo;");
        ngx_http_llm_html_escape(w, &st->zone_name);
        ngx_http_llm_printf(w, "&rdquo;: %L KB, %L KB free, ",
                            st->zone_size / 1024, st->zone_free / 1024);
        ngx_http_llm_html_number(w, st->zone_series);
        ngx_http_llm_printf(w, " series, ");
        ngx_http_llm_html_number(w, st->evicted);
        ngx_http_llm_printf(w, " evicted. ");

    } else {
        ngx_http_llm_printf(w, "No llm_zone (no provider is configured). ");
    }

    ngx_http_llm_printf(w, "Also as <code>llm_status prometheus</code> and "
                        "<code>llm_status json</code>.</footer>\n");
}


/* "prompt / completion" tokens */

void
ngx_http_llm_html_tokens(ngx_http_llm_writer_t *w, ngx_http_llm_status_t *st,
    const ngx_http_llm_metric_t *m, u_char *row)
{
    ngx_http_llm_html_number(w, st->total[NGX_HTTP_LLM_V_PROMPT]);
    ngx_http_llm_printf(w, " / ");
    ngx_http_llm_html_number(w, st->total[NGX_HTTP_LLM_V_COMPLETION]);
}


void
ngx_http_llm_html_state(ngx_http_llm_writer_t *w, ngx_http_llm_status_t *st,
    const ngx_http_llm_metric_t *m, u_char *row)
{
    ngx_http_llm_status_provider_t  *sp;

    static const char  *state_class[] = { "up", "down", "half" };
    static const char  *state_text[] = { "up", "down", "half-open" };

    sp = (ngx_http_llm_status_provider_t *) row;

    ngx_http_llm_printf(w, "<span class=\"pill %s\">%s</span>",
                        state_class[sp->state], state_text[sp->state]);
}


/* failures / attempts */

void
ngx_http_llm_html_rate(ngx_http_llm_writer_t *w, ngx_http_llm_status_t *st,
    const ngx_http_llm_metric_t *m, u_char *row)
{
    ngx_http_llm_status_provider_t  *sp;

    sp = (ngx_http_llm_status_provider_t *) row;

    if (sp->attempts) {
        ngx_http_llm_printf(w, "%.1f%%", 100.0 * (double) sp->failures
                                         / (double) sp->attempts);

    } else {
        ngx_http_llm_printf(w, "&mdash;");
    }
}


void
ngx_http_llm_html_p50(ngx_http_llm_writer_t *w, ngx_http_llm_status_t *st,
    const ngx_http_llm_metric_t *m, u_char *row)
{
    ngx_http_llm_html_quantile(w, (ngx_http_llm_status_hist_t *)
                                  (row + m->offset), 0.5);
}


void
ngx_http_llm_html_p95(ngx_http_llm_writer_t *w, ngx_http_llm_status_t *st,
    const ngx_http_llm_metric_t *m, u_char *row)
{
    ngx_http_llm_html_quantile(w, (ngx_http_llm_status_hist_t *)
                                  (row + m->offset), 0.95);
}


static void
ngx_http_llm_html_quantile(ngx_http_llm_writer_t *w,
    ngx_http_llm_status_hist_t *h, double q)
{
    ngx_uint_t  over;
    ngx_msec_t  ms;

    ms = ngx_http_llm_quantile(h, q, &over);

    ngx_http_llm_html_ms(w, h->count ? ms : NGX_HTTP_LLM_STATUS_NONE, over);
}


/* the circuit breaker in words */

void
ngx_http_llm_html_circuit(ngx_http_llm_writer_t *w, ngx_http_llm_status_t *st,
    const ngx_http_llm_metric_t *m, u_char *row)
{
    ngx_http_llm_status_provider_t  *sp;

    sp = (ngx_http_llm_status_provider_t *) row;

    switch (sp->state) {
    case NGX_HTTP_LLM_CIRCUIT_OPEN:
        ngx_http_llm_printf(w, "open, trial in ");
        ngx_http_llm_html_ms(w, (ngx_msec_t) sp->retry_in, 0);
        break;
    case NGX_HTTP_LLM_CIRCUIT_HALF_OPEN:
        ngx_http_llm_printf(w, "a trial request decides");
        break;
    default:
        if (sp->max_fails == 0) {
            ngx_http_llm_printf(w, "off (max_fails=0)");

        } else {
            ngx_http_llm_printf(w, "closed, %L/%L fails",
                                sp->fails, sp->max_fails);
        }
    }
}


/* a budget's used and reserved parts of its limit */

void
ngx_http_llm_html_bar(ngx_http_llm_writer_t *w, ngx_http_llm_status_t *st,
    const ngx_http_llm_metric_t *m, u_char *row)
{
    int64_t                        pct_used, pct_res;
    ngx_http_llm_status_series_t  *s;

    s = (ngx_http_llm_status_series_t *) row;

    pct_used = 0;
    pct_res = 0;

    if (s->limit > 0) {
        pct_used = ngx_min(s->used, s->limit) * 1000 / s->limit;
        pct_res = ngx_min(s->reserved, s->limit - ngx_min(s->used, s->limit))
                  * 1000 / s->limit;
    }

    ngx_http_llm_printf(w, "<div class=\"bar\" title=\"%L.%L%% used\">"
                        "<i class=\"u%s\" style=\"left:0;"
                        "width:%L.%L%%\"></i>"
                        "<i class=\"r\" style=\"left:%L.%L%%;"
                        "width:%L.%L%%\"></i></div>",
                        pct_used / 10, pct_used % 10,
                        pct_used >= 900 ? " hi"
                        : pct_used >= 700 ? " mid" : "",
                        pct_used / 10, pct_used % 10,
                        pct_used / 10, pct_used % 10,
                        pct_res / 10, pct_res % 10);
}


void
ngx_http_llm_html_resets(ngx_http_llm_writer_t *w, ngx_http_llm_status_t *st,
    const ngx_http_llm_metric_t *m, u_char *row)
{
    int64_t  end;

    end = ngx_http_llm_value(row, m);

    if (end == NGX_HTTP_LLM_STATUS_UNSET) {
        ngx_http_llm_printf(w, "<span class=\"muted\">unknown "
                            "(not configured)</span>");
        return;
    }

    ngx_http_llm_html_time(w, (time_t) end, (time_t) st->now);
}


static void
ngx_http_llm_html_escape(ngx_http_llm_writer_t *w, ngx_str_t *s)
{
    u_char      *p, *end, *start;
    const char  *e;

    p = s->data;
    end = p + s->len;
    start = p;

    for ( /* void */ ; p < end; p++) {

        switch (*p) {
        case '&':
            e = "&amp;";
            break;
        case '<':
            e = "&lt;";
            break;
        case '>':
            e = "&gt;";
            break;
        case '"':
            e = "&quot;";
            break;
        case '\'':
            e = "&#39;";
            break;
        default:
            continue;
        }

        ngx_http_llm_write(w, start, p - start);
        ngx_http_llm_write(w, (u_char *) e, ngx_strlen(e));
        start = p + 1;
    }

    ngx_http_llm_write(w, start, end - start);
}


static void
ngx_http_llm_html_label(ngx_http_llm_writer_t *w, ngx_str_t *s)
{
    if (s->len == 0) {
        ngx_http_llm_printf(w, "<span class=\"muted\">&mdash;</span>");
        return;
    }

    ngx_http_llm_html_escape(w, s);
}


/* 1234567 as 1,234,567 */

static void
ngx_http_llm_html_number(ngx_http_llm_writer_t *w, int64_t n)
{
    u_char  *p, *d, buf[NGX_INT64_LEN], out[NGX_INT64_LEN * 2];
    size_t   len, i;

    p = ngx_sprintf(buf, "%L", n);
    len = p - buf;
    d = out;

    for (i = 0; i < len; i++) {
        *d++ = buf[i];

        if (buf[i] != '-' && i + 1 < len && (len - i - 1) % 3 == 0) {
            *d++ = ',';
        }
    }

    ngx_http_llm_write(w, out, d - out);
}


static void
ngx_http_llm_html_usd(ngx_http_llm_writer_t *w, int64_t nano)
{
    if (nano < 0) {
        ngx_http_llm_printf(w, "-");
        nano = -nano;
    }

    /* cut, never rounded up: what is left is never overstated */

    ngx_http_llm_printf(w, "$");
    ngx_http_llm_html_number(w, nano / 1000000000);

    nano %= 1000000000;

    if (nano % 10000000 == 0) {
        ngx_http_llm_printf(w, ".%02L", nano / 10000000);

    } else if (nano % 100000 == 0) {
        ngx_http_llm_printf(w, ".%04L", nano / 100000);

    } else {
        ngx_http_llm_printf(w, ".%06L", nano / 1000);
    }
}


static void
ngx_http_llm_html_ms(ngx_http_llm_writer_t *w, ngx_msec_t ms, ngx_uint_t over)
{
    if (ms == NGX_HTTP_LLM_STATUS_NONE) {
        ngx_http_llm_printf(w, "<span class=\"muted\">&mdash;</span>");
        return;
    }

    if (over) {
        ngx_http_llm_printf(w, "&gt;");
    }

    if (ms < 1000) {
        ngx_http_llm_printf(w, "%M ms", ms);
        return;
    }

    if (ms < 60000) {
        ngx_http_llm_printf(w, "%M.%M s", ms / 1000, ms % 1000 / 100);
        return;
    }

    ngx_http_llm_printf(w, "%Mm %02Ms", ms / 60000, ms % 60000 / 1000);
}


/* "2024-05-01 00:00 UTC", and "(in 3h 12m)" when now is given */

static void
ngx_http_llm_html_time(ngx_http_llm_writer_t *w, time_t t, time_t now)
{
    time_t    d;
    ngx_tm_t  tm;

    ngx_gmtime(t, &tm);

    ngx_http_llm_printf(w, "%4d-%02d-%02d %02d:%02d UTC",
                        tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                        tm.ngx_tm_hour, tm.ngx_tm_min);

    if (now == 0) {
        return;
    }

    d = t - now;

    if (d < 0) {
        d = 0;
    }

    ngx_http_llm_printf(w, "<small>in ");

    if (d >= 86400) {
        ngx_http_llm_printf(w, "%Td %Th", d / 86400, d % 86400 / 3600);

    } else if (d >= 3600) {
        ngx_http_llm_printf(w, "%Th %Tm", d / 3600, d % 3600 / 60);

    } else if (d >= 60) {
        ngx_http_llm_printf(w, "%Tm %Ts", d / 60, d % 60);

    } else {
        ngx_http_llm_printf(w, "%Ts", d);
    }

    ngx_http_llm_printf(w, "</small>");
}


static void
ngx_http_llm_html_budget_value(ngx_http_llm_writer_t *w, ngx_int_t metric,
    int64_t v)
{
    if (metric == NGX_HTTP_LLM_METRIC_COST) {
        ngx_http_llm_html_usd(w, v);
        return;
    }

    ngx_http_llm_html_number(w, v);
}

