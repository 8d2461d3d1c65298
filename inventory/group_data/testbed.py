"""Static settings for the local test server (group ``testbed``, see ``louieops/testbed``).

Only fixed overrides live here. The per-instance values (peer addresses, ACME directory, S3 endpoint,
recorder URL, SSH connection) are host data in the generated ``.testbed/<name>/inventory.py``.
"""

domain_homepage = "simplylouie.test"  # public homepage; pebble-challtestsrv resolves it to the test server
domain_api = "api.simplylouie.test"  # Node.js API behind nginx
domain_admin = "louiesystem.test"  # admin dashboard
domain_websocket = "ws.simplylouie.test"  # websocket endpoint

# The Sentry stand-in's account has a Slack integration with these ids (tests/standins/sentry.py).
sentry_slack_integration_id = "24680"  # Slack integration of the stand-in account
sentry_slack_channel_ids = {"alerts-critical": "C0CRIT001", "alerts-high": "C0HIGH001", "alerts-general": "C0GENE001"}

# The UptimeRobot stand-in does not rate-limit: the free plan's 10 requests a minute would only slow the deploy.
uptimerobot_requests_per_minute = 600
# A failing release is rolled back after this many seconds (all.py: 60); a good one passes in under 10.
app_health_deadline_seconds = 20
# The reference app's API and its database path must answer before a release takes traffic.
app_smoke_paths = ["/api/claude/status", "/health/db"]
