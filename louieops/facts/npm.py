"""npm facts: the version of one globally installed package (pyinfra's NpmPackages lists them all)."""

from __future__ import annotations

import json

from pyinfra.api import FactBase, QuoteString, StringCommand
from pyinfra.api.exceptions import FactProcessError


class NpmGlobalPackageVersion(FactBase[str | None]):
    """
    Version of a package installed with ``npm install -g``; None when it is not installed (or npm
    itself is missing).

    .. code:: python

        "7.0.4"
    """

    def requires_command(self, package: str) -> str:
        return "npm"

    def command(self, package: str) -> StringCommand:
        # `npm ls` exits 1 when the package is missing; the JSON is still printed.
        return StringCommand("npm", "ls", "--global", "--depth=0", "--json", QuoteString(package), "|| true")

    @staticmethod
    def default() -> None:
        return None

    def process(self, output: list[str]) -> str | None:
        # `npm ls PACKAGE` lists only that package, so the one entry is it.
        return parse_npm_ls_version(output)


def parse_npm_ls_version(lines: list[str], package: str | None = None) -> str | None:
    """Version of ``package`` (or of the only listed package) in ``npm ls --json`` output."""
    try:
        data = json.loads("\n".join(lines) or "{}")
    except ValueError as exc:
        raise FactProcessError(f"npm ls printed no JSON: {exc}") from exc
    dependencies = data.get("dependencies") or {}
    if package is None:
        if len(dependencies) != 1:
            return None
        package = next(iter(dependencies))
    return (dependencies.get(package) or {}).get("version")
