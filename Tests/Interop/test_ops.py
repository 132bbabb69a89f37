"""Ops files, run for real: the compose file validates; the sample configs are accepted by
planwatchd; the Prometheus rules use metrics the daemon really exports; the image's and the
systemd unit's command lines start the daemon with the holiday calendars and the Finance
plugin from the paths the image installs (in a scratch root laid out from the Dockerfile's
COPY lines, under the unit's hardening where the kernel allows); the image's HEALTHCHECK
passes and fails; the compose demo's daemon serves HTTP on 0.0.0.0 with its config and posts
to a real Alertmanager with Ops/alertmanager/alertmanager.yml, which routes and inhibits as
intended; the compose simulator plays new events on a second run. The static checks with
the tools themselves (amtool, promtool, systemd-analyze, shellcheck) are in .ci/ops-check.
There is no Docker engine here: the image is not built."""
import ctypes
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest
import zmq

from conftest import ROOT, Daemon, _bin_dir, _free_port, _free_ports
from test_contract_interop import TOPIC, incident, recv
from test_operators import get, send_incident, wait_for

DEBIAN_PYTHON = "/usr/bin/python3"  # with python3-yaml (.ci/install-deps)


def load_yaml(text):
    """YAML to Python through Debian's python3-yaml (the test's own Python may lack PyYAML)."""
    out = subprocess.run([DEBIAN_PYTHON, "-c", "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)"],
                         input=text, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def compose_config():
    out = subprocess.run([shutil.which("docker-compose"), "config"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return load_yaml(out.stdout)


def metric_total(text, name):
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if re.match(rf"{name}(\{{| )", line))


def test_compose_file_validates_with_debians_docker_compose():
    binary = shutil.which("docker-compose")
    assert binary, "docker-compose is installed by .ci/install-deps"
    result = subprocess.run([binary, "config", "-q"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    services = subprocess.run([binary, "config", "--services"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    assert set(services) == {"planwatchd", "simulator", "prometheus", "alertmanager"}
    for path in ("Ops/Dockerfile", "Ops/prometheus/prometheus.yml", "Ops/prometheus/planwatch-rules.yml",
                 "Ops/prometheus/planwatch-rules.test.yml", "Ops/alertmanager/alertmanager.yml",
                 "Ops/compose/planwatchd.yaml", "Ops/planwatchd.service", ".dockerignore"):
        assert os.path.exists(os.path.join(ROOT, path)), path


def test_sample_configs_are_accepted_by_planwatchd():
    for config in ("Ops/planwatchd.yaml", "Ops/compose/planwatchd.yaml"):
        with tempfile.TemporaryDirectory() as directory:
            daemon = Daemon(directory, extra=("--config", os.path.join(ROOT, config)))
            assert daemon.stop() == 0, config


def test_prometheus_rules_use_metrics_the_daemon_exports(ctx):
    rules = open(os.path.join(ROOT, "Ops/prometheus/planwatch-rules.yml")).read()
    # The expressions only, not the comments; a histogram's _bucket/_count/_sum is its name.
    rules = "\n".join(line for line in rules.splitlines() if not line.lstrip().startswith("#"))
    used = set(re.findall(r"\b((?:planwatch|process)_[a-z_]+?)(?:_bucket|_count|_sum)?\b", rules))
    with tempfile.TemporaryDirectory() as directory:
        # With an Alertmanager configured (none listens there): the bridge's metrics exist too.
        daemon = Daemon(directory, extra=("--alertmanager-url", f"http://127.0.0.1:{_free_port()}"))
        try:
            dealer = ctx.socket(zmq.DEALER)
            dealer.connect(daemon.ack)
            dealer.send_multipart([TOPIC, b"{}"])
            recv(dealer)
            dealer.send_multipart([TOPIC, json.dumps(incident()).encode()])
            recv(dealer)
            metrics = wait_for(lambda: (lambda m: m if "planwatch_events_rejected_total" in m else None)(
                get(daemon.http + "/metrics")[1]), what="metrics")
            exported = set(re.findall(r"^((?:planwatch|process)_[a-z_]+?)(?:_bucket|_sum|_count)?[{ ]", metrics, re.M))
            # Every series a rule uses is exported from the start (at 0 until something happens).
            assert used <= exported, used - exported
        finally:
            assert daemon.stop() == 0


# --- The image's and the unit's command lines, in a scratch root laid out like the image ---

def dockerfile_lines():
    """Logical lines of Ops/Dockerfile: continuations joined, comments dropped."""
    lines, current = [], ""
    for raw in open(os.path.join(ROOT, "Ops/Dockerfile")).read().split("\n"):
        if raw.lstrip().startswith("#"):
            continue
        if raw.endswith("\\"):
            current += raw[:-1] + " "
            continue
        current += raw
        if current.strip():
            lines.append(current.strip())
        current = ""
    return lines


def final_stage(lines):
    start = max(i for i, line in enumerate(lines) if line.startswith("FROM "))
    return lines[start:]


PLUGINS = ("libFinancePlugin.so", "libDigitalInfrastructurePlugin.so")


@pytest.fixture(scope="module")
def built():
    """This checkout's binaries and plugin, copied once (a rebuild may replace them meanwhile)."""
    with tempfile.TemporaryDirectory() as directory:
        source = _bin_dir()
        for name in ("planwatchd", "planwatch", *PLUGINS):
            shutil.copy2(os.path.join(source, name), os.path.join(directory, name))
        for folder in ("Schemas", "Console"):
            shutil.copytree(os.path.join(source, "PlanWatch_planwatchd.resources", folder), os.path.join(directory, folder))
        yield directory


def image_root(root, built, mounts=()):
    """Lays out `root` as Ops/Dockerfile's runtime stage installs it: its COPY lines from the
    context are applied as Docker does; those from the build stage map to this checkout's
    build (after checking the build stage puts them where the mapping says)."""
    lines = dockerfile_lines()
    build = "\n".join(lines[:len(lines) - len(final_stage(lines))])
    from_build = {
        "/out/bin/planwatchd": os.path.join(built, "planwatchd"),
        "/out/bin/planwatch": os.path.join(built, "planwatch"),
        "/out/share/Schemas": os.path.join(built, "Schemas"),
        "/out/share/Console": os.path.join(built, "Console"),
        "/out/plugins": None,  # a folder with the plugin alone
        "/out/swift": None,  # the Swift runtime: this host's
    }
    assert 'cp "$bin/planwatchd" "$bin/planwatch" /out/bin/' in build
    assert 'cp -r "$bin/PlanWatch_planwatchd.resources/Schemas" /out/share/Schemas' in build
    assert 'cp -r "$bin/PlanWatch_planwatchd.resources/Console" /out/share/Console' in build
    for plugin in PLUGINS:
        assert f'cp "$bin/{plugin}" /out/plugins/' in build
    stage = final_stage(lines)
    for line in stage:
        if line.startswith("COPY "):
            words = line.split()[1:]
            from_stage = words[0].startswith("--from=")
            if from_stage:
                words = words[1:]
            sources, dest = words[:-1], words[-1]
            target = root + dest
            for source in sources:
                if from_stage:
                    assert source in from_build, f"COPY --from={source}: unknown to this test"
                    if source == "/out/swift":
                        continue
                    if source == "/out/plugins":
                        os.makedirs(target, exist_ok=True)
                        for plugin in PLUGINS:
                            os.link(os.path.join(built, plugin), os.path.join(target, plugin))
                        continue
                    path = from_build[source]
                else:
                    path = os.path.join(ROOT, source)
                if os.path.isdir(path):  # Docker copies a folder's contents
                    shutil.copytree(path, target, dirs_exist_ok=True)
                else:
                    into = target if dest.endswith("/") or len(sources) > 1 else os.path.dirname(target)
                    os.makedirs(into, exist_ok=True)
                    final = os.path.join(into, os.path.basename(source)) if into == target else target
                    if final.endswith(("/planwatchd", "/planwatch")):
                        os.link(path, final)  # a real file: /proc/self/exe must be inside the root
                    else:
                        shutil.copy2(path, final)
        elif line.startswith("WORKDIR "):
            os.makedirs(root + line.split()[1], exist_ok=True)
    for host, container in mounts:
        os.makedirs(os.path.dirname(root + container), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, host), root + container)
    return root


def in_root(root, args):
    """The command line with every absolute path moved into the scratch root."""
    return [root + a if a.startswith("/") else a for a in args]


def isolated_ports(http_host="127.0.0.1"):
    """Free ports for the endpoints (the test must not take 5550... from anyone)."""
    names = ("ingest", "ack", "publish", "snapshot", "http")
    ports = dict(zip(names, _free_ports(len(names))))
    args = ["--ingest-bind", f"tcp://127.0.0.1:{ports['ingest']}", "--ack-bind", f"tcp://127.0.0.1:{ports['ack']}",
            "--publish-bind", f"tcp://127.0.0.1:{ports['publish']}", "--snapshot-bind", f"tcp://127.0.0.1:{ports['snapshot']}",
            "--http-bind", f"{http_host}:{ports['http']}"]
    return ports, args


class Started:
    """A process of the daemon under a given command line, working directory and limits."""

    def __init__(self, argv, cwd, log_path, preexec_fn=None):
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.process = subprocess.Popen(argv, cwd=cwd, stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=preexec_fn)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if "planwatchd ready" in self.text():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.process.kill()
        raise AssertionError("planwatchd did not start:\n" + self.text()[-3000:])

    def text(self):
        return open(self.log_path).read()

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=60)
        self.log.close()
        return code


def calendar_years():
    return sorted(int(m.group(1)) for f in os.listdir(os.path.join(ROOT, "Plans/calendar"))
                  if (m := re.fullmatch(r"cn-(\d{4})\.yaml", f)))


def assert_installed_defaults_work(daemon, root, http):
    """The Finance plugin from the image's plugin folder, every shipped calendar year, the
    schemas from the image's share folder, the journal in the volume."""
    log = daemon.text()
    for name in ("Finance", "DigitalInfrastructure"):
        plugin = re.search(rf"path=(\S+) plugin={name} \[planwatchd\] plugin loaded", log)
        assert plugin and plugin.group(1).startswith(root + "/usr/local/lib/planwatch/plugins/"), log[-3000:]
    years = re.search(r"(?:years|loaded)=\[([0-9, ]*)\]", log)
    assert years and [int(y) for y in years.group(1).split(", ") if y] == calendar_years(), log[-3000:]
    status, body = get(f"http://127.0.0.1:{http}/schemas")
    assert status == 200 and "/schemas/event.schema.json" in body, body
    status, body = get(f"http://127.0.0.1:{http}/console.js")
    assert status == 200 and "EventSource" in body, body[:200]
    assert os.path.exists(root + "/var/lib/planwatch/planwatch.sqlite")


def test_the_images_command_loads_calendars_and_the_finance_plugin_from_where_the_image_installs_them(built):
    lines = final_stage(dockerfile_lines())
    entrypoint = json.loads(next(l for l in lines if l.startswith("ENTRYPOINT "))[len("ENTRYPOINT "):])
    cmd = json.loads(next(l for l in lines if l.startswith("CMD "))[len("CMD "):])
    workdir = [l.split()[1] for l in lines if l.startswith("WORKDIR ")][-1]
    with tempfile.TemporaryDirectory() as directory:
        root = image_root(os.path.join(directory, "root"), built)
        ports, extra = isolated_ports()
        # The image's command as it is, then only the endpoints moved to free ports.
        daemon = Started(in_root(root, entrypoint + cmd) + extra, root + workdir, os.path.join(directory, "log"))
        try:
            assert_installed_defaults_work(daemon, root, ports["http"])
        finally:
            assert daemon.stop() == 0, daemon.text()[-3000:]
        # Without the image's --calendar flags, the relative default finds nothing there.
        without = [a for i, a in enumerate(cmd) if a != "--calendar" and (i == 0 or cmd[i - 1] != "--calendar")]
        daemon = Started(in_root(root, entrypoint + without) + extra, root + workdir, os.path.join(directory, "log2"))
        try:
            assert re.search(r"loaded=\[\]", daemon.text()), daemon.text()[-2000:]
        finally:
            assert daemon.stop() == 0


def test_the_images_healthcheck_passes_on_a_live_daemon_and_fails_on_a_dead_one():
    lines = final_stage(dockerfile_lines())
    check = next(l for l in lines if l.startswith("HEALTHCHECK "))
    command = re.sub(r"^HEALTHCHECK .*?CMD ", "", check)
    env_line = next(l for l in lines if l.startswith("ENV PLANWATCH_HEALTH_URL="))
    default_url = env_line.split("=", 1)[1]
    # The default matches the HTTP endpoint the image's config gives the daemon.
    bind = load_yaml(open(os.path.join(ROOT, "Ops/planwatchd.yaml")).read())["http"]["bind"]
    assert default_url == f"http://{bind}/healthz", (default_url, bind)
    with tempfile.TemporaryDirectory() as directory:
        daemon = Daemon(directory)
        url = daemon.http + "/healthz"
        try:
            # The image's /bin/sh is dash, as here.
            passed = subprocess.run(["/bin/sh", "-c", command], env={**os.environ, "PLANWATCH_HEALTH_URL": url},
                                    capture_output=True, text=True, timeout=30)
            assert passed.returncode == 0, passed.stderr
        finally:
            assert daemon.stop() == 0
        failed = subprocess.run(["/bin/sh", "-c", command], env={**os.environ, "PLANWATCH_HEALTH_URL": url},
                                capture_output=True, text=True, timeout=30)
        assert failed.returncode != 0


def unit_settings():
    text = open(os.path.join(ROOT, "Ops/planwatchd.service")).read().replace("\\\n", " ")
    return {m.group(1): m.group(2).strip() for m in re.finditer(r"^([A-Za-z]+)=(.*)$", text, re.M)}


def mdwe_supported():
    probe = subprocess.run([DEBIAN_PYTHON, "-c", "import ctypes, sys; sys.exit(ctypes.CDLL(None).prctl(65, 1, 0, 0, 0) != 0)"])
    return probe.returncode == 0


def hardened():
    """What of the unit's sandbox a process can set on itself: UMask=0077,
    NoNewPrivileges=yes and MemoryDenyWriteExecute=yes (PR_SET_MDWE, Linux 6.3+)."""
    libc = ctypes.CDLL(None, use_errno=True)
    mdwe = mdwe_supported()

    def apply():
        os.umask(0o077)
        if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
            raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS")
        if mdwe and libc.prctl(65, 1, 0, 0, 0) != 0:  # PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN
            raise OSError(ctypes.get_errno(), "PR_SET_MDWE")
    return apply, mdwe


def test_the_systemd_units_command_loads_calendars_and_the_finance_plugin_under_its_hardening(built):
    unit = unit_settings()
    assert unit["UMask"] == "0077" and unit["NoNewPrivileges"] == "yes" and unit["MemoryDenyWriteExecute"] == "yes"
    argv = unit["ExecStart"].split()
    assert all(a.startswith("/") for a in (argv[0], unit["WorkingDirectory"], unit["ReadWritePaths"]))
    with tempfile.TemporaryDirectory() as directory:
        # Installed as the unit's header says: the image's layout.
        root = image_root(os.path.join(directory, "root"), built)
        ports, extra = isolated_ports()
        apply, mdwe = hardened()
        daemon = Started(in_root(root, argv) + extra, root + unit["WorkingDirectory"], os.path.join(directory, "log"),
                         preexec_fn=apply)
        try:
            assert_installed_defaults_work(daemon, root, ports["http"])
            journal = root + "/var/lib/planwatch/planwatch.sqlite"
            assert os.stat(journal).st_mode & 0o077 == 0, oct(os.stat(journal).st_mode)
        finally:
            assert daemon.stop() == 0, daemon.text()[-3000:]
    if not mdwe:
        print("note: this kernel has no PR_SET_MDWE; MemoryDenyWriteExecute was not tried")


# --- The compose demo ---------------------------------------------------------------------

@pytest.fixture
def ops_alertmanager():
    """A real Alertmanager on Ops/alertmanager/alertmanager.yml, unchanged."""
    binary = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    assert binary, "prometheus-alertmanager is installed by .ci/install-deps"
    with tempfile.TemporaryDirectory() as directory:
        port = _free_port()
        log = open(os.path.join(directory, "alertmanager.log"), "w")
        process = subprocess.Popen(
            [binary, f"--config.file={os.path.join(ROOT, 'Ops/alertmanager/alertmanager.yml')}",
             f"--storage.path={directory}/data", f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
            stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_for(lambda: get(url + "/-/ready")[0] == 200, what="alertmanager ready")
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)
            log.close()


def alerts_in(alertmanager):
    return json.loads(get(alertmanager + "/api/v2/alerts")[1])


def receivers(alert):
    return sorted(r["name"] for r in alert["receivers"])


def test_the_compose_daemon_serves_http_beyond_loopback_and_its_alerts_reach_the_right_offices(ctx, built, ops_alertmanager):
    service = compose_config()["services"]["planwatchd"]
    mounts = [(v.split(":")[0].removeprefix(os.path.join(ROOT, "")).removeprefix("./"), v.split(":")[1])
              for v in service["volumes"] if isinstance(v, str) and v.startswith((".", "/"))]
    assert ("Ops/compose/planwatchd.yaml", "/etc/planwatch/planwatchd.yaml") in mounts, service["volumes"]
    command = list(service["command"])
    # Compose's own endpoints, on free ports but still on 0.0.0.0 (what the config must
    # allow), and its Alertmanager here.
    ports = {}
    for i, arg in enumerate(command):
        if m := re.fullmatch(r"(tcp://)?0\.0\.0\.0:(\d+)", arg):
            ports[command[i - 1]] = port = _free_port()
            command[i] = f"{m.group(1) or ''}0.0.0.0:{port}"
        elif arg == "http://alertmanager:9093":
            command[i] = ops_alertmanager
    assert set(ports) == {"--ingest-bind", "--ack-bind", "--publish-bind", "--snapshot-bind", "--http-bind"}, ports
    assert ops_alertmanager in command
    entrypoint = json.loads(next(l for l in final_stage(dockerfile_lines()) if l.startswith("ENTRYPOINT "))[len("ENTRYPOINT "):])
    with tempfile.TemporaryDirectory() as directory:
        root = image_root(os.path.join(directory, "root"), built, mounts=mounts)
        daemon = Started(in_root(root, entrypoint + command), root + "/var/lib/planwatch", os.path.join(directory, "log"))
        try:
            assert get(f"http://127.0.0.1:{ports['--http-bind']}/readyz")[0] == 200
            assert_installed_defaults_work(daemon, root, ports["--http-bind"])
            target = type("Target", (), {"ack": f"tcp://127.0.0.1:{ports['--ack-bind']}"})()
            send_incident(ctx, target, incidentId="INC-COMPOSE", deaths=3)  # red
            send_incident(ctx, target, incidentId="INC-COMPOSE-Y", affected=2, category="traffic")

            def posted():
                ours = {a["labels"]["fingerprint"]: a for a in alerts_in(ops_alertmanager)
                        if a["labels"].get("fingerprint", "").startswith("safety.incident/INC-COMPOSE")}
                return ours if len(ours) == 2 else None
            ours = wait_for(posted, what="both incidents in Alertmanager")
            for alert in ours.values():
                labels = alert["labels"]
                assert labels["domain"] == "safety" and labels["alertname"] == labels["rule"] == "safety.incident"
                expected = (["leadership"] if labels["level"] in ("red", "orange") else []) + ["safety-office"]
                assert receivers(alert) == sorted(expected), (labels, receivers(alert))
                assert alert["status"]["state"] == "active", alert["status"]
            assert ours["safety.incident/INC-COMPOSE"]["labels"]["level"] == "red"
        finally:
            assert daemon.stop() == 0, daemon.text()[-3000:]
        # What makes it start: without http.allowPlaintext, HTTP on 0.0.0.0 is refused.
        plain = os.path.join(directory, "plain.yaml")
        with open(plain, "w") as f:
            f.write("allowPlaintext: true\n")
        config_at = command.index("--config") + 1
        refused = subprocess.run(in_root(root, entrypoint) + in_root(root, command[:config_at]) + [plain]
                                 + in_root(root, command[config_at + 1:]), cwd=root + "/var/lib/planwatch",
                                 capture_output=True, text=True, timeout=60)
        assert refused.returncode != 0 and "refusing to serve HTTP on 0.0.0.0" in refused.stderr, refused.stderr


def test_the_compose_simulator_plays_new_events_on_a_second_run(built):
    service = compose_config()["services"]["simulator"]
    assert service["entrypoint"] == ["/bin/sh", "-c"]
    # Compose turns $$ into $ before the container's shell sees it.
    script = service["command"][0].replace("$$", "$")
    with tempfile.TemporaryDirectory() as directory:
        # With the plugins, as compose's daemon has them: the stream has their events too.
        plugins = os.path.join(directory, "plugins")
        os.makedirs(plugins)
        for plugin in PLUGINS:
            os.link(os.path.join(built, plugin), os.path.join(plugins, plugin))
        daemon = Daemon(directory, extra=("--plugin-dir", plugins))
        try:
            replaced = script
            for old, new in (("/usr/local/bin/planwatch ", os.path.join(built, "planwatch") + " "),
                             ("tcp://planwatchd:5550", daemon.ingest),
                             ("--duration 120", "--duration 0 --days 10 --schools-per-district 1")):
                assert old in replaced, (old, script)
                replaced = replaced.replace(old, new)

            def totals():
                text = get(daemon.http + "/metrics")[1]
                return {name: metric_total(text, f"planwatch_events_{name}_total")
                        for name in ("received", "rejected", "duplicate")}

            published = 0
            for run in (1, 2):
                started = int(time.time())
                result = subprocess.run(["/bin/sh", "-c", replaced], capture_output=True, text=True, timeout=120)
                assert result.returncode == 0, result.stderr
                published += int(re.search(r"simulate: (\d+) events published", result.stdout).group(1))
                wait_for(lambda: sum(totals().values()) >= published, what=f"run {run}'s events journaled")
                # The seed is the time in seconds: a second run starts in another second.
                wait_for(lambda: int(time.time()) != started, what="the next second")
            counts = totals()
            assert counts["duplicate"] == 0 and counts["rejected"] == 0, counts
            assert counts["received"] == published, (counts, published)
        finally:
            assert daemon.stop() == 0


# --- Alertmanager's routing and inhibition, live ------------------------------------------

def post_alerts(alertmanager, alerts):
    body = json.dumps([{"labels": labels, "annotations": {"summary": labels["fingerprint"]}} for labels in alerts]).encode()
    request = urllib.request.Request(alertmanager + "/api/v2/alerts", data=body, method="POST",
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as r:
        assert r.status == 200


def labels(rule, level, subject, region="370303"):
    return {"alertname": rule, "rule": rule, "level": level, "region": region,
            "domain": rule.split(".")[0], "fingerprint": f"{rule}/{subject}"}


def test_alertmanager_inhibits_only_a_stale_lower_level_of_the_same_subject(ops_alertmanager):
    alerts = {
        # A red incident at one school, and a yellow incident at another school of the same
        # district under the same rule: a different incident, which must still be sent.
        "red": labels("safety.incident", "red", "INC-A"),
        "other yellow": labels("safety.incident", "yellow", "INC-B"),
        # The same incident's old yellow label set, still active after its level rose (its end
        # was lost): muted by the red one.
        "stale yellow": labels("safety.incident", "yellow", "INC-A"),
        # The same for orange over blue, in another domain.
        "orange": labels("projects.milestone_overdue", "orange", "P-7"),
        "stale blue": labels("projects.milestone_overdue", "blue", "P-7"),
        "other blue": labels("projects.milestone_overdue", "blue", "P-8"),
    }
    post_alerts(ops_alertmanager, list(alerts.values()))
    expected_state = {name: "suppressed" if name.startswith("stale") else "active" for name in alerts}

    def states():
        by_labels = {json.dumps(a["labels"], sort_keys=True): a for a in alerts_in(ops_alertmanager)}
        got = {name: by_labels.get(json.dumps(l, sort_keys=True)) for name, l in alerts.items()}
        if any(a is None for a in got.values()):
            return None
        return got if {n: a["status"]["state"] for n, a in got.items()} == expected_state else None

    try:
        got = wait_for(states, seconds=15, what="inhibition of the stale label sets only")
    except AssertionError:
        now = {json.dumps(a["labels"], sort_keys=True): a["status"] for a in alerts_in(ops_alertmanager)}
        raise AssertionError(f"expected {expected_state}, Alertmanager has {now}")
    assert got["stale yellow"]["status"]["inhibitedBy"] and got["stale blue"]["status"]["inhibitedBy"]
    assert not got["other yellow"]["status"]["inhibitedBy"] and not got["other blue"]["status"]["inhibitedBy"]
    # And who each is for, as Alertmanager itself routes them.
    assert receivers(got["red"]) == ["leadership", "safety-office"]
    assert receivers(got["other yellow"]) == ["safety-office"]
    assert receivers(got["orange"]) == ["duty-office", "leadership"]
    assert receivers(got["other blue"]) == ["duty-office"]


LEVELS = ("red", "orange", "yellow", "blue")  # highest first
INHIBITING = ("red", "orange", "yellow")  # the inhibit rules' sources


def test_alertmanager_inhibits_each_lower_level_of_a_subject_and_no_other(ops_alertmanager):
    """Every pair of levels on one subject: the lower is muted, the higher never is (a stale
    blue beside a yellow of the same subject too: the four levels are one ladder). Lone
    alerts of other subjects of the same rule and region stay active whatever is raised
    beside them."""
    rule, region = "projects.milestone_overdue", "379101"
    pairs = [(high, low) for i, high in enumerate(LEVELS) for low in LEVELS[i + 1:]]
    alerts, expected_state = {}, {}
    for high, low in pairs:
        for level in (high, low):
            alerts[(high, low, level)] = labels(rule, level, f"P-{high}-{low}", region)
            muted = level == low and high in INHIBITING
            expected_state[(high, low, level)] = "suppressed" if muted else "active"
    for level in LEVELS:
        alerts[("lone", level)] = labels(rule, level, f"P-lone-{level}", region)
        expected_state[("lone", level)] = "active"
    post_alerts(ops_alertmanager, list(alerts.values()))

    def current():
        by_labels = {json.dumps(a["labels"], sort_keys=True): a for a in alerts_in(ops_alertmanager)}
        return {name: by_labels.get(json.dumps(l, sort_keys=True)) for name, l in alerts.items()}

    def states():
        got = current()
        return got if {n: a and a["status"]["state"] for n, a in got.items()} == expected_state else None

    try:
        got = wait_for(states, seconds=15, what="inhibition of each lower level of the same subject")
    except AssertionError:
        now = {n: a and a["status"]["state"] for n, a in current().items()}
        wrong = {n: (state, expected_state[n]) for n, state in now.items() if state != expected_state[n]}
        raise AssertionError(f"(Alertmanager's state, expected) where they differ: {wrong}")
    for name, alert in got.items():
        assert bool(alert["status"]["inhibitedBy"]) == (expected_state[name] == "suppressed"), (name, alert["status"])


def groups_in(alertmanager, regions):
    """Alertmanager's aggregation groups of those regions, as
    {(receiver, group labels as sorted pairs): sorted fingerprints of its alerts}."""
    groups = json.loads(get(alertmanager + "/api/v2/alerts/groups")[1])
    return {(g["receiver"]["name"], tuple(sorted(g["labels"].items()))): sorted(a["labels"]["fingerprint"] for a in g["alerts"])
            for g in groups if g["labels"].get("region") in regions}


def test_alertmanager_groups_one_rule_in_one_region_per_receiver(ops_alertmanager):
    """group_by [alertname, region]: alerts of one rule and region (other subjects, other
    levels) are one group; the same rule in another region, or another rule in the same
    region, is another group; each receiver its own groups, as the routes send them."""
    north, south = "379201", "379202"
    sent = [
        # enrolment, yellow: duty-office only. Two subjects of one rule and region, one group.
        labels("enrolment.oversized_class", "yellow", "S-1", north),
        labels("enrolment.oversized_class", "blue", "S-2", north),
        # The same rule in another region.
        labels("enrolment.oversized_class", "yellow", "S-3", south),
        # Another rule in the same region.
        labels("enrolment.dropout_open", "yellow", "S-4", north),
        # Orange of the first rule and region: in duty-office's group with the yellow and
        # blue ones (level is not grouped on), and alone in leadership's.
        labels("enrolment.oversized_class", "orange", "S-5", north),
        # safety: red to leadership and safety-office, yellow to safety-office only.
        labels("safety.incident", "red", "INC-1", north),
        labels("safety.incident", "yellow", "INC-2", north),
        labels("safety.incident", "red", "INC-3", south),
    ]
    post_alerts(ops_alertmanager, sent)

    def group(receiver, rule, region):
        return receiver, (("alertname", rule), ("region", region))
    expected = {
        group("duty-office", "enrolment.oversized_class", north):
            ["enrolment.oversized_class/S-1", "enrolment.oversized_class/S-2", "enrolment.oversized_class/S-5"],
        group("duty-office", "enrolment.oversized_class", south): ["enrolment.oversized_class/S-3"],
        group("duty-office", "enrolment.dropout_open", north): ["enrolment.dropout_open/S-4"],
        group("leadership", "enrolment.oversized_class", north): ["enrolment.oversized_class/S-5"],
        group("leadership", "safety.incident", north): ["safety.incident/INC-1"],
        group("leadership", "safety.incident", south): ["safety.incident/INC-3"],
        group("safety-office", "safety.incident", north): ["safety.incident/INC-1", "safety.incident/INC-2"],
        group("safety-office", "safety.incident", south): ["safety.incident/INC-3"],
    }
    try:
        wait_for(lambda: groups_in(ops_alertmanager, {north, south}) == expected, seconds=15,
                 what="one group per receiver, rule and region")
    except AssertionError:
        raise AssertionError(f"expected {expected}, Alertmanager has {groups_in(ops_alertmanager, {north, south})}")
