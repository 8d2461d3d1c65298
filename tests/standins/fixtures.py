"""Helpers the SaaS tests share: the project's settings with overrides, a fake clock, ready-made clients."""

from __future__ import annotations

import runpy
from functools import lru_cache
from pathlib import Path

from louieops.clients import sentry, uptimerobot
from louieops.settings import validate

from .base import StandIn

ALL_PY = Path(__file__).resolve().parents[2] / "inventory" / "group_data" / "all.py"
SLACK = {
    "sentry_slack_integration_id": "24680",
    "sentry_slack_channel_ids": {
        "alerts-critical": "C0CRIT001",
        "alerts-high": "C0HIGH001",
        "alerts-general": "C0GENE001",
    },
}


@lru_cache(maxsize=1)
def _defaults() -> dict:
    return {k: v for k, v in runpy.run_path(str(ALL_PY)).items() if not k.startswith("__")}


def project_settings(**overrides):
    """The validated settings of all.py with ``overrides`` (raises SettingsError like a deploy would)."""
    return validate({**_defaults(), **overrides})


class FakeClock:
    """``clock()`` and ``sleep(seconds)`` that only advance a number: rate-limit waits take no real time."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(seconds, 0)


def uptimerobot_client(standin: StandIn, clock: FakeClock, per_minute: int = 10, read_timeout: float = 2.0):
    return uptimerobot.make_client(
        standin.url, StandIn.TOKEN, per_minute, clock=clock, sleep=clock.sleep, timeout=(2.0, read_timeout)
    )


def sentry_client(standin: StandIn, settings, clock: FakeClock, read_timeout: float = 2.0):
    return sentry.make_client(
        standin.url,
        StandIn.TOKEN,
        settings.sentry_org,
        settings.sentry_project,
        clock=clock,
        sleep=clock.sleep,
        timeout=(2.0, read_timeout),
    )
