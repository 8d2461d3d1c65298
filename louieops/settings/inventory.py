"""The settings of an inventory's host as pyinfra gives them to the deploy, for commands that run outside a
deploy (``louieops statuspage``): group_data/all.py beside the inventory, then the file of each group the
host is in (the inventory file's name and its list variables), then the host's own data.

pyinfra's own loader is not used: importing pyinfra_cli monkey-patches the whole process (gevent).
"""

from __future__ import annotations

import runpy
from pathlib import Path

from .defaults import load
from .model import Settings
from .validate import validate


def host_settings(inventory: str | Path, host: str | None = None) -> Settings:
    """Validated settings of ``host`` (default: the first host) of an inventory file."""
    path = Path(inventory)
    groups = {
        name: value
        for name, value in runpy.run_path(str(path)).items()
        if isinstance(value, list) and not name.startswith("_")
    }
    hosts = [
        (group, entry if isinstance(entry, tuple) else (entry, {}))
        for group, items in groups.items()
        for entry in items
    ]
    chosen = [(group, name, data) for group, (name, data) in hosts if host in (None, name)]
    if not chosen:
        raise ValueError(f"{path} has no host {host!r}" if host else f"{path} has no hosts")
    _, name, data = chosen[0]
    member_of = [group for group, (other, _) in hosts if other == name]
    merged: dict = {}
    for group in ("all", path.stem, *member_of):
        group_file = path.parent / "group_data" / f"{group}.py"
        if group_file.is_file():
            merged.update(load(group_file))
    return validate({**merged, **data})
