"""Extracts the schemas of Salesloft's resources the tests check answers against (Call, Email,
Note, Meeting, CrmActivity, Person, Account, User and what they reference) from Salesloft's
OpenAPI, as JSON for the tests:
python3 tests/salesloft/vendor/extract.py /work/shared/spec/salesloft-openapi/apis-guru-salesloft-v2-openapi.full.yaml > tests/salesloft/vendor/schemas.json
"""
import hashlib
import json
import sys

import yaml

ROOTS = ["Call", "Email", "Note", "Meeting", "CrmActivity", "Person", "Account", "User"]


def refs(node, out):
    if isinstance(node, dict):
        r = node.get("$ref")
        if isinstance(r, str) and r.startswith("#/components/schemas/"):
            out.add(r.rsplit("/", 1)[1])
        for v in node.values():
            refs(v, out)
    elif isinstance(node, list):
        for v in node:
            refs(v, out)


def main(path):
    raw = open(path, "rb").read()
    schemas = yaml.safe_load(raw)["components"]["schemas"]
    wanted, todo = set(), list(ROOTS)
    while todo:
        name = todo.pop()
        if name in wanted:
            continue
        wanted.add(name)
        found = set()
        refs(schemas[name], found)
        todo.extend(found - wanted)
    doc = {
        "source": "apis-guru-salesloft-v2-openapi.full.yaml (APIs-guru/openapi-directory, salesloft.com/v2)",
        "sha256": hashlib.sha256(raw).hexdigest(),
        "components": {"schemas": {n: schemas[n] for n in sorted(wanted)}},
    }
    json.dump(doc, sys.stdout, indent=1, sort_keys=True, default=str)
    sys.stdout.write("\n")


main(sys.argv[1])
