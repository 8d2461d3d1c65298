"""tests/conftest.py: in CI (CI=true) a skipped test fails the run, with make test's two xdist workers too."""

from __future__ import annotations

import pytest

from tests.unit.helpers import run_pytest_with

SAMPLE = """
import pytest

def test_runs():
    pass

def test_is_skipped():
    pytest.skip("no server here")
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
@pytest.mark.parametrize("ci", ["true", ""])
def test_a_skip_fails_the_run_only_in_ci(tmp_path, workers, ci):
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    proc = run_pytest_with("tests.conftest", tmp_path, *workers, str(tmp_path), env={"CI": ci})
    if ci:
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "CI: 1 test(s) skipped (test_sample.py::test_is_skipped); skips fail the CI run." in proc.stdout
    else:
        assert proc.returncode == 0, proc.stdout + proc.stderr
