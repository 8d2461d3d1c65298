"""Each task asks its facts about the right objects: planned against a fake host whose facts are keyed by
their arguments (tests/unit/planning.py), so a task asking about the wrong path, role or unit fails here."""

from __future__ import annotations

import pytest
from pyinfra.facts.server import LinuxDistribution

from louieops.facts.backup import PostgresRoleMemberOf
from louieops.facts.npm import NpmGlobalPackageVersion
from louieops.facts.postgresql import PostgresRoleAuth
from louieops.facts.system import CertbotCertificate, MemTotalMb, ResolvedPath
from tasks import app, backups, base, certbot, postgresql
from tests.unit.helpers import UnregisteredFact, fact_key
from tests.unit.planning import plan

SECRETS = {
    "LOUIE_DB_PASSWORD": "pencil",
    "LOUIE_ADMIN_TOKEN": "token",
    "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "secret",
}


@pytest.fixture(autouse=True)
def secrets(monkeypatch):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)


def test_backups_grant_the_read_role_to_the_backup_user_only_while_it_is_missing():
    role = fact_key(PostgresRoleMemberOf, {"role": "backup-runner"})
    missing = plan(backups.install_backups, {role: []}, backup_s3_bucket=None)
    assert "Grant pg_read_all_data to PostgreSQL role backup-runner" in missing.operations
    granted = plan(backups.install_backups, {role: ["pg_read_all_data"]}, backup_s3_bucket=None)
    assert not any(name.startswith("Grant ") for name in granted.operations)


def test_a_fact_asked_about_another_object_fails_the_test():
    with pytest.raises(UnregisteredFact, match="PostgresRoleMemberOf"):
        plan(backups.install_backups, {fact_key(PostgresRoleMemberOf, {"role": "someone-else"}): []})


def test_the_runtime_asks_npm_about_the_pinned_pm2():
    planned = plan(app.provision_runtime, {fact_key(NpmGlobalPackageVersion, {"package": "pm2"}): "6.0.0"})
    assert planned.commands["Install pm2 7.0.4 with npm"] == [
        "npm install --global --no-audit --no-fund --no-update-notifier pm2@7.0.4"
    ]


def test_postgresql_checks_the_app_roles_password_and_sizes_memory_from_the_host():
    planned = plan(
        postgresql.provision_postgresql,
        {
            fact_key(PostgresRoleAuth, {"role": "simplylouie"}): {},  # no such role yet
            fact_key(MemTotalMb, {}): 2048,
            fact_key(LinuxDistribution, {}): {"name": "Debian", "major": 12},
        },
    )
    assert "Ensure PostgreSQL role simplylouie with its password" in planned.operations


def test_the_time_zone_link_compares_where_both_paths_lead():
    def planned(localtime: str):
        return plan(
            base.provision_base,
            {
                fact_key(ResolvedPath, {"path": "/etc/localtime"}): localtime,
                fact_key(ResolvedPath, {"path": "/usr/share/zoneinfo/UTC"}): "/usr/share/zoneinfo/Etc/UTC",
            },
        ).operations

    assert "Link /etc/localtime to the UTC zone" not in planned("/usr/share/zoneinfo/Etc/UTC")
    assert "Link /etc/localtime to the UTC zone" in planned("/usr/share/zoneinfo/Europe/Berlin")


def test_the_certificate_is_issued_only_when_the_lineage_under_the_app_name_differs():
    names = sorted(["simplylouie.com", "api.simplylouie.com", "louiesystem.com", "ws.simplylouie.com"])
    key = fact_key(CertbotCertificate, {"cert_name": "simplylouie"})

    def issues(current: dict) -> bool:
        planned = plan(certbot.provision_certificates, {key: current}, certbot_acme_server="https://acme.test/dir")
        return any(name.startswith("Issue the certificate simplylouie") for name in planned.operations)

    assert not issues({"domains": names, "server": "https://acme.test/dir"})
    assert issues({"domains": names[:3], "server": "https://acme.test/dir"})
    assert issues({})
