"""Paths of the repository's templates/ and files/ folders, and the header every rendered file carries."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = REPO_ROOT / "templates"
FILES = REPO_ROOT / "files"

# First line(s) of every file the deploy writes, so an operator knows not to edit it by hand.
MANAGED_HEADER = "Managed by louieops ({source}); local edits are overwritten on the next deploy."


def template(relative: str) -> str:
    """Absolute path of templates/<relative>, checked to exist (a typo fails at plan time)."""
    return _existing(TEMPLATES / relative)


def file(relative: str) -> str:
    """Absolute path of files/<relative>, checked to exist."""
    return _existing(FILES / relative)


def _existing(path: Path) -> str:
    if not path.exists():
        raise FileNotFoundError(f"missing resource {path.relative_to(REPO_ROOT)}")
    return str(path)
