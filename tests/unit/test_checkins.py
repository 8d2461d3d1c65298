"""Which jobs check in to Sentry Crons, under which slug, through which wrapper, and where (the DSN)."""

from __future__ import annotations

import pytest

from louieops import checkins, server_scripts
from tests.unit.helpers import default_settings


@pytest.mark.parametrize(
    "dsn, url, key",
    [
        ("https://abc123@o42.ingest.sentry.io/4501", "https://o42.ingest.sentry.io/api/4501/cron/", "abc123"),
        ("http://k:secret@127.0.0.1:9400/sentry/7", "http://127.0.0.1:9400/sentry/api/7/cron/", "k"),
    ],
)
def test_the_check_in_url_comes_from_the_dsn(dsn, url, key):
    assert checkins.ingest_url(dsn) == (url, key)


@pytest.mark.parametrize("dsn", ["https://o42.ingest.sentry.io/4501", "ftp://k@host/1", "https://k@host/project"])
def test_a_malformed_dsn_names_sentry_dsn(dsn):
    with pytest.raises(ValueError, match="SENTRY_DSN is not a Sentry DSN"):
        checkins.ingest_url(dsn)


def test_each_job_checks_in_under_its_own_slug_and_schedule():
    settings = default_settings()
    config = server_scripts.checkin_config(settings, None)
    assert (config["url"], config["key"], config["environment"]) == (None, None, "production")
    assert sorted(config["monitors"]) == sorted(settings.sentry_cron_jobs)
    health = config["monitors"]["health-check"]
    assert health["slug"] == "simplylouie-health-check"
    assert health["monitor_config"] == {
        "schedule": {"type": "crontab", "value": "*/5 * * * *"},
        "checkin_margin": 5,
        "max_runtime": 120,
        "timezone": "UTC",
    }
    assert set(checkins.schedules(settings)) == set(settings.sentry_cron_jobs)  # every job can check in


def test_only_listed_jobs_run_through_the_wrapper():
    settings = default_settings().replace(sentry_cron_jobs=["health-check"])
    assert checkins.wrapped(settings, "health-check") == "/opt/scripts/cron-checkin health-check -- "
    assert checkins.wrapped(settings, "backup-db") == ""


def test_one_server_keeps_one_monitor_per_job_under_the_slug_it_always_had():
    from louieops.topology import from_groups
    from tasks import saas

    settings = default_settings()
    single = from_groups([("203.0.113.7", None)], {})
    assert checkins.monitors(settings, single) == [(job, None) for job in settings.sentry_cron_jobs]
    specs = saas.sentry_cron_monitors(settings, single)
    assert [spec.slug for spec in specs] == [f"simplylouie-{job}" for job in settings.sentry_cron_jobs]
    assert server_scripts.checkin_config(settings, None)["monitors"]["backup-db"]["slug"] == "simplylouie-backup-db"
