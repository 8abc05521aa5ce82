#!/usr/bin/env python3
"""Leads.GetByQuickSearch and LeadsMetaData.Get as the tenant grows: per backend and scale, a fresh
store with one tenant of N leads (imported; each lead holds two custom fields; ANALYZE after on
PostgreSQL), then

- over HTTP (client side, wall clock, median of --repeat): a quick search matching more than 50
  leads, one matching none, and LeadsMetaData.Get;
- in the store (SQLite: Python's sqlite3 on the file; PostgreSQL: EXPLAIN ANALYZE's execution
  time; median of --repeat): the statement each call runs, and the statement the previous
  implementation ran (a walk of the tenant's leads in id order with LIKE on every searched column;
  the distinct attribute names of every live lead), on the same data.

Usage (from the repository root; docs/benchmarks.md has the figures):
    cargo build --release
    python3 bench/lead_search.py --scales 1000,100000 --backends sqlite,postgres
AH_BIN picks another binary. Only the standard library is used (and `psql` for PostgreSQL).
"""

import argparse
import json
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("AH_BIN") or os.path.join(REPO, "target", "release", "activity-hub")
ADMIN = "admin@bench.example"

# The statements the previous implementation ran (parameters: tenant, key).
OLD_SEARCH = """SELECT l.id FROM leads l JOIN users o ON o.id = l.owner_id
 WHERE l.tenant_id = {t} AND l.deleted_at IS NULL
   AND (l.email_lc LIKE '{p}' ESCAPE '\\' OR lower(l.first_name) LIKE '{p}' ESCAPE '\\'
     OR lower(l.last_name) LIKE '{p}' ESCAPE '\\'
     OR lower(coalesce(l.first_name, '') || ' ' || coalesce(l.last_name, '')) LIKE '{p}' ESCAPE '\\'
     OR l.phone LIKE '{p}' ESCAPE '\\' OR l.mobile LIKE '{p}' ESCAPE '\\')
 ORDER BY l.id LIMIT 50"""
OLD_FIELDS = {
    "sqlite": "SELECT DISTINCT j.key FROM leads l, json_each(l.attributes) j"
              " WHERE l.tenant_id = {t} AND l.deleted_at IS NULL ORDER BY j.key LIMIT 500",
    "postgres": "SELECT DISTINCT k FROM leads l, jsonb_object_keys(l.attributes) k"
                " WHERE l.tenant_id = {t} AND l.deleted_at IS NULL ORDER BY k LIMIT 500",
}
# The statements of src/store/mod.rs (quick_search_ids_sql) and lead_attribute_names.
COLUMNS = [
    "lower(coalesce(l.first_name, '') || ' ' || coalesce(l.last_name, ''))",
    "lower(l.last_name)",
    "l.email_lc",
    "l.phone",
    "l.mobile",
]
NEW_FIELDS = "SELECT name FROM lead_fields WHERE tenant_id = {t} ORDER BY name LIMIT 500"


def new_search(backend, t, key):
    collate = ' COLLATE "C"' if backend == "postgres" else ""
    high = key + "\U0010FFFF"
    arms = []
    for i, col in enumerate(COLUMNS):
        e = f"({col}){collate}"
        arms.append(f"SELECT id FROM (SELECT l.id FROM leads l WHERE l.tenant_id = {t}"
                    f" AND l.deleted_at IS NULL AND {e} >= '{key}' AND {e} < '{high}'"
                    f" ORDER BY {e} LIMIT 50) AS arm{i}")
    return (f"SELECT l.id FROM leads l JOIN users o ON o.id = l.owner_id WHERE l.id IN"
            f" ({' UNION ALL '.join(arms)}) ORDER BY l.id LIMIT 50")


def run(args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw).stdout


def get(base, keys, path):
    sep = "&" if "?" in path else "?"
    url = "%s%s%saccessKey=%s&secretKey=%s" % (
        base, path, sep, urllib.parse.quote(keys["access_key"]), keys["secret_key"])
    t = time.perf_counter()
    with urllib.request.urlopen(url, timeout=300) as r:
        body = json.loads(r.read())
    return time.perf_counter() - t, body


def median_ms(f, repeat):
    f()  # warm
    return statistics.median(f() for _ in range(repeat)) * 1000


