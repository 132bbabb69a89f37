"""Operators: HTTP health, metrics and APIs, the live stream, Alertmanager, and the console
in a real headless Chromium."""
import base64
import contextlib
import http.client
import json
import os
import re
import signal
import shutil
import socket
import sqlite3
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


def test_the_catalog_gives_each_rule_the_owner_and_limit_its_handler_declares(daemon):
    # What the console and integrators read for "who must act, by when": a rule nobody
    # overrode keeps its handler's words, not the fallback (district, 3 working days).
    rules = {r["id"]: r for r in json.loads(get(daemon.http + "/api/catalog")[1])["rules"]}
    assert (rules["safety.incident"]["owner"], rules["safety.incident"]["ackWithin"]) == ("school", "2 hours")
    assert rules["projects.target_at_risk"]["owner"] == "city"
    assert rules["enrolment.oversized_class"]["ackWithin"] == "5 workingDays"


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
    metrics = wait_for(lambda: (lambda m: m if 'reason="schemaViolation"} 1' in m else None)(get(daemon.http + "/metrics")[1]),
                       what="rejection counted")
    assert 'planwatch_events_received_total{type="safety.incident"} 1' in metrics
    assert 'planwatch_events_rejected_total{reason="schemaViolation"} 1' in metrics
    assert re.search(r'planwatch_alerts_firing\{(level="orange",domain="safety"|domain="safety",level="orange")\} 1(\.0)?\n', metrics)
    for name in ("planwatch_handler_duration_seconds_bucket", "planwatch_journal_commit_seconds_bucket",
                 "planwatch_batch_size", "planwatch_ingest_lag_seconds"):
        assert name in metrics, name
    # Prometheus conventions: HELP on every family; every series that can appear is there
    # from the start, at 0; process metrics and build info; buckets that fit a handler call.
    families = re.findall(r"^# TYPE (\S+) ", metrics, re.M)
    assert families and all(f"# HELP {f} " in metrics for f in families), [f for f in families if f"# HELP {f} " not in metrics]
    assert re.search(r'^planwatch_events_rejected_total\{reason="tooLarge"\} 0', metrics, re.M)
    assert re.search(r'^planwatch_handler_failures_total\{handler="CampusSafety"\} 0', metrics, re.M)
    assert re.search(r'^planwatch_events_received_total\{type="enrolment.census"\} 0', metrics, re.M)
    for name in ("process_start_time_seconds", "process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds"):
        assert re.search(rf"^{name} [0-9.e+]+$", metrics, re.M), name
    start = float(re.search(r"^process_start_time_seconds ([0-9.e+]+)$", metrics, re.M).group(1))
    assert abs(start - time.time()) < 600
    assert re.search(r'^planwatch_build_info\{.*version="[0-9.]+".*\} 1', metrics, re.M)
    smallest = min(float(le) for le in re.findall(r'planwatch_handler_duration_seconds_bucket\{[^}]*le="([0-9.e+-]+)"', metrics))
    assert smallest <= 0.00001, smallest
    # Indicators as gauges Grafana can chart: value, target, and the verdict as a state set.
    assert re.search(r'^planwatch_indicator_value\{(indicator="safety.open_incidents",region="370300"|region="370300",indicator="safety.open_incidents")\} 1', metrics, re.M)


def test_the_live_stream_has_ids_and_tells_a_reconnecting_browser_to_resync(ctx, daemon):
    wait_for(lambda: get(daemon.http + "/healthz")[0] == 200, what="/healthz")
    connection = http.client.HTTPConnection("127.0.0.1", daemon.http_port, timeout=30)
    connection.request("GET", "/events", headers={"Last-Event-ID": "41"})
    stream = connection.getresponse()
    assert stream.getheader("content-type") == "text/event-stream"
    send_incident(ctx, daemon, incidentId="INC-IDS", affected=2, category="fire")
    lines = []
    while not any(l.startswith("data: ") and "INC-IDS" in l for l in lines):
        lines.append(stream.readline().decode().rstrip("\n"))
    assert "event: resync" in lines, lines[:6]
    data = next(i for i, l in enumerate(lines) if l.startswith("data: ") and "INC-IDS" in l)
    seq = json.loads(lines[data][6:])["body"]["seq"]
    assert lines[data - 2] == f"id: {seq}", lines[data - 3:data + 1]
    connection.close()


