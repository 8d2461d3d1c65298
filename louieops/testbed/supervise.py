"""Keep one test server's systemd-nspawn running across reboots.

A reboot inside the container makes systemd-nspawn exit with status 133; this supervisor starts it
again on the same root, like a machine coming back up. Any other exit (a poweroff is 0) ends the
supervisor with nspawn's status. On SIGTERM/SIGINT it powers the container off cleanly (SIGRTMIN+4 to
the container's PID 1) and waits for nspawn.

It writes ``{"nspawn": {"pid", "start"}, "boots": n}`` to the status file on every (re)start so the
controller can find nspawn, the container's PID 1, and notice reboots.

    python -m louieops.testbed.supervise STATUS_FILE -- systemd-nspawn ...
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from .procs import children, record

REBOOT_STATUS = 133
POWEROFF_SIGNAL = signal.SIGRTMIN + 4


def container_init(nspawn_pid: int) -> int | None:
    """PID (in our namespace) of the container's PID 1: the child of nspawn that is PID 1 inside."""
    for child in children(nspawn_pid):
        try:
            status = Path(f"/proc/{child}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("NSpid:"):
                ids = line.split()[1:]
                if len(ids) >= 2 and ids[-1] == "1":
                    return child
    return None


def poweroff(nspawn: subprocess.Popen[bytes], timeout: float = 60.0) -> int:
    init = container_init(nspawn.pid)
    if init is not None:
        try:
            os.kill(init, POWEROFF_SIGNAL)
        except ProcessLookupError:
            pass
    try:
        return nspawn.wait(timeout)
    except subprocess.TimeoutExpired:
        nspawn.kill()
        return nspawn.wait()


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    status_file, command = Path(argv[0]), argv[2:]
    stopping = False
    nspawn: subprocess.Popen[bytes] | None = None

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True
        if nspawn is not None and nspawn.poll() is None:
            poweroff(nspawn)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    boots = 0
    while True:
        boots += 1
        print(f"=== supervisor: boot {boots} {time.strftime('%H:%M:%S')}", flush=True)
        nspawn = subprocess.Popen(command, stdin=subprocess.DEVNULL)
        tmp = status_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"nspawn": record(nspawn.pid), "boots": boots}))
        os.replace(tmp, status_file)
        while True:
            try:
                rc = nspawn.wait()
                break
            except InterruptedError:
                continue
        print(f"=== supervisor: systemd-nspawn exited with {rc}", flush=True)
        if rc != REBOOT_STATUS or stopping:
            status_file.write_text(json.dumps({"nspawn": None, "boots": boots, "exit": rc}))
            return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
