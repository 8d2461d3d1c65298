"""The whole deploy.py planned for each host of a five-server cluster (lb, app1, app2, db, standby) against fake
hosts (tests/unit/planning.py): each host gets the steps of its roles only, and what one role needs of another
is derived from the inventory (the app's database host, the lb's upstreams, pg_hba, the firewalls)."""

from __future__ import annotations

import ipaddress
import re
import runpy

import pytest
from cryptography import x509
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from pyinfra.facts.server import LinuxDistribution

from louieops import dbtls, placement, resources, server_scripts, topology
from louieops.facts.postgresql import (
    PostgresClusters,
    PostgresClusterState,
    PostgresUpstreamVersion,
    parse_server_version,
)
from louieops.layout import app_paths
from louieops.settings import defaults, for_host
from tasks import nginx, postgresql, release
from tests.unit.helpers import fact_key
from tests.unit.planning import DEPLOY_SECRETS, FIVE, FIVE_GROUPS, Cluster, cluster, plan

LB, APP1, APP2, DB, STANDBY = FIVE
SECRETS = DEPLOY_SECRETS
DEPLOY = str(resources.REPO_ROOT / "deploy.py")
SETTINGS = {"backup_s3_bucket": None, "cluster_name": "prod"}


@pytest.fixture(autouse=True)
def secrets(monkeypatch):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    for name in ("UPTIMEROBOT_API_KEY", "SENTRY_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def deploy_on(me: str, facts=None, **settings):
    return plan(lambda: runpy.run_path(DEPLOY), facts, on=cluster(me), **{**SETTINGS, **settings})


def steps(planned) -> set[str]:
    """The deploy steps (the @deploy labels) whose operations a host got."""
    return set(planned.steps)


@pytest.mark.parametrize(
    "me, wanted, unwanted",
    [
        ("lb", {"Base system", "nginx", "TLS certificates", "nginx HTTPS sites", "Health check"}, {"PostgreSQL"}),
        ("app1", {"Base system", "Node.js and pm2", "The app's releases", "Backups"}, {"nginx", "PostgreSQL"}),
        ("db", {"Base system", "PostgreSQL", "Backups", "Health check"}, {"nginx", "Node.js and pm2"}),
        ("standby", {"Base system", "PostgreSQL", "Health check"}, {"Backups", "The app's releases", "nginx"}),
    ],
)
def test_each_host_gets_the_steps_of_its_roles_only(me, wanted, unwanted):
    planned = steps(deploy_on(me))
    assert wanted <= planned, wanted - planned
    assert not unwanted & planned, unwanted & planned
    assert "TLS certificates" not in planned or me == "lb"


def test_the_database_hosts_do_not_install_node_and_the_app_hosts_not_the_postgresql_server():
    db = deploy_on("db").operations
    app = deploy_on("app1").operations
    assert "Install PostgreSQL 15" in db and not any("Node.js" in op or "nginx" in op for op in db)
    assert "Install the PostgreSQL client" in app and "Install PostgreSQL 15" not in app


def test_the_single_server_inventory_still_gets_every_step_and_no_client_of_its_own():
    planned = plan(lambda: runpy.run_path(DEPLOY), backup_s3_bucket=None)
    assert {"PostgreSQL", "nginx", "The app's releases", "Backups"} <= steps(planned)
    assert "Install the PostgreSQL client" not in planned.operations
    assert not any("replication" in op.lower() for op in planned.operations)


def test_the_standby_copies_the_primary_with_pg_basebackup_through_its_slot():
    planned = deploy_on("standby", {fact_key(PostgresClusterState, {}): {"in_recovery": False, "databases": []}})
    (name,) = [op for op in planned.operations if op.startswith("Copy the primary")]
    (command,) = planned.commands[name]
    assert "pg_basebackup" in command and "--slot louieops_10_0_0_5" in command
    assert f"host={DB} port=5432 user=replicator" in command and "sslmode=verify-full" in command
    assert command.index("simplylouie") < command.index("systemctl stop")  # it refuses a cluster with the app's db
    again = deploy_on("standby", {fact_key(PostgresClusterState, {}): {"in_recovery": True, "databases": []}})
    assert not any(op.startswith("Copy the primary") for op in again.operations)


def test_a_standby_that_holds_the_apps_database_is_never_overwritten():
    state = {fact_key(PostgresClusterState, {}): {"in_recovery": False, "databases": ["postgres", "simplylouie"]}}
    with pytest.raises(Exception, match=r"is in db_standby but its PostgreSQL is a primary holding database"):
        deploy_on("standby", state)


def test_the_primary_keeps_the_replication_role_and_the_standbys_slot_before_the_standby_copies_it():
    planned = deploy_on("db")
    ops = planned.operations
    assert "Ensure PostgreSQL replication role replicator with its password" in ops
    slot = "Keep a replication slot for each standby (and none for a standby that is gone)"
    assert ops.index(slot) < ops.index("Wait for the primary's roles and replication slots")


def render(relative: str, **data) -> str:
    folder, name = relative.split("/")
    env = Environment(undefined=StrictUndefined, loader=FileSystemLoader(resources.TEMPLATES / folder))
    return env.get_template(name).render(managed="Managed by louieops (test)", **data)


def host_of(me: str):
    """The pyinfra host ``me`` of the five-server cluster, with the defaults of all.py."""
    return cluster(me).inventory(defaults.load()).get_host(cluster(me).me)


def settings_of(me: str):
    host = host_of(me)
    return for_host(host), topology.of(host), topology.me(host)


def test_pg_hba_lets_exactly_the_app_hosts_in_over_tls_and_the_standby_replicate():
    s, topo, me = settings_of("db")
    text = render("postgresql/pg_hba.conf.j2", **postgresql.hba_variables(s, topo, me))
    remote = [line.split() for line in text.splitlines() if line.startswith("hostssl")]
    assert remote == [
        ["hostssl", "simplylouie", "simplylouie", f"{APP1}/32", "scram-sha-256"],
        ["hostssl", "simplylouie", "simplylouie", f"{APP2}/32", "scram-sha-256"],
        ["hostssl", "replication", "replicator", f"{STANDBY}/32", "scram-sha-256"],
    ]
    assert not re.search(r"^host\s.*(0\.0\.0\.0|10\.)", text, re.M)  # plain TCP from loopback only


def test_postgresql_listens_on_its_private_address_with_the_deploys_certificate():
    s, topo, me = settings_of("db")
    conf = render("postgresql/louieops.conf.j2", **postgresql.conf_variables(s, topo, me, 2048))
    assert f"listen_addresses = 'localhost,{DB}'" in conf
    assert "ssl = on" in conf and "ssl_cert_file = '/etc/louieops/db-tls/server.crt'" in conf
    s, topo, me = settings_of("standby")
    conf = render("postgresql/louieops.conf.j2", **postgresql.conf_variables(s, topo, me, 2048))
    assert f"primary_conninfo = 'host={DB} port=5432 user=replicator" in conf
    assert "primary_slot_name = 'louieops_10_0_0_5'" in conf and "password" not in conf.split("primary_conninfo")[1]


def test_the_database_certificate_is_derived_the_same_on_every_run_and_names_the_private_address():
    secret = SECRETS["LOUIE_CLUSTER_SECRET"]
    first, second = dbtls.server(secret, "prod", DB, DB), dbtls.server(secret, "prod", DB, DB)
    assert first == second  # byte-identical: a second deploy uploads nothing
    cert = x509.load_pem_x509_certificate(first.certificate.encode())
    assert cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.IPAddress
    ) == [ipaddress.ip_address(DB)]
    ca = x509.load_pem_x509_certificate(dbtls.ca(secret, "prod").certificate.encode())
    cert.verify_directly_issued_by(ca)
    assert dbtls.server("another secret of enough length", "prod", DB, DB) != first
    with pytest.raises(ValueError, match="too short"):
        dbtls.ca("short", "prod")


