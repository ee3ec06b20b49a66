#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang and runs each for a bounded time
# (docs/fuzzing.md).
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [BUILD_DIR]     (defaults: 30, build-fuzz)
# FUZZ_TARGETS="jwt query_params" runs only those. Each target starts from a copy of its seed
# corpus (fuzz/corpus/<name>/, never written to). Exits 1 if any target crashed, leaked,
# timed out, ran out of memory or tripped a sanitizer, after printing how to reproduce it.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET=${1:-30}
BUILD_DIR=${2:-build-fuzz}
JOBS=${JOBS:-$(nproc)}
ALL_TARGETS="alert_config optimize_request query_params jwt route_match prometheus_label upstream_response pq_backend"
TARGETS=${FUZZ_TARGETS:-$ALL_TARGETS}

case "$SECONDS_PER_TARGET" in
  ''|*[!0-9]*) echo "usage: $0 [SECONDS_PER_TARGET] [BUILD_DIR]" >&2; exit 2 ;;
esac

CXX_FUZZ=${FUZZ_CXX:-}
if [ -z "$CXX_FUZZ" ]; then
  for c in clang++-14 clang++; do
    if command -v "$c" >/dev/null; then CXX_FUZZ=$c; break; fi
  done
fi
if [ -z "$CXX_FUZZ" ]; then
  echo "fuzz: clang++ not found (scripts/install-deps.sh installs clang-14)" >&2
  exit 2
fi

start=$(date +%s)
echo "fuzz: configuring $BUILD_DIR with $CXX_FUZZ"
cmake -S fuzz -B "$BUILD_DIR" -G Ninja -DCMAKE_CXX_COMPILER="$CXX_FUZZ" >/dev/null
echo "fuzz: building the targets ($JOBS jobs)"
cmake --build "$BUILD_DIR" --parallel "$JOBS" --target fuzzers
echo "fuzz: built in $(($(date +%s) - start)) s"

# Sanitizer reports symbolized, and any UB report fatal (the targets are also built that way).
if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ]; then
  for s in llvm-symbolizer-14 llvm-symbolizer; do
    if command -v "$s" >/dev/null; then export ASAN_SYMBOLIZER_PATH=$(command -v "$s"); break; fi
  done
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=()
summary=()
for name in $TARGETS; do
  binary="$BUILD_DIR/${name}_fuzz"
  seeds="fuzz/corpus/$name"
  work="$BUILD_DIR/work/$name"
  artifacts="$BUILD_DIR/artifacts/$name"
  log="$BUILD_DIR/logs/$name.log"
  if [ ! -x "$binary" ] || [ ! -d "$seeds" ]; then
    echo "fuzz: unknown target '$name' (targets: $ALL_TARGETS)" >&2
    exit 2
  fi
  rm -rf "$work" "$artifacts"
  mkdir -p "$work" "$artifacts" "$(dirname "$log")"
  cp "$seeds"/* "$work"/
  echo "fuzz: $name: running for ${SECONDS_PER_TARGET} s on a copy of $seeds ($(ls "$seeds" | wc -l) seeds)"
  t0=$(date +%s)
  status=0
  "$binary" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
    -max_len=4096 -print_final_stats=1 -artifact_prefix="$artifacts/" "$work" >"$log" 2>&1 \
    || status=$?
  elapsed=$(($(date +%s) - t0))
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  corpus=$(ls "$work" | wc -l)
  reproducers=$(find "$artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
    -o -name 'oom-*' \) | sort)
  if [ "$status" -ne 0 ] || [ -n "$reproducers" ]; then
    failed+=("$name")
    echo "fuzz: $name: FAILED after ${elapsed} s (exit $status); the end of $log:"
    grep -v '^#[0-9]' "$log" | tail -n 40 | sed 's/^/    /'
    for r in $reproducers; do
      echo "fuzz: $name: reproducer $r"
      echo "fuzz: $name:   reproduce with: $binary $r"
    done
    summary+=("$(printf '%-18s FAILED' "$name")")
  else
    echo "fuzz: $name: ok in ${elapsed} s: ${runs:-?} executions (${rate:-?}/s), corpus $corpus inputs"
    summary+=("$(printf '%-18s ok  %12s execs %8s/s' "$name" "${runs:-?}" "${rate:-?}")")
  fi
done

echo "fuzz: summary ($(($(date +%s) - start)) s in all)"
printf '    %s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]} (logs in $BUILD_DIR/logs/)" >&2
  exit 1
fi
echo "fuzz: no crash, leak, timeout or sanitizer report"
