"""Pure reconcile logic: read-back normalisation, diff and plan, without HTTP."""

from __future__ import annotations

import pytest

from louieops.clients.plan import PlanError
from louieops.clients.sentry import legacy
from louieops.clients.sentry.models import (
    MetricMonitorSpec,
    Route,
    detector_canonical,
    detector_fields,
    issue_workflow,
    workflow_canonical,
)
from louieops.clients.sentry.reconcile import issue_alert_specs, metric_monitor_specs
from louieops.clients.uptimerobot.models import Monitor, MonitorSpec
from louieops.clients.uptimerobot.reconcile import desired, plan
from tests.standins.fixtures import SLACK, project_settings

TAG = "louieops"
KEYWORD = MonitorSpec(
    name="API & Health",
    type="KEYWORD",
    url="https://api.example.com/health?a=1&b=2",
    interval=300,
    timeout=30,
    contacts=frozenset({7, 9}),
    keyword='{"status":"healthy"}',
    keyword_type="ALERT_NOT_EXISTS",
    keyword_case=0,
    http_method="GET",
)
PORT = MonitorSpec(name="ws", type="PORT", url="ws.example.com", interval=300, timeout=30, port=443)


def api_monitor(**fields):
    base = {
        "id": 5,
        "friendlyName": "API &amp; Health",
        "type": "KEYWORD",
        "url": "https://api.example.com/health?a=1&amp;b=2",
        "interval": 300,
        "timeout": 30,
        "assignedAlertContacts": [
            {"alertContactId": 9, "threshold": 0, "recurrence": 0},
            {"alertContactId": 7, "threshold": 0, "recurrence": 0},
        ],
        "tags": [{"id": 1, "name": TAG, "color": "#fff"}],
        "keywordValue": "{&quot;status&quot;:&quot;healthy&quot;}",
        "keywordType": "ALERT_NOT_EXISTS",
        "keywordCaseType": "CaseSensitive",
        "httpMethodType": None,
    }
    return Monitor.from_api({**base, **fields})


def test_read_back_quirks_do_not_show_as_drift():
    assert plan([KEYWORD], [api_monitor()], TAG, prune=False).actions == []
    port = Monitor.from_api(
        {
            "id": 6,
            "friendlyName": "ws",
            "type": 4,
            "url": "tcp://ws.example.com:443",
            "port": "443",
            "interval": "300",
            "timeout": 30,
            "assignedAlertContacts": None,
            "tags": [{"name": TAG}],
        }
    )
    assert plan([PORT], [port], TAG, prune=False).actions == []


def test_drift_lists_each_changed_field():
    [action] = plan(
        [KEYWORD], [api_monitor(interval=60, keywordCaseType=1, httpMethodType="HEAD")], TAG, prune=False
    ).actions
    assert action.verb == "update" and not action.adopt
    assert action.changes == ("interval: 60 -> 300", "keyword_case: 1 -> 0", "http_method: 'HEAD' -> 'GET'")


def test_an_untagged_same_named_monitor_is_adopted_and_a_type_change_replaces():
    [adopt] = plan([KEYWORD], [api_monitor(tags=[])], TAG, prune=False).actions
    assert (adopt.verb, adopt.adopt, adopt.changes) == ("update", True, ("managed_tag: None -> 'louieops'",))
    [replace] = plan([KEYWORD], [api_monitor(type="HTTP")], TAG, prune=False).actions
    assert replace.verb == "replace" and replace.object_id == "5"


def test_prune_touches_only_tagged_monitors():
    others = [
        api_monitor(id=11, friendlyName="old", tags=[{"name": TAG}]),
        api_monitor(id=12, friendlyName="theirs", tags=[{"name": "prod"}]),
    ]
    assert [a.verb for a in plan([KEYWORD], [api_monitor(), *others], TAG, prune=False).actions] == []
    [delete] = plan([KEYWORD], [api_monitor(), *others], TAG, prune=True).actions
    assert (delete.verb, delete.name, delete.object_id) == ("delete", "old", "11")


