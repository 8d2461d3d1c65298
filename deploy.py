"""The main job: provision the server, then register the external monitors.

    pyinfra -y inventory/production.py deploy.py      # apply
    pyinfra inventory/production.py deploy.py --dry   # plan only: what would change

The steps run in the order of SERVER_STEPS, which matters: PostgreSQL before the app; the HTTPS site once
certbot has the certificate; the app's release after nginx and the alert routing (its health gate checks
/health through nginx and alerts through send-alert); the jobs after send-alert.
"""

from pyinfra import host
from pyinfra.api.exceptions import PyinfraError

from louieops import deploylock, factcache, profile, shadowplan
from louieops.settings import for_host
from tasks import (
    alerts,
    app,
    backups,
    base,
    certbot,
    checkins,
    hardening,
    health,
    logs,
    maintenance,
    nginx,
    postgresql,
    release,
    saas,
    ssh,
    summary,
)

settings = for_host(host)  # validate every setting before any operation is planned
profile.install(host.state)  # LOUIEOPS_PROFILE=<file>: where the time goes (make bench)
deploylock.install(host.state, {host.name: settings})  # one deploy at a time, from the first operation on
if host.state.config.DIFF:
    # pyinfra's --diff prints the old and new content of every uploaded file, secret files included.
    raise PyinfraError(
        "--diff would print the secret files (app.env, S3 and Slack credentials): run the plan with --dry instead"
    )

# The steps on the server, in order; the facts they will read are read ahead in a few batched commands.
SERVER_STEPS = (
    base.provision_base,
    hardening.harden_host,
    ssh.harden_ssh,
    postgresql.provision_postgresql,
    app.provision_runtime,
    hardening.restrict_compilers,  # once npm has brought its build tools
    nginx.provision_nginx,
    certbot.provision_certificates,
    nginx.enable_https_sites,  # once the certificate exists (or removed, with certbot_enabled False)
    alerts.install_alert_routing,
    checkins.install_cron_checkins,  # the wrapper the health check's and backups' cron lines use
    release.deploy_app,
    logs.ship_logs,
    health.install_health_check,
    backups.install_backups,
    maintenance.install_maintenance_jobs,
)
shadowplan.prefetch(host, factcache.install(host), SERVER_STEPS)
for step in SERVER_STEPS:
    step()
saas.register_external_monitors()
summary.print_summary_at_exit()
