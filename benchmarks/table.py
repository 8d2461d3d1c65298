"""The one table ``make bench`` prints: every benchmark contributes rows (section, what, figure, how)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    section: str
    measure: str
    figure: str
    note: str = ""


def render(rows: list[Row]) -> str:
    head = Row("section", "measure", "figure", "how / note")
    cells = [(r.section, r.measure, r.figure, r.note) for r in [head, *rows]]
    widths = [max(len(c[i]) for c in cells) for i in range(4)]
    lines = []
    for index, row in enumerate(cells):
        lines.append(
            "| "
            + " | ".join(
                c.rjust(w) if i == 2 and index else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
            + " |"
        )
        if index == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def seconds(value: float) -> str:
    return f"{value:.1f} s" if value >= 10 else f"{value:.2f} s"
