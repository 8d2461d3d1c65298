"""The monthly load test (`louieops-maintenance load-test`) run as cron runs it, with the real ApacheBench
against a real HTTP server on loopback: its report, its judgement by the KPI thresholds, its history and
what it does when it cannot run. send-alert is a recording script (its own tests: test_alerts*). Through the
deployed nginx, with the rate limit left out for this host: tests/e2e/test_observability.py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from louieops import server_scripts
from louieops.resources import file
from tests.unit.helpers import default_settings, json_send_alert_recorder

pytestmark = pytest.mark.skipif(shutil.which("ab") is None, reason="needs ApacheBench (scripts/bootstrap.sh)")
SCRIPT = file("scripts/louieops-maintenance")
PATH = "/api/claude/status"


class API(BaseHTTPRequestHandler):
    """GET PATH: 200, or 500 for every ``failing``-th request; the Host header and user agent are recorded."""

    failing = 0
    seen: list[tuple[str, str]] = []
    lock = threading.Lock()
    count = 0

    def do_GET(self):  # noqa: N802 - http.server's name
        with API.lock:
            API.count += 1
            fail = API.failing and API.count % API.failing == 0
            API.seen.append((self.headers["Host"], self.headers["User-Agent"]))
        body = b'{"success":true}' if self.path == PATH else b"{}"
        self.send_response(500 if fail or self.path != PATH else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def api():
    API.failing, API.count, API.seen = 0, 0, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), API)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def job(tmp_path):
    """Run the job with a config like the deploy's (default settings), on ``port`` over http; returns (exit
    status, the alerts sent as argument lists, the history's lines)."""
    send_alert, sent = json_send_alert_recorder(tmp_path)
    history = tmp_path / "load-test-history.jsonl"

    def run(port, keep=36, requests=200):
        config = server_scripts.maintenance_config(default_settings())
        test = config["load_test"]
        test.update(scheme="http", port=port, requests=requests, concurrency=4, max_seconds=20)
        test.update(history=str(history), keep=keep)
        config.update(send_alert=send_alert, state_dir=str(tmp_path))
        path = tmp_path / "maintenance.json"
        path.write_text(json.dumps(config))
        done = subprocess.run(
            ["python3", SCRIPT, "load-test"],
            env={**os.environ, "LOUIE_MAINTENANCE_CONFIG": str(path)},
            capture_output=True,
            text=True,
            timeout=120,
        )
        alerts = sent()
        lines = [json.loads(line) for line in history.read_text().splitlines()] if history.exists() else []
        return done.returncode, alerts, lines

    return run


def test_a_good_run_is_a_p4_report_with_its_figures_and_a_history_line(api, job):
    status, alerts, history = job(api)
    assert status == 0, alerts
    report = alerts[-1]
    assert report[:2] == ["--report", "P4"] and report[2].endswith("within the KPI thresholds"), report
    assert "Monthly load test of http://api.simplylouie.com/api/claude/status through nginx: 200 requests" in report[2]
    assert "errors 0.0% (0)" in report[2]
    [entry] = history
    assert entry["requests"] == 200 and entry["errors"] == 0 and entry["api_p99_ms"] >= entry["api_p50_ms"] >= 0
    assert entry["levels"] == {"api_p50_ms": "ok", "api_p99_ms": "ok", "error_rate_pct": "ok"}
    # the API's name in the Host header, the probes' user agent (left out of the health check's KPIs)
    assert set(API.seen) == {("api.simplylouie.com", "louieops-probe")}


def test_errors_past_the_critical_level_are_the_kpis_critical_tier_and_a_good_run_resolves_it(api, job):
    API.failing = 10  # 10 % of 500s: past error_rate_pct's critical 5
    status, alerts, history = job(api)
    assert status == 1
    alert = alerts[-1]
    assert alert[:3] == ["--key", "load-test", "P2"], alert
    assert "beyond the KPI thresholds: error_rate_pct critical (levels 1/5)" in alert[3]
    assert history[-1]["levels"]["error_rate_pct"] == "critical" and history[-1]["errors"] == 20
    API.failing = 0
    status, alerts, _ = job(api)
    assert status == 0
    assert ["--key", "load-test", "--resolve", "P3"] == alerts[-2][:4], alerts[-2]


def test_an_api_that_does_not_answer_is_could_not_run_and_no_history(job, tmp_path):
    status, alerts, history = job(1)  # nothing listens on port 1
    assert status == 3 and history == []
    assert alerts[-1][:3] == ["--key", "load-test:run", "P3"], alerts
    assert "could not run: no request was answered (connect " in alerts[-1][3], alerts[-1]


def test_the_history_keeps_its_newest_runs(api, job):
    for _ in range(3):
        job(api, keep=2, requests=20)
    _, _, history = job(api, keep=2, requests=30)
    assert [entry["requests"] for entry in history] == [20, 30]
