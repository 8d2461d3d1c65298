"""Sentry models: the desired alerts and metric monitors (service-neutral specs, built by the caller), and
their form in the current API (workflows = "Alerts", detectors = "Monitors").

Every object is compared in a canonical form built from both sides, of the fields the read-back has:
server-filled keys (ids, organizationId, dates, createdBy, status, targetDisplay, extrapolationMode, ...)
and sent-but-not-returned ones (a data source's ``queryType``) are dropped, numbers are floats, lists
whose order the server does not keep are sorted, and the e-mail ``fallthroughType`` that the server
defaults is filled in. Request bodies use the OpenAPI document's snake_case top-level names
(``detector_ids``, ``action_filters``, ``condition_group``, ``data_sources``); free-form nested objects use
the camelCase of the document's examples. Reads accept either case.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

ERROR_DETECTOR_TYPE = "error"
PRIORITY_HIGH, PRIORITY_MEDIUM, PRIORITY_OK = 75, 50, 0


@dataclass(frozen=True)
class Route:
    """Where an alert goes: Slack channels as (name, channel id) pairs of one Slack integration, and e-mail
    to the issue owners (falling back to the project's active members)."""

    slack: tuple[tuple[str, str], ...]
    email: bool
    integration_id: str | None


@dataclass(frozen=True)
class IssueAlertSpec:
    name: str
    trigger: str  # new_issue | spike | unhandled
    frequency_minutes: int
    environment: str | None
    route: Route
    events: int | None = None  # spike: more than this many events ...
    interval: str | None = None  # ... within this interval (5m)


@dataclass(frozen=True)
class MetricMonitorSpec:
    name: str
    aggregate: str
    query: str
    window_minutes: int
    below: bool  # alert when the value falls below the thresholds (uptime-style KPIs)
    warning: float
    critical: float
    environment: str | None
    warning_route: Route
    critical_route: Route


@dataclass(frozen=True)
class Remote:
    """An object as listed: id, exact name, canonical form (for diffs) and the raw answer."""

    id: str
    name: str
    canonical: dict
    raw: dict


# --- canonical helpers -----------------------------------------------------------------------------


def camel(value: Any) -> Any:
    """snake_case keys to camelCase, recursively (the server accepts both, answers camelCase)."""
    if isinstance(value, dict):
        return {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), k): camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel(v) for v in value]
    return value


