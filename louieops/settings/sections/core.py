"""Application, domains and base-system settings."""

from __future__ import annotations

import zoneinfo

from ..rules import (
    Invalid,
    absolute_path,
    boolean,
    domain,
    identifier,
    integer,
    list_of,
    one_of,
    optional,
    string,
    url,
)

_tz_shape = string(r"[A-Za-z_]+(/[A-Za-z0-9_+-]+)*", "a tz database name such as Europe/Berlin")


def timezone(value):
    """a tz database name such as Europe/Berlin"""
    _tz_shape(value)
    known = zoneinfo.available_timezones()  # the controller's tz database; empty if it has none
    if known and value not in known:
        raise Invalid("a tz database name such as Europe/Berlin (see `timedatectl list-timezones`)")
    return value


RULES = {
    "app_name": identifier,
    "app_user": identifier,
    "app_root": absolute_path,
    "app_log_dir": absolute_path,
    "app_uploads_dir": absolute_path,
    "app_port": integer(1024, 65535),
    "app_node_env": one_of("production", "staging", "development"),
    "app_git_url": optional(url),
    "app_git_ref": string(r"[A-Za-z0-9._/-]+", "a git branch name"),
    "app_instances": integer(1, 64),
    "app_max_memory_restart": string(r"[0-9]+[KMG]", "a size such as 400M or 1G"),
    "scripts_dir": absolute_path,
    "domain_homepage": domain,
    "domain_api": domain,
    "domain_admin": domain,
    "domain_websocket": domain,
    "base_timezone": timezone,
    "base_locale": string(r"[a-z]{2,3}_[A-Z]{2}\.UTF-8", "a UTF-8 locale such as en_US.UTF-8"),
    "apt_cache_time": integer(0),
    "base_unattended_upgrades": boolean,
    "base_extra_packages": list_of(string(r"[a-z0-9][a-z0-9+.-]+", "a Debian package name")),
    "base_firewall_enabled": boolean,
}
