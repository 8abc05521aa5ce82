#!/usr/bin/env python3
"""Several `serve` processes on one PostgreSQL database: req/s with 1, 2 and 4 processes, and the
exactness of counts and timestamps across them (docs/scaling.md, section 1).

One database (created and dropped here, on --pg-url's server) is loaded once through the API with
bench/run.py's harness (a tenant, the LeadSquared Create example's custom type, leads,
opportunities, --activities activities by bulk calls) and ANALYZEd; a second, small tenant (its
type and leads only) is added for the writes spread over two tenants. Then, for each N of
--processes, N `serve --no-rate-limit` processes run on that database, each on its own port, and
one wrk per process runs at once (`wrk -t1 -c(C/N)`, C = --connections in total whatever N), their
req/s summed. First every N on the read scenarios (LeadSquared Retrieve, the counted Salesloft
page), then every N on the write scenarios (single Create, bulk 25 by lead): the writes grow the
store, so the reads of a round all see one size. Each write scenario runs twice: every wrk on
tenant 1, then one wrk per process and tenant, the wrk alternating between the two tenants (two
wrk on one process when N is 1): each tenant's writes are serialised on its clock row, whatever
the number of processes. Each read scenario with N > 1 also runs its control: the same N wrk all on
one process (the others idle), which separates the effect of more server processes from that of
more wrk processes on a busy machine. --rounds repeats all of it, every other round with N in
reverse order, after a VACUUM ANALYZE (the writes leave dead rows; autovacuum may be off).

After the writes of each N, with the processes still up: for each tenant and through every process,
`include_paging_counts` of `GET /v2/activity_histories` (all activities, and type=call, the
counted feed answered from the kept counts table) must equal `SELECT count(*)` on the database,
and the tenant's `updated_at` and `created_at` values must be distinct. Any difference ends the run
with exit status 1. (Rate limits across processes are checked by tests/multiprocess.rs: 40 calls
over two processes, exactly 25 answered 200 and 15 answered 429.)

/healthz of one process (-c C) before and after is the usual ratio denominator. The machine's load
average is printed before and after: on a shared machine compare the rows of one run as ratios.

Usage (from the repository root; docs/benchmarks.md has the figures):
    python3 bench/multiprocess.py --binary target/release/activity-hub
    python3 bench/multiprocess.py --binary /tmp/ah-base --processes 1,2,4 --rounds 2 --json /tmp/mp.json

Only the standard library; wrk as bench/run.py installs it. Nothing here asserts a speed.
"""

import argparse
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as harness  # noqa: E402  (bench/run.py)
from run import Bench, HarnessError, Http, Server, log, run_wrk, summarize  # noqa: E402

READS = [("retrieve", "read", "Retrieve: a page of 25 of one lead"),
         ("sl_counted", "read", "activity_histories by type over the tenant, with counts (counted feed)")]
WRITES = [("create", "write", "Create one activity"),
          ("bulk_lead", "bulk", "Bulk 25 by lead (ByLeadId)")]


def loadavg():
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


class Tenant:
    """A second tenant on the first one's database: its keys, custom type and leads, and the data
    files scenario.lua reads (its own directory)."""

    def __init__(self, first, work, leads):
        b = Bench(first.o, work, "postgres", first.binary, "tenant2")
        b.pg_url = first.pg_url
        b.dir = work
        b.datadir = os.path.join(work, "data")
        os.makedirs(b.datadir, exist_ok=True)
        b.db_path = os.path.join(work, "unused.db")
        b.state_path = os.path.join(work, "state.json")
        b.keys, b.config, b.leads, b.opps, b.loads = {}, {}, [], [], []
        b.create_tenant()
        b.server = first.server
        b.setup_types()
        b.add_leads(leads)
        b.write_data()
        self.bench = b


class Processes:
    """N `serve` processes on one database, each with its own port and log directory."""

    def __init__(self, binary, db_url, work, n):
        self.servers = []
        try:
            for i in range(n):
                d = os.path.join(work, f"p{n}_{i}")
                os.makedirs(d, exist_ok=True)
                s = Server(binary, db_url, d)
                s.start()
                self.servers.append(s)
        except BaseException:
            self.stop()
            raise
        log(f"{n} process(es): " + ", ".join(f"pid {s.proc.pid} port {s.port}" for s in self.servers))

    def urls(self):
        return [f"http://{s.host}:{s.port}" for s in self.servers]

    def stop(self):
        for s in self.servers:
            s.stop()


