"""send-alert, run as the real script (and in-process with a fake clock) against a local webhook recorder on
127.0.0.1.

Covers routing by tier, the Slack payload, deduplication, tier changes, recovery messages, the rule that an
alert counts as delivered only when a channel took it (pending, retried by `tick`), escalation (repeats,
SMS, `ack`), e-mail through a sendmail stand-in and SMS through the Twilio API shape."""

from __future__ import annotations

import base64
import email
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

from louieops import server_scripts
from louieops.resources import file
from louieops.testbed.recorder import serve
from tests.unit.helpers import default_settings, load_script

SCRIPT = file("scripts/send-alert")
ROUTES = {
    "P1": {"slack": ["alerts-critical"], "email": True, "sms": True},
    "P2": {"slack": ["alerts-high"], "email": True, "sms": False},
    "P3": {"slack": ["alerts-general"], "email": False, "sms": False},
    "P4": {"slack": ["alerts-general"], "email": False, "sms": False},
}
ESCALATION = {"P1": {"repeat_minutes": 15, "sms": True}, "P2": {"repeat_minutes": 60, "sms": False}}
MINUTE = 60.0


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
    """A temp config/secrets/state layout and a runner for the script (a subprocess, or in-process with a
    clock the test moves)."""

    def __init__(self, tmp_path: Path, recorder_url: str, **config):
        self.tmp = tmp_path
        self.state = tmp_path / "state"
        self.mail = tmp_path / "mail.txt"
        self.sendmail = tmp_path / "sendmail"
        self.relay_up()
        base = {
            "label": "simplylouie",
            "slack": {"username": "SimplyLouie Alerts", "icon_emoji": ":dog:"},
            "routes": ROUTES,
            "email": {"to": "ops@example.test", "from": "alerts@example.test", "sendmail": str(self.sendmail)},
            "sms_to": None,
            "twilio_api_url": recorder_url,
            "dedup_minutes": 60,
            "escalation": ESCALATION,
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
        self.now = 1_000_000.0

    def relay_up(self):
        """The e-mail relay takes every message (the stand-in appends it to mail.txt)."""
        self.sendmail.write_text(f"#!/bin/sh\ncat >> {self.mail}\n")
        self.sendmail.chmod(0o755)

    def relay_down(self):
        """The relay cannot reach the smarthost: msmtp's exit status and message."""
        self.sendmail.write_text("#!/bin/sh\necho 'msmtp: cannot connect to smtp.example.test: refused' >&2\nexit 75\n")

    def env(self) -> dict:
        return dict(
            os.environ,
            LOUIE_ALERTS_CONFIG=str(self.config),
            LOUIE_ALERTS_SECRETS=str(self.secrets),
            LOUIE_ALERTS_STATE=str(self.state),
        )

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, SCRIPT, *args], env=self.env(), capture_output=True, text=True, timeout=30
        )

    def call(self, module, monkeypatch, *args: str, at: float | None = None) -> int:
        """The script's main() in this process at clock time ``at`` (default: the box's clock)."""
        for name, value in self.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setattr(module, "CONFIG", str(self.config))
        return module.main(list(args), clock=lambda: self.now if at is None else at)

    def log(self) -> list[str]:
        path = self.state / "alerts.log"
        return path.read_text().splitlines() if path.exists() else []

    def entries(self) -> dict:
        return json.loads((self.state / "state.json").read_text())

    def mail_bodies(self) -> list[str]:
        """The text of each message the relay took (decoded: long lines arrive quoted-printable)."""
        raw = self.mail.read_text() if self.mail.exists() else ""
        messages = ["From: " + part for part in raw.split("From: ")[1:]]
        return [email.message_from_string(m).get_payload(decode=True).decode() for m in messages]

    def mails(self) -> int:
        return self.mail.read_text().count("\nSubject: ") if self.mail.exists() else 0


def _slack_posts(recorder):
    return [r for r in _recorded(recorder.url) if r["path"].startswith("/slack/")]


