#!/usr/bin/env bash
# A Redis and a PostgreSQL that require TLS and a password, with certificates made here, for
# the TLS tests (managed services look like this: rediss://user:password@…, sslmode=require).
#
#   scripts/tls-servers.sh start [DIR]   prints KEY=VALUE lines: redis_url, postgres_url,
#                                        ca_file (signed the servers' certificates) and
#                                        wrong_ca_file (a CA that signed nothing here)
#   scripts/tls-servers.sh stop  [DIR]   stops both and removes DIR
#
# Idempotent like scripts/redis-cluster.sh: a DIR whose servers still answer is reused. Both
# listen on 127.0.0.1 only, on free ports; PostgreSQL is an instance of its own (initdb in
# DIR, run as the `postgres` user when started by root), never the machine's.
set -euo pipefail

cmd=${1:-}
dir=${2:-${TMPDIR:-/tmp}/revbench-tls-servers-$(id -u)}
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)

answers() { # port
  timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

free_port() { # [PORT not to use]
  # Below the kernel's ephemeral range (32768-60999 by default): a port that no server answers
  # on may still be the local end of some test's outgoing connection, and then a listen on it
  # fails (seen in CI: pg_ctl could not start). 12000-19999 is also clear of redis-cluster.sh.
  local port
  for _ in $(seq 1 100); do
    port=$((12000 + RANDOM % 8000))
    [ "$port" != "${1:-}" ] || continue
    answers "$port" || { echo "$port"; return 0; }
  done
  echo "error: no free port" >&2
  return 1
}

as_postgres() { # PostgreSQL refuses to run as root
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

healthy() {
  [ -f "$dir/env" ] || return 1
  # shellcheck disable=SC1091
  . "$dir/ports"
  answers "$redis_port" && answers "$postgres_port"
}

stop() {
  [ -f "$dir/redis.pid" ] && kill "$(cat "$dir/redis.pid")" 2>/dev/null || true
  [ -d "$dir/pg/data" ] && as_postgres "$pg_bin/pg_ctl" -D "$dir/pg/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}

certificates() {
  local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  openssl req -x509 "${ec[@]}" -keyout "$dir/ca.key" -out "$dir/ca.pem" -days 2 \
    -subj "/CN=revbench test CA" 2>/dev/null
  openssl req -x509 "${ec[@]}" -keyout "$dir/wrong-ca.key" -out "$dir/wrong-ca.pem" -days 2 \
    -subj "/CN=revbench wrong CA" 2>/dev/null
  openssl req "${ec[@]}" -keyout "$dir/server.key" -out "$dir/server.csr" -subj "/CN=localhost" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$dir/san.ext"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
    -out "$dir/server.pem" -days 2 -extfile "$dir/san.ext" 2>/dev/null
}

start_redis() { # port password
  redis-server --port 0 --tls-port "$1" --bind 127.0.0.1 \
    --tls-cert-file "$dir/server.pem" --tls-key-file "$dir/server.key" \
    --tls-ca-cert-file "$dir/ca.pem" --tls-auth-clients no --save "" --appendonly no \
    --user revbench on ">$2" '~*' '&*' '+@all' --user default off \
    --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir" 9>&-
}

start_postgres() { # port password
  local pg=$dir/pg
  mkdir -p "$pg"
  cp "$dir/server.pem" "$dir/server.key" "$pg/"
  printf '%s\n' "$2" >"$pg/pw"
  chmod 700 "$pg"
  chmod 600 "$pg/server.key" "$pg/pw"
  [ "$(id -u)" = 0 ] && chown -R postgres "$pg"
  as_postgres "$pg_bin/initdb" -D "$pg/data" -U revbench --pwfile="$pg/pw" \
    --auth=scram-sha-256 -N >"$pg/initdb.log" 2>&1
  rm -f "$pg/pw"
  as_postgres "$pg_bin/pg_ctl" -D "$pg/data" -w -l "$pg/log" -o "-p $1 \
    -c listen_addresses=127.0.0.1 -c unix_socket_directories=$pg -c ssl=on \
    -c ssl_cert_file=$pg/server.pem -c ssl_key_file=$pg/server.key -c fsync=off" \
    start >/dev/null 2>&1 9>&-
}

start_redis_on_a_free_port() { # password; prints the port it listens on
  # Retried on another port: between the check and the listen, the port can be taken.
  local port
  for _ in 1 2 3; do
    port=$(free_port)
    start_redis "$port" "$1"
    for _ in $(seq 1 50); do
      if answers "$port"; then echo "$port"; return 0; fi
      if [ -f "$dir/redis.pid" ] && ! kill -0 "$(cat "$dir/redis.pid")" 2>/dev/null; then break; fi
      sleep 0.1
    done
    [ -f "$dir/redis.pid" ] && kill "$(cat "$dir/redis.pid")" 2>/dev/null
    rm -f "$dir/redis.pid"
  done
  echo "error: Redis did not start on three ports; its last log:" >&2
  tail -n 5 "$dir/redis.log" >&2 2>/dev/null || true
  return 1
}

start_postgres_on_a_free_port() { # password [PORT not to use]; prints the port it listens on
  local port
  for _ in 1 2 3; do
    port=$(free_port "${2:-}")
    if start_postgres "$port" "$1"; then echo "$port"; return 0; fi
    cat "$dir/pg/log" "$dir/pg/initdb.log" >"$dir/pg.log" 2>/dev/null || true
    as_postgres "$pg_bin/pg_ctl" -D "$dir/pg/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir/pg"
  done
  echo "error: PostgreSQL did not start on three ports; its last log:" >&2
  tail -n 5 "$dir/pg.log" >&2 2>/dev/null || true
  return 1
}

start() {
  for tool in openssl redis-server; do
    command -v "$tool" >/dev/null || { echo "error: $tool not found (apt-get install $tool)" >&2; return 1; }
  done
  [ -n "$pg_bin" ] || { echo "error: no /usr/lib/postgresql/*/bin (apt-get install postgresql)" >&2; return 1; }
  if healthy; then cat "$dir/env"; return 0; fi
  stop
  mkdir -p "$dir"
  chmod 755 "$dir"
  certificates
  local redis_port postgres_port password
  password=$(openssl rand -hex 12)
  redis_port=$(start_redis_on_a_free_port "$password")
  postgres_port=$(start_postgres_on_a_free_port "$password" "$redis_port")
  printf 'redis_port=%s\npostgres_port=%s\n' "$redis_port" "$postgres_port" >"$dir/ports"
  {
    echo "redis_url=rediss://revbench:$password@127.0.0.1:$redis_port/0"
    echo "postgres_url=postgres://revbench:$password@127.0.0.1:$postgres_port/postgres?sslmode=require"
    echo "ca_file=$dir/ca.pem"
    echo "wrong_ca_file=$dir/wrong-ca.pem"
  } >"$dir/env"
  chmod 600 "$dir/env"
  healthy || { echo "error: the TLS servers in $dir did not start (see $dir/*.log)" >&2; return 1; }
  cat "$dir/env"
}

case "$cmd" in
  start | stop)
    mkdir -p "$(dirname "$dir")"
    exec 9>"$dir.lock"
    flock 9
    "$cmd"
    ;;
  *)
    echo "usage: $0 start|stop [DIR]" >&2
    exit 2
    ;;
esac
