#!/usr/bin/env python3
"""activity-hub under far more load than it serves: wrk with 512 connections for 60 s on bulk writes
(LeadSquared Bulk ByLeadId, 25 rows) and on counted reads (Salesloft activity_histories with
include_paging_counts=true, filtered by type and person, and by type only, whose count reads every
activity of the type), each against a fresh server on the same SQLite
store. Prints, per scenario: the server's RSS over time, latency percentiles and the status mix of
wrk's answers, what a well-behaved client sending one request every 250 ms saw meanwhile, the
store queues' depth and refusals (/metrics), and the recovery time once the load stops (until the
probe request answers 2xx again and both queues are empty).

Usage (from the repository root; builds the release binary unless --binary is given):
    python3 bench/overload.py                          # 200k activities, 512 connections, 60 s
    python3 bench/overload.py --scale 20000 --duration 10 --binary target/release/activity-hub

The store is built through the API by bench/run.py's harness (same data, same wrk scenarios). Only
the standard library and wrk are used. Nothing here asserts a speed or a bound.
"""

import argparse
import http.client
import importlib.util
import json
import os
import re
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("bench_run", os.path.join(HERE, "run.py"))
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)
log = bench.log

SCENARIO_LUA = os.path.join(HERE, "wrk", "scenario.lua")
OVERLOAD_LUA = os.path.join(HERE, "wrk", "overload.lua")


class Server(bench.Server):
    """bench/run.py's server with extra `serve` arguments, and RSS read on demand."""

    def __init__(self, binary, db_path, workdir, extra):
        super().__init__(binary, f"sqlite://{db_path}", workdir, extra)

    def rss_mib(self):
        """(RSS, private RSS) in MiB now."""
        rss = anon = 0
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss = int(line.split()[1])
                    elif line.startswith("RssAnon:"):
                        anon = int(line.split()[1])
        except OSError:
            pass
        return rss / 1024.0, anon / 1024.0


def metrics(host, port):
    """The store queues' depth and refusals, from /metrics."""
    c = http.client.HTTPConnection(host, port, timeout=10)
    try:
        c.request("GET", "/metrics")
        text = c.getresponse().read().decode()
    finally:
        c.close()
    out = {}
    for line in text.splitlines():
        m = re.match(r'activity_hub_store_queue_(depth|refusals_total)\{queue="(\w+)"\} (\S+)', line)
        if m:
            out[f"{m.group(2)}_{m.group(1)}"] = float(m.group(3))
    return out


class Probe:
    """A well-behaved client: one request of the scenario's kind at a time, on its own connection."""

    def __init__(self, b, scenario):
        self.b, self.scenario = b, scenario
        self.conn = None

    def once(self):
        b = self.b
        if self.conn is None:
            self.conn = http.client.HTTPConnection(b.server.host, b.server.port, timeout=30)
        if self.scenario == "bulk_lead":
            body = json.dumps([{"RelatedProspectId": b.leads[0][0], "ActivityEvent": int(b.config["event"]),
                                "ActivityNote": "probe", "Fields": bench.SEED_003_FIELDS}])
            method = "POST"
            path = "/v2/ProspectActivity.svc/Bulk/CustomActivity/Add/ByLeadId"
            headers = {"Content-Type": "application/json", "x-LSQ-AccessKey": b.keys["access_key"],
                       "x-LSQ-SecretKey": b.keys["secret_key"]}
        elif self.scenario == "sl_type_counted":
            body, method = None, "GET"
            path = f"/v2/activity_histories?type={b.config['sl_type']}&include_paging_counts=true&per_page=25"
            headers = {"Authorization": "Bearer " + b.keys["api_key"]}
        else:
            lead_id = b.lead_int_ids()[0] if not hasattr(self, "lead_id") else self.lead_id
            self.lead_id = lead_id
            body, method = None, "GET"
            path = (f"/v2/activity_histories?type={b.config['sl_type']}&resource_type=person"
                    f"&resource_id={lead_id}&include_paging_counts=true&per_page=25")
            headers = {"Authorization": "Bearer " + b.keys["api_key"]}
        t0 = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=headers)
            resp = self.conn.getresponse()
            resp.read()
            status, retry = resp.status, resp.getheader("Retry-After")
            if resp.getheader("Connection", "").lower() == "close":
                self.conn.close()
                self.conn = None
        except (http.client.HTTPException, OSError) as e:
            self.conn = None
            status, retry = type(e).__name__, None
        return status, (time.perf_counter() - t0) * 1000.0, retry


