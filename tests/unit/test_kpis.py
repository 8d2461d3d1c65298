"""The KPIs the health check measures (files/scripts/louieops_kpis.py and health-check): nginx's log format and
its parser agree, latency and error rate over the last check interval, CPU from /proc/stat deltas, the
database probe's time; every KPI of the one table has a warning and a critical level that can fire."""

from __future__ import annotations

import json
import re
import time

import jinja2
import pytest

from louieops import server_scripts
from louieops.resources import file, template
from louieops.settings import SettingsError, defaults, validate
from louieops.settings.sections.kpis import HEALTH_CHECKS, UP_DOWN_CHECKS
from tests.unit.helpers import default_settings, load_script

API = "api.simplylouie.com"
PROBE = "louieops-probe"
CONFIG = server_scripts.health_config(default_settings())


@pytest.fixture(scope="module")
def kpis():
    return load_script(file("scripts/louieops_kpis.py"), "louieops_kpis")


@pytest.fixture(scope="module")
def health():
    return load_script(file("scripts/health-check"), "health_check_kpis")


def log_format() -> str:
    """The "louieops" log_format of the rendered nginx.conf, as one string."""
    text = jinja2.Template(open(template("nginx/nginx.conf.j2")).read()).render(
        managed="x",
        nginx_client_max_body_size="10m",
        nginx_api_rate_limit="10r/s",
        access_log="/var/log/nginx/access.log",
        slow_request_seconds=2,
    )
    block = text.split("log_format louieops", 1)[1].split(";", 1)[0]
    return "".join(re.findall(r"'([^']*)'", block))


def access_line(host=API, seconds=0.1, status=200, when=None, agent="Mozilla/5.0 (X11)", upstream="200") -> str:
    """A line as nginx writes it in the deploy's format (its variables filled in)."""
    values = {
        "remote_addr": "203.0.113.9",
        "remote_user": "-",
        "time_local": "30/Nov/2026:19:00:00 +0000",
        "request": "GET /api/claude/status HTTP/1.1",
        "status": str(status),
        "body_bytes_sent": "64",
        "http_referer": "-",
        "http_user_agent": agent,
        "host": host,
        "msec": f"{time.time() if when is None else when:.3f}",
        "request_time": f"{seconds:.3f}",
        "upstream_status": upstream,
        "louieops_5xx": "http_5xx" if status >= 500 else "-",
        "louieops_slow": "slow_request" if seconds >= 2 else "-",
    }
    return re.sub(r"\$([a-z_0-9]+)", lambda m: values[m.group(1)], log_format())


def test_the_parser_reads_what_the_nginx_format_writes(kpis):
    line = access_line(seconds=2.5, status=502, upstream="502, 504")
    entry = kpis.parse_access(line)
    assert (entry["status"], entry["host"], entry["seconds"], entry["agent"]) == (502, API, 2.5, "Mozilla/5.0 (X11)")
    assert line.endswith(" http_5xx slow_request")  # the words the Papertrail searches find
    assert kpis.parse_access('127.0.0.1 - - [30/Nov/2026:19:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "curl"') is None


def test_the_nginx_map_calls_a_request_slow_from_api_p99_mss_warning_level_up():
    from tasks.nginx import slow_request_seconds

    assert slow_request_seconds(default_settings()) == 2  # 2000 ms
    thresholds = {**default_settings().kpi_thresholds, "api_p99_ms": {"target": 1, "warning": 2500, "critical": 5000}}
    assert slow_request_seconds(default_settings(kpi_thresholds=thresholds)) == 3


def test_tail_since_reads_back_only_as_far_as_the_window(kpis, tmp_path):
    now = time.time()
    log = tmp_path / "access.log"
    old = [access_line(when=now - 3600 + i) for i in range(3000)]  # about 1 MB older than the window
    new = [access_line(when=now - 60 + i, seconds=0.2) for i in range(30)]
    log.write_text("\n".join(["legacy line without the format", *old, *new]) + "\n")
    lines = kpis.tail_since(str(log), now - 300)
    assert lines == new


def test_api_stats_take_percentiles_and_the_5xx_share_of_the_apis_own_traffic(kpis):
    lines = [access_line(seconds=s / 1000) for s in range(1, 101)]  # 1 ... 100 ms
    lines += [access_line(status=503, seconds=0.001), access_line(host="simplylouie.com", seconds=9)]
    lines += [access_line(agent=PROBE, seconds=9)]
    lines += [access_line(status=503, seconds=0.0, upstream="-")] * 50  # maintenance mode's page, planned
    stats = kpis.api_stats(lines, API, PROBE)
    assert stats == {"requests": 101, "p50_ms": 50, "p99_ms": 99, "error_rate_pct": 0.99}
    assert kpis.api_stats([], API, PROBE)["p50_ms"] is None


