"""The shared transport: retry policy, Retry-After, rate limiter, typed errors and redaction.

Runs against the UptimeRobot stand-in on 127.0.0.1 with scripted faults; time is a fake clock."""

from __future__ import annotations

import logging

import pytest

from louieops.clients.http import ApiError, HttpClient, RateLimiter, redact
from tests.standins.fixtures import FakeClock
from tests.standins.uptimerobot import UptimeRobotStandIn

TOKEN = UptimeRobotStandIn.TOKEN


@pytest.fixture
def standin():
    with UptimeRobotStandIn() as server:
        yield server


def client(standin, clock, **options) -> HttpClient:
    return HttpClient(standin.url, TOKEN, clock=clock, sleep=clock.sleep, random=lambda: 1.0, **options)


def sent(standin, method, template):
    return standin.counts()[f"{method} {template}"]


def test_get_is_retried_after_5xx_with_full_jitter_backoff(standin, clock):
    standin.faults.add("500", method="GET", path="/monitors", times=2)
    assert client(standin, clock).json("GET", "/monitors")["data"] == []
    assert sent(standin, "GET", "/monitors") == 3
    assert clock.sleeps == [1.0, 2.0]  # random()=1.0: the cap of base * 2**attempt


def test_post_is_never_replayed_after_5xx_or_a_timeout(standin, clock):
    standin.faults.add("500", method="POST", path="/monitors")
    with pytest.raises(ApiError) as failed:
        client(standin, clock).json("POST", "/monitors", json_body={})
    assert failed.value.status == 500 and failed.value.is_transient
    standin.faults.add("slow", method="POST", path="/monitors", delay=0.5)
    with pytest.raises(ApiError) as timed_out:
        client(standin, clock, timeout=(2, 0.2)).json("POST", "/monitors", json_body={})
    assert timed_out.value.status is None
    assert timed_out.value.__cause__ is not None  # chained with raise ... from
    assert sent(standin, "POST", "/monitors") == 2


def test_429_is_retried_for_any_method_after_retry_after(standin, clock):
    standin.faults.add("429", method="POST", path="/monitors", times=2, retry_after=13)
    body = {"friendlyName": "x", "type": "HTTP", "url": "https://x.example", "interval": 300, "timeout": 30}
    created = client(standin, clock).json("POST", "/monitors", json_body=body)
    assert created["friendlyName"] == "x"
    assert clock.sleeps == [13.0, 13.0]
    assert len(standin.by_name("x")) == 1


def test_429_with_a_limiter_blocks_later_requests_too(standin, clock):
    limiter = RateLimiter(100, clock=clock, sleep=clock.sleep)
    standin.faults.add("429", method="GET", path="/monitors", retry_after=40)
    http = client(standin, clock, limiter=limiter)
    http.json("GET", "/monitors")
    assert clock.sleeps == [40.0]


def test_gone_and_other_4xx_are_raised_at_once(standin, clock):
    standin.faults.add("status", method="GET", path="/monitors", status=410, body="gone")
    with pytest.raises(ApiError) as gone:
        client(standin, clock).json("GET", "/monitors")
    assert gone.value.is_gone and not gone.value.is_transient
    with pytest.raises(ApiError) as missing:
        client(standin, clock).json("PATCH", "/monitors/1", json_body={})
    assert missing.value.is_not_found and missing.value.code == "000-004"
    assert sent(standin, "GET", "/monitors") == 1 and clock.sleeps == []


def test_limiter_allows_the_budget_per_sliding_minute():
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    for _ in range(25):
        limiter.acquire()
        clock.now += 1
    assert clock.sleeps == [50.0, 50.0]  # 10 at t=0..9, wait to t=60, 10 more, wait to t=120
    assert limiter.waited == 100.0


def test_the_token_is_never_logged_or_shown(standin, clock, caplog):
    standin.faults.add("500", method="GET", path="/monitors")
    http = client(standin, clock)
    with caplog.at_level(logging.DEBUG, logger="louieops.http"):
        http.json("GET", "/monitors")
    assert TOKEN not in caplog.text and TOKEN not in repr(http)
    assert "GET /monitors attempt 1" in caplog.text


def test_bad_token_is_a_typed_401(standin, clock):
    with pytest.raises(ApiError) as failed:
        HttpClient(standin.url, "wrong", clock=clock, sleep=clock.sleep).json("GET", "/monitors")
    assert failed.value.status == 401 and "wrong" not in str(failed.value)


def test_redact_hides_secret_keys_at_any_depth():
    assert redact({"apiKey": "a", "nested": [{"httpPassword": "b", "url": "https://x"}], "token": "c"}) == {
        "apiKey": "***",
        "nested": [{"httpPassword": "***", "url": "https://x"}],
        "token": "***",
    }
