"""Restore the database to a point in time from the controller (backup_pitr; docs/backups.md): pyinfra runs
``louie-restore-db`` on the database host (the ``db`` group with several servers, or ``--host``), so the
checks, the printed range and the refusals are the server's own. It asks here, once the server has printed
the recoverable range, unless ``--yes``."""

from __future__ import annotations

import runpy
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from .admin import AdminError

LOUIE_RESTORE_DB = "/usr/local/bin/louie-restore-db"


def target(inventory: str, host: str | None) -> list[str]:
    """pyinfra's --limit: the chosen host, else the db group where the inventory has one (one server: all)."""
    if host:
        return ["--limit", host]
    return ["--limit", "db"] if "db" in runpy.run_path(inventory) else []


def remote(arguments: list[str]) -> list[str]:
    return ["sudo", LOUIE_RESTORE_DB, *arguments]


def command(inventory: str, host: str | None, arguments: list[str]) -> list[str]:
    pyinfra = shutil.which("pyinfra") or str(Path(sys.executable).with_name("pyinfra"))
    return [pyinfra, "-y", *target(inventory, host), inventory, "exec", "--", *remote(arguments)]


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
    if not Path(inventory).is_file():
        raise AdminError(f"inventory {inventory} does not exist", 2)
    shown = subprocess.run(command(inventory, host, ["--range"])).returncode
    if shown != 0 or show_range:
        return shown
    arguments = server_arguments(to, latest, into, force)
    if not yes:
        if not sys.stdin.isatty():
            raise AdminError("not asked on a terminal: add --yes to restore without a question", 2)
        what = " ".join(shlex.quote(a) for a in remote(arguments))
        if input(f"run `{what}` there? [y/N] ").strip().lower() not in ("y", "yes"):
            print("nothing done")
            return 2
    return subprocess.run(command(inventory, host, [*arguments, "--yes"])).returncode
