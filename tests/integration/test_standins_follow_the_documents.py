"""Every answer the stand-ins give, for every endpoint the clients use, is what the official OpenAPI document
allows: it validates against the documented response schema, it carries no field the official read-back
lacks (a key that neither the schema nor the document's examples of that answer know), and no field the
document makes optional (the least convenient legal answer). A stand-in that invents a field (a detector
data source's ``queryType``) would hide a perpetual diff from the suite."""

from __future__ import annotations

import jsonschema
import pytest

from louieops.clients.http import ApiError
from louieops.clients.plan import PlanError
from tests.standins.fixtures import (
    SLACK,
    SLACK_WEBHOOK_ENV,
    project_settings,
    run,
    sentry_reconciler,
    uptimerobot_client,
    uptimerobot_reconciler,
)
from tests.standins.openapi import (
    ITEM,
    SENTRY,
    STRIPE,
    UPTIMEROBOT,
    load,
    operation,
    optional_keys,
    undeclared_keys,
    validate_response,
)
from tests.standins.sentry import ORG_PATH, SentryStandIn
from tests.standins.sentry_crons import CRON_ROUTES
from tests.standins.sentry_legacy import LEGACY_ROUTES
from tests.standins.sentry_releases import RELEASE_ROUTES
from tests.standins.stripe import Stripe
from tests.standins.uptimerobot import UptimeRobotStandIn

#: Sentry endpoints the document does not describe: the legacy alert rules (unpublished from the document when
#: the workflows API launched) and the check-in ingestion endpoint (Relay, not the web API).
#: Releases and deploys are in Sentry's full document, not in the alerts subset kept here: their answers are
#: checked against the schemas' field lists in tests/integration/test_sentry_deploy_markers.py.
NOT_IN_SENTRY_DOCUMENT = {
    *LEGACY_ROUTES,
    *(k for k in CRON_ROUTES if k[1].startswith("/api/{project_id}/cron/")),
    *RELEASE_ROUTES,
}
#: Stand-in routes no client calls (single-object GETs: the clients list instead).
UNUSED = {
    ("GET", "/monitors/{id}"),
    ("GET", "/psps/{id}"),
    ("DELETE", "/psps/{id}"),
    ("GET", "/psps/{pspId}/announcements/{id}"),
    ("GET", "/maintenance-windows/{id}"),
    ("DELETE", "/maintenance-windows/{id}"),
    ("GET", f"{ORG_PATH}/workflows/{{workflow_id}}/"),
    ("GET", f"{ORG_PATH}/detectors/{{detector_id}}/"),
    ("GET", f"{ORG_PATH}/monitors/{{monitor_id_or_slug}}/"),
}
#: Values that are free-form by design: a workflow condition's ``comparison`` is a boolean, a number or an
#: object whose keys depend on the condition type (reference/sentry-api.md §3.2); its keys are the request's.
SENTRY_OPAQUE = frozenset(
    {
        ("actionFilters", ITEM, "conditions", ITEM, "comparison"),
        ("triggers", "conditions", ITEM, "comparison"),
        (ITEM, "actionFilters", ITEM, "conditions", ITEM, "comparison"),
        (ITEM, "triggers", "conditions", ITEM, "comparison"),
    }
)


def check_answers(standin, path, opaque=frozenset(), skip=frozenset()) -> set:
    """Validate every recorded answer; the (method, template) pairs seen."""
    doc = load(path)
    seen = set()
    problems = []
    for record in standin.recorded:
        route = (record.method, record.template)
        seen.add(route)
        if route in skip:
            continue
        assert record.template in doc["paths"], f"{record.template} is not in {path.name}"
        try:
            validate_response(doc, record.method, record.template, record.status, record.answer)
        except jsonschema.ValidationError as exc:
            problems.append(f"{record.method} {record.path} {record.status}: {exc.message} at {list(exc.path)}")
        if 200 <= record.status < 300:
            extra = undeclared_keys(path, record.method, record.template, record.status, record.answer, opaque)
            if extra:
                problems.append(f"{record.method} {record.path} {record.status}: undeclared {sorted(set(extra))}")
            optional = optional_keys(path, record.method, record.template, record.status, record.answer)
            if optional:
                problems.append(f"{record.method} {record.path} {record.status}: optional {sorted(set(optional))}")
    assert problems == []
    return seen


