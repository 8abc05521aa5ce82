#!/usr/bin/env bash
# Instructions the server executes per answered request, counted by valgrind's callgrind, for one
# or more activity-hub binaries. Unlike time, the count barely moves with what else the machine is
# doing, so a 3 % change in a read path shows even when req/s and CPU time drift by ±15 %. It does
# not see cache misses or waits, so confirm a change's effect on time with bench/cpu_ab.py as well.
#
# Usage: bench/instr_ab.sh STORE_DIR "SCENARIO..." BINARY...
#   STORE_DIR: a scale directory kept by bench/run.py (--keep or --store-dir): bench.db and data/.
#   Env: SECS (default 10) of counted load per scenario, after 3 s of uncounted warm-up; 2 wrk
#   connections. Each binary and scenario gets a fresh copy of bench.db. Prints one line each:
#   binary, scenario, requests answered, instructions per request, non-2xx answers if any.
#   KEEP=DIR keeps each callgrind profile there (DIR/BINARY.SCENARIO.cg*) for callgrind_annotate.
# Under valgrind a read runs ~50× slower, so ACTIVITY_HUB_INLINE_BUDGET_MS is raised: otherwise
# most reads would outlast the inline budget and run twice.
set -euo pipefail
store=$1 scenarios=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
port=18383
for bin in "$@"; do
    for sc in $scenarios; do
        d=$(mktemp -d)
        cp "$store/bench.db" "$d/ab.db"
        ACTIVITY_HUB_INLINE_BUDGET_MS=1000 valgrind --tool=callgrind --instr-atstart=no \
            --callgrind-out-file="$d/cg.out" "$bin" serve --db "sqlite://$d/ab.db" \
            --bind "127.0.0.1:$port" --no-rate-limit >"$d/log" 2>&1 &
        pid=$!
        for _ in $(seq 1 300); do
            grep -q "listening on" "$d/log" 2>/dev/null && break
            sleep 0.2
        done
        wrk -t1 -c2 -d3s -s "$here/wrk/scenario.lua" "http://127.0.0.1:$port" -- "$sc" "$store/data" 1 >/dev/null
        callgrind_control -i on "$pid" >/dev/null 2>&1
        out=$(wrk -t1 -c2 -d"${SECS:-10}s" -s "$here/wrk/scenario.lua" "http://127.0.0.1:$port" -- "$sc" "$store/data" 2)
        callgrind_control -i off "$pid" >/dev/null 2>&1
        callgrind_control -d "$pid" >/dev/null 2>&1
        kill "$pid"
        wait "$pid" 2>/dev/null || true
        reqs=$(echo "$out" | grep -oE "[0-9]+ requests in" | grep -oE "^[0-9]+")
        bad=$(echo "$out" | grep -i "non-2xx" || true)
        total=$(cat "$d"/cg.out* | awk '/^totals:/ {s += $2} END {print s + 0}')
        echo "$(basename "$bin") $sc requests=$reqs instructions/request=$((total / reqs)) $bad"
        if [ -n "${KEEP:-}" ]; then
            mkdir -p "$KEEP"
            for f in "$d"/cg.out*; do cp "$f" "$KEEP/$(basename "$bin").$sc.${f##*/}"; done
        fi
        rm -rf "$d"
    done
done
