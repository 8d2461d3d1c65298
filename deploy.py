"""The main job: provision the server, then register the external monitors.

    pyinfra -y inventory/production.py deploy.py      # apply
    pyinfra inventory/production.py deploy.py --dry   # plan only: what would change

Each step is one line, with the roles it serves (louieops/topology.py: the inventory's groups db, db_standby,
app and lb; an inventory without them is one server with every role); a host runs the steps of its roles.
The order matters: PostgreSQL before the app; the HTTPS site once certbot has the certificate; the app's
release after nginx and the alert routing (its health gate checks /health through nginx and alerts through
send-alert); the jobs after send-alert.
"""

from pyinfra import host
from pyinfra.api.exceptions import PyinfraError

from louieops import deploylock, factcache, placement, profile, shadowplan, topology
from louieops.settings import for_host
from louieops.topology import ANY, APP, DATABASE_ROLES, DB, LB
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
    pitr,
    postgresql,
    release,
    saas,
    ssh,
    summary,
)

settings = for_host(host)  # validate every setting before any operation is planned
roles = topology.me(host).roles  # and the inventory's roles (one line naming the group and the fix)
placement.check(host)
profile.install(host.state)  # LOUIEOPS_PROFILE=<file>: where the time goes (make bench)
deploylock.install(host.state, {host.name: settings})  # one deploy at a time, from the first operation on
if host.state.config.DIFF:
    # pyinfra's --diff prints the old and new content of every uploaded file, secret files included.
    raise PyinfraError(
        "--diff would print the secret files (app.env, S3 and Slack credentials): run the plan with --dry instead"
    )

# The steps on the server, in order, each with the roles it serves; the facts the steps of this host will
# read are read ahead in a few batched commands.
STEPS = (
    (base.provision_base, ANY),
    (hardening.harden_host, ANY),
    (ssh.harden_ssh, ANY),
    (postgresql.provision_postgresql, DATABASE_ROLES),
    (app.provision_runtime, {APP}),
    (hardening.restrict_compilers, {APP}),  # once npm has brought its build tools
    (nginx.provision_nginx, {LB}),
    (certbot.provision_certificates, {LB}),
    (nginx.enable_https_sites, {LB}),  # once the certificate exists (or removed, with certbot_enabled False)
    (alerts.install_alert_routing, ANY),
    (checkins.install_cron_checkins, ANY),  # the wrapper the health check's and backups' cron lines use
    (release.deploy_app, {APP}),
    (logs.ship_logs, ANY),
    (health.install_health_check, ANY),
    (backups.install_backups, {DB, APP}),  # the database on the primary, uploads and logs where the app runs
    # WAL archiving and pgBackRest's backups (backup_pitr), after PostgreSQL's restart; the standby's wait for
    # promote-db
    (pitr.install_pitr, DATABASE_ROLES),
    (maintenance.install_maintenance_jobs, ANY),
)
SERVER_STEPS = tuple(step for step, served in STEPS if roles & served)
base.wait_for_apt_before_planning()  # a cancelled deploy's apt-get may still be changing what the plan reads
shadowplan.prefetch(host, factcache.install(host), SERVER_STEPS)
# pyinfra tells operations apart by the line numbers of their call stack: host.loop adds the step's index, so
# the steps called from this one line stay distinct whichever of them a host runs.
for step, served in host.loop(STEPS):
    if roles & served:
        step()
if LB in roles:  # the public names are the lb's: their monitors are registered once, from there
    saas.register_external_monitors()
summary.print_summary_at_exit()
