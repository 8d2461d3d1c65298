"""Sentry API stand-in: workflows ("Alerts") and detectors ("Monitors"), cron monitors and their check-ins
(``sentry_crons``), releases and deploys (``sentry_releases``), and the legacy ``/rules/`` and
``/alert-rules/`` endpoints (``sentry_legacy``),
answering as the official OpenAPI document allows and, where it is silent, in the least convenient legal
way.

- paths are the document's (``/api/0/organizations/{organization_id_or_slug}/...``);
- lists paginate with the ``Link`` header (``rel="next"; results="true|false"; cursor="0:<offset>:0"``),
  ``per_page`` default and max 100;
- creates answer 201, updates (PUT, full overwrite) 200, deletes 204 (legacy issue rules 202);
- input keys may be snake_case or camelCase, answers are camelCase with server-filled fields (ids on every
  node, organizationId, dates, action status, the e-mail fallthroughType default), lists in another order
  than sent, and no optional field; a detector's data sources answer in the nested
  ``queryObj.snubaQuery`` form of the document's examples, which carries no ``queryType``;
- ``mode``: "workflows" (current API; legacy endpoints also work), "legacy" (an older self-hosted Sentry:
  workflows/detectors answer 404), "gone" (workflows 404, legacy 410 ``{"message": "This API no longer
  exists."}``); ``cron_detectors=False``: a Sentry that makes no detector for a cron monitor.
"""

from __future__ import annotations

import copy
import re
from urllib.parse import urlencode

from .base import Reply, StandIn, main
from .sentry_crons import CRON_ROUTES, CronsMixin
from .sentry_legacy import LEGACY_ROUTES, LegacyMixin
from .sentry_releases import RELEASE_ROUTES, ReleasesMixin

ORG, PROJECT, PROJECT_ID = "simplylouie", "simplylouie-api", "4501"
NOW = "2026-11-26T12:00:00.000000Z"
ORG_PATH = "/api/0/organizations/{organization_id_or_slug}"


def camel(value):
    if isinstance(value, dict):
        return {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), k): camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel(v) for v in value]
    return value


