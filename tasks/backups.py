"""Backups (seed §8) and their checks (seed §6): the database every 6 hours, the uploads daily and the
app logs weekly, to local disk and S3, a daily freshness check, a monthly restore drill, and
``{scripts_dir}/restore-db`` for recovery.

Settings read: backup_dir, backup_user, backup_db_schedule, backup_uploads_schedule, backup_logs_schedule,
backup_verify_schedule, backup_restore_drill_schedule, backup_local_retention_days, backup_s3_bucket,
backup_s3_endpoint_url, backup_s3_region, backup_s3_retention_days, app_name, app_user, app_uploads_dir,
app_log_dir, scripts_dir, postgresql_database, alert_group, cluster_name.
Secrets read (only when backup_s3_bucket is set): AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
LOUIE_BACKUP_PASSPHRASE (the uploads and log archives are encrypted with it before they leave the server).

On the server:
- the backup user (system user, no login shell), in the groups that can read the uploads (the app
  user's group), the app logs (adm) and use send-alert (alert_group); a PostgreSQL role of the same
  name with pg_read_all_data only, authenticated by peer over the local socket;
- {backup_dir} root 0711, {backup_dir}/{db,uploads,logs} owned by the backup user, 0750;
- /var/lib/louieops/backup-status/<kind>.json: the last good run of each kind (time, file, size, sha256),
  written by the backup scripts, world-readable (the daily summary and `status` read it: they cannot
  read the backups); the directory is owned by the backup user, 0755;
- {scripts_dir}/backup-db, backup-files, backup-s3, backup-verify, restore-db, restore-files, restore-drill
  (+ backup-lib.sh);
- /etc/louieops/backup.conf (0644, no secrets), /etc/louieops/backup-s3-credentials and
  /etc/louieops/backup-passphrase (0600, backup user);
- /etc/cron.d/louieops-backup.
On the controller (boto3): the bucket and its lifecycle rules (created when missing).

With several servers each host backs up what it holds: the database on the ``db`` host (with the check and the
restore drill), the uploads and logs on each ``app`` host. In the bucket, a cluster's objects are under
<kind>/<cluster_name>/ (the uploads and logs under <kind>/<cluster_name>/<host>/), so clusters and hosts never
share a name; the lifecycle rules on <kind>/ cover them all. One server keeps <kind>/ (cluster_name None).
"""

from __future__ import annotations

import re
from io import StringIO

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import apt, files, postgres, server

from louieops import checkins, layout, placement, secrets, topology
from louieops.cron import cron_max_gap_minutes
from louieops.facts.backup import PostgresRoleMemberOf
from louieops.operations import s3
from louieops.placement import Placement
from louieops.resources import put_file, put_template
from louieops.server_scripts import backup_kinds
from louieops.settings import Settings, for_host

SCRIPTS = {  # file in files/backup -> mode
    "backup-lib.sh": "0644",
    "backup-db": "0755",
    "backup-files": "0755",
    "backup-s3": "0755",
    "backup-verify": "0755",
    "restore-db": "0755",
    "restore-files": "0755",
    "restore-drill": "0755",
}
# A backup may be this much older than its schedule's longest gap before the daily check complains
# (room for the run itself and a late cron).
MAX_AGE_MARGIN_MINUTES = 60
READ_ROLE = "pg_read_all_data"  # PostgreSQL >= 14: SELECT on everything, nothing else


@deploy("Backups")
def install_backups():
    s = for_host(host)
    where = placement.of(host)
    database = where.has(topology.DB)

    # install
    packages = ["zstd", "cron"] + (["python3-boto3"] if s.backup_s3_bucket else [])
    apt.packages(name=f"Install {', '.join(packages)}", packages=packages)
    server.user(
        name=f"Create the backup user {s.backup_user}",
        user=s.backup_user,
        system=True,
        home=f"/var/lib/{s.backup_user}",
        create_home=True,
        shell="/usr/sbin/nologin",
        groups=([s.app_user] if where.has(topology.APP) else []) + ["adm", s.alert_group],
    )
    if database:
        database_role(s)

    # configure: directories and scripts
    files.directory(name=f"Create {s.backup_dir}", path=s.backup_dir, user="root", group="root", mode="0711")
    for kind in layout.BACKUP_KINDS:
        files.directory(
            name=f"Create {s.backup_dir}/{kind}",
            path=f"{s.backup_dir}/{kind}",
            user=s.backup_user,
            group=s.backup_user,
            mode="0750",
        )
    files.directory(
        name=f"Create {layout.BACKUP_STATUS_DIR}",
        path=layout.BACKUP_STATUS_DIR,
        user=s.backup_user,
        group=s.backup_user,
        mode="0755",
    )
    for script, mode in SCRIPTS.items():
        put_file(f"backup/{script}", layout.script(s, script), mode=mode)

    # configure: settings, credentials, schedule
    put_template(
        "backup/backup.conf.j2",
        layout.BACKUP_CONFIG,
        name=f"Upload {layout.BACKUP_CONFIG}",
        **conf_variables(s, where, host.name),
    )
    credentials = layout.BACKUP_S3_CREDENTIALS
    if s.backup_s3_bucket:
        files.put(
            name=f"Upload {credentials}",
            src=StringIO(credentials_file_content()),
            dest=credentials,
            user=s.backup_user,
            group=s.backup_user,
            mode="0600",
        )
        files.put(
            name=f"Upload {layout.BACKUP_PASSPHRASE}",
            src=StringIO(passphrase_file_content()),
            dest=layout.BACKUP_PASSPHRASE,
            user=s.backup_user,
            group=s.backup_user,
            mode="0600",
        )
    else:
        for path in (credentials, layout.BACKUP_PASSPHRASE):
            files.file(name=f"Remove {path}", path=path, present=False)
    put_template(
        "backup/louieops-backup.j2",
        layout.BACKUP_CRON,
        name=f"Upload {layout.BACKUP_CRON}",
        backup_user=s.backup_user,
        scripts_dir=s.scripts_dir,
        schedules=schedules(s),
        checkin=checkins.wrappers(s),
        kinds=backup_kinds(where),
    )

    # activate: the bucket (controller side; once, from the database host)
    if s.backup_s3_bucket and database:
        s3.bucket_lifecycle(
            name=f"Set the lifecycle rules of S3 bucket {s.backup_s3_bucket}",
            bucket=s.backup_s3_bucket,
            retention_days=dict(s.backup_s3_retention_days),
            endpoint_url=s.backup_s3_endpoint_url,
            region=s.backup_s3_region,
            access_key_id=secrets.require("AWS_ACCESS_KEY_ID"),
            secret_access_key=secrets.require("AWS_SECRET_ACCESS_KEY"),
        )


