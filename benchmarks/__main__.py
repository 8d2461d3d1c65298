"""Run every benchmark module of this package (each ``benchmarks/<name>_bench.py`` with a ``rows(argv)``)
and print their rows as one table (``make bench``).

python -m benchmarks                 # all of them, with their defaults
python -m benchmarks backup          # only the ones whose name contains "backup"
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import benchmarks
from benchmarks.table import render


def modules(selected: list[str]) -> list[str]:
    names = sorted(info.name for info in pkgutil.iter_modules(benchmarks.__path__) if info.name.endswith("_bench"))
    return [name for name in names if not selected or any(word in name for word in selected)]


def main(argv: list[str]) -> int:
    names = modules(argv)
    if not names:
        print(f"no benchmark matches {argv}", file=sys.stderr)
        return 2
    failed, rows = [], []
    for name in names:
        print(f"== benchmarks.{name}", file=sys.stderr, flush=True)
        try:
            rows += importlib.import_module(f"benchmarks.{name}").rows([])
        except Exception as exc:  # one broken benchmark must not hide the others' rows
            print(f"benchmarks.{name} failed: {exc!r}", file=sys.stderr)
            failed.append(name)
    print(render(rows))
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
