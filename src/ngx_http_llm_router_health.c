
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * Active health checks at run time: the prober that one worker at a time
 * runs (a lease in the zone: pid + expiry), the outcome of each probe
 * (probe.c sends it and calls back here), and the state every worker
 * reads: per provider, per server, per key, kept in the zone across
 * reloads.  Their configuration: health_conf.c.
 */


#include "ngx_http_llm_router_health.h"


static ngx_int_t ngx_http_llm_health_addrs(ngx_http_llm_provider_t *prov,
    ngx_array_t *addrs);
static void ngx_http_llm_health_timer(ngx_event_t *ev);
static ngx_uint_t ngx_http_llm_health_lease(ngx_http_llm_main_conf_t *lmcf,
    ngx_log_t *log);
static void ngx_http_llm_health_stop(ngx_cycle_t *cycle);
static void ngx_http_llm_health_seen(ngx_http_llm_health_t *h, time_t now,
    ngx_uint_t outcome, ngx_msec_t latency);
static void ngx_http_llm_probe_result(ngx_http_llm_probe_t *pr,
    ngx_uint_t outcome, const char *reason, ngx_log_t *log);
static void ngx_http_llm_health_log(ngx_http_llm_probe_t *pr,
    ngx_uint_t outcome, const char *reason, ngx_log_t *log,
    ngx_uint_t key_change, ngx_uint_t server_change, ngx_uint_t prov_change);
static u_char *ngx_http_llm_outcome(u_char *buf, size_t len,
    ngx_uint_t outcome, const char *reason);


extern ngx_module_t  ngx_http_proxy_module;


static ngx_event_t               ngx_http_llm_health_ev;
static ngx_array_t              *ngx_http_llm_probes;  /* of this worker */
static ngx_uint_t                ngx_http_llm_prober;  /* holds the lease */


/*
 * The addresses requests go to: each address of each server of the
 * provider's upstream block (round robin makes a peer of each), or those
 * an implicit upstream resolved itself.
 */

static ngx_int_t
ngx_http_llm_health_addrs(ngx_http_llm_provider_t *prov, ngx_array_t *addrs)
{
    ngx_uint_t                      i, j, n;
    ngx_addr_t                     *a;
    ngx_http_upstream_rr_peer_t    *peer;
    ngx_http_upstream_rr_peers_t   *peers;
    ngx_http_upstream_server_t     *server;
    ngx_http_upstream_srv_conf_t   *uscf;

    uscf = prov->uscf;
    n = 0;

    if (uscf->servers && uscf->servers->nelts) {
        server = uscf->servers->elts;

        for (i = 0; i < uscf->servers->nelts; i++) {
            for (j = 0; j < server[i].naddrs; j++) {
                if (addrs) {
                    a = ngx_array_push(addrs);
                    if (a == NULL) {
                        return NGX_ERROR;
                    }

                    *a = server[i].addrs[j];
                }

                n++;
            }
        }

        return n;
    }

    for (peers = uscf->peer.data; peers; peers = peers->next) {
        for (peer = peers->peer; peer; peer = peer->next) {
            if (addrs) {
                a = ngx_array_push(addrs);
                if (a == NULL) {
                    return NGX_ERROR;
                }

                a->sockaddr = peer->sockaddr;
                a->socklen = peer->socklen;
                a->name = peer->name;
            }

            n++;
        }
    }

    return n;
}


/* in llm_zone's init, with its lock: state per server and key */

