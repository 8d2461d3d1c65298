"""Fewer SSH round trips: facts read once per run, and read many at a time.

pyinfra 3 reads every fact with its own remote command, and reads them all again while it executes (each
operation's function runs a second time then). On a no-op re-deploy that is two round trips per fact.

- **Cache.** ``install(host)`` puts a cache in front of ``host.get_fact``. A fact read while planning is
  reused by every later request with the same arguments (same class, fact arguments and sudo/su/shell
  context), while planning and while executing, until the deploy runs a command on the host that is not a
  fact's read, or uploads a file: then the host's cache is emptied and facts are read live again. Nothing
  else changes the host during a run, so a cached value is the value a live read would give.
- **Prefetch.** ``prefetch(host, keys)`` reads many facts in one remote command per sudo/su context, with
  each fact's own command and ``process()``; the values go into the cache. Which facts to prefetch is
  learnt by planning the deploy beforehand against the cache itself (see louieops/shadowplan.py).

Values are handed out as copies: an operation may change the dict or list a fact returned.
"""

from __future__ import annotations

import copy
import logging
import secrets
import time
from collections.abc import Iterable, Mapping
from typing import Any

import gevent.pool
from pyinfra.api import StringCommand
from pyinfra.api.arguments import CONNECTOR_ARGUMENT_KEYS
from pyinfra.api.exceptions import FactProcessError
from pyinfra.api.facts import ShortFactBase, _handle_fact_kwargs, _make_command
from pyinfra.api.state import BaseStateCallback
from pyinfra.context import ctx_host, ctx_state

log = logging.getLogger("louieops.factcache")

#: The executor arguments that change what a fact's command sees (who runs it, where, with which shell).
CONTEXT_KEYS = tuple(
    key
    for key in CONNECTOR_ARGUMENT_KEYS
    if key not in ("_success_exit_codes", "_timeout", "_get_pty", "_stdin", "_sudo_password", "_su_password")
)


