"""Settings: validated once, before any operation is planned.

Every setting and its default lives in ``inventory/group_data/all.py`` (group files only override).
``sections/`` holds the rules, one module per heading of all.py; they say what each setting must look
like and hold no defaults. ``model.Settings`` is the typed result. A bad value, a missing setting or an
unknown (mistyped) setting name stops the run with one line per problem, naming the key, the value and
what is expected.
"""

from __future__ import annotations

from .errors import SettingsError, SettingsErrors
from .model import Settings
from .validate import for_host, validate

__all__ = ["Settings", "SettingsError", "SettingsErrors", "for_host", "validate"]
