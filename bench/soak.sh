#!/usr/bin/env bash
# Soak: MINUTES of mixed load on loopback against one daemon (gateway mode in front of an nginx
# upstream, PostgreSQL and Redis from scripts/test-services.sh, --sample-interval 1,
# --access-log off, --optimization-window 30), with its VmRSS sampled every 10 s:
#   - wrk "api": the daemon's own API with an admin token, 80 % GET /metrics, the rest
#     /prometheus, /summary, /history?period=1h, /alerts;
#   - wrk "gateway": through the gateway to the upstream: GET /api/v1/media/<1..1000> (cached
#     5 s by --cache-route), GET /api/v1/users/<1..10^6>/items (uncached, identifiers folded),
#     one request in 10 a POST;
#     each wrk connection waits SOAK_DELAY_MS after every answer (a paced load, not saturation);
#   - 100 live-feed clients (bench/live_load): 50 user tokens at the default interval, 50 admin
#     tokens subscribed at 100 ms, connected for the whole run;
#   - one optimization run a minute (all three types, aggressive every other minute);
#   - an alert configuration change every 20 s (two valid bodies in turn, one with a webhook to
#     the upstream), and once a minute an invalid one that must get 400 (on purpose).
# Prints the RSS samples, the growth after warm-up (first sample at >= 60 s against the last),
# wrk non-2xx answers and socket errors per load, live clients that failed or were dropped,
# optimization runs completed/failed, alert changes answered as expected, the log lines at
# warning level or above, and PASS/MISS per target: RSS growth < 5 %, no failed request the
# load did not provoke on purpose, no warning or error in the log. (A 409 to a POST /optimize
# because a run the daemon started by itself, on a firing alert, holds a type is the documented
# answer and is listed, not counted as a failure.)
#   bench/soak.sh [MINUTES]          (default 10)
# Knobs (environment): SOAK_CONNECTIONS (per wrk load, default 8), SOAK_DELAY_MS (default 2).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
MINUTES=${1:-10}
TOTAL=$((MINUTES * 60))
CONNECTIONS=${SOAK_CONNECTIONS:-8}
DELAY_MS=${SOAK_DELAY_MS:-2}
LIVE_CLIENTS=100

bench_require_nginx

bench_build
LOAD="$BENCH_BUILD/bench/live_load"
if [ ! -x "$LOAD" ] || [ "$BENCH_ROOT/bench/live_load.cpp" -nt "$LOAD" ]; then
  mkdir -p "$BENCH_BUILD/bench"
  g++ -std=c++20 -O2 -pthread "$BENCH_ROOT/bench/live_load.cpp" -o "$LOAD"
fi
source "$BENCH_ROOT/scripts/test-services.sh"
WORK=$(mktemp -d /tmp/medianest-soak.XXXXXX)
JOBS=()
cleanup() {
  trap - EXIT INT TERM
  for p in "${JOBS[@]}"; do kill "$p" 2>/dev/null || true; done
  bench_stop_daemon
  [ -f "$WORK/upstream.pid" ] && kill -QUIT "$(cat "$WORK/upstream.pid")" 2>/dev/null || true
  stop_test_services >/dev/null 2>&1 || true
  sleep 0.2
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The upstream: one nginx worker answering every method and path with "ok" from memory (also
# the alert webhook's receiver).
UPSTREAM_PORT=$(bench_free_port)
mkdir -p "$WORK/upstream"
cat >"$WORK/upstream.conf" <<CONF
worker_processes 1;
pid $WORK/upstream.pid;
error_log $WORK/upstream.error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/upstream;
  proxy_temp_path $WORK/upstream;
  fastcgi_temp_path $WORK/upstream;
  uwsgi_temp_path $WORK/upstream;
  scgi_temp_path $WORK/upstream;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$UPSTREAM_PORT; location / { return 200 "ok\n"; } }
}
CONF
"$NGINX" -p "$WORK/upstream" -c "$WORK/upstream.conf" -e "$WORK/upstream.error.log"

start_test_services >/dev/null
bench_start_daemon --redis "$MEDIANEST_TEST_REDIS_URL" --database "$MEDIANEST_TEST_PG_URL" \
  --upstream "http://127.0.0.1:$UPSTREAM_PORT" --cache-route /api/v1/media/:id=5 \
  --sample-interval 1 --access-log off --optimization-window 30