def store_timer(backend, db):
    """A function timing one statement in the store, in seconds."""
    if backend == "sqlite":
        conn = sqlite3.connect(db.removeprefix("sqlite://"))

        def time_sql(sql):
            t = time.perf_counter()
            conn.execute(sql).fetchall()
            return time.perf_counter() - t
        return time_sql

    def time_sql(sql):
        out = run(["psql", db, "-Atc", "EXPLAIN (ANALYZE) " + sql])
        return float(re.search(r"Execution Time: ([0-9.]+) ms", out).group(1)) / 1000
    return time_sql


def one(backend, n, opts, work):
    if backend == "sqlite":
        db = f"sqlite://{work}/bench-{n}.db"
    else:
        name = f"ah_lead_search_{n}"
        run(["psql", opts.pg_admin, "-qc", f'DROP DATABASE IF EXISTS "{name}"'])
        run(["psql", opts.pg_admin, "-qc", f'CREATE DATABASE "{name}"'])
        db = opts.pg_admin.rsplit("/", 1)[0] + "/" + name
    keys = json.loads(run([BIN, "tenant", "create", "--db", db, "--name", "Bench",
                           "--admin-email", ADMIN, "--json"]))
    leads = os.path.join(work, f"leads-{n}.ndjson")
    with open(leads, "w") as f:
        for i in range(n):
            f.write(json.dumps({"first_name": f"Lead{i}", "last_name": f"Last{i % 1000}",
                                "email": f"lead{i}@bench.example", "phone": f"+1 555 {i:07}",
                                "owner": ADMIN,
                                "attributes": {"mx_City": "Pune", "mx_Tier": str(i % 3)}}) + "\n")
    run([BIN, "import", "--db", db, "--tenant", keys["tenant_id"], "--kind", "leads",
         "--progress", "none", "--state", os.path.join(work, f"leads-{n}.state"), leads])
    if backend == "postgres":
        run(["psql", db, "-qc", "ANALYZE"])
    tenant = run(["psql", db, "-Atc", "SELECT id FROM tenants"]).strip() if backend == "postgres" \
        else str(sqlite3.connect(db.removeprefix("sqlite://")).execute("SELECT id FROM tenants").fetchone()[0])
    server = subprocess.Popen([BIN, "serve", "--db", db, "--bind", "127.0.0.1:0", "--no-rate-limit"],
                              stdout=subprocess.PIPE, text=True)
    result = {"backend": backend, "leads": n}
    try:
        base = None
        for line in server.stdout:
            if line.startswith("activity-hub listening on "):
                base = line.split()[-1]
                break
        if base is None:
            sys.exit("server did not start")
        for name, path in [("http_search_many", "/v2/LeadManagement.svc/Leads.GetByQuickSearch?key=lead1"),
                           ("http_search_none", "/v2/LeadManagement.svc/Leads.GetByQuickSearch?key=zzz"),
                           ("http_metadata", "/v2/LeadManagement.svc/LeadsMetaData.Get")]:
            result[name + "_ms"] = round(median_ms(lambda: get(base, keys, path)[0], opts.repeat), 2)
        _, found = get(base, keys, "/v2/LeadManagement.svc/Leads.GetByQuickSearch?key=lead1")
        result["http_search_many_rows"] = len(found)
    finally:
        server.terminate()
        server.wait()
    time_sql = store_timer(backend, db)
    for name, sql in [("store_search_many_new", new_search(backend, tenant, "lead1")),
                      ("store_search_many_old", OLD_SEARCH.format(t=tenant, p="lead1%")),
                      ("store_search_none_new", new_search(backend, tenant, "zzz")),
                      ("store_search_none_old", OLD_SEARCH.format(t=tenant, p="zzz%")),
                      ("store_fields_new", NEW_FIELDS.format(t=tenant)),
                      ("store_fields_old", OLD_FIELDS[backend].format(t=tenant))]:
        result[name + "_ms"] = round(median_ms(lambda: time_sql(sql), opts.repeat), 3)
    print(json.dumps(result), flush=True)
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scales", default="1000,100000")
    ap.add_argument("--backends", default="sqlite")
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--pg-admin", default="postgres://postgres@127.0.0.1:5432/postgres")
    opts = ap.parse_args()
    work = tempfile.mkdtemp(prefix="ah-lead-search-")
    for backend in opts.backends.split(","):
        for n in [int(s) for s in opts.scales.split(",")]:
            one(backend, n, opts, work)


if __name__ == "__main__":
    main()
