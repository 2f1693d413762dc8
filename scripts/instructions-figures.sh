#!/usr/bin/env bash
# The instructions gate's figures (docs/ci.md, docs/measurements/ci-gate.md), per store: the
# same build counted against itself REPEATS times (A/A: how far apart its counts are, and
# whether `instructions compare` ever fails at the default 1%), and REPEATS candidates doing
# 2% more instructions per check (the test knob REVBENCH_INSTRUCTIONS_EXTRA_WORK, calibrated
# on this store's count), each compared with the A/A count before it.
#
#   scripts/instructions-figures.sh [REPEATS] [OUT]
#
# Needs valgrind and a release build (cargo build --release); Redis at REDIS_URL (default
# db 9) for the loopback store (read-only: EXISTS of keys revbench never wrote).
set -euo pipefail

REPEATS=${1:-10}
OUT=${2:-/tmp/revbench-instructions-figures}
BIN=$(realpath "${REVBENCH:-target/release/revbench}")
STORES=${STORES:-none:,hashmap:,redis://127.0.0.1:6379/9}
CHECKS=${CHECKS:-2000}
mkdir -p "$OUT"
count() { # file, store, [extra work]
  REVBENCH_INSTRUCTIONS_EXTRA_WORK=${3:-0} "$BIN" instructions count --stores "$2" \
    --checks "$CHECKS" --out "$1" > "$1.log"
}

IFS=, read -r -a STORE_LIST <<< "$STORES"
for store in "${STORE_LIST[@]}"; do
  name=$(printf '%s' "$store" | tr -c 'a-zA-Z0-9' '_')
  echo "$store: load average $(cut -d' ' -f1-3 /proc/loadavg)"
  count "$OUT/$name-base.json" "$store"
  # Instructions per round of the extra work (from 1000 rounds), then the rounds that add 2%
  # to this store's count per check.
  count "$OUT/$name-calibrate.json" "$store" 1000
  extra=$(python3 - "$OUT/$name-base.json" "$OUT/$name-calibrate.json" <<'PY'
import json, sys
base, cal = (json.load(open(p))["stores"][0]["per_check"] for p in sys.argv[1:])
print(max(1, round(0.02 * base / ((cal - base) / 1000))))
PY
  )
  aa_fails=0
  slower_fails=0
  for i in $(seq 1 "$REPEATS"); do
    count "$OUT/$name-aa-$i.json" "$store"
    code=0
    "$BIN" instructions compare "$OUT/$name-base.json" "$OUT/$name-aa-$i.json" \
      > "$OUT/$name-aa-$i.compare" || code=$?
    [ "$code" = 1 ] && aa_fails=$((aa_fails + 1))
    echo "A/A $i: exit $code; $(head -1 "$OUT/$name-aa-$i.compare")"
    count "$OUT/$name-slower-$i.json" "$store" "$extra"
    code=0
    "$BIN" instructions compare "$OUT/$name-aa-$i.json" "$OUT/$name-slower-$i.json" \
      > "$OUT/$name-slower-$i.compare" || code=$?
    [ "$code" = 1 ] && slower_fails=$((slower_fails + 1))
    echo "+2% ($extra rounds of extra work) $i: exit $code; $(head -1 "$OUT/$name-slower-$i.compare")"
  done
  echo "== $store: A/A exit 1 in $aa_fails of $REPEATS; +2% exit 1 in $slower_fails of $REPEATS"
  python3 - "$OUT/$name-base.json" "$OUT/$name"-aa-*.json <<'PY'
import json, sys
values = [json.load(open(p))["stores"][0]["per_check"] for p in sys.argv[1:]]
lo, hi = min(values), max(values)
print("   %d counts of the same build: %.1f to %.1f instructions per check (spread %.4f%%)"
      % (len(values), lo, hi, (hi - lo) / lo * 100))
PY
done
