"""UptimeRobot reconcile against the v3 stand-in over real HTTP on 127.0.0.1."""

from __future__ import annotations

import pytest

from louieops.clients.plan import PlanError
from louieops.clients.uptimerobot import Executor, reconcile_plan
from tasks.saas import uptimerobot_alert_contacts, uptimerobot_monitors
from tests.standins.fixtures import project_settings, uptimerobot_client
from tests.standins.openapi import UPTIMEROBOT, load, validate_request
from tests.standins.uptimerobot import UptimeRobotStandIn

SEED_NAMES = {"simplylouie.com - Homepage", "API Health Check", "Admin Dashboard", "WebSocket Endpoint"}
LISTS = {"GET /monitors", "GET /alert-contacts", "GET /integrations"}


@pytest.fixture
def standin():
    with UptimeRobotStandIn() as server:
        yield server


def deploy(standin, clock, settings=None, **client_options):
    """One reconcile run as the pyinfra operation does it: plan (lists), then apply every action."""
    settings = settings or project_settings(uptimerobot_api_url=standin.url)
    client = uptimerobot_client(standin, clock, **client_options)
    plan = reconcile_plan(
        client,
        uptimerobot_monitors(settings),
        uptimerobot_alert_contacts(settings),
        settings.uptimerobot_managed_tag,
        settings.uptimerobot_prune,
    )
    executor = Executor(client, settings.uptimerobot_managed_tag, plan.current)
    for action in plan.actions:
        executor.apply(action)
    return plan


def writes(standin):
    return [f"{r.method} {r.template}" for r in standin.writes()]


def test_empty_account_gets_exactly_the_seed_monitors_and_a_second_run_only_lists(standin, clock):
    plan = deploy(standin, clock)

    assert sorted(a.verb for a in plan.actions) == ["create"] * 4
    assert {m["friendlyName"] for m in standin.monitors.values()} == SEED_NAMES
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
        assert {c["alertContactId"] for c in monitor["assignedAlertContacts"]} == {1001, 2001}
        assert [t["name"] for t in monitor["tags"]] == ["louieops"]

    standin.reset_records()
    second = deploy(standin, clock)
    assert not second.actions
    assert writes(standin) == []
    assert standin.counts() == {name: 1 for name in LISTS}


def test_every_request_body_matches_the_openapi_document(standin, clock):
    standin.monitors.clear()
    deploy(standin, clock)
    drifted = standin.by_name("Admin Dashboard")[0]
    drifted["interval"] = 60
    drifted["tags"] = []
    deploy(standin, clock)
    doc = load(UPTIMEROBOT)
    templates = {"/monitors": "/monitors", "/monitors/{id}": "/monitors/{id}"}
    bodies = [r for r in standin.recorded if r.body is not None]
    assert {f"{r.method} {r.template}" for r in bodies} == {"POST /monitors", "PATCH /monitors/{id}"}
    for record in bodies:
        validate_request(doc, record.method, templates[record.template], record.body)


def test_drift_is_restored_and_nothing_else_is_touched(standin, clock):
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
    standin.reset_records()

    plan = deploy(standin, clock)

    assert sorted((a.verb, a.name) for a in plan.actions) == [
        ("create", "Admin Dashboard"),
        ("update", "simplylouie.com - Homepage"),
    ]
    assert writes(standin) == ["PATCH /monitors/{id}", "POST /monitors"]
    patch = next(r for r in standin.recorded if r.method == "PATCH")
    assert patch.body == {"interval": 300}  # drifted fields only
    assert standin.by_name("simplylouie.com - Homepage")[0]["interval"] == 300
    assert len(standin.by_name("Admin Dashboard")) == 1
    assert {m["id"]: m for m in standin.monitors.values() if m["id"] in before} == before
    assert standin.counts()["GET /monitors"] == 1  # 124 monitors, one page of 200


def test_pagination_follows_next_links_to_the_end(standin, clock):
    for i in range(450):
        standin.add_monitor(friendlyName=f"other {i}")
    deploy(standin, clock)
    standin.reset_records()
    assert not deploy(standin, clock).actions
    # 454 monitors in pages of 200: 200, 200, 54 (the last page is not full, so no next link)
    assert standin.counts()["GET /monitors"] == 3


def test_a_same_named_monitor_is_adopted_not_duplicated(standin, clock):
    existing = standin.add_monitor(
        friendlyName="Admin Dashboard", url="https://louiesystem.com", interval=300, timeout=30
    )
    plan = deploy(standin, clock)
    adopted = next(a for a in plan.actions if a.name == "Admin Dashboard")
    assert (adopted.verb, adopted.adopt) == ("update", True)
    assert len(standin.by_name("Admin Dashboard")) == 1
    assert standin.monitors[existing["id"]]["tags"][0]["name"] == "louieops"


def test_a_monitor_of_another_type_is_replaced(standin, clock):
    old = standin.add_monitor(friendlyName="WebSocket Endpoint", type="PING", url="ws.simplylouie.com")
    plan = deploy(standin, clock)
    assert ("replace", "WebSocket Endpoint") in [(a.verb, a.name) for a in plan.actions]
    [new] = standin.by_name("WebSocket Endpoint")
    assert new["id"] != old["id"] and (new["type"], new["port"]) == ("PORT", 443)


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


def test_faults_leave_no_duplicates_and_the_desired_state(standin, clock):
    standin.faults.add("429", method="GET", path="/monitors", times=3, retry_after=20)
    standin.faults.add("500", method="GET", path="/alert-contacts", times=2)
    standin.faults.add("store_then_500", method="POST", path="/monitors", times=1)
    standin.faults.add("slow", method="POST", path="/monitors", times=1, delay=0.6)
    standin.faults.add("429", method="POST", path="/monitors", times=2, retry_after=7)

    deploy(standin, clock, read_timeout=0.3)

    assert sorted(m["friendlyName"] for m in standin.monitors.values()) == sorted(SEED_NAMES)
    assert 20 in clock.sleeps and 7 in clock.sleeps  # Retry-After honoured (with no real waiting)
    standin.reset_records()
    assert not deploy(standin, clock).actions


def test_the_client_never_sends_more_than_the_plan_allows(clock):
    with UptimeRobotStandIn(rate_limit=10, clock=clock) as standin:
        for i in range(30):
            standin.add_monitor(friendlyName=f"other {i}", tags=[{"id": 1, "name": "louieops", "color": "#0"}])
        settings = project_settings(uptimerobot_api_url=standin.url, uptimerobot_prune=True)
        deploy(standin, clock, settings)  # 3 lists + 4 creates + 30 deletes = 37 requests
        assert len(standin.monitors) == 4
        assert not any(r.method == "GET" and r.template == "/monitors" for r in standin.recorded[3:])
        assert sum(clock.sleeps) >= 3 * 60 - 1  # 37 requests at 10/minute: three full windows waited
        assert standin.counts().total() == 37  # no 429 ever: the limiter kept to the budget


def test_an_unknown_contact_in_the_account_fails_before_any_write(standin, clock):
    contacts = {
        "email": {"type": "email", "value": "ops@simplylouie.com"},
        "slack": {"type": "slack", "name": "alerts-nowhere"},
    }
    settings = project_settings(uptimerobot_api_url=standin.url, uptimerobot_alert_contacts=contacts)
    with pytest.raises(PlanError, match=r"uptimerobot_alert_contacts\['slack'\].*alerts-nowhere"):
        deploy(standin, clock, settings)
    assert writes(standin) == []
