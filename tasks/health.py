"""Health check. (Placeholder: this step is being written; it provisions nothing yet.)"""

from __future__ import annotations

from pyinfra.api import deploy


@deploy("Health check")
def install_health_check():
    pass
