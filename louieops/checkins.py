"""Cron check-ins (Sentry Crons): which scheduled jobs check in, on which schedule, under which monitor slug,
and the wrapper their cron lines run them through. The one home for the deploy's three users of it: the
cron templates (tasks/health.py, tasks/backups.py), the wrapper's config (tasks/checkins.py) and the Sentry
cron monitors (tasks/saas.py).
"""

from __future__ import annotations

from . import layout
from .settings import Settings

#: The wrapper a cron line runs a job through: `cron-checkin JOB -- COMMAND...` (files/scripts/cron-checkin).
WRAPPER = "cron-checkin"


def schedules(settings: Settings) -> dict[str, str]:
    """Every job that can check in, and its cron schedule (sentry_cron_jobs names a subset)."""
    return {
        "backup-db": settings.backup_db_schedule,
        "backup-uploads": settings.backup_uploads_schedule,
        "backup-logs": settings.backup_logs_schedule,
        "backup-verify": settings.backup_verify_schedule,
        "restore-drill": settings.backup_restore_drill_schedule,
        "health-check": settings.health_schedule,
    }


def slug(settings: Settings, job: str) -> str:
    """The Sentry cron monitor's slug of a job (unique in the organization: prefixed with the app's name)."""
    return f"{settings.app_name}-{job}"


def wrapped(settings: Settings, job: str) -> str:
    """The prefix of a job's cron command: the wrapper when the job checks in, else nothing."""
    if job not in settings.sentry_cron_jobs:
        return ""
    return f"{layout.script(settings, WRAPPER)} {job} -- "
