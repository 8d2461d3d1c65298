"""Point-in-time recovery (backup_pitr) on a booted Debian 12 server of its own, its repository in the S3
stand-in over TLS (moto behind louieops.testbed.tls_proxy; pgBackRest speaks S3 over https only): a writer
inserts rows continuously, a table is dropped, and `louie-restore-db --to T` brings back exactly the rows
committed before T; the repository's objects are all encrypted; PostgreSQL killed with SIGKILL and its data
directory deleted comes back with `--latest --force` from the bucket alone, losing at most about
archive_timeout of committed rows (printed; the test server's archive_timeout is 20 s, the default 60 s).
"""

from __future__ import annotations

import json
import os
import runpy
import shlex
import subprocess
import threading
import time
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from louieops import layout
from louieops.settings.inventory import host_settings
from louieops.testbed import Testbed, peers
from tests.e2e.conftest import PYINFRA, run_deploy
from tests.e2e.helpers import PITR_KPIS, ServerOnly, https_pool, root, wait_for

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(os.geteuid() != 0, reason="the test server needs root (netns, nftables, nspawn)"),
]

BUCKET = "simplylouie-backups"
DATABASE = "simplylouie"
#: Shorter than the default 60 s, so the crash test writes past a few forced archive switches in little time.
ARCHIVE_TIMEOUT = 20
PSQL = f"runuser -u postgres -- psql -X -At -v ON_ERROR_STOP=1 -d {DATABASE}"


def sql(deployed, query: str, database: str = DATABASE) -> str:
    psql = f"runuser -u postgres -- psql -X -At -v ON_ERROR_STOP=1 -d {database}"
    return root(deployed, f"{psql} -c {shlex.quote(query)}").stdout.strip()


def s3(testbed: Testbed):
    """The S3 stand-in over TLS as pgBackRest reaches it (by address here), its certificate checked."""
    return boto3.client(
        "s3",
        endpoint_url=peers.s3_tls_endpoint_url(testbed.peer_address, by_name=False),
        region_name="us-east-1",
        aws_access_key_id=testbed.env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=testbed.env["AWS_SECRET_ACCESS_KEY"],
        verify=str(testbed.listener_ca),
        config=Config(retries={"max_attempts": 2}),
    )


def with_pitr(testbed: Testbed) -> None:
    """The test server's inventory with backup_pitr on (the inventory is the user's file to edit)."""
    [(address, data)] = runpy.run_path(str(testbed.inventory_path))["testbed"]
    data = {**data, "backup_pitr": True, "backup_pitr_archive_timeout": ARCHIVE_TIMEOUT}
    testbed.inventory_path.write_text(f"testbed = [({address!r}, {data!r})]\n")


@pytest.fixture(scope="module")
def pitr(tmp_path_factory):
    with Testbed(name="pitr", release="bookworm") as testbed:
        with_pitr(testbed)
        first = run_deploy(testbed, "-y")
        if first.returncode != 0:
            pytest.fail("first deploy with backup_pitr failed: " + first.explain(), pytrace=False)
        yield testbed, first


def start_writer(deployed, name: str, table: str = "orders") -> None:
    """Insert a row every 100 ms into ``table``, each in its own transaction, until stopped; the rows committed
    (id and time) go to a log."""
    loop = (
        f"while :; do {PSQL} -c 'INSERT INTO {table} DEFAULT VALUES RETURNING id, extract(epoch FROM at)' "
        f">> /root/{name}.log "
        "|| break; sleep 0.1; done"
    )
    root(deployed, f"nohup sh -c {shlex.quote(loop)} >/dev/null 2>&1 & echo $! > /root/{name}.pid")


def stop_writer(deployed, name: str) -> None:
    root(deployed, f"kill $(cat /root/{name}.pid) 2>/dev/null; sleep 0.3", check=False)


def archiver_state(deployed) -> str:
    """What PostgreSQL's archiver and pgBackRest's asynchronous push last did (for a failure's message)."""
    stats = sql(
        deployed, "SELECT archived_count, last_archived_wal, failed_count, last_failed_wal FROM pg_stat_archiver"
    )
    log = root(deployed, "tail -n 12 /var/log/pgbackrest/main-archive-push-async.log", check=False).stdout
    queue = root(
        deployed,
        "ls /var/lib/postgresql/15/main/pg_wal/archive_status | tail -n 4; ls /var/spool/pgbackrest/archive/main/out"
        " | tail -n 4; pgrep -a pgbackrest; tail -n 5 /var/log/postgresql/postgresql-15-main.log",
        check=False,
    ).stdout
    return f"pg_stat_archiver {stats}; archive-push-async.log: {log.strip()[-1500:]}; queue: {queue.strip()[-1500:]}"


