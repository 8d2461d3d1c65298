"""Past one machine: four test servers (lb, app1, app2, db), each in its own network namespace with its own
address, reaching each other through the controller, deployed together from one inventory (roles from its
groups). The deploy is lean per role, the API is served through the lb from both app hosts, the app reaches
PostgreSQL over verified TLS, the database refuses every host but the app hosts, and stopping one app host's pm2
loses no request, and a release rolls out one app host at a time without a failed request. The standby, the
promotion and a release that fails its gate on several servers are in test_multihost_standby.py."""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
import time
import uuid

import pytest

from louieops.testbed.cluster import MEMBERS
from tests.e2e.helpers import wait_for
from tests.e2e.multihost import (
    LbPoller,
    connects,
    deployed_cluster,
    roll_out_a_good_release,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(os.geteuid() != 0, reason="the test servers need root (netns, nftables, nspawn)"),
]

NAME = os.environ.get("LOUIEOPS_E2E_CLUSTER", "e2e-mh")
FOUR = {member: roles for member, roles in MEMBERS.items() if member != "standby"}
APP_PORT = 3000


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    yield from deployed_cluster(NAME, FOUR, tmp_path_factory)


def test_the_second_deploy_of_the_cluster_reports_zero_changed_operations(cluster, figure):
    second = cluster.second
    figure(f"cluster deploy: first run {cluster.first.seconds:.0f} s, second (no-op) {second.seconds:.0f} s")
    assert second.returncode == 0, second.explain()
    assert second.changed_operations == [], f"changed on the second run: {second.changed_operations}"
    totals = second.report["results"]["totals"]
    assert totals["success"] == 0 and totals["error"] == 0 and totals["no_change"] > 0


def installed(cluster, member: str, package: str) -> bool:
    done = cluster.root(member, f"dpkg-query -W -f '${{Status}}' {package}", check=False)
    return done.stdout.strip() == "install ok installed"


@pytest.mark.parametrize(
    "member, present, absent",
    [
        ("lb", ["nginx", "certbot"], ["postgresql-15", "nodejs"]),
        ("app1", ["nodejs", "postgresql-client-15"], ["nginx", "postgresql-15", "certbot"]),
        ("db", ["postgresql-15"], ["nginx", "nodejs", "certbot"]),
    ],
)
def test_each_role_installs_only_what_it_needs(cluster, member, present, absent):
    assert [p for p in present if not installed(cluster, member, p)] == []
    assert [p for p in absent if installed(cluster, member, p)] == []


def test_the_api_writes_rows_through_the_lb_that_both_app_hosts_store_and_read_from_the_db(cluster):
    marker = uuid.uuid4().hex[:12]
    writers: set[str] = set()

    def both_wrote() -> bool:
        status, body = cluster.request("POST", "/api/notes", {"text": f"{marker} {len(writers)}"})
        assert status == 201, body
        writers.add(body["data"]["host"])
        return len(writers) == 2

    wait_for(both_wrote, 60, "a row written through the lb by each app host", interval=0.2)
    assert writers == {f"{NAME}-app1", f"{NAME}-app2"}
    status, body = cluster.request("GET", "/api/notes")
    assert status == 200 and {note["host"] for note in body["data"] if note["body"].startswith(marker)} == writers
    query = f"SELECT count(*) FROM notes WHERE body LIKE '{marker}%'"
    stored = cluster.root("db", f"runuser -u postgres -- psql -X -At -d simplylouie -c {shlex.quote(query)}")
    assert int(stored.stdout) >= 2


def app_psql(cluster, sslmode: str) -> str:
    """psql on app1 as the app user, with the app's own environment but ``sslmode``."""
    script = (
        "set -a; . /etc/simplylouie/app.env; set +a; "
        f"PGHOST={cluster.address('db')} PGUSER=simplylouie PGDATABASE=simplylouie PGPASSWORD=$LOUIE_DB_PASSWORD "
        f"PGSSLMODE={sslmode} PGSSLROOTCERT=/etc/louieops/db-tls/ca.crt PGCONNECT_TIMEOUT=5 "
        "psql -X -At -c 'SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()' 2>&1"
    )
    return cluster.root("app1", f"runuser -u simplylouie -- bash -c {shlex.quote(script)}", check=False).stdout


def test_the_app_reaches_the_database_over_tls_checked_against_the_deploys_ca(cluster):
    assert app_psql(cluster, "verify-full").strip() == "t|TLSv1.3"
    refused = app_psql(cluster, "disable")
    assert "no pg_hba.conf entry" in refused and "no encryption" in refused, refused


def test_the_database_refuses_every_host_but_the_app_hosts(cluster):
    db = cluster.address("db")
    assert connects(cluster, "app1", db, 5432) and connects(cluster, "app2", db, 5432)
    assert not connects(cluster, "lb", db, 5432)
    listening = cluster.root("db", "ss -ltnH 'sport = :5432'").stdout.split()
    assert sorted(a for a in listening if a.endswith(":5432")) == sorted([f"{db}:5432", "127.0.0.1:5432", "[::1]:5432"])


def test_only_the_lb_reaches_the_app_hosts_port(cluster):
    app1 = cluster.address("app1")
    assert connects(cluster, "lb", app1, APP_PORT)
    assert not connects(cluster, "db", app1, APP_PORT)
    assert not connects(cluster, "app2", app1, APP_PORT)


