#!/usr/bin/env bash
# make bench: throughput of the gateway against a plain proxy_pass to the
# same mock, in one run, alternating, one nginx worker each side.
#
#   BENCH_SECONDS   length of one wrk run (default 3)
#   BENCH_ROUNDS    gateway/plain pairs per case (default 7)
#
# Besides requests per second, each run reads the proxying worker's CPU
# time (utime + stime in /proc) before and after wrk: CPU microseconds per
# request, which the machine's other load moves much less than the
# throughput (for 1k-redis also redis-server's, on the client's core).
#
#   BENCH_CASES     which cases (default: all): 1k and 100k chat bodies on
#                   a plain route; at 1 KB, 1k-check (the provider probed
#                   every second), 1k-latency (select=latency), 1k-hedge
#                   (hedge=5s that never fires), 1k-redis (the budget on a
#                   Redis this script starts on loopback: a gateway of its
#                   own with llm_redis, same routes), 1k-xlate and
#                   1k-xlate-sse (an OpenAI chat client on a route whose
#                   provider speaks Anthropic's API: request, answer and
#                   stream translated; the plain side posts the same body
#                   to the mock's chat endpoint), 1k-sse (an OpenAI client
#                   streaming from the OpenAI mock, usage included: 22
#                   events, as bench-cost's sse22; both sides reach the
#                   mock's /sse/ location, which answers 19 words)
#   BENCH_REDIS_UNIX  1k-redis reaches Redis on a unix socket instead of
#                   TCP on loopback (set: any value)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
run=$top/bench/run
secs=${BENCH_SECONDS:-3}
rounds=${BENCH_ROUNDS:-7}
conns=${BENCH_CONNECTIONS:-32}

rm -rf "$run"
mkdir -p "$run/gw/logs" "$run/mock/logs"
cases=${BENCH_CASES:-1k 100k 1k-sse 1k-check 1k-latency 1k-hedge 1k-redis 1k-xlate 1k-xlate-sse}
redis=
case " $cases " in *" 1k-redis "*) redis=1; mkdir -p "$run/gw-redis/logs" ;; esac

# bodies: a chat request of ~1 KB and ~100 KB
python3 - "$run" <<'PY'
import json, sys
run = sys.argv[1]
# one body per case: the model picks the route the case measures
for name, size, model, stream in (("1k", 1024, "bench", 0),
                          ("100k", 100 * 1024, "bench", 0),
                          ("1k-check", 1024, "bench-check", 0),
                          ("1k-latency", 1024, "bench-latency", 0),
                          ("1k-hedge", 1024, "bench-hedge", 0),
                          ("1k-redis", 1024, "bench", 0),
                          ("1k-xlate", 1024, "bench-xlate", 0),
                          ("1k-xlate-sse", 1024, "bench-xlate", 1),
                          ("1k-sse", 1024, "bench-sse", 2)):
    msgs, body = [], None
    while True:
        req = {"model": model, "max_tokens": 256, "messages": msgs}
        if stream:
            req["stream"] = True
        if stream == 2:
            req["stream_options"] = {"include_usage": True}
        body = json.dumps(req)
        if len(body) >= size:
            break
        msgs.append({"role": "user" if len(msgs) % 2 == 0 else "assistant",
                     "content": "lorem ipsum dolor sit amet " * 8})
    open(f"{run}/body-{name}.json", "w").write(body)
PY

cat > "$run/mock/nginx.conf" <<CONF
load_module $top/build/ngx_http_llm_mock_module.so;
worker_processes 1;
error_log logs/error.log warn;
pid logs/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_buffer_size 128k;
    client_max_body_size 1m;
    keepalive_requests 100000;
    server {
        listen 127.0.0.1:18093 reuseport backlog=4096;
        location / { llm_mock; }
        location /sse/ {
            llm_mock "content=one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen";
        }
        location = /health { return 200; }
    }
}
CONF

