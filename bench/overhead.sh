#!/usr/bin/env bash
# The daemon's own cost against the usual peers, in one run on one machine: medianest-perf with
# all five collectors at 1 s (system, api, database on a private PostgreSQL reached in clear as
# docker-compose.yml's, which has no TLS, cache on a private Redis, resources; history and alerts on,
# --access-log off), Debian's prometheus-node-exporter (default collectors), Netdata (update
# every 1 s, private config and data dirs) and Glances (XML-RPC server, refresh 1 s, as
# Debian's glances.service runs it).
# node_exporter and the daemon's /prometheus are scraped once a second by curl, Glances is
# polled once a second (getAll, what its client does); Netdata collects every second on its own.
# After WARMUP s, samples each process tree (the process and all its descendants: Netdata's
# plugins) for SECONDS s: CPU (utime + stime of the tree, % of one core), VmRSS summed over the
# tree every second (mean, max), PSS. Prints a table, the ratios against each peer and the
# targets (CPU <= 0.3 % of a core, RSS <= 12 MB), then the daemon's RSS by mapping.
#   bench/overhead.sh [SECONDS] [WARMUP]      (defaults: 60, 15)
# MB here is MiB (1,048,576 bytes), as in the other benchmarks.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
SECONDS_=${1:-60}
WARMUP=${2:-15}

# Debian's packages; installed here when missing (bench-only, not in install-deps.sh). The
# packages' own services are not used: a package that started one gets it stopped again.
need=()
command -v prometheus-node-exporter >/dev/null || need+=(prometheus-node-exporter)
command -v netdata >/dev/null || [ -x /usr/sbin/netdata ] || need+=(netdata)
command -v glances >/dev/null || need+=(glances)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
  for svc in prometheus-node-exporter netdata glances; do
    systemctl stop "$svc" 2>/dev/null || service "$svc" stop >/dev/null 2>&1 || true
  done
fi
NODE_EXPORTER=$(command -v prometheus-node-exporter)
NETDATA=$(command -v netdata || echo /usr/sbin/netdata)
GLANCES=$(command -v glances)

bench_build
source "$BENCH_ROOT/scripts/test-services.sh"
WORK=$(mktemp -d /tmp/medianest-overhead.XXXXXX)
chmod 0755 "$WORK"
LOOPS=()
PEERS=()

