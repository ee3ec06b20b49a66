#!/usr/bin/env bash
# GET /history end to end over HTTP on 30 days of synthetic history for 20 series (seeded
# straight into the daemon's SQLite file), with wrk on loopback:
#   period=30d&granularity=5m (8,640 points)  target p99 < 5 ms
#   period=1h&granularity=1m  (60 points)     target p99 < 1 ms
# Each is measured with the built-in response cache on (the default, 1 s) and off
# (--history-cache-ms 0: every request reads SQLite and renders). Also prints disk bytes per
# stored roll-up row.
#   bench/history.sh [DURATION_SECONDS]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
DURATION=${1:-10}

bench_build seed_history
cmake --build "$BENCH_BUILD" --target seed_history >/dev/null

SEED_DIR=$(mktemp -d /tmp/medianest-history-seed.XXXXXX)
trap 'bench_stop_daemon; rm -rf "$SEED_DIR"' EXIT
echo "seeding 30 days x 20 series ..."
start=$(date +%s.%N)
"$BENCH_BUILD/bench/seed_history" "$SEED_DIR/medianest.db" bench 30 20 30
echo "seeded in $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN {printf "%.1f", e-s}') s"
bytes=$(stat -c %s "$SEED_DIR/medianest.db")
rows=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from rollups').fetchone()[0])" "$SEED_DIR/medianest.db")
echo "database: $bytes bytes, $rows roll-up rows, $((bytes / rows)) bytes per row (sketch of 30 samples included)"

printf '%-28s %-6s %10s %10s %10s\n' query cache "req/s" "p50 ms" "p99 ms"
for cache in 1000 0; do
  for q in "period=30d&granularity=5m" "period=1h&granularity=1m"; do
    DATA_COPY=$(mktemp -d /tmp/medianest-history-run.XXXXXX)
    cp "$SEED_DIR/medianest.db" "$DATA_COPY/"
    port=$(bench_free_port)
    "$BENCH_BUILD/medianest-perf" serve --listen "127.0.0.1:$port" --data-dir "$DATA_COPY" \
      --instance bench --access-log off --history-cache-ms "$cache" >"$DATA_COPY/daemon.log" 2>&1 &
    DAEMON_PID=$!
    DAEMON_DIR=$DATA_COPY
    for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.05; done
    ADMIN_TOKEN=$("$BENCH_BUILD/medianest-perf" token --role admin --data-dir "$DATA_COPY")
    url="http://127.0.0.1:$port/api/v1/performance/history?$q"
    points=$(curl -fs -H "Authorization: Bearer $ADMIN_TOKEN" "$url" | python3 -c "import json,sys; print(len(json.load(sys.stdin)['data']['dataPoints']))")
    r=$(wrk_run x "$url" -t1 -c4 -d"${DURATION}s" -H "Authorization: Bearer $ADMIN_TOKEN")
    read -r _ rps p50 p99 <<<"$r"
    label=$([ "$cache" = 0 ] && echo off || echo on)
    printf '%-28s %-6s %10s %10s %10s   (%s points)\n' "$q" "$label" "$rps" "$p50" "$p99" "$points"
    bench_stop_daemon
  done
done