def test_stopping_app1s_pm2_loses_no_request_of_a_client_polling_through_the_lb(cluster):
    with LbPoller(cluster, interval=0.1) as poller:
        wait_for(lambda: len(poller.hosts()) == 2, 30, "both app hosts answering through the lb", interval=0.1)
        cluster.root("app1", "systemctl stop pm2-simplylouie")
        # systemctl stop returns once pm2 and the app are gone (their cgroup is empty): a request sent after it
        # cannot be answered by app1, however long the stop took on a loaded machine
        stopped = time.monotonic()
        # long enough for nginx to try app1 again after its fail_timeout (10 s) and find it still down
        wait_for(lambda: time.monotonic() - stopped > 12 and len(poller.since(stopped)) >= 100, 60, "12 s of polling")
        during = poller.since(stopped)
        cluster.root("app1", "systemctl start pm2-simplylouie")
        wait_for(lambda: f"{NAME}-app1" in poller.hosts(time.monotonic() - 2), 60, "app1 back in rotation")
    assert poller.failures == [], poller.failures[:10]
    assert {a[2] for a in during} == {f"{NAME}-app2"}, {a[2] for a in during}
    assert len(poller.answers) >= 150


def test_each_host_checks_what_its_roles_serve_and_its_alerts_name_it(cluster):
    def results(member: str) -> dict:
        out = cluster.root(member, "/opt/scripts/health-check --no-alert --json", check=False).stdout
        return {r["key"]: r for r in json.loads(out)["results"]}

    lb, app, db = results("lb"), results("app1"), results("db")
    assert "through nginx" in lb["api"]["message"] and lb["api"]["level"] == "ok"
    assert any(key.startswith("cert_expiry_days:") for key in lb) and "database" not in lb
    assert f"on the app (http://{cluster.address('app1')}:{APP_PORT}/health)" in app["api"]["message"]
    assert "database" not in app and not any(key.startswith("cert_expiry") for key in app)
    assert db["database"]["level"] == "ok" and "api" not in db
    assert "(db)" in cluster.root("db", "louie-status").stdout.splitlines()[0]

    # app1's API down: its own health check alerts, naming the host
    recorder = cluster.cluster["lb"].recorder
    # a run with the app up first: an API alert still open (a cron run while an earlier test stopped the app)
    # would make the next one a repeat that sends nothing
    cluster.root("app1", "/opt/scripts/health-check", check=False)
    since = time.time()
    cluster.root("app1", "systemctl stop pm2-simplylouie")
    try:
        cluster.root("app1", "/opt/scripts/health-check", check=False)
        posts = [r["body"] for r in recorder.requests() if r["path"].startswith("/slack/") and r["time"] >= since]
        assert any(f"@{NAME}-app1" in body and "API down on the app" in body for body in posts), posts[-3:]
    finally:
        cluster.root("app1", "systemctl start pm2-simplylouie")
        wait_for(lambda: connects(cluster, "lb", cluster.address("app1"), APP_PORT), 60, "app1's app back")
        cluster.root("app1", "/opt/scripts/health-check", check=False)  # resolves the alert


def upstream_connections(cluster, member: str) -> int:
    """Established connections from the lb to ``member``'s app (websockets stay open; requests do not)."""
    lb = cluster.address("lb")
    out = cluster.root(member, f"ss -tnH state established '( sport = :{APP_PORT} )'").stdout
    return sum(1 for line in out.splitlines() if line.split() and line.split()[-1].startswith(f"{lb}:"))


def test_a_clients_websockets_stay_on_one_app_host(cluster):
    import websocket

    domain = "ws.simplylouie.test"
    sockets = [
        websocket.create_connection(
            f"wss://{cluster.address('lb')}/ws",
            host=domain,
            timeout=10,
            sslopt={"ca_certs": cluster.pebble_root, "server_hostname": domain, "check_hostname": True},
        )
        for _ in range(6)
    ]
    try:
        for number, ws in enumerate(sockets):
            ws.send(f"hello {number}")
            assert ws.recv() == f"hello {number}"
        counts = sorted(upstream_connections(cluster, member) for member in ("app1", "app2"))
        assert counts == [0, 6], counts
    finally:
        for ws in sockets:
            ws.close()


def test_the_lb_rate_limits_the_api_and_bans_a_client_that_keeps_exceeding_it(cluster):
    """More 429s than fail2ban_rate_limit_maxretry (30) ban the client on the lb; the test unbans it again so
    the tests after it (run in this module's order) still reach the lb."""
    from concurrent.futures import ThreadPoolExecutor

    def status(_) -> int:
        try:
            return cluster.request("GET", "/api/claude/status")[0]
        except Exception:  # noqa: BLE001 - once banned, the lb refuses the connection: counted as 0
            return 0

    jail = "louieops-rate-limit"
    try:
        with ThreadPoolExecutor(max_workers=20) as pool:
            statuses = list(pool.map(status, range(120)))
        assert statuses.count(429) > 0 and statuses.count(200) >= 10, statuses
        wait_for(
            lambda: re.search(r"Currently banned:\s+1\b", cluster.root("lb", f"fail2ban-client status {jail}").stdout),
            60,
            f"the lb's {jail} jail to ban the client",
        )
    finally:
        cluster.root("lb", "fail2ban-client unban --all", check=False)
    assert cluster.request("GET", "/health")[0] == 200


def test_a_good_release_rolls_out_one_app_host_at_a_time_without_a_failed_request_through_the_lb(cluster):
    """The release story on several servers in `make test` (the failing release, too, is in the nightly
    test_multihost_standby.py): each app host is taken out of the lb, gated, switched and put back in turn."""
    poller = roll_out_a_good_release(cluster, interval=0.05)
    assert len(poller.answers) > 100 and poller.failures == [], poller.failures[:10]
    print(f"\nrolling release through the lb: {len(poller.answers)} requests, 0 failed", file=sys.stderr)
