"""The state record of each instance (``<instance dir>/state.json``) and the instances on this machine."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .paths import STATE_DIR

STATE_FILE = "state.json"


def load_state(instance_dir: Path) -> dict[str, Any]:
    """The instance's record; empty if it has none (never started, or torn down)."""
    try:
        return json.loads((instance_dir / STATE_FILE).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def save_state(instance_dir: Path, state: dict[str, Any]) -> None:
    """Replace the record atomically, so a concurrent ``status`` or ``down`` never reads half of it."""
    instance_dir.mkdir(parents=True, exist_ok=True)
    tmp = instance_dir / f"{STATE_FILE}.tmp"
    tmp.write_text(json.dumps(state, indent=2))
    os.replace(tmp, instance_dir / STATE_FILE)


def list_instances() -> list[str]:
    """Names of the instances that have a directory under the state directory (running or not)."""
    if not STATE_DIR.is_dir():
        return []
    return sorted(p.name for p in STATE_DIR.iterdir() if p.is_dir() and not p.name.startswith("."))
