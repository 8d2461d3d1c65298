"""`louieops rebuild INVENTORY --from-s3` without a server: what it refuses before touching anything, and the
order of its steps (each one a command of its own, tested on servers elsewhere). The whole rebuild onto a
freshly booted server: tests/e2e/test_pitr.py."""

from __future__ import annotations

import os
import shlex

import pytest

from louieops import layout
from louieops.cli import main, rebuild
from louieops.resources import REPO_ROOT

PITR = {"backup_s3_bucket": "louie-backups", "backup_pitr": True, "backup_pitr_s3_endpoint_url": None}


def inventory(tmp_path, **data) -> str:
    path = tmp_path / "new.py"
    if not (tmp_path / "group_data").exists():  # the project's defaults beside it, as in inventory/
        (tmp_path / "group_data").symlink_to(REPO_ROOT / "inventory" / "group_data")
    path.write_text(f"hosts = [('203.0.113.9', {data!r})]\n")
    return str(path)


@pytest.fixture
def steps(monkeypatch):
    """What the rebuild runs, in order: ("deploy", inventory) or the server command of a `pyinfra exec`."""
    ran: list[tuple[str, str]] = []
    failing: set[str] = set()

    def deploy(command, path, report, verbose=False):
        assert os.environ[layout.REBUILD_ENV] == "1"  # the deploy keeps the bucket's repository for the restore
        ran.append((command, path))
        return 1 if command in failing else 0

    def remote(line):
        words = shlex.split(" ".join(line[line.index("--") + 1 :]))[1:]  # after "sudo"
        ran.append(("exec", " ".join(words)))
        return 1 if any(word in failing for word in words) else 0

    monkeypatch.setattr(rebuild.deploy, "run", deploy)
    monkeypatch.setattr(rebuild.remote, "run", remote)
    return ran, failing


@pytest.mark.parametrize(
    "data, message",
    [
        ({"backup_pitr": True, "backup_s3_bucket": None}, "or a bucket in backup_s3_bucket"),
        ({"backup_s3_bucket": "louie-backups"}, "has backup_pitr off"),
    ],
)
def test_an_inventory_without_the_repository_is_refused_before_anything_runs(tmp_path, steps, capsys, data, message):
    assert main(["rebuild", inventory(tmp_path, **data), "--from-s3", "--yes"]) == 2
    assert message in capsys.readouterr().err
    assert steps[0] == []


def test_a_missing_inventory_or_a_missing_yes_off_a_terminal_is_one_line(tmp_path, steps, capsys):
    assert main(["rebuild", str(tmp_path / "none.py"), "--from-s3", "--yes"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["rebuild", inventory(tmp_path, **PITR), "--from-s3"]) == 2
    assert "add --yes" in capsys.readouterr().err
    assert steps[0] == []


def test_the_rebuild_deploys_restores_backs_up_deploys_again_and_verifies(tmp_path, steps, capsys):
    path = inventory(tmp_path, **PITR)
    assert main(["rebuild", path, "--from-s3", "--yes"]) == 0
    assert steps[0] == [
        ("apply", path),
        ("exec", f"{layout.PITR_RESTORE_COMMAND} --latest --force --yes"),
        ("exec", "/opt/scripts/restore-files uploads --from s3 --force"),
        ("exec", f"{layout.PITR_BACKUP_COMMAND} full"),
        ("apply", path),
        ("exec", "/opt/scripts/health-check --no-alert --only api,database"),
    ]
    assert "recovered from S3 in" in capsys.readouterr().out
    assert layout.REBUILD_ENV not in os.environ  # only for the rebuild's own deploys


def test_a_drill_archives_nothing_and_removes_the_backup_jobs_instead_of_taking_over(tmp_path, steps):
    path = inventory(tmp_path, **PITR)
    assert main(["rebuild", path, "--from-s3", "--drill", "--yes"]) == 0
    assert steps[0][1:4] == [
        ("exec", f"{layout.PITR_RESTORE_COMMAND} --latest --force --no-archive --yes"),
        ("exec", "/opt/scripts/restore-files uploads --from s3 --force"),
        ("exec", f"rm -f {layout.PITR_CRON} {layout.BACKUP_CRON}"),
    ]
    assert ("apply", path) not in steps[0][1:] and not any(layout.PITR_BACKUP_COMMAND in s for _, s in steps[0])


def test_a_failed_step_stops_the_rebuild_naming_it(tmp_path, steps, capsys):
    ran, failing = steps
    failing.add("uploads")
    assert main(["rebuild", inventory(tmp_path, **PITR), "--from-s3", "--yes"]) == 1
    assert "restore the uploads failed (exit 1" in capsys.readouterr().err
    assert [kind for kind, _ in ran] == ["apply", "exec", "exec"]  # nothing after the failed step
