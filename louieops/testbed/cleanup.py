"""Find and remove testbed leftovers: one instance's pieces when it is torn down (``Testbed.down`` calls
these helpers in order), and everything testbed-made on this machine (all instances, all checkouts).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

from . import inventory, network, procs, ssh
from .errors import TestbedError
from .paths import IP_FORWARD_SAVE, SLOTS_DIR, STATE_DIR, TRASH_DIR
from .state import list_instances

log = logging.getLogger(__name__)

#: What ``up`` writes into an instance's work directory.
WORKDIR_FILES = (
    inventory.INVENTORY_FILE,
    inventory.ENV_FILE,
    inventory.GROUP_DATA_DIR,
    ssh.KEY_FILE,
    ssh.KEY_FILE + ".pub",
    ssh.KNOWN_HOSTS_FILE,
)

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
    found["instances"] = list_instances()
    return found


def sweep() -> dict[str, list[str]]:
    """Remove every leftover (after each instance's ``down``); return what there was to remove."""
    swept = leftovers()
    _kill(stray_processes())
    for ns in network.list_netns():
        if ns.startswith(network.NETNS_PREFIX):
            network.run(["ip", "netns", "del", ns], check=False)
    for link in network.list_veths():
        network.run(["ip", "link", "del", link], check=False, quiet=True)
    for table in network.list_nft_tables(network.NFT_TABLE_PREFIX):
        network.run(["nft", "delete", "table", "ip", table], check=False)
    for point in sorted(stray_mounts(), key=len, reverse=True):
        network.run(["umount", "--lazy", point], check=False)
    if STATE_DIR.is_dir():
        for entry in STATE_DIR.iterdir():
            if entry.is_dir() and not entry.name.startswith(".") and not stray_mounts():
                shutil.rmtree(entry, ignore_errors=True)
    if not stray_mounts():
        shutil.rmtree(TRASH_DIR, ignore_errors=True)
    with network.locked():
        shutil.rmtree(SLOTS_DIR, ignore_errors=True)
        if IP_FORWARD_SAVE.exists():
            network.restore_ip_forward()
    return {k: v for k, v in swept.items() if v}


# ----- one instance, in the order of Testbed.down ------------------------------------------------------


def kill_netns_processes(ns: str) -> None:
    """SIGKILL whatever still runs in the network namespace ``ns``."""
    if ns not in network.list_netns():
        return
    out = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout
    _kill(int(p) for p in out.split())


def kill_strays(name: str, slot: int | None) -> None:
    """SIGKILL processes of instance ``name`` that its state does not record (e.g. state.json lost)."""
    peer = network.slot_addresses(slot)[0] if slot is not None else None
    for pid in stray_processes(name, peer):
        log.warning("killing stray process %s of %r: %s", pid, name, " ".join(procs.cmdline(pid)))
        _kill([pid])


def keep_logs(log_dir: Path, dest: Path) -> None:
    """Copy an instance's logs to ``dest`` (``.testbed/<name>/logs``) so they survive the teardown."""
    if log_dir.is_dir():
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(log_dir, dest)


def mounts_under(path: Path) -> list[str]:
    """Mount points at or below ``path`` in our mount namespace."""
    prefix = str(path.resolve()) if path.exists() else str(path)
    result = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point == prefix or point.startswith(prefix + "/"):
            result.append(point)
    return result


def remove_tree(path: Path) -> None:
    """rm -rf, but never across a mount point (that would delete the mounted file system's content)."""
    if not path.exists():
        return
    for point in sorted(mounts_under(path), key=len, reverse=True):
        subprocess.run(["umount", "--lazy", point], check=False)
    remaining = mounts_under(path)
    if remaining:
        raise TestbedError(f"refusing to delete {path}: still mounted: {', '.join(remaining)}")
    # Deleting a root file system takes ~5 s here: move it aside (instant, same file system) and let a
    # detached, low-priority rm(1) finish the job. rm never crosses mounts (--one-file-system).
    TRASH_DIR.mkdir(parents=True, exist_ok=True)
    trash = TRASH_DIR / f"{path.name}-{os.getpid()}-{time.monotonic_ns()}"
    os.rename(path, trash)
    subprocess.Popen(
        ["nice", "-n", "19", "ionice", "-c", "2", "-n", "7", "rm", "-rf", "--one-file-system", "--", str(trash)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def remove_workdir_files(workdir: Path) -> None:
    """Remove what ``up`` wrote into the instance's work directory; its logs stay for inspection."""
    for leftover in WORKDIR_FILES:
        path = workdir / leftover
        if path.is_symlink() or path.exists():
            path.unlink()


def _kill(pids: Iterable[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
