"""Fixtures shared by the integration tests."""

from __future__ import annotations

import urllib.request

import pytest
from moto.server import ThreadedMotoServer


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
