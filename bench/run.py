#!/usr/bin/env python3
"""activity-hub benchmark harness: starts the server on a temporary store (SQLite, or a PostgreSQL
database of its own), loads data through the public API, drives each scenario with wrk and prints
req/s, p50/p99 and the share of non-2xx answers, each as a ratio to the bare-HTTP limit (GET /healthz
of the same binary, same wrk settings).

Usage (from the repository root):
    python3 bench/run.py                                  # scales 5k and 1M, peer, 10 s per scenario
    python3 bench/run.py --scales 5000,1000000,10000000 --store-dir /tmp/ahb   # docs/benchmarks.md;
                                                          # stores of >= 1M are kept in /tmp/ahb and reused
    python3 bench/run.py --smoke                          # ~10 s, debug build; CI checks the harness works
    python3 bench/run.py --backend postgres --scales 5000 # PostgreSQL (a database created and dropped
                                                          # on --pg-url's server, ANALYZEd after the load)
    python3 bench/run.py --backends sqlite,postgres --scales 5000 --no-peer
                                                          # both, scenarios alternating between them
                                                          # (one window), with PG/SQLite ratios
    python3 bench/run.py --backends postgres=/tmp/base/activity-hub,postgres --scales 5000 --no-peer
                                                          # two binaries on PostgreSQL, alternating

Only the standard library is used; wrk comes from Debian's packages and json-server (the peer) from
the npm registry, both installed at run time when missing. Nothing here asserts a speed: a slow
machine gives small numbers, never a failure. The harness fails only when it cannot do its job
(server does not start, a setup call is refused, a scenario completes no request; with --smoke also
when a scenario's endpoint is missing or answers non-2xx). Each scale gets its own store and server.
bench/fsync_check.py checks, under strace, that acknowledged writes were fsynced.
"""

import argparse
import concurrent.futures
import http.client
import http.server
import json
import os
import re
import urllib.parse
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LUA = os.path.join(REPO, "bench", "wrk", "scenario.lua")
JSON_SERVER_VERSION = "0.17.4"

# The custom type of LeadSquared's documented Create example: fifteen fields typed to accept the
# example's values.
FIELD_TYPES = {
    1: "Phone", 2: "Number", 3: "Number", 4: "Number", 5: "DateTime", 6: "String", 7: "String",
    8: "Boolean", 9: "String", 10: "String", 11: "String", 12: "String", 13: "String",
    14: "String", 15: "String",
}
SEED_003_FIELDS = [
    {"SchemaName": "mx_Custom_1", "Value": "123123123"}, {"SchemaName": "mx_Custom_2", "Value": "123"},
    {"SchemaName": "mx_Custom_3", "Value": "3"}, {"SchemaName": "mx_Custom_4", "Value": "4"},
    {"SchemaName": "mx_Custom_5", "Value": "2016-07-07 10:55:00"},
    {"SchemaName": "mx_Custom_6", "Value": "Value for Custom field"},
    {"SchemaName": "mx_Custom_7", "Value": "Value for Custom field"},
    {"SchemaName": "mx_Custom_8", "Value": "1"},
    {"SchemaName": "mx_Custom_9", "Value": "Value for Custom field"},
    {"SchemaName": "mx_Custom_10", "Value": ""}, {"SchemaName": "mx_Custom_11", "Value": ""},
    {"SchemaName": "mx_Custom_12", "Value": ""},
    {"SchemaName": "mx_Custom_13", "Value": "Value for Custom field"},
    {"SchemaName": "mx_Custom_14", "Value": "Value for Custom field"},
    {"SchemaName": "mx_Custom_15", "Value": "asd"},
]

# name, kind, what it shows, target ratio to /healthz (None: no target). Bulk targets count activities.
SCENARIOS = [
    ("retrieve", "read", "Retrieve: a page of 25 of one lead", 0.20),
    ("opp_activities", "read", "GetActivitiesOfOpportunity sorted by LeadOwner", None),
    ("sl_filtered", "read", "activity_histories by type+resource, with counts", 0.15),
    ("sl_counted", "read", "activity_histories by type over the tenant, with counts (counted feed)", None),
    ("sl_calls_counted", "read", "activities/calls over the tenant, with counts (the counted calls list)", None),
    ("sl_cursor", "read", "activity_histories cursor walk, updated_at[gt] ASC", None),
    ("create", "write", "Create one activity", 0.30),
    ("create_keyed", "write", "Create one activity with an Idempotency-Key (a new key each)", None),
    ("bulk_lead", "bulk", "Bulk 25 by lead (ByLeadId)", 2.0),
    ("bulk_opp", "bulk", "Bulk 25 by opportunity", 2.0),
]
REUSE_FROM = 1_000_000  # --store-dir keeps SQLite stores of this many activities or more across runs
NEEDS_OPPORTUNITIES = {"opp_activities", "bulk_opp"}
NEEDS_SALESLOFT = {"sl_filtered", "sl_counted", "sl_calls_counted", "sl_cursor"}


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class HarnessError(Exception):
    pass


def ensure_wrk():
    if shutil.which("wrk"):
        return
    log("wrk not found: installing it from Debian's packages")
    apt = ["apt-get"] if os.geteuid() == 0 else ["sudo", "-n", "apt-get"]
    subprocess.run(apt + ["update", "-qq"], check=False)
    subprocess.run(apt + ["install", "-y", "-qq", "wrk"], check=False)
    if not shutil.which("wrk"):
        raise HarnessError("wrk is missing and could not be installed (apt-get install wrk)")


def build(profile):
    args = ["cargo", "build", "--bin", "activity-hub"] + (["--release"] if profile == "release" else [])
    log("building: " + " ".join(args))
    subprocess.run(args, cwd=REPO, check=True)
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(REPO, "target")
    if not os.path.isabs(target):
        target = os.path.join(REPO, target)
    return os.path.join(target, profile, "activity-hub")