@pytest.fixture(autouse=True)
def slack_webhooks(monkeypatch):
    for name, value in SLACK_WEBHOOK_ENV.items():
        monkeypatch.setenv(name, value)


def test_every_uptimerobot_answer_follows_the_document(clock):
    with UptimeRobotStandIn(clock=clock) as standin:
        settings = project_settings(uptimerobot_api_url=standin.url)
        standin.add_monitor(friendlyName="old managed", tags=[{"id": 1, "name": "louieops", "color": "#000"}])
        run(uptimerobot_reconciler(standin, clock, settings))
        standin.by_name("Admin Dashboard")[0]["interval"] = 60
        next(iter(standin.windows.values()))["duration"] = 5
        next(iter(standin.psps.values()))["homepageLink"] = "https://elsewhere.example"
        run(
            uptimerobot_reconciler(
                standin, clock, project_settings(uptimerobot_api_url=standin.url, uptimerobot_prune=True)
            )
        )
        client = uptimerobot_client(standin, clock)
        [page] = client.list_status_pages()
        note = client.create_announcement(
            page.id, {"title": "t", "content": "c", "status": "Published", "type": "Issue"}
        )
        client.update_announcement(page.id, note.id, {"status": "Archived"})
        client.list_announcements(page.id)
        client.monitor_uptime(next(iter(standin.monitors)), "2026-11-01T00:00:00Z", "2026-11-26T00:00:00Z")
        with pytest.raises(ApiError):
            client.update_monitor("1", {"interval": 300})  # a 404 answer is checked too

        seen = check_answers(standin, UPTIMEROBOT)
    assert set(UptimeRobotStandIn.ROUTES) - UNUSED <= seen


def test_every_sentry_answer_follows_the_document(clock):
    with SentryStandIn(clock=clock) as standin:
        settings = project_settings(sentry_api_url=standin.url, **SLACK)
        standin._store(
            standin.workflows,
            {
                "name": "[louieops] retired",
                "enabled": True,
                "detectorIds": [],
                "triggers": None,
                "actionFilters": [],
                "config": {},
                "environment": None,
                "organizationId": "1",
                "createdBy": None,
                "lastTriggered": None,
                "owner": None,
            },
        )
        run(sentry_reconciler(standin, clock, settings))
        standin.named(standin.detectors, "[louieops] API p99 latency")[0]["conditionGroup"]["conditions"][0][
            "comparison"
        ] = 1
        standin.cron_monitors["simplylouie-backup-db"]["config"]["max_runtime"] = 1
        standin.named(standin.workflows, "[louieops] Error spike")[0]["config"] = {"frequency": 60}
        retired = dict(standin.named(standin.detectors, "[louieops] API p50 latency")[0], name="[louieops] retired")
        standin._store(standin.detectors, retired)
        client = sentry_reconciler(standin, clock, settings).client
        client.create_cron_monitor(
            {
                "project": "simplylouie-api",
                "name": "[louieops] cron retired",
                "slug": "retired",
                "config": {"schedule": "0 1 * * *"},
            }
        )
        run(sentry_reconciler(standin, clock, project_settings(sentry_api_url=standin.url, sentry_prune=True, **SLACK)))
        client.http.json("GET", f"/api/0/organizations/{client.org}/monitors/simplylouie-backup-db/checkins/")
        standin.faults.add("status", method="GET", path=f"{ORG_PATH}/workflows/", status=404, body="")
        with pytest.raises(PlanError):
            run(
                sentry_reconciler(
                    standin, clock, project_settings(sentry_api_url=standin.url, sentry_api_mode="workflows")
                )
            )

        seen = check_answers(standin, SENTRY, SENTRY_OPAQUE, NOT_IN_SENTRY_DOCUMENT)
    assert {r for r in SentryStandIn.ROUTES if r not in NOT_IN_SENTRY_DOCUMENT} - UNUSED <= seen


