"""Published schemas: the JSON Schema files agree with the daemon's decoder, event by event.

A corpus of valid and invalid events — generated from seeded mutations of valid ones, plus
hand-picked edge cases — is judged twice: by Python's jsonschema (what an integrator runs
before sending, with the parse rules the schemas cannot state) and by the daemon's own
decoder (`planwatch check --json`). Every verdict must be the same. The daemon serves the
same files over HTTP."""
import copy
import json
import os
import random
import subprocess
import tempfile
import urllib.request

import jsonschema
import pytest
import referencing

from conftest import ROOT, _bin_dir

SCHEMAS = os.path.join(ROOT, "Sources", "planwatchd", "Schemas")
MAX_BODY = 65536
MAX_DEPTH = 32


def load_schemas():
    resources = {}
    for name in sorted(os.listdir(SCHEMAS)):
        if name.endswith(".schema.json"):
            with open(os.path.join(SCHEMAS, name), encoding="utf-8") as f:
                schema = json.load(f)
            resources[name] = schema
    return resources


def validator():
    resources = load_schemas()
    registry = referencing.Registry().with_resources(
        (s["$id"], referencing.Resource.from_contents(s)) for s in resources.values())
    schema = resources["event.schema.json"]
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, registry=registry, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


class Invalid(Exception):
    pass


def strict_parse(raw):
    """The parse rules of CONTRACT.md that a schema cannot state, as an integrator applies them."""
    if len(raw) > MAX_BODY:
        raise Invalid("too large")
    text = raw.decode("utf-8")  # invalid UTF-8 raises

    def pairs(items):
        keys = [k for k, _ in items]
        if len(keys) != len(set(keys)):
            raise Invalid("duplicate key")
        return dict(items)

    def constant(name):
        raise Invalid(f"{name} is not JSON")

    value = json.loads(text, object_pairs_hook=pairs, parse_constant=constant)

    def walk(v, depth):
        if isinstance(v, (dict, list)):
            if depth + 1 > MAX_DEPTH:
                raise Invalid("too deep")
            for item in (v.values() if isinstance(v, dict) else v):
                walk(item, depth + 1)
            if isinstance(v, dict):
                for k in v:
                    k.encode("utf-8")  # a lone surrogate escape raises
        elif isinstance(v, float) and v in (float("inf"), float("-inf")):
            raise Invalid("number out of range")
        elif isinstance(v, str):
            v.encode("utf-8")

    walk(value, 0)
    return value


def schema_verdict(v, raw):
    try:
        value = strict_parse(raw)
    except (Invalid, ValueError, UnicodeError, RecursionError):
        return False
    if not v.is_valid(value):
        return False
    # Beyond the schema (documented in its description): one classId once per census.
    if value.get("type") == "enrolment.census":
        ids = [c.get("classId") for c in value["payload"]["classes"]]
        if len(ids) != len(set(ids)):
            return False
    return True


