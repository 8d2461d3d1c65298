"""The main job: provision the server, then register the external monitors.

    pyinfra -y inventory/production.py deploy.py      # apply
    pyinfra inventory/production.py deploy.py --dry   # plan only: what would change

Each step is one line; the order matters: PostgreSQL before the app; the HTTPS site once certbot has the
certificate; the app's release after nginx and the alert routing (its health gate checks /health through
nginx and alerts through send-alert); the jobs after send-alert.
"""

from pyinfra import host
from pyinfra.api.exceptions import PyinfraError

from louieops import deploylock
from louieops.settings import for_host
from tasks import (
    alerts,
    app,
    backups,
    base,
    certbot,
    checkins,
    health,
    logs,
    maintenance,
    nginx,
    postgresql,
    release,
    saas,
    summary,
)

settings = for_host(host)  # validate every setting before any operation is planned
deploylock.install(host.state, {host.name: settings})  # one deploy at a time, from the first operation on
if host.state.config.DIFF:
    # pyinfra's --diff prints the old and new content of every uploaded file, secret files included.
    raise PyinfraError(
        "--diff would print the secret files (app.env, S3 and Slack credentials): run the plan with --dry instead"
    )

base.provision_base()
postgresql.provision_postgresql()
app.provision_runtime()
nginx.provision_nginx()
certbot.provision_certificates()
nginx.enable_https_sites()  # once the certificate exists (or removed, with certbot_enabled False)
alerts.install_alert_routing()
checkins.install_cron_checkins()  # the wrapper the health check's and backups' cron lines use
release.deploy_app()
logs.ship_logs()
health.install_health_check()
backups.install_backups()
maintenance.install_maintenance_jobs()
saas.register_external_monitors()
summary.print_summary_at_exit()
