"""Point-in-time recovery of the database with pgBackRest (backup_pitr; docs/backups.md).

PostgreSQL hands every WAL segment to ``pgbackrest archive-push`` (asynchronous, from a local spool), and
archives a partly filled one after backup_pitr_archive_timeout seconds: at most that much committed data is
lost with the server. Full and differential backups run from cron; the repository in the bucket is encrypted
on the server (aes-256-cbc, LOUIE_BACKUP_PASSPHRASE) before anything leaves it. ``louie-restore-db`` restores
to a moment (``--to``) or to the end of the archive (``--latest``), into a new database or in place; its
``--drill`` (monthly from cron) restores to a moment into a scratch copy and checks its rows.

Settings read: backup_pitr_archive_timeout, backup_pitr_full_schedule, backup_pitr_diff_schedule,
backup_pitr_verify_schedule, backup_pitr_check_schedule, backup_pitr_drill_schedule, backup_pitr_retention_full,
backup_pitr_s3_ca_file, backup_s3_bucket, backup_s3_region, cluster_name, postgresql_database, postgresql_role.
Whether it runs here comes from louieops.placement.archives_wal (backup_pitr, the primary); the S3 endpoint
from settings.sections.backups.pitr_endpoint (its own setting, else the dumps' one); whether the backups read
from the hot standby from louieops.placement.backups_from_standby.
Secrets read (only with backup_pitr): AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, LOUIE_BACKUP_PASSPHRASE; and
LOUIE_CLUSTER_SECRET for the TLS of backups from the standby.

On the database primary and its hot standby (which archives once promote-db makes it the primary; its
louie-pitr-backup and drill wait for that day, and the stanza is the primary's):
- Debian's pgbackrest; /etc/pgbackrest/pgbackrest.conf (postgres 0600: the S3 keys and the passphrase);
  its spool and log directories (postgres 0750);
- the stanza, created with its first full backup by the deploy that turns backup_pitr on (on the primary);
- /etc/cron.d/louieops-pitr (the backups, as root through louie-pitr-backup, which alerts on a failure);
- /usr/local/bin/louie-restore-db and /etc/louieops/restore-db.json;
- with backups from the standby: on the standby Debian's pgbackrest.service (pgBackRest's TLS server, port
  8432 to the primary only), on the primary the standby as pg2 with backup-standby=y; the certificates in
  /etc/pgbackrest/tls from the database CA (louieops/dbtls.py).
The archive settings themselves are in PostgreSQL's conf.d file (tasks/postgresql.py: archive_variables).
"""

from __future__ import annotations

import os
import shlex
from io import StringIO
from urllib.parse import urlsplit

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.files import File
from pyinfra.operations import apt, files, server, systemd
from pyinfra.operations.util import any_changed

from louieops import dbtls, layout, placement, secrets, topology
from louieops.facts.backup import PitrStanzaStatus
from louieops.pgversion import postgresql_version
from louieops.resources import put_file, put_template
from louieops.server_scripts import put_config
from louieops.settings import Settings, for_host
from louieops.settings.sections.backups import pitr_endpoint

#: The port a restored copy of the database starts on beside the live one (louie-restore-db; its socket only).
SCRATCH_PORT = 5499
PGBACKREST = f"runuser -u postgres -- pgbackrest --stanza={layout.PITR_STANZA}"
#: Exit 0 when pgBackRest's JSON info on stdin says the stanza is usable (it holds a backup).
STANZA_OK = 'python3 -c \'import json, sys; sys.exit(json.load(sys.stdin)[0]["status"]["code"] != 0)\''
ANOTHER_DATABASE = shlex.quote(
    "pgBackRest's stanza-create failed (its error above). When it says the repository in the bucket belongs to "
    "another database: to build this server from it run louieops rebuild INVENTORY --from-s3 (docs/backups.md); "
    "for a new database of its own set another cluster_name"
)
NOTHING_TO_REBUILD = shlex.quote(
    "louieops rebuild: the bucket holds no usable pgBackRest repository for this cluster_name: nothing to rebuild from"
)