def test_the_clock_the_console_measures_ages_by_is_the_daemons(ctx):
    with tempfile.TemporaryDirectory() as directory:
        daemon = Daemon(directory, extra=("--clock", "event"))
        try:
            event = incident(incidentId="INC-2020")
            event["occurredAt"] = event["payload"]["reportedAt"] = "2020-05-06T10:00:00+08:00"
            dealer = ctx.socket(zmq.DEALER)
            dealer.connect(daemon.ack)
            dealer.send_multipart([TOPIC, json.dumps(event).encode()])
            assert recv(dealer)[0] == b"ok"
            dealer.close(linger=0)
            clock = wait_for(lambda: (lambda c: c if c["now"].startswith("2020-05-06") else None)(
                json.loads(get(daemon.http + "/api/clock")[1])), what="the event clock at the event's time")
            assert clock["mode"] == "event"
        finally:
            assert daemon.stop() == 0


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


class CutProxy:
    """A TCP proxy to an Alertmanager that a test can take down (refusing and closing every
    connection) and bring back, while the Alertmanager behind it keeps its state."""

    def __init__(self, upstream_port):
        import threading
        self.upstream = upstream_port
        self.down = False
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.open = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        import threading
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.down:
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.upstream))
            self.open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, a, b):
        try:
            while not self.down:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.close()
            except OSError:
                pass

    def take_down(self):
        self.down = True
        for s in self.open:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.open = []

    def bring_back(self):
        self.down = False

    def close(self):
        self.take_down()
        self.listener.close()


def am_config(directory, urls, resend=1):
    path = os.path.join(directory, "planwatchd.yaml")
    with open(path, "w") as f:
        f.write("alertmanager:\n  urls: [" + ", ".join(urls) + f"]\n  resendSeconds: {resend}\n  timeoutSeconds: 2\n")
    return path


def metric(daemon, name, **labels):
    text = get(daemon.http + "/metrics")[1]
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_a_level_change_leaves_exactly_one_active_alert_in_an_ha_pair(ctx, alertmanager):
    """blue → yellow for one incident: Alertmanager shows only the yellow one (the blue label
    set is ended, not left to send a spurious resolve later); an unreachable second
    Alertmanager of the pair does not hold the first up, and its failures are counted."""
    dead = f"http://127.0.0.1:{_free_port()}"
    with tempfile.TemporaryDirectory() as directory:
        daemon = Daemon(directory, extra=("--config", am_config(directory, [alertmanager, dead])))
        try:
            send_incident(ctx, daemon, incidentId="INC-LVL", category="fire", affected=2)

            def ours(active=True):
                alerts = json.loads(get(alertmanager + f"/api/v2/alerts?active={str(active).lower()}")[1])
                return [a for a in alerts if a["labels"].get("fingerprint") == "safety.incident/INC-LVL"]

            first = wait_for(ours, what="the blue alert in Alertmanager")
            assert [a["labels"]["level"] for a in first] == ["blue"]
            assert first[0]["generatorURL"] == daemon.http + "/?fingerprint=safety.incident/INC-LVL"
            send_incident(ctx, daemon, incidentId="INC-LVL", category="fire", affected=15)
            wait_for(lambda: [a["labels"]["level"] for a in ours()] == ["yellow"], what="only the yellow alert active")
            # Renewed every second: still exactly one after several resends.
            sent = metric(daemon, "planwatch_alertmanager_alerts_sent_total", alertmanager=alertmanager)
            wait_for(lambda: metric(daemon, "planwatch_alertmanager_alerts_sent_total", alertmanager=alertmanager) >= sent + 3,
                     what="three more resends")
            assert [a["labels"]["level"] for a in ours()] == ["yellow"]
            assert metric(daemon, "planwatch_alertmanager_errors_total", alertmanager=dead) > 0
            assert metric(daemon, "planwatch_alertmanager_alerts_dropped_total") == 0
        finally:
            assert daemon.stop() == 0


