"""Sentry reconcile against the stand-in over real HTTP on 127.0.0.1 (workflows + detectors, legacy fallback)."""

from __future__ import annotations

import pytest

from louieops.clients.plan import PlanError
from louieops.clients.sentry import Reconciler
from tasks.saas import sentry_issue_alerts, sentry_metric_monitors
from tests.standins.fixtures import SLACK, project_settings, sentry_client
from tests.standins.openapi import SENTRY, load, validate_request
from tests.standins.sentry import SentryStandIn

P = "[louieops] "
ISSUE_ALERTS = {P + "New error type", P + "Error spike", P + "Unhandled error"}
MONITORS = {P + "API p50 latency", P + "API p99 latency", P + "API error rate"}
WORKFLOWS, DETECTORS = "/api/0/organizations/{org}/workflows/", "/api/0/organizations/{org}/detectors/"
_ORG = "/api/0/organizations/{organization_id_or_slug}"
OPENAPI_PATHS = {
    "/api/0/organizations/{org}/workflows/": f"{_ORG}/workflows/",
    "/api/0/organizations/{org}/workflows/{id}/": f"{_ORG}/workflows/{{workflow_id}}/",
    "/api/0/organizations/{org}/projects/{project}/detectors/": f"{_ORG}/projects/{{project_id_or_slug}}/detectors/",
    "/api/0/organizations/{org}/detectors/{id}/": f"{_ORG}/detectors/{{detector_id}}/",
}


@pytest.fixture
def standin():
    with SentryStandIn() as server:
        yield server


def settings_for(standin, **overrides):
    return project_settings(sentry_api_url=standin.url, **{**SLACK, **overrides})


def deploy(standin, clock, settings=None, **client_options):
    settings = settings or settings_for(standin)
    reconciler = Reconciler(
        sentry_client(standin, settings, clock, **client_options),
        sentry_issue_alerts(settings),
        sentry_metric_monitors(settings),
        api_mode=settings.sentry_api_mode,
        name_prefix=settings.sentry_name_prefix,
        prune=settings.sentry_prune,
    )
    plan = reconciler.plan()
    for action in plan.actions:
        reconciler.apply(action)
    return plan


def writes(standin):
    return [f"{r.method} {r.template}" for r in standin.writes()]


def names(table):
    return sorted(item["name"] for item in table.values())


def test_empty_project_gets_exactly_the_alerts_and_monitors_and_a_second_run_only_lists(standin, clock):
    deploy(standin, clock)

    assert names(standin.detectors) == sorted(["Error Monitor", "Issue Stream", *MONITORS])
    assert names(standin.workflows) == sorted(ISSUE_ALERTS | MONITORS)
    error_detector = standin.named(standin.detectors, "Error Monitor")[0]["id"]
    for name in ISSUE_ALERTS:
        assert standin.named(standin.workflows, name)[0]["detectorIds"] == [error_detector]
    p50 = standin.named(standin.detectors, P + "API p50 latency")[0]
    assert sorted((c["type"], c["comparison"], c["conditionResult"]) for c in p50["conditionGroup"]["conditions"]) == [
        ("gt", 500, 50),
        ("gt", 1000, 75),
        ("lte", 500, 0),
    ]
    rate = standin.named(standin.detectors, P + "API error rate")[0]
    assert sorted(c["comparison"] for c in rate["conditionGroup"]["conditions"]) == [0.01, 0.01, 0.05]
    p50_alert = standin.named(standin.workflows, P + "API p50 latency")[0]
    assert p50_alert["detectorIds"] == [p50["id"]]
    spike = standin.named(standin.workflows, P + "Error spike")[0]
    condition = spike["actionFilters"][0]["conditions"][0]
    assert (condition["type"], condition["comparison"]) == ("event_frequency_count", {"value": 10, "interval": "5m"})
    channels = {a["config"]["targetIdentifier"] for a in spike["actionFilters"][0]["actions"] if a["type"] == "slack"}
    assert channels == {"C0CRIT001"}  # P1 -> #alerts-critical (+ e-mail)
    unhandled = standin.named(standin.workflows, P + "Unhandled error")[0]
    assert unhandled["actionFilters"][0]["conditions"][0]["comparison"]["attribute"] == "error.unhandled"

    standin.reset_records()
    assert not deploy(standin, clock).actions
    assert writes(standin) == []
    assert standin.counts() == {f"GET {WORKFLOWS}": 1, f"GET {DETECTORS}": 1}


def test_every_request_body_matches_the_openapi_document(standin, clock):
    deploy(standin, clock)
    detector = standin.named(standin.detectors, P + "API p99 latency")[0]
    detector["conditionGroup"]["conditions"][0]["comparison"] = 1
    deploy(standin, clock)
    doc = load(SENTRY)
    bodies = [r for r in standin.recorded if r.body is not None]
    assert {r.method for r in bodies} == {"POST", "PUT"}
    for record in bodies:
        validate_request(doc, record.method, OPENAPI_PATHS[record.template], record.body)