def test_the_lb_proxies_to_an_upstream_of_the_app_hosts_with_passive_checks_and_sticky_websockets():
    s, topo, _ = settings_of("lb")
    servers = [f"{APP1}:3000", f"{APP2}:3000"]
    text = render(
        "nginx/louieops-upstreams.conf.j2",
        app_upstream_name=nginx.APP_UPSTREAM,
        websocket_upstream_name=nginx.WEBSOCKET_UPSTREAM,
        servers=servers,
        nginx_upstream_max_fails=1,
        nginx_upstream_fail_timeout=10,
        connect_timeout=2,
    )
    app_block = text.split("upstream louieops_app {")[1].split("}")[0]
    ws_block = text.split("upstream louieops_websocket {")[1].split("}")[0]
    assert [line.split()[1] for line in app_block.strip().splitlines()] == servers
    assert "max_fails=1 fail_timeout=10s" in app_block
    assert "hash $remote_addr consistent;" in ws_block and "hash" not in app_block
    assert "proxy_next_upstream error timeout http_502 http_503 http_504;" in text
    site = nginx.site_variables(s, True, servers)
    assert site["app_upstream"] == "http://louieops_app" and site["websocket_upstream"] == "http://louieops_websocket"
    single = nginx.site_variables(s, True)
    assert single["app_upstream"] == single["websocket_upstream"] == "http://127.0.0.1:3000"