API="$DAEMON_URL/api/v1/performance"
AUTH="Authorization: Bearer $ADMIN_TOKEN"
USER_TOKEN=$("$BENCH_BUILD/medianest-perf" token --role user --data-dir "$DAEMON_DIR")
LOG="$DAEMON_DIR/daemon.log"
curl -fs -o /dev/null -H "$AUTH" "$API/metrics"
curl -fs -o /dev/null "$DAEMON_URL/api/v1/media/1"

cat >"$WORK/api.lua" <<'LUA'
wrk.headers["Authorization"] = "Bearer " .. os.getenv("SOAK_TOKEN")
local pause = tonumber(os.getenv("SOAK_DELAY_MS"))
local others = { "/api/v1/performance/prometheus", "/api/v1/performance/summary",
  "/api/v1/performance/history?period=1h", "/api/v1/performance/alerts" }
local n = 0
function request()
  n = n + 1
  if n % 5 == 0 then return wrk.format("GET", others[(n / 5) % 4 + 1]) end
  return wrk.format("GET", "/api/v1/performance/metrics")
end
function delay() return pause end
LUA
cat >"$WORK/gateway.lua" <<'LUA'
local pause = tonumber(os.getenv("SOAK_DELAY_MS"))
local n = 0
function request()
  n = n + 1
  if n % 10 == 0 then
    return wrk.format("POST", "/api/v1/media/" .. math.random(1000) .. "/plays",
      { ["Content-Type"] = "application/json" }, '{"position":42}')
  elseif n % 2 == 0 then
    return wrk.format("GET", "/api/v1/media/" .. math.random(1000))
  end
  return wrk.format("GET", "/api/v1/users/" .. math.random(1000000) .. "/items")
end
function delay() return pause end
LUA

echo "$(nproc) cores shared by the daemon, its upstream, PostgreSQL, Redis and the load (and" \
  "whatever else runs: load average $(cut -d' ' -f1-3 /proc/loadavg)); $MINUTES min;" \
  "wrk -t1 -c$CONNECTIONS per load, ${DELAY_MS} ms pause after each answer; $LIVE_CLIENTS live clients"
START=$(date +%s)
CPU0=$(awk '{print $14 + $15}' "/proc/$DAEMON_PID/stat")
elapsed() { echo $(($(date +%s) - START)); }

# Every 10 s: seconds since the start, VmRSS and RssAnon (KB), open descriptors, threads.
(
  trap - EXIT INT TERM
  for t in $(seq 0 10 "$TOTAL"); do
    while [ "$(elapsed)" -lt "$t" ]; do sleep 0.2; done
    echo "$t $(awk '/^VmRSS:/ {r=$2} /^RssAnon:/ {a=$2} END {print r, a}' "/proc/$DAEMON_PID/status")" \
      "$(ls "/proc/$DAEMON_PID/fd" | wc -l) $(awk '/^Threads:/ {print $2}' "/proc/$DAEMON_PID/status")"
  done >"$WORK/rss.txt"
) &
RSS_JOB=$!
JOBS+=("$RSS_JOB")

SOAK_TOKEN=$ADMIN_TOKEN SOAK_DELAY_MS=$DELAY_MS wrk --latency -t1 -c"$CONNECTIONS" -d"$((TOTAL + 5))s" \
  -s "$WORK/api.lua" "$DAEMON_URL" >"$WORK/wrk-api.txt" 2>&1 &
JOBS+=($!)
SOAK_DELAY_MS=$DELAY_MS wrk --latency -t1 -c"$CONNECTIONS" -d"$((TOTAL + 5))s" \
  -s "$WORK/gateway.lua" "$DAEMON_URL" >"$WORK/wrk-gateway.txt" 2>&1 &
