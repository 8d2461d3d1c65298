"""Helpers shared by the unit tests: a fake pyinfra host and a loader for the server-side scripts."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys


class FakeHost:
    """Stands in for pyinfra's ``host`` inside an operation: canned facts, recorded no-op messages."""

    def __init__(self, facts):
        self.facts, self.noops = facts, []

    def get_fact(self, cls, **kwargs):
        return self.facts[cls]

    def noop(self, text):
        self.noops.append(text)

    def get_temp_filename(self, hash_key):
        return f"/tmp/pyinfra-{hash_key}"


def load_script(path: str, name: str):
    """Import a server-side script (a file without .py) as a module, leaving no __pycache__ in files/."""
    loader = importlib.machinery.SourceFileLoader(name, path)
    spec = importlib.util.spec_from_loader(name, loader)
    module = importlib.util.module_from_spec(spec)
    previous, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = previous
    return module
