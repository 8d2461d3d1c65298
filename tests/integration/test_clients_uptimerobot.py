"""UptimeRobot reconcile against the v3 stand-in over real HTTP on 127.0.0.1: alert contacts, monitors,
maintenance windows and the status page."""

from __future__ import annotations

import pytest

from louieops.clients.plan import PlanError
from tests.standins.fixtures import SLACK_WEBHOOK_ENV, project_settings, run, uptimerobot_reconciler
from tests.standins.openapi import UPTIMEROBOT, load, validate_request
from tests.standins.uptimerobot import UptimeRobotStandIn

SEED_NAMES = {"simplylouie.com - Homepage", "API Health Check", "Admin Dashboard", "WebSocket Endpoint"}
LISTS = {"GET /alert-contacts", "GET /integrations", "GET /monitors", "GET /maintenance-windows", "GET /psps"}
FIRST_RUN_WRITES = (
    ["POST /alert-contacts", "POST /integrations"]
    + ["POST /monitors"] * 4
    + [
        "POST /maintenance-windows",
        "POST /psps",
    ]
)


@pytest.fixture(autouse=True)
def slack_webhooks(monkeypatch):
    for name, value in SLACK_WEBHOOK_ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def standin(clock):
    with UptimeRobotStandIn(clock=clock) as server:
        yield server


def deploy(standin, clock, settings=None, **client_options):
    settings = settings or project_settings(uptimerobot_api_url=standin.url)
    return run(uptimerobot_reconciler(standin, clock, settings, **client_options))


def writes(standin):
    return [f"{r.method} {r.template}" for r in standin.writes()]


def test_a_fresh_account_gets_contacts_monitors_window_and_page_and_a_second_run_only_lists(standin, clock):
    plan = deploy(standin, clock)

    assert writes(standin) == FIRST_RUN_WRITES
    assert sorted(a.verb for a in plan.actions) == ["create"] * 8
    assert {m["friendlyName"] for m in standin.monitors.values()} == SEED_NAMES
    email = next(c for c in standin.alert_contacts if c["value"] == "ops@simplylouie.com")
    [slack] = standin.integrations
    assert (slack["friendlyName"], slack["value"]) == ("alerts-critical", SLACK_WEBHOOK_ENV["SLACK_WEBHOOK_CRITICAL"])
    keyword = standin.by_name("API Health Check")[0]
    assert (keyword["type"], keyword["keywordType"], keyword["keywordValue"]) == (
        "KEYWORD",
        "ALERT_NOT_EXISTS",
        '"status":"healthy"',
    )
    port = standin.by_name("WebSocket Endpoint")[0]
    assert (port["type"], port["url"], port["port"]) == ("PORT", "ws.simplylouie.com", 443)
    for monitor in standin.monitors.values():
        assert monitor["interval"] == 300
        assert {c["alertContactId"] for c in monitor["assignedAlertContacts"]} == {email["id"], slack["id"]}
        assert [t["name"] for t in monitor["tags"]] == ["louieops"]
    [window] = standin.windows.values()
    assert (window["name"], window["interval"], window["days"], window["time"], window["duration"]) == (
        "Monthly maintenance",
        "monthly",
        [1],
        "05:00:00",
        60,
    )
    [page] = standin.psps.values()
    assert (page["friendlyName"], page["homepageLink"]) == ("SimplyLouie status", "https://simplylouie.com")
    assert set(page["monitorIds"]) == set(window["monitorIds"]) == set(standin.monitors)

    standin.reset_records()
    second = deploy(standin, clock)
    assert not second.actions
    assert writes(standin) == []
    assert standin.counts() == {name: 1 for name in LISTS}


