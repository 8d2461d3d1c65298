"""Setting rules, one module per heading of ``inventory/group_data/all.py``, in the same order.

Each module defines ``HEADING`` (the heading in all.py), ``RULES`` (setting name -> rule, in all.py's order)
and may define ``CHECKS``: functions of the whole ``Settings`` that raise ``SettingsError`` (run once every
setting on its own is valid). A test keeps headings, names and order in step with all.py.
"""

from __future__ import annotations

from . import (
    alerts,
    application,
    backups,
    base,
    certbot,
    deploys,
    domains,
    kpis,
    logs,
    maintenance,
    nginx,
    nodejs,
    postgresql,
    sentry,
    servers,
    uptimerobot,
)

SECTIONS = (
    application,
    domains,
    base,
    postgresql,
    nodejs,
    nginx,
    certbot,
    backups,
    logs,
    alerts,
    kpis,
    maintenance,
    uptimerobot,
    sentry,
    deploys,
    servers,
)


def all_rules() -> dict:
    rules: dict = {}
    for module in SECTIONS:
        overlap = set(rules) & set(module.RULES)
        if overlap:
            raise RuntimeError(f"setting(s) {sorted(overlap)} defined twice (again in {module.__name__})")
        rules.update(module.RULES)
    return rules


def all_checks() -> list:
    return [check for module in SECTIONS for check in getattr(module, "CHECKS", ())]
