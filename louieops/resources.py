"""The repository's templates/ and files/ folders, the two ways the tasks upload from them, and the server
scripts as modules for the controller.

Every uploaded file carries the "managed by" header: templates render it from ``managed``, static files
under files/ have it written in (a test checks both).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from pathlib import Path

from pyinfra.operations import files

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


def managed(source: str) -> str:
    """The header line of a file rendered from ``source`` (a path relative to the repository)."""
    return MANAGED_HEADER.format(source=source)


def put_template(
    relative: str, dest: str, *, name: str, mode: str = "0644", user: str = "root", group: str = "root", **data
):
    """``files.template`` of templates/<relative> with the managed header and explicit variables."""
    return files.template(
        name=name,
        src=template(relative),
        dest=dest,
        user=user,
        group=group,
        mode=mode,
        managed=managed(f"templates/{relative}"),
        **data,
    )


def put_file(relative: str, dest: str, *, mode: str = "0644", user: str = "root", group: str = "root"):
    """``files.put`` of files/<relative> as it is, named after its destination."""
    return files.put(name=f"Upload {dest}", src=file(relative), dest=dest, user=user, group=group, mode=mode)


def _existing(path: Path) -> str:
    if not path.exists():
        raise FileNotFoundError(f"missing resource {path.relative_to(REPO_ROOT)}")
    return str(path)


def server_script(name: str):
    """files/scripts/<name> as a module, so the controller checks input by the server's own rules before it
    connects (the scripts are standard library only; no bytecode is written into files/)."""
    path = FILES / "scripts" / name
    loader = importlib.machinery.SourceFileLoader(name.replace("-", "_"), str(path))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    previous, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = previous
    return module
