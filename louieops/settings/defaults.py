"""The settings files as plain data: inventory/group_data/all.py (every default) and the group files."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

from ..resources import REPO_ROOT

GROUP_DATA = REPO_ROOT / "inventory" / "group_data"
ALL_PY = GROUP_DATA / "all.py"


def load(path: Path = ALL_PY) -> dict[str, Any]:
    """The settings a group-data file assigns (all.py: every setting with its default)."""
    return {key: value for key, value in runpy.run_path(str(path)).items() if not key.startswith("__")}
