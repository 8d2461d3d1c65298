"""Point-in-time recovery (backup_pitr) without a server: the settings it refuses, the pgBackRest configuration
and PostgreSQL archive settings it writes, what the deploy plans with it on and off, and louie-restore-db's
reading of times and of pgBackRest's info. (The archive, the restores and the bucket: tests/e2e/test_pitr.py.)"""

from __future__ import annotations

import datetime as dt
import runpy
import shlex
import subprocess

import jinja2
import pytest
from cryptography import x509

from louieops import dbtls, layout, resources, topology
from louieops.facts.backup import PitrStanzaStatus
from louieops.resources import TEMPLATES, file
from louieops.settings import SettingsError
from tasks import pitr, postgresql
from tests.unit.helpers import default_settings, fact_key, load_script
from tests.unit.planning import DEPLOY_SECRETS, cluster, plan

SECRETS = {
    **DEPLOY_SECRETS,
    "AWS_ACCESS_KEY_ID": "AKIDTEST",
    "AWS_SECRET_ACCESS_KEY": "secret/key",
    "LOUIE_BACKUP_PASSPHRASE": "a long passphrase",
}
DEPLOY = str(resources.REPO_ROOT / "deploy.py")


@pytest.fixture(autouse=True)
def secrets(monkeypatch):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    for name in ("UPTIMEROBOT_API_KEY", "SENTRY_AUTH_TOKEN", "PAPERTRAIL_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def tool():
    return load_script(file("backup/louie-restore-db"), "louie_restore_db")


# --- settings ------------------------------------------------------------------------------------------


def test_pitr_without_a_bucket_is_refused_naming_the_setting():
    with pytest.raises(SettingsError, match=r"backup_pitr = True .*backup_s3_bucket"):
        default_settings(backup_pitr=True, backup_s3_bucket=None)


@pytest.mark.parametrize(
    "overrides, key",
    [
        ({"backup_s3_endpoint_url": "http://minio.internal:9000"}, "backup_s3_endpoint_url"),
        (
            {"backup_s3_endpoint_url": "https://s3.example", "backup_pitr_s3_endpoint_url": "http://other:9000"},
            "backup_pitr_s3_endpoint_url",
        ),
    ],
)
def test_pitr_over_plain_http_is_refused_naming_the_endpoint_it_would_use(overrides, key):
    with pytest.raises(SettingsError, match=rf"setting {key} = .* expected an https:// URL"):
        default_settings(backup_pitr=True, **overrides)


def test_an_http_store_for_the_dumps_is_fine_with_an_https_one_for_pgbackrest():
    s = default_settings(
        backup_pitr=True,
        backup_s3_endpoint_url="http://minio.internal:9000",
        backup_pitr_s3_endpoint_url="https://minio.internal:9443",
    )
    assert pitr.s3_endpoint(s) == {"endpoint": "minio.internal", "port": 9443, "uri_style": "path"}


# --- what is written ------------------------------------------------------------------------------------


def conf_of(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#"))


def test_the_pgbackrest_conf_encrypts_the_repository_with_the_passphrase_and_keeps_it_apart_from_the_dumps():
    s = default_settings(backup_pitr=True, cluster_name="prod")
    conf = conf_of(pitr.pgbackrest_conf(s, 15))
    assert conf["repo1-cipher-type"] == "aes-256-cbc"
    assert conf["repo1-cipher-pass"] == SECRETS["LOUIE_BACKUP_PASSPHRASE"]
    assert conf["repo1-s3-key-secret"] == SECRETS["AWS_SECRET_ACCESS_KEY"]
    # the lifecycle rules expire db/, uploads/, logs/: the WAL archive must not be under them
    assert conf["repo1-path"] == "/pgbackrest/prod"
    assert conf["repo1-s3-endpoint"] == "s3.us-east-1.amazonaws.com" and conf["repo1-s3-uri-style"] == "host"
    assert conf["archive-async"] == "y" and conf["pg1-path"] == "/var/lib/postgresql/15/main"
    assert conf["repo1-retention-full"] == str(s.backup_pitr_retention_full)


def test_a_missing_passphrase_names_the_secret(monkeypatch):
    monkeypatch.delenv("LOUIE_BACKUP_PASSPHRASE")
    with pytest.raises(RuntimeError, match="LOUIE_BACKUP_PASSPHRASE is not set"):
        pitr.pgbackrest_conf(default_settings(backup_pitr=True), 15)


def test_a_passphrase_with_a_line_break_is_refused(monkeypatch):
    monkeypatch.setenv("LOUIE_BACKUP_PASSPHRASE", "two\nlines")
    with pytest.raises(ValueError, match="passphrase for pgBackRest contains a line break"):
        pitr.pgbackrest_conf(default_settings(backup_pitr=True), 15)


def render_postgresql_conf(s) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), undefined=jinja2.StrictUndefined)
    topo = topology.from_groups([("server", None)], {})
    variables = postgresql.conf_variables(s, topo, topo.members[0], 2048)
    return env.get_template("postgresql/louieops.conf.j2").render(managed="test", **variables)


