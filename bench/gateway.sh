#!/usr/bin/env bash
# Gateway mode against nginx, in one run on one machine: the same upstream (an nginx worker
# answering "ok" from memory) hit directly, through medianest-perf --upstream, and through
# nginx's proxy_pass with a keep-alive upstream block. wrk drives each in turn, three rounds.
# Prints requests/s, p50 and p99 of each, the gateway : nginx throughput ratio and the latency
# each proxy adds over the direct path (targets: ratio >= 1, added p99 < 0.2 ms).
#   bench/gateway.sh [DURATION_SECONDS] [CONNECTIONS] [PROXY_WORKERS] [HEADERS]
# PROXY_WORKERS (default 2) is both nginx's worker_processes and the gateway's --http-threads.
# HEADERS: "bare" (default: wrk's request, Host only) or "browser" (eight more fields a browser
# or an API client sends: User-Agent, Accept*, a bearer token, Referer, Cookie, Connection).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
DURATION=${1:-10}
CONNECTIONS=${2:-32}
WORKERS=${3:-2}
HEADERS=${4:-bare}

bench_require_nginx

bench_build
WORK=$(mktemp -d /tmp/medianest-gw-bench.XXXXXX)
cleanup() {
  bench_stop_daemon
  for conf in upstream proxy; do
    [ -f "$WORK/$conf.pid" ] && kill -QUIT "$(cat "$WORK/$conf.pid")" 2>/dev/null || true
  done
  sleep 0.2
  rm -rf "$WORK"
}
trap cleanup EXIT

UPSTREAM_PORT=$(bench_free_port)
NGINX_PORT=$(bench_free_port)

# nginx_start NAME WORKERS SERVER_BLOCK
nginx_start() {
  local name=$1 workers=$2 server=$3
  mkdir -p "$WORK/$name"
  cat >"$WORK/$name.conf" <<CONF
worker_processes $workers;
pid $WORK/$name.pid;
error_log $WORK/$name.error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/$name;
  proxy_temp_path $WORK/$name;
  fastcgi_temp_path $WORK/$name;
  uwsgi_temp_path $WORK/$name;
  scgi_temp_path $WORK/$name;
  keepalive_requests 1000000;
  $server
}
CONF
  "$NGINX" -p "$WORK/$name" -c "$WORK/$name.conf" -e "$WORK/$name.error.log"
}

nginx_start upstream 1 "server { listen 127.0.0.1:$UPSTREAM_PORT; location / { return 200 \"ok\n\"; } }"
nginx_start proxy "$WORKERS" "upstream backend { server 127.0.0.1:$UPSTREAM_PORT; keepalive 64; }
  server { listen 127.0.0.1:$NGINX_PORT;
    location / { proxy_pass http://backend; proxy_http_version 1.1;
      proxy_set_header Connection \"\"; proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme; } }"
bench_start_daemon --access-log off --http-threads "$WORKERS" --upstream "http://127.0.0.1:$UPSTREAM_PORT"
for url in "http://127.0.0.1:$UPSTREAM_PORT/api/v1/media/1" "http://127.0.0.1:$NGINX_PORT/api/v1/media/1" \
           "$DAEMON_URL/api/v1/media/1"; do
  curl -fs "$url" >/dev/null || { echo "no answer from $url" >&2; exit 1; }
done

WRK=(-t1 -c"$CONNECTIONS" -d"${DURATION}s")
case "$HEADERS" in
  bare) ;;
  browser)
    cat >"$WORK/browser.lua" <<'LUA'
wrk.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
wrk.headers["Accept"] = "application/json, text/plain, */*"
wrk.headers["Accept-Language"] = "en-US,en;q=0.5"
wrk.headers["Accept-Encoding"] = "gzip, deflate, br"
wrk.headers["Authorization"] = "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTQyIiwicm9sZSI6InVzZXIifQ.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"
wrk.headers["Referer"] = "https://media.example.org/library/movies"
wrk.headers["Cookie"] = "session=4f1c2a9e8b7d6c5e; theme=dark"
wrk.headers["Connection"] = "keep-alive"
LUA
    WRK+=(-s "$WORK/browser.lua") ;;
  *) echo "HEADERS must be bare or browser, not '$HEADERS'" >&2; exit 2 ;;
esac
echo "wrk ${WRK[*]} ($HEADERS request headers); $(nproc) cores shared by wrk, the upstream (1 nginx worker) and the proxy"
echo "nginx proxy: $WORKERS worker(s), keepalive 64; gateway: --http-threads $WORKERS, --access-log off"
printf '%-8s %12s %10s %10s\n' path "req/s" "p50 ms" "p99 ms"
results=()
for round in 1 2 3; do
  results+=("$(wrk_run direct "http://127.0.0.1:$UPSTREAM_PORT/api/v1/media/$round" "${WRK[@]}")")
  results+=("$(wrk_run nginx "http://127.0.0.1:$NGINX_PORT/api/v1/media/$round" "${WRK[@]}")")
  results+=("$(wrk_run gateway "$DAEMON_URL/api/v1/media/$round" "${WRK[@]}")")
done
for r in "${results[@]}"; do
  printf '%-8s %12s %10s %10s\n' $r
done
printf '%s\n' "${results[@]}" | awk '
  { rps[$1] += $2; p50[$1] += $3; p99[$1] += $4; n[$1]++ }
  END {
    for (k in n) { rps[k] /= n[k]; p50[k] /= n[k]; p99[k] /= n[k] }
    printf "throughput gateway : nginx = %.3f   gateway : direct = %.3f   nginx : direct = %.3f\n",
      rps["gateway"] / rps["nginx"], rps["gateway"] / rps["direct"], rps["nginx"] / rps["direct"]
    printf "added latency over direct (mean of %d rounds): gateway p50 %+.3f ms p99 %+.3f ms; nginx p50 %+.3f ms p99 %+.3f ms\n",
      n["gateway"], p50["gateway"] - p50["direct"], p99["gateway"] - p99["direct"],
      p50["nginx"] - p50["direct"], p99["nginx"] - p99["direct"]
  }'
