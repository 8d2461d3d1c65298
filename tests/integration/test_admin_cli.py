"""`louieops toggle|killswitch|toggles` against the reference app itself (node on loopback), with its state
directory on disk: the app reflects each change, keeps it across a restart and writes the audit trail; the
command's failures are one clear line each, and the token is never printed."""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from louieops.resources import file

TOKEN = "s3cret-admin-token-value"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class App:
    """The reference app on 127.0.0.1 with its toggles in ``state_dir``."""

    def __init__(self, state_dir):
        self.state_dir, self.port, self.proc = state_dir, free_port(), None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> App:
        env = {
            "PATH": os.environ["PATH"],
            "PORT": str(self.port),
            "APP_STATE_DIR": str(self.state_dir),
            "LOUIE_ADMIN_TOKEN": TOKEN,
        }
        self.proc = subprocess.Popen(["node", file("app/server.js")], env=env, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1):
                    return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError("the reference app did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)

    def get(self, path: str) -> tuple[int, dict]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def post(self, path: str, body: dict) -> int:
        request = urllib.request.Request(
            self.url + path, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code


@pytest.fixture
def app(tmp_path):
    running = App(tmp_path).start()
    yield running
    running.stop()


def louieops(*args: str, token: str | None = TOKEN) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("LOUIE_ADMIN_TOKEN", "LOUIE_API_URL")}
    if token is not None:
        env["LOUIE_ADMIN_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "louieops.cli", *args], capture_output=True, text=True, env=env, timeout=60
    )


def test_a_toggle_switches_the_feature_off_and_on_and_is_audited(app):
    assert app.post("/login", {"username": "x", "password": "y"}) == 401  # on: a normal failed login
    off = louieops("toggle", "login", "off", "--url", app.url)
    assert off.returncode == 0, off.stderr
    assert "login" in off.stdout and "OFF" in off.stdout
    status, body = app.get("/admin/toggles")
    assert status == 401  # without the token the admin API says nothing
    assert app.post("/login", {"username": "x", "password": "y"}) == 503
    assert app.get("/api/claude/status")[0] == 200  # other features untouched
    assert louieops("toggle", "login", "on", "--url", app.url).returncode == 0
    assert app.post("/login", {"username": "x", "password": "y"}) == 401
    entries = [json.loads(line) for line in (app.state_dir / "audit.log").read_text().splitlines()]
    assert [(e["kind"], e["feature"], e["enabled"]) for e in entries] == [
        ("toggle", "login", False),
        ("toggle", "login", True),
    ]


def test_a_killswitch_answers_503_with_the_reason_and_survives_a_restart(app):
    done = louieops("killswitch", "claude_api", "--reason", "provider outage", "--url", app.url)
    assert done.returncode == 0, done.stderr
    status, body = app.get("/api/claude/status")
    assert status == 503 and body["error"] == "feature_disabled" and body["reason"] == "provider outage"
    app.stop()
    app.start()
    assert app.get("/api/claude/status")[0] == 503
    shown = louieops("toggles", "--url", app.url)
    assert "killswitch claude_api" in shown.stdout and "provider outage" in shown.stdout
    assert louieops("killswitch", "claude_api", "--enable", "--url", app.url).returncode == 0
    assert app.get("/api/claude/status")[0] == 200
    kinds = [json.loads(line)["action"] for line in (app.state_dir / "audit.log").read_text().splitlines()]
    assert kinds == ["disable", "enable"]


def test_a_killswitch_without_a_reason_is_refused_before_any_request(app):
    done = louieops("killswitch", "all", "--url", app.url)
    assert done.returncode == 2 and "--reason" in done.stderr
    assert not (app.state_dir / "audit.log").exists()


def test_a_wrong_token_is_a_clear_401_and_the_token_is_never_printed(app):
    done = louieops("toggle", "login", "off", "--url", app.url, token="not-the-token")
    assert done.returncode == 3
    assert "refused the token in LOUIE_ADMIN_TOKEN (401)" in done.stderr
    assert "not-the-token" not in done.stderr + done.stdout
    dry = louieops("toggle", "login", "off", "--url", app.url, "--dry-run")
    assert dry.returncode == 0 and dry.stdout.startswith(f"would POST {app.url}/admin/toggles")
    assert TOKEN not in dry.stdout + dry.stderr
    assert app.post("/login", {"username": "x", "password": "y"}) == 401  # the dry run changed nothing


def test_an_unknown_endpoint_is_a_clear_404(app):
    done = louieops("toggles", "--url", app.url + "/not-the-api")
    assert done.returncode == 4 and "(404)" in done.stderr


def test_no_answer_within_the_timeout_is_reported():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        done = louieops("toggles", "--url", f"http://127.0.0.1:{port}", "--timeout", "1")
    assert done.returncode == 5 and "no answer" in done.stderr and "within 1 s" in done.stderr


def test_a_refused_connection_is_reported():
    done = louieops("toggles", "--url", f"http://127.0.0.1:{free_port()}")
    assert done.returncode == 5 and "cannot connect" in done.stderr


def test_a_certificate_that_does_not_verify_is_reported(tmp_path):
    from louieops.testbed.certs import write_pki

    ca, cert, key = write_pki(tmp_path, ca_name="test CA", subject="api", sans=["api.simplylouie.test"])

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = b'{"success": true, "data": {"features": {"login": {"enabled": true}}, "killswitch": {}}}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        url = f"https://api.simplylouie.test:{port}"
        done = louieops("toggles", "--url", url, "--resolve", "api.simplylouie.test:127.0.0.1")
        assert done.returncode == 6 and "TLS verification of api.simplylouie.test failed" in done.stderr
        assert "--ca-bundle" in done.stderr
        trusted = louieops(
            "toggles", "--url", url, "--resolve", "api.simplylouie.test:127.0.0.1", "--ca-bundle", str(ca)
        )
        assert trusted.returncode == 0 and trusted.stdout.startswith("login"), trusted.stderr
    finally:
        server.shutdown()
        server.server_close()


def test_bad_options_name_the_option():
    assert "--url" in louieops("toggles").stderr
    bad = louieops("toggles", "--url", "https://x.test", "--resolve", "nocolon")
    assert bad.returncode == 2 and "--resolve 'nocolon'" in bad.stderr


def test_an_unknown_feature_or_target_is_named_in_one_line(app):
    toggle = louieops("toggle", "nosuchfeature", "off", "--url", app.url)
    assert toggle.returncode == 7 and toggle.stderr.count("\n") == 1
    assert 'unknown feature "nosuchfeature"' in toggle.stderr and "login, claude_api" in toggle.stderr
    kill = louieops("killswitch", "nosuchtarget", "--reason", "x", "--url", app.url)
    assert kill.returncode == 7 and 'unknown target "nosuchtarget"' in kill.stderr
    assert not (app.state_dir / "audit.log").exists()  # nothing changed


def test_toggles_that_cannot_be_kept_are_a_500_naming_why_not_a_bad_request(tmp_path):
    """The app cannot write its state directory (here it is missing; under pm2's sandbox it was read-only when
    made after the daemon started): the command says the app cannot keep the toggles, the feature stays on."""
    app = App(tmp_path / "missing").start()
    try:
        done = louieops("toggle", "login", "off", "--url", app.url)
        assert done.returncode == 7, done.stdout + done.stderr
        assert "answered 500: cannot keep the toggles in" in done.stderr and "ENOENT" in done.stderr
        assert app.post("/login", {"username": "x", "password": "y"}) == 401  # still on
    finally:
        app.stop()
