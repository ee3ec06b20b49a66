#!/usr/bin/env bash
# Runs the whole test suite: installs what is missing, starts a throw-away Redis and PostgreSQL
# on free loopback ports (stopped again whatever happens), then
#   1. builds build/ and runs every test with CTest,
#   2. builds build-asan/ with AddressSanitizer + UndefinedBehaviorSanitizer and runs every test
#      again (any sanitizer report fails the test that hit it),
#   3. builds the libFuzzer targets (fuzz/, clang) and runs each for a bounded time.
# This is what CI runs (.ci/run). One pass alone:
#   scripts/test.sh --quick      pass 1 only
#   scripts/test.sh --sanitize   pass 2 only
#   scripts/test.sh --tsan       ThreadSanitizer instead (build-tsan/, against CAF built with TSan
#                                by scripts/caf-tsan.sh; by hand, not in CI: docs/architecture.md)
#   scripts/test.sh --fuzz       pass 3 only
# Further arguments go to ctest (e.g. -R integration). FUZZ_SECONDS sets each fuzzer's time.
set -euo pipefail
cd "$(dirname "$0")/.."

PASSES=(normal asan fuzz)
case "${1:-}" in
  --quick) PASSES=(normal); shift ;;
  --sanitize) PASSES=(asan); shift ;;
  --tsan) PASSES=(tsan); shift ;;
  --fuzz) PASSES=(fuzz); shift ;;
esac

scripts/install-deps.sh

source scripts/test-services.sh
trap stop_test_services EXIT
start_test_services

run_suite() { # BUILD_DIR CMAKE_ARGS [ctest args...]
  local build_dir=$1 cmake_args=$2
  shift 2
  echo "test: === $build_dir: build ==="
  CMAKE_ARGS="$cmake_args" scripts/build.sh "$build_dir"
  echo "test: === $build_dir: ctest ==="
  (cd "$build_dir" && ctest --output-on-failure -j "$(nproc)" "$@")
}

started=$SECONDS
for pass in "${PASSES[@]}"; do
  case "$pass" in
    normal)
      run_suite build "" "$@"
      ;;
    asan)
      ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        run_suite build-asan "-DMEDIANEST_SANITIZE=address,undefined -DCMAKE_BUILD_TYPE=Debug" "$@"
      ;;
    tsan)
      caf=$PWD/build-tsan-caf
      scripts/caf-tsan.sh "$caf"
      TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/scripts/tsan.supp" \
        run_suite build-tsan "-DMEDIANEST_SANITIZE=thread -DCMAKE_BUILD_TYPE=Debug \
          -DCAF_INCLUDE_DIR=$caf/include -DCAF_CORE_LIBRARY=$caf/lib/libcaf_core.so \
          -DCAF_IO_LIBRARY=$caf/lib/libcaf_io.so" "$@"
      ;;
    fuzz)
      echo "test: === fuzzers ==="
      scripts/fuzz.sh "${FUZZ_SECONDS:-30}"
      ;;
  esac
  echo "test: $pass pass done after $((SECONDS - started)) s"
done
