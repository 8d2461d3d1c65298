"""Backups (seed §8) and their checks (seed §6): the database every 6 hours, the uploads daily and the
app logs weekly, to local disk and S3, a daily freshness check, a monthly restore drill, and
``{scripts_dir}/restore-db`` for recovery.

Settings read: backup_dir, backup_user, backup_db_schedule, backup_uploads_schedule, backup_logs_schedule,
backup_verify_schedule, backup_restore_drill_schedule, backup_local_retention_days, backup_s3_bucket,
backup_s3_endpoint_url, backup_s3_region, backup_s3_retention_days, app_name, app_user, app_uploads_dir,
app_log_dir, scripts_dir, postgresql_database, alert_group.
Secrets read (only when backup_s3_bucket is set): AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY.

On the server:
- the backup user (system user, no login shell), in the groups that can read the uploads (the app
  user's group), the app logs (adm) and use send-alert (alert_group); a PostgreSQL role of the same
  name with pg_read_all_data only, authenticated by peer over the local socket;
- {backup_dir} root 0711, {backup_dir}/{db,uploads,logs} owned by the backup user, 0750;
- /var/lib/louieops/backup-status/<kind>.json: the last good run of each kind (time, file, size, sha256),
  written by the backup scripts, world-readable (the daily summary and `status` read it: they cannot
  read the backups); the directory is owned by the backup user, 0755;
- {scripts_dir}/backup-db, backup-files, backup-s3, backup-verify, restore-db, restore-drill (+ backup-lib.sh);
- /etc/louieops/backup.conf (0644, no secrets) and /etc/louieops/backup-s3-credentials (0600, backup user);
- /etc/cron.d/louieops-backup.
On the controller (boto3): the bucket and its lifecycle rules (created when missing).
"""

from __future__ import annotations

from io import StringIO

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import apt, files, postgres, server

from louieops import resources, secrets
from louieops.cron import cron_max_gap_minutes
from louieops.facts.backup import PostgresRoleMemberOf
from louieops.operations import s3
from louieops.settings import for_host
from tasks.base import put_template

CONFIG_DIR = "/etc/louieops"
CONFIG_FILE = f"{CONFIG_DIR}/backup.conf"
CREDENTIALS_FILE = f"{CONFIG_DIR}/backup-s3-credentials"
CRON_FILE = "/etc/cron.d/louieops-backup"
STATUS_DIR = "/var/lib/louieops/backup-status"  # BACKUP_STATUS_DIR of backup.conf
SCRIPTS = {  # file in files/backup -> mode
    "backup-lib.sh": "0644",
    "backup-db": "0755",
    "backup-files": "0755",
    "backup-s3": "0755",
    "backup-verify": "0755",
    "restore-db": "0755",
    "restore-drill": "0755",
}
KINDS = ("db", "uploads", "logs")
# A backup may be this much older than its schedule's longest gap before the daily check complains
# (room for the run itself and a late cron).
MAX_AGE_MARGIN_MINUTES = 60
READ_ROLE = "pg_read_all_data"  # PostgreSQL >= 14: SELECT on everything, nothing else


@deploy("Backups")
def install_backups():
    s = for_host(host)
    as_postgres = {"_sudo": True, "_sudo_user": "postgres"}

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
        groups=[s.app_user, "adm", s.alert_group],
    )
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

    # configure: directories and scripts
    files.directory(name=f"Create {s.backup_dir}", path=s.backup_dir, user="root", group="root", mode="0711")
    for kind in KINDS:
        files.directory(
            name=f"Create {s.backup_dir}/{kind}",
            path=f"{s.backup_dir}/{kind}",
            user=s.backup_user,
            group=s.backup_user,
            mode="0750",
        )
    files.directory(name=f"Create {STATUS_DIR}", path=STATUS_DIR, user=s.backup_user, group=s.backup_user, mode="0755")
    files.directory(name=f"Create {s.scripts_dir}", path=s.scripts_dir, user="root", group="root", mode="0755")
    for script, mode in SCRIPTS.items():
        files.put(
            name=f"Upload {s.scripts_dir}/{script}",
            src=resources.file(f"backup/{script}"),
            dest=f"{s.scripts_dir}/{script}",
            user="root",
            group="root",
            mode=mode,
        )

    # configure: settings, credentials, schedule
    files.directory(name=f"Create {CONFIG_DIR}", path=CONFIG_DIR, user="root", group="root", mode="0755")
    put_template(
        "backup/backup.conf.j2",
        CONFIG_FILE,
        name=f"Upload {CONFIG_FILE}",
        app_name=s.app_name,
        app_service=f"pm2-{s.app_user}.service",
        db_name=s.postgresql_database,
        backup_dir=s.backup_dir,
        scripts_dir=s.scripts_dir,
        uploads_dir=s.app_uploads_dir,
        log_dir=s.app_log_dir,
        local_retention_days=s.backup_local_retention_days,
        s3_bucket=s.backup_s3_bucket,
        s3_endpoint_url=s.backup_s3_endpoint_url,
        s3_region=s.backup_s3_region,
        s3_credentials_file=CREDENTIALS_FILE,
        status_dir=STATUS_DIR,
        max_age_minutes=max_age_minutes(s),
    )
    if s.backup_s3_bucket:
        files.put(
            name=f"Upload {CREDENTIALS_FILE}",
            src=StringIO(credentials_file_content()),
            dest=CREDENTIALS_FILE,
            user=s.backup_user,
            group=s.backup_user,
            mode="0600",
        )
    else:
        files.file(name=f"Remove {CREDENTIALS_FILE}", path=CREDENTIALS_FILE, present=False)
    put_template(
        "backup/louieops-backup.j2",
        CRON_FILE,
        name=f"Upload {CRON_FILE}",
        backup_user=s.backup_user,
        scripts_dir=s.scripts_dir,
        schedules=schedules(s),
    )

    # activate: the bucket (controller side)
    if s.backup_s3_bucket:
        s3.bucket_lifecycle(
            name=f"Set the lifecycle rules of S3 bucket {s.backup_s3_bucket}",
            bucket=s.backup_s3_bucket,
            retention_days=dict(s.backup_s3_retention_days),
            endpoint_url=s.backup_s3_endpoint_url,
            region=s.backup_s3_region,
            access_key_id=secrets.require("AWS_ACCESS_KEY_ID"),
            secret_access_key=secrets.require("AWS_SECRET_ACCESS_KEY"),
        )


def credentials_file_content() -> str:
    """The backup user's S3 credentials in AWS shared-credentials format (read by backup-s3)."""
    key_id = secrets.require("AWS_ACCESS_KEY_ID")
    secret = secrets.require("AWS_SECRET_ACCESS_KEY")
    for value in (key_id, secret):
        if any(c in value for c in "\r\n"):
            raise ValueError("an AWS credential contains a line break")
    return f"[default]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n"


def schedules(s) -> dict:
    return {
        "db": s.backup_db_schedule,
        "uploads": s.backup_uploads_schedule,
        "logs": s.backup_logs_schedule,
        "verify": s.backup_verify_schedule,
        "drill": s.backup_restore_drill_schedule,
    }


def max_age_minutes(s) -> dict:
    """How old the newest backup of each kind may be before the daily check reports it."""
    return {kind: cron_max_gap_minutes(schedules(s)[kind]) + MAX_AGE_MARGIN_MINUTES for kind in KINDS}
