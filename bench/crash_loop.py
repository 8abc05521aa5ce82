#!/usr/bin/env python3
"""Crash loop: concurrent writers on every write call of the three APIs, the server (or its
PostgreSQL) taken down at a random moment of each cycle, then a check that nothing acknowledged
was lost or changed.

Each cycle:
  1. K writer threads call, at random, LeadSquared's ProspectActivity.svc/Create,
     Bulk/CustomActivity/Add/ByLeadId, Bulk/CustomActivity/Add/ByOpportunityId and
     CustomActivity/Update, and the native API's batch create (POST /api/v1/activities), PATCH,
     pin/unpin and PUT tags. Every answer goes into a ledger: acknowledged (2xx) writes with what
     they wrote, refused ones (4xx; bulk rows reported failed) and unanswered ones (connection
     lost, 5xx) whose outcome is unknown.
  2. At a random moment: SIGKILL of the server, then a restart on the same store. On PostgreSQL
     the cycles rotate between that, an immediate stop + start of the script's own PostgreSQL
     cluster while the writers run, and pg_terminate_backend of the server's connections.
  3. Checks, through the restarted server:
     - every acknowledged activity is there with the fields its last acknowledged write gave it
       (lost / corrupt); an unanswered write may or may not have landed, nothing else may differ;
     - bulk calls: rows answered ActivityCreated=true are there, rows answered false are not; an
       unanswered bulk call or native batch is there whole or not at all (partial); a refused
       native batch left nothing; no row appears that no write explains (unexplained);
     - timestamps: created_at and updated_at unique across the tenant, updated_at >= created_at,
       everything written in this cycle later than everything seen before it (the tenant clock
       survives restarts), native batch rows in request order, an untouched record's updated_at
       unchanged;
     - the Salesloft cursor walk (sort_by=updated_at ASC, updated_at[gt]=last) sees every record
       exactly once, in strictly increasing updated_at, with the same contents as the export.
  Prints acknowledged / found / lost / corrupt / duplicate-in-walk per cycle and in total; exits 1
  on any loss or violation, or when some write call was never acknowledged (nothing was tested).

Usage (from the repository root; builds nothing):
    python3 bench/crash_loop.py --backend sqlite --cycles 20
    python3 bench/crash_loop.py --backend postgres --cycles 20
    python3 bench/crash_loop.py --bin target/debug/activity-hub --backend sqlite --cycles 2 \
        --seconds-per-cycle 4 --writers 4                    # the CI smoke

PostgreSQL: the script runs its own cluster (initdb from /usr/lib/postgresql/15/bin, or
--pg-bin, into the work directory; its own port; trust auth; fsync on), never the machine's. As
root, initdb and postgres are run as the `postgres` OS user (runuser -u postgres), which owns the
data directory. Needs Python 3.11 and `requests`.
"""

import argparse
import collections
import json
import os
import queue
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field

import requests

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Attributes of an activity that writes change, compared after every crash.
ATTRS = ("note", "fields", "status", "tags", "pinned_at", "static_data")
# An unanswered pin may have stored any pin time: matches any non-null pinned_at.
ANY_TIME = "<any time>"
# LeadSquared's custom fields of the probe type: the first mandatory, the second a number.
F1, F2 = "mx_Custom_1", "mx_Custom_2"
# The tenant's system types used here (docs/decisions.md: 101 call, 105 note).
SYSTEM_CODES = (101, 105)
# A code no type of the tenant has: makes a native batch row (and so the batch) invalid.
UNKNOWN_CODE = 9999


