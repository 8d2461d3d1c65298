"""Setting rules, one module per concern. Each module defines ``RULES`` (setting name -> rule) and
may define ``CHECKS`` (functions of the whole ``Settings`` that raise ``SettingsError``)."""

from __future__ import annotations

import importlib
import pkgutil


def _modules():
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        yield importlib.import_module(f"{__name__}.{info.name}")


def all_rules() -> dict:
    rules: dict = {}
    for module in _modules():
        overlap = set(rules) & set(module.RULES)
        if overlap:
            raise RuntimeError(f"setting(s) {sorted(overlap)} defined twice (again in {module.__name__})")
        rules.update(module.RULES)
    return rules


def all_checks() -> list:
    return [check for module in _modules() for check in getattr(module, "CHECKS", ())]
