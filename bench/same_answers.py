#!/usr/bin/env python3
"""Whether two activity-hub builds give byte-identical answers to a fixed set of reads.

For performance work on the read path: each build serves its own copy of a kept benchmark store
(its WAL included), answers the same requests (Retrieve pages 1 and 2 of 40 leads,
GetActivitiesOfOpportunity of 20 opportunities sorted by LeadOwner and of 10 with some columns,
GetOpportunitiesOfLead of up to 40 leads that have opportunities, filtered and opportunity
activity_histories, 20 cursor pages, 29 single histories), and the answers (status, content type
and body) are compared. Prints how many answers and bytes were compared, every request whose
answer differs and any that was not 2xx; exits 1 if any differs or failed.

Usage: python3 bench/same_answers.py STORE_DIR BINARY_A BINARY_B
  STORE_DIR: a scale directory kept by bench/run.py (--store-dir): bench.db and data/.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

PORT = 18555


def requests(data):
    """(name, method, path, dialect, body) of every compared request."""
    cfg = dict(line.split("=", 1) for line in open(os.path.join(data, "config")).read().split())
    leads = open(os.path.join(data, "leads")).read().split()
    opps = open(os.path.join(data, "opportunities")).read().split()
    lead_ids = open(os.path.join(data, "lead_ids")).read().split()
    out = []
    for i, lead in enumerate(leads[:40]):
        for page in (1, 2):
            out.append((f"retrieve {i} page {page}", "POST", f"/v2/ProspectActivity.svc/Retrieve?leadId={lead}",
                        "lsq", '{"Paging":{"PageIndex":%d,"PageSize":25}}' % page))
    for i, opp in enumerate(opps[:20]):
        out.append((f"opportunity {i}", "POST",
                    f"/v2/OpportunityManagement.svc/GetActivitiesOfOpportunity?opportunityId={opp}", "lsq",
                    '{"Paging":{"PageIndex":1,"PageSize":25},"Sorting":{"ColumnName":"LeadOwner","Direction":1}}'))
    for i, opp in enumerate(opps[:10]):
        out.append((f"opportunity {i}, some columns", "POST",
                    f"/v2/OpportunityManagement.svc/GetActivitiesOfOpportunity?opportunityId={opp}", "lsq",
                    '{"Columns":{"Include_CSV":"CreatedOn,Status,mx_Custom_2"},'
                    '"Paging":{"PageIndex":1,"PageSize":25}}'))
    # The harness captures opportunity i on lead i * step: ask for the leads that have some.
    step = max(1, len(leads) // max(len(opps), 1))
    for i, lead in enumerate(leads[::step][:40]):
        out.append((f"opportunities of lead {i * step}", "POST",
                    f"/v2/OpportunityManagement.svc/GetOpportunitiesOfLead?leadId={lead}", "lsq",
                    '{"Paging":{"PageIndex":1,"PageSize":25}}'))
    for i, lead in enumerate(lead_ids[:40]):
        out.append((f"histories of person {lead}", "GET",
                    f"/v2/activity_histories?type={cfg['sl_type']}&resource_type=person&resource_id={lead}"
                    "&include_paging_counts=true&per_page=25", "sl", None))
        out.append((f"opportunity histories page {i + 1}", "GET",
                    f"/v2/activity_histories?resource_type=crm_opportunity&per_page=25&page={i + 1}", "sl", None))
    lo, hi = int(cfg["ts_min"]), int(cfg["ts_max"])
    for i in range(20):
        ts = lo + (hi - lo) * i // 20
        after = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts // 1000000)) + ".%06dZ" % (ts % 1000000)
        out.append((f"cursor {i}", "GET", "/v2/activity_histories?sort_by=updated_at&sort_direction=ASC"
                    f"&per_page=25&updated_at%5Bgt%5D={after}", "sl", None))
    for i in range(1, 30):
        out.append((f"history {i * 500}", "GET", f"/v2/activity_histories/{i * 500}", "sl", None))
    headers = {
        "lsq": {"Content-Type": "application/json", "x-LSQ-AccessKey": cfg["access_key"],
                "x-LSQ-SecretKey": cfg["secret_key"]},
        "sl": {"Authorization": "Bearer " + cfg["api_key"]},
    }
    return [(name, method, path, headers[dialect], body) for name, method, path, dialect, body in out]


def answers(binary, store, reqs, work):
    """Each request's status, content type and body from `binary` serving a copy of the store."""
    db = os.path.join(work, "answers.db")
    shutil.copy(os.path.join(store, "bench.db"), db)
    if os.path.exists(os.path.join(store, "bench.db-wal")):
        # Part of the data may still be in the WAL: the copy must carry it.
        shutil.copy(os.path.join(store, "bench.db-wal"), db + "-wal")
    log = open(os.path.join(work, "server.log"), "w")
    server = subprocess.Popen([binary, "serve", "--db", f"sqlite://{db}", "--bind", f"127.0.0.1:{PORT}",
                               "--no-rate-limit"], stdout=log, stderr=log)
    try:
        for _ in range(100):
            if "listening on" in open(os.path.join(work, "server.log")).read():
                break
            if server.poll() is not None:
                break
            time.sleep(0.1)
        else:
            server.poll()
        if server.returncode is not None or "listening on" not in open(os.path.join(work, "server.log")).read():
            raise SystemExit(f"same_answers: {binary} did not start:\n"
                             + open(os.path.join(work, "server.log")).read()[-2000:])
        got = []
        for _, method, path, headers, body in reqs:
            req = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", method=method, headers=headers,
                                         data=body.encode() if body else None)
            try:
                with urllib.request.urlopen(req) as r:
                    got.append((r.status, r.headers.get("Content-Type"), r.read()))
            except urllib.error.HTTPError as e:
                got.append((e.code, e.headers.get("Content-Type"), e.read()))
        return got
    finally:
        server.terminate()
        server.wait()
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.remove(db + suffix)


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    store, a, b = sys.argv[1:]
    reqs = requests(os.path.join(store, "data"))
    with tempfile.TemporaryDirectory() as work:
        first = answers(a, store, reqs, work)
        second = answers(b, store, reqs, work)
    differ = [name for (name, *_), x, y in zip(reqs, first, second) if x != y]
    # Every request is one the store can answer: an error from both builds is no comparison.
    failed = [f"{name}: {status}" for (name, *_), (status, _, _) in zip(reqs, first) if not 200 <= status < 300]
    size = sum(len(body) for _, _, body in first)
    print(f"{len(reqs)} answers compared (status, content type and body; {size:,} bytes from A): "
          f"{len(differ)} differ, {len(failed)} not 2xx")
    for name in differ:
        print(f"  differs: {name}")
    for line in failed[:10]:
        print(f"  not 2xx from A: {line}")
    sys.exit(1 if differ or failed else 0)


if __name__ == "__main__":
    main()
