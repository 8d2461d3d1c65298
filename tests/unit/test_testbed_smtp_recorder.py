"""The SMTP recorder (the e-mail smarthost's stand-in): STARTTLS, the login it requires, what it records; on
127.0.0.1 with Python's own SMTP client."""

from __future__ import annotations

import smtplib
import ssl
import threading

import pytest

from louieops.testbed.certs import write_pki
from louieops.testbed.smtp_recorder import MailRecorder, Options, serve

USER, PASSWORD = "louieops", "s3cret pass"


@pytest.fixture()
def smarthost(tmp_path):
    ca, cert, key = write_pki(tmp_path / "pki", ca_name="test CA", subject="localhost", sans=["localhost"])
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    server = serve("127.0.0.1", 0, Options(tmp_path / "mail.jsonl", context, USER, PASSWORD))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.ca = str(ca)
    server.recorder = MailRecorder(tmp_path / "mail.jsonl")
    yield server
    server.shutdown()
    server.server_close()


def _client(smarthost) -> smtplib.SMTP:
    client = smtplib.SMTP("localhost", smarthost.server_address[1], timeout=5)
    client.starttls(context=ssl.create_default_context(cafile=smarthost.ca))
    return client


def test_a_message_after_starttls_and_login_is_recorded(smarthost):
    with _client(smarthost) as client:
        client.login(USER, PASSWORD)
        client.sendmail("alerts@example.test", ["ops@example.test"], "Subject: [P1] API down\n\n..hello\n")
    [message] = smarthost.recorder.messages()
    assert message["mail_from"] == "alerts@example.test" and message["rcpt_to"] == ["ops@example.test"]
    assert message["tls"] is True and message["login"] == USER
    assert "Subject: [P1] API down" in message["data"] and MailRecorder.body(message).strip() == "..hello"


def test_mail_without_a_login_or_with_a_wrong_password_is_refused(smarthost):
    with _client(smarthost) as client:
        with pytest.raises(smtplib.SMTPSenderRefused, match="authentication required"):
            client.sendmail("alerts@example.test", ["ops@example.test"], "Subject: x\n\nx\n")
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.login(USER, "wrong")
    assert smarthost.recorder.messages() == []


def test_no_login_is_offered_before_tls(smarthost):
    with smtplib.SMTP("localhost", smarthost.server_address[1], timeout=5) as client:
        client.ehlo()
        assert client.has_extn("starttls") and not client.has_extn("auth")