class Http:
    """A keep-alive JSON client for setup calls (one per thread)."""

    def __init__(self, host, port, headers):
        self.host, self.port, self.headers = host, port, headers
        self.conn = None

    def call(self, method, path, body=None, headers=None):
        for attempt in range(3):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                h = dict(self.headers)
                h.update(headers or {})
                data = None
                if body is not None:
                    data = json.dumps(body).encode()
                    h["Content-Type"] = "application/json"
                self.conn.request(method, path, body=data, headers=h)
                resp = self.conn.getresponse()
                raw = resp.read()
                try:
                    parsed = json.loads(raw) if raw else None
                except ValueError:
                    parsed = raw.decode(errors="replace")
                return resp.status, parsed
            except (http.client.HTTPException, OSError):
                self.conn = None
                if attempt == 2:
                    raise
        raise HarnessError("unreachable")


class Server:
    def __init__(self, binary, db_url, workdir, extra=()):
        """`extra`: more `serve` arguments."""
        self.binary, self.db_url, self.workdir, self.extra = binary, db_url, workdir, list(extra)
        self.proc = None
        self.host = self.port = None
        self.peak_rss_kib = 0
        # Private memory (heap, SQLite page caches): RSS also counts the pages of the database file
        # each connection maps (mmap reads), once per connection, although they are shared page
        # cache.
        self.peak_anon_kib = 0

    def start(self):
        err = open(os.path.join(self.workdir, "server.log"), "ab")
        env = dict(os.environ, RUST_LOG=os.environ.get("RUST_LOG", "warn"))
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--db", self.db_url, "--bind", "127.0.0.1:0", "--no-rate-limit",
             *self.extra], stdout=subprocess.PIPE, stderr=err, env=env)
        deadline = time.time() + 60
        while time.time() < deadline:
            line = self.proc.stdout.readline().decode(errors="replace")
            if not line:
                break
            m = re.search(r"listening on http://([^:\s]+):(\d+)", line)
            if m:
                self.host, self.port = m.group(1), int(m.group(2))
                return
        raise HarnessError(f"the server did not start; see {self.workdir}/server.log")

    def sample_rss(self):
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        self.peak_rss_kib = max(self.peak_rss_kib, int(line.split()[1]))
                    elif line.startswith("RssAnon:"):
                        self.peak_anon_kib = max(self.peak_anon_kib, int(line.split()[1]))
        except OSError:
            pass

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.sample_rss()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def run_wrk(url, scenario, datadir, duration, connections, threads, seed):
    args = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--timeout", "10s",
            "-s", LUA, url, "--", scenario, datadir, str(seed)]
    out = subprocess.run(args, capture_output=True, text=True)
    for line in out.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            return json.loads(line[len("BENCH_RESULT "):])
    raise HarnessError(f"wrk gave no result for {scenario}: {out.stdout[-500:]} {out.stderr[-500:]}")


