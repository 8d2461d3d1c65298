"""The Sentry stand-in's legacy alert-rule endpoints (older self-hosted Sentry): issue alert rules
(``/projects/{org}/{project}/rules/``) and metric alert rules (``/organizations/{org}/alert-rules/``).
They are not in the official OpenAPI document (unpublished when the workflows API launched); their shapes
follow reference/sentry-api.md §1-2: names injected into nodes, Slack channels stripped of '#', numbers as
strings, trigger and action ids kept by a PUT that names them.
"""

from __future__ import annotations

from .base import Reply

LEGACY_ROUTES = {
    ("GET", "/api/0/projects/{org}/{project}/rules/"): "list_rules",
    ("POST", "/api/0/projects/{org}/{project}/rules/"): "create_rule",
    ("PUT", "/api/0/projects/{org}/{project}/rules/{id}/"): "update_rule",
    ("DELETE", "/api/0/projects/{org}/{project}/rules/{id}/"): "delete_rule",
    ("GET", "/api/0/organizations/{org}/alert-rules/"): "list_alert_rules",
    ("POST", "/api/0/organizations/{org}/alert-rules/"): "create_alert_rule",
    ("PUT", "/api/0/organizations/{org}/alert-rules/{id}/"): "update_alert_rule",
    ("DELETE", "/api/0/organizations/{org}/alert-rules/{id}/"): "delete_alert_rule",
}


class LegacyMixin:
    LEGACY = frozenset(LEGACY_ROUTES.values())

    def init_legacy(self) -> None:
        self.rules: dict[str, dict] = {}
        self.alert_rules: dict[str, dict] = {}

    # --- issue alert rules ------------------------------------------------------------------------

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
            "projects": ["simplylouie-api"],
            "createdBy": {"id": 1},
        }

    def list_rules(self, params, query, body):
        return self.page(
            sorted(self.rules.values(), key=lambda r: -int(r["id"])),
            query,
            f"/api/0/projects/{params['org']}/{params['project']}/rules/",
        )

    def create_rule(self, params, query, body):
        record = self._rule(body)
        return record if isinstance(record, Reply) else Reply(201, self._public(self._store(self.rules, record)))

    def update_rule(self, params, query, body):
        if self.live(self.rules, params["id"]) is None:
            return self._missing()
        record = self._rule(body)
        if isinstance(record, Reply):
            return record
        record.update(id=params["id"], dateCreated=self.rules[params["id"]]["dateCreated"])
        self.rules[params["id"]] = record
        return Reply(200, self._public(record))

    def delete_rule(self, params, query, body):
        return Reply(202) if self.rules.pop(params["id"], None) else self._missing()

    # --- metric alert rules -----------------------------------------------------------------------

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
        return self.page(
            sorted(self.alert_rules.values(), key=lambda r: int(r["id"])),
            query,
            f"/api/0/organizations/{params['org']}/alert-rules/",
        )

    def create_alert_rule(self, params, query, body):
        record = self._alert_rule(body, None)
        return record if isinstance(record, Reply) else Reply(201, self._public(record))

    def update_alert_rule(self, params, query, body):
        existing = self.live(self.alert_rules, params["id"])
        if existing is None:
            return self._missing()
        record = self._alert_rule(body, existing)
        return record if isinstance(record, Reply) else Reply(200, self._public(record))

    def delete_alert_rule(self, params, query, body):
        return Reply(204) if self.alert_rules.pop(params["id"], None) else self._missing()
