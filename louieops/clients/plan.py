"""The plan both reconcilers produce: an ordered list of create/update/delete actions, and what is shared
between them (name lookup with duplicate detection, field-by-field diff for messages)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


class PlanError(RuntimeError):
    """The remote state or the settings do not allow a safe plan (nothing has been written)."""


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
