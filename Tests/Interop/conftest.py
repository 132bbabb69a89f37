"""A planwatchd subprocess for tests written from CONTRACT.md alone, with pyzmq."""
import os
import socket
import subprocess
import tempfile
import time

import pytest
import zmq

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def _bin_dir():
    if os.environ.get("PLANWATCH_BIN_DIR"):
        return os.environ["PLANWATCH_BIN_DIR"]
    out = subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def _free_port():
    return _free_ports(1)[0]


def _free_ports(n):
    """n distinct ports free a moment ago (held together while picked, so none twice)."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


class Daemon:
    def __init__(self, directory, extra=()):
        self.directory = directory
        self.log_path = os.path.join(directory, "planwatchd.log")
        self.journal = os.path.join(directory, "journal.sqlite")
        fresh = not os.path.exists(self.journal)
        # A port free when picked may be taken before the daemon binds it (another test's
        # connection, say): the daemon then exits on "Address already in use", and starts
        # again on other ports — on a fresh journal again if it was given none. Any other
        # failure to start is the test's to see.
        for _ in range(5):
            if self._start(extra):
                return
            if "Address already in use" not in open(self.log_path).read():
                break
            if fresh:
                for name in os.listdir(directory):
                    if name.startswith(os.path.basename(self.journal)):
                        os.remove(os.path.join(directory, name))
        raise RuntimeError("planwatchd did not start:\n" + open(self.log_path).read())

    def _start(self, extra):
        ingest, ack, publish, snapshot, self.http_port = _free_ports(5)
        self.ingest = f"tcp://127.0.0.1:{ingest}"
        self.ack = f"tcp://127.0.0.1:{ack}"
        self.publish = f"tcp://127.0.0.1:{publish}"
        self.snapshot = f"tcp://127.0.0.1:{snapshot}"
        self.http = f"http://127.0.0.1:{self.http_port}"
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [os.path.join(_bin_dir(), "planwatchd"), "--journal", self.journal,
             "--ingest-bind", self.ingest, "--ack-bind", self.ack, "--publish-bind", self.publish,
             "--snapshot-bind", self.snapshot, "--http-bind", f"127.0.0.1:{self.http_port}", *extra],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if "planwatchd ready" in open(self.log_path).read():
                return True
            if self.process.poll() is not None:
                break
            time.sleep(0.02)
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.log.close()
        return False

    def stop(self):
        self.process.terminate()
        code = self.process.wait(timeout=60)
        self.log.close()
        return code


@pytest.fixture
def daemon():
    with tempfile.TemporaryDirectory() as directory:
        d = Daemon(directory)
        yield d
        code = d.stop()
        assert code == 0, open(d.log_path).read()[-3000:]


def planwatch(*args):
    return subprocess.run([os.path.join(_bin_dir(), "planwatch"), *args], capture_output=True, text=True)


OPERATOR = ("wangmin", "zhangdian-2026")


@pytest.fixture
def operator_daemon():
    """A daemon with one operator in its web config (made with `planwatch web-user`)."""
    with tempfile.TemporaryDirectory() as directory:
        made = subprocess.run([os.path.join(_bin_dir(), "planwatch"), "web-user", OPERATOR[0]], capture_output=True, text=True,
                              env={**os.environ, "PLANWATCH_PASSWORD": OPERATOR[1]})
        assert made.returncode == 0, made.stderr
        web = os.path.join(directory, "web.yml")
        with open(web, "w") as f:
            f.write("basic_auth_users:\n  " + made.stdout)
        d = Daemon(directory, extra=("--web-config-file", web))
        d.operator = OPERATOR
        yield d
        code = d.stop()
        assert code == 0, open(d.log_path).read()[-3000:]


@pytest.fixture
def curve_daemon():
    """A daemon whose endpoints are CURVE servers; keys made with `planwatch keygen`."""
    with tempfile.TemporaryDirectory() as directory:
        keys = os.path.join(directory, "keys")
        for name in ("planwatchd", "safety", "console", "stranger", "operator"):
            assert planwatch("keygen", name, "--dir", keys).returncode == 0
        config = os.path.join(directory, "planwatchd.yaml")
        with open(config, "w") as f:
            f.write(f"""curve:
  secretKeyFile: {keys}/planwatchd.secret
  clients:
    - name: safety-platform
      publicKeyFile: {keys}/safety.public
      publish: ["safety."]
    - name: console
      publicKeyFile: {keys}/console.public
    - name: duty-officer
      publicKeyFile: {keys}/operator.public
      publish: ["operator."]
""")
        d = Daemon(directory, extra=("--config", config))
        d.keys = keys
        yield d
        code = d.stop()
        assert code == 0, open(d.log_path).read()[-3000:]


@pytest.fixture
def ctx():
    c = zmq.Context()
    yield c
    c.destroy(linger=0)
