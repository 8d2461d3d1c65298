"""The settings of an inventory's host as pyinfra gives them to the deploy, for commands that run outside a
deploy (``louieops statuspage``, ``os-upgrade``): group_data/all.py beside the inventory, then the file of
each group the host is in (the inventory file's name and its groups: a list of hosts, or a (hosts, group data)
pair with that data after the file), then the host's own data. The roles of its hosts come from here too.

pyinfra's own loader is not used: importing pyinfra_cli monkey-patches the whole process (gevent).
"""

from __future__ import annotations

import runpy
from pathlib import Path

from .. import topology
from .defaults import load
from .model import Settings
from .validate import validate

Entry = tuple[str, dict]  # a host: its name and its host data


def inventory_groups(inventory: str | Path) -> dict[str, tuple[list[Entry], dict]]:
    """The inventory file's groups as pyinfra reads them: each top-level list of hosts, or (hosts, group data)
    pair; each host a name or a (name, host data) pair."""
    groups = {}
    for name, value in runpy.run_path(str(inventory)).items():
        if name.startswith("_"):
            continue
        if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], list) and isinstance(value[1], dict):
            items, data = value
        elif isinstance(value, list):
            items, data = value, {}
        else:
            continue
        groups[name] = ([entry if isinstance(entry, tuple) else (entry, {}) for entry in items], data)
    return groups


def inventory_topology(inventory: str | Path) -> topology.Topology:
    """The roles of the inventory's hosts, as the deploy derives them (louieops/topology.py)."""
    groups = inventory_groups(inventory)
    hosts = {name: data.get("private_address") for items, _ in groups.values() for name, data in items}
    names = {group: [name for name, _ in items] for group, (items, _) in groups.items()}
    return topology.from_groups(list(hosts.items()), names)


def host_settings(inventory: str | Path, host: str | None = None) -> Settings:
    """Validated settings of ``host`` (default: the first host) of an inventory file."""
    path = Path(inventory)
    groups = inventory_groups(path)
    names = [name for items, _ in groups.values() for name, _ in items]
    if host not in (None, *names):
        raise ValueError(f"{path} has no host {host!r}")
    if not names:
        raise ValueError(f"{path} has no hosts")
    name = host or names[0]
    merged: dict = {}
    for group_file in (path.parent / "group_data" / f"{group}.py" for group in ("all", path.stem)):
        if group_file.is_file():
            merged.update(load(group_file))
    data: dict = {}
    for group, (items, group_data) in groups.items():
        mine = [host_data for other, host_data in items if other == name]
        if not mine:
            continue
        group_file = path.parent / "group_data" / f"{group}.py"
        if group_file.is_file():
            merged.update(load(group_file))
        merged.update(group_data)
        for host_data in mine:
            data.update(host_data)
    return validate({**merged, **data})
