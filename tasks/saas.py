"""External monitors: UptimeRobot uptime monitors and Sentry alerts/metric monitors (seed §2.1, §2.2, §5).

Runs once per deploy (not per host), after the server tasks. A missing API key skips that service with
one line; the server deploy is unaffected.

Settings: uptimerobot_* and sentry_* (inventory/group_data/all.py), alert_routes, kpi_thresholds, domain_*;
the desired monitors and alerts are built from them in tasks/saas_specs.py.
Secrets: UPTIMEROBOT_API_KEY, SENTRY_AUTH_TOKEN.
"""

from __future__ import annotations

import logging

from pyinfra import host
from pyinfra.api import deploy

from louieops import secrets
from louieops.operations import saas
from louieops.settings import for_host
from tasks import saas_specs

logger = logging.getLogger("pyinfra")
_SKIP_NOTED: set[str] = set()


def _skip(secret: str, what: str) -> None:
    if secret not in _SKIP_NOTED:  # one line per deploy, not one per host
        _SKIP_NOTED.add(secret)
        logger.warning(f"Skipping the {what}: {secret} is not set.")


@deploy("External monitors")
def register_external_monitors():
    settings = for_host(host)
    if secrets.get("UPTIMEROBOT_API_KEY"):
        saas.uptimerobot_monitors(
            name="Register the UptimeRobot monitors",
            monitors=saas_specs.uptimerobot_monitors(settings),
            alert_contacts=saas_specs.uptimerobot_alert_contacts(settings),
            managed_tag=settings.uptimerobot_managed_tag,
            prune=settings.uptimerobot_prune,
            api_url=settings.uptimerobot_api_url,
            requests_per_minute=settings.uptimerobot_requests_per_minute,
            _run_once=True,
        )
    else:
        _skip("UPTIMEROBOT_API_KEY", "UptimeRobot monitors")
    if secrets.get("SENTRY_AUTH_TOKEN"):
        saas.sentry_alerts(
            name="Register the Sentry alerts and metric monitors",
            issue_alerts=saas_specs.sentry_issue_alerts(settings),
            metric_monitors=saas_specs.sentry_metric_monitors(settings),
            name_prefix=settings.sentry_name_prefix,
            prune=settings.sentry_prune,
            api_url=settings.sentry_api_url,
            org=settings.sentry_org,
            project=settings.sentry_project,
            api_mode=settings.sentry_api_mode,
            _run_once=True,
        )
    else:
        _skip("SENTRY_AUTH_TOKEN", "Sentry alerts and metric monitors")
