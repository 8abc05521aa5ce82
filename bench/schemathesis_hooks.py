"""Schemathesis hooks for bench/schemathesis.py (loaded through the generated config's `hooks`).

Sections: the source address of each connection (here), the refusals dropped as state-dependent,
the NDJSON export's check, two checks of our own, and the seeded examples.

Each new connection to the server leaves from its own loopback address (127.0.0.0/8 is all local
on Linux). The server locks an address out after 30 refused credentials within a minute
(`auth::FailedLogins`), good keys included; schemathesis' `ignored_auth` check and its negative
cases send refused credentials on purpose, so from one address the run would be answered 429 for
whole minutes and test nothing. That lockout is a deliberately stateful, per-address behaviour
with tests of its own (tests/http/access.rs, tests/native/basics.rs); a fuzzer spread over many addresses is the many independent
clients the rest of the document describes. The script sends `Connection: close` so that every
request opens a new connection, hence a new address.
"""

import itertools
import os
import re
import threading

import schemathesis
import urllib3.util.connection

_create_connection = urllib3.util.connection.create_connection
_next = itertools.count(1)
_lock = threading.Lock()


def _fresh_loopback():
    with _lock:
        n = next(_next) % (254 * 256 * 256)
    # 127.1.0.1 .. 127.254.255.255 (the last octet skips 0), never 127.0.0.1 itself.
    return f"127.{1 + n // 65536}.{(n // 256) % 256}.{n % 256 or 1}"


def create_connection(address, *args, source_address=None, **kwargs):
    host = address[0]
    if source_address is None and isinstance(host, str) and host.startswith("127."):
        source_address = (_fresh_loopback(), 0)
    return _create_connection(address, *args, source_address=source_address, **kwargs)


urllib3.util.connection.create_connection = create_connection


# --- state-dependent refusals ----------------------------------------------------------------------
#
# positive_data_acceptance (ST202) fails a schema-valid request the server refuses. Some refusals
# depend on the store, not on the request's shape, and JSON Schema cannot state them: a reference to
# a record that does not exist (or of the wrong kind), a value that must agree with the record's
# type. These and only these 422s are dropped, by operation and by the server's own wording; any
# other refusal of a schema-valid request still fails the run. Each is tested in tests/native.
ANY = r".*"
WRITE = r"POST|PATCH|PUT"
REFERENCE = "a reference to another record, which must exist, be visible and be of the right kind"
TYPE_RULE = "custom field values are checked against the fields the record's activity type defines"
STATE_DEPENDENT = [
    # (method regex, path regex, message regex, why)
    (WRITE, ANY, r"is not an active user of this (tenant|team)$|"
     r"must be an active user of this tenant, not '[^']*'$", REFERENCE),
    (WRITE, ANY, r"'[^']*' does not exist$|does not exist in the system$|: activity type -?\d+ does not exist$",
     REFERENCE),
    (WRITE, r"/v2/(notes(/\{id\})?|activities/calls)",
     r"(^|; )(call_id no call|person_id no record|associated_with_id no record) with id \d+(;|$)",
     REFERENCE),
    (WRITE, ANY, r"-?\d+ is not an opportunity type of this tenant$|"
     r"-?\d+ is an opportunity type; create opportunities with POST", REFERENCE),
    (WRITE, ANY, r"type -?\d+ has Salesloft type '[^']*', not '[^']*' \(the 'type' given\)$",
     "type and event_code must name the same activity type of the tenant"),
    (WRITE, ANY, r"Invalid field: '.*' is not a field of activity type", TYPE_RULE),
    (WRITE, ANY, r"Mandatory field '[^']*' \(.*\) is missing or empty$", TYPE_RULE),
    (WRITE, ANY, r"Invalid value '.*' for field '[^']*'( of type \w+)?: expected ", TYPE_RULE),
    (WRITE, ANY, r"-?\d+ does not match the activity's type -?\d+$", TYPE_RULE),
    ("POST", r"/api/v1/webhooks", r"^'event_codes\[\d+\]' is not an activity type of this tenant: -?\d+$", REFERENCE),
    ("POST", r"/api/v1/activity_types", r"^'fields\[\d+\]\.schema_name' 'mx_Custom_\d+' is given twice$",
     "JSON Schema cannot say that no two items of an array share a property's value"),
    ("PATCH", r"/api/v1/activities/\{id\}",
     r"^'status' must be one of (Active, Inactive|Open, Won, Lost), not '(Active|Inactive|Open|Won|Lost)'$",
     "the status vocabulary is the record's: Active/Inactive for an activity, Open/Won/Lost for an opportunity"),
]



