"""Maintenance jobs (seed §6), security monitoring (seed §9) and the `status` command (seed §10).

Settings read: maintenance_*_schedule, fail2ban_*, health_user, health_disk_mounts, app_name, app_user,
app_root, app_log_dir, backup_dir, domain_*, certbot_enabled, papertrail_method, papertrail_host,
papertrail_port, scripts_dir, nodejs_source.

- {scripts_dir}/louieops-maintenance and /etc/cron.d/louieops-maintenance: the automatable items of §6
  (daily summary, weekly log check, npm audit and exposure scan, monthly certificate report, quarterly
  reminder), run as health_user, each reporting through send-alert;
- fail2ban with a jail on the app's "Login failed for <user> from <ip>" lines and on sshd (journal);
- {scripts_dir}/status, linked as /usr/local/bin/louie-status: one screen of services, pm2, disk,
  memory, certificates, backup, health, alerts, log shipping and fail2ban.
"""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import apt, files, server, systemd
from pyinfra.operations.util import any_changed

from louieops.resources import file
from louieops.settings import for_host
from tasks import alerts, app, health, logs
from tasks.base import put_template

SCRIPT_NAME = "louieops-maintenance"
STATE_DIR = "/var/lib/louieops/maintenance"
CONFIG_FILE = "/etc/louieops/maintenance.json"
STATUS_CONFIG = "/etc/louieops/status.json"
CRON_FILE = "/etc/cron.d/louieops-maintenance"
STATUS_LINK = "/usr/local/bin/louie-status"
FAIL2BAN_FILTER = "/etc/fail2ban/filter.d/louieops-app-auth.conf"
FAIL2BAN_JAILS = "/etc/fail2ban/jail.d/louieops.local"


def jobs(s) -> list[tuple[str, str]]:
    """(job, cron schedule) of every maintenance job, in the order of the cron file."""
    return [
        ("daily-summary", s.maintenance_daily_summary_schedule),
        ("log-check", s.maintenance_log_check_schedule),
        ("npm-audit", s.maintenance_npm_audit_schedule),
        ("exposure-scan", s.maintenance_exposure_scan_schedule),
        ("cert-report", s.maintenance_cert_report_schedule),
        ("quarterly-reminder", s.maintenance_quarterly_reminder_schedule),
    ]


def status_services(s) -> list[str]:
    units = ["nginx.service", "postgresql.service", f"pm2-{s.app_user}.service", "cron.service", "fail2ban.service"]
    method = logs.shipping_method(s)
    if method != "none":
        units.append("rsyslog.service" if method == "rsyslog" else "remote_syslog.service")
    return units


@deploy("Maintenance jobs")
def install_maintenance_jobs():
    s = for_host(host)
    _fail2ban(s)
    _jobs(s)
    _status(s)


def _fail2ban(s) -> None:
    # install (python3-systemd: the sshd jail reads the journal)
    apt.packages(name="Install fail2ban", packages=["fail2ban", "python3-systemd"])

    # configure
    jail_filter = files.put(
        name=f"Upload {FAIL2BAN_FILTER}",
        src=file("fail2ban/louieops-app-auth.conf"),
        dest=FAIL2BAN_FILTER,
        user="root",
        group="root",
        mode="644",
    )
    jails = put_template(
        "fail2ban/louieops.local.j2",
        FAIL2BAN_JAILS,
        name=f"Upload {FAIL2BAN_JAILS}",
        maxretry=s.fail2ban_maxretry,
        findtime=s.fail2ban_findtime,
        bantime=s.fail2ban_bantime,
        ignoreip=s.fail2ban_ignoreip,
        app_log_dir=s.app_log_dir,
    )

    # activate: test the configuration, then reload
    changed = any_changed(jail_filter, jails)
    server.shell(name="Check the fail2ban configuration", commands=["fail2ban-client -t"], _if=changed)
    systemd.service(name="Start and enable fail2ban", service="fail2ban.service", running=True, enabled=True)
    systemd.service(name="Reload fail2ban", service="fail2ban.service", reloaded=True, _if=changed)


def _jobs(s) -> None:
    script = f"{s.scripts_dir}/{SCRIPT_NAME}"
    files.directory(name=f"Create {STATE_DIR}", path=STATE_DIR, user=s.health_user, group=s.health_user, mode="755")
    files.put(
        name=f"Upload {script}",
        src=file(f"maintenance/{SCRIPT_NAME}"),
        dest=script,
        user="root",
        group="root",
        mode="755",
    )
    put_template(
        "maintenance/maintenance.json.j2",
        CONFIG_FILE,
        name=f"Upload {CONFIG_FILE}",
        app_log_dir=s.app_log_dir,
        app_root=app.paths(s)["code"],
        home=health.MONITOR_HOME,
        backup_dir=s.backup_dir,
        domains=sorted({s.domain_homepage, s.domain_api, s.domain_admin, s.domain_websocket}),
        scheme="https" if s.certbot_enabled else "http",
        send_alert=alerts.send_alert_path(s),
        state_dir=STATE_DIR,
        alert_state=f"{alerts.STATE_DIR}/state.json",
        health_state=f"{health.STATE_DIR}/last.json",
    )
    put_template(
        "maintenance/louieops-maintenance.j2",
        CRON_FILE,
        name=f"Upload {CRON_FILE}",
        jobs=jobs(s),
        run_as=s.health_user,
        state_dir=STATE_DIR,
        script=script,
    )


def _status(s) -> None:
    script = f"{s.scripts_dir}/status"
    files.put(name=f"Upload {script}", src=file("status/status"), dest=script, user="root", group="root", mode="755")
    put_template(
        "maintenance/status.json.j2",
        STATUS_CONFIG,
        name=f"Upload {STATUS_CONFIG}",
        app_name=s.app_name,
        app_user=s.app_user,
        pm2=app.paths(s)["pm2"],
        pm2_home=app.paths(s)["pm2_home"],
        services=status_services(s),
        disk_mounts=s.health_disk_mounts,
        cert_domains=health.cert_domains(s),
        backup_dir=s.backup_dir,
        health_state=f"{health.STATE_DIR}/last.json",
        alert_state=f"{alerts.STATE_DIR}/state.json",
        alert_log=f"{alerts.STATE_DIR}/alerts.log",
        log_method=logs.shipping_method(s),
        log_host=s.papertrail_host,
        log_port=s.papertrail_port,
    )
    files.link(name=f"Link {STATUS_LINK}", path=STATUS_LINK, target=script)
