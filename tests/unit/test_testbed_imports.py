"""The testbed's modules import each other without a cycle.

Imports inside functions count too: a deferred import is how a cycle hides (``cleanup`` and ``server``
once imported each other that way).
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

from louieops import testbed

PACKAGE = "louieops.testbed"


def import_graph(package_dir: Path, package: str = PACKAGE) -> dict[str, set[str]]:
    """Module name (``__init__`` for the package) -> the package's modules it imports, anywhere in its code."""
    modules = {path.stem for path in package_dir.glob("*.py")}

    def module_of(dotted: str) -> str | None:
        """``louieops.testbed`` -> ``__init__``, ``louieops.testbed.x`` -> ``x``, anything else -> None."""
        if dotted == package:
            return "__init__"
        if dotted.startswith(package + ".") and dotted.removeprefix(package + ".") in modules:
            return dotted.removeprefix(package + ".")
        return None

    def targets(node: ast.Import | ast.ImportFrom) -> set[str]:
        if isinstance(node, ast.Import):
            return {module_of(alias.name) for alias in node.names} - {None}
        if node.level == 1:
            base = node.module
        elif node.level == 0 and node.module and (node.module == package or node.module.startswith(package + ".")):
            base = node.module.removeprefix(package).removeprefix(".") or None
        else:
            return set()  # outside the package
        if base is not None:
            return {base} & modules
        # `from . import x`: x is a module, or else a name the package's __init__ defines.
        return {alias.name if alias.name in modules else "__init__" for alias in node.names}

    graph = {}
    for name in modules:
        tree = ast.parse((package_dir / f"{name}.py").read_text())
        graph[name] = {
            target
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for target in targets(node)
            if target != name
        }
    return graph


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as error:
        return error.args[1]
    return None


def test_the_graph_sees_relative_absolute_and_deferred_imports(tmp_path):
    (tmp_path / "__init__.py").write_text("from .a import A\n")
    (tmp_path / "a.py").write_text("from . import b\nA = 1\n")
    (tmp_path / "b.py").write_text("def f():\n    import louieops.testbed.c\n")
    (tmp_path / "c.py").write_text("from louieops.testbed import A\nimport os\n")
    graph = import_graph(tmp_path)
    assert graph == {"__init__": {"a"}, "a": {"b"}, "b": {"c"}, "c": {"__init__"}}
    assert cycle(graph) is not None
    assert cycle({**graph, "c": set()}) is None


def test_testbed_modules_import_each_other_without_a_cycle():
    graph = import_graph(Path(testbed.__file__).parent)
    assert {"network", "cleanup"} <= graph["server"]  # the graph is read, not empty
    found = cycle(graph)
    assert found is None, f"import cycle in {PACKAGE}: {' -> '.join(found or [])}"
