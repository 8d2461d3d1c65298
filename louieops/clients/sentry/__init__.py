"""Sentry: issue alerts and KPI metric monitors, reconciled by exact (prefixed) name."""

from __future__ import annotations

from ..http import HttpClient
from .client import SentryClient
from .models import IssueAlertSpec, MetricMonitorSpec, Route
from .reconcile import API_MODES, Reconciler

__all__ = ["API_MODES", "IssueAlertSpec", "MetricMonitorSpec", "Reconciler", "Route", "SentryClient", "make_client"]


def make_client(api_url: str, token: str, org: str, project: str, **transport) -> SentryClient:
    return SentryClient(HttpClient(api_url, token, **transport), org, project)
