"""Settings of a deploy to several servers (roles from the inventory's groups: louieops/topology.py)."""

from __future__ import annotations

import ipaddress

from ..rules import Invalid, integer, optional, string

HEADING = "Several servers (roles)"


def ip_address(value):
    """an IPv4 or IPv6 address"""
    try:
        return str(ipaddress.ip_address(value))
    except (TypeError, ValueError):
        raise Invalid("an IPv4 or IPv6 address") from None


RULES = {
    "private_address": optional(ip_address),
    "cluster_name": optional(
        string(r"[a-z0-9][a-z0-9-]{0,39}", "a lower-case name of letters, digits and '-' (max 40)")
    ),
    "standby_apply_delay_minutes": integer(0, 1440),
}
