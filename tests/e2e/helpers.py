"""Helpers the e2e modules share: root commands on the server, polling, HTTPS to the server's own address
with the certificate checked against pebble's root, and a /health poller for measuring gaps."""

from __future__ import annotations

import shlex
import subprocess
import threading
import time
from dataclasses import dataclass, field

import urllib3


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
