#!/usr/bin/env bash
# Configures and builds medianest-perf with CMake and Ninja.
#   scripts/build.sh [BUILD_DIR] [TARGET...]     (default build dir: build, target: all)
# Extra CMake options can be passed in CMAKE_ARGS, e.g. CMAKE_ARGS=-DMEDIANEST_SANITIZE=address,undefined
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${1:-build}
shift || true
JOBS=${JOBS:-$(nproc)}

cmake -S . -B "$BUILD_DIR" -G Ninja ${CMAKE_ARGS:-} >/dev/null
if [ $# -gt 0 ]; then
  cmake --build "$BUILD_DIR" --parallel "$JOBS" --target "$@"
else
  cmake --build "$BUILD_DIR" --parallel "$JOBS"
fi
