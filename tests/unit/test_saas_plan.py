"""Pure reconcile logic: read-back normalisation, diff and plan, without HTTP."""

from __future__ import annotations

import logging

import pytest

from louieops.clients.http import ApiError
from louieops.clients.plan import (
    FIRST_POLL_WAIT,
    MAX_POLL_WAIT,
    MAX_WRITE_TRIES,
    Action,
    PlanError,
    Settle,
    write_with_relist,
)
from louieops.clients.sentry import legacy
from louieops.clients.sentry.models import (
    MetricMonitorSpec,
    Route,
    detector_canonical,
    detector_fields,
    issue_workflow,
    workflow_canonical,
)
from louieops.clients.uptimerobot.models import Monitor, MonitorSpec
from louieops.clients.uptimerobot.reconcile import plan, with_contact_ids
from tasks.saas import sentry_issue_alerts, sentry_metric_monitors, uptimerobot_monitors
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


def test_two_monitors_with_a_managed_name_adopt_the_oldest_and_report_the_other():
    result = plan([KEYWORD], [api_monitor(id=16, interval=60), api_monitor(id=6)], TAG, prune=True)
    assert result.actions == [] and result.current["API & Health"].id == "6"
    assert result.notes == [
        "2 UptimeRobot monitors are named 'API & Health': managing the oldest (id 6) and leaving id 16 alone; "
        "delete what is not needed by hand"
    ]


def test_seed_monitors_from_settings():
    specs = [with_contact_ids(spec, {"email": 1, "slack": 2}) for spec in uptimerobot_monitors(project_settings())]
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
    p99, rate = sentry_metric_monitors(settings)[1:3]
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
    spec = sentry_issue_alerts(project_settings(**SLACK))[2]
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
    spec = sentry_metric_monitors(project_settings())[0]
    fields = detector_fields(spec)
    source = fields["dataSources"][0]
    snuba = {k: v for k, v in source.items() if k != "queryType"}  # sent, but not in the official read-back
    nested = {
        **fields,
        "config": {"detectionType": "static"},
        "dataSources": [
            {"id": "1", "type": "snuba_query_subscription", "queryObj": {"snubaQuery": {**snuba, "timeWindow": 300.0}}}
        ],
    }
    assert source["queryType"] == 1
    assert detector_canonical(nested) == detector_canonical(fields)


def test_legacy_rules_ignore_injected_names_and_channel_prefixes():
    spec = sentry_issue_alerts(project_settings(**SLACK))[1]
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


class Writes:
    """Scripted answers of ``write`` (an exception, or True/False) and of ``find`` after each one."""

    def __init__(self, answers, found):
        self.answers, self.found, self.calls, self.sleeps = list(answers), list(found), [], []

    def write(self, current):
        self.calls.append(current)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def run(self, current=None, settle_seconds=600, **options):
        write_with_relist(
            Action("create" if current is None else "update", "test object", "x"),
            self.write,
            lambda: self.found.pop(0),
            lambda obj: obj == "wanted",
            current=current,
            sleep=self.sleeps.append,
            log=logging.getLogger("test"),
            settle=Settle(settle_seconds, "raise test_settle_minutes"),
            **options,
        )


def test_a_create_without_an_answer_is_followed_by_listings_never_by_a_second_create():
    writes = Writes([ApiError("POST", "/x", None, "timeout")], [None, None, None, "wanted"])
    writes.run()
    assert writes.calls == [None]
    assert writes.sleeps == [FIRST_POLL_WAIT, 2 * FIRST_POLL_WAIT, 4 * FIRST_POLL_WAIT]


def test_an_unclear_create_that_never_shows_stops_the_run_saying_what_to_check():
    polls = [None] * 20
    writes = Writes([ApiError("POST", "/x", 502, "bad gateway")], polls)
    with pytest.raises(PlanError) as info:
        writes.run(settle_seconds=300)
    assert writes.calls == [None]  # never sent twice
    assert sum(writes.sleeps) == 300 and max(writes.sleeps) <= MAX_POLL_WAIT
    message = str(info.value)
    assert message.startswith("create test object 'x' got no clear answer (POST /x failed (HTTP 502): bad gateway)")
    assert "within 5 minutes. Nothing was created twice" in message
    assert "look for a test object named 'x': if it is there, the next deploy adopts it" in message
    assert message.endswith("(raise test_settle_minutes).")


def test_a_found_create_that_differs_is_updated_not_created_again():
    writes = Writes([ApiError("POST", "/x", 500, "boom"), True], ["stale"])
    writes.run()
    assert writes.calls == [None, "stale"] and writes.sleeps == []


def test_a_clear_error_is_raised_at_once_and_an_unclear_update_after_the_last_try():
    clear = Writes([ApiError("POST", "/x", 400, "bad")], [])
    with pytest.raises(ApiError, match="400"):
        clear.run()
    assert len(clear.calls) == 1
    unclear = Writes([ApiError("PATCH", "/x", 503, "busy")] * MAX_WRITE_TRIES, ["stale"] * MAX_WRITE_TRIES)
    with pytest.raises(ApiError, match="503"):
        unclear.run(current="stale")
    assert len(unclear.calls) == MAX_WRITE_TRIES


def test_a_429_to_a_create_is_a_clear_refusal():
    refused = Writes([ApiError("POST", "/x", 429, "slow down")], [])
    with pytest.raises(ApiError, match="429"):
        refused.run()
    assert refused.calls == [None]


def test_a_404_to_a_create_is_unclear_only_when_asked():
    with pytest.raises(ApiError, match="404"):
        Writes([ApiError("POST", "/x", 404, "gone")], []).run()
    Writes([ApiError("POST", "/x", 404, "gone")], ["wanted"]).run(create_404_unclear=True)


def test_updates_whose_answers_never_show_the_object_end_in_a_plan_error():
    writes = Writes([False] * MAX_WRITE_TRIES, ["stale"] * MAX_WRITE_TRIES)
    with pytest.raises(
        PlanError, match=f"update test object 'x': still not in the desired state after {MAX_WRITE_TRIES}"
    ):
        writes.run(current="stale")
