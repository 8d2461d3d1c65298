"""Five test servers (lb, app1, app2, db and a hot standby), deployed together: rows written through the lb are
on the standby, releases roll out one app host at a time (a failing one stops the roll-out and is rolled back,
without a failed request through the lb), and the runbook's promotion of the standby, after the primary is lost,
gets the app writing again once the deploy runs with the inventory changed to say so. With backup_pitr on:
the standby waits for its turn to archive and back up, and after the promotion the new primary continues the
same pgBackRest stanza (a row written after the promotion comes back from the repository).

Nightly (`make test-multihost-standby`): a second five-server cluster does not fit the CI budget of `make test`,
which runs the four-server test_multihost.py. Deselected from `make test` by the ``nightly`` marker."""

from __future__ import annotations

import json
import os
import subprocess
import uuid

import pytest

from louieops import layout
from louieops.testbed.cluster import MEMBERS
from tests.e2e.conftest import REPO_ROOT
from tests.e2e.helpers import PITR_KPIS, wait_for
from tests.e2e.multihost import (
    LbPoller,
    app_source,
    connects,
    deployed_cluster,
    live_commit,
    release_list,
    roll_out_a_good_release,
    run_deploy,
)
from tests.runbook import runbook_commands

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.nightly,
    pytest.mark.skipif(os.geteuid() != 0, reason="the test servers need root (netns, nftables, nspawn)"),
]

NAME = os.environ.get("LOUIEOPS_E2E_STANDBY_CLUSTER", "e2e-mhs")
#: Point-in-time recovery on, its archive_timeout short, so the promotion test reads a row back soon.
PITR = {"backup_pitr": True, "backup_pitr_archive_timeout": 20}
PSQL = "runuser -u postgres -- psql -X -At"
RUNBOOK = runbook_commands()


def runbook(kind: str) -> list[str]:
    lines = [command.line for command in RUNBOOK if command.kind == kind]
    assert lines, f"no {kind} commands in docs/RUNBOOK.md"
    return lines


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    yield from deployed_cluster(NAME, dict(MEMBERS), tmp_path_factory, data=PITR)


def on_standby(cluster, sql: str) -> str:
    return cluster.root("standby", f'runuser -u postgres -- psql -X -At -d simplylouie -c "{sql}"').stdout.strip()


def test_the_second_deploy_of_five_servers_reports_zero_changed_operations(cluster):
    second = cluster.second
    assert second.returncode == 0, second.explain()
    assert second.changed_operations == [], f"changed on the second run: {second.changed_operations}"


def test_rows_written_through_the_lb_are_on_the_hot_standby(cluster):
    marker = uuid.uuid4().hex[:12]
    status, body = cluster.request("POST", "/api/notes", {"text": marker})
    assert status == 201, body
    wait_for(
        lambda: on_standby(cluster, f"SELECT count(*) FROM notes WHERE body = '{marker}'") == "1",
        30,
        "the row on the standby",
        interval=0.2,
    )
    assert on_standby(cluster, "SELECT pg_is_in_recovery()") == "t"
    insert = "INSERT INTO notes (body, host) VALUES ('x', 'y')"
    refused = cluster.root("standby", f'runuser -u postgres -- psql -X -d simplylouie -c "{insert}" 2>&1', check=False)
    assert "cannot execute INSERT in a read-only transaction" in refused.stdout