def _sms(recorder):
    return [r for r in _recorded(recorder.url) if r["path"].startswith("/2010-04-01/")]


@pytest.fixture()
def module():
    return _load_module()


# --- routing, payload, deduplication --------------------------------------------------------------------


def test_p1_goes_to_the_critical_channel_and_email(tmp_path, recorder):
    box = AlertBox(tmp_path, recorder.url)
    result = box.run("--key", "api", "P1", "API down")
    assert result.returncode == 0, result.stderr
    posts = _slack_posts(recorder)
    assert [p["path"] for p in posts] == ["/slack/critical"]
    text = json.loads(posts[0]["body"])["text"]
    assert "[P1]" in text and "API down" in text and f"simplylouie@{socket.gethostname()}" in text
    mail = box.mail.read_text()
    assert "Subject: " in mail and "To: ops@example.test" in mail and "From: alerts@example.test" in mail
    assert "sms skipped (alert_sms_to not set)" in box.log()[-1]


def test_the_slack_message_carries_the_seeds_channel_name_and_icon(tmp_path, recorder):
    box = AlertBox(tmp_path, recorder.url)
    assert box.run("--key", "disk", "P2", "disk 95%").returncode == 0
    payload = json.loads(_slack_posts(recorder)[0]["body"])
    assert payload["channel"] == "#alerts-high"
    assert payload["username"] == "SimplyLouie Alerts" and payload["icon_emoji"] == ":dog:"


def test_the_deploy_tells_send_alert_the_seeds_name_and_icon_and_the_escalation():
    config = server_scripts.alerts_config(default_settings())
    assert config["slack"] == {"username": "SimplyLouie Alerts", "icon_emoji": ":dog:"}
    assert config["escalation"] == ESCALATION
    assert config["email"] is None  # no smarthost by default: no e-mail (the route says "skipped")
    relayed = server_scripts.alerts_config(default_settings(alert_smtp_host="smtp.example.com"))
    assert relayed["email"] == {
        "to": "ops@simplylouie.com",
        "from": "alerts@simplylouie.com",
        "sendmail": "/usr/sbin/sendmail",
    }


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
    assert box.entries()["api"]["message"] == "API still down"  # the repeats carry the newest message


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
    box.run("P4", "m")
    box.run("P4", "m")
    assert len(_slack_posts(recorder)) == 2


def test_sms_uses_the_twilio_messages_api(tmp_path, recorder):
    box = AlertBox(tmp_path, recorder.url, sms_to="+4915112345678")
    assert box.run("--key", "db", "P1", "database down").returncode == 0
    sms = _sms(recorder)
    assert [r["path"] for r in sms] == ["/2010-04-01/Accounts/AC123/Messages.json"]
    form = urllib.parse.parse_qs(sms[0]["body"])
    assert form["To"] == ["+4915112345678"] and form["From"] == ["+15550001111"]
    assert "database down" in form["Body"][0]
    assert sms[0]["headers"]["Authorization"] == "Basic " + base64.b64encode(b"AC123:tok").decode()


def test_reports_are_always_sent_and_never_kept_open(tmp_path, recorder):
    box = AlertBox(tmp_path, recorder.url)
    box.run("--report", "P4", "weekly report")
    box.run("--report", "P4", "weekly report")
    assert len(_slack_posts(recorder)) == 2
    assert box.entries() == {}
    assert box.run("--report", "--resolve", "--key", "k", "P4", "x").returncode == 2


def test_resolve_requires_a_key(tmp_path, recorder):
    box = AlertBox(tmp_path, recorder.url)
    assert box.run("--resolve", "P1", "x").returncode == 2
    assert box.run("P5", "x").returncode == 2


