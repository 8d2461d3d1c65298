"""API clients of the external services the deploy registers objects with (UptimeRobot, Sentry).

Three layers per service: ``client`` (HTTP calls over the shared transport in ``http``), ``models``
(desired objects built from settings, read-back normalisation) and ``reconcile`` (pure diff and plan,
plus an executor that applies a plan and re-lists before retrying an ambiguous write).
"""