def test_cpu_is_the_busy_share_between_two_samples(kpis):
    earlier = kpis.cpu_sample("cpu  100 0 100 800 0 0 0 0 0 0")
    later = kpis.cpu_sample("cpu  250 0 200 850 50 0 0 0 0 0")  # +250 busy, +50 idle, +50 iowait
    assert earlier == (200, 1000) and kpis.cpu_pct(earlier, later) == 71.4
    assert kpis.cpu_pct(later, later) is None


def test_psql_timing_is_read_in_milliseconds(kpis):
    assert kpis.psql_millis("Timing is on.\n412\nTime: 0.731 ms\n") == 0.731
    assert kpis.psql_millis("412\nTime: 1234.567 ms (00:01.235)\n") == 1234.567
    with pytest.raises(ValueError, match="no timing"):
        kpis.psql_millis("412\n")


# --- the health check's probes -----------------------------------------------------------------------


def _traffic(tmp_path, lines, min_requests=20):
    log = tmp_path / "access.log"
    log.write_text("\n".join(lines) + "\n")
    return {**CONFIG, "traffic": {**CONFIG["traffic"], "access_log": str(log), "min_requests": min_requests}}


@pytest.mark.parametrize(
    "millis, status, levels",
    [
        (100, 200, {"api_p50_ms": "ok", "api_p99_ms": "ok", "error_rate_pct": "ok"}),
        (700, 200, {"api_p50_ms": "warning", "api_p99_ms": "ok", "error_rate_pct": "ok"}),
        (2500, 200, {"api_p50_ms": "critical", "api_p99_ms": "warning", "error_rate_pct": "ok"}),
        (6000, 500, {"api_p50_ms": "critical", "api_p99_ms": "critical", "error_rate_pct": "critical"}),
    ],
)
def test_slow_and_failing_requests_raise_the_latency_and_error_levels(health, tmp_path, millis, status, levels):
    config = _traffic(tmp_path, [access_line(seconds=millis / 1000, status=status) for _ in range(25)])
    found = {r["key"]: r["level"] for r in health.check_api_traffic(config)}
    assert found == levels


def test_an_error_rate_between_the_levels_is_a_warning(health, tmp_path):
    lines = [access_line() for _ in range(97)] + [access_line(status=502) for _ in range(3)]
    found = {r["key"]: (r["level"], r["value"]) for r in health.check_api_traffic(_traffic(tmp_path, lines))}
    assert found["error_rate_pct"] == ("warning", 3.0)


def test_too_few_requests_are_not_judged_and_old_ones_do_not_count(health, tmp_path):
    old = [access_line(seconds=9, when=time.time() - 3600) for _ in range(50)]
    found = health.check_api_traffic(_traffic(tmp_path, old + [access_line(seconds=9) for _ in range(5)]))
    assert {r["level"] for r in found} == {"ok"}
    assert "not judged: 5 API requests in the last 5m (fewer than 20)" in found[0]["message"]


def test_cpu_follows_the_samples_since_the_last_run(health, tmp_path, monkeypatch):
    samples = iter([(1190, 2000), (1200, 2100), (1210, 2200)])  # (busy, total) clock ticks, as /proc/stat gives them
    monkeypatch.setattr(health.kpis, "cpu_sample", lambda: next(samples))
    monkeypatch.setattr(health.time, "sleep", lambda seconds: None)
    state = tmp_path / "cpu.json"
    config = {**CONFIG, "cpu": {"state": str(state)}}
    state.write_text(json.dumps({"time": time.time() - 290, "busy": 200, "total": 1000}))
    [found] = health.check_cpu(config)
    assert (found["level"], found["value"]) == ("critical", 99.0)  # 990 busy of 1000 ticks since the last run
    assert json.loads(state.read_text())["busy"] == 1190  # this run's sample is the next run's start
    state.write_text(json.dumps({"time": time.time() - 3600, "busy": 0, "total": 0}))  # too old: a sample now
    [found] = health.check_cpu(config)
    assert found["value"] == 10.0


