"""Papertrail (settings API v1): saved searches, reconciled by exact name (create and adopt; the documented
API has no update or delete of a saved search, so drift is reported, not fixed)."""

from __future__ import annotations

from ..http import HttpClient
from .client import PapertrailClient
from .models import SearchSpec
from .reconcile import Reconciler

__all__ = ["PapertrailClient", "Reconciler", "SearchSpec", "make_client"]


def make_client(api_url: str, token: str, **transport) -> PapertrailClient:
    """A client that sends the token as Papertrail documents it (``X-Papertrail-Token``)."""
    return PapertrailClient(HttpClient(api_url, token, token_header="X-Papertrail-Token", token_prefix="", **transport))
