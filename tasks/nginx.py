"""nginx reverse proxy. (Placeholder: this step is being written; it provisions nothing yet.)"""

from __future__ import annotations

from pyinfra.api import deploy


@deploy("nginx reverse proxy")
def provision_nginx():
    pass