def test_the_database_probe_is_timed(health, tmp_path, monkeypatch):
    fake = tmp_path / "psql"
    fake.write_text("#!/bin/sh\necho 'Timing is on.'\necho 412\necho 'Time: 640.5 ms'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    found = {r["key"]: (r["level"], r["value"]) for r in health.check_database(CONFIG)}
    assert found == {"database": ("ok", None), "db_query_ms": ("critical", 640.5)}
    fake.write_text("#!/bin/sh\necho 'psql: error: connection refused' >&2\nexit 2\n")
    [down] = health.check_database(CONFIG)
    assert (down["key"], down["level"]) == ("database", "critical") and "connection refused" in down["message"]


# --- one KPI table, every level can fire -----------------------------------------------------------------


def test_every_kpi_of_the_table_is_checked_with_a_warning_and_a_critical_tier():
    table = set(defaults.load()["kpi_thresholds"])
    kpis_with_tiers = set(HEALTH_CHECKS) - set(UP_DOWN_CHECKS)
    assert table == kpis_with_tiers == set(server_scripts.MEASURED_KPIS) | {"uptime_pct"}
    tiers = defaults.load()["health_tiers"]
    assert all(set(tiers[kpi]) == {"warning", "critical"} for kpi in kpis_with_tiers)
    assert all(set(tiers[check]) == {"critical"} for check in UP_DOWN_CHECKS)
    assert set(CONFIG["thresholds"]) == set(server_scripts.MEASURED_KPIS)


def test_a_warning_tier_for_an_up_down_check_or_a_kpi_without_one_is_refused():
    data = defaults.load()
    with pytest.raises(SettingsError, match=r"health_tiers\['api'\].warning.*up or down"):
        validate({**data, "health_tiers": {**data["health_tiers"], "api": {"warning": "P2", "critical": "P1"}}})
    with pytest.raises(SettingsError, match=r"health_tiers\['cpu_pct'\].*a warning and a critical tier"):
        validate({**data, "health_tiers": {**data["health_tiers"], "cpu_pct": {"critical": "P3"}}})


def test_the_window_is_the_health_checks_interval():
    assert CONFIG["traffic"]["window_seconds"] == 300
    every_minute = server_scripts.health_config(default_settings(health_schedule="* * * * *"))
    assert every_minute["traffic"]["window_seconds"] == 60


def test_the_point_in_time_checks_read_the_archiver_and_the_last_backup(health, tmp_path, monkeypatch):
    config = {**CONFIG, "pitr": {"status": str(tmp_path / "pitr.json"), "check_status": str(tmp_path / "check.json")}}
    (tmp_path / "check.json").write_text(json.dumps({"time": time.time(), "passed": time.time() - 1800, "error": None}))
    fake = tmp_path / "psql"
    fake.write_text("#!/bin/sh\necho 'f|22.5|00000001000000000000000A'\n")  # failing for 22.5 min
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    (tmp_path / "pitr.json").write_text(json.dumps({"time": time.time() - 8 * 3600, "type": "diff"}))
    found = {r["key"]: (r["level"], r["value"]) for r in health.check_pitr(config)}
    assert found == {
        "wal_archive_failing_minutes": ("critical", 22.5),
        "pitr_backup_age_hours": ("warning", 8.0),
        "pitr_check_age_hours": ("ok", 0.5),
    }
    fake.write_text("#!/bin/sh\necho 'f|0|'\n")
    (tmp_path / "pitr.json").unlink()
    found = {r["key"]: (r["level"], r["message"]) for r in health.check_pitr(config)}
    assert found["wal_archive_failing_minutes"] == ("ok", "WAL archiving works")
    level, message = found["pitr_backup_age_hours"]
    assert level == "unknown" and "no record of a pgBackRest backup" in message  # never "all good"
    assert health.check_pitr(CONFIG) == []  # backup_pitr off: not checked
    fake.write_text("#!/bin/sh\necho 't|0|'\n")
    assert health.check_pitr(config) == []  # a hot standby: nothing archived or backed up there until promoted


@pytest.mark.parametrize(
    "record, level, says",
    [
        (None, "unknown", "no record of a pgbackrest check"),
        (
            {"time": -60, "passed": -3600 * 2.5, "error": "unable to find primary"},
            "warning",
            "passed 2.5 h ago; the last one (1 min ago) failed: unable to find primary",
        ),
        ({"time": -60, "passed": -3600 * 4, "error": "archive timeout"}, "critical", "passed 4 h ago; the last one"),
        (
            {"time": -60, "passed": None, "error": "repository not found"},
            "critical",
            "has never passed; the last one (1 min ago) failed: repository not found",
        ),
        ({"time": -60, "passed": -60, "error": None}, "ok", "pgbackrest check passed 0 h ago"),
    ],
)
def test_the_pgbackrest_check_kpi_reads_its_hourly_record(health, tmp_path, record, level, says):
    path = tmp_path / "check.json"
    if record:
        now = time.time()
        shifted = {k: (now + v if k in ("time", "passed") and v is not None else v) for k, v in record.items()}
        path.write_text(json.dumps(shifted))
    found = health.pgbackrest_check_finding(CONFIG, str(path))
    assert found["key"] == "pitr_check_age_hours" and found["level"] == level and says in found["message"], found


def test_only_the_named_checks_run_and_an_unknown_name_is_refused(health, capsys):
    results = health.run(CONFIG, send=False, only={"memory_pct"})
    assert results and {r["check"] for r in results} == {"memory_pct"}
    assert health.main(["--no-alert", "--only", "api,uptime"]) == health.LEVELS["unknown"]
    assert "--only uptime: no such check" in capsys.readouterr().err
