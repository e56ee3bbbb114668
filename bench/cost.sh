#!/usr/bin/env bash
# make bench-cost: instructions per request of the gateway and of a plain
# proxy_pass to the same mock, counted by valgrind's callgrind.  Unlike
# wrk's requests per second, the count does not depend on the machine's
# load: it is the same on a busy shared machine as on an idle one.
#
# For every case and side, the proxying nginx (one process:
# master_process off) runs under callgrind twice: once for WARMUP requests
# and once for WARMUP + N, over one keepalive connection.  The difference
# of the two totals, divided by N, is the cost of one request: start-up,
# shutdown and the first requests' one-time costs (pool growth, upstream
# connection, lazy initialisation) cancel out.  The mock runs natively.
#
#   BENCH_COST_PORT     first of four ports: mock, gateway, plain, Redis
#                       (default 2041; Redis only for the case 1k-redis)
#   BENCH_COST_N        requests measured (default 20)
#   BENCH_COST_WARMUP   requests not measured (default 5)
#   BENCH_COST_CASES    cases to run, by name (default: all below)
#   BENCH_COST_TOP      functions listed per case (default 8)
#   BENCH_COST_RUN      work directory (default bench/run-cost)
#   BENCH_COST_BUILD    directory of the two modules (default build/)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
run=${BENCH_COST_RUN:-$top/bench/run-cost}
base=${BENCH_COST_PORT:-2041}
n=${BENCH_COST_N:-20}
warmup=${BENCH_COST_WARMUP:-5}
ntop=${BENCH_COST_TOP:-8}
build=${BENCH_COST_BUILD:-$top/build}
mock_port=$base
gw_port=$((base + 1))
plain_port=$((base + 2))
redis_port=$((base + 3))

# The cases: name, request path on both sides, body file (in $run), SSE
# events expected in the answer (- for a JSON answer; PLAIN/GATEWAY when
# the two differ).  A new case (the translated API, a Redis budget) is one
# more line here, plus its routes in the configurations below if it needs
# any.  1k-xlate-sse (make bench's: no usage chunk asked for): the plain
# side's stream is the mock's OpenAI one (19 words, finish, [DONE]), the
# gateway's Anthropic's translated, which opens with a role chunk (22).
cases=(
    "1k      /v1/chat/completions      body-1k.json    -"
    "100k    /v1/chat/completions      body-100k.json  -"
    "1m      /v1/chat/completions      body-1m.json    -"
    "sse22   /v1/chat/completions      body-sse.json   22"
    "1k-redis /v1/chat/completions     body-1k.json    -"
    "1k-xlate /v1/chat/completions     body-1k-xlate.json -"
    "1k-xlate-sse /v1/chat/completions body-sse-xlate.json 21/22"
)
selected=${BENCH_COST_CASES:-$(for c in "${cases[@]}"; do
    set -- $c; echo -n "$1 "; done)}

rm -rf "$run"
mkdir -p "$run/mock/logs" "$run/gw/logs" "$run/plain/logs"

# bodies: chat requests as make bench sends them, of ~1 KB, ~100 KB and
# ~1 MB; the SSE case asks for a stream with a ~1 KB body
python3 - "$run" <<'PY'
import json, sys
run = sys.argv[1]
for name, size, extra in (("1k", 1024, {}), ("100k", 100 * 1024, {}),
                          ("1m", 1000 * 1024, {}),
                          ("1k-xlate", 1024, {"model": "bench-xlate"}),
                          ("sse", 1024, {"stream": True, "stream_options":
                                         {"include_usage": True}}),
                          ("sse-xlate", 1024, {"model": "bench-xlate",
                                               "stream": True})):
    msgs, body = [], None
    while True:
        body = json.dumps(dict({"model": "bench", "max_tokens": 256},
                               **extra, messages=msgs))
        if len(body) >= size:
            break
        msgs.append({"role": "user" if len(msgs) % 2 == 0 else "assistant",
                     "content": "lorem ipsum dolor sit amet " * 8})
    open(f"{run}/body-{name}.json", "w").write(body)
PY

# the mock: make bench's, with an answer of 19 words, so that a stream has
# 22 events (19 words, finish, usage, [DONE])
cat > "$run/mock/nginx.conf" <<CONF
load_module $build/ngx_http_llm_mock_module.so;
worker_processes 1;
error_log logs/error.log warn;
pid logs/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_buffer_size 2m;
    client_max_body_size 2m;
    keepalive_requests 100000;
    server {
        listen 127.0.0.1:$mock_port;
        location / {
            llm_mock "content=one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen";
        }
    }
}
CONF