def drive(urls, scenario, datadirs, o, seed):
    """One wrk per URL and tenant (data directory), all at once, wrk i on URL i and tenant i modulo
    their numbers, the --connections split evenly; warm-up first (discarded)."""
    n = max(len(urls), len(datadirs))
    per = max(1, o.connections // n)

    def all_at_once(duration, seed):
        with concurrent.futures.ThreadPoolExecutor(n) as pool:
            futs = [pool.submit(run_wrk, urls[i % len(urls)], scenario, datadirs[i % len(datadirs)], duration,
                                per, 1, seed * 100 + i) for i in range(n)]
            return [summarize(f.result()) for f in futs]

    if o.warmup:
        all_at_once(o.warmup, seed)
    parts = all_at_once(o.duration, seed + 50)
    requests = sum(p["requests"] for p in parts)
    if requests == 0:
        raise HarnessError(f"{scenario} on {n} process(es) completed no request")
    non2xx = sum(p["non2xx"] * p["requests"] for p in parts) / requests
    return {
        "rps": sum(p["rps"] for p in parts),
        "per_process": [p["rps"] for p in parts],
        "requests": requests,
        "connections_per_wrk": per,
        # The median of the wrk's medians, the worst of their p99s.
        "p50_ms": sorted(p["p50_ms"] for p in parts)[(n - 1) // 2],
        "p99_ms": max(p["p99_ms"] for p in parts),
        "non2xx": non2xx,
        "socket_errors": sum(p["socket_errors"] for p in parts),
    }


def tenant_id(bench):
    return bench.sql(f"SELECT id FROM tenants WHERE guid = '{bench.keys['tenant_id']}'")[0][0]


def wait_quiet(bench, seconds=10):
    """Waits until the activity count stops moving (calls in flight when wrk stopped commit)."""
    last = None
    deadline = time.time() + seconds
    while time.time() < deadline:
        now = bench.count_activities()
        if now == last:
            return now
        last = now
        time.sleep(0.5)
    raise HarnessError("the activity count was still moving 10 s after the writes stopped")


def check_exact(procs, tenants, label):
    """Per tenant and through every process: paging counts == SELECT count(*), timestamps distinct.
    Returns the checked figures; raises HarnessError on any difference."""
    first = tenants[0]
    wait_quiet(first)
    problems, rows = [], []
    for t in tenants:
        before = len(problems)
        tid = tenant_id(t)
        (total, calls, dup_updated, dup_created), = t.sql(
            f"SELECT count(*), count(*) FILTER (WHERE sl_type = 'call'), "
            f"count(*) - count(DISTINCT updated_at), count(*) - count(DISTINCT created_at) "
            f"FROM activities WHERE tenant_id = {tid}")
        answers = []
        for s in procs.servers:
            c = Http(s.host, s.port, {"Authorization": f"Bearer {t.keys['api_key']}"})
            for what, query, want in (("all", "", total), ("type=call", "type=call&", calls)):
                status, body = c.call("GET", f"/v2/activity_histories?{query}include_paging_counts=true&per_page=1")
                if status != 200:
                    raise HarnessError(f"activity_histories answered {status}: {body}")
                got = body["metadata"]["paging"]["total_count"]
                answers.append(got)
                if got != want:
                    problems.append(f"tenant {tid} {what} via port {s.port}: total_count {got}, "
                                    f"SELECT count(*) {want}")
        if dup_updated or dup_created:
            problems.append(f"tenant {tid}: {dup_updated} repeated updated_at, {dup_created} repeated created_at")
        rows.append({"tenant": tid, "activities": total, "calls": calls, "api_totals": answers,
                     "repeated_updated_at": dup_updated, "repeated_created_at": dup_created})
        log(f"{label}: tenant {tid}: {total:,} activities ({calls:,} calls) "
            f"{'= paging counts' if len(problems) == before else 'DIFFER from the paging counts'} through "
            f"{len(procs.servers)} process(es); updated_at/created_at repeats {dup_updated}/{dup_created}")
    if problems:
        raise HarnessError(f"exactness across processes failed after {label}: " + "; ".join(problems))
    return rows


def report(o, info, health, results, checks):
    lines = []
    w = lines.append
    hz = sum(health) / len(health)
    w(f"{info['activities']:,} activities loaded (tenant 1, {info['leads']:,} leads; tenant 2: "
      f"{info['leads2']:,} leads), PostgreSQL, ANALYZEd after the load; one wrk -t1 per process and "
      f"tenant written, {o.connections} connections in total split evenly, {o.duration} s per run (+{o.warmup} s warm-up); "
      f"serve --no-rate-limit. /healthz of one process, -c{o.connections}: "
      + ", ".join(f"{x:,.0f}" for x in health) + " req/s.")
    w(f"Load average before {info['load_before']}, after {info['load_after']}; {os.cpu_count()} CPUs.")
    w("")
    w("| round | processes serving | wrk × connections | scenario | tenants written | req/s (sum) | per wrk "
      "| activities/s | p50 ms | p99 ms (worst) | non-2xx | ratio to /healthz | ÷ 1 process, 1 tenant |")
    w("|---:|---:|---:|---|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    base = {(r["round"], r["scenario"]): r["rps"] for r in results
            if r["processes"] == 1 and r["tenants"] == 1 and len(r["per_process"]) == 1}
    order = [name for name, _, _ in READS + WRITES]
    for r in sorted(results, key=lambda r: (r["round"], order.index(r["scenario"]), r["processes"], r["tenants"],
                                            len(r["per_process"]))):
        per = 25 if r["kind"] == "bulk" else 1
        aps = f"{r['rps'] * per:,.0f}" if r["kind"] != "read" else ""
        b = base.get((r["round"], r["scenario"]))
        rel = f"{r['rps'] / b:.2f}" if b else ""
        tenants = str(r["tenants"]) if r["kind"] != "read" else ""
        w(f"| {r['round']} | {r['processes']} | {len(r['per_process'])} × {r['connections_per_wrk']} | {r['title']} "
          f"| {tenants} | {r['rps']:,.0f} | {' + '.join(f'{x:,.0f}' for x in r['per_process'])} | {aps} "
          f"| {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {100 * r['non2xx']:.2f}% | {r['rps'] * per / hz:.3f} | {rel} |")
    w("")
    w("Exactness after the writes of each N (through every process; totals = SELECT count(*)):")
    w("")
    w("| round | processes | tenant | activities | calls | paging counts answered, all equal | "
      "repeated updated_at | repeated created_at |")
    w("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for rnd, n, rows in checks:
        for c in rows:
            w(f"| {rnd} | {n} | {c['tenant']} | {c['activities']:,} | {c['calls']:,} | {len(c['api_totals'])} "
              f"| {c['repeated_updated_at']} | {c['repeated_created_at']} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", required=True, help="the activity-hub binary (a release build)")
    ap.add_argument("--processes", default="1,2,4", help="numbers of serve processes (default 1,2,4)")
    ap.add_argument("--activities", type=int, default=5000, help="activities loaded for tenant 1 (default 5000)")
    ap.add_argument("--duration", type=int, default=10, help="seconds per run (default 10)")
    ap.add_argument("--warmup", type=int, default=2, help="discarded warm-up seconds per run (default 2)")
    ap.add_argument("--connections", type=int, default=16,
                    help="wrk connections in total, split evenly over the processes (default 16)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="measure every N this many times, alternating the order of N (default 1)")
    ap.add_argument("--no-wrk-control", dest="wrk_control", action="store_false",
                    help="skip the reads' control runs (N wrk on one process, the others idle)")
    ap.add_argument("--no-two-tenants", dest="two_tenants", action="store_false",
                    help="skip the writes spread over two tenants")
    ap.add_argument("--pg-url", default=os.environ.get("ACTIVITY_HUB_BENCH_PG",
                                                       "postgres://postgres@127.0.0.1:5432/postgres"),
                    help="PostgreSQL server (any database on it); the bench database is created and "
                    "dropped there (default $ACTIVITY_HUB_BENCH_PG or postgres://postgres@127.0.0.1:5432/postgres)")
    ap.add_argument("--json", help="also write the raw results to this file")
    ap.add_argument("--keep", action="store_true", help="keep the database, logs and data files")
    o = ap.parse_args()
    counts = [int(x) for x in o.processes.split(",") if x.strip()]
    if not counts or min(counts) < 1:
        print("multiprocess: --processes needs positive numbers", file=sys.stderr)
        return 2
    # What the harness's Bench reads from its options.
    o.per_lead, o.min_leads, o.load_connections, o.threads = 50, 100, 32, 1
    harness.SCENARIOS[:] = [sc for sc in harness.SCENARIOS if sc[0] in {n for n, _, _ in READS + WRITES}]
    work = tempfile.mkdtemp(prefix="activity-hub-mp-")
    bench = None
    procs = None
    started = time.time()
    try:
        harness.ensure_wrk()
        load_before = loadavg()
        log(f"load average {load_before}; working in {work}")
        bench = Bench(o, os.path.join(work, "t1"), "postgres", os.path.abspath(o.binary), "mp")
        bench.open_scale(o.activities)
        bench.create_tenant()
        bench.server = Server(bench.binary, bench.db_url(), bench.dir)
        bench.server.start()
        bench.fill_scale(o.activities, False)  # types, leads, opportunities, the load, ANALYZE, /healthz
        tenants = [bench]
        if o.two_tenants:
            tenants.append(Tenant(bench, os.path.join(work, "t2"), 100).bench)
            bench.analyze()
        health = [h["rps"] for h in bench.health]
        bench.server.stop()
        info = {"activities": bench.stored, "leads": len(bench.leads),
                "leads2": len(tenants[1].leads) if len(tenants) > 1 else 0, "load_before": load_before}
        results, checks = [], []
        seed = 1
        for rnd in range(1, o.rounds + 1):
            # Every other round takes the numbers of processes in reverse order, so that a drift of
            # the machine's load does not always favour the same N.
            order = counts if rnd % 2 else counts[::-1]
            if rnd > 1:
                # The previous round's writes grew the store and left dead rows (every write updates
                # the tenant's clock row and the kept counts); autovacuum may be off.
                t0 = time.time()
                harness.psql(bench.pg_url, "VACUUM ANALYZE")
                log(f"VACUUM ANALYZE in {time.time() - t0:.1f} s")
            for phase in ("read", "write"):
                for n in order:
                    procs = Processes(bench.binary, bench.db_url(), work, n)
                    for name, kind, title in (READS if phase == "read" else WRITES):
                        # (URLs, tenants' data directories): one wrk per URL and tenant.
                        variants = [(procs.urls(), [bench.datadir])]
                        if phase == "write" and len(tenants) > 1:
                            variants.append((procs.urls(), [t.datadir for t in tenants]))
                        if phase == "read" and n > 1 and o.wrk_control:
                            # The control: the same n wrk, all on the first process.
                            variants.append((procs.urls()[:1] * n, [bench.datadir]))
                        for urls, dirs in variants:
                            seed += 1
                            r = drive(urls, name, dirs, o, seed)
                            r.update(round=rnd, processes=len(set(urls)), scenario=name, kind=kind, title=title,
                                     tenants=len(dirs))
                            results.append(r)
                            log(f"round {rnd}, {n} process(es) {name} ({len(dirs)} tenant(s)): {r['rps']:,.0f} "
                                f"req/s ({' + '.join(f'{x:,.0f}' for x in r['per_process'])}), "
                                f"p99 {r['p99_ms']:.1f} ms, non-2xx {100 * r['non2xx']:.2f}%")
                    if phase == "write":
                        checks.append((rnd, n, check_exact(procs, tenants, f"round {rnd}, {n} process(es)")))
                    procs.stop()
                    procs = None
        # /healthz of one process again, at the end.
        bench.server = Server(bench.binary, bench.db_url(), bench.dir)
        bench.server.start()
        health.append(bench.measure("healthz", "end")["rps"])
        bench.server.stop()
        info["load_after"] = loadavg()
        print(report(o, info, health, results, checks))
        if o.json:
            with open(o.json, "w") as f:
                json.dump({"info": info, "healthz": health, "results": results, "checks": checks}, f, indent=1)
        log(f"done in {time.time() - started:.0f} s; load average {info['load_after']}")
    except (HarnessError, subprocess.CalledProcessError) as e:
        print(f"multiprocess: {e}", file=sys.stderr)
        return 1
    finally:
        if procs:
            procs.stop()
        if bench is not None:
            if bench.server:
                bench.server.stop()
            if not o.keep:
                bench.drop_database()
        if not o.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