def write_then_lose_the_data_directory(deployed, name: str) -> dict[int, float]:
    """A new table <name>_orders written by a writer until the segment its first rows went into is archived
    (archive_timeout switches it; waited for, not slept on), then half an archive_timeout more; PostgreSQL is
    then killed with SIGKILL, its data directory deleted and kept down. Returns the rows psql saw committed
    (id: time)."""
    table = f"{name}_orders"
    sql(deployed, f"CREATE TABLE {table} (id serial PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())")
    root(deployed, "runuser -u postgres -- pgbackrest --stanza=main check")  # the empty table is archived
    start_writer(deployed, name, table=table)
    wait_for(lambda: int(sql(deployed, f"SELECT count(*) FROM {table}")) > 0, 30, "the writer's first row")
    # past the switch's boundary now (at it, pg_walfile_name names the segment before)
    first_segment = sql(deployed, "SELECT pg_walfile_name(pg_current_wal_insert_lsn())")
    archived = (
        "SELECT coalesce(length(last_archived_wal) = 24 AND last_archived_wal >= "
        f"'{first_segment}', false) FROM pg_stat_archiver"
    )
    try:
        try:
            wait_for(lambda: sql(deployed, archived) == "t", ARCHIVE_TIMEOUT * 3 + 30, f"{first_segment} archived")
        except AssertionError as exc:
            raise AssertionError(f"{exc}: {archiver_state(deployed)}") from None
        time.sleep(ARCHIVE_TIMEOUT / 2)  # rows committed after the last archived segment: the ones to lose
        print(f"before the kill: {archiver_state(deployed)}")  # shown if a test on these rows fails
        root(deployed, "pkill -KILL -u postgres -x postgres; sleep 1; rm -rf /var/lib/postgresql/15/main")
    finally:
        stop_writer(deployed, name)
    log = root(deployed, f"cat /root/{name}.log").stdout  # "id|epoch" rows and psql's "INSERT 0 1" lines
    root(deployed, "systemctl stop postgresql@15-main", check=False)  # systemd saw it die: keep it down
    return {int(i): float(at) for i, at in (line.split("|") for line in log.splitlines() if "|" in line)}


def rows_lost(deployed, name: str, committed: dict[int, float]) -> str:
    """Checks that <name>_orders came back as a gapless prefix of the rows committed, losing at most about
    archive_timeout of them (the timeout, then the asynchronous push); says how many and how many seconds."""
    back = [int(i) for i in sql(deployed, f"SELECT id FROM {name}_orders ORDER BY id").splitlines()]
    last = max(committed)
    assert back and back == list(range(1, back[-1] + 1)) and back[-1] <= last, (back[-3:], last)
    seconds = committed[last] - committed[back[-1]]
    bound = ARCHIVE_TIMEOUT + 15
    assert seconds <= bound, f"{seconds:.1f} s of committed rows lost: more than archive_timeout ({ARCHIVE_TIMEOUT} s)"
    return f"{last - back[-1]} of {len(committed)} committed rows lost, the last {seconds:.1f} s"


def test_the_second_deploy_changes_nothing_and_the_archive_runs(pitr):
    testbed, first = pitr
    deployed = ServerOnly(testbed)
    assert "Create the pgBackRest stanza and take its first full backup" in first.stdout
    assert "Run the first pgbackrest check" in first.stdout
    again = run_deploy(testbed, "-y")
    assert again.returncode == 0 and again.changed_operations == [], again.changed_operations
    mode = root(deployed, "stat -c '%U %a' /etc/pgbackrest/pgbackrest.conf").stdout.split()
    assert mode == ["postgres", "600"]
    assert sql(deployed, "SHOW archive_mode") == "on"
    check = root(deployed, "louie-pitr-backup check", check=False)  # the hourly job, as cron runs it
    assert check.returncode == 0 and check.stdout.strip() == "pgbackrest check: passed", check.stdout + check.stderr
    record = json.loads(root(deployed, f"cat {layout.PITR_CHECK_STATUS}").stdout)
    assert record["error"] is None and record["passed"] == record["time"], record
    verify = root(deployed, "louie-pitr-backup verify", check=False)  # the weekly job, as cron runs it
    assert verify.returncode == 0 and "verify): done" in verify.stdout, verify.stdout + verify.stderr
    checked = json.loads(root(deployed, "/opt/scripts/health-check --no-alert --json", check=False).stdout)
    levels = {r["key"]: r["level"] for r in checked["results"]}
    assert {k: levels[k] for k in PITR_KPIS} == dict.fromkeys(PITR_KPIS, "ok"), levels


