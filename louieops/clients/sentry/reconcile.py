"""Sentry reconcile: the desired alerts and metric monitors in the form of each API, a pure diff/plan per
object kind, and an executor that applies one action at a time.

Identity and ownership: every object this deploy manages is named ``name_prefix`` + its own name (the specs
carry the full name) and matched by that exact name. A same-named object is updated (adopted), never
duplicated; pruning (``prune``) deletes only prefixed objects whose names are no longer desired.

Cron monitors (Sentry Crons) are known by their slug and kept in either mode; two objects with one
managed name: the oldest is managed, the others are reported (``Plan.notes``).

API choice (``api_mode``): ``workflows`` manages detectors ("Monitors") and workflows ("Alerts");
``legacy`` manages ``/rules/`` and ``/alert-rules/``; ``auto`` lists workflows and falls back to legacy
only when that answers 404 (an older self-hosted Sentry). A 410 is a removed API: it stops the run with a
message naming the fix, it is never retried.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ..http import ApiError
from ..plan import Action, Plan, PlanError, Settle, field_changes, match_by_name, write_with_relist
from . import legacy
from .client import SentryClient
from .crons import CronAlertSpec, CronMonitorSpec, cron_body, cron_canonical, cron_detectors, cron_fields, cron_workflow
from .models import (
    ERROR_DETECTOR_TYPE,
    IssueAlertSpec,
    MetricMonitorSpec,
    Remote,
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
CRON = "Sentry cron monitor"
API_MODES = ("auto", "workflows", "legacy")


# --- object kinds ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class KindOps:
    list: Callable[[], list[dict]]
    canonical: Callable[[dict], dict]
    body: Callable[[dict, dict | None], dict]  # (fields, current raw object or None) -> request body
    create: Callable[[dict], dict | None]
    update: Callable[[str, dict], dict | None]
    delete: Callable[[str], None]
    key: str = "name"  # what an object is known by (a cron monitor: its slug)
    managed: Callable[[Remote], bool] = lambda obj: True  # which listed objects this kind may manage


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
            managed=lambda obj: obj.raw.get("type") == "metric_issue",  # not the error or cron detectors
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


def cron_kind(client: SentryClient) -> KindOps:
    return KindOps(
        client.list_cron_monitors,
        cron_canonical,
        lambda f, _c: cron_body(f, client.project),
        client.create_cron_monitor,
        client.update_cron_monitor,
        client.delete_cron_monitor,
        key="slug",
    )


def cron_wanted(crons: Sequence[CronMonitorSpec], alert: CronAlertSpec | None) -> list[Wanted]:
    """The cron monitors, and (current API) the alert on their detectors."""
    wanted = [Wanted(CRON, spec.slug, lambda ctx, s=spec: cron_fields(s)) for spec in crons]
    if alert is not None:
        slugs = [spec.slug for spec in crons]
        wanted.append(Wanted(ALERT, alert.name, lambda ctx: cron_workflow(alert, cron_detector_ids(ctx, slugs))))
    return wanted


class Unroutable(Exception):
    """An alert cannot be built: what it would connect to is not there (the message says what)."""


def cron_detector_ids(ctx: dict, slugs: list[str]) -> list[str]:
    """The detectors Sentry made for the cron monitors ("new:" for a monitor still to be created). A monitor
    that exists without a detector raises Unroutable: the alert is then left out, with a note, instead of
    stopping the run (how Sentry links detectors to cron monitors is not in the official document)."""
    ids = []
    for slug in slugs:
        monitor_id = ctx["ids"].get((CRON, slug))
        if monitor_id is None:
            ids.append(f"new:{slug}")
        elif monitor_id in ctx["cron_detectors"]:
            ids.append(ctx["cron_detectors"][monitor_id])
        else:
            raise Unroutable(
                f"Sentry lists no detector for cron monitor {slug!r}: the alert on the cron monitors is left out "
                "(their issues still show in Sentry; route them in Sentry's UI)"
            )
    return ids


def workflow_wanted(issue_alerts: Sequence[IssueAlertSpec], monitors: Sequence[MetricMonitorSpec]) -> list[Wanted]:
    """Metric monitors first (the alerts reference their ids), then the alerts."""
    wanted = [Wanted(MONITOR, spec.name, lambda ctx, s=spec: detector_fields(s)) for spec in monitors]
    wanted += [
        Wanted(ALERT, spec.name, lambda ctx, s=spec: issue_workflow(s, ctx["error_detector"])) for spec in issue_alerts
    ]
    wanted += [
        Wanted(
            ALERT, spec.name, lambda ctx, s=spec: metric_workflow(s, ctx["ids"].get((MONITOR, s.name), f"new:{s.name}"))
        )
        for spec in monitors
    ]
    return wanted


def legacy_wanted(
    issue_alerts: Sequence[IssueAlertSpec], monitors: Sequence[MetricMonitorSpec], project: str
) -> list[Wanted]:
    wanted = [Wanted(RULE, s.name, lambda ctx, s=s: legacy.rule_fields(s)) for s in issue_alerts]
    wanted += [Wanted(METRIC_RULE, s.name, lambda ctx, s=s: legacy.alert_rule_fields(s, project)) for s in monitors]
    return wanted


# --- plan ------------------------------------------------------------------------------------------


def context(current: Mapping[str, list[Remote]]) -> dict:
    ids = {(kind, obj.name): obj.id for kind, objs in current.items() for obj in objs}
    errors = [obj for obj in current.get(MONITOR, ()) if obj.raw.get("type") == ERROR_DETECTOR_TYPE]
    return {
        "ids": ids,
        "error_detector": errors[0].id if errors else None,
        "cron_detectors": cron_detectors(current.get(MONITOR, ())),
    }


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
        listed = [obj for obj in current[kind] if kinds[kind].managed(obj)]
        existing, notes = match_by_name(listed, lambda o: o.name, names, kind)
        result.notes += notes
        for want in (w for w in wanted if w.kind == kind):
            try:
                fields = want.build(ctx)
            except Unroutable as exc:
                result.notes.append(str(exc))
                continue
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
            for obj in sorted((o for o in current[kind] if kinds[kind].managed(o)), key=lambda o: o.name):
                name = str(obj.raw.get("name") or "")
                if name.startswith(prefix) and (kind, obj.name) not in wanted_names:
                    result.actions.append(Action("delete", kind, obj.name, obj.id))
    return result


class Reconciler:
    """Lists each kind once, plans, and applies actions one by one (see module docstring)."""

    def __init__(
        self,
        client: SentryClient,
        issue_alerts: Sequence[IssueAlertSpec],
        metric_monitors: Sequence[MetricMonitorSpec],
        *,
        api_mode: str,
        name_prefix: str,
        prune: bool,
        settle: Settle,
        cron_monitors: Sequence[CronMonitorSpec] = (),
        cron_alert: CronAlertSpec | None = None,
    ):
        self.client = client
        self.issue_alerts, self.metric_monitors = list(issue_alerts), list(metric_monitors)
        self.cron_monitors, self.cron_alert = list(cron_monitors), cron_alert
        self.api_mode, self.name_prefix, self.prune, self.settle = api_mode, name_prefix, prune, settle
        self.kinds: dict[str, KindOps] = {}
        self.current: dict[str, list[Remote]] = {}
        self.ctx: dict = {}

    def plan(self) -> Plan:
        mode, fell_back = self.api_mode, False
        if mode in ("auto", "workflows"):
            self.kinds = workflow_kinds(self.client)
            try:
                self.current[ALERT] = self._list(ALERT)
            except ApiError as exc:
                if mode == "auto" and exc.is_not_found:
                    log.info("Sentry: no workflows API (404), using the legacy alert-rule API")
                    mode, fell_back = "legacy", True
                else:
                    raise _unavailable(exc, "workflows", self.client) from exc
        if mode == "legacy":
            self.kinds, self.current = legacy_kinds(self.client), {}
        if MONITOR in self.kinds:
            wanted = workflow_wanted(self.issue_alerts, self.metric_monitors)
        else:
            wanted = legacy_wanted(self.issue_alerts, self.metric_monitors, self.client.project)
        if self.cron_monitors:
            self.kinds = {CRON: cron_kind(self.client), **self.kinds}  # created before the alert on them
            routed = self.cron_alert if MONITOR in self.kinds else None  # legacy: no detectors to route by
            wanted = cron_wanted(self.cron_monitors, routed) + wanted
        for kind in self.kinds:
            if kind not in self.current:
                try:
                    self.current[kind] = self._list(kind)
                except ApiError as exc:
                    api = "cron monitor" if kind == CRON else "legacy alert-rule"
                    raise _unavailable(exc, api, self.client, fell_back) from exc
        self.ctx = context(self.current)
        return plan(wanted, self.kinds, self.current, self.name_prefix, self.prune)

    def apply(self, action: Action) -> None:
        log.info("Sentry: %s", action.describe())
        ops = self.kinds[action.kind]
        if action.verb == "delete":
            ops.delete(action.object_id)
            return
        current = None
        if action.verb == "update":
            current = next((o for o in self.current[action.kind] if o.id == action.object_id), None)
        try:
            fields = action.desired.build(self.ctx)
            stale = any(str(i).startswith("new:") for i in fields.get("detectorIds") or ())
        except Unroutable:  # monitors created in this run: Sentry has made their detectors since the listing
            stale = True
        if stale:
            try:
                fields = self._with_new_detectors(action)
            except Unroutable as exc:
                log.warning("Sentry: %s", exc)
                return

        def write(obj: Remote | None) -> bool:
            answer = ops.update(obj.id, ops.body(fields, obj.raw)) if obj else ops.create(ops.body(fields, None))
            if answer is None:  # 202: saved later by a background task (maybe never)
                return False
            self._remember(action, str(answer["id"]))
            return True

        def find() -> Remote | None:
            self.current[action.kind] = self._list(action.kind)
            found, _ = match_by_name(self.current[action.kind], lambda o: o.name, [action.name], action.kind)
            obj = found.get(action.name)
            if obj is not None:
                self._remember(action, obj.id)
            return obj

        write_with_relist(
            action,
            write,
            find,
            lambda obj: obj.canonical == ops.canonical(fields),
            current=current,
            sleep=self.client.http.sleep,
            log=log,
            settle=self.settle,
        )

    def _with_new_detectors(self, action: Action) -> dict:
        """The alert's fields with the detectors Sentry made for monitors created in this run (listed again);
        Unroutable when one is still missing."""
        self.current[MONITOR] = self._list(MONITOR)
        self.ctx = {**context(self.current), "ids": self.ctx["ids"]}
        return action.desired.build(self.ctx)

    def _remember(self, action: Action, object_id: str) -> None:
        """The id of a written object, for the objects planned after it that reference it."""
        self.ctx["ids"][(action.kind, action.name)] = object_id

    def _list(self, kind: str) -> list[Remote]:
        ops = self.kinds[kind]
        return [remote(item, ops.canonical, ops.key) for item in ops.list()]


def _unavailable(exc: ApiError, api: str, client: SentryClient, fell_back: bool = False) -> Exception:
    """The one-line error for an API this Sentry does not have, naming the fix that can work."""
    where = f"{client.http.base_url} (organization {client.org!r})"
    if exc.is_gone and api == "workflows":
        fix = "set sentry_api_mode = 'legacy' (a self-hosted Sentry that still has /rules/ and /alert-rules/)"
    elif exc.is_gone and fell_back:
        return PlanError(
            f"this Sentry has neither alert API: the workflows API answered 404 and the legacy alert-rule API "
            f"410 at {where}. Check sentry_api_url and sentry_org (an unknown organization answers 404 too) and "
            "that SENTRY_AUTH_TOKEN belongs to that organization"
        )
    elif exc.is_gone:
        fix = "set sentry_api_mode = 'workflows' (or 'auto')"
    elif exc.is_not_found and api == "workflows":
        fix = (
            "check sentry_api_url and sentry_org, or set sentry_api_mode = 'legacy' for a self-hosted Sentry "
            "older than the workflows API"
        )
    elif exc.is_not_found and api == "cron monitor":
        fix = "this Sentry has no Crons: set sentry_cron_jobs = [] or upgrade it"
    else:
        return exc
    state = "is gone (410)" if exc.is_gone else "answered 404"
    return PlanError(f"the Sentry {api} API {state} at {where}: {fix}")