def test_postgresql_archives_to_pgbackrest_only_with_pitr_on():
    on = render_postgresql_conf(default_settings(backup_pitr=True, backup_pitr_archive_timeout=30))
    assert "archive_mode = on" in on and "archive_timeout = 30" in on
    assert f"archive_command = '{layout.PITR_ARCHIVE_COMMAND}'" in on
    assert "archive_mode" not in render_postgresql_conf(default_settings())


# --- what is planned ------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_bucket_calls(monkeypatch):
    """The bucket's lifecycle rules are read from S3 while planning (tests/integration covers that against the
    S3 stand-in); these plans never reach for a bucket."""
    from tasks import backups

    monkeypatch.setattr(backups.s3, "bucket_lifecycle", lambda **kwargs: None)


def deploy_plan(facts=None, on=None, **settings):
    return plan(lambda: runpy.run_path(DEPLOY), facts, on=on, backup_s3_bucket="louie-backups", **settings)


def test_with_pitr_on_the_database_host_gets_pgbackrest_its_stanza_and_its_schedule():
    planned = deploy_plan(backup_pitr=True)
    steps = [op for op, step in zip(planned.operations, planned.steps, strict=True) if step == "Point-in-time recovery"]
    assert "Install pgbackrest" in steps
    assert f"Upload {layout.PITR_CONFIG}" in steps and f"Upload {layout.PITR_CRON}" in steps
    assert "Create the pgBackRest stanza and take its first full backup" in steps
    commands = planned.commands["Create the pgBackRest stanza and take its first full backup"]
    assert commands[0].startswith("runuser -u postgres -- pgbackrest --stanza=main stanza-create || ")
    assert "belongs to another database: to build this server from it run louieops rebuild" in commands[0]
    assert "stanza-create failed (its error above)" in commands[0]
    assert commands[1:] == ["/usr/local/bin/louie-pitr-backup full"]


def test_the_rebuilds_deploy_creates_no_stanza_and_fails_without_one_to_restore(monkeypatch, tmp_path):
    monkeypatch.setenv(layout.REBUILD_ENV, "1")
    planned = deploy_plan(backup_pitr=True)
    assert "Create the pgBackRest stanza and take its first full backup" not in planned.operations
    [command] = planned.commands["Find the pgBackRest repository to rebuild from in the bucket"]
    assert "stanza-create" not in command and "louie-pitr-backup" not in command
    # the check itself, on pgBackRest's JSON: a usable stanza passes, a missing one fails the deploy
    check = command.split(" | ", 1)[1].split(" || ")[0]
    for code, status in ((0, 0), (1, 1)):
        info = f'[{{"name": "main", "status": {{"code": {code}, "message": "x"}}}}]'
        assert subprocess.run(["sh", "-c", check], input=info, text=True).returncode == status


def test_a_stanza_that_is_ok_is_left_alone():
    key = fact_key(PitrStanzaStatus, {"stanza": layout.PITR_STANZA, "config": layout.PITR_CONFIG})
    facts = {key: {"code": 0, "backups": 2, "message": "ok"}}
    planned = deploy_plan(facts, backup_pitr=True)
    assert "Create the pgBackRest stanza and take its first full backup" not in planned.operations


def test_with_pitr_off_only_its_schedule_is_removed():
    planned = deploy_plan()
    steps = [op for op, step in zip(planned.operations, planned.steps, strict=True) if step == "Point-in-time recovery"]
    assert steps == [f"Remove {layout.PITR_CRON}"]


