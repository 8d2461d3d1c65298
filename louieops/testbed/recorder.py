"""A webhook recorder: a stand-in for Slack/Twilio-style incoming webhooks, and its client.

Any POST/PUT/PATCH is answered ``200 ok`` and recorded (method, path, headers, body) as one JSON line in
the log file and in memory. ``GET /_recorded`` returns the list as JSON, ``DELETE /_recorded`` clears it.

    python -m louieops.testbed.recorder --host 10.231.0.1 --port 9180 --log recorded.jsonl

Tests read it through :class:`Recorder` (``Testbed.recorder``).
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from . import procs

RECORDED_PATH = "/_recorded"


class Recorder:
    """Client for the webhook recorder peer at ``url``."""

    def __init__(self, url: str) -> None:
        self.url = url

    def requests(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"{self.url}{RECORDED_PATH}", timeout=5) as resp:
            return json.loads(resp.read())

    def clear(self) -> None:
        req = urllib.request.Request(f"{self.url}{RECORDED_PATH}", method="DELETE")
        with urllib.request.urlopen(req, timeout=5) as resp:
            resp.read()

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0) -> dict[str, Any]:
        """Poll until a recorded request matches ``predicate``; return it."""

        def find() -> dict[str, Any] | None:
            return next((r for r in self.requests() if predicate(r)), None)

        return procs.wait_for(find, timeout, f"a matching request at {self.url}")  # type: ignore[return-value]


class RecordedRequests:
    """The server's record: in memory, and appended to ``log_path`` as JSON lines."""

    def __init__(self, log_path: Path | None) -> None:
        self.log_path = log_path
        self.lock = threading.Lock()
        self.entries: list[dict[str, object]] = []

    def add(self, entry: dict[str, object]) -> None:
        with self.lock:
            self.entries.append(entry)
            if self.log_path:
                with open(self.log_path, "a") as fh:
                    fh.write(json.dumps(entry) + "\n")

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            if self.log_path:
                self.log_path.write_text("")

    def snapshot(self) -> list[dict[str, object]]:
        with self.lock:
            return list(self.entries)


def make_handler(recorder: RecordedRequests) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "louieops-recorder/1"

        def _reply(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _body(self) -> bytes:
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():  # e.g. Sentry's SDK
                chunks = []
                while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                while self.rfile.readline().strip():  # trailer lines, up to the empty line
                    pass
                return b"".join(chunks)
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _record(self) -> None:
            raw = self._body()
            recorder.add(
                {
                    "time": time.time(),
                    "method": self.command,
                    "path": self.path,
                    "headers": dict(self.headers.items()),
                    "body": raw.decode("utf-8", errors="replace"),
                }
            )
            self._reply(200, b"ok")

        do_POST = do_PUT = do_PATCH = _record

        def do_GET(self) -> None:  # noqa: N802 (http.server naming)
            if self.path.split("?")[0] == RECORDED_PATH:
                self._reply(200, json.dumps(recorder.snapshot()).encode(), "application/json")
            else:
                self._reply(200, b"louieops webhook recorder\n")

        def do_DELETE(self) -> None:  # noqa: N802
            if self.path.split("?")[0] == RECORDED_PATH:
                recorder.clear()
                self._reply(200, b"[]", "application/json")
            else:
                self._record()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            print(f"{self.address_string()} {format % args}", flush=True)

    return Handler


def serve(host: str, port: int, log_path: Path | None = None) -> ThreadingHTTPServer:
    """Create (not start) a recorder server; call ``serve_forever()`` on the result."""
    return ThreadingHTTPServer((host, port), make_handler(RecordedRequests(log_path)))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", type=Path, default=None, help="append recorded requests as JSON lines")
    args = parser.parse_args(argv)
    server = serve(args.host, args.port, args.log)
    print(f"recording on http://{args.host}:{args.port}/ (GET {RECORDED_PATH})", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
