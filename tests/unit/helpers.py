"""Helpers shared by the unit tests: a fake pyinfra host, a loader for the server-side scripts, a send-alert
that records its calls and a pytest run with one of the suite's plugins."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any


class UnregisteredFact(AssertionError):
    """A fact was asked with arguments the test did not register: the code asked about the wrong object."""


def fact_key(cls: type, kwargs: Mapping[str, Any]) -> tuple:
    """(fact class, sorted arguments) without pyinfra's global arguments (_sudo, ...), as the fixture
    files of pyinfra's own tests key facts by name and argument string."""
    return cls, tuple(sorted((k, _frozen(v)) for k, v in kwargs.items() if not k.startswith("_")))


def _frozen(value: Any) -> Any:
    return tuple(_frozen(v) for v in value) if isinstance(value, (list, tuple)) else value


class FakeHost:
    """Stands in for pyinfra's ``host`` inside an operation: facts keyed by class and arguments (a fact
    asked about any other object fails the test), recorded no-op messages."""

    def __init__(self, facts: Mapping[tuple, Any]):
        self.facts, self.noops = dict(facts), []

    def get_fact(self, cls, **kwargs):
        key = fact_key(cls, kwargs)
        if key not in self.facts:
            known = ", ".join(f"{c.__name__}{dict(args)}" for c, args in self.facts) or "none"
            raise UnregisteredFact(f"{cls.__name__}{dict(key[1])} was asked; the test registered {known}")
        return self.facts[key]

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
    sys.modules[name] = module  # as an import does: dataclasses look their module up there
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


def send_alert_recorder(tmp_path):
    """A stand-in send-alert that appends its arguments to a file; (path, calls reader)."""
    calls = tmp_path / "calls"
    fake = tmp_path / "send-alert"
    fake.write_text(f'#!/bin/sh\necho "$@" >> {calls}\necho sent\n')
    fake.chmod(0o755)
    return str(fake), lambda: calls.read_text().splitlines() if calls.exists() else []


def json_send_alert_recorder(tmp_path):
    """A stand-in send-alert (Python, as the server's) that appends its argument list as a JSON line and
    answers as the real one does; (its path, a reader of the argument lists so far)."""
    sent = tmp_path / "sent.jsonl"
    fake = tmp_path / "send-alert"
    fake.write_text(
        "#!/usr/bin/python3\nimport json, sys\n"
        f"open({str(sent)!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\nprint('send-alert: delivered')\n"
    )
    fake.chmod(0o755)
    return str(fake), lambda: [json.loads(line) for line in sent.read_text().splitlines()] if sent.exists() else []


def run_pytest_with(plugin: str, cwd, *args: str, env: dict[str, str] | None = None):
    """Run pytest in ``cwd`` (a tmp dir of sample tests) with one of the suite's plugins (``tests.figures``, ...)
    and no other conftest: the plugin as `make test` uses it, in a real pytest run."""
    repo_root = Path(__file__).resolve().parents[2]
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", plugin, "-p", "no:cacheprovider", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(repo_root), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )
