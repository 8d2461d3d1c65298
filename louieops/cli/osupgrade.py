"""``louieops os-upgrade INVENTORY --to trixie``: the server's Debian release upgrade (docs/upgrades.md).

Step by step, each an existing command with its own checks; a step fails, the run stops and says which:

1. an upgrade a killed run left going on the server ends first; then the pre-checks on the server
   (``louie-os-upgrade check``): a known release and not a downgrade, free disk, no held or foreign packages,
   dpkg clean, no pending reboot. Refused: exit 2 before anything changed;
2. a fresh backup (louie-pitr-backup incr with backup_pitr, else the backup-db dump);
3. ``louieops maintenance on`` (the UptimeRobot window, the status page, nginx's 503 page);
4. ``louie-os-upgrade run``: the release's sources and the full upgrade, in a unit of its own on the server;
5. the reboot, waited for (a new boot id over SSH);
6. the deploy, which on the new release upgrades PostgreSQL too (tasks/postgresql.py, louie-pg-upgrade);
7. the deploy again, which must change nothing;
8. the health gate (health-check --only api,database), then ``louieops maintenance off``.

It prints each step's time and the minutes in maintenance mode. Run again after a failure or a kill, it
goes on: a server this upgraded to the release skips steps 2 and 4 (and 5 once it rebooted); once step 8 passed it
says "nothing to do".
One server per run; an inventory of several servers is refused for now (docs/upgrades.md, by hand).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .. import layout, resources
from ..settings import SettingsError
from ..settings.inventory import host_settings
from . import deploy, maintenance, remote, steps
from .admin import AdminError

#: The releases louie-os-upgrade knows, by code name (the server's own rules, read from its script).
RELEASES = resources.server_script("louie-os-upgrade").RELEASES
REBOOT_TIMEOUT = 600  # seconds for the server to come back over SSH
BOOT_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
MESSAGE = "Upgrading the server's operating system"
HEALTH_CHECKS = "api,database"
#: An upgrade a killed run left going (louie-os-upgrade's unit) ends first: until it has, python3 itself and
#: so every louieops script on the server may be half-replaced.
WAIT_FOR_UNIT = (
    f"while [ -s {resources.server_script('louie-os-upgrade').UNIT_PROCS} ]; do "
    "echo 'louie-os-upgrade: an upgrade is still running on the server; waiting for it'; sleep 10; done"
)


def register(commands) -> None:
    up = commands.add_parser("os-upgrade", help="upgrade the server's Debian release, then deploy (docs/upgrades.md)")
    up.add_argument("inventory", help="the pyinfra inventory, e.g. inventory/production.py")
    up.add_argument("--to", required=True, help=f"the release: {', '.join(list(RELEASES)[1:])}")
    up.add_argument("--host", help="the inventory's host to upgrade (default: its one server)")
    up.add_argument("--check", action="store_true", help="only the pre-checks: exit 0 ready, 2 refused")
    up.add_argument("--yes", action="store_true", help="do not ask")


def preflight(inventory: str, host: str | None, target: str):
    """The one host and its settings; refuses (exit 2, one line) what this cannot upgrade."""
    if target not in RELEASES:
        raise AdminError(f"--to {target!r}: unknown release; louieops upgrades to {', '.join(list(RELEASES)[1:])}", 2)
    names = remote.hosts(inventory)
    remote.limit(inventory, None, host)  # one line for an unknown --host
    if len(names) != 1:
        raise AdminError(
            f"{inventory} has {len(names)} hosts: os-upgrade upgrades a one-server inventory for now; with several "
            "servers follow docs/upgrades.md by hand (one host at a time, the database host last)",
            2,
        )
    try:
        settings = host_settings(inventory, None)
    except (OSError, ValueError, SettingsError) as exc:
        raise AdminError(str(exc), 2) from exc
    return names[0], settings


def output(inventory: str, words: list[str]) -> tuple[int, str]:
    """``words`` on the server through pyinfra; (exit status, what it printed)."""
    done = subprocess.run(remote.command(inventory, words), capture_output=True, text=True)
    return done.returncode, done.stdout + done.stderr


def boot_id(inventory: str) -> str | None:
    status, text = output(inventory, ["cat", "/proc/sys/kernel/random/boot_id"])
    found = BOOT_ID.findall(text)
    return found[-1] if status == 0 and found else None


def reboot(inventory: str) -> int:
    before = boot_id(inventory)
    if before is None:
        print("louieops os-upgrade: cannot read the server's boot id before the reboot", file=sys.stderr)
        return 1
    output(inventory, ["systemctl", "reboot"])  # the connection may drop before pyinfra hears back
    deadline = time.monotonic() + REBOOT_TIMEOUT
    while time.monotonic() < deadline:
        time.sleep(3)
        now = boot_id(inventory)
        if now and now != before:
            return 0
    print(f"louieops os-upgrade: the server did not come back within {REBOOT_TIMEOUT} s", file=sys.stderr)
    return 1


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


def run(inventory: str, host: str | None, target: str, check_only: bool, yes: bool) -> int:
    name, s = preflight(inventory, host, target)
    check = [layout.OS_UPGRADE_COMMAND, "check", "--to", target]
    if remote.run(remote.command(inventory, ["sh", "-c", WAIT_FOR_UNIT])) != 0:
        raise AdminError("could not reach the server to see whether an upgrade still runs there", 1)
    status, text = output(inventory, check)
    lines = [line.split("louie-os-upgrade: ", 1)[1] for line in text.splitlines() if "louie-os-upgrade: " in line]
    for line in lines:
        print(f"{name}: {line}")
    if status != 0 or not lines:
        reason = (
            "the pre-checks refused (above)" if lines else f"could not run {layout.OS_UPGRADE_COMMAND} (deploy first)"
        )
        raise AdminError(f"{reason}; nothing was changed", 2)
    if check_only or any(line.startswith("already on") for line in lines):
        return 0
    already = any(line.startswith(f"on {target} already") for line in lines)
    resuming = any(line.startswith(f"resuming the upgrade to {target}") for line in lines)
    reboot_first = any("(the reboot," in line for line in lines)
    if not steps.confirm(yes, f"upgrade {name} to {target} (maintenance mode meanwhile)?"):
        return 2
    run_step = steps.Steps(
        "os-upgrade",
        "maintenance mode stays on: fix the cause and run louieops os-upgrade again (it goes on from here), "
        "or `louieops maintenance off`",
    )
    step = run_step.run
    if not already and not resuming:  # (a resumed run's first took it; python3 may be half-replaced)
        backup = layout.fresh_backup_command(s, s.backup_pitr)
        step("a fresh backup", lambda: remote.run(remote.command(inventory, backup)))
    step("maintenance mode on", lambda: maintenance.run(maintenance_args(inventory, "on")))
    down = time.monotonic()
    if not already:
        step(f"the upgrade to {target}", lambda: remote.run(remote.command(inventory, [*check[:1], "run", *check[2:]])))
    if not already or reboot_first:
        step("the reboot", lambda: reboot(inventory))
    step("the deploy (PostgreSQL's major upgrade with it)", lambda: deploy.run("apply", inventory, None, verbose=True))
    with tempfile.TemporaryDirectory() as scratch:
        report = str(Path(scratch) / "second-deploy.json")
        step("the deploy again (must change nothing)", lambda: converged(inventory, report))
    step(
        "the health gate",
        lambda: remote.run(remote.command(inventory, layout.health_gate_command(s, HEALTH_CHECKS))),
    )
    step("maintenance mode off", lambda: maintenance.run(maintenance_args(inventory, "off")))
    remote.run(remote.command(inventory, [layout.OS_UPGRADE_COMMAND, "done", "--to", target]))
    run_step.print_timings()
    print(
        f"louieops os-upgrade: {name} is on {target} in {run_step.seconds:.0f} s, "
        f"{(time.monotonic() - down) / 60:.1f} min of it in maintenance mode"
    )
    return 0