# --- delivered only when a channel took it ---------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_failed_delivery_exits_1_stays_pending_and_is_retried_next_run(tmp_path, recorder):
    box = AlertBox(tmp_path, recorder.url)
    secrets = json.loads(box.secrets.read_text())
    secrets["slack"]["alerts-general"] = f"http://127.0.0.1:{_closed_port()}/hook"
    box.secrets.write_text(json.dumps(secrets))
    first = box.run("--key", "disk", "P3", "disk 85%")
    assert first.returncode == 1 and "send-pending" in first.stdout
    assert "alert-pending" in box.log()[-1] and "failed" in box.log()[-1]
    assert box.entries()["disk"]["pending"] == "alert"
    assert box.run("--key", "disk", "P3", "disk 85%").returncode == 1  # not suppressed: it was never sent
    assert len(box.log()) == 2


def test_a_tier_whose_every_channel_is_skipped_is_not_delivered(tmp_path, recorder):
    box = AlertBox(tmp_path, recorder.url, email=None)
    box.secrets.write_text("{}")
    result = box.run("--key", "slow", "P2", "slow responses")
    assert result.returncode == 1
    line = box.log()[-1]
    assert "slack:alerts-high skipped (no webhook configured)" in line
    assert "email skipped (no e-mail relay" in line
    assert box.entries()["slow"]["pending"] == "alert" and box.entries()["slow"]["last_sent"] is None


def test_with_email_the_only_channel_and_the_relay_down_nothing_is_sent_until_it_is_back(tmp_path, recorder):
    routes = {**ROUTES, "P2": {"slack": [], "email": True, "sms": False}}
    box = AlertBox(tmp_path, recorder.url, routes=routes)
    box.relay_down()
    assert box.run("--key", "db", "P2", "database slow").returncode == 1
    assert "email failed (OSError" in box.log()[-1] and "exit 75" in box.log()[-1]
    assert box.run("tick").returncode == 1  # still down: still pending
    assert box.entries()["db"]["pending"] == "alert" and box.mails() == 0
    box.relay_up()
    done = box.run("tick")
    assert done.returncode == 0, done.stdout
    assert box.mails() == 1 and "no channel took it earlier" in box.mail_bodies()[0]
    assert box.entries()["db"]["pending"] is None
    assert box.run("tick").returncode == 0 and box.run("--key", "db", "P2", "database slow").returncode == 0
    assert box.mails() == 1  # delivered once


def test_a_report_no_channel_took_is_kept_until_tick_delivers_it(tmp_path, recorder):
    box = AlertBox(tmp_path, recorder.url)
    secrets = json.loads(box.secrets.read_text())
    good, secrets["slack"]["alerts-general"] = (
        secrets["slack"]["alerts-general"],
        f"http://127.0.0.1:{_closed_port()}/x",
    )
    box.secrets.write_text(json.dumps(secrets))
    assert box.run("--report", "P4", "Daily summary").returncode == 1
    [(key, entry)] = box.entries().items()
    assert entry["kind"] == "report" and entry["pending"] == "report"
    secrets["slack"]["alerts-general"] = good
    box.secrets.write_text(json.dumps(secrets))
    assert box.run("tick").returncode == 0
    assert box.entries() == {} and len(_slack_posts(recorder)) == 1


def test_a_recovery_no_channel_took_is_retried_and_a_relapse_keeps_the_alert_open(tmp_path, recorder):
    box = AlertBox(tmp_path, recorder.url)
    box.run("--key", "disk", "P3", "disk 85%")
    secrets = json.loads(box.secrets.read_text())
    good, secrets["slack"]["alerts-general"] = (
        secrets["slack"]["alerts-general"],
        f"http://127.0.0.1:{_closed_port()}/x",
    )
    box.secrets.write_text(json.dumps(secrets))
    assert box.run("--resolve", "--key", "disk", "P4", "disk ok").returncode == 1
    assert box.entries()["disk"]["pending"] == "resolve"
    assert box.run("--key", "disk", "P3", "disk 86%").returncode == 0  # back before anyone heard of the recovery
    assert box.entries()["disk"]["pending"] is None
    assert box.run("--resolve", "--key", "disk", "P4", "disk ok").returncode == 1
    secrets["slack"]["alerts-general"] = good
    box.secrets.write_text(json.dumps(secrets))
    assert box.run("tick").returncode == 0
    assert box.entries() == {}
    texts = [json.loads(p["body"])["text"] for p in _slack_posts(recorder)]
    assert len(texts) == 2 and "RESOLVED" in texts[1] and "was: disk 86%" in texts[1]


