"""Restore the database to a point in time from the controller (backup_pitr; docs/backups.md): pyinfra runs
``louie-restore-db`` on the database host (the ``db`` group with several servers, or ``--host``), so the
checks, the printed range and the refusals are the server's own. It asks here, once the server has printed
the recoverable range, unless ``--yes``."""

from __future__ import annotations

import shlex
import sys

from .. import layout
from . import remote
from .admin import AdminError

LOUIE_RESTORE_DB = layout.PITR_RESTORE_COMMAND


def command(inventory: str, host: str | None, arguments: list[str]) -> list[str]:
    """pyinfra's command line: on ``host``, else the db group where the inventory has one (one server: all)."""
    return remote.command(inventory, [LOUIE_RESTORE_DB, *arguments], only=remote.limit(inventory, "db", host))


def server_arguments(to: str | None, latest: bool, into: str | None, force: bool) -> list[str]:
    which = ["--to", to] if to else ["--latest"]
    return which + (["--into", into] if into else []) + (["--force"] if force else [])


def run(
    inventory: str,
    host: str | None,
    to: str | None,
    latest: bool,
    into: str | None,
    force: bool,
    yes: bool,
    show_range: bool,
) -> int:
    shown = remote.run(command(inventory, host, ["--range"]))
    if shown != 0 or show_range:
        return shown
    arguments = server_arguments(to, latest, into, force)
    if not yes:
        if not sys.stdin.isatty():
            raise AdminError("not asked on a terminal: add --yes to restore without a question", 2)
        what = " ".join(shlex.quote(a) for a in ["sudo", LOUIE_RESTORE_DB, *arguments])
        if input(f"run `{what}` there? [y/N] ").strip().lower() not in ("y", "yes"):
            print("nothing done")
            return 2
    return remote.run(command(inventory, host, [*arguments, "--yes"]))
