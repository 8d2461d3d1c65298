"""Ordering across hosts.

pyinfra runs an operation on every host before the next one, but hosts that run different operations (their
roles differ) only wait for each other at operations they share: between two shared operations, the k-th
operation of one host runs alongside the k-th of another. ``after`` is such a shared operation, changing
nothing: every operation any host planned before it runs before any operation planned after it.
"""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import operation


@operation(is_idempotent=True)
def after(what: str):
    """
    A point every host calling it passes together: no change, only order.

    + what: what is done by then on every host (the no-op message)

    **Example:**

    .. code:: python

        order.after(
            name="Wait for the primary's replication slot",
            what="the primary has its replication role and slot",
        )
    """
    host.noop(what)
    yield from ()
