"""Operators: HTTP health, metrics and APIs, the live stream, Alertmanager, and the console
in a real headless Chromium."""
import base64
import http.client
import json
import os
import re
import signal
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
import zmq

from conftest import Daemon, ROOT, _bin_dir, _free_port
from test_contract_interop import TOPIC, incident, recv

ARTIFACTS = os.path.join(ROOT, "artifacts")


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode()


def wait_for(condition, seconds=30, what="condition"):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except OSError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"{what} not met within {seconds} s")


def send_incident(ctx, daemon, **payload):
    dealer = ctx.socket(zmq.DEALER)
    dealer.connect(daemon.ack)
    event = incident(**payload)
    dealer.send_multipart([TOPIC, json.dumps(event).encode()])
    assert recv(dealer)[0] == b"ok"
    dealer.close(linger=0)
    return event


def test_health_readiness_metrics_and_json_apis(ctx, daemon):
    wait_for(lambda: get(daemon.http + "/healthz")[0] == 200, what="/healthz")
    status, text = get(daemon.http + "/readyz")
    assert status == 200 and text.strip() == "ready"
    send_incident(ctx, daemon, incidentId="INC-HTTP", affected=35)
    alerts = wait_for(lambda: [a for a in json.loads(get(daemon.http + "/api/alerts")[1]) if a["fingerprint"] == "safety.incident/INC-HTTP"],
                      what="alert in /api/alerts")
    assert alerts[0]["level"] == "orange" and "食物中毒" in alerts[0]["summary"]
    assert json.loads(get(daemon.http + "/api/alerts?level=orange&domain=safety&region=370303")[1])
    assert not json.loads(get(daemon.http + "/api/alerts?level=red")[1])
    assert not json.loads(get(daemon.http + "/api/alerts?region=370305")[1])
    indicators = json.loads(get(daemon.http + "/api/indicators?region=370300")[1])
    open_city = [i for i in indicators if i["indicator"] == "safety.open_incidents"]
    assert open_city and open_city[0]["value"] == 1 and open_city[0]["scope"] == "city"
    history = json.loads(get(daemon.http + "/api/indicators/history?topic=indicator.safety.open_incidents.370300")[1])
    assert history[-1]["value"] == 1
    bad = ctx.socket(zmq.DEALER)
    bad.connect(daemon.ack)
    bad.send_multipart([b"one-frame"])
    assert recv(bad)[0] == b"rejected"
    metrics = wait_for(lambda: (lambda m: m if 'reason="schemaViolation"' in m else None)(get(daemon.http + "/metrics")[1]),
                       what="rejection counted")
    assert 'planwatch_events_received_total{type="safety.incident"} 1' in metrics
    assert 'planwatch_events_rejected_total{reason="schemaViolation"} 1' in metrics
    assert re.search(r'planwatch_alerts_firing\{(level="orange",domain="safety"|domain="safety",level="orange")\} 1(\.0)?\n', metrics)
    for name in ("planwatch_handler_duration_seconds_bucket", "planwatch_journal_commit_seconds_bucket",
                 "planwatch_batch_size", "planwatch_ingest_lag_seconds"):
        assert name in metrics, name