def log(msg):
    print(f"[crash {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class CrashLoopError(Exception):
    """The loop could not do its job (set-up refused, server did not start): not a finding."""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------------
# Processes: the server, the stores


class HubServer:
    """`activity-hub serve --no-rate-limit` on one store, restarted on the same store after a
    kill."""

    def __init__(self, binary, db_url, workdir):
        self.binary, self.db_url, self.workdir = binary, db_url, workdir
        self.proc = None
        self.base = None
        self.starts = 0

    def start(self):
        self.starts += 1
        log_path = os.path.join(self.workdir, f"server-{self.starts}.log")
        env = dict(os.environ, RUST_LOG=os.environ.get("RUST_LOG", "warn"))
        for k in ("ACTIVITY_HUB_DB", "ACTIVITY_HUB_BIND", "ACTIVITY_HUB_REDIS"):
            env.pop(k, None)
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--db", self.db_url, "--bind", "127.0.0.1:0", "--no-rate-limit"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=open(log_path, "wb"),
            env=env, text=True)
        lines = queue.Queue()

        def drain(pipe):
            for line in pipe:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=drain, args=(self.proc.stdout,), daemon=True).start()
        marker = "activity-hub listening on http://"
        deadline = time.monotonic() + 120
        while True:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None or time.monotonic() > deadline:
                self.kill()
                with open(log_path, errors="replace") as f:
                    tail = f.read()[-3000:]
                raise CrashLoopError(f"server did not start (see {log_path}):\n{tail}")
            if marker in line:
                self.base = "http://" + line.split(marker, 1)[1].strip().rstrip("/")
                return self.base

    def kill(self):
        """SIGKILL: the process gets no chance to flush or answer anything more."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        if self.proc:
            self.proc.wait()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None


class SqliteStore:
    name = "sqlite"

    def __init__(self, workdir):
        self.url = f"sqlite://{workdir}/hub.db"

    def disruption(self, cycle):
        return "kill -9 server"

    def close(self):
        pass


class PgCluster:
    """A PostgreSQL cluster of the script's own (never the shared one), so that it may be
    crashed."""

    name = "postgres"

    def __init__(self, workdir, pg_bin):
        self.bin = pg_bin
        self.dir = os.path.join(workdir, "pg")
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        self.psql_bin = shutil.which("psql") or os.path.join(pg_bin, "psql")
        os.makedirs(self.dir)
        # initdb and postgres refuse to run as root: as root, run them as the postgres OS user,
        # who owns the cluster's directory (the work directory is made traversable for it).
        self.as_pg = []
        if os.geteuid() == 0:
            self.as_pg = ["runuser", "-u", "postgres", "--"]
            os.chmod(workdir, 0o755)
            shutil.chown(self.dir, "postgres", "postgres")
        self._run([os.path.join(pg_bin, "initdb"), "-D", self.data, "-A", "trust", "-U", "postgres",
                   "-E", "UTF8", "--no-instructions"])
        self.start()
        self.psql("postgres", "CREATE DATABASE crash")
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/crash"

    def _run(self, args):
        r = subprocess.run(self.as_pg + args, capture_output=True, text=True)
        if r.returncode != 0:
            raise CrashLoopError(f"{' '.join(args)} failed:\n{r.stdout}{r.stderr}")
        return r.stdout

    def start(self):
        opts = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=on "
                f"-c synchronous_commit=on -c full_page_writes=on -c max_connections=100")
        self._run([os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-l",
                   os.path.join(self.dir, "postgres.log"), "-w", "-t", "120", "-o", opts, "start"])

    def stop_immediate(self):
        """`pg_ctl -m immediate stop`: every backend dies without a checkpoint, as in a crash;
        the next start recovers from the WAL."""
        self._run([os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-m", "immediate", "-w",
                   "stop"])

    def psql(self, db, sql):
        r = subprocess.run([self.psql_bin, "-h", "127.0.0.1", "-p", str(self.port),
                            "-U", "postgres", "-d", db, "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise CrashLoopError(f"psql {sql!r} failed: {r.stderr}")
        return r.stdout.strip()

    def terminate_backends(self):
        """Kills every connection of the server to its database; returns how many there were."""
        return int(self.psql("postgres", "SELECT count(pg_terminate_backend(pid)) "
                             "FROM pg_stat_activity "
                             "WHERE datname = 'crash' AND pid <> pg_backend_pid()"))

    def disruption(self, cycle):
        return ("kill -9 server", "restart PostgreSQL", "kill PostgreSQL backends")[cycle % 3]

    def close(self):
        try:
            self.stop_immediate()
        except CrashLoopError as e:
            log(f"stopping the PostgreSQL cluster: {e}")


# ---------------------------------------------------------------------------------------------
# HTTP: the three dialects


class Hub:
    """HTTP calls to one server as one user: LeadSquared keys and the Bearer key."""

    def __init__(self, base, keys, timeout=60):
        self.base = base
        self.keys = keys
        self.timeout = timeout
        self.http = requests.Session()
        self.http.trust_env = False  # never through a proxy
        self.lsq_headers = {"x-LSQ-AccessKey": keys["access_key"],
                            "x-LSQ-SecretKey": keys["secret_key"]}
        self.bearer = {"Authorization": f"Bearer {keys['api_key']}"}

    def lsq(self, path, body, params=None):
        return self.http.post(f"{self.base}/v2/{path}", params=params, json=body,
                              headers=self.lsq_headers, timeout=self.timeout)

    def native(self, method, path, body=None, stream=False):
        return self.http.request(method, f"{self.base}/api/v1/{path}", json=body,
                                 headers=self.bearer, timeout=self.timeout, stream=stream)

    def salesloft(self, params):
        return self.http.get(f"{self.base}/v2/activity_histories", params=params,
                             headers=self.bearer, timeout=self.timeout)


def answered_ok(resp, what):
    """The JSON of a 2xx answer to a set-up call; anything else stops the loop."""
    if not 200 <= resp.status_code < 300:
        raise CrashLoopError(f"{what} answered {resp.status_code}: {resp.text[:500]}")
    return resp.json()


def outcome(send):
    """Sends one write and classifies its answer: ('ack', json) for 2xx, ('refused', resp) for a
    4xx (nothing may have been stored), ('unknown', reason) when the write may or may not have
    been stored (no answer, a 5xx)."""
    try:
        resp = send()
    except requests.RequestException as e:
        return "unknown", type(e).__name__
    if 200 <= resp.status_code < 300:
        return "ack", resp.json()
    if 400 <= resp.status_code < 500:
        return "refused", resp
    return "unknown", f"{resp.status_code} {resp.text[:200]}"


# ---------------------------------------------------------------------------------------------
# The ledger


@dataclass
class Expected:
    """What one activity must hold: per attribute the value of its last acknowledged write, plus
    the values of writes since then that got no answer (any of them may have landed)."""

    guid: str
    marker: str
    writer: int  # the one writer that updates it (-1: set-up records, never updated)
    event_code: int
    lead_guid: str
    opportunity_guid: str | None
    attrs: dict  # name -> [value, [alternatives]]
    has_fields: bool
    min_updated_at: str | None = None  # updated_at of its last acknowledged native write
    touched: bool = False  # a write was sent to it in this cycle
    created_at: str | None = None  # as last verified
    updated_at: str | None = None  # as last verified

    def matches(self, name, stored):
        value, alternatives = self.attrs[name]
        return any(stored == v or (v == ANY_TIME and stored is not None)
                   for v in [value] + alternatives)


@dataclass
class RowSpec:
    """One activity a create call asked for: its marker (first word of its note) and contents."""

    marker: str
    valid: bool
    event_code: int
    lead_guid: str
    opportunity_guid: str | None
    note: str
    fields: dict
    tags: list = field(default_factory=list)
    pinned: bool = False
    static_data: dict = field(default_factory=dict)

    def expected(self, guid, writer, pinned_at=None):
        attrs = {"note": self.note, "fields": self.fields, "status": "Active",
                 "tags": self.tags, "pinned_at": pinned_at, "static_data": self.static_data}
        return Expected(guid, self.marker, writer, self.event_code, self.lead_guid,
                        self.opportunity_guid, {k: [v, []] for k, v in attrs.items()},
                        bool(self.fields))


@dataclass
class PendingCall:
    """A create call without an answer: all its valid rows landed, or none did."""

    api: str
    writer: int
    rows: list  # RowSpec


def marker_of(note):
    return (note or "").split(" ", 1)[0]


class Ledger:
    """Every write the writers sent and what became of it; thread-safe."""

    def __init__(self):
        self.lock = threading.Lock()
        self.records = {}  # guid -> Expected
        self.by_writer = {}  # writer -> [guid] it may update
        self.pending = []  # PendingCall
        self.refused = {}  # marker -> why it must never be stored
        self.reported = set()  # guids of records stored against the rules, already reported
        self.batch_orders = []  # [guid] of acknowledged native batches, in request order
        self.acked = {}  # call name -> acknowledged calls (this cycle)
        self.acked_rows = 0  # activities created by acknowledged calls (this cycle)
        self.acked_updates = 0  # acknowledged updates (this cycle)
        self.unanswered = 0  # writes with no answer (this cycle)
        self.violations = []  # (kind, detail) found while writing (answers that contradict)
        self.acked_total = {}

    def add(self, exp):
        with self.lock:
            self.records[exp.guid] = exp
            self.by_writer.setdefault(exp.writer, []).append(exp.guid)

    def count_ack(self, api, rows=0, updates=0):
        with self.lock:
            self.acked[api] = self.acked.get(api, 0) + 1
            self.acked_total[api] = self.acked_total.get(api, 0) + 1
            self.acked_rows += rows
            self.acked_updates += updates

    def violation(self, kind, detail):
        with self.lock:
            self.violations.append((kind, detail))

    def acked_create(self, api, writer, specs, answers):
        """An answered create call: `answers` pairs each row with (guid or None, pinned_at)."""
        created = 0
        for spec, (guid, pinned_at) in zip(specs, answers):
            if guid is None:
                if spec.valid:
                    self.violation("row refused", f"{api} row {spec.marker} reported failed")
                with self.lock:
                    self.refused[spec.marker] = f"{api}: reported not created"
            else:
                if not spec.valid:
                    self.violation("bad row created", f"{api} row {spec.marker} reported created")
                self.add(spec.expected(guid, writer, pinned_at))
                created += 1
        self.count_ack(api, rows=created)

    def refused_create(self, specs, why):
        with self.lock:
            for spec in specs:
                self.refused[spec.marker] = why

    def unanswered_create(self, api, writer, specs):
        with self.lock:
            self.pending.append(PendingCall(api, writer, specs))
            self.unanswered += 1

    def forget(self, guid):
        exp = self.records.pop(guid)
        self.by_writer[exp.writer].remove(guid)

    def mine(self, writer):
        with self.lock:
            return list(self.by_writer.get(writer, ()))

    def start_cycle(self):
        with self.lock:
            self.acked, self.acked_rows, self.acked_updates, self.unanswered = {}, 0, 0, 0
            self.violations = []
            for exp in self.records.values():
                exp.touched = False


# ---------------------------------------------------------------------------------------------
# Writers: one function per write call


class Writer(threading.Thread):
    """Calls the write endpoints at random until told to stop or the server is gone. Updates only
    the activities it created itself, so that each activity has one updating writer and the last
    acknowledged update is the value to find."""

    def __init__(self, index, cycle, hub, ledger, world, stop, rng):
        super().__init__(daemon=True)
        self.k, self.cycle, self.hub, self.ledger, self.world = index, cycle, hub, ledger, world
        self.stop, self.rng = stop, rng
        self.seq = 0
        self.errors = []

    def run(self):
        ops = [(self.lsq_create, 3), (self.lsq_bulk_by_lead, 2), (self.lsq_bulk_by_opportunity, 2),
               (self.native_batch, 2), (self.lsq_update, 3), (self.native_patch, 3),
               (self.pin_or_unpin, 2), (self.set_tags, 2)]
        funcs = [f for f, w in ops for _ in range(w)]
        while not self.stop.is_set():
            try:
                answered = self.rng.choice(funcs)()
            except Exception as e:  # a bug of the script: report it, do not hide it
                self.errors.append(f"{type(e).__name__}: {e}")
                return
            if not answered:
                time.sleep(0.05)  # the store or server is down: do not spin

    # -- helpers

    def next_marker(self):
        self.seq += 1
        return f"c{self.cycle}.w{self.k}.s{self.seq}"

    def note(self, marker, word):
        # Non-ASCII, quotes and a backslash: kept byte for byte or counted corrupt.
        return f"{marker} {word} «ü» \"q\" \\ {self.rng.randrange(10**6)}"

    def custom_fields(self):
        return {F1: f"v{self.rng.randrange(10**6)} ü", F2: str(self.rng.randrange(-500, 500))}

    def lsq_row(self, marker, lead, opportunity=None, bad=None):
        """A LeadSquared activity row and its spec; `bad` makes it one the server must refuse."""
        custom = self.rng.random() < 0.6
        code = self.world.custom_code if custom else self.rng.choice(SYSTEM_CODES)
        fields = self.custom_fields() if custom else {}
        note = self.note(marker, "lsq")
        row = {"ActivityEvent": code, "ActivityNote": note,
               "Fields": [{"SchemaName": k, "Value": v} for k, v in fields.items()]}
        if opportunity is None:
            row["RelatedProspectId"] = lead
        else:
            row["ActivityOwnerEmail"] = self.world.owner_email
        if bad == "date":
            row["ActivityDateTime"] = "2021-13-01 00:00:00"
        elif bad == "mandatory":
            row["ActivityEvent"], code = self.world.custom_code, self.world.custom_code
            row["Fields"] = [{"SchemaName": F2, "Value": "1"}]
        elif bad == "owner":
            del row["ActivityOwnerEmail"]
        return row, RowSpec(marker, bad is None, code, lead, opportunity, note, fields)

    def record_update(self, exp, api, changes, send):
        """Sends an update of `exp` setting `changes` (attribute -> value) and books its answer.
        A native answer is the activity's whole state after the write, so it settles every
        attribute; LeadSquared's answer only says the write was done."""
        exp.touched = True
        kind, answer = outcome(send)
        if kind == "ack":
            if api.startswith("native"):
                data = answer["data"]
                for name in ATTRS:
                    exp.attrs[name] = [data[name], []]
                exp.min_updated_at = data["updated_at"]
                for name, value in changes.items():
                    if data[name] != value and not (value == ANY_TIME and data[name] is not None):
                        self.ledger.violation("answer differs", f"{api} {exp.guid}: {name} "
                                              f"answered {data[name]!r}, sent {value!r}")
            else:
                for name, value in changes.items():
                    exp.attrs[name] = [value, []]
            self.ledger.count_ack(api, updates=1)
            return True
        if kind == "refused":
            self.ledger.violation("update refused", f"{api} {exp.guid}: {answer.status_code} "
                                  f"{answer.text[:200]}")
            return True
        for name, value in changes.items():
            exp.attrs[name][1].append(value)
        with self.ledger.lock:
            self.ledger.unanswered += 1
        return False

    def own_activity(self):
        mine = self.ledger.mine(self.k)
        if not mine:
            return None
        return self.ledger.records[self.rng.choice(mine)]

    # -- LeadSquared

    def lsq_create(self):
        marker = self.next_marker()
        row, spec = self.lsq_row(marker + ".r0", self.rng.choice(self.world.leads))
        kind, answer = outcome(lambda: self.hub.lsq("ProspectActivity.svc/Create", row))
        if kind == "ack":
            self.ledger.acked_create("lsq create", self.k, [spec],
                                     [(answer["Message"]["Id"], None)])
        elif kind == "refused":
            self.ledger.violation("create refused", f"{answer.status_code} {answer.text[:200]}")
            self.ledger.refused_create([spec], "lsq create refused")
        else:
            self.ledger.unanswered_create("lsq create", self.k, [spec])
        return kind != "unknown"

    def bulk_rows(self, opportunity=None):
        marker = self.next_marker()
        n = self.rng.randint(2, 25)
        bad_kinds = ("owner", "date") if opportunity else ("date", "mandatory")
        bad_at = {self.rng.randrange(n): self.rng.choice(bad_kinds)
                  for _ in range(self.rng.choice((0, 1, 1, 2)))}
        rows, specs = [], []
        lead = opportunity[1] if opportunity else None
        for i in range(n):
            row, spec = self.lsq_row(f"{marker}.r{i}",
                                     lead or self.rng.choice(self.world.leads),
                                     opportunity[0] if opportunity else None, bad_at.get(i))
            rows.append(row)
            specs.append(spec)
        return rows, specs

    def bulk(self, api, path, rows, specs, params=None):
        kind, answer = outcome(lambda: self.hub.lsq(path, rows, params))
        if kind == "ack":
            answers = answer["Response"]
            if len(answers) != len(specs):
                self.ledger.violation("bulk answer", f"{api}: {len(answers)} rows for {len(specs)}")
            pairs = [(a["ProspectActivityId"] if a.get("ActivityCreated") is True else None, None)
                     for a in answers]
            self.ledger.acked_create(api, self.k, specs, pairs)
        elif kind == "refused":
            self.ledger.violation("bulk refused",
                                  f"{api}: {answer.status_code} {answer.text[:200]}")
            self.ledger.refused_create(specs, f"{api} refused")
        else:
            valid = [s for s in specs if s.valid]
            self.ledger.unanswered_create(api, self.k, valid)
            self.ledger.refused_create([s for s in specs if not s.valid], f"{api}: invalid row")
        return kind != "unknown"

    def lsq_bulk_by_lead(self):
        rows, specs = self.bulk_rows()
        return self.bulk("lsq bulk by lead",
                         "ProspectActivity.svc/Bulk/CustomActivity/Add/ByLeadId", rows, specs)

    def lsq_bulk_by_opportunity(self):
        opportunity = self.rng.choice(self.world.opportunities)  # (guid, lead guid)
        rows, specs = self.bulk_rows(opportunity)
        return self.bulk("lsq bulk by opportunity",
                         "ProspectActivity.svc/Bulk/CustomActivity/Add/ByOpportunityId",
                         rows, specs, {"opportunityId": opportunity[0]})

    def lsq_update(self):
        exp = self.own_activity()
        if exp is None:
            return self.lsq_create()
        note = self.note(exp.marker, "lsq-update")
        body = {"ProspectActivityId": exp.guid, "ActivityNote": note, "Fields": []}
        changes = {"note": note}
        if exp.has_fields:
            fields = self.custom_fields()  # both fields every time: the merge is the whole value
            body["Fields"] = [{"SchemaName": k, "Value": v} for k, v in fields.items()]
            changes["fields"] = fields
        return self.record_update(exp, "lsq update", changes,
                                  lambda: self.hub.lsq("ProspectActivity.svc/CustomActivity/Update",
                                                       body))

    # -- native

    def native_batch(self):
        marker = self.next_marker()
        n = self.rng.randint(1, 20)
        refuse = self.rng.random() < 0.1
        bad_at = self.rng.randrange(n) if refuse else None
        rows, specs = [], []
        for i in range(n):
            m = f"{marker}.r{i}"
            on_opportunity = self.rng.random() < 0.3
            if on_opportunity:
                opp, lead = self.rng.choice(self.world.opportunities)
                resource = {"type": "crm_opportunity", "id": opp}
            else:
                opp, lead = None, self.rng.choice(self.world.leads)
                resource = {"type": "person", "id": lead}
            note = self.note(m, "native")
            tags = self.rng.sample(["a", "b", "Ünï", "d e", "x"], self.rng.randint(0, 3))
            static = {"marker": m, "n": self.rng.randrange(1000)}
            pinned = self.rng.random() < 0.2
            row = {"resource": resource, "note": note, "tags": tags, "static_data": static,
                   "pinned": pinned}
            if self.rng.random() < 0.5:
                fields = self.custom_fields()
                row["event_code"], code = self.world.custom_code, self.world.custom_code
                row["fields"] = fields
            else:
                fields = {}
                row["type"], code = "call", 101
            if i == bad_at:
                row["event_code"] = UNKNOWN_CODE
                row.pop("type", None)
            rows.append(row)
            specs.append(RowSpec(m, i != bad_at, code, lead, opp, note, fields, tags, pinned,
                                 static))
        kind, answer = outcome(lambda: self.hub.native("POST", "activities", {"activities": rows}))
        if kind == "ack":
            data = answer["data"]
            if refuse:
                self.ledger.violation("bad batch stored", f"native batch {marker} was answered 2xx")
            if len(data) != n:
                self.ledger.violation("batch answer", f"native batch {marker}: {len(data)} of {n}")
            for spec, a in zip(specs, data):
                if (a["note"], a["tags"], a["static_data"], a["fields"]) != (
                        spec.note, spec.tags, spec.static_data, spec.fields) or (
                        (a["pinned_at"] is not None) != spec.pinned):
                    self.ledger.violation("answer differs", f"native batch row {spec.marker}: {a}")
                exp = spec.expected(a["guid"], self.k, a["pinned_at"])
                exp.min_updated_at = a["updated_at"]
                self.ledger.add(exp)
            with self.ledger.lock:
                self.ledger.batch_orders.append([a["guid"] for a in data])
            self.ledger.count_ack("native batch", rows=len(data))
        elif kind == "refused":
            if not refuse:
                self.ledger.violation("batch refused", f"{answer.status_code} {answer.text[:200]}")
            self.ledger.refused_create(specs, f"native batch refused ({answer.status_code})")
            if refuse:
                self.ledger.count_ack("native batch refused (422)")
        else:
            if refuse:
                self.ledger.refused_create(specs, "invalid native batch, unanswered")
            else:
                self.ledger.unanswered_create("native batch", self.k, specs)
        return kind != "unknown"

    def native_patch(self):
        exp = self.own_activity()
        if exp is None:
            return self.native_batch()
        note = self.note(exp.marker, "patch")
        body = {"note": note, "status": self.rng.choice(["Active", "Inactive"]),
                "static_data": {"marker": exp.marker, "patched": self.rng.randrange(10**6)}}
        changes = dict(body)
        if exp.has_fields:
            body["fields"] = changes["fields"] = self.custom_fields()
        return self.record_update(exp, "native patch", changes,
                                  lambda: self.hub.native("PATCH", f"activities/{exp.guid}", body))

    def pin_or_unpin(self):
        mine = self.ledger.mine(self.k)
        if not mine:
            return self.native_batch()
        # Half the time a pinned one (if the sample has one) is unpinned: most are not pinned.
        sample = [self.ledger.records[g] for g in self.rng.sample(mine, min(20, len(mine)))]
        pinned = [e for e in sample if e.attrs["pinned_at"][0] is not None]
        exp = pinned[0] if pinned and self.rng.random() < 0.5 else sample[0]
        pin = exp.attrs["pinned_at"][0] is None
        return self.record_update(
            exp, "native pin" if pin else "native unpin", {"pinned_at": ANY_TIME if pin else None},
            lambda: self.hub.native("POST" if pin else "DELETE", f"activities/{exp.guid}/pin"))

    def set_tags(self):
        exp = self.own_activity()
        if exp is None:
            return self.native_batch()
        tags = self.rng.sample(["t1", "t2", "Ünï", "q r", "t5", "t6"], self.rng.randint(0, 4))
        return self.record_update(exp, "native tags", {"tags": tags},
                                  lambda: self.hub.native("PUT", f"activities/{exp.guid}/tags",
                                                          {"tags": tags}))


