"""send-alert, run as the real script against a local webhook recorder on 127.0.0.1.

Covers routing by tier, deduplication, escalation, recovery messages, delivery failures, e-mail through a
sendmail stand-in and SMS through the Twilio API shape."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from louieops.resources import file
from louieops.testbed.recorder import serve
from tests.unit.helpers import load_script

SCRIPT = file("scripts/send-alert")
ROUTES = {
    "P1": {"slack": ["alerts-critical"], "email": True, "sms": True},
    "P2": {"slack": ["alerts-high"], "email": True, "sms": False},
    "P3": {"slack": ["alerts-general"], "email": False, "sms": False},
    "P4": {"slack": ["alerts-general"], "email": False, "sms": False},
}


def _load_module():
    return load_script(str(SCRIPT), "send_alert")


@pytest.fixture()
def recorder():
    server = serve("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address
    server.url = f"http://{host}:{port}"
    yield server
    server.shutdown()
    server.server_close()


def _recorded(url):
    with urllib.request.urlopen(f"{url}/_recorded", timeout=5) as response:
        return json.loads(response.read())


class AlertBox:
    """A temp config/secrets/state layout and a runner for the script."""

    def __init__(self, tmp_path: Path, recorder_url: str, **config):
        self.tmp = tmp_path
        self.state = tmp_path / "state"
        self.mail = tmp_path / "mail.txt"
        sendmail = tmp_path / "sendmail"
        sendmail.write_text(f"#!/bin/sh\ncat >> {self.mail}\n")
        sendmail.chmod(0o755)
        base = {
            "label": "simplylouie",
            "username": "simplylouie alerts",
            "routes": ROUTES,
            "email_to": "ops@example.test",
            "sendmail": str(sendmail),
            "exim_conf": str(tmp_path / "update-exim4.conf.conf"),
            "sms_to": None,
            "twilio_api_url": recorder_url,
            "dedup_minutes": 60,
        }
        base.update(config)
        self.config = tmp_path / "alerts.json"
        self.config.write_text(json.dumps(base))
        self.secrets = tmp_path / "alerts-secrets.json"
        self.secrets.write_text(
            json.dumps(
                {
                    "slack": {
                        "alerts-critical": f"{recorder_url}/slack/critical",
                        "alerts-high": f"{recorder_url}/slack/high",
                        "alerts-general": f"{recorder_url}/slack/general",
                    },
                    "twilio": {
                        "twilio_account_sid": "AC123",
                        "twilio_auth_token": "tok",
                        "twilio_from_number": "+15550001111",
                    },
                }
            )
        )

    def run(self, *args: str) -> subprocess.CompletedProcess:
        env = dict(
            os.environ,
            LOUIE_ALERTS_CONFIG=str(self.config),
            LOUIE_ALERTS_SECRETS=str(self.secrets),
            LOUIE_ALERTS_STATE=str(self.state),
        )
        return subprocess.run([sys.executable, SCRIPT, *args], env=env, capture_output=True, text=True, timeout=30)

    def log(self) -> list[str]:
        path = self.state / "alerts.log"
        return path.read_text().splitlines() if path.exists() else []


def _slack_posts(recorder):
    return [r for r in _recorded(recorder.url) if r["path"].startswith("/slack/")]


def test_p1_goes_to_the_critical_channel_and_email(tmp_path, recorder):
    box = AlertBox(tmp_path, recorder.url)
    result = box.run("--key", "api", "P1", "API down")
    assert result.returncode == 0, result.stderr
    posts = _slack_posts(recorder)
    assert [p["path"] for p in posts] == ["/slack/critical"]
    text = json.loads(posts[0]["body"])["text"]
    assert "[P1]" in text and "API down" in text and f"simplylouie@{socket.gethostname()}" in text
    assert "Subject: " in box.mail.read_text() and "To: ops@example.test" in box.mail.read_text()
    assert "sms skipped (alert_sms_to not set)" in box.log()[-1]


def test_p3_goes_only_to_the_general_channel(tmp_path, recorder):
    box = AlertBox(tmp_path, recorder.url)
    assert box.run("P3", "disk 85%").returncode == 0
    assert [p["path"] for p in _slack_posts(recorder)] == ["/slack/general"]
    assert not box.mail.exists()


def test_same_key_is_not_resent_within_the_window(tmp_path, recorder):
    box = AlertBox(tmp_path, recorder.url)
    assert box.run("--key", "api", "P1", "API down").returncode == 0
    second = box.run("--key", "api", "P1", "API still down")
    assert second.returncode == 0
    assert "suppress" in second.stdout
    assert len(_slack_posts(recorder)) == 1


def test_without_key_the_same_message_is_deduplicated(tmp_path, recorder):
    box = AlertBox(tmp_path, recorder.url)
    box.run("P4", "weekly report")
    box.run("P4", "weekly report")
    box.run("P4", "another report")
    assert len(_slack_posts(recorder)) == 2


def test_a_different_tier_for_the_same_key_is_sent_at_once(tmp_path, recorder):
    box = AlertBox(tmp_path, recorder.url)
    box.run("--key", "disk", "P3", "disk 85%")
    box.run("--key", "disk", "P2", "disk 95%")
    assert [p["path"] for p in _slack_posts(recorder)] == ["/slack/general", "/slack/high"]


def test_resolve_sends_one_recovery_only_when_the_key_was_active(tmp_path, recorder):
    box = AlertBox(tmp_path, recorder.url)
    assert box.run("--resolve", "--key", "api", "P1", "API recovered").returncode == 0
    assert _slack_posts(recorder) == []
    box.run("--key", "api", "P1", "API down")
    box.run("--resolve", "--key", "api", "P1", "API recovered")
    box.run("--resolve", "--key", "api", "P1", "API recovered")
    posts = _slack_posts(recorder)
    assert len(posts) == 2
    recovery = json.loads(posts[1]["body"])["text"]
    assert "RESOLVED" in recovery and "was: API down" in recovery
    # after recovery the next failure is a new alert, not suppressed
    box.run("--key", "api", "P1", "API down again")
    assert len(_slack_posts(recorder)) == 3


def test_resolve_uses_the_tier_the_alert_was_raised_with(tmp_path, recorder):
    box = AlertBox(tmp_path, recorder.url)
    box.run("--key", "disk", "P2", "disk 95%")
    box.run("--resolve", "--key", "disk", "P4", "disk ok")
    assert [p["path"] for p in _slack_posts(recorder)] == ["/slack/high", "/slack/high"]


def test_zero_window_sends_every_time(tmp_path, recorder):
    box = AlertBox(tmp_path, recorder.url, dedup_minutes=0)
    box.run("--key", "x", "P4", "m")
    box.run("--key", "x", "P4", "m")
    assert len(_slack_posts(recorder)) == 2


def test_failed_delivery_exits_1_and_is_retried_next_run(tmp_path, recorder):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    box = AlertBox(tmp_path, recorder.url)
    secrets = json.loads(box.secrets.read_text())
    secrets["slack"]["alerts-general"] = f"http://127.0.0.1:{closed_port}/hook"
    box.secrets.write_text(json.dumps(secrets))
    first = box.run("--key", "disk", "P3", "disk 85%")
    assert first.returncode == 1
    assert "failed" in box.log()[-1]
    assert box.run("--key", "disk", "P3", "disk 85%").returncode == 1  # not suppressed: it was never sent
    assert len(box.log()) == 2


def test_sms_uses_the_twilio_messages_api(tmp_path, recorder):
    box = AlertBox(tmp_path, recorder.url, sms_to="+4915112345678")
    assert box.run("--key", "db", "P1", "database down").returncode == 0
    sms = [r for r in _recorded(recorder.url) if r["path"].startswith("/2010-04-01/")]
    assert [r["path"] for r in sms] == ["/2010-04-01/Accounts/AC123/Messages.json"]
    form = urllib.parse.parse_qs(sms[0]["body"])
    assert form["To"] == ["+4915112345678"] and form["From"] == ["+15550001111"]
    assert "database down" in form["Body"][0]
    assert sms[0]["headers"]["Authorization"] == "Basic " + base64.b64encode(b"AC123:tok").decode()


def test_missing_webhook_and_missing_mta_are_reported_not_fatal(tmp_path, recorder):
    box = AlertBox(tmp_path, recorder.url, sendmail=str(tmp_path / "no-such-sendmail"))
    box.secrets.write_text("{}")
    result = box.run("P2", "slow responses")
    assert result.returncode == 0
    line = box.log()[-1]
    assert "slack:alerts-high skipped (no webhook configured)" in line
    assert "email skipped (no MTA" in line


def test_a_local_only_exim_is_not_used_for_alert_mail(tmp_path, recorder):
    box = AlertBox(tmp_path, recorder.url)
    (tmp_path / "update-exim4.conf.conf").write_text("dc_eximconfig_configtype='local'\ndc_other='x'\n")
    assert box.run("P2", "slow responses").returncode == 0
    assert not box.mail.exists()
    assert "email skipped (the MTA delivers locally only" in box.log()[-1]
    (tmp_path / "update-exim4.conf.conf").write_text("dc_eximconfig_configtype='smarthost'\n")
    assert box.run("P2", "slower responses").returncode == 0
    assert "To: ops@example.test" in box.mail.read_text()


def test_reports_are_always_sent_and_never_kept_open(tmp_path, recorder):
    box = AlertBox(tmp_path, recorder.url)
    box.run("--report", "P4", "weekly report")
    box.run("--report", "P4", "weekly report")
    assert len(_slack_posts(recorder)) == 2
    assert json.loads((box.state / "state.json").read_text()) == {}
    assert box.run("--report", "--resolve", "--key", "k", "P4", "x").returncode == 2


def test_resolve_requires_a_key(tmp_path, recorder):
    box = AlertBox(tmp_path, recorder.url)
    assert box.run("--resolve", "P1", "x").returncode == 2
    assert box.run("P5", "x").returncode == 2


def test_decide_and_prune_are_pure():
    module = _load_module()
    state = {"k": {"tier": "P2", "message": "m", "first": 0, "last_sent": 100, "explicit": True}}
    assert module.decide(state, "k", "P2", False, 150, 60) == ("suppress", "P2")
    assert module.decide(state, "k", "P2", False, 161, 60) == ("send", "P2")
    assert module.decide(state, "k", "P1", False, 150, 60) == ("send", "P1")
    assert module.decide(state, "k", "P4", True, 150, 60) == ("resolve", "P2")
    assert module.decide({}, "k", "P4", True, 150, 60) == ("noop", "P4")
    auto = {"a": {"tier": "P4", "last_sent": 0, "explicit": False}, **state}
    assert set(module.prune(auto, 1000, 60)) == {"k"}
