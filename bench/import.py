#!/usr/bin/env python3
"""Bulk import speed: writes an NDJSON file of N activities (as `activity-hub export` writes them)
and times `activity-hub import` into a fresh store, SQLite or PostgreSQL.

Set-up (not timed): a fresh store, a tenant, one custom activity type with two fields, LEADS
leads (imported from a generated leads file). Then the activities file is imported and the
run reports wall time, rows/s, the importer's peak RSS (getrusage of the child), the file size
and the store's size afterwards.

Usage (from the repository root; docs/benchmarks.md has the figures):
    cargo build --release
    python3 bench/import.py --rows 10000000                     # SQLite
    python3 bench/import.py --rows 10000000 --backend postgres  # PostgreSQL (a database of its own
                                                                #  on --pg-admin's server)
The generated file is kept (--file, default /tmp/activity-hub-import-N.ndjson) and reused by later
runs with the same --rows. Only the standard library is used.
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ADMIN = "admin@bench.example"


def write_leads(path, n):
    guids = []
    with open(path, "w") as f:
        for i in range(n):
            g = str(uuid.UUID(int=random.getrandbits(128), version=4))
            guids.append(g)
            f.write(json.dumps({"guid": g, "first_name": "Lead", "last_name": str(i),
                                "email": f"lead{i}@bench.example", "owner": ADMIN}) + "\n")
    return guids


def write_activities(path, n, lead_guids):
    rnd = random.Random(7)
    base = 1_700_000_000
    with open(path, "w", buffering=1 << 20) as f:
        for i in range(n):
            t = base + i
            row = {
                "guid": str(uuid.UUID(int=rnd.getrandbits(128), version=4)),
                "event_code": 201,
                "lead": lead_guids[rnd.randrange(len(lead_guids))],
                "owner": ADMIN,
                "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t)),
                "note": f"Called about the renewal, attempt {i % 17}",
                "status": "Active",
                "fields": {"mx_Custom_1": f"topic {i % 100}", "mx_Custom_2": str(i % 1000)},
            }
            f.write(json.dumps(row, separators=(",", ":")) + "\n")


def run(binary, args):
    start = time.time()
    p = subprocess.run([binary] + args, capture_output=True)
    if p.returncode != 0:
        sys.exit(f"{' '.join(args)} failed: {p.stderr.decode()}")
    return p.stdout.decode(), time.time() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--leads", type=int, default=2000)
    ap.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--bin", default=os.path.join(REPO, "target/release/activity-hub"))
    ap.add_argument("--file", default=None)
    ap.add_argument("--batch", type=int, default=20000)
    ap.add_argument("--defer-indexes", action="store_true", help="pass --defer-indexes (an offline load)")
    ap.add_argument("--pg-admin", default="postgres://postgres@127.0.0.1:5432/test")
    opts = ap.parse_args()
    work = tempfile.mkdtemp(prefix="ih-import-")
    path = opts.file or f"/tmp/activity-hub-import-{opts.rows}.ndjson"
    leads_path = path + ".leads.ndjson"
    if not (os.path.exists(path) and os.path.exists(leads_path)):
        print(f"writing {opts.rows} activities to {path} ...", flush=True)
        random.seed(3)
        guids = write_leads(leads_path, opts.leads)
        write_activities(path, opts.rows, guids)
    if opts.backend == "sqlite":
        db = f"sqlite://{work}/bench.db"
    else:
        name = "ih_import_bench"
        admin = opts.pg_admin
        subprocess.run(["psql", admin, "-qc", f'DROP DATABASE IF EXISTS "{name}"'], check=True)
        subprocess.run(["psql", admin, "-qc", f'CREATE DATABASE "{name}"'], check=True)
        db = admin.rsplit("/", 1)[0] + "/" + name
    out, _ = run(opts.bin, ["tenant", "create", "--db", db, "--name", "Bench", "--admin-email", ADMIN])
    tenant = json.loads(out)["tenant_id"]
    types = os.path.join(work, "types.ndjson")
    with open(types, "w") as f:
        f.write(json.dumps({"event_code": 201, "name": "Bench Call", "kind": "custom", "salesloft_type": "call",
                            "score": 2, "fields": [
                                {"schema_name": "mx_Custom_1", "display_name": "Topic", "data_type": "String",
                                 "is_mandatory": False, "sequence": 1, "options": []},
                                {"schema_name": "mx_Custom_2", "display_name": "Count", "data_type": "Number",
                                 "is_mandatory": False, "sequence": 2, "options": []}]}) + "\n")
    run(opts.bin, ["import", "--db", db, "--tenant", tenant, "--kind", "types", "--progress", "none", types])
    run(opts.bin, ["import", "--db", db, "--tenant", tenant, "--kind", "leads", "--progress", "none",
                   "--state", os.path.join(work, "leads.state"), leads_path])
    before = time.time()
    p = subprocess.Popen([opts.bin, "import", "--db", db, "--tenant", tenant, "--progress", "lines",
                          "--batch", str(opts.batch), "--state", os.path.join(work, "a.state"),
                          "--rejects", os.path.join(work, "a.rejects")]
                         + (["--defer-indexes"] if opts.defer_indexes else []) + [path],
                         stdout=subprocess.PIPE)
    _, status, rusage = os.wait4(p.pid, 0)
    seconds = time.time() - before
    out = p.stdout.read().decode()
    if status != 0:
        sys.exit(f"import failed ({status}): {out}")
    report = json.loads(out)
    if opts.backend == "sqlite":
        size = sum(os.path.getsize(os.path.join(work, f)) for f in os.listdir(work) if f.startswith("bench.db"))
    else:
        size = int(subprocess.run(["psql", db, "-Atc", "select pg_database_size(current_database())"],
                                  capture_output=True, text=True, check=True).stdout.strip())
    result = {
        "backend": opts.backend,
        "rows": opts.rows,
        "imported": report["imported"],
        "rejected": report["rejected"],
        "file_bytes": os.path.getsize(path),
        "seconds": round(seconds, 1),
        "rows_per_second": round(report["imported"] / seconds),
        "cpu_seconds": round(rusage.ru_utime + rusage.ru_stime, 1),
        "rows_per_cpu_second": round(report["imported"] / max(rusage.ru_utime + rusage.ru_stime, 1e-6)),
        "peak_rss_mib": round(rusage.ru_maxrss / 1024, 1),
        "store_bytes": size,
        "batch": opts.batch,
        "defer_indexes": opts.defer_indexes,
    }
    print(json.dumps(result))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
