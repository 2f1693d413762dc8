#!/usr/bin/env bash
# Cross-checks revbench's load numbers against wrk on the same `none:` server settings:
# same connections (users), same duration, single endpoint GET /api/me with a live token.
# Usage: scripts/crosscheck-wrk.sh [users] [seconds]   (needs wrk and a release build)
set -euo pipefail
cd "$(dirname "$0")/.."
users=${1:-8}
secs=${2:-10}
bin=target/release/revbench
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 2; }
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)" >&2; exit 2; }

export REVBENCH_JWT_SECRET=crosscheck-secret-0123456789abcdef0123456789
log=$(mktemp)
"$bin" serve --store none: --addr 127.0.0.1:0 >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 50); do grep -q listening "$log" && break; sleep 0.1; done
base=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$log")
token=$(curl -s -XPOST "$base/login" -H 'content-type: application/json' -d '{"username":"wrk"}' \
  | sed 's/.*"access_token":"\([^"]*\)".*/\1/')

echo "== wrk: $users connections, ${secs}s, GET /api/me"
wrk -t 1 -c "$users" -d "${secs}s" --latency -H "Authorization: Bearer $token" "$base/api/me" \
  | grep -E "Requests/sec|50%|99%"

kill $server; wait $server 2>/dev/null || true
trap 'rm -f "$log"' EXIT

echo "== revbench: $users users, ${secs}s, scenario check-only, none:"
out=$(mktemp -d)
scenario="$out/check-only.toml"
sed "s/^users = .*/users = $users/" scenarios/check-only.toml >"$scenario"
"$bin" run --scenario "$scenario" --stores none: --rounds 1 --duration "${secs}s" \
  --out "$out" --no-report --no-progress | grep -E "^check-only|scenario"
