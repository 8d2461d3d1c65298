"""An SMTP recorder: a stand-in for the e-mail smarthost that alerts are relayed through, and its client.

It speaks enough ESMTP for a relay such as msmtp (EHLO, STARTTLS with the testbed's listener certificate,
AUTH PLAIN/LOGIN after STARTTLS, MAIL, RCPT, DATA, RSET, NOOP, QUIT), refuses MAIL without a login when it
was given credentials, and keeps every message it accepts: one JSON line in the log file (sender,
recipients, the raw message, whether it came over TLS and who logged in).

    python -m louieops.testbed.smtp_recorder --host 10.231.0.1 --port 2525 --cert cert.pem --key key.pem \\
        --user louieops --password secret --log mail.jsonl

Tests read it through :class:`MailRecorder` (``Testbed.mail``).
"""

from __future__ import annotations

import argparse
import base64
import json
import socketserver
import ssl
import threading
import time
from dataclasses import dataclass
from email import message_from_string
from pathlib import Path
from typing import Any

MAX_LINE = 4096
MAX_MESSAGE = 1024 * 1024


class MailRecorder:
    """The messages the SMTP recorder accepted, read from its log file."""

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path

    def messages(self) -> list[dict[str, Any]]:
        if not self.log_path.exists():
            return []
        return [json.loads(line) for line in self.log_path.read_text().splitlines() if line.strip()]

    @staticmethod
    def body(message: dict[str, Any]) -> str:
        """The decoded text of a recorded message."""
        return message_from_string(message["data"]).get_payload(decode=True).decode(errors="replace")


@dataclass(frozen=True)
class Options:
    log_path: Path
    tls: ssl.SSLContext | None = None
    user: str | None = None
    password: str | None = None


class Session(socketserver.StreamRequestHandler):
    """One SMTP conversation."""

    options: Options
    lock = threading.Lock()

    def setup(self) -> None:
        super().setup()
        self.tls, self.login, self.sender, self.recipients = False, None, None, []

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def read_line(self) -> str | None:
        raw = self.rfile.readline(MAX_LINE)
        return raw.decode(errors="replace").rstrip("\r\n") if raw else None

    def handle(self) -> None:
        self.reply("220 louieops-smtp-recorder ESMTP")
        while (line := self.read_line()) is not None:
            verb, _, argument = line.partition(" ")
            handler = getattr(self, f"smtp_{verb.upper()}", None)
            if handler is None:
                self.reply("502 5.5.2 command not recognized")
            elif handler(argument.strip()) == "quit":
                return

    def smtp_EHLO(self, argument: str) -> None:  # noqa: N802 (SMTP verbs)
        lines = ["louieops-smtp-recorder", "8BITMIME", f"SIZE {MAX_MESSAGE}"]
        if self.options.tls and not self.tls:
            lines.append("STARTTLS")
        if self.options.user and self.tls:
            lines.append("AUTH PLAIN LOGIN")
        for line in lines[:-1]:
            self.reply(f"250-{line}")
        self.reply(f"250 {lines[-1]}")

    def smtp_HELO(self, argument: str) -> None:  # noqa: N802
        self.reply("250 louieops-smtp-recorder")

    def smtp_STARTTLS(self, argument: str) -> None:  # noqa: N802
        if not self.options.tls or self.tls:
            self.reply("454 4.7.0 TLS not available")
            return
        self.reply("220 2.0.0 ready to start TLS")
        self.connection = self.options.tls.wrap_socket(self.connection, server_side=True)
        self.rfile = self.connection.makefile("rb")
        self.wfile = self.connection.makefile("wb")
        self.tls, self.login, self.sender, self.recipients = True, None, None, []

    def smtp_AUTH(self, argument: str) -> None:  # noqa: N802
        mechanism, _, initial = argument.partition(" ")
        if not (self.options.user and self.tls):
            self.reply("503 5.5.1 AUTH not available")
            return
        if mechanism.upper() == "PLAIN":
            token = initial or self.challenge("")
            parts = base64.b64decode(token or "").decode(errors="replace").split("\0")
            user, password = (parts[1], parts[2]) if len(parts) == 3 else ("", "")
        elif mechanism.upper() == "LOGIN":
            user = base64.b64decode(initial or self.challenge("VXNlcm5hbWU6") or "").decode(errors="replace")
            password = base64.b64decode(self.challenge("UGFzc3dvcmQ6") or "").decode(errors="replace")
        else:
            self.reply("504 5.5.4 unrecognized authentication type")
            return
        if (user, password) != (self.options.user, self.options.password):
            self.reply("535 5.7.8 authentication credentials invalid")
            return
        self.login = user
        self.reply("235 2.7.0 authentication successful")

    def challenge(self, prompt: str) -> str | None:
        self.reply(f"334 {prompt}")
        return self.read_line()

    def smtp_MAIL(self, argument: str) -> None:  # noqa: N802
        if self.options.user and not self.login:
            self.reply("530 5.7.0 authentication required")
            return
        self.sender, self.recipients = _address(argument, "FROM:"), []
        self.reply("250 2.1.0 sender ok")

    def smtp_RCPT(self, argument: str) -> None:  # noqa: N802
        if self.sender is None:
            self.reply("503 5.5.1 MAIL first")
            return
        self.recipients.append(_address(argument, "TO:"))
        self.reply("250 2.1.5 recipient ok")

    def smtp_DATA(self, argument: str) -> None:  # noqa: N802
        if not self.recipients:
            self.reply("503 5.5.1 RCPT first")
            return
        self.reply("354 end data with <CR><LF>.<CR><LF>")
        lines = []
        while (line := self.read_line()) is not None and line != ".":
            lines.append(line[1:] if line.startswith(".") else line)  # dot-unstuffing
        entry = {
            "time": time.time(),
            "mail_from": self.sender,
            "rcpt_to": self.recipients,
            "data": "\n".join(lines)[:MAX_MESSAGE],
            "tls": self.tls,
            "login": self.login,
        }
        with self.lock, open(self.options.log_path, "a") as fh:
            fh.write(json.dumps(entry) + "\n")
        self.sender, self.recipients = None, []
        self.reply("250 2.0.0 message accepted")

    def smtp_RSET(self, argument: str) -> None:  # noqa: N802
        self.sender, self.recipients = None, []
        self.reply("250 2.0.0 ok")

    def smtp_NOOP(self, argument: str) -> None:  # noqa: N802
        self.reply("250 2.0.0 ok")

    def smtp_QUIT(self, argument: str) -> str:  # noqa: N802
        self.reply("221 2.0.0 bye")
        return "quit"


def _address(argument: str, prefix: str) -> str:
    """The address of "FROM:<a@b> SIZE=1" / "TO:<c@d>"."""
    text = argument[len(prefix) :] if argument.upper().startswith(prefix) else argument
    return text.strip().split(" ")[0].strip("<>")


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(host: str, port: int, options: Options) -> Server:
    """Create (not start) a recorder; call ``serve_forever()`` on the result."""
    handler = type("BoundSession", (Session,), {"options": options})
    return Server((host, port), handler)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert", type=Path, help="certificate for STARTTLS (with --key)")
    parser.add_argument("--key", type=Path)
    parser.add_argument("--user", help="the login MAIL requires (with --password)")
    parser.add_argument("--password")
    parser.add_argument("--log", type=Path, required=True, help="append accepted messages as JSON lines")
    args = parser.parse_args(argv)
    context = None
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(args.cert), str(args.key))
    server = serve(args.host, args.port, Options(args.log, context, args.user, args.password))
    print(f"recording mail on {args.host}:{args.port} into {args.log}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
