"""The release upgrade's rules without a server: louie-os-upgrade's pre-checks and sources, louie-pg-upgrade's
refusals, the PostgreSQL cluster fact, and `louieops os-upgrade`'s refusals before it connects."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from louieops import topology
from louieops.facts.postgresql import parse_clusters
from louieops.resources import REPO_ROOT, server_script


@pytest.fixture
def os_upgrade(tmp_path, monkeypatch):
    """louie-os-upgrade with its /etc, /run and /var under tmp_path, on a bookworm server."""
    monkeypatch.setenv("LOUIE_OS_UPGRADE_ROOT", str(tmp_path))
    (tmp_path / "etc/apt/sources.list.d").mkdir(parents=True)
    (tmp_path / "var").mkdir()
    (tmp_path / "etc/os-release").write_text('PRETTY_NAME="Debian GNU/Linux 12"\nVERSION_CODENAME=bookworm\n')
    (tmp_path / "etc/apt/sources.list").write_text(
        "deb http://deb.debian.org/debian bookworm main\n"
        "deb http://deb.debian.org/debian bookworm-updates main\n"
        "deb http://deb.debian.org/debian-security bookworm-security main\n"
    )
    module = server_script("louie-os-upgrade")
    monkeypatch.setattr(module, "output", lambda command: "")  # apt-mark, apt list, dpkg: nothing to report
    return module


def test_the_sources_name_the_new_release_where_apt_reads_the_code_name_only():
    module = server_script("louie-os-upgrade")
    text = (
        "deb http://deb.debian.org/debian bookworm main\n"
        "deb http://deb.debian.org/debian-security bookworm-security main\n"
        "deb http://mirror.bookworm.example/debian bookworm-updates main\n"
        "Types: deb\nSuites: bookworm bookworm-backports\n"
        "deb https://deb.nodesource.com/node_22.x nodistro main\n"
    )
    assert module.switched(text, "bookworm", "trixie") == (
        "deb http://deb.debian.org/debian trixie main\n"
        "deb http://deb.debian.org/debian-security trixie-security main\n"
        "deb http://mirror.bookworm.example/debian trixie-updates main\n"
        "Types: deb\nSuites: trixie trixie-backports\n"
        "deb https://deb.nodesource.com/node_22.x nodistro main\n"
    )


def test_bad_targets_are_refused_with_the_reason(os_upgrade, tmp_path):
    with pytest.raises(os_upgrade.Refused, match="unknown release 'sid': this version upgrades to trixie"):
        os_upgrade.check("sid")
    (tmp_path / "etc/os-release").write_text("VERSION_CODENAME=trixie\n")
    with pytest.raises(os_upgrade.Refused, match="bookworm is older than this server's trixie: a downgrade"):
        os_upgrade.check("bookworm")


def test_a_ready_server_and_the_pre_checks_that_refuse_it(os_upgrade, tmp_path, monkeypatch):
    assert os_upgrade.check("trixie") == "ready"
    assert os_upgrade.check("bookworm") == "already"
    (tmp_path / "run").mkdir()
    (tmp_path / "run/reboot-required").write_text("*** System restart required ***\n")
    answers = {"apt-mark": "nginx\n", "apt": "remote-syslog2/now 0.21 amd64 [installed,local]\n", "dpkg": ""}
    monkeypatch.setattr(os_upgrade, "output", lambda command: answers[command[0]])
    with pytest.raises(os_upgrade.Refused) as refused:
        os_upgrade.check("trixie", min_free_mb=10**9)
    reasons = str(refused.value).splitlines()
    assert reasons[0].startswith("only ") and reasons[0].endswith(": the upgrade needs 1000000000 MB")
    assert "held packages: nginx (apt-mark unhold them, or upgrade by hand)" in reasons
    assert "packages no configured source has: remote-syslog2 (remove them, or add their source)" in reasons
    assert any(reason.startswith("a reboot is pending") for reason in reasons)


def test_switched_sources_are_kept_and_a_stopped_run_resumes_without_its_own_reboot_flag(
    os_upgrade, tmp_path, monkeypatch
):
    changed = os_upgrade.switch_sources("bookworm", "trixie")
    assert changed == [str(tmp_path / "etc/apt/sources.list")]
    assert "bookworm" not in (tmp_path / "etc/apt/sources.list").read_text()
    [saved] = (tmp_path / "var/lib/louieops/os-upgrade-sources").iterdir()
    assert "bookworm-security" in saved.read_text()
    (tmp_path / "run").mkdir()
    (tmp_path / "run/reboot-required").write_text("")
    assert os_upgrade.check("trixie") == "resuming"  # still bookworm, sources switched: the run goes on
    assert os_upgrade.switch_sources("bookworm", "trixie") == []
    # os-release names trixie early in the upgrade: a run that did not end (or failed) goes on too, though the
    # bookworm packages trixie dropped are "local" by then
    (tmp_path / "etc/os-release").write_text("VERSION_CODENAME=trixie\n")
    dropped = {"apt-mark": "", "apt": "libicu72/now 72.1-3 amd64 [installed,local]\n", "dpkg": ""}
    monkeypatch.setattr(os_upgrade, "output", lambda command: dropped[command[0]])
    for state in ("upgrading", "failed"):
        os_upgrade.record(target="trixie", state=state, run="r1")
        assert os_upgrade.check("trixie") == "resuming"


def test_a_server_this_upgraded_reboots_then_finishes_until_the_controller_says_done(os_upgrade, tmp_path):
    (tmp_path / "etc/os-release").write_text("VERSION_CODENAME=trixie\n")
    (tmp_path / "etc/apt/sources.list").write_text("deb http://deb.debian.org/debian trixie main\n")
    (tmp_path / "proc/sys/kernel/random").mkdir(parents=True)
    (tmp_path / "proc/sys/kernel/random/boot_id").write_text("boot-1\n")
    os_upgrade.record(target="trixie", state="upgraded", boot_id="boot-1")
    assert os_upgrade.check("trixie") == "rebooting"
    (tmp_path / "proc/sys/kernel/random/boot_id").write_text("boot-2\n")
    assert os_upgrade.check("trixie") == "finishing"
    assert os_upgrade.main(["done", "--to", "trixie"]) == 0
    assert json.loads((tmp_path / "var/lib/louieops/os-upgrade.json").read_text())["state"] == "done"
    assert os_upgrade.check("trixie") == "already"


def test_pg_upgrade_refuses_a_downgrade_and_an_unknown_method():
    module = server_script("louie-pg-upgrade")
    with pytest.raises(module.Refused, match="not newer than --from 17: PostgreSQL cannot go back"):
        module.check(17, 15, "upgrade")
    with pytest.raises(module.Refused, match="--method 'copy': one of upgrade, dump, link"):
        module.check(15, 17, "copy")


def test_the_cluster_fact_reads_pg_lsclusters():
    lines = [
        "17  main    5432 online postgres /var/lib/postgresql/17/main /var/log/postgresql/postgresql-17-main.log",
        "15  main    5433 down   postgres /var/lib/postgresql/15/main /var/log/postgresql/postgresql-15-main.log",
        "Warning: something pg_lsclusters says",
    ]
    assert parse_clusters(lines) == [
        {"version": 15, "name": "main", "port": 5433, "online": False},
        {"version": 17, "name": "main", "port": 5432, "online": True},
    ]


def louieops(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "louieops.cli", *arguments], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )


def test_the_controller_refuses_before_it_connects():
    unknown = louieops("os-upgrade", "inventory/production.py", "--to", "sid")
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == "louieops os-upgrade: --to 'sid': unknown release; louieops upgrades to trixie"
    stranger = louieops("os-upgrade", "inventory/multihost.py", "--to", "trixie", "--host", "203.0.113.99")
    assert stranger.returncode == 2 and "has no host '203.0.113.99'" in stranger.stderr
    missing = louieops("os-upgrade", "inventory/nowhere.py", "--to", "trixie")
    assert missing.returncode == 2 and "inventory inventory/nowhere.py does not exist" in missing.stderr


class FakeServer:
    """louie-pg-upgrade's view of a server: its clusters and the commands it ran (nothing is run)."""

    def __init__(self, module, monkeypatch, tmp_path, clusters, fail=()):
        self.clusters, self.commands, self.fail = dict(clusters), [], fail
        monkeypatch.setattr(module, "STATUS", str(tmp_path / "pg-upgrade.json"))
        monkeypatch.setattr(module, "MAINTENANCE", str(tmp_path / "no-nginx-here"))
        monkeypatch.setattr(module, "PITR_CONFIG", str(tmp_path / "no-pgbackrest.conf"))
        monkeypatch.setattr(module, "listed", lambda: {k: ("5432", v) for k, v in self.clusters.items()})
        monkeypatch.setattr(module, "check", lambda old, new, method: None)
        monkeypatch.setattr(module, "refresh_collations", lambda: [])
        monkeypatch.setattr(module, "carry_settings", lambda old, new: self.commands.append("carry conf.d"))
        monkeypatch.setattr(module, "sh", self.sh)

    def sh(self, command, *, user=None, check=True):
        line = command if isinstance(command, str) else " ".join(command)
        self.commands.append(line)
        failed = any(word in line for word in self.fail)
        if line.startswith("pg_upgradecluster") and not failed:
            self.clusters = {(15, "main"): "down", (17, "main"): "online"}
        elif line.startswith("pg_dropcluster 15"):
            del self.clusters[(15, "main")]
        if failed and check:
            raise subprocess.CalledProcessError(1, line)
        return subprocess.CompletedProcess(line, 1 if failed else 0)


