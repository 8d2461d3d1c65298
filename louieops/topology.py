"""Roles from the inventory's groups, and the settings that follow from where each role is.

A host's roles are the role groups it is in: ``db`` (the PostgreSQL primary), ``db_standby`` (an optional
hot standby, streaming from the primary), ``app`` (Node.js, pm2 and the releases) and ``lb`` (nginx with TLS
and the public names). An inventory without any role group holds one server, which has every role but the
standby: the single-server inventory works unchanged (it is "one host in every group").

Everything one role needs to know about another comes from here, so it is never typed twice: the app's
database host is the ``db`` host's private address, nginx's upstreams are the ``app`` hosts, the firewall
of each host opens exactly what the other roles use. A bad inventory stops the run before anything is
planned, with one line naming the group and the fix.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from pyinfra.api.exceptions import PyinfraError
from pyinfra.context import ContextObject

DB, STANDBY, APP, LB = "db", "db_standby", "app", "lb"
ROLES = (DB, STANDBY, APP, LB)
#: The roles of the one server of an inventory without role groups.
SINGLE_SERVER = frozenset({DB, APP, LB})
DATABASE_ROLES = frozenset({DB, STANDBY})
ANY = frozenset(ROLES)
POSTGRESQL_PORT = 5432
#: pgBackRest's TLS server (its default port), on the hot standby when the backups read from it.
PGBACKREST_TLS_PORT = 8432
#: Where the example of a multi-host inventory is (named in the errors).
EXAMPLE = "inventory/multihost.py"


class TopologyError(PyinfraError, ValueError):
    """The inventory's role groups do not make a cluster; ``str()`` is one line naming the group and the fix."""


@dataclass(frozen=True)
class Member:
    """One host of the inventory and its roles."""

    name: str  # the inventory name (how the deploy reaches it)
    address: str  # its address on the private network between the servers
    roles: frozenset[str]

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


@dataclass(frozen=True)
class Topology:
    """The hosts of one inventory, in inventory order, with their roles."""

    members: tuple[Member, ...]
    _by_name: dict[str, Member] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {m.name: m for m in self.members})

    # --- who has which role ----------------------------------------------------------------------

    def with_role(self, role: str) -> tuple[Member, ...]:
        return tuple(m for m in self.members if role in m.roles)

    def member(self, name: str) -> Member:
        return self._by_name[name]

    @property
    def db(self) -> Member:
        return self.with_role(DB)[0]

    @property
    def standby(self) -> Member | None:
        found = self.with_role(STANDBY)
        return found[0] if found else None

    @property
    def apps(self) -> tuple[Member, ...]:
        return self.with_role(APP)

    @property
    def lb(self) -> Member:
        return self.with_role(LB)[0]

    @property
    def single_server(self) -> bool:
        """One host with every role: everything talks over loopback, as before there were roles."""
        return len(self.members) == 1

    # --- what follows from it ----------------------------------------------------------------------

    def app_address(self, app: Member) -> str:
        """Where the app of ``app`` listens (and the lb reaches it): loopback when only its own host's nginx
        proxies to it, else its private address."""
        return "127.0.0.1" if self.single_server else app.address

    def upstream_server(self, app: Member, port: int) -> str:
        """``app`` as the lb's nginx upstreams name it: address:port ([address]:port for IPv6)."""
        address = self.app_address(app)
        return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"

    def upstreams(self) -> list[str]:
        """The app hosts as the lb reaches them, in inventory order."""
        return [self.app_address(app) for app in self.apps]

    def database_address(self, client: Member) -> str:
        """Where ``client`` reaches PostgreSQL: loopback on the database host itself, else its private address."""
        return "127.0.0.1" if client.name == self.db.name else self.db.address

    def database_over_tls(self, client: Member) -> bool:
        """A connection that leaves the host goes over TLS, checked against the deploy's database CA."""
        return client.name != self.db.name

    def postgresql_listen(self, member: Member) -> list[str]:
        """listen_addresses of ``member``'s PostgreSQL: loopback, plus the private address when another host
        connects to it (an app host, the standby, or - for a standby that may be promoted - the app hosts)."""
        remote = [m for m in (*self.apps, *self.with_role(STANDBY), self.db) if m.name != member.name]
        return ["localhost", member.address] if member.has(DB, STANDBY) and remote else ["localhost"]

    def database_clients(self) -> list[Member]:
        """The hosts whose app connects to PostgreSQL over the network (pg_hba and the firewall allow them)."""
        return [app for app in self.apps if app.name != self.db.name]

    def replication_slot(self, standby: Member) -> str:
        """The physical replication slot the primary keeps for ``standby``."""
        return "louieops_" + re.sub(r"[^a-z0-9_]", "_", standby.name.lower())[:50]

    def replication_clients(self, member: Member) -> list[Member]:
        """The hosts that stream WAL from ``member`` (the standby, from the primary)."""
        return [m for m in self.with_role(STANDBY) if member.has(DB) and m.name != member.name]

    def inbound(self, member: Member, app_port: int, backups_from_standby: bool = False) -> list[tuple[int, list[str]]]:
        """The TCP ports ``member``'s firewall opens besides SSH, each with the addresses allowed ([]: anyone).

        lb: HTTP and HTTPS. app: its port to the lb (on another host). db and db_standby: PostgreSQL to the app
        hosts and, on the primary, to the standby. db_standby, when the backups read from it: pgBackRest's TLS
        server to the primary."""
        rules: list[tuple[int, list[str]]] = []
        if member.has(LB):
            rules += [(80, []), (443, [])]
        if member.has(APP) and not self.single_server:
            lbs = [lb.address for lb in self.with_role(LB) if lb.name != member.name]
            if lbs:
                rules.append((app_port, lbs))
        if member.has(DB, STANDBY):
            clients = [*self.database_clients(), *self.replication_clients(member)]
            allowed = sorted({m.address for m in clients if m.name != member.name}, key=_address_key)
            if allowed:
                rules.append((POSTGRESQL_PORT, allowed))
        if backups_from_standby and member.has(STANDBY) and not member.has(DB):
            rules.append((PGBACKREST_TLS_PORT, [self.db.address]))
        return rules