@deploy("Point-in-time recovery")
def install_pitr():
    s = for_host(host)
    me = placement.of(host)
    if not placement.archives_wal(s, me):
        # Off: no more scheduled backups; the repository in the bucket and the tools stay for a restore.
        files.file(name=f"Remove {layout.PITR_CRON}", path=layout.PITR_CRON, present=False)
        return
    version = postgresql_version()

    # install
    apt.packages(name="Install pgbackrest", packages=["pgbackrest"])

    # configure
    files.directory(name="Create /etc/pgbackrest", path="/etc/pgbackrest", user="root", group="postgres", mode="0750")
    for path in (layout.PITR_SPOOL_DIR, layout.PITR_LOG_DIR):
        files.directory(name=f"Create {path}", path=path, user="postgres", group="postgres", mode="0750")
    topo, member = topology.of(host), topology.me(host)
    part = standby_backup_part(s, topo, member)
    certificates = standby_backup_tls(s, member, part)
    conf = files.put(
        name=f"Upload {layout.PITR_CONFIG}",
        src=StringIO(pgbackrest_conf(s, version, part, topo.standby.address if part else None)),
        dest=layout.PITR_CONFIG,
        user="postgres",
        group="postgres",
        mode="0600",
    )
    standby_backup_server(part, [conf, *certificates])
    put_file("backup/louie-restore-db", layout.PITR_RESTORE_COMMAND, mode="0755")
    put_file("backup/louie-pitr-backup", layout.PITR_BACKUP_COMMAND, mode="0755")
    put_config(layout.PITR_RESTORE_CONFIG, restore_config(s, version, part))
    put_template(
        "backup/louieops-pitr.j2",
        layout.PITR_CRON,
        name=f"Upload {layout.PITR_CRON}",
        full=s.backup_pitr_full_schedule,
        diff=s.backup_pitr_diff_schedule,
        verify=s.backup_pitr_verify_schedule,
        check=s.backup_pitr_check_schedule,
        drill=s.backup_pitr_drill_schedule,
        restore=layout.PITR_RESTORE_COMMAND,
    )

    # activate: the stanza and its first full backup, once (a restore needs a backup to start from); decided
    # when planning, so the plan shows it. The standby's is the primary's: it only reads it until promoted.
    if me.has(topology.STANDBY):
        if not me.has(topology.DB, topology.APP):
            # where louie-pitr-backup records once promote-db makes this the primary; its home is the backups
            # step (the backup user's), which runs on the primary and the app hosts only
            files.directory(
                name=f"Create {layout.BACKUP_STATUS_DIR}",
                path=layout.BACKUP_STATUS_DIR,
                user="root",
                group="root",
                mode="0755",
            )
        return
    status = host.get_fact(PitrStanzaStatus, stanza=layout.PITR_STANZA, config=layout.PITR_CONFIG, _sudo=True)
    if status["code"] != 0 and os.environ.get(layout.REBUILD_ENV):
        # `louieops rebuild`: the bucket's repository is what the restore reads next; this server's fresh cluster
        # must neither create a stanza nor be backed up into it
        server.shell(
            name="Find the pgBackRest repository to rebuild from in the bucket",
            commands=[f"{PGBACKREST} --output=json info | {STANZA_OK} || {{ echo {NOTHING_TO_REBUILD} >&2; exit 1; }}"],
        )
    elif status["code"] != 0:
        server.shell(
            name="Create the pgBackRest stanza and take its first full backup",
            commands=[
                f"{PGBACKREST} stanza-create || {{ echo {ANOTHER_DATABASE} >&2; exit 1; }}",
                f"{layout.PITR_BACKUP_COMMAND} full",
            ],
        )
    if not os.environ.get(layout.REBUILD_ENV) and host.get_fact(File, path=layout.PITR_CHECK_STATUS) is None:
        # the health check's pitr_check_age_hours reads its record from the first run on, not an hour later
        server.shell(name="Run the first pgbackrest check", commands=[f"{layout.PITR_BACKUP_COMMAND} check"])


def standby_backup_part(s: Settings, topo: topology.Topology, me: topology.Member) -> str | None:
    """This host's part when the backups read from the hot standby (placement.backups_from_standby): "client"
    on the primary (its backup reaches the standby's pgBackRest), "server" on the standby; else None."""
    if not placement.backups_from_standby(s, topo):
        return None
    return "client" if me.has(topology.DB) else "server"


