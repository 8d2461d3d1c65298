"""Cron check-ins (Sentry Crons): which scheduled jobs check in, on which schedule, under which monitor slug,
and the wrapper their cron lines run them through. The one home for the deploy's three users of it: the
cron templates (tasks/health.py, tasks/backups.py), the wrapper's config (tasks/checkins.py) and the Sentry
cron monitors (tasks/saas.py).
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit

from . import layout
from .settings import Settings
from .topology import ANY, APP, DB, Topology

#: The roles whose hosts run each job (the cron lines of tasks/backups.py and tasks/health.py).
JOB_ROLES = {
    "backup-db": {DB},
    "backup-uploads": {APP},
    "backup-logs": {APP},
    "backup-verify": {DB, APP},
    "restore-drill": {DB},
    "health-check": ANY,
}
#: Sentry's longest monitor slug.
MAX_SLUG = 50

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


def slug(settings: Settings, job: str, host_name: str | None = None) -> str:
    """The Sentry cron monitor's slug of a job (unique in the organization: prefixed with the app's name). With
    several servers each host that runs the job has a monitor of its own (``host_name``: the inventory name), so
    a host whose job stopped is never masked by another host's check-ins."""
    base = f"{settings.app_name}-{job}"
    if host_name is None:
        return base
    name = f"{base}-{re.sub(r'[^a-z0-9_-]+', '-', host_name.lower()).strip('-')}"
    if len(name) <= MAX_SLUG:
        return name
    digest = hashlib.sha256(host_name.encode()).hexdigest()[:8]
    return f"{name[: MAX_SLUG - 9].rstrip('-')}-{digest}"


def monitors(settings: Settings, topo: Topology) -> list[tuple[str, str | None]]:
    """(job, host name) of every cron monitor of sentry_cron_jobs: one per job on one server (host None), one per
    job and host that runs it with several."""
    if topo.single_server:
        return [(job, None) for job in settings.sentry_cron_jobs]
    return [
        (job, member.name)
        for job in settings.sentry_cron_jobs
        for member in topo.members
        if member.has(*JOB_ROLES[job])
    ]


def wrapped(settings: Settings, job: str) -> str:
    """The prefix of a job's cron command: the wrapper when the job checks in, else nothing."""
    if job not in settings.sentry_cron_jobs:
        return ""
    return f"{layout.script(settings, WRAPPER)} {job} -- "


def wrappers(settings: Settings) -> dict[str, str]:
    """``wrapped`` of every job, by job name (the cron templates' variable)."""
    return {job: wrapped(settings, job) for job in schedules(settings)}


def ingest_url(dsn: str) -> tuple[str, str]:
    """(check-in base URL ending in ``/cron/``, public key) of a Sentry DSN
    (``https://<public key>@<host>[/<path>]/<project id>``); ValueError names SENTRY_DSN."""
    parts = urlsplit(dsn)
    path, _, project = parts.path.rstrip("/").rpartition("/")
    if parts.scheme not in ("http", "https") or not parts.username or not parts.hostname or not project.isdigit():
        raise ValueError("SENTRY_DSN is not a Sentry DSN such as https://<key>@o0.ingest.sentry.io/<project id>")
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    return f"{parts.scheme}://{host}{path}/api/{project}/cron/", parts.username


def monitor_config(settings: Settings, job: str) -> dict:
    """The monitor a job's check-ins upsert (Sentry's check-in ``monitor_config``)."""
    return {
        "schedule": {"type": "crontab", "value": schedules(settings)[job]},
        "checkin_margin": settings.sentry_cron_checkin_margin_minutes,
        "max_runtime": settings.sentry_cron_max_runtime_minutes,
        "timezone": settings.base_timezone,
    }
