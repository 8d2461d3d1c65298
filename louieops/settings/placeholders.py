"""``{setting_name}`` placeholders in setting values (monitor names and URLs, the status page): one pattern for
the validation that each names a string setting and for filling them in."""

from __future__ import annotations

import re

PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")


def names(text: str) -> list[str]:
    """The setting names ``text`` refers to."""
    return PLACEHOLDER.findall(text)


def expand(text: str, settings) -> str:
    """``text`` with each placeholder replaced by its setting's value (validation made sure it is a string)."""
    return PLACEHOLDER.sub(lambda match: getattr(settings, match.group(1)), text)
