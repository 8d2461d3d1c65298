"""files/backup/backup-db run locally with fake PostgreSQL tools (psql, pg_dump, pg_restore) first in
PATH and the real zstd, flock and sha256sum: which stage failing fails the run, what is left on disk,
what send-alert is told, the lock, and local retention. No server, no root."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import time
from pathlib import Path

import pytest

from louieops.resources import FILES, MANAGED_HEADER, file

BACKUP_DB = file("backup/backup-db")
NEEDED = ("bash", "zstd", "flock", "sha256sum")

FAKE_PSQL = r"""#!/bin/bash
# the snapshot session of backup-db: answers the snapshot id and the row counts (after a connection warning)
[ -z "${FAKE_PSQL_WARNING:-}" ] || echo "WARNING:  $FAKE_PSQL_WARNING" >&2
while IFS= read -r line; do
    case "$line" in
        BEGIN*) echo "${FAKE_SNAPSHOT:-00000003-0000001B-1}" ;;
        '\echo __rows_end__') printf 'public.users\t3\npublic."Odd Name"\t0\n__rows_end__\n' ;;
        '\q') exit 0 ;;
    esac
done
"""
FAKE_PG_DUMP = r"""#!/bin/bash
printf 'PGDMP%s' "$(head -c 4096 /dev/zero | tr '\0' x)"
[ -z "${FAKE_PG_DUMP_HANG:-}" ] || sleep "$FAKE_PG_DUMP_HANG"
echo "pg_dump: error: ${FAKE_PG_DUMP_ERROR:-none}" >&2
exit "${FAKE_PG_DUMP_EXIT:-0}"
"""
FAKE_PG_RESTORE = r"""#!/bin/bash
[ "$1" = --list ] || exit 2
head -c 5 | grep -q PGDMP || { echo "pg_restore: error: input file does not appear to be a valid archive" >&2; exit 1; }
echo "3; 0 16386 TABLE DATA public users postgres"
"""


@pytest.fixture
def sandbox(tmp_path):
    missing = [tool for tool in NEEDED if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)}")
    bin_dir, scripts, backups = tmp_path / "bin", tmp_path / "scripts", tmp_path / "backups"
    for d in (bin_dir, scripts, backups / "db", tmp_path / "status"):
        d.mkdir(parents=True)
    for name, text in (("psql", FAKE_PSQL), ("pg_dump", FAKE_PG_DUMP), ("pg_restore", FAKE_PG_RESTORE)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    (scripts / "send-alert").write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> {tmp_path}/alerts.log\n')
    (scripts / "send-alert").chmod(0o755)
    conf = tmp_path / "backup.conf"
    conf.write_text(
        f"APP_NAME=louie\nDB_NAME=louie\nBACKUP_DIR={backups}\nSCRIPTS_DIR={scripts}\n"
        f"LOCAL_RETENTION_DAYS=7\nS3_BUCKET=\nS3_ENDPOINT_URL=\nBACKUP_STATUS_DIR={tmp_path / 'status'}\n"
    )
    return tmp_path


def run(sandbox: Path, **env) -> subprocess.CompletedProcess:
    full_env = {"PATH": f"{sandbox / 'bin'}:{os.environ['PATH']}", "BACKUP_CONF": str(sandbox / "backup.conf"), **env}
    return subprocess.run(["bash", BACKUP_DB], env=full_env, capture_output=True, text=True, timeout=60)


def files(sandbox: Path) -> list[str]:
    return sorted(p.name for p in (sandbox / "backups" / "db").iterdir())


def alerts(sandbox: Path) -> list[str]:
    log = sandbox / "alerts.log"
    return log.read_text().splitlines() if log.exists() else []


def test_a_good_run_publishes_dump_checksum_and_row_counts(sandbox):
    result = run(sandbox)
    assert result.returncode == 0, result.stderr
    names = files(sandbox)
    assert len(names) == 3
    dump = next(n for n in names if n.endswith(".dump.zst"))
    assert names == [dump, f"{dump}.rows", f"{dump}.sha256"]
    db_dir = sandbox / "backups" / "db"
    content = (db_dir / dump).read_bytes()
    assert (db_dir / f"{dump}.sha256").read_text() == f"{hashlib.sha256(content).hexdigest()}  {dump}\n"
    assert (db_dir / f"{dump}.rows").read_text() == 'public.users\t3\npublic."Odd Name"\t0\n'
    assert subprocess.run(["zstd", "-q", "-dc", str(db_dir / dump)], capture_output=True).stdout.startswith(b"PGDMP")
    summary = result.stderr.split("OK ", 1)[1].strip()
    assert alerts(sandbox) == [f"--key backup-db --resolve P2 backup-db: OK again: {summary}"]


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        (
            {"FAKE_PG_DUMP_EXIT": "1", "FAKE_PG_DUMP_ERROR": "connection lost"},
            "pg_dump exited with 1: pg_dump: error: connection lost",
        ),
        ({"FAKE_SNAPSHOT": "psql: error: connection refused"}, "cannot open a snapshot in database louie"),
        ({"PATH_OVERRIDE": "corrupt"}, "pg_restore --list cannot read"),
    ],
)
def test_a_failing_stage_fails_the_run_and_leaves_only_the_previous_backup(sandbox, env, reason):
    assert run(sandbox).returncode == 0
    before = {n: (sandbox / "backups" / "db" / n).read_bytes() for n in files(sandbox)}
    if env.pop("PATH_OVERRIDE", None):  # pg_dump writes something that is not an archive
        (sandbox / "bin" / "pg_dump").write_text("#!/bin/sh\necho garbage\n")
    time.sleep(1)  # a new second: a new backup name
    result = run(sandbox, **env)
    assert result.returncode == 1
    assert {n: (sandbox / "backups" / "db" / n).read_bytes() for n in files(sandbox)} == before
    assert alerts(sandbox)[-1].startswith(f"--key backup-db P2 backup-db: FAILED: {reason}")


def test_a_warning_at_connection_is_not_taken_for_the_snapshot_or_a_row_count(sandbox):
    """After a Debian release upgrade PostgreSQL warns at every connection until the collation is refreshed:
    the backup before PostgreSQL's major upgrade must still be taken."""
    warning = 'database "louie" has a collation version mismatch'
    result = run(sandbox, FAKE_PSQL_WARNING=warning)
    assert result.returncode == 0, result.stderr
    dump = next(n for n in files(sandbox) if n.endswith(".dump.zst"))
    assert (sandbox / "backups" / "db" / f"{dump}.rows").read_text() == 'public.users\t3\npublic."Odd Name"\t0\n'


