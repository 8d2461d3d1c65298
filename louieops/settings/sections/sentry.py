"""Sentry settings: the API, the issue alerts, KPI metric monitors and cron monitors to keep registered.

Everything that can be checked without the API is checked here, before any request: tiers, Slack channel ids,
KPI references and the jobs that check in.
"""

from __future__ import annotations

from ..errors import SettingsError
from ..rules import (
    Invalid,
    boolean,
    identifier,
    integer,
    list_of,
    mapping_of,
    number,
    one_of,
    optional,
    record,
    string,
    url,
)
from .alerts import alert_tier

#: The scheduled jobs that can check in to Sentry Crons (tasks/checkins.py has their schedules).
CRON_JOBS = ("backup-db", "backup-uploads", "backup-logs", "backup-verify", "restore-drill", "health-check")

HEADING = "Sentry"

_slug = string(r"[a-z0-9][a-z0-9_-]*", "a lower-case slug")
_name = string(r"[^\s].{0,199}", "a name of 1-200 characters")

_ISSUE_ALERT = record(
    {
        "name": _name,
        "trigger": one_of("new_issue", "spike", "unhandled"),
        "frequency_minutes": one_of(0, 5, 10, 30, 60, 180, 720, 1440),
        "tier": alert_tier,
    },
    {"events": integer(1, 1_000_000), "interval": one_of("1m", "5m", "15m", "1h", "1d", "1w", "30d")},
)


def _issue_alert(value):
    """a Sentry issue alert (name, trigger, frequency_minutes, tier; spike: events, interval)"""
    item = _ISSUE_ALERT(value)
    spike_keys = {"events", "interval"} & set(item)
    if item["trigger"] == "spike" and len(spike_keys) != 2:
        raise Invalid("'events' and 'interval' on a spike alert")
    if item["trigger"] != "spike" and spike_keys:
        raise Invalid(f"no key {sorted(spike_keys)[0]!r} on a {item['trigger']} alert")
    return item


def _query(value):
    """a Sentry search query string ('' for none)"""
    if not isinstance(value, str):
        raise Invalid("a Sentry search query string ('' for none)")
    return value


_METRIC_MONITOR = record(
    {
        "name": _name,
        "kpi": identifier,
        "aggregate": string(r"[a-z_0-9]+\([a-z_.0-9,]*\)", "an aggregate such as p50(span.duration)"),
        "query": _query,
        "window_minutes": one_of(1, 5, 10, 15, 30, 60, 120, 240, 1440),
        "warning_tier": alert_tier,
        "critical_tier": alert_tier,
    },
    {"scale": number(0)},
)

RULES = {
    "sentry_api_url": url,
    "sentry_org": _slug,
    "sentry_project": _slug,
    "sentry_api_mode": one_of("auto", "workflows", "legacy"),
    "sentry_prune": boolean,
    "sentry_name_prefix": string(r"\S.*", "a non-empty name prefix such as '[louieops] '"),
    "sentry_settle_minutes": number(0, 120),
    "sentry_environment": optional(string(r"[^\s/]{1,64}", "a Sentry environment name")),
    "sentry_slack_integration_id": optional(string(r"[0-9]+", "the numeric id of Sentry's Slack integration")),
    "sentry_slack_channel_ids": mapping_of(
        identifier, string(r"[CGD][A-Z0-9]{6,}", "a Slack channel id such as C0123ABCD")
    ),
    "sentry_issue_alerts": list_of(_issue_alert),
    "sentry_metric_monitors": list_of(_METRIC_MONITOR),
    "sentry_cron_jobs": list_of(one_of(*CRON_JOBS)),
    "sentry_cron_checkin_margin_minutes": integer(1, 40320),
    "sentry_cron_max_runtime_minutes": integer(1, 40320),
    "sentry_cron_tier": alert_tier,
}


def _check_sentry(settings):
    names = set()
    tiers = []
    for key in ("sentry_issue_alerts", "sentry_metric_monitors"):
        for index, item in enumerate(getattr(settings, key)):
            if item["name"] in names:
                raise SettingsError(
                    f"{key}[{index}].name",
                    item["name"],
                    "a name used once across sentry_issue_alerts and sentry_metric_monitors",
                )
            names.add(item["name"])
            for tier_key in ("tier", "critical_tier"):  # warning_tier may route nowhere (see all.py)
                if tier_key in item:
                    tiers.append((f"{key}[{index}].{tier_key}", item[tier_key]))
    for index, item in enumerate(settings.sentry_metric_monitors):
        levels = settings.kpi_thresholds.get(item["kpi"])
        if levels is None:
            raise SettingsError(
                f"sentry_metric_monitors[{index}].kpi",
                item["kpi"],
                f"a KPI of kpi_thresholds ({', '.join(settings.kpi_thresholds)})",
            )
        if levels["warning"] is None or levels["critical"] is None:
            raise SettingsError(
                f"kpi_thresholds[{item['kpi']!r}]",
                levels,
                f"warning and critical levels (sentry_metric_monitors[{index}] alerts on them)",
            )
    jobs = settings.sentry_cron_jobs
    if len(set(jobs)) != len(jobs):
        raise SettingsError("sentry_cron_jobs", jobs, "each job listed once")
    if jobs:
        tiers.append(("sentry_cron_tier", settings.sentry_cron_tier))
    integration = settings.sentry_slack_integration_id
    for index, item in enumerate(settings.sentry_metric_monitors):
        if integration:
            tiers.append((f"sentry_metric_monitors[{index}].warning_tier", item["warning_tier"]))
    for where, tier in tiers:
        route = settings.alert_routes[tier]
        if integration:
            for channel in route["slack"]:
                if channel not in settings.sentry_slack_channel_ids:
                    raise SettingsError(
                        "sentry_slack_channel_ids",
                        settings.sentry_slack_channel_ids,
                        f"a Slack channel id for {channel!r} (alert_routes[{tier!r}], used by {where})",
                    )
        if not route["email"] and not (integration and route["slack"]) and not where.endswith("warning_tier"):
            raise SettingsError(
                where,
                tier,
                "a tier whose alert_routes entry Sentry can notify (e-mail, or Slack "
                "with sentry_slack_integration_id set)",
            )


CHECKS = [_check_sentry]
