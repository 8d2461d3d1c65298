"""Health check (seed §3) against the KPI thresholds (seed §5), every few minutes from cron.

Settings read: health_user, health_schedule, health_tiers, health_disk_mounts, health_api_probes,
health_api_tls_verify, kpi_thresholds, alert_group, domain_*, app_port, certbot_enabled,
postgresql_database, scripts_dir.

The check runs as health_user: a system user without a shell or sudo, member of alert_group (so it may
call send-alert) and of Debian's log-reading group adm (the app's logs are <app_user>:adm 0640).
It reaches PostgreSQL as a role of the same name by peer authentication over the
Unix socket: a login role with no grants beyond PUBLIC's CONNECT, enough for `SELECT 1` and nothing
else, and no password anywhere. The same user runs the maintenance jobs (tasks/maintenance.py).
"""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import files, postgres, server

from louieops.resources import file
from louieops.settings import for_host
from tasks.alerts import send_alert_path
from tasks.base import put_template

MONITOR_HOME = "/var/lib/louieops/monitor"
STATE_DIR = "/var/lib/louieops/health"
CONFIG_FILE = "/etc/louieops/health.json"
CRON_FILE = "/etc/cron.d/louieops-health-check"
AS_POSTGRES = {"_sudo": True, "_sudo_user": "postgres"}
# KPIs the health check measures (the others in kpi_thresholds come from UptimeRobot/Sentry or the app).
MEASURED_KPIS = ("api_p50_ms", "disk_pct", "memory_pct", "cpu_pct", "cert_expiry_days")


def health_check_path(settings) -> str:
    return f"{settings.scripts_dir}/health-check"


def cert_domains(settings) -> list[str]:
    """Domains whose served certificate is checked (none when certbot is off: plain HTTP)."""
    if not settings.certbot_enabled:
        return []
    return sorted({settings.domain_homepage, settings.domain_api, settings.domain_admin, settings.domain_websocket})


def ensure_monitor_user(settings) -> None:
    """The unprivileged user of the health check and maintenance jobs (idempotent; safe to call twice)."""
    server.user(
        name=f"Create system user {settings.health_user}",
        user=settings.health_user,
        system=True,
        home=MONITOR_HOME,
        shell="/usr/sbin/nologin",
        groups=[settings.alert_group, "adm"],
        create_home=True,
    )


@deploy("Health check")
def install_health_check():
    s = for_host(host)

    # install
    ensure_monitor_user(s)
    files.directory(
        name=f"Create {STATE_DIR}",
        path=STATE_DIR,
        user=s.health_user,
        group=s.health_user,
        mode="755",
    )
    postgres.role(
        name=f"Create PostgreSQL login role {s.health_user} (peer authentication, no grants)",
        role=s.health_user,
        login=True,
        **AS_POSTGRES,
    )
    files.put(
        name=f"Upload {health_check_path(s)}",
        src=file("health/health-check"),
        dest=health_check_path(s),
        user="root",
        group="root",
        mode="755",
    )

    # configure
    put_template(
        "health/health.json.j2",
        CONFIG_FILE,
        name=f"Upload {CONFIG_FILE}",
        api_domain=s.domain_api,
        api_scheme="https" if s.certbot_enabled else "http",
        app_port=s.app_port,
        verify_tls=s.health_api_tls_verify,
        probes=s.health_api_probes,
        database=s.postgresql_database,
        disk_mounts=s.health_disk_mounts,
        cert_domains=cert_domains(s),
        thresholds={kpi: s.kpi_thresholds[kpi] for kpi in MEASURED_KPIS if kpi in s.kpi_thresholds},
        tiers=s.health_tiers,
        send_alert=send_alert_path(s),
        state_dir=STATE_DIR,
    )

    # activate (cron reads /etc/cron.d itself)
    put_template(
        "health/louieops-health-check.j2",
        CRON_FILE,
        name=f"Upload {CRON_FILE}",
        schedule=s.health_schedule,
        run_as=s.health_user,
        state_dir=STATE_DIR,
        script=health_check_path(s),
    )
