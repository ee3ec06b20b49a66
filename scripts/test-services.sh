#!/usr/bin/env bash
# Starts and stops the throw-away Redis and PostgreSQL servers the test suite talks to, in
# temporary directories on free loopback ports. Meant to be sourced:
#   source scripts/test-services.sh; start_test_services; ...; stop_test_services
# Exports MEDIANEST_TEST_REDIS_URL, MEDIANEST_TEST_REDIS_PORT, MEDIANEST_TEST_REDIS_DIR,
# MEDIANEST_TEST_PG_URL, MEDIANEST_TEST_PG_PORT, MEDIANEST_TEST_PG_DIR, MEDIANEST_TEST_PG_BIN.

port_is_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pick_free_port() {
  local port
  for _ in $(seq 1 100); do
    port=$(( (RANDOM % 30000) + 20000 ))
    if port_is_free "$port"; then
      echo "$port"
      return 0
    fi
  done
  echo "no free port found" >&2
  return 1
}

as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

start_redis() {
  MEDIANEST_TEST_REDIS_DIR=$(mktemp -d /tmp/medianest-redis.XXXXXX)
  MEDIANEST_TEST_REDIS_PORT=$(pick_free_port)
  redis-server --bind 127.0.0.1 --port "$MEDIANEST_TEST_REDIS_PORT" \
    --dir "$MEDIANEST_TEST_REDIS_DIR" --save '' --appendonly no --daemonize yes \
    --pidfile "$MEDIANEST_TEST_REDIS_DIR/redis.pid" --logfile "$MEDIANEST_TEST_REDIS_DIR/redis.log"
  for _ in $(seq 1 50); do
    redis-cli -p "$MEDIANEST_TEST_REDIS_PORT" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  redis-cli -p "$MEDIANEST_TEST_REDIS_PORT" ping >/dev/null
  export MEDIANEST_TEST_REDIS_DIR MEDIANEST_TEST_REDIS_PORT
  export MEDIANEST_TEST_REDIS_URL="redis://127.0.0.1:$MEDIANEST_TEST_REDIS_PORT"
  echo "test-services: redis on port $MEDIANEST_TEST_REDIS_PORT"
}

start_postgres() {
  MEDIANEST_TEST_PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  MEDIANEST_TEST_PG_DIR=$(mktemp -d /tmp/medianest-pg.XXXXXX)
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres:postgres "$MEDIANEST_TEST_PG_DIR"
  fi
  as_postgres "$MEDIANEST_TEST_PG_BIN/initdb" -D "$MEDIANEST_TEST_PG_DIR/data" -U postgres \
    -A trust --no-sync -E UTF8 >"$MEDIANEST_TEST_PG_DIR/initdb.log" 2>&1
  # A port found free can be taken before the server binds it: try a few.
  local started=""
  for _ in 1 2 3; do
    MEDIANEST_TEST_PG_PORT=$(pick_free_port)
    if as_postgres "$MEDIANEST_TEST_PG_BIN/pg_ctl" -D "$MEDIANEST_TEST_PG_DIR/data" \
      -l "$MEDIANEST_TEST_PG_DIR/server.log" \
      -o "-k $MEDIANEST_TEST_PG_DIR -p $MEDIANEST_TEST_PG_PORT -c listen_addresses=127.0.0.1 -c fsync=off -c shared_preload_libraries=pg_stat_statements" \
      -w start >/dev/null; then
      started=yes
      break
    fi
  done
  if [ -z "$started" ]; then
    echo "test-services: PostgreSQL did not start; its log:" >&2
    tail -n 20 "$MEDIANEST_TEST_PG_DIR/server.log" >&2
    return 1
  fi
  export MEDIANEST_TEST_PG_BIN MEDIANEST_TEST_PG_DIR MEDIANEST_TEST_PG_PORT
  export MEDIANEST_TEST_PG_URL="postgresql://postgres@127.0.0.1:$MEDIANEST_TEST_PG_PORT/postgres"
  echo "test-services: postgresql on port $MEDIANEST_TEST_PG_PORT"
}

stop_redis() {
  if [ -n "${MEDIANEST_TEST_REDIS_DIR:-}" ] && [ -f "$MEDIANEST_TEST_REDIS_DIR/redis.pid" ]; then
    kill -TERM "$(cat "$MEDIANEST_TEST_REDIS_DIR/redis.pid")" 2>/dev/null || true
  fi
  [ -n "${MEDIANEST_TEST_REDIS_DIR:-}" ] && rm -rf "$MEDIANEST_TEST_REDIS_DIR"
  MEDIANEST_TEST_REDIS_DIR=""
}

stop_postgres() {
  if [ -n "${MEDIANEST_TEST_PG_DIR:-}" ] && [ -d "$MEDIANEST_TEST_PG_DIR/data" ]; then
    as_postgres "$MEDIANEST_TEST_PG_BIN/pg_ctl" -D "$MEDIANEST_TEST_PG_DIR/data" -m fast stop \
      >/dev/null 2>&1 || true
  fi
  [ -n "${MEDIANEST_TEST_PG_DIR:-}" ] && rm -rf "$MEDIANEST_TEST_PG_DIR"
  MEDIANEST_TEST_PG_DIR=""
}

start_test_services() {
  start_redis
  start_postgres
}

stop_test_services() {
  stop_redis
  stop_postgres
}
