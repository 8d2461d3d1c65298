"""``louieops logs INVENTORY``: the logs of every host of a role from the controller, through pyinfra with the
deploy's SSH access (no shell on the server needed). Each host runs its own ``louie-logs`` (app, nginx and the
journal, oldest first); pyinfra prints each line prefixed by its host, every host at once. --since and --grep are
checked here by the server's own rules before anything connects."""

from __future__ import annotations

import time

from .. import layout, resources, topology
from . import remote
from .admin import AdminError

ROLES = topology.ROLES


def server_arguments(sources, since: str | None, grep: str | None, lines: int, follow: bool) -> list[str]:
    """louie-logs' arguments, after checking them (AdminError, exit 2, naming the one that is wrong)."""
    script = resources.server_script("louie-logs")
    try:
        if since is not None:
            script.parse_since(since, time.time())
        script.parse_grep(grep)
    except ValueError as exc:
        raise AdminError(str(exc), 2) from None
    if lines < 1:
        raise AdminError(f"--lines {lines}: at least 1", 2)
    arguments = [f"--source={source}" for source in sources or ()]
    arguments += [f"--since={since}"] if since is not None else []
    arguments += [f"--grep={grep}"] if grep is not None else []
    return [*arguments, f"--lines={lines}", *(["--follow"] if follow else [])]


def command(inventory: str, role: str | None, host: str | None, arguments: list[str]) -> list[str]:
    """On ``host``, else every host of ``role`` (every host when the inventory has no such group: one server)."""
    return remote.command(inventory, [layout.LOGS_COMMAND, *arguments], only=remote.limit(inventory, role, host))


def run(inventory, role, host, sources, since, grep, lines, follow) -> int:
    arguments = server_arguments(sources, since, grep, lines, follow)
    groups = remote.groups(inventory)
    if role and not host and role not in groups and len(remote.hosts(inventory)) > 1:
        known = ", ".join(sorted(g for g in groups if g in ROLES))
        raise AdminError(f"inventory {inventory} has no {role} group (its roles: {known})", 2)
    return remote.run(command(inventory, role, host, arguments))
