#!/usr/bin/env bash
# A/B of two activity-hub binaries on the same store, runs alternating (A, B, A, B, …) so that the
# machine's drift hits both alike. Prints req/s of /healthz and of each scenario, one line per run.
#
# Usage: bench/ab.sh STORE_DIR BINARY_A BINARY_B REPS SCENARIO...
#   STORE_DIR: a scale directory kept by bench/run.py (--keep or --store-dir), holding bench.db and
#              data/ (the keys, leads and opportunities the wrk script reads).
#   SCENARIO:  names from bench/wrk/scenario.lua (retrieve, sl_filtered, create, bulk_lead, …).
# Each run copies bench.db to a scratch file first, so write scenarios do not grow the kept store
# and both binaries start from the same data. Env: SECS (default 4) per scenario, after 1 s warm-up.
set -euo pipefail
store=$1 a=$2 b=$3 reps=$4
shift 4
here=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

run() {
    local bin=$1 db="$scratch/ab.db" port=18181
    shift
    rm -f "$db" "$db-wal" "$db-shm"
    cp "$store/bench.db" "$db"
    "$bin" serve --db "sqlite://$db" --bind "127.0.0.1:$port" --no-rate-limit >"$scratch/server.log" 2>&1 &
    local pid=$!
    for _ in $(seq 1 100); do
        grep -q "listening on" "$scratch/server.log" && break
        sleep 0.1
    done
    local line="$(basename "$bin"):"
    for sc in healthz "$@"; do
        wrk -t1 -c16 -d1s -s "$here/wrk/scenario.lua" "http://127.0.0.1:$port" -- "$sc" "$store/data" 1 >/dev/null
        local rps
        rps=$(wrk -t1 -c16 -d"${SECS:-4}s" -s "$here/wrk/scenario.lua" "http://127.0.0.1:$port" \
            -- "$sc" "$store/data" 2 | awk '/Requests\/sec/ {print $2}')
        line="$line $sc=$rps"
    done
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    echo "$line"
}

for _ in $(seq 1 "$reps"); do
    run "$a" "$@"
    run "$b" "$@"
done