# make bench's configuration, one process, bodies up to 2 MB in memory
common="load_module $build/ngx_http_llm_router_module.so;
daemon off;
master_process off;
worker_processes 1;
error_log logs/error.log warn;
pid logs/nginx.pid;
events { worker_connections 1024; }"

# the gateway; 1k-redis: its budget on a Redis this script starts (the
# instructions counted are the gateway's: formatting the two EVALSHA,
# reading their replies; not Redis' own)
gw_conf() {
cat > "$run/gw/nginx.conf" <<CONF
$common
http {
$1
    access_log off;
    client_body_buffer_size 2m;
    client_max_body_size 2m;
    keepalive_requests 100000;

    upstream mock {
        server 127.0.0.1:$mock_port;
        keepalive 64;
    }

    llm_upstream mock upstream=mock host=127.0.0.1 tls=off path=/v1
                      key=sk-bench;
    llm_route bench mock:bench-model;

    # 1k-xlate: an OpenAI chat client, a provider of Anthropic's API
    llm_upstream anthropic upstream=mock host=127.0.0.1 tls=off path=/v1
                      api=anthropic key=sk-bench;
    llm_route bench-xlate anthropic:bench-model;

    # usage accounting with one budget and a price, as in production
    llm_price mock:bench-model input=2.5 output=10;
    llm_budget key=\$remote_addr tokens=1000000000000/d name=bench;

    server {
        listen 127.0.0.1:$gw_port;
        location /v1/ {
            include $top/conf/llm_params;
        }
    }
}
CONF
}

cat > "$run/plain/nginx.conf" <<CONF
$common
http {
    access_log off;
    client_body_buffer_size 2m;
    client_max_body_size 2m;
    keepalive_requests 100000;

    upstream mock {
        server 127.0.0.1:$mock_port;
        keepalive 64;
    }

    server {
        listen 127.0.0.1:$plain_port;
        location / {
            proxy_pass http://mock;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
        }
    }
}
CONF

cg_pid=
redis_pid=
stop() {
    [ -n "$cg_pid" ] && kill "$cg_pid" 2>/dev/null || true
    [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null || true
    [ -f "$run/mock/logs/nginx.pid" ] \
        && kill "$(cat "$run/mock/logs/nginx.pid")" 2>/dev/null || true
}
trap stop EXIT

wait_port() {
    for _ in $(seq 300); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "bench-cost: nothing listens on port $1" >&2
    return 1
}

nginx -p "$run/mock" -c nginx.conf
wait_port "$mock_port"

case " $selected " in
*" 1k-redis "*)
    redis-server --port "$redis_port" --bind 127.0.0.1 --save '' \
        --appendonly no --dir "$run" >"$run/redis.log" 2>&1 &
    redis_pid=$!
    wait_port "$redis_port"
    ;;
esac

# one callgrind run: side, port, case, path, body, events, requests
measure() {
    local side=$1 port=$2 name=$3 path=$4 body=$5 events=$6 count=$7
    local out=$run/$side/$name.$count.cg

    case $events in
    */*) [ "$side" = plain ] && events=${events%/*} || events=${events#*/} ;;
    esac

    valgrind --tool=callgrind --callgrind-out-file="$out" \
        --log-file="$run/$side/valgrind.log" \
        nginx -p "$run/$side" -c nginx.conf &
    cg_pid=$!
    wait_port "$port"
    python3 "$top/bench/client.py" "$port" "$path" "$run/$body" \
        "$count" $([ "$events" != - ] && echo "$events")
    kill -QUIT "$cg_pid"
    wait "$cg_pid" || true
    cg_pid=
}

for name in $selected; do
    found=
    for c in "${cases[@]}"; do
        set -- $c
        [ "$1" = "$name" ] && found="$c"
    done
    if [ -z "$found" ]; then
        echo "bench-cost: no case \"$name\"" >&2
        exit 1
    fi
    set -- $found
    if [ "$1" = 1k-redis ]; then
        # sync=1h: no sync within the run, its cost is not a request's
        gw_conf "    llm_redis 127.0.0.1:$redis_port timeout=5s sync=1h;"
    else
        gw_conf ""
    fi
    for count in "$warmup" "$((warmup + n))"; do
        measure gw "$gw_port" "$1" "$2" "$3" "$4" "$count"
        measure plain "$plain_port" "$1" "$2" "$3" "$4" "$count"
    done
done

if grep 'redis .* is down' "$run/gw/logs/error.log"; then
    echo "bench-cost: Redis was down during 1k-redis" >&2
    exit 1
fi

if grep -E '\[(alert|crit|emerg)\]' "$run"/*/logs/error.log; then
    echo "bench-cost: nginx logged alerts" >&2
    exit 1
fi

python3 "$top/bench/cost.py" "$run" "$warmup" "$n" "$ntop" $selected