def number(value: Any) -> Any:
    """Numbers (and numeric strings of condition values) as floats; booleans and other strings unchanged."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dict):
        return {k: number(v) for k, v in value.items()}
    return value


def sorted_list(items) -> list:
    return sorted(items, key=lambda item: json.dumps(item, sort_keys=True, default=str))


def _condition(node: dict) -> dict:
    return {
        "type": node.get("type"),
        "comparison": number(node.get("comparison")),
        "conditionResult": number(node.get("conditionResult", True)),
    }


def _action(node: dict) -> dict:
    config = node.get("config") or {}
    data = {k: v for k, v in (node.get("data") or {}).items() if v not in (None, "")}
    if node.get("type") == "email":
        data.setdefault("fallthroughType", "ActiveMembers")
    target = config.get("targetIdentifier")
    integration = node.get("integrationId")
    return {
        "type": node.get("type"),
        "integrationId": None if integration in (None, "") else str(integration),
        "targetType": config.get("targetType"),
        "targetIdentifier": None if target in (None, "") else str(target),
        "data": data,
    }


def _group(node: dict) -> dict:
    return {
        "logicType": node.get("logicType"),
        "conditions": sorted_list(_condition(c) for c in node.get("conditions") or ()),
        "actions": sorted_list(_action(a) for a in node.get("actions") or ()),
    }


# --- workflows (alerts) ----------------------------------------------------------------------------


def route_actions(route: Route) -> list[dict]:
    actions = [
        {
            "type": "slack",
            "integrationId": route.integration_id,
            "data": {},
            "config": {"targetType": "specific", "targetIdentifier": channel_id, "targetDisplay": channel},
        }
        for channel, channel_id in route.slack
    ]
    if route.email:
        actions.append(
            {
                "type": "email",
                "integrationId": None,
                "data": {"fallthroughType": "ActiveMembers"},
                "config": {"targetType": "issue_owners", "targetIdentifier": None, "targetDisplay": None},
            }
        )
    return actions


def _true(kind: str, comparison: Any = True, result: bool = True) -> dict:
    return {"type": kind, "comparison": comparison, "conditionResult": result}


def new_or_returning() -> list[dict]:
    """Trigger conditions of an issue that is new, regressed (resolved, then seen again) or reappeared."""
    return [_true("first_seen_event"), _true("regression_event"), _true("reappeared_event")]


def issue_alert_parts(spec: IssueAlertSpec) -> tuple[list[dict], list[dict]]:
    """(trigger conditions, action-filter conditions) of an issue alert."""
    if spec.trigger == "new_issue":
        return [_true("first_seen_event")], []
    if spec.trigger == "spike":  # no trigger condition: every event is checked against the frequency filter
        return [], [_true("event_frequency_count", {"value": spec.events, "interval": spec.interval})]
    # unhandled: a new, regressed or reappeared issue whose event is an unhandled error
    return (
        new_or_returning(),
        [_true("event_attribute", {"attribute": "error.unhandled", "match": "eq", "value": "true"})],
    )


def workflow_fields(
    name: str,
    detector_ids: list[str],
    frequency: int,
    environment: str | None,
    triggers: list[dict],
    action_filters: list[dict],
) -> dict:
    """The workflow in response (camelCase) form; ``workflow_body`` turns it into a request."""
    return {
        "name": name,
        "enabled": True,
        "environment": environment,
        "config": {"frequency": frequency},
        "detectorIds": detector_ids,
        "triggers": {"logicType": "any-short", "conditions": triggers, "actions": []},
        "actionFilters": action_filters,
    }


def issue_workflow(spec: IssueAlertSpec, error_detector_id: str) -> dict:
    triggers, filters = issue_alert_parts(spec)
    action_filter = {"logicType": "all", "conditions": filters, "actions": route_actions(spec.route)}
    return workflow_fields(
        spec.name, [error_detector_id], spec.frequency_minutes, spec.environment, triggers, [action_filter]
    )


def metric_workflow(spec: MetricMonitorSpec, detector_id: str) -> dict:
    """Priority-based routing, as Sentry's own legacy-alert migration does: critical (high priority) to
    the critical route, warning (medium, not high) to the warning route."""
    critical = {
        "logicType": "all",
        "conditions": [_true("issue_priority_greater_or_equal", PRIORITY_HIGH)],
        "actions": route_actions(spec.critical_route),
    }
    warning = {
        "logicType": "all",
        "conditions": [
            _true("issue_priority_greater_or_equal", PRIORITY_MEDIUM),
            _true("issue_priority_greater_or_equal", PRIORITY_HIGH, result=False),
        ],
        "actions": route_actions(spec.warning_route),
    }
    filters = [f for f in (critical, warning) if f["actions"]]  # a tier with no reachable channel: no filter
    return workflow_fields(spec.name, [detector_id], 0, spec.environment, [], filters)


def workflow_canonical(fields: dict) -> dict:
    fields = camel(fields)
    return {
        "enabled": fields.get("enabled", True),
        "environment": fields.get("environment") or None,
        "frequency": number((fields.get("config") or {}).get("frequency")),
        "detectorIds": sorted(str(i) for i in fields.get("detectorIds") or ()),
        "triggers": _group(fields.get("triggers") or {}),
        "actionFilters": sorted_list(_group(f) for f in fields.get("actionFilters") or ()),
    }


def workflow_body(fields: dict) -> dict:
    """POST/PUT body (full: PUT overwrites)."""
    triggers = fields["triggers"]
    return {
        "name": fields["name"],
        "enabled": fields["enabled"],
        "environment": fields["environment"],
        "config": fields["config"],
        "detector_ids": [int(i) for i in fields["detectorIds"]],
        "triggers": {
            "logic_type": triggers["logicType"],
            "conditions": triggers["conditions"],
            "actions": triggers["actions"],
        },
        "action_filters": fields["actionFilters"],
    }


# --- detectors (metric monitors) -------------------------------------------------------------------


def detector_fields(spec: MetricMonitorSpec) -> dict:
    over, back = ("lt", "gte") if spec.below else ("gt", "lte")
    return {
        "name": spec.name,
        "type": "metric_issue",
        "enabled": True,
        "dataSources": [
            {
                "aggregate": spec.aggregate,
                "dataset": "events_analytics_platform",
                "eventTypes": ["trace_item_span"],
                "query": spec.query,
                "queryType": 1,
                "timeWindow": spec.window_minutes * 60,
                "environment": spec.environment,
                "extrapolationMode": "unknown",
            }
        ],
        "conditionGroup": {
            "logicType": "any",
            "conditions": [
                {"type": over, "comparison": spec.critical, "conditionResult": PRIORITY_HIGH},
                {"type": over, "comparison": spec.warning, "conditionResult": PRIORITY_MEDIUM},
                {"type": back, "comparison": spec.warning, "conditionResult": PRIORITY_OK},
            ],
        },
        "config": {"detectionType": "static"},
    }


def _data_source(source: dict) -> dict:
    """Flat (request) or nested (``queryObj.snubaQuery``, as the API answers) data source, with the fields
    the read-back has: ``queryType`` is sent but not read back (the document's examples carry none), so it
    is not compared."""
    query = (source.get("queryObj") or {}).get("snubaQuery") or source
    return {
        "aggregate": query.get("aggregate"),
        "dataset": query.get("dataset"),
        "query": query.get("query") or "",
        "timeWindow": number(query.get("timeWindow")),
        "environment": query.get("environment") or None,
        "eventTypes": sorted(query.get("eventTypes") or source.get("eventTypes") or ()),
    }


def detector_canonical(fields: dict) -> dict:
    fields = camel(fields)
    group = fields.get("conditionGroup") or {}
    return {
        "type": fields.get("type"),
        "enabled": fields.get("enabled", True),
        "dataSources": sorted_list(_data_source(s) for s in fields.get("dataSources") or ()),
        "conditionGroup": {
            "logicType": group.get("logicType"),
            "conditions": sorted_list(_condition(c) for c in group.get("conditions") or ()),
        },
        "detectionType": (fields.get("config") or {}).get("detectionType"),
    }


def detector_body(fields: dict) -> dict:
    group = fields["conditionGroup"]
    return {
        "name": fields["name"],
        "type": fields["type"],
        "enabled": fields["enabled"],
        "data_sources": fields["dataSources"],
        "config": fields["config"],
        "condition_group": {"logic_type": group["logicType"], "conditions": group["conditions"]},
    }


def remote(data: dict, canonical, key: str = "name") -> Remote:
    """A listed object, known by ``key`` (the name; a cron monitor's slug)."""
    return Remote(id=str(data["id"]), name=str(data.get(key) or ""), canonical=canonical(data), raw=data)