def test_in_a_cluster_both_database_hosts_archive_and_only_the_primary_creates_the_stanza():
    stanza = "Create the pgBackRest stanza and take its first full backup"
    for me, wanted in (("db", True), ("app1", False), ("standby", True), ("lb", False)):
        planned = deploy_plan(on=cluster(me), backup_pitr=True, cluster_name="prod")
        assert ("Install pgbackrest" in planned.operations) is wanted, me
        assert (f"Upload {layout.PITR_CRON}" in planned.operations) is wanted, me
        assert (stanza in planned.operations) is (me == "db"), me
    # the standby's PostgreSQL archives too, which does nothing until promote-db makes it the primary
    five = cluster("standby")
    topo = topology.from_groups([(name, None) for name in five.hosts], {r: list(n) for r, n in five.groups.items()})
    standby = next(m for m in topo.members if m.has(topology.STANDBY))
    s = default_settings(backup_pitr=True, backup_s3_bucket="louie-backups", cluster_name="prod")
    assert postgresql.archive_variables(s, standby) == {
        "command": layout.PITR_ARCHIVE_COMMAND,
        "timeout": s.backup_pitr_archive_timeout,
    }


def test_with_a_standby_the_backups_read_from_it_over_pgbackrests_tls_server():
    server = "Run pgBackRest's TLS server (the primary's backups read from this standby)"
    on_standby = deploy_plan(on=cluster("standby"), backup_pitr=True, cluster_name="prod")
    assert server in on_standby.operations and "Stop pgBackRest's TLS server" not in on_standby.operations
    assert f"Create {layout.BACKUP_STATUS_DIR}" in on_standby.operations  # where it records once promoted
    assert {f"Upload {layout.PITR_TLS_SERVER_CERT}", f"Upload {layout.PITR_TLS_SERVER_KEY}"} <= set(
        on_standby.operations
    )
    on_primary = deploy_plan(on=cluster("db"), backup_pitr=True, cluster_name="prod")
    assert server not in on_primary.operations and "Stop pgBackRest's TLS server" in on_primary.operations
    assert f"Upload {layout.PITR_TLS_CLIENT_KEY}" in on_primary.operations
    assert f"Upload {layout.PITR_TLS_SERVER_KEY}" not in on_primary.operations
    assert f"Remove {layout.PITR_TLS_SERVER_KEY}" in on_primary.operations  # left by a promoted standby
    assert f"Remove {layout.PITR_TLS_CLIENT_KEY}" in on_standby.operations

    s = default_settings(backup_pitr=True, backup_s3_bucket="louie-backups", cluster_name="prod")
    primary = conf_of(pitr.pgbackrest_conf(s, 15, "client", "10.0.0.5"))
    assert primary["pg2-host"] == "10.0.0.5" and primary["pg2-host-type"] == "tls"
    assert primary["pg2-host-cert-file"] == layout.PITR_TLS_CLIENT_CERT and primary["backup-standby"] == "y"
    assert primary["pg2-path"] == primary["pg1-path"] == "/var/lib/postgresql/15/main"
    assert "tls-server-address" not in primary
    standby = conf_of(pitr.pgbackrest_conf(s, 15, "server", "10.0.0.5"))
    assert standby["tls-server-address"] == "10.0.0.5" and standby["tls-server-port"] == "8432"
    assert standby["tls-server-auth"] == f"{dbtls.BACKUP_CLIENT_NAME}={layout.PITR_STANZA}"
    assert "pg2-host" not in standby and "backup-standby" not in standby
    assert pitr.restore_config(s, 15, "client")["backup_from_standby"] is True
    assert pitr.restore_config(s, 15, "server")["backup_from_standby"] is False


@pytest.mark.parametrize(
    "settings, why",
    [
        ({"backup_pitr_from_standby": False}, "turned off"),
        ({"standby_apply_delay_minutes": 10}, "a delayed standby would stall every backup"),
        ({"backup_pitr": False}, "no point-in-time recovery"),
    ],
)
def test_the_backups_stay_on_the_primary_when_the_standby_cannot_serve_them(settings, why):
    on_standby = deploy_plan(on=cluster("standby"), **{"backup_pitr": True, "cluster_name": "prod", **settings})
    assert "Run pgBackRest's TLS server (the primary's backups read from this standby)" not in on_standby.operations, (
        why
    )
    if settings.get("backup_pitr", True):
        assert f"Remove {layout.PITR_TLS_DIR}" in on_standby.operations, why
        assert "Stop pgBackRest's TLS server" in on_standby.operations, why