def test_drift_is_restored_and_nothing_else_is_touched(standin, clock):
    deploy(standin, clock)
    for i in range(150):  # other people's alerts: more than one page of 100
        standin._store(
            standin.workflows,
            {
                "name": f"team alert {i}",
                "enabled": True,
                "detectorIds": [],
                "triggers": None,
                "actionFilters": [],
                "config": {},
            },
        )
    others = {k: dict(v) for k, v in standin.workflows.items() if v["name"].startswith("team alert")}
    p99 = standin.named(standin.detectors, P + "API p99 latency")[0]
    high = next(c for c in p99["conditionGroup"]["conditions"] if c["conditionResult"] == 75)
    high["comparison"] = 9999
    spike = standin.named(standin.workflows, P + "Error spike")[0]
    del standin.workflows[spike["id"]]
    standin.reset_records()

    plan = deploy(standin, clock)

    assert sorted((a.verb, a.name) for a in plan.actions) == [
        ("create", P + "Error spike"),
        ("update", P + "API p99 latency"),
    ]
    assert sorted(writes(standin)) == [f"POST {WORKFLOWS}", "PUT /api/0/organizations/{org}/detectors/{id}/"]
    assert standin.counts()[f"GET {WORKFLOWS}"] == 2  # 159 alerts: two pages
    assert {k: v for k, v in standin.workflows.items() if k in others} == others
    standin.reset_records()
    assert not deploy(standin, clock).actions


def test_prune_deletes_only_prefixed_objects_and_only_when_asked(standin, clock):
    deploy(standin, clock)
    standin._store(
        standin.workflows,
        {
            "name": P + "retired alert",
            "enabled": True,
            "detectorIds": [],
            "triggers": None,
            "actionFilters": [],
            "config": {},
        },
    )
    standin._store(
        standin.workflows,
        {
            "name": "someone's alert",
            "enabled": True,
            "detectorIds": [],
            "triggers": None,
            "actionFilters": [],
            "config": {},
        },
    )
    assert not deploy(standin, clock).actions
    plan = deploy(standin, clock, settings_for(standin, sentry_prune=True))
    assert [(a.verb, a.name) for a in plan.actions] == [("delete", P + "retired alert")]
    assert standin.named(standin.workflows, "someone's alert")


def test_faults_leave_no_duplicates_and_the_desired_state(standin, clock):
    standin.faults.add("429", method="GET", path=WORKFLOWS, times=2, retry_after=30)
    standin.faults.add("500", method="GET", path=DETECTORS, times=2)
    standin.faults.add("store_then_500", method="POST", path=WORKFLOWS, times=2)
    standin.faults.add(
        "slow", method="POST", path="/api/0/organizations/{org}/projects/{project}/detectors/", times=1, delay=0.6
    )
    standin.faults.add("429", method="POST", path=WORKFLOWS, times=1, retry_after=5)

    deploy(standin, clock, read_timeout=0.3)

    assert names(standin.workflows) == sorted(ISSUE_ALERTS | MONITORS)
    assert names(standin.detectors) == sorted(["Error Monitor", "Issue Stream", *MONITORS])
    assert 30 in clock.sleeps and 5 in clock.sleeps
    standin.reset_records()
    assert not deploy(standin, clock).actions


def test_an_older_sentry_without_workflows_gets_legacy_rules(clock):
    with SentryStandIn(mode="legacy") as standin:
        deploy(standin, clock)
        assert names(standin.rules) == sorted(ISSUE_ALERTS)
        assert names(standin.alert_rules) == sorted(MONITORS)
        p50 = standin.named(standin.alert_rules, P + "API p50 latency")[0]
        assert [(t["label"], t["alertThreshold"]) for t in p50["triggers"]] == [("critical", 1000), ("warning", 500)]
        p50["triggers"][1]["alertThreshold"] = 750
        trigger_ids = [t["id"] for t in p50["triggers"]]
        standin.reset_records()
        plan = deploy(standin, clock)
        assert [(a.verb, a.name) for a in plan.actions] == [("update", P + "API p50 latency")]
        assert [
            t["id"] for t in standin.named(standin.alert_rules, P + "API p50 latency")[0]["triggers"]
        ] == trigger_ids  # the PUT kept the triggers
        standin.reset_records()
        assert not deploy(standin, clock).actions and writes(standin) == []


def test_a_removed_api_stops_the_run_without_retrying(clock):
    with SentryStandIn(mode="gone") as standin:
        with pytest.raises(PlanError, match="410"):
            deploy(standin, clock)
        assert standin.counts()["GET /api/0/projects/{org}/{project}/rules/"] == 1
        assert clock.sleeps == []


def test_a_project_without_an_error_detector_fails_before_any_write(standin, clock):
    for key, detector in list(standin.detectors.items()):
        if detector["type"] == "error":
            del standin.detectors[key]
    with pytest.raises(PlanError, match="no error detector"):
        deploy(standin, clock)
    assert writes(standin) == []
