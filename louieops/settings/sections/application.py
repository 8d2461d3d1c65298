"""Application settings."""

from __future__ import annotations

from ..rules import absolute_path, identifier, integer, one_of, optional, string, url

HEADING = "Application"
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
}
