"""The real pyinfra CLI runs the external-monitors step against @local, with the API URLs pointed at the
in-process stand-ins: --dry plans without writing, -y applies, a second -y reports "No change", and an error
is one line whether it happens while planning or while applying."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.standins.fixtures import SLACK, SLACK_WEBHOOK_ENV
from tests.standins.sentry import ORG_PATH, SentryStandIn
from tests.standins.uptimerobot import UptimeRobotStandIn

REPO = Path(__file__).resolve().parents[2]
PYINFRA = Path(sys.executable).with_name("pyinfra")
UR_KEY, SENTRY_TOKEN = "ur-key-d0-not-print-4711", "sentry-token-d0-not-print-0815"
OPS = ("Register the UptimeRobot monitors", "Register the Sentry alerts and metric monitors")

DEPLOY = """\
from pyinfra import host

from louieops.settings import for_host
from tasks import saas

for_host(host)  # validate every setting first, as deploy.py does
saas.register_external_monitors()
"""


@pytest.fixture
def standins():
    with UptimeRobotStandIn(token=UR_KEY) as uptimerobot, SentryStandIn(token=SENTRY_TOKEN) as sentry:
        yield uptimerobot, sentry


@pytest.fixture
def project(tmp_path, standins):
    """A tmp dir with an inventory (group_data = the project's) and a deploy file running only the saas step."""
    uptimerobot, sentry = standins
    (tmp_path / "group_data").symlink_to(REPO / "inventory" / "group_data")
    # the stand-in does not rate-limit: the free plan's 10 requests a minute would only make the test wait
    data = {
        "uptimerobot_api_url": uptimerobot.url,
        "uptimerobot_requests_per_minute": 1000,
        "sentry_api_url": sentry.url,
        **SLACK,
    }
    (tmp_path / "inventory.py").write_text(f"hosts = [('@local', {data!r})]\n")
    (tmp_path / "deploy.py").write_text(DEPLOY)
    return tmp_path


def run_pyinfra(project: Path, *args: str, keys: bool = True, webhooks: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("UPTIMEROBOT_API_KEY", "SENTRY_AUTH_TOKEN")}
    env = {k: v for k, v in env.items() if k not in SLACK_WEBHOOK_ENV}
    env["PYTHONPATH"] = str(REPO)
    if keys:
        env.update(UPTIMEROBOT_API_KEY=UR_KEY, SENTRY_AUTH_TOKEN=SENTRY_TOKEN)
    if webhooks:
        env.update(SLACK_WEBHOOK_ENV)
    result = subprocess.run(
        [str(PYINFRA), *args, str(project / "inventory.py"), str(project / "deploy.py")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    result.output = result.stdout + result.stderr
    for secret in (UR_KEY, SENTRY_TOKEN, *SLACK_WEBHOOK_ENV.values()):
        assert secret not in result.output
    return result


def pyinfra(project: Path, *args: str, **options) -> str:
    result = run_pyinfra(project, *args, **options)
    assert result.returncode == 0, result.output
    return result.output


def writes(*standins):
    return [f"{r.method} {r.template}" for standin in standins for r in standin.writes()]


def test_dry_run_plans_apply_creates_and_the_next_run_changes_nothing(project, standins):
    uptimerobot, sentry = standins

    dry = pyinfra(project, "--dry")
    assert "will create UptimeRobot alert contact 'ops@simplylouie.com'" in dry
    assert "will create UptimeRobot alert contact 'alerts-critical'" in dry
    assert "will create UptimeRobot monitor 'API Health Check'" in dry
    assert "will create UptimeRobot monitor 'WebSocket Endpoint'" in dry
    assert "will create UptimeRobot maintenance window 'Monthly maintenance'" in dry
    assert "will create UptimeRobot status page 'SimplyLouie status'" in dry
    assert "will create Sentry metric monitor '[louieops] API p99 latency'" in dry
    assert "will create Sentry alert '[louieops] Unhandled error'" in dry
    assert "will create Sentry cron monitor 'simplylouie-backup-db'" in dry
    assert "will create Sentry alert '[louieops] Cron job missed or failed'" in dry
    assert len(re.findall(r"will create ", dry)) == (2 + 4 + 1 + 1) + (3 + 4 + 4 + 6 + 1)
    assert writes(uptimerobot, sentry) == []

    applied = pyinfra(project, "-y")
    for op in OPS:
        assert re.search(rf"{op}\s+1\s+1\s+-\s+-", applied), applied
    assert len(uptimerobot.monitors) == 4
    assert len(sentry.workflows) == 3 + 4 + 1 and len(sentry.detectors) == 2 + 4 + 6 and len(sentry.cron_monitors) == 6

    uptimerobot.reset_records()
    sentry.reset_records()
    again = pyinfra(project, "-y")
    for op in OPS:
        assert re.search(rf"{op}\s+1\s+-\s+-\s+1", again), again  # the results table says "No Change"
    assert writes(uptimerobot, sentry) == []
    assert set(uptimerobot.counts()) == {
        "GET /monitors",
        "GET /alert-contacts",
        "GET /integrations",
        "GET /maintenance-windows",
        "GET /psps",
    }
    assert set(uptimerobot.counts().values()) == {1}
    assert len(sentry.counts()) == 3 and set(sentry.counts().values()) == {1}


def test_drift_shows_in_the_plan_and_one_run_restores_it(project, standins):
    uptimerobot, sentry = standins
    pyinfra(project, "-y")
    uptimerobot.by_name("Admin Dashboard")[0]["interval"] = 60
    uptimerobot.reset_records()

    dry = pyinfra(project, "--dry")
    assert "will update UptimeRobot monitor 'Admin Dashboard'" in dry and "interval: 60 -> 300" in dry
    assert writes(uptimerobot) == []
    pyinfra(project, "-y")
    assert writes(uptimerobot) == ["PATCH /monitors/{id}"]
    assert uptimerobot.by_name("Admin Dashboard")[0]["interval"] == 300


def test_missing_api_keys_skip_the_step_with_one_line_each(project, standins):
    output = pyinfra(project, "-y", keys=False)
    assert output.count("Skipping the UptimeRobot monitors: UPTIMEROBOT_API_KEY is not set.") == 1
    assert output.count("Skipping the Sentry alerts and metric monitors: SENTRY_AUTH_TOKEN is not set.") == 1
    assert all(not standin.recorded for standin in standins)


def test_a_plan_error_is_one_line_on_apply_as_on_plan_and_writes_nothing(project, standins):
    uptimerobot, sentry = standins
    for args in (["--dry"], ["-y"]):
        result = run_pyinfra(project, *args, webhooks=False)  # the Slack contact is missing and cannot be created
        assert result.returncode != 0
        assert "no slack alert contact with name 'alerts-critical'" in result.output
        assert "Traceback" not in result.output, result.output
    assert writes(uptimerobot) == []
    verbose = run_pyinfra(project, "-y", "-v", webhooks=False)
    assert "Traceback" in verbose.output  # the chain, for whoever asks for it


def test_an_apply_error_is_one_line_and_names_the_fix(project, standins):
    uptimerobot, sentry = standins
    sentry.faults.add(
        "status",
        method="POST",
        path=f"{ORG_PATH}/monitors/",
        status=400,
        times=10,
        body='{"slug": ["The slug is already in use."]}',
    )
    result = run_pyinfra(project, "-y")
    assert result.returncode != 0
    errors = [line for line in result.output.splitlines() if "Error: POST" in line]
    assert len(errors) == 1 and "HTTP 400" in errors[0] and "The slug is already in use." in errors[0]
    assert "Traceback" not in result.output and "Unexpected error in Python callback" not in result.output
    assert len(uptimerobot.monitors) == 4  # the other service's step ran