NOW = "2026-03-02T08:10:00+08:00"
VALID = {
    "project.milestone": {
        "projectId": "P-2020-017", "name": "市直一幼新园", "category": "kindergarten", "work": "new",
        "milestone": "started", "actualDate": "2020-05-10",
        "schedule": {"started": "2020-05-01", "toppedOut": "2020-09-01", "completed": "2020-12-01", "inUse": "2021-02-01"},
        "seatsAdded": 360, "schoolId": "370303-K017", "planRef": "Zibo 2020 §6"},
    "enrolment.census": {
        "schoolId": "370303-0042", "level": "primary", "ownership": "public", "term": "2026-spring",
        "classes": [{"classId": "3-2", "grade": 3, "size": 57}, {"classId": "3-1", "size": 40}]},
    "enrolment.change": {
        "schoolId": "370303-0042", "level": "primary", "ownership": "public", "classId": "3-2", "change": "droppedOut",
        "count": 1, "studentRef": "S-8f2a", "reason": "poverty"},
    "safety.incident": {
        "incidentId": "INC-2026-0311", "schoolId": "370303-0042", "category": "foodPoisoning", "status": "reported",
        "affected": 35, "injured": 0, "deaths": 0, "reportedAt": "2026-03-11T12:30:00+08:00", "resolvedAt": None,
        "description": "午餐后多名学生腹痛"},
    "operator.ack": {"fingerprint": "safety.incident/INC-2026-0311", "by": "张店区教育局 王敏", "note": "已派人到校"},
    "teacher.roster": {"teacherId": "T-370303-0042-017", "schoolId": "370303-0042", "role": "teacher", "since": "2017-09-01", "left": False},
    "teacher.training": {"teacherId": "T-370303-0042-017", "hours": 24, "completedOn": "2026-07-10"},
    "inspection.visit": {
        "visitId": "DD-2024-0031", "schoolId": "370303-K017", "level": "preschool", "inspectionType": "kindergartenConduct",
        "date": "2024-04-10", "findings": 3, "rectifyBy": "2024-06-30", "rectifiedOn": None},
    "safety.hazard": {
        "hazardId": "YH-2020-0412", "schoolId": "370303-0042", "kind": "schoolBus", "found": "2020-04-12",
        "rectifyBy": "2020-04-30", "status": "found", "rectifiedOn": None, "description": "校车灭火器过期"},
    "safety.drill": {"drillId": "YL-2020-0088", "schoolId": "370303-0042", "kind": "evacuation", "date": "2020-03-20", "participants": 1200},
    "training.inspection": {
        "inspectionId": "XC-2023-0117", "institutionId": "JG-370303-0117", "institutionName": "启航教育", "date": "2023-04-03",
        "violations": ["hiddenVariant", "aheadOfCurriculum"], "status": "found", "rectifyBy": "2023-04-14"},
    "special.placement": {"childRef": "C-8f2a", "disability": "hearing", "placement": "homeDelivered", "date": "2023-09-01", "schoolId": "370303-T001"},
    "aid.payment": {
        "paymentId": "NUT-2020-autumn-P017", "programme": "nutrition", "schoolId": "370303-P017", "term": "2020-autumn",
        "due": "2020-10-31", "students": 600, "amountDue": 240000, "paidStudents": 600, "amountPaid": 240000, "paidOn": "2020-10-20"},
}
# Types a plugin adds: valid only where the daemon loads the plugin (test_plugin_types_...).
PLUGIN_VALID = {
    "infra.classroom": {"schoolId": "370303-P002", "classrooms": 12, "bandwidthMbps": 20, "teacherTerminals": 60, "teachers": 80},
    "finance.budget": {"year": 2023, "educationSpending": 5350000000, "perPupilSpending": 14600},
}
PLUGIN_SCHEMAS = {"infra.classroom": "infra.classroom.schema.json", "finance.budget": "finance.budget.schema.json"}


def envelope(kind, payload, **overrides):
    event = {"id": "4f0c2a9e-6b1d-4d7e-9a51-2f7f3c1e8b10", "type": kind, "source": "xueji", "seq": 42,
             "occurredAt": NOW, "region": "370303", "schemaVersion": 1, "payload": payload}
    event.update(overrides)
    return event


def nested(n):
    value = []
    for _ in range(n - 1):
        value = [value]
    return value


WRONG = [None, True, 0, -1, 1.5, 2**70, "", "x", "2026-13-01", [], {}, "A" * 300]


def mutations(rng, valid=None):
    """Seeded mutations of the valid events: every field removed, retyped, stretched."""
    out = []
    for kind, payload in (valid or VALID).items():
        out.append(envelope(kind, copy.deepcopy(payload)))
        for key in list(payload) + ["id", "type", "source", "seq", "occurredAt", "region", "schemaVersion", "payload"]:
            inside = key in payload
            base = envelope(kind, copy.deepcopy(payload))
            target = base["payload"] if inside else base
            removed = copy.deepcopy(base)
            (removed["payload"] if inside else removed).pop(key, None)
            out.append(removed)
            for wrong in rng.sample(WRONG, 5):
                e = copy.deepcopy(base)
                (e["payload"] if inside else e)[key] = wrong
                out.append(e)
            if isinstance(target.get(key), str):
                for length in (0, 1, 64, 65, 128, 129, 256, 257):
                    e = copy.deepcopy(base)
                    (e["payload"] if inside else e)[key] = rng.choice("校园安全abc") * length
                    out.append(e)
            if isinstance(target.get(key), int) and not isinstance(target.get(key), bool):
                for n in (0, -1, 1, 20, 21, 500, 501, 1000, 1001, 10000, 10001, 1000000, 1000001, 2**31 - 1, 2**31, 2**53 - 1, 2**53, 2**63 - 1):
                    e = copy.deepcopy(base)
                    (e["payload"] if inside else e)[key] = n
                    out.append(e)
                e = copy.deepcopy(base)
                (e["payload"] if inside else e)[key] = float(target[key])  # 24.0: still a whole number
                out.append(e)
        extra = envelope(kind, copy.deepcopy(payload), unknownField={"ignored": True})
        extra["payload"]["alsoUnknown"] = [1, 2, 3]
        out.append(extra)
    return out


