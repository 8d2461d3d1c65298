"""Node.js app under pm2. (Placeholder: this step is being written; it provisions nothing yet.)"""

from __future__ import annotations

from pyinfra.api import deploy


@deploy("Node.js app under pm2")
def provision_app():
    pass
