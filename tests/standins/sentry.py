"""Sentry API stand-in: workflows ("Alerts") and detectors ("Monitors"), plus the legacy ``/rules/`` and
``/alert-rules/`` endpoints, with the real API's behaviours.

- lists paginate with the ``Link`` header (``rel="next"; results="true|false"; cursor="0:<offset>:0"``),
  ``per_page`` default and max 100;
- creates answer 201, updates (PUT, full overwrite) 200, deletes 204 (legacy issue rules 202);
- input keys may be snake_case or camelCase, answers are camelCase, with server-filled fields (ids on
  every node, organizationId, dates, createdBy, action status and targetDisplay, the e-mail fallthroughType
  default) and lists in another order than sent; detector data sources answer in the nested
  ``queryObj.snubaQuery`` form;
- ``mode``: "workflows" (current API; legacy endpoints also work), "legacy" (an older self-hosted Sentry:
  workflows/detectors answer 404), "gone" (workflows 404, legacy 410 ``{"message": "This API no longer
  exists."}``).
"""

from __future__ import annotations

import copy
import re
from urllib.parse import urlencode

from .base import Reply, StandIn, main

ORG, PROJECT, PROJECT_ID = "simplylouie", "simplylouie-api", "4501"
_NOW = "2026-11-26T12:00:00.000000Z"


def camel(value):
    if isinstance(value, dict):
        return {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), k): camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel(v) for v in value]
    return value