def test_the_app_reaches_the_db_host_over_verify_full_tls_and_listens_for_the_lb():
    s, where = for_host(host_of("app1")), placement.of(host_of("app1"))
    env = release.app_env(s, app_paths(s), where)
    assert (env["HOST"], env["PGHOST"], env["PGSSLMODE"]) == (APP1, DB, "verify-full")
    assert env["TRUSTED_PROXIES"] == LB
    url = release.app_secrets(s, where)["DATABASE_URL"]
    assert url.startswith(f"postgresql://simplylouie:pencil@{DB}:5432/simplylouie?sslmode=verify-full")


def test_the_app_hosts_gate_their_own_health_and_leave_the_rotation_meanwhile():
    host = host_of("app1")
    s, where = for_host(host), placement.of(host)
    config = server_scripts.release_config(s, where)
    assert config["health"]["url"] == f"http://{APP1}:3000/health"
    assert config["drain"] == {"port": 3000, "ipv4": [LB], "ipv6": [], "rejoin_seconds": 10}
    health = server_scripts.health_config(s, where)
    assert health["database"] is None and health["cert_domains"] == [] and health["api"]["url"].endswith("/health")
    assert server_scripts.backup_kinds(where) == ["uploads", "logs"]
    assert server_scripts.backup_kinds(placement.of(host_of("db"))) == ["db"]
    assert server_scripts.backup_kinds(placement.of(host_of("standby"))) == []


def test_the_only_app_host_never_leaves_the_rotation():
    two = Cluster((LB, APP1, DB), {"lb": (LB,), "app": (APP1,), "db": (DB,)}, APP1)
    assert placement.of(two.inventory(defaults.load()).get_host(APP1)).drain is None


def test_each_host_checks_in_to_cron_monitors_of_its_own_and_the_lb_registers_them_all():
    from louieops import checkins
    from tasks import saas

    s = for_host(host_of("app1")).replace(sentry_cron_jobs=["backup-db", "backup-uploads", "health-check"])
    config = server_scripts.checkin_config(s, None, host_of("app1").name)
    assert config["monitors"]["health-check"]["slug"] == "simplylouie-health-check-10-0-0-2"
    specs = saas.sentry_cron_monitors(s, topology.of(host_of("lb")))
    slugs = sorted(spec.slug for spec in specs)
    assert slugs == sorted(
        ["simplylouie-backup-db-10-0-0-4"]
        + [f"simplylouie-backup-uploads-10-0-0-{n}" for n in (2, 3)]
        + [f"simplylouie-health-check-10-0-0-{n}" for n in (1, 2, 3, 4, 5)]
    )
    assert all(len(slug) <= checkins.MAX_SLUG for slug in slugs)
    assert {spec.name for spec in specs} >= {"[louieops] cron backup-db on 10.0.0.4"}
    long = checkins.slug(s, "backup-uploads", "app-server-in-frankfurt-number-twelve.example.com")
    assert len(long) <= checkins.MAX_SLUG and long.startswith("simplylouie-backup-uploads-app-server-")


