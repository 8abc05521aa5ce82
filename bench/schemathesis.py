#!/usr/bin/env python3
"""Schema fuzzing: schemathesis against a running activity-hub, every operation `/openapi.json` lists.

Usage (from the repository root; builds nothing, takes the binary):
    python3 bench/schemathesis.py target/debug/activity-hub -n 5               # CI's short run
    python3 bench/schemathesis.py target/release/activity-hub -n 200 --seed 7  # a long run
    python3 bench/schemathesis.py BIN --backend postgres [--pg postgres://postgres@127.0.0.1:5432/test]

It starts the server (`--no-rate-limit`) on a fresh SQLite store in a temporary directory, or on a
fresh PostgreSQL database created beside the one `--pg` names and dropped afterwards; creates two
tenants and two more users with the CLI (`tenant create --json`, `user create`); seeds leads,
accounts, an activity type, opportunities and activities through the native API; then runs
`schemathesis run /openapi.json --checks all` as the first tenant's Administrator, with a
credential for each security scheme the document declares, dictionaries of the seeded ids (the
second tenant's among them) for every parameter or body property that names a record, and
examples built from the seed, so that each operation reaches real records as well as unknown ones.
`-n` is schemathesis' --max-examples (per operation and phase). It prints the number of cases and
every failure, and exits non-zero on any failure, on a run that tested nothing, or that missed an
operation of the document.

bench/schemathesis_hooks.py holds what the run adds to schemathesis: two checks of its own (no
answer shows another tenant's record; every operation answers 2xx at least once), the refusals of
schema-valid requests that depend on stored records and are dropped (each with its reason; the
script prints how many of each), the NDJSON export's per-line check, and why each connection
leaves from its own loopback address. No check is configured off. schemathesis is pinned in
bench/requirements-schemathesis.txt.
"""

import argparse
import collections
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOOKS = os.path.join(REPO, "bench", "schemathesis_hooks.py")
REQUIREMENTS = os.path.join(REPO, "bench", "requirements-schemathesis.txt")

# How many of each record the seed creates. Deletes and edits consume and change them during the
# run, so there are enough for every operation to keep finding live ones.
SEED_LEADS = 60
SEED_ACTIVITIES = 150
SEED_OPPORTUNITIES = 20
SEED_ACCOUNTS = 5

# The Salesloft types of the seeded activities that are not custom: each resource list
# (`/v2/activities/calls`, `/v2/notes`, `/v2/meetings`, `/v2/activities/emails`) has records.
SEED_TYPES = ("call", "note", "meeting", "sent_email")

# Probability that a bound parameter takes a seeded id rather than a generated value.
ID_PROBABILITY = 0.8


def log(msg):
    print(f"[schemathesis {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Failure(Exception):
    pass


def pinned_version():
    with open(REQUIREMENTS) as f:
        for line in f:
            m = re.match(r"\s*schemathesis==(\S+)", line)
            if m:
                return m.group(1)
    raise Failure(f"no schemathesis==VERSION line in {REQUIREMENTS}")


def schemathesis_command():
    """The pinned schemathesis CLI; installed with pip when missing or of another version."""
    want = pinned_version()
    probe = [sys.executable, "-c", "import schemathesis, sys; sys.stdout.write(schemathesis.__version__)"]
    got = subprocess.run(probe, capture_output=True, text=True)
    if got.returncode != 0 or got.stdout.strip() != want:
        log(f"installing schemathesis {want} (found: {got.stdout.strip() or 'none'})")
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "-r", REQUIREMENTS],
                       check=True)
    return [sys.executable, "-m", "schemathesis.cli"]


class Server:
    def __init__(self, binary, db, workdir):
        self.binary, self.db, self.workdir = binary, db, workdir
        self.proc = None
        self.base = None

    def cli(self, *args):
        out = subprocess.run([self.binary, *args, "--db", self.db, "--json"],
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise Failure(f"`{' '.join(args[:2])}` failed: {out.stderr.strip()}")
        return json.loads(out.stdout)

    def start(self):
        err = open(os.path.join(self.workdir, "server.log"), "ab")
        env = dict(os.environ, RUST_LOG=os.environ.get("RUST_LOG", "warn"))
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--db", self.db, "--bind", "127.0.0.1:0", "--no-rate-limit"],
            stdout=subprocess.PIPE, stderr=err, env=env)
        deadline = time.time() + 60
        while time.time() < deadline:
            line = self.proc.stdout.readline().decode(errors="replace")
            if not line:
                break
            m = re.search(r"listening on (http://\S+)", line)
            if m:
                self.base = m.group(1)
                return
        raise Failure(f"the server did not start; see {self.workdir}/server.log")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Api:
    """The native API as one user, for the seed."""

    def __init__(self, base, api_key):
        self.base, self.key = base, api_key

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.key}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            raise Failure(f"seed call {method} {path} answered {e.code}: {e.read()[:300]!r}")