def test_every_request_body_matches_the_openapi_document(standin, clock):
    deploy(standin, clock)
    drifted = standin.by_name("Admin Dashboard")[0]
    drifted["interval"] = 60
    drifted["tags"] = []
    next(iter(standin.windows.values()))["duration"] = 5
    next(iter(standin.psps.values()))["monitorIds"].pop()
    deploy(standin, clock)
    doc = load(UPTIMEROBOT)
    bodies = [r for r in standin.recorded if r.body is not None]
    assert {f"{r.method} {r.template}" for r in bodies} == {
        "POST /alert-contacts",
        "POST /integrations",
        "POST /monitors",
        "PATCH /monitors/{id}",
        "POST /maintenance-windows",
        "PATCH /maintenance-windows/{id}",
        "POST /psps",
        "PATCH /psps/{id}",
    }
    for record in bodies:
        validate_request(doc, record.method, record.template, record.body)


def test_existing_contacts_are_adopted_not_created(standin, clock):
    standin.add_contact(friendlyName="Ops", type="Email", value="OPS@simplylouie.com")
    standin.add_integration(friendlyName="alerts-critical", type="Slack", value="https://hooks.slack.test/old")
    deploy(standin, clock)
    assert not [w for w in writes(standin) if w in ("POST /alert-contacts", "POST /integrations")]
    assert len(standin.alert_contacts) == 2 and len(standin.integrations) == 1


def test_drift_is_restored_and_120_unmanaged_monitors_over_several_pages_are_untouched(standin, clock):
    unmanaged = [
        standin.add_monitor(friendlyName=f"customer site {i}", url=f"https://c{i}.example.com", interval=600)
        for i in range(120)
    ]
    before = {m["id"]: dict(m) for m in unmanaged}
    deploy(standin, clock)
    homepage = standin.by_name("simplylouie.com - Homepage")[0]
    homepage["interval"] = 900
    admin = standin.by_name("Admin Dashboard")[0]
    del standin.monitors[admin["id"]]
    standin.forget_monitor(admin["id"])
    standin.reset_records()

    plan = deploy(standin, clock)

    assert sorted((a.verb, a.name) for a in plan.actions) == [
        ("create", "Admin Dashboard"),
        ("update", "Monthly maintenance"),
        ("update", "SimplyLouie status"),
        ("update", "simplylouie.com - Homepage"),
    ]
    assert writes(standin) == [
        "PATCH /monitors/{id}",
        "POST /monitors",
        "PATCH /maintenance-windows/{id}",
        "PATCH /psps/{id}",
    ]
    patch = next(r for r in standin.recorded if r.method == "PATCH")
    assert patch.body == {"interval": 300}  # drifted fields only
    assert standin.by_name("simplylouie.com - Homepage")[0]["interval"] == 300
    assert len(standin.by_name("Admin Dashboard")) == 1
    assert {m["id"]: m for m in standin.monitors.values() if m["id"] in before} == before
    assert standin.counts()["GET /monitors"] == 3  # 124 monitors, pages of at most 50
    standin.reset_records()
    assert not deploy(standin, clock).actions and writes(standin) == []


def test_pagination_follows_next_links_to_the_end(standin, clock):
    for i in range(450):
        standin.add_monitor(friendlyName=f"other {i}")
    deploy(standin, clock)
    standin.reset_records()
    assert not deploy(standin, clock).actions
    # 454 monitors: nine full pages of 50, then 4 (not full, so no next link)
    assert standin.counts()["GET /monitors"] == 10


def test_a_same_named_monitor_is_adopted_not_duplicated(standin, clock):
    existing = standin.add_monitor(
        friendlyName="Admin Dashboard", url="https://louiesystem.com", interval=300, timeout=30
    )
    plan = deploy(standin, clock)
    adopted = next(a for a in plan.actions if a.name == "Admin Dashboard")
    assert (adopted.verb, adopted.adopt) == ("update", True)
    assert len(standin.by_name("Admin Dashboard")) == 1
    assert standin.monitors[existing["id"]]["tags"][0]["name"] == "louieops"


