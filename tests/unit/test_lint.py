"""What `make lint` (scripts/lint.sh: ruff and shellcheck; `make test` runs it first) covers. The scripts
the deploy installs on the server have no .py or .sh suffix, so check that none silently drops out."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from louieops.resources import FILES, REPO_ROOT

RUFF = Path(sys.executable).with_name("ruff")
SHELL_SHEBANGS = (b"#!/bin/bash", b"#!/bin/sh", b"#!/usr/bin/env bash", b"#!/usr/bin/env sh")


def server_scripts(*shebangs: bytes) -> set[str]:
    """The files under files/ starting with one of ``shebangs``, relative to the repository."""
    return {
        str(p.relative_to(REPO_ROOT)) for p in FILES.rglob("*") if p.is_file() and p.read_bytes().startswith(shebangs)
    }


def test_ruff_checks_every_python_server_script():
    scripts = server_scripts(b"#!/usr/bin/python3")
    assert len(scripts) >= 4
    result = subprocess.run(
        [str(RUFF), "check", "--show-files", "."], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    checked = {str(Path(line).relative_to(REPO_ROOT)) for line in result.stdout.splitlines()}
    assert scripts <= checked, "add the missing ones to extend-include in pyproject.toml"


def test_shellcheck_checks_every_shell_server_script():
    scripts = server_scripts(*SHELL_SHEBANGS) | {"files/backup/backup-lib.sh"}
    assert len(scripts) >= 6
    result = subprocess.run([str(REPO_ROOT / "scripts/lint.sh"), "--list"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    checked = set(result.stdout.splitlines())
    assert scripts <= checked
    assert "templates/certbot/louieops-reload-nginx.j2" in checked  # a server script too, rendered first
