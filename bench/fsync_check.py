#!/usr/bin/env python3
"""Checks, with strace, that activity-hub's SQLite store fsyncs before it acknowledges a write, and
shows group commit at work.

Runs the server on a temporary store under `strace -f`, then
  1. sends N Create calls one after another from one client: each answer can only come after its own
     commit, so the server must make at least N fsync/fdatasync calls (one per commit, WAL with
     synchronous=FULL), and every answer must be preceded by an fsync issued after the request
     arrived;
  2. sends N Create calls from 16 concurrent clients: fewer fsyncs than writes means commits were
     shared (group commit), each caller still answered after the shared fsync.
Prints the counts and exits non-zero if (1) does not hold. SIGKILL durability is tested in
tests/durability.rs; this is the power-cut half: what is acknowledged has been handed to fsync.

Usage: python3 bench/fsync_check.py [--binary PATH] [-n 200]
"""

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no bench/__pycache__ in the work tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402  (the harness's build and client helpers)

# strace -f -ttt -T lines: "PID START syscall(args) = R <DURATION>", or split in two for a call that
# another thread's line interrupted: "... syscall(args <unfinished ...>" and "PID END <... syscall
# resumed>...".
SYNC = re.compile(r"^(\d+)\s+(\d+\.\d+)\s+(fsync|fdatasync)\(\d+\)\s+= 0 <(\d+\.\d+)>")
SYNC_START = re.compile(r"^(\d+)\s+(\d+\.\d+)\s+(fsync|fdatasync)\(\d+ <unfinished")
SYNC_END = re.compile(r"^(\d+)\s+(\d+\.\d+)\s+<\.\.\. (fsync|fdatasync) resumed>.*= 0")
ANSWER = re.compile(r"^(\d+)\s+(\d+\.\d+)\s+(sendto|write|writev)\((\d+), \[?\{?(iov_base=)?\"HTTP/1\.1 200")
REQUEST = re.compile(r"^(\d+)\s+(\d+\.\d+)\s+(recvfrom|read)\((\d+), \"POST ")


def stop(proc):
    """Ends the traced server (strace's child), then strace."""
    children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
    for pid in children:
        os.kill(int(pid), 15)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        for pid in children:
            os.kill(int(pid), 9)
        proc.kill()
        proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary")
    ap.add_argument("-n", type=int, default=200)
    o = ap.parse_args()
    if not shutil.which("strace"):
        print("fsync_check: strace is missing (apt-get install strace)", file=sys.stderr)
        return 2
    binary = o.binary or bench.build("release")
    work = tempfile.mkdtemp(prefix="activity-hub-fsync-")
    try:
        db = os.path.join(work, "hub.db")
        out = subprocess.run([binary, "tenant", "create", "--name", "Fsync", "--admin-email", "o@fsync.example",
                              "--db", f"sqlite://{db}", "--json"], capture_output=True, text=True, check=True)
        keys = json.loads(out.stdout.strip().splitlines()[-1])
        trace = os.path.join(work, "strace.log")
        proc = subprocess.Popen(
            ["strace", "-f", "-ttt", "-T", "-s", "16", "-o", trace, "-e",
             "trace=fsync,fdatasync,sendto,write,writev,recvfrom,read",
             binary, "serve", "--db", f"sqlite://{db}", "--bind", "127.0.0.1:0", "--no-rate-limit"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        port = None
        deadline = time.time() + 60
        while time.time() < deadline and port is None:
            line = proc.stdout.readline().decode(errors="replace")
            m = re.search(r"listening on http://[^:\s]+:(\d+)", line)
            if m:
                port = int(m.group(1))
        if port is None:
            raise SystemExit("fsync_check: the server did not start")
        headers = {"x-LSQ-AccessKey": keys["access_key"], "x-LSQ-SecretKey": keys["secret_key"]}
        c = bench.Http("127.0.0.1", port, headers)
        status, body = c.call("POST", "/v2/LeadManagement.svc/Lead.Create",
                              [{"Attribute": "EmailAddress", "Value": "lead@fsync.example"}])
        if status != 200:
            raise SystemExit(f"fsync_check: Lead.Create answered {status}: {body}")
        lead = body["Message"]["Id"]

        def create(client, i):
            s, b = client.call("POST", "/v2/ProspectActivity.svc/Create", {
                "RelatedProspectId": lead, "ActivityEvent": 105, "ActivityNote": f"fsync {i}"})
            if s != 200:
                raise SystemExit(f"fsync_check: Create answered {s}: {b}")

        def syncs():
            with open(trace) as f:
                return sum(1 for line in f if SYNC.match(line) or SYNC_END.match(line))

        time.sleep(0.5)
        before = syncs()
        t0 = time.time()
        for i in range(o.n):
            create(c, i)
        sequential_secs = time.time() - t0
        time.sleep(0.3)
        sequential = syncs() - before

        clients = [bench.Http("127.0.0.1", port, headers) for _ in range(16)]
        before = syncs()
        t0 = time.time()
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda i: create(clients[i % 16], i), range(o.n)))
        concurrent_secs = time.time() - t0
        time.sleep(0.3)
        grouped = syncs() - before
        for client in clients + [c]:
            if client.conn is not None:
                client.conn.close()
        stop(proc)

        # Per connection, every 200 answer to a POST must come after an fsync that was issued after
        # that POST was read and had returned before the answer was written.
        syncs_done, starts, requests, answers = [], {}, {}, []
        with open(trace) as f:
            for line in f:
                if m := SYNC.match(line):
                    syncs_done.append((float(m.group(2)), float(m.group(2)) + float(m.group(4))))
                elif m := SYNC_START.match(line):
                    starts[m.group(1)] = float(m.group(2))
                elif (m := SYNC_END.match(line)) and m.group(1) in starts:
                    syncs_done.append((starts.pop(m.group(1)), float(m.group(2))))
                elif m := REQUEST.match(line):
                    requests[m.group(4)] = float(m.group(2))
                elif (m := ANSWER.match(line)) and m.group(4) in requests:
                    answers.append((requests.pop(m.group(4)), float(m.group(2))))
        checked = len(answers)
        late = sum(1 for asked, answered in answers
                   if not any(asked <= start and end <= answered for start, end in syncs_done))
        print(f"sequential: {o.n} acknowledged Creates, {sequential} fsync/fdatasync calls "
              f"({o.n / sequential_secs:.0f} writes/s)")
        print(f"16 clients: {o.n} acknowledged Creates, {grouped} fsync/fdatasync calls "
              f"({o.n / max(grouped, 1):.1f} writes per fsync, {o.n / concurrent_secs:.0f} writes/s)")
        print(f"answers checked against the trace: {checked}, answered with no fsync since the request: {late}")
        ok = sequential >= o.n and late == 0 and checked >= o.n
        print("fsync_check: " + ("OK" if ok else "FAILED"))
        return 0 if ok else 1
    finally:
        if not os.environ.get("FSYNC_CHECK_KEEP"):
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
