"""Which PostgreSQL major version a host runs: Debian's own, by release (the PostgreSQL and point-in-time
recovery steps both need it: package names, the cluster's paths and unit)."""

from __future__ import annotations

from pyinfra import host
from pyinfra.api.exceptions import PyinfraError
from pyinfra.facts.server import LinuxDistribution

#: Debian release -> the PostgreSQL major version it ships.
DEBIAN_POSTGRESQL = {12: 15, 13: 17}


def postgresql_version() -> int:
    distro = host.get_fact(LinuxDistribution)
    version = DEBIAN_POSTGRESQL.get(distro.get("major")) if distro.get("name") == "Debian" else None
    if version is None:
        raise PyinfraError(
            f"no known PostgreSQL version for {distro.get('name')} {distro.get('major')}: "
            f"supported are Debian {', '.join(map(str, DEBIAN_POSTGRESQL))}"
        )
    return version
