"""The idempotent PostgreSQL role: SCRAM verifiers, the pg_authid fact and the operation's decisions."""

from __future__ import annotations

import base64

import pytest
from pyinfra.api import OperationValueError
from pyinfra.api.exceptions import FactProcessError

from louieops.facts.postgresql import PostgresRoleAuth, parse_role_auth, sql_literal
from louieops.operations import postgresql as op
from tasks.postgresql import memory_settings

# Made by PostgreSQL 15 itself: CREATE ROLE louieops_vector PASSWORD 'pencil'; SELECT rolpassword ...
PG15_VERIFIER_OF_PENCIL = (
    "SCRAM-SHA-256$4096:i247n1tVPQQuISR5jOaYyA==$ayCLAim8Z0HroIAVX/dsFfVfLP2y1kzmqRFmrm2B8+E="
    ":HJdqT2BuYniz+1bN3xfiOR4D3cRQPA13GrGNI/CwIss="
)


class FakeHost:
    def __init__(self, facts):
        self.facts, self.noops = facts, []

    def get_fact(self, cls, **kwargs):
        return self.facts[cls]

    def noop(self, text):
        self.noops.append(text)


def run(monkeypatch, fact, **kwargs):
    fake = FakeHost({PostgresRoleAuth: fact})
    monkeypatch.setattr(op, "host", fake)
    commands = [c.get_raw_value() for c in op.role._inner(**kwargs)]
    return commands, fake.noops


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
    commands, noops = run(monkeypatch, {"login": True, "verifier": PG15_VERIFIER_OF_PENCIL},
                          role="louie", password="pencil")
    assert commands == [] and noops == ["postgresql role louie exists with the wanted password"]


def test_missing_role_is_created_with_a_verifier_not_the_plaintext(monkeypatch):
    commands, _ = run(monkeypatch, {}, role="louie", password="pencil")
    assert len(commands) == 1
    assert 'CREATE ROLE "louie" WITH LOGIN PASSWORD' in commands[0] and "SCRAM-SHA-256$4096:" in commands[0]
    assert "pencil" not in commands[0]


@pytest.mark.parametrize("fact", [
    {"login": True, "verifier": op.scram_verifier("old")},
    {"login": False, "verifier": PG15_VERIFIER_OF_PENCIL},
    {"login": True, "verifier": None},
])
def test_role_with_another_password_or_no_login_is_altered(monkeypatch, fact):
    commands, _ = run(monkeypatch, fact, role="louie", password="pencil")
    assert len(commands) == 1 and 'ALTER ROLE "louie" WITH LOGIN PASSWORD' in commands[0]


def test_the_command_is_masked_in_output(monkeypatch):
    fake = FakeHost({PostgresRoleAuth: {}})
    monkeypatch.setattr(op, "host", fake)
    (command,) = list(op.role._inner(role="louie", password="pencil"))
    assert "SCRAM" not in command.get_masked_value()


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


@pytest.mark.parametrize("ram_mb, ratio, expected", [
    (4096, 0.25, {"shared_buffers": "1024MB", "effective_cache_size": "3072MB", "work_mem": "16MB"}),
    (4096, 0.5, {"shared_buffers": "2048MB", "effective_cache_size": "3072MB", "work_mem": "16MB"}),
    (64, 0.25, {"shared_buffers": "32MB", "effective_cache_size": "48MB", "work_mem": "16MB"}),
])
def test_memory_settings_follow_the_hosts_ram(ram_mb, ratio, expected):
    assert memory_settings(ram_mb, ratio, 16) == expected
