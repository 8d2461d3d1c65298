"""make test's xdist scheduling (tests/xdist_groups.py): the shared server's modules on one worker, each module
with its own server on one worker, unit tests anywhere; checked with a real two-worker pytest run."""

from __future__ import annotations

import collections
import os
import subprocess
import sys
from pathlib import Path

from tests.xdist_groups import SHARED_SERVER_GROUP, group_of

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_groups_of_node_ids():
    assert group_of("tests/e2e/test_stack.py::test_x") == SHARED_SERVER_GROUP
    assert group_of("tests/e2e/test_backups.py::test_y[a-b]") == SHARED_SERVER_GROUP
    assert group_of("tests/e2e/test_trixie_drills.py::test_z") == "tests/e2e/test_trixie_drills.py"
    assert group_of("tests/unit/test_layout.py::test_w") == "tests/unit/test_layout.py::test_w"


RECORDING_TEST = """
import os, pytest

@pytest.mark.parametrize("i", range(4))
def test_records_its_worker(i):
    with open(os.environ["WORKERS_LOG"], "a") as log:
        log.write(f"{{__name__}} {{os.environ['PYTEST_XDIST_WORKER']}}\\n")
"""


def test_two_workers_keep_each_servers_tests_together(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # the root dir: node ids start with tests/
    for module in ("e2e/test_stack", "e2e/test_backups", "e2e/test_ci_step", "e2e/test_testbed", "unit/test_a"):
        path = tmp_path / "tests" / f"{module}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(RECORDING_TEST.format())
    log = tmp_path / "workers.log"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.xdist_groups", "-p", "no:cacheprovider", "-n", "2", "tests"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), "WORKERS_LOG": str(log)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    workers = collections.defaultdict(set)
    for line in log.read_text().splitlines():
        module, worker = line.split()
        workers[module].add(worker)
    shared = workers["test_stack"] | workers["test_backups"] | workers["test_ci_step"]
    assert len(shared) == 1, dict(workers)
    assert len(workers["test_testbed"]) == 1, dict(workers)
    assert sum(len(w) for w in workers.values()) >= 3 and len(set().union(*workers.values())) == 2, dict(workers)
