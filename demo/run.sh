#!/usr/bin/env bash
# make demo: runs conf.example in the foreground on 127.0.0.1:8080 with the
# bundled mock provider; Ctrl-C stops it.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
run=$top/demo/run
mkdir -p "$run/conf" "$run/logs" "$run/build"
cp "$top/conf/llm_params" "$run/conf/llm_params"
cp "$top"/build/*.so "$run/build/"
cp "$top/conf.example" "$run/nginx.conf"

if ! nginx -t -p "$run" -c nginx.conf -g 'daemon off;' >"$run/logs/t.log" 2>&1
then
    cat "$run/logs/t.log"
    exit 1
fi

cat <<'MSG'

  LLM gateway on http://127.0.0.1:8080 (mock providers, offline). Try:

    curl -s http://127.0.0.1:8080/v1/chat/completions \
      -H 'Content-Type: application/json' \
      -d '{"model":"gpt-4o","messages":[{"role":"user","content":"Hi"}]}'

    curl -sN http://127.0.0.1:8080/v1/chat/completions \
      -H 'Content-Type: application/json' \
      -d '{"model":"resilient","stream":true,"messages":[{"role":"user","content":"Hi"}]}'

    curl -s http://127.0.0.1:8080/v1/models
    curl -s http://127.0.0.1:8080/metrics      (and /status in a browser)

  Access log below shows route, provider and every attempt. Ctrl-C stops.

MSG

exec nginx -p "$run" -c nginx.conf -g 'daemon off;'
