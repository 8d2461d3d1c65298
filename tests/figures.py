"""The `figure` fixture: a test records a line (a measured figure, a seed) that the run prints in its summary,
whether the test passed or failed.

Printing would not do: pytest shows a passing test's output nowhere, and under xdist (`make test` runs two
workers) the line has to travel from the worker; a user property travels in the test's report.
"""

from __future__ import annotations

import pytest

#: The user property under which a test records a figure for the run's summary.
FIGURE = "figure"


@pytest.fixture
def figure(request):
    """``figure(text)`` records ``text`` for the summary at the end of the run."""

    def record(text: str) -> None:
        request.node.user_properties.append((FIGURE, text))

    return record


def pytest_terminal_summary(terminalreporter):
    lines: dict[tuple[str, str], None] = {}  # every phase's report carries the properties: once each
    for reports in terminalreporter.stats.values():
        for report in reports:
            for name, value in getattr(report, "user_properties", ()):
                if name == FIGURE:
                    lines[(report.nodeid.split("::")[-1], value)] = None
    if lines:
        terminalreporter.section("figures the tests measured")
        for test, value in lines:
            terminalreporter.write_line(f"{value}  ({test})")
