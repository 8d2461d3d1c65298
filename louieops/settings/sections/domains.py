"""The public names."""

from __future__ import annotations

from ..rules import domain

HEADING = "Domains"
RULES = {
    "domain_homepage": domain,
    "domain_api": domain,
    "domain_admin": domain,
    "domain_websocket": domain,
}