class SentryStandIn(CronsMixin, LegacyMixin, ReleasesMixin, StandIn):
    ROUTES = {
        ("GET", ORG_PATH + "/workflows/"): "list_workflows",
        ("POST", ORG_PATH + "/workflows/"): "create_workflow",
        ("GET", ORG_PATH + "/workflows/{workflow_id}/"): "get_workflow",
        ("PUT", ORG_PATH + "/workflows/{workflow_id}/"): "update_workflow",
        ("DELETE", ORG_PATH + "/workflows/{workflow_id}/"): "delete_workflow",
        ("GET", ORG_PATH + "/detectors/"): "list_detectors",
        ("POST", ORG_PATH + "/projects/{project_id_or_slug}/detectors/"): "create_detector",
        ("GET", ORG_PATH + "/detectors/{detector_id}/"): "get_detector",
        ("PUT", ORG_PATH + "/detectors/{detector_id}/"): "update_detector",
        ("DELETE", ORG_PATH + "/detectors/{detector_id}/"): "delete_detector",
        **CRON_ROUTES,
        **LEGACY_ROUTES,
        **RELEASE_ROUTES,
    }

    def __init__(self, *args, mode: str = "workflows", cron_detectors: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.mode, self.make_cron_detectors = mode, cron_detectors
        self.workflows: dict[str, dict] = {}
        self.detectors: dict[str, dict] = {}
        self._next = 100
        self.init_legacy()
        self.init_crons()
        self.init_releases()
        for name, kind in (("Error Monitor", "error"), ("Issue Stream", "issue_stream")):
            self._store(
                self.detectors,
                {"name": name, "type": kind, "enabled": True, "dataSources": [], "conditionGroup": None, "config": {}},
            )

    # --- routing by mode --------------------------------------------------------------------------

    def gate(self, handler):
        if self.mode in ("legacy", "gone") and handler not in self.LEGACY | self.CRONS | self.RELEASES:
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
        record = self.stamp(dict(record, id=self._id(), dateCreated=NOW, dateUpdated=NOW))
        table[record["id"]] = record
        return record

    def live(self, table: dict, key: str) -> dict | None:
        record = table.get(key)
        return record if record is not None and self.visible(record) else None

    def page(self, items: list[dict], query: dict, path: str, render=None) -> Reply:
        render = render or self._public
        items = [item for item in items if self.visible(item)]
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
        return Reply(200, [render(item) for item in page], {"Link": header})

    @staticmethod
    def _missing() -> Reply:
        return Reply(404, {"detail": "The requested resource does not exist"})

    def _nodes(self, nodes, **defaults) -> list[dict]:
        """Server-side ids on every node, defaults filled, order not kept (reversed)."""
        return [dict({**defaults, **node}, id=self._id()) for node in reversed(nodes or [])]

    @staticmethod
    def _public(record: dict) -> dict:
        return copy.deepcopy({k: v for k, v in record.items() if not k.startswith("_")})

    # --- workflows --------------------------------------------------------------------------------

    def _workflow(self, body: dict, existing: dict | None) -> dict | Reply:
        body = camel(body or {})
        if not body.get("name"):
            return Reply(400, {"name": ["This field is required."]})
        triggers = body.get("triggers") or {}
        if triggers.get("logicType") not in ("any", "any-short", "all", "none"):
            return Reply(400, {"triggers": {"logicType": ["This field is required."]}})
        for detector in body.get("detectorIds") or []:
            if self.live(self.detectors, str(detector)) is None:
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
            record.update(id=existing["id"], dateCreated=existing["dateCreated"], dateUpdated=NOW)
            self.workflows[existing["id"]] = record
            return record
        return self._store(self.workflows, record)

    def list_workflows(self, params, query, body):
        items = sorted(self.workflows.values(), key=lambda w: int(w["id"]))
        return self.page(
            items, query, f"/api/0/organizations/{params['organization_id_or_slug']}/workflows/", self._public
        )

    def create_workflow(self, params, query, body):
        record = self._workflow(body, None)
        return record if isinstance(record, Reply) else Reply(201, self._public(record))

    def get_workflow(self, params, query, body):
        record = self.live(self.workflows, params["workflow_id"])
        return Reply(200, self._public(record)) if record else self._missing()

    def update_workflow(self, params, query, body):
        existing = self.live(self.workflows, params["workflow_id"])
        if existing is None:
            return self._missing()
        record = self._workflow(body, existing)
        return record if isinstance(record, Reply) else Reply(200, self._public(record))

    def delete_workflow(self, params, query, body):
        if self.live(self.workflows, params["workflow_id"]) is None:
            return self._missing()
        del self.workflows[params["workflow_id"]]
        return Reply(204)

    # --- detectors --------------------------------------------------------------------------------

    def _data_source(self, source: dict) -> dict:
        """The nested read-back of a data source, with exactly the keys of the document's examples."""
        snuba = {
            "id": self._id(),
            "dataset": source.get("dataset"),
            "query": source.get("query", ""),
            "aggregate": source.get("aggregate"),
            "timeWindow": source.get("timeWindow"),
            "environment": source.get("environment"),
            "eventTypes": list(reversed(source.get("eventTypes") or [])),
            "extrapolationMode": source.get("extrapolationMode", "unknown"),
        }
        return {
            "id": self._id(),
            "organizationId": "1",
            "type": "snuba_query_subscription",
            "sourceId": self._id(),
            "queryObj": {"id": self._id(), "status": 0, "subscription": None, "snubaQuery": snuba},
        }

    def _detector(self, body: dict, existing: dict | None) -> dict | Reply:
        body = camel(body or {})
        if not body.get("name") or body.get("type") != "metric_issue":
            return Reply(400, {"type": ["Only metric_issue monitors can be created here"]})
        group = body.get("conditionGroup") or {}
        conditions = group.get("conditions") or []
        if len(conditions) > 3 or not any(c.get("conditionResult") == 0 for c in conditions):
            return Reply(400, {"conditionGroup": ["Resolution condition required for metric issue detector."]})
        record = {
            "name": body["name"],
            "type": "metric_issue",
            "enabled": body.get("enabled", True),
            "dataSources": [self._data_source(source) for source in body.get("dataSources") or []],
            "conditionGroup": {
                "id": self._id(),
                "organizationId": "1",
                "logicType": group.get("logicType"),
                "conditions": self._nodes(conditions),
                "actions": [],
            },
            "config": dict(body.get("config") or {}),
        }
        if existing:
            record.update(id=existing["id"], dateCreated=existing["dateCreated"], dateUpdated=NOW)
            self.detectors[existing["id"]] = record
            return record
        return self._store(self.detectors, record)

    def render_detector(self, record: dict) -> dict:
        """The document's required fields; owner, description and latestGroup (optional) left out."""
        return {**self._public(record), "projectId": PROJECT_ID, "workflowIds": self._workflows_of(record["id"])}

    def _workflows_of(self, detector_id: str) -> list[str]:
        return [w["id"] for w in self.workflows.values() if detector_id in w["detectorIds"] and self.visible(w)]

    def list_detectors(self, params, query, body):
        projects = query.get("project")
        items = [
            d
            for d in sorted(self.detectors.values(), key=lambda d: int(d["id"]))
            if not projects or PROJECT in projects or PROJECT_ID in projects
        ]
        path = f"/api/0/organizations/{params['organization_id_or_slug']}/detectors/"
        return self.page(items, query, path, self.render_detector)

    def create_detector(self, params, query, body):
        if params["project_id_or_slug"] not in (PROJECT, PROJECT_ID):
            return self._missing()
        record = self._detector(body, None)
        return record if isinstance(record, Reply) else Reply(201, self.render_detector(record))

    def get_detector(self, params, query, body):
        record = self.live(self.detectors, params["detector_id"])
        return Reply(200, self.render_detector(record)) if record else self._missing()

    def update_detector(self, params, query, body):
        existing = self.live(self.detectors, params["detector_id"])
        if existing is None:
            return self._missing()
        record = self._detector(body, existing)
        return record if isinstance(record, Reply) else Reply(200, self.render_detector(record))

    def delete_detector(self, params, query, body):
        if self.live(self.detectors, params["detector_id"]) is None:
            return self._missing()
        del self.detectors[params["detector_id"]]
        return Reply(204)

    # --- test helpers -----------------------------------------------------------------------------

    def named(self, table: dict, name: str) -> list[dict]:
        return [item for item in table.values() if item["name"] == name]


if __name__ == "__main__":
    main(SentryStandIn, "Sentry API stand-in (workflows, detectors, cron monitors, legacy alert rules)")
