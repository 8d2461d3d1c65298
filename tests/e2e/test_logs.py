"""`louieops logs` against the deployed test server, as the runbook says: a request made through nginx shows up
in the host's nginx access log and the app's log, prefixed by the host, found by --grep; --follow prints a line
written after it started; bad input is one line before anything connects."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import uuid

import pytest

from tests.e2e.conftest import REPO_ROOT
from tests.e2e.helpers import controller, controller_env, https_pool, root, wait_for

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(os.geteuid() != 0, reason="the test server needs root (netns, nftables, nspawn)"),
]


@pytest.fixture(scope="module")
def pebble_root(deployed, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("pebble") / "root.pem"
    path.write_text(deployed.testbed.pebble_root_pem())
    return str(path)


def request_through_nginx(deployed, pebble_root, path: str) -> int:
    domain = deployed.settings.domain_api
    pool = https_pool(deployed, pebble_root, domain)
    try:
        return pool.request("GET", path, headers={"Host": domain}).status
    finally:
        pool.close()


def test_a_request_through_nginx_is_in_the_logs_prefixed_by_its_host(deployed, pebble_root):
    marker = uuid.uuid4().hex[:12]
    request_through_nginx(deployed, pebble_root, f"/api/claude/status?trace={marker}")
    done = controller(deployed, pebble_root, f'.venv/bin/louieops logs "$INVENTORY" --since 10m --grep {marker}')
    assert done.returncode == 0, done.stderr[-2000:]
    # pyinfra prints each host's lines on stderr, prefixed by the host
    found = [line for line in done.stderr.splitlines() if marker in line and "nginx/access" in line]
    assert found and found[0].startswith(f"[{deployed.address}] nginx/access "), done.stderr[-2000:]
    system = controller(deployed, pebble_root, '.venv/bin/louieops logs "$INVENTORY" --source system --lines 5')
    assert system.returncode == 0 and f"[{deployed.address}] system " in system.stderr, system.stderr[-2000:]


def test_follow_prints_what_is_written_after_it_started(deployed, pebble_root):
    marker = uuid.uuid4().hex[:12]
    line = f'.venv/bin/louieops logs "$INVENTORY" --source system --grep {marker} --lines 1 --follow'
    env = controller_env(deployed, pebble_root)
    follower = subprocess.Popen(
        ["bash", "-c", line],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: the operator's Ctrl-C stops pyinfra too
    )
    seen: list[str] = []
    reader = threading.Thread(target=lambda: seen.extend(follower.stderr), daemon=True)
    reader.start()
    try:

        def logged() -> bool:
            root(deployed, f"logger -t louieops-test 'follow {marker}'")
            return any(f"[{deployed.address}] system " in text and f"follow {marker}" in text for text in seen)

        wait_for(logged, 90, "the line written after --follow started", interval=2)
    finally:
        os.killpg(follower.pid, signal.SIGINT)
        follower.wait(timeout=30)

    # the server's louie-logs ends once its reader is gone: the next line it writes fails
    def ended() -> bool:
        root(deployed, f"logger -t louieops-test 'after {marker}'")
        return "louie-logs" not in root(deployed, "ps -eo args", check=False).stdout

    wait_for(ended, 60, "louie-logs on the server to end", interval=2)


def test_bad_input_is_one_line(deployed, pebble_root):
    done = controller(deployed, pebble_root, '.venv/bin/louieops logs "$INVENTORY" --since yesterday')
    assert done.returncode == 2 and done.stderr.strip().startswith("louieops logs: --since 'yesterday': expected")
