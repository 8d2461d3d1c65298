"""PostgreSQL facts that pyinfra's own postgres facts do not give: a role's stored password verifier.

Run these as the ``postgres`` OS user (``_sudo=True, _sudo_user="postgres"`` on the operation that
reads them): ``pg_authid`` is readable by superusers only.
"""

from __future__ import annotations

import re

from pyinfra.api import FactBase, QuoteString, StringCommand
from pyinfra.api.exceptions import FactProcessError

ROLE_NAME = re.compile(r"[a-z_][a-z0-9_-]{0,62}")


def sql_literal(value: str) -> str:
    """A SQL string literal ('it''s')."""
    return "'" + value.replace("'", "''") + "'"


class PostgresRoleAuth(FactBase[dict]):
    """
    Login flag and stored password verifier of one role; empty dict when the role does not exist
    (or PostgreSQL is not installed yet).

    .. code:: python

        {"login": True, "verifier": "SCRAM-SHA-256$4096:c2FsdA==$storedkey:serverkey"}
    """

    def requires_command(self, role: str) -> str:
        return "psql"

    def command(self, role: str) -> StringCommand:
        if not ROLE_NAME.fullmatch(role):
            raise ValueError(f"invalid PostgreSQL role name {role!r}")
        sql = f"SELECT rolcanlogin, coalesce(rolpassword, '') FROM pg_authid WHERE rolname = {sql_literal(role)}"
        return StringCommand("psql", "-X", "-At", "-F", "'|'", "-c", QuoteString(sql))

    @staticmethod
    def default() -> dict:
        return {}

    def process(self, output: list[str]) -> dict:
        return parse_role_auth(output)


def parse_role_auth(lines: list[str]) -> dict:
    """``["t|SCRAM-SHA-256$..."]`` -> ``{"login": True, "verifier": "SCRAM-SHA-256$..."}``."""
    rows = [line for line in lines if line.strip()]
    if not rows:
        return {}
    login, sep, verifier = rows[0].partition("|")
    if not sep or login not in ("t", "f"):
        raise FactProcessError(f"unexpected pg_authid row: {rows[0][:20]!r}")
    return {"login": login == "t", "verifier": verifier.strip() or None}