HAND_PICKED_TEXT = [
    # Timestamps: offsets, case, fractions, impossible dates, leap seconds.
    *[json.dumps(envelope("safety.incident", VALID["safety.incident"], occurredAt=t), ensure_ascii=False) for t in [
        "2026-03-02T08:10:00Z", "2026-03-02t08:10:00z", "2026-03-02T08:10:00.123456+08:00", "2026-03-02T08:10:00",
        "2026-03-02 08:10:00+08:00", "2026-02-30T08:10:00+08:00", "2026-03-02T24:00:00+08:00", "2026-03-02T23:59:60Z",
        "2026-03-02T08:10:00+0800", "2026-03-02T08:10:00.+08:00", "0000-01-01T00:00:00Z", "２０２６-03-02T08:10:00Z"]],
    # Dates in payloads.
    *[json.dumps(envelope("teacher.training", dict(VALID["teacher.training"], completedOn=d))) for d in [
        "2026-07-10", "2026-7-10", "2026-07-32", "2024-02-29", "2026-02-29", "20260710", "2026-07-10T00:00:00Z"]],
    # Regions.
    *[json.dumps(envelope("enrolment.census", VALID["enrolment.census"], region=r)) for r in ["370303", "37030", "3703031", "37030a", "000000"]],
    # Conditional rules and enums.
    json.dumps(envelope("enrolment.change", dict(VALID["enrolment.change"], studentRef=None))),
    json.dumps(envelope("enrolment.change", {k: v for k, v in VALID["enrolment.change"].items() if k != "studentRef"})),
    json.dumps(envelope("enrolment.change", dict(VALID["enrolment.change"], change="returned", studentRef=None))),
    json.dumps(envelope("enrolment.change", dict(VALID["enrolment.change"], change="admitted", studentRef=None))),
    json.dumps(envelope("project.milestone", dict(VALID["project.milestone"], schedule={"started": None}))),
    json.dumps(envelope("project.milestone", dict(VALID["project.milestone"], schedule={"finished": "2020-01-01"}))),
    json.dumps(envelope("project.milestone", dict(VALID["project.milestone"], schedule={"started": "2020-1-1"}))),
    json.dumps(envelope("teacher.roster", dict(VALID["teacher.roster"], role="principal"))),
    json.dumps(envelope("teacher.roster", dict(VALID["teacher.roster"], left="yes"))),
    json.dumps(envelope("teacher.roster", dict(VALID["teacher.roster"], left=None))),
    json.dumps(envelope("enrolment.census", dict(VALID["enrolment.census"], classes=[{"classId": "1", "size": 1}, {"classId": "1", "size": 2}]))),
    json.dumps(envelope("enrolment.census", dict(VALID["enrolment.census"], classes=["3-2"]))),
    json.dumps(envelope("enrolment.census", dict(VALID["enrolment.census"], classes=[]))),
    json.dumps(envelope("finance.budget", {"year": 2023, "educationSpending": 1, "perPupilSpending": 1})),
    json.dumps(envelope("infra.classroom", PLUGIN_VALID["infra.classroom"])),
    # The further domains' conditional rules, arrays and terms.
    json.dumps(envelope("inspection.visit", dict(VALID["inspection.visit"], rectifyBy=None))),
    json.dumps(envelope("inspection.visit", dict(VALID["inspection.visit"], findings=0, rectifyBy=None))),
    json.dumps(envelope("inspection.visit", {k: v for k, v in VALID["inspection.visit"].items() if k != "rectifyBy"})),
    json.dumps(envelope("inspection.visit", dict(VALID["inspection.visit"], findings=1.0, rectifyBy=None))),
    json.dumps(envelope("training.inspection", dict(VALID["training.inspection"], violations=[], rectifyBy=None, status=None))),
    json.dumps(envelope("training.inspection", dict(VALID["training.inspection"], rectifyBy=None))),
    json.dumps(envelope("training.inspection", dict(VALID["training.inspection"], violations=["paidTutoring", "paidTutoring"]))),
    json.dumps(envelope("training.inspection", dict(VALID["training.inspection"], violations=["other"] * 6))),
    json.dumps(envelope("training.inspection", dict(VALID["training.inspection"], violations=["hiddenVariant", "paidTutoring", "aheadOfCurriculum", "unlicensed", "other"]))),
    json.dumps(envelope("training.inspection", dict(VALID["training.inspection"], violations=["gambling"]))),
    json.dumps(envelope("training.inspection", dict(VALID["training.inspection"], violations=[1]))),
    json.dumps(envelope("training.inspection", dict(VALID["training.inspection"], violations="hiddenVariant"))),
    *[json.dumps(envelope("aid.payment", dict(VALID["aid.payment"], term=t)), ensure_ascii=False) for t in [
        "2020-spring", "2020-autumn", "2020-summer", "20-spring", "20200-spring", "2020-Spring", "2020spring", "２０２０-spring",
        "2020-spring\n", "0000-autumn", "2020-autumn-2"]],
    json.dumps(envelope("aid.payment", dict(VALID["aid.payment"], paidStudents=None, amountPaid=None, paidOn=None))),
    json.dumps(envelope("special.placement", dict(VALID["special.placement"], schoolId=None))),
    json.dumps(envelope("special.placement", dict(VALID["special.placement"], schoolId=""))),
    json.dumps(envelope("safety.hazard", dict(VALID["safety.hazard"], status="closed"))),
    json.dumps(envelope("safety.drill", dict(VALID["safety.drill"], date="2020-02-30"))),
    json.dumps(envelope("nosuch.type", {})),
    json.dumps(envelope("safety.incident", VALID["safety.incident"], schemaVersion=2)),
    json.dumps(envelope("safety.incident", VALID["safety.incident"], schemaVersion=1.0)),
    json.dumps(envelope("safety.incident", VALID["safety.incident"], seq=None)),
    json.dumps(envelope("safety.incident", VALID["safety.incident"], seq=1e2)),
    json.dumps(envelope("safety.incident", VALID["safety.incident"], seq=2**63)),
    json.dumps(envelope("safety.incident", VALID["safety.incident"], id="👩‍👩‍👧" * 18)),  # 90 code points, 18 graphemes
    json.dumps(envelope("safety.incident", VALID["safety.incident"], id="👩‍👩‍👧" * 26)),  # 130 code points
    json.dumps(envelope("safety.incident", VALID["safety.incident"], id="é" * 128), ensure_ascii=False),
    json.dumps(envelope("safety.incident", VALID["safety.incident"], id="e\u0301" * 64), ensure_ascii=False),
    json.dumps(envelope("safety.incident", VALID["safety.incident"], id="e\u0301" * 65), ensure_ascii=False),
    # The parse rules: duplicate keys, nesting, numbers, escapes, non-objects.
    '{"id":"a","id":"b","type":"safety.incident"}',
    json.dumps(envelope("safety.incident", VALID["safety.incident"], deep=nested(31))),  # 32 levels: the limit
    json.dumps(envelope("safety.incident", VALID["safety.incident"], deep=nested(32))),  # 33 levels: too deep
    json.dumps(envelope("safety.incident", VALID["safety.incident"])).replace('"affected": 35', '"affected": 1e400'),
    json.dumps(envelope("safety.incident", VALID["safety.incident"])).replace('"affected": 35', '"affected": NaN'),
    json.dumps(envelope("safety.incident", VALID["safety.incident"])).replace('"affected": 35', '"affected": 035'),
    json.dumps(envelope("safety.incident", VALID["safety.incident"])).replace('"affected": 35', '"affected": 3.5e1'),
    json.dumps(envelope("safety.incident", VALID["safety.incident"])).replace('"source": "xueji"', '"source": "\\ud800"'),
    json.dumps(envelope("safety.incident", VALID["safety.incident"])).replace('"source": "xueji"', '"source": "\\ud83d\\ude00"'),
    '[1, 2]', '"text"', '42', 'null', '{"type": "safety.incident"',
    json.dumps(envelope("safety.incident", dict(VALID["safety.incident"], description="说" * 30000)), ensure_ascii=False),
]
HAND_PICKED_BYTES = [
    b'{"id":"\xff\xfe","type":"safety.incident"}',
    json.dumps(envelope("safety.incident", dict(VALID["safety.incident"], description="x" * 70000))).encode(),
]


