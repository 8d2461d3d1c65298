"""The same specs in the legacy API of older self-hosted Sentry: issue alert rules (``/projects/{org}/{project}/
rules/``) and metric alert rules (``/organizations/{org}/alert-rules/``). Both PUTs overwrite the whole
object; metric-alert triggers and actions keep their ids in a PUT so they are not deleted and re-created.
"""

from __future__ import annotations

from .models import IssueAlertSpec, MetricMonitorSpec, Route, number, sorted_list

_RULES = "sentry.rules"
FIRST_SEEN = f"{_RULES}.conditions.first_seen_event.FirstSeenEventCondition"
REGRESSION = f"{_RULES}.conditions.regression_event.RegressionEventCondition"
REAPPEARED = f"{_RULES}.conditions.reappeared_event.ReappearedEventCondition"
FREQUENCY = f"{_RULES}.conditions.event_frequency.EventFrequencyCondition"
ATTRIBUTE = f"{_RULES}.filters.event_attribute.EventAttributeFilter"
SLACK = "sentry.integrations.slack.notify_action.SlackNotifyServiceAction"
EMAIL = "sentry.mail.actions.NotifyEmailAction"
_SPAN_TO_TRANSACTION = {"span.duration": "transaction.duration"}


def _rule_actions(route: Route) -> list[dict]:
    actions = [
        {"id": SLACK, "workspace": route.integration_id, "channel": f"#{name}", "channel_id": channel_id}
        for name, channel_id in route.slack
    ]
    if route.email:
        actions.append({"id": EMAIL, "targetType": "IssueOwners", "fallthroughType": "ActiveMembers"})
    return actions


def rule_fields(spec: IssueAlertSpec) -> dict:
    filters: list[dict] = []
    if spec.trigger == "new_issue":
        conditions = [{"id": FIRST_SEEN}]
    elif spec.trigger == "spike":
        conditions = [{"id": FREQUENCY, "comparisonType": "count", "value": spec.events, "interval": spec.interval}]
    else:
        conditions = [{"id": FIRST_SEEN}, {"id": REGRESSION}, {"id": REAPPEARED}]
        filters = [{"id": ATTRIBUTE, "attribute": "error.unhandled", "match": "eq", "value": "true"}]
    return {
        "name": spec.name,
        "actionMatch": "any",
        "filterMatch": "all",
        "frequency": max(spec.frequency_minutes, 5),
        "environment": spec.environment,
        "conditions": conditions,
        "filters": filters,
        "actions": _rule_actions(spec.route),
    }


def _node(node: dict) -> dict:
    out = {
        k: float(v) if k == "value" and str(v).replace(".", "", 1).isdigit() else v
        for k, v in node.items()
        if k not in ("name", "label") and v not in (None, "")
    }
    if "workspace" in out:
        out["workspace"] = str(int(out["workspace"]))
    if "channel" in out:
        out["channel"] = str(out["channel"]).lstrip("#")
    if out.get("id") == EMAIL:
        out.setdefault("fallthroughType", "ActiveMembers")
    return out


def rule_canonical(fields: dict) -> dict:
    return {
        "actionMatch": fields.get("actionMatch"),
        "filterMatch": fields.get("filterMatch") or "all",
        "frequency": number(fields.get("frequency")),
        "environment": fields.get("environment") or None,
        "conditions": sorted_list(_node(n) for n in fields.get("conditions") or ()),
        "filters": sorted_list(_node(n) for n in fields.get("filters") or ()),
        "actions": sorted_list(_node(n) for n in fields.get("actions") or ()),
    }


def rule_body(fields: dict) -> dict:
    return dict(fields)


def _trigger_actions(route: Route) -> list[dict]:
    actions = [
        {
            "type": "slack",
            "targetType": "specific",
            "targetIdentifier": name,
            "inputChannelId": channel_id,
            "integrationId": int(route.integration_id),
        }
        for name, channel_id in route.slack
    ]
    if route.email:
        actions.append({"type": "email", "targetType": "team", "targetIdentifier": None})
    return actions


def alert_rule_fields(spec: MetricMonitorSpec, project: str) -> dict:
    aggregate = spec.aggregate
    for span, transaction in _SPAN_TO_TRANSACTION.items():
        aggregate = aggregate.replace(span, transaction)
    return {
        "name": spec.name,
        "projects": [project],
        "environment": spec.environment,
        "dataset": "transactions",
        "queryType": 1,
        "eventTypes": ["transaction"],
        "aggregate": aggregate,
        "query": spec.query.replace("is_transaction:true", "").strip(),
        "timeWindow": spec.window_minutes,
        "thresholdType": 1 if spec.below else 0,
        "triggers": [
            {"label": "critical", "alertThreshold": spec.critical, "actions": _trigger_actions(spec.critical_route)},
            {"label": "warning", "alertThreshold": spec.warning, "actions": _trigger_actions(spec.warning_route)},
        ],
    }


def _trigger_action(action: dict) -> dict:
    integration = action.get("integrationId")
    return {
        "type": action.get("type"),
        "targetType": action.get("targetType"),
        "targetIdentifier": None if action.get("type") == "email" else str(action.get("targetIdentifier") or ""),
        "integrationId": None if integration in (None, "") else str(integration),
    }


def alert_rule_canonical(fields: dict) -> dict:
    return {
        "aggregate": fields.get("aggregate"),
        "dataset": fields.get("dataset"),
        "query": fields.get("query") or "",
        "timeWindow": number(fields.get("timeWindow")),
        "thresholdType": number(fields.get("thresholdType")),
        "environment": fields.get("environment") or None,
        "triggers": sorted_list(
            {
                "label": t.get("label"),
                "alertThreshold": number(t.get("alertThreshold")),
                "actions": sorted_list(_trigger_action(a) for a in t.get("actions") or ()),
            }
            for t in fields.get("triggers") or ()
        ),
    }


def alert_rule_body(fields: dict, current: dict | None = None) -> dict:
    """Full body; with ``current`` the existing trigger and action ids are carried over by label/position."""
    body = {**fields, "triggers": [dict(t, actions=[dict(a) for a in t["actions"]]) for t in fields["triggers"]]}
    if current:
        old = {t.get("label"): t for t in current.get("triggers") or ()}
        for trigger in body["triggers"]:
            previous = old.get(trigger["label"])
            if previous and previous.get("id") is not None:
                trigger["id"] = previous["id"]
                for action, old_action in zip(trigger["actions"], previous.get("actions") or (), strict=False):
                    if old_action.get("id") is not None and old_action.get("type") == action["type"]:
                        action["id"] = old_action["id"]
    return body
