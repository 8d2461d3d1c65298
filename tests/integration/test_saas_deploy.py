"""The real pyinfra CLI runs the external-monitors step against @local, with the API URLs pointed at the
in-process stand-ins: --dry plans without writing, -y applies, a second -y reports "No change"."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.standins.fixtures import SLACK
from tests.standins.sentry import SentryStandIn
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
    data = {"uptimerobot_api_url": uptimerobot.url, "sentry_api_url": sentry.url, **SLACK}
    (tmp_path / "inventory.py").write_text(f"hosts = [('@local', {data!r})]\n")
    (tmp_path / "deploy.py").write_text(DEPLOY)
    return tmp_path


def pyinfra(project: Path, *args: str, keys: bool = True) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("UPTIMEROBOT_API_KEY", "SENTRY_AUTH_TOKEN")}
    env["PYTHONPATH"] = str(REPO)
    if keys:
        env.update(UPTIMEROBOT_API_KEY=UR_KEY, SENTRY_AUTH_TOKEN=SENTRY_TOKEN)
    result = subprocess.run(
        [str(PYINFRA), *args, str(project / "inventory.py"), str(project / "deploy.py")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert UR_KEY not in output and SENTRY_TOKEN not in output
    return output


def writes(*standins):
    return [f"{r.method} {r.template}" for standin in standins for r in standin.writes()]


def test_dry_run_plans_apply_creates_and_the_next_run_changes_nothing(project, standins):
    uptimerobot, sentry = standins

    dry = pyinfra(project, "--dry")
    assert "will create UptimeRobot monitor 'API Health Check'" in dry
    assert "will create UptimeRobot monitor 'WebSocket Endpoint'" in dry
    assert "will create Sentry metric monitor '[louieops] API p99 latency'" in dry
    assert "will create Sentry alert '[louieops] Unhandled error'" in dry
    assert len(re.findall(r"will create ", dry)) == 4 + 3 + 6
    assert writes(uptimerobot, sentry) == []

    applied = pyinfra(project, "-y")
    for op in OPS:
        assert re.search(rf"{op}\s+1\s+1\s+-\s+-", applied), applied
    assert len(uptimerobot.monitors) == 4
    assert len(sentry.workflows) == 3 + 3 and len(sentry.detectors) == 2 + 3

    uptimerobot.reset_records()
    sentry.reset_records()
    again = pyinfra(project, "-y")
    for op in OPS:
        assert re.search(rf"{op}\s+1\s+-\s+-\s+1", again), again  # the results table says "No Change"
    assert writes(uptimerobot, sentry) == []
    assert uptimerobot.counts() == {"GET /monitors": 1, "GET /alert-contacts": 1, "GET /integrations": 1}
    assert set(sentry.counts().values()) == {1}


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


def test_a_contact_missing_in_the_account_fails_the_op_before_any_write(project, standins):
    uptimerobot, sentry = standins
    uptimerobot.integrations.clear()
    env = dict(os.environ, PYTHONPATH=str(REPO), UPTIMEROBOT_API_KEY=UR_KEY, SENTRY_AUTH_TOKEN=SENTRY_TOKEN)
    result = subprocess.run(
        [str(PYINFRA), "-y", str(project / "inventory.py"), str(project / "deploy.py")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "uptimerobot_alert_contacts['slack']" in output
    assert writes(uptimerobot) == []
