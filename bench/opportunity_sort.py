#!/usr/bin/env python3
"""Loads one opportunity with N activities through the LeadSquared bulk-by-opportunity call, then
times GetActivitiesOfOpportunity sorted by columns of each kind:
the default date, a lead column, an activity column and a custom Number field, both directions,
first page and a deep page. Prints medians (client side, wall clock) and the server's peak RSS.

Usage (starts its own release server on a temporary SQLite file):
  cargo build --release
  python3 bench/opportunity_sort.py --rows 100000
Only the standard library.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

BIN = os.environ.get("AH_BIN") or os.path.join(os.path.dirname(__file__), "..", "target", "release", "activity-hub")


def post(base, keys, path, body, query=""):
    url = "%s%s?accessKey=%s&secretKey=%s%s" % (
        base, path, urllib.parse.quote(keys["access_key"]), keys["secret_key"], query)
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=300) as r:
        return json.loads(r.read())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="ah-opp-")
    db = "sqlite://%s/opp.db" % tmp
    keys = json.loads(subprocess.check_output(
        [BIN, "tenant", "create", "--name", "Opp", "--admin-email", "admin@opp.example",
         "--db", db, "--json"]))
    server = subprocess.Popen([BIN, "serve", "--db", db, "--bind", "127.0.0.1:0", "--no-rate-limit"],
                              stdout=subprocess.PIPE, text=True)
    try:
        base = None
        for line in server.stdout:
            if line.startswith("activity-hub listening on "):
                base = line.split()[-1]
                break
        if base is None:
            sys.exit("server did not start")
        fields = [{"SchemaName": "mx_Custom_1", "DisplayName": "Amount", "DataType": "Number"}]
        ty = post(base, keys, "/v2/ProspectActivity.svc/CreateType",
                  {"ActivityEventName": "Bench Call", "Score": 1, "Fields": fields})
        code = ty["Message"]["Id"]
        cap = post(base, keys, "/v2/OpportunityManagement.svc/Capture", {
            "LeadDetails": [{"Attribute": "EmailAddress", "Value": "big@opp.example"},
                            {"Attribute": "SearchBy", "Value": "EmailAddress"}],
            "Opportunity": {"OpportunityEventCode": 12000, "Fields": [
                {"SchemaName": "Status", "Value": "Open"}]}})
        opp = cap["Message"]["Id"]

        batches = (args.rows + 24) // 25
        lock = threading.Lock()
        state = {"next": 0}

        def worker():
            while True:
                with lock:
                    b = state["next"]
                    state["next"] += 1
                if b >= batches:
                    return
                rows = [{"ActivityEvent": code, "ActivityNote": "n%d" % k,
                         "ActivityOwnerEmail": "admin@opp.example",
                         "ActivityDateTime": time.strftime(
                             "%Y-%m-%d %H:%M:%S", time.gmtime(1_600_000_000 + (k * 7919) % 50_000_000)),
                         "Fields": [{"SchemaName": "mx_Custom_1", "Value": str((k * 104729) % 100_000)}]}
                        for k in range(b * 25, min(args.rows, b * 25 + 25))]
                post(base, keys, "/v2/ProspectActivity.svc/Bulk/CustomActivity/Add/ByOpportunityId",
                     rows, "&opportunityId=" + opp)

        t0 = time.time()
        ts = [threading.Thread(target=worker) for _ in range(args.threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        load_s = time.time() - t0
        print("loaded %d activities on one opportunity in %.1f s (%d threads, bulk 25)"
              % (args.rows, load_s, args.threads))

        def timed(sort, direction, page):
            body = {"Paging": {"PageIndex": page, "PageSize": 50},
                    "Sorting": {"ColumnName": sort, "Direction": direction}}
            times = []
            for _ in range(args.repeat):
                t = time.time()
                r = post(base, keys, "/v2/OpportunityManagement.svc/GetActivitiesOfOpportunity",
                         body, "&opportunityId=" + opp)
                times.append(time.time() - t)
            assert r["RecordCount"] == args.rows, r["RecordCount"]
            return statistics.median(times) * 1000

        print("%-14s %-5s %10s %14s" % ("sort", "dir", "page 1 ms", "page 1000 ms"))
        for sort in ["PACreatedOn", "LeadOwner", "PAModifiedOn", "Score", "mx_Custom_1"]:
            for direction in [0, 1]:
                print("%-14s %-5s %10.1f %14.1f" % (
                    sort, "asc" if direction == 0 else "desc",
                    timed(sort, direction, 1), timed(sort, direction, 1000)))
        with open("/proc/%d/status" % server.pid) as f:
            rss = [l for l in f if l.startswith("VmHWM")][0].split()[1]
        print("server peak RSS: %d MB" % (int(rss) // 1024))
    finally:
        server.terminate()
        server.wait()
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
