"""Backup and S3 settings."""

from __future__ import annotations

from urllib.parse import urlsplit

from ..errors import SettingsError
from ..rules import (
    absolute_path,
    boolean,
    cron_schedule,
    identifier,
    integer,
    optional,
    record,
    string,
    url,
)

HEADING = "Backups"
RULES = {
    "backup_dir": absolute_path,
    "backup_user": identifier,
    "backup_db_schedule": cron_schedule,
    "backup_uploads_schedule": cron_schedule,
    "backup_logs_schedule": cron_schedule,
    "backup_verify_schedule": cron_schedule,
    "backup_restore_drill_schedule": cron_schedule,
    "backup_local_retention_days": integer(1, 3650),
    "backup_s3_bucket": optional(string(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", "an S3 bucket name")),
    "backup_s3_endpoint_url": optional(url),
    "backup_s3_region": string(r"[a-z0-9-]+", "an S3 region such as eu-central-1"),
    "backup_s3_retention_days": record(
        {"db": integer(1, 36500), "uploads": integer(1, 36500), "logs": integer(1, 36500)}
    ),
    "backup_pitr": boolean,
    "backup_pitr_archive_timeout": integer(10, 3600),
    "backup_pitr_full_schedule": cron_schedule,
    "backup_pitr_diff_schedule": cron_schedule,
    "backup_pitr_verify_schedule": cron_schedule,
    "backup_pitr_check_schedule": cron_schedule,
    "backup_pitr_drill_schedule": optional(cron_schedule),
    "backup_pitr_retention_full": integer(1, 100),
    "backup_pitr_from_standby": boolean,
    "backup_pitr_s3_endpoint_url": optional(url),
    "backup_pitr_s3_ca_file": optional(absolute_path),
}


def pitr_endpoint(settings) -> str | None:
    """The S3 endpoint pgBackRest talks to (None: AWS)."""
    return settings.backup_pitr_s3_endpoint_url or settings.backup_s3_endpoint_url


def _check_pitr(settings):
    if not settings.backup_pitr:
        return
    if not settings.backup_s3_bucket:
        raise SettingsError("backup_pitr", True, "False, or a bucket in backup_s3_bucket (the WAL archive lives there)")
    endpoint = pitr_endpoint(settings)
    if endpoint and urlsplit(endpoint).scheme != "https":
        key = "backup_pitr_s3_endpoint_url" if settings.backup_pitr_s3_endpoint_url else "backup_s3_endpoint_url"
        raise SettingsError(
            key, endpoint, "an https:// URL: pgBackRest speaks S3 over TLS only (set backup_pitr_s3_endpoint_url)"
        )


CHECKS = [_check_pitr]
