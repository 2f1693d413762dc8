#!/usr/bin/env bash
# The figures behind compare's rule (docs/ci.md, docs/measurements/ci-gate.md): false alarms of paired and
# of sequential A/A runs, whether known regressions are caught, (FIGURE=wrk) whether
# --inject-latency delivers its delay as wrk sees it, and (FIGURE=cpu) server CPU per request:
# its A/A spread, and whether a candidate doing WORK more CPU per check is called worse on it
# (default 590ns: 5% of the 11.8 µs none: spent per request in check-only on a loaded 2-vCPU
# machine; set it to 5% of your base side's server_cpu_us_per_request). CPU_ROUNDS pairs (16).
# FIGURE=cpu-aa and FIGURE=more-cpu run either half alone.
#
#   scripts/verdict-figures.sh [REPEATS] [OUT]
#
# Needs a release build (cargo build --release) and Redis at REDIS_URL (default db 9, a
# database of its own). The settings are docs/ci.md's: the single-user (latency) and
# logout-replay (correctness) scenarios, 12 ABBA pairs of 1 s after 1 s of warm-up (the fewest
# that let 12 calls reach 5% family-wise, with a margin: docs/ci.md). Every run is
# bounded: 2 stores × 2 scenarios × 12 pairs × 2 sides × ~2.6 s ≈ 4 min. The known-slower
# candidates are measured on single-user only (the low-load scenario whose p50 shift is read).
set -euo pipefail

