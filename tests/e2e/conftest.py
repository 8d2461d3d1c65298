"""The shared end-to-end fixtures: one booted Debian 12 test server (13 with LOUIEOPS_E2E_RELEASE=trixie),
deployed twice, for the whole e2e suite.

``deployed`` is the server after the full deploy (``pyinfra -y ... deploy.py``) has run twice; the
first run must succeed, the second is kept for the idempotency test. If the server cannot boot or the
first deploy fails, every e2e test errors (never skips): a skipped e2e suite proves nothing.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import runpy
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from louieops.settings import Settings, validate
from louieops.testbed import Testbed
from tests.xdist_groups import SHARED_SERVER_GROUP, group_of

REPO_ROOT = Path(__file__).resolve().parents[2]
PYINFRA = str(Path(sys.executable).with_name("pyinfra"))
DEPLOY_TIMEOUT = 1800


def _uses_shared_server(item: pytest.Item) -> bool:
    definitions = item._fixtureinfo.name2fixturedefs.get("testbed", ())
    return any(Path(inspect.getfile(definition.func)) == Path(__file__) for definition in definitions)


def pytest_collection_modifyitems(items):
    for item in items:
        if "/tests/e2e/" not in str(item.path):
            continue
        item.add_marker(pytest.mark.e2e)
        if not _uses_shared_server(item):
            continue
        item.add_marker(pytest.mark.shared_server)
        # make test's xdist groups (tests/xdist_groups.py) must keep every test of the shared server on one worker.
        if group_of(item.nodeid) != SHARED_SERVER_GROUP:
            raise pytest.UsageError(
                f"{item.nodeid} uses the shared test server, but tests/xdist_groups.py lists {item.path.stem} in "
                "OWN_SERVER_MODULES: remove it there (two xdist workers would boot the shared server at once)"
            )


@dataclass
class DeployRun:
    """One `pyinfra --json` run: its exit code, output and per-operation results."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def changed_operations(self) -> list[str]:
        operations = (self.report.get("results") or {}).get("operations", [])
        return [op["name"] for op in operations if op.get("success")]

    @property
    def failed_operations(self) -> list[str]:
        operations = (self.report.get("results") or {}).get("operations", [])
        return [op["name"] for op in operations if op.get("error")]

    @property
    def planned_changes(self) -> list[str]:
        return [op["name"] for op in self.report.get("plan", []) if op.get("hosts_with_change")]

    def explain(self) -> str:
        """The exit code, the lines that may say what failed (with several hosts the first failure is far above
        the end of the output), then the end of the output."""
        errors = [line for line in self.stderr.splitlines() if NOT_ROUTINE.search(line)][:60]
        head = "lines that are not routine:\n" + "\n".join(errors) + "\n\nthe end of the output:\n" if errors else ""
        return f"pyinfra {' '.join(self.args)} exited {self.returncode}:\n{head}{self.stderr[-6000:]}"


#: Lines of pyinfra's output other than a host's routine outcomes (connected, ready, planned, success, no change,
#: skipped): errors ("[host] Error: ...", "pyinfra error ...", timeouts, tracebacks) and what a failing command
#: printed ("[host] ...").
NOT_ROUTINE = re.compile(
    r"pyinfra error|timed out|Traceback|^\s*\[[^]]+\] (?!Success$|No changes$|Skipped$|Connected$|Ready: |will )"
)


def run_deploy(testbed: Testbed, *args: str, deploy_file: str = "deploy.py", env: dict | None = None) -> DeployRun:
    """Run the real pyinfra CLI against the test server with the secrets of its env file."""
    argv = [PYINFRA, "--json", *args, str(testbed.inventory_path), deploy_file]
    started = time.monotonic()
    proc = subprocess.run(
        argv,
        cwd=REPO_ROOT,
        env={**os.environ, **testbed.env, **(env or {})},
        capture_output=True,
        text=True,
        timeout=DEPLOY_TIMEOUT,
    )
    run = DeployRun(argv[1:], proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started)
    try:
        run.report = json.loads(proc.stdout) if proc.stdout.strip() else {}
    except json.JSONDecodeError:
        run.report = {}
    return run


def settings_of(testbed: Testbed) -> Settings:
    """The validated settings the deploy sees for the test host (all.py < testbed.py < host data)."""
    group_data = REPO_ROOT / "inventory" / "group_data"
    data: dict[str, Any] = {}
    for path in (group_data / "all.py", group_data / "testbed.py"):
        data.update({k: v for k, v in runpy.run_path(str(path)).items() if not k.startswith("__")})
    inventory = runpy.run_path(str(testbed.inventory_path))
    data.update(inventory["testbed"][0][1])
    return validate(data)


@dataclass
class Deployment:
    """The deployed test server, as the e2e tests see it."""

    testbed: Testbed
    first: DeployRun
    second: DeployRun
    settings: Settings

    @property
    def address(self) -> str:
        return self.testbed.address

    @property
    def peer_address(self) -> str:
        return self.testbed.peer_address

    @property
    def env(self) -> dict[str, str]:
        return self.testbed.env

    @property
    def recorder(self):
        return self.testbed.recorder

    def ssh(self, command: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
        return self.testbed.ssh(command, check=check, **kwargs)

    def deploy(self, *args: str, **kwargs) -> DeployRun:
        return run_deploy(self.testbed, *args, **kwargs)


#: The shared server's name; LOUIEOPS_E2E_SERVER lets two suites run side by side (each its own server).
SERVER_NAME = os.environ.get("LOUIEOPS_E2E_SERVER", "e2e")
#: The shared server's Debian release; `make test-all` runs the suite again with LOUIEOPS_E2E_RELEASE=trixie.
SERVER_RELEASE = os.environ.get("LOUIEOPS_E2E_RELEASE", "bookworm")


@pytest.fixture(scope="session")
def testbed():
    with Testbed(name=SERVER_NAME, release=SERVER_RELEASE) as server:
        print(
            f"\ntest server {SERVER_NAME} ({SERVER_RELEASE}): boot to SSH {server.boot_seconds:.1f} s", file=sys.stderr
        )
        yield server


@pytest.fixture(scope="session")
def deployed(testbed):
    first = run_deploy(testbed, "-y")
    if first.returncode != 0 or first.failed_operations:
        pytest.fail("first deploy failed: " + first.explain(), pytrace=False)
    # the no-op run records where its time goes (louieops/profile.py, as make bench does)
    second = run_deploy(testbed, "-y", env={"LOUIEOPS_PROFILE": str(testbed.workdir / "second.profile.json")})
    print(f"\ndeploy: first run {first.seconds:.0f} s, second run {second.seconds:.0f} s", file=sys.stderr)
    return Deployment(testbed, first, second, settings_of(testbed))
