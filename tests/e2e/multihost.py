"""What the multi-host e2e modules share: a test cluster (louieops/testbed/cluster.py) deployed twice, the API
through the lb with the certificate checked against pebble's root, and a poller that records which app host
answered each request."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import urllib3

from louieops.testbed.cluster import Cluster
from tests.e2e.conftest import DEPLOY_TIMEOUT, PYINFRA, REPO_ROOT, DeployRun


def run_deploy(cluster: Cluster, *args: str, inventory: Path | None = None) -> DeployRun:
    """The real pyinfra CLI on the cluster's inventory (or ``inventory``) with the cluster's secrets."""
    argv = [PYINFRA, "--json", *args, str(inventory or cluster.inventory_path), "deploy.py"]
    started = time.monotonic()
    proc = subprocess.run(
        argv,
        cwd=REPO_ROOT,
        env={**os.environ, **cluster.env},
        capture_output=True,
        text=True,
        timeout=DEPLOY_TIMEOUT,
    )
    run = DeployRun(argv[1:], proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started)
    try:
        run.report = json.loads(proc.stdout) if proc.stdout.strip() else {}
    except json.JSONDecodeError:
        run.report = {}
    return run


@dataclass
class ClusterDeployment:
    """The deployed cluster, as the multi-host e2e tests see it."""

    cluster: Cluster
    first: DeployRun
    second: DeployRun
    pebble_root: str  # a file: the root pebble issued the lb's certificate under

    def address(self, member: str) -> str:
        return self.cluster[member].address

    def root(self, member: str, command: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
        """A shell command as root on ``member``."""
        return self.cluster[member].ssh(f"sudo sh -c {shlex.quote(command)}", check=check, **kwargs)

    def deploy(self, *args: str, inventory: Path | None = None) -> DeployRun:
        return run_deploy(self.cluster, *args, inventory=inventory)

    def controller_env(self, inventory: Path | None = None) -> dict[str, str]:
        """The environment the docs' controller commands run in: the secrets, $INVENTORY, .venv/bin first."""
        return {
            **os.environ,
            **self.cluster.env,
            "INVENTORY": str(inventory or self.cluster.inventory_path),
            "PATH": f"{REPO_ROOT / '.venv' / 'bin'}:{os.environ['PATH']}",
        }

    def api(self, timeout: float = 10) -> urllib3.HTTPSConnectionPool:
        """https://<domain_api> on the lb's address, verified against pebble's root."""
        domain = "api.simplylouie.test"
        return urllib3.HTTPSConnectionPool(
            self.address("lb"),
            443,
            server_hostname=domain,
            assert_hostname=domain,
            cert_reqs="CERT_REQUIRED",
            ca_certs=self.pebble_root,
            timeout=urllib3.Timeout(connect=5, read=timeout),
            retries=False,
        )

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        pool = self.api()
        try:
            response = pool.request(
                method,
                path,
                body=json.dumps(body).encode() if body is not None else None,
                headers={"Host": "api.simplylouie.test", "Content-Type": "application/json"},
            )
            try:
                return response.status, (response.json() if response.data else {})
            except ValueError:  # nginx's own pages (429, 502) are HTML
                return response.status, {"raw": response.data[:200].decode(errors="replace")}
        finally:
            pool.close()


def deployed_cluster(name: str, members: dict[str, tuple[str, ...]], tmp_path_factory, data: dict | None = None):
    """Boot the cluster (``data``: its group data beyond the testbed's), deploy twice (the first must succeed),
    yield the deployment, tear it down."""
    with Cluster(name, members, data=data) as cluster:
        print(f"\ntest cluster {name}: {', '.join(s.address for s in cluster.servers.values())}", file=sys.stderr)
        first = run_deploy(cluster, "-y")
        if first.returncode != 0 or first.failed_operations:
            pytest.fail("first deploy of the cluster failed: " + first.explain(), pytrace=False)
        second = run_deploy(cluster, "-y")
        print(f"\ncluster deploy: first run {first.seconds:.0f} s, second {second.seconds:.0f} s", file=sys.stderr)
        root = tmp_path_factory.mktemp("pebble") / "root.pem"
        root.write_text(cluster["lb"].pebble_root_pem())
        yield ClusterDeployment(cluster, first, second, str(root))


@dataclass
class LbPoller:
    """GET https://<api>/health through the lb every ``interval`` seconds in a thread; records (time, status or
    0, the app host that answered or the error)."""

    deployment: ClusterDeployment
    interval: float = 0.1
    answers: list[tuple[float, int, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._pool = self.deployment.api(timeout=10)

    def __enter__(self) -> LbPoller:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=15)
        self._pool.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                response = self._pool.request("GET", "/health", headers={"Host": "api.simplylouie.test"})
                host = response.json().get("host", "") if response.status == 200 else response.data[:80].decode()
                self.answers.append((started, response.status, host))
            except Exception as exc:  # noqa: BLE001 - a failed request is the measurement
                self.answers.append((started, 0, type(exc).__name__))
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - started)))

    def since(self, moment: float) -> list[tuple[float, int, str]]:
        return [a for a in self.answers if a[0] >= moment]

    @property
    def failures(self) -> list[tuple[float, int, str]]:
        return [a for a in self.answers if a[1] != 200]

    def hosts(self, since: float = 0.0) -> set[str]:
        return {a[2] for a in self.since(since) if a[1] == 200}


# --- releases on the app hosts ------------------------------------------------------------------------


def release_list(cluster, member: str) -> dict:
    return json.loads(cluster.root(member, "louie-release list --json").stdout)


def live_commit(cluster, member: str) -> str:
    listing = release_list(cluster, member)
    return next(r["commit"] for r in listing["releases"] if r["id"] == listing["live"])


def app_source(marker: str, healthy: bool = True) -> dict[str, str]:
    """The reference app with a marker in it (a new commit), answering /health unhealthy when not ``healthy``."""
    source = (REPO_ROOT / "files" / "app" / "server.js").read_text()
    if not healthy:
        broken = source.replace(
            "return sendJson(res, 200, { status: 'healthy',", "return sendJson(res, 503, { status: 'unhealthy',"
        )
        assert broken != source
        source = broken
    return {"backend/server.js": source + f"// {marker}\n"}


def roll_out_a_good_release(deployment: ClusterDeployment, interval: float) -> LbPoller:
    """Commit a good release, deploy it with a client polling through the lb every ``interval`` seconds, and
    check both app hosts went live on it one after the other: the second built only after the first passed its
    gate (5 s settle) and rejoined the lb (10 s). The poller, for the caller's verdict on the requests."""
    repo = deployment.cluster["lb"].app_repo
    commit = repo.commit("a new release", app_source(uuid.uuid4().hex))
    with LbPoller(deployment, interval=interval) as poller:
        run = deployment.deploy("-y")
    assert run.returncode == 0, run.explain()
    assert [live_commit(deployment, m) for m in ("app1", "app2")] == [commit, commit]
    built = sorted(
        (r["created"], member)
        for member in ("app1", "app2")
        for r in release_list(deployment, member)["releases"]
        if r["commit"] == commit
    )
    first, second = (time.mktime(time.strptime(created, "%Y-%m-%dT%H:%M:%SZ")) for created, _ in built)
    assert second - first >= 15, built
    return poller


def connects(cluster, member: str, address: str, port: int) -> bool:
    """Whether ``member`` opens a TCP connection to address:port within 3 s."""
    probe = f"import socket; socket.create_connection(({address!r}, {port}), 3)"
    return cluster.root(member, f"python3 -c {shlex.quote(probe)}", check=False).returncode == 0
