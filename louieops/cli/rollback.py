"""Roll the app back from the controller, when the deploy's SSH access is all you have: pyinfra runs
``louie-release rollback`` on every host of the inventory, so the health gate and the alerts are the same
as on the server. With several servers, on the ``app`` group only and one host at a time (each leaves the load
balancer's rotation while its gate runs). The same way, ``releases`` lists each app host's releases and
``details`` shows each host's status screen."""

from __future__ import annotations

import re

from .. import layout
from . import remote
from .admin import AdminError

LOUIE_RELEASE = layout.RELEASE_COMMAND
_RELEASE_ID = re.compile(r"[0-9]{8}T[0-9]{6}Z-[0-9a-f]{7,40}")


def command(inventory: str, release: str | None, app_group: bool = False) -> list[str]:
    """pyinfra's command line; ``app_group``: the inventory has the ``app`` group (several servers)."""
    if release is not None and not _RELEASE_ID.fullmatch(release):
        raise AdminError(
            f"release {release!r}: expected an id as `louie-release list` shows it (20260101T120000Z-abc1234)", 2
        )
    several = ["--limit", "app"] if app_group else []
    return remote.command(
        inventory, [LOUIE_RELEASE, "rollback", *([release] if release else [])], only=several, serial=app_group
    )


def has_app_group(inventory: str) -> bool:
    """Whether the inventory file defines the ``app`` group (pyinfra reads it the same way)."""
    return "app" in remote.groups(inventory)


def run(inventory: str, release: str | None) -> int:
    return remote.run(command(inventory, release, has_app_group(inventory)))


def releases(inventory: str, host: str | None) -> int:
    """`louie-release list` of every app host (or ``host``): live, previous and failed releases, when, by whom."""
    return remote.run(remote.command(inventory, [LOUIE_RELEASE, "list"], only=remote.limit(inventory, "app", host)))


def details(inventory: str, host: str | None) -> int:
    """`louie-status` of every host (or ``host``): services, pm2, the live release, disk, backups, open alerts."""
    return remote.run(remote.command(inventory, [layout.STATUS_COMMAND], only=remote.limit(inventory, None, host)))
