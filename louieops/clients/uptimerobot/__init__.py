"""UptimeRobot (API v3): alert contacts, monitors (reconciled by exact name and a managed tag), maintenance
windows and public status pages."""

from __future__ import annotations

from ..http import HttpClient, RateLimiter
from .client import UptimeRobotClient
from .contacts import ContactRef
from .models import MonitorSpec
from .pages import StatusPageSpec, WindowSpec
from .reconcile import Reconciler

__all__ = [
    "ContactRef",
    "MonitorSpec",
    "Reconciler",
    "StatusPageSpec",
    "UptimeRobotClient",
    "WindowSpec",
    "make_client",
]


def make_client(api_url: str, api_key: str, requests_per_minute: int, **transport) -> UptimeRobotClient:
    """A client with the plan's client-side rate limit. ``transport`` goes to HttpClient (sleep, clock, ...)."""
    limiter = RateLimiter(requests_per_minute, **{k: transport[k] for k in ("clock", "sleep") if k in transport})
    return UptimeRobotClient(HttpClient(api_url, api_key, limiter=limiter, **transport))
