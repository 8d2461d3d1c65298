"""No duplicate, ever: faults of the APIs end in the desired state with every object there once, and a create
whose outcome stays unclear stops the run (saying what to check) instead of being sent again.

The stand-ins and the clients share a fake clock: the 40-second and ten-minute waits take no real time."""

from __future__ import annotations

import pytest

from louieops.clients.plan import PlanError
from tests.standins.fixtures import (
    SLACK,
    SLACK_WEBHOOK_ENV,
    project_settings,
    run,
    sentry_reconciler,
    uptimerobot_reconciler,
)
from tests.standins.sentry import ORG_PATH, SentryStandIn
from tests.standins.uptimerobot import UptimeRobotStandIn

DETECTORS_POST = f"{ORG_PATH}/projects/{{project_id_or_slug}}/detectors/"
WORKFLOWS = f"{ORG_PATH}/workflows/"
NOT_FOUND = '{"message": "Monitor not found", "code": "000-004"}'


@pytest.fixture(autouse=True)
def slack_webhooks(monkeypatch):
    for name, value in SLACK_WEBHOOK_ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def uptimerobot(clock):
    with UptimeRobotStandIn(clock=clock) as server:
        yield server


@pytest.fixture
def sentry(clock):
    with SentryStandIn(clock=clock) as server:
        yield server


def deploy_uptimerobot(standin, clock, **overrides):
    settings = project_settings(uptimerobot_api_url=standin.url, **overrides)
    return run(uptimerobot_reconciler(standin, clock, settings, read_timeout=0.3))


def deploy_sentry(standin, clock, **overrides):
    settings = project_settings(sentry_api_url=standin.url, **{**SLACK, **overrides})
    return run(sentry_reconciler(standin, clock, settings, read_timeout=0.3))


def posts(standin, template):
    return [r for r in standin.recorded if r.method == "POST" and r.template == template]


def each_once(names):
    return len(names) == len(set(names))


def test_uptimerobot_faults_end_in_the_desired_state_with_no_duplicate(uptimerobot, clock):
    uptimerobot.faults.add("429", method="GET", path="/monitors", times=3, retry_after=20)
    uptimerobot.faults.add("500", method="GET", path="/alert-contacts", times=2)
    uptimerobot.faults.add("429", method="POST", path="/monitors", times=2, retry_after=7)
    uptimerobot.faults.add("store_then_500", method="POST", path="/monitors", times=1)
    uptimerobot.faults.add("store_then_status", method="POST", path="/monitors", status=404, body=NOT_FOUND)
    uptimerobot.faults.add("stall", method="POST", path="/monitors", delay=0.6, visible_after=40)
    uptimerobot.faults.add("stall", method="POST", path="/alert-contacts", delay=0.6, visible_after=40)
    uptimerobot.faults.add("500", method="PATCH", path="/maintenance-windows/{id}", times=1)

    deploy_uptimerobot(uptimerobot, clock)
    next(iter(uptimerobot.windows.values()))["duration"] = 5  # an update that first answers 500
    deploy_uptimerobot(uptimerobot, clock)

    names = [m["friendlyName"] for m in uptimerobot.monitors.values()]
    assert sorted(names) == sorted(
        ["simplylouie.com - Homepage", "API Health Check", "Admin Dashboard", "WebSocket Endpoint"]
    )
    assert len(posts(uptimerobot, "/monitors")) == 4 + 2  # the two 429s were not processed
    assert len(uptimerobot.alert_contacts) == 2 and len(uptimerobot.integrations) == 1
    assert len(uptimerobot.windows) == 1 and next(iter(uptimerobot.windows.values()))["duration"] == 60
    assert 20 in clock.sleeps and 7 in clock.sleeps  # Retry-After honoured (with no real waiting)
    uptimerobot.reset_records()
    assert not deploy_uptimerobot(uptimerobot, clock).actions
    assert uptimerobot.writes() == []