def database_role(s: Settings) -> None:
    """The backup user's PostgreSQL role: peer login, pg_read_all_data only (on the primary)."""
    as_postgres = {"_sudo": True, "_sudo_user": "postgres"}
    postgres.role(
        name=f"Create PostgreSQL role {s.backup_user} (peer login)", role=s.backup_user, login=True, **as_postgres
    )
    # postgres.sql always reports a change: only plan it while the membership is missing (and keep
    # --dry clean, which an _if= guard would not: _if is evaluated only when executing).
    if READ_ROLE not in host.get_fact(PostgresRoleMemberOf, role=s.backup_user, _sudo=True):
        postgres.sql(
            name=f"Grant {READ_ROLE} to PostgreSQL role {s.backup_user}",
            sql=f'GRANT {READ_ROLE} TO "{s.backup_user}"',
            **as_postgres,
        )


def credentials_file_content() -> str:
    """The backup user's S3 credentials in AWS shared-credentials format (read by backup-s3)."""
    key_id = secrets.require("AWS_ACCESS_KEY_ID")
    secret = secrets.require("AWS_SECRET_ACCESS_KEY")
    for value in (key_id, secret):
        if any(c in value for c in "\r\n"):
            raise ValueError("an AWS credential contains a line break")
    return f"[default]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n"


def passphrase_file_content() -> str:
    """LOUIE_BACKUP_PASSPHRASE, which encrypts the uploads and log archives before they go to S3 (openssl reads
    the file's first line)."""
    passphrase = secrets.require("LOUIE_BACKUP_PASSPHRASE")
    if any(c in passphrase for c in "\r\n"):
        raise ValueError("LOUIE_BACKUP_PASSPHRASE contains a line break")
    return passphrase + "\n"


def s3_scopes(s: Settings, where: Placement, host_name: str) -> dict:
    """Where in the bucket each kind of backup of this host goes, below <kind>/ ("" with one server)."""
    if where.single_server:
        return {kind: "" for kind in layout.BACKUP_KINDS}
    cluster = s.cluster_name or ""
    per_host = "/".join(part for part in (cluster, re.sub(r"[^A-Za-z0-9._-]", "_", host_name)) if part)
    return {"db": cluster, "uploads": per_host, "logs": per_host}


def conf_variables(s: Settings, where: Placement = placement.SINGLE, host_name: str = "") -> dict:
    """Variables of templates/backup/backup.conf.j2, the KEY=VALUE settings of the backup scripts."""
    return {
        "kinds": backup_kinds(where),
        "s3_scopes": s3_scopes(s, where, host_name),
        "app_name": s.app_name,
        "app_service": layout.pm2_unit(s),
        "postgresql_database": s.postgresql_database,
        "backup_dir": s.backup_dir,
        "scripts_dir": s.scripts_dir,
        "app_uploads_dir": s.app_uploads_dir,
        "app_log_dir": s.app_log_dir,
        "backup_local_retention_days": s.backup_local_retention_days,
        "backup_s3_bucket": s.backup_s3_bucket,
        "backup_s3_endpoint_url": s.backup_s3_endpoint_url,
        "backup_s3_region": s.backup_s3_region,
        "s3_credentials_file": layout.BACKUP_S3_CREDENTIALS,
        "passphrase_file": layout.BACKUP_PASSPHRASE,
        "status_dir": layout.BACKUP_STATUS_DIR,
        "max_age_minutes": max_age_minutes(s),
    }


def schedules(s: Settings) -> dict:
    return {
        "db": s.backup_db_schedule,
        "uploads": s.backup_uploads_schedule,
        "logs": s.backup_logs_schedule,
        "verify": s.backup_verify_schedule,
        "drill": s.backup_restore_drill_schedule,
    }


def max_age_minutes(s: Settings) -> dict:
    """How old the newest backup of each kind may be before the daily check reports it."""
    return {kind: cron_max_gap_minutes(schedules(s)[kind]) + MAX_AGE_MARGIN_MINUTES for kind in layout.BACKUP_KINDS}
