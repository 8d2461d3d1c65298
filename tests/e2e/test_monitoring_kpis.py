"""KPIs and job liveness on the deployed test server, through the real cron lines and scripts:
- a backup run checks in to the Sentry stand-in; a run that never comes shows as missed, a killed run as
  timed out (the stand-in's clock is moved forward through its admin endpoint);
- the daily summary's uptime report reads the UptimeRobot stand-in with the read-only key and alerts below
  the warning ratio (Slack post at the recorder), then sends the recovery.

Needs the shared ``deployed`` fixture (tests/e2e/conftest.py). The module re-runs the check-in and
maintenance tasks with SENTRY_DSN (the Sentry stand-in's DSN) and UPTIMEROBOT_READ_API_KEY (the UptimeRobot
stand-in's read-only key), and restores them without these secrets at the end.
Traffic: SSH to the test server; HTTP to the stand-ins and the recorder on the peer address.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import time
import urllib.parse
import uuid
from pathlib import Path

import pytest
import requests

from louieops import checkins
from tests.standins.sentry import PROJECT_ID
from tests.standins.sentry_crons import DSN_KEY
from tests.standins.uptimerobot import READ_TOKEN

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(os.geteuid() != 0, reason="the test server needs root (netns, nftables, nspawn)"),
]

DEPLOY = """\
from pyinfra import host
from louieops.settings import for_host
from tasks import checkins, maintenance
for_host(host)
checkins.install_cron_checkins()
maintenance.install_maintenance_jobs()
"""


def root(deployed, command: str, check: bool = True) -> subprocess.CompletedProcess:
    return deployed.testbed.ssh(f"sudo sh -c {shlex.quote(command)}", check=check)


def extra_secrets(deployed) -> dict[str, str]:
    sentry = urllib.parse.urlsplit(deployed.settings.sentry_api_url)
    return {
        "SENTRY_DSN": f"{sentry.scheme}://{DSN_KEY}@{sentry.netloc}/{PROJECT_ID}",
        "UPTIMEROBOT_READ_API_KEY": READ_TOKEN,
    }


@pytest.fixture(scope="module")
def kpis(deployed, tmp_path_factory):
    """The server with check-ins and the uptime report switched on (and off again afterwards)."""
    deploy_file = Path(tmp_path_factory.mktemp("kpis")) / "deploy_kpis.py"
    deploy_file.write_text(DEPLOY)
    run = deployed.deploy("-y", deploy_file=str(deploy_file), env=extra_secrets(deployed))
    assert run.returncode == 0, run.explain()
    yield deployed
    restore = deployed.deploy("-y", deploy_file=str(deploy_file), env={k: "" for k in extra_secrets(deployed)})
    assert restore.returncode == 0, restore.explain()


def sentry_get(deployed, path: str):
    s = deployed.settings
    url = f"{s.sentry_api_url}/api/0/organizations/{s.sentry_org}{path}"
    answer = requests.get(url, headers={"Authorization": f"Bearer {deployed.env['SENTRY_AUTH_TOKEN']}"}, timeout=10)
    answer.raise_for_status()
    return answer.json()


def checkin_statuses(deployed, job: str) -> list[str]:
    """Newest first, as Sentry lists them."""
    slug = checkins.slug(deployed.settings, job)
    return [c["status"] for c in sentry_get(deployed, f"/monitors/{slug}/checkins/")]


def advance_sentry_clock(deployed, seconds: float) -> None:
    answer = requests.post(f"{deployed.settings.sentry_api_url}/_admin/clock", json={"advance": seconds}, timeout=10)
    answer.raise_for_status()


def db_cron_command(deployed) -> str:
    """The db job's line of /etc/cron.d/louieops-backup as a command for its user, with cron's PATH."""
    s = deployed.settings
    cron = root(deployed, "cat /etc/cron.d/louieops-backup").stdout
    line = next(x for x in cron.splitlines() if x.strip().endswith("louie-backup") and "/backup-db" in x)
    command = line.split(None, 6)[6]
    assert f"{checkins.WRAPPER} backup-db -- " in command
    path = next(x.split("=", 1)[1] for x in cron.splitlines() if x.startswith("PATH="))
    return (
        f"cd / && /usr/sbin/runuser -u {s.backup_user} -- env -i PATH={path} "
        f"HOME=/var/lib/{s.backup_user} /bin/sh -c {shlex.quote(command)}"
    )


def test_the_check_in_config_holds_only_the_dsn_key_and_is_private(kpis):
    s = kpis.settings
    stat = root(kpis, "stat -c '%U:%G %a' /etc/louieops/cron-checkin.json").stdout.split()
    assert stat == [f"root:{s.alert_group}", "640"]
    config = json.loads(root(kpis, "cat /etc/louieops/cron-checkin.json").stdout)
    assert config["key"] == DSN_KEY and config["url"].endswith(f"/api/{PROJECT_ID}/cron/")
    found = root(kpis, f"grep -rl {shlex.quote(kpis.env['UPTIMEROBOT_API_KEY'])} /etc/louieops", check=False)
    assert found.stdout.strip() == ""  # the main UptimeRobot key never reaches the server


def test_a_backup_run_checks_in_and_a_run_that_never_comes_shows_as_missed(kpis):
    s = kpis.settings
    root(kpis, db_cron_command(kpis))
    assert checkin_statuses(kpis, "backup-db")[0] == "ok"
    # The next run is killed before it starts (cron never gets to it): nothing reaches Sentry. Once its
    # scheduled time and the margin have passed, Sentry shows the run as missed.
    advance_sentry_clock(kpis, 6 * 3600 + (s.sentry_cron_checkin_margin_minutes + 1) * 60)
    assert checkin_statuses(kpis, "backup-db")[0] == "missed"


def test_a_backup_run_killed_midway_shows_as_timed_out(kpis):
    s = kpis.settings
    marker = f"louieops-killed-{uuid.uuid4().hex[:8]}"
    wrapper = f"{s.scripts_dir}/{checkins.WRAPPER} backup-db --"
    job = shlex.quote(f"sleep 600; : {marker}")
    root(kpis, f"cd / && setsid nohup runuser -u {s.backup_user} -- {wrapper} sh -c {job} >/dev/null 2>&1 &")
    deadline = time.monotonic() + 30
    while checkin_statuses(kpis, "backup-db")[0] != "in_progress":
        assert time.monotonic() < deadline, "no in_progress check-in"
        time.sleep(1)
    # The wrapper dies first (as with a killed cron job or a reboot): nothing closes the check-in. The "[x]"
    # in each pattern keeps pkill from matching the shell that runs it.
    pattern = f"[{marker[0]}]{marker[1:]}"
    root(
        kpis,
        f"pkill -KILL -f '[c]ron-checkin backup-db'; sleep 1; "
        f"for job in $(pgrep -f '{pattern}'); do pkill -KILL -P $job; kill -KILL $job; done",
        check=False,
    )
    advance_sentry_clock(kpis, (s.sentry_cron_max_runtime_minutes + 1) * 60)
    assert "timeout" in checkin_statuses(kpis, "backup-db")


def test_the_uptime_report_alerts_below_the_warning_ratio_and_recovers(kpis):
    s = kpis.settings
    name = "API Health Check"
    set_uptime = f"{s.uptimerobot_api_url}/_admin/uptime"
    tier = s.health_tiers["uptime_pct"]["warning"]
    channels = {urllib.parse.urlsplit(kpis.env[s.alert_slack_webhooks[c]]).path for c in s.alert_routes[tier]["slack"]}
    requests.post(set_uptime, json={"name": name, "uptime": 99.2}, timeout=10).raise_for_status()
    try:
        since = time.time()
        done = root(kpis, f"runuser -u {s.health_user} -- {s.scripts_dir}/louieops-maintenance daily-summary")
        assert done.returncode == 0, done.stdout + done.stderr
        posts = [
            r
            for r in kpis.recorder.requests()
            if r["path"].startswith("/slack/") and r["time"] >= since and f"uptime of {name} 99.20%" in r["body"]
        ]
        assert len(posts) == 1 and posts[0]["path"] in channels
    finally:
        requests.post(set_uptime, json={"name": name, "uptime": 100}, timeout=10).raise_for_status()
    since = time.time()
    root(kpis, f"runuser -u {s.health_user} -- {s.scripts_dir}/louieops-maintenance daily-summary")
    recovered = [
        r for r in kpis.recorder.requests() if r["time"] >= since and f"recovered: {name} 100.00%" in r["body"]
    ]
    assert recovered
