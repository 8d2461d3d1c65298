"""How `make test` spreads the suite over its two pytest-xdist workers.

Every e2e module that tests the shared server (tests/e2e/conftest.py: booted and deployed once per session) is
one group, run by one worker in file order, so that server boots once; each module with a test server of its own
(OWN_SERVER_MODULES) is a group of its own, so its module-scoped server boots once too; unit and integration
tests go one by one to whichever worker is free. The shared server's group starts first (its modules sort first).

xdist's own `--dist loadgroup` cannot do this with pytest 9.2: it renames the tests' node ids, which pytest no
longer lets a plugin do, so every test became a group of one and both workers booted the shared server. This
scheduler groups by node id instead; tests/e2e/conftest.py checks at collection that OWN_SERVER_MODULES is right.
"""

from __future__ import annotations

from pathlib import PurePosixPath

import pytest
from xdist.scheduler import LoadScopeScheduling

#: The e2e modules that boot test servers of their own and never use the shared one.
OWN_SERVER_MODULES = frozenset(
    {
        "test_multihost",
        "test_multihost_standby",
        "test_pitr",
        "test_release_migration",
        "test_testbed",
        "test_trixie_drills",
    }
)
SHARED_SERVER_GROUP = "shared-server"
E2E_DIR = "tests/e2e/"


def group_of(nodeid: str) -> str:
    """The xdist work unit a test belongs to (tests of one unit run on one worker, in collection order)."""
    path = nodeid.split("::", 1)[0]
    if not path.startswith(E2E_DIR):
        return nodeid
    module = PurePosixPath(path).stem
    return path if module in OWN_SERVER_MODULES else SHARED_SERVER_GROUP


class ServerGroupScheduling(LoadScopeScheduling):
    """xdist's load-by-scope scheduling, with group_of as the scope."""

    def _split_scope(self, nodeid: str) -> str:
        return group_of(nodeid)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    # Only in place of xdist's default (`-n N` alone): an explicit --dist (loadfile, each, ...) is left as asked.
    return ServerGroupScheduling(config, log) if config.getoption("dist") == "load" else None
