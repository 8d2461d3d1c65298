"""Log shipping (Papertrail) settings."""

from __future__ import annotations

from ..errors import SettingsError
from ..rules import (
    Invalid,
    absolute_path,
    domain,
    integer,
    list_of,
    number,
    one_of,
    optional,
    record,
    sha256_hex,
    string,
    url,
    version,
)

HEADING = "Log shipping (Papertrail)"


def _source(value):
    """an https:// URL or an absolute local path to the tarball"""
    if isinstance(value, str) and (value.startswith("https://") or value.startswith("/")):
        return value
    raise Invalid(_source.__doc__)


_search_text = string(r"[^\n]{1,200}", "a line of at most 200 characters")
_peer_name = string(
    r"(\*\.)?(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+",
    "a lower-case DNS name, optionally starting with '*.' (e.g. *.papertrailapp.com)",
)

RULES = {
    "papertrail_method": one_of("rsyslog", "remote_syslog2", "none"),
    "papertrail_host": domain,
    "papertrail_port": optional(integer(1, 65535)),
    "papertrail_ca_file": absolute_path,
    "papertrail_permitted_peer": optional(_peer_name),
    "papertrail_queue_max_disk": string(r"[0-9]+[kmg]", "a size such as 512m or 1g"),
    "papertrail_api_url": url,
    "papertrail_saved_searches": list_of(record({"name": _search_text, "query": _search_text})),
    "papertrail_settle_minutes": number(0, 120),
    "remote_syslog2_version": version,
    "remote_syslog2_sha256": optional(sha256_hex),
    "remote_syslog2_source": _source,
}


def _check_remote_syslog2(settings):
    if settings.papertrail_method == "remote_syslog2" and settings.papertrail_port is not None:
        if settings.remote_syslog2_sha256 is None:
            raise SettingsError(
                "remote_syslog2_sha256",
                None,
                "the sha256 of the remote_syslog2 tarball you verified (`sha256sum remote_syslog_linux_amd64.tar.gz`);"
                " it is required when papertrail_method = 'remote_syslog2'",
            )


CHECKS = [_check_remote_syslog2]
