#!/usr/bin/env python3
"""Loads a tenant with N activities through the native batch API, then times
/v2/activity_histories with and without include_paging_counts / limit_paging_counts.

Usage (a release server started with --no-rate-limit):
  target/release/activity-hub tenant create --name Big --admin-email big@example.com --db sqlite:///tmp/big.db --json
  target/release/activity-hub serve --db sqlite:///tmp/big.db --bind 127.0.0.1:18080 --no-rate-limit &
  python3 bench/load_history.py --base http://127.0.0.1:18080 --key ak_... --rows 1000000
Only the standard library; timings are wall-clock medians of --repeat runs (client side).
"""
import argparse
import json
import statistics
import threading
import time
import urllib.request


def call(base, key, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + key)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read() or b"null")


def load(base, key, rows, leads, threads):
    lead_guids = []
    for i in range(leads):
        d = call(base, key, "POST", "/api/v1/leads",
                 {"first_name": "L%d" % i, "email": "l%d@bench.example" % i})
        lead_guids.append(d["data"]["guid"])
    types = ["call", "note", "sent_email", "meeting", "email_reply"]
    batches = (rows + 99) // 100
    lock = threading.Lock()
    state = {"next": 0}

    def worker():
        while True:
            with lock:
                b = state["next"]
                state["next"] += 1
            if b >= batches:
                return
            acts = []
            for k in range(b * 100, min(rows, b * 100 + 100)):
                sec = 1_500_000_000 + (k * 7919) % 100_000_000
                acts.append({
                    "type": types[k % len(types)],
                    "resource": {"type": "person", "id": lead_guids[k % len(lead_guids)]},
                    "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(sec)),
                })
            call(base, key, "POST", "/api/v1/activities", {"activities": acts})

    t0 = time.time()
    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return time.time() - t0


def timed(base, key, query, repeat):
    times = []
    body = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        body = call(base, key, "GET", "/v2/activity_histories?" + query)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), max(times), body["metadata"]["paging"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--key", required=True, help="Bearer api_key of the tenant's admin")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--leads", type=int, default=200)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--skip-load", action="store_true")
    a = ap.parse_args()
    if not a.skip_load:
        secs = load(a.base, a.key, a.rows, a.leads, a.threads)
        print("loaded %d activities in %.1f s (%.0f/s)" % (a.rows, secs, a.rows / secs))
    for q in [
        "per_page=100",
        "per_page=100&include_paging_counts=true&limit_paging_counts=true",
        "per_page=100&include_paging_counts=true",
        "type=call&per_page=100&include_paging_counts=true&limit_paging_counts=true",
        "type=call&per_page=100&include_paging_counts=true",
        "sort_by=updated_at&sort_direction=asc&updated_at[gt]=2020-01-01T00:00:00Z&per_page=100"
        "&include_paging_counts=true&limit_paging_counts=true",
    ]:
        med, worst, paging = timed(a.base, a.key, q, a.repeat)
        print("%-110s median %8.1f ms  max %8.1f ms  total_count=%s" % (
            q, med, worst, paging.get("total_count")))


if __name__ == "__main__":
    main()
