"""The idempotent PostgreSQL role: SCRAM verifiers, the pg_authid fact and the operation's decisions."""

from __future__ import annotations

import base64

import pytest
from pyinfra.api import FileUploadCommand, OperationValueError, StringCommand
from pyinfra.api.exceptions import FactProcessError

from louieops.facts.postgresql import PostgresRoleAuth, parse_role_auth, sql_literal
from louieops.operations import postgresql as op
from tasks.postgresql import memory_settings
from tests.unit.helpers import FakeHost, fact_key

# Made by PostgreSQL 15 itself: CREATE ROLE louieops_vector PASSWORD 'pencil'; SELECT rolpassword ...
PG15_VERIFIER_OF_PENCIL = (
    "SCRAM-SHA-256$4096:i247n1tVPQQuISR5jOaYyA==$ayCLAim8Z0HroIAVX/dsFfVfLP2y1kzmqRFmrm2B8+E="
    ":HJdqT2BuYniz+1bN3xfiOR4D3cRQPA13GrGNI/CwIss="
)


def yielded(monkeypatch, fact, **kwargs):
    fake = FakeHost({fact_key(PostgresRoleAuth, {"role": kwargs["role"]}): fact})
    monkeypatch.setattr(op, "host", fake)
    return list(op.role._inner(**kwargs)), fake.noops


def run(monkeypatch, fact, **kwargs):
    """The shell commands (raw) and the SQL uploaded, in the order they run."""
    commands, noops = yielded(monkeypatch, fact, **kwargs)
    return [
        c.get_raw_value() if isinstance(c, StringCommand) else ("upload", c.src.getvalue(), c.dest) for c in commands
    ], noops


def uploaded_sql(commands) -> str:
    (sql,) = [c[1] for c in commands if isinstance(c, tuple)]
    return sql


def test_verifier_made_by_postgresql_matches_its_password_only():
    assert op.verifier_matches(PG15_VERIFIER_OF_PENCIL, "pencil")
    assert not op.verifier_matches(PG15_VERIFIER_OF_PENCIL, "pencil2")


def test_scram_verifier_reproduces_postgresqls_verifier_for_the_same_salt():
    salt = base64.b64decode("i247n1tVPQQuISR5jOaYyA==")
    assert op.scram_verifier("pencil", salt=salt) == PG15_VERIFIER_OF_PENCIL


def test_fresh_verifiers_use_a_new_salt_and_verify():
    first, second = op.scram_verifier("s3cret"), op.scram_verifier("s3cret")
    assert first != second
    assert op.verifier_matches(first, "s3cret") and op.verifier_matches(second, "s3cret")


@pytest.mark.parametrize("stored", [None, "", "md5abcdef", "SCRAM-SHA-256$garbage", "SCRAM-SHA-256$4096:!!$a:b"])
def test_missing_md5_or_malformed_verifiers_never_match(stored):
    assert not op.verifier_matches(stored, "pencil")


def test_role_with_matching_password_is_a_noop(monkeypatch):
    commands, noops = run(
        monkeypatch, {"login": True, "verifier": PG15_VERIFIER_OF_PENCIL}, role="louie", password="pencil"
    )
    assert commands == [] and noops == ["postgresql role louie exists with the wanted password"]


def test_missing_role_is_created_with_a_verifier_not_the_plaintext(monkeypatch):
    commands, _ = run(monkeypatch, {}, role="louie", password="pencil")
    sql = uploaded_sql(commands)
    assert sql.startswith('CREATE ROLE "louie" WITH LOGIN PASSWORD') and "SCRAM-SHA-256$4096:" in sql
    assert not any("pencil" in str(c) for c in commands)


@pytest.mark.parametrize(
    "fact",
    [
        {"login": True, "verifier": op.scram_verifier("old")},
        {"login": False, "verifier": PG15_VERIFIER_OF_PENCIL},
        {"login": True, "verifier": None},
    ],
)
def test_role_with_another_password_or_no_login_is_altered(monkeypatch, fact):
    commands, _ = run(monkeypatch, fact, role="louie", password="pencil")
    assert uploaded_sql(commands).startswith('ALTER ROLE "louie" WITH LOGIN PASSWORD')