# The GUIDs of the seeded activities in the trash (the restore's examples).
TRASHED = []


def seed(server, api, admin):
    """Users, leads, accounts, a custom type, opportunities and activities; their ids by kind."""
    ids = {"lead": [], "user": [admin["user_id"]], "account": [], "opportunity": [], "activity": []}
    ints = {"lead": [], "user": [], "account": [], "opportunity": [], "activity": []}
    for role in ("Sales_Manager", "Sales_User"):
        u = server.cli("user", "create", "--tenant", admin["tenant_id"],
                       "--email", f"{role.lower()}@fuzz.example", "--role", role)
        ids["user"].append(u["user_id"])
    for u in api.call("GET", "/api/v1/users")["data"]:
        ints["user"].append(u["id"])
    for i in range(SEED_ACCOUNTS):
        a = api.call("POST", "/api/v1/accounts", {"name": f"Account {i}", "domain": f"a{i}.example"})
        ids["account"].append(a["data"]["guid"])
        ints["account"].append(a["data"]["id"])
    for i in range(SEED_LEADS):
        lead = api.call("POST", "/api/v1/leads", {
            "first_name": f"Lead{i}", "last_name": "Seed", "email": f"lead{i}@fuzz.example",
            "phone": f"+1555{i:07d}", "owner_guid": ids["user"][i % len(ids["user"])]})
        ids["lead"].append(lead["data"]["guid"])
        ints["lead"].append(lead["data"]["id"])
    api.call("POST", "/api/v1/activity_types", {
        "name": "Site visit", "event_code": 201, "salesloft_type": "site_visit", "score": 5,
        "fields": [{"schema_name": "mx_Custom_1", "data_type": "String"},
                   {"schema_name": "mx_Custom_2", "data_type": "Number"}]})
    # Three webhook subscriptions (to a closed port: their deliveries fail and are retried): the
    # operations on one subscription take the first, its DELETE the last.
    ids["webhook"] = []
    for i in range(3):
        w = api.call("POST", "/api/v1/webhooks", {"url": f"http://127.0.0.1:9/seed{i}",
                                                   "events": ["activity.created", "lead.created"]})
        ids["webhook"].append(w["data"]["id"])
    # And three of Salesloft's (integer ids): the native and Salesloft subscriptions share one
    # cap of 10, so the fuzzer's creations are refused 409 once four more are made.
    ids["sl_webhook"], ints["sl_webhook"] = [], []
    for i in range(3):
        w = api.call("POST", "/v2/webhook_subscriptions", {
            "callback_url": f"http://127.0.0.1:9/sl-seed{i}", "callback_token": f"seed{i}",
            "event_type": "note_created"})
        ints["sl_webhook"].append(w["data"]["id"])
    for i in range(SEED_OPPORTUNITIES):
        o = api.call("POST", "/api/v1/opportunities", {
            "lead_guid": ids["lead"][i % len(ids["lead"])], "note": f"Deal {i}", "status": "Open"})
        ids["opportunity"].append(o["data"]["guid"])
        ints["opportunity"].append(o["data"]["id"])
    resources = ([("person", g) for g in ids["lead"]] + [("account", g) for g in ids["account"]]
                 + [("crm_opportunity", g) for g in ids["opportunity"]])
    rows = []
    for i in range(SEED_ACTIVITIES):
        kind, guid = resources[i % len(resources)]
        row = {"resource": {"type": kind, "id": guid}, "note": f"Seeded {i}", "tags": ["seed"]}
        if i % 3 == 2:
            row["event_code"] = 201
            row["fields"] = {"mx_Custom_1": f"visit {i}", "mx_Custom_2": i}
        else:
            row["type"] = SEED_TYPES[(i // 3) % len(SEED_TYPES)]
        rows.append(row)
    for start in range(0, len(rows), 100):
        made = api.call("POST", "/api/v1/activities", {"activities": rows[start:start + 100]})
        for a, row in zip(made["data"], rows[start:start + 100]):
            ids["activity"].append(a["guid"])
            ints["activity"].append(a["id"])
            # The Salesloft resources by type (calls, notes, emails): not dictionaries of their own.
            ints.setdefault(row.get("type", "custom"), []).append(a["id"])
    # One activity in the trash, for the restore's examples.
    made = api.call("POST", "/api/v1/activities", {"activities": [
        {"type": "call", "resource": {"type": "person", "id": ids["lead"][0]}, "note": "Trashed"}]})
    TRASHED.append(made["data"][0]["guid"])
    api.call("DELETE", f"/api/v1/activities/{TRASHED[-1]}")
    return ids, ints


def seed_foreign(api, other):
    """A few records of the second tenant, by kind: their GUIDs join the dictionaries, and the
    tenant_isolation check (bench/schemathesis_hooks.py) fails any answer that shows one."""
    lead = api.call("POST", "/api/v1/leads", {"first_name": "Foreign", "email": "f@other.example"})
    guid = lead["data"]["guid"]
    acc = api.call("POST", "/api/v1/accounts", {"name": "Foreign account"})
    opp = api.call("POST", "/api/v1/opportunities", {"lead_guid": guid, "note": "Foreign deal"})
    made = api.call("POST", "/api/v1/activities", {"activities": [
        {"type": "call", "resource": {"type": "person", "id": guid}, "note": "Foreign call"},
        {"type": "note", "resource": {"type": "account", "id": acc["data"]["guid"]}}]})
    return {"lead": [guid], "account": [acc["data"]["guid"]], "opportunity": [opp["data"]["guid"]],
            "activity": [a["guid"] for a in made["data"]], "user": [other["user_id"]]}


# --- the document: security schemes, id parameters ---------------------------------------------

def credential_for(name, scheme, admin):
    """The admin's credential for one of the document's security schemes."""
    kind = scheme.get("type")
    if kind == "http" and scheme.get("scheme", "").lower() == "bearer":
        return {"bearer": admin["api_key"]}
    if kind == "apiKey":
        label = f"{name} {scheme.get('name', '')}".lower()
        if "access" in label:
            return {"api_key": admin["access_key"]}
        if "secret" in label:
            return {"api_key": admin["secret_key"]}
        if "bearer" in label or "authorization" in label:
            return {"api_key": f"Bearer {admin['api_key']}"}
    raise Failure(f"the document declares security scheme {name!r} ({scheme}); "
                  "bench/schemathesis.py does not know which credential it takes")


def resolve(doc, node):
    seen = 0
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise Failure(f"external $ref {ref!r}")
        node = doc
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        seen += 1
        if seen > 50:
            raise Failure(f"$ref loop at {ref!r}")
    return node


# Which seeded records a name refers to, first match wins (`ProspectActivityId` is an activity,
# `ProspectOpportunityId` an opportunity).
KIND_PATTERNS = [("sl_webhook", "webhook_subscription"), ("webhook", "webhook"), ("activity", "activit"), ("opportunity", "opportunit"),
                 ("lead", "lead|prospect|person|people"), ("account", "account"), ("user", "owner|user")]


def id_kind(name, path, parent=""):
    """Which seeded records a parameter or property named `name` refers to, if any: names ending
    in id or guid, by their words, or by the path's last resource for a bare `id`."""
    n = name.lower()
    if not re.search(r"(id|guid)s?$", n):
        return None
    if n in ("id", "guid") and parent.lower() == "resource":
        return "resource"
    for kind, pattern in KIND_PATTERNS:
        if re.search(pattern, n):
            return kind
    if n in ("id", "guid", "ids", "guids"):
        segments = [s for s in path.lower().split("/") if s and not s.startswith("{")]
        for seg in reversed(segments):
            for kind, pattern in KIND_PATTERNS:
                if re.search(pattern, seg):
                    return kind
    return None


def schema_type(schema):
    t = schema.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), None)
    return t