def test_a_dropped_table_comes_back_as_it_was_at_the_chosen_moment(pitr, figure):
    testbed, _ = pitr
    deployed = ServerOnly(testbed)
    sql(deployed, "CREATE TABLE orders (id serial PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())")
    start_writer(deployed, "writer")
    try:
        wait_for(lambda: int(sql(deployed, "SELECT count(*) FROM orders")) >= 30, 60, "30 rows written")
        # T: the moment row k was inserted; rows before it were committed before T (one writer, one row per
        # transaction), row k itself after it.
        k, at_k = sql(deployed, "SELECT id, at FROM orders ORDER BY id DESC LIMIT 1").split("|")
        time.sleep(10)
    finally:
        stop_writer(deployed, "writer")
    everything = [
        (int(i), a)
        for i, a in (line.split("|") for line in sql(deployed, "SELECT id, at FROM orders ORDER BY id").splitlines())
    ]
    expected = [i for i, _ in everything if i < int(k)]
    assert len(everything) > len(expected) + 20, "the writer went on after T: the test could not tell"
    sql(deployed, "DROP TABLE orders")

    restored = root(deployed, f'louie-restore-db --to "{at_k}" --into orders_at_t --yes', check=False)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "recoverable: from " in restored.stdout and "into the new database orders_at_t" in restored.stdout
    back = [int(i) for i in sql(deployed, "SELECT id FROM orders ORDER BY id", database="orders_at_t").splitlines()]
    assert back == expected
    assert sql(deployed, "SELECT to_regclass('orders') IS NULL") == "t", "the live database was changed"
    figure(
        f"point in time: {len(back)} rows back of {len(everything)} written, none after T "
        f"({restored.stdout.splitlines()[-1]})"
    )


def test_bad_input_is_refused_with_one_line_and_changes_nothing(pitr):
    testbed, _ = pitr
    deployed = ServerOnly(testbed)
    before = sql(deployed, "SELECT datname FROM pg_database ORDER BY 1")
    shown = testbed.ssh("sudo louie-restore-db --range", check=False)  # docs/backups.md, as written
    assert shown.returncode == 0 and shown.stdout.startswith("recoverable: from 20"), shown.stdout + shown.stderr
    # the same from the controller, through pyinfra (docs/backups.md)
    louieops = str(Path(PYINFRA).with_name("louieops"))
    inventory = str(testbed.inventory_path)
    remote = subprocess.run([louieops, "restore-db", inventory, "--range"], capture_output=True, text=True, timeout=300)
    # pyinfra prints each host's output on stderr, prefixed by the host
    assert remote.returncode == 0 and f"[{testbed.address}] recoverable: from 20" in remote.stderr, remote.stderr
    asked = testbed.ssh("sudo louie-restore-db --latest --into orders_latest", check=False)
    assert asked.returncode == 2 and "add --yes" in asked.stderr, asked.stderr  # no terminal: refused, not guessed
    cases = {
        '--to "2000-01-01 00:00:00+00" --yes': "outside the recoverable range",
        '--to "2026-12-05 10:31:00" --yes': "has no time zone",
        '--to "yesterday" --yes': "is not a time",
        f"--latest --into {DATABASE} --yes": f"database {DATABASE} exists already",
    }
    for arguments, needle in cases.items():
        done = root(deployed, f"louie-restore-db {arguments}", check=False)
        assert done.returncode == 2, (arguments, done.stdout, done.stderr)
        assert needle in done.stderr and len(done.stderr.strip().splitlines()) == 1, (arguments, done.stderr)
    assert sql(deployed, "SELECT datname FROM pg_database ORDER BY 1") == before