def corpus():
    rng = random.Random(20261123)
    lines = [json.dumps(e, ensure_ascii=rng.random() < 0.5).encode() for e in mutations(rng)]
    lines += [t.encode() for t in HAND_PICKED_TEXT] + HAND_PICKED_BYTES
    return lines


def test_the_schemas_and_the_decoder_give_the_same_verdict_on_every_event():
    v = validator()
    lines = corpus()
    assert len(lines) >= 500
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "corpus.jsonl")
        with open(path, "wb") as f:
            f.write(b"\n".join(lines) + b"\n")
        result = subprocess.run([os.path.join(_bin_dir(), "planwatch"), "check", "--json", path], capture_output=True)
    verdicts = {}
    for row in result.stdout.decode().splitlines():
        record = json.loads(row)
        verdicts[record["line"]] = record
    assert len(verdicts) == len(lines), result.stderr.decode()
    disagreements = []
    for number, raw in enumerate(lines, start=1):
        ours = schema_verdict(v, raw)
        theirs = verdicts[number]["valid"]
        if ours != theirs:
            disagreements.append(f"line {number}: schema {'valid' if ours else 'invalid'}, daemon {verdicts[number]}: {raw[:300]!r}")
    valid = sum(1 for r in verdicts.values() if r["valid"])
    os.makedirs(os.path.join(ROOT, "artifacts"), exist_ok=True)
    with open(os.path.join(ROOT, "artifacts", "schema-differential.txt"), "w") as f:
        f.write(f"{len(lines)} events, {valid} valid, {len(lines) - valid} invalid, {len(disagreements)} disagreements\n")
        f.write("\n".join(disagreements))
    assert not disagreements, "\n".join(disagreements[:20])
    assert 50 <= valid <= len(lines) - 300, f"{valid} valid of {len(lines)}: the corpus must exercise both verdicts"


