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
#: Checks that are up or down: a critical tier only (a warning tier could never fire).
UP_DOWN_CHECKS = ("api", "database")
#: Checks that have an alert tier (health_tiers keys): the health check's, and uptime_pct (daily summary).
#: Every one but the up/down checks is a KPI of kpi_thresholds, with a warning and a critical tier.
HEALTH_CHECKS = (
    *UP_DOWN_CHECKS,
    "api_p50_ms",
    "api_p99_ms",
    "error_rate_pct",
    "db_query_ms",
    "disk_pct",
    "memory_pct",
    "cpu_pct",
    "cert_expiry_days",
    "websocket_connections",
    "wal_archive_failing_minutes",
    "pitr_backup_age_hours",
    "pitr_check_age_hours",
    "uptime_pct",
)

_threshold = optional(number(0))

RULES = {
    "kpi_thresholds": mapping_of(
        identifier, record({"target": _threshold, "warning": _threshold, "critical": _threshold})
    ),
    "health_tiers": mapping_of(one_of(*HEALTH_CHECKS), record({"critical": alert_tier}, {"warning": alert_tier})),
    "health_schedule": cron_schedule,
    "health_user": identifier,
    "health_disk_mounts": list_of(absolute_path, min_items=1),
    "health_api_min_requests": integer(1, 100000),
    "health_api_tls_verify": boolean,
    "health_websocket_metrics_path": optional(string(r"/[^\s?#]*", "an absolute URL path such as /admin/metrics")),
    "health_history_days": integer(1, 90),
    "health_page_user": optional(string(r"[A-Za-z0-9._-]{1,64}", "a login name (letters, digits, . _ -)")),
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
    for check, tiers in settings.health_tiers.items():
        if check in UP_DOWN_CHECKS and "warning" in tiers:
            raise SettingsError(
                f"health_tiers[{check!r}].warning", tiers["warning"], "no warning tier: this check is up or down"
            )
        if check not in UP_DOWN_CHECKS and "warning" not in tiers:
            raise SettingsError(f"health_tiers[{check!r}]", tiers, "a warning and a critical tier (it is a KPI)")


CHECKS = [_check_thresholds, _check_health_tiers]