def pct(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(p / 100.0 * len(s)))]


def run_scenario(b, opts, scenario):
    b.server = Server(opts.binary, b.db_path, b.dir, opts.serve_arg)
    b.server.start()
    host, port = b.server.host, b.server.port
    log(f"{scenario}: server pid {b.server.proc.pid} on {host}:{port}")
    probe = Probe(b, scenario)
    idle = [probe.once() for _ in range(20)]
    idle_ms = pct([ms for s, ms, _ in idle if s == 200], 50)
    rss_series, probes = [], []
    stop = threading.Event()
    t_start = time.time()

    def sample():
        while not stop.is_set():
            rss, anon = b.server.rss_mib()
            rss_series.append((time.time() - t_start, rss, anon))
            stop.wait(1.0)

    def probing():
        p = Probe(b, scenario)
        while not stop.is_set():
            status, ms, retry = p.once()
            probes.append((time.time() - t_start, status, ms, retry))
            stop.wait(0.25)

    threads = [threading.Thread(target=sample), threading.Thread(target=probing)]
    for t in threads:
        t.start()
    b.seed += 1
    env = dict(os.environ, SCENARIO_LUA=SCENARIO_LUA)
    args = ["wrk", "-t", "1", "-c", str(opts.connections), "-d", f"{opts.duration}s", "--timeout", "30s",
            "-s", OVERLOAD_LUA, b.url(), "--", scenario, b.datadir, str(b.seed)]
    wrk = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peak_queues = {}
    while wrk.poll() is None:
        try:
            for k, v in metrics(host, port).items():
                if k.endswith("_depth"):
                    peak_queues[k] = max(peak_queues.get(k, 0), v)
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.5)
    load_end = time.time()
    out, err = wrk.communicate()
    stop.set()
    for t in threads:
        t.join()
    result = None
    for line in out.splitlines():
        if line.startswith("OVERLOAD_RESULT "):
            result = json.loads(line[len("OVERLOAD_RESULT "):])
    if result is None:
        raise bench.HarnessError(f"wrk gave no result for {scenario}: {out[-500:]} {err[-500:]}")

    # Recovery: from the end of the load until the probe answers 2xx and both queues are empty.
    recovery = None
    after = []
    while time.time() - load_end < 60:
        status, ms, _ = probe.once()
        after.append((status, ms))
        m = metrics(host, port)
        if status == 200 and m.get("write_depth", 0) == 0 and m.get("read_depth", 0) == 0:
            recovery = time.time() - load_end
            break
        time.sleep(0.01)
    settled = [probe.once() for _ in range(20)]
    settled_ms = pct([ms for s, ms, _ in settled if s == 200], 50)
    final = metrics(host, port)
    rss_after = b.server.rss_mib()
    b.server.stop()

    secs = result["duration_us"] / 1e6
    statuses = result["statuses"]
    answered = sum(statuses.values())
    print(f"\n== {scenario}: wrk -t1 -c{opts.connections} -d{opts.duration}s, {b.count_activities():,} activities ==")
    print(f"answers {answered:,} in {secs:.1f} s ({answered / secs:,.0f}/s); status mix: " +
          ", ".join(f"{k}: {v:,} ({100.0 * v / answered:.1f}%)" for k, v in sorted(statuses.items())))
    ok = statuses.get("200", 0)
    print(f"2xx per second: {ok / secs:,.0f}; socket errors: connect {result['errors_connect']}, "
          f"read {result['errors_read']}, write {result['errors_write']}, timeout {result['errors_timeout']}")
    print("latency (all answers): p50 {:.1f} ms, p90 {:.1f} ms, p99 {:.1f} ms, p99.9 {:.1f} ms, max {:.1f} ms".format(
        result["p50_us"] / 1e3, result["p90_us"] / 1e3, result["p99_us"] / 1e3, result["p999_us"] / 1e3,
        result["max_us"] / 1e3))
    during = [p for p in probes if p[0] <= load_end - t_start]
    by = {}
    for _, status, ms, retry in during:
        by.setdefault(status, []).append((ms, retry))
    print(f"probe (1 request / 250 ms) idle p50 {idle_ms:.1f} ms; during the load: " + "; ".join(
        f"{s}: {len(v)} answers, p50 {pct([m for m, _ in v], 50):.1f} ms, max {max(m for m, _ in v):.1f} ms"
        + (f", Retry-After {sorted(set(r for _, r in v if r))}" if any(r for _, r in v) else "")
        for s, v in sorted(by.items(), key=lambda kv: str(kv[0]))))
    print("store queues: peak depth " + ", ".join(f"{k} {v:.0f}" for k, v in sorted(peak_queues.items())) +
          "; refusals " + ", ".join(f"{k} {v:,.0f}" for k, v in sorted(final.items()) if k.endswith("refusals_total")))
    marks = [r for r in rss_series if int(r[0]) % 10 == 0] or rss_series
    print("RSS over time (s: total/private MiB): " +
          ", ".join(f"{t:.0f}: {rss:.0f}/{anon:.0f}" for t, rss, anon in marks))
    print(f"RSS peak {max(r[1] for r in rss_series):.0f} MiB (private {max(r[2] for r in rss_series):.0f}); "
          f"after recovery {rss_after[0]:.0f} MiB (private {rss_after[1]:.0f})")
    print(f"recovery: {'%.3f s' % recovery if recovery is not None else 'not within 60 s'} "
          f"({len(after)} probe requests; first after the load: {after[0][0] if after else '-'} in "
          f"{after[0][1] if after else 0:.1f} ms); probe p50 after: {settled_ms:.1f} ms")
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=int, default=200_000, help="activities in the store (default 200000)")
    ap.add_argument("--duration", type=int, default=60, help="seconds of load per scenario (default 60)")
    ap.add_argument("--connections", type=int, default=512)
    ap.add_argument("--scenarios", default="sl_filtered,sl_type_counted,bulk_lead",
                    help="bulk_lead (Bulk ByLeadId, 25 rows), sl_filtered (a person's feed page by type, "
                         "with counts), sl_type_counted (the feed by type only, with counts)")
    ap.add_argument("--binary", help="use this activity-hub binary instead of building one")
    ap.add_argument("--store-dir", help="keep the store in DIR/s<scale>/ and reuse it (>= 1M) in later runs")
    ap.add_argument("--serve-arg", action="append", default=[],
                    help="an extra argument for `serve` (repeat), e.g. --serve-arg=--write-queue=64")
    opts = ap.parse_args()
    bench.ensure_wrk()
    if not opts.binary:
        opts.binary = bench.build("release")
    # bench/run.py's harness builds (or reuses) the store and its data files.
    bopts = argparse.Namespace(store_dir=opts.store_dir, binary=opts.binary, per_lead=50, min_leads=100,
                               load_connections=32, connections=16, peer=False)
    b = bench.Bench(bopts)
    reused = b.open_scale(opts.scale)
    if not reused:
        b.create_tenant()
    b.server = Server(opts.binary, b.db_path, b.dir, opts.serve_arg)
    b.server.start()
    try:
        if not reused:
            b.setup_types()
        b.add_leads(max(bopts.min_leads, opts.scale // bopts.per_lead))
        b.save_state()
        b.load_to(opts.scale)
        b.save_state()
        b.write_data()
    finally:
        b.server.stop()
    print(f"activity-hub overload: {opts.binary}, store {b.db_path} ({b.db_size() / 2**20:,.0f} MiB), "
          f"{os.cpu_count()} CPUs, serve args {opts.serve_arg or 'default'}")
    for scenario in opts.scenarios.split(","):
        run_scenario(b, opts, scenario)
        b.write_data()


if __name__ == "__main__":
    try:
        main()
    except bench.HarnessError as e:
        print(f"overload: {e}", file=sys.stderr)
        sys.exit(1)