def test_two_monitors_with_a_managed_name_adopt_the_oldest_and_report_the_other(standin, clock):
    older = standin.add_monitor(friendlyName="Admin Dashboard", url="https://louiesystem.com")
    newer = standin.add_monitor(friendlyName="Admin Dashboard", url="https://elsewhere.example")
    plan = deploy(standin, clock)
    assert plan.notes == [
        f"2 UptimeRobot monitors are named 'Admin Dashboard': managing the oldest (id {older['id']}) and leaving "
        f"id {newer['id']} alone; delete what is not needed by hand"
    ]
    assert standin.monitors[older["id"]]["tags"][0]["name"] == "louieops"
    assert standin.monitors[newer["id"]] == newer  # untouched, not deleted (even with prune)
    settings = project_settings(uptimerobot_api_url=standin.url, uptimerobot_prune=True)
    assert not deploy(standin, clock, settings).actions


def test_a_monitor_of_another_type_is_replaced(standin, clock):
    old = standin.add_monitor(friendlyName="WebSocket Endpoint", type="PING", url="ws.simplylouie.com")
    plan = deploy(standin, clock)
    assert ("replace", "WebSocket Endpoint") in [(a.verb, a.name) for a in plan.actions]
    [new] = standin.by_name("WebSocket Endpoint")
    assert new["id"] != old["id"] and (new["type"], new["port"]) == ("PORT", 443)
    assert new["id"] in next(iter(standin.psps.values()))["monitorIds"]


def test_prune_deletes_only_tagged_monitors_and_only_when_asked(standin, clock):
    deploy(standin, clock)
    standin.add_monitor(friendlyName="old managed", tags=[{"id": 1, "name": "louieops", "color": "#000"}])
    standin.add_monitor(friendlyName="not ours")
    deploy(standin, clock)
    assert standin.by_name("old managed")

    settings = project_settings(uptimerobot_api_url=standin.url, uptimerobot_prune=True)
    plan = deploy(standin, clock, settings)
    assert [(a.verb, a.name) for a in plan.actions] == [("delete", "old managed")]
    assert not standin.by_name("old managed") and standin.by_name("not ours")


def test_the_client_never_sends_more_than_the_plan_allows(clock):
    with UptimeRobotStandIn(rate_limit=10, clock=clock) as standin:
        for i in range(30):
            standin.add_monitor(friendlyName=f"other {i}", tags=[{"id": 1, "name": "louieops", "color": "#0"}])
        settings = project_settings(
            uptimerobot_api_url=standin.url,
            uptimerobot_prune=True,
            uptimerobot_maintenance_windows=[],
            uptimerobot_status_page=None,
        )
        deploy(standin, clock, settings)  # 3 lists + 2 contacts + 4 creates + 30 deletes = 39 requests
        assert len(standin.monitors) == 4
        assert standin.counts()["GET /monitors"] == 1
        assert sum(clock.sleeps) >= 3 * 60 - 1  # 39 requests at 10/minute: three full windows waited
        assert standin.counts().total() == 39  # no 429 ever: the limiter kept to the budget


def test_a_missing_contact_that_cannot_be_created_fails_before_any_write(standin, clock):
    contacts = {
        "email": {"type": "email", "value": "ops@simplylouie.com"},
        "slack": {"type": "slack", "name": "alerts-critical"},
        "pager": {"type": "pagerduty", "name": "on call"},
    }
    monitors = [dict(m, alert_contacts=["email", "pager"]) for m in project_settings().uptimerobot_monitors]
    settings = project_settings(
        uptimerobot_api_url=standin.url, uptimerobot_alert_contacts=contacts, uptimerobot_monitors=monitors
    )
    with pytest.raises(PlanError, match=r"uptimerobot_alert_contacts\['pager'\].*create this one in the"):
        deploy(standin, clock, settings)
    assert writes(standin) == []


def test_a_slack_contact_without_its_webhook_secret_is_looked_up_only(standin, clock, monkeypatch):
    monkeypatch.delenv("SLACK_WEBHOOK_CRITICAL")
    with pytest.raises(PlanError, match=r"\['slack'\]: no slack alert contact with name 'alerts-critical'"):
        deploy(standin, clock)
    assert writes(standin) == []
