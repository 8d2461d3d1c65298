"""The settings a newcomer reads: all.py's headings, the rules in sections/ and the typed Settings stay in step."""

from __future__ import annotations

import ast
import re
import typing
from pathlib import Path

import pytest
from typeguard import TypeCheckError, check_type

from louieops.settings import Settings, SettingsError, SettingsErrors, defaults, model, validate
from louieops.settings.docs import _SECTION
from louieops.settings.sections import SECTIONS, all_rules

TASKS = Path(__file__).resolve().parents[2] / "tasks"


def all_py_headings() -> list[tuple[str, list[str]]]:
    """(heading, setting names in order) of inventory/group_data/all.py."""
    source = defaults.ALL_PY.read_text()
    assigned = {node.lineno: node.targets[0].id for node in ast.parse(source).body if isinstance(node, ast.Assign)}
    headings: list[tuple[str, list[str]]] = []
    for number, line in enumerate(source.splitlines(), start=1):
        heading = _SECTION.match(line)
        if heading:
            headings.append((heading.group(1), []))
        elif number in assigned:
            headings[-1][1].append(assigned[number])
    return headings


def test_each_heading_of_all_py_has_its_rules_module_in_the_same_order():
    assert [(module.HEADING, list(module.RULES)) for module in SECTIONS] == all_py_headings()


def test_the_typed_settings_list_every_rule_in_the_order_of_all_py():
    assert list(model.SETTING_NAMES) == list(all_rules())


def test_every_default_type_checks_against_its_annotation():
    settings = validate(defaults.load())
    hints = typing.get_type_hints(Settings, vars(model))
    for name in model.SETTING_NAMES:
        try:
            check_type(getattr(settings, name), hints[name])
        except TypeCheckError as exc:
            pytest.fail(f"all.py's {name} does not match Settings.{name}: {exc}")


def test_the_annotations_would_catch_a_wrong_type():
    hints = typing.get_type_hints(Settings, vars(model))
    with pytest.raises(TypeCheckError):
        check_type({"P1": {"slack": "alerts-critical", "email": True, "sms": True}}, hints["alert_routes"])


def test_every_invalid_setting_is_reported_in_one_run_one_line_each():
    data = {**defaults.load(), "app_port": "3000", "nginx_api_rate_burst": -1, "app_nmae": "x"}
    with pytest.raises(SettingsErrors) as info:
        validate(data)
    lines = str(info.value).splitlines()
    assert lines[0] == "3 invalid settings:"
    assert [line.split(" = ")[0] for line in lines[1:]] == [
        "setting app_nmae",
        "setting app_port",
        "setting nginx_api_rate_burst",
    ]
    assert "did you mean app_name?" in lines[1]
    assert all("Fix it in inventory/group_data/all.py" in line for line in lines[1:])


def test_cross_setting_checks_report_together_too():
    data = defaults.load()
    tiers = dict(data["health_tiers"])
    del tiers["disk_pct"]
    data.update(health_tiers=tiers, papertrail_method="remote_syslog2", papertrail_port=12345)
    with pytest.raises(SettingsErrors) as info:
        validate(data)
    assert {error.key for error in info.value.errors} == {"remote_syslog2_sha256", "health_tiers"}


def test_one_invalid_setting_is_still_one_line():
    with pytest.raises(SettingsError) as info:
        validate({**defaults.load(), "app_port": 1})
    assert "\n" not in str(info.value) and info.value.key == "app_port"


def _settings_read(module: ast.Module) -> set[str] | None:
    found = re.search(r"Settings read:(.*?)(?:\.\s|\.$)", ast.get_docstring(module) or "", re.S)
    return set(re.findall(r"[a-z_0-9]+", found.group(1))) if found else None


@pytest.mark.parametrize("path", sorted(TASKS.glob("[!_]*.py")), ids=lambda p: p.name)
def test_the_settings_read_list_of_each_task_is_what_it_reads(path):
    tree = ast.parse(path.read_text())
    read = {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in ("s", "settings")
        and node.attr in model.SETTING_NAMES
    }
    listed = _settings_read(tree)
    assert listed is not None, f"{path.name}: its docstring has no 'Settings read:' list"
    assert listed == read, (
        f"{path.name}: listed but not read {sorted(listed - read)}, read but not listed {sorted(read - listed)}"
    )


def test_each_host_of_an_inventory_gets_its_own_settings_through_pyinfras_host_proxy():
    from pyinfra import host
    from pyinfra.api import Inventory
    from pyinfra.context import ctx_host

    from louieops.settings import for_host

    base = defaults.load()
    inventory = Inventory((["one", "two"], base), web=(["one"], {"app_port": 3001}), api=(["two"], {"app_port": 3002}))
    ports = []
    for name in ("one", "two", "one"):
        with ctx_host.use(inventory.get_host(name)):
            ports.append(for_host(host).app_port)
    assert ports == [3001, 3002, 3001]
