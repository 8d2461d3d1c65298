"""Sentry Crons: a cron monitor per scheduled job, so a run that does not check in (missed), runs too long
(timeout) or fails (error) raises an issue. The monitor is known by its slug (unique in the organization,
the name jobs check in with); the deploy keeps its name, schedule and margins as desired.

Sentry gives each cron monitor a detector (type ``monitor_check_in_failure``, its data source the monitor);
an alert (workflow) connected to those detectors routes the issues, like the other alerts.

The jobs check in at ``{ingest}/api/{project_id}/cron/{slug}/{public_key}/`` with the project's DSN (see
files/scripts/cron-checkin); that endpoint is not part of this client.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import Route, new_or_returning, number, route_actions, workflow_fields

CRON_DETECTOR_TYPE = "monitor_check_in_failure"
#: At most one notification per cron issue in this many minutes (a failing 5-minute job must not flood).
CRON_ALERT_FREQUENCY = 60


@dataclass(frozen=True)
class CronMonitorSpec:
    slug: str
    name: str
    schedule: str  # 5-field crontab
    checkin_margin: int  # minutes after the expected time before a run counts as missed
    max_runtime: int  # minutes a run may stay in progress before it counts as timed out
    timezone: str


@dataclass(frozen=True)
class CronAlertSpec:
    """The alert that routes the issues of the cron monitors (missed, timed out, failed runs)."""

    name: str
    route: Route
    environment: str | None


def cron_detectors(detectors) -> dict[str, str]:
    """Detector id by cron monitor id, from the listed detectors (their data source is the monitor)."""
    found = {}
    for detector in detectors:
        if detector.raw.get("type") == CRON_DETECTOR_TYPE:
            for source in detector.raw.get("dataSources") or ():
                found[str(source.get("sourceId"))] = detector.id
    return found


def cron_workflow(spec: CronAlertSpec, detector_ids: list[str]) -> dict:
    """A new, regressed or reappeared cron issue notifies the route."""
    action_filter = {"logicType": "all", "conditions": [], "actions": route_actions(spec.route)}
    return workflow_fields(
        spec.name, detector_ids, CRON_ALERT_FREQUENCY, spec.environment, new_or_returning(), [action_filter]
    )


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