def body_bindings(doc, schema, path, prefix="body", parent="", depth=0):
    """(binding key, kind, type) for each id-like scalar property of a request body schema."""
    schema = resolve(doc, schema)
    if depth > 6 or not isinstance(schema, dict):
        return
    for sub in schema.get("allOf", []) + schema.get("anyOf", []) + schema.get("oneOf", []):
        yield from body_bindings(doc, sub, path, prefix, parent, depth + 1)
    if schema_type(schema) == "array" and "items" in schema:
        items = prefix + (".[*]" if prefix == "body" else "[*]")
        yield from body_bindings(doc, schema["items"], path, items, parent, depth + 1)
    for name, prop in (schema.get("properties") or {}).items():
        if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
            continue  # schemathesis' binding keys cannot name it
        prop_r = resolve(doc, prop)
        t = schema_type(prop_r)
        key = f"{prefix}.{name}"
        if t in ("object", "array") or any(k in prop_r for k in ("properties", "items", "allOf")):
            yield from body_bindings(doc, prop_r, path, key, name, depth + 1)
        elif t in ("string", "integer"):
            kind = id_kind(name, path, parent)
            if kind:
                yield key, kind, t


def operation_bindings(doc):
    """For each operation, its parameters and body properties that name seeded records."""
    out = []
    for path, item in doc.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method, op in item.items():
            if method not in ("get", "put", "post", "delete", "patch"):
                continue
            binds = {}
            for param in shared + op.get("parameters", []):
                param = resolve(doc, param)
                if param.get("in") not in ("path", "query", "header"):
                    continue
                t = schema_type(resolve(doc, param.get("schema", {})))
                kind = id_kind(param["name"], path)
                if kind and t in ("string", "integer"):
                    binds[f"{param['in']}.{param['name']}"] = (kind, t)
            content = resolve(doc, op.get("requestBody", {})).get("content", {})
            for media in content.values():
                for key, kind, t in body_bindings(doc, media.get("schema", {}), path):
                    binds[key] = (kind, t)
            if binds:
                out.append((method.upper(), path, binds))
    return out