# ---------------------------------------------------------------------------------------------
# Set-up


@dataclass
class World:
    """What the writers write to: leads, opportunities, the probe type, the owner's email."""

    leads: list
    opportunities: list  # (guid, lead guid)
    custom_code: int
    owner_email: str


def cli(binary, db_url, args):
    r = subprocess.run([binary] + args + ["--db", db_url, "--json"], capture_output=True, text=True,
                       env={k: v for k, v in os.environ.items() if k != "ACTIVITY_HUB_DB"})
    if r.returncode != 0:
        raise CrashLoopError(f"activity-hub {' '.join(args)} failed: {r.stderr}")
    return json.loads(r.stdout)


def set_up(binary, db_url, base, ledger):
    """A tenant and a second user through the CLI; leads, a custom type and opportunities through
    the APIs. Returns the world and each writer's keys (the two users take turns)."""
    admin = cli(binary, db_url, ["tenant", "create", "--name", "Crash loop",
                                 "--admin-email", "admin@crash.example"])
    manager = cli(binary, db_url, ["user", "create", "--tenant", admin["tenant_id"],
                                   "--email", "manager@crash.example", "--role", "Sales_Manager"])
    hub = Hub(base, admin)
    leads = []
    for i in range(6):
        v = answered_ok(hub.native("POST", "leads", {"first_name": f"Lead{i}",
                                                     "email": f"lead{i}@crash.example"}), "lead")
        leads.append(v["data"]["guid"])
    for i in range(6, 12):
        v = answered_ok(hub.lsq("LeadManagement.svc/Lead.Create", [
            {"Attribute": "FirstName", "Value": f"Lead{i}"},
            {"Attribute": "EmailAddress", "Value": f"lead{i}@crash.example"}]), "Lead.Create")
        leads.append(v["Message"]["Id"])
    t = answered_ok(hub.native("POST", "activity_types", {
        "name": "Crash probe", "fields": [
            {"schema_name": F1, "data_type": "String", "is_mandatory": True},
            {"schema_name": F2, "data_type": "Number"}]}), "activity type")["data"]
    opportunities = []
    for i in range(4):
        lead = leads[i * 3]
        a = answered_ok(hub.native("POST", "opportunities", {
            "lead_guid": lead, "note": f"setup.o{i} opportunity"}), "opportunity")["data"]
        opportunities.append((a["guid"], lead))
        spec = RowSpec(f"setup.o{i}", True, a["event_code"], lead, None, a["note"], {})
        exp = spec.expected(a["guid"], -1)
        exp.attrs["status"] = ["Open", []]
        ledger.add(exp)
    world = World(leads, opportunities, t["event_code"], "manager@crash.example")
    return world, [admin, manager]