def test_only_the_primary_reaches_the_standbys_pgbackrest_port():
    five = cluster("standby")
    topo = topology.from_groups([(name, None) for name in five.hosts], {r: list(n) for r, n in five.groups.items()})
    on = topo.inbound(topo.standby, 3000, backups_from_standby=True)
    assert (topology.PGBACKREST_TLS_PORT, [topo.db.address]) in on
    assert topology.PGBACKREST_TLS_PORT not in [port for port, _ in topo.inbound(topo.standby, 3000)]
    assert topology.PGBACKREST_TLS_PORT not in [
        port for port, _ in topo.inbound(topo.db, 3000, backups_from_standby=True)
    ]


def test_the_standbys_pgbackrest_certificate_names_its_address_as_pgbackrest_245_matches_it():
    secret = "a cluster secret of some length"
    pair = dbtls.backup_server(secret, "prod", "standby", "10.0.0.5")
    cert = x509.load_pem_x509_certificate(pair.certificate.encode())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["10.0.0.5"]  # pgBackRest < 2.53 reads only DNS names
    assert [str(a) for a in names.get_values_for_type(x509.IPAddress)] == ["10.0.0.5"]
    client = x509.load_pem_x509_certificate(dbtls.backup_client(secret, "prod").certificate.encode())
    common_name = client.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)[0].value
    assert common_name == dbtls.BACKUP_CLIENT_NAME and "=" not in common_name
    authority = x509.load_pem_x509_certificate(dbtls.ca(secret, "prod").certificate.encode())
    for leaf in (cert, client):
        leaf.verify_directly_issued_by(authority)
    assert dbtls.backup_server(secret, "prod", "standby", "10.0.0.5") == pair  # the same files on every deploy


# --- louie-restore-db -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, wanted",
    [
        ("2026-12-05 10:31:00+00", dt.datetime(2026, 12, 5, 10, 31, tzinfo=dt.UTC)),
        ("2026-12-05T10:31:00Z", dt.datetime(2026, 12, 5, 10, 31, tzinfo=dt.UTC)),
        ("2026-12-05 11:31:00.250+01:00", dt.datetime(2026, 12, 5, 10, 31, 0, 250000, tzinfo=dt.UTC)),
    ],
)
def test_restore_times_are_read_with_their_zone(tool, text, wanted):
    assert tool.parse_time(text) == wanted


@pytest.mark.parametrize("text, message", [("2026-12-05 10:31:00", "has no time zone"), ("yesterday", "is not a time")])
def test_restore_times_without_a_zone_or_not_times_are_refused(tool, text, message):
    with pytest.raises(tool.Refused, match=message):
        tool.parse_time(text)


def test_the_restore_target_is_given_to_pgbackrest_in_utc(tool):
    moment = tool.parse_time("2026-12-05 11:31:00.5+01")
    assert tool.target_options(moment) == [
        "--type=time",
        "--target-action=promote",
        "--target=2026-12-05 10:31:00.500000+00",
    ]
    assert tool.target_options(None) == ["--type=default"]


def test_the_stanza_fact_reads_pgbackrest_info():
    fact = PitrStanzaStatus()
    output = ['[{"name":"main","status":{"code":2,"message":"no valid backups"},"backup":[]}]']
    assert fact.process(output) == {"code": 2, "backups": 0, "message": "no valid backups"}
    assert fact.process([]) == PitrStanzaStatus.default()
    assert "runuser -u postgres -- pgbackrest" in fact.command(stanza="main", config=layout.PITR_CONFIG).get_raw_value()


def pitr_cron(**overrides) -> list[str]:
    s = default_settings(backup_pitr=True, **overrides)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), undefined=jinja2.StrictUndefined)
    text = env.get_template("backup/louieops-pitr.j2").render(
        managed="test",
        full=s.backup_pitr_full_schedule,
        diff=s.backup_pitr_diff_schedule,
        verify=s.backup_pitr_verify_schedule,
        check=s.backup_pitr_check_schedule,
        drill=s.backup_pitr_drill_schedule,
        restore=layout.PITR_RESTORE_COMMAND,
    )
    return [line for line in text.splitlines() if line and not line.startswith("#") and "=" not in line]