def standby_backup_tls(s: Settings, me: topology.Member, part: str | None) -> list:
    """The database CA and this host's pgBackRest pair (derived from LOUIE_CLUSTER_SECRET, so the same on every
    run): the standby's server pair or the primary's client pair, and not the other part's (a promoted standby
    was the server). Without a part, none of them."""
    if part is None:
        files.directory(name=f"Remove {layout.PITR_TLS_DIR}", path=layout.PITR_TLS_DIR, present=False)
        return []
    secret, cluster = secrets.require(dbtls.SECRET_ENV), dbtls.cluster_label(s)
    for other in TLS_PAIRS["client" if part == "server" else "server"]:
        files.file(name=f"Remove {other}", path=other, present=False)
    if part == "server":
        pair, cert, key = dbtls.backup_server(secret, cluster, me.name, me.address), *TLS_PAIRS["server"]
    else:
        pair, cert, key = dbtls.backup_client(secret, cluster), *TLS_PAIRS["client"]
    files.directory(
        name=f"Create {layout.PITR_TLS_DIR}", path=layout.PITR_TLS_DIR, user="root", group="postgres", mode="0750"
    )
    uploads = [(layout.PITR_TLS_CA, dbtls.ca(secret, cluster).certificate, "0644"), (cert, pair.certificate, "0644")]
    uploads.append((key, pair.key, "0600"))
    return [
        files.put(name=f"Upload {path}", src=StringIO(text), dest=path, user="postgres", group="postgres", mode=mode)
        for path, text, mode in uploads
    ]


#: Where each part's certificate and key go.
TLS_PAIRS = {
    "server": (layout.PITR_TLS_SERVER_CERT, layout.PITR_TLS_SERVER_KEY),
    "client": (layout.PITR_TLS_CLIENT_CERT, layout.PITR_TLS_CLIENT_KEY),
}


def standby_backup_server(part: str | None, inputs: list) -> None:
    """Debian's pgbackrest.service (pgBackRest's TLS server, as postgres) runs on the standby that serves the
    backups, restarted when its configuration or certificates change; on any other database host it is off (a
    promoted standby's server stops with the deploy that makes it the primary)."""
    if part != "server":
        systemd.service(name="Stop pgBackRest's TLS server", service=SERVER_UNIT, running=False, enabled=False)
        return
    systemd.service(
        name="Run pgBackRest's TLS server (the primary's backups read from this standby)",
        service=SERVER_UNIT,
        running=True,
        enabled=True,
    )
    systemd.service(
        name="Restart pgBackRest's TLS server for its new configuration",
        service=SERVER_UNIT,
        restarted=True,
        _if=any_changed(*inputs),
    )


SERVER_UNIT = "pgbackrest.service"


def s3_endpoint(s: Settings) -> dict:
    """pgBackRest's endpoint options: host, port and path-style URIs for an S3-compatible store; AWS's
    regional endpoint (virtual-host style) without one."""
    url = pitr_endpoint(s)
    if not url:
        return {"endpoint": f"s3.{s.backup_s3_region}.amazonaws.com", "port": None, "uri_style": "host"}
    parts = urlsplit(url)
    return {"endpoint": parts.hostname, "port": parts.port, "uri_style": "path"}


def repository_path(s: Settings) -> str:
    """Where the stanza lives in the bucket: beside the other kinds' prefixes (db/, uploads/, logs/), which
    the lifecycle rules expire; pgBackRest expires its own backups (retention) and must not lose WAL to them."""
    return f"/pgbackrest/{s.cluster_name}" if s.cluster_name else "/pgbackrest"


