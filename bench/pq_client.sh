#!/usr/bin/env bash
# Our PostgreSQL client (src/pq/) against Debian's libpq under SOCI, on the test PostgreSQL
# (scripts/test-services.sh) over TCP in clear: the same program built twice
# (bench/pq_client_bench.cpp), run alternately ROUNDS_OF_RUNS times; prints each workload's
# median time and the ratio ours / libpq (below 1: ours is faster).
#   bench/pq_client.sh [ROUNDS_PER_RUN] [RUNS]      (defaults: 20, 3)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ROUNDS=${1:-20}
RUNS=${2:-3}

bench_build pq_client_bench pq_client_bench_libpq
source "$(dirname "$0")/../scripts/test-services.sh"
start_postgres >/dev/null
trap stop_postgres EXIT
CONNINFO="host=127.0.0.1 port=$MEDIANEST_TEST_PG_PORT dbname=postgres user=postgres sslmode=disable"

OURS=$(mktemp) LIBPQ=$(mktemp)
for _ in $(seq "$RUNS"); do
  "$BENCH_BUILD/bench/pq_client_bench" "$CONNINFO" "$ROUNDS" >>"$OURS"
  "$BENCH_BUILD/bench/pq_client_bench_libpq" "$CONNINFO" "$ROUNDS" >>"$LIBPQ"
done
echo "PostgreSQL $("$MEDIANEST_TEST_PG_BIN/postgres" --version | awk '{print $3}') on loopback; $RUNS runs x $ROUNDS rounds each; median µs"
awk 'FNR == NR { ours[$1] = ours[$1] " " $2; next } { libpq[$1] = libpq[$1] " " $2; order[++n] = $1 }
  function median(list,   a, k, i, j, t) {
    k = split(list, a, " ")
    for (i = 1; i <= k; ++i) for (j = i + 1; j <= k; ++j) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return a[int((k + 1) / 2)]
  }
  END {
    printf "%-28s %12s %12s %8s\n", "workload", "ours µs", "libpq µs", "ratio"
    for (i = 1; i <= n; ++i) {
      w = order[i]; if (seen[w]++) continue
      o = median(ours[w]); l = median(libpq[w])
      printf "%-28s %12.1f %12.1f %8.2f\n", w, o, l, o / l
    }
  }' "$OURS" "$LIBPQ"
rm -f "$OURS" "$LIBPQ"