def test_the_schedule_runs_full_diff_verify_check_and_the_drill_as_root():
    s = default_settings(backup_pitr=True)
    jobs = pitr_cron()
    assert [(line.split()[5], line.split()[-6]) for line in jobs[:3]] == [
        ("root", "full"),
        ("root", "diff"),
        ("root", "verify"),
    ]
    assert jobs[2].startswith(s.backup_pitr_verify_schedule + " ")
    assert (
        jobs[3] == f"{s.backup_pitr_check_schedule} root {layout.PITR_BACKUP_COMMAND} check 2>&1 | logger -t louie-pitr"
    )
    assert jobs[4].startswith(f"{s.backup_pitr_drill_schedule} root ")
    assert f"{layout.PITR_RESTORE_COMMAND} --drill --alert 2>&1" in jobs[4]
    assert len(jobs) == 5 and len(pitr_cron(backup_pitr_drill_schedule=None)) == 4


def test_the_first_deploy_runs_the_first_pgbackrest_check_and_a_rebuild_does_not(monkeypatch):
    first = "Run the first pgbackrest check"
    planned = deploy_plan(backup_pitr=True)
    assert planned.commands[first] == [f"{layout.PITR_BACKUP_COMMAND} check"]
    # with a record there, nothing: the second deploys of the e2e tests report zero changed operations
    assert first not in deploy_plan(on=cluster("standby"), backup_pitr=True, cluster_name="prod").operations
    monkeypatch.setenv(layout.REBUILD_ENV, "1")
    assert first not in deploy_plan(backup_pitr=True).operations


def test_a_standby_can_be_told_to_apply_with_a_delay():
    from tests.unit.planning import FIVE, FIVE_GROUPS

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), undefined=jinja2.StrictUndefined)
    topo = topology.from_groups([(name, None) for name in FIVE], {k: list(v) for k, v in FIVE_GROUPS.items()})
    standby = next(m for m in topo.members if m.has(topology.STANDBY))

    def conf(**overrides):
        s = default_settings(cluster_name="prod", backup_s3_bucket=None, **overrides)
        variables = postgresql.conf_variables(s, topo, standby, 2048)
        return env.get_template("postgresql/louieops.conf.j2").render(managed="test", **variables)

    assert "recovery_min_apply_delay = '30min'" in conf(standby_apply_delay_minutes=30)
    assert "recovery_min_apply_delay" not in conf()


def test_the_repositorys_database_is_its_newest_db_entry(tool):
    stanza = {"db": [{"id": 1, "system-id": 7001, "version": "15"}, {"id": 2, "system-id": 7002, "version": "17"}]}
    assert tool.repository_system_id(stanza) == "7002"
    assert tool.repository_system_id({"db": []}) is None


@pytest.mark.parametrize(
    "running, system_id, archive_mode, why",
    [
        (False, None, None, None),  # nothing runs: the restore has no safety copy to take
        (True, "7002", "on", None),  # the repository's own database: the safety backup goes to the repository
        (True, "9999", "on", "this server's own cluster (system 9999, not the repository's database 7002)"),
        (True, "7002", "off", "a copy that archives no WAL (a drill's)"),
    ],
)
def test_a_live_cluster_that_does_not_write_into_the_repository_is_told_apart(
    tool, monkeypatch, running, system_id, archive_mode, why
):
    answers = {"SELECT system_identifier FROM pg_control_system()": system_id, "SHOW archive_mode": archive_mode}
    monkeypatch.setattr(tool, "live_cluster_runs", lambda config: running)
    monkeypatch.setattr(tool, "psql", lambda config, query, port: answers[query])
    assert tool.not_archiving_here({}, {"db": [{"id": 1, "system-id": 7002}]}) == why


def test_no_archive_without_force_is_refused_before_the_repository_is_read(tool, tmp_path, monkeypatch, capsys):
    config = tmp_path / "restore-db.json"
    config.write_text("{}")
    monkeypatch.setattr(tool, "CONFIG", str(config))
    monkeypatch.setattr(tool.os, "geteuid", lambda: 0)
    monkeypatch.setattr(tool, "repository", lambda config: pytest.fail("the repository was read"))
    assert tool.main(["--latest", "--no-archive"]) == 2
    assert "--no-archive goes with --force" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("arguments", "needle"),
    [
        (["--drill", "--force"], "--drill takes no --force, --into or --no-archive"),
        (["--drill", "--into", "x"], "--drill takes no --force, --into or --no-archive"),
        (["--latest", "--alert"], "--alert goes with --drill"),
    ],
)
def test_the_drill_takes_no_restore_options_and_alert_only_with_it(
    tool, tmp_path, monkeypatch, capsys, arguments, needle
):
    config = tmp_path / "restore-db.json"
    config.write_text("{}")
    monkeypatch.setattr(tool, "CONFIG", str(config))
    monkeypatch.setattr(tool.os, "geteuid", lambda: 0)
    monkeypatch.setattr(tool, "repository", lambda config: pytest.fail("the repository was read"))
    assert tool.main(arguments) == 2
    assert needle in capsys.readouterr().err


