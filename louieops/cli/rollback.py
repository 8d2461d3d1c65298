"""Roll the app back from the controller, when the deploy's SSH access is all you have: pyinfra runs
``louie-release rollback`` on every host of the inventory, so the health gate and the alerts are the same
as on the server. With several servers, on the ``app`` group only and one host at a time (each leaves the load
balancer's rotation while its gate runs)."""

from __future__ import annotations

import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

from .admin import AdminError

LOUIE_RELEASE = "/usr/local/bin/louie-release"
_RELEASE_ID = re.compile(r"[0-9]{8}T[0-9]{6}Z-[0-9a-f]{7,40}")


def command(inventory: str, release: str | None, app_group: bool = False) -> list[str]:
    """pyinfra's command line; ``app_group``: the inventory has the ``app`` group (several servers)."""
    if release is not None and not _RELEASE_ID.fullmatch(release):
        raise AdminError(
            f"release {release!r}: expected an id as `louie-release list` shows it (20260101T120000Z-abc1234)", 2
        )
    pyinfra = shutil.which("pyinfra") or str(Path(sys.executable).with_name("pyinfra"))
    remote = ["sudo", LOUIE_RELEASE, "rollback"] + ([release] if release else [])
    several = ["--limit", "app", "--serial"] if app_group else []
    return [pyinfra, "-y", *several, inventory, "exec", "--", *remote]


def has_app_group(inventory: str) -> bool:
    """Whether the inventory file defines the ``app`` group (pyinfra reads it the same way)."""
    return "app" in runpy.run_path(inventory)


def run(inventory: str, release: str | None) -> int:
    if not Path(inventory).is_file():
        raise AdminError(f"inventory {inventory} does not exist", 2)
    return subprocess.run(command(inventory, release, has_app_group(inventory))).returncode