def pgbackrest_conf(s: Settings, version: int, part: str | None = None, standby: str | None = None) -> str:
    """/etc/pgbackrest/pgbackrest.conf. Holds the S3 keys and the cipher passphrase: never printed. With a
    ``part`` in backups from the ``standby`` (its address): the primary's pg2 (the standby, over TLS) and
    backup-standby, or the standby's TLS server."""
    values = {
        "key": secrets.require("AWS_ACCESS_KEY_ID"),
        "secret": secrets.require("AWS_SECRET_ACCESS_KEY"),
        "passphrase": secrets.require("LOUIE_BACKUP_PASSPHRASE"),
    }
    for name, value in values.items():
        if any(c in value for c in "\r\n"):
            raise ValueError(f"the {name} for pgBackRest contains a line break")
    endpoint = s3_endpoint(s)
    lines = [
        "# Managed by louieops (tasks/pitr.py); local edits are overwritten on the next deploy.",
        "[global]",
        "repo1-type=s3",
        f"repo1-path={repository_path(s)}",
        f"repo1-s3-bucket={s.backup_s3_bucket}",
        f"repo1-s3-endpoint={endpoint['endpoint']}",
        f"repo1-s3-region={s.backup_s3_region}",
        f"repo1-s3-uri-style={endpoint['uri_style']}",
        *([f"repo1-storage-port={endpoint['port']}"] if endpoint["port"] else []),
        *([f"repo1-storage-ca-file={s.backup_pitr_s3_ca_file}"] if s.backup_pitr_s3_ca_file else []),
        f"repo1-s3-key={values['key']}",
        f"repo1-s3-key-secret={values['secret']}",
        "repo1-cipher-type=aes-256-cbc",
        f"repo1-cipher-pass={values['passphrase']}",
        "repo1-retention-full-type=count",
        f"repo1-retention-full={s.backup_pitr_retention_full}",
        "archive-async=y",
        f"spool-path={layout.PITR_SPOOL_DIR}",
        f"log-path={layout.PITR_LOG_DIR}",
        "log-level-console=warn",
        "log-level-file=info",
        "start-fast=y",
        "process-max=2",
        *(tls_server_lines(standby) if part == "server" else []),
        "",
        "[global:archive-push]",
        "compress-level=3",
        "",
        f"[{layout.PITR_STANZA}]",
        f"pg1-path=/var/lib/postgresql/{version}/main",
        "pg1-port=5432",
        *(standby_lines(standby, version) if part == "client" else []),
        "",
    ]
    return "\n".join(lines)


def tls_server_lines(address: str) -> list[str]:
    """The standby's pgBackRest TLS server: on its private address (the firewall opens the port to the primary
    only), and only a client certificate from the database CA named BACKUP_CLIENT_NAME reaches the stanza."""
    return [
        f"tls-server-address={address}",
        f"tls-server-port={topology.PGBACKREST_TLS_PORT}",
        f"tls-server-ca-file={layout.PITR_TLS_CA}",
        f"tls-server-cert-file={layout.PITR_TLS_SERVER_CERT}",
        f"tls-server-key-file={layout.PITR_TLS_SERVER_KEY}",
        f"tls-server-auth={dbtls.BACKUP_CLIENT_NAME}={layout.PITR_STANZA}",
    ]


def standby_lines(address: str, version: int) -> list[str]:
    """The primary's view of the standby: backups copy the database's files from it (the primary only starts
    and stops them); louie-pitr-backup retries with --backup-standby=n when it does not answer."""
    return [
        f"pg2-host={address}",
        "pg2-host-type=tls",
        f"pg2-host-port={topology.PGBACKREST_TLS_PORT}",
        f"pg2-host-ca-file={layout.PITR_TLS_CA}",
        f"pg2-host-cert-file={layout.PITR_TLS_CLIENT_CERT}",
        f"pg2-host-key-file={layout.PITR_TLS_CLIENT_KEY}",
        f"pg2-path=/var/lib/postgresql/{version}/main",
        "pg2-port=5432",
        "backup-standby=y",
    ]


def restore_config(s: Settings, version: int, part: str | None = None) -> dict:
    """/etc/louieops/restore-db.json, what louie-restore-db needs besides pgBackRest's own configuration."""
    return {
        "stanza": layout.PITR_STANZA,
        "database": s.postgresql_database,
        "owner": s.postgresql_role,
        "version": version,
        "data_dir": f"/var/lib/postgresql/{version}/main",
        "service": f"postgresql@{version}-main.service",
        "scratch_port": SCRATCH_PORT,
        "scratch_dir": f"/var/lib/postgresql/{version}/louie-restore",
        "archive_timeout": s.backup_pitr_archive_timeout,
        "send_alert": layout.script(s, "send-alert"),
        "status": layout.PITR_STATUS,
        "backup_command": layout.PITR_BACKUP_COMMAND,  # promote-db starts the new primary's first backup
        "check_status": layout.PITR_CHECK_STATUS,
        "backup_from_standby": part == "client",  # louie-pitr-backup's fallback to the primary
    }
