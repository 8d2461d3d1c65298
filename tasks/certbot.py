"""TLS certificates. (Placeholder: this step is being written; it provisions nothing yet.)"""

from __future__ import annotations

from pyinfra.api import deploy


@deploy("TLS certificates")
def provision_certificates():
    pass