def native_bodies(ids):
    """Request bodies of the native writes that succeed on the seed, by (method, path)."""
    lead, lead2 = ids["lead"][1], ids["lead"][2]
    user = ids["user"][1]
    # The example of the operations on one activity: an opportunity with an activity on it,
    # which DELETE answers 409, since schemathesis shares examples between operations and would
    # otherwise delete the record the others' examples name before they run.
    activity = ids["opportunity"][0]
    return {
        ("post", "/api/v1/activities"): [
            {"activities": [
                {"type": "call", "resource": {"type": "person", "id": lead}, "note": "Example call",
                 "tags": ["example"], "static_data": {"duration": 30}, "owner_guid": user},
                {"event_code": 201, "resource": {"type": "account", "id": ids["account"][0]},
                 "fields": {"mx_Custom_1": "visit", "mx_Custom_2": 3}, "pinned": True},
                {"type": "note", "resource": {"type": "crm_opportunity", "id": ids["opportunity"][0]},
                 "occurred_at": "2026-01-02T03:04:05Z"}]}],
        ("post", "/api/v1/opportunities"): [
            {"lead_guid": lead2, "event_code": 12000, "note": "Example deal", "status": "Won",
             "owner_guid": user, "occurred_at": "2026-01-02T03:04:05+01:00"}],
        ("patch", "/api/v1/activities/{id}"): [
            {"note": "Edited", "tags": ["edited"], "pinned": True, "status": "Won",
             "owner_guid": user, "static_data": {"k": 1}}],
        ("put", "/api/v1/activities/{id}/tags"): [{"tags": ["a", "b"]}],
        ("post", "/api/v1/leads"): [
            {"first_name": "Ex", "email": "example.lead@fuzz.example", "owner_guid": user,
             "attributes": {"Company": "Example", "mx_Tier": "gold"}}],
        ("post", "/api/v1/accounts"): [{"name": "Example account", "owner_guid": user}],
        ("post", "/api/v1/webhooks"): [
            {"url": "http://127.0.0.1:9/example", "events": ["activity.created", "lead.updated"],
             "event_codes": [201]}],
        ("post", "/api/v1/activity_types"): [
            {"name": "Example type", "salesloft_type": "meeting", "fields": [
                {"schema_name": "mx_Custom_1", "data_type": "Dropdown", "options": ["a", "b"]}]}],
        ("post", "/api/v1/users"): [{"email": "example.user@fuzz.example", "role": "Sales_User"}],
    }, activity


