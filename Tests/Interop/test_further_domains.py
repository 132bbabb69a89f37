"""The further domains (docs/domains.md) from a client we did not write: pyzmq publishes one
event of each new type — the DigitalInfrastructure plugin's too, loaded from a plugin folder —
and sees its alert or indicator as CONTRACT.md describes them; a bad field of each is
rejected naming it; `planwatch explain` takes their indicators apart afterwards."""
import datetime
import json
import os
import tempfile
import uuid

import zmq

from conftest import Daemon, _bin_dir, planwatch
from test_contract_interop import recv

CHINA = datetime.timezone(datetime.timedelta(hours=8))


def today(delta=0):
    return (datetime.datetime.now(CHINA) + datetime.timedelta(days=delta)).date().isoformat()


def event(kind, payload, region="370303"):
    now = datetime.datetime.now(CHINA).replace(microsecond=0).isoformat()
    body = {"id": str(uuid.uuid4()), "type": kind, "source": "interop", "occurredAt": now, "region": region,
            "schemaVersion": 1, "payload": payload}
    return [f"{kind}.{region}".encode(), json.dumps(body, ensure_ascii=False).encode()]


# One event of each type, and what it must make the daemon publish: (topic, check of the body).
CASES = [
    (event("inspection.visit", {"visitId": "DD-1", "schoolId": "370303-K017", "level": "preschool",
                                "inspectionType": "kindergartenConduct", "date": today(), "findings": 0}),
     b"indicator.inspection.kindergarten_coverage.370303",
     lambda b: b["numerator"] == 1 and b["denominator"] == 1 and b["scope"] == "district"),
    (event("safety.hazard", {"hazardId": "YH-1", "schoolId": "370303-0042", "kind": "schoolBus", "found": today(-20),
                             "rectifyBy": today(-2), "status": "rectifying", "description": "校车安全带损坏"}),
     b"alert.safety.370303",
     lambda b: b["rule"] == "safety.hazard_overdue" and b["level"] == "yellow" and b["planRef"] == "District plans (003) §14"
     and "校车隐患" in b["summary"]),
    (event("safety.drill", {"drillId": "YL-1", "schoolId": "370303-0042", "kind": "evacuation", "date": today(),
                            "participants": 1200}),
     b"indicator.safety.drill_coverage.370300",
     lambda b: b["scope"] == "city" and b["denominator"] >= 1 and b["numerator"] >= 1),
    (event("training.inspection", {"inspectionId": "XC-1", "institutionId": "JG-370303-0117", "institutionName": "启航教育",
                                   "date": today(-20), "violations": ["hiddenVariant"], "rectifyBy": today(-3)}),
     b"alert.training.370303",
     lambda b: b["rule"] == "training.violation_overdue" and b["planRef"] == "City 2023 §7" and "隐形变异培训" in b["summary"]),
    (event("special.placement", {"childRef": "C-1", "disability": "hearing", "placement": "notPlaced", "date": today(-40)}),
     b"alert.special.370303",
     lambda b: b["rule"] == "special.unplaced" and b["level"] == "yellow" and "应上尽上" in b["summary"]),
    (event("aid.payment", {"paymentId": "NUT-1", "programme": "nutrition", "schoolId": "370303-P017", "term": "2026-spring",
                           "due": today(-5), "students": 600, "amountDue": 240000}),
     b"alert.aid.370303",
     lambda b: b["rule"] == "aid.payment_late" and b["planRef"] == "District plans (003) §32" and "未足额发放" in b["summary"]),
    (event("infra.classroom", {"schoolId": "370303-P002", "classrooms": 12, "bandwidthMbps": 20, "teacherTerminals": 80,
                               "teachers": 80}),
     b"alert.infra.370303",
     lambda b: b["rule"] == "infra.bandwidth_below" and b["level"] == "blue" and "低于30M" in b["summary"]),
]

BAD = [
    ("inspection.visit", {"visitId": "DD-2", "schoolId": "S", "level": "preschool", "inspectionType": "kindergartenConduct",
                          "date": today(), "findings": 2}, "payload.rectifyBy"),
    ("safety.hazard", {"hazardId": "H", "schoolId": "S", "kind": "gas", "found": today(), "rectifyBy": today(), "status": "found"},
     "payload.kind"),
    ("safety.drill", {"drillId": "D", "schoolId": "S", "kind": "fire", "date": today(), "participants": 0}, "payload.participants"),
    ("training.inspection", {"inspectionId": "X", "institutionId": "I", "date": today(), "violations": ["gambling"],
                             "rectifyBy": today()}, "payload.violations[0]"),
    ("special.placement", {"childRef": "C", "disability": "hearing", "placement": "waiting", "date": today()}, "payload.placement"),
    ("aid.payment", {"paymentId": "P", "programme": "nutrition", "schoolId": "S", "term": "2026-summer", "due": today(),
                     "students": 1, "amountDue": 1}, "payload.term"),
    ("infra.classroom", {"schoolId": "S", "classrooms": 1, "bandwidthMbps": -1, "teacherTerminals": 1, "teachers": 1},
     "payload.bandwidthMbps"),
]


def test_one_event_of_each_new_type_gives_its_alert_or_indicator_and_explain_takes_them_apart(ctx):
    with tempfile.TemporaryDirectory() as directory:
        plugins = os.path.join(directory, "plugins")
        os.makedirs(plugins)
        os.symlink(os.path.join(_bin_dir(), "libDigitalInfrastructurePlugin.so"), os.path.join(plugins, "libDigitalInfrastructurePlugin.so"))
        daemon = Daemon(directory, extra=("--plugin-dir", plugins, "--require-plugin", "DigitalInfrastructure"))
        try:
            from test_contract_interop import subscriber
            sub = subscriber(ctx, daemon, b"alert.")
            sub.setsockopt(zmq.SUBSCRIBE, b"indicator.")
            dealer = ctx.socket(zmq.DEALER)
            dealer.connect(daemon.ack)
            for frames, topic, check in CASES:
                dealer.send_multipart(frames)
                status, _, detail = recv(dealer)
                assert status == b"ok", (frames[0], detail)
                seen = []
                while True:
                    got, body = recv(sub)
                    seen.append(got)
                    if got == topic and check(json.loads(body)):
                        break
                    assert len(seen) < 50, f"{frames[0]}: no {topic} among {seen}"
            for kind, payload, field in BAD:
                dealer.send_multipart(event(kind, payload))
                status, _, detail = recv(dealer)
                assert status == b"rejected" and detail.decode().startswith("schemaViolation: " + field), (kind, detail)
        finally:
            assert daemon.stop() == 0, open(daemon.log_path).read()[-3000:]
        journal = os.path.join(directory, "journal.sqlite")
        explained = planwatch("explain", "inspection.kindergarten_coverage", "370300", "--journal", journal, "--json")
        assert explained.returncode == 0, explained.stderr
        e = json.loads(explained.stdout)
        assert (e["numerator"], e["denominator"]) == (1, 1) and e["contributions"][0]["subject"] == "370303-K017"
        # The plugin's indicator, with the daemon's plugin folder.
        explained = planwatch("explain", "infra.bandwidth_30m_share", "370303", "--journal", journal, "--plugin-dir", plugins, "--json")
        assert explained.returncode == 0, explained.stderr
        e = json.loads(explained.stdout)
        assert (e["numerator"], e["denominator"]) == (0, 12) and e["contributions"][0]["subject"] == "370303-P002"
