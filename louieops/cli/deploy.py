"""`louieops plan` and `louieops apply`: the deploy as a CI pipeline step.

Both run pyinfra (`--dry --json`, or `-y --json`) on the inventory and deploy.py, print a short summary and
write a JSON report (schema: louieops/schemas/deploy-report.schema.json).

    plan   exit 0: nothing would change; 2: something would (the summary says what, per host, and which
           fields of which UptimeRobot/Sentry objects); 1: an error (unreachable host, bad setting, API failure)
    apply  exit 0: every host converged; 1: anything failed

The report holds operation names, hosts and the differing fields of the external objects; never commands,
file contents or secrets. pyinfra's own output is passed through on stderr with --verbose.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from .. import plandetails
from ..resources import REPO_ROOT

SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "deploy-report.schema.json"
_ERROR_LINES = (
    re.compile(r"--> pyinfra error(?: in .+? line \d+)?: (.+)"),
    re.compile(r"setting \S+ = .+ is invalid: .+"),
    re.compile(r"\[(?P<host>[^\]]+)\] (?:Error|Could not connect)(.*)"),
    re.compile(r"(?:Could not connect|Connection refused|Authentication failed|timed out).*", re.I),
)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def pyinfra_argv(inventory: str, apply: bool, limit: tuple[str, ...] = ()) -> list[str]:
    pyinfra = str(Path(sys.executable).with_name("pyinfra"))
    only = [word for name in limit for word in ("--limit", name)]
    return [pyinfra, "--json", "-y" if apply else "--dry", *only, inventory, str(REPO_ROOT / "deploy.py")]


def run(
    command: str, inventory: str, report_path: str | None, verbose: bool = False, limit: tuple[str, ...] = ()
) -> int:
    """The deploy (``limit``: only these hosts, as pyinfra's --limit; the os-upgrade of one host of several)."""
    if not Path(inventory).is_file():
        return finish(error_report(command, inventory, [f"inventory {inventory} does not exist"]), report_path)
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        details = os.path.join(tmp, "saas.jsonl")
        proc = subprocess.Popen(
            pyinfra_argv(inventory, apply=command == "apply", limit=limit),
            cwd=REPO_ROOT,
            env={**os.environ, plandetails.ENV: details},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        stdout = []
        reader = threading.Thread(target=lambda: stdout.append(proc.stdout.read()), daemon=True)
        reader.start()
        stderr = relay(proc.stderr, verbose)
        proc.wait()
        reader.join()
        saas = plandetails.read(details)
    report = build_report(command, inventory, proc.returncode, "".join(stdout), stderr, saas)
    report["started"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started))
    report["seconds"] = round(time.time() - started, 1)
    return finish(report, report_path)


def relay(stream, verbose: bool) -> str:
    """pyinfra's stderr, kept for the report; shown as it comes with --verbose, and always the lines a person
    waiting on the step needs at once (a deploy lock held by another deploy)."""
    lines = []
    for line in stream:
        lines.append(line)
        if verbose or "deploy lock" in line:
            sys.stderr.write(line)
            sys.stderr.flush()
    return "".join(lines)


def build_report(command: str, inventory: str, returncode: int, stdout: str, stderr: str, saas: list) -> dict:
    """The report of one pyinfra run from its JSON output (pure: tested without a server)."""
    try:
        output = json.loads(stdout) if stdout.strip() else None
    except json.JSONDecodeError:
        output = None
    errors = error_lines(stderr) if returncode != 0 or output is None else []
    if output is None:
        return error_report(command, inventory, errors or [f"pyinfra exited {returncode} without a result"])
    hosts: dict[str, dict] = {}

    def entry(name: str) -> dict:
        return hosts.setdefault(name, {"name": name, "changes": [], "conditional": [], "failed": [], "error": None})

    results = output.get("results")
    if command == "plan":
        for op in output.get("plan", []):
            for name in op["hosts_with_change"]:
                entry(name)["changes"].append(op["name"])
            for name in op["hosts_with_conditional_change"]:
                entry(name)["conditional"].append(op["name"])
    elif results:
        for op in results["operations"]:
            for name in op["success"]:
                entry(name)["changes"].append(op["name"])
            for name in op["error"]:
                entry(name)["failed"].append(op["name"])
        for name in results.get("failed_hosts", []):
            entry(name)["error"] = entry(name)["error"] or "the deploy failed on this host"
    for line in errors:
        match = re.match(r"(\S+): ", line)
        if match and match.group(1) in hosts:
            hosts[match.group(1)]["error"] = line
    failed = returncode != 0 or any(h["failed"] or h["error"] for h in hosts.values())
    changed = any(h["changes"] for h in hosts.values()) or bool(saas)
    if failed:
        status, code = "error", 1
    elif command == "plan":
        status, code = ("changes", 2) if changed else ("converged", 0)
    else:
        status, code = "converged", 0
    if failed and not errors:
        errors = ["the deploy failed: see the hosts' failed operations"]
    return {
        "version": 1,
        "command": command,
        "inventory": inventory,
        "status": status,
        "exit_code": code,
        "hosts": sorted(hosts.values(), key=lambda h: h["name"]),
        "saas": saas if command == "plan" else [],
        "errors": errors,
    }


def error_report(command: str, inventory: str, errors: list[str]) -> dict:
    return {
        "version": 1,
        "command": command,
        "inventory": inventory,
        "status": "error",
        "exit_code": 1,
        "hosts": [],
        "saas": [],
        "errors": errors,
    }


def error_lines(stderr: str) -> list[str]:
    """The lines of pyinfra's output that say what went wrong, each once (no tracebacks)."""
    found = []
    for raw in stderr.splitlines():
        line = _ANSI.sub("", raw).strip()
        for pattern in _ERROR_LINES:
            match = pattern.search(line)
            if match:
                text = match.group(1).strip() if pattern is _ERROR_LINES[0] else line
                if match.groupdict().get("host"):
                    text = f"{match.group('host')}: {line.split('] ', 1)[1]}"
                if text and text not in found and "No hosts remaining" not in text:
                    found.append(text)
                break
    return found


def summary(report: dict) -> str:
    lines = []
    for host in report["hosts"]:
        what = "would change" if report["command"] == "plan" else "changed"
        lines.append(f"{host['name']}: {len(host['changes'])} operation(s) {what}")
        lines += [f"  ~ {name}" for name in host["changes"]]
        lines += [f"  ? {name} (if an earlier change happens)" for name in host["conditional"] if host["changes"]]
        lines += [f"  ! {name} failed" for name in host["failed"]]
    for item in report["saas"]:
        lines.append(f"{item['service']}: {item['verb']} {item['kind']} {item['name']!r}")
        lines += [f"  {change}" for change in item["changes"]]
    lines += [f"error: {line}" for line in report["errors"]]
    verdict = {
        ("plan", "converged"): "no changes: the servers and the external monitors are as declared",
        ("plan", "changes"): "changes pending (exit 2)",
        ("apply", "converged"): "applied: every host converged",
    }.get((report["command"], report["status"]), "failed (exit 1)")
    return "\n".join([*lines, f"{report['command']}: {verdict}"])


def finish(report: dict, report_path: str | None) -> int:
    print(summary(report))
    if report_path:
        Path(report_path).write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    return report["exit_code"]
