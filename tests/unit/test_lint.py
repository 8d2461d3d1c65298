"""Static checks that catch real bugs cheaply: undefined names, unused imports, syntax errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RUFF = Path(sys.executable).with_name("ruff")


def server_scripts() -> list[Path]:
    """The Python scripts the deploy installs on the server (files/**, no .py suffix)."""
    return [p for p in (REPO / "files").rglob("*") if p.is_file() and p.read_bytes().startswith(b"#!/usr/bin/python3")]


def test_python_sources_have_no_pyflakes_errors():
    paths = ["deploy.py", "louieops", "tasks", "tests", "benchmarks", "inventory", *map(str, server_scripts())]
    result = subprocess.run(
        [str(RUFF), "check", "--isolated", "--line-length", "120", "--select", "F,E9", *paths],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_there_are_server_scripts_to_check():
    assert len(server_scripts()) >= 4
