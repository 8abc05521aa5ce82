#!/usr/bin/env python3
"""The counted feed at scale, on SQLite and PostgreSQL, and what keeping the counts costs writes.

For each backend and each scale: a fresh store, a tenant, the LeadSquared Create example's custom
type (Salesloft type `call`) and a system type (`meeting`), LEADS leads, then N activities loaded
with `activity-hub import` (far faster than the API; four in five of the custom type), ANALYZE on
PostgreSQL (autovacuum is off on these machines), and the feed's count timed in the store from
the rows and from the count table (`count_from_rows_ms`, `kept_count_ms`). Then `serve` and wrk (-t1 -c16, --seconds each):
/healthz, the counted feed (`GET /v2/activity_histories?type=call&include_paging_counts=true`, whose
count covers four fifths of the tenant) and, with --writes, single Create and bulk-25 by lead, each
once with the count triggers and once with them dropped (the same binary and store, so the ratio
is the triggers' cost alone). Prints one JSON line per (backend, scale) with req/s and ratios to
/healthz of the same run.

Usage (from the repository root; docs/benchmarks.md has the figures):
    cargo build --release
    python3 bench/counted_feed.py --scales 5000,1000000 --backends sqlite,postgres --writes
    python3 bench/counted_feed.py --scales 5000,10000000 --backends sqlite,postgres --defer-indexes
Reuses bench/import.py's file writers and bench/wrk/scenario.lua; only the standard library.
"""

import argparse
import importlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
importer = importlib.import_module("import")  # bench/import.py
from run import FIELD_TYPES, ensure_wrk  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LUA = os.path.join(REPO, "bench", "wrk", "scenario.lua")
ADMIN = importer.ADMIN
TRIGGERS = ["activity_counts_insert", "activity_counts_delete", "activity_counts_update"]


def cli(binary, args):
    p = subprocess.run([binary] + args, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"activity-hub {' '.join(args)} failed: {p.stderr}")
    return p.stdout


def write_activities(path, n, lead_guids):
    """N activities, four in five of the custom type 201, one in five of the system type 105."""
    with open(path, "w", buffering=1 << 20) as f:
        for i in range(n):
            row = {"guid": f"00000000-0000-4000-8000-{i:012d}", "event_code": 201 if i % 5 else 105,
                   "lead": lead_guids[i % len(lead_guids)], "owner": ADMIN,
                   "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1_700_000_000 + i)),
                   "note": f"Called about the renewal, attempt {i % 17}"}
            f.write(json.dumps(row, separators=(",", ":")) + "\n")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wrk(url, scenario, datadir, seconds):
    out = subprocess.run(["wrk", "-t", "1", "-c", "16", "-d", f"{seconds}s", "--timeout", "10s", "-s", LUA,
                          url, "--", scenario, datadir, "1"], capture_output=True, text=True)
    for line in out.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            return json.loads(line[len("BENCH_RESULT "):])
    sys.exit(f"wrk gave no result for {scenario}: {out.stdout[-400:]} {out.stderr[-400:]}")


def sql(backend, db, statement):
    if backend == "sqlite":
        import sqlite3
        c = sqlite3.connect(db[len("sqlite://"):])
        c.executescript(statement)
        c.close()
    else:
        subprocess.run(["psql", db, "-qc", statement], check=True, capture_output=True)


ROW_COUNT = "SELECT count(*) FROM activities a WHERE a.tenant_id = 1 AND a.sl_type = 'call'"
KEPT_COUNT = "SELECT coalesce(sum(a.n), 0) FROM activity_counts a WHERE a.tenant_id = 1 AND a.sl_type = 'call'"


def count_costs(backend, db):
    """Milliseconds per count of the feed's shape, from the rows (what the store ran before the
    count table) and from the count table (what it runs now): the median of five, in the store."""
    out = {}
    for name, statement in [("count_from_rows_ms", ROW_COUNT), ("kept_count_ms", KEPT_COUNT)]:
        times = []
        for _ in range(5):
            if backend == "sqlite":
                import sqlite3
                c = sqlite3.connect(db[len("sqlite://"):])
                start = time.perf_counter()
                c.execute(statement).fetchone()
                times.append((time.perf_counter() - start) * 1000)
                c.close()
            else:
                plan = subprocess.run(["psql", db, "-Atc", "EXPLAIN (ANALYZE, TIMING OFF) " + statement],
                                      capture_output=True, text=True, check=True).stdout
                times.append(float(re.search(r"Execution Time: ([0-9.]+) ms", plan).group(1)))
        out[name] = round(sorted(times)[2], 3)
    return out


