"""The settings of an inventory's host as pyinfra gives them to the deploy, for commands that run outside a
deploy (``louieops statuspage``): group_data/all.py beside the inventory, then the file of each group the
host is in (the inventory file's name and its list variables), then the host's own data.

pyinfra's own loader is not used: importing pyinfra_cli monkey-patches the whole process (gevent).
"""

from __future__ import annotations

import runpy
from pathlib import Path

from .. import topology
from .defaults import load
from .model import Settings
from .validate import validate


def _groups(path: Path) -> dict[str, list]:
    """The inventory file's groups: its top-level lists (entries: a name or a (name, data) pair)."""
    return {
        name: value
        for name, value in runpy.run_path(str(path)).items()
        if isinstance(value, list) and not name.startswith("_")
    }


def inventory_topology(inventory: str | Path) -> topology.Topology:
    """The roles of the inventory's hosts, as the deploy derives them (louieops/topology.py)."""
    groups = _groups(Path(inventory))
    entries = {
        group: [entry if isinstance(entry, tuple) else (entry, {}) for entry in items]
        for group, items in groups.items()
    }
    hosts = {name: data.get("private_address") for items in entries.values() for name, data in items}
    names = {group: [name for name, _ in items] for group, items in entries.items()}
    return topology.from_groups(list(hosts.items()), names)


def host_settings(inventory: str | Path, host: str | None = None) -> Settings:
    """Validated settings of ``host`` (default: the first host) of an inventory file."""
    path = Path(inventory)
    groups = _groups(path)
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
