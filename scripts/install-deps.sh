#!/usr/bin/env bash
# Installs the Debian 12 packages medianest-perf needs to build, run and test.
# Idempotent: packages already present are skipped, and nothing is fetched if all are there.
set -euo pipefail

PACKAGES=(
  g++ cmake ninja-build pkg-config ccache
  libboost1.81-dev libboost-json1.81-dev libboost-system1.81-dev
  libcaf-dev libsoci-dev libspdlog-dev catch2 libhiredis-dev libssl-dev
  libcurl4-openssl-dev libsqlite3-dev libpq-dev
  redis-server postgresql python3-aiosmtpd curl prometheus python3-prometheus-client
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

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