PG_UPGRADE_ARGS = ["--from", "15", "--to", "17", "--backup", "backup-now", "--health", "health-gate"]


def test_pg_upgrade_stops_at_a_failed_health_gate_and_goes_on_from_there_when_run_again(tmp_path, monkeypatch):
    module = server_script("louie-pg-upgrade")
    server = FakeServer(module, monkeypatch, tmp_path, {(15, "main"): "online"}, fail=("health-gate",))
    assert module.main(PG_UPGRADE_ARGS) == 1
    assert server.commands == ["backup-now", "pg_upgradecluster -m upgrade 15 main", "carry conf.d", "health-gate"]
    assert (
        "17/main serves, maintenance mode stays on" in json.loads((tmp_path / "pg-upgrade.json").read_text())["failed"]
    )
    # the next deploy: no second backup or pg_upgradecluster, on from the step after it
    server.commands, server.fail = [], ()
    assert json.loads((tmp_path / "pg-upgrade.json").read_text())["phase"] == "cluster upgraded"
    assert module.main(PG_UPGRADE_ARGS) == 0
    assert server.commands == ["carry conf.d", "health-gate", "pg_dropcluster 15 main"]
    assert json.loads((tmp_path / "pg-upgrade.json").read_text())["phase"] == "done"
    assert module.main(PG_UPGRADE_ARGS) == 0 and server.commands[-1] == "pg_dropcluster 15 main"


