"""Maintenance jobs. (Placeholder: this step is being written; it provisions nothing yet.)"""

from __future__ import annotations

from pyinfra.api import deploy


@deploy("Maintenance jobs")
def install_maintenance_jobs():
    pass
