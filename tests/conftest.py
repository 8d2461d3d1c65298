"""Shared pytest setup. In CI (CI=true) a skipped test is a failure: a skipped suite proves nothing."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))  # tests.standins and tasks are imported from the repo

pytest_plugins = ["tests.figures", "tests.xdist_groups"]


@pytest.fixture
def clock():
    """A fake clock for the API clients: rate-limit and retry waits advance it instead of sleeping."""
    from tests.standins.fixtures import FakeClock

    return FakeClock()


def pytest_collection_modifyitems(config, items):
    """Tests marked nightly run only when asked for (``-m nightly``, make test-multihost-standby): deselected,
    not skipped, so `make test` in CI stays within its time and has no skip."""
    if config.getoption("markexpr"):
        return
    nightly = [item for item in items if item.get_closest_marker("nightly")]
    if nightly:
        config.hook.pytest_deselected(items=nightly)
        items[:] = [item for item in items if not item.get_closest_marker("nightly")]


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("CI") != "true":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped and exitstatus == 0:
        names = ", ".join(report.nodeid for report in skipped[:5])
        reporter.write_line(f"CI: {len(skipped)} test(s) skipped ({names}); skips fail the CI run.", red=True)
        session.exitstatus = 1
