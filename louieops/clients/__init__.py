"""API clients of the external services the deploy registers objects with (UptimeRobot, Sentry).

Three layers per service: ``client`` (HTTP calls over the shared transport in ``http``), ``models``
(typed desired objects, read-back normalisation) and ``reconcile`` (pure diff and plan, plus an executor
that applies a plan through ``plan.write_with_relist``: a re-list before retrying an ambiguous write).

The clients know nothing of the project's settings: the caller (tasks/saas.py) builds the desired
objects from them, so the clients can be used and tested on their own.
"""