def plugin_dir(tmp):
    """A plugin directory with this checkout's plugins."""
    directory = os.path.join(tmp, "plugins")
    os.makedirs(directory)
    for name in ("libFinancePlugin.so", "libDigitalInfrastructurePlugin.so"):
        os.symlink(os.path.join(_bin_dir(), name), os.path.join(directory, name))
    return directory


def test_plugin_types_get_the_same_verdict_from_their_schemas_and_the_daemon_that_loads_the_plugins():
    """A daemon with the plugins accepts their types: event.schema.json with each plugin's payload
    schema (as docs/schemas.md tells an integrator to compose them) agrees with `planwatch check
    --plugin-dir`, on the mutations of the plugins' events and every built-in type's."""
    resources = load_schemas()
    composed = copy.deepcopy(resources["event.schema.json"])
    composed["$id"] = "https://planwatch.example/schemas/v1/event-with-plugins.schema.json"
    for kind, name in PLUGIN_SCHEMAS.items():
        composed["properties"]["type"]["enum"].append(kind)
        composed["allOf"].append({"if": {"properties": {"type": {"const": kind}}, "required": ["type"]},
                                  "then": {"properties": {"payload": {"$ref": name}}}})
    registry = referencing.Registry().with_resources(
        (s["$id"], referencing.Resource.from_contents(s)) for s in list(resources.values()) + [composed])
    v = jsonschema.Draft202012Validator(composed, registry=registry, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    rng = random.Random(20261124)
    lines = [json.dumps(e, ensure_ascii=rng.random() < 0.5).encode() for e in mutations(rng, {**PLUGIN_VALID, **VALID})]
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "corpus.jsonl")
        with open(path, "wb") as f:
            f.write(b"\n".join(lines) + b"\n")
        result = subprocess.run([os.path.join(_bin_dir(), "planwatch"), "check", "--json", "--plugin-dir", plugin_dir(directory), path],
                                capture_output=True)
    verdicts = {json.loads(row)["line"]: json.loads(row) for row in result.stdout.decode().splitlines()}
    assert len(verdicts) == len(lines), result.stderr.decode()[:2000]
    disagreements = [f"line {n}: schema {'valid' if schema_verdict(v, raw) else 'invalid'}, daemon {verdicts[n]}: {raw[:300]!r}"
                     for n, raw in enumerate(lines, start=1) if schema_verdict(v, raw) != verdicts[n]["valid"]]
    assert not disagreements, "\n".join(disagreements[:20])
    plugin_lines = [n for n, raw in enumerate(lines, start=1) if json.loads(raw).get("type") in ("infra.classroom", "finance.budget")]
    assert sum(1 for n in plugin_lines if verdicts[n]["valid"]) >= 4
    assert sum(1 for n in plugin_lines if not verdicts[n]["valid"]) >= 50


