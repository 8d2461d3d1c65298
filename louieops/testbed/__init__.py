"""The local test server ("testbed"): a booted Debian in systemd-nspawn with its own network namespace,
and the controller-side peers it talks to (pebble ACME + DNS, moto S3, a webhook recorder).

    from louieops.testbed import Testbed

    with Testbed(name="e2e") as tb:
        tb.ssh("systemctl is-system-running --wait", check=False)

CLI: ``python -m louieops.testbed up|down|status|ssh|cleanup`` (see ``--help``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .errors import AlreadyRunning, TestbedError
    from .peers import DEFAULT_DOMAINS, PeerSpec
    from .recorder import Recorder
    from .server import Testbed

__all__ = ["DEFAULT_DOMAINS", "AlreadyRunning", "PeerSpec", "Recorder", "Testbed", "TestbedError"]

# Imported on first use: the supervisor and the recorder peer run as `python -m louieops.testbed.<module>`,
# which imports this package first; importing them here would make runpy warn and run them twice.
_HOMES = {
    "DEFAULT_DOMAINS": "peers",
    "PeerSpec": "peers",
    "AlreadyRunning": "errors",
    "TestbedError": "errors",
    "Recorder": "recorder",
    "Testbed": "server",
}


def __getattr__(name: str) -> object:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
