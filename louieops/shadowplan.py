"""Learn which facts a deploy will read, before it reads them: plan its steps on the side, against a copy of
the host whose facts come from the cache (louieops/factcache.py), and collect what they ask.

    cache = factcache.install(host)
    shadowplan.prefetch(host, cache, steps)   # a few remote commands instead of one per fact

Two rounds: the first plans with what is cached (the basic facts, read first) and the facts' defaults; its
requests, with the facts that always follow some of them (FOLLOW_UPS), are read in one batch per sudo
context; the second plans again with those real values, which can take other branches (an installed
package, an existing file) and ask further facts; those are read too.
The shadow plan never touches the host or anything else: operations that talk to other systems from the
controller (S3) are left out of it, and an error in it only means fewer facts are read ahead.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterable
from contextlib import contextmanager

from pyinfra.api import Inventory, State
from pyinfra.api.state import StateStage
from pyinfra.context import ctx_host, ctx_state
from pyinfra.facts.files import File, Sha1File
from pyinfra.facts.server import Date, Groups, LinuxDistribution, Os, Users
from pyinfra.facts.systemd import SystemdEnabled, SystemdStatus

from . import factcache
from .operations import s3

log = logging.getLogger("louieops.shadowplan")
#: Read before the first round: the branches of nearly every task depend on them.
BASIC_FACTS = (Os, LinuxDistribution, Users, Groups)
#: Facts the real plan asks next after these, whatever their values: read in the same round. (files.put
#: compares checksums when the file exists; systemd.service reads both; apt.update compares with the date.)
FOLLOW_UPS = {File: (Sha1File,), SystemdStatus: (SystemdEnabled,)}
ALWAYS = (Date,)
#: A shadow plan's answer for a fact not read yet instead of its default, where the default would send it
#: down a path the real plan does not take (without a SHA-1, files.put goes on to ask MD5 and SHA-256).
STAND_IN_VALUES = {Sha1File: "0" * 40}
#: Operations that read other systems from the controller while they plan: not run in a shadow plan.
CONTROLLER_OPERATIONS = ((s3, "bucket_lifecycle"),)


def prefetch(host, cache: factcache.FactCache, steps: Iterable[Callable[[], object]]) -> int:
    """Read ahead the facts ``steps`` will ask on ``host``; returns how many were read."""
    steps = list(steps)
    read = factcache.prefetch(cache, [cache.key(cls, (), {}) for cls in BASIC_FACTS])
    for _ in range(2):
        keys = asked(host, cache, steps)
        if not keys:
            break
        read += factcache.prefetch(cache, keys)
    return read


def asked(host, cache: factcache.FactCache, steps: list) -> list[tuple]:
    """The fact keys ``steps`` ask when planned against a copy of ``host`` answering from ``cache``."""
    inventory = Inventory(([host.name], host.data.dict()))
    state = State(inventory, host.state.config.copy())
    shadow = inventory.get_host(host.name)
    keys: list[tuple] = []

    def get_fact(cls, *args, **kwargs):
        key = factcache.fact_key(state, shadow, cls, args, kwargs)
        if key is None:
            return cls().default()
        if not keys:  # the first fact asked, in the deploy's own sudo context
            keys.extend((fact, (), key[2]) for fact in ALWAYS)
        keys.append(key)
        keys.extend((follow_up, *key[1:]) for follow_up in FOLLOW_UPS.get(cls, ()))
        if key in cache.values:
            return copy.deepcopy(cache.values[key])
        return STAND_IN_VALUES.get(cls, cls().default())

    shadow.get_fact = get_fact
    state.set_stage(StateStage.Prepare)
    try:
        with _context(state, shadow), _without_controller_operations():
            for step in steps:
                step()
    except Exception as exc:  # noqa: BLE001 - a shadow plan only saves round trips; the real plan decides
        log.debug(
            "shadow plan stopped early (%s: %s); the rest of the facts are read as they are asked",
            type(exc).__name__,
            exc,
        )
    return list(dict.fromkeys(keys))


@contextmanager
def _context(state, host):
    """pyinfra's context set to the shadow state and host, and set back even when the plan raises
    (pyinfra's own ``ctx_*.use`` leaves it changed after an exception); quiet meanwhile."""
    saved = ctx_state.get(), ctx_host.get()
    quiet = logging.getLogger("pyinfra")
    level = quiet.level
    ctx_state.set(state)
    ctx_host.set(host)
    quiet.setLevel(logging.WARNING)  # the steps' progress lines belong to the real plan
    try:
        yield
    finally:
        quiet.setLevel(level)
        ctx_state.set(saved[0])
        ctx_host.set(saved[1])


@contextmanager
def _without_controller_operations():
    saved = [(module, name, getattr(module, name)) for module, name in CONTROLLER_OPERATIONS]
    for module, name, _ in saved:
        setattr(module, name, lambda *args, **kwargs: None)
    try:
        yield
    finally:
        for module, name, operation in saved:
            setattr(module, name, operation)
