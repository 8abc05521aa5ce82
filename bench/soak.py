#!/usr/bin/env python3
"""Soak: a steady mixed load on one server for a long time, checking that nothing drifts.

Starts the server (release build by default) on a fresh SQLite store, creates a tenant, leads and an
activity type, then runs WORKERS client threads at a fixed total request rate (open loop: a slow
answer does not slow the offered load) for DURATION, over a mix of every dialect's reads and writes:
LeadSquared Create, bulk Add/ByLeadId, Retrieve, GetActivityDetails, CustomActivity/Update;
Salesloft's filtered page with counts and a cursor walk; the native API's batch create, PATCH,
pin/unpin and tags. Each minute it prints the requests, errors, p50/p99 latency and the server's
RSS; at the end it compares the last third of the run with the first third after warm-up.

Pass/fail (exit 1 on a failure): 0 errors (any non-2xx answer or socket error), private memory
(RssAnon) and p99 of the last third each within --tolerance (10 %) of the first third, and the WAL
never past SQLite's hard checkpoint limit (256 MiB). VmRSS is printed too but not judged: it counts
the mapped pages of a database file that grows with every write. p99 on a shared machine is noisy:
the comparison uses the median of the per-minute p99s of each third.

Usage (from the repository root):
    cargo build --release && python3 bench/soak.py --minutes 42          # docs/benchmarks.md
    python3 bench/soak.py --bin target/debug/activity-hub --minutes 4 --warmup 1 --rate 50   # a quick look
Only the standard library is used (the server and HTTP helpers come from bench/run.py).
"""

import argparse
import collections
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as harness  # noqa: E402  (bench/run.py: Server, Http)

REPO = harness.REPO
FIELDS = [{"SchemaName": "mx_Custom_1", "Value": "soak"}, {"SchemaName": "mx_Custom_2", "Value": "7"}]


def percentile(sorted_values, p):
    if not sorted_values:
        return 0.0
    k = min(len(sorted_values) - 1, max(0, int(round(p / 100.0 * (len(sorted_values) - 1)))))
    return sorted_values[k]


def memory_kib(pid):
    """(VmRSS, RssAnon) of `pid` in KiB. RssAnon is the process's private memory (heap, SQLite's
    page caches); VmRSS adds the pages of the database file each connection maps (mmap reads),
    counted once per connection, which grow with the store and are the kernel's page cache."""
    found = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key = line.split(":")[0]
                if key in ("VmRSS", "RssAnon"):
                    found[key] = int(line.split()[1])
    except OSError:
        pass
    return found.get("VmRSS", 0), found.get("RssAnon", 0)


def file_mib(path):
    return os.path.getsize(path) / 2**20 if os.path.exists(path) else 0.0


