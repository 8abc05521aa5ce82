#!/usr/bin/env python3
"""The web UI in a real browser: headless Chromium (Debian's package) driven by playwright (PyPI)
against the debug binary on a demo SQLite store of its own.

Signs in with the Administrator's API key, finds a lead by search, scrolls its timeline, filters it,
posts an activity with a bad then a good field value, compares the overview's chart numbers with
what the LeadSquared API counts, fails on any browser console error, and saves screenshots.

    python3 tests/browser/ui.py target/debug/activity-hub [--artifacts target/ci-artifacts]

Prints "browser test: PASS" at the end (.ci/run checks for it).
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

from playwright.sync_api import expect, sync_playwright

WEEK = "2020-01-06"  # a Monday no demo activity falls in
VISITS = 30  # "Customer Site Visit" (201) activities logged that week
DEMOS = 3  # "Product Demo" (202) activities logged that week


def start(binary, tmp):
    db = f"sqlite://{tmp}/ui.db"
    proc = subprocess.Popen(
        [binary, "serve", "--demo", "--no-rate-limit", "--db", db, "--bind", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    creds, base = {}, None
    for line in proc.stdout:
        m = re.match(r"\s+Administrator\s+\S+\s+accessKey=(\S+) secretKey=(\S+) bearer=(\S+)", line)
        if m:
            creds = {"access": m.group(1), "secret": m.group(2), "bearer": m.group(3)}
        m = re.search(r"listening on (http://\S+)", line)
        if m:
            base = m.group(1)
            break
    if not base or not creds:
        proc.kill()
        sys.exit("FAIL: the server did not start with demo credentials")
    return proc, base, creds


def call(base, path, body, headers):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(req) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        raise AssertionError(f"{path}: {e.code} {e.read()[:300]!r}") from None


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--artifacts", default="target/ci-artifacts")
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = ap.parse_args()
    os.makedirs(args.artifacts, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="ui-browser-")
    proc, base, creds = start(os.path.abspath(args.binary), tmp)
    try:
        run(base, creds, args)
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    print("browser test: PASS")


def run(base, creds, args):
    bearer = {"Authorization": f"Bearer {creds['bearer']}"}
    lsq = f"?accessKey={urllib.request.quote(creds['access'])}&secretKey={creds['secret']}"
    lead = call(base, "/api/v1/leads",
                {"first_name": "Grace", "last_name": "Hopper", "email": "grace@ui.example"},
                bearer)["data"]
    lead_guid = lead["guid"]
    for i in range(VISITS + DEMOS):
        visit = i < VISITS
        body = {
            "RelatedProspectId": lead_guid,
            "ActivityEvent": 201 if visit else 202,
            "ActivityNote": f"logged {i}",
            "ActivityDateTime": f"{WEEK[:8]}{6 + i % 7:02d} {10 + i % 8:02d}:00:00",
            "Fields": [{"SchemaName": "mx_Custom_1", "Value": "2" if visit else "Hub Pro"}],
        }
        out = call(base, "/v2/ProspectActivity.svc/Create" + lsq, body, {})
        check(out.get("Status") == "Success", f"Create: {out}")

    def api_count(code):
        body = {"Parameter": {"ActivityEvent": code, "FromDate": f"{WEEK} 00:00:00",
                              "ToDate": "2020-01-12 23:59:59"},
                "Paging": {"Offset": "0", "RowCount": "1"}}
        out = call(base, f"/v2/ProspectActivity.svc/Retrieve{lsq}&leadId={lead_guid}", body, {})
        return int(out["RecordCount"])

    errors = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium,
                                    args=["--no-sandbox", "--disable-dev-shm-usage"])
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.on("pageerror", lambda e: errors.append(str(e)))

        def expected_status(code):
            """The one console line Chromium writes for a page answered with this error status,
            which the step provoked on purpose; any other console error fails the test."""
            hits = [e for e in errors if f"status of {code}" in e]
            check(len(hits) == 1, f"expected one console line for {code}: {errors}")
            errors.remove(hits[0])

        # Sign in: `/` sends a stranger to the form.
        page.goto(base + "/")
        check(page.url.endswith("/ui/login"), f"not sent to sign-in: {page.url}")
        page.fill("#api_key", "ak_not_a_key")
        page.click("#sign-in")
        expect(page.locator("#login-error")).to_contain_text("api_key")
        expected_status(401)
        page.fill("#api_key", creds["bearer"])
        page.click("#sign-in")
        page.wait_for_url("**/ui/overview")

        # Find the lead and open it.
        page.fill("#q", "grace")
        page.locator("#search button").click()
        page.locator("#leads a", has_text="Grace Hopper").click()
        expect(page.locator("#lead-name")).to_have_text("Grace Hopper")
        items = page.locator("#timeline li.activity")
        expect(items).to_have_count(25)

        # Scrolling continues the timeline in place.
        page.locator("#more").scroll_into_view_if_needed()
        expect(items).to_have_count(VISITS + DEMOS)
        check(page.locator("#more").count() == 0, "no more pages after the last")

        # Filter by type.
        page.select_option("#filter-type", "202")
        page.click("#apply-filters")
        expect(items).to_have_count(DEMOS)
        expect(page.locator("#timeline li.activity dt", has_text="Product").first).to_be_visible()

        # Post with a bad then a good value: the error is next to the field.
        page.select_option("#new-type", "201")
        page.wait_for_selector("#f-mx_Custom_1")
        page.fill("#note", "from the browser")
        page.fill("#f-mx_Custom_1", "several")
        page.click("#post-submit")
        err = page.locator("#f-mx_Custom_1-error")
        expect(err).to_contain_text("mx_Custom_1")
        check(page.locator("#f-mx_Custom_1").input_value() == "several", "value kept")
        expected_status(422)
        page.fill("#f-mx_Custom_1", "4")
        page.click("#post-submit")
        expect(page.locator("#posted")).to_be_visible()
        expect(page.locator("#timeline li.activity").first).to_contain_text("from the browser")
        page.screenshot(path=os.path.join(args.artifacts, "ui.png"), full_page=True)

        # The chart's numbers for that week are the API's.
        page.goto(f"{base}/ui/overview?from={WEEK}&to={WEEK}")
        row = page.locator(f'#weekly-table tr[data-week="{WEEK}"]')
        heads = page.locator("#weekly-table thead th").all_inner_texts()
        cells = row.locator("td").all_inner_texts()
        table = dict(zip(heads[1:], (int(c) for c in cells)))
        want = {"Customer Site Visit": api_count(201), "Product Demo": api_count(202)}
        check(want == {"Customer Site Visit": VISITS, "Product Demo": DEMOS}, f"API: {want}")
        check(table == {**want, "Total": VISITS + DEMOS}, f"table {table} != API {want}")
        bar = page.locator(f'#weekly g.week[data-week="{WEEK}"]')
        check(bar.get_attribute("data-total") == str(VISITS + DEMOS), "bar total")
        for name, n in want.items():
            seg = bar.locator(f'rect[data-series="{name}"]')
            check(seg.get_attribute("data-count") == str(n), f"bar segment {name}")
            check(f"{name}: {n}" in (seg.locator("title").text_content() or ""), f"segment title {name}")
        page.screenshot(path=os.path.join(args.artifacts, "ui-overview.png"), full_page=True)

        # Sign out ends the session.
        page.click("#sign-out")
        page.wait_for_url("**/ui/login")
        page.goto(base + "/ui/overview")
        check(page.url.endswith("/ui/login"), "signed out")
        browser.close()
    check(not errors, f"browser console errors: {errors}")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        sys.exit(f"FAIL: {e}")
