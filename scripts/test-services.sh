#!/usr/bin/env bash
# Starts and stops the throw-away Redis and PostgreSQL servers the test suite talks to, in
# temporary directories on free loopback ports. Meant to be sourced:
#   source scripts/test-services.sh; start_test_services; ...; stop_test_services
# Exports MEDIANEST_TEST_REDIS_URL, MEDIANEST_TEST_REDIS_PORT, MEDIANEST_TEST_REDIS_DIR,
# MEDIANEST_TEST_PG_URL, MEDIANEST_TEST_PG_PORT, MEDIANEST_TEST_PG_DIR, MEDIANEST_TEST_PG_BIN,
# MEDIANEST_TEST_PG_CA.
#
# The PostgreSQL server accepts TLS (a throw-away CA, MEDIANEST_TEST_PG_CA) and has roles for
# each password method our client speaks (src/pq/); see add_client_test_roles. PGSSLMODE=disable
# is exported so that every other test, and the benchmarks, connect in clear as they would to
# docker-compose's PostgreSQL; the client's own tests ask for TLS explicitly.

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
  make_test_certificates "$MEDIANEST_TEST_PG_DIR/data"
  allow_client_test_roles "$MEDIANEST_TEST_PG_DIR/data/pg_hba.conf"
  # A port found free can be taken before the server binds it: try a few.
  local started=""
  for _ in 1 2 3; do
    MEDIANEST_TEST_PG_PORT=$(pick_free_port)
    if as_postgres "$MEDIANEST_TEST_PG_BIN/pg_ctl" -D "$MEDIANEST_TEST_PG_DIR/data" \
      -l "$MEDIANEST_TEST_PG_DIR/server.log" \
      -o "-k $MEDIANEST_TEST_PG_DIR -p $MEDIANEST_TEST_PG_PORT -c listen_addresses=127.0.0.1 -c fsync=off -c shared_preload_libraries=pg_stat_statements -c ssl=on" \
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
  add_client_test_roles
  export MEDIANEST_TEST_PG_BIN MEDIANEST_TEST_PG_DIR MEDIANEST_TEST_PG_PORT
  export MEDIANEST_TEST_PG_URL="postgresql://postgres@127.0.0.1:$MEDIANEST_TEST_PG_PORT/postgres"
  export MEDIANEST_TEST_PG_CA="$MEDIANEST_TEST_PG_DIR/data/ca.crt"
  export PGSSLMODE=disable
  echo "test-services: postgresql on port $MEDIANEST_TEST_PG_PORT"
}

# A CA and a server certificate for localhost and 127.0.0.1, valid for two days.
make_test_certificates() {
  local dir=$1
  (
    cd "$dir" || exit 1
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
      -subj "/CN=medianest test CA" -keyout ca.key -out ca.crt
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -subj "/CN=localhost" -keyout server.key -out server.csr
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
      -extfile server.ext -out server.crt
    chmod 600 server.key ca.key
  ) >"$dir/../certificates.log" 2>&1
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres:postgres "$dir"/server.key "$dir"/server.crt "$dir"/ca.crt
  fi
}

# One role per password method, and one that may connect only over TLS (first match wins, so
# these lines go before initdb's "trust" ones).
allow_client_test_roles() {
  local hba=$1
  {
    echo "hostssl all medianest_tls 127.0.0.1/32 trust"
    echo "hostnossl all medianest_tls 127.0.0.1/32 reject"
    echo "host all medianest_scram 127.0.0.1/32 scram-sha-256"
    echo "host all medianest_md5 127.0.0.1/32 md5"
    echo "host all medianest_password 127.0.0.1/32 password"
    cat "$hba"
  } >"$hba.new"
  mv "$hba.new" "$hba"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres:postgres "$hba"
  fi
}

add_client_test_roles() {
  "$MEDIANEST_TEST_PG_BIN/psql" -q -h 127.0.0.1 -p "$MEDIANEST_TEST_PG_PORT" -U postgres \
    -d postgres -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE ROLE medianest_scram LOGIN PASSWORD 'scram-secret';
CREATE ROLE medianest_password LOGIN PASSWORD 'plain-secret';
CREATE ROLE medianest_tls LOGIN;
SET password_encryption = 'md5';
CREATE ROLE medianest_md5 LOGIN PASSWORD 'md5-secret';
SQL
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
