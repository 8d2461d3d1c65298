"""Restore the database to a point in time from the controller (backup_pitr; docs/backups.md): pyinfra runs
``louie-restore-db`` on the database host (the ``db`` group with several servers, or ``--host``), so the
checks, the printed range and the refusals are the server's own. It asks here, once the server has printed
the recoverable range, unless ``--yes``.

An in-place restore (``--force``) stops PostgreSQL, so it runs in maintenance mode (``louieops maintenance``:
the UptimeRobot window, the announcement, the 503 page on the host serving the public names) and leaves it
once the restore is done; a failed restore leaves maintenance mode on and says how to end it.
``--no-maintenance`` skips it (no UPTIMEROBOT_API_KEY at hand, or the operator has it on already)."""

from __future__ import annotations

import shlex
import sys

from .. import layout
from . import maintenance, remote
from .admin import AdminError

LOUIE_RESTORE_DB = layout.PITR_RESTORE_COMMAND
REFUSED = 2  # louie-restore-db's exit status for bad input: nothing was changed
MAINTENANCE_MESSAGE = "Restoring the database: the service is back in a few minutes."


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
    with_maintenance: bool = True,
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
    if not (force and with_maintenance):
        return remote.run(command(inventory, host, [*arguments, "--yes"]))
    try:
        print(maintenance.turn_on(inventory, None, MAINTENANCE_MESSAGE, None))
    except maintenance.MaintenanceError as exc:
        raise AdminError(f"{exc}; nothing restored (--no-maintenance restores without it)", exc.status) from exc
    restored = remote.run(command(inventory, host, [*arguments, "--yes"]))
    if restored not in (0, REFUSED):
        print(
            "louieops restore-db: the restore failed (its line is above); maintenance mode stays on. Once the "
            f"database serves again: .venv/bin/louieops maintenance off --inventory {shlex.quote(inventory)}",
            file=sys.stderr,
        )
        return restored
    try:
        print(maintenance.turn_off(inventory, None, maintenance.BACK_MESSAGE))
    except maintenance.MaintenanceError as exc:
        outcome = "restored" if restored == 0 else "unchanged (the server refused)"
        raise AdminError(f"the database is {outcome}, but maintenance off failed: {exc}", exc.status) from exc
    return restored
