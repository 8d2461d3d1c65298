"""Debian 13 (trixie) in CI, and convergence drills: a deploy killed at any point (a cancelled CI job)
converges on the next run, and the run after that changes nothing.

One trixie test server. Its first deploy is killed while apt installs packages (the orphaned apt-get goes
on; the next run waits for it and says so); later deploys are killed during the release switch, during the
UptimeRobot reconcile, and at two operations picked at random. The kill points are seeded: the seed is
printed, and LOUIEOPS_DRILL_SEED replays a run. After the first successful deploy a client polls /health
through nginx until the end: the app serves throughout. Then the stack, backups and alerts are checked on
trixie as on Debian 12 (a subset of the bookworm suite).
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
import urllib.parse

import pytest
import requests

from louieops.testbed import Testbed
from tests.e2e.conftest import PYINFRA, REPO_ROOT, run_deploy
from tests.e2e.helpers import HealthPoller, ServerOnly, https_pool, killed_when, root, wait_for

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.trixie,
    pytest.mark.skipif(os.geteuid() != 0, reason="the test server needs root (netns, nftables, nspawn)"),
]

SEED = int(os.environ.get("LOUIEOPS_DRILL_SEED") or time.time())
APT_OPERATIONS = (
    "Base system | Install the base Debian packages",
    "PostgreSQL | Install PostgreSQL 17",
    "Node.js and pm2 | Install Node.js and npm from Debian",
    "nginx | Install nginx",
)
RELEASE_SWITCH = "The app's releases | Deploy"
UPTIMEROBOT = "External monitors | Register the UptimeRobot monitors"
API = "api.simplylouie.test"


def killed_deploy(testbed: Testbed, operation: str, delay: float) -> str:
    """Start a deploy and SIGKILL it ``delay`` seconds after the operation whose name starts with
    ``operation`` starts; returns the name of the operation it was killed in."""

    def started(line: str) -> bool:
        return "--> Starting" in line and line.partition("operation: ")[2].strip().startswith(operation)

    argv = [PYINFRA, "-y", str(testbed.inventory_path), "deploy.py"]
    lines = killed_when(argv, {**os.environ, **testbed.env}, started, delay)
    if lines and started(lines[-1]):
        return lines[-1].partition("operation: ")[2].strip()
    raise AssertionError(f"seed {SEED}: the deploy ended before {operation!r} started")


def converges(testbed: Testbed, killed: str):
    run = run_deploy(testbed, "-y")
    assert run.returncode == 0 and not run.failed_operations, (
        f"seed {SEED}: the deploy after one killed in {killed!r} did not converge:\n" + run.explain()
    )
    return run


@pytest.fixture(scope="module")
def trixie():
    with Testbed(name="trixie-drill", release="trixie") as testbed:
        print(f"\ndrill seed {SEED} (LOUIEOPS_DRILL_SEED={SEED} replays it)", file=sys.stderr)
        yield testbed


@pytest.fixture(scope="module")
def drilled(trixie, tmp_path_factory):
    """The trixie server after the drills: (testbed, the client's record of /health, the last deploy)."""
    rng = random.Random(SEED)
    testbed, deployed = trixie, ServerOnly(trixie)
    pebble = tmp_path_factory.mktemp("pebble") / "root.pem"
    pebble.write_text(testbed.pebble_root_pem())

    apt_op = rng.choice(APT_OPERATIONS)
    killed = killed_deploy(testbed, apt_op, rng.uniform(2, 6))
    converges(testbed, killed)

    with HealthPoller(https_pool(deployed, str(pebble), API, timeout=5), API) as poller:
        testbed.app_repo.commit("drill: a release to interrupt", {"backend/DRILL": f"{SEED}\n"})
        converges(testbed, killed_deploy(testbed, RELEASE_SWITCH, rng.uniform(1, 8)))

        key = testbed.env["UPTIMEROBOT_API_KEY"]
        url = runpy_inventory(testbed)["uptimerobot_api_url"]
        monitors = requests.get(f"{url}/monitors", headers={"Authorization": f"Bearer {key}"}, timeout=10).json()
        first = monitors["data"][0]
        requests.patch(
            f"{url}/monitors/{first['id']}",
            json={"interval": 900},
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        ).raise_for_status()
        converges(testbed, killed_deploy(testbed, UPTIMEROBOT, rng.uniform(0, 1)))

        plan = [op["name"] for op in run_deploy(testbed, "--dry").report.get("plan", [])]
        for _ in range(2):  # two operations picked at random, in a deploy that has something to do
            root(deployed, "echo '# drifted' >> /etc/nginx/nginx.conf && systemctl stop fail2ban")
            converges(testbed, killed_deploy(testbed, rng.choice(plan), rng.uniform(0, 2)))

        last = converges(testbed, "none (the run after the drills)")
        again = run_deploy(testbed, "-y")
    return testbed, poller, last, again


def runpy_inventory(testbed: Testbed) -> dict:
    import runpy

    return runpy.run_path(str(testbed.inventory_path))["testbed"][0][1]


def test_after_every_killed_deploy_the_next_run_converges_and_the_one_after_changes_nothing(drilled, figure):
    testbed, poller, last, again = drilled
    figure(f"drill seed {SEED} (LOUIEOPS_DRILL_SEED={SEED} replays it)")
    assert again.returncode == 0 and again.changed_operations == [], f"seed {SEED}: {again.changed_operations}"


def test_the_app_served_throughout_after_the_first_successful_deploy(drilled, figure):
    testbed, poller, last, again = drilled
    figure(f"/health during the drills: {len(poller.answers)} requests, {len(poller.failures)} failed")
    assert poller.answers and poller.failures == [], f"seed {SEED}: {poller.failures[:5]}"


# --- the stack, backups and alerts on Debian 13 (a subset of the bookworm suite) --------------------------


def test_services_tls_and_the_release_on_trixie(drilled):
    testbed, *_ = drilled
    deployed = ServerOnly(testbed)
    assert root(deployed, "grep -q '^VERSION_CODENAME=trixie' /etc/os-release", check=False).returncode == 0
    units = "nginx postgresql pm2-simplylouie fail2ban nftables certbot.timer louieops-audit.path"
    assert root(deployed, f"systemctl is-active {units}").stdout.split() == ["active"] * 7
    pebble = REPO_ROOT / ".testbed" / "trixie-pebble.pem"
    pebble.write_text(testbed.pebble_root_pem())
    pool = https_pool(deployed, str(pebble), API)
    response = pool.request("GET", "/health", headers={"Host": API})
    listing = json.loads(root(deployed, "louie-release list --json").stdout)
    assert response.status == 200 and response.json()["release"] == listing["live"]
    # as an operator runs it (root, from the deploy user's home); it re-executes as its own user
    run = root(deployed, "cd /home/deploy && /opt/scripts/health-check --no-alert --json", check=False)
    results = json.loads(run.stdout)["results"]
    # The CPU check reads the load average, which a container shares with the busy CI machine.
    not_ok = [r["message"] for r in results if r["level"] != "ok" and not r["message"].startswith("CPU ")]
    assert any(r["message"].startswith("API healthy") for r in results) and not not_ok, run.stdout + run.stderr


def test_a_backup_reaches_s3_and_an_alert_reaches_slack_on_trixie(drilled):
    testbed, *_ = drilled
    deployed = ServerOnly(testbed)
    root(deployed, "cd /home/deploy && sudo -u backup-runner /opt/scripts/backup-db")  # from an unreadable cwd
    status = json.loads(root(deployed, "cat /var/lib/louieops/backup-status/db.json").stdout)
    head = root(deployed, f"sudo -u backup-runner /opt/scripts/backup-s3 head db/{status['file']}").stdout.split()
    assert head[0] == status["sha256"]
    since = time.time()
    root(deployed, "/opt/scripts/send-alert P3 'trixie drill: alerts reach Slack'")
    path = urllib.parse.urlsplit(testbed.env["SLACK_WEBHOOK_GENERAL"]).path
    wait_for(
        lambda: [r for r in testbed.recorder.requests() if r["time"] >= since and r["path"] == path],
        30,
        "the P3 at the Slack stand-in",
    )
