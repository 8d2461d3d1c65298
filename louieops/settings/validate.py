"""Turn pyinfra host data into a validated, typed, read-only ``Settings`` object."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from pyinfra.context import ContextObject

from .errors import SettingsError, SettingsErrors
from .model import Settings
from .rules import Invalid
from .sections import all_checks, all_rules

# Keys that belong to pyinfra (connector settings, global arguments) or to the test harness.
_FOREIGN_PREFIXES = ("_", "ssh_", "testbed_", "local_", "chroot_")


def validate(data: Mapping[str, Any]) -> Settings:
    """Check every setting and reject unknown ones, then run the cross-setting checks.

    Every problem is reported at once (``SettingsErrors``, one line each); the cross-setting checks run
    only when each setting is valid on its own, since they read several settings together."""
    rules = all_rules()
    errors = [
        _unknown(key, data[key], rules) for key in data if key not in rules and not key.startswith(_FOREIGN_PREFIXES)
    ]
    values: dict[str, Any] = {}
    for key, rule in rules.items():
        if key not in data:
            errors.append(SettingsError(key, "<missing>", "the setting to be defined with its default in all.py"))
            continue
        try:
            values[key] = rule(data[key])
        except Invalid as exc:
            errors.append(SettingsError(key + exc.path, data[key], exc.expected))
    if errors:
        raise SettingsErrors(errors)

    settings = Settings(**values)
    for check in all_checks():
        try:
            check(settings)
        except SettingsError as exc:
            errors.append(exc)
    if errors:
        raise SettingsErrors(errors)
    return settings


def _unknown(key: str, value: Any, rules: Mapping[str, Any]) -> SettingsError:
    close = difflib.get_close_matches(key, list(rules), n=1)
    hint = f"a known setting name (did you mean {close[0]}?)" if close else "a known setting name"
    return SettingsError(key, value, hint)


_CACHE: dict[int, tuple[Any, Settings]] = {}


def for_host(host) -> Settings:
    """Validated settings of a pyinfra host, computed once per host object.

    ``host`` may be pyinfra's context proxy (``from pyinfra import host``): the cache is keyed by the host
    it stands for, so each host of a multi-host inventory gets its own settings."""
    real = host._get_module() if isinstance(host, ContextObject) else host
    cached = _CACHE.get(id(real))
    if cached is None or cached[0] is not real:
        cached = (real, validate(real.data.dict()))
        _CACHE[id(real)] = cached
    return cached[1]