@pytest.mark.parametrize("me", ["lb", "app1", "db", "standby"])
def test_every_group_a_user_joins_is_created_before_it(me):
    """useradd -G fails on a group that does not exist: the alert group is made on every host, not only where
    the app runs (CI: "useradd: group 'alerts' does not exist" on the lb and db)."""
    planned = deploy_on(me)
    created: set[str] = set()
    joined = 0
    for name in planned.operations:
        for command in planned.commands[name]:
            made = re.search(r"\b(?:groupadd|useradd)\b.* (\S+)$", command)  # Debian's useradd: a group per user
            if made:
                created.add(made.group(1).strip("'\""))
            found = re.search(r"\buseradd\b.*?(?:-G|--groups) (\S+)", command)
            if found:
                joined += 1
                wanted = set(found.group(1).strip("'\"").split(",")) - {"adm", "ssl-cert", "postgres"}
                assert wanted <= created, f"{name}: {command} needs {wanted - created}"
    assert joined, "no useradd with supplementary groups was planned: the test checks nothing"


TRIXIE = {"name": "Debian", "major": 13, "minor": 0, "release_meta": {"ID": "debian"}}
#: A server upgraded to Debian 13: the old cluster serves on 5432, Debian's package made 17/main on the next port.
BOTH_CLUSTERS = [
    {"version": 15, "name": "main", "port": 5432, "online": True},
    {"version": 17, "name": "main", "port": 5433, "online": True},
]


def on_trixie(primary_version=None, state=None):
    facts = {
        fact_key(LinuxDistribution, {}): TRIXIE,
        fact_key(PostgresClusters, {}): BOTH_CLUSTERS,
        fact_key(PostgresClusterState, {}): state or {"in_recovery": True, "databases": ["postgres", "simplylouie"]},
    }
    if primary_version is not None:
        conninfo = postgresql.replication_conninfo(topology.from_groups([(a, None) for a in FIVE], FIVE_GROUPS))
        facts[fact_key(PostgresUpstreamVersion, {"conninfo": conninfo})] = primary_version
    return facts


def test_the_primary_with_a_standby_is_upgraded_by_the_deploy_on_the_new_release():
    planned = deploy_on("db", on_trixie())
    (name,) = [op for op in planned.operations if op.startswith("Upgrade PostgreSQL 15/main to 17")]
    assert "louie-pg-upgrade --from 15 --to 17" in planned.commands[name][0]


def test_the_standby_keeps_streaming_from_an_older_primary_and_is_copied_again_once_the_primary_is_upgraded():
    waiting = deploy_on("standby", on_trixie(primary_version=15)).operations
    assert not [op for op in waiting if op.startswith(("Drop the standby", "Copy the primary", "Upgrade PostgreSQL"))]
    # meanwhile the deploy configures the cluster that runs: 15, not the 17 its release installs
    assert "Upload /etc/postgresql/15/main/conf.d/louieops.conf" in waiting
    assert not [op for op in waiting if "/etc/postgresql/17" in op or "postgresql@17" in op]
    planned = deploy_on("standby", on_trixie(primary_version=17))
    ops = planned.operations
    (drop,) = [op for op in ops if op.startswith("Drop the standby's PostgreSQL 15/main")]
    (copy,) = [op for op in ops if op.startswith("Copy the primary")]
    assert ops.index(drop) < ops.index("Wait for the primary's roles and replication slots") < ops.index(copy)
    assert planned.commands[drop] == [
        "pg_dropcluster --stop 15 main",
        "if [ -f /etc/postgresql/17/main/postgresql.conf ]; then pg_conftool 17 main set port 5432; "
        "else rm -rf /etc/postgresql/17/main && pg_createcluster 17 main --port 5432; fi",
        "systemctl restart postgresql@17-main.service",
    ]
    assert "/var/lib/postgresql/17/main.louieops-copy" in planned.commands[copy][0]
    assert "Upload /etc/postgresql/17/main/conf.d/louieops.conf" in ops
    assert not [op for op in ops if op.startswith("Upgrade PostgreSQL")]


def test_the_primarys_version_is_asked_over_a_replication_connection():
    command = PostgresUpstreamVersion().command("host=10.0.0.4 user=replicator").get_raw_value()
    assert "'host=10.0.0.4 user=replicator replication=true connect_timeout=10'" in command
    assert "SHOW server_version_num" in command
    assert parse_server_version(["170004"]) == 17 and parse_server_version([]) is None
