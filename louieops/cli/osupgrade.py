"""``louieops os-upgrade INVENTORY --to trixie``: the servers' Debian release upgrade (docs/upgrades.md).

Step by step, each an existing command with its own checks; a step fails, the run stops and says which:

1. an upgrade a killed run left going on a server ends first; then the pre-checks on every server
   (``louie-os-upgrade check``): a known release and not a downgrade, free disk, no held or foreign packages,
   dpkg clean, no pending reboot. One refused: exit 2 before anything changed;
2. one host at a time (``order``): with several app hosts, each app host first, out of the load balancer's
   upstreams meanwhile (``louie-os-upgrade drain`` on the lb) while the others serve; a standby; then, in
   maintenance mode (``louieops maintenance on``: the UptimeRobot window, the status page, nginx's 503 page),
   the load balancer and the database host last. One server is all of these at once: maintenance mode
   throughout. Each host: on the database host a fresh backup first (louie-pitr-backup incr with backup_pitr,
   else the backup-db dump); ``louie-os-upgrade run`` (the release's sources and the full upgrade, in a unit
   of its own on the server), the reboot (a new boot id over SSH), the deploy of that host (on the database
   host it upgrades PostgreSQL too: tasks/postgresql.py, louie-pg-upgrade), its health gate, back in the
   upstreams;
3. the deploy of every host (it copies the standby again from the upgraded primary), then again: it must
   change nothing;
4. the health gate of every host (health-check --only api,database), then ``louieops maintenance off``.

It prints each step's time and the minutes in maintenance mode. Run again after a failure or a kill, it
goes on: a host this upgraded skips its backup and upgrade (and its reboot once it rebooted); once the last
step passed it says "nothing to do".
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .. import layout, resources, topology
from ..pgversion import DEBIAN_POSTGRESQL
from ..settings import Settings, SettingsError
from ..settings.inventory import host_settings, inventory_topology
from . import deploy, maintenance, remote, steps
from .admin import AdminError

#: The releases louie-os-upgrade knows, by code name (the server's own rules, read from its script).
RELEASES = resources.server_script("louie-os-upgrade").RELEASES
REBOOT_TIMEOUT = 600  # seconds for a server to come back over SSH
BOOT_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
MESSAGE = "Upgrading the servers' operating system"
HEALTH_CHECKS = "api,database"
#: An upgrade a killed run left going (louie-os-upgrade's unit) ends first: until it has, python3 itself and
#: so every louieops script on the server may be half-replaced. Its processes are found by their cgroup.
WAIT_FOR_UNIT = (
    f"while grep -qs '{resources.server_script('louie-os-upgrade').UNIT_CGROUP}$' /proc/[0-9]*/cgroup; do "
    "echo 'louie-os-upgrade: an upgrade is still running on the server; waiting for it'; sleep 10; done"
)
#: Where louie-pg-upgrade records its run (with the seconds in maintenance mode).
PG_UPGRADE_RECORD = resources.server_script("louie-pg-upgrade").STATUS
#: louie-os-upgrade check's line for each verdict (its own table).
VERDICT_LINES = resources.server_script("louie-os-upgrade").VERDICT_LINES


def register(commands) -> None:
    up = commands.add_parser("os-upgrade", help="upgrade the servers' Debian release, then deploy (docs/upgrades.md)")
    up.add_argument("inventory", help="the pyinfra inventory, e.g. inventory/production.py")
    up.add_argument("--to", required=True, help=f"the release: {', '.join(list(RELEASES)[1:])}")
    up.add_argument("--host", help="only this host of the inventory (default: every host, in order)")
    up.add_argument("--check", action="store_true", help="only the pre-checks: exit 0 ready, 2 refused")
    up.add_argument("--yes", action="store_true", help="do not ask")


@dataclass
class Server:
    """One host of the upgrade: its roles and settings, the hosts pyinfra is limited to for it (none: the
    inventory's one server), how it upgrades (``order``), and its pre-check's verdict."""

    member: topology.Member
    settings: Settings
    limit: tuple[str, ...]
    how: str  # DRAINED, ASIDE or WINDOW
    verdict: str = ""

    @property
    def name(self) -> str:
        return self.member.name

    @property
    def only(self) -> list[str]:
        return [word for name in self.limit for word in ("--limit", name)]


#: How a host upgrades (``order``): out of the lb's upstreams while the other app hosts serve; aside (a standby
#: alone: nothing is served from it); in maintenance mode (what the site needs meanwhile: the lb, the database).
DRAINED, ASIDE, WINDOW = "out of the load balancer", "aside", "in maintenance mode"


def postgresql_of(release: str) -> int | None:
    """The PostgreSQL major version Debian's ``release`` ships."""
    return DEBIAN_POSTGRESQL.get(RELEASES.get(release))


def order(topo: topology.Topology) -> list[tuple[topology.Member, str]]:
    """The hosts in upgrade order, each with how it upgrades: the hosts that are app hosts and nothing else first
    (DRAINED, with two app hosts or more; one app host alone is the site), then a standby that is nothing else
    (ASIDE), then the rest in maintenance mode (WINDOW): the lb first, the database host last."""
    drained = [m for m in topo.members if m.roles == {topology.APP}] if len(topo.apps) > 1 else []
    aside = [m for m in topo.members if m.roles == {topology.STANDBY}]
    rest = [m for m in topo.members if m not in drained and m not in aside]
    rest.sort(key=lambda m: (m.has(topology.DB), m.has(topology.STANDBY), not m.has(topology.LB)))
    return [(m, DRAINED) for m in drained] + [(m, ASIDE) for m in aside] + [(m, WINDOW) for m in rest]


def preflight(inventory: str, host: str | None, target: str) -> tuple[topology.Topology, list[Server]]:
    """The hosts to upgrade, in order; refuses (exit 2, one line) what this cannot upgrade."""
    if target not in RELEASES:
        raise AdminError(f"--to {target!r}: unknown release; louieops upgrades to {', '.join(list(RELEASES)[1:])}", 2)
    names = remote.hosts(inventory)
    remote.limit(inventory, None, host)  # one line for an unknown --host
    try:
        topo = inventory_topology(inventory)
        servers = [
            Server(member, host_settings(inventory, member.name), (member.name,) if len(names) > 1 else (), how)
            for member, how in order(topo)
            if host in (None, member.name)
        ]
    except (OSError, ValueError, SettingsError) as exc:
        raise AdminError(str(exc), 2) from exc
    return topo, servers


def output(inventory: str, words: list[str], only: list[str] = ()) -> tuple[int, str]:
    """``words`` on the server(s) through pyinfra; (exit status, what it printed)."""
    done = subprocess.run(remote.command(inventory, words, only=only), capture_output=True, text=True)
    return done.returncode, done.stdout + done.stderr


def on(inventory: str, server: Server, words: list[str]) -> int:
    return remote.run(remote.command(inventory, words, only=server.only))


def boot_id(inventory: str, server: Server) -> str | None:
    status, text = output(inventory, ["cat", "/proc/sys/kernel/random/boot_id"], server.only)
    found = BOOT_ID.findall(text)
    return found[-1] if status == 0 and found else None


def reboot(inventory: str, server: Server) -> int:
    before = boot_id(inventory, server)
    if before is None:
        print(f"louieops os-upgrade: cannot read {server.name}'s boot id before the reboot", file=sys.stderr)
        return 1
    output(inventory, ["systemctl", "reboot"], server.only)  # the connection may drop before pyinfra hears back
    deadline = time.monotonic() + REBOOT_TIMEOUT
    while time.monotonic() < deadline:
        time.sleep(3)
        now = boot_id(inventory, server)
        if now and now != before:
            return 0
    print(f"louieops os-upgrade: {server.name} did not come back within {REBOOT_TIMEOUT} s", file=sys.stderr)
    return 1


def pre_check(inventory: str, server: Server, target: str) -> list[str]:
    """louie-os-upgrade check on the server: its lines (prefixed by the host); sets ``server.verdict``."""
    status, text = output(inventory, [layout.OS_UPGRADE_COMMAND, "check", "--to", target], server.only)
    lines = [line.split("louie-os-upgrade: ", 1)[1] for line in text.splitlines() if "louie-os-upgrade: " in line]
    for line in lines:
        print(f"{server.name}: {line}")
    if status != 0 or not lines:
        what = "refused (above)" if lines else f"could not run {layout.OS_UPGRADE_COMMAND} (deploy first)"
        raise AdminError(f"{server.name}: the pre-checks {what}; nothing was changed", 2)
    verdicts = {text.format(to=target): verdict for verdict, text in VERDICT_LINES.items()}
    if lines[-1] not in verdicts:
        raise AdminError(f"{server.name}: unexpected pre-check answer {lines[-1]!r}: deploy first", 2)
    server.verdict = verdicts[lines[-1]]
    return lines


def lb_command(inventory: str, topo: topology.Topology, server: Server, action: str) -> int:
    app = topo.upstream_server(server.member, server.settings.app_port)
    where = ["--upstreams", layout.NGINX_UPSTREAMS, "--server", app]
    words = [layout.OS_UPGRADE_COMMAND, action, *where]
    return remote.run(remote.command(inventory, words, only=["--limit", topo.lb.name]))


def maintenance_args(inventory: str, action: str) -> argparse.Namespace:
    line = ["maintenance", action, "--inventory", inventory]
    if action == "on":
        line += ["--message", MESSAGE]
    top = argparse.ArgumentParser()
    maintenance.register(top.add_subparsers(dest="command"))
    return top.parse_args(line)


def converged(inventory: str, report: str) -> int:
    """The deploy again; exit 1 when it changed anything (the upgrade did not converge)."""
    status = deploy.run("apply", inventory, report)
    if status != 0:
        return status
    changes = [(h["name"], c) for h in json.loads(Path(report).read_text())["hosts"] for c in h["changes"]]
    if changes:
        print(f"louieops os-upgrade: the second deploy changed {len(changes)}: {changes[:5]}", file=sys.stderr)
        return 1
    return 0


class Upgrade:
    """One run: the servers in order, the steps announced and timed, maintenance mode once it is needed."""

    def __init__(self, inventory: str, topo: topology.Topology, servers: list[Server], target: str) -> None:
        self.inventory, self.topo, self.servers, self.target = inventory, topo, servers, target
        self.steps = steps.Steps(
            "os-upgrade",
            "what is out of the load balancer or in maintenance mode stays so: fix the cause and run louieops "
            "os-upgrade again (it goes on from here), or `louieops maintenance off`",
        )
        self.maintenance_since: float | None = None
        self.resumed = any(server.verdict not in ("ready", "already") for server in servers)

    def step(self, name: str, action) -> None:
        self.steps.run(name, action)

    def maintenance_on(self) -> None:
        if self.maintenance_since is None:
            self.step("maintenance mode on", lambda: maintenance.run(maintenance_args(self.inventory, "on")))
            self.maintenance_since = time.monotonic()

    def host(self, server: Server) -> None:
        """One host's turn: out of the lb (or maintenance mode), the upgrade, the reboot, its deploy and gate."""
        inventory, name, words = self.inventory, server.name, [layout.OS_UPGRADE_COMMAND, "run", "--to", self.target]
        if server.how == DRAINED:
            self.step(f"{name}: out of the load balancer", lambda: lb_command(inventory, self.topo, server, "drain"))
        elif server.how == WINDOW:
            self.maintenance_on()
        if server.member.has(topology.DB) and server.verdict == "ready":
            # in maintenance mode: nothing written after it (a resumed run's first took it; python3 may be
            # half-replaced since)
            backup = layout.fresh_backup_command(server.settings, server.settings.backup_pitr)
            self.step("a fresh backup", lambda: on(inventory, server, backup))
        if server.verdict in ("ready", "resuming"):
            self.step(f"{name}: the upgrade to {self.target}", lambda: on(inventory, server, words))
        if server.verdict != "finishing":
            self.step(f"{name}: the reboot", lambda: reboot(inventory, server))
        self.step(
            f"{name}: the deploy" + (" (PostgreSQL's major upgrade with it)" if server.member.has(topology.DB) else ""),
            lambda: deploy.run("apply", inventory, None, verbose=True, limit=server.limit),
        )
        if server.member.has(topology.DB):
            self.report_pg_upgrade(server)
        self.gate(server)
        if server.how == DRAINED:
            self.step(f"{name}: back in the load balancer", lambda: lb_command(inventory, self.topo, server, "rejoin"))

    def report_pg_upgrade(self, server: Server) -> None:
        """The downtime of PostgreSQL's major upgrade, from louie-pg-upgrade's record (pyinfra shows no command's
        output)."""
        _, text = output(self.inventory, ["cat", PG_UPGRADE_RECORD], server.only)
        found = re.search(r"\{.*\}", text)
        record = json.loads(found.group(0)) if found else {}
        if record.get("phase") == "done" and record.get("target") == postgresql_of(self.target):
            print(
                f"louieops os-upgrade: {server.name}: PostgreSQL {record['source']} -> {record['target']} "
                f"({record['method']}) took {record['maintenance_seconds']} s in maintenance mode"
            )

    def gate(self, server: Server) -> None:
        gate = layout.health_gate_command(server.settings, HEALTH_CHECKS)
        self.step(f"{server.name}: the health gate", lambda: on(self.inventory, server, gate))

    def finish(self) -> None:
        """Every host deployed together (the standby re-seeded), then again with no change, gated."""
        several = not self.topo.single_server
        if several:
            self.step("the deploy of every host (the standby follows the upgraded primary)", self.deploy_all)
        with tempfile.TemporaryDirectory() as scratch:
            report = str(Path(scratch) / "second-deploy.json")
            self.step("the deploy again (must change nothing)", lambda: converged(self.inventory, report))
        if several:
            for server in self.servers:
                self.gate(server)
        if self.maintenance_since is not None or self.resumed:  # (a killed run may have left it on)
            self.step("maintenance mode off", lambda: maintenance.run(maintenance_args(self.inventory, "off")))
        for server in self.servers:
            on(self.inventory, server, [layout.OS_UPGRADE_COMMAND, "done", "--to", self.target])

    def deploy_all(self) -> int:
        return deploy.run("apply", self.inventory, None, verbose=True)


def run(inventory: str, host: str | None, target: str, check_only: bool, yes: bool) -> int:
    topo, servers = preflight(inventory, host, target)
    if remote.run(remote.command(inventory, ["sh", "-c", WAIT_FOR_UNIT])) != 0:
        raise AdminError("could not reach every server to see whether an upgrade still runs there", 1)
    for server in servers:
        pre_check(inventory, server, target)
    todo = [server for server in servers if server.verdict != "already"]
    if check_only or not todo:
        return 0
    names = ", ".join(server.name for server in todo)
    if not steps.confirm(yes, f"upgrade {names} to {target} (maintenance mode for some of it)?"):
        return 2
    upgrade = Upgrade(inventory, topo, servers, target)
    for server in todo:
        upgrade.host(server)
    upgrade.finish()
    upgrade.steps.print_timings()
    down = (time.monotonic() - upgrade.maintenance_since) / 60 if upgrade.maintenance_since else 0.0
    what = f"{names} is" if len(todo) == 1 else f"{names} are"
    seconds = upgrade.steps.seconds
    print(f"louieops os-upgrade: {what} on {target} in {seconds:.0f} s, {down:.1f} min of it in maintenance mode")
    return 0
