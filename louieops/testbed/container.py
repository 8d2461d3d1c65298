"""One instance's container: the systemd-nspawn command line, its supervisor (``supervise.py``), the status
file the supervisor writes, poweroff, and the container's layer of the shared apt download cache.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import procs
from .paths import APT_ARCHIVE_DIR, REPO_ROOT, netns_name
from .supervise import POWEROFF_SIGNAL, container_init

log = logging.getLogger(__name__)

#: In the instance directory: the supervisor's status file, and this instance's new apt downloads.
STATUS_FILE = "nspawn.json"
APT_UPPER_DIR = "apt-archives"
#: In the log directory.
LOG_FILE = "nspawn.log"


def nspawn_argv(name: str, release: str, root: Path, instance_dir: Path) -> list[str]:
    archives = APT_ARCHIVE_DIR / release
    archives.mkdir(parents=True, exist_ok=True)
    upper = instance_dir / APT_UPPER_DIR
    upper.mkdir(exist_ok=True)
    return [
        # The server's own network settings (/proc/sys/net: its own namespace) are writable, as on a real
        # host, so the deploy's net.* sysctls apply; the kernel's other settings stay the host's, read-only.
        "env",
        "SYSTEMD_NSPAWN_API_VFS_WRITABLE=network",
        "systemd-nspawn",
        "--quiet",
        "--directory",
        str(root),
        "--boot",
        "--register=no",
        "--keep-unit",
        f"--machine=lotb-{name}",
        f"--network-namespace-path=/run/netns/{netns_name(name)}",
        "--resolv-conf=off",
        # Keep the server's own /etc/localtime: nspawn would re-link it at every boot (a drift after reboot).
        "--timezone=off",
        "--link-journal=no",
        "--console=read-only",
        # The server's firewall (nftables) and fail2ban act on its own network namespace only.
        "--capability=CAP_NET_ADMIN",
        # Shared download cache: the pool is the lower layer, this instance writes to its own upper
        # layer (no cross-container apt lock contention); new .debs are merged back on teardown.
        f"--overlay={archives}:{upper}:/var/cache/apt/archives",
    ]


def start_supervisor(nspawn: list[str], instance_dir: Path, log_dir: Path) -> dict[str, int]:
    """Start the supervisor of ``nspawn`` (detached); return its process record."""
    (instance_dir / STATUS_FILE).unlink(missing_ok=True)
    argv = [sys.executable, "-m", "louieops.testbed.supervise", str(instance_dir / STATUS_FILE), "--", *nspawn]
    proc = procs.spawn(argv, log_dir / LOG_FILE, env={"PYTHONPATH": str(REPO_ROOT)}, cwd=REPO_ROOT)
    return procs.record(proc.pid)


def wait_started(instance_dir: Path, supervisor: Mapping[str, int]) -> None:
    """Wait until the supervisor has started systemd-nspawn (or has exited)."""
    status = instance_dir / STATUS_FILE
    procs.wait_for(
        lambda: status.exists() or not procs.alive(supervisor),
        30,
        "the supervisor to start systemd-nspawn",
        interval=0.02,
    )


def status(instance_dir: Path) -> dict[str, Any]:
    """What the supervisor last wrote: ``{"nspawn": record or None, "boots": n[, "exit": status]}``."""
    try:
        return json.loads((instance_dir / STATUS_FILE).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def pid1(instance_dir: Path) -> int | None:
    """PID (in our namespace) of the running container's PID 1."""
    rec = status(instance_dir).get("nspawn")
    if not procs.alive(rec):
        return None
    return container_init(rec["pid"])


def poweroff(name: str, instance_dir: Path, supervisor: Mapping[str, int] | None, timeout: float) -> None:
    """Clean shutdown: SIGRTMIN+4 to the container's PID 1, wait for systemd-nspawn (and supervisor)."""
    if not procs.alive(supervisor):
        return
    init = pid1(instance_dir)
    if init is not None:
        os.kill(init, POWEROFF_SIGNAL)
        try:
            procs.wait_for(lambda: not procs.alive(supervisor), timeout, "the container to power off", interval=0.1)
        except procs.WaitTimeout:
            log.warning("test server %r did not power off in %.0f s; killing it", name, timeout)
    if procs.alive(supervisor):
        procs.stop(supervisor, timeout=timeout)  # SIGTERM: the supervisor powers off again, then SIGKILL
    rec = status(instance_dir).get("nspawn")
    if procs.alive(rec):
        init = container_init(rec["pid"])
        if init:
            os.kill(init, signal.SIGKILL)
        procs.stop(rec, sig=signal.SIGKILL)


def merge_apt_archives(instance_dir: Path, release: str) -> None:
    """Move packages this instance downloaded into the shared pool (atomic renames, no overwrites)."""
    upper = instance_dir / APT_UPPER_DIR
    pool = APT_ARCHIVE_DIR / release
    if not upper.is_dir():
        return
    pool.mkdir(parents=True, exist_ok=True)
    for deb in upper.glob("*.deb"):
        target = pool / deb.name
        if not target.exists():
            tmp = pool / f".{deb.name}.{os.getpid()}.tmp"
            shutil.copyfile(deb, tmp)
            os.replace(tmp, target)