# --- each routed channel gets each message once ------------------------------------------------------


def _break_slack(box, channel):
    """Point one Slack channel's webhook at a closed port; returns a function that mends it."""
    secrets = json.loads(box.secrets.read_text())
    good = secrets["slack"][channel]
    secrets["slack"][channel] = f"http://127.0.0.1:{_closed_port()}/hook"
    box.secrets.write_text(json.dumps(secrets))

    def mend():
        secrets["slack"][channel] = good
        box.secrets.write_text(json.dumps(secrets))

    return mend


def test_a_p2_slack_took_while_the_relay_refused_is_e_mailed_once_the_relay_is_back(tmp_path, recorder):
    box = AlertBox(tmp_path, recorder.url)
    box.relay_down()
    raised = box.run("--key", "disk", "P2", "disk 91%")
    assert raised.returncode == 0, raised.stdout  # delivered: Slack took it
    assert len(_slack_posts(recorder)) == 1 and box.mails() == 0
    owed = box.entries()["disk"]["owed"]
    assert owed == {"email": {"kind": "alert", "attempts": 1, "since": owed["email"]["since"]}}
    assert box.run("tick").returncode == 1  # the relay still refuses: still owed, still one Slack post
    assert box.entries()["disk"]["owed"]["email"]["attempts"] == 2 and len(_slack_posts(recorder)) == 1
    box.relay_up()
    assert box.run("tick").returncode == 0
    assert box.mails() == 1 and "disk 91%" in box.mail_bodies()[0]
    assert "this channel did not take it earlier" in box.mail_bodies()[0]
    assert "owed" not in box.entries()["disk"] and box.entries()["disk"]["pending"] is None
    for _ in range(2):
        assert box.run("tick").returncode == 0
    assert box.mails() == 1 and len(_slack_posts(recorder)) == 1  # nobody got it twice


def test_p1s_e_mailed_while_slack_was_unreachable_reach_slack_once_it_is_back(tmp_path, recorder):
    box = AlertBox(tmp_path, recorder.url)
    mend = _break_slack(box, "alerts-critical")
    assert box.run("--key", "api", "P1", "API down").returncode == 0
    assert box.run("--key", "db", "P1", "database down").returncode == 0
    assert box.mails() == 2 and _slack_posts(recorder) == []
    assert set(box.entries()["api"]["owed"]) == {"slack:alerts-critical"}
    mend()
    assert box.run("tick").returncode == 0
    texts = sorted(json.loads(p["body"])["text"] for p in _slack_posts(recorder))
    assert len(texts) == 2 and "API down" in texts[0] and "database down" in texts[1]
    assert box.run("tick").returncode == 0 and len(_slack_posts(recorder)) == 2 and box.mails() == 2


def test_a_channel_that_missed_an_alert_gets_its_recovery_instead_once_it_resolved(tmp_path, recorder):
    box = AlertBox(tmp_path, recorder.url)
    box.relay_down()
    assert box.run("--key", "disk", "P2", "disk 91%").returncode == 0
    assert box.run("--resolve", "--key", "disk", "P4", "disk 60%").returncode == 0  # Slack took the recovery
    entry = box.entries()["disk"]
    assert entry["resolved"] and entry["owed"]["email"]["kind"] == "resolve"
    box.relay_up()
    assert box.run("tick").returncode == 0
    [body] = box.mail_bodies()
    assert "RESOLVED P2" in body and "disk 60%" in body  # the recovery, not the stale alert
    assert box.entries() == {}
    assert [("RESOLVED" in json.loads(p["body"])["text"]) for p in _slack_posts(recorder)] == [False, True]


