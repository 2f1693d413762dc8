#!/bin/sh
# The load client's CPU per request of two revbench builds, interleaved: e.g. one without the
# per-interval timeline and one with it. Usage: scripts/timeline-overhead.sh OLD_BINARY NEW_BINARY [RUNS]
# Prints, per run, the build, the run number, client CPU µs per request, requests/s and the
# check p50 (µs) of `none:` under check-only for 3 s; record `uptime` beside the figures.
set -eu
old=$1 new=$2 runs=${3:-5}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
i=1
while [ "$i" -le "$runs" ]; do
  for side in old new; do
    if [ "$side" = old ]; then exe=$old; else exe=$new; fi
    "$exe" run --stores none: --scenario check-only --duration 3s --rounds 1 --no-report \
      --no-progress --out "$out/$side-$i" >/dev/null 2>&1
    python3 - "$out/$side-$i/results.json" "$side" "$i" <<'PY'
import json, sys
path, side, i = sys.argv[1:]
r = json.load(open(path))["measurements"][0]["rounds"][0]
print(side, i, round(r["client_cpu_us_per_request"], 2), round(r["requests_per_sec"]),
      r["latency_by_request"]["me"]["p50_us"])
PY
  done
  i=$((i + 1))
done
