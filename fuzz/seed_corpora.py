#!/usr/bin/env python3
"""Writes seed inputs for the fuzz targets into fuzz/seeds/<target>/ (not committed): query strings
and dates from the test suite and the specification, JSON bodies from the specification's examples
and the shapes the README and tests send. `cargo fuzz cmin` then keeps what adds coverage to the
committed corpus (docs/fuzzing.md)."""

import hashlib
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = sys.argv[1] if len(sys.argv) > 1 else "/work/shared"
OUT = os.path.join(ROOT, "fuzz", "seeds")


def write(target, items):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    n = 0
    for item in items:
        data = item.encode() if isinstance(item, str) else item
        name = hashlib.sha1(data).hexdigest()
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
        n += 1
    print(f"{target}: {n} seeds")


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def files(folder, ext):
    for base, _, names in os.walk(folder):
        for n in names:
            if n.endswith(ext):
                yield os.path.join(base, n)


# --- Salesloft query strings -------------------------------------------------------------------
queries = set()
query_re = re.compile(r'"([a-z_]+(?:\[[a-z_]*\])*=[^"\s]*)"')
sources = list(files(os.path.join(ROOT, "tests"), ".rs")) + [
    os.path.join(ROOT, "src/api/salesloft/query.rs")
]
for path in sources:
    for m in query_re.finditer(read(path)):
        q = re.sub(r"\{[^}]*\}", "1", m.group(1))
        queries.add(q)
for path in [os.path.join(SHARED, "spec/salesloft.md")] + list(files(os.path.join(SHARED, "seeds"), ".txt")):
    for m in re.finditer(r"[a-z_]+(?:\[[a-z_]*\])+=[^\s`&]+(?:&[a-z_]+(?:\[[a-z_]*\])*=[^\s`&]+)*", read(path)):
        queries.add(m.group(0))
queries.update([
    "type[person][]=call&type[person][]=note&per_page=25&include_paging_counts=true",
    "sort_by=updated_at&sort_direction=asc&updated_at[gt]=2026-01-01T00:00:00.000000Z",
    "resource_type=crm_opportunity&resource_id=0f9b0c1e-7a4f-4c1a-9f1e-2b3c4d5e6f70",
    "resource_type[]=person&resource_id[]=1&resource_id[]=2",
    "ids=call-12,note-3&user_guid=00000000-0000-0000-0000-000000000000",
    "occurred_at[lt]=2019-01-01T01:00:00+01:00&occurred_at[gte]=2019-01-01T01:00:00%2B01:00",
    "pinned=false&limit_paging_counts=true&include_paging_counts=true&page=600",
    "per_page=%00",
    "sort=occurred_at&sort_direction=DESC&type=call,%20note",
])
write("salesloft_query", sorted(queries))

# --- LeadSquared bodies --------------------------------------------------------------------------
bodies = []


def json_spans(text):
    """Balanced {...} and [...] spans of `text` that parse as JSON (curly quotes straightened)."""
    text = text.replace("\u201c", '"').replace("\u201d", '"').replace("\u2019", "'")
    for start, ch in enumerate(text):
        if ch not in "{[":
            continue
        depth = 0
        for end in range(start, min(len(text), start + 4000)):
            if text[end] in "{[":
                depth += 1
            elif text[end] in "}]":
                depth -= 1
                if depth == 0:
                    span = text[start : end + 1]
                    try:
                        json.loads(span)
                    except ValueError:
                        break
                    yield span
                    break


for path in [os.path.join(SHARED, "spec/leadsquared.md")] + list(files(os.path.join(SHARED, "seeds"), ".txt")):
    for span in json_spans(read(path)):
        if len(span) > 2:
            bodies.append(span)

create = {
    "RelatedProspectId": "5c0e8b8a-1c1e-4a8e-9a5e-1e2f3a4b5c6d", "ActivityEvent": 201,
    "ActivityNote": "Your Activity Note", "ActivityDateTime": "2015-10-11 12:13:44",
    "IncludeLeadScore": True,
    "Fields": [{"SchemaName": "mx_Custom_1", "Value": "3"}, {"SchemaName": "mx_Custom_2", "Value": "Positive"}],
}
lenient = dict(create, ActivityEvent="201", IncludeLeadScore="1", ValidateDropDownOptions=1,
               Fields=[{"SchemaName": "mx_Custom_1", "Value": 3}, {"SchemaName": "Status", "Value": None}])
bodies += [
    json.dumps(create),
    json.dumps(lenient),
    json.dumps([create, lenient, {"ActivityEvent": 201.0, "ActivityDateTime": "2016-02-30 00:00:00"}]),
    '{"Parameter":{"ActivityEvent":201},"Paging":{"Offset":"0","RowCount":"10"}}',
    '{"Parameter":{"ActivityEvent":"201","FromDate":"2015-01-01 00:00:00","ToDate":"9999-12-31 23:59:59"},'
    '"Paging":{"PageIndex":3,"PageSize":1000},"Sorting":{"ColumnName":"ModifiedOn","Direction":"0"}}',
    '{"Sorting":{"ColumnName":"createdon","Direction":1},"Paging":{"PageIndex":"-1"}}',
    '{"ProspectActivityId":"5c0e8b8a-1c1e-4a8e-9a5e-1e2f3a4b5c6d","ActivityEvent":201,'
    '"ActivityNote":"edited","Fields":[{"SchemaName":"mx_Custom_1","Value":"4"}],"ValidateDropDownOptions":"true"}',
    '{"LeadDetails":[{"Attribute":"EmailAddress","Value":"ada@example.com"},{"Attribute":"SearchBy","Value":"EmailAddress"},'
    '{"Attribute":"DoNotCall","Value":"1"},{"Attribute":"mx_City","Value":"Pune"},{"Attribute":"OwnerId","Value":" x "}],'
    '"Opportunity":{"OpportunityEventCode":12000,"OpportunityNote":"n","OpportunityDateTime":"2020-02-29 23:59:59",'
    '"Fields":[{"SchemaName":"mx_Custom_1","Value":"Open"},{"SchemaName":"Status","Value":"Won"}]}}',
    '{"Columns":{"Include_CSV":"CreatedOn,Status,ProspectActivityId,mx_Custom_1"},'
    '"Paging":{"PageIndex":1,"PageSize":100},"Sorting":{"ColumnName":"LeadOwner"}}',
    '{"Sorting":{"ColumnName":"mx_Custom_1","Direction":0},"Paging":{"Offset":"2","RowCount":"50"}}',
    '{"Sorting":{"ColumnName":"mx_Custom_2"}}',
    '{"ActivityNote":"a\\u0000b"}',
    '{"Fields":[{"SchemaName":"mx_Custom_1","Value":"\\u0000"}]}',
    "",
    " \n",
    "[]",
    "{}",
]
write("lsq_bodies", bodies)

# --- Dates ---------------------------------------------------------------------------------------
dates = set()
date_re = re.compile(r'"([+-]?\d{4,5}-\d\d-\d\d(?:[Tt ][^"]*)?)"')
for path in list(files(os.path.join(ROOT, "src"), ".rs")) + list(files(os.path.join(ROOT, "tests"), ".rs")):
    for m in date_re.finditer(read(path)):
        dates.add(m.group(1))
dates.update(["2019-01-01T01:00:00 01:00", "2019-01-01t00:00:00.5", "9999-12-31T23:59:59.9999999Z",
              "0001-01-01T00:00:00-00:01", "2015-10-11 12:13:44 ", "2016-02-29"])
write("time_parsers", sorted(dates))
