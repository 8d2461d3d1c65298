"""Sentry reconcile: desired alerts and metric monitors from settings, a pure diff/plan per object kind, and
an executor that applies one action at a time.

Identity and ownership: every object this deploy manages is named ``sentry_name_prefix`` + the name in
settings and matched by that exact name. A same-named object is updated (adopted), never duplicated;
pruning (``sentry_prune``) deletes only prefixed objects whose names are no longer desired.

API choice (``sentry_api_mode``): ``workflows`` manages detectors ("Monitors") and workflows ("Alerts");
``legacy`` manages ``/rules/`` and ``/alert-rules/``; ``auto`` lists workflows and falls back to legacy
only when that answers 404 (an older self-hosted Sentry). A 410 is a removed API: it stops the run with a
message, it is never retried.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ...settings.sections.kpis import LOWER_IS_WORSE
from ..http import ApiError
from ..plan import Action, Plan, PlanError, field_changes, index_by_name
from . import legacy
from .client import SentryClient
from .models import (
    ERROR_DETECTOR_TYPE,
    IssueAlertSpec,
    MetricMonitorSpec,
    Remote,
    Route,
    detector_body,
    detector_canonical,
    detector_fields,
    issue_workflow,
    metric_workflow,
    remote,
    workflow_body,
    workflow_canonical,
)

log = logging.getLogger("louieops.sentry")
MONITOR, ALERT = "Sentry metric monitor", "Sentry alert"
RULE, METRIC_RULE = "Sentry issue alert rule", "Sentry metric alert rule"
MAX_WRITE_TRIES = 3
SETTLE_SECONDS = 2.0  # after a write got no answer, give the server this long before listing again


# --- settings -> specs -----------------------------------------------------------------------------


def route_for(settings: Mapping[str, Any], tier: str) -> Route:
    route = settings["alert_routes"][tier]
    integration = settings["sentry_slack_integration_id"]
    channels = settings["sentry_slack_channel_ids"]
    slack = tuple((name, channels[name]) for name in route["slack"]) if integration else ()
    return Route(slack=slack, email=route["email"], integration_id=integration)


def issue_alert_specs(settings: Mapping[str, Any]) -> list[IssueAlertSpec]:
    prefix, env = settings["sentry_name_prefix"], settings["sentry_environment"]
    return [
        IssueAlertSpec(
            name=prefix + item["name"],
            trigger=item["trigger"],
            frequency_minutes=item["frequency_minutes"],
            environment=env,
            route=route_for(settings, item["tier"]),
            events=item.get("events"),
            interval=item.get("interval"),
        )
        for item in settings["sentry_issue_alerts"]
    ]


def metric_monitor_specs(settings: Mapping[str, Any]) -> list[MetricMonitorSpec]:
    prefix, env = settings["sentry_name_prefix"], settings["sentry_environment"]
    specs = []
    for item in settings["sentry_metric_monitors"]:
        levels, scale = settings["kpi_thresholds"][item["kpi"]], item.get("scale", 1)
        specs.append(
            MetricMonitorSpec(
                name=prefix + item["name"],
                aggregate=item["aggregate"],
                query=item["query"],
                window_minutes=item["window_minutes"],
                below=item["kpi"] in LOWER_IS_WORSE,
                warning=levels["warning"] * scale,
                critical=levels["critical"] * scale,
                environment=env,
                warning_route=route_for(settings, item["warning_tier"]),
                critical_route=route_for(settings, item["critical_tier"]),
            )
        )
    return specs


# --- object kinds ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class KindOps:
    list: Callable[[], list[dict]]
    canonical: Callable[[dict], dict]
    body: Callable[[dict, dict | None], dict]  # (fields, current raw object or None) -> request body
    create: Callable[[dict], dict | None]
    update: Callable[[str, dict], dict | None]
    delete: Callable[[str], None]


@dataclass(frozen=True)
class Wanted:
    kind: str
    name: str
    build: Callable[[dict], dict]  # context (ids known so far) -> fields in response form


def workflow_kinds(client: SentryClient) -> dict[str, KindOps]:
    return {
        MONITOR: KindOps(
            client.list_detectors,
            detector_canonical,
            lambda f, _c: detector_body(f),
            client.create_detector,
            client.update_detector,
            client.delete_detector,
        ),
        ALERT: KindOps(
            client.list_workflows,
            workflow_canonical,
            lambda f, _c: workflow_body(f),
            client.create_workflow,
            client.update_workflow,
            client.delete_workflow,
        ),
    }


def legacy_kinds(client: SentryClient) -> dict[str, KindOps]:
    return {
        RULE: KindOps(
            client.list_rules,
            legacy.rule_canonical,
            lambda f, _c: legacy.rule_body(f),
            client.create_rule,
            client.update_rule,
            client.delete_rule,
        ),
        METRIC_RULE: KindOps(
            client.list_alert_rules,
            legacy.alert_rule_canonical,
            legacy.alert_rule_body,
            client.create_alert_rule,
            client.update_alert_rule,
            client.delete_alert_rule,
        ),
    }


def workflow_wanted(settings: Mapping[str, Any]) -> list[Wanted]:
    """Metric monitors first (the alerts reference their ids), then the alerts."""
    monitors = metric_monitor_specs(settings)
    wanted = [Wanted(MONITOR, spec.name, lambda ctx, s=spec: detector_fields(s)) for spec in monitors]
    wanted += [
        Wanted(ALERT, spec.name, lambda ctx, s=spec: issue_workflow(s, ctx["error_detector"]))
        for spec in issue_alert_specs(settings)
    ]
    wanted += [
        Wanted(
            ALERT, spec.name, lambda ctx, s=spec: metric_workflow(s, ctx["ids"].get((MONITOR, s.name), f"new:{s.name}"))
        )
        for spec in monitors
    ]
    return wanted


def legacy_wanted(settings: Mapping[str, Any]) -> list[Wanted]:
    project = settings["sentry_project"]
    wanted = [Wanted(RULE, s.name, lambda ctx, s=s: legacy.rule_fields(s)) for s in issue_alert_specs(settings)]
    wanted += [
        Wanted(METRIC_RULE, s.name, lambda ctx, s=s: legacy.alert_rule_fields(s, project))
        for s in metric_monitor_specs(settings)
    ]
    return wanted


# --- plan ------------------------------------------------------------------------------------------


def context(current: Mapping[str, list[Remote]]) -> dict:
    ids = {(kind, obj.name): obj.id for kind, objs in current.items() for obj in objs}
    errors = [obj for obj in current.get(MONITOR, ()) if obj.raw.get("type") == ERROR_DETECTOR_TYPE]
    return {"ids": ids, "error_detector": errors[0].id if errors else None}


def plan(
    wanted: list[Wanted], kinds: Mapping[str, KindOps], current: Mapping[str, list[Remote]], prefix: str, prune: bool
) -> Plan:
    ctx = context(current)
    if any(w.kind == ALERT for w in wanted) and MONITOR in kinds and ctx["error_detector"] is None:
        raise PlanError(
            "the Sentry project has no error detector (type 'error') to attach the issue alerts to; "
            "check sentry_org and sentry_project"
        )
    result = Plan()
    for kind in kinds:
        names = [w.name for w in wanted if w.kind == kind]
        existing = index_by_name(current[kind], lambda o: o.name, names, kind)
        for want in (w for w in wanted if w.kind == kind):
            fields = want.build(ctx)
            obj = existing.get(want.name)
            if obj is None:
                result.actions.append(Action("create", kind, want.name, desired=want))
                continue
            changes = field_changes(obj.canonical, kinds[kind].canonical(fields))
            if changes:
                result.actions.append(Action("update", kind, want.name, obj.id, changes, desired=want))
            else:
                result.unchanged.append(want.name)
    if prune:
        wanted_names = {(w.kind, w.name) for w in wanted}
        for kind in reversed(list(kinds)):  # alerts before the monitors they reference
            for obj in sorted(current[kind], key=lambda o: o.name):
                if obj.name.startswith(prefix) and (kind, obj.name) not in wanted_names:
                    result.actions.append(Action("delete", kind, obj.name, obj.id))
    return result


class Reconciler:
    """Lists each kind once, plans, and applies actions one by one (see module docstring)."""

    def __init__(self, client: SentryClient, settings: Mapping[str, Any]):
        self.client, self.settings = client, settings
        self.kinds: dict[str, KindOps] = {}
        self.current: dict[str, list[Remote]] = {}
        self.ctx: dict = {}

    def plan(self) -> Plan:
        mode = self.settings["sentry_api_mode"]
        if mode in ("auto", "workflows"):
            self.kinds = workflow_kinds(self.client)
            try:
                self.current[ALERT] = self._list(ALERT)
            except ApiError as exc:
                if mode == "auto" and exc.is_not_found:
                    log.info("Sentry: no workflows API (404), using the legacy alert-rule API")
                    mode = "legacy"
                elif exc.is_gone:
                    raise _gone(exc, "workflows") from exc
                else:
                    raise
        if mode == "legacy":
            self.kinds, self.current = legacy_kinds(self.client), {}
        wanted = workflow_wanted(self.settings) if MONITOR in self.kinds else legacy_wanted(self.settings)
        for kind in self.kinds:
            if kind not in self.current:
                try:
                    self.current[kind] = self._list(kind)
                except ApiError as exc:
                    if exc.is_gone:
                        raise _gone(exc, "legacy alert-rule") from exc
                    raise
        self.ctx = context(self.current)
        return plan(
            wanted, self.kinds, self.current, self.settings["sentry_name_prefix"], self.settings["sentry_prune"]
        )

    def apply(self, action: Action) -> None:
        log.info("Sentry: %s", action.describe())
        ops = self.kinds[action.kind]
        if action.verb == "delete":
            ops.delete(action.object_id)
            return
        current = None
        if action.verb == "update":
            current = next((o for o in self.current[action.kind] if o.id == action.object_id), None)
        for attempt in range(1, MAX_WRITE_TRIES + 1):
            fields = action.desired.build(self.ctx)
            try:
                answer = (
                    ops.update(current.id, ops.body(fields, current.raw))
                    if current
                    else ops.create(ops.body(fields, None))
                )
            except ApiError as exc:
                if not exc.is_transient or attempt == MAX_WRITE_TRIES:
                    raise
                log.warning("Sentry: %s; listing %ss again before deciding", exc, action.kind)
                if exc.status is None:
                    self.client.http.sleep(SETTLE_SECONDS)
                answer = None
            if answer is not None:
                self.ctx["ids"][(action.kind, action.name)] = str(answer["id"])
                return
            # no usable answer (error or 202): look at what the server holds now
            self.current[action.kind] = self._list(action.kind)
            current = index_by_name(self.current[action.kind], lambda o: o.name, [action.name], action.kind).get(
                action.name
            )
            if current is not None:
                self.ctx["ids"][(action.kind, action.name)] = current.id
                if current.canonical == ops.canonical(fields):
                    return  # the write was applied after all
        raise PlanError(f"{action.describe()}: the object did not appear after {MAX_WRITE_TRIES} tries")

    def _list(self, kind: str) -> list[Remote]:
        ops = self.kinds[kind]
        return [remote(item, ops.canonical) for item in ops.list()]


def _gone(exc: ApiError, api: str) -> PlanError:
    hint = "set sentry_api_mode = 'workflows'" if api.startswith("legacy") else "set sentry_api_mode = 'legacy'"
    return PlanError(f"the Sentry {api} API is gone here ({exc}); {hint}")
