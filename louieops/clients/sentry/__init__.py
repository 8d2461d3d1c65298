"""Sentry: issue alerts and KPI metric monitors declared in settings, reconciled by exact (prefixed) name."""

from __future__ import annotations

from ..http import HttpClient
from .client import SentryClient
from .reconcile import Reconciler

__all__ = ["Reconciler", "SentryClient", "make_client"]


def make_client(api_url: str, token: str, org: str, project: str, **transport) -> SentryClient:
    return SentryClient(HttpClient(api_url, token, **transport), org, project)
