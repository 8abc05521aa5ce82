#!/usr/bin/env python3
"""Server CPU time per request of one activity-hub build on several stores, runs alternating.

For changes to how a store lays out its data (the same code reads differently laid-out files):
bench/cpu_ab.py compares two builds on one store; this compares stores under one build, in the
same way (a copy of each store's bench.db, 1 s of warm-up, then SECS seconds of wrk at 16
connections per scenario, user + system CPU of the server divided by the requests answered).

Usage: python3 bench/store_cpu.py BINARY STORE_DIR[,STORE_DIR...] REPS SCENARIO...
  STORE_DIR as for bench/ab.sh (a scale directory kept by bench/run.py: bench.db and data/).
  Checkpoint each store's WAL first (sqlite3 bench.db "PRAGMA wal_checkpoint(TRUNCATE)"): only
  bench.db is copied. Prints one line per run, then the median of each scenario per store.
"""
import os
import statistics
import sys
import tempfile

from cpu_ab import run


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    binary, stores, reps = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3])
    scenarios = sys.argv[4:]
    secs = int(os.environ.get("SECS", "4"))
    runs = {s: [] for s in stores}
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(reps):
            for store in stores:
                r = run(binary, store, scenarios, secs, scratch)
                runs[store].append(r)
                print(store + ": " + " ".join(
                    f"{sc}={us:.0f}us/req({rps:.0f}/s)" for sc, (us, rps) in r.items()), flush=True)
    print("median server CPU per request (µs), per store in the order given:")
    for sc in scenarios:
        print(f"  {sc}: " + " / ".join(
            f"{statistics.median(r[sc][0] for r in runs[s]):.0f}" for s in stores))


if __name__ == "__main__":
    main()
