#!/usr/bin/env python3
"""Server CPU time per request of one activity-hub build on several stores, runs alternating.

For changes to how a store lays out its data (the same code reads differently laid-out files):
bench/cpu_ab.py compares two builds on one store; this compares stores under one build, in the
same way (a copy of each store's bench.db, 1 s of warm-up, then SECS seconds of wrk at 16
connections per scenario, user + system CPU of the server divided by the requests answered). The
build applies any migration it has pending to each copy; the stores themselves are not touched.

Usage: python3 bench/store_cpu.py BINARY STORE_DIR[,STORE_DIR...] REPS SCENARIO...
  STORE_DIR as for bench/ab.sh (a scale directory kept by bench/run.py: bench.db and data/).
  Only bench.db is copied, so checkpoint each store's WAL first
  (sqlite3 bench.db "PRAGMA wal_checkpoint(TRUNCATE)"); a store with a non-empty WAL is refused.
  Env: SECS (default 4) per scenario, after 1 s of warm-up. Prints one line per run, then per
  scenario the medians of each store (µs of server CPU per request, req/s) and their ratios to
  the first store's.
"""
import os
import statistics
import sys
import tempfile

from cpu_ab import run


def check_stores(stores):
    if len(set(stores)) != len(stores):
        sys.exit("a STORE_DIR is given twice")
    for store in stores:
        if not store or not os.path.isfile(os.path.join(store, "bench.db")):
            sys.exit(f"no bench.db in STORE_DIR '{store}'")
        wal = os.path.join(store, "bench.db-wal")
        if os.path.exists(wal) and os.path.getsize(wal) > 0:
            sys.exit(f"{wal} is not empty: checkpoint it first (only bench.db is copied)")


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    binary, stores, reps = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3])
    scenarios = sys.argv[4:]
    check_stores(stores)
    secs = int(os.environ.get("SECS", "4"))
    runs = {s: [] for s in stores}
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(reps):
            for store in stores:
                r = run(binary, store, scenarios, secs, scratch)
                runs[store].append(r)
                print(store + ": " + " ".join(
                    f"{sc}={us:.0f}us/req({rps:.0f}/s)" for sc, (us, rps) in r.items()), flush=True)
    print("medians per store, in the order given: µs of server CPU per request, req/s "
          "(each ÷ the first store's)")
    for sc in scenarios:
        cpu = [statistics.median(r[sc][0] for r in runs[s]) for s in stores]
        rps = [statistics.median(r[sc][1] for r in runs[s]) for s in stores]
        print(f"  {sc}: " + " / ".join(
            f"{c:.0f} µs ({c / cpu[0]:.2f}), {q:.0f}/s ({q / rps[0]:.2f})"
            for c, q in zip(cpu, rps)))


if __name__ == "__main__":
    main()