JOBS+=($!)
PORT=${DAEMON_URL##*:}
"$LOAD" --port "$PORT" --path "/api/v1/performance/live?token=$USER_TOKEN" \
  --clients $((LIVE_CLIENTS / 2)) --rate 100 --warmup 0 --duration $((TOTAL + 2)) \
  >"$WORK/live-user.txt" 2>"$WORK/live-user.err" &
JOBS+=($!)
"$LOAD" --port "$PORT" --path "/api/v1/performance/live?token=$ADMIN_TOKEN" --interval 100 \
  --clients $((LIVE_CLIENTS - LIVE_CLIENTS / 2)) --rate 100 --warmup 0 --duration $((TOTAL + 2)) \
  >"$WORK/live-admin.txt" 2>"$WORK/live-admin.err" &
JOBS+=($!)

# Alert configuration: a valid change every 20 s (two bodies in turn), and every third time an
# invalid one that must be refused with 400. One "status expected" line per PUT.
(
  trap - EXIT INT TERM
  bodies=(
    "{\"enabled\":true,\"thresholds\":{\"responseTime\":{\"warning\":400,\"critical\":800}},\"notifications\":{\"webhook\":\"http://127.0.0.1:$UPSTREAM_PORT/hooks/soak\"}}"
    '{"enabled":true,"thresholds":{"responseTime":{"warning":500,"critical":1000},"cpuUsage":{"warning":85,"critical":97}}}'
  )
  k=0
  while [ "$(elapsed)" -lt $((TOTAL - 10)) ]; do
    sleep 20
    code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "$AUTH" -H 'Content-Type: application/json' \
      --data "${bodies[$((k % 2))]}" "$API/alerts")
    echo "$code 200"
    if [ $((k % 3)) -eq 2 ]; then
      code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "$AUTH" -H 'Content-Type: application/json' \
        --data '{"thresholds":{"responseTime":{"warning":-1}}}' "$API/alerts")
      echo "$code 400"
    fi
    k=$((k + 1))
  done >"$WORK/alerts.txt"
) &
JOBS+=($!)

