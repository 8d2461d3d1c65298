"""The local test server ("testbed"): a booted Debian in systemd-nspawn with its own network namespace,
and the controller-side peers it talks to (pebble ACME + DNS, moto S3, a webhook recorder).

    from louieops.testbed import Testbed

    with Testbed(name="e2e") as tb:
        tb.ssh("systemctl is-system-running --wait", check=False)

CLI: ``python -m louieops.testbed up|down|status|ssh|cleanup`` (see ``--help``).
"""

from .peers import DEFAULT_DOMAINS, PeerSpec
from .server import AlreadyRunning, Recorder, Testbed, TestbedError

__all__ = ["DEFAULT_DOMAINS", "AlreadyRunning", "PeerSpec", "Recorder", "Testbed", "TestbedError"]
