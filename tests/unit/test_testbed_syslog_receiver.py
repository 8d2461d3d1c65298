"""The TLS syslog receiver (Papertrail stand-in): framing, parsing, certificate checks, on 127.0.0.1."""

from __future__ import annotations

import socket
import ssl

import pytest

from louieops.testbed.syslog_receiver import SyslogReceiver, parse, split_frames, write_pki

NAME = "logs.papertrail.test"


def _client(ca, port, hostname=NAME):
    context = ssl.create_default_context(cafile=str(ca))
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    return context.wrap_socket(raw, server_hostname=hostname)


def test_parse_traditional_forward_format():
    message = parse("<134>Nov 26 19:16:03 web-1 simplylouie: hello world")
    parsed = (message.priority, message.hostname, message.tag, message.message)
    assert parsed == (134, "web-1", "simplylouie", "hello world")


def test_parse_rfc5424():
    message = parse("<14>1 2026-11-26T19:16:03.1Z web-1 simplylouie 42 - - hello")
    assert (message.hostname, message.tag, message.message) == ("web-1", "simplylouie", "hello")


def test_parse_keeps_unparseable_lines_whole():
    assert parse("garbage").message == "garbage"


def test_split_frames_handles_octet_counting_newlines_and_partial_data():
    frames, rest = split_frames(b"5 hello<1>a b\n<2>partial")
    assert frames == [b"hello", b"<1>a b"] and rest == b"<2>partial"


def test_receives_lines_over_tls_with_name_check(tmp_path):
    pki = write_pki(tmp_path, NAME)
    with SyslogReceiver("127.0.0.1", 0, pki.cert, pki.key) as receiver:
        with _client(pki.ca, receiver.port) as tls:
            tls.sendall(b"<134>Nov 26 19:16:03 web-1 simplylouie: first\n")
            framed = b"<14>1 2026-11-26T19:16:03Z web-1 simplylouie - - - second"
            tls.sendall(b"%d %s" % (len(framed), framed))
        first = receiver.wait_for(lambda m: m.message == "first", timeout=10)
        second = receiver.wait_for(lambda m: m.message == "second", timeout=10)
    assert first and first.hostname == "web-1" and first.tag == "simplylouie"
    assert second and second.tag == "simplylouie"


def test_a_client_with_another_ca_cannot_connect(tmp_path):
    pki = write_pki(tmp_path / "a", NAME)
    other = write_pki(tmp_path / "b", NAME)
    with SyslogReceiver("127.0.0.1", 0, pki.cert, pki.key) as receiver:
        with pytest.raises(ssl.SSLCertVerificationError):
            _client(other.ca, receiver.port)
        assert receiver.snapshot() == []


def test_a_client_expecting_another_name_cannot_connect(tmp_path):
    pki = write_pki(tmp_path, NAME)
    with SyslogReceiver("127.0.0.1", 0, pki.cert, pki.key) as receiver:
        with pytest.raises(ssl.SSLCertVerificationError):
            _client(pki.ca, receiver.port, hostname="logs.elsewhere.test")