def test_the_standby_archives_and_backs_up_nothing_until_it_is_promoted(cluster):
    """Both database hosts have pgBackRest and its cron jobs; on the standby they say so and do nothing."""
    assert cluster.root("db", "runuser -u postgres -- pgbackrest --stanza=main check", check=False).returncode == 0
    assert on_standby(cluster, "SHOW archive_mode") == "on"
    assert on_standby(cluster, "SELECT archived_count FROM pg_stat_archiver") == "0"
    backup = cluster.root("standby", "louie-pitr-backup diff", check=False)  # as cron runs it
    assert backup.returncode == 0 and "this server is a hot standby" in backup.stdout, backup.stdout + backup.stderr
    drill = cluster.root("standby", "louie-restore-db --drill --alert", check=False)
    assert drill.returncode == 0 and "not on a hot standby" in drill.stdout, drill.stdout + drill.stderr
    restore = cluster.root("standby", "louie-restore-db --latest --yes", check=False)
    assert restore.returncode == 2 and "this server is a hot standby" in restore.stderr, restore.stderr
    checked = json.loads(cluster.root("standby", "/opt/scripts/health-check --no-alert --json", check=False).stdout)
    keys = {r["key"] for r in checked["results"]}
    assert not keys & set(PITR_KPIS), keys
    primary = json.loads(cluster.root("db", "/opt/scripts/health-check --no-alert --json", check=False).stdout)
    levels = {r["key"]: r["level"] for r in primary["results"]}
    assert {k: levels[k] for k in PITR_KPIS} == dict.fromkeys(PITR_KPIS, "ok"), levels


def last_backup_log(cluster) -> str:
    """pgBackRest's own log of the primary's last backup (log-level-file=info)."""
    log = cluster.root("db", f"cat {layout.PITR_LOG_DIR}/{layout.PITR_STANZA}-backup.log").stdout
    return log.rsplit("backup command begin", 1)[-1]


def test_the_primarys_backups_read_the_files_from_the_standby_and_fall_back_to_the_primary(cluster):
    """pgBackRest's TLS server on the standby, open to the primary only, serves the backups' file copies (the
    standby replays up to the backup's start first); with the server stopped, the primary takes the backup."""
    standby = cluster.address("standby")
    assert cluster.root("standby", "systemctl is-active pgbackrest.service").stdout.strip() == "active"
    assert connects(cluster, "db", standby, 8432)
    assert not connects(cluster, "app1", standby, 8432) and not connects(cluster, "lb", standby, 8432)

    done = cluster.root("db", "louie-pitr-backup incr", check=False)  # as cron runs it
    assert done.returncode == 0, done.stdout + done.stderr
    assert "the pgBackRest incr backup: done (the database's files read from the standby)" in done.stdout
    log = last_backup_log(cluster)
    assert "replay on the standby reached" in log and "backup-standby" in log, log[-3000:]
    status = json.loads(cluster.root("db", f"cat {layout.PITR_STATUS}").stdout)
    assert status["type"] == "incr" and status["from"] == "standby", status

    cluster.root("standby", "systemctl stop pgbackrest.service")
    try:
        fallback = cluster.root("db", "louie-pitr-backup incr", check=False)
    finally:
        cluster.root("standby", "systemctl start pgbackrest.service")
    assert fallback.returncode == 0, fallback.stdout + fallback.stderr
    assert "the hot standby did not answer (unable to check pg2" in fallback.stderr, fallback.stderr
    assert "read from the primary (the standby did not answer)" in fallback.stdout, fallback.stdout
    assert "replay on the standby" not in last_backup_log(cluster)
    status = json.loads(cluster.root("db", f"cat {layout.PITR_STATUS}").stdout)
    assert status["from"] == "primary (the standby did not answer)", status
    info = json.loads(cluster.root("db", "runuser -u postgres -- pgbackrest --stanza=main --output=json info").stdout)
    assert [b["type"] for b in info[0]["backup"]][-2:] == ["incr", "incr"]


@pytest.mark.parametrize("kind, member", [("primary", "db"), ("standby", "standby")])
def test_the_runbooks_replication_commands_work_as_written(cluster, kind, member):
    for line in runbook(kind):
        done = cluster.root(member, line, check=False)
        assert done.returncode == 0, f"{line}\n{done.stdout}{done.stderr}"
    if kind == "primary":
        assert "streaming" in cluster.root("db", runbook("primary")[0]).stdout


def test_a_release_rolls_out_one_app_host_at_a_time_without_a_failed_request(cluster):
    poller = roll_out_a_good_release(cluster, interval=0.1)
    assert poller.failures == [], poller.failures[:10]


