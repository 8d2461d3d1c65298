"""Helpers the SaaS tests share: the project's settings with overrides, a fake clock, ready-made clients and
reconcilers built from the settings as the pyinfra operations build them."""

from __future__ import annotations

import runpy
from functools import lru_cache
from pathlib import Path

from louieops.clients import sentry, uptimerobot
from louieops.clients.plan import Settle
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


#: The Slack webhook secrets of all.py's alert_slack_webhooks (a Slack alert contact is created with one).
SLACK_WEBHOOK_ENV = {
    "SLACK_WEBHOOK_CRITICAL": "https://hooks.slack.test/critical",
    "SLACK_WEBHOOK_HIGH": "https://hooks.slack.test/high",
    "SLACK_WEBHOOK_GENERAL": "https://hooks.slack.test/general",
}


def uptimerobot_reconciler(standin: StandIn, clock: FakeClock, settings, **client_options):
    """The reconciler the pyinfra operation builds, from ``settings``, on a client of the stand-in."""
    from tasks import saas

    return uptimerobot.Reconciler(
        uptimerobot_client(standin, clock, **client_options),
        saas.uptimerobot_monitors(settings),
        saas.uptimerobot_alert_contacts(settings),
        managed_tag=settings.uptimerobot_managed_tag,
        prune=settings.uptimerobot_prune,
        settle=Settle(settings.uptimerobot_settle_minutes * 60),
        windows=saas.uptimerobot_windows(settings),
        status_pages=saas.uptimerobot_status_pages(settings),
    )


def sentry_reconciler(standin: StandIn, clock: FakeClock, settings, **client_options):
    from tasks import saas

    return sentry.Reconciler(
        sentry_client(standin, settings, clock, **client_options),
        saas.sentry_issue_alerts(settings),
        saas.sentry_metric_monitors(settings),
        api_mode=settings.sentry_api_mode,
        name_prefix=settings.sentry_name_prefix,
        prune=settings.sentry_prune,
        settle=Settle(settings.sentry_settle_minutes * 60),
        cron_monitors=saas.sentry_cron_monitors(settings),
        cron_alert=saas.sentry_cron_alert(settings),
    )


def run(reconciler):
    """One run as the pyinfra operation does it: plan (lists), then apply every action."""
    plan = reconciler.plan()
    for action in plan.actions:
        reconciler.apply(action)
    return plan
