"""Maintenance jobs (seed §6), security monitoring (seed §9) and the `status` command (seed §10).

Settings read: maintenance_daily_summary_schedule, maintenance_log_check_schedule, maintenance_npm_audit_schedule,
maintenance_exposure_scan_schedule, maintenance_cert_report_schedule, maintenance_quarterly_reminder_schedule,
maintenance_load_test_schedule, maintenance_stripe_webhooks_schedule,
fail2ban_maxretry, fail2ban_findtime, fail2ban_bantime, fail2ban_ignoreip, fail2ban_rate_limit_maxretry,
security_rate_limit_alert_count, health_user, app_log_dir. The admin-login watch's config (louieops/server_scripts.py)
reads security_admin_address_days, the load test's (load_test_config) the other maintenance_load_test_* settings,
domain_api, kpi_thresholds and health_tiers. The uptime
report's config (louieops/server_scripts.py) reads uptimerobot_api_url, uptimerobot_managed_tag,
maintenance_uptime_report_days, kpi_thresholds and health_tiers; the Stripe check's (stripe_config)
maintenance_stripe_api_url.
Secrets read (optional): UPTIMEROBOT_READ_API_KEY, a read-only UptimeRobot key for the daily uptime report;
STRIPE_RESTRICTED_KEY, a restricted Stripe key for the daily webhook check.

- {scripts_dir}/louieops-maintenance and /etc/cron.d/louieops-maintenance: the automatable items of §6
  (daily summary and Stripe webhook check, weekly log check, npm audit and exposure scan, monthly certificate
  report and load test, quarterly reminder), run as health_user, each reporting through send-alert;
  ApacheBench (apache2-utils) for the load test where it runs;
- fail2ban (seed §9): jails on sshd (journal), the app's "Login failed ... <ip>" lines, nginx's rate-limit
  rejections (a P3 to review after security_rate_limit_alert_count, a ban after fail2ban_rate_limit_maxretry)
  and injection probes in nginx's access log (a P2 and a ban on the first); every ban is reported through
  send-alert (files/fail2ban/louieops-alert.conf);
- louieops-admin-logins.path/.service: a P1 for each admin-dashboard login from an address not seen within
  security_admin_address_days (files/scripts/admin-logins, reading nginx's log of admin logins);
- {scripts_dir}/status, linked as /usr/local/bin/louie-status: one screen of services, pm2, disk,
  memory, certificates, backup, health, alerts, log shipping and fail2ban;
- {scripts_dir}/louie-logs, linked as /usr/local/bin/louie-logs: the app's, nginx's and the journal's lines in
  one stream (--since, --grep, --follow), which `louieops logs` runs on every host of a role;
- louieops-audit.path/.service: each change of the app's feature toggles and killswitches (the app's audit
  log) is sent as an alert, as soon as it is written.
Their configs (/etc/louieops/maintenance.json, status.json, logs.json) come from louieops/server_scripts.py.
With several servers each host gets the jobs of its roles: the app's log, npm and audit jobs where the app runs,
the exposure scan, the certificate report, the load test and the Stripe check on the lb, and the app-login
jail only where the app runs behind its own nginx (a ban acts on the host's own firewall, which clients of an
app host behind an lb never reach).
"""

from __future__ import annotations

from pyinfra import host, logger
from pyinfra.api import deploy
from pyinfra.operations import apt, files, server, systemd
from pyinfra.operations.util import any_changed

from louieops import layout, placement, secrets, topology
from louieops.placement import Placement
from louieops.resources import put_file, put_template
from louieops.server_scripts import (
    admin_logins_config,
    logs_config,
    maintenance_config,
    put_config,
    status_config,
    stripe_config,
    uptime_config,
)
from louieops.settings import Settings, for_host

SCRIPT_NAME = "louieops-maintenance"
UPTIME_LIBRARY = "louieops_uptime.py"  # imported by the daily summary
STRIPE_LIBRARY = "louieops_stripe.py"  # imported by the Stripe webhook check
_NOTED: set[str] = set()  # deploy-wide notes already printed (one line per deploy, not one per host)
#: files/fail2ban/<name>.conf -> where fail2ban reads it
FAIL2BAN_FILES = {
    "louieops-app-auth": "/etc/fail2ban/filter.d/louieops-app-auth.conf",
    "louieops-probes": "/etc/fail2ban/filter.d/louieops-probes.conf",
    "louieops-alert": "/etc/fail2ban/action.d/louieops-alert.conf",
}
FAIL2BAN_JAILS = "/etc/fail2ban/jail.local"  # fail2ban's place for local jails: package updates never touch it
FAIL2BAN_OLD_JAILS = "/etc/fail2ban/jail.d/louieops.local"  # where earlier deploys put them
AUDIT_UNITS = ("louieops-audit.service", "louieops-audit.path")
ADMIN_LOGIN_UNITS = ("louieops-admin-logins.service", "louieops-admin-logins.path")