def run_load(url, scenario, datadir, connections, seed, target):
    """A load run: wrk sends `target` requests, the script writes load_done, and we end wrk."""
    marker = os.path.join(datadir, "load_done")
    if os.path.exists(marker):
        os.remove(marker)
    args = ["wrk", "-t", "1", "-c", str(connections), "-d", "36000s", "--timeout", "60s", "-s", LUA, url,
            "--", scenario, datadir, str(seed), str(target)]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    try:
        while not os.path.exists(marker):
            if proc.poll() is not None:
                raise HarnessError(f"wrk ended before loading finished (exit {proc.returncode})")
            time.sleep(0.1)
        time.sleep(0.05)
        with open(marker) as f:
            answered, failed = (int(x) for x in f.read().split())
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait()
    if failed:
        raise HarnessError(f"{failed} of {answered} {scenario} calls failed; see stderr above")
    return answered


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid):
    """User + system CPU ticks a process (all its threads) has used, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return None


def postgres_pids():
    """Every PostgreSQL server process on the machine (backends and background processes)."""
    pids = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/comm") as f:
                    if f.read().strip() == "postgres":
                        pids.append(int(p))
            except OSError:
                pass
    return pids


def cpu_snapshot(server_pid, with_postgres):
    """CPU ticks of the server and (with_postgres) of each PostgreSQL process, by pid."""
    snap = {"server": cpu_ticks(server_pid) or 0, "postgres": {}}
    if with_postgres:
        snap["postgres"] = {pid: t for pid in postgres_pids() if (t := cpu_ticks(pid)) is not None}
    return snap


def cpu_per_request(before, after, requests):
    """Server and PostgreSQL CPU µs per request between two snapshots. A PostgreSQL process born
    in between counts whole; one gone in between is lost (the pool keeps its connections)."""
    if not requests:
        return {}
    us = 1e6 / CLK_TCK / requests
    pg = sum(t - before["postgres"].get(pid, 0) for pid, t in after["postgres"].items())
    return {"server_cpu_us": (after["server"] - before["server"]) * us, "postgres_cpu_us": pg * us}


def summarize(r):
    secs = r["duration_us"] / 1e6
    errors = r["errors_connect"] + r["errors_read"] + r["errors_write"] + r["errors_timeout"]
    return {
        "rps": r["requests"] / secs if secs else 0.0,
        "requests": r["requests"],
        "p50_ms": r["p50_us"] / 1000.0,
        "p99_ms": r["p99_us"] / 1000.0,
        "non2xx": (r["errors_status"] / r["requests"]) if r["requests"] else 0.0,
        "socket_errors": errors,
    }


def psql(url, sql):
    """Runs one statement with psql on `url`; returns the rows as lists of text fields."""
    out = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-d", url,
                          "-c", sql], capture_output=True, text=True)
    if out.returncode != 0:
        raise HarnessError(f"psql {sql!r} failed: {out.stderr.strip()}")
    return [line.split("\t") for line in out.stdout.splitlines() if line]


def pg_database_url(admin_url, name):
    """`admin_url` (any database on the server) with its database replaced by `name`."""
    u = urllib.parse.urlsplit(admin_url)
    return urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + name, u.query, u.fragment))


class Bench:
    """One backend (and binary) under measurement: its stores, server and results."""

    def __init__(self, opts, work, backend, binary, label):
        self.o = opts
        self.work = work
        self.backend, self.binary, self.label = backend, binary, label
        os.makedirs(self.work, exist_ok=True)
        self.server = None
        self.pg_url = None
        self.results = []  # dicts, one per (scale, scenario)
        self.scale_info = []
        self.available = {}
        self.seed = 1

    def open_scale(self, target):
        """Each scale has its own store (work/s<target>/), reused when --store-dir kept it from an
        earlier run: the tenant's keys, leads and opportunities are read back from state.json."""
        self.dir = os.path.join(self.work, f"s{target}")
        self.datadir = os.path.join(self.dir, "data")
        os.makedirs(self.datadir, exist_ok=True)
        self.db_path = os.path.join(self.dir, "bench.db")
        self.state_path = os.path.join(self.dir, "state.json")
        self.keys, self.config, self.leads, self.opps, self.loads = {}, {}, [], [], []
        if self.backend == "postgres":
            # A database of its own per run and scale (the pid keeps parallel runs apart), dropped
            # when the scale is done.
            name = f"ahbench_{os.getpid()}_{re.sub(r'[^a-z0-9]', '_', self.label.lower())}_{target}"
            self.pg_url = pg_database_url(self.o.pg_url, name)
            psql(self.o.pg_url, f"DROP DATABASE IF EXISTS {name}")
            psql(self.o.pg_url, f"CREATE DATABASE {name}")
            return False
        # Small stores are rebuilt every run (cheap, and the write scenarios grew them); big ones are
        # reused, so that a 10M store is loaded once.
        if target >= REUSE_FROM and os.path.exists(self.state_path) and os.path.exists(self.db_path):
            with open(self.state_path) as f:
                st = json.load(f)
            self.keys, self.config, self.opps, self.loads = st["keys"], st["config"], st["opps"], st["loads"]
            self.leads = [tuple(x) for x in st["leads"]]
            log(f"reusing the store in {self.dir}")
            return True
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(self.db_path + suffix):
                os.remove(self.db_path + suffix)
        return False

    def db_url(self):
        return self.pg_url if self.backend == "postgres" else f"sqlite://{self.db_path}"

    def drop_database(self):
        if self.backend == "postgres" and self.pg_url:
            name = urllib.parse.urlsplit(self.pg_url).path.lstrip("/")
            psql(self.o.pg_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            self.pg_url = None

    def save_state(self):
        tmp = self.state_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"keys": self.keys, "config": self.config, "opps": self.opps, "loads": self.loads,
                       "leads": self.leads}, f)
        os.replace(tmp, self.state_path)

    # ---- setup -----------------------------------------------------------------------------------
    def create_tenant(self):
        out = subprocess.run(
            [self.binary, "tenant", "create", "--name", "Bench", "--admin-email", "owner@bench.example",
             "--db", self.db_url(), "--json"], capture_output=True, text=True)
        if out.returncode != 0:
            raise HarnessError(f"tenant create failed: {out.stderr.strip()}")
        self.keys = json.loads(out.stdout.strip().splitlines()[-1])

    def subscribe_webhook(self, salesloft=False):
        """Subscribes the tenant to every event, delivered to a receiver on 127.0.0.1 answering 204;
        with `salesloft`, instead (the native subscription deleted) a Salesloft subscription to
        `call_created`, the event of every activity the write scenarios make (the bench type's
        SalesloftType is call), so each write renders the Call into its outbox row."""
        class Sink(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        sink = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sink)
        threading.Thread(target=sink.serve_forever, daemon=True).start()
        c = Http(self.server.host, self.server.port, {"Authorization": f"Bearer {self.keys['api_key']}"})
        if salesloft:
            if getattr(self, "native_hook", None):
                status, body = c.call("DELETE", f"/api/v1/webhooks/{self.native_hook}")
                if status != 204:
                    raise HarnessError(f"DELETE /api/v1/webhooks answered {status}: {body}")
                self.native_hook = None
            status, body = c.call("POST", "/v2/webhook_subscriptions", {
                "callback_url": f"http://127.0.0.1:{sink.server_address[1]}/hook",
                "callback_token": "bench", "event_type": "call_created"})
            if status != 200:
                raise HarnessError(f"POST /v2/webhook_subscriptions answered {status}: {body}")
            log(f"Salesloft webhook subscription {body['data']['id']} -> 127.0.0.1:{sink.server_address[1]}")
            return
        status, body = c.call("POST", "/api/v1/webhooks", {
            "url": f"http://127.0.0.1:{sink.server_address[1]}/hook",
            "events": ["activity.created", "activity.updated", "activity.deleted", "lead.created", "lead.updated"]})
        if status != 201:
            raise HarnessError(f"POST /api/v1/webhooks answered {status}: {body}")
        self.native_hook = body["data"]["id"]
        log(f"webhook subscription {body['data']['id']} -> 127.0.0.1:{sink.server_address[1]}")

    def client(self):
        return Http(self.server.host, self.server.port, {
            "x-LSQ-AccessKey": self.keys["access_key"], "x-LSQ-SecretKey": self.keys["secret_key"]})

    def setup_types(self):
        c = self.client()
        fields = [{"SchemaName": f"mx_Custom_{i}", "DisplayName": f"Custom {i}", "DataType": t}
                  for i, t in FIELD_TYPES.items()]
        status, body = c.call("POST", "/v2/ProspectActivity.svc/CreateType", {
            "ActivityEventName": "Bench Custom Activity", "Score": 2, "Direction": 1,
            "SalesloftType": "call", "Fields": fields})
        if status != 200:
            raise HarnessError(f"CreateType answered {status}: {body}")
        self.config["event"] = str(body["Message"]["Id"])
        self.config["system_event"] = "105"
        self.config["sl_type"] = "call"
        self.config["owner_email"] = "owner@bench.example"

    def add_leads(self, n):
        start = len(self.leads)
        if n <= start:
            return
        log(f"creating leads {start}..{n}")
        local = threading.local()

        def one(i):
            if not hasattr(local, "c"):
                local.c = self.client()
            email = f"lead{i}@bench.example"
            status, body = local.c.call("POST", "/v2/LeadManagement.svc/Lead.Create", [
                {"Attribute": "FirstName", "Value": f"Lead{i}"},
                {"Attribute": "LastName", "Value": "Bench"},
                {"Attribute": "EmailAddress", "Value": email}])
            if status != 200:
                raise HarnessError(f"Lead.Create answered {status}: {body}")
            return body["Message"]["Id"], email

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            self.leads.extend(pool.map(one, range(start, n), chunksize=64))

    def add_opportunities(self, n):
        """Opportunities through Capture (by the lead's email); unavailable while Capture is 404."""
        if self.available.get("opportunities") is False:
            return
        start = len(self.opps)
        if n <= start:
            return
        log(f"creating opportunities {start}..{n}")
        c = self.client()
        step = max(1, len(self.leads) // max(n, 1))
        for i in range(start, n):
            _, email = self.leads[(i * step) % len(self.leads)]
            status, body = c.call("POST", "/v2/OpportunityManagement.svc/Capture", {
                "LeadDetails": [{"Attribute": "EmailAddress", "Value": email},
                                {"Attribute": "SearchBy", "Value": "EmailAddress"}],
                "Opportunity": {"OpportunityEventCode": 12000, "OpportunityNote": f"Deal {i}",
                                "Fields": [{"SchemaName": "Status", "Value": "Open"}]}})
            if status == 404:
                log("Capture answered 404: opportunity scenarios are not available")
                self.available["opportunities"] = False
                return
            if status != 200:
                raise HarnessError(f"Capture answered {status}: {body}")
            self.opps.append(body["Message"]["Id"])
        self.available["opportunities"] = True

    def write_data(self):
        cfg = dict(self.config, access_key=self.keys["access_key"], secret_key=self.keys["secret_key"],
                   api_key=self.keys["api_key"])
        cfg.update(self.cursor_range())
        with open(os.path.join(self.datadir, "config"), "w") as f:
            f.writelines(f"{k}={v}\n" for k, v in cfg.items())
        with open(os.path.join(self.datadir, "leads"), "w") as f:
            f.writelines(g + "\n" for g, _ in self.leads)
        with open(os.path.join(self.datadir, "opportunities"), "w") as f:
            f.writelines(g + "\n" for g in self.opps)
        with open(os.path.join(self.datadir, "lead_ids"), "w") as f:
            f.writelines(f"{i}\n" for i in self.lead_int_ids())

    # The harness reads its own temporary store directly only for what no endpoint lists: counts,
    # the updated_at range (cursor starting points) and the leads' integer ids (Salesloft person ids).
    def sql(self, statement):
        """Rows of one read statement on the store (integers, None for NULL)."""
        if self.backend == "postgres":
            return [[int(v) if v else None for v in row] for row in psql(self.pg_url, statement)]
        with sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=30) as c:
            return [list(r) for r in c.execute(statement)]

    def count_activities(self):
        return self.sql("SELECT count(*) FROM activities")[0][0]

    def cursor_range(self):
        lo, hi = self.sql("SELECT min(updated_at), max(updated_at) FROM activities")[0]
        now = int(time.time() * 1e6)
        return {"ts_min": lo or now, "ts_max": hi or now}

    def lead_int_ids(self):
        return [r[0] for r in self.sql("SELECT id FROM leads ORDER BY id")]

    def db_size(self):
        if self.backend == "postgres":
            return self.sql("SELECT pg_database_size(current_database())")[0][0]
        return sum(os.path.getsize(self.db_path + s) for s in ("", "-wal", "-shm")
                   if os.path.exists(self.db_path + s))

    def analyze(self):
        """PostgreSQL: fresh planner statistics after the load (autovacuum may be off, and the paged
        reads' plans depend on them), as `activity-hub import` does after its load."""
        if self.backend == "postgres":
            t0 = time.time()
            psql(self.pg_url, "ANALYZE")
            log(f"{self.label}: ANALYZE in {time.time() - t0:.1f} s")

    def warm_cache(self):
        """Reads the store's files once so that a kept store measured right after a restart is
        measured warm (steady state), not while its pages come back from disk. Skipped when the
        files would not fit in half the free memory, and on PostgreSQL (its buffers are the server's;
        a fresh database was just written, so its pages are cached)."""
        if self.backend == "postgres":
            return
        size = self.db_size()
        try:
            with open("/proc/meminfo") as f:
                avail = next(int(l.split()[1]) * 1024 for l in f if l.startswith("MemAvailable:"))
        except (OSError, StopIteration):
            avail = 0
        if size > avail // 2:
            log(f"not warming the page cache: {size / 2**20:,.0f} MiB store, {avail / 2**20:,.0f} MiB available")
            return
        t0 = time.time()
        for suffix in ("", "-wal"):
            if os.path.exists(self.db_path + suffix):
                with open(self.db_path + suffix, "rb", buffering=0) as f:
                    while f.read(1 << 22):
                        pass
        log(f"page cache warmed with the {size / 2**20:,.0f} MiB store in {time.time() - t0:.0f} s")

    def url(self):
        return f"http://{self.server.host}:{self.server.port}"

    def load_to(self, target_activities):
        """Tops the store up to `target_activities` with bulk-by-lead calls (25 rows each)."""
        have = self.count_activities()
        missing = target_activities - have
        if missing <= 0:
            return None
        self.write_data()
        requests = (missing + 24) // 25
        log(f"loading {requests * 25} activities ({have} stored) through Bulk ByLeadId")
        t0 = time.time()
        self.seed += 1
        run_load(self.url(), "load_bulk", self.datadir, self.o.load_connections, self.seed, requests)
        secs = time.time() - t0
        after = self.count_activities()
        self.server.sample_rss()
        load = {"loaded": after - have, "seconds": secs, "rate": (after - have) / secs,
                "connections": self.o.load_connections, "peak_rss_mib": self.server.peak_rss_kib / 1024.0,
                "peak_anon_mib": self.server.peak_anon_kib / 1024.0}
        log(f"loaded {after - have:,} activities in {secs:.0f} s ({load['rate']:,.0f}/s), "
            f"peak RSS {load['peak_rss_mib']:,.0f} MiB (private {load['peak_anon_mib']:,.0f} MiB)")
        return load

    def load_opportunity_activities(self, per_opp_calls):
        if not self.opps:
            return
        self.write_data()
        self.seed += 1
        run_load(self.url(), "load_opp", self.datadir, min(self.o.connections, len(self.opps)), self.seed,
                 len(self.opps) * per_opp_calls)

    # ---- scenarios -------------------------------------------------------------------------------
    def probe(self, name):
        """One request like the scenario's: 404 means the endpoint has not landed yet."""
        if name in NEEDS_OPPORTUNITIES and not self.opps:
            return False
        c = self.client()
        lead = self.leads[0][0]
        bearer = {"Authorization": "Bearer " + self.keys["api_key"]}
        if name in NEEDS_SALESLOFT:
            status, _ = c.call("GET", "/v2/activity_histories?per_page=1", headers=bearer)
        elif name == "opp_activities":
            status, _ = c.call("POST", "/v2/OpportunityManagement.svc/GetActivitiesOfOpportunity"
                               f"?opportunityId={self.opps[0]}", {})
        elif name == "bulk_opp":
            status, _ = c.call("POST", "/v2/ProspectActivity.svc/Bulk/CustomActivity/Add/ByOpportunityId"
                               f"?opportunityId={self.opps[0]}", [{
                                   "ActivityEvent": int(self.config["event"]), "ActivityNote": "probe",
                                   "ActivityOwnerEmail": self.config["owner_email"],
                                   "Fields": SEED_003_FIELDS}])
        elif name == "retrieve":
            status, _ = c.call("POST", f"/v2/ProspectActivity.svc/Retrieve?leadId={lead}", {})
        else:
            status = 200
        if status == 404:
            return False
        if status != 200:
            raise HarnessError(f"probe of {name} answered {status}")
        return True

    def measure(self, name, scale_label):
        self.seed += 1
        if self.o.warmup:
            run_wrk(self.url(), name, self.datadir, self.o.warmup, self.o.connections, self.o.threads, self.seed)
        pg = self.backend == "postgres"
        before = cpu_snapshot(self.server.proc.pid, pg)
        r = summarize(run_wrk(self.url(), name, self.datadir, self.o.duration, self.o.connections,
                              self.o.threads, self.seed))
        r.update(cpu_per_request(before, cpu_snapshot(self.server.proc.pid, pg), r["requests"]))
        self.server.sample_rss()
        log(f"{scale_label} {name}: {r['rps']:.0f} req/s p50 {r['p50_ms']:.2f} ms p99 {r['p99_ms']:.2f} ms "
            f"non-2xx {100 * r['non2xx']:.2f}%")
        if r["requests"] == 0:
            raise HarnessError(f"scenario {name} completed no request")
        return r

    def begin_scale(self, target):
        """Starts the server on this scale's store, fills it and measures /healthz; the scenarios
        follow as `step`s (alternating with other backends' when there are several)."""
        reused = self.open_scale(target)
        if not reused:
            self.create_tenant()
        self.server = Server(self.binary, self.db_url(), self.dir)
        self.server.start()
        log(f"{self.label}: server {self.url()} pid {self.server.proc.pid}, store {self.db_url()}")
        try:
            self.fill_scale(target, reused)
        except BaseException:
            self.stop_scale()
            raise

    def fill_scale(self, target, reused):
        if not reused:
            self.setup_types()
        leads = max(self.o.min_leads, target // self.o.per_lead)
        self.add_leads(leads)
        self.add_opportunities(max(4, leads // 20))
        self.save_state()
        t0 = time.time()
        if self.opps and not any(x.get("opportunities") for x in self.loads):
            self.load_opportunity_activities(2)
            self.loads.append({"opportunities": True})
        self.load = self.load_to(target)
        if self.load:
            self.loads.append(self.load)
        self.analyze()
        self.save_state()
        self.write_data()
        self.warm_cache()
        self.stored = self.count_activities()
        self.scale_label = f"{self.label} {self.stored:,}"
        log(f"scale {self.scale_label} activities, {len(self.leads)} leads, {len(self.opps)} opportunities "
            f"(setup {time.time() - t0:.0f} s)")
        self.health = [self.measure("healthz", self.scale_label)]
        self.rows = []
        for name, kind, title, goal in SCENARIOS:
            if name not in self.available:
                self.available[name] = self.probe(name)
            if not self.available[name]:
                self.rows.append({"scenario": name, "kind": kind, "title": title, "target": goal,
                                  "available": False})
                log(f"{self.scale_label} {name}: not available (endpoint answers 404)")

    def step(self, step):
        """One step of a scale: ("run", scenario, hook), ("subscribe", hook) or ("healthz",); hook is
        None, "webhook" (one native subscription to every event) or "slwebhook" (one Salesloft
        call_created subscription instead)."""
        if step[0] == "healthz":
            self.health.append(self.measure("healthz", self.scale_label))
        elif step[0] == "subscribe":
            self.subscribe_webhook(salesloft=step[1] == "slwebhook")
        else:
            _, (name, kind, title, goal), hook = step
            if not self.available.get(name):
                return
            row = dict(self.measure(name, self.scale_label), scenario=name, kind=kind, title=title,
                       target=goal, available=True)
            if hook == "webhook":
                row.update(scenario=f"{name}+webhook", title=f"{title}, 1 webhook")
            elif hook == "slwebhook":
                row.update(scenario=f"{name}+slwebhook", title=f"{title}, 1 Salesloft webhook")
            self.rows.append(row)

    def end_scale(self):
        healthz = sum(h["rps"] for h in self.health) / len(self.health)
        for row in self.rows:
            row["scale"] = self.stored
            row["healthz_rps"] = healthz
            row["backend"] = self.label
            if row.get("available"):
                per = 25 if row["kind"] == "bulk" else 1
                row["activities_per_s"] = row["rps"] * per if row["kind"] != "read" else None
                row["ratio"] = row["rps"] * per / healthz
        self.results.extend(self.rows)
        self.server.sample_rss()
        bulk_loads = [x for x in self.loads if "rate" in x]
        self.scale_info.append({
            "activities": self.stored, "leads": len(self.leads), "opportunities": len(self.opps),
            "healthz_rps": [h["rps"] for h in self.health], "load": bulk_loads[-1] if bulk_loads else None,
            "load_this_run": self.load is not None, "db_bytes": self.db_size()})
        self.stop_scale()
        self.scale_info[-1]["peak_rss_mib"] = self.server.peak_rss_kib / 1024.0
        self.scale_info[-1]["peak_anon_mib"] = self.server.peak_anon_kib / 1024.0

    def stop_scale(self):
        try:
            self.server.stop()
        finally:
            if not self.o.keep:
                self.drop_database()

    # ---- the peer --------------------------------------------------------------------------------
    def run_peer(self, n_activities):
        """json-server serving the same activities as a plain collection (no validation, no fsync)."""
        if not shutil.which("npm") or not shutil.which("node"):
            log("npm/node missing: the json-server peer is skipped")
            return None
        peer = os.path.join(self.work, "peer")
        os.makedirs(peer, exist_ok=True)
        log(f"installing json-server@{JSON_SERVER_VERSION} into {peer}")
        subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", peer,
                        f"json-server@{JSON_SERVER_VERSION}"], check=True, stdout=subprocess.DEVNULL)
        per_lead = max(1, n_activities // max(1, len(self.leads)))
        docs = []
        for i, (lead, _) in enumerate(self.leads):
            for j in range(per_lead):
                docs.append({"id": len(docs) + 1, "leadId": lead, "ActivityEvent": int(self.config["event"]),
                             "ActivityNote": "Your Activity Note", "ActivityDateTime": "2025-01-01 10:00:00",
                             "Fields": SEED_003_FIELDS})
        dbfile = os.path.join(peer, "db.json")
        with open(dbfile, "w") as f:
            json.dump({"activities": docs}, f)
        port = free_port()
        cli = os.path.join(peer, "node_modules", "json-server", "lib", "cli", "bin.js")
        proc = subprocess.Popen(["node", cli, "--port", str(port), "--host", "127.0.0.1", "--quiet", dbfile],
                                stdout=subprocess.DEVNULL, stderr=open(os.path.join(peer, "log"), "ab"))
        try:
            deadline = time.time() + 30
            while time.time() < deadline:
                try:
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                    c.request("GET", "/activities?_limit=1")
                    if c.getresponse().status == 200:
                        break
                except OSError:
                    time.sleep(0.2)
            else:
                raise HarnessError("json-server did not start")
            url = f"http://127.0.0.1:{port}"
            out = {"activities": len(docs)}
            for name in ("peer_read", "peer_create"):
                self.seed += 1
                if self.o.warmup:
                    run_wrk(url, name, self.datadir, self.o.warmup, self.o.connections, self.o.threads, self.seed)
                r = summarize(run_wrk(url, name, self.datadir, self.o.duration, self.o.connections,
                                      self.o.threads, self.seed))
                log(f"peer {name}: {r['rps']:.0f} req/s p50 {r['p50_ms']:.2f} ms p99 {r['p99_ms']:.2f} ms "
                    f"non-2xx {100 * r['non2xx']:.2f}%")
                out[name] = r
            return out
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def scale_steps(opts):
    """The steps of one scale: reads, then writes (they grow the store, and reads are measured at the
    nominal size), then with --webhook the same writes with one webhook subscription to every event
    (the outbox rows each write adds, and the dispatcher delivering them meanwhile), then with
    --sl-webhook the same writes with one Salesloft subscription instead, then /healthz."""
    steps = [("run", sc, None) for sc in SCENARIOS if sc[1] == "read"]
    steps += [("run", sc, None) for sc in SCENARIOS if sc[1] != "read"]
    for hook in [h for h, on in (("webhook", opts.webhook), ("slwebhook", opts.sl_webhook)) if on]:
        steps.append(("subscribe", hook))
        steps += [("run", sc, hook) for sc in SCENARIOS if sc[1] != "read"]
    steps.append(("healthz",))
    return steps


def run_benches(benches, opts):
    """Every scale on every backend; within a scale the backends' servers run side by side and each
    step runs on each backend in turn, so that the machine's drift hits them alike."""
    peer = None
    for i, scale in enumerate(opts.scales):
        started = []
        try:
            for b in benches:
                b.begin_scale(scale)
                started.append(b)
            for step in scale_steps(opts):
                for b in benches:
                    b.step(step)
            for b in benches:
                b.end_scale()
        except BaseException:
            for b in started:
                if b.server and b.server.proc and b.server.proc.poll() is None:
                    b.stop_scale()
            raise
        first = benches[0]
        if i == 0 and opts.peer:
            ours = [r for r in first.results if r["scale"] == first.scale_info[0]["activities"]]
            peer = first.run_peer(first.scale_info[0]["activities"])
            if peer:
                peer["ours"] = {r["scenario"]: r for r in ours if r.get("available")}
    return peer


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fmt_ratio(row):
    if not row.get("available"):
        return "not available"
    return f"{row['ratio']:.2f}"


def verdict(row):
    if not row.get("available") or row["target"] is None:
        return ""
    return "met" if row["ratio"] >= row["target"] else "MISSED"


STORE_TEXT = {
    "sqlite": "SQLite on disk, synchronous=FULL (WAL)",
    "postgres": "PostgreSQL (a database of its own, ANALYZEd after the load; the server's own settings)",
}


def report(bench, peer, opts):
    lines = []
    w = lines.append
    w(f"{bench.label}: wrk: {opts.connections} connections, {opts.threads} thread, {opts.duration} s per "
      f"scenario (+{opts.warmup} s warm-up); {STORE_TEXT[bench.backend]}, --no-rate-limit")
    w("")
    w("| activities stored | leads | load rate (act/s) | peak private memory while loading | DB on disk "
      "| peak private memory (this run) | peak RSS incl. mapped file pages | /healthz req/s (before, after) |")
    w("|---:|---:|---:|---:|---:|---:|---:|---|")
    for s in bench.scale_info:
        load = s["load"]
        rate = f"{load['rate']:,.0f}" + ("" if s["load_this_run"] else " (earlier run)") if load else "-"
        load_rss = f"{load['peak_anon_mib']:,.0f} MiB" if load and "peak_anon_mib" in load else "-"
        hz = ", ".join(f"{x:,.0f}" for x in s["healthz_rps"])
        w(f"| {s['activities']:,} | {s['leads']:,} | {rate} | {load_rss} | {s['db_bytes'] / 2**20:,.0f} MiB "
          f"| {s.get('peak_anon_mib', 0):,.0f} MiB | {s['peak_rss_mib']:,.0f} MiB | {hz} |")
    w("")
    w("| store | scenario | req/s | activities/s | p50 ms | p99 ms | non-2xx | ratio to /healthz | target | |")
    w("|---:|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in bench.results:
        if not r.get("available"):
            w(f"| {r['scale']:,} | {r['title']} | | | | | | not available | "
              f"{'' if r['target'] is None else r['target']} | |")
            continue
        aps = f"{r['activities_per_s']:,.0f}" if r.get("activities_per_s") else ""
        tgt = "" if r["target"] is None else f"≥ {r['target']}"
        w(f"| {r['scale']:,} | {r['title']} | {r['rps']:,.0f} | {aps} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} "
          f"| {100 * r['non2xx']:.2f}% | {fmt_ratio(r)} | {tgt} | {verdict(r)} |")
    hooked = [r for r in bench.results
              if r["scenario"].endswith(("+webhook", "+slwebhook")) and r.get("available")]
    if hooked:
        w("")
        w("Writes with one webhook subscription to every event (outbox rows in each write, the dispatcher "
          "delivering to a receiver on 127.0.0.1) against the same writes without, same run:")
        w("")
        w("| store | scenario | subscription | req/s without | req/s with | with ÷ without | p99 ms without | p99 ms with |")
        w("|---:|---|---|---:|---:|---:|---:|---:|")
        for h in hooked:
            plain, kind = h["scenario"].split("+", 1)
            base = next((r for r in bench.results if r["scale"] == h["scale"]
                         and r["scenario"] == plain), None)
            if base:
                sub = "Salesloft call_created" if kind == "slwebhook" else "native, every event"
                w(f"| {h['scale']:,} | {base['title']} | {sub} | {base['rps']:,.0f} | {h['rps']:,.0f} "
                  f"| {h['rps'] / base['rps']:.2f} | {base['p99_ms']:.2f} | {h['p99_ms']:.2f} |")
    # Read scenarios across scales: rate relative to the first scale (raw, and normalised by /healthz).
    scales = [s["activities"] for s in bench.scale_info]
    if len(scales) > 1:
        w("")
        w("Read scenarios as the store grows (relative to the smallest store; raw req/s, and ratio to /healthz):")
        w("")
        w("| scenario | " + " | ".join(f"{s:,}" for s in scales[1:]) + " |")
        w("|---|" + "---:|" * (len(scales) - 1))
        for name, kind, title, _ in SCENARIOS:
            if kind != "read":
                continue
            by = {r["scale"]: r for r in bench.results if r["scenario"] == name and r.get("available")}
            if scales[0] not in by:
                w(f"| {title} | " + " | ".join("not available" for _ in scales[1:]) + " |")
                continue
            base = by[scales[0]]
            cells = []
            for s in scales[1:]:
                if s in by:
                    cells.append(f"{by[s]['rps'] / base['rps']:.2f} raw, {by[s]['ratio'] / base['ratio']:.2f} norm.")
                else:
                    cells.append("-")
            w(f"| {title} | " + " | ".join(cells) + " |")
    if peer:
        ours = peer["ours"]
        w("")
        w(f"Peer: json-server {JSON_SERVER_VERSION} on the same machine, {peer['activities']:,} activities "
          "in one collection (no validation, no fsync):")
        w("")
        w("| operation | json-server req/s | p99 ms | activity-hub req/s | p99 ms | activity-hub ÷ json-server |")
        w("|---|---:|---:|---:|---:|---:|")
        for peer_name, our_name, label in (("peer_create", "create", "write one activity"),
                                           ("peer_read", "retrieve", "read a page of 25 of one lead")):
            p, o = peer[peer_name], ours.get(our_name)
            if not o:
                continue
            ratio = o["rps"] / p["rps"] if p["rps"] else float("inf")
            w(f"| {label} | {p['rps']:,.0f} | {p['p99_ms']:.2f} | {o['rps']:,.0f} | {o['p99_ms']:.2f} "
              f"| {ratio:.1f}× |")
    return "\n".join(lines)


def compare(benches):
    """Each scenario's req/s on every backend as a ratio to the first backend's, same scale, same
    window (the steps alternated between the servers)."""
    base = benches[0]
    others = benches[1:]
    lines = [f"Against {base.label}, same run, steps alternating between the servers (req/s, ratio):", ""]
    w = lines.append
    w("| store | scenario | " + " | ".join(b.label for b in benches) + " | "
      + " | ".join(f"{b.label} ÷ {base.label}" for b in others) + " |")
    w("|---:|---|" + "---:|" * (2 * len(benches) - 1))
    for k, info in enumerate(base.scale_info):
        rows = {}
        for b in benches:
            scale = b.scale_info[k]["activities"] if k < len(b.scale_info) else None
            rows[b.label] = {r["scenario"]: r for r in b.results if r["scale"] == scale and r.get("available")}
        names = ["healthz"] + [r["scenario"] for r in base.results
                               if r["scale"] == info["activities"] and r.get("available")]
        for name in names:
            rates = []
            for b in benches:
                if name == "healthz":
                    hz = b.scale_info[k]["healthz_rps"] if k < len(b.scale_info) else []
                    rates.append(sum(hz) / len(hz) if hz else None)
                else:
                    r = rows[b.label].get(name)
                    rates.append(r["rps"] if r else None)
            cells = [f"{x:,.0f}" if x is not None else "-" for x in rates]
            ratios = [f"{x / rates[0]:.2f}" if x is not None and rates[0] else "-" for x in rates[1:]]
            w(f"| {info['activities']:,} | {name} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
    # CPU per request holds up better than req/s on a shared machine: other work slows the rate
    # but adds no CPU to these processes.
    w("")
    w("CPU per answered request, µs (server; PostgreSQL's processes, all of them, for a PostgreSQL "
      "backend; same steps):")
    w("")
    w("| store | scenario | " + " | ".join(b.label for b in benches) + " |")
    w("|---:|---|" + "---:|" * len(benches))
    for k, info in enumerate(base.scale_info):
        for name in [r["scenario"] for r in base.results if r["scale"] == info["activities"] and r.get("available")]:
            cells = []
            for b in benches:
                scale = b.scale_info[k]["activities"] if k < len(b.scale_info) else None
                r = next((x for x in b.results if x["scale"] == scale and x["scenario"] == name), None)
                if not r or "server_cpu_us" not in r:
                    cells.append("-")
                elif b.backend == "postgres":
                    cells.append(f"{r['server_cpu_us']:,.0f} + {r['postgres_cpu_us']:,.0f} = "
                                 f"{r['server_cpu_us'] + r['postgres_cpu_us']:,.0f}")
                else:
                    cells.append(f"{r['server_cpu_us']:,.0f}")
            w(f"| {info['activities']:,} | {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def smoke_check(bench):
    """The smoke run asserts no speed, only that every scenario ran and was answered 2xx: a 404
    (a renamed endpoint) or a 4xx (a request shape the API no longer takes) means the harness rots."""
    problems = []
    for r in bench.results:
        name = f"{bench.label} {r['scenario']}"
        if not r.get("available"):
            problems.append(f"{name}: endpoint not available")
        elif r["requests"] == 0 or r["non2xx"] > 0:
            problems.append(f"{name}: {r['requests']} requests, {100 * r['non2xx']:.1f}% non-2xx")
    if problems:
        raise HarnessError("smoke run: " + "; ".join(problems))
    log(f"smoke run ({bench.label}): all {len(bench.results)} scenarios answered 2xx")


def parse_backends(o):
    """(backend, binary, label) per entry of --backends (or the one --backend): `sqlite`,
    `postgres`, or either with `=BINARY` to measure another binary (labelled by its path)."""
    entries = [e.strip() for e in (o.backends or o.backend).split(",") if e.strip()]
    out = []
    for e in entries:
        backend, _, binary = e.partition("=")
        if backend not in STORE_TEXT:
            raise HarnessError(f"unknown backend {backend!r} (sqlite or postgres)")
        label = f"{backend}={binary}" if binary else backend
        if label in {x[2] for x in out}:
            raise HarnessError(f"backend {label} named twice")
        out.append((backend, binary or None, label))
    if not out:
        raise HarnessError("no backend named")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scales", default="5000,1000000",
                    help="comma-separated store sizes in activities (default 5000,1000000)")
    ap.add_argument("--duration", type=int, default=10, help="seconds per scenario (default 10)")
    ap.add_argument("--warmup", type=int, default=2, help="discarded warm-up seconds per scenario")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    ap.add_argument("--per-lead", type=int, default=50, help="activities per lead as the store grows")
    ap.add_argument("--min-leads", type=int, default=100)
    ap.add_argument("--no-peer", dest="peer", action="store_false", help="skip the json-server peer")
    ap.add_argument("--binary", help="use this activity-hub binary instead of building one")
    ap.add_argument("--profile", default="release", choices=["release", "debug"])
    ap.add_argument("--json", help="also write the raw results to this file")
    ap.add_argument("--keep", action="store_true", help="keep the temporary store and logs")
    ap.add_argument("--store-dir", help="keep each scale's store in DIR/s<scale>/ and reuse it in later runs "
                    "(loads only what is missing); never deleted by the harness")
    ap.add_argument("--load-connections", type=int, default=32,
                    help="wrk connections while loading with bulk calls (default 32)")
    ap.add_argument("--scenarios", help="comma-separated scenario names to run (default: all); e.g. the read "
                    "scenarios only, to keep a store at its loaded size for bench/cpu_ab.py or instr_ab.sh")
    ap.add_argument("--webhook", action="store_true",
                    help="also run the write scenarios with one webhook subscription to every event")
    ap.add_argument("--backend", default="sqlite", choices=sorted(STORE_TEXT),
                    help="store to measure (default sqlite)")
    ap.add_argument("--backends", help="several, comma-separated, measured in one run with the steps "
                    "alternating between them and a ratio table against the first: e.g. sqlite,postgres; "
                    "an entry BACKEND=BINARY measures another binary (e.g. a baseline build)")
    ap.add_argument("--pg-url", default=os.environ.get("ACTIVITY_HUB_BENCH_PG",
                                                       "postgres://postgres@127.0.0.1:5432/postgres"),
                    help="PostgreSQL server (any database on it) where each scale gets a database of its "
                    "own, created and dropped by the harness (default $ACTIVITY_HUB_BENCH_PG or "
                    "postgres://postgres@127.0.0.1:5432/postgres)")
    ap.add_argument("--sl-webhook", action="store_true",
                    help="also run the write scenarios with one Salesloft webhook subscription (call_created)")
    ap.add_argument("--smoke", action="store_true",
                    help="~10 s check that the harness works (debug build, tiny store, 1 s runs, no peer)")
    o = ap.parse_args()
    if o.smoke:
        o.scales, o.duration, o.warmup, o.peer, o.min_leads = "1000", 1, 0, False, 20
        if not o.binary:
            o.profile = "debug"
    o.scales = [int(s.replace("_", "")) for s in o.scales.split(",") if s.strip()]
    if o.scenarios:
        names = [n.strip() for n in o.scenarios.split(",") if n.strip()]
        unknown = sorted(set(names) - {sc[0] for sc in SCENARIOS})
        if unknown:
            print(f"bench: unknown scenario(s): {', '.join(unknown)}", file=sys.stderr)
            return 2
        SCENARIOS[:] = [sc for sc in SCENARIOS if sc[0] in names]
    try:
        backends = parse_backends(o)
        ensure_wrk()
        if not o.binary and any(binary is None for _, binary, _ in backends):
            o.binary = build(o.profile)
        work = o.store_dir or tempfile.mkdtemp(prefix="activity-hub-bench-")
        # One SQLite backend keeps the layout other scripts read (DIR/s<scale>/); several get a
        # folder each.
        single = len(backends) == 1
        benches = [Bench(o, work if single else os.path.join(work, re.sub(r"[^A-Za-z0-9._-]", "_", label)),
                         backend, binary or o.binary, label) for backend, binary, label in backends]
        log(f"working in {work}")
        started = time.time()
        try:
            peer = run_benches(benches, o)
        finally:
            if not o.keep and not o.store_dir:
                shutil.rmtree(work, ignore_errors=True)
        text = "\n\n".join(report(b, peer if i == 0 else None, o) for i, b in enumerate(benches))
        if not single:
            text += "\n\n" + compare(benches)
        print(text)
        if o.smoke:
            for b in benches:
                smoke_check(b)
        if o.json:
            with open(o.json, "w") as f:
                data = {b.label: {"scales": b.scale_info, "results": b.results} for b in benches}
                if single:
                    data = dict(data[benches[0].label], peer=peer)
                else:
                    data["peer"] = peer
                json.dump(data, f, indent=1)
        log(f"done in {time.time() - started:.0f} s")
    except (HarnessError, subprocess.CalledProcessError) as e:
        print(f"bench: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