#: An event's ``data.object`` is the API resource the event is about (an invoice, a charge): any object.
STRIPE_OPAQUE = frozenset({("data", ITEM, "data", "object")})


def stripe_parameter(key: str) -> str:
    """The documented parameter a query key belongs to: ``created[gt]`` is ``created`` (deepObject)."""
    return key.split("[", 1)[0]


def test_every_stripe_answer_and_query_follows_the_document():
    """The webhook check's requests (every page, a 429 waited out, a refused key, a denied path) and the
    stand-in's answers to them, success and error, against Stripe's document."""
    from louieops import server_scripts
    from louieops.resources import file
    from tests.unit.helpers import default_settings, load_script

    check = load_script(file("scripts/louieops_stripe.py"), "louieops_stripe")
    with Stripe(token="rk_test_doc") as stripe:
        config = server_scripts.stripe_config(default_settings(maintenance_stripe_api_url=stripe.url), "rk_test_doc")
        for index in range(120):
            stripe.add_endpoint(
                f"https://api.simplylouie.com/webhooks/{index}", status="disabled" if index % 7 else "enabled"
            )
        for index in range(130):
            stripe.add_event("invoice.paid", delivered=index % 3 == 0)
        stripe.limited = 1
        assert check.check(config, {}, lambda *call: None, sleep=lambda s: None)[0] == 1
        assert check.check({**config, "api_key": "rk_test_wrong"}, {}, lambda *call: None)[0] == 3
        stripe.denied = {"/v1/webhook_endpoints"}
        assert check.check(config, {}, lambda *call: None)[0] == 3
        stripe.denied = set()
        with pytest.raises(check.CouldNotCheck):
            check.get(config, "/v1/events", {"limit": 1000})  # a 400 is checked too

        seen = check_answers(stripe, STRIPE, STRIPE_OPAQUE)
        doc = load(STRIPE)
        for record in stripe.recorded:
            documented = {p["name"] for p in operation(doc, record.method, record.template)["parameters"]}
            assert {stripe_parameter(key) for key in record.query} <= documented, record.query
    assert set(Stripe.ROUTES) <= seen
    statuses = {record.status for record in stripe.recorded}
    assert {200, 400, 401, 403, 429} <= statuses, statuses


def test_the_checks_would_catch_an_invented_field_and_a_wrong_type():
    doc = load(SENTRY)
    detectors = f"{ORG_PATH}/detectors/{{detector_id}}/"
    answer = {
        "id": "1",
        "name": "n",
        "type": "metric_issue",
        "enabled": True,
        "projectId": "1",
        "workflowIds": [],
        "dateCreated": "2026-01-01T00:00:00Z",
        "dateUpdated": "2026-01-01T00:00:00Z",
        "config": {},
        "conditionGroup": None,
        "dataSources": [{"id": "1", "queryObj": {"queryType": 1, "snubaQuery": {"aggregate": "count()"}}}],
    }
    assert undeclared_keys(SENTRY, "GET", detectors, 200, answer) == ["dataSources.[].queryObj.queryType"]
    assert optional_keys(SENTRY, "GET", detectors, 200, {**answer, "owner": None}) == ["owner"]
    with pytest.raises(jsonschema.ValidationError):
        validate_response(doc, "GET", detectors, 200, {**answer, "enabled": "yes"})
    with pytest.raises(jsonschema.ValidationError):
        validate_response(load(UPTIMEROBOT), "GET", "/monitors", 200, {"data": [{"id": 1}], "nextLink": None})
