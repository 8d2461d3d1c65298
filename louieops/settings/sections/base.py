"""Base system settings."""

from __future__ import annotations

import zoneinfo

from ..rules import Invalid, boolean, integer, list_of, string

HEADING = "Base system"

_tz_shape = string(r"[A-Za-z_]+(/[A-Za-z0-9_+-]+)*", "a tz database name such as Europe/Berlin")


def timezone(value):
    """a tz database name such as Europe/Berlin"""
    _tz_shape(value)
    known = zoneinfo.available_timezones()  # the controller's tz database; empty if it has none
    if known and value not in known:
        raise Invalid("a tz database name such as Europe/Berlin (see `timedatectl list-timezones`)")
    return value


RULES = {
    "base_timezone": timezone,
    "base_locale": string(r"[a-z]{2,3}_[A-Z]{2}\.UTF-8", "a UTF-8 locale such as en_US.UTF-8"),
    "apt_cache_time": integer(0),
    "apt_lock_wait_seconds": integer(0, 7200),
    "base_unattended_upgrades": boolean,
    "base_extra_packages": list_of(string(r"[a-z0-9][a-z0-9+.-]+", "a Debian package name")),
    "base_firewall_enabled": boolean,
    "base_login_banner": string(r"[\x20-\x7e\n]+", "printable ASCII text (lines separated by newlines)"),
    "base_apply_security_updates": boolean,
}
