#!/usr/bin/env bash
# The figures behind compare's rule (docs/ci.md, docs/measurements/ci-gate.md): false alarms of paired and
# of sequential A/A runs, and whether known regressions are caught.
#
#   scripts/verdict-figures.sh [REPEATS] [OUT]
#
# Needs a release build (cargo build --release) and Redis at REDIS_URL (default db 9, a
# database of its own). The settings are docs/ci.md's: the single-user (latency) and
# logout-replay (correctness) scenarios, 6 ABBA pairs of 1 s after 1 s of warm-up. Every run is
# bounded: 2 stores × 2 scenarios × 6 pairs × 2 sides × ~2.6 s ≈ 2 min. The known-slower
# candidates are measured on single-user only (the low-load scenario whose p50 shift is read).
set -euo pipefail

REPEATS=${1:-10}
OUT=${2:-/tmp/revbench-verdict-figures}
BIN=${REVBENCH:-target/release/revbench}
REDIS=${REDIS_URL:-redis://127.0.0.1:6379/9}
ROUNDS=${ROUNDS:-6}
TIMING=(--rounds "$ROUNDS" --duration 1s --warmup 1s --no-report --no-progress)
SETTINGS=(--scenario single-user --scenario logout-replay --stores "none:,$REDIS" "${TIMING[@]}")
SLOWER=(--scenario single-user --stores "none:,$REDIS" "${TIMING[@]}")
BROKEN=(--scenario logout-replay --stores "memory:,$REDIS" "${TIMING[@]}")
BIN=$(realpath "$BIN")
mkdir -p "$OUT"

# Candidates that differ from this build in a known way, as wrappers around it.
wrapper() { # name, body
  printf '#!/usr/bin/env bash\n%s\n' "$2" > "$OUT/$1"
  chmod +x "$OUT/$1"
}
wrapper slower-100us "exec $BIN \"\$@\" --inject-latency 100us"
wrapper slower-1ms "exec $BIN \"\$@\" --inject-latency 1ms"
# The servers get their store URL in REVBENCH_STORE (never in argv, which `ps` shows).
# Serves none: where asked for memory: (a revocation that stopped working), same store label.
wrapper broken-memory "[ \"\${REVBENCH_STORE:-}\" = memory: ] && export REVBENCH_STORE=none:; exec $BIN \"\$@\""
# Its Redis is unreachable (port 1).
wrapper no-redis "export REVBENCH_STORE=\"\${REVBENCH_STORE/:6379/:1}\"; exec $BIN \"\$@\""

paired() { # label, candidate binary, repeats, settings…
  local label=$1 candidate=$2 n=$3 fails=0
  shift 3
  for i in $(seq 1 "$n"); do
    local dir="$OUT/$label-$i"
    echo "$label $i: load average $(cut -d' ' -f1-3 /proc/loadavg)"
    "$BIN" run "$@" --baseline-binary "$BIN" --candidate-binary "$candidate" \
      --out "$dir" > "$dir.log" 2>&1 || { echo "$label $i: run failed, see $dir.log"; continue; }
    local code=0
    "$BIN" compare "$dir/base.json" "$dir/candidate.json" > "$dir.compare" || code=$?
    "$BIN" compare "$dir/base.json" "$dir/candidate.json" --format json > "$dir.compare.json" || true
    [ "$code" = 1 ] && fails=$((fails + 1))
    echo "$label $i: exit $code; $(grep -E '^(FAIL|better|no measurable)|p50_us' "$dir.compare" | tr '\n' ' ')"
  done
  echo "== $label: exit 1 in $fails of $n"
  closest "$OUT/$label-"*.compare.json
}

# The smallest threshold at which these comparisons would have called a metric worse: how far
# the worse end of any interval reached (for an A/A run, the false-alarm margin of a threshold).
closest() {
  python3 - "$@" <<'PY'
import json, sys
worst = None
for path in sys.argv[1:]:
    for c in json.load(open(path))["changes"]:
        r = c["ratio"]
        reach = r["low"] - 1 if c["better"] == "lower" else 1 - r["high"]
        if worst is None or reach > worst[0]:
            worst = (reach, c["scenario"], c["store"], c["metric"], r["low"], r["high"])
if worst:
    print("   closest to an alarm: %s / %s %s interval [%.3f, %.3f]: any threshold below %.1f%% "
          "would have called it worse" % (worst[1], worst[2], worst[3], worst[4], worst[5],
                                          max(worst[0], 0) * 100))
PY
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
    "$BIN" compare "$OUT/seq-$((i - 1))/results.json" "$OUT/seq-$i/results.json" \
      --format json > "$OUT/seq-$i.compare.json" || true
    [ "$code" = 1 ] && fails=$((fails + 1))
    echo "sequential $((i - 1))→$i: exit $code; $(grep -E '^(FAIL|no measurable)' "$OUT/seq-$i.compare" | tr '\n' ' ')"
  done
  echo "== sequential A/A: exit 1 in $fails of $((n - 1))"
  closest "$OUT/seq-"*.compare.json
}

aa() { paired aa "$BIN" "$REPEATS" "${SETTINGS[@]}"; }
slower() {
  paired slower-100us "$OUT/slower-100us" "$REPEATS" "${SLOWER[@]}"
  paired slower-1ms "$OUT/slower-1ms" "$REPEATS" "${SLOWER[@]}"
}
broken() {
  paired broken-memory "$OUT/broken-memory" 1 "${BROKEN[@]}"
  paired no-redis "$OUT/no-redis" 1 "${BROKEN[@]}"
}
case ${FIGURE:-all} in
  aa) aa ;;
  sequential) sequential "$((REPEATS + 1))" ;;
  slower) slower ;;
  slower-100us) paired slower-100us "$OUT/slower-100us" "$REPEATS" "${SLOWER[@]}" ;;
  broken) broken ;;
  all) aa; sequential "$((REPEATS + 1))"; slower; broken ;;
  *) echo "FIGURE must be aa, sequential, slower, slower-100us, broken or all" >&2; exit 2 ;;
esac
