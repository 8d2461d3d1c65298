"""Log shipping, alert routing, KPI thresholds, health check, maintenance jobs and fail2ban settings."""

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
    url,
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
_peer_name = string(
    r"(\*\.)?(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+",
    "a lower-case DNS name, optionally starting with '*.' (e.g. *.papertrailapp.com)",
)
_size = string(r"[0-9]+[kmg]", "a size such as 512m or 1g")
_fail2ban_time = string(r"[0-9]+[smhdw]?", "a fail2ban time such as 600, 10m, 1h or 1d")
_address = string(r"[0-9a-fA-F.:]+(/[0-9]{1,3})?", "an IP address or network such as 192.0.2.7 or 10.0.0.0/8")
# Health checks that have an alert tier (health_tiers keys).
HEALTH_CHECKS = ("api", "database", "api_p50_ms", "disk_pct", "memory_pct", "cpu_pct", "cert_expiry_days")

RULES = {
    "papertrail_method": one_of("rsyslog", "remote_syslog2", "none"),
    "papertrail_host": domain,
    "papertrail_port": optional(integer(1, 65535)),
    "papertrail_ca_file": absolute_path,
    "papertrail_permitted_peer": optional(_peer_name),
    "papertrail_queue_max_disk": _size,
    "remote_syslog2_version": version,
    "remote_syslog2_sha256": optional(sha256_hex),
    "remote_syslog2_source": _source,
    "alert_slack_webhooks": mapping_of(identifier, env_name),
    "alert_routes": mapping_of(_TIER, record({"slack": list_of(identifier), "email": boolean, "sms": boolean})),
    "alert_email_to": optional(email),
    "alert_sms_to": optional(string(r"\+[1-9][0-9]{6,14}", "a phone number in E.164 form such as +4915112345678")),
    "alert_twilio_api_url": url,
    "alert_dedup_minutes": integer(0, 10080),
    "alert_group": identifier,
    "kpi_thresholds": mapping_of(
        identifier, record({"target": _threshold, "warning": _threshold, "critical": _threshold})
    ),
    "health_tiers": mapping_of(one_of(*HEALTH_CHECKS), record({"warning": _TIER, "critical": _TIER})),
    "health_schedule": cron_schedule,
    "health_user": identifier,
    "health_disk_mounts": list_of(absolute_path, min_items=1),
    "health_api_probes": integer(1, 50),
    "health_api_tls_verify": boolean,
    "maintenance_daily_summary_schedule": cron_schedule,
    "maintenance_log_check_schedule": cron_schedule,
    "maintenance_npm_audit_schedule": cron_schedule,
    "maintenance_exposure_scan_schedule": cron_schedule,
    "maintenance_cert_report_schedule": cron_schedule,
    "maintenance_quarterly_reminder_schedule": cron_schedule,
    "fail2ban_maxretry": integer(1, 1000),
    "fail2ban_findtime": _fail2ban_time,
    "fail2ban_bantime": _fail2ban_time,
    "fail2ban_ignoreip": list_of(_address),
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
                    f"alert_routes[{tier!r}].slack",
                    channel,
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


def _check_remote_syslog2(settings):
    if settings.papertrail_method == "remote_syslog2" and settings.papertrail_port is not None:
        if settings.remote_syslog2_sha256 is None:
            raise SettingsError(
                "remote_syslog2_sha256",
                None,
                "the sha256 of the remote_syslog2 tarball you verified (`sha256sum remote_syslog_linux_amd64.tar.gz`);"
                " it is required when papertrail_method = 'remote_syslog2'",
            )


def _check_health_tiers(settings):
    missing = [check for check in HEALTH_CHECKS if check not in settings.health_tiers]
    if missing:
        raise SettingsError(
            "health_tiers", settings.health_tiers, f"a tier for every health check (missing {missing[0]})"
        )


CHECKS = [_check_routes, _check_thresholds, _check_remote_syslog2, _check_health_tiers]