def test_the_monthly_drill_restores_to_a_moment_and_finds_the_row_before_it_only(pitr, figure):
    """The drill as docs/backups.md writes it (it prints, alerts nobody), then its cron line as cron runs it
    (backup_pitr_drill_schedule, --alert): its rows written around a moment, the cluster restored to that moment
    into a scratch copy, the row before it back and the one after it not; one P4 report in Slack; the scratch
    copy is gone and the live database untouched."""
    testbed, _ = pitr
    deployed = ServerOnly(testbed)
    [line] = [x for x in root(deployed, "cat /etc/cron.d/louieops-pitr").stdout.splitlines() if "--drill" in x]
    databases = sql(deployed, "SELECT datname FROM pg_database WHERE datname <> 'louieops_drill' ORDER BY 1")
    archive_failures = sql(deployed, "SELECT failed_count FROM pg_stat_archiver")

    def drill_reports(since):
        return [
            r
            for r in testbed.recorder.requests()
            if r["path"].startswith("/slack/") and r["time"] >= since and "restore drill" in r["body"]
        ]

    since = time.time()
    by_hand = testbed.ssh("sudo louie-restore-db --drill", check=False)
    assert by_hand.returncode == 0 and "drill: restored to " in by_hand.stdout, by_hand.stdout + by_hand.stderr
    assert drill_reports(since) == []
    done = root(deployed, line.split(" root ", 1)[1].split(" 2>&1", 1)[0], check=False)

    assert done.returncode == 0, done.stdout + done.stderr
    [result] = [x for x in done.stdout.splitlines() if x.startswith("drill: restored to ")]
    assert "the row written before it is back, the one after it is not" in result
    reports = drill_reports(since)
    assert len(reports) == 1 and "Monthly point-in-time restore drill: restored to" in reports[0]["body"], reports
    for leftover in ("/var/lib/postgresql/15/louie-restore", "/var/lib/postgresql/15/louie-restore.spool"):
        assert root(deployed, f"test -e {leftover}", check=False).returncode == 1, leftover
    assert sql(deployed, "SELECT failed_count FROM pg_stat_archiver") == archive_failures  # the live queue untouched
    assert sql(deployed, "SELECT datname FROM pg_database WHERE datname <> 'louieops_drill' ORDER BY 1") == databases
    figure(f"monthly restore drill: {result.split(': ', 1)[1].split(' s: ', 1)[0]} s")


def test_the_objects_in_the_bucket_are_encrypted(pitr):
    testbed, _ = pitr
    client = s3(testbed)
    keys = [
        o["Key"]
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix="pgbackrest/")
        for o in page.get("Contents", [])
    ]
    archived = [k for k in keys if "/archive/" in k and k.endswith((".gz", ".lz4", ".zst"))]
    assert archived and any("/backup/" in k for k in keys), keys[:20]
    for key in keys:
        head = client.get_object(Bucket=BUCKET, Key=key, Range="bytes=0-7")["Body"].read()
        assert head == b"Salted__", f"{key} starts with {head!r}: not encrypted"  # OpenSSL's aes-256-cbc header


def test_a_lost_data_directory_comes_back_from_the_bucket_alone(pitr, figure):
    testbed, _ = pitr
    deployed = ServerOnly(testbed)
    committed = write_then_lose_the_data_directory(deployed, "crash")

    restored = root(deployed, "louie-restore-db --latest --force --yes", check=False)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    lost = rows_lost(deployed, "crash", committed)
    figure(f"recovery point after SIGKILL and a lost data directory: {lost}")
    assert sql(deployed, "SELECT pg_is_in_recovery()") == "f"