def test_a_drill_that_cannot_reach_send_alert_says_so_and_fails(tool, tmp_path, monkeypatch, capsys):
    config = {"send_alert": str(tmp_path / "no-such-send-alert")}
    monkeypatch.setattr(tool, "drill", lambda config: "restored to 2026-12-05 10:31:00+00 in 9 s")
    assert tool.run_drill(config, alert=True) == 1  # cron's check-in sees the failure
    err = capsys.readouterr().err
    assert "could not report the drill through send-alert" in err and "no-such-send-alert" in err
    assert tool.run_drill(config, alert=False) == 0  # without --alert nothing is sent


def test_on_a_hot_standby_the_drill_waits_and_a_restore_is_refused(tool, tmp_path, monkeypatch, capsys):
    config = tmp_path / "restore-db.json"
    config.write_text("{}")
    monkeypatch.setattr(tool, "CONFIG", str(config))
    monkeypatch.setattr(tool.os, "geteuid", lambda: 0)
    monkeypatch.setattr(tool, "is_hot_standby", lambda config: True)
    monkeypatch.setattr(tool, "hold_the_lock", lambda: pytest.fail("a standby took the restore lock"))
    assert tool.main(["--drill", "--alert"]) == 0
    assert "drill: not on a hot standby" in capsys.readouterr().out
    assert tool.main(["--latest", "--yes"]) == 2
    assert "this server is a hot standby: restore on the primary" in capsys.readouterr().err


def test_a_drill_without_room_for_the_scratch_copy_is_refused_and_reported(tool, monkeypatch, capsys):
    sent = []
    config = {"scratch_dir": "/var/lib/postgresql/15/louie-restore", "send_alert": "send-alert"}
    monkeypatch.setattr(tool, "live_cluster_runs", lambda config: True)
    monkeypatch.setattr(tool, "repository", lambda config: {"db": []})
    monkeypatch.setattr(tool, "not_archiving_here", lambda config, stanza: None)
    monkeypatch.setattr(tool, "cluster_bytes", lambda config: 10 << 40)  # 10 TiB: more than any test disk
    monkeypatch.setattr(tool.shutil, "disk_usage", lambda path: shutil_usage(free=1 << 30))
    monkeypatch.setattr(tool, "report", lambda config, tier, message, resolve=False: sent.append((tier, message)))
    assert tool.run_drill(config, alert=True) == 2
    assert "not enough free disk for the scratch copy: 1024 MiB free" in capsys.readouterr().err
    assert sent and sent[0][0] == "P2" and "drill FAILED: not enough free disk" in sent[0][1]


def shutil_usage(free):
    import collections

    return collections.namedtuple("usage", "total used free")(free * 2, free, free)


# --- from the controller ----------------------------------------------------------------------------------


def test_the_controllers_restore_runs_on_the_db_host_with_the_servers_own_command(tmp_path):
    from louieops.cli import restore

    single = tmp_path / "single.py"
    single.write_text("hosts = ['203.0.113.7']\n")
    several = tmp_path / "several.py"
    several.write_text("db = ['10.0.0.4']\napp = ['10.0.0.2']\n")
    line = restore.command(str(several), None, restore.server_arguments("2026-12-05 10:31:00+00", False, None, False))
    assert line[1:4] == ["-y", "--limit", "db"]
    # pyinfra exec joins its words into one shell line: the time must come out of it as one argument
    assert line[-6:-4] == ["exec", "--"]
    restore_db = ["sudo", "/usr/local/bin/louie-restore-db", "--to", "2026-12-05 10:31:00+00"]
    assert shlex.split(" ".join(line[-4:])) == restore_db
    assert "--limit" not in restore.command(str(single), None, ["--range"])
    assert restore.command(str(several), "10.0.0.2", ["--latest"])[2:4] == ["--limit", "10.0.0.2"]
    assert restore.server_arguments(None, True, "copy", True) == ["--latest", "--into", "copy", "--force"]


def test_the_controllers_restore_refuses_a_missing_inventory_with_one_line():
    from louieops.cli import main

    assert main(["restore-db", "/nonexistent/inventory.py", "--latest"]) == 2