# LeadSquared answers its application errors (a record that does not exist, a mandatory attribute
# missing, a duplicate) with 500 and an `MX…Exception` in its envelope, as LeadSquared itself does
# (docs/decisions.md); only `MXInternalServerException` is a server error there.
LSQ_APPLICATION_ERROR = re.compile(r"^MX(?!InternalServer)[A-Za-z]+Exception$")

# Rules between two values of one request, which JSON Schema does not state, and LeadSquared's
# refusals of a custom field name the tenant's types do not have: such a refusal of a schema-valid
# request is dropped (and counted) like the state-dependent ones above.
CROSS_FIELD = [
    ("POST", r"/v2/LeadManagement\.svc/Lead\.(CreateOrUpdate|Capture)",
     r"^Pass EmailAddress or Phone", "a lead to find needs one of its keys among the attributes"),
    ("POST", r"/v2/ProspectActivity\.svc/RetrieveRecentlyModified",
     r"ToDate must not be before Parameter\.FromDate", "the window's end is not before its start"),
    ("POST", r"/v2/ProspectActivity\.svc/(CreateType|CustomActivityType/Update)",
     r"must list the options of an? [A-Za-z]+ field",
     "an option DataType (OptionSet, MultiSelect…) needs options beside it"),
    ("POST", r"/v2/ProspectActivity\.svc/(CreateType|CustomActivityType/Update)",
     r"SchemaName '[^']*' is given twice", "each field's SchemaName appears once in Fields"),
    ("POST", r"/v2/ProspectActivity\.svc/(CreateType|CustomActivityType/Update)",
     r"^Invalid OptionSet of field '[^']*': expected an array of options$",
     "a serialised OptionSet must hold a JSON array, which a pattern can only say is bracketed"),
    ("POST", r"/v2/OpportunityManagement\.svc/(GetActivitiesOfOpportunity|GetOpportunitiesOfLead)",
     r"^Sorting\.ColumnName 'mx_[^']*' is not a column of this list$",
     "a custom field's schema name is a column when one of the tenant's types has that field"),
    ("GET", r"/v2/activity_histories", r"requires resource_type",
     "Salesloft's resource_id filter needs resource_type beside it"),
    ("GET", r"/v2/meetings", r"account_id cannot be combined with a person filter",
     "meetings are filtered by account or by person, not both"),
    ("GET", r"/v2/notes", r"associated_with_id requires associated_with_type",
     "associated_with_id names a record only beside associated_with_type"),
]

# LeadSquared's bulk calls answer 200 with each row's refusal in the row's answer, so a row the
# document calls invalid is reported there, not by a 4xx of the whole call.
BULK = re.compile(r"/v2/ProspectActivity\.svc/Bulk/CustomActivity/Add/By(LeadId|OpportunityId)")


def _lsq_application_error(case, response):
    if ".svc/" not in case.operation.path or response.status_code != 500:
        return None
    try:
        kind = response.json().get("ExceptionType", "")
    except Exception:
        return None
    return kind if isinstance(kind, str) and LSQ_APPLICATION_ERROR.match(kind) else None


@schemathesis.hook
def filter_failure(context, failure, case, response):
    code = getattr(failure, "code", None)
    if response is not None and code == "ST101":
        kind = _lsq_application_error(case, response)
        if kind:
            _tally(f"{case.method.upper()} {case.operation.path}: LeadSquared's 500 {kind}, an application error in its envelope")
            return False
        return True
    if response is not None and code == "ST201" and BULK.fullmatch(case.operation.path) \
            and response.status_code == 200:
        _tally(f"{case.method.upper()} {case.operation.path}: a bulk call reports an invalid row inside its 200")
        return False
    if code != "ST202" or response is None or response.status_code not in (400, 422, 500):
        return True
    message = _error_message(response)
    if message is None:
        return True
    if response.status_code == 500 and _lsq_application_error(case, response):
        _tally(f"{case.method.upper()} {case.operation.path}: LeadSquared's 500 application error for a record that does not exist or is taken")
        return False
    for method, path, pattern, why in CROSS_FIELD:
        if (re.fullmatch(method, case.method.upper()) and re.fullmatch(path, case.operation.path)
                and re.search(pattern, message)):
            _tally(f"{case.method.upper()} {case.operation.path}: {why}")
            return False
    if response.status_code != 422:
        return True
    message = _error_message(response)
    if message is None:
        return True
    for method, path, pattern, why in STATE_DEPENDENT:
        if (re.fullmatch(method, case.method.upper()) and re.fullmatch(path, case.operation.path)
                and re.search(pattern, message)):
            _tally(f"{case.method.upper()} {case.operation.path}: {why}")
            return False
    return True