def jobs(s: Settings, where: Placement = placement.SINGLE) -> list[tuple[str, str]]:
    """(job, cron schedule) of every maintenance job of this host's roles, in the order of the cron file."""
    app, lb = where.has(topology.APP), where.has(topology.LB)
    return [
        (job, schedule)
        for job, schedule, wanted in (
            ("daily-summary", s.maintenance_daily_summary_schedule, True),
            ("log-check", s.maintenance_log_check_schedule, app),
            ("npm-audit", s.maintenance_npm_audit_schedule, app),
            ("exposure-scan", s.maintenance_exposure_scan_schedule, lb),
            ("cert-report", s.maintenance_cert_report_schedule, lb),
            ("quarterly-reminder", s.maintenance_quarterly_reminder_schedule, lb),
            ("load-test", s.maintenance_load_test_schedule, lb),
            ("stripe-webhooks", s.maintenance_stripe_webhooks_schedule, lb and s.maintenance_stripe_webhooks_schedule),
        )
        if wanted
    ]


@deploy("Maintenance jobs")
def install_maintenance_jobs():
    s = for_host(host)
    where = placement.of(host)
    _fail2ban(s, where)
    _jobs(s, where)
    if where.has(topology.APP):
        _audit(s)
    if where.nginx_here:  # it watches nginx's log of admin logins
        _admin_logins(s)
    _status(s, where)
    _logs(s, where)


def _fail2ban(s: Settings, where: Placement) -> None:
    # install (python3-systemd: the sshd jail reads the journal)
    apt.packages(name="Install fail2ban", packages=["fail2ban", "python3-systemd"])

    # configure: our filters and the alert action, then the jails that use them
    changes = [put_file(f"fail2ban/{name}.conf", path) for name, path in FAIL2BAN_FILES.items()]
    changes.append(files.file(name=f"Remove {FAIL2BAN_OLD_JAILS}", path=FAIL2BAN_OLD_JAILS, present=False))
    changes.append(
        put_template(
            "fail2ban/jail.local.j2",
            FAIL2BAN_JAILS,
            name=f"Upload {FAIL2BAN_JAILS}",
            fail2ban_maxretry=s.fail2ban_maxretry,
            fail2ban_findtime=s.fail2ban_findtime,
            fail2ban_bantime=s.fail2ban_bantime,
            fail2ban_ignoreip=s.fail2ban_ignoreip,
            fail2ban_rate_limit_maxretry=s.fail2ban_rate_limit_maxretry,
            security_rate_limit_alert_count=s.security_rate_limit_alert_count,
            app_log_dir=s.app_log_dir,
            nginx_access_log=layout.NGINX_ACCESS_LOG,
            nginx_error_log=layout.NGINX_ERROR_LOG,
            send_alert=layout.send_alert(s),
            # a ban acts on this host's firewall: useful where the clients connect (nginx), so the app's jail
            # only where the app is behind its own nginx, and the jails on nginx's logs only where nginx runs
            app_jail=where.has(topology.APP) and where.nginx_here,
            nginx_jails=where.nginx_here,
        )
    )

    # activate: test the configuration, then reload
    changed = any_changed(*changes)
    server.shell(name="Check the fail2ban configuration", commands=["fail2ban-client -t"], _if=changed)
    systemd.service(name="Start and enable fail2ban", service="fail2ban.service", running=True, enabled=True)
    systemd.service(name="Reload fail2ban", service="fail2ban.service", reloaded=True, _if=changed)


