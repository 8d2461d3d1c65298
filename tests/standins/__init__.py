"""HTTP stand-ins of the SaaS APIs the deploy talks to (UptimeRobot v3, Sentry), following the official
OpenAPI documents in ``openapi/``. Run one with ``python -m tests.standins.uptimerobot --host H --port P``
or start it in-process (``UptimeRobotStandIn(port=0).start()``); faults are programmable (see ``base``)."""