def lsq_examples(ids):
    """Bodies and query parameters of the LeadSquared calls that succeed on the seed, by (method,
    path): LeadSquared's ids are GUIDs named in ways id_kind does not guess (RelatedProspectId,
    ProspectActivityId), and several calls need a whole valid record to answer 200 at all."""
    lead, lead2, opp = ids["lead"][3], ids["lead"][4], ids["opportunity"][1]
    activity = ids["activity"][2]
    fields = [{"SchemaName": "mx_Custom_1", "Value": "visit"}, {"SchemaName": "mx_Custom_2", "Value": "3"}]
    row = {"RelatedProspectId": lead, "ActivityEvent": "201", "ActivityNote": "Example visit",
           "ActivityDateTime": "2026-01-02 03:04:05", "Fields": fields}
    svc = "/v2/ProspectActivity.svc"
    leads = "/v2/LeadManagement.svc"
    opps = "/v2/OpportunityManagement.svc"
    return {
        ("post", f"{svc}/Create"): ({}, [row]),
        ("post", f"{svc}/Bulk/CustomActivity/Add/ByLeadId"): ({}, [[row]]),
        ("post", f"{svc}/Bulk/CustomActivity/Add/ByOpportunityId"): (
            {"opportunityId": opp}, [[{"ActivityEvent": 201, "ActivityNote": "On the deal", "Fields": fields}]]),
        ("post", f"{svc}/CustomActivity/Update"): (
            {}, [{"ProspectActivityId": activity, "ActivityNote": "Edited"}]),
        ("post", f"{svc}/Retrieve"): (
            {"leadId": lead}, [{"Paging": {"PageIndex": 1, "PageSize": 10}}]),
        ("post", f"{svc}/RetrieveRecentlyModified"): (
            {}, [{"Parameter": {"FromDate": "2000-01-01 00:00:00", "ToDate": "2999-01-01 00:00:00"},
                  "Paging": {"PageIndex": 1, "PageSize": 10}}]),
        ("post", f"{svc}/CreateType"): (
            {}, [{"ActivityEventName": "Example LeadSquared type", "Score": 1, "Direction": 0,
                  "Fields": [{"SchemaName": "mx_Custom_1", "DisplayName": "Text", "DataType": "String"}]}]),
        ("post", f"{svc}/CustomActivityType/Update"): ({"code": 201}, [{"Description": "Edited"}]),
        ("get", f"{svc}/CustomActivity/GetActivitySetting"): ({"code": 201}, None),
        ("post", f"{leads}/Lead.Create"): (
            {}, [[{"Attribute": "FirstName", "Value": "Example"},
                  {"Attribute": "EmailAddress", "Value": "lsq.example@fuzz.example"}]]),
        ("post", f"{leads}/Lead.Update"): (
            {"leadId": lead2}, [[{"Attribute": "Company", "Value": "Example Co"}]]),
        ("post", f"{leads}/Lead.CreateOrUpdate"): (
            {}, [[{"Attribute": "EmailAddress", "Value": "lead5@fuzz.example"},
                  {"Attribute": "SearchBy", "Value": "EmailAddress"},
                  {"Attribute": "LastName", "Value": "Upserted"}]]),
        ("post", f"{leads}/Lead.Capture"): (
            {}, [[{"Attribute": "EmailAddress", "Value": "lead6@fuzz.example"},
                  {"Attribute": "FirstName", "Value": "Captured"}]]),
        ("post", f"{opps}/Capture"): (
            {}, [{"LeadDetails": [{"Attribute": "EmailAddress", "Value": "lead7@fuzz.example"}],
                  "Opportunity": {"OpportunityEventCode": 12000, "OpportunityNote": "Example deal"}}]),
        ("post", f"{opps}/GetOpportunitiesOfLead"): ({"leadId": lead}, [{}]),
        ("post", f"{leads}/Leads.Get"): (
            {}, [{"Parameter": {"LookupName": "ProspectID", "LookupValue": lead}},
                 {"Parameter": {"LookupName": "CreatedOn", "LookupValue": "2000-01-01 00:00:00",
                                "SqlOperator": ">"},
                  "Columns": {"Include_CSV": "ProspectID, FirstName, EmailAddress"},
                  "Sorting": {"ColumnName": "CreatedOn", "Direction": 0},
                  "Paging": {"PageIndex": 1, "PageSize": 10}}]),
        ("post", f"{svc}/CreateCustom"): (
            {}, [{"LeadDetails": [{"Attribute": "EmailAddress", "Value": "lead8@fuzz.example"},
                                  {"Attribute": "SearchBy", "Value": "EmailAddress"},
                                  {"Attribute": "FirstName", "Value": "Custom"}],
                  "Activity": {"ActivityEvent": 201, "ActivityNote": "Example visit",
                               "ActivityDateTime": "2026-01-02 03:04:05", "Fields": fields}}]),
        # A lead no other example names: its seeded activities of type 201 go.
        ("post", f"{svc}/DeleteActivities"): (
            {}, [{"ProspectId": ids["lead"][11], "ActivityEventList": [201],
                  "FromDate": "2000-01-01 00:00:00", "ToDate": "2999-01-01 00:00:00"}]),
        ("post", f"{opps}/GetActivitiesOfOpportunity"): ({"opportunityId": opp}, [{}]),
    }


def salesloft_examples(ints):
    """Parameters and bodies of the Salesloft resource operations that succeed on the seed, by
    (method, path): a `{id}` of the resource's own type (an email's id for an email, a note's for
    a note; any activity id would mostly be another type's, a 404), and write bodies whose person
    exists (generated ones name unknown persons and users)."""
    person, call, email = ints["lead"][5], ints["call"][0], ints["sent_email"][0]
    note, last_note = ints["note"][0], ints["note"][-1]
    hook, last_hook = ints["sl_webhook"][0], ints["sl_webhook"][-1]
    return {
        ("get", "/v2/webhook_subscriptions/{id}"): ({"path.id": hook}, None),
        ("put", "/v2/webhook_subscriptions/{id}"): ({"path.id": hook}, [{"enabled": False}]),
        ("delete", "/v2/webhook_subscriptions/{id}"): ({"path.id": last_hook}, None),
        ("post", "/v2/webhook_subscriptions"): (
            {}, [{"callback_url": "http://127.0.0.1:9/example", "callback_token": "example",
                  "event_type": "call_created"}]),
        ("get", "/v2/activities/calls/{id}"): ({"path.id": call}, None),
        ("get", "/v2/activities/emails/{id}"): ({"path.id": email}, None),
        ("get", "/v2/notes/{id}"): ({"path.id": note}, None),
        ("put", "/v2/notes/{id}"): ({"path.id": note}, [{"content": "Edited note", "call_id": call}]),
        ("delete", "/v2/notes/{id}"): ({"path.id": last_note}, None),
        ("post", "/v2/activities/calls"): (
            {}, [{"person_id": person, "to": "+15550000005", "duration": 30,
                  "disposition": "Connected", "sentiment": "Positive", "notes": "Example call"}]),
        ("post", "/v2/notes"): (
            {}, [{"content": "Example note", "associated_with_type": "person",
                  "associated_with_id": person}]),
    }