def test_a_resolved_alert_raised_again_while_a_channel_owes_its_recovery_is_a_new_alert(tmp_path, recorder):
    box = AlertBox(tmp_path, recorder.url)
    box.relay_down()
    box.run("--key", "disk", "P2", "disk 91%")
    box.run("--resolve", "--key", "disk", "P4", "disk 60%")
    relapse = box.run("--key", "disk", "P2", "disk 95%")
    assert relapse.returncode == 0 and "send P2" in relapse.stdout
    entry = box.entries()["disk"]
    assert not entry.get("resolved") and entry["owed"]["email"]["kind"] == "alert"
    assert len(_slack_posts(recorder)) == 3  # alert, recovery, the new alert


def test_a_report_a_channel_missed_is_sent_to_that_channel_alone(tmp_path, recorder):
    box = AlertBox(tmp_path, recorder.url, routes={**ROUTES, "P4": {"slack": ["alerts-general"], "email": True}})
    box.relay_down()
    assert box.run("--report", "P4", "Daily summary").returncode == 0
    [(key, entry)] = box.entries().items()
    assert entry["kind"] == "report" and set(entry["owed"]) == {"email"}
    box.relay_up()
    assert box.run("tick").returncode == 0
    assert box.mails() == 1 and len(_slack_posts(recorder)) == 1 and box.entries() == {}


def test_a_repeat_a_channel_missed_is_retried_on_that_channel_with_its_number(tmp_path, recorder, module, monkeypatch):
    box = AlertBox(tmp_path, recorder.url, sms_to="+4915112345678")
    t0 = box.now
    assert box.call(module, monkeypatch, "--key", "api", "P1", "API down", at=t0) == 0
    mend = _break_slack(box, "alerts-critical")
    box.call(module, monkeypatch, "tick", at=t0 + 15 * MINUTE)  # REPEAT 1: e-mail and SMS take it, Slack fails
    assert box.mails() == 2 and box.entries()["api"]["owed"]["slack:alerts-critical"]["kind"] == "repeat"
    sms_before = len(_sms(recorder))
    mend()
    box.call(module, monkeypatch, "tick", at=t0 + 16 * MINUTE)
    posts = _slack_posts(recorder)
    assert len(posts) == 2 and "REPEAT 1" in json.loads(posts[1]["body"])["text"]
    assert box.mails() == 2 and len(_sms(recorder)) == sms_before  # only Slack was owed
    assert box.entries()["api"]["repeats"] == 1 and "owed" not in box.entries()["api"]


def test_a_channel_is_given_up_on_after_a_day(tmp_path, recorder, module, monkeypatch):
    box = AlertBox(tmp_path, recorder.url)
    box.relay_down()
    t0 = box.now
    box.call(module, monkeypatch, "--key", "disk", "P3", "disk 85%", at=t0)
    box.call(module, monkeypatch, "--resolve", "--key", "disk", "P4", "disk ok", at=t0 + MINUTE)
    routes = {**ROUTES, "P3": {"slack": ["alerts-general"], "email": True, "sms": False}}
    box.config.write_text(json.dumps({**json.loads(box.config.read_text()), "routes": routes}))
    box.call(module, monkeypatch, "--key", "cpu", "P3", "cpu 90%", at=t0 + 2 * MINUTE)
    assert set(box.entries()["cpu"]["owed"]) == {"email"}
    box.call(module, monkeypatch, "tick", at=t0 + 25 * 3600)
    assert "owed" not in box.entries()["cpu"] and "gave-up" in " ".join(box.log())
    assert box.mails() == 0


# --- escalation: repeats, SMS, ack (fake clock) ---------------------------------------------------------


