"""The `figure` fixture (tests/figures.py): recorded lines reach the summary once each, from xdist workers too,
and from failing tests as well as passing ones."""

from __future__ import annotations

import pytest

from tests.unit.helpers import run_pytest_with

SAMPLE = """
def test_passes(figure):
    figure("boot to SSH: 4.2 s")
    figure("second run: 0 changes")


def test_fails(figure):
    figure("drill seed 1234")
    assert False
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_recorded_lines_are_printed_once_each_in_the_summary(tmp_path, workers):
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    proc = run_pytest_with("tests.figures", tmp_path, *workers, str(tmp_path))
    assert proc.returncode == 1, proc.stdout + proc.stderr  # one test fails on purpose
    summary = proc.stdout[proc.stdout.index("figures the tests measured") :]
    for line in (
        "boot to SSH: 4.2 s  (test_passes)",
        "second run: 0 changes  (test_passes)",
        "drill seed 1234  (test_fails)",
    ):
        assert summary.count(line) == 1, summary
