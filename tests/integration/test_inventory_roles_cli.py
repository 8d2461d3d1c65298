"""A bad multi-host inventory stops the real pyinfra CLI before anything is planned, with one line naming the
group and the fix. The inventory's one reachable host is @local (a --dry plan: nothing changes); the others
refuse SSH on loopback at once, so the run gets to deploy.py."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PYINFRA = Path(sys.executable).with_name("pyinfra")
CLOSED = {"ssh_port": 9}  # nothing listens: connection refused at once


def plan_with(tmp_path: Path, groups: str) -> subprocess.CompletedProcess:
    shutil.copytree(REPO / "inventory" / "group_data", tmp_path / "group_data")
    (tmp_path / "cluster.py").write_text(f"_CLOSED = {CLOSED!r}\n{groups}")
    return subprocess.run(
        [str(PYINFRA), "--dry", str(tmp_path / "cluster.py"), "deploy.py"],
        input="\n",  # pyinfra asks whether to go on without the hosts it could not reach
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "groups, line",
    [
        (
            'db = [("@local", {"private_address": "127.0.0.1"}), ("127.0.0.2", _CLOSED)]\napp = db\nlb = db\n',
            "group db has 2 hosts (@local, 127.0.0.2): exactly one is the PostgreSQL primary; put a second database "
            "host in db_standby",
        ),
        (
            'db_standby = [("@local", {"private_address": "127.0.0.1"})]\napp = [("127.0.0.2", _CLOSED)]\nlb = app\n',
            "group db has no host: put the PostgreSQL primary's host in db (the standby in db_standby follows it)",
        ),
        (
            'db = [("@local", {"private_address": "127.0.0.1"})]\napp = [("127.0.0.2", _CLOSED)]\n',
            "group lb has no host: put the host that serves the public names in lb",
        ),
        (
            'db = ["@local"]\napp = [("127.0.0.2", _CLOSED)]\nlb = app\n',
            "host @local has no private_address, and is not an IP address: set private_address in the host data",
        ),
    ],
)
def test_a_bad_inventory_stops_the_run_with_one_line(tmp_path, groups, line):
    result = plan_with(tmp_path, groups)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert line in output, output[-2000:]
    assert "Traceback" not in output
    assert "Beginning operation run" not in output and "--> Preparing operations" not in output.split(line)[1]


def test_several_servers_with_a_bucket_need_a_cluster_name(tmp_path):
    groups = 'db = [("@local", {"private_address": "127.0.0.1"})]\napp = [("127.0.0.2", _CLOSED)]\nlb = app\n'
    output = plan_with(tmp_path, groups)
    text = output.stdout + output.stderr
    assert "the inventory has 2 servers and backs up to s3://simplylouie-backups, but cluster_name is None" in text
