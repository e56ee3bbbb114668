#!/usr/bin/env bash
# make soak: SOAK_SECONDS (default 600) of mixed traffic through a gateway
# with 2 workers: JSON, SSE, failover after a 503, streams cut by the
# provider, a budget that refuses, unknown models. Samples every worker's
# RSS and the zone's free bytes; fails when a worker grew by more than
# SOAK_RSS_KB (default 2048) after the warm-up, when the zone's free space
# kept shrinking, or on any [alert]/[crit]/[emerg].
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
run=$top/bench/run-soak
secs=${SOAK_SECONDS:-600}
step=${SOAK_STEP:-30}
limit_kb=${SOAK_RSS_KB:-2048}
port=${SOAK_PORT:-18191}
mport=$((port + 1))

rm -rf "$run"
mkdir -p "$run/gw/logs" "$run/mock/logs"

cat > "$run/mock/nginx.conf" <<CONF
load_module $top/build/ngx_http_llm_mock_module.so;
worker_processes 1;
error_log logs/error.log warn;
pid logs/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 100000;
    server {
        listen 127.0.0.1:$mport backlog=4096;
        location /ok/   { llm_mock; }
        location /down/ { llm_mock status=503; }
        location /cut/  { llm_mock cut=3; }
    }
}
CONF

cat > "$run/gw/nginx.conf" <<CONF
load_module $top/build/ngx_http_llm_router_module.so;
worker_processes 2;
error_log logs/error.log warn;
pid logs/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 100000;
    upstream mock { server 127.0.0.1:$mport; keepalive 32; }

    llm_zone llm 4m;
    llm_upstream ok   upstream=mock host=127.0.0.1 tls=off path=/ok/v1
                      key=sk-ok;
    llm_upstream down upstream=mock host=127.0.0.1 tls=off path=/down/v1
                      key=sk-down max_fails=0;
    llm_upstream cut  upstream=mock host=127.0.0.1 tls=off path=/cut/v1
                      key=sk-cut;
    llm_route json     ok:mock-json;
    llm_route sse      ok:mock-sse;
    llm_route failover down ok:mock-failover;
    llm_route cut      cut:mock-cut;
    llm_route tight    ok:mock-tight;
    llm_price ok:mock-json input=2.5 output=10;
    llm_budget key=\$http_x_tenant tokens=100000000/d name=tenants;
    map \$llm_model \$tight_key { tight tight; default ""; }
    llm_budget key=\$tight_key requests=1/h name=tight;

    server {
        listen 127.0.0.1:$port backlog=4096;
        location /v1/ { include $top/conf/llm_params; }
        location = /status.json { llm_status json; }
    }
}
CONF

stop() {
    for d in gw mock; do
        [ -f "$run/$d/logs/nginx.pid" ] \
            && kill "$(cat "$run/$d/logs/nginx.pid")" 2>/dev/null || true
    done
}
trap stop EXIT

nginx -p "$run/mock" -c nginx.conf
nginx -p "$run/gw" -c nginx.conf
sleep 0.5

rss() {   # KB per gateway worker, space separated
    for pid in $(pgrep -P "$(cat "$run/gw/logs/nginx.pid")" | sort -n); do
        awk '/^VmRSS/ { printf "%s ", $2 }' /proc/$pid/status
    done
}
zone_free() {
    curl -s "http://127.0.0.1:$port/status.json" \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["zone"]["free"])'
}

wrk -t1 -c32 -d"${secs}s" -s "$top/bench/soak.lua" \
    "http://127.0.0.1:$port" >"$run/wrk.txt" 2>&1 &
wrk_pid=$!

printf '%6s %-24s %12s\n' second "worker RSS (KB)" "zone free"
t=0; base=""; zbase=""; samples=""; start=$SECONDS
warm=$((secs / 4 < 60 ? secs / 4 : 60))
while kill -0 $wrk_pid 2>/dev/null && [ $t -lt "$secs" ]; do
    sleep "$step"; t=$((SECONDS - start))
    r=$(rss); z=$(zone_free)
    printf '%6s %-24s %12s\n' "$t" "$r" "$z"
    # the first minute is warm-up: pools, caches and series fill
    if [ $t -ge $warm ] && [ -z "$base" ]; then base=$r; zbase=$z; fi
    samples="$r"; zlast=$z
done
wait $wrk_pid || true
cat "$run/wrk.txt"

fail=0
set -- $base; b1=${1:-0}; b2=${2:-0}
set -- $samples; l1=${1:-0}; l2=${2:-0}
for g in $((l1 - b1)) $((l2 - b2)); do
    echo "worker RSS growth after warm-up: ${g} KB (limit ${limit_kb} KB)"
    [ "$g" -le "$limit_kb" ] || fail=1
done
echo "zone free bytes after warm-up: $zbase -> $zlast"
[ "${zlast:-0}" -ge "${zbase:-0}" ] || { echo "soak: the zone kept filling"; fail=1; }
if grep -E '\[(alert|crit|emerg)\]' "$run"/*/logs/error.log; then
    echo "soak: nginx logged alerts" >&2; fail=1
fi
[ $fail = 0 ] && echo "soak: passed" || echo "soak: FAILED"
exit $fail