# ---------------------------------------------------------------------------------------------
# Verification


@dataclass
class Findings:
    expected: int = 0
    found: int = 0
    lost: list = field(default_factory=list)
    corrupt: list = field(default_factory=list)
    landed_unanswered: int = 0
    partial: list = field(default_factory=list)
    refused_stored: list = field(default_factory=list)
    unexplained: list = field(default_factory=list)
    timestamps: list = field(default_factory=list)
    walk_seen: int = 0
    walk_duplicates: list = field(default_factory=list)
    walk_missing: list = field(default_factory=list)
    walk_other: list = field(default_factory=list)
    export_missed: list = field(default_factory=list)
    answers: list = field(default_factory=list)  # answers contradicting the requests

    def problems(self):
        return (len(self.lost) + len(self.corrupt) + len(self.partial) + len(self.refused_stored)
                + len(self.unexplained) + len(self.timestamps) + len(self.walk_duplicates)
                + len(self.walk_missing) + len(self.walk_other) + len(self.export_missed)
                + len(self.answers))

    def examples(self):
        out = []
        for name in ("lost", "corrupt", "partial", "refused_stored", "unexplained", "timestamps",
                     "walk_duplicates", "walk_missing", "walk_other", "export_missed",
                     "answers"):
            items = getattr(self, name)
            if items:
                out.append(f"  {name} ({len(items)}), e.g.: " + "; ".join(map(str, items[:3])))
        return out


