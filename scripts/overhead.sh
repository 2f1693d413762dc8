#!/usr/bin/env bash
# The harness's own overhead, measured against independent tools in one run (issue 15):
#   1. one wrk command against a bare axum handler serving the same JSON
#      (examples/bare_axum.rs) and against `revbench serve` with `none:`, `hashmap:` and Redis;
#   2. wrk and revbench's own load client (scenario check-only) against a `none:` server, with
#      the same number of connections (users) and the same duration.
# The servers run side by side and are measured in interleaved rounds (bare, none:, hashmap:,
# redis, wrk on none:, revbench on none:, then again), so drift on a shared machine hits every
# row alike; each ratio is taken within a round and the table shows medians over the rounds.
# Loopback only; every step is bounded in time.
#
# Usage: scripts/overhead.sh [seconds=5] [connections=32] [rounds=3]
# Needs: cargo build --release --bin revbench --example bare_axum; wrk; curl; python3; Redis at
# $OVERHEAD_REDIS_URL (default redis://127.0.0.1:6379/12; the servers only read from it).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
conns=${2:-32}
rounds=${3:-3}
redis_url=${OVERHEAD_REDIS_URL:-redis://127.0.0.1:6379/12}
bin=${REVBENCH_BIN:-target/release/revbench} # overridable to compare two builds
bare=${BARE_AXUM_BIN:-target/release/examples/bare_axum}
for exe in "$bin" "$bare"; do
  [ -x "$exe" ] || { echo "build first: cargo build --release --bin revbench --example bare_axum" >&2; exit 2; }
done
for tool in wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "install $tool (apt-get install $tool)" >&2; exit 2; }
done

export REVBENCH_JWT_SECRET=overhead-secret-0123456789abcdef0123456789
work=$(mktemp -d)
servers=()
trap 'for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"' EXIT

# start NAME CMD...: runs a server, waits (up to 5 s) for its `listening on` line, records its
# URL and process id.
start() {
  local name=$1 log="$work/$1.log"
  shift
  "$@" >"$log" 2>&1 &
  servers+=($!)
  echo $! >"$work/$name.pid"
  for _ in $(seq 50); do grep -qs '^listening on' "$log" && break; sleep 0.1; done
  sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$log" >"$work/$name.url"
  [ -s "$work/$name.url" ] || { cat "$log" >&2; echo "server $name did not start: $*" >&2; exit 1; }
}

start bare "$bare" 127.0.0.1:0
start none "$bin" serve --store none: --addr 127.0.0.1:0
start hashmap "$bin" serve --store hashmap: --addr 127.0.0.1:0
start redis "$bin" serve --store "$redis_url" --addr 127.0.0.1:0
start client-none "$bin" serve --store none: --addr 127.0.0.1:0
# One live token for all (same secret everywhere); the bare handler gets the same request bytes.
token=$(curl -s -XPOST "$(cat "$work/none.url")/login" -H 'content-type: application/json' \
  -d '{"username":"wrk"}' | sed 's/.*"access_token":"\([^"]*\)".*/\1/')

# wrk against one server: 1 s warm-up, then the measurement. Prints "req/s p50_µs server_cpu_µs
# client_cpu_µs" (CPU per request: the server's from /proc/PID/stat, wrk's from its rusage).
cat >"$work/wrk.py" <<'EOF'
import os, re, resource, subprocess, sys
url, token, pid, secs, conns = sys.argv[1:6]
auth = ["-H", f"Authorization: Bearer {token}"]
subprocess.run(["wrk", "-t1", f"-c{conns}", "-d1s", *auth, url], check=True, capture_output=True)
def server_cpu():  # utime + stime, in seconds
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
before_server, before_client = server_cpu(), resource.getrusage(resource.RUSAGE_CHILDREN)
text = subprocess.run(["wrk", "-t1", f"-c{conns}", f"-d{secs}s", "--latency", *auth, url],
                      check=True, capture_output=True, text=True).stdout
after_server, after_client = server_cpu(), resource.getrusage(resource.RUSAGE_CHILDREN)
if "Non-2xx" in text:
    sys.exit(f"{url}: non-2xx answers\n{text}")