def test_a_resolve_during_an_alertmanager_outage_arrives_after_it(ctx, alertmanager):
    proxy = CutProxy(int(alertmanager.rsplit(":", 1)[1]))
    with tempfile.TemporaryDirectory() as directory:
        daemon = Daemon(directory, extra=("--config", am_config(directory, [proxy.url])))
        try:
            send_incident(ctx, daemon, incidentId="INC-OUT", deaths=3)

            def ours():
                alerts = json.loads(get(alertmanager + "/api/v2/alerts")[1])
                return [a for a in alerts if a["labels"].get("fingerprint") == "safety.incident/INC-OUT"]

            alert = wait_for(ours, what="the alert in Alertmanager")[0]
            # The lease: Alertmanager ends it by itself if planwatchd stops renewing it.
            assert alert["endsAt"] > alert["startsAt"]
            proxy.take_down()
            failed = metric(daemon, "planwatch_alertmanager_errors_total", alertmanager=proxy.url)
            send_incident(ctx, daemon, incidentId="INC-OUT", deaths=3, status="resolved",
                          resolvedAt=time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()))
            # Several sends fail while it is down; Alertmanager still has it active.
            wait_for(lambda: metric(daemon, "planwatch_alertmanager_errors_total", alertmanager=proxy.url) >= failed + 3,
                     what="failed sends during the outage")
            assert ours(), "the resolve cannot have arrived through a closed proxy"
            proxy.bring_back()
            wait_for(lambda: not ours(), what="the resolve arriving after the outage")
        finally:
            assert daemon.stop() == 0
            proxy.close()


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


# WCAG 2.1 contrast of every visible text node's element against its effective background.
CONTRAST_CHECK = r"""
(() => {
  const parse = c => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null; const p = m[1].split(',').map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const blend = (top, under) => ({r: top.r * top.a + under.r * (1 - top.a), g: top.g * top.a + under.g * (1 - top.a),
    b: top.b * top.a + under.b * (1 - top.a), a: 1});
  const background = el => { const layers = []; for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor); if (c && c.a > 0) { layers.push(c); if (c.a === 1) break; } }
    let bg = {r: 255, g: 255, b: 255, a: 1}; for (const l of layers.reverse()) bg = blend(l, bg); return bg; };
  const failures = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!el || seen.has(el) || !node.textContent.trim()) continue; seen.add(el);
    const style = getComputedStyle(el), rect = el.getBoundingClientRect();
    if (style.visibility === 'hidden' || style.display === 'none' || rect.width <= 1 || rect.height <= 1) continue;
    let fg = parse(style.color); const bg = background(el);
    let o = 1; for (let e = el; e; e = e.parentElement) o *= Number(getComputedStyle(e).opacity);
    fg = blend({...fg, a: fg.a * o}, bg);
    const l1 = lum(fg), l2 = lum(bg), ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
    const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < needed) failures.push(`${el.tagName}.${el.className}: "${node.textContent.trim().slice(0, 20)}" ${ratio.toFixed(2)}:1`);
  }
  return failures;
})()
"""


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
            # Domains come from the loaded handlers (the catalog), not a list in the page.
            domains = cdp.evaluate("[...document.querySelectorAll('#f-domain option')].map(o => o.value)")
            assert {"safety", "enrolment", "projects", "teachers", "inspection", "aid", "ingest"} <= set(domains), domains
            # Accessibility, checked in the browser as WCAG 2.1 AA states it: every visible text at
            # 4.5:1 against what is behind it (3:1 when large), a live region for new alerts, and
            # every control named by a label.
            failures = cdp.evaluate(CONTRAST_CHECK)
            assert failures == [], failures
            assert cdp.evaluate("document.querySelector('[aria-live]') !== null")
            assert cdp.evaluate("[...document.querySelectorAll('select, button')].every(e => (e.closest('label') || e).textContent.trim().length > 0)")
            send_incident(ctx, daemon, incidentId="INC-ANNOUNCE", deaths=3)
            wait_for(lambda: "新红色预警" in (cdp.evaluate("document.getElementById('announce').textContent") or ""),
                     what="a new red alert announced in the live region")
            # An Alertmanager notification links to the alert: the console opens on it, with its history.
            cdp.call("Page.navigate", url=daemon.http + "/?fingerprint=safety.incident/INC-LIVE")
            wait_for(lambda: cdp.evaluate(
                "(document.querySelector('.alert.focus') || {dataset: {}}).dataset.fingerprint === 'safety.incident/INC-LIVE'"
                " && document.querySelector('.alert.focus .trail') !== null"), what="the linked alert focused with its history")
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


