#!/usr/bin/env bash
# Validates docs/openapi.yaml with Redocly CLI: the OpenAPI 3.1 structure, every $ref, every
# example against its schema, and the recommended rules, each of them an error
# (scripts/redocly.yaml). The test suite runs it ("lint: openapi.yaml").
#   scripts/lint-openapi.sh [TOOLS_DIR]     (default: build/tools)
# Redocly CLI comes from the npm registry with the machine's Node.js and npm, once, into
# TOOLS_DIR; later runs use that copy and need no network. Fails loudly when it cannot run.
# Redocly CLI 1.34 because it runs on Node.js 18.17 and later: Debian 12's own Node.js is 18.19.
set -euo pipefail
cd "$(dirname "$0")/.."

REDOCLY_VERSION=1.34.20
TOOLS_DIR=${1:-build/tools}
PREFIX="$TOOLS_DIR/redocly-cli-$REDOCLY_VERSION"
REDOCLY="$PREFIX/node_modules/.bin/redocly"

if [ ! -x "$REDOCLY" ]; then
  for tool in node npm; do
    if ! command -v "$tool" >/dev/null; then
      echo "lint-openapi: '$tool' is not installed; Redocly CLI needs Node.js >= 18.17 and npm (scripts/install-deps.sh installs them)" >&2
      exit 1
    fi
  done
  echo "lint-openapi: installing @redocly/cli@$REDOCLY_VERSION into $PREFIX"
  # Installed beside the final place and moved in whole, so that an interrupted install is
  # never taken for a complete one.
  staging="$PREFIX.partial.$$"
  rm -rf "$staging"
  mkdir -p "$staging"
  trap 'rm -rf "$staging"' EXIT
  npm install --prefix "$staging" --no-audit --no-fund --no-package-lock --loglevel=error \
    "@redocly/cli@$REDOCLY_VERSION" >&2
  rm -rf "$PREFIX"
  mv "$staging" "$PREFIX"
  trap - EXIT
fi

# No telemetry, no update check: the lint must not depend on anything but the files.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_NOTIFICATIONS=true NO_UPDATE_NOTIFIER=1
"$REDOCLY" lint --config scripts/redocly.yaml --max-problems 1000 docs/openapi.yaml
