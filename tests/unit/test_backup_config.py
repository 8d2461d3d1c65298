"""What the backups step writes to the server: the cron file, the scripts' config, the S3 credentials
file, and the PostgreSQL fact it reads (rendered and parsed here without a server)."""

from __future__ import annotations

import shlex

import jinja2
import pytest

from louieops import checkins, layout
from louieops.facts.backup import PostgresRoleMemberOf
from louieops.resources import TEMPLATES
from tasks import backups
from tests.unit.helpers import default_settings


@pytest.fixture
def settings():
    return default_settings()


def render(relative: str, **data) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), undefined=jinja2.StrictUndefined)
    return env.get_template(relative).render(managed="Managed by louieops (test)", **data)


def cron_jobs(settings) -> list[str]:
    text = render(
        "backup/louieops-backup.j2",
        backup_user=settings.backup_user,
        scripts_dir=settings.scripts_dir,
        schedules=backups.schedules(settings),
        checkin=checkins.wrappers(settings),
    )
    return [line for line in text.splitlines() if line and not line.startswith("#") and "=" not in line]


def test_cron_file_runs_each_job_as_its_user_with_its_schedule(settings):
    slow = "nice -n 10 ionice -c2 -n7 /opt/scripts"
    log = "2>&1 | logger -t louie-backup"
    assert cron_jobs(settings.replace(sentry_cron_jobs=[])) == [
        f"0 */6 * * * backup-runner {slow}/backup-db {log}",
        f"30 3 * * * backup-runner {slow}/backup-files uploads {log}",
        f"45 4 * * 0 backup-runner {slow}/backup-files logs {log}",
        f"15 7 * * * backup-runner /opt/scripts/backup-verify {log}",
        f"0 5 1 * * root nice -n 10 /opt/scripts/restore-drill {log}",
    ]


def test_each_job_of_sentry_cron_jobs_runs_through_the_check_in_wrapper(settings):
    wrapper = "/opt/scripts/cron-checkin"
    jobs = cron_jobs(settings.replace(sentry_cron_jobs=["backup-db", "restore-drill"]))
    assert jobs[0].startswith(f"0 */6 * * * backup-runner {wrapper} backup-db -- nice -n 10 ")
    assert jobs[4].startswith(f"0 5 1 * * root {wrapper} restore-drill -- nice -n 10 ")
    assert [wrapper in line for line in jobs] == [True, False, False, False, True]


def test_scripts_config_is_plain_key_value_without_secrets(settings, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-in-the-config")
    text = render("backup/backup.conf.j2", **backups.conf_variables(settings))
    pairs = dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    assert pairs["BACKUP_STATUS_DIR"] == layout.BACKUP_STATUS_DIR  # backup-lib.sh has no default of its own
    assert pairs["S3_ENDPOINT_URL"] == ""  # None: AWS
    assert pairs["DB_MAX_AGE_MINUTES"] == str(6 * 60 + backups.MAX_AGE_MARGIN_MINUTES)
    assert pairs["LOCAL_RETENTION_DAYS"] == "7"
    assert "not-in-the-config" not in text
    assert all(" " not in value and "'" not in value for value in pairs.values())


def test_credentials_file_is_in_aws_format(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s3cr3t")
    assert backups.credentials_file_content() == (
        "[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = s3cr3t\n"
    )


def test_credentials_with_a_line_break_are_refused(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIA\n[evil]")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s3cr3t")
    with pytest.raises(ValueError, match="line break"):
        backups.credentials_file_content()


def test_role_membership_fact_quotes_the_role_and_parses_rows():
    fact = PostgresRoleMemberOf()
    argv = shlex.split(fact.command(role="backup-runner").get_raw_value())
    assert argv[:6] == ["!", "id", "-u", "postgres", ">/dev/null", "2>&1"]
    assert argv[6:-1] == ["||", "runuser", "-u", "postgres", "--", "psql", "-X", "-At", "-c"]
    assert argv[-1].endswith("WHERE r.rolname = 'backup-runner' ORDER BY 1")
    assert fact.process(["pg_read_all_data", "", "pg_monitor"]) == ["pg_monitor", "pg_read_all_data"]
    assert fact.process([]) == []


@pytest.mark.parametrize("role", ["x'; DROP ROLE postgres; --", "Upper", ""])
def test_role_membership_fact_refuses_odd_role_names(role):
    with pytest.raises(ValueError):
        PostgresRoleMemberOf().command(role=role)
