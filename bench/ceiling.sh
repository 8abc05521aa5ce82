#!/usr/bin/env bash
# The read sketch (examples/read_sketch.rs) against the service, one after the other on copies of
# one store: /healthz, the scenario, /healthz again on each, and each one's ratio of the scenario to
# the mean of its own two /healthz runs. The sketch does only the joins and the JSON of the same
# rows, so its ratio is about the most the service could reach on this machine and store
# (docs/benchmarks.md, "Read ceilings").
#
# Usage: bench/ceiling.sh STORE_DIR [SECS] [SCENARIO] [ROUNDS]
#   STORE_DIR  a scale directory kept by bench/run.py --store-dir (bench.db, its -wal if any, data/)
#   SECS       seconds of wrk per measurement, after 1 s of warm-up (default 6)
#   SCENARIO   retrieve (default) or sl_filtered
#   ROUNDS     sketch-then-service rounds (default 2)
# Build both first: cargo build --release && cargo build --release --example read_sketch
set -euo pipefail
usage="usage: bench/ceiling.sh STORE_DIR [SECS] [SCENARIO] [ROUNDS]"
store=$(realpath "${1:?$usage}")
secs=${2:-6}
scenario=${3:-retrieve}
rounds=${4:-2}
case "$scenario" in
    retrieve | sl_filtered) ;;
    *) echo "the sketch answers retrieve and sl_filtered only; $usage" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."
lua=bench/wrk/scenario.lua
scratch=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$scratch"' EXIT

rate() { # PORT SCENARIO -> requests per second (after 1 s of warm-up); fails on any non-2xx answer
    wrk -t1 -c16 -d1s -s "$lua" "http://127.0.0.1:$1" -- "$2" "$store/data" 1 >/dev/null
    wrk -t1 -c16 -d"${secs}s" -s "$lua" "http://127.0.0.1:$1" -- "$2" "$store/data" 2 >"$scratch/wrk"
    if grep -q "Non-2xx" "$scratch/wrk"; then
        echo "$2 on port $1 answered non-2xx:" >&2
        cat "$scratch/wrk" >&2
        exit 1
    fi
    awk '/Requests\/sec/ {print $2}' "$scratch/wrk"
}

copy_store() {
    rm -f "$scratch"/db*
    cp "$store/bench.db" "$scratch/db"
    if [ -f "$store/bench.db-wal" ]; then cp "$store/bench.db-wal" "$scratch/db-wal"; fi
    sync
}

measure() { # NAME PORT LOG: waits for the server just started (pid), measures it, stops it
    local ready=
    for _ in $(seq 1 100); do
        if ! kill -0 "$pid" 2>/dev/null; then break; fi
        if curl -sf "http://127.0.0.1:$2/healthz" >/dev/null; then ready=1; break; fi
        sleep 0.1
    done
    if [ -z "$ready" ]; then
        echo "$1 did not start:" >&2
        cat "$3" >&2
        exit 1
    fi
    local h1 r h2
    h1=$(rate "$2" healthz)
    r=$(rate "$2" "$scenario")
    h2=$(rate "$2" healthz)
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    pid=
    python3 -c "h = ($h1 + $h2) / 2; print(f'$1: /healthz {$h1:.0f}, {$h2:.0f}; $scenario {$r:.0f} req/s; ratio {$r / h:.3f}')"
}

for _ in $(seq 1 "$rounds"); do
    copy_store
    target/release/examples/read_sketch "$scratch/db" 127.0.0.1:18196 >"$scratch/sketch.log" 2>&1 &
    pid=$!
    measure "sketch " 18196 "$scratch/sketch.log"
    copy_store
    target/release/activity-hub serve --db "sqlite://$scratch/db" --bind 127.0.0.1:18197 \
        --no-rate-limit >"$scratch/service.log" 2>&1 &
    pid=$!
    measure "service" 18197 "$scratch/service.log"
done