def _jobs(s: Settings, where: Placement) -> None:
    script = layout.script(s, SCRIPT_NAME)
    files.directory(
        name=f"Create {layout.MAINTENANCE_STATE_DIR}",
        path=layout.MAINTENANCE_STATE_DIR,
        user=s.health_user,
        group=s.health_user,
        mode="755",
    )
    _uptime_report(s)  # the libraries the script imports first: a job run mid-deploy finds them
    _stripe_check(s, where)
    put_file(f"scripts/{SCRIPT_NAME}", script, mode="0755")
    put_config(layout.MAINTENANCE_CONFIG, maintenance_config(s, where))
    put_template(
        "maintenance/louieops-maintenance.j2",
        layout.MAINTENANCE_CRON,
        name=f"Upload {layout.MAINTENANCE_CRON}",
        jobs=jobs(s, where),
        health_user=s.health_user,
        state_dir=layout.MAINTENANCE_STATE_DIR,
        script=script,
    )


def _uptime_report(s: Settings) -> None:
    """The daily summary's uptime check: the library, and its config only with a read-only key."""
    put_file(f"scripts/{UPTIME_LIBRARY}", layout.script(s, UPTIME_LIBRARY))
    read_key = secrets.get("UPTIMEROBOT_READ_API_KEY")
    if read_key:
        put_config(layout.UPTIME_CONFIG, uptime_config(s, read_key), mode="0640", group=s.health_user)
    else:
        files.file(name=f"Remove {layout.UPTIME_CONFIG}", path=layout.UPTIME_CONFIG, present=False)


def _stripe_check(s: Settings, where: Placement) -> None:
    """The daily Stripe webhook check: the library everywhere (the job script imports it), its config with the
    restricted key where the job runs (without a key the job alerts that it could not check)."""
    put_file(f"scripts/{STRIPE_LIBRARY}", layout.script(s, STRIPE_LIBRARY))
    if not (where.has(topology.LB) and s.maintenance_stripe_webhooks_schedule):
        files.file(name=f"Remove {layout.STRIPE_CONFIG}", path=layout.STRIPE_CONFIG, present=False)
        return
    key = secrets.get("STRIPE_RESTRICTED_KEY")
    if key is None and "stripe" not in _NOTED:
        _NOTED.add("stripe")
        logger.warning(
            "STRIPE_RESTRICTED_KEY is not set: the daily Stripe webhook check will alert that it could not check "
            "(set maintenance_stripe_webhooks_schedule = None for a service without Stripe)."
        )
    put_config(layout.STRIPE_CONFIG, stripe_config(s, key), mode="0640", group=s.health_user)


def _audit(s: Settings) -> None:
    units = [
        put_template(
            f"maintenance/{unit}.j2",
            f"/etc/systemd/system/{unit}",
            name=f"Upload /etc/systemd/system/{unit}",
            audit_log=layout.app_audit_log(s),
            health_user=s.health_user,
            script=layout.script(s, SCRIPT_NAME),
        )
        for unit in AUDIT_UNITS
    ]
    systemd.daemon_reload(name="Reload systemd for the audit units", _if=any_changed(*units))
    systemd.service(
        name="Enable and start louieops-audit.path", service="louieops-audit.path", running=True, enabled=True
    )


def _admin_logins(s: Settings) -> None:
    """Seed §9: a P1 for an admin-dashboard login from an address not seen lately (files/scripts/admin-logins)."""
    script = layout.script(s, "admin-logins")
    put_file("scripts/admin-logins", script, mode="0755")
    put_config(layout.ADMIN_LOGINS_CONFIG, admin_logins_config(s))
    units = [
        put_template(
            f"security/{unit}.j2",
            f"/etc/systemd/system/{unit}",
            name=f"Upload /etc/systemd/system/{unit}",
            log=layout.ADMIN_LOGIN_LOG,
            run_as=s.health_user,
            script=script,
        )
        for unit in ADMIN_LOGIN_UNITS
    ]
    systemd.daemon_reload(name="Reload systemd for the admin-login units", _if=any_changed(*units))
    systemd.service(
        name="Enable and start louieops-admin-logins.path",
        service="louieops-admin-logins.path",
        running=True,
        enabled=True,
    )


def _status(s: Settings, where: Placement) -> None:
    script = layout.script(s, "status")
    put_file("scripts/status", script, mode="0755")
    put_config(layout.STATUS_CONFIG, status_config(s, where))
    files.link(name=f"Link {layout.STATUS_COMMAND}", path=layout.STATUS_COMMAND, target=script)


def _logs(s: Settings, where: Placement) -> None:
    script = layout.script(s, "louie-logs")
    put_file("scripts/louie-logs", script, mode="0755")
    put_config(layout.LOGS_CONFIG, logs_config(s, where))
    files.link(name=f"Link {layout.LOGS_COMMAND}", path=layout.LOGS_COMMAND, target=script)
