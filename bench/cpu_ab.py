#!/usr/bin/env python3
"""Server CPU time per request of two activity-hub builds, runs alternating (A, B, A, B, ...).

Throughput on these shared 2-core machines drifts by tens of percent from minute to minute; the
CPU the server process spends per answered request (user + system time from /proc/PID/stat,
divided by the requests wrk completed) moves much less, so small changes show up in it.

Usage: python3 bench/cpu_ab.py STORE_DIR BINARY_A BINARY_B REPS SCENARIO...
  STORE_DIR as for bench/ab.sh (a scale directory kept by bench/run.py: bench.db and data/).
  Only bench.db is copied: checkpoint its WAL first (`PRAGMA wal_checkpoint(TRUNCATE)`). Any
  answer that is not 2xx stops the run.
  Env: SECS (default 4) per scenario, after 1 s of warm-up. Prints µs of server CPU per request
  and req/s, one line per run, then the median of each scenario per binary.
"""
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def wrk(port, scenario, data, secs, phase):
    out = subprocess.run(
        ["wrk", "-t1", "-c16", f"-d{secs}s", "-s", f"{HERE}/wrk/scenario.lua",
         f"http://127.0.0.1:{port}", "--", scenario, data, str(phase)],
        capture_output=True, text=True, check=True).stdout
    # A refused request costs a fraction of an answered one: a store whose data did not reach
    # bench.db (a WAL left behind) would otherwise measure 401s.
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if bad:
        sys.exit(f"{scenario}: {bad.group(1)} answers were not 2xx (is the store's WAL checkpointed "
                 "into bench.db?)")
    m = re.search(r"(\d+) requests in", out)
    return int(m.group(1)) if m else 0


def run(binary, store, scenarios, secs, scratch):
    db = os.path.join(scratch, "ab.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    shutil.copy(os.path.join(store, "bench.db"), db)
    port = 18191
    log = open(os.path.join(scratch, "server.log"), "w")
    srv = subprocess.Popen([binary, "serve", "--db", f"sqlite://{db}", "--bind",
                            f"127.0.0.1:{port}", "--no-rate-limit"], stdout=log, stderr=log)
    try:
        for _ in range(100):
            if "listening on" in open(os.path.join(scratch, "server.log")).read():
                break
            time.sleep(0.1)
        result = {}
        for sc in scenarios:
            wrk(port, sc, os.path.join(store, "data"), 1, 1)
            before = cpu_seconds(srv.pid)
            t0 = time.time()
            n = wrk(port, sc, os.path.join(store, "data"), secs, 2)
            elapsed = time.time() - t0
            used = cpu_seconds(srv.pid) - before
            result[sc] = (used / max(n, 1) * 1e6, n / elapsed)
        return result
    finally:
        srv.terminate()
        srv.wait()


def main():
    if len(sys.argv) < 6:
        sys.exit(__doc__)
    store, a, b, reps = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    scenarios = sys.argv[5:]
    secs = int(os.environ.get("SECS", "4"))
    runs = {a: [], b: []}
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(reps):
            for binary in (a, b):
                r = run(binary, store, scenarios, secs, scratch)
                runs[binary].append(r)
                print(os.path.basename(binary) + ": " + " ".join(
                    f"{sc}={us:.0f}us/req({rps:.0f}/s)" for sc, (us, rps) in r.items()), flush=True)
    print("median server CPU per request (µs), A / B / B÷A:")
    for sc in scenarios:
        ma = statistics.median(r[sc][0] for r in runs[a])
        mb = statistics.median(r[sc][0] for r in runs[b])
        print(f"  {sc}: {ma:.0f} / {mb:.0f} / {mb / ma:.2f}")


if __name__ == "__main__":
    main()
