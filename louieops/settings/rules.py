"""Validation rules for settings: small callables that check one value and return it normalised.

A rule raises ``Invalid(expected)``; the validator turns that into a ``SettingsError`` that names the
setting, the value and what was expected, so a bad value stops the run with one readable line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from ..cron import cron_max_gap_minutes

Rule = Callable[[Any], Any]


class Invalid(ValueError):
    """Raised by a rule; carries a description of what was expected."""

    def __init__(self, expected: str, path: str = ""):
        super().__init__(expected)
        self.expected = expected
        self.path = path  # sub-path inside a nested value, e.g. "[2].interval"


def optional(rule: Rule) -> Rule:
    def check(value):
        return None if value is None else rule(value)

    check.__doc__ = f"{describe(rule)} or None"
    return check


def describe(rule: Rule) -> str:
    return (rule.__doc__ or rule.__name__).strip()


def string(pattern: str | None = None, what: str = "a non-empty string") -> Rule:
    regex = re.compile(pattern) if pattern else None

    def check(value):
        if not isinstance(value, str) or not value.strip():
            raise Invalid(what)
        if regex and not regex.fullmatch(value):
            raise Invalid(what)
        return value

    check.__doc__ = what
    return check


def one_of(*choices: Any) -> Rule:
    what = "one of " + ", ".join(repr(c) for c in choices)

    def check(value):
        if value not in choices:
            raise Invalid(what)
        return value

    check.__doc__ = what
    return check


def integer(minimum: int | None = None, maximum: int | None = None) -> Rule:
    return _in_range("an integer", (int,), minimum, maximum)


def number(minimum: float | None = None, maximum: float | None = None) -> Rule:
    return _in_range("a number", (int, float), minimum, maximum)


def _in_range(noun: str, types: tuple[type, ...], minimum, maximum) -> Rule:
    """A number of ``types`` (never a bool) within the bounds that are not None."""
    bounds = [f"{sign} {limit}" for sign, limit in ((">=", minimum), ("<=", maximum)) if limit is not None]
    what = noun + (" " + " and ".join(bounds) if bounds else "")

    def check(value):
        if isinstance(value, bool) or not isinstance(value, types):
            raise Invalid(what)
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise Invalid(what)
        return value

    check.__doc__ = what
    return check


def boolean(value):
    """true or false"""
    if not isinstance(value, bool):
        raise Invalid("true or false")
    return value


def absolute_path(value):
    """an absolute path without spaces, quotes or '..'"""
    if not isinstance(value, str) or not re.fullmatch(r"/[A-Za-z0-9._/@+-]*", value) or "/../" in value + "/":
        raise Invalid(describe(absolute_path))
    return value.rstrip("/") or "/"


_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
domain = string(rf"{_LABEL}(\.{_LABEL})+", "a lower-case DNS name such as api.example.com")
identifier = string(r"[a-z_][a-z0-9_-]{0,62}", "a lower-case name of letters, digits, '_' or '-' (max 63)")
url = string(r"https?://[^\s'\"]+", "an http:// or https:// URL")
email = string(r"[^@\s'\"]+@[^@\s'\"]+\.[^@\s'\"]+", "an e-mail address")
env_name = string(r"[A-Z][A-Z0-9_]*", "an environment variable name in UPPER_CASE")
sha256_hex = string(r"[0-9a-f]{64}", "a sha256 checksum (64 lower-case hex digits)")
version = string(r"[0-9]+(\.[0-9]+){0,3}([-+][0-9A-Za-z.]+)?", "a version number such as 1.2.3")

_CRON_FIELD = r"(\*|[0-9]+(-[0-9]+)?)(/[0-9]+)?(,(\*|[0-9]+(-[0-9]+)?)(/[0-9]+)?)*"
_CRON_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))


def cron_schedule(value):
    """a 5-field cron schedule such as '0 */6 * * *'"""
    fields = value.split() if isinstance(value, str) else []
    if len(fields) != 5 or not all(re.fullmatch(_CRON_FIELD, f) for f in fields):
        raise Invalid(describe(cron_schedule))
    for field, (low, high) in zip(fields, _CRON_RANGES, strict=True):
        for number_text in re.findall(r"(?<![/0-9])[0-9]+", field):
            if not low <= int(number_text) <= high:
                raise Invalid(f"{describe(cron_schedule)}; {number_text} is outside {low}-{high}")
        if re.search(r"/0+(?![0-9])", field):
            raise Invalid(f"{describe(cron_schedule)}; a step of 0 never runs")
        for start, end in re.findall(r"([0-9]+)-([0-9]+)", field):
            if int(start) > int(end):
                raise Invalid(f"{describe(cron_schedule)}; the range {start}-{end} runs backwards")
    schedule = " ".join(fields)
    try:
        cron_max_gap_minutes(schedule)  # also rejects dates that never come, such as 31 February
    except ValueError as exc:
        raise Invalid(f"{describe(cron_schedule)} that runs; {exc}") from None
    return schedule


def list_of(rule: Rule, min_items: int = 0) -> Rule:
    what = f"a list of {describe(rule)}" + (f" (at least {min_items})" if min_items else "")

    def check(value):
        if not isinstance(value, (list, tuple)) or len(value) < min_items:
            raise Invalid(what)
        out = []
        for index, item in enumerate(value):
            try:
                out.append(rule(item))
            except Invalid as exc:
                raise Invalid(exc.expected, f"[{index}]{exc.path}") from exc
        return out

    check.__doc__ = what
    return check


def mapping_of(key_rule: Rule, value_rule: Rule) -> Rule:
    what = f"a mapping of {describe(key_rule)} to {describe(value_rule)}"

    def check(value):
        if not isinstance(value, Mapping):
            raise Invalid(what)
        out = {}
        for key, item in value.items():
            try:
                key = key_rule(key)
            except Invalid as exc:
                raise Invalid(f"keys to be {exc.expected}", f"[{key!r}]") from exc
            try:
                out[key] = value_rule(item)
            except Invalid as exc:
                raise Invalid(exc.expected, f"[{key!r}]{exc.path}") from exc
        return out

    check.__doc__ = what
    return check


def record(required: Mapping[str, Rule], optional_keys: Mapping[str, Rule] | None = None) -> Rule:
    """A dict with known keys: every required key present, no unknown keys (catches typos)."""
    optional_keys = dict(optional_keys or {})
    known = {**required, **optional_keys}
    what = (
        "a mapping with keys "
        + ", ".join(required)
        + (" (optional: " + ", ".join(optional_keys) + ")" if optional_keys else "")
    )

    def check(value):
        if not isinstance(value, Mapping):
            raise Invalid(what)
        unknown = sorted(set(value) - set(known))
        if unknown:
            raise Invalid(f"no unknown key {unknown[0]!r}; allowed keys: {', '.join(known)}")
        missing = [k for k in required if k not in value]
        if missing:
            raise Invalid(f"key {missing[0]!r} to be set ({describe(required[missing[0]])})")
        out = {}
        for key, item in value.items():
            try:
                out[key] = known[key](item)
            except Invalid as exc:
                raise Invalid(exc.expected, f".{key}{exc.path}") from exc
        return out

    check.__doc__ = what
    return check