def export_all(hub):
    """Every record through the native export (NDJSON), by guid."""
    resp = hub.native("GET", "export", stream=True)
    if resp.status_code != 200:
        raise CrashLoopError(f"export answered {resp.status_code}: {resp.text[:300]}")
    rows = {}
    for line in resp.iter_lines():
        if not line:
            continue
        v = json.loads(line)
        if "error" in v:
            raise CrashLoopError(f"export ended with an error line: {v}")
        rows[v["guid"]] = v
    return rows


def salesloft_walk(hub, findings):
    """The cursor walk of the README: pages of 100 by updated_at ascending, each page asked for
    with updated_at[gt] = the last updated_at seen. Returns the rows by id."""
    seen = {}
    cursor = "1970-01-01T00:00:00.000000Z"
    while True:
        resp = hub.salesloft({"sort_by": "updated_at", "sort_direction": "ASC", "per_page": 100,
                              "updated_at[gt]": cursor})
        if resp.status_code != 200:
            raise CrashLoopError(f"activity_histories answered {resp.status_code}: "
                                 f"{resp.text[:300]}")
        page = resp.json()["data"]
        for row in page:
            findings.walk_seen += 1
            if row["id"] in seen:
                findings.walk_duplicates.append(row["id"])
            if row["updated_at"] <= cursor:
                findings.walk_other.append(f"{row['id']}: updated_at {row['updated_at']} not after "
                                           f"{cursor}")
            cursor = max(cursor, row["updated_at"])
            seen[row["id"]] = row
        if len(page) < 100:
            return seen


