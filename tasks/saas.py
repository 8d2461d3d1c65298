"""External monitors. (Placeholder: this step is being written; it provisions nothing yet.)"""

from __future__ import annotations

from pyinfra.api import deploy


@deploy("External monitors")
def register_external_monitors():
    pass