def test_an_open_p1_is_repeated_every_15_minutes_with_sms_until_acknowledged(tmp_path, recorder, module, monkeypatch):
    box = AlertBox(
        tmp_path, recorder.url, sms_to="+4915112345678", routes={**ROUTES, "P1": {**ROUTES["P1"], "sms": False}}
    )
    t0 = box.now
    assert box.call(module, monkeypatch, "--key", "api", "P1", "API down", at=t0) == 0
    assert len(_slack_posts(recorder)) == 1 and _sms(recorder) == []  # the route sends no SMS at first
    for minutes in (1, 5, 14):
        box.call(module, monkeypatch, "tick", at=t0 + minutes * MINUTE)
    assert len(_slack_posts(recorder)) == 1
    box.call(module, monkeypatch, "tick", at=t0 + 14.6 * MINUTE)  # due within the tick's half minute of grace
    posts = _slack_posts(recorder)
    assert len(posts) == 2 and "REPEAT 1" in json.loads(posts[1]["body"])["text"]
    assert "`send-alert ack api`" in json.loads(posts[1]["body"])["text"]
    assert len(_sms(recorder)) == 1  # escalated: the repeat goes by SMS too
    assert box.mails() == 2
    box.call(module, monkeypatch, "tick", at=t0 + 20 * MINUTE)
    assert len(_slack_posts(recorder)) == 2
    box.call(module, monkeypatch, "tick", at=t0 + 30 * MINUTE)
    assert len(_slack_posts(recorder)) == 3 and "REPEAT 2" in _slack_posts(recorder)[2]["body"]
    monkeypatch.setenv("SUDO_USER", "alice")
    assert box.call(module, monkeypatch, "ack", "api", at=t0 + 31 * MINUTE) == 0
    ack = json.loads(_slack_posts(recorder)[3]["body"])["text"]
    assert "acknowledged by alice" in ack
    for minutes in (45, 60, 120):
        box.call(module, monkeypatch, "tick", at=t0 + minutes * MINUTE)
    assert len(_slack_posts(recorder)) == 4 and len(_sms(recorder)) == 2
    assert box.entries()["api"]["acked"]["by"] == "alice"  # acknowledged, still open
    box.call(module, monkeypatch, "--resolve", "--key", "api", "P4", "API healthy", at=t0 + 121 * MINUTE)
    assert "RESOLVED P1" in _slack_posts(recorder)[4]["body"] and box.entries() == {}


def test_a_repeat_stops_when_the_alert_resolves(tmp_path, recorder, module, monkeypatch):
    box = AlertBox(tmp_path, recorder.url)
    t0 = box.now
    box.call(module, monkeypatch, "--key", "api", "P1", "API down", at=t0)
    box.call(module, monkeypatch, "tick", at=t0 + 15 * MINUTE)
    box.call(module, monkeypatch, "--resolve", "--key", "api", "P4", "API healthy", at=t0 + 16 * MINUTE)
    for minutes in (30, 45, 90):
        box.call(module, monkeypatch, "tick", at=t0 + minutes * MINUTE)
    texts = [json.loads(p["body"])["text"] for p in _slack_posts(recorder)]
    assert len(texts) == 3 and "REPEAT 1" in texts[1] and "RESOLVED" in texts[2]


@pytest.mark.parametrize("tier, repeats", [("P2", [60, 120]), ("P3", []), ("P4", [])])
def test_p2_is_repeated_hourly_and_p3_p4_never(tmp_path, recorder, module, monkeypatch, tier, repeats):
    box = AlertBox(tmp_path, recorder.url)
    t0 = box.now
    box.call(module, monkeypatch, "--key", "k", tier, "something", at=t0)
    sent_at = []
    for minute in range(5, 150, 5):  # the tick runs every minute; every fifth is enough to see the hours
        before = len(_slack_posts(recorder))
        box.call(module, monkeypatch, "tick", at=t0 + minute * MINUTE)
        if len(_slack_posts(recorder)) > before:
            sent_at.append(minute)
    assert sent_at == repeats


def test_a_new_tier_after_an_ack_is_sent_and_repeated_again(tmp_path, recorder, module, monkeypatch):
    box = AlertBox(tmp_path, recorder.url)
    t0 = box.now
    box.call(module, monkeypatch, "--key", "disk", "P2", "disk 91%", at=t0)
    box.call(module, monkeypatch, "ack", "disk", at=t0 + MINUTE)
    box.call(module, monkeypatch, "--key", "disk", "P1", "disk 99%", at=t0 + 2 * MINUTE)
    assert box.entries()["disk"]["acked"] is None and box.entries()["disk"]["first"] == t0
    box.call(module, monkeypatch, "tick", at=t0 + 17 * MINUTE)
    assert "REPEAT 1" in _slack_posts(recorder)[-1]["body"] and "[P1]" in _slack_posts(recorder)[-1]["body"]


