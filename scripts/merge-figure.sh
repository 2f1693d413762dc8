#!/usr/bin/env bash
# The figure behind "several load generators, one result" (docs/measurements/merge.md): two generators at half load
# each (`run --segment 0/2` and `1/2`, started together with `--start-at`), merged with
# `revbench merge`, against one generator at full load, all driving the same server
# (`run --target`). Full-load runs come before and after the pair, so the difference between
# the two full runs shows the noise the merged figures are to be judged against.
#
#   scripts/merge-figure.sh [OUT]
#
# Needs a release build (cargo build --release), jq, and Redis at REDIS_URL (default db 14; the
# server keeps its keys under a prefix of its own, deleted at the end). Bounded: three runs of
# 2 scenarios × ROUNDS × (DURATION + 1 s warm-up), about 75 s with the defaults.
#
# PIN=1 (the default where taskset exists and there are 2+ CPUs) puts the server on the last
# CPU and every generator on the others, so one generator and two share the same CPUs: on one
# machine, unpinned, two generators are two more processes competing with the server, and the
# figure measures that contention rather than the merge. PIN=0 runs them unpinned.
set -euo pipefail

OUT=${1:-/tmp/revbench-merge-figure}
BIN=$(realpath "${REVBENCH:-target/release/revbench}")
REDIS=${REDIS_URL:-redis://127.0.0.1:6379/14}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-3s}
PREFIX="revbench:merge_figure:$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n'):"
SETTINGS=(--scenario check-only --scenario constant-rate --rounds "$ROUNDS" --duration "$DURATION"
  --warmup 1s --no-report --no-progress)
rm -rf "$OUT"
mkdir -p "$OUT"
CPUS=$(nproc)
if [ "${PIN:-1}" = 1 ] && [ "$CPUS" -ge 2 ] && command -v taskset > /dev/null; then
  ON_SERVER=(taskset -c "$((CPUS - 1))")
  ON_CLIENT=(taskset -c "0-$((CPUS - 2))")
  echo "pinned: server on CPU $((CPUS - 1)), generators on CPUs 0-$((CPUS - 2))"
else
  ON_SERVER=()
  ON_CLIENT=()
  echo "not pinned: server and generators share all $CPUS CPUs"
fi

# The one server every generator drives (a random JWT secret: it alone issues and verifies).
REVBENCH_STORE="$REDIS?prefix=$PREFIX" "${ON_SERVER[@]}" "$BIN" serve --addr 127.0.0.1:0 \
  > "$OUT/serve.out" 2> "$OUT/serve.err" &
SERVER=$!
# redis-cli on $REDIS, the URL's password (if any) in REDISCLI_AUTH rather than on the command
# line, where any user's `ps` would show it.
redis_cli() {
  local url=$REDIS password
  if [[ $url =~ ^(rediss?://)([^@/]*):([^@/]*)@(.*)$ ]]; then
    password=$(printf '%b' "${BASH_REMATCH[3]//%/\\x}") # percent-decoded
    url="${BASH_REMATCH[1]}${BASH_REMATCH[2]:+${BASH_REMATCH[2]}@}${BASH_REMATCH[4]}"
    REDISCLI_AUTH=$password redis-cli -u "$url" "$@"
  else
    redis-cli -u "$url" "$@"
  fi
}
cleanup() {
  kill "$SERVER" 2> /dev/null || true
  wait "$SERVER" 2> /dev/null || true
  redis_cli --scan --pattern "$PREFIX*" | while mapfile -t -n 500 keys && [ "${#keys[@]}" -gt 0 ]; do
    redis_cli del "${keys[@]}" > /dev/null
  done
}
trap cleanup EXIT
for _ in $(seq 100); do
  grep -q '^listening on' "$OUT/serve.out" 2> /dev/null && break
  sleep 0.1
done
TARGET=$(grep -o 'http://[0-9.:]*' "$OUT/serve.out" | head -1)
[ -n "$TARGET" ] || { echo "the server did not start: $(cat "$OUT/serve.err")"; exit 1; }
echo "server: $TARGET ($(sed 's/.*store=\([^ ]*\).*/store \1/' "$OUT/serve.out" | head -1))"

full() { # name
  "${ON_CLIENT[@]}" "$BIN" run "${SETTINGS[@]}" --target "$TARGET" --out "$OUT/$1" > "$OUT/$1.log" 2>&1 \
    || { echo "$1 failed: see $OUT/$1.log"; exit 1; }
}

full full-before
START=$(date -u -d '+3 seconds' +%Y-%m-%dT%H:%M:%SZ)
for k in 0 1; do
  "${ON_CLIENT[@]}" "$BIN" run "${SETTINGS[@]}" --target "$TARGET" --segment "$k/2" --start-at "$START" \
    --out "$OUT/half-$k" > "$OUT/half-$k.log" 2>&1 &
  HALF[k]=$!
done
wait "${HALF[0]}" && wait "${HALF[1]}" || { echo "a generator failed: see $OUT/half-*.log"; exit 1; }
"$BIN" merge "$OUT/half-0/results.json" "$OUT/half-1/results.json" -o "$OUT/merged.json"
full full-after

# Per scenario and round: requests of each half, their sum, the merged count (must equal the
# sum), and p50 of the full-load run before, of the merged halves, and of the full-load run after.
echo
jq -n -r --slurpfile h0 "$OUT/half-0/results.json" --slurpfile h1 "$OUT/half-1/results.json" \
  --slurpfile m "$OUT/merged.json" --slurpfile before "$OUT/full-before/results.json" \
  --slurpfile after "$OUT/full-after/results.json" '
  def ms: . / 1000 | . * 1000 | round / 1000;
  def at($f; $i; $r): $f[0].measurements[$i].rounds[$r];
  (["scenario", "round", "half-0", "half-1", "sum", "merged", "equal", "p50 full<", "p50 merged",
    "p50 full>"] | @tsv),
  (range(0; $m[0].measurements | length) as $i
   | range(0; $m[0].measurements[$i].rounds | length) as $r
   | at($h0; $i; $r).requests as $a | at($h1; $i; $r).requests as $b
   | at($m; $i; $r).requests as $merged
   | [$m[0].measurements[$i].scenario, $r + 1, $a, $b, $a + $b, $merged,
      (if $a + $b == $merged then "yes" else "NO" end),
      (at($before; $i; $r).latency.p50_us | ms), (at($m; $i; $r).latency.p50_us | ms),
      (at($after; $i; $r).latency.p50_us | ms)] | @tsv)' | column -t -s $'\t'
echo "(p50 in ms; full< and full> are the full-load runs before and after the two halves)"
echo
echo "medians over rounds: p50 ms (min–max), req/s"
for run in full-before/results.json merged.json full-after/results.json; do
  jq -r --arg run "${run%%[/.]*}" 'def ms: . / 1000 | . * 1000 | round / 1000;
    .measurements[] | .median as $m
    | "\($run) \(.scenario): \($m.p50_us.median | ms) (\($m.p50_us.min | ms)–\($m.p50_us.max | ms)), \($m.requests_per_sec.median | round) req/s"' "$OUT/$run"
done
