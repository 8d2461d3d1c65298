"""UptimeRobot reconcile: desired monitors from settings, a pure diff/plan against the listed monitors, and an
executor that applies one action at a time.

Identity and ownership: a monitor is matched by exact (unescaped) name. A monitor is *managed* when it
carries the tag ``uptimerobot_managed_tag``; a same-named monitor without the tag is adopted (the update adds
the tag) instead of duplicated. Pruning (``uptimerobot_prune``) deletes only tagged monitors whose names are
no longer desired; untagged monitors are never modified unless their name is one we declare.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ..http import ApiError
from ..plan import Action, Plan, PlanError, field_changes, index_by_name
from .client import UptimeRobotClient
from .models import AlertContact, Monitor, MonitorSpec, create_body, keyword_type, update_body

log = logging.getLogger("louieops.uptimerobot")
KIND = "UptimeRobot monitor"
_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")
MAX_WRITE_TRIES = 3  # per action, each after a re-list
SETTLE_SECONDS = 2.0  # after a write got no answer, give the server this long before listing again


def expand(text: str, settings: Mapping[str, Any], where: str) -> str:
    """Fill ``{domain_api}``-style placeholders from settings (only simple string settings)."""

    def fill(match: re.Match) -> str:
        value = settings.get(match.group(1))
        if not isinstance(value, str):
            raise PlanError(f"setting {where}: placeholder {{{match.group(1)}}} names no string setting")
        return value

    return _PLACEHOLDER.sub(fill, text)


def resolve_contacts(wanted: Mapping[str, Mapping[str, Any]], contacts: Iterable[AlertContact]) -> dict[str, int]:
    """Alert-contact ids by the keys of ``uptimerobot_alert_contacts``, matched by type and exact name/value."""
    contacts = list(contacts)
    ids: dict[str, int] = {}
    for key, spec in wanted.items():
        matches = [
            c
            for c in contacts
            if c.type == spec["type"]
            and ("name" not in spec or c.name == spec["name"])
            and ("value" not in spec or c.value == spec["value"])
        ]
        label = ", ".join(f"{k} {spec[k]!r}" for k in ("name", "value") if k in spec)
        if len(matches) != 1:
            found = "none" if not matches else f"{len(matches)} (ids {', '.join(str(c.id) for c in matches)})"
            raise PlanError(
                f"setting uptimerobot_alert_contacts[{key!r}]: expected exactly one {spec['type']} alert contact "
                f"with {label} in the UptimeRobot account, found {found}. Create it in the UptimeRobot "
                "dashboard (contacts are referenced, not created) or fix the setting."
            )
        ids[key] = matches[0].id
    return ids


def desired(settings: Mapping[str, Any], contact_ids: Mapping[str, int]) -> list[MonitorSpec]:
    specs = []
    for index, item in enumerate(settings["uptimerobot_monitors"]):
        where = f"uptimerobot_monitors[{index}]"
        kind = item["type"].upper()
        specs.append(
            MonitorSpec(
                name=expand(item["name"], settings, where + ".name"),
                type=kind,
                url=expand(item["url"], settings, where + ".url"),
                interval=item["interval"],
                timeout=item["timeout"],
                contacts=frozenset(contact_ids[key] for key in item["alert_contacts"]),
                port=item.get("port"),
                keyword=item.get("keyword"),
                keyword_type=keyword_type(item["keyword_alert_when"]) if kind == "KEYWORD" else None,
                keyword_case=(0 if item.get("keyword_case_sensitive", True) else 1) if kind == "KEYWORD" else None,
                http_method="GET" if kind == "KEYWORD" else None,  # HEAD (the default) cannot see the body
            )
        )
    return specs


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
        for attempt in range(1, MAX_WRITE_TRIES + 1):
            try:
                self._write(action.desired, current)
                return
            except ApiError as exc:
                if not (exc.is_transient or (exc.is_not_found and current is None)) or attempt == MAX_WRITE_TRIES:
                    raise
                log.warning("UptimeRobot: %s; listing monitors again before deciding", exc)
                if exc.status is None:
                    self.client.http.sleep(SETTLE_SECONDS)
                current = self._find(action.name)
                if current is not None and not diff(action.desired, current, self.managed_tag):
                    return  # the failed write was applied after all

    def _write(self, spec: MonitorSpec, current: Monitor | None) -> None:
        if current is None:
            self.client.create_monitor(create_body(spec, [self.managed_tag]))
            return
        changed = {line.split(":", 1)[0] for line in diff(spec, current, self.managed_tag)}
        body = update_body(spec, current, self.managed_tag, changed)
        if body:
            self.client.update_monitor(current.id, body)

    def _find(self, name: str) -> Monitor | None:
        found = index_by_name(self.client.list_monitors(), lambda m: m.name, [name], KIND)
        return found.get(name)


def reconcile_plan(client: UptimeRobotClient, settings: Mapping[str, Any]) -> Plan:
    """List everything once (contacts, monitors) and plan. Raises PlanError before any write."""
    contact_ids = resolve_contacts(settings["uptimerobot_alert_contacts"], client.list_alert_contacts())
    specs = desired(settings, contact_ids)
    return plan(specs, client.list_monitors(), settings["uptimerobot_managed_tag"], settings["uptimerobot_prune"])
