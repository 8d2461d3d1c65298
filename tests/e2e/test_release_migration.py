"""A server deployed before releases existed moves to the release layout on its next deploy, with no manual
step: deployed first by this project as it was then (the reference app in place, <app_root>/app, pm2 in fork
mode), then by today's code with the app's git URL. A client polling /health through nginx sees at most one
gap (pm2 starts the app anew once, from the release), the in-place code is gone, and the deploy after that
changes nothing.

Boots its own Debian 12 test server. The deploy of the earlier code runs from `git archive` of the commit
before releases; it needs the repository's history (a full clone, as CI has).
"""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import time
from pathlib import Path

import pytest

from louieops.testbed import Testbed
from tests.e2e.conftest import PYINFRA, REPO_ROOT, run_deploy
from tests.e2e.helpers import HealthPoller, ServerOnly, https_pool, root, wait_for

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(os.geteuid() != 0, reason="the test server needs root (netns, nftables, nspawn)"),
]

#: The last commit of this repository that deployed the app in place (before releases).
IN_PLACE_COMMIT = "5ce031195157687d13fc2b6cd0466211af65b34f"
#: Settings today's inventory has and that code did not know.


def in_place_commit() -> str:
    found = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "rev-parse", "--verify", "--quiet", f"{IN_PLACE_COMMIT}^{{commit}}"],
        capture_output=True,
        text=True,
    )
    if found.returncode != 0:
        pytest.fail(f"commit {IN_PLACE_COMMIT[:7]} is not in this clone: the migration test needs the full history")
    return found.stdout.strip()


SAAS_KEYS = ("UPTIMEROBOT_API_KEY", "SENTRY_AUTH_TOKEN")
#: Settings that commit knew with other rules (its app_git_url had to be http(s); the test server's is git://).
REDEFINED_SETTINGS = ("app_git_url", "app_dir")


def settings_of(all_py: Path) -> set[str]:
    """The setting names a group_data/all.py defines."""
    return {name for name in runpy.run_path(str(all_py)) if not name.startswith("_")}


def deploy_in_place(testbed: Testbed, tmp_path: Path) -> subprocess.CompletedProcess:
    """The deploy as this project ran it before releases, against ``testbed``."""
    old = tmp_path / "in-place"
    old.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "archive", in_place_commit()], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(old)], input=archive.stdout, check=True)
    [(address, data)] = runpy.run_path(str(testbed.inventory_path))["testbed"]
    # Without the settings added since that commit (its validation refuses names it does not know) and those
    # it had with another meaning.
    known_then = settings_of(old / "inventory" / "group_data" / "all.py")
    added = settings_of(REPO_ROOT / "inventory" / "group_data" / "all.py") - known_then
    data = {key: value for key, value in data.items() if key not in added and key not in REDEFINED_SETTINGS}
    (old / "inventory" / "migration.py").write_text(f"testbed = [({address!r}, {data!r})]\n")
    # Without the SaaS keys the old deploy skips the monitors: their reconcile has moved on since (contacts
    # as code) and is not what this test is about.
    env = {k: v for k, v in {**os.environ, **testbed.env}.items() if k not in SAAS_KEYS}
    return subprocess.run(
        [PYINFRA, "-y", "inventory/migration.py", "deploy.py"],
        cwd=old,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    with Testbed(name="migrate", release="bookworm") as testbed:
        yield testbed


def test_an_in_place_server_moves_to_releases_with_at_most_one_gap(migrated, tmp_path, figure):
    testbed = migrated
    deployed = ServerOnly(testbed)
    first = deploy_in_place(testbed, tmp_path)
    assert first.returncode == 0, first.stderr[-4000:]
    data = runpy.run_path(str(testbed.inventory_path))["testbed"][0][1]
    assert (
        root(
            deployed, "test -f /var/www/simplylouie/app/server.js && test ! -e /var/www/simplylouie/current"
        ).returncode
        == 0
    )

    # The old deploy left unattended-upgrades on: a server that ran it for a day has no pending security
    # update, and the new deploy upgrades nothing (an nginx upgrade restarts nginx: a gap of its own).
    root(deployed, "unattended-upgrade")

    pebble = tmp_path / "pebble-root.pem"
    pebble.write_text(testbed.pebble_root_pem())
    api = "api.simplylouie.test"
    with HealthPoller(https_pool(deployed, str(pebble), api, timeout=5), api) as poller:
        wait_for(lambda: poller.answers and poller.answers[-1][1] == 200, 30, "the in-place app answering")
        moved = run_deploy(testbed, "-y")
        time.sleep(1)
    assert moved.returncode == 0, moved.explain()
    figure(
        f"migration to releases: {len(poller.answers)} requests, {len(poller.failures)} failed in "
        f"{poller.failure_runs()} gap(s), longest gap {poller.longest_gap() * 1000:.0f} ms"
    )
    if poller.failure_runs() > 1 or poller.longest_gap() >= 10:
        # what failed when (UTC), beside what systemd started, stopped or reloaded on the server meanwhile
        wall = time.time() - time.monotonic()
        failed = [
            (time.strftime("%H:%M:%S", time.gmtime(at + wall)), status, why) for at, status, why in poller.failures
        ]
        units = root(deployed, "journalctl -q -o short-iso --since '-15 min' _PID=1 | tail -60", check=False).stdout
        pytest.fail(f"{poller.failure_runs()} gaps: {failed[:2]} ... {failed[-2:]}\n{units}")

    listing = json.loads(root(deployed, "louie-release list --json").stdout)
    head = testbed.app_repo.git("rev-parse", "HEAD")
    assert [r["commit"] for r in listing["releases"]] == [head]
    assert poller.releases[-1] == listing["live"]
    assert root(deployed, "test ! -e /var/www/simplylouie/app", check=False).returncode == 0
    assert data["app_git_url"].startswith("git://")

    again = run_deploy(testbed, "-y")
    assert again.returncode == 0 and again.changed_operations == [], again.changed_operations
