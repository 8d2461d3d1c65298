"""UptimeRobot reconcile: the desired monitors with their alert contacts resolved, a pure diff/plan against
the listed monitors, and an executor that applies one action at a time.

Identity and ownership: a monitor is matched by exact (unescaped) name. A monitor is *managed* when it
carries the ``managed_tag``; a same-named monitor without the tag is adopted (the update adds the tag)
instead of duplicated. Pruning (``prune``) deletes only tagged monitors whose names are no longer desired;
untagged monitors are never modified unless their name is one we declare.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from ..plan import Action, Plan, PlanError, field_changes, index_by_name, write_with_relist
from .client import UptimeRobotClient
from .models import AlertContact, ContactRef, Monitor, MonitorSpec, create_body, update_body

log = logging.getLogger("louieops.uptimerobot")
KIND = "UptimeRobot monitor"


def resolve_contacts(wanted: Mapping[str, ContactRef], contacts: Iterable[AlertContact]) -> dict[str, int]:
    """Alert-contact ids by the keys of ``wanted`` (``uptimerobot_alert_contacts``), matched by type and exact
    name/value."""
    contacts = list(contacts)
    ids: dict[str, int] = {}
    for key, ref in wanted.items():
        matches = [
            c
            for c in contacts
            if c.type == ref.type
            and (ref.name is None or c.name == ref.name)
            and (ref.value is None or c.value == ref.value)
        ]
        label = ", ".join(f"{k} {v!r}" for k, v in (("name", ref.name), ("value", ref.value)) if v is not None)
        if len(matches) != 1:
            found = "none" if not matches else f"{len(matches)} (ids {', '.join(str(c.id) for c in matches)})"
            raise PlanError(
                f"setting uptimerobot_alert_contacts[{key!r}]: expected exactly one {ref.type} alert contact "
                f"with {label} in the UptimeRobot account, found {found}. Create it in the UptimeRobot "
                "dashboard (contacts are referenced, not created) or fix the setting."
            )
        ids[key] = matches[0].id
    return ids


def with_contact_ids(spec: MonitorSpec, contact_ids: Mapping[str, int]) -> MonitorSpec:
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
    by_name = index_by_name(current, lambda m: m.name, [s.name for s in specs], KIND)
    result = Plan(current=by_name)
    for spec in specs:
        existing = by_name.get(spec.name)
        if existing is None:
            result.actions.append(Action("create", KIND, spec.name, desired=spec))
        elif existing.type != spec.type:
            result.actions.append(
                Action(
                    "replace", KIND, spec.name, existing.id, (f"type: {existing.type} -> {spec.type}",), desired=spec
                )
            )
        else:
            changes = diff(spec, existing, managed_tag)
            if changes:
                result.actions.append(
                    Action(
                        "update",
                        KIND,
                        spec.name,
                        existing.id,
                        changes,
                        desired=spec,
                        adopt=managed_tag not in existing.tags,
                    )
                )
            else:
                result.unchanged.append(spec.name)
    if prune:
        wanted = {s.name for s in specs}
        for monitor in sorted(current, key=lambda m: m.name):
            if managed_tag in monitor.tags and monitor.name not in wanted:
                result.actions.append(Action("delete", KIND, monitor.name, monitor.id))
    return result


class Executor:
    """Applies actions. A write that fails without a clear answer (timeout, 5xx, 429 exhausted, the
    'stored but answered an error' case) is never repeated blindly: the monitors are listed again and
    the action re-planned for that one name (create may become an adoption or nothing at all)."""

    def __init__(self, client: UptimeRobotClient, managed_tag: str, listed: Mapping[str, Monitor] | None = None):
        self.client, self.managed_tag = client, managed_tag
        self.listed = dict(listed or {})  # monitors by name as listed for the plan (saves a list per update)

    def apply(self, action: Action) -> None:
        log.info("UptimeRobot: %s", action.describe())
        if action.verb == "delete":
            self.client.delete_monitor(action.object_id)
            return
        if action.verb == "replace":
            self.client.delete_monitor(action.object_id)
        current = None
        if action.verb == "update":
            current = self.listed.get(action.name) or self._find(action.name)
        write_with_relist(
            action,
            lambda monitor: self._write(action.desired, monitor),
            lambda: self._find(action.name),
            lambda monitor: not diff(action.desired, monitor, self.managed_tag),
            current=current,
            sleep=self.client.http.sleep,
            log=log,
            relist_after_create_404=True,
        )

    def _write(self, spec: MonitorSpec, current: Monitor | None) -> bool:
        """Create or update; True: every answer of this API shows the stored monitor."""
        if current is None:
            self.client.create_monitor(create_body(spec, [self.managed_tag]))
            return True
        changed = {line.split(":", 1)[0] for line in diff(spec, current, self.managed_tag)}
        body = update_body(spec, current, self.managed_tag, changed)
        if body:
            self.client.update_monitor(current.id, body)
        return True

    def _find(self, name: str) -> Monitor | None:
        found = index_by_name(self.client.list_monitors(), lambda m: m.name, [name], KIND)
        return found.get(name)


def reconcile_plan(
    client: UptimeRobotClient,
    monitors: Sequence[MonitorSpec],
    alert_contacts: Mapping[str, ContactRef],
    managed_tag: str,
    prune: bool,
) -> Plan:
    """List everything once (contacts, monitors) and plan. Raises PlanError before any write."""
    contact_ids = resolve_contacts(alert_contacts, client.list_alert_contacts())
    specs = [with_contact_ids(spec, contact_ids) for spec in monitors]
    return plan(specs, client.list_monitors(), managed_tag, prune)