# kill_tree PID: SIGTERM to PID, then SIGKILL to whatever of its tree is left after 5 s.
kill_tree() {
  local root=$1 pids=() pending=("$1") p
  while [ ${#pending[@]} -gt 0 ]; do
    p=${pending[0]}
    pending=("${pending[@]:1}")
    pids+=("$p")
    for c in $(ps -o pid= --ppid "$p" 2>/dev/null); do pending+=("$c"); done
  done
  kill -TERM "$root" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$root" 2>/dev/null || break
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  wait "$root" 2>/dev/null || true
}

cleanup() {
  trap - EXIT INT TERM
  for p in "${LOOPS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PEERS[@]}"; do kill_tree "$p"; done
  bench_stop_daemon
  stop_test_services >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

wait_http() { # wait_http URL [curl args...]: up to 20 s for a 2xx
  local url=$1
  shift
  for _ in $(seq 1 200); do
    curl -fs -o /dev/null "$@" "$url" && return 0
    sleep 0.1
  done
  echo "no answer from $url" >&2
  return 1
}

# scrape_loop NAME URL [curl args...]: one request a second (the next starts 1 s after the
# previous one started), one status code per line in $WORK/NAME.scrapes.
scrape_loop() {
  local name=$1 url=$2
  shift 2
  (
    trap - EXIT INT TERM
    while :; do
      sleep 1 &
      curl -s -o /dev/null -w '%{http_code}\n' --max-time 5 "$@" "$url" >>"$WORK/$name.scrapes" || true
      wait $!
    done
  ) &
  LOOPS+=($!)
}

start_test_services >/dev/null
# The database URL as docker-compose.yml gives it: no Kerberos here, so no GSS encryption to try.
bench_start_daemon --redis "$MEDIANEST_TEST_REDIS_URL" --database "$MEDIANEST_TEST_PG_URL?sslmode=disable" \
  --sample-interval 1 --access-log off
AUTH="Authorization: Bearer $ADMIN_TOKEN"
API="$DAEMON_URL/api/v1/performance"

# Every collector must be running: the four sections of /metrics and /resources answered by a
# live collector (database on PostgreSQL, cache on Redis), alerting enabled.
check_collectors() {
  curl -fs -H "$AUTH" "$API/metrics" >"$WORK/metrics.json" &&
    curl -fs -H "$AUTH" "$API/resources" >"$WORK/resources.json" &&
    curl -fs -H "$AUTH" "$API/alerts" >"$WORK/alerts.json" &&
    python3 - "$WORK" <<'PY'
import json, sys
d = sys.argv[1]
m = json.load(open(f"{d}/metrics.json"))["data"]
r = json.load(open(f"{d}/resources.json"))["data"]
a = json.load(open(f"{d}/alerts.json"))["data"]
ok = all(m.get(s, {}).get("status") == "ok" for s in ("system", "api", "database", "cache"))
ok = ok and m["database"].get("backend") == "postgresql" and m["cache"].get("source") == "redis"
ok = ok and r.get("status") == "ok" and a.get("enabled") is True
sys.exit(0 if ok else 1)
PY
}
for i in $(seq 1 50); do
  check_collectors && break
  [ "$i" -eq 50 ] && { echo "the daemon's collectors are not all running:" >&2; cat "$WORK"/*.json >&2; exit 1; }
  sleep 0.2
done

# node_exporter: Debian's binary, default collectors.
NODE_PORT=$(bench_free_port)
"$NODE_EXPORTER" --web.listen-address="127.0.0.1:$NODE_PORT" >"$WORK/node_exporter.log" 2>&1 &
NODE_PID=$!
PEERS+=("$NODE_PID")

# Netdata: Debian's configuration (stock config, plugins, health, dbengine) with private
# directories and port; update every 1 s (its default), run as the netdata user as the
# package's service does; no anonymous statistics.
ND="$WORK/netdata"
mkdir -p "$ND"/{conf,cache,lib,log,lock}
touch "$ND/conf/.opt-out-from-anonymous-statistics"
NETDATA_PORT=$(bench_free_port)
cat >"$ND/conf/netdata.conf" <<CONF
[global]
	run as user = netdata
	update every = 1
[directories]
	config = $ND/conf
	stock config = /usr/lib/netdata/conf.d
	log = $ND/log
	cache = $ND/cache
	lib = $ND/lib
	lock = $ND/lock
	home = $ND
[web]
	bind to = 127.0.0.1
	default port = $NETDATA_PORT
CONF
chown -R netdata:netdata "$ND" 2>/dev/null || true
DO_NOT_TRACK=1 "$NETDATA" -D -c "$ND/conf/netdata.conf" -p "$NETDATA_PORT" >"$WORK/netdata.out" 2>&1 &
NETDATA_PID=$!
PEERS+=("$NETDATA_PID")

# Glances: the XML-RPC server of Debian's glances.service (`glances -s -B 127.0.0.1`), with a
# refresh and cache time of 1 s. A server collects when a client asks; its client asks for
# everything (getAll) every refresh, which the poll loop below does.
GLANCES_PORT=$(bench_free_port)
"$GLANCES" -s -B 127.0.0.1 -p "$GLANCES_PORT" -t 1 --cached-time 1 >"$WORK/glances.out" 2>&1 &
GLANCES_PID=$!
PEERS+=("$GLANCES_PID")
GETALL='<?xml version="1.0"?><methodCall><methodName>getAll</methodName><params></params></methodCall>'

wait_http "http://127.0.0.1:$NODE_PORT/metrics"
wait_http "http://127.0.0.1:$NETDATA_PORT/api/v1/info"
wait_http "http://127.0.0.1:$GLANCES_PORT/RPC2" -H 'Content-Type: text/xml' --data "$GETALL"

scrape_loop medianest "$API/prometheus" -H "$AUTH"
scrape_loop node_exporter "http://127.0.0.1:$NODE_PORT/metrics"
scrape_loop glances "http://127.0.0.1:$GLANCES_PORT/RPC2" -H 'Content-Type: text/xml' --data "$GETALL"

echo "$(nproc) cores, shared with whatever else runs (load average $(cut -d' ' -f1-3 /proc/loadavg));" \
  "warm-up ${WARMUP} s, measuring ${SECONDS_} s"
echo "medianest-perf: --sample-interval 1 --access-log off, PostgreSQL (in clear) + Redis, /prometheus scraped 1/s;" \
  "node_exporter $("$NODE_EXPORTER" --version 2>&1 | awk 'NR==1 {print $3}') scraped 1/s;" \
  "netdata $("$NETDATA" -v 2>&1 | awk '{print $2}') (update every 1 s);" \
  "glances $("$GLANCES" -V 2>&1 | awk 'NR==1 {print $2}') -s, polled 1/s"
sleep "$WARMUP"
check_collectors || { echo "a collector stopped during the warm-up" >&2; exit 1; }
for f in "$WORK"/*.scrapes; do : >"$f"; done
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
python3 "$BENCH_ROOT/bench/proctree.py" sample --duration "$SECONDS_" --interval 1 --threads medianest-perf \
  medianest-perf="$DAEMON_PID" node_exporter="$NODE_PID" netdata="$NETDATA_PID" glances="$GLANCES_PID" \
  >"$WORK/trees.txt"
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
check_collectors || { echo "a collector stopped during the measurement" >&2; exit 1; }
scrapes=""
for n in medianest node_exporter glances; do
  scrapes+="$n $(wc -l <"$WORK/$n.scrapes") scrapes, $(grep -vc '^200$' "$WORK/$n.scrapes" || true) not 200; "
done
echo "load average $LOAD0 -> $LOAD1; $scrapes"

awk -v cpu_target=0.3 -v rss_target_mb=12 '
  $1 == "TREE" {
    delete v
    for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    n = v["name"]; names[++count] = n
    procs[n] = v["procs"]; cpu[n] = v["cpu_pct"]; sys[n] = v["sys_pct"]
    rss[n] = v["rss_mean_kb"] / 1024; rssmax[n] = v["rss_max_kb"] / 1024
    pss[n] = v["pss_mean_kb"] / 1024; anon[n] = v["anon_mean_kb"] / 1024
  }
  END {
    printf "%-15s %5s %12s %10s %11s %10s %10s %12s\n", "process tree", "procs", "CPU % core",
      "(system)", "RSS mean MB", "RSS max MB", "PSS MB", "anon RSS MB"
    for (i = 1; i <= count; i++) {
      n = names[i]
      printf "%-15s %5d %12.2f %10.2f %11.1f %10.1f %10.1f %12.1f\n", n, procs[n], cpu[n], sys[n],
        rss[n], rssmax[n], pss[n], anon[n]
    }
    us = "medianest-perf"
    print "ratios medianest-perf / peer (CPU, RSS mean, PSS):"
    for (i = 1; i <= count; i++) {
      n = names[i]
      if (n == us) continue
      printf "  / %-14s CPU %.2f  RSS %.2f  PSS %.2f\n", n, (cpu[n] > 0 ? cpu[us] / cpu[n] : 0),
        (rss[n] > 0 ? rss[us] / rss[n] : 0), (pss[n] > 0 ? pss[us] / pss[n] : 0)
    }
    printf "target CPU <= %.1f %% of a core: %.2f %% -> %s\n", cpu_target, cpu[us],
      cpu[us] <= cpu_target ? "PASS" : "MISS"
    printf "target RSS <= %d MB (the max over the window): %.1f MB -> %s\n", rss_target_mb, rssmax[us],
      rssmax[us] <= rss_target_mb ? "PASS" : "MISS"
  }' "$WORK/trees.txt"

awk '$1 == "THREADS" { printf "medianest-perf CPU by thread (%% of a core):"; for (i = 3; i <= NF; i++) { split($i, kv, "="); printf " %s %s", kv[1], kv[2] } print "" }' "$WORK/trees.txt"
echo "medianest-perf RSS by mapping (/proc/$DAEMON_PID/smaps, KB; private = clean + dirty):"
python3 "$BENCH_ROOT/bench/proctree.py" smaps "$DAEMON_PID" | awk 'NR <= 17 || /total$/'
