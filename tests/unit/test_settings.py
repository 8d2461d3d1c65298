"""The settings schema: defaults validate, and each kind of bad input stops with one line naming it."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

from louieops.settings import SettingsError, validate

GROUP_DATA = Path(__file__).resolve().parents[2] / "inventory" / "group_data"


def load_defaults() -> dict:
    data = runpy.run_path(str(GROUP_DATA / "all.py"))
    return {key: value for key, value in data.items() if not key.startswith("__")}


def error_for(**overrides) -> SettingsError:
    data = load_defaults()
    data.update(overrides)
    with pytest.raises(SettingsError) as info:
        validate(data)
    return info.value


def test_defaults_validate():
    settings = validate(load_defaults())
    assert settings.app_name == "simplylouie"
    assert settings.domain_api == "api.simplylouie.com"


def test_every_group_file_validates_on_top_of_the_defaults():
    for path in sorted(GROUP_DATA.glob("*.py")):
        data = load_defaults()
        data.update({k: v for k, v in runpy.run_path(str(path)).items() if not k.startswith("__")})
        validate(data)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("backup_db_schedule", "61 */6 * * *", "61 is outside 0-59"),
        ("backup_db_schedule", "every 6 hours", "5-field cron schedule"),
        ("app_port", "3000", "an integer >= 1024 and <= 65535"),
        ("app_port", 80, "an integer >= 1024"),
        ("domain_api", "API.Example.com", "lower-case DNS name"),
        ("app_root", "var/www", "absolute path"),
        ("app_root", "/var/www/../etc", "absolute path"),
        ("nodejs_source", "snap", "one of 'debian', 'nodesource'"),
        ("certbot_enabled", "yes", "true or false"),
        ("certbot_email", "not-an-email", "e-mail address"),
        ("remote_syslog2_sha256", "abc", "sha256 checksum"),
        ("alert_sms_to", "0151 1234", "E.164"),
    ],
)
def test_bad_value_names_key_value_and_expectation(key, value, expected):
    error = error_for(**{key: value})
    message = str(error)
    assert message.startswith(f"setting {key} = {value!r} is invalid: expected ")
    assert expected in message
    assert "\n" not in message


def test_nested_value_error_names_the_path_inside_the_setting():
    routes = load_defaults()["alert_routes"]
    routes["P2"] = {**routes["P2"], "email": "yes"}
    error = error_for(alert_routes=routes)
    assert error.key == "alert_routes['P2'].email"
    assert "true or false" in str(error)


def test_unknown_key_inside_a_record_is_rejected():
    retention = {"db": 30, "uploads": 90, "logz": 90}
    error = error_for(backup_s3_retention_days=retention)
    assert "no unknown key 'logz'" in str(error)


def test_unknown_setting_is_rejected_with_a_suggestion():
    error = error_for(backup_db_schedul="0 * * * *")
    assert error.key == "backup_db_schedul"
    assert "did you mean backup_db_schedule?" in str(error)


def test_missing_setting_is_reported():
    data = load_defaults()
    del data["domain_admin"]
    with pytest.raises(SettingsError) as info:
        validate(data)
    assert info.value.key == "domain_admin"


def test_pyinfra_and_harness_keys_are_not_settings():
    data = load_defaults()
    data.update({"ssh_user": "deploy", "_sudo": True, "testbed_peer_address": "10.231.0.1"})
    validate(data)


def test_warning_beyond_critical_is_rejected():
    thresholds = load_defaults()["kpi_thresholds"]
    thresholds["memory_pct"] = {"target": 70, "warning": 97, "critical": 95}
    error = error_for(kpi_thresholds=thresholds)
    assert error.key == "kpi_thresholds['memory_pct'].warning"
    assert "below the critical level 95" in str(error)


def test_lower_is_worse_kpis_compare_the_other_way():
    thresholds = load_defaults()["kpi_thresholds"]
    thresholds["cert_expiry_days"] = {"target": 30, "warning": 5, "critical": 7}
    error = error_for(kpi_thresholds=thresholds)
    assert "above the critical level 7" in str(error)


def test_alert_route_to_an_undeclared_channel_is_rejected():
    routes = load_defaults()["alert_routes"]
    routes["P3"] = {"slack": ["alerts-random"], "email": False, "sms": False}
    error = error_for(alert_routes=routes)
    assert error.key == "alert_routes['P3'].slack"
    assert "alerts-critical" in str(error)


def test_settings_are_read_only():
    settings = validate(load_defaults())
    with pytest.raises(TypeError):
        settings["app_name"] = "other"  # type: ignore[index]


def test_readme_settings_and_secrets_match_all_py_and_secrets_py():
    from louieops.settings.docs import README, updated_readme

    current = README.read_text()
    assert updated_readme(current) == current, (
        "docs/settings.md is stale: run `.venv/bin/python -m louieops.settings.docs --write`"
    )


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        ("*/0 * * * *", "a step of 0 never runs"),
        ("5-1 * * * *", "the range 5-1 runs backwards"),
        ("0 0 31 2 *", "runs less than twice"),
    ],
)
def test_cron_schedules_that_never_run_properly_are_rejected(schedule, expected):
    error = error_for(health_schedule=schedule)
    assert error.key == "health_schedule" and expected in str(error)


def test_unknown_timezone_is_rejected():
    error = error_for(base_timezone="Europe/Berln")
    assert error.key == "base_timezone" and "tz database name" in str(error)


def test_database_names_that_restore_db_cannot_rename_are_rejected():
    assert "max 31" in str(error_for(postgresql_database="simply-louie"))
    assert "max 31" in str(error_for(postgresql_database="a" * 32))