# An optimization run a minute (at 30 s, 90 s, ...; the last at least 45 s before the end):
# "code optimizationId" per POST.
(
  trap - EXIT INT TERM
  m=0
  while :; do
    t=$((30 + 60 * m))
    [ $((t + 45)) -le "$TOTAL" ] || break
    while [ "$(elapsed)" -lt "$t" ]; do sleep 0.5; done
    aggressive=$([ $((m % 2)) -eq 1 ] && echo true || echo false)
    out=$(curl -s -w '\n%{http_code}' -X POST -H "$AUTH" -H 'Content-Type: application/json' \
      --data "{\"optimizations\":[\"cache_strategy\",\"database_queries\",\"memory_cleanup\"],\"aggressive\":$aggressive}" \
      "$API/optimize")
    code=$(echo "$out" | tail -n 1)
    # the run's id, or for a 409 the id of the run that holds the type
    echo "$code $(echo "$out" | sed -n 's/.*"optimizationId":"\([^"]*\)".*/\1/p' | head -n 1)"
    [ "${code:0:1}" = 2 ] || echo "$out" | head -n 1 >>"$WORK/optimize-refused.txt"
    m=$((m + 1))
  done >"$WORK/optimize.txt"
) &
JOBS+=($!)

# The loads end by themselves a few seconds after TOTAL s (so that the last RSS sample, at
# TOTAL s, is taken under the full load).
for j in "${JOBS[@]}"; do wait "$j" || true; done
JOBS=()
kill -0 "$DAEMON_PID" 2>/dev/null || { echo "the daemon died during the soak; its log:" >&2; tail -n 30 "$LOG" >&2; exit 1; }
CPU1=$(awk '{print $14 + $15}' "/proc/$DAEMON_PID/stat")
CPU_S=$(awk -v t="$(($(date +%s) - START))" -v c=$((CPU1 - CPU0)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", 100 * c / hz / t }')

# Runs still going (their after-window) get up to 90 s to finish.
runs_done=0 runs_failed=0 runs_other=0
while read -r code id; do
  [ "${code:0:1}" = 2 ] && [ -n "$id" ] || continue
  status=running
  for _ in $(seq 1 90); do
    status=$(curl -s -H "$AUTH" "$API/optimize/$id" |
      python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["status"])' 2>/dev/null || echo unreadable)
    [ "$status" = running ] || break
    sleep 1
  done
  case "$status" in
    completed) runs_done=$((runs_done + 1)) ;;
    failed) runs_failed=$((runs_failed + 1)); curl -s -H "$AUTH" "$API/optimize/$id" >&2; echo >&2 ;;
    *) runs_other=$((runs_other + 1)); echo "run $id: status '$status'" >&2 ;;
  esac
done <"$WORK/optimize.txt"
posts=$(wc -l <"$WORK/optimize.txt")
# A 409 names the run that still holds a type: when that run was started by the daemon itself
# (an alert fired: automatic, at most one per type per --auto-optimize-cooldown), the refusal
# is the documented answer, not a failure; a 409 against one of these manual runs is one.
curl -s -H "$AUTH" "$API/optimize?limit=100" >"$WORK/runs.json"
curl -s -H "$AUTH" "$API/alerts/events?limit=1000" >"$WORK/alert-events.json"
read -r posts_bad posts_conflict_auto < <(python3 - "$WORK/optimize.txt" "$WORK/runs.json" <<'PY'
import json, sys
runs = {r["optimizationId"]: r for r in json.load(open(sys.argv[2]))["data"]["optimizations"]}
bad = auto = 0
for line in open(sys.argv[1]):
    code, _, rid = line.strip().partition(" ")
    if code.startswith("2"):
        continue
    if code == "409" and runs.get(rid, {}).get("trigger") == "automatic":
        auto += 1
    else:
        bad += 1
print(bad, auto)
PY
)

# Stop the daemon here (not in bench_stop_daemon) so that its shutdown is in the log read below.
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" || { echo "the daemon exited with status $?" >&2; }
DAEMON_PID=""

echo
echo "medianest-perf every 10 s: VmRSS MB (MiB), its anonymous part, open descriptors, threads:"
awk '{ printf "  %4d s %5.1f MB (anon %4.1f) %3d fd %2d thr%s", $1, $2 / 1024, $3 / 1024, $4, $5, (NR % 3 ? "" : "\n") }
  END { if (NR % 3) print "" }' "$WORK/rss.txt"
echo "the daemon's CPU over the run (utime + stime): $CPU_S % of one core"
growth=$(awk '$1 >= 60 && !first { first = $2; a0 = $3; t0 = $1; fd0 = $4 } { last = $2; a1 = $3; t1 = $1; fd1 = $4 }
  END { if (first) printf "%.2f %d %d %.1f %.1f %d %d %d %d", 100 * (last - first) / first, t0, t1,
    first / 1024, last / 1024, fd0, fd1, last - first, a1 - a0; else print "nan" }' "$WORK/rss.txt")
read -r growth_pct g_t0 g_t1 g_first g_last g_fd0 g_fd1 g_kb g_anon_kb <<<"$growth"
echo "RSS growth after warm-up: ${g_first} MB at ${g_t0} s -> ${g_last} MB at ${g_t1} s = ${growth_pct} % (open descriptors ${g_fd0:-?} -> ${g_fd1:-?})"
# What the growth is made of: anonymous memory (heap) against file-backed pages (code and
# libraries paged in when a path runs for the first time), and the part the design expects:
# the store keeps the last hour of raw samples per series (a deque of 16-byte samples that
# fills for an hour after the start), series counted in the rollups table.
series=$(psql "$MEDIANEST_TEST_PG_URL" -Atc 'SELECT count(DISTINCT metric) FROM rollups' 2>/dev/null || echo 0)
if [ "$growth_pct" != nan ]; then
  awk -v kb="$g_kb" -v anon="$g_anon_kb" -v s="$series" -v dt=$((g_t1 - g_t0)) -v first="$g_first" 'BEGIN {
    ring = s * 16 * dt / 1024
    printf "  of it: anonymous %+.2f MB, file-backed %+.2f MB; the raw-sample ring of the last hour (%d series x 16 B x %d s) at most %.2f MB;\n", anon / 1024, (kb - anon) / 1024, s, dt, ring / 1024
    printf "  growth net of the ring %.2f %%, net of the ring and of file-backed pages %.2f %%\n", 100 * (kb - ring) / 1024 / first, 100 * (anon - ring) / 1024 / first
  }'
fi

wrk_errors=0
for load in api gateway; do
  f="$WORK/wrk-$load.txt"
  reqs=$(awk '/requests in/ {print $1}' "$f")
  rps=$(awk '/^Requests\/sec/ {print $2}' "$f")
  p50=$(awk '$1 == "50%" {print $2}' "$f")
  p99=$(awk '$1 == "99%" {print $2}' "$f")
  non2xx=$(awk '/Non-2xx or 3xx responses/ {print $NF}' "$f")
  sock=$(awk '/Socket errors/ { gsub(",", ""); print $4 + $6 + $8 + $10 }' "$f")
  non2xx=${non2xx:-0} sock=${sock:-0}
  [ -n "$reqs" ] || { echo "wrk $load printed no summary:" >&2; cat "$f" >&2; sock=1; }
  echo "wrk $load: ${reqs:-?} requests (${rps:-?} req/s, p50 ${p50:-?} p99 ${p99:-?}), non-2xx $non2xx, socket errors $sock$(grep -o 'Socket errors:.*' "$f" | sed 's/^/ (/; s/$/)/')"
  wrk_errors=$((wrk_errors + non2xx + sock))
done

live_fail=0
# shellcheck disable=SC2154 # the l_* variables come from the eval below
for kind in user admin; do
  r=$(sed -n 's/^RESULT //p' "$WORK/live-$kind.txt")
  if [ -z "$r" ]; then
    echo "live ($kind): no result:" >&2
    cat "$WORK/live-$kind.err" >&2
    live_fail=$((live_fail + LIVE_CLIENTS / 2))
    continue
  fi
  # sets l_clients, l_open, l_refused, l_dropped, l_frames_per_client_s, l_p99_ms
  eval "$(echo "$r" | tr ' ' '\n' | grep -E '^(clients|open|refused|dropped|frames_per_client_s|p99_ms)=' | sed 's/^/l_/')"
  failed=$((l_clients - l_open + l_dropped))
  live_fail=$((live_fail + failed))
  echo "live ($kind, $l_clients clients): $l_open opened, $l_refused refused, $l_dropped dropped;" \
    "$l_frames_per_client_s metrics frames per client per second, delay p99 $l_p99_ms ms"
done

puts=$(wc -l <"$WORK/alerts.txt")
puts_provoked=$(awk '$2 == 400' "$WORK/alerts.txt" | wc -l)
puts_bad=$(awk '$1 != $2' "$WORK/alerts.txt" | wc -l)
echo "alert configuration: $puts PUTs ($puts_provoked invalid on purpose, answered 400), $puts_bad answered otherwise than expected"
echo "optimization runs: $posts POSTs; $runs_done completed, $runs_failed failed, $runs_other unfinished;" \
  "$posts_conflict_auto refused with 409 because an automatic run held a type (documented), $posts_bad refused otherwise"
[ -f "$WORK/optimize-refused.txt" ] && sed 's/^/  refused: /' "$WORK/optimize-refused.txt"
python3 - "$WORK/runs.json" "$WORK/alert-events.json" <<'PY'
import collections, json, sys
runs = json.load(open(sys.argv[1]))["data"]["optimizations"]
auto = [r for r in runs if r.get("trigger") == "automatic"]
events = json.load(open(sys.argv[2]))["data"]["events"]
kinds = collections.Counter(f'{e["metric"]} {e["severity"]} {e["state"]}' for e in events)
print(f"automatic optimization runs: {len(auto)}"
      + "".join(f'; {r["optimizationId"]} ({", ".join(x["type"] for x in r["results"])}, {r["status"]}, after {r.get("triggeredBy")})' for r in auto))
print("alert events: " + (", ".join(f"{k} x {n}" for k, n in sorted(kinds.items())) or "none"))
PY
echo "status codes of those PUTs and POSTs: $(awk '{print $1}' "$WORK/alerts.txt" "$WORK/optimize.txt" | sort | uniq -c | awk '{printf "%s%s x %s", (NR > 1 ? ", " : ""), $2, $1}')"

# The log: text format "TIME LEVEL [medianest] message"; other lines (libpq notices) are
# listed apart.
bad_log=$(awk '$2 == "warning" || $2 == "error" || $2 == "critical"' "$LOG")
n_bad=$(printf '%s' "$bad_log" | grep -c . || true)
other=$(grep -Evc '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' "$LOG" || true)
echo "daemon log: $(wc -l <"$LOG") lines, $n_bad at warning level or above, $other not from the logger (e.g. libpq notices)"
[ "$n_bad" -gt 0 ] && printf '%s\n' "$bad_log" | head -n 50 | sed 's/^/  /'
[ "$other" -gt 0 ] && grep -Ev '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' "$LOG" | sort | uniq -c | head -n 10 | sed 's/^/  /'

failures=$((wrk_errors + live_fail + puts_bad + posts_bad + runs_failed + runs_other))
verdict() { [ "$1" = yes ] && echo PASS || echo MISS; }
echo "target RSS growth after warm-up < 5 %: ${growth_pct} % -> $(verdict "$(awk -v g="$growth_pct" 'BEGIN { print (g == g + 0 && g < 5) ? "yes" : "no" }')")"
echo "target no failed request the load did not provoke: $failures -> $(verdict "$([ "$failures" -eq 0 ] && echo yes || echo no)")"
echo "target no warning or error in the log: $n_bad -> $(verdict "$([ "$n_bad" -eq 0 ] && echo yes || echo no)")"
