"""Find and remove every testbed leftover on this machine (all instances, all checkouts)."""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
from pathlib import Path

from . import network, procs
from .paths import IP_FORWARD_SAVE, SLOTS_DIR, STATE_DIR, TRASH_DIR

log = logging.getLogger(__name__)

#: Command-line fragments that identify processes started by the testbed.
_MARKERS = ("louieops.testbed.supervise", "louieops.testbed.recorder", str(STATE_DIR) + "/")


def stray_processes(name: str | None = None, peer_address: str | None = None) -> list[int]:
    """PIDs of testbed processes (supervisors, nspawn on our roots, peers); of one instance if ``name``.

    For one instance, a process is its own when its command line names the instance directory or
    its peer address (moto's only trace of the instance is ``-H <peer address>``).
    """
    if name is None:
        markers = _MARKERS
        address = re.compile(r"(?<![\d.])10\.231\.\d{1,3}\.1(?![\d])")
    else:
        markers = (f"{STATE_DIR}/{name}/", f"{STATE_DIR}/{name} ")
        address = re.compile(rf"(?<![\d.]){re.escape(peer_address)}(?![\d])") if peer_address else None
    found: set[int] = set()
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        pid = int(entry.name)
        argv = procs.cmdline(pid)
        if not argv:
            continue
        text = " ".join(argv) + " "
        ours = any(m in text for m in markers)
        if not ours and address is not None and address.search(text):
            prog = " ".join(argv[:3])
            ours = any(p in prog for p in ("pebble", "moto.server", "louieops.testbed", "tests.standins"))
        if ours and procs.proc_start_time(pid) is not None:
            found.add(pid)
    return sorted(found)


def stray_mounts() -> list[str]:
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4]
        if point.startswith(str(STATE_DIR) + "/") or point.startswith("/run/netns/" + network.NETNS_PREFIX):
            points.append(point)
    return points


def leftovers() -> dict[str, list[str]]:
    """Everything testbed-made that exists right now (empty lists: the machine is clean)."""
    found = network.leftovers()
    found["processes"] = [str(p) for p in stray_processes()]
    found["mounts"] = stray_mounts()
    found["instances"] = (
        [p.name for p in STATE_DIR.glob("*") if p.is_dir() and not p.name.startswith(".")] if STATE_DIR.is_dir() else []
    )
    return found


def cleanup_all() -> dict[str, list[str]]:
    """Tear down every instance, then sweep anything left; return what the sweep had to remove."""
    from .server import Testbed, list_instances

    for name in list_instances():
        try:
            Testbed(name).down()
        except Exception as exc:  # sweep below handles what down() could not
            log.warning("down %s: %s", name, exc)
    swept = leftovers()
    for pid in stray_processes():
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for ns in network.list_netns():
        if ns.startswith(network.NETNS_PREFIX):
            network._run(["ip", "netns", "del", ns], check=False)
    for link in network.list_veths():
        network._run(["ip", "link", "del", link], check=False, quiet=True)
    for table in network.list_nft_tables(network.NFT_TABLE_PREFIX):
        network._run(["nft", "delete", "table", "ip", table], check=False)
    for point in sorted(stray_mounts(), key=len, reverse=True):
        network._run(["umount", "--lazy", point], check=False)
    if STATE_DIR.is_dir():
        for entry in STATE_DIR.iterdir():
            if entry.is_dir() and not entry.name.startswith(".") and not stray_mounts():
                shutil.rmtree(entry, ignore_errors=True)
    if not stray_mounts():
        shutil.rmtree(TRASH_DIR, ignore_errors=True)
    with network.locked():
        shutil.rmtree(SLOTS_DIR, ignore_errors=True)
        if IP_FORWARD_SAVE.exists():
            network._restore_ip_forward()
    return {k: v for k, v in swept.items() if v}
