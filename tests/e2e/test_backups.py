"""Backups on the deployed test server: a good run, the fault cases, the restore drill, a live restore.

Needs the shared ``deployed`` fixture (tests/e2e/conftest.py): the booted server after the full deploy,
with moto (S3) and the webhook recorder on the peer address. Every test starts from a fresh good backup
(``good_backup``), which also resolves any backup alert left active, so each fault raises a new P2.
Faults are made on the server itself (a held table lock to catch pg_dump mid-run, a full tmpfs over the
backup directory, an S3 endpoint on a closed loopback port) and undone in ``finally`` blocks.
Traffic: SSH to the test server, S3 reads at the moto peer.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import time
import uuid

import pytest

from louieops.layout import BACKUP_STATUS_DIR as STATUS_DIR

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(os.geteuid() != 0, reason="the test server needs root (netns, nftables, nspawn)"),
]

LOCK_HOLDER = "louieops_test_lock_holder"


# --- helpers --------------------------------------------------------------------------------------------


def root(deployed, command: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run a bash command line as root on the server."""
    return deployed.ssh(f"sudo bash -c {shlex.quote(command)}", check=check)


def as_backup_user(deployed, command: str, check: bool = True) -> subprocess.CompletedProcess:
    s = deployed.settings
    return root(deployed, f"cd / && sudo -u {s.backup_user} {command}", check=check)


def psql(deployed, sql: str, database: str | None = None) -> str:
    database = database or deployed.settings.postgresql_database
    out = root(
        deployed, f"cd / && sudo -u postgres psql -X -q -A -t -v ON_ERROR_STOP=1 -d {database} -c {shlex.quote(sql)}"
    )
    return out.stdout.strip()


def s3_client(deployed):
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=deployed.settings.backup_s3_endpoint_url,
        region_name=deployed.settings.backup_s3_region,
        aws_access_key_id=deployed.env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=deployed.env["AWS_SECRET_ACCESS_KEY"],
    )


def s3_objects(deployed, prefix: str) -> dict[str, str]:
    """key -> sha256 recorded in the object's metadata."""
    client = s3_client(deployed)
    bucket = deployed.settings.backup_s3_bucket
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]
    return {k: client.head_object(Bucket=bucket, Key=k)["Metadata"].get("sha256", "") for k in keys}


def local_state(deployed, kind: str = "db") -> dict[str, str]:
    """Every file in <backup_dir>/<kind> (hidden ones too) -> its sha256."""
    out = root(
        deployed,
        f"cd {deployed.settings.backup_dir}/{kind} && find . -maxdepth 1 -type f -print0 | xargs -0r sha256sum",
    ).stdout
    return {line.split(None, 1)[1].removeprefix("./"): line.split(None, 1)[0] for line in out.splitlines()}


