"""KPI thresholds (seed §5) and the health check that compares against them."""

from __future__ import annotations

from ..errors import SettingsError
from ..rules import (
    absolute_path,
    boolean,
    cron_schedule,
    identifier,
    integer,
    list_of,
    mapping_of,
    number,
    one_of,
    optional,
    record,
    string,
)
from .alerts import alert_tier

HEADING = "KPI thresholds (seed §5)"
#: KPIs where a smaller number is worse (alert when the value falls below the threshold). The one list:
#: the health check and the Sentry metric monitors get it from here.
LOWER_IS_WORSE = ("uptime_pct", "cert_expiry_days")
#: Checks that have an alert tier (health_tiers keys): the health check's, and uptime_pct (daily summary).
HEALTH_CHECKS = (
    "api",
    "database",
    "api_p50_ms",
    "disk_pct",
    "memory_pct",
    "cpu_pct",
    "cert_expiry_days",
    "websocket_connections",
    "uptime_pct",
)

_threshold = optional(number(0))

RULES = {
    "kpi_thresholds": mapping_of(
        identifier, record({"target": _threshold, "warning": _threshold, "critical": _threshold})
    ),
    "health_tiers": mapping_of(one_of(*HEALTH_CHECKS), record({"warning": alert_tier, "critical": alert_tier})),
    "health_schedule": cron_schedule,
    "health_user": identifier,
    "health_disk_mounts": list_of(absolute_path, min_items=1),
    "health_api_probes": integer(1, 50),
    "health_api_tls_verify": boolean,
    "health_websocket_metrics_path": optional(string(r"/[^\s?#]*", "an absolute URL path such as /admin/metrics")),
}


def _check_thresholds(settings):
    for kpi, levels in settings.kpi_thresholds.items():
        warning, critical = levels["warning"], levels["critical"]
        if warning is None or critical is None:
            continue
        lower_is_worse = kpi in LOWER_IS_WORSE
        if (critical > warning) if lower_is_worse else (warning > critical):
            relation = "above" if lower_is_worse else "below"
            raise SettingsError(
                f"kpi_thresholds[{kpi!r}].warning", warning, f"a warning level {relation} the critical level {critical}"
            )


def _check_health_tiers(settings):
    missing = [check for check in HEALTH_CHECKS if check not in settings.health_tiers]
    if missing:
        raise SettingsError(
            "health_tiers", settings.health_tiers, f"a tier for every health check (missing {missing[0]})"
        )


CHECKS = [_check_thresholds, _check_health_tiers]
