#!/usr/bin/env bash
# Runs the whole test suite: installs what is missing, builds everything, starts a throw-away
# Redis and PostgreSQL on free loopback ports, runs every test with CTest, and stops the
# servers again whatever happens.
#   scripts/test.sh              the normal build (build/)
#   scripts/test.sh --sanitize   AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/),
#                                any error fails the test that hit it
# Further arguments go to ctest (e.g. -R integration).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=build
if [ "${1:-}" = "--sanitize" ]; then
  shift
  BUILD_DIR=build-asan
  export CMAKE_ARGS="-DMEDIANEST_SANITIZE=address,undefined -DCMAKE_BUILD_TYPE=Debug"
  export ASAN_OPTIONS=detect_leaks=1
  export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
fi

scripts/install-deps.sh
scripts/build.sh "$BUILD_DIR"

source scripts/test-services.sh
trap stop_test_services EXIT
start_test_services

cd "$BUILD_DIR"
ctest --output-on-failure -j "$(nproc)" "$@"