def wait_until(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def alert_after(deployed, since: float, *needles: str, timeout: float = 20.0) -> dict:
    """The first webhook recorded after ``since`` whose body contains every needle."""

    def match(entry):
        return entry["time"] >= since and all(n in entry["body"] for n in needles)

    return deployed.recorder.wait_for(match, timeout=timeout)


def run_backup_db(deployed, env: str = "", check: bool = True) -> subprocess.CompletedProcess:
    s = deployed.settings
    return as_backup_user(deployed, f"env {env} {s.scripts_dir}/backup-db", check=check)


@pytest.fixture
def good_backup(deployed):
    """A fresh successful database backup; yields (local files, s3 objects) right after it. Afterwards
    another good run resolves the alert a fault test raised, so the server's alert state is as before."""
    run_backup_db(deployed)
    yield local_state(deployed), s3_objects(deployed, "db/")
    run_backup_db(deployed)


def drop_test_table(deployed, table: str):
    psql(deployed, f"DROP TABLE IF EXISTS {table}")


def assert_failed_cleanly(deployed, proc, since, before, detail: str):
    """Non-zero exit, a P2 alert naming the failure, nothing new in S3 or on disk, old files untouched."""
    local_before, s3_before = before
    assert proc.returncode != 0, proc.stdout + proc.stderr
    alert_after(deployed, since, "[P2]", "backup-db: FAILED", detail)
    assert s3_objects(deployed, "db/") == s3_before
    assert local_state(deployed) == local_before


# Holding an ACCESS EXCLUSIVE lock on a table makes pg_dump wait inside its run, so the test can act
# on a backup that is provably in progress.
HOLD_LOCK = (
    f"cd / && setsid -f sudo -u postgres psql -X -d {{db}} -c 'SET application_name = {LOCK_HOLDER}; "
    "CREATE TABLE IF NOT EXISTS louieops_test_lock (x int); "
    "LOCK TABLE louieops_test_lock IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(600)' </dev/null >/dev/null 2>&1"
)


def start_blocked_backup(deployed, marker: str):
    """Start backup-db in the background, held by the lock; return once pg_dump waits on it."""
    s = deployed.settings
    psql(deployed, "CREATE TABLE IF NOT EXISTS louieops_test_lock (x int)")
    root(deployed, HOLD_LOCK.format(db=s.postgresql_database))
    wait_until(
        lambda: (
            psql(
                deployed,
                f"SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
                f"WHERE a.application_name = '{LOCK_HOLDER}' AND l.granted "
                f"AND l.mode = 'AccessExclusiveLock'",
            )
            == "1"
        ),
        30,
        "the test lock",
    )
    root(
        deployed,
        f"rm -f /tmp/{marker}.rc; setsid -f bash -c 'cd / && sudo -u {s.backup_user} "
        f"{s.scripts_dir}/backup-db >/tmp/{marker}.log 2>&1; echo $? >/tmp/{marker}.rc' "
        "</dev/null >/dev/null 2>&1",
    )
    wait_until(
        lambda: (
            psql(
                deployed,
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pg_dump' AND wait_event_type = 'Lock'",
            )
            == "1"
        ),
        30,
        "pg_dump waiting on the lock",
    )


def finish_background_backup(deployed, marker: str) -> subprocess.CompletedProcess:
    rc = wait_until(
        lambda: root(deployed, f"cat /tmp/{marker}.rc 2>/dev/null", check=False).stdout.strip(),
        60,
        "the backup run to end",
    )
    log = root(deployed, f"cat /tmp/{marker}.log; rm -f /tmp/{marker}.rc /tmp/{marker}.log").stdout
    return subprocess.CompletedProcess(["backup-db"], int(rc), log, "")


def release_lock(deployed):
    psql(
        deployed,
        f"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '{LOCK_HOLDER}'",
        database="postgres",
    )


def wait_for_postgresql(deployed):
    wait_until(
        lambda: root(deployed, "pg_isready -q", check=False).returncode == 0, 60, "PostgreSQL to accept connections"
    )


# --- a good run -------------------------------------------------------------------------------------------


def test_backup_stores_the_same_verified_dump_locally_and_in_s3(deployed):
    s = deployed.settings
    run_backup_db(deployed)
    files = local_state(deployed)
    latest = max(name for name in files if name.endswith(".dump.zst"))
    recorded = root(deployed, f"cat {s.backup_dir}/db/{latest}.sha256").stdout.split()
    assert recorded == [files[latest], latest]
    assert not [name for name in files if name.startswith(".")], files  # no partial files left behind
    objects = s3_objects(deployed, "db/")
    assert objects[f"db/{latest}"] == files[latest]
    assert f"db/{latest}.rows" in objects
    head = s3_client(deployed).head_object(Bucket=s.backup_s3_bucket, Key=f"db/{latest}")
    assert head["ServerSideEncryption"] == "AES256"
    root(deployed, f"cd {s.backup_dir}/db && zstd -q -dc {latest} | pg_restore --list >/dev/null")


def test_the_database_cron_line_runs_as_written(deployed, good_backup):
    """The command of the db job in /etc/cron.d, run as its user with cron's environment, backs up."""
    s = deployed.settings
    cron = root(deployed, "cat /etc/cron.d/louieops-backup").stdout
    line = next(x for x in cron.splitlines() if x.strip().endswith("louie-backup") and "/backup-db" in x)
    fields = line.split(None, 6)
    assert fields[:6] == [*s.backup_db_schedule.split(), s.backup_user]
    path = next(x.split("=", 1)[1] for x in cron.splitlines() if x.startswith("PATH="))
    before = set(local_state(deployed))
    root(
        deployed,
        f"cd / && /usr/sbin/runuser -u {s.backup_user} -- env -i PATH={path} "
        f"HOME=/var/lib/{s.backup_user} /bin/sh -c {shlex.quote(fields[6])}",
    )
    new = set(local_state(deployed)) - before
    assert len([n for n in new if n.endswith(".dump.zst")]) == 1, new


def test_restore_drill_passes_and_reports(deployed):
    s = deployed.settings
    psql(
        deployed,
        "CREATE TABLE louieops_test_drill AS SELECT i AS id, md5(i::text) AS note FROM generate_series(1, 1234) i",
    )
    try:
        tables = int(
            psql(
                deployed, "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
            )
        )
        run_backup_db(deployed)
        since = time.time()
        root(deployed, f"cd / && {s.scripts_dir}/restore-drill")
        alert = alert_after(deployed, since, "[P4]", "restore-drill: passed")
        assert f"from s3: {tables} tables," in alert["body"]
        assert "all equal to the dumped snapshot" in alert["body"]
        assert (
            psql(
                deployed,
                f"SELECT count(*) FROM pg_database WHERE datname LIKE '{s.postgresql_database}_restore%'",
                database="postgres",
            )
            == "0"
        )
    finally:
        drop_test_table(deployed, "louieops_test_drill")


def test_freshness_check_passes_after_fresh_backups(deployed, good_backup):
    s = deployed.settings
    run_backup_db(deployed)  # two in a row: the check compares the newest with the one before it
    as_backup_user(deployed, f"{s.scripts_dir}/backup-files uploads")
    as_backup_user(deployed, f"{s.scripts_dir}/backup-files logs")
    assert s3_objects(deployed, "uploads/") and s3_objects(deployed, "logs/")
    as_backup_user(deployed, f"{s.scripts_dir}/backup-verify")


def test_the_uploads_and_log_archives_in_s3_are_encrypted_on_the_server(deployed):
    """Read raw from the bucket: openssl's salted header, no zstd frame, not the directory's name that every
    tar header in the archive starts with; with the deploy's passphrase they decrypt to the archive
    (tests/integration/test_backup_files_encrypted.py has the restore and the failures)."""
    s = deployed.settings
    for kind, source in (("uploads", s.app_uploads_dir), ("logs", s.app_log_dir)):
        top = os.path.basename(source).encode() + b"/"
        as_backup_user(deployed, f"{s.scripts_dir}/backup-files {kind}")
        key = max(k for k in s3_objects(deployed, f"{kind}/") if k.endswith(".tar.zst.enc"))
        raw = s3_client(deployed).get_object(Bucket=s.backup_s3_bucket, Key=key)["Body"].read()
        assert raw.startswith(b"Salted__") and bytes.fromhex("28b52ffd") not in raw[:64], key
        assert top not in raw, key
        listing = subprocess.run(
            "openssl enc -d -aes-256-cbc -pbkdf2 -iter 600000 -md sha256 -pass env:PASSPHRASE | zstd -d | tar -t",
            shell=True, input=raw, capture_output=True, timeout=60,
            env={**os.environ, "PASSPHRASE": deployed.env["LOUIE_BACKUP_PASSPHRASE"]},
        )  # fmt: skip
        assert listing.returncode == 0 and listing.stdout.startswith(top), listing.stderr


def test_a_good_backup_is_recorded_where_the_monitor_user_can_read_it(deployed, good_backup):
    """The daily summary and `status` cannot read the dumps: they read the status file of the last good run."""
    s = deployed.settings
    files, _ = good_backup
    latest = max(name for name in files if name.endswith(".dump.zst"))
    status = json.loads(root(deployed, f"runuser -u {s.health_user} -- cat {STATUS_DIR}/db.json").stdout)
    assert (status["file"], status["sha256"]) == (latest, files[latest])
    assert status["size"] == int(root(deployed, f"stat -c %s {s.backup_dir}/db/{latest}").stdout)
    assert time.time() - 600 < status["time"] <= time.time() + 60  # the server's clock, a little slack
    assert root(deployed, f"stat -c '%U %a' {STATUS_DIR} {STATUS_DIR}/db.json").stdout.split("\n")[:2] == [
        f"{s.backup_user} 755",
        f"{s.backup_user} 644",
    ]


def test_bucket_lifecycle_rules_match_the_settings(deployed):
    s = deployed.settings
    rules = s3_client(deployed).get_bucket_lifecycle_configuration(Bucket=s.backup_s3_bucket)["Rules"]
    got = {
        r["Filter"]["Prefix"]: (r["Expiration"]["Days"], r["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])
        for r in rules
        if r["ID"].startswith("louieops-")
    }
    assert got == {f"{kind}/": (days, 1) for kind, days in s.backup_s3_retention_days.items()}


def test_backup_files_and_credentials_are_private(deployed):
    s = deployed.settings
    private = "/etc/louieops/backup-s3-credentials /etc/louieops/backup-passphrase"
    out = root(deployed, f"stat -c '%U %a' {private} {s.backup_dir}/db").stdout.split("\n")
    assert out[:3] == [f"{s.backup_user} 600", f"{s.backup_user} 600", f"{s.backup_user} 750"]
    # the backup role reads everything and writes nothing
    denied = root(
        deployed,
        f"cd / && sudo -u {s.backup_user} psql -X -d {s.postgresql_database} "
        "-c 'CREATE TABLE louieops_test_denied (x int)'",
        check=False,
    )
    assert denied.returncode != 0 and "permission denied" in denied.stderr


# --- faults: each fails the run, alerts, keeps nothing that claims to be good --------------------------------


def test_backup_fails_cleanly_when_postgresql_stops_during_the_dump(deployed, good_backup):
    marker = f"bk-{uuid.uuid4().hex[:8]}"
    since = time.time()
    try:
        start_blocked_backup(deployed, marker)
        root(deployed, "systemctl stop postgresql")
        proc = finish_background_backup(deployed, marker)
    finally:
        root(deployed, "systemctl start postgresql")
        wait_for_postgresql(deployed)
        release_lock(deployed)  # when the test failed before PostgreSQL was stopped
        drop_test_table(deployed, "louieops_test_lock")
    assert_failed_cleanly(deployed, proc, since, good_backup, "pg_dump exited")


def test_backup_fails_cleanly_when_pg_dump_is_killed(deployed, good_backup):
    marker = f"bk-{uuid.uuid4().hex[:8]}"
    since = time.time()
    try:
        start_blocked_backup(deployed, marker)
        root(deployed, f"kill -KILL $(pgrep -u {deployed.settings.backup_user} -x pg_dump)")
        proc = finish_background_backup(deployed, marker)
    finally:
        release_lock(deployed)
        drop_test_table(deployed, "louieops_test_lock")
    assert_failed_cleanly(deployed, proc, since, good_backup, "pg_dump exited with 137")


def test_backup_fails_cleanly_when_s3_is_unreachable(deployed, good_backup):
    since = time.time()
    proc = run_backup_db(deployed, env="S3_ENDPOINT_URL=http://127.0.0.1:9", check=False)
    assert_failed_cleanly(deployed, proc, since, good_backup, "to S3 failed")


def test_backup_fails_cleanly_when_the_backup_disk_is_full(deployed, good_backup):
    s = deployed.settings
    db_dir = f"{s.backup_dir}/db"
    since = time.time()
    root(
        deployed,
        f"mount -t tmpfs -o size=1m,uid=$(id -u {s.backup_user}),gid=$(id -g {s.backup_user}),mode=0750 "
        f"louieops-test-full {db_dir} && (dd if=/dev/zero of={db_dir}/.filler bs=64k 2>/dev/null || true)",
    )
    try:
        proc = run_backup_db(deployed, check=False)
        left = root(deployed, f"ls -A {db_dir}").stdout.split()
    finally:
        root(deployed, f"umount {db_dir}")
    assert left == [".filler"]  # nothing partial, nothing published on the full disk
    assert_failed_cleanly(deployed, proc, since, good_backup, "zstd exited")


# --- restore ---------------------------------------------------------------------------------------------


def test_restore_refuses_the_live_database_without_force(deployed, good_backup):
    proc = root(deployed, f"cd / && {deployed.settings.scripts_dir}/restore-db", check=False)
    assert proc.returncode == 2
    assert "refusing to overwrite the live database" in proc.stderr


def test_live_restore_returns_the_database_to_the_backup_and_restarts_the_app(deployed):
    s = deployed.settings
    db = s.postgresql_database
    psql(deployed, "CREATE TABLE IF NOT EXISTS louieops_test_restore (id serial PRIMARY KEY, note text)")
    psql(deployed, "INSERT INTO louieops_test_restore (note) VALUES ('before the backup')")
    run_backup_db(deployed)
    expected = psql(deployed, "SELECT string_agg(id || ':' || note, ',' ORDER BY id) FROM louieops_test_restore")
    tables_before = psql(deployed, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
    psql(deployed, "INSERT INTO louieops_test_restore (note) VALUES ('after the backup')")
    unit = f"pm2-{s.app_user}.service"
    assert root(deployed, f"systemctl is-active {unit}", check=False).stdout.strip() == "active"

    root(deployed, f"cd / && {s.scripts_dir}/restore-db --force")
    try:
        assert (
            psql(deployed, "SELECT string_agg(id || ':' || note, ',' ORDER BY id) FROM louieops_test_restore")
            == expected
        )
        assert psql(deployed, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == tables_before
        assert root(deployed, f"systemctl is-active {unit}", check=False).stdout.strip() == "active"
        health = f"curl -fsS http://127.0.0.1:{s.app_port}/health"
        wait_until(lambda: root(deployed, health, check=False).returncode == 0, 60, "the app to answer /health again")
    finally:
        old = psql(
            deployed,
            f"SELECT string_agg(datname, ' ') FROM pg_database WHERE datname LIKE '{db}_before_restore_%'",
            database="postgres",
        )
        for name in old.split():
            root(deployed, f"cd / && sudo -u postgres dropdb {name}")
        drop_test_table(deployed, "louieops_test_restore")
