#!/usr/bin/env bash
# A local 3-master Redis Cluster for tests, CI and measurements, from Debian's redis-server.
#
#   scripts/redis-cluster.sh start [DIR]   prints its store URL (redis-cluster://h:p,h:p,h:p/)
#   scripts/redis-cluster.sh stop  [DIR]   stops it and removes DIR
#
# Idempotent: `start` on a DIR whose cluster still answers only prints the URL again (about
# 10 ms), so every test binary and `.ci/run` can call it. A lock makes concurrent starts
# safe. Nodes listen on 127.0.0.1 only, keep nothing on disk (no RDB, no AOF) and use three
# free ports (their cluster bus ports, +10000, must be free too).
set -euo pipefail

cmd=${1:-}
dir=${2:-${TMPDIR:-/tmp}/revbench-redis-cluster-$(id -u)}
url_file=$dir/url

answers() { # port
  timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# Whether every node of the cluster in $dir answers and reports all slots served.
healthy() {
  [ -f "$url_file" ] || return 1
  local port
  for port in $(cat "$dir/ports"); do
    redis-cli -p "$port" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || return 1
  done
}

stop() {
  local pidfile
  for pidfile in "$dir"/*.pid; do
    [ -f "$pidfile" ] || continue
    kill "$(cat "$pidfile")" 2>/dev/null || true
  done
  sleep 0.2
  rm -rf "$dir"
}

free_ports() { # prints three ports P such that P and P+10000 are both free
  # P+10000 (the cluster bus) stays below the kernel's ephemeral range (32768-60999 by
  # default): a port there may be the local end of an outgoing connection, and listening on it
  # would fail although nothing answers on it.
  local found=() port tries=0
  while [ "${#found[@]}" -lt 3 ]; do
    tries=$((tries + 1))
    [ "$tries" -lt 200 ] || { echo "error: no free ports for the cluster" >&2; return 1; }
    port=$((20000 + RANDOM % 2700))
    answers "$port" || answers $((port + 10000)) || found+=("$port")
  done
  echo "${found[@]}"
}

start() {
  command -v redis-server >/dev/null || {
    echo "error: redis-server not found; install it (apt-get install redis-server)" >&2
    return 1
  }
  if healthy; then cat "$url_file"; return 0; fi
  stop
  mkdir -p "$dir"
  local ports port nodes=() url
  ports=$(free_ports)
  echo "$ports" >"$dir/ports"
  for port in $ports; do
    mkdir -p "$dir/$port"
    redis-server --port "$port" --bind 127.0.0.1 --daemonize yes \
      --cluster-enabled yes --cluster-config-file "$dir/$port/nodes.conf" \
      --cluster-node-timeout 5000 --save "" --appendonly no \
      --dir "$dir/$port" --pidfile "$dir/$port.pid" --logfile "$dir/$port/redis.log" 9>&-
    nodes+=("127.0.0.1:$port")
  done
  for port in $ports; do
    for _ in $(seq 1 50); do answers "$port" && break; sleep 0.1; done
  done
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >"$dir/create.log" 2>&1 || {
    echo "error: redis-cli --cluster create failed; see $dir/create.log" >&2
    return 1
  }
  # `create` returns when slots are assigned; wait until every node agrees the cluster is ok.
  for _ in $(seq 1 100); do
    url="redis-cluster://$(IFS=,; echo "${nodes[*]}")/"
    echo "$url" >"$url_file"
    healthy && { echo "$url"; return 0; }
    rm -f "$url_file"
    sleep 0.1
  done
  echo "error: the cluster in $dir did not reach cluster_state:ok" >&2
  return 1
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
