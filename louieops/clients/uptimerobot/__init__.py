"""UptimeRobot (API v3): monitors reconciled by exact name and a managed tag."""

from __future__ import annotations

from ..http import HttpClient, RateLimiter
from .client import UptimeRobotClient
from .models import ContactRef, MonitorSpec
from .reconcile import Executor, reconcile_plan

__all__ = ["ContactRef", "Executor", "MonitorSpec", "UptimeRobotClient", "make_client", "reconcile_plan"]


def make_client(api_url: str, api_key: str, requests_per_minute: int, **transport) -> UptimeRobotClient:
    """A client with the plan's client-side rate limit. ``transport`` goes to HttpClient (sleep, clock, ...)."""
    limiter = RateLimiter(requests_per_minute, **{k: transport[k] for k in ("clock", "sleep") if k in transport})
    return UptimeRobotClient(HttpClient(api_url, api_key, limiter=limiter, **transport))
