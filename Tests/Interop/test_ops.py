"""Ops files: the compose file validates, the sample configs are accepted by planwatchd, and
the Prometheus rules use metrics the daemon really exports."""
import os
import re
import shutil
import subprocess
import tempfile

import zmq

from conftest import ROOT, Daemon
from test_contract_interop import TOPIC, incident, recv
from test_operators import get, wait_for


def test_compose_file_validates_with_debians_docker_compose():
    binary = shutil.which("docker-compose")
    assert binary, "docker-compose is installed by .ci/install-deps"
    result = subprocess.run([binary, "config", "-q"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    services = subprocess.run([binary, "config", "--services"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    assert set(services) == {"planwatchd", "simulator", "prometheus", "alertmanager"}
    for path in ("Ops/Dockerfile", "Ops/prometheus/prometheus.yml", "Ops/prometheus/planwatch-rules.yml",
                 "Ops/alertmanager/alertmanager.yml", "Ops/compose/planwatchd.yaml", "Ops/planwatchd.service"):
        assert os.path.exists(os.path.join(ROOT, path)), path


def test_sample_configs_are_accepted_by_planwatchd():
    for config in ("Ops/planwatchd.yaml", "Ops/compose/planwatchd.yaml"):
        with tempfile.TemporaryDirectory() as directory:
            daemon = Daemon(directory, extra=("--config", os.path.join(ROOT, config)))
            assert daemon.stop() == 0, config


def test_prometheus_rules_use_metrics_the_daemon_exports(ctx):
    rules = open(os.path.join(ROOT, "Ops/prometheus/planwatch-rules.yml")).read()
    used = set(re.findall(r"\b(planwatch_[a-z_]+?)(?:_bucket)?\b", rules))
    with tempfile.TemporaryDirectory() as directory:
        daemon = Daemon(directory)
        try:
            dealer = ctx.socket(zmq.DEALER)
            dealer.connect(daemon.ack)
            dealer.send_multipart([TOPIC, b"{}"])
            recv(dealer)
            import json
            dealer.send_multipart([TOPIC, json.dumps(incident()).encode()])
            recv(dealer)
            metrics = wait_for(lambda: (lambda m: m if "planwatch_events_rejected_total" in m else None)(
                get(daemon.http + "/metrics")[1]), what="metrics")
            exported = set(re.findall(r"^(planwatch_[a-z_]+?)(?:_bucket|_sum|_count)?[{ ]", metrics, re.M))
            # Counters that only appear once something happened (handler failures, ZAP refusals)
            # are declared in the runtime's RuntimeMetrics; check the rest are exported now.
            rare = {"planwatch_handler_failures_total", "planwatch_zap_denied_total"}
            assert used - rare <= exported, used - rare - exported
        finally:
            assert daemon.stop() == 0
