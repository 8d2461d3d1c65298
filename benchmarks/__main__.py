"""Run every benchmark module of this package: each ``benchmarks/<name>_bench.py`` with a ``main(argv)``.

python -m benchmarks                 # all of them, with their defaults
python -m benchmarks backup          # only the ones whose name contains "backup"
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import benchmarks


def modules(selected: list[str]) -> list[str]:
    names = sorted(info.name for info in pkgutil.iter_modules(benchmarks.__path__) if info.name.endswith("_bench"))
    return [name for name in names if not selected or any(word in name for word in selected)]


def main(argv: list[str]) -> int:
    names = modules(argv)
    if not names:
        print(f"no benchmark matches {argv}", file=sys.stderr)
        return 2
    failed = []
    for name in names:
        print(f"== benchmarks.{name}", flush=True)
        try:
            status = importlib.import_module(f"benchmarks.{name}").main([])
        except Exception as exc:  # one broken benchmark must not hide the others' tables
            print(f"benchmarks.{name} failed: {exc!r}", file=sys.stderr)
            status = 1
        if status:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