def surface_of(path):
    """The surface a documented path belongs to: LeadSquared's `/v2/*.svc/…`, Salesloft's other
    `/v2/…`, and the native API with the operations endpoints."""
    if path.startswith("/v2/"):
        return "leadsquared" if ".svc/" in path else "salesloft"
    return "native"


def destroys(method, path):
    """A DELETE of the record its path names (not of a part of it, like `/{id}/pin`)."""
    return method.upper() == "DELETE" and path.rstrip("/").endswith("}")


def write_examples(examples_path, doc, ids, ints):
    """Seeded values for the id parameters of every operation, and native bodies."""
    bodies, activity = native_bodies(ids)
    out = {}
    for method, path, binds in operation_bindings(doc):
        for key, (kind, t) in binds.items():
            if key.startswith("body."):
                continue
            pool = ids if t == "string" else ints
            values = pool.get(kind) if kind != "resource" else pool.get("lead")
            if not values:
                continue
            # A delete takes the last record of the kind, the others one that stays.
            value = values[-1] if destroys(method, path) else values[0]
            if kind == "activity" and not destroys(method, path):
                value = activity if t == "string" else values[0]
            out.setdefault(path, {}).setdefault(method.lower(), {}).setdefault(
                "parameters", {})[key] = [value]
    restore = "/api/v1/activities/{id}/restore"
    if "post" in doc.get("paths", {}).get(restore, {}):
        out.setdefault(restore, {}).setdefault("post", {}).setdefault(
            "parameters", {})["path.id"] = list(TRASHED)
    for (method, path), body in bodies.items():
        if method in doc.get("paths", {}).get(path, {}):
            out.setdefault(path, {}).setdefault(method, {})["bodies"] = body
    lsq = {k: ({f"query.{n}": v for n, v in params.items()}, body)
           for k, (params, body) in lsq_examples(ids).items()}
    for (method, path), (params, body) in list(lsq.items()) + list(salesloft_examples(ints).items()):
        if method not in doc.get("paths", {}).get(path, {}):
            continue
        op = out.setdefault(path, {}).setdefault(method, {})
        for key, value in params.items():
            op.setdefault("parameters", {})[key] = [value]
        if body is not None:
            op["bodies"] = body
    with open(examples_path, "w") as f:
        json.dump(out, f)


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(v)


