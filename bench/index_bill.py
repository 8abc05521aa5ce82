#!/usr/bin/env python3
"""The write path's index bill on SQLite: for each index on `activities`, the read shapes it serves
and what those pages cost without it; then what Create and bulk-25 gain when the candidate drops are
dropped.

On one kept SQLite store loaded by bench/run.py (the same store throughout, no copies):

1. Probes (added once, through `activity-hub import` and `user create` while no server runs, and
   remembered in DIR/s<scale>/index_bill.json): a "heavy" lead (the first bench lead) given
   --heavy more activities, a Sales_User `rare@bench.example` owning 20 leads with 5 activities each
   (of which they are the owner), 50 meetings and 50 pinned activities on random leads. The bench
   store alone has one owner, no meeting, no pinned row and 50 activities per lead, so without them
   a missing index could not show its worst case (a rare owner, type or pin walks the tenant; a big
   lead sorts all its rows).
2. Reads, per index (every index on `activities` but the primary key, from sqlite_master): each
   shape it serves (SHAPES: URL, method, body) is timed on one keep-alive connection (--warm
   requests discarded, then --requests sequential ones, capped at --shape-seconds: median, p90);
   the server is stopped, `PRAGMA wal_checkpoint(TRUNCATE)`, `DROP INDEX`, the server restarted,
   the same shapes timed, the server stopped, the index re-created with its own sqlite_master.sql.
   Planner statistics are dropped first (drop_stats; --keep-stats keeps them). A re-created index
   moves to the end of sqlite_master, and without statistics SQLite breaks cost ties by that order
   (activities_occurred vs activities_pinned_occurred: pinned=true went from 0.4 ms to 2-4 s).
   The definitions are saved in index_bill.json first: a run that is interrupted re-creates any
   missing index on its next start (also --restore-only).
3. Writes: wrk (run.py's settings: -t1 -c16, --duration s after --warmup s, scenario.lua) runs
   /healthz, create, bulk_lead, /healthz on the store with every index (A) and with the --drop
   indexes dropped and the --add statements created (B), alternating A/B for --rounds rounds; each
   write rate is a ratio to the mean /healthz of its own step (bulk counts activities, as run.py).
   The read shapes touched by B are also timed on A and on B (the variant's read price).

Prints markdown tables (and with --json writes the raw figures). Exits non-zero only when it cannot
do its job (no store, server does not start, a shape answers non-2xx with every index).

Usage (from the repository root; no build: pass a binary):
    python3 bench/run.py --binary /tmp/idx/ah --scales 1000000 --no-peer --store-dir /tmp/idx/stores \\
        --keep --scenarios retrieve                       # once: a kept 1M store (index_bill runs this
                                                          # itself when the store is missing)
    python3 bench/index_bill.py --binary /tmp/idx/ah --store-dir /tmp/idx/stores --scale 1000000 \\
        --json /tmp/idx/bill.json                         # reads for every index, then the write A/B
    python3 bench/index_bill.py ... --only-writes --drop activities_lead_event,activities_lead_updated
    python3 bench/index_bill.py ... --indexes activities_sl_id --no-writes   # one index's reads
    python3 bench/index_bill.py ... --restore-only        # re-create any index an interrupted run left dropped
Only the standard library (and wrk, installed by run.py's ensure_wrk when missing).
"""

import argparse
import http.client
import json
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (bench/run.py: Server, run_wrk, summarize, ensure_wrk)

REPO = run.REPO
RARE_EMAIL = "rare@bench.example"
# Default B of the write A/B: the indexes whose pages stay bounded without them (see the results).
DEFAULT_DROP = "activities_lead_event,activities_lead_updated,activities_res_updated,activities_pinned"


