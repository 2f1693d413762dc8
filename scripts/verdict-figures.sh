#!/usr/bin/env bash
# The figures behind compare's rule (docs/ci.md, README "Verdicts"): false alarms of paired and
# of sequential A/A runs, and whether known regressions are caught.
#
#   scripts/verdict-figures.sh [REPEATS] [OUT]
#
# Needs a release build (cargo build --release) and Redis at REDIS_URL (default db 9, a
# database of its own). Every run is bounded: 3 stores × 1 scenario × ROUNDS pairs × ~2.6 s.
set -euo pipefail

REPEATS=${1:-10}
OUT=${2:-/tmp/revbench-verdict-figures}
BIN=${REVBENCH:-target/release/revbench}
REDIS=${REDIS_URL:-redis://127.0.0.1:6379/9}
ROUNDS=${ROUNDS:-6}
SETTINGS=(--scenario logout-replay --stores "none:,memory:,$REDIS" --rounds "$ROUNDS"
  --duration 1s --warmup 1s --no-report --no-progress)
BIN=$(realpath "$BIN")
mkdir -p "$OUT"

# Candidates that differ from this build in a known way, as wrappers around it.
wrapper() { # name, body
  printf '#!/usr/bin/env bash\n%s\n' "$2" > "$OUT/$1"
  chmod +x "$OUT/$1"
}
wrapper slower-100us "exec $BIN \"\$@\" --inject-latency 100us"
wrapper slower-1ms "exec $BIN \"\$@\" --inject-latency 1ms"
# Serves none: where asked for memory: (a revocation that stopped working), same store label.
wrapper broken-memory "args=(); for a in \"\$@\"; do [ \"\$a\" = memory: ] && a=none:; args+=(\"\$a\"); done; exec $BIN \"\${args[@]}\""
# Its Redis is unreachable (port 1).
wrapper no-redis "args=(); for a in \"\$@\"; do args+=(\"\${a/:6379/:1}\"); done; exec $BIN \"\${args[@]}\""

paired() { # label, candidate binary, repeats
  local label=$1 candidate=$2 n=$3 fails=0
  for i in $(seq 1 "$n"); do
    local dir="$OUT/$label-$i"
    "$BIN" run "${SETTINGS[@]}" --baseline-binary "$BIN" --candidate-binary "$candidate" \
      --out "$dir" > "$dir.log" 2>&1 || { echo "$label $i: run failed, see $dir.log"; continue; }
    local code=0
    "$BIN" compare "$dir/base.json" "$dir/candidate.json" > "$dir.compare" || code=$?
    [ "$code" = 1 ] && fails=$((fails + 1))
    echo "$label $i: exit $code; $(grep -E '^(FAIL|better|no measurable)' "$dir.compare" | tr '\n' ' ')"
  done
  echo "== $label: exit 1 in $fails of $n"
}

sequential() { # repeats: n runs one after another, compare each with the next
  local n=$1 fails=0
  for i in $(seq 1 "$n"); do
    "$BIN" run "${SETTINGS[@]}" --out "$OUT/seq-$i" > "$OUT/seq-$i.log" 2>&1
  done
  for i in $(seq 2 "$n"); do
    local code=0
    "$BIN" compare "$OUT/seq-$((i - 1))/results.json" "$OUT/seq-$i/results.json" \
      > "$OUT/seq-$i.compare" || code=$?
    [ "$code" = 1 ] && fails=$((fails + 1))
    echo "sequential $((i - 1))→$i: exit $code; $(grep -E '^(FAIL|no measurable)' "$OUT/seq-$i.compare" | tr '\n' ' ')"
  done
  echo "== sequential A/A: exit 1 in $fails of $((n - 1))"
}

case ${FIGURE:-all} in
  aa) paired aa "$BIN" "$REPEATS" ;;
  sequential) sequential "$((REPEATS + 1))" ;;
  slower) paired slower-100us "$OUT/slower-100us" "$REPEATS"; paired slower-1ms "$OUT/slower-1ms" "$REPEATS" ;;
  broken) paired broken-memory "$OUT/broken-memory" 1; paired no-redis "$OUT/no-redis" 1 ;;
  all)
    paired aa "$BIN" "$REPEATS"
    sequential "$((REPEATS + 1))"
    paired slower-100us "$OUT/slower-100us" "$REPEATS"
    paired slower-1ms "$OUT/slower-1ms" "$REPEATS"
    paired broken-memory "$OUT/broken-memory" 1
    paired no-redis "$OUT/no-redis" 1
    ;;
esac
