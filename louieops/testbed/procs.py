"""Daemonized child processes (the container supervisor and the peers) and their PID records.

Processes are started in their own session with stdin from /dev/null and output to a log file, so they
outlive the CLI that started them (``up`` returns while the demo keeps running). Each is recorded as
``{"pid": ..., "start": ...}``: the start time from ``/proc/<pid>/stat`` guards against signalling a
recycled PID.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path


class WaitTimeout(RuntimeError):
    """A polled condition did not become true in time."""


def proc_start_time(pid: int) -> int | None:
    """Start time of ``pid`` in clock ticks since boot, or None if it does not exist (or is a zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # gone (ENOENT, or ESRCH while it exits)
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def record(pid: int) -> dict[str, int]:
    return {"pid": pid, "start": proc_start_time(pid) or 0}


def alive(rec: Mapping[str, int] | None) -> bool:
    if not rec:
        return False
    start = proc_start_time(rec["pid"])
    return start is not None and start == rec["start"]


def spawn(
    argv: Sequence[str],
    log_path: Path,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``argv`` detached in a new session, appending stdout and stderr to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    with open(log_path, "ab") as logf:
        logf.write(f"=== {time.strftime('%Y-%m-%dT%H:%M:%S')} start: {' '.join(argv)}\n".encode())
        logf.flush()
        return subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=logf,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
            env=full_env,
            cwd=cwd,
        )


def log_excerpt(path: Path, lines: int = 30) -> str:
    """A process log's path and its last lines, for an error message."""
    try:
        tail = "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        tail = "(no log)"
    return f"{path}:\n{tail}"


def stop(rec: Mapping[str, int] | None, *, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
    """Signal a recorded process, wait for it to go, SIGKILL after ``timeout``."""
    if not alive(rec):
        return
    assert rec is not None
    pid = rec["pid"]
    with _suppress_lookup():
        os.kill(pid, sig)
    try:
        wait_for(lambda: not alive(rec), timeout, f"process {pid} to exit", interval=0.05)
    except WaitTimeout:
        with _suppress_lookup():
            os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not alive(rec), 5, f"process {pid} to die after SIGKILL", interval=0.05)
    _reap(pid)


def _reap(pid: int) -> None:
    """Collect the exit status if ``pid`` happens to be our child (avoids zombies in long pytest runs)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


class _suppress_lookup:
    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: object, exc: object, tb: object) -> bool:
        return exc_type is ProcessLookupError


def children(pid: int) -> list[int]:
    """Direct children of ``pid``."""
    result = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            result += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return result


def cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")[:-1]
    except OSError:  # gone (ENOENT, or ESRCH while it exits)
        return []


def wait_for(predicate: Callable[[], object], timeout: float, what: str, *, interval: float = 0.1) -> object:
    """Poll ``predicate`` until it returns something truthy; raise WaitTimeout naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def tcp_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
