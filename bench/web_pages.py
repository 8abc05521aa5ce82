#!/usr/bin/env python3
"""Web UI page time at two store sizes: loads N activities (three custom types, spread over a year,
on LEADS leads) with `activity-hub import`, starts the server, signs in through the sign-in form
and times each page sequentially (median and p90 of --runs requests, server on the same machine).

Pages: the overview with a 53-week chart (from the weekly aggregate), the overview's lead search,
a lead's timeline (first page, a filtered page, and the deepest page served), so the figures show
whether a page's cost grows with the tenant's history.

Usage (from the repository root; docs/benchmarks.md has the figures):
    cargo build --release
    python3 bench/web_pages.py --rows 5000,1000000
Only the standard library is used. Generated files go to /tmp and are reused by later runs.
"""

import argparse
import http.client
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ADMIN = "admin@bench.example"
START = 1_735_689_600  # 2025-01-01T00:00:00Z
YEAR = 365 * 86400


def write_files(prefix, rows, leads):
    types, leads_path, acts = prefix + ".types", prefix + ".leads", prefix + ".activities"
    if all(os.path.exists(p) for p in (types, leads_path, acts)):
        return types, leads_path, acts
    rnd = random.Random(11)
    with open(types, "w") as f:
        for code, name in [(201, "Visit"), (202, "Demo"), (203, "Survey")]:
            f.write(json.dumps({"event_code": code, "name": name, "kind": "custom", "salesloft_type": "call",
                                "score": 1, "fields": [
                                    {"schema_name": "mx_Custom_1", "display_name": "Topic", "data_type": "String",
                                     "is_mandatory": False, "sequence": 1, "options": []},
                                    {"schema_name": "mx_Custom_2", "display_name": "Count", "data_type": "Number",
                                     "is_mandatory": False, "sequence": 2, "options": []}]}) + "\n")
    guids = []
    with open(leads_path, "w") as f:
        for i in range(leads):
            g = str(uuid.UUID(int=rnd.getrandbits(128), version=4))
            guids.append(g)
            f.write(json.dumps({"guid": g, "first_name": "Lead", "last_name": str(i),
                                "email": f"lead{i}@bench.example", "owner": ADMIN}) + "\n")
    step = YEAR / rows
    with open(acts, "w", buffering=1 << 20) as f:
        for i in range(rows):
            row = {
                "guid": str(uuid.UUID(int=rnd.getrandbits(128), version=4)),
                "event_code": 201 + i % 3,
                "lead": guids[rnd.randrange(len(guids))],
                "owner": ADMIN,
                "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(START + int(i * step))),
                "note": f"Called about the renewal, attempt {i % 17}",
                "status": "Active",
                "fields": {"mx_Custom_1": f"topic {i % 100}", "mx_Custom_2": str(i % 1000)},
            }
            f.write(json.dumps(row, separators=(",", ":")) + "\n")
    return types, leads_path, acts


def cli(binary, args):
    p = subprocess.run([binary] + args, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{' '.join(args[:2])} failed: {p.stderr}")
    return p.stdout


class Browser:
    def __init__(self, host, port):
        self.host, self.port, self.cookies = host, port, {}

    def request(self, method, path, form=None):
        c = http.client.HTTPConnection(self.host, self.port, timeout=60)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        text = r.read().decode()
        for k, v in r.getheaders():
            if k.lower() == "set-cookie":
                name, _, value = v.split(";")[0].partition("=")
                if value:
                    self.cookies[name] = value
        c.close()
        return r.status, text


def measure(b, path, runs):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        status, body = b.request("GET", path)
        times.append((time.perf_counter() - t) * 1000)
        if status != 200:
            sys.exit(f"GET {path}: {status} {body[:300]}")
    times.sort()
    return {"median_ms": round(statistics.median(times), 2),
            "p90_ms": round(times[int(len(times) * 0.9) - 1], 2), "bytes": len(body)}


def bench(binary, rows, leads, runs):
    work = tempfile.mkdtemp(prefix="web-bench-")
    types, leads_path, acts = write_files(f"/tmp/activity-hub-web-{rows}", rows, leads)
    db = f"sqlite://{work}/bench.db"
    keys = json.loads(cli(binary, ["tenant", "create", "--db", db, "--name", "Bench", "--admin-email", ADMIN,
                                   "--json"]))
    tenant = keys["tenant_id"]
    for kind, path in [("types", types), ("leads", leads_path), ("activities", acts)]:
        t = time.time()
        defer = ["--defer-indexes"] if kind == "activities" else []
        cli(binary, ["import", "--db", db, "--tenant", tenant, "--kind", kind, "--progress", "none",
                     "--state", f"{work}/{kind}.state", "--rejects", f"{work}/{kind}.rejects"]
            + defer + [path])
        print(f"  imported {kind} in {time.time() - t:.0f} s", file=sys.stderr, flush=True)
    server = subprocess.Popen([binary, "serve", "--db", db, "--bind", "127.0.0.1:0", "--no-rate-limit"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        port = None
        for line in server.stdout:
            m = re.search(r"listening on http://127.0.0.1:(\d+)", line)
            if m:
                port = int(m.group(1))
                break
        b = Browser("127.0.0.1", port)
        _, form = b.request("GET", "/ui/login")
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', form).group(1)
        status, _ = b.request("POST", "/ui/login", {"csrf": csrf, "api_key": keys["api_key"]})
        if status != 303:
            sys.exit(f"sign-in: {status}")
        # The busiest lead: the one whose page has the most to show.
        _, ov = b.request("GET", "/ui/overview?q=lead1%40")
        lead = re.search(r'href="/ui/leads/([0-9a-f-]+)"', ov).group(1)
        pages = {
            "overview, 53-week chart": "/ui/overview?from=2025-01-01&to=2025-12-31",
            "overview, lead search": "/ui/overview?q=lead12&from=2025-12-01&to=2025-12-31",
            "lead timeline, first page": f"/ui/leads/{lead}",
            "lead timeline, type + date filter": f"/ui/leads/{lead}?type=202&from=2025-03-01&to=2025-09-30",
            "lead timeline, page 8": f"/ui/leads/{lead}?page=8",
        }
        return {name: measure(b, path, runs) for name, path in pages.items()}
    finally:
        server.kill()
        server.wait()
        subprocess.run(["rm", "-rf", work])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", default="5000,1000000")
    ap.add_argument("--leads", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--bin", default=os.path.join(REPO, "target/release/activity-hub"))
    opts = ap.parse_args()
    results = {}
    for rows in [int(r) for r in opts.rows.split(",")]:
        print(f"{rows} activities ...", file=sys.stderr, flush=True)
        results[rows] = bench(opts.bin, rows, opts.leads, opts.runs)
        print(json.dumps({"rows": rows, "pages": results[rows]}), flush=True)
    sizes = sorted(results)
    if len(sizes) > 1:
        small, big = results[sizes[0]], results[sizes[-1]]
        print(json.dumps({"ratio_median_largest_to_smallest": {
            name: round(big[name]["median_ms"] / small[name]["median_ms"], 2) for name in small}}))


if __name__ == "__main__":
    main()
