"""Server commands run from the controller through pyinfra (``pyinfra INVENTORY exec -- sudo COMMAND``): the
rollback, the point-in-time restore and the views of the server (releases, details) work with nothing but
the deploy's SSH access, and print each host's answer prefixed by the host."""

from __future__ import annotations

import runpy
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from ..settings.inventory import inventory_groups
from .admin import AdminError


def pyinfra() -> str:
    return shutil.which("pyinfra") or str(Path(sys.executable).with_name("pyinfra"))


def groups(inventory: str) -> set[str]:
    """The inventory file's groups, read the way pyinfra reads them (its top-level names)."""
    if not Path(inventory).is_file():
        raise AdminError(f"inventory {inventory} does not exist", 2)
    return {name for name in runpy.run_path(inventory) if not name.startswith("_")}


def hosts(inventory: str) -> list[str]:
    """The inventory's host names, in order."""
    if not Path(inventory).is_file():
        raise AdminError(f"inventory {inventory} does not exist", 2)
    return list(dict.fromkeys(name for items, _ in inventory_groups(inventory).values() for name, _ in items))


def limit(inventory: str, group: str | None, host: str | None = None) -> list[str]:
    """pyinfra's --limit: the chosen host, else ``group`` where the inventory has it (one server: all)."""
    if host:
        known = hosts(inventory)
        if host not in known:
            raise AdminError(f"inventory {inventory} has no host {host!r} (its hosts: {', '.join(known)})", 2)
        return ["--limit", host]
    return ["--limit", group] if group and group in groups(inventory) else []


def command(inventory: str, remote: list[str], *, only: list[str] = (), serial: bool = False) -> list[str]:
    """pyinfra's command line. `pyinfra exec` joins its words with spaces into one shell command, so each
    word of ``remote`` is quoted here (a `--to "2026-12-05 10:31:00+00"` or a message stays one argument)."""
    words = [shlex.quote(word) for word in ["sudo", *remote]]
    return [pyinfra(), "-y", *only, *(["--serial"] if serial else []), inventory, "exec", "--", *words]


def run(line: list[str]) -> int:
    return subprocess.run(line).returncode
