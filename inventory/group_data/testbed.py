"""Static settings for the local test server (group ``testbed``, see ``louieops/testbed``).

Only fixed overrides live here. The per-instance values (peer addresses, ACME directory, S3 endpoint,
recorder URL, SSH connection) are host data in the generated ``.testbed/<name>/inventory.py``.
"""

domain_homepage = "simplylouie.test"  # public homepage; pebble-challtestsrv resolves it to the test server
domain_api = "api.simplylouie.test"  # Node.js API behind nginx
domain_admin = "louiesystem.test"  # admin dashboard
domain_websocket = "ws.simplylouie.test"  # websocket endpoint
