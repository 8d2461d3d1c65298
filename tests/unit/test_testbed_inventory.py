"""Rendering of the test server's inventory, env file and root file system settings."""

from __future__ import annotations

import ast
import os
import runpy
import stat
from pathlib import Path

from louieops.testbed import cluster, inventory, peers, rootfs
from louieops.testbed.paths import REPO_ROOT


def _data(tmp_path: Path) -> dict[str, object]:
    return inventory.host_data(
        name="demo",
        peer_address="10.231.3.1",
        ssh_key=tmp_path / "id_ed25519",
        known_hosts=tmp_path / "known_hosts",
        acme_directory_url=peers.acme_directory_url("10.231.3.1"),
        s3_endpoint_url=peers.s3_endpoint_url("10.231.3.1"),
        recorder_url=peers.recorder_url("10.231.3.1"),
        uptimerobot_url=peers.uptimerobot_url("10.231.3.1"),
        sentry_url=peers.sentry_url("10.231.3.1"),
        app_git_url=peers.app_git_url("10.231.3.1"),
    )


def test_inventory_defines_the_testbed_group(tmp_path):
    source = inventory.render_inventory("demo", "10.231.3.2", _data(tmp_path))
    ast.parse(source)
    path = tmp_path / "inventory.py"
    path.write_text(source)
    namespace = runpy.run_path(str(path))
    [(host, data)] = namespace["testbed"]
    assert host == "10.231.3.2"
    assert data["ssh_user"] == "deploy"
    assert data["_sudo"] is True
    assert data["ssh_key"] == str(tmp_path / "id_ed25519")
    assert data["ssh_known_hosts_file"] == str(tmp_path / "known_hosts")
    assert data["certbot_acme_server"] == "https://10.231.3.1:14100/dir"
    assert data["backup_s3_endpoint_url"] == "http://10.231.3.1:5100"
    assert data["testbed_peer_address"] == "10.231.3.1"
    assert data["testbed_recorder_url"] == "http://10.231.3.1:9180"


def test_host_data_keys_are_connector_or_known_prefixes(tmp_path):
    # The settings schema rejects unknown names; ours are ssh_*, _*, testbed_* or real settings.
    from louieops.settings.sections import all_rules

    allowed_settings = set(all_rules())
    for key in _data(tmp_path):
        assert key.startswith(("ssh_", "_", "testbed_")) or key in allowed_settings, key


def test_env_round_trip_and_quoting():
    env = inventory.generate_secrets("http://10.231.3.1:9180", "test-token", peers.sentry_dsn("10.231.3.1"))
    assert set(env) == {
        "LOUIE_DB_PASSWORD",
        "LOUIE_ADMIN_TOKEN",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "LOUIE_BACKUP_PASSPHRASE",
        "SLACK_WEBHOOK_CRITICAL",
        "SLACK_WEBHOOK_HIGH",
        "SLACK_WEBHOOK_GENERAL",
        "UPTIMEROBOT_API_KEY",
        "SENTRY_AUTH_TOKEN",
        "SENTRY_DSN",
        "PAPERTRAIL_API_TOKEN",
        "STRIPE_RESTRICTED_KEY",
        "LOUIE_HEALTH_PAGE_PASSWORD",
        "ALERT_SMTP_PASSWORD",
    }
    from louieops.secrets import SECRETS

    assert set(env) <= set(SECRETS)
    assert len({env[k] for k in env if k.startswith("SLACK_")}) == 3
    assert env["SLACK_WEBHOOK_HIGH"] == "http://10.231.3.1:9180/slack/high"
    tricky = {**env, "LOUIE_DB_PASSWORD": 'a\'b $c "d"'}
    assert inventory.parse_env(inventory.render_env(tricky)) == tricky


def test_generated_secrets_differ_each_time():
    a, b = (
        inventory.generate_secrets("http://x", "t", "http://k@x/1"),
        inventory.generate_secrets("http://x", "t", "http://k@x/1"),
    )
    assert a["LOUIE_DB_PASSWORD"] != b["LOUIE_DB_PASSWORD"]


