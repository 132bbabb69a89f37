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
