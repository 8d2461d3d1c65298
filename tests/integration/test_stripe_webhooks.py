"""The daily Stripe webhook check (files/scripts/louieops_stripe.py, `louieops-maintenance stripe-webhooks`)
against the Stripe stand-in (tests/standins/stripe.py, which follows Stripe's OpenAPI document): a disabled
endpoint is a P1, events whose delivery failed since the last run a P2 naming the count and the types, both
resolved when fixed; every page of a long list is read; 429s are waited out; a missing or refused key, a
denied permission and an unreachable API are "could not check" (P3), never "all good". Through the deployed
server, with the stand-in on the test server's peer: tests/e2e/test_observability.py."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from louieops import server_scripts
from louieops.resources import file
from tests.standins.stripe import Stripe
from tests.unit.helpers import default_settings, json_send_alert_recorder, load_script

KEY = "rk_test_louieops"
SCRIPT = file("scripts/louieops-maintenance")
NOW = 1_796_000_000  # the check's clock; the stand-in's objects are stamped relative to it


@pytest.fixture(scope="module")
def stripe_check():
    return load_script(file("scripts/louieops_stripe.py"), "louieops_stripe")


@pytest.fixture
def stripe():
    with Stripe(token=KEY, clock=lambda: NOW) as server:
        yield server


def config_for(stripe, key=KEY):
    return server_scripts.stripe_config(default_settings(maintenance_stripe_api_url=stripe.url), key)


class Run:
    """One call of the check with a recorded ``send`` and ``sleep``; the state carries over between calls."""

    def __init__(self, module, config):
        self.module, self.config, self.state = module, config, {}
        self.sent: list[tuple] = []
        self.slept: list[float] = []

    def __call__(self, now=NOW):
        self.sent = []
        status, summary, self.state = self.module.check(
            self.config, self.state, lambda *call: self.sent.append(call), now=now, sleep=self.slept.append
        )
        return status, summary

    def alerts(self):
        return {key: (tier, message) for tier, message, key, resolve in self.sent if not resolve}

    def resolved(self):
        return {key for tier, message, key, resolve in self.sent if resolve}


def test_a_disabled_endpoint_is_a_p1_naming_it_and_is_resolved_when_enabled(stripe_check, stripe):
    good = stripe.add_endpoint("https://api.simplylouie.com/webhooks/stripe")
    bad = stripe.add_endpoint("https://api.simplylouie.com/webhooks/old", status="disabled")
    run = Run(stripe_check, config_for(stripe))

    status, summary = run()

    assert status == 1
    tier, message = run.alerts()[f"stripe:endpoint:{bad['id']}"]
    assert tier == "P1" and "https://api.simplylouie.com/webhooks/old" in message and "is disabled" in message
    assert f"stripe:endpoint:{good['id']}" not in run.alerts()
    assert summary.startswith("2 webhook endpoint(s), 1 enabled, 1 disabled; 0 new event(s)")
    assert {"stripe:check", "stripe:deliveries"} <= run.resolved()

    stripe.set_status(bad["id"], "enabled")
    status, _ = run(NOW + 86400)
    assert status == 0 and run.alerts() == {}
    assert f"stripe:endpoint:{bad['id']}" in run.resolved()


def test_failed_deliveries_since_the_last_run_are_a_p2_with_count_and_types_over_every_page(stripe_check, stripe):
    stripe.add_endpoint("https://api.simplylouie.com/webhooks/stripe")
    stripe.add_event("invoice.paid", delivered=False, created=NOW - 2 * 86400)  # before the first run's day
    for _ in range(160):
        stripe.add_event("invoice.paid", delivered=False, created=NOW - 3600)
    for _ in range(75):
        stripe.add_event("customer.subscription.deleted", delivered=False, created=NOW - 1000)
    for _ in range(30):
        stripe.add_event("charge.succeeded", delivered=True, created=NOW - 1000)
    stripe.add_event("invoice.created", delivered=False, created=NOW - 60)  # on its first attempt: the next run's
    run = Run(stripe_check, config_for(stripe))
    settled = NOW - stripe_check.SETTLE

    status, summary = run()

    assert status == 1
    tier, message = run.alerts()["stripe:deliveries"]
    assert tier == "P2"
    assert "235 new event(s) since 2026-11-29 00:38 UTC" in message, message
    assert "(160 invoice.paid, 75 customer.subscription.deleted); 236 undelivered in the last 3 days" in message
    pages = [r for r in stripe.recorded if r.template == "/v1/events"]
    assert len(pages) == 3 and all(r.query["limit"] == ["100"] for r in pages)
    assert pages[0].query["delivery_success"] == ["false"]
    assert pages[0].query["created[gt]"] == [str(settled - 3 * 86400)] and pages[0].query["created[lte]"] == [
        str(settled)
    ]
    assert "starting_after" not in pages[0].query
    assert pages[1].query["starting_after"] == [pages[0].answer["data"][-1]["id"]]

    # the next day: only what is new since the last run is counted as new; the rest still fails
    status, _ = run(NOW + 86400)
    assert status == 1
    assert "1 new event(s) since" in run.alerts()["stripe:deliveries"][1]
    assert "(1 invoice.created); 237 undelivered" in run.alerts()["stripe:deliveries"][1]
    # Stripe's retries went through (the handler was fixed): nothing undelivered is left, the alert resolves
    for event in stripe.events:
        event["_delivered"] = True
    status, summary = run(NOW + 2 * 86400)
    assert status == 0 and "stripe:deliveries" in run.resolved(), run.sent
    assert summary.endswith("0 undelivered in 3 days")


def test_an_undelivered_event_keeps_the_alert_open_until_stripe_stops_retrying(stripe_check, stripe):
    stripe.add_event("invoice.paid", delivered=False, created=NOW - 3600)
    run = Run(stripe_check, config_for(stripe))
    assert run()[0] == 1
    status, _ = run(NOW + 86400)  # nothing new, but it still fails: open, not resolved
    assert status == 1 and "stripe:deliveries" not in run.resolved()
    assert "no new failed delivery since" in run.alerts()["stripe:deliveries"][1]
    status, _ = run(NOW + 4 * 86400)  # past Stripe's 3 days of retries
    assert status == 0 and "stripe:deliveries" in run.resolved()


def test_more_failed_events_than_pages_are_still_a_p2_saying_at_least(stripe_check, stripe, monkeypatch):
    monkeypatch.setattr(stripe_check, "MAX_PAGES", 2)
    for _ in range(250):
        stripe.add_event("invoice.paid", delivered=False, created=NOW - 3600)
    run = Run(stripe_check, config_for(stripe))
    status, _ = run()
    assert status == 1 and "at least 200 new event(s)" in run.alerts()["stripe:deliveries"][1]
    assert run.state["checked_until"] == NOW - stripe_check.SETTLE  # the window moves on


def test_rate_limits_are_waited_out_with_backoff_and_a_persistent_one_is_could_not_check(stripe_check, stripe):
    stripe.add_endpoint("https://api.simplylouie.com/webhooks/stripe")
    run = Run(stripe_check, config_for(stripe))
    stripe.limited = 3

    status, _ = run()

    assert status == 0 and run.slept == [0.5, 1.0, 2.0]  # no Retry-After from Stripe: exponential backoff
    assert [r.status for r in stripe.recorded][:4] == [429, 429, 429, 200]

    stripe.limited = 100
    status, summary = run(NOW + 60)
    assert status == 3
    tier, message = run.alerts()["stripe:check"]
    assert tier == "P3" and "answered 429 after 6 tries: Request rate limit exceeded" in message, message
    assert summary.startswith("could not check: ")
    assert run.state["checked_until"] == NOW - stripe_check.SETTLE  # the window stays open for the next run


@pytest.mark.parametrize(
    ("case", "needle"),
    [
        ("no key", "no restricted Stripe key on this server: export STRIPE_RESTRICTED_KEY"),
        ("wrong key", "Stripe refused the key (401: Invalid API Key provided"),
        ("no permission", "the key may not read /v1/events (403: "),
        ("unreachable", "GET /v1/webhook_endpoints failed: "),
    ],
)
def test_a_check_that_cannot_run_is_a_p3_saying_why_never_all_good(stripe_check, stripe, case, needle):
    config = config_for(stripe, key={"no key": None, "wrong key": "rk_test_wrong"}.get(case, KEY))
    if case == "no permission":
        stripe.denied = {"/v1/events"}
    if case == "unreachable":
        config = {**config, "api_url": "http://127.0.0.1:1", "retries": 1}
    run = Run(stripe_check, config)

    status, summary = run()

    assert status == 3 and list(run.alerts()) == ["stripe:check"], run.sent
    assert needle in run.alerts()["stripe:check"][1], run.alerts()
    assert run.resolved() == set() and summary.startswith("could not check: ")


def job(tmp_path, stripe, *options, key=KEY):
    """`louieops-maintenance stripe-webhooks` as cron runs it, with a recording send-alert; (exit status,
    stdout, the alerts sent as argument lists, the state file or None)."""
    send_alert, sent = json_send_alert_recorder(tmp_path)
    config = {**server_scripts.maintenance_config(default_settings()), "send_alert": send_alert}
    config["state_dir"] = str(tmp_path)
    (tmp_path / "maintenance.json").write_text(json.dumps(config))
    (tmp_path / "stripe.json").write_text(json.dumps(config_for(stripe, key)))
    env = {
        **os.environ,
        "LOUIE_MAINTENANCE_CONFIG": str(tmp_path / "maintenance.json"),
        "LOUIE_STRIPE_CONFIG": str(tmp_path / "stripe.json"),
    }
    done = subprocess.run(
        ["python3", SCRIPT, "stripe-webhooks", *options], env=env, capture_output=True, text=True, timeout=60
    )
    alerts = sent()
    state = tmp_path / "stripe-webhooks.json"
    return done.returncode, done.stdout, alerts, json.loads(state.read_text()) if state.exists() else None


def test_the_job_alerts_through_send_alert_and_keeps_its_window_and_no_alert_only_prints(tmp_path):
    with Stripe(token=KEY) as stripe:  # the job runs on the real clock
        bad = stripe.add_endpoint("https://api.simplylouie.com/webhooks/old", status="disabled")
        quiet = tmp_path / "quiet"
        quiet.mkdir()

        status, out, alerts, state = job(quiet, stripe, "--no-alert")
        assert status == 1 and alerts == [] and state is None, (out, alerts)
        assert "P1: Stripe webhook endpoint https://api.simplylouie.com/webhooks/old" in out
        assert "stripe-webhooks: 1 webhook endpoint(s), 0 enabled, 1 disabled" in out

        status, out, alerts, state = job(tmp_path, stripe)
        assert status == 1, out
        keys = [a[:3] for a in alerts]
        assert ["--key", f"stripe:endpoint:{bad['id']}", "P1"] in keys, alerts
        assert ["--key", "stripe:check", "--resolve"] in keys and ["--key", "stripe:deliveries", "--resolve"] in keys
        assert state["disabled_endpoints"] == [bad["id"]] and state["checked_until"] > 0

        for line in (["stripe-webhooks", "--verbose"], ["load-test", "--no-alert"]):  # only this job has it
            done = subprocess.run(["python3", SCRIPT, *line], capture_output=True, text=True, timeout=30)
            assert done.returncode == 2 and "usage: louieops-maintenance" in done.stderr, done.stderr