class SentryStandIn(StandIn):
    _O = "/api/0/organizations/{org}"
    ROUTES = {
        ("GET", _O + "/workflows/"): "list_workflows",
        ("POST", _O + "/workflows/"): "create_workflow",
        ("GET", _O + "/workflows/{id}/"): "get_workflow",
        ("PUT", _O + "/workflows/{id}/"): "update_workflow",
        ("DELETE", _O + "/workflows/{id}/"): "delete_workflow",
        ("GET", _O + "/detectors/"): "list_detectors",
        ("POST", _O + "/projects/{project}/detectors/"): "create_detector",
        ("GET", _O + "/detectors/{id}/"): "get_detector",
        ("PUT", _O + "/detectors/{id}/"): "update_detector",
        ("DELETE", _O + "/detectors/{id}/"): "delete_detector",
        ("GET", "/api/0/projects/{org}/{project}/rules/"): "list_rules",
        ("POST", "/api/0/projects/{org}/{project}/rules/"): "create_rule",
        ("PUT", "/api/0/projects/{org}/{project}/rules/{id}/"): "update_rule",
        ("DELETE", "/api/0/projects/{org}/{project}/rules/{id}/"): "delete_rule",
        ("GET", _O + "/alert-rules/"): "list_alert_rules",
        ("POST", _O + "/alert-rules/"): "create_alert_rule",
        ("PUT", _O + "/alert-rules/{id}/"): "update_alert_rule",
        ("DELETE", _O + "/alert-rules/{id}/"): "delete_alert_rule",
    }
    LEGACY = {
        "list_rules",
        "create_rule",
        "update_rule",
        "delete_rule",
        "list_alert_rules",
        "create_alert_rule",
        "update_alert_rule",
        "delete_alert_rule",
    }

    def __init__(self, *args, mode: str = "workflows", **kwargs):
        super().__init__(*args, **kwargs)
        self.mode = mode
        self.workflows: dict[str, dict] = {}
        self.detectors: dict[str, dict] = {}
        self.rules: dict[str, dict] = {}
        self.alert_rules: dict[str, dict] = {}
        self._next = 100
        for name, kind in (("Error Monitor", "error"), ("Issue Stream", "issue_stream")):
            self._store(
                self.detectors,
                {
                    "name": name,
                    "type": kind,
                    "enabled": True,
                    "dataSources": [],
                    "conditionGroup": None,
                    "config": {},
                    "workflowIds": [],
                    "projectId": PROJECT_ID,
                },
            )

    # --- routing by mode --------------------------------------------------------------------------

    def gate(self, handler):
        if self.mode in ("legacy", "gone") and handler not in self.LEGACY:
            return Reply(404, {"detail": "The requested resource does not exist"})
        if self.mode == "gone" and handler in self.LEGACY:
            return Reply(
                410,
                {"message": "This API no longer exists."},
                {"X-Sentry-Deprecation-Date": "2026-05-14T00:00:00+00:00"},
            )
        return None

    def not_found(self, method, path):
        return Reply(404, {"detail": "The requested resource does not exist"})

    def unauthorized(self):
        return Reply(401, {"detail": "Invalid token"})

    # --- helpers ----------------------------------------------------------------------------------

    def _id(self) -> str:
        self._next += 1
        return str(self._next)

    def _store(self, table: dict, record: dict) -> dict:
        record = dict(record, id=self._id(), dateCreated=_NOW, dateUpdated=_NOW)
        table[record["id"]] = record
        return record

    def _page(self, items: list[dict], query: dict, path: str) -> Reply:
        per_page = min(int(query.get("per_page", ["100"])[0]), 100)
        offset = int(query.get("cursor", ["0:0:0"])[0].split(":")[1])
        page = items[offset : offset + per_page]
        more = offset + per_page < len(items)

        def link(rel: str, cursor_offset: int, results: bool) -> str:
            cursor = f"0:{cursor_offset}:{1 if rel == 'previous' else 0}"
            params = {k: v[0] for k, v in query.items() if k != "cursor"}
            url = f"{self.url}{path}?{urlencode({**params, 'cursor': cursor})}"
            return f'<{url}>; rel="{rel}"; results="{str(results).lower()}"; cursor="{cursor}"'

        header = ", ".join(
            [link("previous", max(offset - per_page, 0), offset > 0), link("next", offset + per_page, more)]
        )
        return Reply(200, page, {"Link": header})

    @staticmethod
    def _missing() -> Reply:
        return Reply(404, {"detail": "The requested resource does not exist"})

    def _nodes(self, nodes, **defaults) -> list[dict]:
        """Server-side ids on every node, defaults filled, order not kept (reversed)."""
        return [dict({**defaults, **node}, id=self._id()) for node in reversed(nodes or [])]

    # --- workflows --------------------------------------------------------------------------------

    def _workflow(self, body: dict, existing: dict | None) -> dict | Reply:
        body = camel(body or {})
        if not body.get("name"):
            return Reply(400, {"name": ["This field is required."]})
        triggers = body.get("triggers") or {}
        if triggers.get("logicType") not in ("any", "any-short", "all", "none"):
            return Reply(400, {"triggers": {"logicType": ["This field is required."]}})
        for detector in body.get("detectorIds") or []:
            if str(detector) not in self.detectors:
                return Reply(400, {"detectorIds": [f"Detector {detector} does not exist"]})
        filters = []
        for action_filter in body.get("actionFilters") or []:
            actions = []
            for action in action_filter.get("actions") or []:
                action = dict(action, status="active")
                if action.get("type") == "email":
                    action["data"] = {"fallthroughType": "ActiveMembers", **(action.get("data") or {})}
                if action.get("type") == "slack" and not action.get("integrationId"):
                    return Reply(400, {"actionFilters": ["Slack actions need an integrationId"]})
                actions.append(action)
            filters.append(
                {
                    "id": self._id(),
                    "organizationId": "1",
                    "logicType": action_filter.get("logicType"),
                    "conditions": self._nodes(action_filter.get("conditions")),
                    "actions": self._nodes(actions),
                }
            )
        record = {
            "name": body["name"],
            "organizationId": "1",
            "createdBy": "1",
            "enabled": body.get("enabled", True),
            "environment": body.get("environment"),
            "config": body.get("config") or {},
            "detectorIds": [str(d) for d in body.get("detectorIds") or []],
            "lastTriggered": None,
            "owner": body.get("owner"),
            "triggers": {
                "id": self._id(),
                "organizationId": "1",
                "logicType": triggers["logicType"],
                "conditions": self._nodes(triggers.get("conditions")),
                "actions": [],
            },
            "actionFilters": list(reversed(filters)),
        }
        if existing:
            record.update(id=existing["id"], dateCreated=existing["dateCreated"], dateUpdated=_NOW)
            self.workflows[existing["id"]] = record
            return record
        return self._store(self.workflows, record)

    def list_workflows(self, params, query, body):
        return self._page(
            sorted(self.workflows.values(), key=lambda w: int(w["id"])),
            query,
            f"/api/0/organizations/{params['org']}/workflows/",
        )

    def create_workflow(self, params, query, body):
        record = self._workflow(body, None)
        return record if isinstance(record, Reply) else Reply(201, copy.deepcopy(record))

    def get_workflow(self, params, query, body):
        record = self.workflows.get(params["id"])
        return Reply(200, copy.deepcopy(record)) if record else self._missing()

    def update_workflow(self, params, query, body):
        existing = self.workflows.get(params["id"])
        if existing is None:
            return self._missing()
        record = self._workflow(body, existing)
        return record if isinstance(record, Reply) else Reply(200, copy.deepcopy(record))

    def delete_workflow(self, params, query, body):
        return Reply(204) if self.workflows.pop(params["id"], None) else self._missing()

    # --- detectors --------------------------------------------------------------------------------

    def _detector(self, body: dict, existing: dict | None) -> dict | Reply:
        body = camel(body or {})
        if not body.get("name") or body.get("type") != "metric_issue":
            return Reply(400, {"type": ["Only metric_issue monitors can be created here"]})
        group = body.get("conditionGroup") or {}
        conditions = group.get("conditions") or []
        if len(conditions) > 3 or not any(c.get("conditionResult") == 0 for c in conditions):
            return Reply(400, {"conditionGroup": ["Resolution condition required for metric issue detector."]})
        sources = []
        for source in body.get("dataSources") or []:
            snuba = {
                "id": self._id(),
                "dataset": source.get("dataset"),
                "query": source.get("query", ""),
                "aggregate": source.get("aggregate"),
                "timeWindow": source.get("timeWindow"),
                "environment": source.get("environment"),
                "eventTypes": source.get("eventTypes") or [],
                "extrapolationMode": source.get("extrapolationMode", "unknown"),
            }
            sources.append(
                {
                    "id": self._id(),
                    "organizationId": "1",
                    "type": "snuba_query_subscription",
                    "sourceId": self._id(),
                    "queryObj": {
                        "id": self._id(),
                        "status": 0,
                        "subscription": "sub-1",
                        "snubaQuery": snuba,
                        "queryType": source.get("queryType"),
                    },
                }
            )
        record = {
            "name": body["name"],
            "type": "metric_issue",
            "enabled": body.get("enabled", True),
            "projectId": PROJECT_ID,
            "createdBy": "1",
            "owner": None,
            "latestGroup": None,
            "workflowIds": [],
            "dataSources": sources,
            "conditionGroup": {
                "id": self._id(),
                "organizationId": "1",
                "logicType": group.get("logicType"),
                "conditions": self._nodes(conditions),
                "actions": [],
            },
            "config": {"thresholdPeriod": 1, "sensitivity": None, "seasonality": None, **(body.get("config") or {})},
        }
        if existing:
            record.update(id=existing["id"], dateCreated=existing["dateCreated"], dateUpdated=_NOW)
            self.detectors[existing["id"]] = record
            return record
        return self._store(self.detectors, record)

    def list_detectors(self, params, query, body):
        projects = query.get("project")
        items = [
            d
            for d in sorted(self.detectors.values(), key=lambda d: int(d["id"]))
            if not projects or PROJECT in projects or PROJECT_ID in projects
        ]
        return self._page(items, query, f"/api/0/organizations/{params['org']}/detectors/")

    def create_detector(self, params, query, body):
        if params["project"] not in (PROJECT, PROJECT_ID):
            return self._missing()
        record = self._detector(body, None)
        return record if isinstance(record, Reply) else Reply(201, copy.deepcopy(record))

    def get_detector(self, params, query, body):
        record = self.detectors.get(params["id"])
        return Reply(200, copy.deepcopy(record)) if record else self._missing()

    def update_detector(self, params, query, body):
        existing = self.detectors.get(params["id"])
        if existing is None:
            return self._missing()
        record = self._detector(body, existing)
        return record if isinstance(record, Reply) else Reply(200, copy.deepcopy(record))

    def delete_detector(self, params, query, body):
        return Reply(204) if self.detectors.pop(params["id"], None) else self._missing()

    # --- legacy issue alert rules -----------------------------------------------------------------

    def _rule(self, body: dict) -> dict | Reply:
        if not body or not body.get("actions"):
            return Reply(400, {"actions": ["You must add an action for this alert to fire."]})
        if not 5 <= int(body.get("frequency", 0)) <= 43200:
            return Reply(400, {"frequency": ["Ensure this value is between 5 and 43200."]})

        def node(item):
            item = dict(item, name=f"label of {item.get('id')}")
            if item.get("channel_id") and "channel" in item:
                item["channel"] = item["channel"].lstrip("#")
            if "value" in item and isinstance(item["value"], int):
                item["value"] = str(item["value"])
            return item

        return {
            "name": body["name"],
            "actionMatch": body.get("actionMatch"),
            "filterMatch": body.get("filterMatch") or "all",
            "frequency": body["frequency"],
            "environment": body.get("environment"),
            "conditions": [node(c) for c in body.get("conditions", [])],
            "filters": [node(f) for f in body.get("filters") or []],
            "actions": [node(a) for a in reversed(body["actions"])],
            "owner": None,
            "status": "active",
            "snooze": False,
            "projects": [PROJECT],
            "createdBy": {"id": 1},
        }

    def list_rules(self, params, query, body):
        return self._page(
            sorted(self.rules.values(), key=lambda r: -int(r["id"])),
            query,
            f"/api/0/projects/{params['org']}/{params['project']}/rules/",
        )

    def create_rule(self, params, query, body):
        record = self._rule(body)
        return record if isinstance(record, Reply) else Reply(201, self._store(self.rules, record))

    def update_rule(self, params, query, body):
        if params["id"] not in self.rules:
            return self._missing()
        record = self._rule(body)
        if isinstance(record, Reply):
            return record
        record.update(id=params["id"], dateCreated=_NOW)
        self.rules[params["id"]] = record
        return Reply(200, record)

    def delete_rule(self, params, query, body):
        return Reply(202) if self.rules.pop(params["id"], None) else self._missing()

    # --- legacy metric alert rules ----------------------------------------------------------------

    def _alert_rule(self, body: dict, existing: dict | None) -> dict | Reply:
        triggers = (body or {}).get("triggers") or []
        if not triggers or triggers[0].get("label") != "critical":
            return Reply(400, {"nonFieldErrors": ['Trigger 1 must be labeled "critical"']})
        old_ids = {t.get("id") for t in (existing or {}).get("triggers", [])}
        stored = []
        for trigger in triggers:
            if trigger.get("id") is not None and trigger["id"] not in old_ids:
                return Reply(400, {"triggers": ["unknown trigger id"]})
            actions = [dict(a, id=a.get("id") or self._id(), desc="Send a notification") for a in trigger["actions"]]
            stored.append(
                dict(
                    trigger,
                    id=trigger.get("id") or self._id(),
                    actions=actions,
                    thresholdType=0,
                    resolveThreshold=None,
                    alertRuleId="?",
                )
            )
        record = {k: v for k, v in body.items() if k != "triggers"}
        record.update(triggers=stored, resolveThreshold=None, thresholdPeriod=1, status=0, createdBy={"id": 1})
        if existing:
            record.update(id=existing["id"], dateCreated=existing["dateCreated"])
            self.alert_rules[existing["id"]] = record
            return record
        return self._store(self.alert_rules, record)

    def list_alert_rules(self, params, query, body):
        return self._page(
            sorted(self.alert_rules.values(), key=lambda r: int(r["id"])),
            query,
            f"/api/0/organizations/{params['org']}/alert-rules/",
        )

    def create_alert_rule(self, params, query, body):
        record = self._alert_rule(body, None)
        return record if isinstance(record, Reply) else Reply(201, copy.deepcopy(record))

    def update_alert_rule(self, params, query, body):
        existing = self.alert_rules.get(params["id"])
        if existing is None:
            return self._missing()
        record = self._alert_rule(body, existing)
        return record if isinstance(record, Reply) else Reply(200, copy.deepcopy(record))

    def delete_alert_rule(self, params, query, body):
        return Reply(204) if self.alert_rules.pop(params["id"], None) else self._missing()

    # --- test helpers -----------------------------------------------------------------------------

    def named(self, table: dict, name: str) -> list[dict]:
        return [item for item in table.values() if item["name"] == name]


if __name__ == "__main__":
    main(SentryStandIn, "Sentry API stand-in (workflows, detectors, legacy alert rules)")
