"""Rolling releases over the app hosts: one host at a time, and none after a host whose release failed.

The release operation of every app host is the same pyinfra operation, run with ``_serial`` (host by host; pyinfra
picks the order) when there are several app hosts. Its ``_if`` asks, when the operation is about to run on a
host, whether another app host failed in this deploy - its release, or anything earlier: then this host is not
released and keeps serving the release it runs (louie-release has already rolled the failed host back). With
one app host nothing changes: no ``_serial``, no ``_if`` beyond the caller's.
"""

from __future__ import annotations

from collections.abc import Callable

from pyinfra import logger
from pyinfra.api.operation import OperationMeta
from pyinfra.context import ContextObject

from . import topology

#: id(state) -> (state, {host name: its release operation})
_TRACKED: dict[int, tuple[object, dict[str, OperationMeta]]] = {}


def _real(host):
    return host._get_module() if isinstance(host, ContextObject) else host


def track(host, operation: OperationMeta) -> OperationMeta:
    """Remember ``host``'s release operation (its outcome stops the roll-out after it)."""
    real = _real(host)
    state = real.state
    entry = _TRACKED.get(id(state))
    if entry is None or entry[0] is not state:
        entry = (state, {})
        _TRACKED[id(state)] = entry
    entry[1][real.name] = operation
    return operation


def failed_elsewhere(host) -> list[str]:
    """The other app hosts that failed in this deploy (their release, or an earlier operation)."""
    real = _real(host)
    state = real.state
    others = [member.name for member in topology.of(real).apps if member.name != real.name]
    entry = _TRACKED.get(id(state))
    operations = entry[1] if entry and entry[0] is state else {}
    failed_hosts = {h.name for h in state.failed_hosts}
    failed = []
    for name in others:
        operation = operations.get(name)
        if name in failed_hosts or (operation is not None and operation.is_complete() and operation.did_error()):
            failed.append(name)
    return failed


def arguments(host, also: Callable[[], bool] | None = None) -> dict:
    """pyinfra arguments of the release operation: ``_serial`` and the roll-out's ``_if`` with several app hosts
    (and ``also``, the caller's own condition, in any case)."""
    real = _real(host)
    if len(topology.of(real).apps) < 2:
        return {"_if": also} if also else {}

    def proceed() -> bool:
        failed = failed_elsewhere(real)
        if failed:
            logger.warning(
                f"[{real.name}] not released: the roll-out stopped at {', '.join(failed)} (its release failed); "
                "this host keeps the release it runs"
            )
            return False
        return also() if also else True

    return {"_serial": True, "_if": proceed}