def test_write_workdir(tmp_path):
    workdir = tmp_path / ".testbed" / "demo"
    inv, env_path = inventory.write_workdir(
        workdir, name="demo", address="10.231.3.2", data=_data(tmp_path), env={"A": "1"}
    )
    assert stat.S_IMODE(os.stat(env_path).st_mode) == 0o600
    assert inv.read_text().startswith('"""pyinfra inventory')
    link = workdir / "group_data"
    assert link.is_symlink() and os.readlink(link) == "../../inventory/group_data"
    # Writing again (a second `up`) replaces everything cleanly.
    inventory.write_workdir(workdir, name="demo", address="10.231.3.2", data=_data(tmp_path), env={"A": "2"})
    assert inventory.parse_env(env_path.read_text()) == {"A": "2"}


def test_group_data_link_reaches_the_project_group_data():
    assert (REPO_ROOT / ".testbed" / "x" / inventory.GROUP_DATA_LINK).resolve() == (
        REPO_ROOT / "inventory" / "group_data"
    )


def test_testbed_group_data_matches_the_default_domains():
    data = runpy.run_path(str(REPO_ROOT / "inventory" / "group_data" / "testbed.py"))
    assert (data["domain_homepage"], data["domain_api"], data["domain_admin"], data["domain_websocket"]) == (
        peers.DEFAULT_DOMAINS
    )


def test_pebble_config_listens_on_the_peer_address_only(tmp_path):
    config = peers.pebble_config("10.231.3.1", tmp_path / "c.pem", tmp_path / "k.pem")["pebble"]
    assert config["listenAddress"] == "10.231.3.1:14100"
    assert config["managementListenAddress"] == "10.231.3.1:15100"
    assert (config["httpPort"], config["tlsPort"]) == (80, 443)


def test_default_peers_bind_to_the_peer_address(tmp_path):
    specs = peers.default_peers("10.231.3.1", tmp_path, tmp_path / "c.pem", tmp_path / "k.pem")
    names = [
        "challtestsrv",
        "pebble",
        "moto",
        "s3-tls",
        "recorder",
        "uptimerobot",
        "sentry",
        "papertrail",
        "npm-audit",
        "stripe",
        "smtp",
        "syslog",
        "git",
    ]
    assert [s.name for s in specs] == names
    for spec in specs:
        assert spec.host == "10.231.3.1"
        assert "0.0.0.0" not in " ".join(spec.argv)
    pebble = next(s for s in specs if s.name == "pebble")
    assert pebble.env == {"PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0"}


def test_python_module_peer_is_one_line():
    spec = peers.PeerSpec.python_module("uptimerobot", "tests.standins.uptimerobot", "10.231.3.1", 9300)
    assert spec.argv[1:] == ("-m", "tests.standins.uptimerobot", "--host", "10.231.3.1", "--port", "9300")
    assert spec.env["PYTHONPATH"] == str(REPO_ROOT)


def test_resolv_conf_keeps_only_resolver_lines():
    host = "# generated\nnameserver 10.255.255.53\nnameserver 127.0.0.53\nsearch example\noptions edns0\nfoo\n"
    assert rootfs.resolv_conf_lines(host) == "nameserver 10.255.255.53\nsearch example\noptions edns0\n"


def test_apt_sources_for_release():
    assert "deb http://deb.debian.org/debian-security trixie-security main" in rootfs.apt_sources("trixie")


def test_a_test_server_has_no_cpu_levels_and_every_other_threshold_of_all_py(tmp_path):
    thresholds = _data(tmp_path)["kpi_thresholds"]
    defaults = runpy.run_path(str(REPO_ROOT / "inventory" / "group_data" / "all.py"))["kpi_thresholds"]
    assert thresholds["cpu_pct"] == {"target": None, "warning": None, "critical": None}
    assert {k: v for k, v in thresholds.items() if k != "cpu_pct"} == {
        k: v for k, v in defaults.items() if k != "cpu_pct"
    }


def test_a_cluster_inventory_carries_its_group_data_beside_each_hosts_own():
    text = cluster.render_cluster_inventory(
        "mh",
        {"lb": ("10.0.0.1", {"ssh_port": 22}), "db": ("10.0.0.2", {"ssh_port": 2222})},
        {"lb": ("lb",), "db": ("db",)},
        {**cluster.CLUSTER_DATA, "backup_pitr": True},
    )
    namespace = {}
    exec(compile(text, "inventory.py", "exec"), namespace)
    hosts, group_data = namespace["testbed"]
    assert group_data == {"cluster_name": "testbed", "backup_pitr": True}
    assert [data["ssh_port"] for _, data in hosts] == [22, 2222]
    assert namespace["db"] == [("10.0.0.2", {"ssh_port": 2222})]
