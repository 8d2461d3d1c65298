"""Where a deploy's time goes. With ``LOUIEOPS_PROFILE=<file>`` set, a deploy writes to <file> as JSON when
it ends: each operation's wall time per host (execution only), whether it changed anything and how many
commands it ran, every remote fact read with its time (from louieops/factcache.py), the remote command
counts, and when planning ended.
``make bench`` reads it.

Without the variable nothing is recorded.
"""

from __future__ import annotations

import atexit
import json
import os
import time
from pathlib import Path

from pyinfra.api.state import BaseStateCallback

from louieops import factcache

ENV = "LOUIEOPS_PROFILE"


class Profile(BaseStateCallback):
    """Operation timings of one run (a state callback handler)."""

    def __init__(self, state, path: Path) -> None:
        self.state, self.path = state, path
        self.started = time.monotonic()
        self.first_operation: float | None = None
        self.running: dict[tuple[str, str], float] = {}
        self.operations: list[dict] = []

    def operation_host_start(self, state, host, op_hash) -> None:
        now = time.monotonic()
        if self.first_operation is None:
            self.first_operation = now
        self.running[(host.name, op_hash)] = now

    def operation_host_success(self, state, host, op_hash, retry_count: int = 0) -> None:
        self._done(host, op_hash, failed=False)

    def operation_host_error(self, state, host, op_hash, retry_count: int = 0, max_retries: int = 0) -> None:
        self._done(host, op_hash, failed=True)

    def _done(self, host, op_hash, failed: bool) -> None:
        started = self.running.pop((host.name, op_hash), None)
        if started is None:
            return
        meta = self.state.get_op_meta(op_hash)
        name = ", ".join(sorted(meta.names)) if meta.names else op_hash
        self.operations.append(
            {
                "host": host,
                "op_hash": op_hash,
                "operation": name,
                "seconds": time.monotonic() - started,
                "failed": failed,
            }
        )

    def _commands(self, host, op_hash) -> int | None:
        """The commands the operation ran on the host (pyinfra keeps them on its private ``_commands`` only)."""
        try:
            commands = self.state.ops[host][op_hash].operation_meta._commands
        except Exception:  # noqa: BLE001 - not complete (the run stopped): unknown
            return None
        return None if commands is None else len(commands)

    def _changed(self, host, op_hash) -> bool | None:
        """Whether the operation changed the host (known once it is complete, so read at the end)."""
        try:
            return self.state.ops[host][op_hash].operation_meta.did_change()
        except Exception:  # noqa: BLE001 - not complete (the run stopped): unknown
            return None

    def write(self) -> None:
        caches = factcache.stats(self.state)
        report = {
            "planning_seconds": (self.first_operation or time.monotonic()) - self.started,
            "operations": [
                {
                    "host": op["host"].name,
                    "operation": op["operation"],
                    "seconds": op["seconds"],
                    "failed": op["failed"],
                    "changed": self._changed(op["host"], op["op_hash"]),
                    "commands": self._commands(op["host"], op["op_hash"]),
                }
                for op in self.operations
            ],
            "fact_reads": [
                {"host": name, "fact": label, "seconds": seconds}
                for name, cache in caches.items()
                for label, seconds in cache.read_seconds
            ],
            "remote_commands": {name: cache.commands for name, cache in caches.items()},
        }
        self.path.write_text(json.dumps(report, indent=1) + "\n")


def install(state) -> Profile | None:
    """Record this run's timings if LOUIEOPS_PROFILE names a file (once per run)."""
    target = os.environ.get(ENV)
    if not target:
        return None
    existing = next((h for h in state.callback_handlers if isinstance(h, Profile)), None)
    if existing:
        return existing
    profile = Profile(state, Path(target))
    state.add_callback_handler(profile)
    atexit.register(profile.write)
    return profile
