# Shared helpers of the bench/ scripts: a Release build, a daemon on a free port, wrk parsing.

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_BUILD="$BENCH_ROOT/build-bench"

bench_build() {
  "$BENCH_ROOT/scripts/install-deps.sh" >/dev/null
  if ! command -v wrk >/dev/null; then
    echo "installing wrk" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends wrk libbenchmark-dev >/dev/null
  fi
  dpkg-query -W libbenchmark-dev >/dev/null 2>&1 || \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends libbenchmark-dev >/dev/null
  cmake -S "$BENCH_ROOT" -B "$BENCH_BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DMEDIANEST_BUILD_TESTS=OFF -DMEDIANEST_BUILD_BENCH=ON >/dev/null
  cmake --build "$BENCH_BUILD" --target medianest-perf "$@" >/dev/null
}

# bench_require_nginx: installs nginx-light when missing (stopping the system nginx the package
# starts on port 80: the benchmarks run their own) and sets NGINX to its binary.
bench_require_nginx() {
  if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
    echo "installing nginx-light" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nginx-light >/dev/null
    systemctl stop nginx 2>/dev/null || service nginx stop 2>/dev/null || true
  fi
  NGINX=$(command -v nginx || echo /usr/sbin/nginx)
}

bench_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# bench_start_daemon [args...]: sets DAEMON_PID, DAEMON_URL, DAEMON_DIR, ADMIN_TOKEN
bench_start_daemon() {
  DAEMON_DIR=$(mktemp -d /tmp/medianest-bench.XXXXXX)
  local port
  port=$(bench_free_port)
  "$BENCH_BUILD/medianest-perf" serve --listen "127.0.0.1:$port" --data-dir "$DAEMON_DIR" \
    "$@" >"$DAEMON_DIR/daemon.log" 2>&1 &
  DAEMON_PID=$!
  DAEMON_URL="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do
    curl -fs "$DAEMON_URL/health" >/dev/null 2>&1 && break
    sleep 0.05
  done
  ADMIN_TOKEN=$("$BENCH_BUILD/medianest-perf" token --role admin --data-dir "$DAEMON_DIR")
}

bench_stop_daemon() {
  [ -n "${DAEMON_PID:-}" ] && kill -TERM "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
  [ -n "${DAEMON_DIR:-}" ] && rm -rf "$DAEMON_DIR"
  DAEMON_PID=""
}

# wrk_run NAME URL [wrk args...]: prints "NAME rps p50_ms p99_ms" from one wrk run
wrk_run() {
  local name=$1 url=$2
  shift 2
  local out
  out=$(wrk --latency "$@" "$url")
  local rps p50 p99
  rps=$(echo "$out" | awk '/^Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  echo "$name $rps $(to_ms "$p50") $(to_ms "$p99")"
}

# wrk prints latencies as 123.45us, 1.23ms or 1.02s
to_ms() {
  local v=$1
  case "$v" in
    *us) awk -v x="${v%us}" 'BEGIN {printf "%.3f", x/1000}' ;;
    *ms) awk -v x="${v%ms}" 'BEGIN {printf "%.3f", x}' ;;
    *s) awk -v x="${v%s}" 'BEGIN {printf "%.3f", x*1000}' ;;
    *) echo "$v" ;;
  esac
}
