"""The SaaS reconciles' request budget, against the HTTP stand-ins of UptimeRobot and Sentry (tests/standins,
which follow the official OpenAPI documents) on 127.0.0.1, with a fake clock so that rate-limit waits cost
no real time:

- requests a no-op reconcile sends (after a first run has created everything), per service;
- creating 100 monitors under UptimeRobot's free plan (10 requests a minute, enforced by the stand-in with
  429 answers): the simulated time, the requests and the 429s met.

    python -m benchmarks.saas_bench

Prints a table; asserts nothing.
"""

from __future__ import annotations

import os
import sys

from benchmarks.table import Row, render
from tests.standins.fixtures import (
    SLACK,
    SLACK_WEBHOOK_ENV,
    FakeClock,
    project_settings,
    run,
    sentry_reconciler,
    uptimerobot_reconciler,
)
from tests.standins.sentry import SentryStandIn
from tests.standins.uptimerobot import UptimeRobotStandIn

SECTION = "SaaS"
FREE_PLAN_PER_MINUTE = 10
MONITORS = 100


def noop_requests_uptimerobot() -> tuple[int, int]:
    """(requests of the first run, requests of the no-op run after it) with the project's settings."""
    clock = FakeClock()
    with UptimeRobotStandIn(clock=clock) as standin:
        settings = project_settings(uptimerobot_api_url=standin.url)
        run(uptimerobot_reconciler(standin, clock, settings))
        first = standin.counts().total()
        standin.reset_records()
        run(uptimerobot_reconciler(standin, clock, settings))
        return first, standin.counts().total()


def noop_requests_sentry() -> tuple[int, int]:
    clock = FakeClock()
    with SentryStandIn(clock=clock) as standin:
        settings = project_settings(sentry_api_url=standin.url, **SLACK)
        run(sentry_reconciler(standin, clock, settings))
        first = standin.counts().total()
        standin.reset_records()
        run(sentry_reconciler(standin, clock, settings))
        return first, standin.counts().total()


def hundred_monitors() -> tuple[float, int, int]:
    """(simulated seconds, requests, 429 answers) to create 100 monitors at the free plan's rate."""
    clock = FakeClock()
    with UptimeRobotStandIn(rate_limit=FREE_PLAN_PER_MINUTE, clock=clock) as standin:
        template = project_settings().uptimerobot_monitors[0]
        monitors = [
            dict(template, name=f"bench monitor {i:03}", url=f"https://{i}.simplylouie.test") for i in range(MONITORS)
        ]
        settings = project_settings(
            uptimerobot_api_url=standin.url,
            uptimerobot_monitors=monitors,
            uptimerobot_requests_per_minute=FREE_PLAN_PER_MINUTE,
            uptimerobot_maintenance_windows=[],
            uptimerobot_status_page=None,
        )
        started = clock()
        run(uptimerobot_reconciler(standin, clock, settings))
        throttled = sum(1 for r in standin.recorded if r.status == 429)
        return clock() - started, standin.counts().total(), throttled


def rows(argv: list[str]) -> list[Row]:
    # The Slack alert contact is created with a webhook secret from the environment.
    os.environ.update({k: v for k, v in SLACK_WEBHOOK_ENV.items() if k not in os.environ})
    ur_first, ur_noop = noop_requests_uptimerobot()
    sentry_first, sentry_noop = noop_requests_sentry()
    seconds, requests, throttled = hundred_monitors()
    return [
        Row(
            SECTION, "UptimeRobot no-op reconcile", f"{ur_noop} requests", f"first run on an empty account: {ur_first}"
        ),
        Row(
            SECTION,
            "Sentry no-op reconcile",
            f"{sentry_noop} requests",
            f"first run on an empty account: {sentry_first}",
        ),
        Row(
            SECTION,
            f"{MONITORS} monitors created at {FREE_PLAN_PER_MINUTE} requests/min",
            f"{seconds / 60:.1f} min",
            f"{requests} requests, {throttled} answered 429 (simulated clock; the least the limit allows "
            f"for {requests} requests: {(requests - 1) // FREE_PLAN_PER_MINUTE} min)",
        ),
    ]


def main(argv: list[str]) -> int:
    print(render(rows(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
