"""The deploy as a CI step on the deployed test server and the SaaS stand-ins: `louieops plan` exits 0 on a
converged server, 2 naming exactly the drifted operations and monitor fields, 1 on an unreachable host or a
bad setting; `louieops apply` converges; two applies never interleave (the second waits or fails naming the
holder), and a lock left by a killed or silent deploy is taken over. The reports validate against the schema
and no output holds a secret."""

from __future__ import annotations

import getpass
import json
import os
import runpy
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest
import requests

from louieops.cli.deploy import SCHEMA
from louieops.deploylock import holder_command
from tests.e2e.conftest import REPO_ROOT
from tests.e2e.helpers import root, wait_for

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(os.geteuid() != 0, reason="the test server needs root (netns, nftables, nspawn)"),
]

OUTPUTS: list[str] = []  # every output of this module, checked for secrets at the end


def louieops(deployed, command: str, inventory: Path | str, report: Path | None = None, **popen):
    argv = [sys.executable, "-m", "louieops.cli", command, str(inventory)]
    argv += ["--report", str(report)] if report else []
    env = {**os.environ, **deployed.env}
    if popen:
        return subprocess.Popen(argv, cwd=REPO_ROOT, env=env, text=True, **popen)
    done = subprocess.run(argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=1800)
    OUTPUTS.extend([done.stdout, done.stderr, report.read_text() if report and report.exists() else ""])
    return done


def checked_report(path: Path) -> dict:
    report = json.loads(path.read_text())
    jsonschema.validate(report, json.loads(SCHEMA.read_text()))
    return report


def inventory_with(deployed, tmp_path: Path, name: str, **data) -> Path:
    """A copy of the test server's inventory with host data changed, beside its group_data link."""
    [(address, host_data)] = runpy.run_path(str(deployed.testbed.inventory_path))["testbed"]
    path = deployed.testbed.inventory_path.with_name(f"{name}.py")
    path.write_text(f"testbed = [({data.pop('address', address)!r}, { ({**host_data, **data})!r})]\n")
    return path


def test_plan_exits_0_on_the_converged_server_and_2_naming_exactly_what_drifted(deployed, tmp_path):
    inventory = deployed.testbed.inventory_path
    report = tmp_path / "plan.json"
    converged = louieops(deployed, "plan", inventory, report)
    assert converged.returncode == 0, converged.stdout + converged.stderr
    assert all(not host["changes"] for host in checked_report(report)["hosts"])

    root(deployed, "echo '# edited by hand' >> /etc/nginx/nginx.conf && systemctl stop fail2ban")
    s = deployed.settings
    monitors = requests.get(
        f"{s.uptimerobot_api_url}/monitors",
        headers={"Authorization": f"Bearer {deployed.env['UPTIMEROBOT_API_KEY']}"},
        timeout=10,
    ).json()["data"]
    api = next(m for m in monitors if m["friendlyName"] == "API Health Check")
    changed = requests.patch(
        f"{s.uptimerobot_api_url}/monitors/{api['id']}",
        json={"interval": 600},
        headers={"Authorization": f"Bearer {deployed.env['UPTIMEROBOT_API_KEY']}"},
        timeout=10,
    )
    assert changed.ok, changed.text

    drifted = louieops(deployed, "plan", inventory, report)
    assert drifted.returncode == 2, drifted.stdout + drifted.stderr
    plan = checked_report(report)
    [host] = plan["hosts"]
    assert host["changes"] == [
        "nginx | Upload /etc/nginx/nginx.conf",
        "Maintenance jobs | Start and enable fail2ban",
        "External monitors | Register the UptimeRobot monitors",
    ]
    assert [(item["name"], item["changes"]) for item in plan["saas"]] == [
        ("API Health Check", ["interval: 600 -> 300"])
    ]
    assert "would change" in drifted.stdout and "interval: 600 -> 300" in drifted.stdout

    applied = louieops(deployed, "apply", inventory, tmp_path / "apply.json")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert checked_report(tmp_path / "apply.json")["status"] == "converged"
    assert louieops(deployed, "plan", inventory, report).returncode == 0


