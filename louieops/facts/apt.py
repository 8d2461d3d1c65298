"""apt facts: the security updates waiting to be installed."""

from __future__ import annotations

from pyinfra.api import FactBase


class PendingSecurityUpdates(FactBase[list]):
    """
    Packages with a newer version in a Debian security archive (from a simulated upgrade, as
    unattended-upgrade would install them; the package lists are those of the last apt-get update).

    .. code:: python

        ["libssl3", "openssl"]
    """

    def command(self) -> str:
        simulated = "apt-get -s -o Debug::NoLocking=true dist-upgrade 2>/dev/null"
        return f"{simulated} | grep '^Inst ' | grep -i -- '-security' || true"

    @staticmethod
    def default() -> list:
        return []

    def process(self, output: list[str]) -> list:
        return [line.split()[1] for line in output if line.startswith("Inst ") and len(line.split()) > 1]