def write_config(config_path, doc, admin, ids, ints, workers):
    schemes = doc.get("components", {}).get("securitySchemes", {})
    if not schemes:
        raise Failure("the document declares no security scheme")
    lines = [
        f"hooks = {toml_value(HOOKS)}",
        f"workers = {workers}",
        # Each request on a new connection, so each from a new loopback address (hooks file).
        'headers = { "Connection" = "close" }',
        "request-timeout = 30",
        "",
        "[generation]",
        # The server refuses U+0000 in every string, which the document states once in its
        # description (JSON Schema has no way to say it of all strings); generating it would make
        # every string property a failure of positive_data_acceptance.
        "allow-x00 = false",
        "",
        "[phases.stateful.inference]",
        # Links from Location headers only. Dependency analysis links operations by property
        # names across the three APIs, which share names but not id kinds (LeadSquared's user
        # `ID` is a GUID, Salesloft's user `ids` are integers): it fed GUIDs into integer
        # parameters and reported their refusal as a valid request rejected. The document has no
        # Location headers, so the stateful phase has no links and does not run; links written
        # into the document would bring it back.
        'algorithms = ["location-headers"]',
        "",
    ]
    for name, scheme in schemes.items():
        lines.append(f"[auth.openapi.{json.dumps(name)}]")
        for k, v in credential_for(name, scheme, admin).items():
            lines.append(f"{k} = {toml_value(v)}")
        lines.append("")
    # A delete draws from the last third of each kind's records only, so that however long the
    # run, two thirds of the seeded records stay for the other operations to find.
    def third(values, disposable):
        cut = len(values) * 2 // 3
        return values[cut:] if disposable else values

    pools = {}
    for disposable, suffix in ((False, ""), (True, "_disposable")):
        for kind in ids:
            # An activity's path takes its GUID or its integer id, as text.
            pools[f"{kind}_string{suffix}"] = [str(x) for x in third(ids[kind], disposable)] + (
                [str(x) for x in third(ints[kind], disposable)] if kind == "activity" else [])
            pools[f"{kind}_integer{suffix}"] = third(list(ints.get(kind, [])), disposable)
        pools[f"resource_string{suffix}"] = [
            g for kind in ("lead", "account", "opportunity") for g in third(ids[kind], disposable)]
        pools[f"resource_integer{suffix}"] = [
            i for kind in ("lead", "account", "opportunity") for i in third(ints[kind], disposable)]
    for name, values in pools.items():
        if values:
            lines.append(f"[dictionaries.{name}]")
            lines.append(f"values = {toml_value(values)}")
            lines.append("")
    bound = 0
    for method, op_path, binds in operation_bindings(doc):
        pool = "_disposable" if destroys(method, op_path) else ""
        params = {k: {"dictionary": f"{kind}_{t}{pool}", "probability": ID_PROBABILITY}
                  for k, (kind, t) in binds.items() if pools.get(f"{kind}_{t}{pool}")}
        if not params:
            continue
        bound += len(params)
        lines.append("[[operations]]")
        lines.append(f"include-path = {toml_value(op_path)}")
        lines.append(f"include-method = {toml_value(method)}")
        lines.append(f"parameters = {toml_value(params)}")
        lines.append("")
    with open(config_path, "w") as f:
        f.write("\n".join(lines))
    return bound


# --- PostgreSQL -----------------------------------------------------------------------------------

def pg_database(base_url, name):
    """The URL of database `name` on the server of `base_url`."""
    u = urllib.parse.urlsplit(base_url)
    return urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + name, u.query, ""))


def psql(url, sql):
    out = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise Failure(f"psql {sql!r}: {out.stderr.strip()}")


# --- the run --------------------------------------------------------------------------------------

