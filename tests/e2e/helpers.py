"""Helpers the e2e modules share: root commands on the server, polling, one task re-run with setting overrides,
the health check and the Slack posts it caused, HTTPS to the server's own address with the certificate
checked against pebble's root, a /health poller for measuring gaps, and the operator's commands on the controller."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import urllib3

from tests.e2e.conftest import REPO_ROOT

#: The health check's point-in-time recovery KPIs (on the database primary only).
PITR_KPIS = ("wal_archive_failing_minutes", "pitr_backup_age_hours", "pitr_check_age_hours")


class ServerOnly:
    """A test server without the shared deployment around it: what these helpers use of one."""

    def __init__(self, testbed) -> None:
        self.testbed, self.address = testbed, testbed.address


def root(deployed, command: str, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess:
    """Run a shell command as root on the server."""
    return deployed.testbed.ssh(f"sudo sh -c {shlex.quote(command)}", check=check, input=input)


def wait_for(predicate, timeout: float, what: str, interval: float = 0.5):
    """Poll ``predicate`` until it returns something true; fail naming ``what`` and the last error."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            result = predicate()
            if result:
                return result
        except Exception as exc:  # noqa: BLE001 - keep polling, report the last error
            last = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last error: {last!r})")


# Each task module and its deploy function, for partial re-runs.
TASKS = {
    "logs": "ship_logs",
    "health": "install_health_check",
    "alerts": "install_alert_routing",
    "maintenance": "install_maintenance_jobs",
}


def redeploy(deployed, tmp_path: Path, task: str, *, env: dict | None = None, **overrides):
    """Run one task's deploy function against the test server with setting overrides (``--data``) and
    extra secrets (``env``).

    Returns the shared fixture's DeployRun (returncode, stdout, stderr, changed_operations)."""
    deploy_file = tmp_path / f"deploy_{task}_{uuid.uuid4().hex[:8]}.py"
    deploy_file.write_text(
        "from pyinfra import host\n"
        "from louieops.settings import for_host\n"
        f"from tasks import {task}\n"
        "for_host(host)\n"
        f"{task}.{TASKS[task]}()\n"
    )
    data = []
    for key, value in overrides.items():
        text = json.dumps(value)  # pyinfra reads a --data value as JSON (a bare "+1555..." would become a number)
        data += ["--data", f"{key}={text}"]
    return deployed.deploy("-y", *data, deploy_file=str(deploy_file), env=env)


def redeploy_ok(deployed, tmp_path, task, *, env: dict | None = None, **overrides):
    run = redeploy(deployed, tmp_path, task, env=env, **overrides)
    assert run.returncode == 0, f"deploy of {task} with {overrides} failed:\n{run.stdout[-2000:]}{run.stderr[-3000:]}"
    return run


def health_run(deployed) -> subprocess.CompletedProcess:
    """One run of the health check as its unprivileged user (serialized with the cron run)."""
    s = deployed.settings
    return root(
        deployed,
        f"runuser -u {s.health_user} -- flock /var/lib/louieops/health/lock {s.scripts_dir}/health-check",
        check=False,
    )


def slack_since(deployed, since: float, *needles: str) -> list[dict]:
    """Slack webhook posts at the recorder since ``since`` whose body contains every needle."""
    return [
        r
        for r in deployed.recorder.requests()
        if r["path"].startswith("/slack/") and r["time"] >= since and all(n in r["body"] for n in needles)
    ]


def channel_paths(deployed, tier: str) -> set[str]:
    """URL paths of the Slack webhooks a tier is routed to (the recorder records the path)."""
    s = deployed.settings
    return {urllib.parse.urlsplit(deployed.env[s.alert_slack_webhooks[c]]).path for c in s.alert_routes[tier]["slack"]}


def https_pool(deployed, ca_file: str, domain: str, timeout: float = 15) -> urllib3.HTTPSConnectionPool:
    """Connections to https://<domain> on the server's address, verified for <domain> against ``ca_file``."""
    return urllib3.HTTPSConnectionPool(
        deployed.address,
        443,
        server_hostname=domain,
        assert_hostname=domain,
        cert_reqs="CERT_REQUIRED",
        ca_certs=ca_file,
        timeout=urllib3.Timeout(connect=5, read=timeout),
        retries=False,
    )


@dataclass
class HealthPoller:
    """GET https://<api>/health through nginx every ``interval`` seconds in a thread; records each answer."""

    pool: urllib3.HTTPSConnectionPool
    host: str
    interval: float = 0.05
    answers: list[tuple[float, int, str]] = field(default_factory=list)  # (time, status or 0, release or error)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> HealthPoller:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.pool.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                response = self.pool.request("GET", "/health", headers={"Host": self.host})
                body = response.json() if response.status == 200 else {}
                self.answers.append((started, response.status, body.get("release") or ""))
            except Exception as exc:  # noqa: BLE001 - a failed request is the measurement
                self.answers.append((started, 0, type(exc).__name__))
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - started)))

    @property
    def failures(self) -> list[tuple[float, int, str]]:
        return [a for a in self.answers if a[1] != 200]

    @property
    def releases(self) -> list[str]:
        """The releases that answered, in the order they first did."""
        return list(dict.fromkeys(a[2] for a in self.answers if a[1] == 200))

    def longest_gap(self) -> float:
        """Longest time between two successful answers (seconds)."""
        good = [a[0] for a in self.answers if a[1] == 200]
        return max((b - a for a, b in zip(good, good[1:], strict=False)), default=0.0)

    def failure_runs(self) -> int:
        """How many separate runs of failed requests there were (one run: one gap)."""
        runs, failing = 0, False
        for answer in self.answers:
            if answer[1] != 200 and not failing:
                runs += 1
            failing = answer[1] != 200
        return runs


def controller_env(deployed, pebble_root: str) -> dict[str, str]:
    """The environment the runbook tells an operator to export on the controller."""
    s = deployed.settings
    return {
        **os.environ,
        **deployed.env,
        "LOUIE_API_URL": f"https://{s.domain_api}",
        "LOUIE_API_RESOLVE": f"{s.domain_api}:{deployed.address}",
        "REQUESTS_CA_BUNDLE": pebble_root,
        "INVENTORY": str(deployed.testbed.inventory_path),
        "PATH": f"{REPO_ROOT / '.venv' / 'bin'}:{os.environ['PATH']}",
        "PYTHONPATH": str(REPO_ROOT),  # this checkout's louieops, also when the venv is another checkout's
    }


def controller(deployed, pebble_root: str, line: str) -> subprocess.CompletedProcess:
    """A controller command as the operator types it, with the environment the runbook says to export."""
    env = controller_env(deployed, pebble_root)
    return subprocess.run(["bash", "-c", line], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)


def killed_when(argv: list[str], env: dict[str, str], stop, delay: float = 0.0) -> list[str]:
    """Run ``argv`` in a session of its own and SIGKILL the whole session ``delay`` seconds after the first
    output line for which ``stop(line)`` is true (a cancelled CI job); the lines read. When no line
    matches, the command runs to its end and the last line is no match (the caller's assertion says so)."""
    proc = subprocess.Popen(
        argv,
        cwd=REPO_ROOT,
        env={**env, "PYTHONUNBUFFERED": "1"},  # each line as it comes
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if stop(line):
            time.sleep(delay)
            os.killpg(proc.pid, signal.SIGKILL)
            break
    proc.wait()
    return seen