def _address_key(address: str):
    ip = ipaddress.ip_address(address)
    return (ip.version, int(ip))


# --- building it from pyinfra's inventory -----------------------------------------------------------------


def from_groups(hosts: list[tuple[str, str | None]], groups: dict[str, list[str]]) -> Topology:
    """The topology of ``hosts`` ([(name, private address or None)], inventory order) and the role
    ``groups`` (role -> host names); raises ``TopologyError`` naming the group and the fix."""
    names = [name for name, _ in hosts]
    used = {role: [n for n in names if n in groups.get(role, [])] for role in ROLES}
    if not any(used.values()):
        if len(names) > 1:
            raise TopologyError(
                f"the inventory has {len(names)} hosts ({', '.join(names)}) but no role group: put each host in the "
                f"groups of its roles (db, db_standby, app, lb), see {EXAMPLE}"
            )
        name, private = hosts[0]
        return Topology((Member(name, private or name, SINGLE_SERVER),))
    roleless = [n for n in names if not any(n in members for members in used.values())]
    if roleless:
        raise TopologyError(
            f"host {roleless[0]} is in no role group: add it to db, db_standby, app or lb in the inventory "
            f"(or remove it), see {EXAMPLE}"
        )
    _check_counts(used)
    addresses = {name: _private_address(name, private) for name, private in hosts}
    taken: dict[str, str] = {}
    for name in names:
        other = taken.setdefault(addresses[name], name)
        if other != name:
            raise TopologyError(
                f"hosts {other} and {name} have the same private address {addresses[name]}: set private_address "
                "in the host data of each"
            )
    members = tuple(
        Member(name, addresses[name], frozenset(role for role in ROLES if name in used[role])) for name in names
    )
    return Topology(members)


def _check_counts(used: dict[str, list[str]]) -> None:
    def hosts(role: str) -> str:
        return ", ".join(used[role])

    if not used[DB]:
        what = " (the standby in db_standby follows it)" if used[STANDBY] else ""
        raise TopologyError(f"group db has no host: put the PostgreSQL primary's host in db{what}, see {EXAMPLE}")
    if len(used[DB]) > 1:
        raise TopologyError(
            f"group db has {len(used[DB])} hosts ({hosts(DB)}): exactly one is the PostgreSQL primary; "
            "put a second database host in db_standby"
        )
    if len(used[STANDBY]) > 1:
        raise TopologyError(
            f"group db_standby has {len(used[STANDBY])} hosts ({hosts(STANDBY)}): one hot standby is supported; "
            "keep one in db_standby"
        )
    both = [n for n in used[STANDBY] if n in used[DB]]
    if both:
        raise TopologyError(
            f"host {both[0]} is in both db and db_standby: a standby is another host; remove it from one group"
        )
    if not used[APP]:
        raise TopologyError(f"group app has no host: put the hosts that run the app in app, see {EXAMPLE}")
    if not used[LB]:
        raise TopologyError(f"group lb has no host: put the host that serves the public names in lb, see {EXAMPLE}")
    if len(used[LB]) > 1:
        raise TopologyError(
            f"group lb has {len(used[LB])} hosts ({hosts(LB)}): one load balancer is supported (certbot's HTTP-01 "
            "needs every public name on that host); keep one in lb"
        )


def _private_address(name: str, private: str | None) -> str:
    candidate = private or name
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        what = f"private_address {private!r} of host {name}" if private else f"host {name} has no private_address, and"
        raise TopologyError(
            f"{what} is not an IP address: set private_address in the host data of {name} to its address on the "
            "private network between the servers"
        ) from None


_CACHE: dict[int, tuple[object, Topology]] = {}


def of(host) -> Topology:
    """The topology of the inventory ``host`` belongs to (validated once per inventory)."""
    real = host._get_module() if isinstance(host, ContextObject) else host
    inventory = real.inventory
    cached = _CACHE.get(id(inventory))
    if cached is None or cached[0] is not inventory:
        hosts = [(h.name, h.data.get("private_address")) for h in inventory]
        groups = {role: [h.name for h in inventory.get_group(role, [])] for role in ROLES}
        cached = (inventory, from_groups(hosts, groups))
        _CACHE[id(inventory)] = cached
    return cached[1]


def me(host) -> Member:
    """``host`` as a member of its inventory's topology."""
    real = host._get_module() if isinstance(host, ContextObject) else host
    return of(real).member(real.name)


def host_of(host, member: Member):
    """The pyinfra host object of ``member`` (to read its settings), from ``host``'s inventory."""
    real = host._get_module() if isinstance(host, ContextObject) else host
    return real.inventory.get_host(member.name)
