"""Facts for the backups step.

``PostgresRoleMemberOf`` runs psql as the ``postgres`` OS user itself (``runuser``, so read it as root:
``_sudo=True``), and only when that user exists: the backups step reads it while planning, before
PostgreSQL is installed on a fresh server, where ``_sudo_user="postgres"`` would fail.
"""

from __future__ import annotations

import json
import re

from pyinfra.api import FactBase, QuoteString, StringCommand

ROLE_NAME = re.compile(r"[a-z_][a-z0-9_-]{0,62}")


class PostgresRoleMemberOf(FactBase[list]):
    """
    Roles that ``role`` is a direct member of, sorted; empty when the role does not exist (or
    PostgreSQL is not installed yet).

    .. code:: python

        ["pg_read_all_data"]
    """

    def requires_command(self, role: str) -> str:
        return "psql"

    def command(self, role: str) -> StringCommand:
        if not ROLE_NAME.fullmatch(role):
            raise ValueError(f"invalid PostgreSQL role name {role!r}")
        sql = (
            "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
            f"JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = '{role}' ORDER BY 1"
        )
        return StringCommand(
            "! id -u postgres >/dev/null 2>&1 ||",
            "runuser -u postgres -- psql -X -At -c",
            QuoteString(sql),
        )

    @staticmethod
    def default() -> list:
        return []

    def process(self, output: list[str]) -> list:
        return sorted(line.strip() for line in output if line.strip())


class PitrStanzaStatus(FactBase[dict]):
    """
    What pgBackRest's ``info`` says of ``stanza``: its status code (0 ok, 1 missing stanza path, 2 no valid
    backup, ...) and the number of backups; ``{"code": None, ...}`` when pgBackRest or its configuration is
    not there yet. Read as root (``_sudo=True``): it runs pgBackRest as postgres, who alone reads the
    configuration.

    .. code:: python

        {"code": 0, "backups": 1, "message": "ok"}
    """

    def command(self, stanza: str, config: str) -> StringCommand:
        return StringCommand(
            "! test -f",
            QuoteString(config),
            "|| ! command -v pgbackrest >/dev/null ||",
            "runuser -u postgres -- pgbackrest --output=json --stanza=" + stanza,
            "--config",
            QuoteString(config),
            "info 2>/dev/null || true",
        )

    @staticmethod
    def default() -> dict:
        return {"code": None, "backups": 0, "message": "not configured"}

    def process(self, output: list[str]) -> dict:
        try:
            [stanza] = json.loads("\n".join(output))
        except ValueError:
            return self.default()
        status = stanza.get("status") or {}
        return {
            "code": status.get("code"),
            "backups": len(stanza.get("backup") or []),
            "message": status.get("message"),
        }
