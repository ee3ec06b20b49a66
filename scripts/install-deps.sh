#!/usr/bin/env bash
# Installs the Debian 12 packages medianest-perf needs to build, run and test.
# Idempotent: packages already present are skipped, and nothing is fetched if all are there.
#   scripts/install-deps.sh               everything: build, run and test (what CI uses)
#   scripts/install-deps.sh --build-only  only what `scripts/build.sh` needs (the Dockerfile's
#                                         build stage): no servers, browsers or validators
set -euo pipefail

BUILD_ONLY=""
case "${1:-}" in
  "") ;;
  --build-only) BUILD_ONLY=yes ;;
  *) echo "usage: $0 [--build-only]" >&2; exit 2 ;;
esac

# The toolchain and the -dev libraries (catch2 too: the default CMake configuration includes
# the test suite even when only the daemon is built).
BUILD_PACKAGES=(
  g++ cmake ninja-build pkg-config ccache
  libboost1.81-dev libboost-json1.81-dev libboost-system1.81-dev
  libcaf-dev libsoci-dev libspdlog-dev catch2 libhiredis-dev libssl-dev
  libcurl4-openssl-dev libsqlite3-dev libpq-dev
)

# What the test suite talks to or checks with: servers, peers, validators of the deploy/ files
# (promtool comes with prometheus, amtool with prometheus-alertmanager), Node.js for the
# OpenAPI linter (scripts/lint-openapi.sh), and clang with libFuzzer and the sanitizer runtimes
# for scripts/fuzz.sh (llvm-14 for llvm-symbolizer; libssl-dev for the JWT target's reference
# HMAC).
TEST_PACKAGES=(
  redis-server postgresql openssl python3-aiosmtpd curl prometheus python3-prometheus-client
  prometheus-alertmanager docker-compose python3-yaml sqlite3 systemd
  chromium nodejs
  clang-14 libclang-rt-14-dev llvm-14 libssl-dev
)

PACKAGES=("${BUILD_PACKAGES[@]}")
if [ -z "$BUILD_ONLY" ]; then
  PACKAGES+=("${TEST_PACKAGES[@]}")
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

# Debian packages npm on its own; NodeSource's nodejs (which some machines carry) bundles it and
# conflicts with Debian's npm, so npm is only asked for when there is no npm at all.
if [ -z "$BUILD_ONLY" ] && ! command -v npm >/dev/null; then
  missing+=(npm)
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