@contextlib.contextmanager
def daemon_with_pipeline(**settings):
    """A daemon whose config file sets these `pipeline:` keys; stopped (exit 0) at the end."""
    with tempfile.TemporaryDirectory() as directory:
        config = os.path.join(directory, "planwatchd.yaml")
        with open(config, "w") as f:
            f.write("pipeline:\n" + "".join(f"  {key}: {value}\n" for key, value in settings.items()))
        daemon = Daemon(directory, extra=("--config", config))
        try:
            yield daemon
        finally:
            assert daemon.stop() == 0, open(daemon.log_path).read()[-3000:]


@contextlib.contextmanager
def refusing_inserts(path, table):
    """While inside, another process's trigger makes the SQLite file at `path` refuse rows
    of `table` (as a full disk or a broken database would)."""
    db = sqlite3.connect(path, timeout=30)
    db.execute(f"CREATE TRIGGER refuse BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, 'refused'); END")
    db.commit()
    try:
        yield
    finally:
        db.execute("DROP TRIGGER refuse")
        db.commit()
        db.close()


def log_once_it_says(daemon, text):
    """The daemon's log, once it contains `text`."""
    return wait_for(lambda: (lambda log: log if text in log else None)(open(daemon.log_path).read()), what=repr(text))


def test_an_audit_trail_that_cannot_be_written_is_said_once_counted_and_caught_up(ctx):
    """While the alerts' audit trail cannot be written (here another process put a trigger on
    the journal that refuses its rows), an operator sees one error in the log, not one per
    batch; the failures and the checkpoints postponed for them counted on /metrics, and the
    entries a restart would replay growing. Once it can be written, the changes are stored,
    the log says so once, and a checkpoint brings the backlog down."""
    # Ticks every 100 ms: each batch retries the audit trail, each 200 ms a checkpoint is due.
    with daemon_with_pipeline(tickIntervalMs=100, checkpointIntervalMs=200) as daemon:
        for name in ("planwatch_alert_history_write_failures_total", "planwatch_checkpoint_failures_total"):
            assert re.search(rf"^{name} 0(\.0)?$", get(daemon.http + "/metrics")[1], re.M), name
        fingerprint = urllib.parse.quote("safety.incident/INC-TRAIL")
        with refusing_inserts(daemon.journal, "alert_history"):
            send_incident(ctx, daemon, incidentId="INC-TRAIL", affected=35)
            wait_for(lambda: metric(daemon, "planwatch_alert_history_write_failures_total") >= 10, what="failures counted")
            wait_for(lambda: metric(daemon, "planwatch_checkpoint_failures_total") >= 5, what="checkpoints postponed")
            backlog = metric(daemon, "planwatch_checkpoint_backlog_entries")
            wait_for(lambda: metric(daemon, "planwatch_checkpoint_backlog_entries") >= backlog + 10, what="the backlog growing")
            assert json.loads(get(daemon.http + "/api/alerts/history?fingerprint=" + fingerprint)[1]) == []
            log = open(daemon.log_path).read()
            assert log.count("alert history write failed; will retry") == 1, log[-3000:]
            assert log.count("checkpoint failed; will retry") == 1, log[-3000:]
        history = wait_for(lambda: json.loads(get(daemon.http + "/api/alerts/history?fingerprint=" + fingerprint)[1]),
                           what="the change stored")
        assert [h["change"] for h in history] == ["fired"]
        saved = metric(daemon, "planwatch_checkpoints_saved_total")
        wait_for(lambda: metric(daemon, "planwatch_checkpoint_backlog_entries") < 10, what="a checkpoint clearing the backlog")
        wait_for(lambda: metric(daemon, "planwatch_checkpoints_saved_total") > saved, what="a checkpoint counted")
        log = log_once_it_says(daemon, "checkpoint succeeded again")
        assert log.count("alert history write succeeded again") == 1, log[-3000:]


