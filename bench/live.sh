#!/usr/bin/env bash
# The live feed (GET /api/v1/performance/live, docs/live.md) under many WebSocket clients at
# 1 Hz: a fresh daemon per run (--sample-interval 1, --live-max-clients 20000), then
# bench/live_load opens 1 client (the delay baseline, in the same run) or CLIENT_COUNT clients,
# ramping up at LIVE_RATE connections/s, waiting LIVE_WARMUP s and measuring for DURATION s.
# Prints per run the delay of the metrics frames (the client's wall clock when a frame is
# complete minus the frame's `at`) p50 / p99 / max, metrics frames per client per second, the
# daemon's VmRSS and RSS per client (against the idle daemon before any client), its CPU
# (utime + stime, and the time its threads waited for a CPU) as % of one core, and the p99 as a
# multiple of the 1-client p99. Target: 10,000 clients with p99 < 100 ms and < 20 KB per client.
#   bench/live.sh [DURATION_SECONDS] [CLIENT_COUNTS...]      (defaults: 20, 1000 10000)
# Each count runs once per LIVE_INTERVALS entry (default "default 100"): `default` keeps the
# daemon's 1000 ms interval, as a dashboard that never sends `subscribe` does; a number sends
# {"type":"subscribe","interval":N} first (100: every 1 s sample as soon as it is published).
# The baseline client subscribes with 100. Other knobs (environment): LIVE_ROLES (default
# "user admin"; user frames are smaller), LIVE_RATE (connections/s, default 1000), LIVE_WARMUP
# (s, default 5), LIVE_HTTP_THREADS (the daemon's --http-threads; default its own, 2),
# LIVE_CLIENT_THREADS (the load client's io threads, default 1), LIVE_RTPRIO (e.g. 10: run the
# daemon's threads and the load client under SCHED_FIFO at that priority, as if the machine
# had nothing else to do; needs root. On a machine shared with builds the wait% column shows
# what the other work costs; a nice value of -15 did not shield them, SCHED_FIFO does).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
DURATION=${1:-20}
shift || true
COUNTS=("$@")
[ ${#COUNTS[@]} -gt 0 ] || COUNTS=(1000 10000)
ROLES=${LIVE_ROLES:-user admin}
INTERVALS=${LIVE_INTERVALS:-default 100}
RATE=${LIVE_RATE:-1000}
WARMUP=${LIVE_WARMUP:-5}
CLIENT_THREADS=${LIVE_CLIENT_THREADS:-1}
DAEMON_ARGS=(--access-log off --sample-interval 1 --live-max-clients 20000)
[ -n "${LIVE_HTTP_THREADS:-}" ] && DAEMON_ARGS+=(--http-threads "$LIVE_HTTP_THREADS")

MAX=1
for n in "${COUNTS[@]}"; do [ "$n" -gt "$MAX" ] && MAX=$n; done

# Descriptors: the daemon and the client are separate processes, each needs one per
# connection plus its own (the daemon: database, log, eventfds, ~100).
NEED=$((MAX + 256))
HARD=$(ulimit -Hn)
if [ "$HARD" != unlimited ] && [ "$HARD" -lt "$NEED" ]; then
  echo "the hard limit of open files is $HARD; $MAX clients need $NEED per process" \
    "(daemon and client each). Raise it (e.g. 'ulimit -Hn $NEED' as root or" \
    "LimitNOFILE in the container) or run fewer clients." >&2
  exit 1
fi
ulimit -n "$HARD"
read -r PORT_LO PORT_HI </proc/sys/net/ipv4/ip_local_port_range
if [ $((PORT_HI - PORT_LO + 1)) -lt "$MAX" ]; then
  echo "only $((PORT_HI - PORT_LO + 1)) ephemeral ports ($PORT_LO-$PORT_HI) for $MAX connections" \
    "to one port: widen net.ipv4.ip_local_port_range" >&2
  exit 1
fi

bench_build
LOAD="$BENCH_BUILD/bench/live_load"
if [ ! -x "$LOAD" ] || [ "$BENCH_ROOT/bench/live_load.cpp" -nt "$LOAD" ]; then
  mkdir -p "$BENCH_BUILD/bench"
  # Beast/Asio header-only; Boost.System is header-only too since 1.69.
  g++ -std=c++20 -O2 -pthread "$BENCH_ROOT/bench/live_load.cpp" -o "$LOAD"
fi
trap bench_stop_daemon EXIT

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

echo "$(nproc) cores shared by the daemon and the load client (${CLIENT_THREADS} io thread(s));" \
  "ramp-up $RATE conn/s, warm-up ${WARMUP} s, measured ${DURATION} s;" \
  "daemon ${DAEMON_ARGS[*]}; open files $(ulimit -n); ports $PORT_LO-$PORT_HI${LIVE_RTPRIO:+; SCHED_FIFO $LIVE_RTPRIO};" \
  "load average $(cut -d' ' -f1-3 /proc/loadavg)"
# run ROLE NAME INTERVAL CLIENTS: a fresh daemon (so that RSS per client is not flattered or
# spoiled by the heap a previous run left behind), its idle VmRSS, one run of the load client;
# appends the client's RESULT to `results`.
results=()
run() {
  local role=$1 name=$2 interval=$3 n=$4 extra=() sched=()
  [ "$interval" = default ] || extra=(--interval "$interval")
  bench_start_daemon "${DAEMON_ARGS[@]}"
  local token port=${DAEMON_URL##*:}
  token=$("$BENCH_BUILD/medianest-perf" token --role "$role" --data-dir "$DAEMON_DIR")
  if [ -n "${LIVE_RTPRIO:-}" ]; then
    # Every thread of the daemon: a scheduling policy is per thread on Linux.
    for task in /proc/"$DAEMON_PID"/task/*; do chrt -f -p "$LIVE_RTPRIO" "${task##*/}" >/dev/null; done
    sched=(chrt -f "$LIVE_RTPRIO")
  fi
  sleep 3 # the collectors' first samples, the store's first roll-ups
  local rss0 out
  rss0=$(rss_kb "$DAEMON_PID")
  out=$("${sched[@]}" "$LOAD" --port "$port" --path "/api/v1/performance/live?token=$token" \
    --clients "$n" --rate "$RATE" --warmup "$WARMUP" --duration "$DURATION" \
    --threads "$CLIENT_THREADS" --daemon-pid "$DAEMON_PID" "${extra[@]}" \
    2> >(sed "s/^/  [$role $name $n, idle daemon $((rss0 / 1024)) MB] /" >&2))
  results+=("role=$role interval=$name rss0_kb=$rss0 $(echo "$out" | sed -n 's/^RESULT //p')")
  bench_stop_daemon
}

for role in $ROLES; do
  run "$role" baseline 100 1
  for interval in $INTERVALS; do
    for n in "${COUNTS[@]}"; do run "$role" "$interval" "$interval" "$n"; done
  done
done

printf '%s\n' "${results[@]}" | awk '
  {
    for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    if (v["interval"] == "baseline") base[v["role"]] = v["p99_ms"]
    per = v["clients"] > 1 ? (v["daemon_rss_kb"] - v["rss0_kb"]) / v["clients"] : 0
    b = base[v["role"]]
    rows[++n] = sprintf("%-5s %-8s %7d %6d %8.2f %8.2f %8.2f %8.0f %7.3f %7.1f %9s %6.1f %6.1f %6.1f %6.1f %8.1f",
      v["role"], v["interval"], v["clients"], v["clients"] - v["open"] + v["dropped"],
      v["p50_ms"], v["p99_ms"], v["max_ms"], v["frames_per_s"], v["frames_per_client_s"], v["daemon_rss_kb"] / 1024,
      v["clients"] > 1 ? sprintf("%.1f", per) : "-", v["daemon_cpu_pct"], v["daemon_sys_pct"],
      v["daemon_wait_pct"], v["client_cpu_pct"], b > 0 ? v["p99_ms"] / b : 0)
    if (v["clients"] >= 10000) {
      ok = v["p99_ms"] < 100 && per < 20 && v["open"] == v["clients"] && v["dropped"] == 0
      verdict[++m] = sprintf("%s, interval %s, %d clients: p99 %.1f ms, %.1f KB/client: target (p99 < 100 ms, < 20 KB/client) %s",
        v["role"], v["interval"], v["clients"], v["p99_ms"], per, ok ? "met" : "NOT met")
    }
  }
  END {
    printf "%-5s %-8s %7s %6s %8s %8s %8s %8s %7s %7s %9s %6s %6s %6s %6s %8s\n", "role", "interval",
      "clients", "failed", "p50 ms", "p99 ms", "max ms", "frames/s", "fr/cl/s", "RSS MB", "KB/client",
      "cpu%", "sys%", "wait%", "load%", "p99 x1"
    for (i = 1; i <= n; i++) print rows[i]
    print "(failed: not opened or dropped; cpu% / sys%: the daemon, all / kernel; wait%: time the"
    print " daemon threads were runnable but had no CPU; load%: the load client; each % of one"
    print " core; KB/client: (VmRSS during the run - idle VmRSS) / clients; p99 x1: against the"
    print " 1-client baseline)"
    for (i = 1; i <= m; i++) print verdict[i]
  }'
