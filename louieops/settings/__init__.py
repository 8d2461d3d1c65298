"""Settings: validated once, before any operation is planned.

Every setting and its default lives in ``inventory/group_data/all.py`` (group files only override).
The rules here say what each setting must look like; they hold no defaults. A bad value, a missing
setting or an unknown (mistyped) setting name stops the run with one line naming the key, the value
and what is expected.
"""

from __future__ import annotations

from .validate import Settings, SettingsError, for_host, validate

__all__ = ["Settings", "SettingsError", "for_host", "validate"]