# the gateway: directory, port, extra http{} directives
gw_conf() {
cat > "$run/$1/nginx.conf" <<CONF
load_module $top/build/ngx_http_llm_router_module.so;
worker_processes 1;
error_log logs/error.log warn;
pid logs/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_buffer_size 128k;
    client_max_body_size 1m;
    keepalive_requests 100000;

    upstream mock {
        server 127.0.0.1:18093;
        keepalive 64;
    }

$3
    llm_upstream mock upstream=mock host=127.0.0.1 tls=off path=/v1
                      key=sk-bench;
    llm_upstream mock2 upstream=mock host=127.0.0.1 tls=off path=/v1
                      key=sk-bench;
    llm_route bench mock:bench-model;

    # 1k-sse: the mock's location of a 19-word answer
    llm_upstream mocksse upstream=mock host=127.0.0.1 tls=off path=/sse/v1
                      key=sk-bench;
    llm_route bench-sse mocksse:bench-model;

    # the other cases: active health checks every second on the provider,
    # a route ordered by measured latency, a hedged route whose hedge
    # never fires (the mock answers at once)
    llm_upstream checked upstream=mock host=127.0.0.1 tls=off path=/v1
                      key=sk-bench check=/health check_interval=1s;
    llm_route bench-check checked:bench-model;
    llm_route_weighted bench-latency select=latency {
        mock:bench-model;
        mock2:bench-model;
    }
    # translated: an OpenAI chat client, a provider of Anthropic's API
    llm_upstream anthropic upstream=mock host=127.0.0.1 tls=off path=/v1
                      api=anthropic key=sk-bench;
    llm_route bench-xlate anthropic:bench-model;
    llm_route_weighted bench-hedge hedge=5s {
        mock:bench-model;
        mock2:bench-model backup;
    }

    # usage accounting with one budget and a price, as in production
    llm_price mock:bench-model input=2.5 output=10;
    llm_price mocksse:bench-model input=2.5 output=10;
    llm_budget key=\$remote_addr tokens=1000000000000/d name=bench;

    server {
        listen 127.0.0.1:$2 backlog=4096;
        location /v1/ {
            include $top/conf/llm_params;
        }
    }

$4
}
CONF
}

plain='
    server {
        listen 127.0.0.1:18092 backlog=4096;
        location /v1/ {
            proxy_pass http://mock;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
        }
        location /sse/ {
            proxy_pass http://mock;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
        }
    }'


gw_conf gw 18091 "" "$plain"
# 1k-redis: the same gateway, its budget on Redis (one EVALSHA waited for
# before the request is proxied, one after), against the same plain side
redis_addr=127.0.0.1:18095
redis_unix=()
if [ -n "${BENCH_REDIS_UNIX:-}" ]; then
    redis_addr=unix:$run/redis.sock
    redis_unix=(--unixsocket "$run/redis.sock" --unixsocketperm 777)
fi
if [ -n "$redis" ]; then
    gw_conf gw-redis 18094 \
        "    llm_redis $redis_addr timeout=1s sync=1s;" ""
fi

