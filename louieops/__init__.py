"""Operations as code for the SimplyLouie service: settings schema, custom pyinfra facts and
operations, API clients for UptimeRobot and Sentry, and the local test server (``testbed``)."""
