"""UptimeRobot and Sentry settings: API locations, the monitors, alerts and metric monitors to keep registered.

Everything that can be checked without the APIs is checked here, before any request: monitor types and their
type-specific keys, intervals, alert-contact names, Sentry tiers, Slack channel ids and KPI references.
"""

from __future__ import annotations

import re

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
from ..validate import SettingsError

_slug = string(r"[a-z0-9][a-z0-9_-]*", "a lower-case slug")
_TIER = one_of("P1", "P2", "P3", "P4")
_name = string(r"[^\s].{0,199}", "a name of 1-200 characters")
_contact_types = ("email", "slack", "webhook", "msteams", "discord", "telegram", "pagerduty", "googlechat")

_MONITOR = record(
    {
        "name": _name,
        "type": one_of("http", "keyword", "port", "ping"),
        "url": string(),
        "interval": integer(30, 86400),
        "timeout": integer(1, 60),
        "alert_contacts": list_of(identifier),
    },
    {
        "port": integer(1, 65535),
        "keyword": string(r"\S(.{0,498}\S)?", "a keyword of 1-500 characters without surrounding spaces"),
        "keyword_alert_when": one_of("exists", "not_exists"),
        "keyword_case_sensitive": boolean,
    },
)
_TYPE_KEYS = {
    "http": set(),
    "ping": set(),
    "port": {"port"},
    "keyword": {"keyword", "keyword_alert_when", "keyword_case_sensitive"},
}
_TYPE_REQUIRED = {"port": {"port"}, "keyword": {"keyword", "keyword_alert_when"}}


def _monitor(value):
    """an UptimeRobot monitor (name, type, url, interval, timeout, alert_contacts + type-specific keys)"""
    item = _MONITOR(value)
    kind = item["type"]
    extra = sorted(set(item) - set(_MONITOR_REQUIRED) - _TYPE_KEYS[kind])
    if extra:
        raise Invalid(f"no key {extra[0]!r} on a {kind} monitor", f".{extra[0]}")
    missing = sorted(_TYPE_REQUIRED.get(kind, set()) - set(item))
    if missing:
        raise Invalid(f"key {missing[0]!r} to be set on a {kind} monitor")
    has_scheme = re.match(r"https?://", item["url"])
    if kind in ("http", "keyword") and not has_scheme:
        raise Invalid("a URL with http:// or https:// for an http or keyword monitor", ".url")
    if kind in ("port", "ping") and (has_scheme or "/" in item["url"] or ":" in item["url"]):
        raise Invalid(f"a host name without scheme, port or path for a {kind} monitor", ".url")
    return item


_MONITOR_REQUIRED = ("name", "type", "url", "interval", "timeout", "alert_contacts")


def _contact(value):
    """an alert contact to look up: type plus the exact name and/or value"""
    item = record({"type": one_of(*_contact_types)}, {"name": string(), "value": string()})(value)
    if "name" not in item and "value" not in item:
        raise Invalid("a name or a value to find the contact by")
    return item


_ISSUE_ALERT = record(
    {
        "name": _name,
        "trigger": one_of("new_issue", "spike", "unhandled"),
        "frequency_minutes": one_of(0, 5, 10, 30, 60, 180, 720, 1440),
        "tier": _TIER,
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
        "warning_tier": _TIER,
        "critical_tier": _TIER,
    },
    {"scale": number(0)},
)

RULES = {
    "uptimerobot_api_url": url,
    "uptimerobot_requests_per_minute": integer(1, 10000),
    "uptimerobot_prune": boolean,
    "uptimerobot_managed_tag": string(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,49}", "a tag name (letters, digits, _ . -)"),
    "uptimerobot_alert_contacts": mapping_of(identifier, _contact),
    "uptimerobot_monitors": list_of(_monitor),
    "sentry_api_url": url,
    "sentry_org": _slug,
    "sentry_project": _slug,
    "sentry_api_mode": one_of("auto", "workflows", "legacy"),
    "sentry_prune": boolean,
    "sentry_name_prefix": string(r"\S.*", "a non-empty name prefix such as '[louieops] '"),
    "sentry_environment": optional(string(r"[^\s/]{1,64}", "a Sentry environment name")),
    "sentry_slack_integration_id": optional(string(r"[0-9]+", "the numeric id of Sentry's Slack integration")),
    "sentry_slack_channel_ids": mapping_of(
        identifier, string(r"[CGD][A-Z0-9]{6,}", "a Slack channel id such as C0123ABCD")
    ),
    "sentry_issue_alerts": list_of(_issue_alert),
    "sentry_metric_monitors": list_of(_METRIC_MONITOR),
}


def _check_uptimerobot(settings):
    contacts = settings.uptimerobot_alert_contacts
    names = set()
    for index, item in enumerate(settings.uptimerobot_monitors):
        for contact in item["alert_contacts"]:
            if contact not in contacts:
                raise SettingsError(
                    f"uptimerobot_monitors[{index}].alert_contacts",
                    contact,
                    f"a key of uptimerobot_alert_contacts ({', '.join(contacts) or 'none defined'})",
                )
        for key in ("name", "url"):
            for placeholder in re.findall(r"\{([a-z][a-z0-9_]*)\}", item[key]):
                if not isinstance(settings.get(placeholder), str):
                    raise SettingsError(
                        f"uptimerobot_monitors[{index}].{key}",
                        item[key],
                        f"placeholders naming string settings such as {{domain_api}} ({{{placeholder}}} is not one)",
                    )
        if item["name"] in names:
            raise SettingsError(f"uptimerobot_monitors[{index}].name", item["name"], "a name used once")
        names.add(item["name"])


def _check_sentry(settings):
    names = set()
    tiers = []
    for key in ("sentry_issue_alerts", "sentry_metric_monitors"):
        for index, item in enumerate(settings[key]):
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


CHECKS = [_check_uptimerobot, _check_sentry]
