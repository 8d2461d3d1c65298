"""The webhook recorder, served on loopback."""

from __future__ import annotations

import json
import threading
import urllib.request

import pytest

from louieops.testbed.recorder import Recorder, serve


@pytest.fixture
def recorder(tmp_path):
    server = serve("127.0.0.1", 0, tmp_path / "recorded.jsonl")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Recorder(f"http://127.0.0.1:{server.server_address[1]}"), tmp_path / "recorded.jsonl"
    server.shutdown()
    server.server_close()


def _post(url, body, headers=None):
    req = urllib.request.Request(url, data=body, method="POST", headers=headers or {})
    with urllib.request.urlopen(req, timeout=5) as resp:
        return resp.status, resp.read()


def test_records_posts_and_clears(recorder):
    client, log = recorder
    assert client.requests() == []
    status, body = _post(f"{client.url}/slack/critical", b'{"text": "down"}', {"Content-Type": "application/json"})
    assert (status, body) == (200, b"ok")
    [entry] = client.requests()
    assert entry["method"] == "POST"
    assert entry["path"] == "/slack/critical"
    assert entry["headers"]["Content-Type"] == "application/json"
    assert json.loads(entry["body"]) == {"text": "down"}
    assert json.loads(log.read_text().splitlines()[0])["path"] == "/slack/critical"
    client.clear()
    assert client.requests() == []
    assert log.read_text() == ""


def test_wait_for_finds_a_matching_request(recorder):
    client, _ = recorder
    _post(f"{client.url}/twilio/sms", b"Body=hi")
    assert client.wait_for(lambda r: r["path"] == "/twilio/sms", timeout=2)["body"] == "Body=hi"


def test_a_chunked_body_is_recorded_whole():
    import http.client
    import threading

    from louieops.testbed.recorder import Recorder, serve

    server = serve("127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        host, port = server.server_address
        connection = http.client.HTTPConnection(host, port, timeout=5)
        connection.request("POST", "/api/1/envelope/", body=iter([b'{"event_id":', b'"abc"}\n']), encode_chunked=True)
        assert connection.getresponse().status == 200
        (entry,) = Recorder(f"http://{host}:{port}").requests()
        assert entry["body"] == '{"event_id":"abc"}\n'
    finally:
        server.shutdown()
        server.server_close()
