"""Settings of the deploy itself: the lock that keeps two deploys of one server apart."""

from __future__ import annotations

from ..rules import integer

HEADING = "Deploys (one at a time, CI)"
RULES = {
    "deploy_lock_wait_seconds": integer(0, 86400),
    "deploy_lock_stale_seconds": integer(15, 3600),
}