def test_ack_of_an_unknown_key_names_the_open_ones(tmp_path, recorder, module, monkeypatch, capsys):
    box = AlertBox(tmp_path, recorder.url)
    box.call(module, monkeypatch, "--key", "api", "P1", "API down")
    assert box.call(module, monkeypatch, "ack", "apii") == 1
    assert "no open alert with key apii (open: api)" in capsys.readouterr().out


def test_decide_due_and_prune_are_pure():
    module = _load_module()
    state = {"k": {"tier": "P2", "message": "m", "first": 0, "last_sent": 100, "explicit": True}}
    assert module.decide(state, "k", "P2", False, 150, 60) == ("suppress", "P2")
    assert module.decide(state, "k", "P2", False, 161, 60) == ("suppress", "P2")  # open until resolved
    assert module.decide(state, "k", "P1", False, 150, 60) == ("send", "P1")
    assert module.decide(state, "k", "P4", True, 150, 60) == ("resolve", "P2")
    assert module.decide({}, "k", "P4", True, 150, 60) == ("noop", "P4")
    auto = {"a": {"tier": "P4", "last_sent": 100, "explicit": False}}
    assert module.decide(auto, "a", "P4", False, 150, 60) == ("suppress", "P4")
    assert module.decide(auto, "a", "P4", False, 161, 60) == ("send", "P4")
    pending = {"p": {"tier": "P3", "last_sent": None, "explicit": False, "pending": "alert"}}
    assert set(module.prune({**auto, **state, **pending}, 1000, 60)) == {"k", "p"}
    escalation = {"P2": {"repeat_minutes": 60, "sms": False}}
    assert module.due(state["k"], 100 + 3600 - 31, escalation) is None
    assert module.due(state["k"], 100 + 3600 - 30, escalation) == "repeat"
    assert module.due({**state["k"], "acked": {"by": "x"}}, 10**6, escalation) is None
    assert module.due(pending["p"], 0, escalation) == "retry"


# --- the e-mail relay's configuration ---------------------------------------------------------------------


def _msmtprc(**variables) -> str:
    import jinja2

    from louieops.resources import template

    base = {
        "managed": "Managed by louieops (test)",
        "alert_smtp_host": "smtp.example.com",
        "alert_smtp_port": 587,
        "alert_smtp_tls": "starttls",
        "alert_smtp_user": None,
        "alert_smtp_ca_file": "/etc/ssl/certs/ca-certificates.crt",
        "alert_email_from": "alerts@example.com",
        "password": None,
        "timeout": 15,
    }
    text = open(template("alerts/msmtprc.j2")).read()
    return jinja2.Template(text, undefined=jinja2.StrictUndefined).render(**{**base, **variables})


def test_the_relay_sends_to_the_smarthost_over_starttls_and_logs_in_when_told():
    from tasks.alerts import msmtp_quote

    plain = _msmtprc()
    assert "host smtp.example.com\nport 587\ntls on\ntls_starttls on\n" in plain and "auth off" in plain
    assert "account default : louieops" in plain and "password" not in plain
    login = _msmtprc(alert_smtp_tls="tls", alert_smtp_user="ops", password=msmtp_quote('p w"x'))
    assert "tls_starttls off" in login and 'auth on\nuser ops\npassword "p w"x"\n' in login
    assert "tls off" in _msmtprc(alert_smtp_tls="none") and "tls_trust_file" not in _msmtprc(alert_smtp_tls="none")


def test_a_password_msmtprc_cannot_hold_is_refused():
    from pyinfra.api.exceptions import DeployError

    from tasks.alerts import msmtp_quote

    with pytest.raises(DeployError, match="ALERT_SMTP_PASSWORD holds a line break"):
        msmtp_quote("one\ntwo")