ngx_int_t
ngx_http_llm_health_init_zone_locked(ngx_slab_pool_t *shpool,
    ngx_http_llm_provider_t *prov, ngx_http_llm_shm_provider_t *node)
{
    ngx_int_t               n;
    ngx_uint_t              i;
    ngx_http_llm_health_t  *h;

    if (prov->check == NULL) {
        /* checks turned off: nothing may stay down for want of probes */

        node->health.down = 0;
        node->servers_down = 0;

        for (i = 0; i < node->nservers; i++) {
            node->servers[i].down = 0;
        }

        for (i = 0; i < node->nhkeys; i++) {
            node->keys[i].down = 0;
        }

        return NGX_OK;
    }

    n = ngx_http_llm_health_addrs(prov, NULL);

    /* grow, never shrink: the old cycle's workers may index them */

    if ((ngx_uint_t) n > node->nservers) {
        h = ngx_slab_calloc_locked(shpool, n * sizeof(ngx_http_llm_health_t));
        if (h == NULL) {
            return NGX_ERROR;
        }

        if (node->servers) {
            ngx_memcpy(h, node->servers,
                       node->nservers * sizeof(ngx_http_llm_health_t));
        }

        node->servers = h;
        node->nservers = n;
    }

    node->servers_down = 0;

    for (i = 0; i < (ngx_uint_t) n; i++) {
        if (node->servers[i].down) {
            node->servers_down++;
        }
    }

    if (prov->keys->nelts > node->nhkeys) {
        h = ngx_slab_calloc_locked(shpool,
                          prov->keys->nelts * sizeof(ngx_http_llm_health_t));
        if (h == NULL) {
            return NGX_ERROR;
        }

        if (node->keys) {
            ngx_memcpy(h, node->keys,
                       node->nhkeys * sizeof(ngx_http_llm_health_t));
        }

        node->keys = h;
        node->nhkeys = prov->keys->nelts;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_llm_health_init_process(ngx_cycle_t *cycle)
{
    ngx_int_t                  n;
    ngx_uint_t                 i, j;
    ngx_addr_t                *a;
    ngx_array_t                addrs;
    ngx_http_llm_probe_t      *pr;
    ngx_http_llm_provider_t   *prov;
    ngx_http_llm_main_conf_t  *lmcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    lmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_llm_router_module);

    if (lmcf == NULL || lmcf->sh == NULL || lmcf->probe_tick == 0) {
        return NGX_OK;
    }

    ngx_http_llm_probes = ngx_array_create(cycle->pool, 4,
                                           sizeof(ngx_http_llm_probe_t));
    if (ngx_http_llm_probes == NULL) {
        return NGX_ERROR;
    }

    if (ngx_array_init(&addrs, cycle->pool, 4, sizeof(ngx_addr_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    prov = lmcf->providers.elts;

    for (i = 0; i < lmcf->providers.nelts; i++) {

        if (prov[i].check == NULL || prov[i].shm == NULL) {
            continue;
        }

        addrs.nelts = 0;

        n = ngx_http_llm_health_addrs(&prov[i], &addrs);
        if (n == NGX_ERROR) {
            return NGX_ERROR;
        }

        a = addrs.elts;

        prov[i].nprobes = n;
        prov[i].probes = NULL;

        for (j = 0; j < (ngx_uint_t) n; j++) {
            pr = ngx_array_push(ngx_http_llm_probes);
            if (pr == NULL) {
                return NGX_ERROR;
            }

            ngx_memzero(pr, sizeof(ngx_http_llm_probe_t));

            pr->prov = &prov[i];
            pr->server = j;
            pr->sockaddr = a[j].sockaddr;
            pr->socklen = a[j].socklen;
            pr->name = a[j].name;
            pr->next = ngx_current_msec;
            pr->done = ngx_http_llm_probe_result;
#if (NGX_HTTP_SSL)
            if (lmcf->probe_loc_conf) {
                /* proxy's location conf begins with its upstream conf */
                pr->upstream = lmcf->probe_loc_conf[
                                             ngx_http_proxy_module.ctx_index];
            }
#endif
        }
    }

    /* the array no longer moves: each provider's probes, by server */

    pr = ngx_http_llm_probes->elts;

    for (i = 0; i < ngx_http_llm_probes->nelts; i++) {
        if (pr[i].prov->probes == NULL) {
            pr[i].prov->probes = &pr[i];
        }
    }

    ngx_http_llm_health_ev.handler = ngx_http_llm_health_timer;
    ngx_http_llm_health_ev.log = cycle->log;
    ngx_http_llm_health_ev.data = lmcf;
    ngx_http_llm_health_ev.cancelable = 1;

    /* soon after the start: the first probes need no client request */
    ngx_add_timer(&ngx_http_llm_health_ev, 1);

    return NGX_OK;
}


/*
 * The provider's own balancer picks a server; one that probes found down
 * is given back and the balancer asked again (round robin, least_conn and
 * hash then skip it as they skip a server that failed max_fails times).
 * Unless every server is down: then the balancer's choice stands.
 */

ngx_int_t
ngx_http_llm_health_get(ngx_http_llm_provider_t *prov,
    ngx_peer_connection_t *pc, ngx_event_get_peer_pt get,
    ngx_event_free_peer_pt free, void *data)
{
    ngx_int_t                     rc;
    ngx_uint_t                    i, j, tries;
    ngx_http_llm_probe_t         *pr;
    ngx_http_llm_shm_provider_t  *n;

    n = prov->shm;

    if (prov->check == NULL || n == NULL || n->servers_down == 0
        || n->health.down || prov->probes == NULL)
    {
        return get(pc, data);
    }

    pr = prov->probes;

    for (i = 0; i <= prov->nprobes; i++) {

        rc = get(pc, data);

        if (rc != NGX_OK && rc != NGX_DONE) {
            return rc;
        }

        for (j = 0; j < prov->nprobes; j++) {
            if (ngx_cmp_sockaddr(pc->sockaddr, pc->socklen,
                                 pr[j].sockaddr, pr[j].socklen, 1)
                == NGX_OK)
            {
                break;
            }
        }

        if (j == prov->nprobes || pr[j].server >= n->nservers
            || !n->servers[pr[j].server].down)
        {
            return rc;
        }

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, pc->log, 0,
                       "llm router: server %V of provider \"%V\" is down, "
                       "skipped", pc->name, &prov->name);

        if (rc == NGX_DONE && pc->connection) {
            /* a keepalive connection to it: closed, not reused */
            ngx_close_connection(pc->connection);
            pc->connection = NULL;
        }

        tries = pc->tries;
        free(pc, data, 0);
        pc->tries = tries;
    }

    return NGX_BUSY;
}


void
ngx_http_llm_health_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_llm_health_stop(cycle);
}


static void
ngx_http_llm_health_timer(ngx_event_t *ev)
{
    ngx_uint_t                 i;
    ngx_http_llm_probe_t      *pr;
    ngx_http_llm_main_conf_t  *lmcf;

    lmcf = ev->data;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        ngx_http_llm_health_stop((ngx_cycle_t *) ngx_cycle);
        return;
    }

    pr = ngx_http_llm_probes->elts;

    if (ngx_http_llm_health_lease(lmcf, ev->log)) {

        for (i = 0; i < ngx_http_llm_probes->nelts; i++) {
            if (pr[i].busy
                || (ngx_msec_int_t) (ngx_current_msec - pr[i].next) < 0)
            {
                continue;
            }

            if (ngx_http_llm_probe_start(&pr[i], ev->log) != NGX_OK) {
                pr[i].next = ngx_current_msec + pr[i].prov->check->interval;
            }
        }

    } else {
        for (i = 0; i < ngx_http_llm_probes->nelts; i++) {
            ngx_http_llm_probe_abort(&pr[i]);
            pr[i].next = ngx_current_msec;
        }
    }

    ngx_add_timer(ev, lmcf->probe_tick);
}


/*
 * One worker probes: the holder of a lease in the zone renews it every
 * tick; another worker takes it when it runs out or its holder is gone
 * (a worker killed outright never releases it).
 */

static ngx_uint_t
ngx_http_llm_health_lease(ngx_http_llm_main_conf_t *lmcf, ngx_log_t *log)
{
    ngx_pid_t              old;
    ngx_uint_t             take;
    ngx_msec_t             now;
    ngx_http_llm_shctx_t  *sh;

    sh = lmcf->sh;
    now = ngx_current_msec;
    take = 0;

    ngx_shmtx_lock(&lmcf->shpool->mutex);

    old = sh->prober;

    if (old == ngx_pid) {
        take = 1;

    } else if (old == 0
               || (ngx_msec_int_t) (now - sh->prober_until) >= 0
               || (kill(old, 0) == -1 && ngx_errno == NGX_ESRCH))
    {
        take = 2;
    }

    if (take) {
        sh->prober = ngx_pid;
        sh->prober_until = now + 3 * lmcf->probe_tick;
    }

    ngx_shmtx_unlock(&lmcf->shpool->mutex);

    if (take == 2) {
        if (old) {
            ngx_log_error(NGX_LOG_NOTICE, log, 0,
                          "llm router: health checks run in this worker, "
                          "taken over from process %P", old);

        } else {
            ngx_log_error(NGX_LOG_NOTICE, log, 0,
                          "llm router: health checks run in this worker");
        }
    }

    ngx_http_llm_prober = (take != 0);

    return ngx_http_llm_prober;
}


/* exiting: no probe is left open, and the lease goes at once */

static void
ngx_http_llm_health_stop(ngx_cycle_t *cycle)
{
    ngx_uint_t                 i;
    ngx_http_llm_probe_t      *pr;
    ngx_http_llm_main_conf_t  *lmcf;

    if (ngx_http_llm_probes == NULL) {
        return;
    }

    pr = ngx_http_llm_probes->elts;

    for (i = 0; i < ngx_http_llm_probes->nelts; i++) {
        ngx_http_llm_probe_abort(&pr[i]);
    }

    if (ngx_http_llm_health_ev.timer_set) {
        ngx_del_timer(&ngx_http_llm_health_ev);
    }

    lmcf = ngx_http_llm_health_ev.data;

    if (ngx_http_llm_prober && lmcf && lmcf->sh) {
        ngx_shmtx_lock(&lmcf->shpool->mutex);

        if (lmcf->sh->prober == ngx_pid) {
            lmcf->sh->prober = 0;
        }

        ngx_shmtx_unlock(&lmcf->shpool->mutex);
    }

    ngx_http_llm_prober = 0;
    ngx_http_llm_probes = NULL;
}


/*
 * A probe's outcome: 2xx passes; 401/403 marks the key it used, not the
 * server; anything else fails.  "fall" failures in a row mark a server
 * down, "rise" passes up again; a provider is down when all its servers
 * are.  One [warn] per change of state.
 */

static void
ngx_http_llm_probe_result(ngx_http_llm_probe_t *pr, ngx_uint_t outcome,
    const char *reason, ngx_log_t *log)
{
    time_t                        now;
    ngx_uint_t                    i, pass, refused, all_down, key_change,
                                  server_change, prov_change, nkeys;
    ngx_msec_t                    latency;
    ngx_http_llm_check_t         *chk;
    ngx_http_llm_health_t        *s, *k;
    ngx_http_llm_provider_t      *prov;
    ngx_http_llm_shm_provider_t  *n;

    prov = pr->prov;
    chk = prov->check;
    n = prov->shm;
    now = ngx_time();
    latency = ngx_current_msec - pr->start;
    nkeys = prov->keys->nelts;

    pr->next = pr->start + chk->interval;

    if ((ngx_msec_int_t) (pr->next - ngx_current_msec) < 0) {
        pr->next = ngx_current_msec;
    }

    if (ngx_exiting || n == NULL) {
        return;
    }

    pass = (outcome >= 200 && outcome < 300);
    refused = (outcome == 401 || outcome == 403) && nkeys;

    key_change = 0;
    server_change = 0;
    prov_change = 0;

    ngx_shmtx_lock(&prov->shpool->mutex);

    s = (pr->server < n->nservers) ? &n->servers[pr->server] : &n->health;
    k = (pr->probe_key < n->nhkeys) ? &n->keys[pr->probe_key] : NULL;

    /* the provider shows the last probe of any of its servers */

    ngx_http_llm_health_seen(&n->health, now, outcome, latency);

    if (s != &n->health) {
        ngx_http_llm_health_seen(s, now, outcome, latency);
    }

    if (k) {
        ngx_http_llm_health_seen(k, now, outcome, latency);

        if (refused && !k->down) {
            k->down = 1;
            k->since = now;
            key_change = 1;

        } else if (pass && k->down) {
            k->down = 0;
            k->since = now;
            key_change = 2;
        }

        if (refused) {
            k->probe_failures++;
        }
    }

    if (!refused) {
        if (pass) {
            s->passes++;
            s->fails = 0;

            if (s->down && s->passes >= chk->rise) {
                s->down = 0;
                s->since = now;
                server_change = 2;

                if (s != &n->health && n->servers_down) {
                    n->servers_down--;
                }
            }

        } else {
            s->fails++;
            s->passes = 0;
            s->probe_failures++;

            if (s != &n->health) {
                n->health.probe_failures++;
            }

            if (!s->down && s->fails >= chk->fall) {
                s->down = 1;
                s->since = now;
                server_change = 1;

                if (s != &n->health) {
                    n->servers_down++;
                }
            }
        }

        if (s != &n->health) {
            all_down = 1;

            for (i = 0; i < n->nservers; i++) {
                if (!n->servers[i].down) {
                    all_down = 0;
                    break;
                }
            }

            if (all_down != n->health.down) {
                n->health.down = all_down;
                n->health.since = now;
                prov_change = all_down ? 1 : 2;
            }

        } else {
            prov_change = server_change;
            server_change = 0;
        }
    }

    ngx_shmtx_unlock(&prov->shpool->mutex);

    if (prov_change) {
        /* the other nodes of a fleet take it over (llm_redis sync=) */
        ngx_http_llm_fleet_health(prov);
    }

    ngx_http_llm_health_log(pr, outcome, reason, log, key_change,
                            server_change, prov_change);
}


static void
ngx_http_llm_health_seen(ngx_http_llm_health_t *h, time_t now,
    ngx_uint_t outcome, ngx_msec_t latency)
{
    h->checked = now;
    h->last = outcome;
    h->latency = latency;
    h->probes++;
}


/* one [warn] per change of state, with its reason */

static void
ngx_http_llm_health_log(ngx_http_llm_probe_t *pr, ngx_uint_t outcome,
    const char *reason, ngx_log_t *log, ngx_uint_t key_change,
    ngx_uint_t server_change, ngx_uint_t prov_change)
{
    u_char                   buf[64], *last;
    ngx_http_llm_check_t    *chk;
    ngx_http_llm_provider_t *prov;

    prov = pr->prov;
    chk = prov->check;

    last = ngx_http_llm_outcome(buf, sizeof(buf), outcome, reason);

    if (key_change == 1) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "llm router: key #%ui of provider \"%V\" is refused "
                      "by probes (%*s): skipped until a probe with it "
                      "passes", pr->probe_key + 1, &prov->name,
                      last - buf, buf);

    } else if (key_change == 2) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "llm router: key #%ui of provider \"%V\" passes "
                      "probes again", pr->probe_key + 1, &prov->name);
    }

    if (server_change && prov->shm->nservers > 1) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "llm router: server %V of provider \"%V\" is %s: "
                      "%ui probes %s, last: %*s", &pr->name, &prov->name,
                      server_change == 1 ? "down" : "up again",
                      server_change == 1 ? chk->fall : chk->rise,
                      server_change == 1 ? "failed" : "passed",
                      last - buf, buf);
    }

    if (prov_change) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "llm router: provider \"%V\" is %s: %s, last probe: "
                      "%*s", &prov->name,
                      prov_change == 1 ? "down" : "up again",
                      prov_change == 1 ? "no server passes probes"
                                       : "a server passes probes again",
                      last - buf, buf);
    }
}


static u_char *
ngx_http_llm_outcome(u_char *buf, size_t len, ngx_uint_t outcome,
    const char *reason)
{
    if (outcome >= 100) {
        return ngx_snprintf(buf, len, "status %ui", outcome);
    }

    if (outcome == NGX_HTTP_LLM_OUT_TIMEOUT) {
        return ngx_snprintf(buf, len, "timeout");
    }

    return ngx_snprintf(buf, len, "%s", reason ? reason : "error");
}
