#!/usr/bin/env bash
# The figures of docs/measurements/validity.md: that every number of a run means what it says.
#
#   scripts/validity-figures.sh [OUT]
#
# 1. probes: `none:` and `redis://` under logout-replay, 3 rounds of 3 s: the probes' requests
#    per store and round, and each round's recorded + probe requests against the servers' own
#    count over the measured window.
# 2. labels: two URLs of one Redis (`/9` and `/9?prefix=other:`), `--quick`, then named `a=`,
#    `b=`: the rows of the summary, results.json, report.md and `compare`.
# 3. merge: two `--segment` halves of a `--target` run against one fail-open server whose own
#    Redis (a redis-server started here, on REDIS_PORT, default 6390) is paused for 1.5 s
#    mid-window: store errors and fail-open passes of each half, merged, summed, and the
#    server's own count over the run.
#
# Needs a release build (cargo build --release), jq, redis-server/redis-cli, and Redis at
# REDIS_URL (default redis://127.0.0.1:6379, db 9 used under a prefix of the run's own).
set -euo pipefail

OUT=${1:-/tmp/revbench-validity}
BIN=$(realpath "${REVBENCH:-target/release/revbench}")
REDIS=${REDIS_URL:-redis://127.0.0.1:6379}
REDIS=${REDIS%/}
PORT=${REDIS_PORT:-6390}
rm -rf "$OUT"
mkdir -p "$OUT"

echo "== 1. probes: none: and redis://, logout-replay, 3 rounds of 3 s"
"$BIN" run --scenario logout-replay --stores "none:,$REDIS/9" --rounds 3 --duration 3s \
  --no-report --no-progress --out "$OUT/probes" > "$OUT/probes.log" 2>&1
jq -r '["store", "round", "recorded", "probe requests", "recorded+probes", "server count", "off %"],
  (.measurements[] | .store as $s | .rounds[]
   | [$s, .round, .requests, .replay_window.requests, .requests + .replay_window.requests,
      .server_requests,
      ((((.requests + .replay_window.requests) - .server_requests) / .server_requests * 10000
        | round) / 100)]) | @tsv' "$OUT/probes/results.json" | column -t -s $'\t'

echo
echo "== 2. labels: two URLs of one Redis, --quick, then named a= and b="
URLS="$REDIS/9,$REDIS/9?prefix=other:"
"$BIN" run --stores "$URLS" --quick --no-progress --out "$OUT/labels" > "$OUT/labels.log" 2>&1
"$BIN" run --stores "a=$REDIS/9,b=$REDIS/9?prefix=other:" --quick --no-progress \
  --out "$OUT/named" > "$OUT/named.log" 2>&1
for run in labels named; do
  echo "-- $run: results.json stores: $(jq -r '[.stores[].name] | join(", ")' "$OUT/$run/results.json")"
  echo "   measurements per store: $(jq -r '[.measurements | group_by(.store)[] | "\(.[0].store): \(length)"] | join(", ")' "$OUT/$run/results.json")"
  echo "   summary rows:"
  grep -E '^(steady|logout-replay|replicas|restart) ' "$OUT/$run.log" | sed 's/^/     /'
  echo "   report.md rows of the steady table: $(grep -cE '^\| (redis|a|b)[^|]* \| [0-9]' "$OUT/$run/report.md")"
  "$BIN" compare "$OUT/$run/results.json" "$OUT/$run/results.json" > "$OUT/$run.compare" || true
  echo "   compare rows (steady, p50_us): $(grep -E '^steady / .* p50_us' "$OUT/$run.compare" | awk '{print $3}' | paste -sd, -)"
done

echo
echo "== 3. merge: two --segment halves of a --target run, store paused 1.5 s mid-window"
# The server's /stats and `run --target` share this token (serve and run read it from here).
export REVBENCH_ADMIN_TOKEN="validity-$RANDOM$RANDOM"
redis-server --port "$PORT" --save "" --appendonly no > "$OUT/redis-server.log" 2>&1 &
REDIS_PID=$!
REVBENCH_STORE="redis://127.0.0.1:$PORT/0" "$BIN" serve --addr 127.0.0.1:0 --fail-open \
  > "$OUT/serve.out" 2> "$OUT/serve.err" &
SERVER=$!
cleanup() {
  kill "$SERVER" 2> /dev/null || true
  wait "$SERVER" 2> /dev/null || true
  kill "$REDIS_PID" 2> /dev/null || true
  wait "$REDIS_PID" 2> /dev/null || true
}
trap cleanup EXIT
for _ in $(seq 100); do
  grep -q '^listening on' "$OUT/serve.out" 2> /dev/null && break
  sleep 0.1
done
TARGET=$(grep -o 'http://[0-9.:]*' "$OUT/serve.out" | head -1)
[ -n "$TARGET" ] || { echo "the server did not start: $(cat "$OUT/serve.err")"; exit 1; }
curl -s -H "Authorization: Bearer $REVBENCH_ADMIN_TOKEN" "$TARGET/stats" > "$OUT/stats-before.json"
START=$(date -u -d '+3 seconds' +%Y-%m-%dT%H:%M:%SZ)
for k in 0 1; do
  "$BIN" run --target "$TARGET" --segment "$k/2" --start-at "$START" --warmup 0s --rounds 1 \
    --duration 3s --scenario logout-replay --no-report --no-progress --out "$OUT/half-$k" \
    > "$OUT/half-$k.log" 2>&1 &
  HALF[k]=$!
done
# One second into the measured window, the store stops answering for 1.5 s (longer than the
# server's 1 s store timeout): checks fail open, logouts fail.
sleep $(( $(date -u -d "$START" +%s) + 1 - $(date -u +%s) ))
redis-cli -p "$PORT" CLIENT PAUSE 1500 ALL > /dev/null
wait "${HALF[0]}" && wait "${HALF[1]}" || { echo "a generator failed: see $OUT/half-*.log"; exit 1; }
curl -s -H "Authorization: Bearer $REVBENCH_ADMIN_TOKEN" "$TARGET/stats" > "$OUT/stats-after.json"
"$BIN" merge "$OUT/half-0/results.json" "$OUT/half-1/results.json" -o "$OUT/merged.json"
row() { # name file
  jq -r --arg name "$1" '.measurements[0].rounds[0]
    | [$name, .store_errors, .fail_open_passes, .server_requests, .requests,
       .replay_window.requests, (.servers | length)] | @tsv' "$2"
}
{
  printf 'counted by\tstore errors\tfail-open passes\tserver requests\trecorded\tprobe requests\tserver windows\n'
  row half-0 "$OUT/half-0/results.json"
  row half-1 "$OUT/half-1/results.json"
  row merged "$OUT/merged.json"
  jq -r -s '["sum of the halves", (map(.measurements[0].rounds[0].store_errors) | add),
    (map(.measurements[0].rounds[0].fail_open_passes) | add),
    (map(.measurements[0].rounds[0].server_requests) | add),
    (map(.measurements[0].rounds[0].requests) | add),
    (map(.measurements[0].rounds[0].replay_window.requests) | add), "-"] | @tsv' \
    "$OUT/half-0/results.json" "$OUT/half-1/results.json"
  jq -r -s '["server /stats, whole run", .[1].store_errors - .[0].store_errors,
    .[1].fail_open_passes - .[0].fail_open_passes, .[1].requests - .[0].requests, "-", "-", "-"]
    | @tsv' "$OUT/stats-before.json" "$OUT/stats-after.json"
} | column -t -s $'\t'
