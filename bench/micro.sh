#!/usr/bin/env bash
# Google Benchmark micro-benchmarks: per-request-event cost of the api collector and the HTTP
# hand-over, histogram recording, the api sample and the snapshot publication.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_build micro_bench
cmake --build "$BENCH_BUILD" --target micro_bench >/dev/null
"$BENCH_BUILD/bench/micro_bench" --benchmark_min_time=0.5 "$@"
