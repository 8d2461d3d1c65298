"""Alert routing. (Placeholder: this step is being written; it provisions nothing yet.)"""

from __future__ import annotations

from pyinfra.api import deploy


@deploy("Alert routing")
def install_alert_routing():
    pass
