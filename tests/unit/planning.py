"""Plan a task (a pyinfra @deploy function) against a fake host whose facts come from a table, as
pyinfra's own fixture tests do: no server, no SSH, but the real operations and their real planning.

Facts are keyed by class and arguments. A fact class listed in ``facts`` is strict: asking it with other
arguments fails the test (a task that asks for the wrong path or role is caught). Facts not listed answer
as a bare Debian 12 server would (nothing installed, no files), from ``BARE_DEBIAN`` or the fact's default.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from pyinfra.api import Config, Inventory, State, StringCommand
from pyinfra.context import ctx_host, ctx_state
from pyinfra.facts.server import Arch, Groups, Hostname, LinuxDistribution, Os, Users, Which

from louieops import shadowplan
from louieops.settings import defaults
from tasks import base
from tests.unit.helpers import UnregisteredFact, fact_key

#: What the built-in facts of a freshly installed Debian 12 answer (the ones whose default does not plan).
BARE_DEBIAN: dict[type, Any] = {
    Os: "Linux",
    Arch: "x86_64",
    Hostname: "fakehost",
    LinuxDistribution: {"name": "Debian", "major": 12, "minor": 0, "release_meta": {"ID": "debian"}},
    Users: {},
    Groups: [],
}


@dataclass
class PlannedTask:
    operations: list[str]  # operation names in order, without the deploy prefix
    asked: list[tuple] = field(default_factory=list)  # fact keys in the order they were asked
    #: operation name -> its _if conditions evaluated now (None: decided by an earlier operation's result)
    conditions: dict[str, list[bool | None]] = field(default_factory=dict)
    #: operation name -> the shell commands it would run (uploads and functions left out)
    commands: dict[str, list[str]] = field(default_factory=dict)
    #: the @deploy step each operation belongs to ("" outside one), in the order of ``operations``
    steps: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Cluster:
    """A multi-host inventory for :func:`plan`: host names in inventory order, role groups, and which host to
    plan (``me``). Host names are addresses, so each is its own private address."""

    hosts: tuple[str, ...]
    groups: Mapping[str, tuple[str, ...]]
    me: str

    def inventory(self, data: Mapping[str, Any]) -> Inventory:
        groups = {role: (list(names), {}) for role, names in self.groups.items()}
        return Inventory((list(self.hosts), dict(data)), **groups)


#: The secrets a whole deploy.py plan needs (tests set them in the environment).
DEPLOY_SECRETS = {
    "LOUIE_DB_PASSWORD": "pencil",
    "LOUIE_ADMIN_TOKEN": "token",
    "LOUIE_CLUSTER_SECRET": "a cluster secret of enough length",
    "SLACK_WEBHOOK_CRITICAL": "https://hooks.invalid/c",
    "SLACK_WEBHOOK_HIGH": "https://hooks.invalid/h",
    "SLACK_WEBHOOK_GENERAL": "https://hooks.invalid/g",
}

#: lb, two app hosts, a database primary and its standby (the e2e's cluster, in inventory order).
FIVE = ("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5")
FIVE_GROUPS = {"lb": (FIVE[0],), "app": FIVE[1:3], "db": (FIVE[3],), "db_standby": (FIVE[4],)}


def cluster(me: str) -> Cluster:
    """The five-server cluster, planned as host ``me`` ("lb", "app1", "app2", "db" or "standby")."""
    index = ["lb", "app1", "app2", "db", "standby"].index(me)
    return Cluster(FIVE, FIVE_GROUPS, FIVE[index])


def plan(
    task: Callable[[], Any],
    facts: Mapping[tuple, Any] | None = None,
    *,
    on: Cluster | None = None,
    **settings: Any,
) -> PlannedTask:
    """Plan ``task`` for one host with the defaults of all.py and ``settings`` as its data: the one host of a
    single-server inventory, or host ``on.me`` of the multi-host inventory ``on``."""
    facts = dict(facts or {})
    strict = {key[0] for key in facts}
    data = {**defaults.load(), "ssh_user": "deploy", **settings}
    inventory = on.inventory(data) if on else Inventory((["fakehost"], data))
    state = State(inventory, Config())
    host = inventory.get_host(on.me if on else "fakehost")
    asked: list[tuple] = []

    def get_fact(cls, *args, **kwargs):
        key = fact_key(cls, kwargs)
        asked.append(key)
        if key in facts:
            return facts[key]
        if cls in strict:
            known = ", ".join(repr(dict(k[1])) for k in facts if k[0] is cls)
            raise UnregisteredFact(f"{cls.__name__}({dict(key[1])}) was asked; the test registered {known}")
        if cls in BARE_DEBIAN:
            return BARE_DEBIAN[cls]
        if cls is Which:  # the base system's commands are there (useradd, ...)
            return f"/usr/bin/{kwargs['command']}"
        return cls.default() if hasattr(cls, "default") else None

    host.get_fact = get_fact
    result = PlannedTask([], asked)
    # deploy.py waits for apt and reads the facts ahead in batched commands (louieops/shadowplan.py); a fake
    # host has no connection, and its get_fact answers every fact anyway.
    no_prefetch = mock.patch.object(shadowplan, "prefetch", lambda *args, **kwargs: 0)
    no_apt_wait = mock.patch.object(base, "wait_for_apt_before_planning", lambda: None)
    with ctx_state.use(state), ctx_host.use(host), no_prefetch, no_apt_wait:
        task()
        for op_hash in state.get_op_order():
            full = sorted(state.op_meta[op_hash].names)[0]
            name = full.split(" | ", 1)[-1]
            result.operations.append(name)
            result.steps.append(full.split(" | ", 1)[0] if " | " in full else "")
            op_data = state.get_op_data_for_host(host, op_hash)
            ifs = op_data.global_arguments.get("_if") or []
            result.conditions[name] = [_evaluate(condition) for condition in ([ifs] if callable(ifs) else ifs)]
            result.commands[name] = [
                command.get_raw_value() for command in op_data.command_generator() if isinstance(command, StringCommand)
            ]
    return result


def _evaluate(condition: Callable[[], Any]) -> bool | None:
    """An _if condition's answer on the fake host; None when it reads an earlier operation's result."""
    try:
        return bool(condition())
    except RuntimeError as exc:
        if "before execution" in str(exc):
            return None
        raise
