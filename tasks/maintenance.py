"""Maintenance jobs (seed §6), security monitoring (seed §9) and the `status` command (seed §10).

Settings read: maintenance_daily_summary_schedule, maintenance_log_check_schedule, maintenance_npm_audit_schedule,
maintenance_exposure_scan_schedule, maintenance_cert_report_schedule, maintenance_quarterly_reminder_schedule,
fail2ban_maxretry, fail2ban_findtime, fail2ban_bantime, fail2ban_ignoreip, health_user, app_log_dir.

- {scripts_dir}/louieops-maintenance and /etc/cron.d/louieops-maintenance: the automatable items of §6
  (daily summary, weekly log check, npm audit and exposure scan, monthly certificate report, quarterly
  reminder), run as health_user, each reporting through send-alert;
- fail2ban with a jail on the app's "Login failed for <user> from <ip>" lines and on sshd (journal);
- {scripts_dir}/status, linked as /usr/local/bin/louie-status: one screen of services, pm2, disk,
  memory, certificates, backup, health, alerts, log shipping and fail2ban;
- louieops-audit.path/.service: each change of the app's feature toggles and killswitches (the app's audit
  log) is sent as an alert, as soon as it is written.
Their configs (/etc/louieops/maintenance.json, status.json) come from louieops/server_scripts.py.
With several servers each host gets the jobs of its roles: the app's log, npm and audit jobs where the app runs,
the exposure scan and the certificate report on the lb, and the app-login jail only where the app runs behind
its own nginx (a ban acts on the host's own firewall, which clients of an app host behind an lb never reach).
"""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import apt, files, server, systemd
from pyinfra.operations.util import any_changed

from louieops import layout, placement, topology
from louieops.placement import Placement
from louieops.resources import put_file, put_template
from louieops.server_scripts import maintenance_config, put_config, status_config
from louieops.settings import Settings, for_host

SCRIPT_NAME = "louieops-maintenance"
FAIL2BAN_FILTER = "/etc/fail2ban/filter.d/louieops-app-auth.conf"
FAIL2BAN_JAILS = "/etc/fail2ban/jail.d/louieops.local"
AUDIT_UNITS = ("louieops-audit.service", "louieops-audit.path")


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
    _status(s, where)


def _fail2ban(s: Settings, where: Placement) -> None:
    # install (python3-systemd: the sshd jail reads the journal)
    apt.packages(name="Install fail2ban", packages=["fail2ban", "python3-systemd"])

    # configure
    jail_filter = put_file("fail2ban/louieops-app-auth.conf", FAIL2BAN_FILTER)
    jails = put_template(
        "fail2ban/louieops.local.j2",
        FAIL2BAN_JAILS,
        name=f"Upload {FAIL2BAN_JAILS}",
        fail2ban_maxretry=s.fail2ban_maxretry,
        fail2ban_findtime=s.fail2ban_findtime,
        fail2ban_bantime=s.fail2ban_bantime,
        fail2ban_ignoreip=s.fail2ban_ignoreip,
        app_log_dir=s.app_log_dir,
        # a ban acts on this host's firewall: useful where the clients connect, i.e. the app behind its own nginx
        app_jail=where.has(topology.APP) and where.has(topology.LB),
    )

    # activate: test the configuration, then reload
    changed = any_changed(jail_filter, jails)
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


def _status(s: Settings, where: Placement) -> None:
    script = layout.script(s, "status")
    put_file("scripts/status", script, mode="0755")
    put_config(layout.STATUS_CONFIG, status_config(s, where))
    files.link(name=f"Link {layout.STATUS_COMMAND}", path=layout.STATUS_COMMAND, target=script)
