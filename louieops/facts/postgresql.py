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

        {"login": True, "verifier": "SCRAM-SHA-256$4096:c2FsdA==$storedkey:serverkey", "replication": False}
    """

    def requires_command(self, role: str) -> str:
        return "psql"

    def command(self, role: str) -> StringCommand:
        if not ROLE_NAME.fullmatch(role):
            raise ValueError(f"invalid PostgreSQL role name {role!r}")
        sql = (
            "SELECT rolcanlogin, coalesce(rolpassword, ''), rolreplication FROM pg_authid "
            f"WHERE rolname = {sql_literal(role)}"
        )
        return StringCommand("psql", "-X", "-At", "-F", "'|'", "-c", QuoteString(sql))

    @staticmethod
    def default() -> dict:
        return {}

    def process(self, output: list[str]) -> dict:
        return parse_role_auth(output)


def parse_role_auth(lines: list[str]) -> dict:
    """``["t|SCRAM-SHA-256$...|f"]`` -> ``{"login": True, "verifier": "SCRAM-SHA-256$...", "replication": False}``
    (a row without the replication column leaves that key out)."""
    rows = [line for line in lines if line.strip()]
    if not rows:
        return {}
    parts = rows[0].strip().split("|")
    if len(parts) not in (2, 3) or parts[0] not in ("t", "f"):
        raise FactProcessError(f"unexpected pg_authid row: {rows[0][:20]!r}")
    auth = {"login": parts[0] == "t", "verifier": parts[1].strip() or None}
    if len(parts) == 3:
        auth["replication"] = parts[2] == "t"
    return auth


class PostgresClusterState(FactBase[dict]):
    """
    Whether the local PostgreSQL is a standby, and its databases; empty dict when PostgreSQL is not installed
    or not running. Runs psql as the ``postgres`` OS user itself (``runuser``: read it as root, ``_sudo=True``),
    only when that user exists, so it can be read while planning a bare server.

    .. code:: python

        {"in_recovery": False, "databases": ["postgres", "simplylouie"]}
    """

    def requires_command(self) -> str:
        return "psql"

    def command(self) -> StringCommand:
        sql = "SELECT 'recovery=' || pg_is_in_recovery() UNION ALL SELECT 'database=' || datname FROM pg_database"
        return StringCommand(
            "! id -u postgres >/dev/null 2>&1 ||",
            "runuser -u postgres -- psql -X -At -c",
            QuoteString(sql),
            "2>/dev/null || true",
        )

    @staticmethod
    def default() -> dict:
        return {}

    def process(self, output: list[str]) -> dict:
        return parse_cluster_state(output)


def parse_cluster_state(lines: list[str]) -> dict:
    """``["recovery=false", "database=postgres"]`` -> ``{"in_recovery": False, "databases": ["postgres"]}``."""
    state: dict = {}
    for line in (line.strip() for line in lines):
        key, sep, value = line.partition("=")
        if not sep:
            continue
        if key == "recovery":
            state["in_recovery"] = value == "true"
        elif key == "database":
            state.setdefault("databases", []).append(value)
    if state:
        state["databases"] = sorted(state.get("databases", []))
    return state


class PostgresReplicationSlots(FactBase[dict]):
    """
    The physical replication slots of the local PostgreSQL and whether a standby streams from each; empty
    when PostgreSQL is not installed. Read as root (``_sudo=True``), like ``PostgresClusterState``.

    .. code:: python

        {"louieops_standby": {"active": True}}
    """

    def requires_command(self) -> str:
        return "psql"

    def command(self) -> StringCommand:
        sql = "SELECT slot_name || '|' || active FROM pg_replication_slots WHERE slot_type = 'physical'"
        return StringCommand(
            "! id -u postgres >/dev/null 2>&1 ||",
            "runuser -u postgres -- psql -X -At -c",
            QuoteString(sql),
        )

    @staticmethod
    def default() -> dict:
        return {}

    def process(self, output: list[str]) -> dict:
        slots = {}
        for line in (line.strip() for line in output):
            name, sep, active = line.partition("|")
            if sep:
                slots[name] = {"active": active == "true"}
        return slots


class PostgresClusters(FactBase[list]):
    """
    The local clusters Debian's pg_lsclusters lists, oldest version first; empty when PostgreSQL is not
    installed. What the deploy reads to find a major upgrade pending (an older cluster named "main" and no
    cluster of the release's version) or a downgrade it must refuse.

    .. code:: python

        [{"version": 15, "name": "main", "port": 5432, "online": True}]
    """

    def command(self) -> str:
        return "! command -v pg_lsclusters >/dev/null || pg_lsclusters --no-header 2>/dev/null || true"

    @staticmethod
    def default() -> list:
        return []

    def process(self, output: list[str]) -> list:
        return parse_clusters(output)


def parse_clusters(lines: list[str]) -> list[dict]:
    """pg_lsclusters' rows (Ver Cluster Port Status Owner Data-directory Log-file) -> dicts, by version."""
    clusters = []
    for line in lines:
        words = line.split()
        if len(words) < 4 or not words[0].isdigit() or not words[2].isdigit():
            continue
        clusters.append(
            {"version": int(words[0]), "name": words[1], "port": int(words[2]), "online": words[3].startswith("online")}
        )
    return sorted(clusters, key=lambda cluster: (cluster["version"], cluster["name"]))


class PostgresUpstreamVersion(FactBase):
    """
    The major version of the PostgreSQL at ``conninfo`` (a standby's primary), asked over a replication
    connection (``SHOW server_version_num``, which a walsender answers) as the ``postgres`` OS user with its
    .pgpass; None when it cannot be reached. Read as root (``_sudo=True``). Only a standby with an older cluster
    than its release's asks it: whether its primary is on the new version yet.

    .. code:: python

        17
    """

    def requires_command(self, conninfo: str) -> str:
        return "psql"

    def command(self, conninfo: str) -> StringCommand:
        return StringCommand(
            "! id -u postgres >/dev/null 2>&1 ||",
            "runuser -u postgres -- psql -X -At -w",
            QuoteString(f"{conninfo} replication=true connect_timeout=10"),
            "-c",
            QuoteString("SHOW server_version_num"),
            "2>/dev/null || true",
        )

    @staticmethod
    def default() -> None:
        return None

    def process(self, output: list[str]) -> int | None:
        return parse_server_version(output)


def parse_server_version(lines: list[str]) -> int | None:
    """``["170004"]`` -> 17 (server_version_num is major * 10000 + minor since PostgreSQL 10)."""
    numbers = [line.strip() for line in lines if line.strip().isdigit()]
    return int(numbers[-1]) // 10000 if numbers else None
