#!/usr/bin/env bash
# make fault: faults under load. A gateway (2 workers) routes two models
# through a fault-injecting provider (bench/fault_provider.py: resets and
# closes before the header, garbage, stalls, an unrequested gzip answer,
# 429s with every kind of Retry-After, a 503 with a date) to one healthy
# mock each; wrk sends
# FAULT_CONNS (64) connections of JSON and SSE requests for FAULT_SECONDS
# (60) while the gateway is reloaded five times and upgraded once to a new
# binary (USR2, WINCH, QUIT). A second wrk (4 connections) uses a third
# model whose faults come after the response header (a JSON body cut by a
# reset, a stream cut), shared by weight with
# a healthy mock: nothing can fail over there, the client gets what the
# provider sent.
#
# Passes when: the first wrk got only 2xx answers and no socket error
# (no request lost across the reloads and the upgrade); every counter
# adds up: the gateway's attempts per provider = what the fault provider
# and the mocks counted; the budgets' used requests and tokens = what the
# mocks served (7 + 5 tokens an answer); nothing left reserved; no
# [alert], [crit] or [emerg].
#
# Counters across the binary upgrade: the new master's zone starts from
# the state file (state=) as it was at USR2; the old workers write theirs
# when they exit.  total = old master's last file + new master's last
# file - the file the new master started from.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
run=$top/bench/run-fault
secs=${FAULT_SECONDS:-60}
conns=${FAULT_CONNS:-64}
port=${FAULT_PORT:-18291}
mport=$((port + 1))
fport=$((port + 2))
nginx=${NGINX:-/usr/sbin/nginx}

rm -rf "$run"
mkdir -p "$run/gw/logs" "$run/mock/logs"
# the workers write the state file (as nobody when run as root)
mkdir -m 777 "$run/gw/state"

cat > "$run/mock/nginx.conf" <<CONF
load_module $top/build/ngx_http_llm_mock_module.so;
worker_processes 1;
error_log logs/error.log warn;
pid logs/nginx.pid;
events { worker_connections 4096; }
http {
    log_format served '\$uri \$status';
    access_log logs/served.log served;
    server {
        listen 127.0.0.1:$mport backlog=4096;
        location / { llm_mock prompt_tokens=7 completion_tokens=5; }
    }
}
CONF

# the faults of the two clean models (at most 16 targets a route)
faults_a="reset close garbage stall gzip r503-date r429-secs r429-zero r429-neg"
faults_b="r429-huge r429-text r429-empty r429-past r429-future r429-year r429-two r429-none"
faults_dirty="cut sse-cut"

upstreams=""
for f in $faults_a $faults_b $faults_dirty; do
    t=""
    [ "$f" = stall ] && t=" read_timeout=500ms"
    upstreams+="    llm_upstream f-$f host=127.0.0.1 port=$fport tls=off path=/$f/v1 key=sk-$f fail_timeout=1s$t;"$'\n'
done
for m in clean-a clean-b dirty; do
    upstreams+="    llm_upstream ok-$m host=127.0.0.1 port=$mport tls=off path=/$m/v1 key=sk-ok fail_timeout=1s;"$'\n'
done
route() { local r="llm_route $1"; shift; for f in "$@"; do r+=" f-$f"; done; echo "$r"; }

cat > "$run/gw/nginx.conf" <<CONF
load_module $top/build/ngx_http_llm_router_module.so;
worker_processes 2;
error_log logs/error.log warn;
pid logs/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    llm_zone llm 8m state=state/llm.json state_interval=1h;
$upstreams
    $(route clean-a $faults_a) ok-clean-a;
    $(route clean-b $faults_b) ok-clean-b;
    llm_route_weighted dirty {
$(for f in $faults_dirty; do echo "        f-$f;"; done)
        ok-dirty;
    }
    llm_budget key=\$llm_model tokens=1000000000/d requests=1000000000/d
               name=model;

    server {
        listen 127.0.0.1:$port backlog=4096;
        location /v1/ { include $top/conf/llm_params; }
    }
}
CONF