def check_record(exp, stored, findings):
    """Compares one stored activity with what the ledger expects of it."""
    diffs = []
    for key, want in (("event_code", exp.event_code), ("lead_guid", exp.lead_guid),
                      ("opportunity_guid", exp.opportunity_guid)):
        if stored[key] != want:
            diffs.append(f"{key} {stored[key]!r} != {want!r}")
    for name in ATTRS:
        if not exp.matches(name, stored[name]):
            value, alternatives = exp.attrs[name]
            diffs.append(f"{name} {stored[name]!r} != {value!r}"
                         + (f" (or {alternatives!r})" if alternatives else ""))
    if exp.min_updated_at and stored["updated_at"] < exp.min_updated_at:
        diffs.append(f"updated_at {stored['updated_at']} before the acknowledged "
                     f"{exp.min_updated_at}")
    if diffs:
        findings.corrupt.append(f"{exp.guid} ({exp.marker}): " + ", ".join(diffs))
        return False
    return True


def check_spec(spec, stored):
    """Whether a row of an unanswered call landed as it was sent."""
    return (stored["note"] == spec.note and stored["fields"] == spec.fields
            and stored["tags"] == spec.tags and stored["static_data"] == spec.static_data
            and stored["event_code"] == spec.event_code and stored["lead_guid"] == spec.lead_guid
            and stored["opportunity_guid"] == spec.opportunity_guid
            and (stored["pinned_at"] is not None) == spec.pinned)


