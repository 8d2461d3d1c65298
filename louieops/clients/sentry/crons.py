"""Sentry Crons: a cron monitor per scheduled job, so a run that does not check in (missed), runs too long
(timeout) or fails (error) raises an issue. The monitor is known by its slug (unique in the organization,
the name jobs check in with); the deploy keeps its name, schedule and margins as desired.

The jobs check in at ``{ingest}/api/{project_id}/cron/{slug}/{public_key}/`` with the project's DSN (see
files/scripts/cron-checkin); that endpoint is not part of this client.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import number


@dataclass(frozen=True)
class CronMonitorSpec:
    slug: str
    name: str
    schedule: str  # 5-field crontab
    checkin_margin: int  # minutes after the expected time before a run counts as missed
    max_runtime: int  # minutes a run may stay in progress before it counts as timed out
    timezone: str


def cron_fields(spec: CronMonitorSpec) -> dict:
    """The monitor in response form."""
    return {
        "name": spec.name,
        "slug": spec.slug,
        "status": "active",
        "config": {
            "schedule_type": "crontab",
            "schedule": spec.schedule,
            "checkin_margin": spec.checkin_margin,
            "max_runtime": spec.max_runtime,
            "timezone": spec.timezone,
        },
    }


def cron_canonical(fields: dict) -> dict:
    config = fields.get("config") or {}
    return {
        "name": fields.get("name"),
        "status": fields.get("status"),
        "schedule": config.get("schedule"),
        "schedule_type": config.get("schedule_type"),
        "checkin_margin": number(config.get("checkin_margin")),
        "max_runtime": number(config.get("max_runtime")),
        "timezone": config.get("timezone"),
    }


def cron_body(fields: dict, project: str) -> dict:
    """POST/PUT body (the document's snake_case config keys)."""
    return {"project": project, **fields, "config": dict(fields["config"])}