def test_two_monitors_with_a_managed_name_stop_the_plan():
    with pytest.raises(PlanError, match="two UptimeRobot monitors are named 'API & Health'"):
        plan([KEYWORD], [api_monitor(), api_monitor(id=6)], TAG, prune=False)


def test_seed_monitors_from_settings():
    specs = desired(project_settings(), {"email": 1, "slack": 2})
    health = next(s for s in specs if s.name == "API Health Check")
    assert (health.type, health.url, health.keyword_type, health.http_method) == (
        "KEYWORD",
        "https://api.simplylouie.com/health",
        "ALERT_NOT_EXISTS",
        "GET",
    )
    ws = next(s for s in specs if s.type == "PORT")
    assert (ws.url, ws.port, ws.contacts) == ("ws.simplylouie.com", 443, frozenset({1, 2}))


def test_metric_monitor_thresholds_come_from_the_kpi_table():
    settings = project_settings(**SLACK)
    p99, rate = metric_monitor_specs(settings)[1:]
    assert (p99.warning, p99.critical, p99.below) == (2000, 5000, False)
    assert (rate.warning, rate.critical) == pytest.approx((0.01, 0.05))
    assert p99.critical_route.slack == (("alerts-high", "C0HIGH001"),) and p99.critical_route.email


def test_a_lower_is_worse_kpi_alerts_below_its_thresholds():
    route = Route(slack=(), email=True, integration_id=None)
    spec = MetricMonitorSpec(
        name="uptime",
        aggregate="count()",
        query="",
        window_minutes=60,
        below=True,
        warning=99.5,
        critical=99.0,
        environment=None,
        warning_route=route,
        critical_route=route,
    )
    conditions = detector_fields(spec)["conditionGroup"]["conditions"]
    assert [(c["type"], c["comparison"], c["conditionResult"]) for c in conditions] == [
        ("lt", 99.0, 75),
        ("lt", 99.5, 50),
        ("gte", 99.5, 0),
    ]


def test_server_filled_fields_and_order_do_not_count_as_drift():
    spec = issue_alert_specs(project_settings(**SLACK))[2]
    fields = issue_workflow(spec, "7")
    answer = {
        **fields,
        "id": "99",
        "organizationId": "1",
        "dateCreated": "x",
        "createdBy": "1",
        "detectorIds": [7],
        "config": {"frequency": 5.0},
        "triggers": {
            "id": "3",
            "logicType": "any-short",
            "actions": [],
            "conditions": [dict(c, id=str(i)) for i, c in enumerate(reversed(fields["triggers"]["conditions"]))],
        },
        "actionFilters": [
            {
                "id": "4",
                "logicType": "all",
                "conditions": fields["actionFilters"][0]["conditions"],
                "actions": [
                    dict(a, id="8", status="active", config={**a["config"], "targetDisplay": "#renamed"})
                    for a in reversed(fields["actionFilters"][0]["actions"])
                ],
            }
        ],
    }
    assert workflow_canonical(answer) == workflow_canonical(fields)


def test_detector_data_sources_compare_in_flat_and_nested_form():
    spec = metric_monitor_specs(project_settings())[0]
    fields = detector_fields(spec)
    source = fields["dataSources"][0]
    nested = {
        **fields,
        "config": {"detectionType": "static", "thresholdPeriod": 1},
        "dataSources": [
            {
                "id": "1",
                "type": "snuba_query_subscription",
                "queryObj": {"queryType": 1, "snubaQuery": {**source, "timeWindow": 300.0}},
            }
        ],
    }
    assert detector_canonical(nested) == detector_canonical(fields)


def test_legacy_rules_ignore_injected_names_and_channel_prefixes():
    spec = issue_alert_specs(project_settings(**SLACK))[1]
    fields = legacy.rule_fields(spec)
    answer = {
        **fields,
        "id": "3",
        "conditions": [dict(c, name="label", value="10") for c in fields["conditions"]],
        "actions": [
            dict(a, channel=a["channel"].lstrip("#")) if "channel" in a else a for a in reversed(fields["actions"])
        ],
    }
    assert legacy.rule_canonical(answer) == legacy.rule_canonical(fields)