def verify(hub, ledger, before):
    """All checks of one cycle against the server at `hub`. `before` is the latest timestamp
    verified at the end of the previous cycle. Afterwards the ledger holds what is stored (every
    unanswered write is settled one way or the other)."""
    findings = Findings()
    stored = export_all(hub)
    # The export pages by updated_at: with timestamps broken it may skip records. An acknowledged
    # activity missing from it is looked up by guid before it is counted lost.
    for guid in ledger.records.keys() - stored.keys():
        resp = hub.native("GET", f"activities/{guid}")
        if resp.status_code == 200:
            stored[guid] = resp.json()["data"]
            findings.export_missed.append(guid)
        elif resp.status_code != 404:
            raise CrashLoopError(f"GET activities/{guid} answered {resp.status_code}: "
                                 f"{resp.text[:300]}")
    by_marker = {}
    for guid, row in stored.items():
        by_marker.setdefault(marker_of(row["note"]), []).append(guid)
    explained = set()

    # Acknowledged activities: present, each attribute as its last acknowledged write left it.
    for guid, exp in ledger.records.items():
        findings.expected += 1
        row = stored.get(guid)
        if row is None:
            findings.lost.append(f"{guid} ({exp.marker})")
            continue
        explained.add(guid)
        if check_record(exp, row, findings):
            findings.found += 1

    # Unanswered create calls: every valid row or none.
    for call in ledger.pending:
        landed = [(spec, by_marker.get(spec.marker, [])) for spec in call.rows]
        count = sum(1 for _, guids in landed if guids)
        if count not in (0, len(call.rows)):
            findings.partial.append(f"{call.api} {call.rows[0].marker.rsplit('.', 1)[0]}: "
                                    f"{count} of {len(call.rows)} rows stored")
        for spec, guids in landed:
            for guid in guids:
                if guid in ledger.records:
                    continue
                explained.add(guid)
                findings.landed_unanswered += 1
                findings.expected += 1
                if check_spec(spec, stored[guid]):
                    findings.found += 1
                else:
                    findings.corrupt.append(f"{guid} ({spec.marker}, unanswered call): "
                                            f"{stored[guid]}")
                exp = spec.expected(guid, call.writer, stored[guid]["pinned_at"])
                ledger.add(exp)

    # Nothing refused, and nothing no write explains (each such record reported once).
    for guid, row in stored.items():
        if guid in explained or guid in ledger.reported:
            continue
        ledger.reported.add(guid)
        m = marker_of(row["note"])
        if m in ledger.refused:
            findings.refused_stored.append(f"{guid} ({m}): {ledger.refused[m]}")
        else:
            findings.unexplained.append(f"{guid} ({m})")

    # Timestamps: unique, ordered, later than everything before this cycle.
    latest = before
    for col in ("created_at", "updated_at"):
        counts = collections.Counter(r[col] for r in stored.values())
        dups = sorted(v for v, n in counts.items() if n > 1)
        if dups:
            findings.timestamps.append(f"{len(dups)} {col} values held by several records, e.g. "
                                       f"{dups[:3]}")
    for guid, row in stored.items():
        latest = max(latest, row["updated_at"], row["created_at"])
        if row["updated_at"] < row["created_at"]:
            findings.timestamps.append(f"{guid}: updated_at before created_at")
        exp = ledger.records.get(guid)
        if exp is None:
            continue
        if exp.created_at is None:
            if row["created_at"] <= before:
                findings.timestamps.append(f"{guid} ({exp.marker}) created in this cycle at "
                                           f"{row['created_at']}, not after {before}")
        elif row["created_at"] != exp.created_at:
            findings.timestamps.append(f"{guid}: created_at moved {exp.created_at} -> "
                                       f"{row['created_at']}")
        elif row["updated_at"] != exp.updated_at:
            if not exp.touched:
                findings.timestamps.append(f"{guid}: updated_at moved with no write")
            elif row["updated_at"] <= before:
                findings.timestamps.append(f"{guid}: updated in this cycle at {row['updated_at']}, "
                                           f"not after {before}")
    for order in ledger.batch_orders:
        times = [stored[g]["created_at"] for g in order if g in stored]
        if times != sorted(times):
            findings.timestamps.append(f"native batch rows not in request order: {order[:3]}…")

    # The Salesloft cursor walk: every record exactly once, as the export shows it.
    walk = salesloft_walk(hub, findings)
    export_ids = {row["salesloft_id"]: row for row in stored.values()}
    for sid, row in export_ids.items():
        w = walk.get(sid)
        if w is None:
            findings.walk_missing.append(sid)
            continue
        got = (w["updated_at"], w["static_data"].get("note"), w["static_data"].get("fields"),
               w["tags"], w["pinned_at"])
        want = (row["updated_at"], row["note"], row["fields"], row["tags"], row["pinned_at"])
        if got != want:
            findings.walk_other.append(f"{sid}: walk {got} != export {want}")
    for sid in walk.keys() - export_ids.keys():
        findings.walk_other.append(f"{sid}: in the walk, not in the export")

    findings.answers = [f"{k}: {d}" for k, d in ledger.violations]

    # What is stored is now the truth for the next cycle; a lost record is reported once.
    for guid, exp in list(ledger.records.items()):
        row = stored.get(guid)
        if row is None:
            ledger.forget(guid)
            continue
        for name in ATTRS:
            exp.attrs[name] = [row[name], []]
        exp.created_at, exp.updated_at = row["created_at"], row["updated_at"]
    ledger.pending = []
    ledger.batch_orders = []
    return findings, latest, stored


# ---------------------------------------------------------------------------------------------
# The loop


