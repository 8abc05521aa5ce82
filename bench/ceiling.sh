#!/usr/bin/env bash
# The read sketch (examples/read_sketch.rs) against the service, one after the other on copies of
# one store: /healthz, the scenario, /healthz again on each, and each one's ratio of the scenario to
# the mean of its own two /healthz runs. The sketch does only the seeks and the JSON, so its ratio is
# a ceiling for the service's on this machine (docs/benchmarks.md, "What bounds the missed targets").
#
# Usage: bench/ceiling.sh STORE_DIR [SECS] [SCENARIO] [ROUNDS]
#   STORE_DIR  a scale directory kept by bench/run.py --store-dir (bench.db and data/)
#   SCENARIO   retrieve (default) or sl_filtered
# Build both first: cargo build --release && cargo build --release --example read_sketch
set -euo pipefail
cd "$(dirname "$0")/.."
store=$1
secs=${2:-6}
scenario=${3:-retrieve}
rounds=${4:-2}
lua=bench/wrk/scenario.lua
scratch=$(mktemp -d)
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$scratch"' EXIT

rate() { # PORT SCENARIO -> requests per second (after 1 s of warm-up)
    wrk -t1 -c16 -d1s -s "$lua" "http://127.0.0.1:$1" -- "$2" "$store/data" 1 >/dev/null
    wrk -t1 -c16 -d"${secs}s" -s "$lua" "http://127.0.0.1:$1" -- "$2" "$store/data" 2 |
        awk '/Requests\/sec/ {print $2}'
}

measure() { # NAME PORT
    for _ in $(seq 1 50); do
        curl -sf "http://127.0.0.1:$2/healthz" >/dev/null && break
        sleep 0.1
    done
    local h1 r h2
    h1=$(rate "$2" healthz)
    r=$(rate "$2" "$scenario")
    h2=$(rate "$2" healthz)
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    python3 -c "h = ($h1 + $h2) / 2; print(f'$1: /healthz {$h1:.0f}, {$h2:.0f}; $scenario {$r:.0f} req/s; ratio {$r / h:.3f}')"
}

for _ in $(seq 1 "$rounds"); do
    rm -f "$scratch"/db*
    cp "$store/bench.db" "$scratch/db"
    target/release/examples/read_sketch "$scratch/db" 127.0.0.1:18196 >"$scratch/log" 2>&1 &
    pid=$!
    measure "sketch " 18196
    rm -f "$scratch"/db*
    cp "$store/bench.db" "$scratch/db"
    target/release/activity-hub serve --db "sqlite://$scratch/db" --bind 127.0.0.1:18197 \
        --no-rate-limit >"$scratch/log" 2>&1 &
    pid=$!
    measure "service" 18197
done
