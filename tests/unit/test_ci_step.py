"""`louieops plan` / `apply` as a CI step: exit codes and the report from pyinfra's JSON output, the report's
schema, and the workflow files (checked against the official GitHub and GitLab schemas, offline)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from louieops.cli import deploy
from louieops.deploylock import holder_command

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads(deploy.SCHEMA.read_text())
CHECK_JSONSCHEMA = str(Path(sys.executable).with_name("check-jsonschema"))


def op(name, change=(), conditional=()):
    return {"name": name, "hosts_with_change": list(change), "hosts_with_conditional_change": list(conditional)}


def plan_output(*ops):
    return json.dumps({"plan": list(ops), "results": None})


def test_a_converged_plan_exits_0_even_with_reloads_that_follow_changes():
    report = deploy.build_report(
        "plan",
        "inv.py",
        0,
        plan_output(op("nginx | Upload /etc/nginx/nginx.conf"), op("nginx | Reload", conditional=["web1"])),
        "",
        [],
    )
    assert (report["status"], report["exit_code"]) == ("converged", 0)
    jsonschema.validate(report, SCHEMA)


def test_a_plan_with_a_change_exits_2_and_names_the_operation_per_host():
    report = deploy.build_report(
        "plan", "inv.py", 0, plan_output(op("nginx | Upload /etc/nginx/nginx.conf", ["web1"])), "", []
    )
    assert (report["status"], report["exit_code"]) == ("changes", 2)
    assert report["hosts"] == [
        {
            "name": "web1",
            "changes": ["nginx | Upload /etc/nginx/nginx.conf"],
            "conditional": [],
            "failed": [],
            "error": None,
        }
    ]
    assert "web1: 1 operation(s) would change\n  ~ nginx | Upload /etc/nginx/nginx.conf" in deploy.summary(report)
    jsonschema.validate(report, SCHEMA)


def test_a_drifted_monitor_alone_makes_the_plan_exit_2_with_its_fields():
    drift = {
        "service": "UptimeRobot",
        "verb": "update",
        "kind": "UptimeRobot monitor",
        "name": "API Health Check",
        "id": "801",
        "changes": ["interval: 600 -> 300"],
    }
    report = deploy.build_report(
        "plan", "inv.py", 0, plan_output(op("External monitors | Register", ["web1"])), "", [drift]
    )
    assert report["exit_code"] == 2 and report["saas"] == [drift]
    assert "UptimeRobot: update UptimeRobot monitor 'API Health Check'\n  interval: 600 -> 300" in deploy.summary(
        report
    )
    jsonschema.validate(report, SCHEMA)


def test_a_bad_setting_or_an_unreachable_host_exits_1_with_one_line():
    bad = deploy.build_report(
        "plan",
        "inv.py",
        1,
        "",
        "--> Loading inventory...\n--> pyinfra error in /srv/louieops/settings/validate.py line 39: "
        "setting app_port = 'x' is invalid: "
        "expected an integer >= 1024 and <= 65535. Fix it in all.py.\n",
        [],
    )
    assert bad["exit_code"] == 1 and bad["errors"] == [
        "setting app_port = 'x' is invalid: expected an integer >= 1024 and <= 65535. Fix it in all.py."
    ]
    down = deploy.build_report(
        "plan",
        "inv.py",
        1,
        "",
        "--> Connecting to hosts...\n    [10.0.0.9] Could not connect (Connection refused)\n"
        "--> pyinfra error: No hosts remaining!\n",
        [],
    )
    assert down["exit_code"] == 1 and down["errors"] == ["10.0.0.9: Could not connect (Connection refused)"]
    for report in (bad, down):
        jsonschema.validate(report, SCHEMA)
        assert deploy.summary(report).endswith("plan: failed (exit 1)")


def test_an_apply_exits_0_only_when_every_host_converged():
    results = {
        "operations": [{"name": "a | b", "success": ["web1"], "error": [], "no_change": []}],
        "failed_hosts": [],
        "totals": {},
    }
    done = deploy.build_report("apply", "inv.py", 0, json.dumps({"plan": [], "results": results}), "", [])
    assert (done["status"], done["exit_code"], done["hosts"][0]["changes"]) == ("converged", 0, ["a | b"])
    results = {
        "operations": [{"name": "a | b", "success": [], "error": ["web1"], "no_change": []}],
        "failed_hosts": ["web1"],
        "totals": {},
    }
    failed = deploy.build_report("apply", "inv.py", 1, json.dumps({"plan": [], "results": results}), "", [])
    assert failed["exit_code"] == 1 and failed["hosts"][0]["failed"] == ["a | b"]
    jsonschema.validate(failed, SCHEMA)


def test_the_lock_holder_quotes_the_owner_and_waits_only_as_long_as_configured():
    command = holder_command("ci'; rm -rf / #", 600, 90)
    assert command.startswith("sudo -n bash -c ")
    assert "rm -rf / #" in command and "flock -w 600 9" in command and "read -r -t 90 beat" in command


@pytest.mark.parametrize(
    ("path", "schema"),
    [(".github/workflows/deploy.yml", "vendor.github-workflows"), (".gitlab-ci.yml", "vendor.gitlab-ci")],
)
def test_the_workflow_files_match_the_official_schemas(path, schema):
    done = subprocess.run(
        [CHECK_JSONSCHEMA, "--builtin-schema", schema, str(REPO / path)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("path", [".github/workflows/deploy.yml", ".gitlab-ci.yml"])
def test_the_workflows_pin_the_host_key_take_secrets_from_the_store_and_guard_apply(path):
    text = (REPO / path).read_text()
    assert "StrictHostKeyChecking=no" not in text.replace("no StrictHostKeyChecking=no", "")
    assert "known_hosts" in text and ("ssh-agent" in text or "ssh-add" in text)
    assert "louieops plan" in text and "louieops apply" in text and "environment:" in text
    assert "Drift on production" in text  # the scheduled run alerts when the plan is not empty
    if path.startswith(".github"):
        assert "${{ secrets.LOUIE_DB_PASSWORD }}" in text and "environment: production" in text
        assert "upload-artifact" in text and "GITHUB_STEP_SUMMARY" in text
