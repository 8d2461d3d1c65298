"""UptimeRobot settings: the API, the alert contacts and the monitors to keep registered.

Everything that can be checked without the API is checked here, before any request: monitor types and their
type-specific keys, intervals, alert-contact names and placeholders.
"""

from __future__ import annotations

import re

from ..errors import SettingsError
from ..rules import Invalid, boolean, identifier, integer, list_of, mapping_of, one_of, record, string, url

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
    """an alert contact to look up: type plus the exact name and/or value"""
    item = record({"type": one_of(*_contact_types)}, {"name": string(), "value": string()})(value)
    if "name" not in item and "value" not in item:
        raise Invalid("a name or a value to find the contact by")
    return item


RULES = {
    "uptimerobot_api_url": url,
    "uptimerobot_requests_per_minute": integer(1, 10000),
    "uptimerobot_prune": boolean,
    "uptimerobot_managed_tag": string(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,49}", "a tag name (letters, digits, _ . -)"),
    "uptimerobot_alert_contacts": mapping_of(identifier, _contact),
    "uptimerobot_monitors": list_of(_monitor),
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
                if not isinstance(getattr(settings, placeholder, None), str):
                    raise SettingsError(
                        f"uptimerobot_monitors[{index}].{key}",
                        item[key],
                        f"placeholders naming string settings such as {{domain_api}} ({{{placeholder}}} is not one)",
                    )
        if item["name"] in names:
            raise SettingsError(f"uptimerobot_monitors[{index}].name", item["name"], "a name used once")
        names.add(item["name"])


CHECKS = [_check_uptimerobot]
