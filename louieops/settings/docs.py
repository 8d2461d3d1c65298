"""Render the settings reference (docs/settings.md) from inventory/group_data/all.py, so the two never drift.

python -m louieops.settings.docs          # print the markdown
python -m louieops.settings.docs --write  # replace the blocks between the markers in docs/settings.md
"""

from __future__ import annotations

import ast
import re
import sys

from ..resources import REPO_ROOT
from .defaults import ALL_PY

README = REPO_ROOT / "docs" / "settings.md"
BEGIN, END = "<!-- settings:begin -->", "<!-- settings:end -->"
SECRETS_BEGIN, SECRETS_END = "<!-- secrets:begin -->", "<!-- secrets:end -->"
_SECTION = re.compile(r"#\s*---\s*(.+?)\s*-+\s*$")


def render(source: str | None = None) -> str:
    source = source if source is not None else ALL_PY.read_text()
    lines = source.splitlines()
    assignments = {node.lineno: node for node in ast.parse(source).body if isinstance(node, ast.Assign)}
    out: list[str] = []
    comment: list[str] = []
    for number, line in enumerate(lines, start=1):
        section = _SECTION.match(line)
        if section:
            out.append(f"\n### {section.group(1)}\n")
            comment = []
        elif line.startswith("#"):
            comment.append(line.lstrip("# ").rstrip())
        elif number in assignments:
            node = assignments[number]
            code = "\n".join(lines[node.lineno - 1 : node.end_lineno])
            text = " ".join(comment)
            if node.lineno == node.end_lineno:
                out.append(f"- `{code}`: {text}")
            else:
                out.append(f"- {text}\n\n  ```python\n" + "\n".join("  " + c for c in code.splitlines()) + "\n  ```")
            comment = []
        elif not line.strip():
            comment = []
    return "\n".join(out).strip() + "\n"


def render_secrets() -> str:
    from ..secrets import SECRETS

    return "\n".join(f"- `{name}`: {purpose}" for name, purpose in SECRETS.items()) + "\n"


def updated_readme(readme: str) -> str:
    for begin, end, block in ((BEGIN, END, render()), (SECRETS_BEGIN, SECRETS_END, render_secrets())):
        start, stop = readme.index(begin) + len(begin), readme.index(end)
        readme = readme[:start] + "\n" + block + readme[stop:]
    return readme


def main(argv: list[str]) -> int:
    if "--write" in argv:
        README.write_text(updated_readme(README.read_text()))
    else:
        sys.stdout.write(render() + "\n" + render_secrets())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