def parse_summary(text):
    """(cases generated, failures) from schemathesis' closing summary."""
    m = re.search(r"Test cases:\s*\n\s*(\d+) generated(?:, (\d+) found)?", text)
    cases = int(m.group(1)) if m else None
    failures = int(m.group(2)) if m and m.group(2) else 0
    m = re.search(r"=+ (\d+) failures?", text)
    if m:
        failures = max(failures, int(m.group(1)))
    return cases, failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binary", help="the activity-hub binary to test (built beforehand)")
    ap.add_argument("-n", "--max-examples", type=int, default=10,
                    help="schemathesis --max-examples: cases per operation and phase (default 10)")
    ap.add_argument("--seed", type=int, default=1, help="schemathesis --seed (default 1)")
    ap.add_argument("--workers", type=int, default=2, help="schemathesis --workers (default 2)")
    ap.add_argument("--max-time", type=int,
                    help="schemathesis --max-time: fuzzing and stateful phases repeat until this "
                    "many seconds are spent")
    ap.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--pg", default=os.environ.get("ACTIVITY_HUB_TEST_PG",
                                                   "postgres://postgres@127.0.0.1:5432/test"),
                    help="a PostgreSQL URL; the run creates and drops its own database beside it")
    ap.add_argument("--schema", help="test against this document file instead of the served "
                    "/openapi.json (while editing the document, before a rebuild)")
    ap.add_argument("--keep", action="store_true", help="keep the working directory (logs, report)")
    ap.add_argument("--surface", default="all",
                    help="comma-separated surfaces to test: native, salesloft, leadsquared, or all "
                         "(default); the document is cut to their paths")
    ap.add_argument("--extra", nargs=argparse.REMAINDER, default=[],
                    help="further schemathesis arguments, passed as they are")
    o = ap.parse_args()

    binary = os.path.abspath(o.binary)
    if not os.access(binary, os.X_OK):
        raise Failure(f"{o.binary} is not an executable (build it first)")
    st = schemathesis_command()
    workdir = tempfile.mkdtemp(prefix="ah-schemathesis-")
    pg_db = None
    if o.backend == "postgres":
        pg_db = f"ah_schemathesis_{os.getpid()}"
        psql(o.pg, f"DROP DATABASE IF EXISTS {pg_db}")
        psql(o.pg, f"CREATE DATABASE {pg_db}")
        db = pg_database(o.pg, pg_db)
    else:
        db = f"sqlite://{workdir}/hub.db"
    server = Server(binary, db, workdir)
    started = time.time()
    try:
        admin = server.cli("tenant", "create", "--name", "Fuzz", "--admin-email", "admin@fuzz.example")
        # A second tenant whose records must never show through the first one's key.
        other = server.cli("tenant", "create", "--name", "Other", "--admin-email",
                           "admin@other.example")
        server.start()
        log(f"server {server.base} on {o.backend} ({workdir})")
        api = Api(server.base, admin["api_key"])
        ids, ints = seed(server, api, admin)
        foreign = seed_foreign(Api(server.base, other["api_key"]), other)
        own = {kind: list(values) for kind, values in ids.items()}
        for kind, guids in foreign.items():
            ids[kind].extend(guids)
        if o.schema:
            location = os.path.abspath(o.schema)
            with open(location) as f:
                doc = json.load(f)
        else:
            location = server.base + "/openapi.json"
            doc = json.loads(urllib.request.urlopen(location, timeout=30).read())
        chosen = set(o.surface.split(","))
        if "all" not in chosen:
            unknown = chosen - {"native", "salesloft", "leadsquared"}
            if unknown:
                raise Failure(f"unknown surface(s) {sorted(unknown)}")
            doc["paths"] = {p: item for p, item in doc["paths"].items() if surface_of(p) in chosen}
            location = os.path.join(workdir, "openapi.json")
            with open(location, "w") as f:
                json.dump(doc, f)
        config = os.path.join(workdir, "schemathesis.toml")
        bound = write_config(config, doc, admin, ids, ints, o.workers)
        examples = os.path.join(workdir, "examples.json")
        write_examples(examples, doc, own, ints)
        ops = sum(1 for item in doc["paths"].values() for m in item
                  if m in ("get", "put", "post", "delete", "patch"))
        log(f"seeded {len(own['lead'])} leads, {len(own['activity'])} activities; "
            f"{ops} operations, {bound} id parameters bound to seeded ids")
        report = os.path.join(workdir, "report")
        cmd = [*st, "--config-file", config, "run", location, "--url", server.base,
               "--checks", "all", "--max-examples", str(o.max_examples), "--seed", str(o.seed),
               "--no-color", "--report", "junit", "--report-dir", report, *o.extra]
        if o.max_time:
            cmd += ["--max-time", str(o.max_time)]
        log("$ " + " ".join(cmd))
        t0 = time.time()
        dropped = os.path.join(workdir, "dropped.txt")
        env = dict(os.environ, AH_SCHEMATHESIS_DROPPED=dropped, AH_SCHEMATHESIS_EXAMPLES=examples,
                   AH_SCHEMATHESIS_FOREIGN=",".join(g for guids in foreign.values() for g in guids))
        run = subprocess.run(cmd, capture_output=True, text=True, cwd=workdir, env=env)
        took = time.time() - t0
        text = run.stdout + run.stderr
        with open(os.path.join(workdir, "schemathesis.out"), "w") as f:
            f.write(text)
        print(text)
        cases, failures = parse_summary(text)
        reached = re.search(r"Tested: (\d+)", text)
        reached = int(reached.group(1)) if reached else 0
        problems = []
        if not server.alive():
            problems.append(f"the server exited during the run (code {server.proc.returncode})")
        if cases is None or cases == 0:
            problems.append("schemathesis reported no test cases")
        if reached < ops:
            problems.append(f"only {reached} of the document's {ops} operations were tested")
        if run.returncode != 0 and failures == 0:
            problems.append(f"schemathesis exited {run.returncode}")
        if os.path.exists(dropped):
            with open(dropped) as f:
                tally = collections.Counter(line.rstrip("\n") for line in f)
            print("Refusals of schema-valid requests dropped as state-dependent "
                  "(bench/schemathesis_hooks.py):")
            for line, n in sorted(tally.items()):
                print(f"  {n:6d}  {line}")
        print(f"schemathesis: {cases} cases over {reached}/{ops} operations, {failures} failures, "
              f"{took:.0f} s (backend {o.backend}, -n {o.max_examples}, seed {o.seed})")
        if failures:
            problems.append(f"{failures} failures")
        if problems:
            raise Failure("; ".join(problems))
    finally:
        server.stop()
        if pg_db:
            try:
                psql(o.pg, f"DROP DATABASE IF EXISTS {pg_db}")
            except Failure as e:
                log(str(e))
        if o.keep or sys.exc_info()[0] is not None:
            log(f"kept {workdir} (server.log, schemathesis.toml, schemathesis.out, report/)")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
        log(f"done in {time.time() - started:.0f} s")


if __name__ == "__main__":
    try:
        main()
    except Failure as e:
        print(f"FAIL: {e}", file=sys.stderr)
        sys.exit(1)
