"""UptimeRobot reconcile: alert contacts, monitors, maintenance windows and status pages, each kind listed
once, diffed (pure functions) and planned in that order, then applied one action at a time.

Identity and ownership:
- a monitor is matched by exact (unescaped) name and is *managed* when it carries ``managed_tag``; a
  same-named monitor without the tag is adopted (the update adds the tag) instead of duplicated. Pruning
  (``prune``) deletes only tagged monitors whose names are no longer desired;
- an alert contact is matched by type and exact name/value; a missing e-mail or Slack contact is created,
  any other missing contact stops the plan (it can only be made in the dashboard);
- maintenance windows and status pages are matched by exact name; they carry no ownership mark, so they are
  created and updated but never deleted;
- two objects with one managed name: the oldest is managed, the others are reported (``Plan.notes``).

Objects that reference others (monitors -> contacts, windows and pages -> monitors) are planned against
the ids known at plan time ("new:<name>" for objects the plan creates) and written with the real ids,
which the executor learns as it creates them.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from ..plan import Action, Plan, PlanError, Settle, field_changes, match_by_name, write_with_relist
from .client import UptimeRobotClient
from .contacts import CREATE_PATHS, AlertContact, ContactRef, create_body
from .models import Monitor, MonitorSpec, update_body
from .models import create_body as monitor_body
from .pages import StatusPageSpec, WindowSpec, status_page_body, window_body

log = logging.getLogger("louieops.uptimerobot")
MONITOR, CONTACT = "UptimeRobot monitor", "UptimeRobot alert contact"
WINDOW, PAGE = "UptimeRobot maintenance window", "UptimeRobot status page"


def placeholder(name: str) -> str:
    """The id of an object the plan creates, until it is created."""
    return f"new:{name}"


# --- pure planning ---------------------------------------------------------------------------------------


def plan_contacts(wanted: Mapping[str, ContactRef], contacts: Sequence[AlertContact]) -> tuple[Plan, dict]:
    """Alert-contact ids by the keys of ``wanted`` (placeholders for contacts to create) and the plan."""
    result, ids, creating = Plan(), {}, {}
    for key, ref in wanted.items():
        found = sorted((c for c in contacts if ref.matches(c)), key=lambda c: c.id)
        if found:
            ids[key] = found[0].id
            if len(found) > 1:
                result.notes.append(
                    f"{len(found)} UptimeRobot {ref.type} alert contacts match {ref.label()!r}: using the oldest "
                    f"(id {found[0].id}), leaving id {', '.join(str(c.id) for c in found[1:])} alone"
                )
            continue
        if not ref.creatable():
            label = ", ".join(f"{k} {v!r}" for k, v in (("name", ref.name), ("value", ref.value)) if v is not None)
            raise PlanError(
                f"setting uptimerobot_alert_contacts[{key!r}]: no {ref.type} alert contact with {label} in the "
                "UptimeRobot account. The deploy creates e-mail and Slack contacts only: create this one in the "
                "UptimeRobot dashboard or fix the setting."
            )
        same = (ref.type, ref.name, ref.value)
        if same not in creating:
            creating[same] = key
            result.actions.append(Action("create", CONTACT, ref.label(), desired=(key, ref)))
        ids[key] = placeholder(creating[same])
    return result, ids


def with_contact_ids(spec: MonitorSpec, contact_ids: Mapping[str, Any]) -> MonitorSpec:
    """``spec`` with the ids of its ``contact_keys`` added to ``contacts``."""
    return replace(spec, contacts=spec.contacts | {contact_ids[key] for key in spec.contact_keys})


def diff(spec: MonitorSpec, current: Monitor, managed_tag: str) -> tuple[str, ...]:
    want = spec.comparable(managed_tag)
    have = current.comparable(spec, managed_tag)
    changes = field_changes(have, want)
    if current.name != spec.name:
        changes += (f"name: {current.name!r} -> {spec.name!r}",)
    return changes


def plan(specs: list[MonitorSpec], current: list[Monitor], managed_tag: str, prune: bool) -> Plan:
    """Create missing, update drifted (adopting untagged same-named monitors), replace on a type change,
    and with ``prune`` delete tagged monitors that are no longer desired."""
    by_name, notes = match_by_name(current, lambda m: m.name, [s.name for s in specs], MONITOR)
    result = Plan(current=by_name, notes=notes)
    for spec in specs:
        existing = by_name.get(spec.name)
        if existing is None:
            result.actions.append(Action("create", MONITOR, spec.name, desired=spec))
        elif existing.type != spec.type:
            change = (f"type: {existing.type} -> {spec.type}",)
            result.actions.append(Action("replace", MONITOR, spec.name, existing.id, change, desired=spec))
        else:
            changes = diff(spec, existing, managed_tag)
            if changes:
                adopt = managed_tag not in existing.tags
                result.actions.append(Action("update", MONITOR, spec.name, existing.id, changes, spec, adopt))
            else:
                result.unchanged.append(spec.name)
    if prune:
        wanted = {s.name for s in specs}
        managed = {m.id for m in by_name.values()}
        for monitor in sorted(current, key=lambda m: m.name):
            if managed_tag in monitor.tags and monitor.name not in wanted and monitor.id not in managed:
                result.actions.append(Action("delete", MONITOR, monitor.name, monitor.id))
    return result


def plan_named(kind: str, specs: Sequence, current: Sequence, monitor_ids: Mapping[str, Any]) -> Plan:
    """Windows or status pages: create missing, update drifted (their ``comparable`` differs)."""
    by_name, notes = match_by_name(current, lambda o: o.name, [s.name for s in specs], kind)
    result = Plan(current=by_name, notes=notes)
    for spec in specs:
        existing = by_name.get(spec.name)
        if existing is None:
            result.actions.append(Action("create", kind, spec.name, desired=spec))
            continue
        changes = field_changes(existing.comparable(), spec.comparable(monitor_ids[n] for n in spec.monitors))
        if changes:
            result.actions.append(Action("update", kind, spec.name, existing.id, changes, desired=spec))
        else:
            result.unchanged.append(spec.name)
    return result


# --- the reconciler ---------------------------------------------------------------------------------------


class Reconciler:
    """Lists each kind once, plans, and applies actions one by one (see the module docstring)."""

    def __init__(
        self,
        client: UptimeRobotClient,
        monitors: Sequence[MonitorSpec],
        alert_contacts: Mapping[str, ContactRef],
        *,
        managed_tag: str,
        prune: bool,
        settle: Settle,
        windows: Sequence[WindowSpec] = (),
        status_pages: Sequence[StatusPageSpec] = (),
    ):
        self.client, self.managed_tag, self.prune, self.settle = client, managed_tag, prune, settle
        self.monitors = {spec.name: spec for spec in monitors}
        self.alert_contacts, self.windows, self.status_pages = dict(alert_contacts), list(windows), list(status_pages)
        self.contact_ids: dict[str, Any] = {}
        self.monitor_ids: dict[str, Any] = {}
        self.current: dict[str, dict[str, Any]] = {}

    def plan(self) -> Plan:
        """List everything once (contacts, monitors, windows, pages) and plan. Raises PlanError before any
        write."""
        result, self.contact_ids = plan_contacts(self.alert_contacts, self.client.list_alert_contacts())
        specs = [with_contact_ids(spec, self.contact_ids) for spec in self.monitors.values()]
        monitors = plan(specs, self.client.list_monitors(), self.managed_tag, self.prune)
        rewritten = {a.name for a in monitors.actions if a.verb in ("create", "replace")}
        self.monitor_ids = {
            name: placeholder(name) if name in rewritten or name not in monitors.current else monitors.current[name].id
            for name in self.monitors
        }
        result.extend(monitors)
        self.current[MONITOR] = monitors.current
        for kind, specs_of_kind, list_kind in (
            (WINDOW, self.windows, self.client.list_windows),
            (PAGE, self.status_pages, self.client.list_status_pages),
        ):
            if specs_of_kind:
                kind_plan = plan_named(kind, specs_of_kind, list_kind(), self._monitor_ids_as_ints())
                result.extend(kind_plan)
                self.current[kind] = kind_plan.current
        return result

    def apply(self, action: Action) -> None:
        log.info("UptimeRobot: %s", action.describe())
        if action.kind == CONTACT:
            self._apply_contact(action)
        elif action.kind == MONITOR:
            self._apply_monitor(action)
        else:
            self._apply_named(action)

    # --- per kind ---------------------------------------------------------------------------------

    def _apply_contact(self, action: Action) -> None:
        key, ref = action.desired

        def write(current: AlertContact | None) -> bool:
            if current is None:
                current = self.client.create_alert_contact(CREATE_PATHS[ref.type], create_body(ref))
            self._learn_contact(key, current.id)
            return True

        def find() -> AlertContact | None:
            found = sorted((c for c in self.client.list_alert_contacts() if ref.matches(c)), key=lambda c: c.id)
            if found:
                self._learn_contact(key, found[0].id)
            return found[0] if found else None

        self._write(action, write, find, lambda contact: True, None)

    def _learn_contact(self, key: str, contact_id: int) -> None:
        """The id of a created contact, for every key that was waiting for it."""
        for other, value in self.contact_ids.items():
            if other == key or value == placeholder(key):
                self.contact_ids[other] = contact_id

    def _apply_monitor(self, action: Action) -> None:
        if action.verb == "delete":
            self.client.delete_monitor(action.object_id)
            return
        if action.verb == "replace":
            self.client.delete_monitor(action.object_id)
        spec = with_contact_ids(self.monitors[action.name], self._resolved(self.contact_ids, CONTACT))
        current = self.current[MONITOR].get(action.name) if action.verb == "update" else None

        def write(monitor: Monitor | None) -> bool:
            if monitor is None:
                created = self.client.create_monitor(monitor_body(spec, [self.managed_tag]))
                self.monitor_ids[spec.name] = created.id
                return True
            changed = {line.split(":", 1)[0] for line in diff(spec, monitor, self.managed_tag)}
            body = update_body(spec, monitor, self.managed_tag, changed)
            if body:
                self.client.update_monitor(monitor.id, body)
            self.monitor_ids[spec.name] = monitor.id
            return True

        def find() -> Monitor | None:
            found, _ = match_by_name(self.client.list_monitors(), lambda m: m.name, [spec.name], MONITOR)
            monitor = found.get(spec.name)
            if monitor is not None:
                self.monitor_ids[spec.name] = monitor.id
            return monitor

        def matches(monitor: Monitor) -> bool:
            return not diff(spec, monitor, self.managed_tag)

        self._write(action, write, find, matches, current, create_404_unclear=True)

    def _apply_named(self, action: Action) -> None:
        spec = action.desired
        ids = self._resolved({n: self.monitor_ids[n] for n in spec.monitors}, MONITOR)
        monitor_ids = [int(ids[n]) for n in spec.monitors]
        if action.kind == WINDOW:
            listing, create, update = self.client.list_windows, self.client.create_window, self.client.update_window
            today = datetime.datetime.fromtimestamp(self.client.http.wall_clock(), datetime.UTC).date().isoformat()
            create_body, update_body = window_body(spec, monitor_ids, today), window_body(spec, monitor_ids, None)
        else:
            listing, create, update = (
                self.client.list_status_pages,
                self.client.create_status_page,
                self.client.update_status_page,
            )
            create_body = update_body = status_page_body(spec, monitor_ids)
        desired = spec.comparable(monitor_ids)

        def write(current) -> bool:
            if current is None:
                create(create_body)
            else:
                update(current.id, update_body)
            return True

        def find():
            return match_by_name(listing(), lambda o: o.name, [spec.name], action.kind)[0].get(spec.name)

        def matches(obj) -> bool:
            return not field_changes(obj.comparable(), desired)

        self._write(action, write, find, matches, self.current[action.kind].get(spec.name))

    # --- helpers ----------------------------------------------------------------------------------

    def _write(self, action, write, find, matches, current, create_404_unclear: bool = False) -> None:
        write_with_relist(
            action,
            write,
            find,
            matches,
            current=current,
            sleep=self.client.http.sleep,
            log=log,
            settle=self.settle,
            create_404_unclear=create_404_unclear,
        )

    @staticmethod
    def _resolved(ids: Mapping[str, Any], kind: str) -> dict[str, Any]:
        missing = [name for name, value in ids.items() if isinstance(value, str) and value.startswith("new:")]
        if missing:
            raise PlanError(f"{kind} {missing[0]!r} was not created, so the objects that name it cannot be written")
        return dict(ids)

    def _monitor_ids_as_ints(self) -> dict[str, Any]:
        return {name: int(value) if str(value).isdigit() else value for name, value in self.monitor_ids.items()}
