"""The plan both reconcilers produce: an ordered list of create/update/delete actions, and what is shared
between them (name lookup with duplicate detection, field-by-field diff for messages, and the one way a
create or update is written: a write whose outcome is unclear is followed by a re-list, never repeated
blindly)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .http import ApiError

MAX_WRITE_TRIES = 3  # per action, each after a re-list
SETTLE_SECONDS = 2.0  # after a write got no answer, give the server this long before listing again


class PlanError(RuntimeError):
    """The remote state or the desired state does not allow a safe plan (nothing has been written)."""


@dataclass(frozen=True)
class Action:
    verb: str  # "create", "update", "delete" or "replace" (delete, then create: the type changed)
    kind: str  # human name of the object kind, e.g. "UptimeRobot monitor"
    name: str
    object_id: str | None = None
    changes: tuple[str, ...] = ()  # "field: old -> new" lines for updates
    desired: Any = None  # the service's desired model (None for deletes)
    adopt: bool = False  # update of an object that matched by name but was not marked as managed

    def describe(self) -> str:
        text = f"{self.verb} {self.kind} {self.name!r}"
        if self.object_id:
            text += f" (id {self.object_id})"
        if self.adopt:
            text += " [adopt existing]"
        if self.changes:
            text += ": " + "; ".join(self.changes)
        return text


@dataclass
class Plan:
    actions: list[Action] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    current: dict[str, Any] = field(default_factory=dict)  # listed objects of the planned names, by name

    def __bool__(self) -> bool:
        return bool(self.actions)

    def lines(self) -> list[str]:
        return [action.describe() for action in self.actions]


def index_by_name(
    objects: Iterable[Any], name_of: Callable[[Any], str], wanted: Iterable[str], kind: str
) -> dict[str, Any]:
    """Objects by exact name, for the wanted names only; two objects with one wanted name is an error."""
    wanted = set(wanted)
    found: dict[str, Any] = {}
    for obj in objects:
        name = name_of(obj)
        if name not in wanted:
            continue
        if name in found:
            raise PlanError(
                f"two {kind}s are named {name!r} (ids {found[name].id}, {obj.id}); delete one of them by hand "
                "so the deploy knows which one it manages"
            )
        found[name] = obj
    return found


def field_changes(current: Mapping[str, Any], desired: Mapping[str, Any]) -> tuple[str, ...]:
    """ "key: old -> new" for every key of ``desired`` whose value differs in ``current``."""
    lines = []
    for key, want in desired.items():
        have = current.get(key)
        if have != want:
            lines.append(f"{key}: {_short(have)} -> {_short(want)}")
    return tuple(lines)


def _short(value: Any) -> str:
    if isinstance(value, (frozenset, set)):
        value = sorted(value, key=repr)
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def write_with_relist(
    action: Action,
    write: Callable[[Any], bool],
    find: Callable[[], Any],
    matches: Callable[[Any], bool],
    *,
    current: Any,
    sleep: Callable[[float], None],
    log: logging.Logger,
    relist_after_create_404: bool = False,
) -> None:
    """Write ``action`` and make sure it took effect, without ever creating a duplicate.

    + write: ``write(current)`` updates ``current``, or creates the object when it is None; it returns False
      when the answer does not show the stored object (Sentry's 202: saved later, maybe never)
    + find: lists the objects again and returns the one named ``action.name``, or None
    + matches: whether a listed object already is the desired state
    + current: the object as listed for the plan (None: create)
    + sleep, log: the client's sleep (injectable in tests) and the service's logger
    + relist_after_create_404: also treat a 404 answer to a create as an unclear outcome (UptimeRobot)

    After a transient ``ApiError`` (no answer, 429, 5xx) or an answer without the object, the objects are
    listed again: if the object is there and matches, the write was applied after all; otherwise the next
    try updates what was found (or creates). At most MAX_WRITE_TRIES writes; the last error is raised.
    """
    for attempt in range(1, MAX_WRITE_TRIES + 1):
        try:
            if write(current):
                return
        except ApiError as exc:
            unclear = exc.is_transient or (relist_after_create_404 and exc.is_not_found and current is None)
            if not unclear or attempt == MAX_WRITE_TRIES:
                raise
            log.warning("%s; listing %ss again before deciding", exc, action.kind)
            if exc.status is None:
                sleep(SETTLE_SECONDS)
        current = find()
        if current is not None and matches(current):
            return  # the write was applied after all
    raise PlanError(f"{action.describe()}: the object did not appear after {MAX_WRITE_TRIES} tries")