def test_an_in_place_restore_from_the_controller_is_done_in_maintenance_mode(pitr, tmp_path):
    """`louieops restore-db INVENTORY --latest --force --yes` (docs/backups.md): a client polling the API
    through nginx gets the 503 maintenance JSON while PostgreSQL is restored, never a 500 from an app without
    its database, and the API again after; the server's maintenance mode is off at the end."""
    testbed, _ = pitr
    deployed = ServerOnly(testbed)
    ca = tmp_path / "pebble.pem"
    ca.write_text(testbed.pebble_root_pem())
    domain = "api.simplylouie.test"
    pool = https_pool(deployed, str(ca), domain)
    answers: list[tuple[int, str]] = []
    stop = threading.Event()

    def poll() -> None:  # every 0.3 s: under the API's rate limit
        while not stop.wait(0.3):
            try:
                response = pool.request("GET", "/api/claude/status", headers={"Host": domain})
                answers.append((response.status, response.data[:200].decode(errors="replace")))
            except Exception as exc:  # noqa: BLE001 - a failed request is the measurement
                answers.append((0, type(exc).__name__))

    louieops = str(Path(PYINFRA).with_name("louieops"))
    line = [louieops, "restore-db", str(testbed.inventory_path), "--latest", "--force", "--yes"]
    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        done = subprocess.run(line, capture_output=True, text=True, timeout=900, env={**os.environ, **testbed.env})
    finally:
        stop.set()
        poller.join(timeout=30)
        pool.close()
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "maintenance mode on" in done.stdout and "maintenance mode off" in done.stdout, done.stdout
    statuses = [status for status, _ in answers]
    assert 503 in statuses and statuses[-1] == 200, answers
    first, last = statuses.index(503), len(statuses) - 1 - statuses[::-1].index(503)
    assert set(statuses[first : last + 1]) == {503}, answers  # nothing but the page while it restored
    assert all('"maintenance"' in body for status, body in answers if status == 503), answers
    assert set(statuses) <= {200, 503}, answers
    status = root(deployed, "louie-maintenance-mode status", check=False)
    assert status.stdout.strip() == "maintenance mode: off", status.stdout + status.stderr


def test_a_lost_server_is_rebuilt_on_a_freshly_booted_one_from_the_bucket_alone(pitr, figure, tmp_path):
    """`louieops rebuild NEW_INVENTORY --from-s3 --yes` (docs/backups.md, "Rebuilding a lost server"): the
    server is lost while a writer inserts rows (PostgreSQL killed, its data directory gone, nothing runs on it
    any more); a freshly booted server with the same settings and secrets, the public names pointed at it,
    is provisioned and restored from S3: the rows lost are those of the last ≤ archive_timeout seconds, the
    uploads are back, /health answers through nginx, the database continues the stanza, and the deploy after
    changes nothing. The time to recover is printed."""
    testbed, _ = pitr
    old = ServerOnly(testbed)
    s = host_settings(str(testbed.inventory_path), None)
    marker = f"{s.app_uploads_dir}/rebuild-marker.txt"
    root(old, f"echo kept-through-the-rebuild > {marker} && chown --reference={s.app_uploads_dir} {marker}")
    root(old, f"cd / && sudo -u {s.backup_user} {s.scripts_dir}/backup-files uploads")  # the daily job
    committed = write_then_lose_the_data_directory(old, "lost")
    root(old, "systemctl stop cron nginx", check=False)  # the lost server does nothing more

    with Testbed(name="pitr-new", release="bookworm", peers_from=testbed.name) as new:
        new.env_path.write_text(testbed.env_path.read_text())  # the secrets the operator kept off the server
        with_pitr(new)
        peers.add_dns_records(new.peer_address, new.domains, new.address)  # the public names now point here
        louieops = str(Path(PYINFRA).with_name("louieops"))
        line = [louieops, "rebuild", str(new.inventory_path), "--from-s3", "--yes"]
        done = subprocess.run(line, capture_output=True, text=True, timeout=1800, env={**os.environ, **new.env})
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-3000:]
        [recovered] = [text for text in done.stdout.splitlines() if "recovered from S3 in" in text]
        figure(f"rebuild onto a freshly booted server: {recovered.split(': ', 1)[1]}")

        fresh = ServerOnly(new)
        figure(f"rows lost with the server: {rows_lost(fresh, 'lost', committed)}")
        assert root(fresh, f"cat {marker}").stdout.strip() == "kept-through-the-rebuild"
        assert root(fresh, "runuser -u postgres -- pgbackrest --stanza=main check", check=False).returncode == 0

        ca = tmp_path / "pebble.pem"
        ca.write_text(new.pebble_root_pem())
        pool = https_pool(fresh, str(ca), s.domain_api)
        try:
            health = pool.request("GET", "/health", headers={"Host": s.domain_api})
        finally:
            pool.close()
        assert health.status == 200 and json.loads(health.data)["status"] == "healthy", health.data[:300]
        again = run_deploy(new, "-y")
        assert again.returncode == 0 and again.changed_operations == [], again.changed_operations
