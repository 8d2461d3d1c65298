"""The API operations take typed desired state: the clients import nothing from the settings or the tasks,
and the operations check their arguments before any request."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from pyinfra.api import OperationValueError

from louieops.clients.sentry import IssueAlertSpec, Route
from louieops.clients.uptimerobot import ContactRef, MonitorSpec
from louieops.operations import saas

REPO = Path(__file__).resolve().parents[2]
CLIENTS = REPO / "louieops" / "clients"
FORBIDDEN = ("louieops.settings", "tasks")


def imported_modules(source: str, module: str) -> set[str]:
    """Every module an import statement of ``module`` (dotted name) may load, relative imports resolved."""
    package = module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # `from louieops import settings`
    return found


def forbidden(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == f or m.startswith(f + ".") for f in FORBIDDEN))


def client_modules() -> list[Path]:
    return sorted(CLIENTS.rglob("*.py"))


@pytest.mark.parametrize("path", client_modules(), ids=lambda p: str(p.relative_to(REPO)))
def test_the_api_clients_import_nothing_from_settings_or_tasks(path):
    module = ".".join(path.relative_to(REPO).with_suffix("").parts)
    assert forbidden(imported_modules(path.read_text(), module)) == []


def test_the_check_sees_relative_and_absolute_imports():
    module = "louieops.clients.sentry.reconcile"
    assert len(client_modules()) >= 8
    assert forbidden(imported_modules("from ...settings.sections.observability import X", module)) == [
        "louieops.settings.sections.observability",
        "louieops.settings.sections.observability.X",
    ]
    assert forbidden(imported_modules("from ... import settings", module)) == ["louieops.settings"]
    assert forbidden(imported_modules("import tasks.saas", module)) == ["tasks.saas"]
    assert forbidden(imported_modules("from ..http import ApiError\nimport re", module)) == []


def test_a_monitor_naming_an_unknown_contact_key_is_refused_before_any_request():
    monitor = MonitorSpec(name="Home", type="HTTP", url="https://x", interval=300, timeout=30, contact_keys=("pager",))
    operation = saas.uptimerobot_monitors._inner(
        [monitor],
        {"email": ContactRef(type="email", value="ops@x")},
        managed_tag="louieops",
        api_url="http://127.0.0.1:9",
        requests_per_minute=10,
    )
    with pytest.raises(OperationValueError, match="'Home' names alert contact 'pager'.*alert_contacts \\(email\\)"):
        next(operation)


@pytest.mark.parametrize(
    "name, options, expected",
    [
        ("[ops] a", {"api_mode": "v2"}, "api_mode 'v2' is not one of auto, workflows, legacy"),
        ("a", {}, "'a' does not start with name_prefix"),
    ],
)
def test_sentry_arguments_are_checked_before_any_request(name, options, expected):
    alert = IssueAlertSpec(name, "new_issue", 5, None, Route((), True, None))
    operation = saas.sentry_alerts._inner(
        [alert], [], name_prefix="[ops] ", api_url="http://127.0.0.1:9", org="o", project="p", **options
    )
    with pytest.raises(OperationValueError, match=expected):
        next(operation)
