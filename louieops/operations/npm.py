"""npm operations that report "no change" when nothing changes.

pyinfra's ``npm.packages(["pm2@7.0.4"])`` reports a change on every run; ``global_package`` reads the
installed version first and only installs when it differs.
"""

from __future__ import annotations

import re

from pyinfra import host
from pyinfra.api import OperationValueError, QuoteString, StringCommand, operation

from louieops.facts.npm import NpmGlobalPackageVersion

PACKAGE_NAME = re.compile(r"(@[a-z0-9][a-z0-9._-]*/)?[a-z0-9][a-z0-9._-]*")
VERSION = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.]+)?")


@operation()
def global_package(package: str, version: str):
    """
    Ensure exactly this version of an npm package is installed globally (``npm install -g``).

    + package: npm package name, e.g. ``pm2``
    + version: exact version, e.g. ``7.0.4`` (ranges are refused: they would not be reproducible)

    **Example:**

    .. code:: python

        npm.global_package(name="Install pm2 7.0.4 with npm", package="pm2", version="7.0.4")
    """
    if not PACKAGE_NAME.fullmatch(package):
        raise OperationValueError(f"invalid npm package name {package!r}")
    if not VERSION.fullmatch(version):
        raise OperationValueError(f"npm package {package}: {version!r} is not an exact version such as 1.2.3")

    installed = host.get_fact(NpmGlobalPackageVersion, package=package)
    if installed == version:
        host.noop(f"npm package {package} {version} is installed globally")
        return
    yield StringCommand(
        "npm",
        "install",
        "--global",
        "--no-audit",
        "--no-fund",
        "--no-update-notifier",
        QuoteString(f"{package}@{version}"),
    )
