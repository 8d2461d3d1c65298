"""The error a bad setting raises: one line naming the setting, its value, what was expected and where to fix it."""

from __future__ import annotations

from typing import Any

from pyinfra.api.exceptions import PyinfraError

WHERE = "inventory/group_data/all.py (or the group/host file that overrides it)"


class SettingsError(PyinfraError, ValueError):
    """A setting is missing, unknown or has a bad value. ``str()`` is one line naming all three.

    A ``PyinfraError`` so the pyinfra CLI prints that line, not a traceback, and exits non-zero."""

    def __init__(self, key: str, value: Any, expected: str):
        self.key, self.value, self.expected = key, value, expected
        super().__init__(f"setting {key} = {_short(value)} is invalid: expected {expected}. Fix it in {WHERE}.")


class SettingsErrors(SettingsError):
    """Every invalid setting of a run at once: one line each, so three mistakes take one run to find.

    Subclasses ``SettingsError`` (the first error's key, value and expectation) so callers that catch one
    bad setting keep working."""

    def __init__(self, errors: list[SettingsError]):
        first = errors[0]
        self.errors = errors
        super().__init__(first.key, first.value, first.expected)
        if len(errors) > 1:
            self.args = (f"{len(errors)} invalid settings:\n" + "\n".join(str(e) for e in errors),)

    def __str__(self) -> str:
        return str(self.args[0])


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
