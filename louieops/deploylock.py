"""One deploy at a time per server: a lock held on the server for as long as a deploy executes.

When a deploy starts executing on a host (not while it plans: ``--dry`` takes no lock), it opens one more
SSH channel and runs, as root, a small holder: ``flock`` on /run/lock/louieops-deploy.lock, then it waits
for heartbeats on its stdin. The deploy sends one every third of ``deploy_lock_stale_seconds``; it closes the
channel when it is done. The lock goes away with the holder:

- the deploy ends, or is killed: its SSH connection closes, the holder sees the end of its input and exits;
- the deploy hangs or its network is cut: no heartbeat for ``deploy_lock_stale_seconds``, the holder exits.

A second deploy waits up to ``deploy_lock_wait_seconds`` (saying that it waits, and for whom), then fails
with one line naming who holds the lock and since when (/run/lock/louieops-deploy.owner).
"""

from __future__ import annotations

import getpass
import logging
import os
import shlex
import socket
import threading
import time

from pyinfra.api.exceptions import PyinfraError
from pyinfra.api.state import BaseStateCallback

LOCK_FILE = "/run/lock/louieops-deploy.lock"
OWNER_FILE = "/run/lock/louieops-deploy.owner"
log = logging.getLogger("pyinfra")


class DeployLocked(PyinfraError):
    """Another deploy holds the server's lock (the message names who, and since when)."""


def holder_command(owner: str, wait_seconds: int, stale_seconds: int) -> str:
    """The holder, run with sudo: BUSY <owner> while it waits, TIMEOUT <owner> when it gives up, LOCKED once it
    holds the lock; then it keeps it while heartbeats arrive."""
    script = (
        f"exec 9>>{LOCK_FILE}; "
        "if ! flock -n 9; then "
        f'echo "BUSY $(cat {OWNER_FILE} 2>/dev/null)"; '
        f'flock -w {int(wait_seconds)} 9 || {{ echo "TIMEOUT $(cat {OWNER_FILE} 2>/dev/null)"; exit 3; }}; '
        "fi; "
        f"printf '%s\\n' {shlex.quote(owner)} > {OWNER_FILE}; "
        "echo LOCKED; "
        f"while read -r -t {int(stale_seconds)} beat; do :; done"
    )
    return f"sudo -n bash -c {shlex.quote(script)}"  # bash: dash's read has no timeout


def owner_line() -> str:
    """Who this deploy is, for the message another deploy shows: user@machine, pid, start, CI run if any."""
    ci = os.environ.get("GITHUB_RUN_ID") or os.environ.get("CI_JOB_ID")
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return (
        f"{getpass.getuser()}@{socket.gethostname()} pid {os.getpid()}"
        + (f" (CI run {ci})" if ci else "")
        + (f" since {since}")
    )


class Held:
    """The lock on one host: the holder's channel and the heartbeat that keeps it."""

    def __init__(self, channel, stdin, interval: float):
        self.channel, self.stdin, self.interval = channel, stdin, interval
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._beat, daemon=True)
        self.thread.start()

    def _beat(self) -> None:
        while not self.done.wait(self.interval):
            try:
                self.stdin.write("beat\n")
                self.stdin.flush()
            except OSError:
                return

    def release(self) -> None:
        self.done.set()
        try:
            self.stdin.close()
            self.channel.shutdown_write()
            self.channel.close()
        except OSError:
            pass


class DeployLock(BaseStateCallback):
    """Takes the lock of every host before the first operation executes (a deploy that cannot have them all
    changes nothing); gives each back when its host disconnects."""

    def __init__(self, wait_seconds: dict, stale_seconds: dict):
        self.wait_seconds, self.stale_seconds = wait_seconds, stale_seconds  # by host name (settings may differ)
        self.held: dict[str, Held] = {}
        self.started = False

    def operation_start(self, state, op_hash) -> None:
        if self.started:
            return
        self.started = True
        for host in state.inventory.get_active_hosts():
            self.held[host.name] = self.acquire(host)

    def host_disconnect(self, state, host) -> None:
        held = self.held.pop(host.name, None)
        if held:
            held.release()

    def acquire(self, host) -> Held:
        wait, stale = self.wait_seconds[host.name], self.stale_seconds[host.name]
        client = host.connector.client  # pyinfra's SSH connection to the host
        stdin, stdout, _ = client.exec_command(holder_command(owner_line(), wait, stale))
        for line in stdout:
            word, _, owner = line.strip().partition(" ")
            if word == "LOCKED":
                return Held(stdout.channel, stdin, stale / 3)
            if word == "BUSY":
                log.warning(f"[{host.name}] waiting up to {wait} s for the deploy lock, held by {owner or 'unknown'}")
            if word == "TIMEOUT":
                break
        raise DeployLocked(
            f"{host.name}: another deploy holds the deploy lock ({owner or 'holder unknown'}); waited {wait} s "
            f"(deploy_lock_wait_seconds). Run again when it has finished."
        )


def install(state, settings_by_host: dict) -> DeployLock:
    """Register the lock with pyinfra's state (once per run) for the hosts and their settings."""
    for handler in state.callback_handlers:
        if isinstance(handler, DeployLock):
            lock = handler
            break
    else:
        lock = DeployLock({}, {})
        state.add_callback_handler(lock)
    for name, settings in settings_by_host.items():
        lock.wait_seconds[name] = settings.deploy_lock_wait_seconds
        lock.stale_seconds[name] = settings.deploy_lock_stale_seconds
    return lock
