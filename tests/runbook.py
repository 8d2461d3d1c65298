"""The commands of docs/RUNBOOK.md (and the README's tables), read from the markdown as an operator reads them.

A ```sh block is a list of commands, one per line; the line of text just above it says how it is run:
"*changes the server:*", "*interactive:*", "*controller*" (on the operator's machine), or nothing (a
command that only reads, run as root on the server). Blocks for several servers say where they run:
"*several servers, on the primary:*", "... on the standby:*", "... on the standby, changes it:*",
"... on an app host, changes it:*" and "*several servers, controller*"; the single-server tests leave them
to the multi-host ones."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RUNBOOK = REPO / "docs" / "RUNBOOK.md"
KINDS = {
    "*several servers, on the primary": "primary",
    "*several servers, on the standby, changes it": "standby-changes",
    "*several servers, on the standby": "standby",
    "*several servers, on an app host, changes it": "app-changes",
    "*several servers, controller": "cluster-controller",
    "*changes the server": "changes",
    "*interactive": "interactive",
    "*controller*": "controller",
}


@dataclass(frozen=True)
class Command:
    line: str
    kind: str  # reads, changes, interactive, controller, or one of the several-servers kinds


def runbook_commands(text: str | None = None) -> list[Command]:
    text = RUNBOOK.read_text() if text is None else text
    commands = []
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.strip() != "```sh":
            continue
        above = next((lines[i].strip() for i in range(index - 1, -1, -1) if lines[i].strip()), "")
        kind = next((kind for marker, kind in KINDS.items() if above.startswith(marker)), None)
        kind = kind or next((kind for marker, kind in KINDS.items() if marker in above), "reads")
        for body in lines[index + 1 :]:
            if body.strip().startswith("```"):
                break
            if body.strip() and not body.strip().startswith("#"):
                commands.append(Command(body.strip(), kind))
    return commands


def readme_table_commands() -> list[str]:
    """The commands in the README's operator tables (the last column, in backticks)."""
    readme = (REPO / "README.md").read_text()
    section = readme.split("## On the server at 3 a.m.", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| ---")]
    return [m for row in rows for m in re.findall(r"`([^`]+)`", row.rsplit("|", 2)[1])]
