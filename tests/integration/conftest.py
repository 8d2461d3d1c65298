"""Fixtures shared by the integration tests."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from tests.standins.fixtures import SLACK_WEBHOOK_ENV
from tests.standins.uptimerobot import UptimeRobotStandIn

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def moto_url():
    """moto (S3) on 127.0.0.1, emptied (its state is per process, shared by every server it starts)."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=5).read()
    yield url
    server.stop()


@pytest.fixture
def uptimerobot_standin(monkeypatch):
    """The UptimeRobot stand-in on real time (the commands date windows and announcements with the wall clock),
    its key and the Slack webhooks in the environment, as an operator's controller has them."""
    for name, value in SLACK_WEBHOOK_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("UPTIMEROBOT_API_KEY", UptimeRobotStandIn.TOKEN)
    with UptimeRobotStandIn() as server:
        yield server


@pytest.fixture
def uptimerobot_inventory(tmp_path, uptimerobot_standin):
    """A one-server inventory with the project's group_data, its UptimeRobot API at the stand-in."""
    (tmp_path / "group_data").symlink_to(REPO / "inventory" / "group_data")
    data = {"uptimerobot_api_url": uptimerobot_standin.url, "uptimerobot_requests_per_minute": 1000}
    path = tmp_path / "production.py"
    path.write_text(f"web = [('203.0.113.10', {data!r})]\n")
    return str(path)
