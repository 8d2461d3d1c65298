"""The daily summary's uptime report (files/scripts/louieops_uptime.py) against the UptimeRobot stand-in: it
reads with a read-only key, compares each managed monitor's uptime with kpi_thresholds.uptime_pct and alerts
through send-alert below the warning (and critical) level."""

from __future__ import annotations

import json

import pytest
import requests

from louieops import server_scripts
from louieops.resources import file
from tests.standins.fixtures import SLACK_WEBHOOK_ENV, project_settings, run, uptimerobot_reconciler
from tests.standins.uptimerobot import UptimeRobotStandIn
from tests.unit.helpers import load_script, send_alert_recorder

READ_KEY = "read-only-key"
HOME, API = "simplylouie.com - Homepage", "API Health Check"


@pytest.fixture(scope="module")
def uptime():
    return load_script(file("scripts/louieops_uptime.py"), "louieops_uptime")


@pytest.fixture
def standin(clock, monkeypatch):
    for name, value in SLACK_WEBHOOK_ENV.items():
        monkeypatch.setenv(name, value)
    with UptimeRobotStandIn(read_token=READ_KEY) as server:
        run(uptimerobot_reconciler(server, clock, project_settings(uptimerobot_api_url=server.url)))
        server.add_monitor(friendlyName="not ours")  # untagged: not reported
        yield server


def config_for(standin, key=READ_KEY):
    return server_scripts.uptime_config(project_settings(uptimerobot_api_url=standin.url), key)


def test_uptime_below_the_warning_and_critical_levels_alerts_and_recovery_resolves(uptime, standin):
    standin.uptime[standin.by_name(HOME)[0]["id"]] = 99.2  # < 99.5 warning
    admin = requests.post(f"{standin.url}/_admin/uptime", json={"name": API, "uptime": 98.5}, timeout=5)  # < 99
    assert admin.status_code == 204
    sent = []

    text = uptime.report(config_for(standin), lambda *call: sent.append(call))

    assert text.startswith("30 d: ")
    assert f"{HOME} 99.20% (warning)" in text and f"{API} 98.50% (critical)" in text
    assert "Admin Dashboard 100.00%," in text and "not ours" not in text
    alerts = {key: (tier, message) for tier, message, key, resolve in sent if not resolve}
    assert alerts == {
        f"uptime:{HOME}": ("P3", f"WARNING: uptime of {HOME} 99.20% over 30 d (target 99.9%)"),
        f"uptime:{API}": ("P2", f"CRITICAL: uptime of {API} 98.50% over 30 d (target 99.9%)"),
    }
    resolved = {key for tier, message, key, resolve in sent if resolve}
    assert resolved == {"uptime:report", "uptime:Admin Dashboard", "uptime:WebSocket Endpoint"}
    stats = [r for r in standin.recorded if r.template == "/monitors/{id}/stats/uptime"]
    assert len(stats) == 4 and all(r.query["from"] and r.query["to"] for r in stats)


def test_the_server_key_can_read_but_not_change_monitors(standin):
    headers = {"Authorization": f"Bearer {READ_KEY}"}
    monitor = next(iter(standin.monitors))
    assert requests.get(f"{standin.url}/monitors", headers=headers, timeout=5).status_code == 200
    refused = requests.patch(f"{standin.url}/monitors/{monitor}", json={"interval": 60}, headers=headers, timeout=5)
    assert refused.status_code == 401


def test_a_report_that_cannot_run_alerts_once_under_its_own_key(uptime, standin):
    sent = []
    text = uptime.report(config_for(standin, key="wrong"), lambda *call: sent.append(call))
    assert text.startswith("unknown (HTTP Error 401")
    assert [(tier, key, resolve) for tier, _, key, resolve in sent] == [("P3", "uptime:report", False)]
    assert uptime.report(None, lambda *call: sent.append(call)) == (
        "not checked (no read-only UptimeRobot key on this server)"
    )


def test_the_daily_summary_carries_the_uptime_line(standin, tmp_path, monkeypatch):
    maintenance = load_script(file("scripts/louieops-maintenance"), "louieops_maintenance_uptime")
    standin.uptime[standin.by_name(HOME)[0]["id"]] = 99.0
    config_path = tmp_path / "uptime.json"
    config_path.write_text(json.dumps(config_for(standin)))
    monkeypatch.setattr(maintenance, "UPTIME_CONFIG", str(config_path))
    send_alert, calls = send_alert_recorder(tmp_path)
    (tmp_path / "logs").mkdir()
    config = {
        "send_alert": send_alert,
        "state_dir": str(tmp_path),
        "app_log_dir": str(tmp_path / "logs"),
        "backup_status_dir": str(tmp_path),
        "backup_kinds": [],
        "alert_state": str(tmp_path / "none.json"),
        "health_state": str(tmp_path / "none.json"),
        "nginx_error_log": str(tmp_path / "nginx-error.log"),
    }
    assert maintenance.daily_summary(config) == 0
    lines = calls()
    assert f"--key uptime:{HOME} P3 WARNING: uptime of {HOME} 99.00% over 30 d (target 99.9%)" in lines
    assert lines[-1].startswith("--report P4 Daily summary ") and f"uptime 30 d: {HOME} 99.00% (warning)" in lines[-1]
