"""The whole deploy on a bare Debian 12 server: it succeeds, and running it again changes nothing."""

from __future__ import annotations


def test_first_deploy_changes_the_bare_server(deployed):
    assert deployed.first.returncode == 0, deployed.first.explain()
    assert deployed.first.changed_operations, "the first deploy on a bare server reported no change"
    assert "--> Summary:" in deployed.first.stderr


def test_second_deploy_reports_zero_changed_operations(deployed):
    second = deployed.second
    assert second.returncode == 0, second.explain()
    assert second.failed_operations == []
    assert second.changed_operations == [], f"operations that changed on the second run: {second.changed_operations}"
    totals = second.report["results"]["totals"]
    assert totals["success"] == 0 and totals["error"] == 0 and totals["no_change"] > 0


def test_dry_run_plans_no_change(deployed):
    plan = deployed.deploy("--dry")
    assert plan.returncode == 0, plan.explain()
    assert plan.planned_changes == []
    assert plan.report.get("results") is None  # a plan, nothing executed