def test_pg_upgrade_refuses_an_unexplained_new_cluster_and_a_failed_upgrade_leaves_the_old_one(tmp_path, monkeypatch):
    module = server_script("louie-pg-upgrade")
    server = FakeServer(module, monkeypatch, tmp_path, {(15, "main"): "online"}, fail=("pg_upgradecluster",))
    monkeypatch.setattr(module, "old_serves_again", lambda old, new, port: server.commands.append("old serves"))
    assert module.main(PG_UPGRADE_ARGS) == 1
    assert server.commands == ["backup-now", "pg_upgradecluster -m upgrade 15 main", "old serves"]
    assert "serves again as before" in json.loads((tmp_path / "pg-upgrade.json").read_text())["failed"]


def test_several_servers_upgrade_the_app_hosts_out_of_the_lb_first_then_the_standby_then_the_lb_and_the_db_last():
    from louieops.cli import osupgrade
    from louieops.cli.osupgrade import ASIDE, DRAINED, WINDOW

    _, servers = osupgrade.preflight("inventory/multihost.py", None, "trixie")
    assert [(s.name, s.how, s.limit) for s in servers] == [
        ("203.0.113.11", DRAINED, ("203.0.113.11",)),
        ("203.0.113.12", DRAINED, ("203.0.113.12",)),
        ("203.0.113.14", ASIDE, ("203.0.113.14",)),
        ("203.0.113.10", WINDOW, ("203.0.113.10",)),
        ("203.0.113.13", WINDOW, ("203.0.113.13",)),
    ]
    _, [only] = osupgrade.preflight("inventory/multihost.py", "203.0.113.12", "trixie")
    assert (only.name, only.how, only.only) == ("203.0.113.12", DRAINED, ["--limit", "203.0.113.12"])
    # one server: every role at once, in maintenance mode, pyinfra not limited
    _, [one] = osupgrade.preflight("inventory/production.py", None, "trixie")
    assert (one.how, one.limit, one.only) == (WINDOW, (), [])
    # one app host: no other serves meanwhile, so it upgrades in maintenance mode with the rest
    topo = topology.from_groups(
        [("lb", "10.0.0.1"), ("app", "10.0.0.2"), ("db", "10.0.0.3")],
        {"lb": ["lb"], "app": ["app"], "db": ["db"]},
    )
    assert [(m.name, how) for m, how in osupgrade.order(topo)] == [("lb", WINDOW), ("app", WINDOW), ("db", WINDOW)]


