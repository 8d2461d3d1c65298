"""Bad UptimeRobot/Sentry settings stop the run before any request, naming the setting."""

from __future__ import annotations

import copy

import pytest

from louieops.settings import SettingsError
from louieops.settings.sections.uptimerobot import window_recurrence
from tests.standins.fixtures import SLACK, _defaults, project_settings

CONTACTS = _defaults()["uptimerobot_alert_contacts"]
WINDOW = _defaults()["uptimerobot_maintenance_windows"][0]


def monitors(**changes_by_index):
    items = copy.deepcopy(_defaults()["uptimerobot_monitors"])
    for index, changes in changes_by_index.items():
        items[int(index[1:])].update(changes)
    return items


def test_the_defaults_validate_with_and_without_slack():
    assert len(project_settings().uptimerobot_monitors) == 4
    assert project_settings(**SLACK).sentry_slack_integration_id == "24680"


@pytest.mark.parametrize(
    "overrides, key, expected",
    [
        (
            {"uptimerobot_monitors": monitors(m0={"alert_contacts": ["email", "pager"]})},
            "uptimerobot_monitors[0].alert_contacts",
            "a key of uptimerobot_alert_contacts",
        ),
        ({"uptimerobot_monitors": monitors(m2={"type": "https"})}, "uptimerobot_monitors[2].type", "one of"),
        (
            {"uptimerobot_monitors": monitors(m3={"url": "wss://ws.simplylouie.com:443"})},
            "uptimerobot_monitors[3].url",
            "a host name without scheme",
        ),
        (
            {"uptimerobot_monitors": monitors(m0={"url": "simplylouie.com"})},
            "uptimerobot_monitors[0].url",
            "http:// or https://",
        ),
        ({"uptimerobot_monitors": monitors(m0={"port": 443})}, "uptimerobot_monitors[0].port", "no key 'port'"),
        ({"uptimerobot_monitors": monitors(m0={"interval": 10})}, "uptimerobot_monitors[0].interval", ">= 30"),
        (
            {"uptimerobot_monitors": monitors(m1={"name": "Admin Dashboard"})},
            "uptimerobot_monitors[2].name",
            "a name used once",
        ),
        (
            {"uptimerobot_monitors": monitors(m0={"url": "https://{domain_nowhere}"})},
            "uptimerobot_monitors[0].url",
            "placeholders naming string settings",
        ),
        (
            {"uptimerobot_alert_contacts": {"email": {"type": "email"}, "slack": {"type": "slack", "name": "x"}}},
            "uptimerobot_alert_contacts['email']",
            "a name or a value",
        ),
        (
            {
                "kpi_thresholds": {
                    **_defaults()["kpi_thresholds"],
                    "api_p99_ms": {"target": 1000, "warning": 6000, "critical": 5000},
                }
            },
            "kpi_thresholds['api_p99_ms'].warning",
            "below the critical level",
        ),
        (
            {
                "kpi_thresholds": {
                    **_defaults()["kpi_thresholds"],
                    "api_p50_ms": {"target": 200, "warning": None, "critical": 1000},
                }
            },
            "kpi_thresholds['api_p50_ms']",
            "warning and critical levels",
        ),
        (
            {"sentry_metric_monitors": [{**_defaults()["sentry_metric_monitors"][0], "kpi": "api_p90_ms"}]},
            "sentry_metric_monitors[0].kpi",
            "a KPI of kpi_thresholds",
        ),
        (
            {"sentry_issue_alerts": [{"name": "x", "trigger": "spike", "frequency_minutes": 5, "tier": "P1"}]},
            "sentry_issue_alerts[0]",
            "'events' and 'interval'",
        ),
        (
            {"sentry_issue_alerts": [{"name": "x", "trigger": "new_issue", "frequency_minutes": 7, "tier": "P1"}]},
            "sentry_issue_alerts[0].frequency_minutes",
            "one of 0, 5",
        ),
        (
            {"sentry_issue_alerts": [{"name": "x", "trigger": "new_issue", "frequency_minutes": 5, "tier": "P3"}]},
            "sentry_issue_alerts[0].tier",
            "a tier whose alert_routes entry Sentry can notify",
        ),
        (
            {"sentry_slack_integration_id": "24680", "sentry_slack_channel_ids": {"alerts-critical": "C0CRIT001"}},
            "sentry_slack_channel_ids",
            "a Slack channel id for 'alerts-high'",
        ),
        (
            {"uptimerobot_alert_contacts": {**CONTACTS, "slack": {"type": "slack", "name": "ops-room"}}},
            "uptimerobot_alert_contacts['slack'].channel",
            "a channel of alert_slack_webhooks",
        ),
        (
            {"uptimerobot_alert_contacts": {**CONTACTS, "email": {"type": "email", "value": "a@b.c", "channel": "x"}}},
            "uptimerobot_alert_contacts['email'].channel",
            "no key 'channel' on a email contact",
        ),
        (
            {"uptimerobot_maintenance_windows": [{**WINDOW, "schedule": "0 5 * 1 *"}]},
            "uptimerobot_maintenance_windows[0].schedule",
            "the month field must be *",
        ),
        (
            {"uptimerobot_maintenance_windows": [{**WINDOW, "schedule": "*/30 5 * * *"}]},
            "uptimerobot_maintenance_windows[0].schedule",
            "a fixed minute and hour",
        ),
        (
            {"uptimerobot_maintenance_windows": [{**WINDOW, "schedule": "0 5 1 * 0"}]},
            "uptimerobot_maintenance_windows[0].schedule",
            "not both",
        ),
        (
            {"uptimerobot_maintenance_windows": [{**WINDOW, "monitors": ["Nowhere"]}]},
            "uptimerobot_maintenance_windows[0].monitors",
            "the name of a monitor in uptimerobot_monitors",
        ),
        (
            {"uptimerobot_status_page": {"name": "{domain_nowhere} status"}},
            "uptimerobot_status_page.name",
            "placeholders naming string settings",
        ),
        ({"sentry_cron_jobs": ["backup-db", "backup-db"]}, "sentry_cron_jobs", "each job listed once"),
        ({"sentry_cron_jobs": ["deploy"]}, "sentry_cron_jobs[0]", "one of 'backup-db'"),
    ],
)
def test_a_bad_setting_names_itself(overrides, key, expected):
    with pytest.raises(SettingsError) as failed:
        project_settings(**overrides)
    assert failed.value.key == key
    assert expected in str(failed.value)


@pytest.mark.parametrize(
    "schedule, recurrence",
    [
        ("0 5 * * *", ("daily", ())),
        ("30 2 * * 0,6", ("weekly", (6, 7))),
        ("0 5 1,15 * *", ("monthly", (1, 15))),
    ],
)
def test_a_window_schedule_becomes_an_uptimerobot_recurrence(schedule, recurrence):
    assert window_recurrence(schedule) == recurrence