def test_a_checkpoint_that_cannot_be_written_is_tried_again_each_interval_not_each_batch(ctx):
    """A checkpoints file that refuses writes (a full disk, say): the checkpoint due is tried
    again after the checkpoint interval, not at every batch (each try waits for the output
    thread and, after a failed write, takes every subject again); once it can be written, the
    next one is saved."""
    with daemon_with_pipeline(tickIntervalMs=100, checkpointEvery=1, checkpointIntervalMs=1000) as daemon:
        wait_for(lambda: metric(daemon, "planwatch_checkpoints_saved_total") >= 1, what="a first checkpoint")
        with refusing_inserts(daemon.journal + ".checkpoints", "checkpoint"):
            started, failures = time.monotonic(), metric(daemon, "planwatch_checkpoint_failures_total")
            commits = metric(daemon, "planwatch_journal_commit_seconds_count")
            # Forty batches (a tick each 100 ms), each with a checkpoint due by its entries.
            wait_for(lambda: metric(daemon, "planwatch_journal_commit_seconds_count") >= commits + 40, what="forty batches")
            failed = metric(daemon, "planwatch_checkpoint_failures_total") - failures
            elapsed = time.monotonic() - started
            assert 1 <= failed <= elapsed / 1.0 + 2, (failed, elapsed)
            saved = metric(daemon, "planwatch_checkpoints_saved_total")
        wait_for(lambda: metric(daemon, "planwatch_checkpoints_saved_total") > saved, what="a checkpoint saved again")
        log = log_once_it_says(daemon, "checkpoint succeeded again")
        assert log.count("checkpoint failed; will retry") == 1, log[-3000:]


def _instant(text):
    """An RFC 3339 time from Alertmanager, comparable: (seconds, nanoseconds) since 1970."""
    import datetime
    import re
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", text)
    assert m, f"not an RFC 3339 time: {text}"
    zone = "+00:00" if m.group(3) == "Z" else m.group(3)
    seconds = datetime.datetime.fromisoformat(m.group(1) + zone).timestamp()
    return (int(seconds), int((m.group(2) or "0").ljust(9, "0")[:9]))


def test_a_restarted_daemon_keeps_renewing_the_alerts_its_checkpoint_restored(ctx, alertmanager):
    """A firing alert's lease in Alertmanager runs four resend intervals: the daemon renews it
    while the alert fires, and a daemon restarted on the same journal must renew the alerts
    its checkpoint gave back too — not only those that change after its start — or
    Alertmanager ends them while they still fire."""
    with tempfile.TemporaryDirectory() as directory:
        config = am_config(directory, [alertmanager])

        def ours():
            alerts = json.loads(get(alertmanager + "/api/v2/alerts")[1])
            return [a for a in alerts if a["labels"].get("fingerprint") == "safety.incident/INC-RESTART"]

        daemon = Daemon(directory, extra=("--config", config))
        try:
            send_incident(ctx, daemon, incidentId="INC-RESTART", deaths=3)
            wait_for(ours, what="the alert in Alertmanager")
        finally:
            assert daemon.stop() == 0
        lease = _instant(wait_for(ours, what="the alert still in Alertmanager")[0]["endsAt"])
        again = Daemon(directory, extra=("--config", config))
        try:
            renewed = wait_for(lambda: [a for a in ours() if _instant(a["endsAt"]) > lease],
                               what="the restarted daemon renewing the alert's lease")
            assert renewed[0]["status"]["state"] == "active" and renewed[0]["labels"]["level"] == "red"
        finally:
            assert again.stop() == 0
