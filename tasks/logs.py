"""Log shipping. (Placeholder: this step is being written; it provisions nothing yet.)"""

from __future__ import annotations

from pyinfra.api import deploy


@deploy("Log shipping")
def ship_logs():
    pass
