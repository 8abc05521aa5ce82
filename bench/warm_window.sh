#!/usr/bin/env bash
# Read rates of one server build on several kept stores, in one window, each server warmed first.
# A freshly started server faults every page of the file it reads into each connection's mapping
# once, so its first minute on a 9 GB store is slower than its steady state (docs/benchmarks.md,
# "Reads as the store grows"); the harness measures big stores in that first minute. This warms
# each server with WARM seconds of Retrieve, then prints /healthz, Retrieve, filtered histories and
# /healthz again.
#
# Usage: bench/warm_window.sh BINARY STORE_DIR[,STORE_DIR...] [WARM] [ROUNDS]
#   BINARY     target/release/activity-hub, or target/release/examples/read_sketch (same pages)
#   STORE_DIR  a scale directory kept by bench/run.py --store-dir (bench.db and data/), served in
#              place: the scenarios only read
#   WARM       seconds of Retrieve before measuring (default 40)
#   ROUNDS     passes over the stores (default 1)
#   SECS       seconds of wrk per measurement (default 10)
set -euo pipefail
usage="usage: bench/warm_window.sh BINARY STORE_DIR[,STORE_DIR...] [WARM] [ROUNDS]"
binary=$(realpath "${1:?$usage}")
IFS=, read -r -a stores <<<"${2:?$usage}"
warm=${3:-40}
rounds=${4:-1}
secs=${SECS:-10}
port=18198
url="http://127.0.0.1:$port"
cd "$(dirname "$0")/.."
lua=bench/wrk/scenario.lua

rate() { # SCENARIO STORE: req/s of SECS seconds of wrk (healthz without the script)
    if [ "$1" = healthz ]; then
        wrk -t1 -c16 -d"${secs}s" "$url/healthz"
    else
        wrk -t1 -c16 -d"${secs}s" -s "$lua" "$url" -- "$1" "$2/data" 2
    fi | awk '/Requests\/sec/ { print int($2) }'
}

for round in $(seq 1 "$rounds"); do
    for store in "${stores[@]}"; do
        store=$(realpath "$store")
        if [ "$(basename "$binary")" = read_sketch ]; then
            "$binary" "$store/bench.db" "127.0.0.1:$port" >/dev/null 2>&1 &
        else
            "$binary" serve --db "sqlite://$store/bench.db" --bind "127.0.0.1:$port" \
                --no-rate-limit >/dev/null 2>&1 &
        fi
        pid=$!
        trap 'kill $pid 2>/dev/null || true' EXIT
        for _ in $(seq 100); do curl -sf "$url/healthz" >/dev/null && break; sleep 0.2; done
        wrk -t1 -c16 -d"${warm}s" -s "$lua" "$url" -- retrieve "$store/data" 1 >/dev/null
        h1=$(rate healthz)
        r=$(rate retrieve "$store")
        f=$(rate sl_filtered "$store")
        h2=$(rate healthz)
        echo "$(date -u +%H:%M:%S) round $round $(basename "$store"): /healthz $h1, $h2;" \
            "retrieve $r req/s; sl_filtered $f req/s"
        kill "$pid"
        wait "$pid" 2>/dev/null || true
    done
done