def run_cycle(cycle, args, store, server, ledger, world, keys, rng, before):
    ledger.start_cycle()
    disruption = store.disruption(cycle)
    stop = threading.Event()
    writers = [Writer(k, cycle, Hub(server.base, keys[k % len(keys)]), ledger, world, stop,
                      random.Random(rng.random())) for k in range(args.writers)]
    for w in writers:
        w.start()
    at = rng.uniform(0.25, 0.9) * args.seconds_per_cycle
    time.sleep(at)
    detail = ""
    if disruption == "kill -9 server":
        server.kill()
        stop.set()
        for w in writers:
            w.join()
        server.start()
    else:
        if disruption == "restart PostgreSQL":
            store.stop_immediate()
            time.sleep(rng.uniform(0.2, 1.0))
            store.start()
        else:
            detail = f" ({store.terminate_backends()} connections)"
        time.sleep(max(0.0, args.seconds_per_cycle - at))
        stop.set()
        for w in writers:
            w.join()
        if not server.alive():
            raise CrashLoopError(f"the server died during '{disruption}'")
    errors = [e for w in writers for e in w.errors]
    if errors:
        raise CrashLoopError(f"writer failed: {errors[0]}")
    acked_calls = sum(ledger.acked.values())
    unanswered = ledger.unanswered
    acked_rows, acked_updates = ledger.acked_rows, ledger.acked_updates
    findings, latest, stored = verify(Hub(server.base, keys[0]), ledger, before)
    status = "ok" if findings.problems() == 0 else "FAIL"
    print(f"cycle {cycle + 1:>2} {store.name} {disruption}{detail} at {at:.1f}s: "
          f"acknowledged {acked_calls} writes ({acked_rows} activities created, "
          f"{acked_updates} updates), unanswered {unanswered} "
          f"(landed {findings.landed_unanswered} rows) | expected records "
          f"{findings.expected}: "
          f"found {findings.found}, lost {len(findings.lost)}, corrupt {len(findings.corrupt)}, "
          f"partial bulks {len(findings.partial)}, refused-but-stored "
          f"{len(findings.refused_stored)}, unexplained {len(findings.unexplained)}, "
          f"timestamp violations {len(findings.timestamps)} | walk {findings.walk_seen} rows: "
          f"duplicate {len(findings.walk_duplicates)}, missing {len(findings.walk_missing)}, "
          f"other {len(findings.walk_other)} | export skipped {len(findings.export_missed)} | "
          f"answers contradicting requests "
          f"{len(findings.answers)} | {status}", flush=True)
    for line in findings.examples():
        print(line, flush=True)
    counts = {"acked": acked_calls, "rows": acked_rows, "updates": acked_updates,
              "unanswered": unanswered, "landed": findings.landed_unanswered,
              "lost": len(findings.lost), "corrupt": len(findings.corrupt),
              "walk_duplicates": len(findings.walk_duplicates), "problems": findings.problems()}
    return findings, latest, counts, len(stored)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default=os.path.join(REPO, "target", "release", "activity-hub"))
    ap.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--cycles", type=int, default=20)
    ap.add_argument("--seconds-per-cycle", type=float, default=8.0)
    ap.add_argument("--writers", type=int, default=8)
    ap.add_argument("--seed", type=int, default=None,
                    help="seeds the random choices (thread timing still varies)")
    ap.add_argument("--pg-bin", default="/usr/lib/postgresql/15/bin")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (stores, logs)")
    args = ap.parse_args()
    if args.cycles < 1 or args.writers < 1 or args.seconds_per_cycle <= 0:
        ap.error("--cycles, --writers and --seconds-per-cycle must be positive")
    if not os.access(args.bin, os.X_OK):
        print(f"no executable at {args.bin} (build it first)", file=sys.stderr)
        return 2
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    rng = random.Random(seed)
    workdir = tempfile.mkdtemp(prefix="crash-loop-")
    log(f"{args.backend}, {args.cycles} cycles of {args.seconds_per_cycle}s, "
        f"{args.writers} writers, seed {seed}, binary {args.bin}, work directory {workdir}")
    store = None
    server = None
    totals = collections.Counter()
    try:
        if args.backend == "sqlite":
            store = SqliteStore(workdir)
        else:
            store = PgCluster(workdir, args.pg_bin)
        server = HubServer(os.path.abspath(args.bin), store.url, workdir)
        server.start()
        ledger = Ledger()
        world, keys = set_up(args.bin, store.url, server.base, ledger)
        before = "0000"
        findings = None
        records = 0
        for cycle in range(args.cycles):
            findings, before, counts, records = run_cycle(
                cycle, args, store, server, ledger, world, keys, rng, before)
            totals.update(counts)
    except CrashLoopError as e:
        print(f"crash loop could not run: {e}", file=sys.stderr)
        return 2
    finally:
        if server:
            server.kill()
        if store:
            store.close()
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    never = [api for api in ("lsq create", "lsq bulk by lead", "lsq bulk by opportunity",
                             "lsq update", "native batch", "native patch", "native pin",
                             "native unpin", "native tags") if not ledger.acked_total.get(api)]
    print(f"TOTAL {args.backend} {args.cycles} cycles: acknowledged {totals['acked']} writes "
          f"({totals['rows']} activities created, {totals['updates']} updates), unanswered "
          f"{totals['unanswered']} ({totals['landed']} rows landed); after the last cycle "
          f"{records} records stored, {findings.expected} expected (acknowledged, and unanswered "
          f"rows that landed): found {findings.found}; over all cycles lost {totals['lost']}, "
          f"corrupt {totals['corrupt']}, duplicate-in-walk {totals['walk_duplicates']}, "
          f"violations {totals['problems']}; acknowledged per call: "
          + ", ".join(f"{k} {v}" for k, v in sorted(ledger.acked_total.items())), flush=True)
    if never:
        print(f"FAIL: never acknowledged, so not tested: {', '.join(never)}", flush=True)
        return 1
    if totals["problems"]:
        print("FAIL: acknowledged writes lost or properties violated (see above)", flush=True)
        return 1
    print("PASS", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
