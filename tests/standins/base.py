"""Shared machinery of the stand-ins: a threaded HTTP server, routing by path template, bearer auth, request
recording (per method and path template), and programmable faults.

Faults (``standin.faults.add(kind, method=..., path=..., times=N, ...)`` in-process, or ``POST /_admin/faults``
with the same keys as JSON):
- ``429``: answer 429 with a plain-text body and ``Retry-After: retry_after``;
- ``500``: answer 500 without doing anything;
- ``slow``: handle the request, then wait ``delay`` seconds before answering (a client that times out in
  between does not know that its write happened);
- ``store_then_500``: handle the request (the object is stored) but answer 500; ``store_then_status``: the
  same with ``status`` and ``body`` (UptimeRobot was seen answering 404 to a create it stored);
- ``stall``: handle the request, answer only after ``delay`` real seconds (past the client's timeout), and
  keep what it created out of every answer until ``visible_after`` seconds later on the stand-in's clock
  (a create that a replica stores long after the client gave up);
- ``status``: answer ``status`` with ``body``.
``GET /_admin/requests`` returns the recorded requests (with the status and body of each answer);
``POST /_admin/reset`` clears records and faults; ``POST /_admin/clock`` ``{"advance": seconds}`` moves the
stand-in's clock forward (for a stand-in running in its own process).
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass
class Fault:
    kind: str
    method: str | None = None
    path: str | None = None  # a path template, e.g. "/monitors" or "/monitors/{id}"
    times: int = 1
    retry_after: float = 1
    delay: float = 1.0
    status: int = 500
    body: str = ""
    visible_after: float = 0.0


class Faults:
    def __init__(self):
        self._lock = threading.Lock()
        self.pending: list[Fault] = []

    def add(self, kind: str, **options) -> None:
        with self._lock:
            self.pending.append(Fault(kind, **options))

    def clear(self) -> None:
        with self._lock:
            self.pending.clear()

    def take(self, method: str, template: str) -> Fault | None:
        with self._lock:
            for fault in self.pending:
                if (fault.method in (None, method)) and (fault.path in (None, template)):
                    fault.times -= 1
                    if fault.times <= 0:
                        self.pending.remove(fault)
                    return fault
        return None


@dataclass
class Reply:
    status: int
    body: Any = None  # JSON-serialisable, or str for a plain-text body
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Recorded:
    method: str
    template: str
    path: str
    query: dict
    body: Any
    status: int | None = None  # of the answer (None while the request is being handled)
    answer: Any = None


class StandIn:
    """Subclasses define ``ROUTES``: (method, template) -> handler name; handlers take
    (params: dict, query: dict, body) and return a Reply."""

    ROUTES: dict[tuple[str, str], str] = {}
    #: Handlers that do not take the bearer token (they authenticate by other means, e.g. a key in the path).
    PUBLIC: frozenset[str] = frozenset()
    TOKEN = "test-token"

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, token: str | None = TOKEN, clock: Callable[[], float] = time.time
    ):
        self.token = token
        self._clock = clock
        self.clock_offset = (
            0.0  # POST /_admin/clock {"advance": seconds}: time passes for a stand-in in its own process
        )
        self.faults = Faults()
        self.recorded: list[Recorded] = []
        self.lock = threading.RLock()
        self._hidden_until = 0.0  # while a stalled create is handled: when its objects become visible
        self._routes = [
            (method, template, re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$"), handler)
            for (method, template), handler in self.ROUTES.items()
        ]
        self.server = ThreadingHTTPServer((host, port), self._handler_class())
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # --- lifecycle --------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> StandIn:
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- inspection -------------------------------------------------------------------------------

    def counts(self) -> Counter:
        with self.lock:
            return Counter(f"{r.method} {r.template}" for r in self.recorded)

    def writes(self) -> list[Recorded]:
        with self.lock:
            return [r for r in self.recorded if r.method in WRITE_METHODS]

    def reset_records(self) -> None:
        with self.lock:
            self.recorded.clear()

    def clock(self) -> float:
        """The stand-in's time: rate-limit windows, deferred objects, check-in schedules."""
        return self._clock() + self.clock_offset

    # --- objects stored by a stalled create ----------------------------------------------------------

    def stamp(self, record: dict) -> dict:
        """Mark a record being created (during a ``stall`` fault it stays hidden for a while)."""
        if self._hidden_until:
            record["_visible_from"] = self._hidden_until
        return record

    def visible(self, record: dict) -> bool:
        return record.get("_visible_from", 0) <= self.clock()

    # --- request handling -------------------------------------------------------------------------

    def route(self, method: str, path: str) -> tuple[str, str, dict] | None:
        for route_method, template, regex, handler in self._routes:
            match = regex.match(path)
            if match and route_method == method:
                return template, handler, match.groupdict()
        return None

    def handle(self, method: str, raw_path: str, headers, body_bytes: bytes) -> Reply:
        split = urlsplit(raw_path)
        path, query = split.path, parse_qs(split.query)
        if path.startswith("/_admin/"):
            return self._admin(method, path, body_bytes)
        found = self.route(method, path)
        if found is None:
            return self.not_found(method, path)
        template, handler, params = found
        try:
            body = self.parse_body(headers, body_bytes)
        except ValueError:
            return Reply(400, {"message": "body is not JSON"})
        record = Recorded(method, template, path, query, body)
        with self.lock:
            self.recorded.append(record)
        reply = self._reply(method, template, handler, params, query, body, headers)
        record.status, record.answer = reply.status, copy.deepcopy(reply.body)  # as sent, not as stored later
        return reply

    def parse_body(self, headers, body_bytes: bytes):
        return json.loads(body_bytes) if body_bytes else None

    def _reply(self, method, template, handler, params, query, body, headers) -> Reply:
        if self.token and handler not in self.PUBLIC and not self.authorized(headers, method):
            return self.unauthorized()
        limited = self.rate_limit(method, template) or self.gate(handler)
        if limited:
            return limited
        fault = self.faults.take(method, template)
        if fault and fault.kind == "429":
            return Reply(429, "ThrottlerException: Too Many Requests", {"Retry-After": str(fault.retry_after)})
        if fault and fault.kind == "500":
            return Reply(500, {"message": "Internal server error"})
        if fault and fault.kind == "status":
            return Reply(fault.status, fault.body)
        with self.lock:
            if fault and fault.kind == "stall":
                self._hidden_until = self.clock() + fault.visible_after
            try:
                reply = getattr(self, handler)(params, query, body)
            finally:
                self._hidden_until = 0.0
        if fault and fault.kind in ("slow", "stall"):
            time.sleep(fault.delay)
        if fault and fault.kind == "store_then_500":
            return Reply(500, {"message": "Internal server error"})
        if fault and fault.kind == "store_then_status":
            return Reply(fault.status, fault.body)
        return reply

    def authorized(self, headers, method: str) -> bool:
        return headers.get("Authorization") == f"Bearer {self.token}"

    def rate_limit(self, method: str, template: str) -> Reply | None:
        return None

    def gate(self, handler: str) -> Reply | None:
        """A reply that replaces the handler's (e.g. an API this server version does not have)."""
        return None

    def not_found(self, method: str, path: str) -> Reply:
        return Reply(404, {"message": f"Cannot {method} {path}"})

    def unauthorized(self) -> Reply:
        return Reply(401, {"message": "Unauthorized"})

    def _admin(self, method: str, path: str, body_bytes: bytes) -> Reply:
        if method == "POST" and path == "/_admin/faults":
            options = json.loads(body_bytes or b"{}")
            self.faults.add(options.pop("kind"), **options)
            return Reply(204)
        if method == "GET" and path == "/_admin/requests":
            with self.lock:
                return Reply(200, [dict(r.__dict__) for r in self.recorded])
        if method == "POST" and path == "/_admin/clock":
            self.clock_offset += float(json.loads(body_bytes or b"{}").get("advance", 0))
            return Reply(200, {"now": self.clock()})
        if method == "POST" and path == "/_admin/reset":
            self.reset_records()
            self.faults.clear()
            return Reply(204)
        with self.lock:
            return self.admin(method, path, json.loads(body_bytes) if body_bytes else None)

    def admin(self, method: str, path: str, body) -> Reply:
        """A stand-in's own admin endpoints (state a test sets from another process)."""
        return Reply(404, {"message": "unknown admin endpoint"})

    def _handler_class(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                reply = standin.handle(self.command, self.path, self.headers, body)
                if isinstance(reply.body, str):
                    payload, ctype = reply.body.encode(), "text/plain; charset=utf-8"
                elif reply.body is None:
                    payload, ctype = b"", None
                else:
                    payload, ctype = json.dumps(reply.body).encode(), "application/json"
                try:
                    self.send_response(reply.status)
                    if ctype:
                        self.send_header("Content-Type", ctype)
                    for key, value in reply.headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, *args):
                pass

        return Handler


def main(factory: Callable[..., StandIn], description: str) -> None:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", default=StandIn.TOKEN, help="bearer token to accept")
    args = parser.parse_args()
    standin = factory(host=args.host, port=args.port, token=args.token)
    print(f"listening on {standin.url}", flush=True)
    try:
        standin.server.serve_forever()
    except KeyboardInterrupt:
        pass
