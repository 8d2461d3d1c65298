"""UptimeRobot settings: the API, the alert contacts, the monitors, maintenance windows and the status page.

Everything that can be checked without the API is checked here, before any request: monitor types and their
type-specific keys, intervals, alert-contact names, placeholders, the windows' schedules and the monitor
names the windows and the page show.
"""

from __future__ import annotations

import re

from .. import placeholders
from ..errors import SettingsError
from ..rules import (
    Invalid,
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
    url,
)
from .base import timezone

HEADING = "UptimeRobot"

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
    """an alert contact: type plus the exact name and/or value (slack: also channel)"""
    optional_keys = {"name": string(), "value": string(), "channel": identifier}
    item = record({"type": one_of(*_contact_types)}, optional_keys)(value)
    if "name" not in item and "value" not in item:
        raise Invalid("a name or a value to find the contact by")
    if item["type"] == "slack" and "name" not in item:
        raise Invalid("a name for a slack contact (the integration's name)")
    if "channel" in item and item["type"] != "slack":
        raise Invalid(f"no key 'channel' on a {item['type']} contact", ".channel")
    return item


def window_recurrence(schedule: str) -> tuple[str, tuple[int, ...]]:
    """(interval, days) of a window's cron-style schedule: daily, weekly (days 1 Monday ... 7 Sunday) or
    monthly (days of the month); ValueError for what UptimeRobot cannot repeat."""
    _minute, _hour, dom, month, dow = schedule.split()
    if month != "*":
        raise ValueError("a window repeats every month: the month field must be *")
    if dom == "*" and dow == "*":
        return "daily", ()
    if dom != "*" and dow != "*":
        raise ValueError("a window repeats on days of the month or days of the week, not both")
    field, low, high = (dow, 0, 7) if dom == "*" else (dom, 1, 31)
    if not re.fullmatch(r"[0-9]+(,[0-9]+)*", field):
        raise ValueError("the days must be a list of numbers such as 1 or 1,15")
    days = sorted({int(day) for day in field.split(",")})
    if any(not low <= day <= high for day in days):
        raise ValueError(f"days must be {low}-{high}")
    return ("monthly", tuple(days)) if dow == "*" else ("weekly", tuple(sorted({day or 7 for day in days})))


def _window_schedule(value):
    """a cron-style schedule 'M H day-of-month * day-of-week' with a fixed minute and hour"""
    schedule = cron_schedule(value)
    if not re.fullmatch(r"[0-9]+ [0-9]+ .*", schedule):
        raise Invalid("a fixed minute and hour (a window starts once a day at most), e.g. '0 5 1 * *'")
    try:
        window_recurrence(schedule)
    except ValueError as exc:
        raise Invalid(f"a schedule UptimeRobot can repeat: {exc}") from None
    return schedule


_WINDOW = record(
    {
        "name": string(r".{3,255}", "a name of 3-255 characters"),
        "schedule": _window_schedule,
        "duration_minutes": integer(1, 1440),
    },
    {"monitors": list_of(_name)},
)
_STATUS_PAGE = record(
    {"name": string(r".{1,255}", "a name of 1-255 characters")}, {"homepage_link": url, "monitors": list_of(_name)}
)

RULES = {
    "uptimerobot_api_url": url,
    "uptimerobot_requests_per_minute": integer(1, 10000),
    "uptimerobot_prune": boolean,
    "uptimerobot_managed_tag": string(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,49}", "a tag name (letters, digits, _ . -)"),
    "uptimerobot_settle_minutes": number(0, 120),
    "uptimerobot_alert_contacts": mapping_of(identifier, _contact),
    "uptimerobot_monitors": list_of(_monitor),
    "uptimerobot_maintenance_windows": list_of(_WINDOW),
    "uptimerobot_timezone": timezone,
    "uptimerobot_maintenance_mode_minutes": integer(1, 1440),
    "uptimerobot_status_page": optional(_STATUS_PAGE),
}


def _check_placeholders(settings, where: str, text: str) -> None:
    for placeholder in placeholders.names(text):
        if not isinstance(getattr(settings, placeholder, None), str):
            raise SettingsError(
                where,
                text,
                f"placeholders naming string settings such as {{domain_api}} ({{{placeholder}}} is not one)",
            )


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
            _check_placeholders(settings, f"uptimerobot_monitors[{index}].{key}", item[key])
        if item["name"] in names:
            raise SettingsError(f"uptimerobot_monitors[{index}].name", item["name"], "a name used once")
        names.add(item["name"])
    for key, item in contacts.items():
        channel = item.get("channel", item.get("name"))
        if item["type"] == "slack" and channel not in settings.alert_slack_webhooks:
            raise SettingsError(
                f"uptimerobot_alert_contacts[{key!r}].channel",
                channel,
                f"a channel of alert_slack_webhooks ({', '.join(settings.alert_slack_webhooks)}): its webhook "
                "creates the Slack contact when it is missing",
            )
    shown = [
        (f"uptimerobot_maintenance_windows[{i}]", w) for i, w in enumerate(settings.uptimerobot_maintenance_windows)
    ]
    if settings.uptimerobot_status_page is not None:
        shown.append(("uptimerobot_status_page", settings.uptimerobot_status_page))
    for where, item in shown:
        for name in item.get("monitors", ()):
            if name not in names:
                raise SettingsError(f"{where}.monitors", name, "the name of a monitor in uptimerobot_monitors")
        for key in ("name", "homepage_link"):
            if key in item:
                _check_placeholders(settings, f"{where}.{key}", item[key])


CHECKS = [_check_uptimerobot]