def freeze(value: Any) -> Any:
    """A hashable form of fact arguments."""
    if isinstance(value, Mapping):
        return tuple(sorted((k, freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple, set, frozenset)):
        return tuple(freeze(v) for v in value)
    return value


def fact_key(state, host, cls, args: tuple, kwargs: dict) -> tuple | None:
    """(class, fact arguments, context) of a fact request as pyinfra resolves it (the current operation's
    sudo and su arguments included), or None for facts the cache leaves alone (short facts)."""
    if issubclass(cls, ShortFactBase):
        return None
    fact_kwargs, global_kwargs = _handle_fact_kwargs(state, host, cls, args, kwargs)
    fact_kwargs.pop("self", None)  # getcallargs of a new instance's bound method
    context = {k: global_kwargs.get(k) for k in CONTEXT_KEYS if global_kwargs.get(k) not in (None, False, "")}
    return cls, freeze(fact_kwargs), freeze(context)


class FactCache:
    """The facts of one host read in this run (see the module docstring)."""

    def __init__(self, host) -> None:
        self.host = host
        self.values: dict[tuple, Any] = {}
        self.requests = self.hits = self.commands = 0
        self.reading = False  # True while a fact's own command runs
        self.read_seconds: list[tuple[str, float]] = []  # (what was read, seconds) of every remote fact read
        self.live_get_fact, self.live_run_shell_command, self.live_put_file = (
            host.get_fact,
            host.run_shell_command,
            host.put_file,
        )
        host.get_fact, host.run_shell_command, host.put_file = self.get_fact, self.run_shell_command, self.put_file

    def key(self, cls, args: tuple, kwargs: dict) -> tuple | None:
        return fact_key(self.host.state, self.host, cls, args, kwargs)

    def get_fact(self, cls, *args, **kwargs):
        self.requests += 1
        key = self.key(cls, args, kwargs)
        if key is not None and key in self.values:
            self.hits += 1
            return copy.deepcopy(self.values[key])
        label = cls.__name__ + (f"({', '.join(map(repr, args))})" if args else "")
        value = self.read(lambda: self.live_get_fact(cls, *args, **kwargs), label)
        if key is not None:
            self.values[key] = copy.deepcopy(value)
        return value

    def read(self, reader, label: str):
        """Run ``reader`` (a fact's command) marked as a read: it does not change the host; timed."""
        self.reading = True
        started = time.monotonic()
        try:
            return reader()
        finally:
            self.reading = False
            self.read_seconds.append((label, time.monotonic() - started))

    def run_shell_command(self, *args, **kwargs):
        """The host's own, counted; any command that is not a fact's read may change the host: the cached
        facts go."""
        self.commands += 1
        if not self.reading:
            self.values.clear()
        return self.live_run_shell_command(*args, **kwargs)

    def put_file(self, *args, **kwargs):
        """An upload changes the host: the cached facts go."""
        self.commands += 1
        self.values.clear()
        return self.live_put_file(*args, **kwargs)


class _Registry(BaseStateCallback):
    """The run's caches by host name (a state callback handler, so it lives as long as the run)."""

    def __init__(self) -> None:
        self.caches: dict[str, FactCache] = {}


def install(host) -> FactCache:
    """Put a cache in front of ``host.get_fact`` (once per host and run)."""
    existing = getattr(host.get_fact, "__self__", None)
    if isinstance(existing, FactCache):
        return existing
    cache = FactCache(host)
    registry = next((h for h in host.state.callback_handlers if isinstance(h, _Registry)), None)
    if registry is None:
        registry = _Registry()
        host.state.add_callback_handler(registry)
    registry.caches[host.name] = cache
    return cache


def stats(state) -> dict[str, FactCache]:
    """The caches of a run by host name (their counters: commands, requests, hits)."""
    registry = next((h for h in state.callback_handlers if isinstance(h, _Registry)), None)
    return dict(registry.caches) if registry else {}


#: Most characters of fact commands in one remote command. The batch goes to the server as one argument of
#: ``sh -c`` (quoted again under sudo), and Linux refuses a single argument over 128 KiB.
BATCH_CHARACTERS = 40_000
#: Batches read at the same time: sshd's MaxSessions (4, templates/base/10-louieops-hardening.conf.j2) less
#: the deploy lock's session. A session the server refuses leaves its facts to be read live.
PARALLEL_BATCHES = 3


def prefetch(cache: FactCache, keys: Iterable[tuple]) -> int:
    """Read the facts of ``keys`` (FactCache.key values) not cached yet, in as few remote commands as the
    argument size allows, one context (sudo/su) per command; returns how many were read. A fact whose command
    fails is left out: its live read reports the error."""
    missing: dict[tuple, list[tuple]] = {}
    for key in dict.fromkeys(keys):
        if key not in cache.values:
            missing.setdefault(key[2], []).append(key)
    jobs = []
    for context, group in missing.items():
        arguments = {k: dict(v) if k == "_env" else v for k, v in context}  # _env was frozen into pairs
        jobs += [(arguments, batch) for batch in _batches([_fact_command(key) for key in group], group)]
    if len(jobs) == 1:
        return _read_batch(cache, *jobs[0])
    # Side by side, each on its own SSH session of the one connection (pyinfra runs under gevent); pyinfra's
    # context (state, host) is greenlet-local, so each greenlet gets this one's.
    state, current_host = ctx_state.get(), ctx_host.get()

    def read(job) -> int:
        with ctx_state.use(state), ctx_host.use(current_host):
            return _read_batch(cache, *job)

    return sum(gevent.pool.Pool(PARALLEL_BATCHES).map(read, jobs))


def _fact_command(key: tuple) -> tuple:
    """(fact instance, its command, the command it requires or None) of a cache key."""
    cls, fact_kwargs, _ = key
    fact = cls()
    return fact, _make_command(fact.command, dict(fact_kwargs)), _make_command(fact.requires_command, dict(fact_kwargs))


def _batches(commands: list[tuple], keys: list[tuple]) -> list[list[tuple]]:
    """[(key, fact, command, requires)] in batches of at most BATCH_CHARACTERS of commands each."""
    batches: list[list[tuple]] = [[]]
    size = 0
    for key, (fact, command, requires) in zip(keys, commands, strict=True):
        length = len(str(command)) + len(str(requires or ""))
        if batches[-1] and size + length > BATCH_CHARACTERS:
            batches.append([])
            size = 0
        batches[-1].append((key, fact, command, requires))
        size += length
    return batches


def _read_batch(cache: FactCache, context: dict, batch: list[tuple]) -> int:
    mark = f"@@louieops-fact-{secrets.token_hex(6)}"
    parts: list[Any] = []
    for index, (_key, _fact, command, requires) in enumerate(batch):
        # each fact's stdout between two marker lines; the end marker starts with a newline of its own, so
        # that output without a final newline still ends its last line (the parser drops the extra one)
        run = [
            "echo",
            f"{mark}-begin-{index};",
            "(",
            command,
            ");",
            "rc=$?;",
            "printf",
            f"'\\n{mark}-end-{index}-%s\\n'",
            '"$rc";',
        ]
        if requires:
            parts += ["if", "command", "-v", requires, ">/dev/null", "2>&1;", "then", *run]
            parts += ["else", "echo", f"{mark}-missing-{index};", "fi;"]
        else:
            parts += run
    names = [key[0].__name__ for key, *_ in batch]
    who = context.get("_sudo_user") or context.get("_su_user")
    label = f"prefetch of {len(batch)} facts" if len(batch) > 3 else f"prefetch of {', '.join(names)}"
    label += f" (as {who})" if who else ""
    status, output = cache.read(lambda: cache.host.run_shell_command(StringCommand(*parts), **context), label)
    if not status:
        log.debug("%s failed: %s", label, " ".join(output.stderr_lines[-3:]))
        return 0
    read = 0
    lines: list[str] | None = None
    for line in output.stdout_lines:
        if line.startswith(mark):
            what = line[len(mark) + 1 :].split("-")
            if what[0] == "begin":
                lines = []
            elif what[0] == "end" and lines is not None:
                index, code = int(what[1]), int(what[2])
                key, fact = batch[index][:2]
                lines = _without_marker_newline(lines)
                read += _store(cache, key, fact, lines, code)
                lines = None
            elif what[0] == "missing":
                key, fact = batch[int(what[1])][:2]  # the command the fact needs is not installed: its default
                cache.values[key] = fact.default()
                read += 1
                lines = None
        elif lines is not None:
            lines.append(line)
    return read


def _without_marker_newline(lines: list[str]) -> list[str]:
    """A fact's output lines without the newline the end marker added: the empty last line when the
    output ended with a newline of its own (or was empty); nothing when it did not."""
    return lines[:-1] if lines and lines[-1] == "" else lines


def _store(cache: FactCache, key: tuple, fact, lines: list[str], code: int) -> int:
    """Keep a fact's value as pyinfra would have made it: default without output, process() with it."""
    if code != 0:
        return 0
    try:
        cache.values[key] = fact.process(lines) if lines else fact.default()
    except FactProcessError:
        return 0
    return 1
