"""files/scripts/cron-checkin against the Sentry stand-in over HTTP on 127.0.0.1: a job's runs show as
check-ins (ok, error), a run that never comes shows as missed and a killed run as timed out, on the
stand-in's (fake) clock; the job's own exit status and output are untouched, with or without Sentry."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from louieops import server_scripts
from louieops.resources import file
from tests.standins.fixtures import project_settings
from tests.standins.sentry import SentryStandIn
from tests.standins.sentry_crons import DSN_KEY

WRAPPER = file("scripts/cron-checkin")
SLUG = "simplylouie-backup-db"


@pytest.fixture
def standin(clock):
    with SentryStandIn(clock=clock) as server:
        yield server


def config_file(tmp_path, dsn):
    path = tmp_path / "cron-checkin.json"
    path.write_text(json.dumps(server_scripts.checkin_config(project_settings(), dsn)))
    return path


@pytest.fixture
def config(tmp_path, standin):
    host_port = standin.url.split("://", 1)[1]
    return config_file(tmp_path, f"http://{DSN_KEY}@{host_port}/4501")


def wrapped(config, job, *command, **options):
    env = {**os.environ, "LOUIE_CHECKIN_CONFIG": str(config), "PYTHONDONTWRITEBYTECODE": "1"}
    argv = [sys.executable, WRAPPER, job, "--", *command]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, **options)


def test_a_good_run_checks_in_ok_and_upserts_the_monitor(config, standin):
    done = wrapped(config, "backup-db", "sh", "-c", "echo dumped; echo warn >&2")
    assert (done.returncode, done.stdout, done.stderr) == (0, "dumped\n", "warn\n")
    assert standin.checkin_statuses(SLUG) == ["ok"]  # in_progress closed under the same check-in id
    monitor = standin.cron_monitors[SLUG]["config"]
    assert (monitor["schedule"], monitor["checkin_margin"], monitor["max_runtime"]) == ("0 */6 * * *", 5, 120)


def test_a_failing_run_checks_in_error_and_keeps_its_exit_status(config, standin):
    assert wrapped(config, "backup-db", "sh", "-c", "exit 3").returncode == 3
    assert standin.checkin_statuses(SLUG) == ["error"]


def test_a_run_that_never_comes_shows_as_missed(config, standin, clock):
    wrapped(config, "backup-db", "true")
    clock.sleep(6 * 3600 + 6 * 60)  # the next 6-hourly run and its 5-minute margin have passed
    assert standin.checkin_statuses(SLUG) == ["ok", "missed"]
    listed = standin.derived_checkins(SLUG)
    assert listed[-1]["status"] == "missed"


def test_a_killed_run_shows_as_timed_out(config, standin, clock):
    env = {**os.environ, "LOUIE_CHECKIN_CONFIG": str(config), "PYTHONDONTWRITEBYTECODE": "1"}
    job = subprocess.Popen([sys.executable, WRAPPER, "backup-db", "--", "sleep", "30"], env=env)
    deadline = time.monotonic() + 10
    while standin.checkin_statuses(SLUG) != ["in_progress"] and time.monotonic() < deadline:
        time.sleep(0.05)
    job.send_signal(signal.SIGKILL)  # the wrapper dies with the job: nothing closes the check-in
    job.wait(timeout=10)
    clock.sleep(121 * 60)
    assert standin.checkin_statuses(SLUG)[:1] == ["timeout"]


def test_the_job_runs_alone_without_a_dsn_or_when_sentry_does_not_answer(tmp_path, standin):
    without = config_file(tmp_path, None)
    assert wrapped(without, "backup-db", "sh", "-c", "exit 4").returncode == 4
    unreachable = config_file(tmp_path, f"http://{DSN_KEY}@127.0.0.1:9/4501")
    done = wrapped(unreachable, "backup-db", "echo", "ran")
    assert (done.returncode, done.stdout) == (0, "ran\n")
    assert "in_progress check-in of simplylouie-backup-db not sent" in done.stderr
    assert wrapped(tmp_path / "missing.json", "backup-db", "true").returncode == 0
    assert standin.checkin_statuses(SLUG) == []


def test_usage_errors_exit_2(config):
    assert wrapped(config, "backup-db").returncode == 2


def test_with_several_servers_a_host_whose_job_stopped_misses_while_the_other_host_checks_in(tmp_path, standin, clock):
    """Two app hosts run the health check; app2's cron stops. Before, both checked in to one monitor and app1's
    runs hid it; now each host's config names a monitor of its own and only app2's shows missed."""
    host_port = standin.url.split("://", 1)[1]
    dsn = f"http://{DSN_KEY}@{host_port}/4501"
    configs = {}
    for name in ("app1", "app2"):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(server_scripts.checkin_config(project_settings(), dsn, name)))
        configs[name] = path
    for name in configs:
        assert wrapped(configs[name], "health-check", "true").returncode == 0
    for _ in range(3):  # every 5 minutes app1 runs its check; app2's cron no longer fires
        clock.sleep(5 * 60)
        assert wrapped(configs["app1"], "health-check", "true").returncode == 0
    clock.sleep(6 * 60)
    app1, app2 = "simplylouie-health-check-app1", "simplylouie-health-check-app2"
    assert set(standin.checkin_statuses(app1)) == {"ok"}
    assert "missed" in standin.checkin_statuses(app2)
    assert "simplylouie-health-check" not in standin.cron_monitors  # no shared monitor any more