def test_an_unreachable_host_and_a_bad_setting_exit_1_with_one_line(deployed, tmp_path):
    closed = inventory_with(deployed, tmp_path, "unreachable", address="127.0.0.1", ssh_port=9)
    down = louieops(deployed, "plan", closed, tmp_path / "down.json")
    assert down.returncode == 1
    [line] = checked_report(tmp_path / "down.json")["errors"]
    assert "127.0.0.1" in line and "Traceback" not in down.stdout

    bad = inventory_with(deployed, tmp_path, "bad_setting", app_port="three thousand")
    wrong = louieops(deployed, "plan", bad, tmp_path / "bad.json")
    assert wrong.returncode == 1
    assert checked_report(tmp_path / "bad.json")["errors"] == [
        "setting app_port = 'three thousand' is invalid: expected an integer >= 1024 and <= 65535. "
        "Fix it in inventory/group_data/all.py (or the group/host file that overrides it)."
    ]


def lock_held(deployed) -> bool:
    return root(deployed, "flock -n /run/lock/louieops-deploy.lock true", check=False).returncode != 0


def test_two_applies_never_interleave_and_the_second_names_the_holder(deployed, tmp_path):
    deployed.testbed.app_repo.commit("ci step: an apply with something to do", {"backend/CI-STEP": "1\n"})
    first = louieops(deployed, "apply", deployed.testbed.inventory_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: lock_held(deployed), 120, "the first apply to hold the deploy lock")
        impatient = inventory_with(deployed, tmp_path, "impatient", deploy_lock_wait_seconds=0)
        second = louieops(deployed, "apply", impatient, tmp_path / "second.json")
        assert second.returncode == 1
        [line] = checked_report(tmp_path / "second.json")["errors"]
        assert "another deploy holds the deploy lock" in line and " since " in line
        assert f"{getpass.getuser()}@{socket.gethostname()} pid " in line
    finally:
        out, err = first.communicate(timeout=1200)
        OUTPUTS.extend([out, err])
    assert first.returncode == 0, out + err


def test_a_lock_left_by_a_killed_or_silent_deploy_is_taken_over(deployed, tmp_path):
    deployed.testbed.app_repo.commit("ci step: an apply to kill", {"backend/CI-STEP": "2\n"})
    killed = louieops(
        deployed, "apply", deployed.testbed.inventory_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_for(lambda: lock_held(deployed), 120, "the apply to hold the deploy lock")
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    after_kill = louieops(deployed, "apply", deployed.testbed.inventory_path, tmp_path / "after-kill.json")
    assert after_kill.returncode == 0, after_kill.stdout + after_kill.stderr

    # a holder alive but silent (a deploy whose network was cut): its stdin never ends and never beats, so it
    # gives the lock up after the stale time (15 s here)
    holder = holder_command("silent@nowhere pid 1 since then", 0, 15)
    root(deployed, f"setsid -f sh -c {shlex.quote(f'sleep 120 | {holder}')} >/dev/null 2>&1 </dev/null")
    wait_for(lambda: lock_held(deployed), 30, "the silent holder to take the lock")
    started = time.monotonic()
    waited = louieops(deployed, "apply", deployed.testbed.inventory_path, tmp_path / "after-silence.json")
    assert waited.returncode == 0, waited.stdout + waited.stderr
    assert "waiting up to 600 s for the deploy lock, held by silent@nowhere" in waited.stdout + waited.stderr
    assert time.monotonic() - started >= 5


def test_no_output_holds_a_secret(deployed):
    secrets = [value for key, value in deployed.env.items() if len(value) >= 8 and not value.startswith("http")]
    assert OUTPUTS, "the tests above produced no output to check"
    for text in OUTPUTS:
        for value in secrets:
            assert value not in text