def one(opts, backend, n):
    work = tempfile.mkdtemp(prefix="ih-counted-")
    if backend == "sqlite":
        db = f"sqlite://{work}/bench.db"
    else:
        name = "ih_counted_bench"
        subprocess.run(["psql", opts.pg_admin, "-qc", f'DROP DATABASE IF EXISTS "{name}"'], check=True)
        subprocess.run(["psql", opts.pg_admin, "-qc", f'CREATE DATABASE "{name}"'], check=True)
        db = opts.pg_admin.rsplit("/", 1)[0] + "/" + name
    keys = json.loads(cli(opts.bin, ["tenant", "create", "--db", db, "--name", "Bench", "--admin-email", ADMIN]))
    tenant = keys["tenant_id"]
    types = os.path.join(work, "types.ndjson")
    fields = [{"schema_name": f"mx_Custom_{k}", "display_name": f"F{k}", "data_type": t, "is_mandatory": False,
               "sequence": k, "options": []} for k, t in FIELD_TYPES.items()]
    with open(types, "w") as f:
        f.write(json.dumps({"event_code": 201, "name": "Bench Call", "kind": "custom", "salesloft_type": "call",
                            "score": 2, "fields": fields}) + "\n")
    cli(opts.bin, ["import", "--db", db, "--tenant", tenant, "--kind", "types", "--progress", "none", types])
    leads_path = os.path.join(work, "leads.ndjson")
    guids = importer.write_leads(leads_path, opts.leads)
    cli(opts.bin, ["import", "--db", db, "--tenant", tenant, "--kind", "leads", "--progress", "none",
                   "--state", os.path.join(work, "leads.state"), leads_path])
    acts = os.path.join(work, "activities.ndjson")
    write_activities(acts, n, guids)
    before = time.time()
    p = subprocess.Popen([opts.bin, "import", "--db", db, "--tenant", tenant, "--progress", "none",
                          "--batch", "20000", "--state", os.path.join(work, "a.state"),
                          "--rejects", os.path.join(work, "a.rejects")]
                         + (["--defer-indexes"] if opts.defer_indexes else []) + [acts],
                         stdout=subprocess.DEVNULL)
    _, status, rusage = os.wait4(p.pid, 0)
    loaded = time.time() - before
    if status != 0:
        sys.exit(f"the activities import failed ({status})")
    sql(backend, db, "ANALYZE")
    result = {"backend": backend, "activities": n, "file_bytes": os.path.getsize(acts),
              "load_seconds": round(loaded, 1), "load_rows_per_second": round(n / loaded),
              "import_peak_rss_mib": round(rusage.ru_maxrss / 1024, 1)}
    result.update(count_costs(backend, db))
    datadir = os.path.join(work, "wrk")
    os.mkdir(datadir)
    with open(os.path.join(datadir, "config"), "w") as f:
        for k, v in dict(access_key=keys["access_key"], secret_key=keys["secret_key"], api_key=keys["api_key"],
                         event="201", system_event="105", sl_type="call", owner_email=ADMIN).items():
            f.write(f"{k}={v}\n")
    with open(os.path.join(datadir, "leads"), "w") as f:
        f.write("\n".join(guids) + "\n")

    def serve():
        port = free_port()
        p = subprocess.Popen([opts.bin, "serve", "--db", db, "--bind", f"127.0.0.1:{port}", "--no-rate-limit"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                urllib.request.urlopen(url + "/healthz", timeout=1)
                return p, url
            except OSError:
                time.sleep(0.1)
        p.kill()
        sys.exit("the server did not start")

    p, url = serve()
    try:
        for scenario in ["healthz", "sl_counted"] + (["create", "bulk_lead"] if opts.writes else []):
            r = wrk(url, scenario, datadir, opts.seconds)
            errors = sum(r[k] for k in r if k.startswith("errors_"))
            if errors:
                sys.exit(f"{scenario}: {errors} failed requests")
            result[scenario] = round(r["requests"] / (r["duration_us"] / 1e6))
            result[scenario + "_p99_ms"] = round(r["p99_us"] / 1000, 2)
    finally:
        p.terminate()
        p.wait()
    if opts.writes:
        # The same writes with the count triggers dropped: their cost alone.
        sql(backend, db, "; ".join(f"DROP TRIGGER {t}" + ("" if backend == "sqlite" else " ON activities")
                                   for t in TRIGGERS))
        p, url = serve()
        try:
            for scenario in ["healthz", "create", "bulk_lead"]:
                r = wrk(url, scenario, datadir, opts.seconds)
                result[scenario + "_untriggered"] = round(r["requests"] / (r["duration_us"] / 1e6))
        finally:
            p.terminate()
            p.wait()
    for k in ["sl_counted", "create", "bulk_lead"]:
        if k in result:
            result[k + "_ratio"] = round(result[k] / result["healthz"], 3)
        if k + "_untriggered" in result:
            result[k + "_untriggered_ratio"] = round(result[k + "_untriggered"] / result["healthz_untriggered"], 3)
    print(json.dumps(result), flush=True)
    if backend == "postgres":
        subprocess.run(["psql", opts.pg_admin, "-qc", 'DROP DATABASE IF EXISTS "ih_counted_bench"'], check=True)
    shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scales", default="5000,1000000")
    ap.add_argument("--backends", default="sqlite,postgres")
    ap.add_argument("--leads", type=int, default=2000)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--writes", action="store_true", help="also Create and bulk-25, with and without the triggers")
    ap.add_argument("--defer-indexes", action="store_true",
                    help="load with `import --defer-indexes` (indexes, and foreign keys on PostgreSQL, after the load)")
    ap.add_argument("--bin", default=os.path.join(REPO, "target/release/activity-hub"))
    ap.add_argument("--pg-admin", default="postgres://postgres@127.0.0.1:5432/test")
    opts = ap.parse_args()
    ensure_wrk()
    for backend in opts.backends.split(","):
        for n in [int(s) for s in opts.scales.split(",")]:
            one(opts, backend, n)


if __name__ == "__main__":
    main()
