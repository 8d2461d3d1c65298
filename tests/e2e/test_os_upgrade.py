"""`louieops os-upgrade`: a booted Debian 12 server with the whole stack (backup_pitr on) upgraded to Debian 13,
PostgreSQL 15 -> 17 with it, exactly as docs/upgrades.md tells the operator.

In order, on one server: bad input is refused before anything changes; the controller killed while apt
upgrades (a cancelled job) leaves the upgrade running on the server; the command run again follows it to its
end, and a forced failure of the PostgreSQL upgrade (a reg* column, which pg_upgrade refuses) leaves the old
cluster serving the rows; the same command run again goes on and finishes: the rows, TLS, the hardened sshd,
the monitors and the backups on the new release, and a deploy after it changes nothing. Nightly (make
test-os-upgrade): the upgrade downloads and installs a Debian release (about 20 minutes here).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
from pathlib import Path

import pytest

from louieops.clients import uptimerobot
from louieops.resources import server_script
from louieops.ssh_policy import DEBIAN_13, DEPLOY_CLIENT_KEX
from louieops.testbed import Testbed
from tests.e2e.conftest import Deployment, run_deploy, settings_of
from tests.e2e.helpers import controller, controller_env, https_pool, killed_when, root
from tests.e2e.test_pitr import with_pitr

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.nightly,
    pytest.mark.skipif(os.geteuid() != 0, reason="the test server needs root (netns, nftables, nspawn)"),
]

UPGRADE = '.venv/bin/louieops os-upgrade "$INVENTORY" --to trixie --yes'
BLOCKER = "louieops_upgrade_blocker"  # a regproc column: pg_upgrade refuses the cluster
ROWS = "louieops_upgrade_rows"
SSH_AUDIT = str(Path(sys.executable).with_name("ssh-audit"))
UNIT_CGROUP = server_script("louie-os-upgrade").UNIT_CGROUP


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with Testbed(name="osupgrade", release="bookworm") as testbed:
        with_pitr(testbed)
        first = run_deploy(testbed, "-y")
        if first.returncode != 0 or first.failed_operations:
            pytest.fail("first deploy failed: " + first.explain(), pytrace=False)
        deployed = Deployment(testbed, first, first, settings_of(testbed))
        pem = tmp_path_factory.mktemp("pebble") / "root.pem"
        pem.write_text(testbed.pebble_root_pem())
        yield deployed, str(pem)


def sql(deployed, statement: str) -> str:
    db = deployed.settings.postgresql_database
    return root(deployed, f"runuser -u postgres -- psql -X -At -d {db} -c {shlex.quote(statement)}").stdout.strip()


def clusters(deployed) -> list[str]:
    out = root(deployed, "pg_lsclusters --no-header").stdout
    return [" ".join(line.split()[:4]) for line in out.splitlines() if line.strip()]


def run(deployed, pem: str, line: str):
    done = controller(deployed, pem, line)
    print(f"\n$ {line}\n{done.stdout[-6000:]}{done.stderr[-3000:]}", file=sys.stderr)
    return done


def test_bad_input_and_a_failing_pre_check_are_refused_before_anything_changes(server):
    deployed, pem = server
    unknown = run(deployed, pem, '.venv/bin/louieops os-upgrade "$INVENTORY" --to sid --yes')
    assert unknown.returncode == 2 and "unknown release; louieops upgrades to trixie" in unknown.stderr
    same = run(deployed, pem, '.venv/bin/louieops os-upgrade "$INVENTORY" --to bookworm --yes')
    assert same.returncode == 0 and "already on bookworm: nothing to do" in same.stdout
    root(deployed, "apt-mark hold nginx")
    try:
        held = run(deployed, pem, UPGRADE)
    finally:
        root(deployed, "apt-mark unhold nginx")
    assert held.returncode == 2, held.stdout + held.stderr
    assert "held packages: nginx" in held.stdout and "nothing was changed" in held.stderr
    assert "bookworm" in root(deployed, "cat /etc/apt/sources.list").stdout
    ready = run(deployed, pem, '.venv/bin/louieops os-upgrade "$INVENTORY" --to trixie --check')
    assert ready.returncode == 0 and "ready to upgrade to trixie" in ready.stdout
    assert "maintenance mode: off" in root(deployed, "louie-maintenance-mode status").stdout


def test_the_controller_killed_during_the_upgrade_leaves_apt_running_on_the_server(server):
    deployed, pem = server
    sql(deployed, f"CREATE TABLE {ROWS} (id int PRIMARY KEY, note text); INSERT INTO {ROWS} VALUES (1, 'before')")
    sql(deployed, f"CREATE TABLE {BLOCKER} (p regproc); INSERT INTO {BLOCKER} VALUES ('now')")
    running_apt = "louie-os-upgrade: apt-get"  # the unit runs apt on the server: the controller is killed then
    seen = killed_when(["bash", "-c", UPGRADE], controller_env(deployed, pem), lambda line: running_apt in line)
    print("".join(seen[-20:]), file=sys.stderr)
    assert running_apt in seen[-1], "".join(seen)
    assert root(deployed, "systemctl is-active louie-os-upgrade.service", check=False).stdout.strip() == "active"
    # what the command run again waits for (with sh and grep alone): the unit's processes, found by their cgroup
    assert root(deployed, f"grep -ls '{UNIT_CGROUP}$' /proc/[0-9]*/cgroup", check=False).stdout.strip()


def test_run_again_it_follows_the_upgrade_and_a_failed_postgresql_upgrade_leaves_the_old_cluster_serving(server):
    deployed, pem = server
    failed = run(deployed, pem, UPGRADE)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    said = failed.stdout + failed.stderr
    assert "pg_upgradecluster failed" in said and "PostgreSQL 15/main serves again as before" in said
    assert "VERSION_CODENAME=trixie" in root(deployed, "cat /etc/os-release").stdout
    # the killed run's apt went on to its end, once: never restarted half-way
    assert root(deployed, "grep -c 'now on trixie' /var/log/louieops/os-upgrade.log").stdout.strip() == "1"
    assert clusters(deployed) == ["15 main 5432 online"]
    assert sql(deployed, f"SELECT note FROM {ROWS} WHERE id = 1") == "before"
    # the app answers from the old cluster; nginx keeps maintenance mode's page on until the run is finished
    s = deployed.settings
    app = root(deployed, f"curl -sS http://127.0.0.1:{s.app_port}/health/db").stdout
    assert json.loads(app)["database"] == "up", app
    assert https_pool(deployed, pem, s.domain_api).request("GET", "/health/db").status == 503
    assert "maintenance mode: on" in root(deployed, "louie-maintenance-mode status").stdout


def test_run_again_it_goes_on_and_the_stack_works_on_trixie_with_postgresql_17(server):
    deployed, pem = server
    s = deployed.settings
    sql(deployed, f"DROP TABLE {BLOCKER}; INSERT INTO {ROWS} VALUES (2, 'between')")
    plan = run(deployed, pem, '.venv/bin/louieops plan "$INVENTORY"')
    assert plan.returncode == 2 and "Upgrade PostgreSQL 15/main to 17" in plan.stdout, plan.stdout + plan.stderr
    done = run(deployed, pem, UPGRADE)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "is on trixie in" in done.stdout, done.stdout
    assert re.search(r"PostgreSQL 15 -> 17 \(upgrade\) took [\d.]+ s in maintenance mode", done.stdout), done.stdout

    # the data, on the new cluster alone
    assert clusters(deployed) == ["17 main 5432 online"]
    assert sql(deployed, f"SELECT string_agg(note, ',' ORDER BY id) FROM {ROWS}") == "before,between"
    assert sql(deployed, "SHOW server_version_num").startswith("17")
    stale = sql(
        deployed,
        "SELECT count(*) FROM pg_database WHERE datallowconn AND "
        "datcollversion IS DISTINCT FROM pg_database_collation_actual_version(oid)",
    )
    assert stale == "0"
    record = json.loads(root(deployed, "cat /var/lib/louieops/pg-upgrade.json").stdout)
    assert (record["phase"], record["source"], record["target"], record["method"]) == ("done", 15, 17, "upgrade")
    assert record["maintenance_seconds"] > 0 and record["pitr"] is True
    # the stanza follows the new version and holds a backup of it
    info = json.loads(root(deployed, "runuser -u postgres -- pgbackrest --stanza=main --output=json info").stdout)
    [stanza] = info
    assert stanza["status"]["code"] == 0 and stanza["db"][-1]["version"] == "17"
    assert any(b["database"]["id"] == stanza["db"][-1]["id"] for b in stanza["backup"]), stanza["backup"]

    # served through nginx with its certificate, out of maintenance mode
    pool = https_pool(deployed, pem, s.domain_api)
    health = pool.request("GET", "/health/db")
    assert health.status == 200 and json.loads(health.data)["database"] == "up"
    assert pool.request("GET", "/api/claude/status").status != 503
    assert "maintenance mode: off" in root(deployed, "louie-maintenance-mode status").stdout

    # the monitors: still registered, maintenance mode's window closed again
    client = uptimerobot.make_client(s.uptimerobot_api_url, deployed.env["UPTIMEROBOT_API_KEY"], 1000)
    assert {m.name for m in client.list_monitors()} >= {m["name"] for m in s.uptimerobot_monitors}
    assert [w.name for w in client.list_windows() if w.name == f"{s.app_name} maintenance mode"] == []
    again = run_deploy(deployed.testbed, "-y")
    assert again.returncode == 0 and not again.changed_operations, again.explain()

    # a downgrade is refused, nothing changed
    back = run(deployed, pem, '.venv/bin/louieops os-upgrade "$INVENTORY" --to bookworm --yes')
    assert back.returncode == 2 and "a downgrade is not possible" in back.stdout


def test_sshd_on_trixie_meets_the_hardened_debian_13_policy_but_the_deploy_client_key_exchange(server):
    deployed, _ = server
    with deployed.testbed.client_host() as client:
        root(deployed, f"fail2ban-client set sshd addignoreip {client.address}", check=False)
        policy = client.run(
            [SSH_AUDIT, "--skip-rate-test", "-P", DEBIAN_13.name, client.server_address],
            capture_output=True,
            text=True,
            timeout=120,
        )
    print(policy.stdout[-3000:], file=sys.stderr)
    errors = [line.strip() for line in policy.stdout.splitlines() if line.strip().startswith("* ")]
    assert errors == ["* Key exchanges did not match."], policy.stdout  # ciphers, MACs, host keys: as the policy
    expected, actual = (
        set(line.split(":", 1)[1].strip().split(", "))
        for line in policy.stdout.splitlines()
        if line.strip().startswith(("- Expected:", "- Actual:"))
    )
    assert actual - expected == {DEPLOY_CLIENT_KEX}, policy.stdout  # the one for the deploy's paramiko 4