def _error_message(response):
    """The error text of an answer in any dialect's envelope: native `error.message`,
    LeadSquared `ExceptionMessage`, Salesloft `errors` (joined) or `error`."""
    try:
        body = response.json()
    except Exception:
        return None
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return error["message"]
    if isinstance(body.get("ExceptionMessage"), str):
        return body["ExceptionMessage"]
    errors = body.get("errors")
    if isinstance(errors, dict):
        return "; ".join(f"{k} {m}" for k, ms in errors.items() for m in (ms if isinstance(ms, list) else [ms]))
    return error if isinstance(error, str) else None


def _tally(line):
    """One line per dropped failure, for bench/schemathesis.py's summary."""
    path = os.environ.get("AH_SCHEMATHESIS_DROPPED")
    if path:
        with _lock, open(path, "a") as f:
            f.write(line + "\n")


# --- NDJSON answers --------------------------------------------------------------------------------
#
# GET /api/v1/export streams one object per line, and the document gives the schema of a line. Each
# line is checked against it here; the first line is handed to schemathesis' own response check.
# An empty stream has no line to check, which schemathesis treats as a body it cannot read.
@schemathesis.deserializer("application/x-ndjson")
def ndjson(ctx, response):
    import json

    import jsonschema

    lines = [json.loads(line) for line in response.content.decode("utf-8").splitlines() if line]
    if not lines:
        raise NotImplementedError("an empty NDJSON stream")
    definition = ctx.operation.responses.find_by_status_code(response.status_code)
    schema = definition.definition["content"]["application/x-ndjson"]["schema"]
    root = dict(ctx.operation.schema.raw_schema)
    validator = jsonschema.Draft202012Validator({**root, **schema})
    for i, line in enumerate(lines[1:], start=2):
        error = jsonschema.exceptions.best_match(validator.iter_errors(line))
        if error is not None:
            raise ValueError(f"line {i} of the stream: {error.message} at {list(error.absolute_path)}")
    return lines[0]


# --- checks of our own -----------------------------------------------------------------------------
def _foreign_ids():
    raw = os.environ.get("AH_SCHEMATHESIS_FOREIGN", "")
    return [x for x in raw.split(",") if x]


_FOREIGN = _foreign_ids()


@schemathesis.check
def tenant_isolation(ctx, response, case):
    """No answer to the fuzzed tenant's key holds an id of another tenant's records.

    The script seeds a second tenant and mixes its ids into the dictionaries the requests draw
    from, so requests do name them; the answer must treat them as unknown. An id the request
    itself gave may be quoted back (in an error message).
    """
    body = response.content or b""
    request = response.request
    sent = f"{request.url} {request.body!r}"
    for foreign in _FOREIGN:
        # An error may quote the id the request gave; the answer must not add one of its own.
        if foreign.encode() in body and foreign not in sent:
            raise AssertionError(f"the answer holds '{foreign}', an id of another tenant's record")


@schemathesis.check
class EveryOperationSucceeds:
    """Each operation answered 2xx at least once: the seed and dictionaries reach every success
    path, so the other checks saw more than refusals."""

    def __init__(self):
        self.tested = set()
        self.reached = set()

    def after_response(self, ctx, response, case):
        self.tested.add(case.operation.label)
        if 200 <= response.status_code < 300:
            self.reached.add(case.operation.label)

    def after_run(self, ctx):
        never = sorted(self.tested - self.reached)
        if never:
            raise AssertionError("never answered 2xx: " + ", ".join(never))


# --- seeded examples -------------------------------------------------------------------------------
#
# The script writes examples built from the records it seeded (ids in path and query parameters,
# and whole bodies for the native writes that need several records to agree); they are added to
# the document as schemathesis loads it, so its examples phase calls each operation with real
# records at least once. The served document is not changed.
@schemathesis.hook
def before_load_schema(context, raw_schema):
    import json

    path = os.environ.get("AH_SCHEMATHESIS_EXAMPLES")
    if not path:
        return
    with open(path) as f:
        examples = json.load(f)
    for op_path, methods in examples.items():
        item = raw_schema.get("paths", {}).get(op_path, {})
        for method, found in methods.items():
            op = item.get(method)
            if op is None:
                continue
            for param in op.get("parameters", []):
                values = found.get("parameters", {}).get(f"{param.get('in')}.{param.get('name')}")
                if values and "$ref" not in param:
                    param["examples"] = {f"seeded{i}": {"value": v} for i, v in enumerate(values)}
            bodies = found.get("bodies")
            content = op.get("requestBody", {}).get("content", {})
            if bodies and "application/json" in content:
                content["application/json"]["examples"] = {
                    f"seeded{i}": {"value": b} for i, b in enumerate(bodies)}
