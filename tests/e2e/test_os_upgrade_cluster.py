"""`louieops os-upgrade` on five servers (lb, app1, app2, db and a hot standby), Debian 12 -> 13 and PostgreSQL
15 -> 17, exactly as docs/upgrades.md tells the operator, with a client polling the API through the lb all along.

A pre-check that fails on one host refuses the whole run before anything changes. Then one host at a time:
each app host out of the lb's upstreams while it upgrades (no request fails, the other app host answers all),
the standby (no request fails either), then the lb and the database host in maintenance mode. Afterwards every
host is on trixie, the primary on PostgreSQL 17 with the rows, the standby copied again from it and streaming,
and a deploy changes nothing. Nightly (make test-os-upgrade): five Debian release upgrades take about half an
hour here.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
import uuid

import pytest

from louieops.testbed.cluster import MEMBERS
from tests.e2e.conftest import REPO_ROOT
from tests.e2e.helpers import wait_for
from tests.e2e.multihost import LbPoller, deployed_cluster, run_deploy

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.nightly,
    pytest.mark.skipif(os.geteuid() != 0, reason="the test servers need root (netns, nftables, nspawn)"),
]

NAME = os.environ.get("LOUIEOPS_E2E_UPGRADE_CLUSTER", "e2e-osu")
UPGRADE = '.venv/bin/louieops os-upgrade "$INVENTORY" --to trixie --yes'
PSQL = "runuser -u postgres -- psql -X -At -d simplylouie -c"
#: What the upgrade run printed, each line with the time it came (filled by the upgrade test, read after it).
SEEN: list[tuple[float, str]] = []


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    yield from deployed_cluster(NAME, dict(MEMBERS), tmp_path_factory)


def sql(cluster, member: str, statement: str) -> str:
    return cluster.root(member, f"{PSQL} {shlex.quote(statement)}").stdout.strip()


def clusters(cluster, member: str) -> list[str]:
    out = cluster.root(member, "pg_lsclusters --no-header").stdout
    return [" ".join(line.split()[:4]) for line in out.splitlines() if line.strip()]


def release(cluster, member: str) -> str:
    return cluster.root(member, ". /etc/os-release; echo $VERSION_CODENAME").stdout.strip()


def test_a_pre_check_failing_on_one_host_refuses_the_run_before_anything_changes(cluster):
    cluster.root("app2", "apt-mark hold nodejs")
    try:
        refused = subprocess.run(
            ["bash", "-c", UPGRADE], cwd=REPO_ROOT, env=cluster.controller_env(), capture_output=True, text=True
        )
    finally:
        cluster.root("app2", "apt-mark unhold nodejs")
    print(refused.stdout[-3000:], refused.stderr[-2000:], file=sys.stderr)
    assert refused.returncode == 2
    assert f"{cluster.address('app2')}: refused: held packages: nodejs" in refused.stdout
    assert f"{cluster.address('app2')}: the pre-checks refused (above); nothing was changed" in refused.stderr
    assert [release(cluster, member) for member in MEMBERS] == ["bookworm"] * len(MEMBERS)
    assert "maintenance mode: off" in cluster.root("lb", "louie-maintenance-mode status").stdout


def test_the_cluster_upgrades_one_host_at_a_time_and_no_request_fails_while_the_app_hosts_do(cluster):
    marker = uuid.uuid4().hex[:12]
    assert cluster.request("POST", "/api/notes", {"text": f"{marker} before"})[0] == 201
    app_host = {member: cluster.root(member, "hostname").stdout.strip() for member in ("app1", "app2")}
    with LbPoller(cluster, interval=0.2) as poller:
        proc = subprocess.Popen(
            ["bash", "-c", UPGRADE],
            cwd=REPO_ROOT,
            env=cluster.controller_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for line in proc.stdout:
            SEEN.append((time.monotonic(), line))
        proc.wait(timeout=60)
    said = "".join(line for _, line in SEEN)
    print(said[-8000:], file=sys.stderr)
    assert proc.returncode == 0, said[-5000:]
    assert "are on trixie in" in said

    def moment(text: str) -> float:
        return next(at for at, line in SEEN if text in line)

    window = moment("louieops os-upgrade: maintenance mode on ...")
    before_window = [answer for answer in poller.answers if answer[0] < window]
    assert [a for a in before_window if a[1] != 200] == [], "requests failed before the window"
    for member, other in (("app1", "app2"), ("app2", "app1")):
        address = cluster.address(member)  # (out of the upstreams once its upgrade starts, until it rejoins)
        out, back = moment(f"{address}: the upgrade to trixie ..."), moment(f"{address}: back in the load balancer")
        served = {a[2] for a in poller.answers if out < a[0] < back and a[1] == 200}
        assert served == {app_host[other]}, f"while {member} upgraded: {served}"
    turns = ("app1", "app2", "standby", "lb", "db")
    order = [moment(f"{cluster.address(m)}: the upgrade to trixie ...") for m in turns]
    assert order == sorted(order), "the hosts upgraded out of order"
    assert moment("the deploy of every host") > moment(f"{cluster.address('db')}: the health gate")


def test_afterwards_every_host_is_on_trixie_the_primary_on_17_and_the_standby_streams_from_it(cluster):
    assert SEEN, "the upgrade test did not run"
    assert [release(cluster, member) for member in MEMBERS] == ["trixie"] * len(MEMBERS)
    assert clusters(cluster, "db") == ["17 main 5432 online"]
    assert sql(cluster, "db", "SELECT count(*) FROM notes WHERE body LIKE '% before'") != "0"
    assert clusters(cluster, "standby") == ["17 main 5432 online,recovery"]
    # a row written now through the lb reaches the standby: it streams from the new primary
    marker = uuid.uuid4().hex[:12]
    status, body = cluster.request("POST", "/api/notes", {"text": f"{marker} after"})
    assert status == 201, body
    query = f"SELECT count(*) FROM notes WHERE body = '{marker} after'"
    wait_for(lambda: sql(cluster, "standby", query) == "1", 60, "the new row on the standby", interval=0.5)
    assert "streaming" in sql(cluster, "db", "SELECT string_agg(state, ',') FROM pg_stat_replication")
    assert "maintenance mode: off" in cluster.root("lb", "louie-maintenance-mode status").stdout
    status, body = cluster.request("GET", "/health/db")
    assert status == 200 and body.get("database") == "up", body
    again = run_deploy(cluster.cluster, "-y")
    assert again.returncode == 0 and again.changed_operations == [], again.changed_operations