requests = int(re.search(r"(\d+) requests in", text).group(1))
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
value, unit = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s)\s*$", text, re.M).groups()
p50 = float(value) * {"us": 1, "ms": 1e3, "s": 1e6}[unit]
client = (after_client.ru_utime + after_client.ru_stime) - (before_client.ru_utime + before_client.ru_stime)
print(f"{rps:.0f}\t{p50:.0f}\t{(after_server - before_server) * 1e6 / requests:.1f}\t{client * 1e6 / requests:.1f}")
EOF
measure() { # ROUND NAME
  printf '%s\t%s\t' "$1" "$2" >>"$work/rows"
  python3 "$work/wrk.py" "$(cat "$work/$2.url")/api/me" "$token" "$(cat "$work/$2.pid")" \
    "$secs" "$conns" >>"$work/rows"
}

sed "s/^users = .*/users = $conns/" scenarios/check-only.toml >"$work/check-only.toml"
: >"$work/rows"
for round in $(seq "$rounds"); do
  for name in bare none hashmap redis client-none; do measure "$round" "$name"; done
  # revbench's load client against its own fresh none: server (same settings as client-none).
  "$bin" run --scenario "$work/check-only.toml" --stores none: --rounds 1 --duration "${secs}s" \
    --out "$work/run$round" --no-report --no-progress >/dev/null
  python3 - "$round" "$work/run$round/results.json" >>"$work/rows" <<'EOF'
import json, sys
r = json.load(open(sys.argv[2]))["measurements"][0]["rounds"][0]
print(f"{sys.argv[1]}\trevbench-client\t{r['requests_per_sec']:.0f}\t{r['latency']['p50_us']:.0f}\t"
      f"{r['server_cpu_us_per_request']:.1f}\t{r['client_cpu_us_per_request']:.1f}")
EOF
done

python3 - "$work/rows" "$secs" "$conns" "$rounds" "$redis_url" <<'EOF'
import collections, statistics, sys
rows = collections.defaultdict(dict)
for line in open(sys.argv[1]):
    rnd, name, *values = line.split("\t")
    rows[rnd][name] = [float(v) for v in values]
secs, conns, rounds, redis_url = sys.argv[2:6]
med = statistics.median
def value(name, i): return med(r[name][i] for r in rows.values())
def ratio(a, b, i=0):
    values = [r[a][i] / r[b][i] for r in rows.values()]
    return f"**{med(values):.2f}×** ({min(values):.2f}–{max(values):.2f})"
def cells(name):
    rps, p50, server, client = (value(name, i) for i in range(4))
    return f"{rps:,.0f} | {p50:.0f} | {server:.1f} | {client:.1f}"
print(f"wrk -t1 -c{conns} -d{secs}s GET /api/me with a live token, and revbench's load client with "
      f"{conns} users for {secs}s; medians of {rounds} interleaved rounds; ratios per round, median "
      f"(min–max). CPU µs per request: the server's from /proc, the client's from its rusage.")
print()
print("| | req/s | p50 µs | server CPU µs/req | client CPU µs/req | ratio |")
print("|---|---|---|---|---|---|")
print(f"| bare axum handler (examples/bare_axum.rs) | {cells('bare')} | 1.00× bare |")
for name, label in [("none", "none:"), ("hashmap", "hashmap:"), ("redis", redis_url)]:
    extra = f"; {ratio(name, 'none')} none:" if name == "redis" else ""
    print(f"| `revbench serve --store {label}` | {cells(name)} | {ratio(name, 'bare')} bare{extra} |")
print(f"| wrk on a `none:` server | {cells('client-none')} | 1.00× wrk |")
p50 = [r["revbench-client"][1] / r["client-none"][1] - 1 for r in rows.values()]
print(f"| revbench's load client (check-only) on a `none:` server | {cells('revbench-client')} "
      f"| {ratio('revbench-client', 'client-none')} wrk; p50 **{med(p50):+.0%}** "
      f"({min(p50):+.0%} to {max(p50):+.0%}) |")
EOF
