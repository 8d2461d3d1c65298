"""make test's xdist scheduling (tests/xdist_groups.py): the shared server's modules on one worker, each module
with its own server on one worker, unit tests anywhere; checked with a real two-worker pytest run."""

from __future__ import annotations

import collections

from tests.unit.helpers import run_pytest_with
from tests.xdist_groups import SHARED_SERVER_GROUP, group_of


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
    proc = run_pytest_with("tests.xdist_groups", tmp_path, "-n", "2", "tests", env={"WORKERS_LOG": str(log)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    workers = collections.defaultdict(set)
    for line in log.read_text().splitlines():
        module, worker = line.split()
        workers[module].add(worker)
    shared = workers["test_stack"] | workers["test_backups"] | workers["test_ci_step"]
    assert len(shared) == 1, dict(workers)
    assert len(workers["test_testbed"]) == 1, dict(workers)
    assert sum(len(w) for w in workers.values()) >= 3 and len(set().union(*workers.values())) == 2, dict(workers)
