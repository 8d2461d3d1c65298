"""PostgreSQL operations that stay idempotent with a password.

pyinfra's ``postgres.role(password=...)`` issues ``ALTER ROLE ... PASSWORD`` on every run. ``role``
here reads the stored SCRAM verifier from ``pg_authid`` and checks the wanted password against it on
the controller: a matching password is a no-op. When the password must be set, the controller
computes a SCRAM-SHA-256 verifier and sends that (PostgreSQL stores a pre-hashed verifier as is), so
the plaintext never reaches the server, its logs or ``pg_stat_activity``.

The SQL carrying the verifier never appears on a command line (``ps``, sudo's journal entries and
the log shipping would see it): it is uploaded over SFTP into a 0600 file owned by ``postgres`` and
run with ``psql -f``, the file being removed in the same shell whatever psql's exit status.

Run as the ``postgres`` OS user: ``_sudo=True, _sudo_user="postgres"``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from io import StringIO

from pyinfra import host
from pyinfra.api import FileUploadCommand, OperationValueError, QuoteString, StringCommand, operation

from louieops.facts.postgresql import ROLE_NAME, PostgresReplicationSlots, PostgresRoleAuth, sql_literal

SCRAM_ITERATIONS = 4096  # PostgreSQL's default scram_iterations
POSTGRES_HOME = "/var/lib/postgresql"  # home of Debian's postgres user, writable by it only


def _scram_keys(password: str, salt: bytes, iterations: int) -> tuple[bytes, bytes]:
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    return stored_key, server_key


def scram_verifier(password: str, salt: bytes | None = None, iterations: int = SCRAM_ITERATIONS) -> str:
    """The verifier PostgreSQL stores for ``password``: ``SCRAM-SHA-256$iter:salt$StoredKey:ServerKey``.

    Passwords are used as UTF-8 bytes without SASLprep, which equals PostgreSQL's result for ASCII
    passwords (the generated ones are)."""
    salt = os.urandom(16) if salt is None else salt
    stored_key, server_key = _scram_keys(password, salt, iterations)
    b64 = lambda data: base64.b64encode(data).decode("ascii")  # noqa: E731
    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def verifier_matches(verifier: str | None, password: str) -> bool:
    """True when ``verifier`` (as stored in pg_authid) was made from ``password``."""
    if not verifier or not verifier.startswith("SCRAM-SHA-256$"):
        return False  # no password, or an md5 hash: set a SCRAM one
    try:
        head, keys = verifier[len("SCRAM-SHA-256$") :].split("$", 1)
        iterations_text, salt_b64 = head.split(":", 1)
        stored_b64, server_b64 = keys.split(":", 1)
        salt = base64.b64decode(salt_b64, validate=True)
        stored_key, server_key = _scram_keys(password, salt, int(iterations_text))
    except ValueError:
        return False
    return hmac.compare_digest(base64.b64encode(stored_key).decode(), stored_b64) and hmac.compare_digest(
        base64.b64encode(server_key).decode(), server_b64
    )


def role_sql(role: str, verifier: str, exists: bool, replication: bool = False) -> str:
    """CREATE or ALTER statement giving ``role`` LOGIN (and REPLICATION) and the pre-hashed password."""
    verb = "ALTER" if exists else "CREATE"
    attributes = "LOGIN REPLICATION" if replication else "LOGIN"
    return f'{verb} ROLE "{role}" WITH {attributes} PASSWORD {sql_literal(verifier)}'


@operation()
def role(role: str, password: str, replication: bool = False):
    """
    Ensure a PostgreSQL login role exists with this password (SCRAM-SHA-256), without touching it
    when the stored verifier already matches.

    + role: role name (lower-case letters, digits, ``_``, ``-``)
    + password: the wanted password (a secret: never printed, never sent to the server in clear)
    + replication: the role may stream WAL (a standby logs in with it)

    **Example:**

    .. code:: python

        postgresql.role(
            name="Ensure PostgreSQL role simplylouie",
            role="simplylouie",
            password=secrets.require("LOUIE_DB_PASSWORD"),
            _sudo=True,
            _sudo_user="postgres",
        )
    """
    if not ROLE_NAME.fullmatch(role):
        raise OperationValueError(f"invalid PostgreSQL role name {role!r}")
    if not password:
        raise OperationValueError(f"empty password for PostgreSQL role {role}")

    current = host.get_fact(PostgresRoleAuth, role=role)
    same_replication = current.get("replication", False) == replication if current else False
    if current and current["login"] and same_replication and verifier_matches(current["verifier"], password):
        host.noop(f"postgresql role {role} exists with the wanted password")
        return

    sql = role_sql(role, scram_verifier(password), exists=bool(current), replication=replication)
    yield from sql_file_commands(
        sql,
        f"{POSTGRES_HOME}/.louieops-role-{role}.sql",
        host.get_temp_filename(f"louieops-role-{role}-{os.urandom(16).hex()}"),
    )


def sql_file_commands(sql: str, dest: str, temp: str) -> list:
    """Run ``sql`` with psql (as the operation's user, ``postgres``) without it ever being an argument.

    1. the SSH user creates its upload file ``temp`` with mode 0600 (an SFTP upload into an existing
       file keeps its mode; a new one would get the SFTP server's umask, usually 0644);
    2. postgres creates ``dest`` with mode 0600;
    3. the SQL is uploaded into ``temp`` and copied by root into ``dest`` (an existing file keeps its
       owner and mode); as root rather than postgres so pyinfra needs no ``setfacl`` for the handover;
    4. psql runs ``dest``, which is removed whatever psql's exit status, and that status is kept.
    """
    quoted_dest = QuoteString(dest)
    return [
        StringCommand("install", "-m", "0600", "/dev/null", QuoteString(temp), _sudo=False),
        StringCommand("install", "-m", "0600", "/dev/null", quoted_dest),
        FileUploadCommand(StringIO(sql), dest, remote_temp_filename=temp, _sudo_user=None),
        StringCommand(
            "psql",
            "-X",
            "-v",
            "ON_ERROR_STOP=1",
            "-q",
            "-f",
            quoted_dest,
            ";",
            "rc=$?;",
            "rm",
            "-f",
            quoted_dest,
            ";",
            "exit",
            "$rc",
        ),
    ]


@operation()
def replication_slots(slots: list[str], prefix: str):
    """
    Ensure exactly these physical replication slots among the ones named ``prefix``*: create the missing ones,
    drop the others that no standby streams from (a slot nobody reads keeps WAL forever and fills the disk).
    Slots of other names are never touched.

    + slots: the wanted slot names (each starting with ``prefix``)
    + prefix: the names this deploy manages

    **Example:**

    .. code:: python

        postgresql.replication_slots(
            name="Keep the replication slot of the standby",
            slots=["louieops_standby"],
            prefix="louieops_",
            _sudo=True,
            _sudo_user="postgres",
        )
    """
    for slot in slots:
        if not slot.startswith(prefix) or not re.fullmatch(r"[a-z0-9_]{1,63}", slot):
            raise OperationValueError(f"invalid replication slot name {slot!r} (expected {prefix}[a-z0-9_]*)")
    current = host.get_fact(PostgresReplicationSlots, _sudo=True, _sudo_user=None)
    missing = [slot for slot in slots if slot not in current]
    stale = [name for name, slot in sorted(current.items()) if name.startswith(prefix) and name not in slots]
    busy = [name for name in stale if current[name]["active"]]
    stale = [name for name in stale if name not in busy]
    if not missing and not stale:
        host.noop(
            f"replication slots {', '.join(slots) or '(none)'} exist" + (f"; {busy} still streaming" if busy else "")
        )
        return
    statements = [f"SELECT pg_create_physical_replication_slot({sql_literal(s)}, true)" for s in missing]
    statements += [f"SELECT pg_drop_replication_slot({sql_literal(s)})" for s in stale]
    for statement in statements:
        yield StringCommand("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", QuoteString(statement))