REPEATS=${1:-10}
OUT=${2:-/tmp/revbench-verdict-figures}
BIN=${REVBENCH:-target/release/revbench}
REDIS=${REDIS_URL:-redis://127.0.0.1:6379/9}
ROUNDS=${ROUNDS:-12}
TIMING=(--rounds "$ROUNDS" --duration 1s --warmup 1s --no-report --no-progress)
SETTINGS=(--scenario single-user --scenario logout-replay --stores "none:,$REDIS" "${TIMING[@]}")
SLOWER=(--scenario single-user --stores "none:,$REDIS" "${TIMING[@]}")
# FIGURE=aa-wide: the paired A/A on more of what a team would gate (3 scenarios × 4 stores,
# every metric; 8–12 minutes a run on 2 vCPUs).
POSTGRES=${POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
WIDE=(--scenario single-user --scenario logout-replay --scenario replicas
  --stores "none:,hashmap:,$REDIS,$POSTGRES" "${TIMING[@]}")
# FIGURE=slower-25us runs SLOWER_STORES only (default none:, the store whose p50 shift is read).
SLOWER_25US=(--scenario single-user --stores "${SLOWER_STORES:-none:}" "${TIMING[@]}")
BROKEN=(--scenario logout-replay --stores "memory:,$REDIS" "${TIMING[@]}")
BIN=$(realpath "$BIN")
mkdir -p "$OUT"

# Candidates that differ from this build in a known way, as wrappers around it.
wrapper() { # name, body
  printf '#!/usr/bin/env bash\n%s\n' "$2" > "$OUT/$1"
  chmod +x "$OUT/$1"
}
wrapper slower-25us "exec $BIN \"\$@\" --inject-latency 25us"
wrapper slower-100us "exec $BIN \"\$@\" --inject-latency 100us"
wrapper slower-1ms "exec $BIN \"\$@\" --inject-latency 1ms"
WORK=${WORK:-590ns}
wrapper more-cpu "exec $BIN \"\$@\" --inject-work $WORK"
CPU_ROUNDS=${CPU_ROUNDS:-16}
CPU=(--scenario check-only --stores none: --rounds "$CPU_ROUNDS" --duration 1s --warmup 1s --no-report --no-progress)
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
# METRIC=name looks at that metric only.
closest() {
  METRIC=${METRIC:-} python3 - "$@" <<'PY'
import json, os, sys
only = os.environ["METRIC"]
worst = None
for path in sys.argv[1:]:
    for c in json.load(open(path))["changes"]:
        if only and c["metric"] != only:
            continue
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

# --inject-latency measured from outside, with wrk against `serve --store none:`: the plain
# server and the delayed one side by side, interleaved, 3 times per delay; p50 at one
# connection (-t1 -c1: the shift should be the delay), requests/s at 32 (-c32: a wait costs no
# CPU, so throughput should hold), and the servers' own record of the waits (/stats).
# WRK_SECONDS per wrk run (5); WRK_C32=0 skips the -c32 runs; DELAYS (25us 100us 1ms).
# PIN=1: the servers on the last CPU and wrk on the first (taskset), so they never share one.
SERVER_PIN=(env) WRK_PIN=(env)
if [ "${PIN:-0}" = 1 ]; then
  SERVER_PIN=(taskset -c "$(($(nproc) - 1))") WRK_PIN=(taskset -c 0)
fi
serve() { # port, extra args…
  local port=$1
  shift
  REVBENCH_JWT_SECRET=verdict-figures-secret-of-32-bytes-at-least REVBENCH_ADMIN_TOKEN=figures \
    "${SERVER_PIN[@]}" "$BIN" serve --store none: --addr "127.0.0.1:$port" "$@" > "$OUT/serve-$port.log" 2>&1 &
  echo $!
}
# Prints "p50_us requests_per_sec requests".
wrk_p50_us() { # url, token, connections
  "${WRK_PIN[@]}" wrk -t1 -c"$3" -d"${WRK_SECONDS:-5}"s --latency -H "Authorization: Bearer $2" "$1/api/me" |
    python3 -c '
import re, sys
text = sys.stdin.read()
unit = {"us": 1, "ms": 1e3, "s": 1e6}
p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", text)
rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
n = re.search(r"(\d+) requests in", text)
print("%.1f %.0f %s" % (float(p50.group(1)) * unit[p50.group(2)], float(rps.group(1)), n.group(1)))'
}
# The process's CPU time (ns, whole thread group): its CPU clock (clock_getcpuclockid), precise
# where /proc's ticks are 10 ms.
cpu_ns() { python3 -c 'import sys, time; print(time.clock_gettime_ns(((~int(sys.argv[1])) << 3) | 2))' "$1"; }
# Prints "p50_us requests_per_sec cpu_us_per_request": wrk against the server `pid` on `port`,
# with the server's own CPU time over the run ÷ the requests it answered.
measured() { # pid, port, token, connections
  local before after p50 rps requests
  before=$(cpu_ns "$1")
  read -r p50 rps requests <<< "$(wrk_p50_us "http://127.0.0.1:$2" "$3" "$4")"
  after=$(cpu_ns "$1")
  echo "$p50 $rps $(python3 -c "print('%.2f' % (($after - $before) / 1e3 / $requests))")"
}
wrk_delay() {
  command -v wrk > /dev/null || { echo "FIGURE=wrk needs wrk (Debian: apt-get install wrk)" >&2; exit 2; }
  for delay in ${DELAYS:-25us 100us 1ms}; do
    local plain delayed
    plain=$(serve 18401)
    delayed=$(serve 18402 --inject-latency "$delay")
    sleep 1
    local token
    token=$(curl -s -X POST -H 'content-type: application/json' -d '{"username":"wrk"}' \
      http://127.0.0.1:18401/login | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
    for i in 1 2 3; do
      echo "load average $(cut -d' ' -f1-3 /proc/loadavg)"
      read -r p0 r0 c0 <<< "$(measured "$plain" 18401 "$token" 1)"
      read -r p1 r1 c1 <<< "$(measured "$delayed" 18402 "$token" 1)"
      echo "inject $delay run $i -c1: p50 $p0 µs → $p1 µs: shift $(python3 -c "print('%+.1f' % ($p1 - $p0))") µs; server CPU/request $c0 → $c1 µs"
      if [ "$delay" != 1ms ] && [ "${WRK_C32:-1}" = 1 ]; then
        read -r p0 r0 c0 <<< "$(measured "$plain" 18401 "$token" 32)"
        read -r p1 r1 c1 <<< "$(measured "$delayed" 18402 "$token" 32)"
        echo "inject $delay run $i -c32: $r0 → $r1 req/s: $(python3 -c "print('%.2f' % ($r1 / $r0))")×; server CPU/request $c0 → $c1 µs"
      fi
    done
    echo "inject $delay: the server's record: $(curl -s -H 'Authorization: Bearer figures' \
      http://127.0.0.1:18402/stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["injected_delay"])')"
    kill "$plain" "$delayed"
    wait "$plain" "$delayed" 2> /dev/null || true
  done
}

aa() { paired aa "$BIN" "$REPEATS" "${SETTINGS[@]}"; }
aa_wide() { paired aa-wide "$BIN" "$REPEATS" "${WIDE[@]}"; }
# Server CPU per request: paired A/A, then the candidate doing $WORK more per check; each
# comparison's CPU change (median pair ratio and its interval) listed, then the A/A's reach.
cpu_changes() { # label
  for f in "$OUT/$1-"*.compare.json; do
    python3 - "$f" <<'PY'
import json, sys
for c in json.load(open(sys.argv[1]))["changes"]:
    if c["metric"] == "server_cpu_us_per_request":
        r = c["ratio"]
        print("   %s: CPU/request %.2f -> %.2f us, ratio %.4f [%.4f, %.4f], %s" % (
            sys.argv[1].rsplit("/", 1)[-1], c["baseline"]["median"], c["current"]["median"],
            r["value"], r["low"], r["high"], c["verdict"]))
PY
  done
}
cpu_aa() {
  paired cpu-aa "$BIN" "$REPEATS" "${CPU[@]}"
  cpu_changes cpu-aa
  METRIC=server_cpu_us_per_request closest "$OUT/cpu-aa-"*.compare.json
}
more_cpu() {
  paired more-cpu "$OUT/more-cpu" "$REPEATS" "${CPU[@]}"
  cpu_changes more-cpu
}
cpu() { cpu_aa; more_cpu; }
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
  aa-wide) aa_wide ;;
  slower-25us) paired slower-25us "$OUT/slower-25us" "$REPEATS" "${SLOWER_25US[@]}" ;;
  slower-100us) paired slower-100us "$OUT/slower-100us" "$REPEATS" "${SLOWER[@]}" ;;
  broken) broken ;;
  wrk) wrk_delay ;;
  cpu) cpu ;;
  cpu-aa) cpu_aa ;;
  more-cpu) more_cpu ;;
  instructions) exec "$(dirname "$0")/instructions-figures.sh" "$REPEATS" "$OUT/instructions" ;;
  all) aa; sequential "$((REPEATS + 1))"; slower; broken ;;
  *) echo "FIGURE must be aa, aa-wide, sequential, slower, slower-25us, slower-100us, broken, wrk, cpu, cpu-aa, more-cpu, instructions or all" >&2; exit 2 ;;
esac
