"""Backup and S3 settings."""

from __future__ import annotations

from ..rules import absolute_path, cron_schedule, identifier, integer, optional, record, string, url

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
}