def test_a_release_that_fails_its_gate_stops_the_roll_out_and_that_host_is_rolled_back(cluster):
    repo = cluster.cluster["lb"].app_repo
    good = {member: live_commit(cluster, member) for member in ("app1", "app2")}
    bad = repo.commit("a release that fails its health gate", app_source(uuid.uuid4().hex, healthy=False))
    try:
        with LbPoller(cluster, interval=0.1) as poller:
            run = cluster.deploy("-y")
        assert run.returncode != 0
        tried = [m for m in ("app1", "app2") if any(r["commit"] == bad for r in release_list(cluster, m)["releases"])]
        assert len(tried) == 1, tried  # the roll-out stopped at the first host
        (failing,) = tried
        attempt = next(r for r in release_list(cluster, failing)["releases"] if r["commit"] == bad)
        assert attempt["gate"] == "failed" and "HTTP 503" in attempt["detail"]
        assert {m: live_commit(cluster, m) for m in ("app1", "app2")} == good  # rolled back; the other untouched
        assert "not released: the roll-out stopped at" in run.stderr
        assert poller.failures == [], poller.failures[:10]  # the failing host was out of the lb's rotation
    finally:
        repo.commit("back to a good release", app_source(uuid.uuid4().hex))
        fixed = cluster.deploy("-y")
        assert fixed.returncode == 0, fixed.explain()


def test_the_standby_is_promoted_as_the_runbook_says_and_the_app_writes_again(cluster):
    """Last: it loses the primary for good."""
    marker = uuid.uuid4().hex[:12]
    assert cluster.request("POST", "/api/notes", {"text": f"{marker} before"})[0] == 201
    before = f"SELECT count(*) FROM notes WHERE body = '{marker} before'"
    wait_for(lambda: on_standby(cluster, before) == "1", 30, "the row on the standby", interval=0.2)

    cluster.cluster["db"].poweroff()  # the primary is lost
    assert cluster.request("POST", "/api/notes", {"text": f"{marker} lost"})[0] == 503
    for line in runbook("standby-changes"):
        done = cluster.root("standby", line, check=False)
        assert done.returncode == 0, f"{line}\n{done.stdout}{done.stderr}"
        assert "was promoted to primary" in done.stdout
        assert "archiving into the same stanza (pgbackrest check passed)" in done.stdout, done.stdout
    assert on_standby(cluster, "SELECT pg_is_in_recovery()") == "f"

    inventory = cluster.cluster.write_inventory(roles={"standby": ("db",)}, leave_out=("db",))
    env = cluster.controller_env(inventory)
    for line in runbook("cluster-controller"):
        done = subprocess.run(
            ["bash", "-c", line], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=1800
        )
        assert done.returncode == 0, f"{line}\n{done.stdout[-3000:]}{done.stderr[-3000:]}"

    status, body = cluster.request("POST", "/api/notes", {"text": f"{marker} after"})
    assert status == 201, body
    stored = on_standby(cluster, f"SELECT count(*) FROM notes WHERE body LIKE '{marker}%'")
    assert stored == "2"  # the row from before the loss, and the new one

    # the same stanza goes on: the first backup promote-db started, then the row written since comes back
    try:
        wait_for(
            lambda: '"type": "incr"' in cluster.root("standby", f"cat {layout.PITR_STATUS}").stdout,
            300,
            "the new primary's first incremental backup",
            interval=2,
        )
    except AssertionError as exc:
        log = cluster.root("standby", "tail -n 15 /var/log/pgbackrest/main-backup.log", check=False).stdout
        raise AssertionError(f"{exc}\nmain-backup.log:\n{log}") from None
    restored = cluster.root("standby", "louie-restore-db --latest --into after_promotion --yes", check=False)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    back = f"{PSQL} -d after_promotion -c \"SELECT count(*) FROM notes WHERE body LIKE '{marker}%'\""
    assert cluster.root("standby", back).stdout.strip() == "2", restored.stdout
    again = run_deploy(cluster.cluster, "-y")
    assert again.returncode == 0 and again.changed_operations == [], again.changed_operations
