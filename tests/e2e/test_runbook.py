"""Every command of docs/RUNBOOK.md, run on the deployed test server exactly as written (tests/runbook.py
reads them): the ones that only read, the interactive ones (started, still running after a few seconds),
the operator's commands on the controller, and the ones that change the server, in the runbook's order.
None of them sends an alert it should not (a reading command alerts nobody: no Slack post, no e-mail)."""

from __future__ import annotations

import os
import shlex

import pytest

from tests.e2e.helpers import controller, root, wait_for
from tests.runbook import runbook_commands

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(os.geteuid() != 0, reason="the test server needs root (netns, nftables, nspawn)"),
]

COMMANDS = runbook_commands()


def of_kind(kind: str) -> list[str]:
    return [command.line for command in COMMANDS if command.kind == kind]


def alerts_sent(deployed) -> int:
    """Slack posts at the recorder and e-mails at the SMTP recorder, so far."""
    slack = [r for r in deployed.recorder.requests() if r["path"].startswith("/slack/")]
    return len(slack) + len(deployed.testbed.mail.messages())


def app_healthy(deployed) -> bool:
    port = deployed.settings.app_port
    return root(deployed, f"curl -fsS -m 5 http://127.0.0.1:{port}/health", check=False).returncode == 0


@pytest.fixture(scope="module")
def with_a_backup(deployed):
    """The state the reading commands look at: at least one database backup."""
    root(deployed, f"sudo -u {deployed.settings.backup_user} /opt/scripts/backup-db")
    return deployed


#: Reading commands whose exit status reports what they found: the health check's is the worst level
#: (1 warning, 2 critical: e.g. the CPU of a machine other test servers keep busy); 3, a check that could not
#: run, is a failure.
EXIT_STATUSES = {"/opt/scripts/health-check --no-alert": {0, 1, 2}}


@pytest.mark.parametrize("line", of_kind("reads"))
def test_a_reading_command_works_and_alerts_nobody(with_a_backup, line):
    deployed = with_a_backup
    before = alerts_sent(deployed)
    done = root(deployed, line, check=False)
    assert done.returncode in EXIT_STATUSES.get(line, {0}), f"{line}\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
    assert alerts_sent(deployed) == before, f"{line} sent an alert"


@pytest.mark.parametrize("line", of_kind("interactive"))
def test_an_interactive_command_starts_and_keeps_running(deployed, line):
    done = root(deployed, f"TERM=xterm timeout 4 script -qec {shlex.quote(line)} /dev/null", check=False)
    assert done.returncode == 124, f"{line} ended by itself (exit {done.returncode}): {done.stdout[-500:]}"


@pytest.fixture(scope="module")
def pebble_root(deployed, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("pebble") / "root.pem"
    path.write_text(deployed.testbed.pebble_root_pem())
    return str(path)


def ensure_earlier_good_releases(deployed):
    """Each rollback the runbook runs (on the server, from the controller) needs an earlier release that
    passed its gate: deploy more commits until there are enough."""
    rollbacks = sum("rollback" in line for line in of_kind("changes") + of_kind("controller"))
    for number in range(rollbacks + 1):
        if root(deployed, "louie-release list").stdout.count(" passed") > rollbacks:
            return
        repo = deployed.testbed.app_repo
        repo.commit(f"runbook: release {number}", {"backend/RUNBOOK-TEST": f"release {number}\n"})
        run = deployed.deploy("-y")
        assert run.returncode == 0, run.explain()


def send_alert(deployed, *arguments: str) -> None:
    s = deployed.settings
    root(deployed, f"runuser -u {s.health_user} -- {s.scripts_dir}/send-alert {shlex.join(arguments)}")


def prepare(deployed, line: str) -> list[str]:
    """What a command needs to find first (`send-alert ack KEY`: an open alert of that key); the keys to
    resolve afterwards."""
    if line.startswith(f"{deployed.settings.scripts_dir}/send-alert ack "):
        key = line.split()[-1]
        send_alert(deployed, "--key", key, "P3", "runbook test: an open alert to acknowledge")
        return [key]
    return []


def test_the_commands_that_change_the_server_work_in_the_runbooks_order(deployed, pebble_root):
    ensure_earlier_good_releases(deployed)
    # restore-files needs an uploads archive to restore (the daily job would have made one)
    root(deployed, f"sudo -u {deployed.settings.backup_user} /opt/scripts/backup-files uploads")
    opened = []
    for line in of_kind("changes"):
        opened += prepare(deployed, line)
        done = root(deployed, line, check=False)
        assert done.returncode == 0, f"{line}\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
        wait_for(lambda: app_healthy(deployed), 60, f"the app after `{line}`")
    for key in opened:
        send_alert(deployed, "--resolve", "--key", key, "P4", "runbook test: done")
    for line in of_kind("controller"):
        done = controller(deployed, pebble_root, line)
        assert done.returncode == 0, f"{line}\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
    # a rollback ran (twice): go forward again, so the server ends on the wanted commit
    forward = deployed.deploy("-y")
    assert forward.returncode == 0, forward.explain()
    wait_for(lambda: app_healthy(deployed), 60, "the app after the deploy")