@pytest.fixture
def upstreams(tmp_path, monkeypatch):
    """louie-os-upgrade's drain on an lb's upstreams file, nginx -t and the reload faked (``tested``: its answer)."""
    module = server_script("louie-os-upgrade")
    path = tmp_path / "louieops-upstreams.conf"
    path.write_text(
        "upstream louieops_app {\n"
        "\tserver 10.0.0.1:3000 max_fails=3 fail_timeout=10s;\n"
        "\tserver 10.0.0.11:3000 max_fails=3 fail_timeout=10s;\n"
        "}\nupstream louieops_ws {\n\thash $remote_addr consistent;\n"
        "\tserver 10.0.0.1:3000 max_fails=3 fail_timeout=10s;\n"
        "\tserver 10.0.0.11:3000 max_fails=3 fail_timeout=10s;\n}\n"
    )
    ran = []

    def run(command, **kwargs):
        ran.append(command[0])
        return subprocess.CompletedProcess(command, 1 if command[0] == "nginx" and ran.count("fail") else 0, "", "bad")

    monkeypatch.setattr(module.subprocess, "run", run)
    return module, path, ran


def test_drain_marks_the_app_host_down_in_every_upstream_and_rejoin_takes_the_mark_off(upstreams):
    module, path, ran = upstreams
    original = path.read_text()
    assert module.mark_down(str(path), "10.0.0.1:3000", True) is True
    text = path.read_text()
    assert text.count("server 10.0.0.1:3000 max_fails=3 fail_timeout=10s down;") == 2
    assert text.count("server 10.0.0.11:3000 max_fails=3 fail_timeout=10s;") == 2  # not the look-alike
    assert ran == ["nginx", "systemctl"]
    assert module.mark_down(str(path), "10.0.0.1:3000", True) is False  # already: no reload
    assert module.mark_down(str(path), "10.0.0.1:3000", False) is True
    assert path.read_text() == original
    with pytest.raises(RuntimeError, match="10.0.0.9:3000 is not an upstream server in"):
        module.mark_down(str(path), "10.0.0.9:3000", True)


def test_a_drain_nginx_refuses_leaves_the_file_as_it_was(upstreams):
    module, path, ran = upstreams
    original = path.read_text()
    ran.append("fail")
    with pytest.raises(RuntimeError, match="nginx -t refused the change"):
        module.mark_down(str(path), "10.0.0.1:3000", True)
    assert path.read_text() == original and "systemctl" not in ran


def test_the_controller_reads_a_hosts_settings_from_a_group_given_with_its_data(tmp_path):
    """pyinfra's (hosts, group data) groups, as the cluster inventories write them: the commands that run outside
    a deploy (os-upgrade, maintenance) see the same settings as the deploy."""
    from louieops.settings.inventory import host_settings, inventory_topology

    (tmp_path / "group_data").mkdir()
    (tmp_path / "group_data/all.py").write_text((REPO_ROOT / "inventory/group_data/all.py").read_text())
    (tmp_path / "group_data/app.py").write_text("app_port = 3200\n")
    inventory = tmp_path / "cluster.py"
    inventory.write_text(
        "_H = {'a': ('10.0.0.1', {'ssh_user': 'deploy'}), 'b': ('10.0.0.2', {'ssh_user': 'deploy'})}\n"
        "everyone = ([_H['a'], _H['b']], {'backup_pitr': True})\n"
        "lb = [_H['a']]\ndb = [_H['a']]\napp = [_H['b']]\n"
    )
    app = host_settings(inventory, "10.0.0.2")
    assert (app.backup_pitr, app.app_port) == (True, 3200)
    assert host_settings(inventory, "10.0.0.1").app_port != 3200
    assert [m.name for m in inventory_topology(inventory).apps] == ["10.0.0.2"]
    with pytest.raises(ValueError, match="has no host '10.0.0.9'"):
        host_settings(inventory, "10.0.0.9")


def test_the_controller_reads_each_verdict_back_from_the_line_the_server_printed(monkeypatch):
    from louieops.cli import osupgrade
    from louieops.cli.admin import AdminError

    _, [one] = osupgrade.preflight("inventory/production.py", None, "trixie")
    for verdict, text in osupgrade.VERDICT_LINES.items():
        said = f"    [203.0.113.10] louie-os-upgrade: {text.format(to='trixie')}\n"
        monkeypatch.setattr(osupgrade, "output", lambda *args, said=said: (0, said))
        osupgrade.pre_check("inventory/production.py", one, "trixie")
        assert one.verdict == verdict
    monkeypatch.setattr(osupgrade, "output", lambda *args: (0, "louie-os-upgrade: something else\n"))
    with pytest.raises(AdminError, match="unexpected pre-check answer"):
        osupgrade.pre_check("inventory/production.py", one, "trixie")
