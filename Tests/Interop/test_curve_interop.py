"""CURVE from pyzmq: an allowed key gets in, an unlisted key gets nothing processed."""
import json
import os
import stat
import time

import zmq

from conftest import planwatch
from test_contract_interop import TOPIC, incident, recv


def key(daemon, name, kind):
    with open(os.path.join(daemon.keys, f"{name}.{kind}")) as f:
        return f.read().strip().encode()


def client(ctx, daemon, kind, name):
    s = ctx.socket(kind)
    secret = key(daemon, name, "secret")
    s.curve_serverkey = key(daemon, "planwatchd", "public")
    s.curve_secretkey = secret
    s.curve_publickey = zmq.curve_public(secret)
    return s


def test_keygen_writes_the_secret_key_with_mode_0600(curve_daemon):
    mode = stat.S_IMODE(os.stat(os.path.join(curve_daemon.keys, "stranger.secret")).st_mode)
    assert mode == 0o600
    assert len(key(curve_daemon, "stranger", "public")) == 40


def test_allowed_key_gets_ok_and_an_unlisted_key_gets_nothing_processed(ctx, curve_daemon):
    d = curve_daemon
    sub = client(ctx, d, zmq.SUB, "console")
    sub.setsockopt(zmq.SUBSCRIBE, b"alert.")
    sub.connect(d.publish)

    stranger = client(ctx, d, zmq.DEALER, "stranger")
    stranger.connect(d.ack)
    bad = incident(incidentId="INC-STRANGER")
    stranger.send_multipart([TOPIC, json.dumps(bad).encode()])

    dealer = client(ctx, d, zmq.DEALER, "safety")
    dealer.connect(d.ack)
    # Resend the allowed event until the console sees its alert (the SUB may join late).
    good = incident(incidentId="INC-ALLOWED")
    poller = zmq.Poller()
    poller.register(sub, zmq.POLLIN)
    seen = []
    deadline = time.monotonic() + 30
    while "safety.incident/INC-ALLOWED" not in seen and time.monotonic() < deadline:
        dealer.send_multipart([TOPIC, json.dumps(good).encode()])
        assert recv(dealer)[0] in (b"ok", b"duplicate")
        while poller.poll(300):
            seen.append(json.loads(sub.recv_multipart()[1])["fingerprint"])
    assert "safety.incident/INC-ALLOWED" in seen
    assert "safety.incident/INC-STRANGER" not in seen

    # The stranger never got a reply, and nothing of it is in the journal.
    assert not stranger.poll(200)
    out = planwatch("replay", "--journal", os.path.join(d.directory, "journal.sqlite")).stdout
    assert "INC-ALLOWED" in out and "INC-STRANGER" not in out
    assert "CURVE client refused" in open(d.log_path).read()


def test_known_key_outside_its_prefixes_is_rejected_unauthorized(ctx, curve_daemon):
    dealer = client(ctx, curve_daemon, zmq.DEALER, "safety")
    dealer.connect(curve_daemon.ack)
    event = incident()
    event["type"] = "enrolment.census"
    dealer.send_multipart([b"enrolment.census.370303", json.dumps(event).encode()])
    status, event_id, detail = recv(dealer)
    assert status == b"rejected" and event_id == event["id"].encode()
    assert detail.startswith(b"unauthorized: client 'safety-platform' may publish only safety.")


def snapshot_alert(ctx, daemon, name, fingerprint):
    """The firing alert with `fingerprint` from the snapshot ROUTER, asked as key `name`."""
    s = client(ctx, daemon, zmq.DEALER, name)
    s.connect(daemon.snapshot)
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            s.send_multipart([b"snapshot", b"alert."])
            while True:
                frames = recv(s)
                if frames[0] == b"end":
                    break
                body = json.loads(frames[1])
                if body["fingerprint"] == fingerprint:
                    return body
            time.sleep(0.1)
    finally:
        s.close(linger=0)
    raise AssertionError(f"{fingerprint} never fired")


def test_an_acknowledgement_on_the_snapshot_router_needs_an_operator_key_and_is_recorded_under_its_name(ctx, curve_daemon):
    d = curve_daemon
    dealer = client(ctx, d, zmq.DEALER, "safety")
    dealer.connect(d.ack)
    dealer.send_multipart([TOPIC, json.dumps(incident(incidentId="INC-OP")).encode()])
    assert recv(dealer)[0] == b"ok"
    fingerprint = b"safety.incident/INC-OP"
    snapshot_alert(ctx, d, "console", fingerprint.decode())

    # A key that may not publish operator. cannot acknowledge.
    console = client(ctx, d, zmq.DEALER, "console")
    console.connect(d.snapshot)
    console.send_multipart([b"ack", fingerprint, b"duty-officer", b""])
    status, fp, detail = recv(console)
    assert status == b"rejected" and b"unauthorized" in detail

    # The operator's key can; the name it claims is not what is recorded, its key's name is.
    operator = client(ctx, d, zmq.DEALER, "operator")
    operator.connect(d.snapshot)
    operator.send_multipart([b"ack", fingerprint, b"somebody else", b"\xe5\xb7\xb2\xe6\xb4\xbe\xe4\xba\xba"])
    status, fp, detail = recv(operator)
    assert status == b"ok", detail
    alert = json.loads(detail)
    assert alert["ackedBy"] == "duty-officer" and alert["ackNote"] == "已派人"

    # On the bus, an operator.ack from the safety platform's key is refused too.
    ack = {"id": "ack-bus-1", "type": "operator.ack", "source": "safety", "occurredAt": incident()["occurredAt"],
           "region": "370303", "schemaVersion": 1, "payload": {"fingerprint": fingerprint.decode(), "by": "safety-platform"}}
    dealer.send_multipart([b"operator.ack.370303", json.dumps(ack).encode()])
    status, _, detail = recv(dealer)
    assert status == b"rejected" and detail.startswith(b"unauthorized")


def test_without_curve_nobody_acknowledges_over_zeromq(ctx, daemon):
    dealer = ctx.socket(zmq.DEALER)
    dealer.connect(daemon.ack)
    dealer.send_multipart([TOPIC, json.dumps(incident(incidentId="INC-PLAIN")).encode()])
    assert recv(dealer)[0] == b"ok"
    snapshot = ctx.socket(zmq.DEALER)
    snapshot.connect(daemon.snapshot)
    snapshot.send_multipart([b"ack", b"safety.incident/INC-PLAIN", b"anyone", b""])
    status, _, detail = recv(snapshot)
    assert status == b"rejected" and b"unauthorized" in detail
    ack = {"id": "ack-plain-1", "type": "operator.ack", "source": "x", "occurredAt": incident()["occurredAt"],
           "region": "370303", "schemaVersion": 1, "payload": {"fingerprint": "safety.incident/INC-PLAIN", "by": "anyone"}}
    dealer.send_multipart([b"operator.ack.370303", json.dumps(ack).encode()])
    status, _, detail = recv(dealer)
    assert status == b"rejected" and detail.startswith(b"unauthorized")
