#!/usr/bin/env bash
# Installs what is missing, builds the daemon and runs it on its embedded defaults
# (http://127.0.0.1:4000, SQLite and the JWT secret in ./data). Extra arguments go to
# `medianest-perf serve`, e.g. scripts/run.sh --listen 0.0.0.0:4000
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh build medianest-perf

cat <<MSG

medianest-perf is starting on its defaults. In another terminal:
  curl http://127.0.0.1:4000/health
  TOKEN=\$(./build/medianest-perf token --role admin)
  curl -H "Authorization: Bearer \$TOKEN" http://127.0.0.1:4000/api/v1/performance/metrics

MSG
exec ./build/medianest-perf serve "$@"
