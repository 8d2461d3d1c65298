"""Sentry: issue alerts, KPI metric monitors and cron monitors, reconciled by exact (prefixed) name or slug."""

from __future__ import annotations

from ..http import HttpClient
from .client import SentryClient
from .crons import CronAlertSpec, CronMonitorSpec
from .models import IssueAlertSpec, MetricMonitorSpec, Route
from .reconcile import API_MODES, Reconciler

__all__ = [
    "API_MODES",
    "CronAlertSpec",
    "CronMonitorSpec",
    "IssueAlertSpec",
    "MetricMonitorSpec",
    "Reconciler",
    "Route",
    "SentryClient",
    "make_client",
]


def make_client(api_url: str, token: str, org: str, project: str, **transport) -> SentryClient:
    return SentryClient(HttpClient(api_url, token, **transport), org, project)
