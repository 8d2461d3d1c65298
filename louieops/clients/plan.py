"""The plan both reconcilers produce: an ordered list of create/update/delete actions, and what is shared
between them: name lookup (the oldest of two same-named objects is the managed one, the other is reported),
the field-by-field diff for messages, and the one way a create or update is written.

No duplicate, ever: a create whose outcome is unclear (no answer, a 5xx, an answer that does not show the
stored object) is never sent again in the same run. The objects are listed again with growing pauses
until the object shows up (then it is adopted) or ``Settle.seconds`` have passed (then the run stops with a
message that says what to check; the next run adopts the object if it landed, or creates it if it did not).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .http import ApiError

MAX_WRITE_TRIES = 3  # per action: an update whose outcome is unclear is re-checked and sent again
FIRST_POLL_WAIT = 5.0  # seconds before the second listing after an unclear create; doubles up to ...
MAX_POLL_WAIT = 60.0  # ... this


class PlanError(RuntimeError):
    """The remote state or the desired state does not allow a safe plan or write (one readable line)."""


@dataclass(frozen=True)
class Settle:
    """How long an unclear create is looked for before the run stops, and what to tell the operator then."""

    seconds: float
    advice: str = ""  # e.g. which setting makes the wait longer


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
    notes: list[str] = field(default_factory=list)  # findings that need no write (e.g. a duplicate left alone)

    def __bool__(self) -> bool:
        return bool(self.actions)

    def lines(self) -> list[str]:
        return [action.describe() for action in self.actions]

    def extend(self, other: Plan) -> None:
        self.actions += other.actions
        self.unchanged += other.unchanged
        self.current.update(other.current)
        self.notes += other.notes


def _age(obj: Any) -> tuple:
    """Sort key of "oldest first": ids are handed out in increasing order by both services."""
    text = str(obj.id)
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


def plural(kind: str) -> str:
    """ "UptimeRobot monitors", "Papertrail saved searches"."""
    return kind + ("es" if kind.endswith(("ch", "sh", "s")) else "s")


def match_by_name(
    objects: Iterable[Any], name_of: Callable[[Any], str], wanted: Iterable[str], kind: str
) -> tuple[dict[str, Any], list[str]]:
    """Objects by exact name, for the wanted names only, and a note for every name found more than once.

    The rule for duplicates (docs/monitors.md, "No duplicates"): the oldest object (lowest id) is the one managed;
    the others are left untouched and reported, so a person can delete them. They are never deleted here.
    """
    wanted = set(wanted)
    groups: dict[str, list[Any]] = {}
    for obj in objects:
        name = name_of(obj)
        if name in wanted:
            groups.setdefault(name, []).append(obj)
    found, notes = {}, []
    for name, group in groups.items():
        group.sort(key=_age)
        found[name] = group[0]
        if len(group) > 1:
            others = ", ".join(str(o.id) for o in group[1:])
            notes.append(
                f"{len(group)} {plural(kind)} are named {name!r}: managing the oldest (id {group[0].id}) and leaving "
                f"id {others} alone; delete what is not needed by hand"
            )
    return found, notes


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


def _unclear(exc: ApiError, creating: bool, create_404_unclear: bool) -> bool:
    """Whether the write may have been applied although it failed: no answer, a 5xx (or, for services that
    store and then answer 404, a 404 to a create). A 429 was not processed; other 4xx are clear refusals."""
    if exc.status is None or exc.status >= 500:
        return True
    return creating and create_404_unclear and exc.is_not_found


def write_with_relist(
    action: Action,
    write: Callable[[Any], bool],
    find: Callable[[], Any],
    matches: Callable[[Any], bool],
    *,
    current: Any,
    sleep: Callable[[float], None],
    log: logging.Logger,
    settle: Settle,
    create_404_unclear: bool = False,
) -> None:
    """Write ``action`` and make sure it took effect, without ever creating a duplicate.

    + write: ``write(current)`` updates ``current``, or creates the object when it is None; it returns False
      when the answer does not show the stored object (Sentry's 202: saved later, maybe never)
    + find: lists the objects again and returns the one named ``action.name``, or None
    + matches: whether a listed object already is the desired state
    + current: the object as listed for the plan (None: create)
    + sleep, log: the client's sleep (injectable in tests) and the service's logger
    + settle: how long an unclear create is looked for
    + create_404_unclear: a 404 answer to a create may hide a stored object (UptimeRobot)

    An unclear update is followed by a listing: done if the object matches, else the update is sent again
    (at most MAX_WRITE_TRIES writes). An unclear create is followed by listings until the object appears
    (then it is updated if it does not match) or ``settle.seconds`` pass (PlanError); it is never repeated.
    """
    for attempt in range(1, MAX_WRITE_TRIES + 1):
        creating = current is None
        try:
            if write(current):
                return
            outcome = "the answer did not show the stored object"
        except ApiError as exc:
            if not _unclear(exc, creating, create_404_unclear) and not (exc.status == 429 and not creating):
                raise
            if not creating and attempt == MAX_WRITE_TRIES:
                raise
            outcome = str(exc)
        log.warning("%s: %s; listing %ss again before deciding", action.describe(), outcome, action.kind)
        current = _await_create(action, find, sleep, log, settle, outcome) if creating else find()
        if current is not None and matches(current):
            return  # the write was applied after all
        if current is None:  # an update of an object that disappeared meanwhile: create it (after a listing)
            continue
    raise PlanError(f"{action.describe()}: still not in the desired state after {MAX_WRITE_TRIES} writes")


def _await_create(
    action: Action, find: Callable[[], Any], sleep: Callable[[float], None], log: logging.Logger, settle, outcome: str
) -> Any:
    """List until the object of an unclear create shows up; PlanError after ``settle.seconds``."""
    waited, pause = 0.0, FIRST_POLL_WAIT
    while True:
        found = find()
        if found is not None:
            log.info("%s %r is there after all (found after %.0f s): adopting it", action.kind, action.name, waited)
            return found
        if waited >= settle.seconds:
            break
        pause = min(pause, settle.seconds - waited)
        sleep(pause)
        waited += pause
        pause = min(pause * 2, MAX_POLL_WAIT)
    minutes = settle.seconds / 60
    raise PlanError(
        f"create {action.kind} {action.name!r} got no clear answer ({outcome}) and the object was not listed "
        f"within {minutes:g} minutes. Nothing was created twice. Before the next deploy, look for a "
        f"{action.kind} named {action.name!r}: if it is there, the next deploy adopts it; if not, it creates it"
        + (f" ({settle.advice})" if settle.advice else "")
        + "."
    )