def test_every_outbound_body_validates_against_its_schema(ctx, daemon):
    """What the daemon publishes — alerts, indicators, dead letters — matches the published schemas."""
    import zmq
    from test_contract_interop import TOPIC, incident, recv, subscriber
    resources = load_schemas()
    registry = referencing.Registry().with_resources(
        (s["$id"], referencing.Resource.from_contents(s)) for s in resources.values())
    checkers = {name: jsonschema.Draft202012Validator(resources[f"{name}.schema.json"], registry=registry,
                                                       format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
                for name in ("alert", "indicator", "deadletter")}
    sub = subscriber(ctx, daemon, b"")
    dealer = ctx.socket(zmq.DEALER)
    dealer.connect(daemon.ack)
    dealer.send_multipart([TOPIC, json.dumps(incident(incidentId="INC-SCHEMA")).encode()])
    assert recv(dealer)[0] == b"ok"
    dealer.send_multipart([TOPIC, b'{"not": "an event"}'])
    assert recv(dealer)[0] == b"rejected"
    seen = set()
    while seen != {"alert", "indicator", "deadletter"}:
        topic, body = recv(sub)
        kind = topic.decode().split(".")[0]
        checkers[kind].validate(json.loads(body))
        seen.add(kind)


def test_the_daemon_serves_the_same_schemas(daemon):
    from test_operators import get, wait_for
    wait_for(lambda: get(daemon.http + "/healthz")[0] == 200, what="/healthz")
    listed = json.loads(get(daemon.http + "/schemas")[1])
    assert sorted(listed) == sorted("/schemas/" + n for n in load_schemas())
    for name, schema in load_schemas().items():
        with urllib.request.urlopen(daemon.http + "/schemas/" + name, timeout=5) as r:
            assert r.headers["content-type"] == "application/schema+json"
            assert json.loads(r.read()) == schema


def test_the_fuzzers_corpus_gets_the_same_verdict_from_the_schemas_and_the_decoder():
    """What the fuzzer grew (.ci/fuzz: inputs that reached new code in the decoder and the
    handlers) is judged by both too. .ci/test runs the fuzzer first and names its corpus."""
    directory = os.environ.get("PLANWATCH_FUZZ_CORPUS")
    if not directory:
        pytest.skip("PLANWATCH_FUZZ_CORPUS is set by .ci/test after .ci/fuzz")
    bodies = []
    for name in sorted(os.listdir(directory)):
        with open(os.path.join(directory, name), "rb") as f:
            raw = f.read()
        body = raw.split(b"\xff\xfe")[-1]
        # One event per line for `planwatch check`: a body with a newline cannot be a line, and
        # it skips what a comment or a blank line looks like (first byte past spaces and tabs
        # `#`, or none), as EventLines does.
        trimmed = body.lstrip(b" \t")
        if b"\n" not in body and b"\r" not in body and trimmed and not trimmed.startswith(b"#"):
            bodies.append(body)
    assert len(bodies) >= 100, f"only {len(bodies)} corpus bodies in {directory}"
    v = validator()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "fuzz.jsonl")
        with open(path, "wb") as f:
            f.write(b"\n".join(bodies) + b"\n")
        result = subprocess.run([os.path.join(_bin_dir(), "planwatch"), "check", "--json", path], capture_output=True)
    verdicts = {json.loads(row)["line"]: json.loads(row) for row in result.stdout.decode().splitlines()}
    assert len(verdicts) == len(bodies), result.stderr.decode()[:2000]
    disagreements = [f"line {n}: schema {'valid' if schema_verdict(v, raw) else 'invalid'}, daemon {verdicts[n]}: {raw[:300]!r}"
                     for n, raw in enumerate(bodies, start=1) if schema_verdict(v, raw) != verdicts[n]["valid"]]
    with open(os.path.join(ROOT, "artifacts", "schema-differential-fuzz.txt"), "w") as f:
        valid = sum(1 for r in verdicts.values() if r["valid"])
        f.write(f"{len(bodies)} fuzz corpus bodies, {valid} valid, {len(disagreements)} disagreements\n")
        f.write("\n".join(disagreements))
    assert not disagreements, "\n".join(disagreements[:20])
