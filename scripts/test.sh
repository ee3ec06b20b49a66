#!/usr/bin/env bash
# Runs the whole test suite: installs what is missing, builds everything, starts a throw-away
# Redis and PostgreSQL on free loopback ports, runs every test with CTest, and stops the
# servers again whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh build

source scripts/test-services.sh
trap stop_test_services EXIT
start_test_services

cd build
ctest --output-on-failure -j "$(nproc)" "$@"
