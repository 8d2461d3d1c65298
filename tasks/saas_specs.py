"""The desired UptimeRobot monitors and Sentry alerts, built from the validated settings (pure: no I/O).

The API clients take these typed specs and know nothing of the settings: the placeholders, the routes per
tier, the KPI thresholds and their direction are resolved here.

Settings: uptimerobot_alert_contacts, uptimerobot_monitors, domain_* (placeholders), sentry_name_prefix,
sentry_environment, sentry_issue_alerts, sentry_metric_monitors, sentry_slack_integration_id,
sentry_slack_channel_ids, alert_routes, kpi_thresholds.
"""

from __future__ import annotations

import re

from louieops.clients.sentry import IssueAlertSpec, MetricMonitorSpec, Route
from louieops.clients.uptimerobot import ContactRef, MonitorSpec
from louieops.clients.uptimerobot.models import keyword_type
from louieops.settings import Settings
from louieops.settings.sections.observability import LOWER_IS_WORSE

_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")


def expand(text: str, settings: Settings) -> str:
    """Fill ``{domain_api}``-style placeholders (validation made sure each one names a string setting)."""
    return _PLACEHOLDER.sub(lambda match: settings[match.group(1)], text)


# --- UptimeRobot -----------------------------------------------------------------------------------


def uptimerobot_alert_contacts(settings: Settings) -> dict[str, ContactRef]:
    """The contacts to find in the account, by their key in uptimerobot_alert_contacts."""
    return {
        key: ContactRef(type=item["type"], name=item.get("name"), value=item.get("value"))
        for key, item in settings.uptimerobot_alert_contacts.items()
    }


def uptimerobot_monitors(settings: Settings) -> list[MonitorSpec]:
    specs = []
    for item in settings.uptimerobot_monitors:
        kind = item["type"].upper()
        keyword = kind == "KEYWORD"
        specs.append(
            MonitorSpec(
                name=expand(item["name"], settings),
                type=kind,
                url=expand(item["url"], settings),
                interval=item["interval"],
                timeout=item["timeout"],
                contact_keys=tuple(item["alert_contacts"]),
                port=item.get("port"),
                keyword=item.get("keyword"),
                keyword_type=keyword_type(item["keyword_alert_when"]) if keyword else None,
                keyword_case=(0 if item.get("keyword_case_sensitive", True) else 1) if keyword else None,
                http_method="GET" if keyword else None,  # HEAD (the default) cannot see the body
            )
        )
    return specs


# --- Sentry ----------------------------------------------------------------------------------------


def sentry_route(settings: Settings, tier: str) -> Route:
    """Where alerts of ``tier`` go: its alert_routes entry; Slack only with sentry_slack_integration_id."""
    route = settings.alert_routes[tier]
    integration = settings.sentry_slack_integration_id
    channels = settings.sentry_slack_channel_ids
    slack = tuple((name, channels[name]) for name in route["slack"]) if integration else ()
    return Route(slack=slack, email=route["email"], integration_id=integration)


def sentry_issue_alerts(settings: Settings) -> list[IssueAlertSpec]:
    prefix, env = settings.sentry_name_prefix, settings.sentry_environment
    return [
        IssueAlertSpec(
            name=prefix + item["name"],
            trigger=item["trigger"],
            frequency_minutes=item["frequency_minutes"],
            environment=env,
            route=sentry_route(settings, item["tier"]),
            events=item.get("events"),
            interval=item.get("interval"),
        )
        for item in settings.sentry_issue_alerts
    ]


def sentry_metric_monitors(settings: Settings) -> list[MetricMonitorSpec]:
    """One monitor per KPI entry: the warning/critical levels of kpi_thresholds times ``scale``."""
    prefix, env = settings.sentry_name_prefix, settings.sentry_environment
    specs = []
    for item in settings.sentry_metric_monitors:
        levels, scale = settings.kpi_thresholds[item["kpi"]], item.get("scale", 1)
        specs.append(
            MetricMonitorSpec(
                name=prefix + item["name"],
                aggregate=item["aggregate"],
                query=item["query"],
                window_minutes=item["window_minutes"],
                below=item["kpi"] in LOWER_IS_WORSE,
                warning=levels["warning"] * scale,
                critical=levels["critical"] * scale,
                environment=env,
                warning_route=sentry_route(settings, item["warning_tier"]),
                critical_route=sentry_route(settings, item["critical_tier"]),
            )
        )
    return specs
