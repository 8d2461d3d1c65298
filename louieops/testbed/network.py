"""Per-instance networking: slot allocation, network namespace, veth pair, NAT and IPv4 forwarding.

Every test server gets a slot N (0..255) and the /30 ``10.231.N.0``: the controller side of the veth is
``10.231.N.1`` (where the peers listen), the server's ``eth0`` is ``10.231.N.2``. Slots are handed out
under an exclusive ``flock`` on a lock file shared by every checkout on the machine, so tests, the demo
and several engineers can run servers side by side.

The servers of a cluster (cluster.py) reach each other through the controller: each already routes everything
via its veth peer, and :func:`link` rewrites each member's own nftables table so traffic between the members'
/30s is forwarded as it is (not masqueraded: each server sees the others' real addresses). Nothing else is
routed or masqueraded, and each table goes away with its server.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import json
import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path

from .paths import (
    IP_FORWARD_SAVE,
    LOCK_FILE,
    NETNS_PREFIX,
    NFT_TABLE_PREFIX,
    SLOTS_DIR,
    STATE_DIR,
    VETH_PREFIX,
    netns_name,
    nft_table_name,
    veth_names,
)

log = logging.getLogger(__name__)

SUBNET_BASE = ipaddress.IPv4Address("10.231.0.0")
MAX_SLOTS = 256
IP_FORWARD = Path("/proc/sys/net/ipv4/ip_forward")


def slot_addresses(slot: int) -> tuple[str, str, str]:
    """Return (peer address, server address, network in CIDR form) for a slot."""
    if not 0 <= slot < MAX_SLOTS:
        raise ValueError(f"slot {slot} out of range: expected 0..{MAX_SLOTS - 1}")
    base = ipaddress.IPv4Address(int(SUBNET_BASE) + slot * 256)
    return str(base + 1), str(base + 2), f"{base}/30"


@contextlib.contextmanager
def locked() -> Iterator[None]:
    """Hold the machine-wide testbed lock (slot table and ip_forward bookkeeping)."""
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    with open(LOCK_FILE, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def read_slots() -> dict[int, str]:
    """Slot number -> instance name, from the slot table (caller holds the lock)."""
    slots: dict[int, str] = {}
    if SLOTS_DIR.is_dir():
        for entry in SLOTS_DIR.iterdir():
            if entry.name.isdigit():
                slots[int(entry.name)] = entry.read_text().strip()
    return slots


def pick_free_slot(taken: set[int], addresses_in_use: set[str]) -> int:
    """Lowest slot not in ``taken`` whose peer address is not configured on any interface."""
    for slot in range(MAX_SLOTS):
        if slot in taken:
            continue
        if slot_addresses(slot)[0] in addresses_in_use:
            continue
        return slot
    raise RuntimeError(f"all {MAX_SLOTS} test server slots are in use; run `python -m louieops.testbed cleanup`")


def host_ipv4_addresses() -> set[str]:
    out = run(["ip", "-j", "-4", "addr", "show"], capture=True).stdout
    return {a["local"] for link in json.loads(out or "[]") for a in link.get("addr_info", [])}


def allocate_slot(name: str) -> int:
    """Reserve a slot for ``name`` (reusing its slot if it already holds one)."""
    with locked():
        slots = read_slots()
        for slot, owner in slots.items():
            if owner == name:
                return slot
        slot = pick_free_slot(set(slots), host_ipv4_addresses())
        SLOTS_DIR.mkdir(parents=True, exist_ok=True)
        (SLOTS_DIR / str(slot)).write_text(name + "\n")
        return slot


def slot_of(name: str) -> int | None:
    """The slot ``name`` holds, or None."""
    with locked():
        return next((slot for slot, owner in read_slots().items() if owner == name), None)


def release_slot(name: str) -> None:
    """Free the slot of ``name``; restore ip_forward when the last slot goes away."""
    with locked():
        for slot, owner in read_slots().items():
            if owner == name:
                (SLOTS_DIR / str(slot)).unlink(missing_ok=True)
        if not read_slots():
            restore_ip_forward()


def _enable_ip_forward() -> None:
    """Turn IPv4 forwarding on, remembering the value found before the first instance (lock held)."""
    current = IP_FORWARD.read_text().strip()
    if not IP_FORWARD_SAVE.exists():
        IP_FORWARD_SAVE.write_text(current + "\n")
    if current != "1":
        IP_FORWARD.write_text("1\n")


def restore_ip_forward() -> None:
    if IP_FORWARD_SAVE.exists():
        previous = IP_FORWARD_SAVE.read_text().strip() or "0"
        IP_FORWARD.write_text(previous + "\n")
        IP_FORWARD_SAVE.unlink()
        log.info("restored net.ipv4.ip_forward=%s", previous)


def default_route_mtu() -> int:
    """MTU of the controller's default-route interface (the veth must not exceed it for NATed traffic)."""
    routes = json.loads(run(["ip", "-j", "-4", "route", "show", "default"], capture=True).stdout or "[]")
    if routes:
        dev = routes[0].get("dev")
        if dev:
            return int(Path(f"/sys/class/net/{dev}/mtu").read_text())
    return 1500


