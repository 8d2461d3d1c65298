"""Log shipping, alert routing, KPI thresholds and health-check settings."""

from __future__ import annotations

from ..rules import (
    Invalid,
    absolute_path,
    boolean,
    cron_schedule,
    domain,
    email,
    env_name,
    identifier,
    integer,
    list_of,
    mapping_of,
    number,
    one_of,
    optional,
    record,
    sha256_hex,
    string,
    version,
)
from ..validate import SettingsError


def _source(value):
    """an https:// URL or an absolute local path to the tarball"""
    if isinstance(value, str) and (value.startswith("https://") or value.startswith("/")):
        return value
    raise Invalid(_source.__doc__)


_threshold = optional(number(0))
_TIER = one_of("P1", "P2", "P3", "P4")

RULES = {
    "papertrail_method": one_of("rsyslog", "remote_syslog2", "none"),
    "papertrail_host": domain,
    "papertrail_port": optional(integer(1, 65535)),
    "papertrail_ca_file": absolute_path,
    "remote_syslog2_version": version,
    "remote_syslog2_sha256": sha256_hex,
    "remote_syslog2_source": _source,
    "alert_slack_webhooks": mapping_of(identifier, env_name),
    "alert_routes": mapping_of(
        _TIER, record({"slack": list_of(identifier), "email": boolean, "sms": boolean})
    ),
    "alert_email_to": optional(email),
    "alert_sms_to": optional(string(r"\+[1-9][0-9]{6,14}", "a phone number in E.164 form such as +4915112345678")),
    "alert_dedup_minutes": integer(0, 10080),
    "kpi_thresholds": mapping_of(
        identifier, record({"target": _threshold, "warning": _threshold, "critical": _threshold})
    ),
    "health_schedule": cron_schedule,
}

# KPIs where a smaller number is worse (alert when the value falls below the threshold).
LOWER_IS_WORSE = {"uptime_pct", "cert_expiry_days"}


def _check_routes(settings):
    missing = sorted({"P1", "P2", "P3", "P4"} - set(settings.alert_routes))
    if missing:
        raise SettingsError("alert_routes", settings.alert_routes, f"a route for every tier (missing {missing[0]})")
    for tier, route in settings.alert_routes.items():
        for channel in route["slack"]:
            if channel not in settings.alert_slack_webhooks:
                raise SettingsError(
                    f"alert_routes[{tier!r}].slack", channel,
                    f"a channel listed in alert_slack_webhooks ({', '.join(settings.alert_slack_webhooks)})",
                )


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


CHECKS = [_check_routes, _check_thresholds]