def test_the_sql_goes_through_a_0600_file_removed_whatever_psqls_status(monkeypatch):
    commands, _ = yielded(monkeypatch, {}, role="louie", password="pencil")
    make_temp, make_dest, upload, psql = commands
    dest = "/var/lib/postgresql/.louieops-role-louie.sql"
    assert isinstance(upload, FileUploadCommand) and upload.dest == dest
    temp = upload.remote_temp_filename
    # the SSH user's upload file and postgres' copy exist with mode 0600 before any content arrives
    assert make_temp.get_raw_value() == f"install -m 0600 /dev/null {temp}"
    assert make_temp.connector_arguments == {"_sudo": False}
    assert make_dest.get_raw_value() == f"install -m 0600 /dev/null {dest}" and make_dest.connector_arguments == {}
    # root copies into the existing file (no setfacl handover to postgres needed)
    assert upload.connector_arguments == {"_sudo_user": None}
    assert psql.get_raw_value() == (f"psql -X -v ON_ERROR_STOP=1 -q -f {dest} ; rc=$?; rm -f {dest} ; exit $rc")


def test_each_run_uploads_through_a_fresh_unguessable_temp_file(monkeypatch):
    first, _ = yielded(monkeypatch, {}, role="louie", password="pencil")
    second, _ = yielded(monkeypatch, {}, role="louie", password="pencil")
    assert first[2].remote_temp_filename != second[2].remote_temp_filename


@pytest.mark.parametrize("fact", [{}, {"login": True, "verifier": op.scram_verifier("old")}])
def test_the_verifier_never_appears_in_any_command_line(monkeypatch, fact):
    commands, _ = yielded(monkeypatch, fact, role="louie", password="pencil")
    sql = next(c for c in commands if isinstance(c, FileUploadCommand)).src.getvalue()
    verifier = sql.split("'")[1]
    assert op.verifier_matches(verifier, "pencil")
    strings = [c for c in commands if isinstance(c, StringCommand)]
    assert len(strings) == len(commands) - 1
    for command in strings:
        for text in (command.get_raw_value(), command.get_masked_value(), repr(command)):
            assert "SCRAM" not in text and verifier not in text and "pencil" not in text
    assert "SCRAM" not in repr(commands)


@pytest.mark.parametrize("kwargs", [{"role": "Bad Name", "password": "x"}, {"role": "louie", "password": ""}])
def test_bad_arguments_are_refused_before_reading_facts(monkeypatch, kwargs):
    with pytest.raises(OperationValueError):
        run(monkeypatch, None, **kwargs)


def test_role_auth_fact_parses_psql_rows():
    assert parse_role_auth([]) == {}
    assert parse_role_auth(["t|SCRAM-SHA-256$x"]) == {"login": True, "verifier": "SCRAM-SHA-256$x"}
    assert parse_role_auth(["f|"]) == {"login": False, "verifier": None}
    with pytest.raises(FactProcessError):
        parse_role_auth(["something else"])


def test_role_auth_fact_quotes_the_role_and_refuses_odd_names():
    command = PostgresRoleAuth().command(role="louie").get_raw_value()
    assert "rolname = " in command and "louie" in command
    assert sql_literal("it's") == "'it''s'"
    with pytest.raises(ValueError):
        PostgresRoleAuth().command(role="x'; DROP TABLE y; --")


@pytest.mark.parametrize(
    "ram_mb, ratio, expected",
    [
        (4096, 0.25, {"shared_buffers": "1024MB", "effective_cache_size": "3072MB", "work_mem": "16MB"}),
        (4096, 0.5, {"shared_buffers": "2048MB", "effective_cache_size": "3072MB", "work_mem": "16MB"}),
        (64, 0.25, {"shared_buffers": "32MB", "effective_cache_size": "48MB", "work_mem": "16MB"}),
    ],
)
def test_memory_settings_follow_the_hosts_ram(ram_mb, ratio, expected):
    assert memory_settings(ram_mb, ratio, 16) == expected