def nft_ruleset(table: str, network: str, host_veth: str, linked: list[tuple[str, str]] | None = None) -> str:
    """nftables script for one instance: masquerade its /30 only and accept its forwarded traffic. ``linked``
    ((network, host veth) of the other servers of its cluster): traffic to and from those is forwarded
    unmasqueraded."""
    if not linked:
        return f"""table ip {table} {{
	chain postrouting {{
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr {network} ip daddr != {network} masquerade
	}}
	chain forward {{
		type filter hook forward priority filter; policy accept;
		iifname "{host_veth}" ip saddr {network} accept
		oifname "{host_veth}" ip daddr {network} ct state established,related accept
	}}
}}
"""
    nets = ", ".join([network, *(net for net, _ in linked)])
    veths = ", ".join(f'"{veth}"' for _, veth in linked)
    others = ", ".join(net for net, _ in linked)
    return f"""table ip {table} {{
	chain postrouting {{
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr {network} ip daddr != {{ {nets} }} masquerade
	}}
	chain forward {{
		type filter hook forward priority filter; policy accept;
		iifname "{host_veth}" ip saddr {network} accept
		oifname "{host_veth}" ip daddr {network} ct state established,related accept
		iifname {{ {veths} }} ip saddr {{ {others} }} oifname "{host_veth}" ip daddr {network} accept
	}}
}}
"""


def link(members: list[tuple[str, int]]) -> None:
    """Let the servers ``members`` ((name, slot) each) reach each other through the controller, unmasqueraded:
    each member's table is replaced (in one nft transaction) by one that knows the others' links."""
    for name, slot in members:
        others = [(slot_addresses(o)[2], veth_names(o)[0]) for n, o in members if n != name]
        table = nft_table_name(name)
        ruleset = nft_ruleset(table, slot_addresses(slot)[2], veth_names(slot)[0], others)
        run(["nft", "-f", "-"], input=f"table ip {table}\ndelete table ip {table}\n{ruleset}")


def setup(name: str, slot: int) -> None:
    """Create netns, veth pair, addresses, routes, NAT table; enable forwarding."""
    ns = netns_name(name)
    host_if, ns_if = veth_names(slot)
    peer, server, network = slot_addresses(slot)
    mtu = default_route_mtu()
    run(["ip", "netns", "add", ns])
    run(["ip", "link", "add", host_if, "mtu", str(mtu), "type", "veth", "peer", "name", ns_if, "mtu", str(mtu)])
    run(["ip", "link", "set", ns_if, "netns", ns])
    run(["ip", "addr", "add", f"{peer}/30", "dev", host_if])
    run(["ip", "link", "set", host_if, "up"])
    nsx = ["ip", "-n", ns]
    run([*nsx, "link", "set", ns_if, "name", "eth0"])
    run([*nsx, "addr", "add", f"{server}/30", "dev", "eth0"])
    run([*nsx, "link", "set", "lo", "up"])
    run([*nsx, "link", "set", "eth0", "up"])
    run([*nsx, "route", "add", "default", "via", peer])
    table = nft_table_name(name)
    run(["nft", "-f", "-"], input=nft_ruleset(table, network, host_if))
    with locked():
        _enable_ip_forward()


def teardown(name: str, slot: int | None) -> None:
    """Remove everything :func:`setup` created; missing pieces are fine."""
    ns = netns_name(name)
    if slot is not None:
        host_if, _ = veth_names(slot)
        run(["ip", "link", "del", host_if], check=False, quiet=True)
    if ns in list_netns():
        run(["ip", "netns", "del", ns], check=False)
    table = nft_table_name(name)
    if table in list_nft_tables():
        run(["nft", "delete", "table", "ip", table], check=False)


def list_netns() -> list[str]:
    out = run(["ip", "netns", "list"], capture=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def list_nft_tables(prefix: str = "") -> list[str]:
    out = run(["nft", "list", "tables", "ip"], capture=True).stdout
    names = [line.split()[-1] for line in out.splitlines() if line.startswith("table ip ")]
    return [n for n in names if n.startswith(prefix)]


def list_veths() -> list[str]:
    """Host-side interfaces created by the testbed (``lotb<N>h``/``lotb<N>c``)."""
    links = json.loads(run(["ip", "-j", "link", "show"], capture=True).stdout or "[]")
    return [
        link["ifname"]
        for link in links
        if link["ifname"].startswith(VETH_PREFIX) and link["ifname"][len(VETH_PREFIX) : -1].isdigit()
    ]


def leftovers() -> dict[str, list[str]]:
    """Everything network-side that looks like ours (for ``cleanup`` and for tests)."""
    return {
        "netns": [n for n in list_netns() if n.startswith(NETNS_PREFIX)],
        "veth": list_veths(),
        "nft": list_nft_tables(NFT_TABLE_PREFIX),
    }


def run(
    argv: list[str], *, check: bool = True, capture: bool = False, input: str | None = None, quiet: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run a command of the harness (ip, nft, umount), logged at debug level; RuntimeError if it fails and ``check``.

    Output is always captured; ``capture=True`` marks the calls that read it. ``quiet`` keeps an expected
    failure out of the debug log.
    """
    log.debug("+ %s", " ".join(argv))
    proc = subprocess.run(argv, text=True, input=input, capture_output=True)
    if check and proc.returncode != 0:
        raise RuntimeError(f"command failed ({proc.returncode}): {' '.join(argv)}\n{proc.stderr.strip()}")
    if proc.returncode != 0 and not quiet:
        log.debug("command failed (%s): %s: %s", proc.returncode, " ".join(argv), proc.stderr.strip())
    return proc
