"""Application settings."""

from __future__ import annotations

import re

from ..errors import SettingsError
from ..rules import Invalid, absolute_path, identifier, integer, list_of, number, one_of, optional, string

HEADING = "Application"

_GIT_URL = re.compile(r"(https?|ssh|git)://[^\s'\"]+|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s'\"]+")
_REF = re.compile(r"(?!-)(?!.*\.\.)[A-Za-z0-9._/-]+(?<![./])")
_RELATIVE = re.compile(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*")


def git_url(value):
    """a git URL: https://, ssh://, git:// or user@host:path"""
    if not isinstance(value, str) or not _GIT_URL.fullmatch(value):
        raise Invalid(git_url.__doc__)
    return value


def git_ref(value):
    """a branch, a tag or a full 40-character commit"""
    if not isinstance(value, str) or not _REF.fullmatch(value):
        raise Invalid(git_ref.__doc__)
    if re.fullmatch(r"[0-9a-f]{7,39}", value):
        raise Invalid("a full 40-character commit (a short one cannot be looked up on the remote)")
    return value


def url_path(value):
    """a path on the app such as /api/status (starting with /, no spaces)"""
    if not isinstance(value, str) or not re.fullmatch(r"/[^\s]*", value):
        raise Invalid(url_path.__doc__)
    return value


def relative_path(allow_empty: bool):
    what = "a path inside the repository without '..'" + (" ('' for the root)" if allow_empty else "")

    def check(value):
        if allow_empty and value == "":
            return value
        if not isinstance(value, str) or not _RELATIVE.fullmatch(value) or ".." in value.split("/"):
            raise Invalid(what)
        return value

    check.__doc__ = what
    return check


RULES = {
    "app_name": identifier,
    "app_user": identifier,
    "app_root": absolute_path,
    "app_log_dir": absolute_path,
    "app_uploads_dir": absolute_path,
    "app_port": integer(1024, 65535),
    "app_node_env": one_of("production", "staging", "development"),
    "app_git_url": optional(git_url),
    "app_git_ref": git_ref,
    "app_dir": relative_path(allow_empty=True),
    "app_entry": relative_path(allow_empty=False),
    "app_build_command": optional(string(r"[^\n\r]+", "a one-line shell command")),
    "app_keep_releases": integer(2, 100),
    "app_health_deadline_seconds": integer(5, 3600),
    "app_candidate_port": integer(1024, 65535),
    "app_smoke_paths": list_of(url_path),
    "app_drain_seconds": integer(1, 600),
    "app_sentry_traces_sample_rate": number(0, 1),
    "app_instances": integer(1, 64),
    "app_max_memory_restart": string(r"[0-9]+[KMG]", "a size such as 400M or 1G"),
    "scripts_dir": absolute_path,
}


def _check_candidate_port(settings):
    if settings.app_candidate_port == settings.app_port:
        raise SettingsError(
            "app_candidate_port", settings.app_candidate_port, f"a port other than app_port ({settings.app_port})"
        )


CHECKS = [_check_candidate_port]
