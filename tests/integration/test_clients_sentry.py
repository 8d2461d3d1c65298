"""Sentry reconcile against the stand-in over real HTTP on 127.0.0.1 (workflows + detectors, cron monitors,
legacy fallback)."""

from __future__ import annotations

import pytest

from louieops.clients.plan import PlanError
from tests.standins.fixtures import SLACK, project_settings, run, sentry_reconciler
from tests.standins.openapi import SENTRY, load, validate_request
from tests.standins.sentry import ORG_PATH, SentryStandIn

P = "[louieops] "
ISSUE_ALERTS = {P + "New error type", P + "Error spike", P + "Unhandled error"}
MONITORS = {P + "API p50 latency", P + "API p99 latency", P + "API error rate", P + "Database query time"}
CRON_ALERT = P + "Cron job missed or failed"
CRON_SLUGS = {
    f"simplylouie-{job}"
    for job in ("backup-db", "backup-uploads", "backup-logs", "backup-verify", "restore-drill", "health-check")
}
WORKFLOWS, DETECTORS, CRONS = f"{ORG_PATH}/workflows/", f"{ORG_PATH}/detectors/", f"{ORG_PATH}/monitors/"


@pytest.fixture
def standin(clock):
    with SentryStandIn(clock=clock) as server:
        yield server


def settings_for(standin, **overrides):
    return project_settings(sentry_api_url=standin.url, **{**SLACK, **overrides})


def deploy(standin, clock, settings=None, **client_options):
    return run(sentry_reconciler(standin, clock, settings or settings_for(standin), **client_options))


def writes(standin):
    return [f"{r.method} {r.template}" for r in standin.writes()]


def names(table):
    return sorted(item["name"] for item in table.values())


def test_empty_project_gets_exactly_the_alerts_and_monitors_and_a_second_run_only_lists(standin, clock):
    deploy(standin, clock)

    crons = [P + f"cron {slug.removeprefix('simplylouie-')}" for slug in CRON_SLUGS]  # Sentry's own detectors
    assert names(standin.detectors) == sorted(["Error Monitor", "Issue Stream", *MONITORS, *crons])
    assert names(standin.workflows) == sorted(ISSUE_ALERTS | MONITORS | {CRON_ALERT})
    cron_alert = standin.named(standin.workflows, CRON_ALERT)[0]
    cron_detectors = {d["id"] for d in standin.detectors.values() if d["type"] == "monitor_check_in_failure"}
    assert set(cron_alert["detectorIds"]) == cron_detectors and len(cron_detectors) == 6
    slack = {a["config"]["targetIdentifier"] for a in cron_alert["actionFilters"][0]["actions"] if a["type"] == "slack"}
    assert slack == {"C0HIGH001"}  # sentry_cron_tier P2 -> #alerts-high (+ e-mail)
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

    db = standin.named(standin.detectors, P + "Database query time")[0]
    snuba = db["dataSources"][0]["queryObj"]["snubaQuery"]
    assert (snuba["aggregate"], snuba["query"], snuba["dataset"]) == (
        "p50(span.duration)",
        "span.category:db",
        "events_analytics_platform",
    )
    assert sorted(c["comparison"] for c in db["conditionGroup"]["conditions"]) == [100, 100, 500]
    assert set(standin.cron_monitors) == CRON_SLUGS
    backup = standin.cron_monitors["simplylouie-backup-db"]
    assert (backup["name"], backup["config"]["schedule"], backup["config"]["checkin_margin"]) == (
        P + "cron backup-db",
        "0 */6 * * *",
        5,
    )

    standin.reset_records()
    assert not deploy(standin, clock).actions
    assert writes(standin) == []
    assert standin.counts() == {f"GET {WORKFLOWS}": 1, f"GET {DETECTORS}": 1, f"GET {CRONS}": 1}


def test_every_request_body_matches_the_openapi_document(standin, clock):
    deploy(standin, clock)
    detector = standin.named(standin.detectors, P + "API p99 latency")[0]
    detector["conditionGroup"]["conditions"][0]["comparison"] = 1
    standin.cron_monitors["simplylouie-health-check"]["config"]["checkin_margin"] = 30
    deploy(standin, clock)
    doc = load(SENTRY)
    bodies = [r for r in standin.recorded if r.body is not None]
    assert {r.method for r in bodies} == {"POST", "PUT"}
    assert {r.template for r in bodies} >= {CRONS, f"{CRONS}{{monitor_id_or_slug}}/"}
    for record in bodies:
        validate_request(doc, record.method, record.template, record.body)


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
    assert sorted(writes(standin)) == [f"POST {WORKFLOWS}", f"PUT {DETECTORS}{{detector_id}}/"]
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
    kinds = [d["type"] for d in standin.detectors.values()]  # Sentry's own detectors are never pruned
    assert kinds.count("monitor_check_in_failure") == 6 and kinds.count("error") == 1


def test_an_older_sentry_without_workflows_gets_legacy_rules(clock):
    with SentryStandIn(mode="legacy", clock=clock) as standin:
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


def test_a_removed_api_stops_the_run_without_retrying_and_names_the_right_fix(clock):
    with SentryStandIn(mode="gone", clock=clock) as standin:
        with pytest.raises(
            PlanError, match="this Sentry has neither alert API: the workflows API answered 404"
        ) as info:
            deploy(standin, clock)
        assert "sentry_api_mode = 'workflows'" not in str(info.value)
        assert "sentry_org" in str(info.value)
        assert standin.counts()["GET /api/0/projects/{org}/{project}/rules/"] == 1
        assert clock.sleeps == []
        legacy = settings_for(standin, sentry_api_mode="legacy")
        with pytest.raises(PlanError, match=r"legacy alert-rule API is gone \(410\).*sentry_api_mode = 'workflows'"):
            deploy(standin, clock, legacy)


def test_a_workflows_api_that_answers_404_names_the_settings_to_check(clock):
    with SentryStandIn(mode="legacy", clock=clock) as standin:
        settings = settings_for(standin, sentry_api_mode="workflows")
        with pytest.raises(PlanError, match=r"workflows API answered 404 .*check sentry_api_url and sentry_org"):
            deploy(standin, clock, settings)


def test_a_project_without_an_error_detector_fails_before_any_write(standin, clock):
    for key, detector in list(standin.detectors.items()):
        if detector["type"] == "error":
            del standin.detectors[key]
    with pytest.raises(PlanError, match="no error detector"):
        deploy(standin, clock)
    assert writes(standin) == []


def test_cron_monitors_without_detectors_leave_the_cron_alert_out_with_a_note(clock):
    with SentryStandIn(clock=clock, cron_detectors=False) as standin:
        deploy(standin, clock)
        assert len(standin.cron_monitors) == 6 and not standin.named(standin.workflows, CRON_ALERT)
        standin.reset_records()
        plan = deploy(standin, clock)
        assert not plan.actions and writes(standin) == []
        assert plan.notes == [
            "Sentry lists no detector for cron monitor 'simplylouie-backup-db': the alert on the cron monitors is "
            "left out (their issues still show in Sentry; route them in Sentry's UI)"
        ]