def log(msg):
    print(f"[index_bill {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def uptime():
    try:
        with open("/proc/loadavg") as f:
            return "load average " + ", ".join(f.read().split()[:3])
    except OSError:
        return "?"


# ---- the read shapes --------------------------------------------------------------------------
# name, method, path template, body, auth, indexes it is served by (per docs/query-plans.md and
# the statements of src/store/sql.rs), what it shows. Auth: lsq (the admin's LeadSquared keys),
# sl (the admin's Bearer key), rare_sl (the Sales_User's Bearer key), native (the admin, /api/v1).
# Placeholders filled from the store: {lead} {heavy} (GUIDs), {heavy_id} (integer id, the Salesloft
# person), {opp}, {rare_guid}, {act_guid}, {mid_updated}, {mid_occurred}, {from}, {to}.
PAGE = '{"Paging":{"PageIndex":1,"PageSize":25}}'
SHAPES = [
    ("retrieve", "POST", "/v2/ProspectActivity.svc/Retrieve?leadId={lead}", PAGE, "lsq",
     ["activities_lead_occurred", "activities_lead_event"], "a lead of 50: page + exact count"),
    ("retrieve_heavy", "POST", "/v2/ProspectActivity.svc/Retrieve?leadId={heavy}", PAGE, "lsq",
     ["activities_lead_occurred", "activities_lead_event"], "the heavy lead: page + exact count"),
    ("retrieve_event", "POST", "/v2/ProspectActivity.svc/Retrieve?leadId={lead}",
     '{"Parameter":{"ActivityEvent":201},"Paging":{"PageIndex":1,"PageSize":25}}', "lsq",
     ["activities_lead_event"], "a lead of 50, ActivityEvent=201"),
    ("retrieve_event_heavy", "POST", "/v2/ProspectActivity.svc/Retrieve?leadId={heavy}",
     '{"Parameter":{"ActivityEvent":105},"Paging":{"PageIndex":1,"PageSize":25}}', "lsq",
     ["activities_lead_event"], "the heavy lead, ActivityEvent=105 (1 row in 5)"),
    ("retrieve_modified", "POST", "/v2/ProspectActivity.svc/Retrieve?leadId={lead}",
     '{"Paging":{"PageIndex":1,"PageSize":25},"Sorting":{"ColumnName":"ModifiedOn","Direction":1}}', "lsq",
     ["activities_lead_updated"], "a lead of 50, Sorting ModifiedOn"),
    ("retrieve_modified_heavy", "POST", "/v2/ProspectActivity.svc/Retrieve?leadId={heavy}",
     '{"Paging":{"PageIndex":1,"PageSize":25},"Sorting":{"ColumnName":"ModifiedOn","Direction":1}}', "lsq",
     ["activities_lead_updated"], "the heavy lead, Sorting ModifiedOn"),
    ("retrieve_range_heavy", "POST", "/v2/ProspectActivity.svc/Retrieve?leadId={heavy}",
     '{"Parameter":{"FromDate":"{from}","ToDate":"{to}"},"Paging":{"PageIndex":1,"PageSize":25}}', "lsq",
     ["activities_lead_occurred", "activities_lead_event"], "the heavy lead, FromDate/ToDate (a month)"),
    ("opp_activities", "POST", "/v2/OpportunityManagement.svc/GetActivitiesOfOpportunity?opportunityId={opp}",
     '{"Paging":{"PageIndex":1,"PageSize":25},"Sorting":{"ColumnName":"LeadOwner","Direction":1}}', "lsq",
     ["activities_opportunity"], "an opportunity's 50 activities"),
    ("feed", "GET", "/v2/activity_histories?per_page=25", None, "sl",
     ["activities_occurred"], "the tenant, occurred_at DESC"),
    ("feed_occurred_lt", "GET", "/v2/activity_histories?sort_by=occurred_at&sort_direction=desc"
     "&occurred_at%5Blt%5D={mid_occurred}", None, "sl", ["activities_occurred"], "occurred_at[lt] mid"),
    ("feed_cursor", "GET", "/v2/activity_histories?sort_by=updated_at&sort_direction=asc"
     "&updated_at%5Bgt%5D={mid_updated}&per_page=100", None, "sl", ["activities_updated"],
     "updated_at[gt] cursor, 100"),
    ("crm_activities", "GET", "/v2/crm_activities?per_page=25", None, "sl", ["activities_updated"],
     "crm_activities, updated_at DESC"),
    ("native_get", "GET", "/api/v1/activities/{act_guid}", None, "native", ["activities_guid"],
     "one activity by GUID"),
    ("feed_meeting", "GET", "/v2/activity_histories?type=meeting", None, "sl",
     ["activities_sl_occurred"], "type=meeting (50 in the tenant)"),
    ("meetings", "GET", "/v2/meetings?per_page=25", None, "sl", ["activities_sl_occurred"],
     "meetings, start_time DESC"),
    ("meetings_cursor", "GET", "/v2/meetings?sort_by=updated_at&sort_direction=asc"
     "&updated_at%5Bgt%5D=2000-01-01T00:00:00Z", None, "sl", ["activities_sl_updated"],
     "meetings, updated_at[gt] ASC"),
    ("notes", "GET", "/v2/notes?per_page=25", None, "sl", ["activities_sl_updated"], "notes, updated_at DESC"),
    ("calls", "GET", "/v2/activities/calls?per_page=25", None, "sl", ["activities_sl_updated"],
     "calls, updated_at DESC"),
    ("notes_created", "GET", "/v2/notes?sort_by=created_at&sort_direction=asc", None, "sl",
     ["activities_sl_id"], "notes by created_at ASC"),
    ("calls_created", "GET", "/v2/activities/calls?sort_by=created_at", None, "sl",
     ["activities_sl_id"], "calls by created_at DESC"),
    ("feed_person", "GET", "/v2/activity_histories?resource_type=person&resource_id={heavy_id}", None, "sl",
     ["activities_res_occurred"], "the heavy lead as a person"),
    ("feed_person_note_updated", "GET", "/v2/activity_histories?resource_type=person&resource_id={heavy_id}"
     "&type=note&sort_by=updated_at&include_paging_counts=true", None, "sl",
     ["activities_res_updated", "activities_res_occurred"], "the heavy person's notes by updated_at, counted"),
    ("calls_of_person", "GET", "/v2/activities/calls?person_id={heavy_id}", None, "sl",
     ["activities_res_updated"], "the heavy person's calls, updated_at DESC"),
    ("notes_of_person", "GET", "/v2/notes?associated_with_type=person&associated_with_id={heavy_id}", None, "sl",
     ["activities_res_updated"], "the heavy person's notes"),
    ("feed_person_typ", "GET", "/v2/activity_histories?resource_type=person&resource_id={lead_id}", None, "sl",
     ["activities_res_occurred"], "a person of 50"),
    ("calls_of_person_typ", "GET", "/v2/activities/calls?person_id={lead_id}", None, "sl",
     ["activities_res_updated"], "a person of 50: calls, updated_at DESC"),
    ("notes_of_person_typ", "GET", "/v2/notes?associated_with_type=person&associated_with_id={lead_id}", None, "sl",
     ["activities_res_updated"], "a person of 50: notes"),
    ("feed_user_rare", "GET", "/v2/activity_histories?user_guid={rare_guid}", None, "sl",
     ["activities_owner_occurred"], "user_guid of an owner of 100"),
    ("feed_user_rare_updated", "GET", "/v2/activity_histories?user_guid={rare_guid}&sort_by=updated_at", None,
     "sl", ["activities_owner_updated"], "the same by updated_at"),
    ("feed_user_admin", "GET", "/v2/activity_histories?user_guid={admin_guid}", None, "sl",
     ["activities_owner_occurred"], "user_guid of the owner of nearly all"),
    ("feed_user_admin_updated", "GET", "/v2/activity_histories?user_guid={admin_guid}&sort_by=updated_at", None,
     "sl", ["activities_owner_updated"], "the same by updated_at"),
    ("feed_sales_user", "GET", "/v2/activity_histories?per_page=25", None, "rare_sl",
     ["activities_leadowner_occurred"], "Sales_User owning 20 leads (100 activities)"),
    ("feed_sales_user_updated", "GET", "/v2/activity_histories?sort_by=updated_at", None, "rare_sl",
     ["activities_leadowner_updated"], "the same by updated_at"),
    ("calls_sales_user", "GET", "/v2/activities/calls?per_page=25", None, "rare_sl",
     ["activities_leadowner_updated"], "the Sales_User's calls"),
    ("pinned", "GET", "/v2/activity_histories?pinned=true", None, "sl",
     ["activities_pinned_occurred", "activities_pinned"], "pinned=true (50 pinned)"),
    ("pinned_updated", "GET", "/v2/activity_histories?pinned=true&sort_by=updated_at", None, "sl",
     ["activities_pinned_updated", "activities_pinned"], "pinned=true by updated_at"),
]


# EXPLAIN QUERY PLAN evidence for the lead and person shapes: the statements src/store/sql.rs builds
# for them (the activities part; the page statement's joins reach other tables by primary key),
# run with Python's sqlite3 on the store file while no server runs (its SQLite may be older than
# the binary's: the plans are evidence, the latencies are the measurement).
LEAD = "a.tenant_id = 1 AND a.lead_id = {%s} AND +a.event_code < 12000"
PERSON = "a.tenant_id = 1 AND a.sl_type IN ('%s') AND ((a.res_kind = 'person' AND a.res_id = {heavy_id}))"
OCC = " ORDER BY a.occurred_at DESC NULLS LAST, a.id DESC LIMIT 25 OFFSET 0"
UPD = " ORDER BY a.updated_at DESC NULLS LAST, a.id DESC LIMIT 25 OFFSET 0"
# The "+" variants are not what the store runs today: they are the hint src/store/sql.rs already
# gives the opportunity sort (`+a.updated_at` when opportunity_id is set), applied to a lead, to
# show what a drop costs once the planner is kept off the tenant-wide date index.
EQP = []
for who in ("lead_id", "heavy_id"):
    EQP += [
        (f"{who}: retrieve page", f"SELECT a.id FROM activities a WHERE {LEAD % who}{OCC}"),
        (f"{who}: retrieve page, +occurred_at", f"SELECT a.id FROM activities a WHERE {LEAD % who}"
         + OCC.replace("a.occurred_at", "+a.occurred_at")),
        (f"{who}: retrieve count", f"SELECT count(*) FROM activities a WHERE {LEAD % who}"),
        (f"{who}: retrieve_event page", f"SELECT a.id FROM activities a WHERE {LEAD % who} AND a.event_code IN (105)"
         + OCC),
        (f"{who}: retrieve_event count", f"SELECT count(*) FROM activities a WHERE {LEAD % who} "
         "AND a.event_code IN (105)"),
        (f"{who}: retrieve_modified page", f"SELECT a.id FROM activities a WHERE {LEAD % who}{UPD}"),
        (f"{who}: retrieve_modified page, +updated_at", f"SELECT a.id FROM activities a WHERE {LEAD % who}"
         + UPD.replace("a.updated_at", "+a.updated_at")),
    ]
EQP += [
    ("heavy person: calls page", "SELECT a.id FROM activities a WHERE " + PERSON % "call" + UPD),
    ("heavy person: calls page, +updated_at", "SELECT a.id FROM activities a WHERE " + PERSON % "call"
     + UPD.replace("a.updated_at", "+a.updated_at")),
    ("heavy person: notes count", "SELECT count(*) FROM activities a WHERE " + PERSON % "note"),
]


def shapes_for(index):
    return [s for s in SHAPES if index in s[5]]


class Bill:
    def __init__(self, o):
        self.o = o
        self.dir = os.path.join(o.store_dir, f"s{o.scale}")
        self.db = os.path.join(self.dir, "bench.db")
        self.datadir = os.path.join(self.dir, "data")
        self.state_path = os.path.join(self.dir, "state.json")
        self.bill_path = os.path.join(self.dir, "index_bill.json")
        self.server = None
        self.conns = {}
        self.out = {"load": [], "reads": [], "variant_reads": [], "writes": []}

    # ---- the store ---------------------------------------------------------------------------
    def ensure_store(self):
        if not (os.path.exists(self.db) and os.path.exists(self.state_path)):
            cmd = [sys.executable, os.path.join(REPO, "bench", "run.py"), "--binary", self.o.binary,
                   "--scales", str(self.o.scale), "--no-peer", "--store-dir", self.o.store_dir, "--keep",
                   "--scenarios", "retrieve", "--duration", "1", "--warmup", "0"]
            log("no kept store: loading one with " + " ".join(cmd))
            if subprocess.run(cmd, stdout=subprocess.DEVNULL).returncode != 0:
                raise run.HarnessError("bench/run.py could not load the store")
        with open(self.state_path) as f:
            st = json.load(f)
        self.keys, self.config = st["keys"], st["config"]
        self.leads, self.opps = [tuple(x) for x in st["leads"]], st["opps"]
        self.bill = {}
        if os.path.exists(self.bill_path):
            with open(self.bill_path) as f:
                self.bill = json.load(f)

    def save_bill(self):
        tmp = self.bill_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.bill, f, indent=1)
        os.replace(tmp, self.bill_path)

    def sql(self, statement, args=()):
        c = sqlite3.connect(self.db, timeout=60)
        try:
            rows = c.execute(statement, args).fetchall()
            c.commit()
            return rows
        finally:
            c.close()

    def checkpoint_exec(self, statements):
        """With the server stopped: the WAL folded into the file, then each statement (DDL)."""
        c = sqlite3.connect(self.db, timeout=60, isolation_level=None)
        try:
            c.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            for s in statements:
                c.execute(s)
            c.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        finally:
            c.close()

    def live_indexes(self):
        return {n: s for n, s in self.sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'activities' "
            "AND sql IS NOT NULL ORDER BY name")}

    def restore_indexes(self):
        """Re-creates every saved definition the store lacks (an interrupted run) and drops any index
        this script added (--add) that is still there."""
        saved = self.bill.get("indexes") or {}
        live = self.live_indexes()
        todo = [s for n, s in saved.items() if n not in live]
        extra = [n for n in (self.bill.get("added") or []) if n in live and n not in saved]
        if todo or extra:
            self.stop()
            log(f"restoring {len(todo)} index(es), dropping {len(extra)} added one(s)")
            self.checkpoint_exec([f"DROP INDEX {n}" for n in extra] + todo)
        self.bill["added"] = []
        self.save_bill()

    def drop_stats(self):
        """The store as run.py loads it has no planner statistics; `activity-hub import` (the probes)
        runs PRAGMA optimize, which samples some indexes, and every DROP INDEX then deletes its row:
        plans of unrelated shapes moved between steps (a default feed page took 0.9 s on one step).
        So the statistics go, and every step is planned alike (--keep-stats leaves them)."""
        stats = [n for (n,) in self.sql("SELECT name FROM sqlite_master WHERE name LIKE 'sqlite_stat%'")]
        if stats and not self.o.keep_stats:
            self.stop()
            log(f"dropping the planner statistics ({', '.join(stats)})")
            self.checkpoint_exec([f"DROP TABLE {n}" for n in stats])
            self.bill["stats_dropped"] = stats
            self.save_bill()

    def cli(self, args):
        p = subprocess.run([self.o.binary] + args + ["--db", f"sqlite://{self.db}"], capture_output=True, text=True)
        if p.returncode != 0:
            raise run.HarnessError(f"activity-hub {' '.join(args[:2])} failed: {p.stderr.strip()[-400:]}")
        return p.stdout

    def ensure_probes(self):
        if self.bill.get("probes"):
            return
        self.stop()
        log("adding the probes (heavy lead, rare Sales_User, meetings, pinned)")
        tenant = self.keys["tenant_id"]
        if not self.sql("SELECT 1 FROM users WHERE email = ?", (RARE_EMAIL,)):
            out = self.cli(["user", "create", "--tenant", tenant, "--email", RARE_EMAIL, "--first-name", "Rare",
                            "--last-name", "Owner", "--role", "Sales_User", "--json"])
            rare = json.loads(out.strip().splitlines()[-1])
        else:
            raise run.HarnessError(f"{RARE_EMAIL} exists but index_bill.json has no probes: rebuild the store")
        rnd = random.Random(23)
        work = os.path.join(self.dir, "probes")
        os.makedirs(work, exist_ok=True)
        rare_leads = [str(uuid.UUID(int=rnd.getrandbits(128), version=4)) for _ in range(20)]
        with open(os.path.join(work, "leads.ndjson"), "w") as f:
            for i, g in enumerate(rare_leads):
                f.write(json.dumps({"guid": g, "first_name": "Rare", "last_name": str(i),
                                    "email": f"rare-lead{i}@bench.example", "owner": RARE_EMAIL}) + "\n")
        self.cli(["import", "--tenant", tenant, "--kind", "leads", "--progress", "none",
                  "--state", os.path.join(work, "leads.state"), "--rejects", os.path.join(work, "leads.rejects"),
                  os.path.join(work, "leads.ndjson")])
        admin = self.config["owner_email"]
        heavy = self.leads[0][0]

        def when():
            return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1700000000 + rnd.randrange(63000000)))

        rows = []
        for i in range(self.o.heavy):  # the heavy lead: four in five of the custom type, as the load
            rows.append({"event_code": int(self.config["event"]) if i % 5 != 4 else 105, "lead": heavy,
                         "owner": admin, "occurred_at": when(), "note": f"heavy {i}"})
        for i, g in enumerate(rare_leads):
            for j in range(5):
                rows.append({"event_code": int(self.config["event"]), "lead": g, "owner": RARE_EMAIL,
                             "occurred_at": when(), "note": f"rare {i}.{j}"})
        for i in range(50):
            rows.append({"event_code": 102, "lead": rnd.choice(self.leads)[0], "owner": admin,
                         "occurred_at": when(), "note": f"meeting {i}"})
        for i in range(50):
            rows.append({"event_code": int(self.config["event"]), "lead": rnd.choice(self.leads)[0],
                         "owner": admin, "occurred_at": when(), "note": f"pinned {i}", "pinned": True})
        with open(os.path.join(work, "activities.ndjson"), "w") as f:
            for k, r in enumerate(rows):
                r["guid"] = str(uuid.UUID(int=rnd.getrandbits(128), version=4))
                f.write(json.dumps(r) + "\n")
        self.cli(["import", "--tenant", tenant, "--progress", "none", "--batch", "5000",
                  "--state", os.path.join(work, "activities.state"),
                  "--rejects", os.path.join(work, "activities.rejects"), os.path.join(work, "activities.ndjson")])
        rejects = os.path.join(work, "activities.rejects")
        if os.path.exists(rejects) and os.path.getsize(rejects):
            raise run.HarnessError(f"probe rows were rejected: see {rejects}")
        self.bill["probes"] = {"rare": rare, "rare_leads": rare_leads, "heavy": heavy,
                               "heavy_added": self.o.heavy, "rows": len(rows)}
        self.save_bill()

    def params(self):
        p = self.bill["probes"]
        heavy = p["heavy"]
        (heavy_id,) = self.sql("SELECT id FROM leads WHERE guid = ?", (heavy,))[0]
        (rare_guid,) = self.sql("SELECT guid FROM users WHERE email = ?", (RARE_EMAIL,))[0]
        (admin_guid,) = self.sql("SELECT guid FROM users WHERE email = ?", (self.config["owner_email"],))[0]
        n = self.sql("SELECT count(*) FROM activities")[0][0]
        (mid_updated,) = self.sql("SELECT updated_at FROM activities WHERE tenant_id = 1 ORDER BY updated_at "
                                  "LIMIT 1 OFFSET ?", (n // 2,))[0]
        (act_guid,) = self.sql("SELECT guid FROM activities WHERE id = (SELECT max(id) / 2 FROM activities)")[0]

        def iso(us):
            return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(us // 1_000_000)) + f".{us % 1_000_000:06d}Z"

        mid_occ = 1700000000 + 31500000
        (lead_id,) = self.sql("SELECT id FROM leads WHERE guid = ?", (self.leads[1][0],))[0]
        return {"lead": self.leads[1][0], "lead_id": lead_id, "heavy": heavy, "heavy_id": heavy_id, "opp": self.opps[0],
                "rare_guid": rare_guid, "admin_guid": admin_guid, "act_guid": act_guid, "mid_updated": urllib.parse.quote(iso(mid_updated)),
                "mid_occurred": urllib.parse.quote(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(mid_occ))),
                "from": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(mid_occ)),
                "to": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(mid_occ + 30 * 86400))}

    # ---- the server --------------------------------------------------------------------------
    def start(self):
        if self.server and self.server.proc and self.server.proc.poll() is None:
            return
        self.server = run.Server(self.o.binary, f"sqlite://{self.db}", self.dir)
        self.server.start()
        self.conns = {}

    def stop(self):
        for c in self.conns.values():
            c.close()
        self.conns = {}
        if self.server:
            self.server.stop()
            self.server = None

    def url(self):
        return f"http://{self.server.host}:{self.server.port}"

    def headers(self, auth):
        p = self.bill.get("probes", {})
        if auth == "lsq":
            return {"x-LSQ-AccessKey": self.keys["access_key"], "x-LSQ-SecretKey": self.keys["secret_key"],
                    "Content-Type": "application/json"}
        if auth == "rare_sl":
            return {"Authorization": "Bearer " + p["rare"]["api_key"]}
        return {"Authorization": "Bearer " + self.keys["api_key"]}

    def request(self, method, path, body, headers):
        c = self.conns.get("c")
        if c is None:
            c = self.conns["c"] = http.client.HTTPConnection(self.server.host, self.server.port, timeout=300)
        t0 = time.perf_counter()
        c.request(method, path, body=body.encode() if body is not None else None, headers=headers)
        r = c.getresponse()
        raw = r.read()
        return time.perf_counter() - t0, r.status, raw

    def time_shape(self, shape, params):
        name, method, path, body, auth, _, _ = shape
        path = path.format(**params)
        if body is not None:
            for k in ("from", "to"):
                body = body.replace("{%s}" % k, params[k])
        h = self.headers(auth)
        _, status, raw = self.request(method, path, body, h)
        if status != 200:
            return {"shape": name, "status": status, "error": raw[:300].decode(errors="replace")}
        rows = None
        try:
            doc = json.loads(raw)
            if isinstance(doc, dict):
                for k in ("data", "ProspectActivities", "List"):
                    if isinstance(doc.get(k), list):
                        rows = len(doc[k])
                        break
                if rows is None and isinstance(doc.get("data"), dict):
                    rows = 1
        except ValueError:
            pass
        for _ in range(self.o.warm - 1):
            self.request(method, path, body, h)
        times = []
        t_end = time.time() + self.o.shape_seconds
        while len(times) < self.o.requests and (time.time() < t_end or len(times) < 3):
            dt, status, _ = self.request(method, path, body, h)
            if status != 200:
                return {"shape": name, "status": status, "error": "non-200 while timing"}
            times.append(dt * 1000)
        times.sort()
        return {"shape": name, "status": 200, "rows": rows, "n": len(times),
                "median_ms": round(statistics.median(times), 3),
                "p90_ms": round(times[min(len(times) - 1, int(0.9 * len(times)))], 3)}

    def time_shapes(self, shapes, params):
        self.start()
        return {s[0]: self.time_shape(s, params) for s in shapes}

    # ---- phases ------------------------------------------------------------------------------
    def reads(self, params):
        saved = self.bill["indexes"]
        names = [n for n in saved if not self.o.indexes or n in self.o.indexes]
        for name in names:
            shapes = shapes_for(name)
            if not shapes:
                log(f"{name}: no shape listed; skipped")
                continue
            load = uptime()
            with_ = self.time_shapes(shapes, params)
            for r in with_.values():
                if r["status"] != 200:
                    raise run.HarnessError(f"{r['shape']} answered {r['status']} with every index: {r.get('error')}")
            self.stop()
            t0 = time.time()
            self.checkpoint_exec([f"DROP INDEX {name}"])
            without = self.time_shapes(shapes, params)
            self.stop()
            t1 = time.time()
            self.checkpoint_exec([saved[name]])
            build_s = time.time() - t1
            size = self.index_size(name)
            row = {"index": name, "sql": saved[name], "load": load, "with": with_, "without": without,
                   "drop_s": round(t1 - t0, 1), "rebuild_s": round(build_s, 1), "pages": size}
            self.out["reads"].append(row)
            log(f"{name}: " + "; ".join(
                f"{s}: {with_[s].get('median_ms')} -> {without[s].get('median_ms', without[s].get('status'))} ms"
                for s in with_) + f" (rebuilt in {build_s:.0f} s)")
        self.start()

    def index_size(self, name):
        try:
            return self.sql("SELECT count(*) FROM dbstat WHERE name = ?", (name,))[0][0]
        except sqlite3.Error:
            return None

    def set_variant(self, variant):
        """A: every saved index, none added. B: --drop dropped, --add created."""
        self.stop()
        live = self.live_indexes()
        saved = self.bill["indexes"]
        stmts = []
        if variant == "A":
            stmts += [f"DROP INDEX {n}" for n in self.bill.get("added", []) if n in live]
            stmts += [saved[n] for n in saved if n not in live]
            self.bill["added"] = []
        else:
            stmts += [f"DROP INDEX {n}" for n in self.o.drop if n in live]
            for add in self.o.add:
                n = add.split()[2] if add.upper().startswith("CREATE INDEX") else add.split()[3]
                if n not in live:
                    stmts.append(add)
                    self.bill.setdefault("added", []).append(n)
        self.save_bill()
        t0 = time.time()
        self.checkpoint_exec(stmts)
        log(f"variant {variant}: {len(stmts)} statement(s) in {time.time() - t0:.0f} s")
        self.start()

    def plans(self, params):
        out = {}
        c = sqlite3.connect(self.db, timeout=60)
        try:
            for name, stmt in EQP:
                stmt = stmt.format(**params)
                rows = c.execute("EXPLAIN QUERY PLAN " + stmt).fetchall()
                times = []
                for _ in range(5):
                    t0 = time.perf_counter()
                    c.execute(stmt).fetchall()
                    times.append((time.perf_counter() - t0) * 1000)
                out[name] = {"plan": [r[-1] for r in rows], "ms": round(statistics.median(times), 3)}
        finally:
            c.close()
        return out

    def wrk(self, scenario):
        run.ensure_wrk()
        o = self.o
        seed = random.randrange(1 << 30)
        if o.warmup:
            run.run_wrk(self.url(), scenario, self.datadir, o.warmup, o.connections, o.threads, seed)
        r = run.summarize(run.run_wrk(self.url(), scenario, self.datadir, o.duration, o.connections,
                                      o.threads, seed))
        if r["requests"] == 0:
            raise run.HarnessError(f"{scenario} completed no request")
        return r

    def writes(self, params):
        affected = sorted({s for n in self.o.drop for s in (x[0] for x in shapes_for(n))})
        shapes = [s for s in SHAPES if s[0] in affected]
        for rnd_i in range(self.o.rounds):
            for variant in ("A", "B"):
                self.set_variant(variant)
                if rnd_i == 0 and shapes:
                    self.stop()
                    plans = self.plans(params)
                    self.out["variant_reads"].append({"variant": variant, "load": uptime(), "plans": plans,
                                                      "shapes": self.time_shapes(shapes, params)})
                    self.stop()
                    self.start()
                step = {"round": rnd_i + 1, "variant": variant, "load_before": uptime(),
                        "activities_before": self.sql("SELECT count(*) FROM activities")[0][0]}
                hz1 = self.wrk("healthz")
                create = self.wrk("create")
                bulk = self.wrk("bulk_lead")
                hz2 = self.wrk("healthz")
                hz = (hz1["rps"] + hz2["rps"]) / 2
                step.update(healthz=[round(hz1["rps"]), round(hz2["rps"])], create=create, bulk=bulk,
                            create_ratio=round(create["rps"] / hz, 4), bulk_ratio=round(bulk["rps"] * 25 / hz, 4),
                            load_after=uptime())
                self.out["writes"].append(step)
                log(f"round {rnd_i + 1} {variant}: create {create['rps']:.0f}/s ({step['create_ratio']:.3f}), "
                    f"bulk {bulk['rps'] * 25:.0f} act/s ({step['bulk_ratio']:.3f}), healthz {hz:.0f}")
        self.set_variant("A")

    # ---- report ------------------------------------------------------------------------------
    def report(self):
        w = []
        if self.out["reads"]:
            w.append("| index | shape | rows | with: median / p90 ms | without: median / p90 ms (n) | without ÷ with |")
            w.append("|---|---|---:|---:|---:|---:|")
            for r in self.out["reads"]:
                for s, a in r["with"].items():
                    b = r["without"][s]
                    if b.get("status") != 200:
                        w.append(f"| {r['index']} | {s} | {a.get('rows')} | {a['median_ms']} / {a['p90_ms']} "
                                 f"| answered {b.get('status')} | |")
                        continue
                    w.append(f"| {r['index']} | {s} | {a.get('rows')} | {a['median_ms']:.2f} / {a['p90_ms']:.2f} "
                             f"| {b['median_ms']:.2f} / {b['p90_ms']:.2f} ({b['n']}) "
                             f"| {b['median_ms'] / a['median_ms']:.1f}× |")
        if self.out["variant_reads"]:
            w.append("")
            w.append("Variant B's read price (B = --drop " + ",".join(self.o.drop)
                     + ("; --add " + " ; ".join(self.o.add) if self.o.add else "") + "):")
            w.append("")
            a = next(v for v in self.out["variant_reads"] if v["variant"] == "A")["shapes"]
            b = next(v for v in self.out["variant_reads"] if v["variant"] == "B")["shapes"]
            w.append("| shape | A median / p90 ms | B median / p90 ms | B ÷ A |")
            w.append("|---|---:|---:|---:|")
            for s in a:
                w.append(f"| {s} | {a[s]['median_ms']:.2f} / {a[s]['p90_ms']:.2f} | {b[s]['median_ms']:.2f} / "
                         f"{b[s]['p90_ms']:.2f} | {b[s]['median_ms'] / a[s]['median_ms']:.2f}× |")
            pa = next(v for v in self.out["variant_reads"] if v["variant"] == "A")["plans"]
            pb = next(v for v in self.out["variant_reads"] if v["variant"] == "B")["plans"]
            w.append("")
            w.append(f"EXPLAIN QUERY PLAN and in-store time (Python's SQLite {sqlite3.sqlite_version}, median of 5; "
                     "the binary's SQLite may plan otherwise), a lead of 50 (lead_id) and the heavy lead:")
            w.append("")
            w.append("| statement | A: plan | A ms | B: plan | B ms |")
            w.append("|---|---|---:|---|---:|")
            for k in pa:
                w.append(f"| {k} | {'; '.join(pa[k]['plan'])} | {pa[k]['ms']:.2f} | {'; '.join(pb[k]['plan'])} "
                         f"| {pb[k]['ms']:.2f} |")
        if self.out["writes"]:
            w.append("")
            w.append("| round | variant | activities before | /healthz req/s | Create req/s | Create ÷ healthz "
                     "| Create p99 ms | bulk-25 act/s | bulk ÷ healthz | bulk p99 ms |")
            w.append("|---:|---|---:|---|---:|---:|---:|---:|---:|---:|")
            for s in self.out["writes"]:
                w.append(f"| {s['round']} | {s['variant']} | {s['activities_before']:,} | "
                         f"{s['healthz'][0]:,}, {s['healthz'][1]:,} | {s['create']['rps']:,.0f} | "
                         f"{s['create_ratio']:.3f} | {s['create']['p99_ms']:.1f} | {s['bulk']['rps'] * 25:,.0f} | "
                         f"{s['bulk_ratio']:.3f} | {s['bulk']['p99_ms']:.1f} |")
            for key in ("create_ratio", "bulk_ratio"):
                av = [s[key] for s in self.out["writes"] if s["variant"] == "A"]
                bv = [s[key] for s in self.out["writes"] if s["variant"] == "B"]
                w.append(f"\n{key}: A mean {statistics.mean(av):.3f} ({', '.join(f'{x:.3f}' for x in av)}), "
                         f"B mean {statistics.mean(bv):.3f} ({', '.join(f'{x:.3f}' for x in bv)}), "
                         f"B ÷ A {statistics.mean(bv) / statistics.mean(av):.3f}")
        return "\n".join(w)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", required=True, help="the activity-hub binary (nothing is built)")
    ap.add_argument("--store-dir", required=True, help="run.py's --store-dir (the store is DIR/s<scale>/bench.db)")
    ap.add_argument("--scale", type=int, default=1_000_000)
    ap.add_argument("--heavy", type=int, default=20_000, help="activities added to the heavy lead (once)")
    ap.add_argument("--requests", type=int, default=50, help="timed requests per shape")
    ap.add_argument("--warm", type=int, default=5, help="discarded requests per shape first")
    ap.add_argument("--shape-seconds", type=float, default=20.0, help="cap on a shape's timed requests")
    ap.add_argument("--indexes", help="comma-separated: only these indexes' reads (default: every index)")
    ap.add_argument("--no-reads", action="store_true")
    ap.add_argument("--no-writes", action="store_true")
    ap.add_argument("--only-writes", action="store_true", help="same as --no-reads")
    ap.add_argument("--drop", default=DEFAULT_DROP, help=f"B's dropped indexes (default {DEFAULT_DROP})")
    ap.add_argument("--add", action="append", default=[], help="a CREATE INDEX statement B adds (repeatable)")
    ap.add_argument("--rounds", type=int, default=2, help="A/B rounds of the writes (default 2)")
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--keep-stats", action="store_true", help="keep sqlite_stat1/4 (default: dropped, see drop_stats)")
    ap.add_argument("--restore-only", action="store_true", help="re-create what an interrupted run dropped")
    ap.add_argument("--json", help="write the raw figures here")
    o = ap.parse_args()
    o.indexes = set(x for x in (o.indexes or "").split(",") if x)
    o.drop = [x for x in o.drop.split(",") if x]
    b = Bill(o)

    def interrupted(*_):
        raise KeyboardInterrupt("SIGTERM")

    signal.signal(signal.SIGTERM, interrupted)  # kill -TERM: indexes restored, server stopped
    try:
        b.ensure_store()
        if "indexes" not in b.bill:
            b.bill["indexes"] = b.live_indexes()
            b.save_bill()
        b.restore_indexes()
        if o.restore_only:
            return 0
        unknown = [n for n in o.drop if n not in b.bill["indexes"]]
        if unknown:
            raise run.HarnessError(f"--drop names no index: {unknown}")
        b.ensure_probes()
        b.drop_stats()
        params = b.params()
        b.out["store"] = {"activities": b.sql("SELECT count(*) FROM activities")[0][0],
                          "indexes": b.bill["indexes"], "probes": {k: v for k, v in b.bill["probes"].items()
                                                                   if k != "rare"},
                          "params": params, "load_start": uptime()}
        log(f"store: {b.out['store']['activities']:,} activities, {len(b.bill['indexes'])} indexes; {uptime()}")
        if not (o.no_reads or o.only_writes):
            b.reads(params)
        if not o.no_writes:
            b.writes(params)
        b.out["load_end"] = uptime()
    except (run.HarnessError, sqlite3.Error, OSError, subprocess.CalledProcessError, KeyboardInterrupt) as e:
        print(f"index_bill: {e!r}", file=sys.stderr)
        try:
            if "indexes" in b.bill:
                b.restore_indexes()  # every index back, whatever step failed
        finally:
            b.stop()
        return 1
    finally:
        if o.json:
            with open(o.json, "w") as f:
                json.dump(b.out, f, indent=1)
    b.stop()
    print(b.report())
    return 0


if __name__ == "__main__":
    sys.exit(main())