def post(url, payload, timeout=20, auth=None, headers=None, raw=None):
    all_headers = {"content-type": "application/json", **(headers or {})}
    if auth:
        all_headers["authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    data = raw if raw is not None else json.dumps(payload).encode()
    request = urllib.request.Request(url, data=data, headers=all_headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def get_as(url, auth, timeout=5):
    request = urllib.request.Request(url, headers={
        "authorization": "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_acknowledging_over_http_needs_an_operator_and_records_who(ctx, operator_daemon):
    d = operator_daemon
    wait_for(lambda: get(d.http + "/healthz")[0] == 200, what="/healthz")
    # With operators configured, only health and readiness are open.
    assert get(d.http + "/readyz")[0] == 200
    try:
        get(d.http + "/api/alerts")
        raise AssertionError("the alert list was served without credentials")
    except urllib.error.HTTPError as e:
        assert e.code == 401 and e.headers["www-authenticate"].startswith("Basic")
    send_incident(ctx, d, incidentId="INC-ACK", affected=35)
    fingerprint = "safety.incident/INC-ACK"
    wait_for(lambda: [a for a in json.loads(get_as(d.http + "/api/alerts", d.operator)[1]) if a["fingerprint"] == fingerprint],
             what="alert")
    ack = {"fingerprint": fingerprint, "by": "anyone the client names", "note": "已派人到校"}
    assert post(d.http + "/api/alerts/ack", ack)[0] == 401
    assert post(d.http + "/api/alerts/ack", ack, auth=(d.operator[0], "guess"))[0] == 401
    # Cross-site: a form-like text/plain post, and a foreign Origin, change nothing.
    status, body = post(d.http + "/api/alerts/ack", None, auth=d.operator, headers={"content-type": "text/plain"},
                        raw=json.dumps(ack).encode())
    assert status == 403 and "application/json" in body
    status, body = post(d.http + "/api/alerts/ack", ack, auth=d.operator, headers={"origin": "https://evil.example"})
    assert status == 403 and "Origin" in body
    status, body = post(d.http + "/api/alerts/ack", ack, auth=d.operator, headers={"origin": d.http})
    assert status == 200, body
    alert = json.loads(body)
    # The audit trail names the authenticated operator, not what the client wrote.
    assert alert["ackedBy"] == "wangmin" and alert["ackNote"] == "已派人到校" and alert["ackedAt"]
    assert post(d.http + "/api/alerts/ack", {"fingerprint": "safety.incident/NONE"}, auth=d.operator)[0] == 404
    history = json.loads(get_as(d.http + "/api/alerts/history?fingerprint=" + urllib.parse.quote(fingerprint), d.operator)[1])
    assert [c["change"] for c in history] == ["fired", "acknowledged"]
    assert history[1]["by"] == "wangmin" and history[0]["owner"] == "school:370303-0042"


def test_without_a_web_config_http_is_read_only(ctx, daemon):
    wait_for(lambda: get(daemon.http + "/healthz")[0] == 200, what="/healthz")
    send_incident(ctx, daemon, incidentId="INC-RO", affected=35)
    wait_for(lambda: [a for a in json.loads(get(daemon.http + "/api/alerts")[1]) if a["fingerprint"] == "safety.incident/INC-RO"],
             what="alert")
    status, body = post(daemon.http + "/api/alerts/ack", {"fingerprint": "safety.incident/INC-RO", "by": "王敏"})
    assert status == 403 and "read-only" in body
    alert = [a for a in json.loads(get(daemon.http + "/api/alerts")[1]) if a["fingerprint"] == "safety.incident/INC-RO"][0]
    assert alert["ackedBy"] is None


def test_server_sent_events_carry_new_outputs(ctx, daemon):
    wait_for(lambda: get(daemon.http + "/healthz")[0] == 200, what="/healthz")
    stream = urllib.request.urlopen(daemon.http + "/events", timeout=30)
    assert stream.readline().startswith(b": planwatch")
    send_incident(ctx, daemon, incidentId="INC-SSE")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = stream.readline().decode()
        if line.startswith("data:") and "safety.incident/INC-SSE" in line:
            message = json.loads(line[5:])
            assert message["topic"] == "alert.safety.370303" and message["body"]["status"] == "firing"
            break
    else:
        raise AssertionError("no event for INC-SSE")
    stream.close()


@pytest.fixture
def alertmanager():
    binary = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    assert binary, "prometheus-alertmanager is installed by .ci/install-deps"
    with tempfile.TemporaryDirectory() as directory:
        config = os.path.join(directory, "alertmanager.yml")
        with open(config, "w") as f:
            f.write("route:\n  receiver: operators\nreceivers:\n  - name: operators\n")
        port = _free_port()
        log = open(os.path.join(directory, "alertmanager.log"), "w")
        process = subprocess.Popen(
            [binary, f"--config.file={config}", f"--storage.path={directory}/data",
             f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
            stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_for(lambda: get(url + "/-/ready")[0] == 200, what="alertmanager ready")
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)
            log.close()


def test_alerts_reach_a_real_alertmanager_and_resolve_there(ctx, alertmanager):
    with tempfile.TemporaryDirectory() as directory:
        daemon = Daemon(directory, extra=("--alertmanager-url", alertmanager))
        try:
            send_incident(ctx, daemon, incidentId="INC-AM", deaths=3)

            def ours():
                alerts = json.loads(get(alertmanager + "/api/v2/alerts")[1])
                return [a for a in alerts if a["labels"].get("fingerprint") == "safety.incident/INC-AM"]

            alert = wait_for(ours, what="alert in Alertmanager")[0]
            assert alert["labels"]["rule"] == "safety.incident" and alert["labels"]["alertname"] == "safety.incident"
            assert alert["labels"]["level"] == "red" and alert["labels"]["region"] == "370303"
            assert alert["labels"]["domain"] == "safety"
            assert "370303-0042" in alert["annotations"]["summary"] and alert["annotations"]["planRef"] == "City 2023 §22"
            assert alert["status"]["state"] == "active"

            send_incident(ctx, daemon, incidentId="INC-AM", deaths=3, status="resolved",
                          resolvedAt=time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()))
            wait_for(lambda: not ours(), what="alert resolved in Alertmanager")
        finally:
            assert daemon.stop() == 0


def chromium_binary():
    return shutil.which("chromium") or shutil.which("chromium-browser")


class CDP:
    """A minimal Chrome DevTools Protocol client over websocket-client."""

    def __init__(self, port):
        import websocket
        targets = wait_for(lambda: json.loads(get(f"http://127.0.0.1:{port}/json")[1]), what="chromium devtools")
        page = next(t for t in targets if t["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30)
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                return message.get("result", {})

    def evaluate(self, expression):
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")


def test_console_shows_a_published_event_live_in_headless_chromium(ctx, operator_daemon):
    daemon = operator_daemon
    binary = chromium_binary()
    assert binary, "chromium is installed by .ci/install-deps"
    wait_for(lambda: get(daemon.http + "/healthz")[0] == 200, what="/healthz")
    send_incident(ctx, daemon, incidentId="INC-BEFORE", affected=120)
    port = _free_port()
    # Chromium's helper processes may still write to the profile as it exits.
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        browser = subprocess.Popen(
            [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             f"--remote-debugging-port={port}", f"--user-data-dir={profile}", "--window-size=1366,768", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            cdp = CDP(port)
            cdp.call("Page.enable")
            # The operator's credentials, as the browser would send them after its login prompt.
            cdp.call("Network.enable")
            token = base64.b64encode(f"{daemon.operator[0]}:{daemon.operator[1]}".encode()).decode()
            cdp.call("Network.setExtraHTTPHeaders", headers={"Authorization": "Basic " + token})
            cdp.call("Emulation.setDeviceMetricsOverride", width=1366, height=768, deviceScaleFactor=1, mobile=False)
            cdp.call("Page.navigate", url=daemon.http + "/")
            wait_for(lambda: cdp.evaluate("document.getElementById('live').textContent") == "实时", what="live stream connected")
            # The alert that fired before the page opened is there (rendering is asynchronous).
            wait_for(lambda: cdp.evaluate(
                "[...document.querySelectorAll('.alert.red')].some(a => a.dataset.fingerprint === 'safety.incident/INC-BEFORE')"),
                what="earlier alert on the page")
            # Published over ZeroMQ now, it must show without a reload.
            send_incident(ctx, daemon, incidentId="INC-LIVE", category="drowning", affected=2)
            wait_for(lambda: cdp.evaluate(
                "[...document.querySelectorAll('.alert')].some(a => a.dataset.fingerprint === 'safety.incident/INC-LIVE')"),
                what="live alert on the page")
            assert cdp.evaluate("document.querySelector('.alert.yellow .summary').textContent.includes('溺水')")
            # An operator acknowledges it from the console (the prompts answered as a person would).
            cdp.evaluate("window.prompt = (q) => '已联系学校'; true")
            cdp.evaluate("document.querySelector('.ack[data-fingerprint=\"safety.incident/INC-LIVE\"]').click(); true")
            wait_for(lambda: cdp.evaluate(
                "[...document.querySelectorAll('.alert')].some(a => a.dataset.fingerprint === 'safety.incident/INC-LIVE'"
                " && a.querySelector('.acked') && a.querySelector('.acked').textContent.includes('wangmin'))"),
                what="acknowledgement shown on the page")
            acked = [a for a in json.loads(get_as(daemon.http + "/api/alerts", daemon.operator)[1])
                     if a["fingerprint"] == "safety.incident/INC-LIVE"][0]
            assert acked["ackedBy"] == "wangmin" and acked["ackNote"] == "已联系学校"
            assert acked["owner"] == "school:370303-0042"
            cdp.evaluate("document.querySelector('.trail-link[data-fingerprint=\"safety.incident/INC-LIVE\"]').click(); true")
            wait_for(lambda: cdp.evaluate("(document.querySelector('.trail') || {textContent: ''}).textContent.includes('确认')"),
                     what="history shown on the page")
            wait_for(lambda: cdp.evaluate("document.querySelectorAll('.tile').length") > 0, what="indicator tiles")
            assert cdp.evaluate("document.title") == "PlanWatch 教育工作要点监测台"
            os.makedirs(ARTIFACTS, exist_ok=True)
            shot = cdp.call("Page.captureScreenshot", format="png")
            with open(os.path.join(ARTIFACTS, "console.png"), "wb") as f:
                f.write(base64.b64decode(shot["data"]))
        finally:
            try:
                os.killpg(browser.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            browser.wait(timeout=30)


def test_https_with_a_web_config_and_no_plain_http_beyond_loopback(ctx, tmp_path):
    import ssl
    from conftest import OPERATOR, planwatch
    cert, key = tmp_path / "server.crt", tmp_path / "server.key"
    made = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                           "-keyout", str(key), "-out", str(cert)], capture_output=True)
    assert made.returncode == 0, made.stderr
    user = subprocess.run([os.path.join(_bin_dir(), "planwatch"), "web-user", OPERATOR[0]], capture_output=True, text=True,
                          env={**os.environ, "PLANWATCH_PASSWORD": OPERATOR[1]}).stdout
    web = tmp_path / "web.yml"
    web.write_text(f"tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\nbasic_auth_users:\n  {user}")
    # Beyond loopback, plain HTTP without operators is refused at start, saying what to do.
    refused = subprocess.run([os.path.join(_bin_dir(), "planwatchd"), "--journal", str(tmp_path / "r.sqlite"),
                              "--http-bind", f"0.0.0.0:{_free_port()}"], capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "without TLS and operators" in refused.stderr + refused.stdout
    d = Daemon(str(tmp_path), extra=("--web-config-file", str(web)))
    try:
        tls = ssl.create_default_context(cafile=str(cert))
        tls.check_hostname = False
        https = d.http.replace("http://", "https://")
        with urllib.request.urlopen(https + "/healthz", context=tls, timeout=10) as r:
            assert r.status == 200
        token = base64.b64encode(f"{OPERATOR[0]}:{OPERATOR[1]}".encode()).decode()
        request = urllib.request.Request(https + "/api/alerts", headers={"authorization": "Basic " + token})
        with urllib.request.urlopen(request, context=tls, timeout=10) as r:
            assert r.status == 200 and json.loads(r.read()) == []
        # Plain HTTP on the TLS port gets nothing.
        try:
            urllib.request.urlopen(d.http + "/healthz", timeout=5)
            raise AssertionError("plain HTTP was answered on the TLS port")
        except (urllib.error.URLError, ConnectionError, http.client.HTTPException):
            pass
    finally:
        assert d.stop() == 0