class Soak:
    def __init__(self, opts):
        self.o = opts
        self.work = tempfile.mkdtemp(prefix="activity-hub-soak-")
        self.db = os.path.join(self.work, "soak.db")
        # The store grows by design (a deleted activity is kept for the restore window, every
        # change leaves a change record), and each connection's page cache fills with the pages
        # it touches up to its bound: 32 MiB for the writer, which fills in the first ~12 minutes
        # at this load, and --read-cache-mib for each reading connection. Small read caches end
        # the readers' fill early; the judged thirds start after the writer's.
        self.server = harness.Server(opts.bin, f"sqlite://{self.db}", self.work,
                                     ["--read-cache-mib", str(opts.read_cache_mib)])
        self.lock = threading.Lock()
        self.minute = {"lat": [], "errors": 0, "requests": 0, "by_op": {}}
        self.minutes = []
        self.first_errors = []
        self.stop = threading.Event()
        # Activities each worker created, oldest first: only that worker changes or deletes
        # them, so updates never race each other.
        self.mine = {}

    # ---- setup -------------------------------------------------------------------------------
    def setup(self):
        out = subprocess.run(
            [self.o.bin, "tenant", "create", "--name", "Soak", "--admin-email", "owner@soak.example",
             "--db", f"sqlite://{self.db}", "--json"], capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"tenant create failed: {out.stderr.strip()}")
        self.keys = json.loads(out.stdout.strip().splitlines()[-1])
        self.server.start()
        c = self.lsq()
        status, body = c.call("POST", "/v2/ProspectActivity.svc/CreateType", {
            "ActivityEventName": "Soak Activity", "Score": 1, "Direction": 1, "SalesloftType": "call",
            "Fields": [{"SchemaName": "mx_Custom_1", "DisplayName": "Text", "DataType": "String"},
                       {"SchemaName": "mx_Custom_2", "DisplayName": "Count", "DataType": "Number"}]})
        if status != 200:
            sys.exit(f"CreateType answered {status}: {body}")
        self.event = body["Message"]["Id"]
        self.leads = []
        for i in range(self.o.leads):
            status, body = c.call("POST", "/v2/LeadManagement.svc/Lead.Create", [
                {"Attribute": "EmailAddress", "Value": f"lead{i}@soak.example"},
                {"Attribute": "FirstName", "Value": f"Lead{i}"}])
            if status != 200:
                sys.exit(f"Lead.Create answered {status}: {body}")
            self.leads.append(body["Message"]["Id"])
        loaded = 0
        while loaded < self.o.preload:
            rows = [{"RelatedProspectId": self.leads[(loaded + i) % len(self.leads)],
                     "ActivityEvent": self.event, "ActivityNote": "preloaded", "Fields": FIELDS}
                    for i in range(min(25, self.o.preload - loaded))]
            status, body = c.call("POST", "/v2/ProspectActivity.svc/Bulk/CustomActivity/Add/ByLeadId",
                                  rows)
            if status != 200:
                sys.exit(f"preload answered {status}: {body}")
            loaded += len(rows)

    def lsq(self):
        return harness.Http(self.server.host, self.server.port, {
            "x-LSQ-AccessKey": self.keys["access_key"], "x-LSQ-SecretKey": self.keys["secret_key"]})

    def bearer(self):
        return harness.Http(self.server.host, self.server.port,
                            {"Authorization": f"Bearer {self.keys['api_key']}"})

    # ---- the mix -----------------------------------------------------------------------------
    def op(self, name, w, lsq, nat, rnd):
        """One request of kind `name` by worker `w`; returns (status, body)."""
        lead = rnd.choice(self.leads)
        mine = self.mine.setdefault(w, collections.deque())
        if name == "lsq_create":
            s, b = lsq.call("POST", "/v2/ProspectActivity.svc/Create", {
                "RelatedProspectId": lead, "ActivityEvent": self.event, "ActivityNote": "soak",
                "Fields": FIELDS})
            if s == 200:
                mine.append(("lsq", b["Message"]["Id"]))
            return s, b
        if name == "lsq_bulk":
            rows = [{"RelatedProspectId": lead, "ActivityEvent": self.event,
                     "ActivityNote": f"bulk {i}", "Fields": FIELDS} for i in range(2)]
            s, b = lsq.call("POST", "/v2/ProspectActivity.svc/Bulk/CustomActivity/Add/ByLeadId", rows)
            if s == 200:
                mine.extend(("lsq", a["ProspectActivityId"]) for a in b["Response"]
                            if a.get("ActivityCreated"))
            return s, b
        if name == "native_create":
            s, b = nat.call("POST", "/api/v1/activities", {"activities": [
                {"type": "note", "resource": {"type": "person", "id": lead}, "note": "soak"}]})
            if s == 201:
                mine.append(("native", b["data"][0]["guid"]))
            return s, b
        if name == "delete" and len(mine) > self.o.keep:
            return nat.call("DELETE", f"/api/v1/activities/{mine.popleft()[1]}")
        if name == "lsq_retrieve":
            return lsq.call("POST", f"/v2/ProspectActivity.svc/Retrieve?leadId={lead}",
                            {"Paging": {"PageIndex": 1, "PageSize": 25}})
        if name == "sl_counted":
            return nat.call("GET", "/v2/activity_histories?type=call&per_page=25&include_paging_counts=true")
        if name == "sl_walk":
            since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - 60)) + ".000000Z"
            return nat.call("GET", "/v2/activity_histories?sort_by=updated_at&sort_direction=ASC"
                                   f"&per_page=100&updated_at%5Bgt%5D={since}")
        picked = rnd.choice(mine) if mine else None
        if name == "lsq_details" and picked:
            return lsq.call("GET", f"/v2/ProspectActivity.svc/GetActivityDetails?activityId={picked[1]}")
        if name == "lsq_update" and picked and picked[0] == "lsq":
            return lsq.call("POST", "/v2/ProspectActivity.svc/CustomActivity/Update", {
                "ProspectActivityId": picked[1], "ActivityEvent": self.event,
                "ActivityNote": f"updated {rnd.random()}", "Fields": FIELDS})
        if name in ("native_edit", "lsq_update") and picked:
            guid = picked[1]
            kind = rnd.randrange(4)
            if kind == 0:
                return nat.call("PATCH", f"/api/v1/activities/{guid}", {"note": f"edited {rnd.random()}"})
            if kind == 1:
                return nat.call("POST", f"/api/v1/activities/{guid}/pin")
            if kind == 2:
                return nat.call("DELETE", f"/api/v1/activities/{guid}/pin")
            return nat.call("PUT", f"/api/v1/activities/{guid}/tags", {"tags": ["soak", f"t{rnd.randrange(9)}"]})
        # Nothing of this worker's to change or delete yet: a read instead.
        return lsq.call("POST", f"/v2/ProspectActivity.svc/Retrieve?leadId={lead}",
                        {"Paging": {"PageIndex": 1, "PageSize": 25}})

    # Weights per 100 requests. Creates make 8 + 4*2 + 8 = 24 activities and deletes take 24 away
    # once each worker holds --keep of its own, so the store stays the same size after the ramp:
    # what the run measures is the server over time, not the cost of a growing store (counts over
    # a growing store are a separate, known cost; see docs/benchmarks.md).
    MIX = [("lsq_create", 8), ("lsq_bulk", 4), ("native_create", 8), ("delete", 24),
           ("lsq_retrieve", 16), ("lsq_details", 8), ("lsq_update", 5), ("sl_counted", 10),
           ("sl_walk", 8), ("native_edit", 9)]

    def worker(self, w, interval, deadline):
        rnd = random.Random(w)
        lsq, nat = self.lsq(), self.bearer()
        names = [n for n, weight in self.MIX for _ in range(weight)]
        next_at = time.monotonic() + rnd.random() * interval
        while not self.stop.is_set() and time.monotonic() < deadline:
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            next_at += interval
            name = rnd.choice(names)
            start = time.monotonic()
            try:
                status, body = self.op(name, w, lsq, nat, rnd)
                ok = 200 <= status < 300
            except Exception as e:  # a socket error counts as an error, and the run goes on
                status, body, ok = 0, repr(e), False
            took = (time.monotonic() - start) * 1000.0
            with self.lock:
                m = self.minute
                m["requests"] += 1
                m["lat"].append(took)
                m["by_op"][name] = m["by_op"].get(name, 0) + 1
                if not ok:
                    m["errors"] += 1
                    if len(self.first_errors) < 10:
                        self.first_errors.append(f"{name}: {status} {str(body)[:200]}")

    def run(self):
        self.setup()
        o = self.o
        deadline = time.monotonic() + o.minutes * 60
        interval = o.workers / float(o.rate)
        threads = [threading.Thread(target=self.worker, args=(w, interval, deadline), daemon=True)
                   for w in range(o.workers)]
        for t in threads:
            t.start()
        harness.log(f"soak: {o.minutes} min at {o.rate} req/s offered by {o.workers} workers; "
                    f"store {self.db}")
        print(f"{'min':>4} {'requests':>9} {'errors':>7} {'p50 ms':>8} {'p99 ms':>8} {'RSS MiB':>8} "
              f"{'anon MiB':>9} {'db MiB':>7} {'WAL MiB':>8}")
        started = time.monotonic()
        for i in range(o.minutes):
            while time.monotonic() < started + (i + 1) * 60:
                time.sleep(0.5)
            with self.lock:
                m, self.minute = self.minute, {"lat": [], "errors": 0, "requests": 0, "by_op": {}}
            lat = sorted(m["lat"])
            rss, anon = memory_kib(self.server.proc.pid)
            row = {"minute": i + 1, "requests": m["requests"], "errors": m["errors"],
                   "p50": percentile(lat, 50), "p99": percentile(lat, 99),
                   "rss_mib": rss / 1024.0, "anon_mib": anon / 1024.0,
                   "db_mib": file_mib(self.db), "wal_mib": file_mib(self.db + "-wal")}
            self.minutes.append(row)
            print(f"{row['minute']:>4} {row['requests']:>9} {row['errors']:>7} {row['p50']:>8.2f} "
                  f"{row['p99']:>8.2f} {row['rss_mib']:>8.1f} {row['anon_mib']:>9.1f} "
                  f"{row['db_mib']:>7.1f} {row['wal_mib']:>8.1f}", flush=True)
        self.stop.set()
        for t in threads:
            t.join(timeout=30)
        return self.verdict()

    def verdict(self):
        o = self.o
        rows = self.minutes[o.warmup:]
        third = max(1, len(rows) // 3)
        first, last = rows[:third], rows[-third:]
        p99_first = statistics.median(r["p99"] for r in first)
        p99_last = statistics.median(r["p99"] for r in last)
        rss_first = statistics.median(r["anon_mib"] for r in first)
        rss_last = statistics.median(r["anon_mib"] for r in last)
        wal_peak = max(r["wal_mib"] for r in self.minutes)
        total = sum(r["requests"] for r in self.minutes)
        errors = sum(r["errors"] for r in self.minutes)
        print(f"\nrequests {total}, errors {errors}; at the end the database file is "
              f"{file_mib(self.db):.1f} MiB, its WAL {file_mib(self.db + '-wal'):.1f} MiB "
              f"(largest seen {wal_peak:.1f} MiB)")
        print(f"p99 (median of per-minute p99s): first third {p99_first:.2f} ms, last third "
              f"{p99_last:.2f} ms, ratio {p99_last / p99_first if p99_first else 0:.3f}")
        print(f"private memory (RssAnon): first third {rss_first:.1f} MiB, last third {rss_last:.1f} "
              f"MiB, ratio {rss_last / rss_first if rss_first else 0:.3f}")
        failures = []
        if errors:
            failures.append(f"{errors} errors, first: " + "; ".join(self.first_errors))
        if p99_first and p99_last > p99_first * (1 + o.tolerance):
            failures.append(f"p99 grew by more than {o.tolerance:.0%}")
        if rss_first and rss_last > rss_first * (1 + o.tolerance):
            failures.append(f"private memory grew by more than {o.tolerance:.0%}")
        if wal_peak > 256:
            failures.append(f"the WAL grew to {wal_peak:.0f} MiB, past the 256 MiB checkpoint limit")
        for f in failures:
            print("FAIL: " + f)
        if not failures:
            print("PASS: no errors; p99 and private memory flat within "
                  f"{o.tolerance:.0%}")
        return 1 if failures else 0

    def close(self):
        self.server.stop()
        if not self.o.keep_store:
            shutil.rmtree(self.work, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", default=os.path.join(REPO, "target", "release", "activity-hub"))
    p.add_argument("--minutes", type=int, default=42, help="12 of warm-up and 30 judged by default")
    p.add_argument("--rate", type=int, default=200, help="requests per second offered in total")
    p.add_argument("--workers", type=int, default=16)
    p.add_argument("--leads", type=int, default=200)
    p.add_argument("--keep", type=int, default=400,
                   help="activities each worker keeps before each create is matched by a delete")
    p.add_argument("--preload", type=int, default=20000,
                   help="activities loaded (bulk calls) before the run, never deleted")
    p.add_argument("--warmup", type=int, default=12,
                   help="minutes left out of the comparison (the writer's page cache fills in the "
                        "first ~12 at the default load)")
    p.add_argument("--tolerance", type=float, default=0.10)
    p.add_argument("--read-cache-mib", type=int, default=2,
                   help="serve --read-cache-mib: each reading connection's page cache")
    p.add_argument("--keep-store", action="store_true", help="keep the store and server log")
    o = p.parse_args()
    if o.minutes < o.warmup + 3:
        sys.exit("--minutes must leave at least 3 minutes after --warmup")
    soak = Soak(o)
    try:
        code = soak.run()
    finally:
        soak.close()
    sys.exit(code)


if __name__ == "__main__":
    main()