def test_a_create_that_stalls_past_the_timeout_and_is_stored_40_s_later_is_found_not_repeated(uptimerobot, clock):
    uptimerobot.faults.add("stall", method="POST", path="/monitors", delay=0.6, visible_after=40)
    started = clock.now

    deploy_uptimerobot(uptimerobot, clock)

    assert [r.body["friendlyName"] for r in posts(uptimerobot, "/monitors")] == [
        "simplylouie.com - Homepage",
        "API Health Check",
        "Admin Dashboard",
        "WebSocket Endpoint",
    ]
    assert len(uptimerobot.by_name("simplylouie.com - Homepage")) == 1
    assert 40 <= clock.now - started < 600  # it listed (with pauses) until the monitor showed up
    assert not deploy_uptimerobot(uptimerobot, clock).actions


def test_a_create_that_never_shows_stops_the_run_and_the_next_run_creates_it_once(uptimerobot, clock):
    uptimerobot.faults.add("500", method="POST", path="/monitors", times=1)  # not stored

    with pytest.raises(PlanError) as info:
        deploy_uptimerobot(uptimerobot, clock, uptimerobot_settle_minutes=3)
    message = str(info.value)
    assert message.startswith("create UptimeRobot monitor 'simplylouie.com - Homepage' got no clear answer")
    assert "not listed within 3 minutes. Nothing was created twice." in message
    assert "look for a UptimeRobot monitor named 'simplylouie.com - Homepage'" in message
    assert "raise uptimerobot_settle_minutes" not in message  # the operation adds that advice, not the client
    assert len(posts(uptimerobot, "/monitors")) == 1 and not uptimerobot.monitors

    deploy_uptimerobot(uptimerobot, clock)
    assert len(uptimerobot.by_name("simplylouie.com - Homepage")) == 1


def test_a_create_stored_after_the_run_gave_up_is_adopted_by_the_next_run(uptimerobot, clock):
    uptimerobot.faults.add("stall", method="POST", path="/monitors", delay=0.6, visible_after=30 * 60)
    with pytest.raises(PlanError, match="not listed within 10 minutes"):
        deploy_uptimerobot(uptimerobot, clock)
    clock.sleep(30 * 60)  # the replica catches up
    plan = deploy_uptimerobot(uptimerobot, clock)
    assert ("create", "simplylouie.com - Homepage") not in [(a.verb, a.name) for a in plan.actions]
    assert len(uptimerobot.by_name("simplylouie.com - Homepage")) == 1


def test_sentry_faults_end_in_the_desired_state_with_no_duplicate(sentry, clock):
    sentry.faults.add("429", method="GET", path=WORKFLOWS, times=2, retry_after=30)
    sentry.faults.add("500", method="GET", path=f"{ORG_PATH}/detectors/", times=2)
    sentry.faults.add("store_then_500", method="POST", path=WORKFLOWS, times=2)
    sentry.faults.add("stall", method="POST", path=DETECTORS_POST, delay=0.6, visible_after=40)
    sentry.faults.add("slow", method="POST", path=f"{ORG_PATH}/monitors/", delay=0.6)
    sentry.faults.add("429", method="POST", path=WORKFLOWS, times=1, retry_after=5)

    deploy_sentry(sentry, clock)

    for table in (sentry.workflows, sentry.detectors, sentry.cron_monitors):
        assert each_once([item["name"] for item in table.values()])
    assert len(sentry.workflows) == 3 + 4 + 1 and len(sentry.detectors) == 2 + 4 + 6 and len(sentry.cron_monitors) == 6
    assert 30 in clock.sleeps and 5 in clock.sleeps
    sentry.reset_records()
    assert not deploy_sentry(sentry, clock).actions
    assert sentry.writes() == []


def test_two_sentry_objects_with_one_managed_name_adopt_the_oldest(sentry, clock):
    deploy_sentry(sentry, clock)
    [spike] = sentry.named(sentry.workflows, "[louieops] Error spike")
    copy = sentry._store(sentry.workflows, {k: v for k, v in spike.items() if k not in ("id", "_visible_from")})
    plan = deploy_sentry(sentry, clock, sentry_prune=True)
    assert not plan.actions
    assert plan.notes == [
        f"2 Sentry alerts are named '[louieops] Error spike': managing the oldest (id {spike['id']}) and leaving "
        f"id {copy['id']} alone; delete what is not needed by hand"
    ]
