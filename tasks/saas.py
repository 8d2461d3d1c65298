"""External monitors: UptimeRobot uptime monitors and Sentry alerts/metric monitors (seed §2.1, §2.2, §5).

Runs once per deploy (not per host), after the server tasks. A missing API key skips that service with
one line; the server deploy is unaffected.

Settings: uptimerobot_* and sentry_* (inventory/group_data/all.py), alert_routes, kpi_thresholds, domain_*.
Secrets: UPTIMEROBOT_API_KEY, SENTRY_AUTH_TOKEN.
"""

from __future__ import annotations

import logging

from pyinfra import host
from pyinfra.api import deploy

from louieops import secrets
from louieops.operations import saas
from louieops.settings import for_host

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
        saas.uptimerobot_monitors(name="Register the UptimeRobot monitors", settings=settings, _run_once=True)
    else:
        _skip("UPTIMEROBOT_API_KEY", "UptimeRobot monitors")
    if secrets.get("SENTRY_AUTH_TOKEN"):
        saas.sentry_alerts(name="Register the Sentry alerts and metric monitors", settings=settings, _run_once=True)
    else:
        _skip("SENTRY_AUTH_TOKEN", "Sentry alerts and metric monitors")
