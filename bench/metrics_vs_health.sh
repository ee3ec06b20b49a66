#!/usr/bin/env bash
# GET /metrics (admin token, served from the hub's pre-rendered snapshot) against GET /health
# (no auth, no actor) on the same daemon in the same run, with wrk on loopback.
# Prints requests/s, p50 and p99 of each and the throughput ratio (target: >= 0.9).
#   bench/metrics_vs_health.sh [DURATION_SECONDS] [CONNECTIONS]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
DURATION=${1:-10}
CONNECTIONS=${2:-32}

bench_build
trap bench_stop_daemon EXIT
bench_start_daemon --access-log off
sleep 1 # first samples

WRK=(-t2 -c"$CONNECTIONS" -d"${DURATION}s")
echo "wrk ${WRK[*]}, daemon with --access-log off, $(nproc) cores shared by wrk and the daemon"
printf '%-10s %12s %10s %10s\n' endpoint "req/s" "p50 ms" "p99 ms"
results=()
for round in 1 2 3; do
  results+=("$(wrk_run health "$DAEMON_URL/health" "${WRK[@]}")")
  results+=("$(wrk_run metrics "$DAEMON_URL/api/v1/performance/metrics" "${WRK[@]}" \
    -H "Authorization: Bearer $ADMIN_TOKEN")")
done
for r in "${results[@]}"; do
  printf '%-10s %12s %10s %10s\n' $r
done
printf '%s\n' "${results[@]}" | awk '
  $1=="health" {h+=$2; nh++} $1=="metrics" {m+=$2; nm++}
  END {printf "ratio /metrics : /health = %.3f (mean of %d rounds)\n", (m/nm)/(h/nh), nm}'
