#!/usr/bin/env bash
# GET /prometheus (admin token; the exposition pre-rendered per snapshot publication) in both
# formats, against two baselines measured in the same run: GET /health of the same daemon (no
# auth, no actor) and node_exporter's /metrics (Debian's prometheus-node-exporter, default
# collectors), the usual peer a scrape target is compared with. wrk drives each in turn,
# three interleaved rounds. Prints requests/s, p50 and p99 of each, body sizes, and the ratios
# (targets for /prometheus: p50 under 1 ms and at least 5,000 req/s).
#   bench/prometheus.sh [DURATION_SECONDS] [CONNECTIONS]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
DURATION=${1:-10}
CONNECTIONS=${2:-32}

NODE_EXPORTER=$(command -v prometheus-node-exporter || true)
if [ -z "$NODE_EXPORTER" ]; then
  echo "installing prometheus-node-exporter" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    prometheus-node-exporter >/dev/null 2>&1 || true
  NODE_EXPORTER=$(command -v prometheus-node-exporter || true)
fi

bench_build
WORK=$(mktemp -d /tmp/medianest-prom-bench.XXXXXX)
NODE_PID=""
cleanup() {
  bench_stop_daemon
  if [ -n "$NODE_PID" ]; then
    kill -TERM "$NODE_PID" 2>/dev/null && wait "$NODE_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

bench_start_daemon --access-log off
AUTH="Authorization: Bearer $ADMIN_TOKEN"
OM="Accept: application/openmetrics-text; version=1.0.0"
PROM_URL="$DAEMON_URL/api/v1/performance/prometheus"
# Some traffic first, so that the exposition has a few routes and statuses in it.
for path in /health /api/v1/performance/metrics /api/v1/performance/resources /nope; do
  for _ in 1 2 3; do curl -s -o /dev/null -H "$AUTH" "$DAEMON_URL$path"; done
done
sleep 1.5 # the api collector's tick and the hub's publication

NODE_URL=""
if [ -n "$NODE_EXPORTER" ]; then
  NODE_PORT=$(bench_free_port)
  "$NODE_EXPORTER" --web.listen-address="127.0.0.1:$NODE_PORT" >"$WORK/node_exporter.log" 2>&1 &
  NODE_PID=$!
  for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$NODE_PORT/metrics" >/dev/null 2>&1 && break
    sleep 0.05
  done
  NODE_URL="http://127.0.0.1:$NODE_PORT/metrics"
else
  echo "prometheus-node-exporter is not installable here: measuring against /health only" >&2
fi

curl -fs -H "$AUTH" "$PROM_URL" >"$WORK/text.txt"
curl -fs -H "$AUTH" -H "$OM" "$PROM_URL" >"$WORK/om.txt"
echo "body sizes: /prometheus text $(wc -c <"$WORK/text.txt") B, $(grep -vc '^#' "$WORK/text.txt") samples;" \
  "OpenMetrics $(wc -c <"$WORK/om.txt") B${NODE_URL:+; node_exporter $(curl -fs "$NODE_URL" | wc -c) B, $(curl -fs "$NODE_URL" | grep -vc '^#') samples}"

# run NAME URL [curl-style headers...]: "NAME rps p50_ms p99_ms" from one wrk run; fails loudly
# when any answer was not 2xx (a 401 would make a fast but meaningless figure).
run() {
  local name=$1 url=$2
  shift 2
  local args=(--latency -t2 -c"$CONNECTIONS" -d"${DURATION}s")
  for h in "$@"; do args+=(-H "$h"); done
  local out
  out=$(wrk "${args[@]}" "$url")
  if echo "$out" | grep -q "Non-2xx"; then
    echo "$name: non-2xx answers:" >&2
    echo "$out" >&2
    exit 1
  fi
  local rps p50 p99
  rps=$(echo "$out" | awk '/^Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  echo "$name $rps $(to_ms "$p50") $(to_ms "$p99")"
}

echo "wrk -t2 -c$CONNECTIONS -d${DURATION}s; daemon with --access-log off; $(nproc) cores shared by wrk and the servers"
results=()
for round in 1 2 3; do
  results+=("$(run health "$DAEMON_URL/health")")
  results+=("$(run prometheus "$PROM_URL" "$AUTH")")
  results+=("$(run prom-om "$PROM_URL" "$AUTH" "$OM")")
  if [ -n "$NODE_URL" ]; then
    results+=("$(run node_exp "$NODE_URL")")
  fi
done
printf '%-11s %12s %10s %10s\n' endpoint "req/s" "p50 ms" "p99 ms"
for r in "${results[@]}"; do
  printf '%-11s %12s %10s %10s\n' $r
done
printf '%s\n' "${results[@]}" | awk '
  { rps[$1] += $2; p50[$1] += $3; p99[$1] += $4; n[$1]++ }
  END {
    print "means over the rounds:"
    for (k in n) printf "  %-11s %10.0f req/s  p50 %.3f ms  p99 %.3f ms\n", k, rps[k]/n[k], p50[k]/n[k], p99[k]/n[k]
    printf "ratio /prometheus : /health = %.3f\n", (rps["prometheus"]/n["prometheus"]) / (rps["health"]/n["health"])
    printf "ratio /prometheus (OpenMetrics) : /health = %.3f\n", (rps["prom-om"]/n["prom-om"]) / (rps["health"]/n["health"])
    if (n["node_exp"] > 0)
      printf "ratio /prometheus : node_exporter /metrics = %.1f\n", (rps["prometheus"]/n["prometheus"]) / (rps["node_exp"]/n["node_exp"])
    ok = p50["prometheus"]/n["prometheus"] < 1 && rps["prometheus"]/n["prometheus"] >= 5000
    printf "target (p50 < 1 ms, >= 5,000 req/s): %s\n", ok ? "met" : "NOT met"
  }'
