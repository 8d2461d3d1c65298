"""Turn pyinfra host data into a validated, read-only ``Settings`` object."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from pyinfra.api.exceptions import PyinfraError

from .rules import Invalid
from .sections import all_checks, all_rules

# Keys that belong to pyinfra (connector settings, global arguments) or to the test harness.
_FOREIGN_PREFIXES = ("_", "ssh_", "testbed_", "local_", "chroot_")
WHERE = "inventory/group_data/all.py (or the group/host file that overrides it)"


class SettingsError(PyinfraError, ValueError):
    """A setting is missing, unknown or has a bad value. ``str()`` is one line naming all three.

    A ``PyinfraError`` so the pyinfra CLI prints that line, not a traceback, and exits non-zero."""

    def __init__(self, key: str, value: Any, expected: str):
        self.key, self.value, self.expected = key, value, expected
        super().__init__(f"setting {key} = {_short(value)} is invalid: expected {expected}. Fix it in {WHERE}.")


class Settings(Mapping):
    """Validated settings with attribute access: ``settings.app_name``."""

    def __init__(self, values: Mapping[str, Any]):
        self._values = MappingProxyType(dict(values))

    def __getattr__(self, key: str) -> Any:
        try:
            return self._values[key]
        except KeyError:
            raise AttributeError(f"no setting {key!r}") from None

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def validate(data: Mapping[str, Any]) -> Settings:
    """Check every known setting, reject unknown ones, then run the cross-setting checks."""
    rules = all_rules()
    for key in data:
        if key in rules or key.startswith(_FOREIGN_PREFIXES):
            continue
        close = difflib.get_close_matches(key, list(rules), n=1)
        hint = f"a known setting name (did you mean {close[0]}?)" if close else "a known setting name"
        raise SettingsError(key, data[key], hint)

    values: dict[str, Any] = {}
    for key, rule in rules.items():
        if key not in data:
            raise SettingsError(key, "<missing>", "the setting to be defined with its default in all.py")
        try:
            values[key] = rule(data[key])
        except Invalid as exc:
            raise SettingsError(key + exc.path, data[key], exc.expected) from None

    settings = Settings(values)
    for check in all_checks():
        check(settings)
    return settings


_CACHE: dict[int, tuple[Any, Settings]] = {}


def for_host(host) -> Settings:
    """Validated settings of a pyinfra host, computed once per host object."""
    cached = _CACHE.get(id(host))
    if cached is None or cached[0] is not host:
        cached = (host, validate(host.data.dict()))
        _CACHE[id(host)] = cached
    return cached[1]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
