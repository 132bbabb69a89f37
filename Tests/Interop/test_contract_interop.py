"""A client we did not write: pyzmq and CONTRACT.md, nothing else of PlanWatch's."""
import datetime
import json
import time
import uuid

import zmq

INCIDENT = {
    "type": "safety.incident", "source": "anquan", "occurredAt": "2026-03-11T12:30:00+08:00",
    "region": "370303", "schemaVersion": 1,
    "payload": {"incidentId": "INC-2026-0311", "schoolId": "370303-0042", "category": "foodPoisoning",
                "status": "reported", "affected": 35, "injured": 0, "deaths": 0,
                "reportedAt": "2026-03-11T12:30:00+08:00", "resolvedAt": None,
                "description": "午餐后多名学生腹痛"},
}
TOPIC = b"safety.incident.370303"


def incident(**payload):
    event = json.loads(json.dumps(INCIDENT))
    event["id"] = str(uuid.uuid4())
    # Reported now: the daemon's wall clock must not find it overdue already.
    now = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8))).replace(microsecond=0).isoformat()
    event["occurredAt"] = event["payload"]["reportedAt"] = now
    event["payload"].update(payload)
    return event


def recv(sock, seconds=30):
    poller = zmq.Poller()
    poller.register(sock, zmq.POLLIN)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if poller.poll(200):
            return sock.recv_multipart()
    raise AssertionError(f"nothing received within {seconds} s")


def subscriber(ctx, daemon, prefix):
    """A SUB known to be receiving: probe with one-frame messages until their dead letter arrives."""
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, b"deadletter.schemaViolation")
    sub.setsockopt(zmq.SUBSCRIBE, prefix)
    sub.connect(daemon.publish)
    probe = ctx.socket(zmq.DEALER)
    probe.connect(daemon.ack)
    poller = zmq.Poller()
    poller.register(sub, zmq.POLLIN)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        probe.send_multipart([b"probe"])
        if poller.poll(300):
            topic, _ = sub.recv_multipart()
            if topic == b"deadletter.schemaViolation":
                sub.setsockopt(zmq.UNSUBSCRIBE, b"deadletter.schemaViolation")
                while poller.poll(50):
                    sub.recv_multipart()
                probe.close(linger=0)
                return sub
    raise AssertionError("subscriber never received")


def test_dealer_incident_gives_ok_then_a_contract_alert(ctx, daemon):
    sub = subscriber(ctx, daemon, b"alert.")
    dealer = ctx.socket(zmq.DEALER)
    dealer.connect(daemon.ack)
    event = incident()
    dealer.send_multipart([TOPIC, json.dumps(event).encode()])
    status, event_id, detail = recv(dealer)
    assert (status, event_id, detail) == (b"ok", event["id"].encode(), b"")

    topic, body = recv(sub)
    assert topic == b"alert.safety.370303"
    alert = json.loads(body)
    assert set(alert) >= {"fingerprint", "rule", "status", "level", "previousLevel", "region", "subject",
                          "summary", "planRef", "startsAt", "updatedAt", "endsAt", "causes", "seq"}
    assert alert["fingerprint"] == "safety.incident/INC-2026-0311"
    assert alert["rule"] == "safety.incident"
    assert alert["status"] == "firing"
    assert alert["level"] == "orange"  # affected >= 30
    assert alert["previousLevel"] is None
    assert alert["region"] == "370303"
    assert alert["subject"]["schoolId"] == "370303-0042"
    assert "370303-0042" in alert["summary"] and "食物中毒" in alert["summary"]
    assert alert["startsAt"] == event["occurredAt"]
    assert alert["endsAt"] is None
    assert alert["causes"] == [event["id"]]
    assert isinstance(alert["seq"], int) and alert["seq"] > 0

    again = incident()
    again["id"] = event["id"]
    dealer.send_multipart([TOPIC, json.dumps(again).encode()])
    assert recv(dealer)[0] == b"duplicate"


def test_malformed_event_is_rejected_with_its_reason_and_dead_lettered(ctx, daemon):
    sub = subscriber(ctx, daemon, b"deadletter.schemaViolation")
    dealer = ctx.socket(zmq.DEALER)
    dealer.connect(daemon.ack)
    event = incident(category="earthquake")
    dealer.send_multipart([TOPIC, json.dumps(event).encode()])
    status, event_id, detail = recv(dealer)
    assert status == b"rejected"
    assert event_id == event["id"].encode()
    assert detail.decode().startswith("schemaViolation: payload.category")

    topic, body = recv(sub)
    assert topic == b"deadletter.schemaViolation"
    letter = json.loads(body)
    assert letter["reason"] == "schemaViolation"
    assert letter["topic"] == TOPIC.decode()
    assert json.loads(letter["body"])["id"] == event["id"]
    assert "payload.category" in letter["detail"]
    assert isinstance(letter["seq"], int)


def test_topic_that_disagrees_with_the_body_is_rejected(ctx, daemon):
    dealer = ctx.socket(zmq.DEALER)
    dealer.connect(daemon.ack)
    dealer.send_multipart([b"safety.incident.370304", json.dumps(incident()).encode()])
    status, _, detail = recv(dealer)
    assert status == b"rejected" and detail.startswith(b"topicMismatch")


def test_req_socket_and_plain_pub_both_work(ctx, daemon):
    sub = subscriber(ctx, daemon, b"alert.safety")
    req = ctx.socket(zmq.REQ)
    req.connect(daemon.ack)
    event = incident(incidentId="INC-REQ", deaths=3)
    req.send_multipart([TOPIC, json.dumps(event).encode()])
    assert recv(req)[0] == b"ok"
    alert = json.loads(recv(sub)[1])
    assert alert["fingerprint"] == "safety.incident/INC-REQ" and alert["level"] == "red"

    # Fire-and-forget from a PUB: resend the same event (deduplicated) until it is seen.
    pub = ctx.socket(zmq.PUB)
    pub.connect(daemon.ingest)
    event = incident(incidentId="INC-PUB", affected=1, category="fire")
    poller = zmq.Poller()
    poller.register(sub, zmq.POLLIN)
    deadline = time.monotonic() + 30
    seen = None
    while seen is None and time.monotonic() < deadline:
        pub.send_multipart([TOPIC, json.dumps(event).encode()])
        if poller.poll(300):
            seen = json.loads(sub.recv_multipart()[1])
    assert seen is not None and seen["fingerprint"] == "safety.incident/INC-PUB" and seen["level"] == "blue"
    # Resent copies were duplicates: no second alert for it.
    assert not poller.poll(500)