def test_a_run_is_skipped_with_an_alert_while_another_holds_the_lock(sandbox):
    holder = subprocess.Popen(["flock", str(sandbox / "backups" / "db"), "sleep", "30"])
    try:
        deadline = time.monotonic() + 10
        while subprocess.run(["flock", "-n", str(sandbox / "backups" / "db"), "true"]).returncode == 0:
            assert time.monotonic() < deadline, "the holder never took the lock"
            time.sleep(0.05)
        result = run(sandbox)
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 1
    assert "another run still holds the lock" in alerts(sandbox)[-1]
    assert files(sandbox) == []


def test_retention_removes_expired_backups_and_stale_partials_only_after_a_good_run(sandbox):
    db_dir = sandbox / "backups" / "db"
    old = time.time() - 10 * 86400
    for stamp in ("20200101T000000Z", "20200102T000000Z"):
        for suffix in ("", ".sha256", ".rows"):
            path = db_dir / f"louie_db_{stamp}.dump.zst{suffix}"
            path.write_text("x")
            os.utime(path, (old, old))
    stale_partial = db_dir / ".louie_db_20200103T000000Z.dump.zst.partial"
    stale_partial.write_text("x")
    os.utime(stale_partial, (old, old))

    assert run(sandbox, FAKE_PG_DUMP_EXIT="1").returncode == 1  # a failed run deletes nothing
    assert len(files(sandbox)) == 7
    assert run(sandbox).returncode == 0
    names = files(sandbox)
    assert not any("20200101" in n or "20200102" in n for n in names)
    assert stale_partial.name not in names
    assert len(names) == 3


def test_a_good_run_records_a_world_readable_status_and_a_failed_one_keeps_it(sandbox):
    status_file = sandbox / "status" / "db.json"
    before = time.time()
    assert run(sandbox).returncode == 0
    dump = next(n for n in files(sandbox) if n.endswith(".dump.zst"))
    content = (sandbox / "backups" / "db" / dump).read_bytes()
    status = json.loads(status_file.read_text())
    assert before - 1 <= status["time"] <= time.time()
    assert status["time_utc"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(status["time"]))
    assert (status["kind"], status["file"], status["size"]) == ("db", dump, len(content))
    assert status["sha256"] == hashlib.sha256(content).hexdigest()
    assert status["location"] == str(sandbox / "backups" / "db" / dump)
    assert stat.S_IMODE(status_file.stat().st_mode) == 0o644
    assert [p.name for p in (sandbox / "status").iterdir()] == ["db.json"]  # no temporary file left

    assert run(sandbox, FAKE_PG_DUMP_EXIT="1").returncode == 1
    assert json.loads(status_file.read_text()) == status


def test_a_missing_status_directory_does_not_fail_the_backup(sandbox):
    (sandbox / "status").rmdir()
    result = run(sandbox)
    assert result.returncode == 0, result.stderr
    assert "cannot record the status" in result.stderr
    assert len(files(sandbox)) == 3
    assert alerts(sandbox)[-1].startswith("--key backup-db --resolve P2 backup-db: OK again")


def test_a_run_within_the_same_second_as_the_previous_one_gets_its_own_name(sandbox):
    assert run(sandbox).returncode == 0
    assert run(sandbox).returncode == 0
    assert len([n for n in files(sandbox) if n.endswith(".dump.zst")]) == 2


def test_a_config_without_the_status_directory_is_refused_with_the_fix(sandbox):
    conf = sandbox / "backup.conf"
    conf.write_text("".join(line for line in conf.read_text().splitlines(True) if "BACKUP_STATUS_DIR" not in line))
    result = run(sandbox)
    assert result.returncode == 1
    assert "BACKUP_STATUS_DIR is missing in" in result.stderr
    assert files(sandbox) == []


@pytest.mark.parametrize("script", sorted(p.name for p in (FILES / "backup").iterdir()))
def test_every_backup_script_says_it_is_managed_by_louieops(script):
    head = (FILES / "backup" / script).read_text().splitlines()[:2]
    assert f"# {MANAGED_HEADER.format(source=f'files/backup/{script}')}" in head
