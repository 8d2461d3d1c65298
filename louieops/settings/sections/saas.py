"""UptimeRobot and Sentry settings (the monitor and alert objects are validated by their reconcilers)."""

from __future__ import annotations

from ..rules import boolean, integer, list_of, one_of, string, url

_slug = string(r"[a-z0-9][a-z0-9_-]*", "a lower-case slug")

RULES = {
    "uptimerobot_api_url": url,
    "uptimerobot_requests_per_minute": integer(1, 10000),
    "uptimerobot_prune": boolean,
    "uptimerobot_monitors": list_of(lambda item: item),
    "sentry_api_url": url,
    "sentry_org": _slug,
    "sentry_project": _slug,
    "sentry_api_mode": one_of("auto", "workflows", "legacy"),
    "sentry_prune": boolean,
}
