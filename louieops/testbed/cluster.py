"""Several test servers deployed together: a cluster with one server per role (lb, app1, app2, db, and a standby).

Each member is an ordinary test server (server.py) named ``<cluster>-<member>``, in its own network namespace
with its own /30; the first one (the lb) runs the peers (ACME, S3, recorder, git remote) and the others use
them. The members reach each other through the controller (network.link: forwarded, unmasqueraded, between
their links only). The cluster's inventory puts each member in the groups of its roles; it and the shared
secrets file are written to ``.testbed/<cluster>/``::

    python -m louieops.testbed cluster-up --name mh [--no-standby]
    . .testbed/mh/env && .venv/bin/pyinfra -y .testbed/mh/inventory.py deploy.py
    python -m louieops.testbed cluster-down --name mh
"""

from __future__ import annotations

import json
import logging
import runpy
from collections.abc import Callable, Mapping
from typing import Any

from . import inventory, network, peers
from .errors import TestbedError
from .paths import DEFAULT_RELEASE, check_name, work_dir
from .server import Testbed

log = logging.getLogger(__name__)

#: member -> its role groups, in inventory order (the lb first: it runs the peers).
MEMBERS: dict[str, tuple[str, ...]] = {
    "lb": ("lb",),
    "app1": ("app",),
    "app2": ("app",),
    "db": ("db",),
    "standby": ("db_standby",),
}
RECORD = "cluster.json"
#: Group data of the cluster inventory (besides inventory/group_data/testbed.py).
CLUSTER_DATA = {"cluster_name": "testbed"}


def member_name(cluster: str, member: str) -> str:
    return check_name(f"{cluster}-{member}")


class Cluster(inventory.InventoryFiles):
    """The test servers of one cluster.

    + name: the cluster's name (its members are ``<name>-lb``, ``<name>-app1``, ...)
    + members: member -> role groups (default: MEMBERS; without "standby" for a four-server cluster)
    + release: Debian release of every member
    + data: group data of the cluster beyond CLUSTER_DATA (e.g. backup_pitr), kept for its life
    """

    __test__ = False

    def __init__(
        self,
        name: str,
        members: Mapping[str, tuple[str, ...]] | None = None,
        release: str = DEFAULT_RELEASE,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        self.name = check_name(name)
        self.members = dict(members or MEMBERS)
        self.release = release
        self.data = {**CLUSTER_DATA, **(data or {})}
        self.workdir = work_dir(name)
        self.servers: dict[str, Testbed] = {}

    def __getitem__(self, member: str) -> Testbed:
        return self.servers[member]

    def __enter__(self) -> Cluster:
        return self.up()

    def __exit__(self, *exc: object) -> None:
        self.down()

    @classmethod
    def attach(cls, name: str) -> Cluster:
        record = json.loads((work_dir(name) / RECORD).read_text())
        members = {m: tuple(r) for m, r in record["members"].items()}
        cluster = cls(name, members, record["release"], record.get("data"))
        cluster.servers = {m: Testbed.attach(member_name(name, m)) for m in cluster.members}
        return cluster

    def up(self) -> Cluster:
        """Boot every member (the peers with the first), link them, write the inventory and the secrets."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / RECORD).write_text(
            json.dumps(
                {"members": {m: list(r) for m, r in self.members.items()}, "release": self.release, "data": self.data}
            )
        )
        try:
            first, *rest = self.members
            owner = Testbed(member_name(self.name, first), self.release)
            self.servers[first] = owner.up()
            for member in rest:
                self.servers[member] = Testbed(member_name(self.name, member), self.release, peers_from=owner.name).up()
            network.link([(server.name, server.slot) for server in self.servers.values()])
            self.write_inventory()
        except BaseException:
            log.error("start of cluster %r failed; tearing it down", self.name)
            self.down()
            raise
        return self

    def down(self) -> None:
        """Stop every member (the one running the peers last) and remove the cluster's files."""
        errors = []
        names = [member_name(self.name, m) for m in self.members]
        for name in reversed(names):
            try:
                Testbed(name).down()
            except TestbedError as exc:
                errors.append(str(exc))
        for leftover in (RECORD, inventory.INVENTORY_FILE, inventory.ENV_FILE, inventory.GROUP_DATA_DIR):
            path = self.workdir / leftover
            if path.is_symlink() or path.exists():
                path.unlink()
        self.servers = {}
        if errors:
            raise TestbedError(f"teardown of cluster {self.name!r} incomplete: " + "; ".join(errors))

    # --- the inventory --------------------------------------------------------------------------------

    def host_data(self, member: str) -> dict[str, Any]:
        """A member's host data: what its own inventory says (connection, the shared peers)."""
        data = runpy.run_path(str(self.servers[member].inventory_path))["testbed"][0][1]
        return dict(data)

    def write_inventory(self, roles: Mapping[str, tuple[str, ...]] | None = None, leave_out: tuple[str, ...] = ()):
        """The cluster's inventory (each member in the groups of its roles; ``roles`` overrides some, and the
        ``leave_out`` members are not in it) and the shared secrets; returns the inventory's path."""
        roles = {**self.members, **(roles or {})}
        hosts = {m: (self.servers[m].address, self.host_data(m)) for m in self.members if m not in leave_out}
        owner = next(iter(self.servers.values()))
        env = inventory.generate_secrets(
            peers.recorder_url(owner.peer_address), peers.SAAS_TOKEN, peers.sentry_dsn(owner.peer_address)
        )
        if self.env_path.exists():
            env = {**env, **self.env}  # the same secrets for the life of the cluster
        env.setdefault("LOUIE_CLUSTER_SECRET", inventory_secret())
        inventory.write_workdir(
            self.workdir,
            name=self.name,
            address=None,
            data={},
            env=env,
            text=render_cluster_inventory(self.name, hosts, roles, self.data),
        )
        return self.inventory_path

    def ssh(self, member: str, command: str, **kwargs):
        return self.servers[member].ssh(command, **kwargs)

    def each(self, action: Callable[[Testbed], object]) -> dict[str, object]:
        return {member: action(server) for member, server in self.servers.items()}


def inventory_secret() -> str:
    import secrets

    return secrets.token_urlsafe(32)


def render_cluster_inventory(
    name: str,
    hosts: Mapping[str, tuple[str, Mapping[str, Any]]],
    roles: Mapping[str, tuple[str, ...]],
    group_data: Mapping[str, Any] = CLUSTER_DATA,
) -> str:
    """Python source of a cluster's inventory: the group ``testbed`` (its settings), one variable per role group
    listing its members' addresses, with their host data; and the cluster's name."""
    lines = [
        f'"""pyinfra inventory of test cluster {name!r}: written by the testbed (cluster.py).',
        "",
        "Regenerated by the testbed; edits are lost. Group data comes from ./group_data (the project's",
        'inventory/group_data, testbed.py included)."""',
        "",
        "_HOSTS = {",
    ]
    for member, (address, data) in hosts.items():
        items = "".join(f"        {key!r}: {value!r},\n" for key, value in data.items())
        lines.append(f"    {member!r}: ({address!r}, {{\n{items}    }}),")
    lines += ["}", ""]
    lines.append(f"testbed = ([_HOSTS[m] for m in {list(hosts)!r}], {dict(group_data)!r})")
    groups: dict[str, list[str]] = {}
    for member in hosts:
        for group in roles.get(member, ()):
            groups.setdefault(group, []).append(member)
    for group, members in groups.items():
        lines.append(f"{group} = [_HOSTS[m] for m in {members!r}]")
    return "\n".join(lines) + "\n"
