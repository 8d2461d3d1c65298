"""The whole deploy on a bare Debian 12 server: it succeeds, and running it again changes nothing."""

from __future__ import annotations

import json


def test_first_deploy_changes_the_bare_server(deployed):
    assert deployed.first.returncode == 0, deployed.first.explain()
    assert deployed.first.changed_operations, "the first deploy on a bare server reported no change"
    assert "--> Summary:" in deployed.first.stderr


def test_second_deploy_reports_zero_changed_operations(deployed, figure):
    second = deployed.second
    figure(f"shared server deploy: first run {deployed.first.seconds:.0f} s, second (no-op) {second.seconds:.0f} s")
    assert second.returncode == 0, second.explain()
    assert second.failed_operations == []
    assert second.changed_operations == [], f"operations that changed on the second run: {second.changed_operations}"
    totals = second.report["results"]["totals"]
    assert totals["success"] == 0 and totals["error"] == 0 and totals["no_change"] > 0
    # LOUIEOPS_PROFILE (louieops/profile.py): every operation with its time, none changed, what it ran
    profile = json.loads((deployed.testbed.workdir / "second.profile.json").read_text())
    operations = profile["operations"]
    assert len(operations) == totals["no_change"] and not any(op["changed"] for op in operations)
    assert all(op["seconds"] >= 0 and isinstance(op["commands"], int) for op in operations)
    assert any(" | " in op["operation"] for op in operations)  # named under their task (make bench groups them)
    assert 0 < profile["planning_seconds"] < second.seconds and sum(profile["remote_commands"].values()) > 0


def test_dry_run_plans_no_change(deployed):
    plan = deployed.deploy("--dry")
    assert plan.returncode == 0, plan.explain()
    assert plan.planned_changes == []
    assert plan.report.get("results") is None  # a plan, nothing executed


def _get(url: str, token: str):
    import requests

    response = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    response.raise_for_status()
    return response.json()


def test_deploy_registered_the_uptime_monitors_at_the_uptimerobot_stand_in(deployed):
    settings = deployed.settings
    listed = _get(f"{settings.uptimerobot_api_url}/monitors?limit=200", deployed.env["UPTIMEROBOT_API_KEY"])
    names = sorted(monitor["friendlyName"] for monitor in listed["data"])
    assert names == sorted(monitor["name"] for monitor in settings.uptimerobot_monitors)
    assert {monitor["interval"] for monitor in listed["data"]} == {300}


def test_deploy_registered_the_sentry_alerts_and_metric_monitors(deployed):
    settings = deployed.settings
    base = f"{settings.sentry_api_url}/api/0/organizations/{settings.sentry_org}"
    token = deployed.env["SENTRY_AUTH_TOKEN"]
    workflows = {w["name"] for w in _get(f"{base}/workflows/", token)}
    detectors = {d["name"] for d in _get(f"{base}/detectors/", token)}
    prefix = settings.sentry_name_prefix
    for alert in settings.sentry_issue_alerts:
        assert prefix + alert["name"] in workflows
    for monitor in settings.sentry_metric_monitors:
        assert prefix + monitor["name"] in detectors


def test_the_api_keyword_monitor_matches_the_real_health_body(deployed):
    """The keyword UptimeRobot looks for must be in what /health really answers, or it alerts forever."""
    settings = deployed.settings
    (keyword_monitor,) = [m for m in settings.uptimerobot_monitors if m["type"] == "keyword"]
    api = settings.domain_api
    # -k: the certificate is checked against the ACME root in test_stack; here only the body matters.
    body = deployed.ssh(f"curl -fsSk --resolve {api}:443:127.0.0.1 https://{api}/health").stdout
    assert keyword_monitor["keyword"] in body
