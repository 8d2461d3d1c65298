"""A TLS syslog receiver: a stand-in for Papertrail's log destination (RFC 5425-style syslog over TLS).

Accepts TLS connections with a certificate for a test hostname (its own throwaway CA, see
:func:`write_pki`), reads newline-framed or octet-counted syslog messages, parses the RFC 3164 /
RFC 5424 header (hostname, tag) and keeps every message in memory (optionally appending JSON lines to
a file). TLS handshake failures are counted, so a test can tell "connected but rejected" from "never
connected".

In a test::

    pki = write_pki(tmp_path, "logs.papertrail.test")
    with SyslogReceiver("10.231.3.1", 0, pki.cert, pki.key) as receiver:
        ...
        receiver.wait_for(lambda m: "hello" in m.message, timeout=60)

As a process: ``python -m louieops.testbed.syslog_receiver --host H --port P --cert C --key K [--log F]``.
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

_RFC5424 = re.compile(r"<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (?:-|(?:\[.*?\])+) ?(.*)", re.DOTALL)
_RFC3164 = re.compile(
    r"<(\d{1,3})>([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|\S+T\S+) (\S+) ([^:\[\s]+)(?:\[(\d+)\])?: ?(.*)", re.DOTALL
)


@dataclass(frozen=True)
class SyslogMessage:
    raw: str
    priority: int | None
    hostname: str | None
    tag: str | None
    message: str
    peer: str
    received: float


def parse(raw: str, peer: str = "", received: float | None = None) -> SyslogMessage:
    """Parse one syslog message (RFC 5424 or the traditional RFC 3164 forward format)."""
    received = time.time() if received is None else received
    match = _RFC5424.match(raw)
    if match:
        pri, _ts, hostname, app, _procid, _msgid, message = match.groups()
        return SyslogMessage(raw, int(pri), hostname, app, message.lstrip("\ufeff"), peer, received)
    match = _RFC3164.match(raw)
    if match:
        pri, _ts, hostname, tag, _pid, message = match.groups()
        return SyslogMessage(raw, int(pri), hostname, tag, message, peer, received)
    return SyslogMessage(raw, None, None, None, raw, peer, received)


def split_frames(buffer: bytes) -> tuple[list[bytes], bytes]:
    """Split a stream into messages: octet-counting ("LEN SP MSG") or LF-terminated; returns the rest."""
    frames = []
    while buffer:
        match = re.match(rb"([1-9]\d{0,5}) ", buffer)
        if match:
            length = int(match.group(1))
            start = match.end()
            if len(buffer) < start + length:
                break
            frames.append(buffer[start : start + length].rstrip(b"\n"))
            buffer = buffer[start + length :]
            continue
        newline = buffer.find(b"\n")
        if newline < 0:
            break
        frames.append(buffer[:newline].rstrip(b"\r"))
        buffer = buffer[newline + 1 :]
    return [f for f in frames if f], buffer


class SyslogReceiver:
    """Threaded TLS listener. ``port=0`` picks a free port (see :attr:`port`)."""

    def __init__(self, host: str, port: int, cert: Path, key: Path, log_path: Path | None = None):
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.minimum_version = ssl.TLSVersion.TLSv1_2
        self.context.load_cert_chain(str(cert), str(key))
        self.log_path = log_path
        self.lock = threading.Lock()
        self.messages: list[SyslogMessage] = []
        self.handshake_failures = 0
        self.connections = 0
        self.sock = socket.create_server((host, port), reuse_port=False)
        self.sock.settimeout(0.5)
        self.host, self.port = self.sock.getsockname()[:2]
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # lifecycle -----------------------------------------------------------------------------
    def start(self) -> SyslogReceiver:
        self._thread = threading.Thread(target=self._accept_loop, name="syslog-receiver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        self.sock.close()

    def __enter__(self) -> SyslogReceiver:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # queries -------------------------------------------------------------------------------
    def snapshot(self) -> list[SyslogMessage]:
        with self.lock:
            return list(self.messages)

    def wait_for(self, predicate: Callable[[SyslogMessage], bool], timeout: float) -> SyslogMessage | None:
        """The first received message matching ``predicate``, polling until ``timeout`` seconds pass."""
        deadline = time.monotonic() + timeout
        while True:
            for message in self.snapshot():
                if predicate(message):
                    return message
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.2)

    # internals -----------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, addr = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn, addr[0]), daemon=True).start()

    def _serve(self, conn: socket.socket, peer: str) -> None:
        with self.lock:
            self.connections += 1
        conn.settimeout(5)
        try:
            tls = self.context.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            with self.lock:
                self.handshake_failures += 1
            conn.close()
            return
        tls.settimeout(0.5)
        buffer = b""
        with tls:
            while not self._stop.is_set():
                try:
                    chunk = tls.recv(65536)
                except TimeoutError:
                    continue
                except (ssl.SSLError, OSError):
                    break
                if not chunk:
                    break
                frames, buffer = split_frames(buffer + chunk)
                for frame in frames:
                    self._add(parse(frame.decode("utf-8", errors="replace"), peer))

    def _add(self, message: SyslogMessage) -> None:
        with self.lock:
            self.messages.append(message)
            if self.log_path:
                with open(self.log_path, "a") as fh:
                    fh.write(json.dumps(asdict(message)) + "\n")


@dataclass(frozen=True)
class Pki:
    ca: Path
    cert: Path
    key: Path


def write_pki(directory: Path, hostname: str, label: str = "syslog") -> Pki:
    """A throwaway CA (``<label>-ca.pem``) and a server certificate for ``hostname`` signed by it."""
    from .certs import write_pki as write_ca_and_cert  # needs cryptography (test extras) only here

    return Pki(
        *write_ca_and_cert(
            directory,
            ca_name=f"louieops test {label} CA",
            subject=hostname,
            sans=[hostname],
            prefix=f"{label}-",
            days=30,
        )
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert", type=Path, required=True)
    parser.add_argument("--key", type=Path, required=True)
    parser.add_argument("--log", type=Path, default=None, help="append received messages as JSON lines")
    args = parser.parse_args(argv)
    receiver = SyslogReceiver(args.host, args.port, args.cert, args.key, args.log).start()
    print(f"receiving syslog over TLS on {receiver.host}:{receiver.port}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        receiver.stop()


if __name__ == "__main__":
    main()
