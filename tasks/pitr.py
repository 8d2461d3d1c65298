"""Point-in-time recovery of the database with pgBackRest (backup_pitr; docs/backups.md).

PostgreSQL hands every WAL segment to ``pgbackrest archive-push`` (asynchronous, from a local spool), and
archives a partly filled one after backup_pitr_archive_timeout seconds: at most that much committed data is
lost with the server. Full and differential backups run from cron; the repository in the bucket is encrypted
on the server (aes-256-cbc, LOUIE_BACKUP_PASSPHRASE) before anything leaves it. ``louie-restore-db`` restores
to a moment (``--to``) or to the end of the archive (``--latest``), into a new database or in place; its
``--drill`` (monthly from cron) restores to a moment into a scratch copy and checks its rows.

Settings read: backup_pitr_archive_timeout, backup_pitr_full_schedule, backup_pitr_diff_schedule,
backup_pitr_verify_schedule, backup_pitr_drill_schedule, backup_pitr_retention_full, backup_pitr_s3_ca_file,
backup_s3_bucket, backup_s3_region, cluster_name, postgresql_database, postgresql_role.
Whether it runs here comes from louieops.placement.archives_wal (backup_pitr, the primary); the S3 endpoint
from settings.sections.backups.pitr_endpoint (its own setting, else the dumps' one).
Secrets read (only with backup_pitr): AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, LOUIE_BACKUP_PASSPHRASE.

On the database primary and its hot standby (which archives once promote-db makes it the primary; its
louie-pitr-backup and drill wait for that day, and the stanza is the primary's):
- Debian's pgbackrest; /etc/pgbackrest/pgbackrest.conf (postgres 0600: the S3 keys and the passphrase);
  its spool and log directories (postgres 0750);
- the stanza, created with its first full backup by the deploy that turns backup_pitr on (on the primary);
- /etc/cron.d/louieops-pitr (the backups, as root through louie-pitr-backup, which alerts on a failure);
- /usr/local/bin/louie-restore-db and /etc/louieops/restore-db.json.
The archive settings themselves are in PostgreSQL's conf.d file (tasks/postgresql.py: archive_variables).
"""

from __future__ import annotations

import os
import shlex
from io import StringIO
from urllib.parse import urlsplit

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import apt, files, server

from louieops import layout, placement, secrets, topology
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
    files.put(
        name=f"Upload {layout.PITR_CONFIG}",
        src=StringIO(pgbackrest_conf(s, version)),
        dest=layout.PITR_CONFIG,
        user="postgres",
        group="postgres",
        mode="0600",
    )
    put_file("backup/louie-restore-db", layout.PITR_RESTORE_COMMAND, mode="0755")
    put_file("backup/louie-pitr-backup", layout.PITR_BACKUP_COMMAND, mode="0755")
    put_config(layout.PITR_RESTORE_CONFIG, restore_config(s, version))
    put_template(
        "backup/louieops-pitr.j2",
        layout.PITR_CRON,
        name=f"Upload {layout.PITR_CRON}",
        full=s.backup_pitr_full_schedule,
        diff=s.backup_pitr_diff_schedule,
        verify=s.backup_pitr_verify_schedule,
        drill=s.backup_pitr_drill_schedule,
        restore=layout.PITR_RESTORE_COMMAND,
    )

    # activate: the stanza and its first full backup, once (a restore needs a backup to start from); decided
    # when planning, so the plan shows it. The standby's is the primary's: it only reads it until promoted.
    if me.has(topology.STANDBY):
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


def pgbackrest_conf(s: Settings, version: int) -> str:
    """/etc/pgbackrest/pgbackrest.conf. Holds the S3 keys and the cipher passphrase: never printed."""
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
        "",
        "[global:archive-push]",
        "compress-level=3",
        "",
        f"[{layout.PITR_STANZA}]",
        f"pg1-path=/var/lib/postgresql/{version}/main",
        "pg1-port=5432",
        "",
    ]
    return "\n".join(lines)


def restore_config(s: Settings, version: int) -> dict:
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
    }