redis_pid=
stop() {
    for d in gw gw-redis mock; do
        [ -f "$run/$d/logs/nginx.pid" ] && kill "$(cat "$run/$d/logs/nginx.pid")" \
            2>/dev/null || true
    done
    [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null || true
}
trap stop EXIT
[ -n "${BENCH_KEEP:-}" ] && trap - EXIT

# The gateway (or plain proxy) worker gets a core of its own; the mock and
# wrk share the other: what is measured is the proxying worker, and the
# alternation is not at the mercy of the scheduler.
# Redis (1k-redis) shares the mock's core: its round trip is part of the
# request's path, its work is not the gateway worker's
if [ -n "$redis" ]; then
    taskset -c 0 redis-server --port 18095 --bind 127.0.0.1 --save '' \
        --appendonly no --dir "$run" "${redis_unix[@]}" \
        >"$run/redis.log" 2>&1 &
    redis_pid=$!
    for _ in $(seq 100); do
        (exec 3<>/dev/tcp/127.0.0.1/18095) 2>/dev/null && break
        sleep 0.1
    done
fi
nginx -p "$run/mock" -c nginx.conf
nginx -p "$run/gw" -c nginx.conf
[ -n "$redis" ] && nginx -p "$run/gw-redis" -c nginx.conf
sleep 0.3
for d in mock gw gw-redis; do
    [ -f "$run/$d/logs/nginx.pid" ] || continue
    cpu=0
    [ $d != mock ] && cpu=1
    for pid in $(pgrep -P "$(cat "$run/$d/logs/nginx.pid")"); do
        taskset -pc $cpu "$pid" >/dev/null
    done
done
sleep 0.5

# the gateway's port for a case
gport() {
    if [ "$1" = 1k-redis ]; then echo 18094; else echo 18091; fi
}

# the worker that proxies a port's requests (one worker each nginx)
worker_of() {
    local d=gw
    [ "$1" = 18094 ] && d=gw-redis
    pgrep -P "$(cat "$run/$d/logs/nginx.pid")" | head -1
}

# CPU time of a process so far, in clock ticks
hz=$(getconf CLK_TCK)
ticks() {
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# the path a case posts to (the gateway's route picks the mock's location
# by the model; the plain side by the path)
cpath() {
    if [ "$1:$2" = 1k-sse:18092 ]; then
        echo /sse/v1/chat/completions
    else
        echo /v1/chat/completions
    fi
}

# sanity: both paths answer 200 for every case before measuring
for size in $cases; do
    body=$run/body-$size.json
    for port in "$(gport "$size")" 18092; do
        code=$(curl -s -o /dev/null -w '%{http_code}' \
            -H 'Content-Type: application/json' \
            --data-binary @"$body" \
            "http://127.0.0.1:$port$(cpath "$size" "$port")")
        if [ "$code" != 200 ]; then
            echo "bench: port $port answered $code for $body" >&2
            exit 1
        fi
    done
done

# one wrk run: "requests/s, the worker's CPU us per request, Redis' (0
# without Redis)"
median() {
    echo "$@" | tr ' ' '\n' | sort -g \
        | awk '{ a[NR] = $1 } END { m = int((NR + 1) / 2); print a[m] }'
}

rps() {
    local w t0 t1 r0 r1 out
    w=$(worker_of "$1")
    t0=$(ticks "$w")
    r0=0; [ -n "$redis_pid" ] && r0=$(ticks "$redis_pid")
    out=$(BENCH_BODY=$2 taskset -c 0 wrk -t1 -c"$conns" -d"${secs}s" \
        -s "$top/bench/post.lua" \
        "http://127.0.0.1:$1$(cpath "$size" "$1")" 2>&1)
    t1=$(ticks "$w")
    r1=0; [ -n "$redis_pid" ] && r1=$(ticks "$redis_pid")
    echo "$out" | awk -v t=$((t1 - t0)) -v r=$((r1 - r0)) -v hz="$hz" '
        / requests in / { n = $1 }
        /Requests\/sec/ { rps = $2 }
        END { if (n == 0) n = 1
              printf "%s %.2f %.2f\n", rps, t * 1e6 / hz / n, r * 1e6 / hz / n }'
}

# ratio: throughput, gateway / plain; cpu: CPU per request, plain /
# gateway (both: 1 is "costs what proxy_pass costs", lower is dearer)
printf '%-12s %-6s %9s %9s %6s %8s %8s %6s\n' case round gateway plain \
    ratio gw-us pl-us cpu
for size in $cases; do
    body=$run/body-$size.json
    gp=$(gport "$size")
    rps "$gp" "$body" >/dev/null     # warm-up
    ratios=""; cpus=""; gsum=0; psum=0; gcpu=0; pcpu=0; rcpu=0
    for i in $(seq "$rounds"); do
        # the order alternates too, so neither side always goes first
        if [ $((i % 2)) = 1 ]; then
            read -r p pc _ < <(rps 18092 "$body")
            read -r g gc rc < <(rps "$gp" "$body")
        else
            read -r g gc rc < <(rps "$gp" "$body")
            read -r p pc _ < <(rps 18092 "$body")
        fi
        r=$(echo "$g / $p" | bc -l)
        c=$(echo "$pc / $gc" | bc -l)
        ratios="$ratios $r"; cpus="$cpus $c"
        gsum=$(echo "$gsum + $g" | bc -l); psum=$(echo "$psum + $p" | bc -l)
        gcpu=$(echo "$gcpu + $gc" | bc -l); pcpu=$(echo "$pcpu + $pc" | bc -l)
        rcpu=$(echo "$rcpu + $rc" | bc -l)
        printf '%-12s %-6s %9.0f %9.0f %6.3f %8.2f %8.2f %6.3f\n' "$size" \
            "$i" "$g" "$p" "$r" "$gc" "$pc" "$c"
    done
    printf '%-12s %-6s %9.0f %9.0f %6.3f %8.2f %8.2f %6.3f\n' "$size" mean \
        "$(echo "$gsum / $rounds" | bc -l)" "$(echo "$psum / $rounds" | bc -l)" \
        "$(echo "$gsum / $psum" | bc -l)" "$(echo "$gcpu / $rounds" | bc -l)" \
        "$(echo "$pcpu / $rounds" | bc -l)" "$(echo "$pcpu / $gcpu" | bc -l)"
    # the medians of the pairs' ratios: one disturbed run does not move them
    printf '%-12s %-6s %9s %9s %6.3f %8s %8s %6.3f\n' "$size" median "" "" \
        "$(median $ratios)" "" "" "$(median $cpus)"
    if [ "$size" = 1k-redis ]; then
        printf '%-12s redis-server: %.2f us CPU per request (on the client'"'"'s core)\n' \
            "$size" "$(echo "$rcpu / $rounds" | bc -l)"
    fi
done

# 1k-redis measured the budget on Redis only if Redis answered throughout
if [ -n "$redis" ] && grep 'redis .* is down' "$run/gw-redis/logs/error.log"
then
    echo "bench: Redis was down during 1k-redis" >&2
    exit 1
fi

if grep -E '\[(alert|crit|emerg)\]' "$run"/*/logs/error.log; then
    echo "bench: nginx logged alerts" >&2
    exit 1
fi
