"""The parts of the benchmarks that compute rather than measure: the table, the floor script, the slowest."""

from __future__ import annotations

from benchmarks.deploy_bench import DeployRun, by_task, floor_script, slowest
from benchmarks.table import Row, render


def test_the_table_has_one_line_per_row_and_aligned_columns():
    lines = render([Row("deploy", "no-op", "5.32 s", "0 changes"), Row("SaaS", "UptimeRobot no-op", "5 requests")])
    assert len(lines.splitlines()) == 4
    assert len({len(line) for line in lines.splitlines()}) == 1
    assert lines.splitlines()[2].startswith("| deploy  | no-op")


def test_the_floor_installs_exactly_the_packages_and_nothing_else():
    script = floor_script(["nginx", "postgresql-15"], ["pm2@7.0.4"])
    assert "apt-get install -y -q --no-install-recommends nginx postgresql-15" in script
    assert "npm install -g --no-audit --no-fund pm2@7.0.4" in script
    assert "npm ci --omit=dev" in script
    assert script.startswith("set -euo pipefail")


def test_slowest_takes_the_median_over_runs_of_operations_and_fact_reads():
    def run(op_seconds, read_seconds):
        profile = {
            "operations": [{"operation": "Base | Install", "seconds": op_seconds, "changed": False}],
            "fact_reads": [{"fact": "prefetch of 168 facts", "seconds": read_seconds}],
            "remote_commands": {"h": 7},
            "planning_seconds": 1.0,
        }
        return DeployRun(1.0, profile)

    top = slowest([run(0.1, 2.0), run(0.3, 1.0), run(0.2, 3.0)], count=2)
    assert top == [("fact read: prefetch of 168 facts", 2.0), ("operation: Base | Install", 0.2)]


def test_by_task_groups_the_operations_under_their_deploy_slowest_first():
    operations = [
        {"operation": "Base | Install packages", "seconds": 20.0, "changed": True, "commands": 2},
        {"operation": "Base | Upload /etc/x", "seconds": 0.5, "changed": False, "commands": 0},
        {"operation": "nginx | Install nginx", "seconds": 30.0, "changed": True, "commands": 1},
        {"operation": "Reload systemd", "seconds": 0.1, "changed": True, "commands": None},
    ]
    run = DeployRun(60.0, {"operations": operations, "fact_reads": [], "remote_commands": {}, "planning_seconds": 3})
    assert by_task(run) == [("nginx", 30.0, 1, 1, 1), ("Base", 20.5, 2, 1, 2), ("(outside a task)", 0.1, 1, 1, 0)]
