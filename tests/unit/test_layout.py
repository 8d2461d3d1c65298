"""One home for each thing: the server's paths and names (louieops/layout.py), the scripts' configs
(louieops/server_scripts.py) and their library (files/scripts/louieops_common.py)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from louieops import layout, server_scripts
from louieops.resources import FILES, file
from tests.unit.helpers import default_settings, load_script

REPO = Path(__file__).resolve().parents[2]
CONFIGS = {
    "send-alert": server_scripts.alerts_config,
    "health-check": server_scripts.health_config,
    "louieops-maintenance": server_scripts.maintenance_config,
    "status": server_scripts.status_config,
}


def test_the_script_library_looks_for_configs_where_the_deploy_writes_them():
    common = load_script(file("scripts/louieops_common.py"), "louieops_common_under_test")
    assert common.CONFIG_DIR == layout.CONFIG_DIR
    assert {Path(p).parent.as_posix() for p in (layout.HEALTH_CONFIG, layout.ALERTS_CONFIG)} == {layout.CONFIG_DIR}


@pytest.mark.parametrize("script", sorted(CONFIGS))
def test_each_script_reads_only_keys_its_config_has(script):
    source = Path(file(f"scripts/{script}")).read_text()
    read = set(re.findall(r'\bconfig\["([a-z_]+)"\]', source))
    assert read, f"{script} reads no config key: the pattern no longer matches its code"
    assert read <= set(CONFIGS[script](default_settings()))


def _static_files() -> list[Path]:
    tracked = (p for p in FILES.rglob("*") if p.is_file() and not any(part.startswith((".", "__")) for part in p.parts))
    return sorted(p for p in tracked if p.suffix != ".json")


@pytest.mark.parametrize("path", _static_files(), ids=lambda p: str(p.relative_to(FILES)))
def test_every_static_file_says_it_is_managed_and_where_it_comes_from(path):
    head = "\n".join(path.read_text().splitlines()[:3])
    assert f"Managed by louieops (files/{path.relative_to(FILES)})" in head


def test_tasks_do_not_import_each_other():
    for path in sorted((REPO / "tasks").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            modules += [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            assert not any(m == "tasks" or m.startswith("tasks.") for m in modules), f"{path.name} imports {modules}"


def test_the_public_names_are_derived_once_for_nginx_certbot_and_the_checks():
    s = default_settings(domain_admin="api.simplylouie.com")  # a name used twice counts once
    assert layout.public_domains(s) == ["simplylouie.com", "api.simplylouie.com", "ws.simplylouie.com"]
    assert layout.checked_cert_domains(s) == sorted(layout.public_domains(s))
    assert layout.checked_cert_domains(default_settings(certbot_enabled=False)) == []
    assert server_scripts.maintenance_config(s)["domains"] == sorted(layout.public_domains(s))


def test_the_readme_says_where_every_template_and_static_file_goes():
    section = (REPO / "docs" / "layout.md").read_text().split("## Where things live", 1)[1].split("\n## ", 1)[0]
    sources = [p for p in (REPO / "templates").rglob("*.j2")] + _static_files() + [FILES / "app/package.json"]
    missing = [str(p.relative_to(REPO)) for p in sources if str(p.relative_to(REPO)) not in section]
    assert missing == [], "add these to the 'Where things live' table of docs/layout.md"
