"""Helpers shared by the unit tests: a fake pyinfra host and a loader for the server-side scripts."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
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
    """Import a server-side script (a file without .py) as a module, leaving no __pycache__ in files/.

    Its directory comes first on sys.path while it loads, as when Python runs it: the scripts import
    their library (louieops_common) from their own directory."""
    loader = importlib.machinery.SourceFileLoader(name, path)
    spec = importlib.util.spec_from_loader(name, loader)
    module = importlib.util.module_from_spec(spec)
    previous, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    sys.path.insert(0, os.path.dirname(os.path.realpath(path)))
    try:
        loader.exec_module(module)
    finally:
        sys.path.remove(os.path.dirname(os.path.realpath(path)))
        sys.dont_write_bytecode = previous
    return module


def default_settings(**overrides):
    """The validated defaults of inventory/group_data/all.py, with ``overrides`` applied."""
    from louieops.settings import defaults, validate

    return validate({**defaults.load(), **overrides})