gwpid() { cat "$run/gw/logs/nginx.pid"; }
# the worker processes of master $1 (after USR2 the new master is a child)
workers() { pgrep -P "$1" -f "worker process" | wc -l; }
stop() {
    [ -n "${fpid:-}" ] && kill "$fpid" 2>/dev/null || true
    for f in "$run"/gw/logs/nginx.pid "$run"/gw/logs/nginx.pid.oldbin \
             "$run"/mock/logs/nginx.pid; do
        [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
    done
}
trap stop EXIT

python3 "$top/bench/fault_provider.py" "$fport" &
fpid=$!
until curl -s -o /dev/null "http://127.0.0.1:$fport/counts"; do sleep 0.2; done
"$nginx" -p "$run/mock" -c nginx.conf
"$nginx" -p "$run/gw" -c nginx.conf
sleep 1

FAULT_MODELS=clean-a,clean-b wrk -t2 -c"$conns" -d"${secs}s" --timeout 10s \
    -s "$top/bench/fault.lua" "http://127.0.0.1:$port" >"$run/wrk.txt" 2>&1 &
wrk_pid=$!
FAULT_MODELS=dirty wrk -t1 -c4 -d"${secs}s" --timeout 10s \
    -s "$top/bench/fault.lua" "http://127.0.0.1:$port" \
    >"$run/wrk-dirty.txt" 2>&1 &
wrk2_pid=$!

# five reloads, then the binary upgrade, spread over the run
step=$((secs / 8))
for i in 1 2 3 4 5; do
    sleep "$step"
    "$nginx" -p "$run/gw" -c nginx.conf -s reload
    echo "$((SECONDS)) s: reload $i"
done

sleep "$step"
# the workers the reloads retired have written the file: it is what the
# new master starts from
old=$(gwpid)
while [ "$(workers "$old")" -gt 2 ]; do sleep 0.2; done
cp "$run/gw/state/llm.json" "$run/state-at-usr2.json"
kill -USR2 "$old"
while [ ! -f "$run/gw/logs/nginx.pid.oldbin" ] || [ "$(gwpid)" = "$old" ]; do
    sleep 0.1
done
sleep 1
kill -WINCH "$old"
while [ "$(workers "$old")" -gt 0 ]; do sleep 0.2; done
cp "$run/gw/state/llm.json" "$run/state-old-final.json"
kill -QUIT "$old"
echo "$((SECONDS)) s: binary upgrade, old master $old gone"

wait $wrk_pid || true
wait $wrk2_pid || true
sleep 1

new=$(gwpid)
curl -s "http://127.0.0.1:$fport/counts" >"$run/fault-counts.json"
"$nginx" -p "$run/gw" -c nginx.conf -s quit
while kill -0 "$new" 2>/dev/null; do sleep 0.2; done
cp "$run/gw/state/llm.json" "$run/state-new-final.json"

cat "$run/wrk.txt"
echo "--- dirty model (faults after the header):"
cat "$run/wrk-dirty.txt"

fail=0
python3 - "$run" <<'PY' || fail=1
import json, sys, collections
run = sys.argv[1]
load = lambda f: json.load(open(f"{run}/{f}"))
files = [load("state-old-final.json"), load("state-new-final.json"),
         load("state-at-usr2.json")]
sign = [1, 1, -1]

prov = collections.Counter()
series = collections.Counter()
totals = collections.Counter()
for st, s in zip(files, sign):
    for p in st["providers"]:
        for k in ("attempts", "failures"):
            prov[(p["name"], k)] += s * p[k]
    for x in st["series"]:
        if x["type"] == 3:      # budget: [budget, key, metric]
            key = tuple(x["label"][1:])
            series[key + ("used",)] += s * x["v"][0]
            series[key + ("reserved",)] += s * x["v"][1]
    for k, v in st["totals"].items():
        totals[k] += s * v

faults = json.load(open(f"{run}/fault-counts.json"))
served = collections.Counter()
for line in open(f"{run}/mock/logs/served.log"):
    uri, status = line.split()
    if status == "200":
        served[uri.split("/")[1]] += 1

bad = []
def check(what, got, want):
    ok = got == want
    print(f"{'ok  ' if ok else 'FAIL'} {what}: {got} (expected {want})")
    if not ok:
        bad.append(what)

for f, n in sorted(faults.items()):
    check(f"attempts of f-{f} = answers the fault provider gave",
          prov[(f"f-{f}", "attempts")], n)
for m in ("clean-a", "clean-b", "dirty"):
    check(f"attempts of ok-{m} = answers its mock served",
          prov[(f"ok-{m}", "attempts")], served[m])
    check(f"failures of ok-{m}", prov[(f"ok-{m}", "failures")], 0)
for m in ("clean-a", "clean-b"):
    check(f"budget {m}: requests used = mock answers",
          series[(m, "requests", "used")], served[m])
    check(f"budget {m}: tokens used = 12 x mock answers",
          series[(m, "tokens", "used")], 12 * served[m])
# after the header a 2xx was served even if its body broke
after = sum(faults.get(f, 0) for f in ("cut", "sse-cut"))
check("budget dirty: requests used = mock answers + 2xx headers of faults",
      series[("dirty", "requests", "used")], served["dirty"] + after)
print(f"     budget dirty: tokens used {series[('dirty', 'tokens', 'used')]}"
      f" ({12 * served['dirty']} from the mock, the rest reserved estimates"
      f" for the {after} answers without readable usage)")
for k, v in sorted(series.items()):
    if k[-1] == "reserved":
        check(f"budget {k[0]} {k[1]}: reserved back to 0", v, 0)
print("totals:", dict(totals))
print("faults injected:", sum(faults.values()), dict(sorted(faults.items())))
print("healthy answers:", dict(served))
sys.exit(1 if bad else 0)
PY

grep -q '^status 200: ' "$run/wrk.txt" || fail=1
if grep -E '^status [^2]' "$run/wrk.txt"; then
    echo "fault: non-2xx answers reached the clients"; fail=1
fi
if ! grep -q 'errors: connect 0 read 0 write 0 status 0 timeout 0' \
        "$run/wrk.txt"; then
    echo "fault: requests were lost"; fail=1
fi
if grep -E '\[(alert|crit|emerg)\]' "$run"/gw/logs/error.log; then
    echo "fault: nginx logged alerts" >&2; fail=1
fi
[ $fail = 0 ] && echo "fault: passed" || echo "fault: FAILED"
exit $fail
