"""What the server-side Python scripts are told: one JSON config per script, built here from the settings and
the layout, so every path and rule a script uses has one home on the controller.

The scripts (files/scripts/) read ``/etc/louieops/<script>.json``; they hold no paths of their own beyond
the config directory (files/scripts/louieops_common.py). ``_managed`` names this module as the source.
"""

from __future__ import annotations

import json
from io import StringIO

from pyinfra.operations import files

from . import checkins, layout, secrets, topology
from .cron import cron_max_gap_minutes
from .placement import SINGLE, Placement, archives_wal
from .resources import managed
from .settings import Settings
from .settings.sections.kpis import HEALTH_CHECKS, LOWER_IS_WORSE, UP_DOWN_CHECKS

#: KPIs the health check measures: every check with an alert tier but the up/down checks and uptime_pct
#: (from UptimeRobot, in the daily summary).
MEASURED_KPIS = tuple(kpi for kpi in HEALTH_CHECKS if kpi not in UP_DOWN_CHECKS and kpi != "uptime_pct")
#: rsyslog's disk-assisted queue of the Papertrail action (queue.filename in the rsyslog template).
RSYSLOG_QUEUE = "louieops_papertrail"
RSYSLOG_WORK_DIR = "/var/spool/rsyslog"


def alerts_config(s: Settings) -> dict:
    """/etc/louieops/alerts.json: the routing table of send-alert (no secrets)."""
    return {
        "label": s.app_name,
        "slack": {"username": s.alert_slack_username, "icon_emoji": s.alert_slack_icon_emoji},
        "routes": s.alert_routes,
        "email": email_config(s),
        "sms_to": s.alert_sms_to,
        "twilio_api_url": s.alert_twilio_api_url,
        "dedup_minutes": s.alert_dedup_minutes,
        "escalation": s.alert_escalation,
        "secrets_file": layout.ALERTS_SECRETS,
        "state_dir": layout.ALERT_STATE_DIR,
    }


def email_config(s: Settings) -> dict | None:
    """How send-alert e-mails (None: it does not; no relay or no recipient)."""
    if s.alert_smtp_host is None or s.alert_email_to is None:
        return None
    return {"to": s.alert_email_to, "from": s.alert_email_from, "sendmail": layout.SENDMAIL}


def health_config(s: Settings, placement: Placement = SINGLE) -> dict:
    """/etc/louieops/health.json: what the health check probes (what this host's roles serve) and the levels it
    compares against. The lb checks the API through nginx, its real traffic (nginx's access log) and its
    certificates, an app host its own app, a database host PostgreSQL; disk, memory and CPU everywhere."""
    api = traffic = None
    if placement.nginx_here:
        api = {
            "domain": s.domain_api,
            "scheme": layout.scheme(s),
            "path": "/health",
            "app_port": s.app_port if placement.has(topology.APP) else None,  # the direct check, app on this host
            "verify_tls": s.health_api_tls_verify,
        }
        traffic = {
            "access_log": layout.NGINX_ACCESS_LOG,
            "host": s.domain_api,
            "window_seconds": cron_max_gap_minutes(s.health_schedule) * 60,
            "min_requests": s.health_api_min_requests,
        }
    elif placement.has(topology.APP):
        api = {"url": placement.app_health_url, "path": "/health", "verify_tls": True}
    return {
        "api": api,
        "traffic": traffic,
        "cpu": {"state": layout.HEALTH_CPU_SAMPLE},
        "database": {"name": s.postgresql_database} if placement.database_here else None,
        "disk_mounts": s.health_disk_mounts,
        "cert_domains": layout.checked_cert_domains(s) if placement.nginx_here else [],
        "thresholds": {kpi: s.kpi_thresholds[kpi] for kpi in MEASURED_KPIS if kpi in s.kpi_thresholds},
        "lower_is_worse": [kpi for kpi in LOWER_IS_WORSE if kpi in MEASURED_KPIS],
        "tiers": s.health_tiers,
        "send_alert": layout.send_alert(s),
        "last_result": layout.HEALTH_LAST,
        "websocket": websocket_check(s, placement),
        "pitr": pitr_check(s, placement),
        "history": history_config(s, placement),
        "run_as": s.health_user,
    }


#: What the System Health page plots, in its order: (KPI, title, unit), with the levels drawn beside them. The
#: history keeps these KPIs: the health check's findings of the same name, or what louieops_history.DERIVED
#: works out itself.
HEALTH_PAGE_PLOTS = (
    ("api_p50_ms", "API response time p50", "ms"),
    ("api_p99_ms", "API response time p99", "ms"),
    ("error_rate_pct", "API error rate (5xx)", "%"),
    ("cpu_pct", "CPU", "%"),
    ("memory_pct", "Memory", "%"),
    ("disk_pct", "Disk (fullest mount)", "%"),
    ("db_connections", "Database connections", ""),
    ("db_query_ms", "Database probe query", "ms"),
    ("backup_age_hours", "Age of the last database backup", "h"),
)


def health_page_served(s: Settings) -> bool:
    """Whether nginx serves the System Health page: a login name, its password, and TLS (basic auth sends
    the password with every request)."""
    return bool(s.health_page_user and s.certbot_enabled and secrets.get("LOUIE_HEALTH_PAGE_PASSWORD"))


def history_config(s: Settings, placement: Placement = SINGLE) -> dict:
    """The health check's KPI history (files/scripts/louieops_history.py), and where the System Health page's
    data goes on the host that serves the admin domain (None elsewhere, or where the page is not served)."""
    paths = layout.app_paths(s)
    page = health_page_served(s) and placement.nginx_here
    return {
        "path": layout.HEALTH_HISTORY,
        "days": s.health_history_days,
        "page_data": layout.HEALTH_PAGE_DATA if page else None,
        "plots": [list(plot) for plot in HEALTH_PAGE_PLOTS],
        "levels": {kpi: s.kpi_thresholds[kpi] for kpi, _, _ in HEALTH_PAGE_PLOTS if kpi in s.kpi_thresholds},
        "alert_state": layout.ALERT_STATE,
        "backup_status_dir": layout.BACKUP_STATUS_DIR,
        "backup_kinds": backup_kinds(placement),
        "pitr_status": layout.PITR_STATUS if pitr_check(s, placement) else None,
        "releases_dir": paths.releases,
        "current": paths.current,
    }


def pitr_check(s: Settings, placement: Placement = SINGLE) -> dict | None:
    """What the health check reads of point-in-time recovery (None: backup_pitr off, or not the primary):
    PostgreSQL's archiver statistics (pg_stat_archiver, readable by any role) and the last good pgBackRest
    backup and the last `pgbackrest check`, which louie-pitr-backup records in the backup status directory."""
    if not archives_wal(s, placement):
        return None
    return {"status": layout.PITR_STATUS, "check_status": layout.PITR_CHECK_STATUS}


def websocket_check(s: Settings, placement: Placement = SINGLE) -> dict | None:
    """Where the health check reads the app's websocket count (None: not checked, or no app on this host)."""
    path = s.health_websocket_metrics_path
    if not path or not placement.has(topology.APP):
        return None
    address = placement.app_listen
    url_host = f"[{address}]" if ":" in address else address
    return {"url": f"http://{url_host}:{s.app_port}{path}", "secrets": layout.HEALTH_SECRETS}


def maintenance_config(s: Settings, placement: Placement = SINGLE) -> dict:
    """/etc/louieops/maintenance.json: what the maintenance jobs read, check and report to."""
    return {
        "app_log_dir": s.app_log_dir,
        "app_root": layout.app_paths(s).code,
        "npm_audit_registry": s.maintenance_npm_audit_registry,
        "home": layout.MONITOR_HOME,
        "domains": sorted(layout.public_domains(s)) if placement.nginx_here else [],
        "scheme": layout.scheme(s),
        "send_alert": layout.send_alert(s),
        "state_dir": layout.MAINTENANCE_STATE_DIR,
        "alert_state": layout.ALERT_STATE,
        "health_state": layout.HEALTH_LAST,
        "backup_status_dir": layout.BACKUP_STATUS_DIR,
        "backup_kinds": backup_kinds(placement),
        "audit_log": layout.app_audit_log(s),
        "nginx_error_log": layout.NGINX_ERROR_LOG,
        "load_test": load_test_config(s) if placement.has(topology.LB) else None,
    }


#: The KPIs the monthly load test measures and judges (louieops-maintenance load-test).
LOAD_TEST_KPIS = ("api_p50_ms", "api_p99_ms", "error_rate_pct")


def load_test_config(s: Settings) -> dict:
    """The monthly load test of the API through nginx on the host serving the public names."""
    return {
        "domain": s.domain_api,
        "scheme": layout.scheme(s),
        "port": 443 if layout.scheme(s) == "https" else 80,
        "path": s.maintenance_load_test_path,
        "requests": s.maintenance_load_test_requests,
        "concurrency": s.maintenance_load_test_concurrency,
        "max_seconds": s.maintenance_load_test_max_seconds,
        "thresholds": {kpi: s.kpi_thresholds[kpi] for kpi in LOAD_TEST_KPIS},
        "tiers": {kpi: s.health_tiers[kpi] for kpi in LOAD_TEST_KPIS},
        "history": layout.LOAD_TEST_HISTORY,
        "keep": layout.LOAD_TEST_HISTORY_KEEP,
    }


def stripe_config(s: Settings, key: str | None) -> dict:
    """/etc/louieops/stripe.json: the daily Stripe webhook check (files/scripts/louieops_stripe.py), with the
    restricted key (None: the check alerts that it could not check): root:<health_user> 0640."""
    return {"api_url": s.maintenance_stripe_api_url, "api_key": key, "timeout": 20, "retries": 5}


def admin_logins_config(s: Settings) -> dict:
    """/etc/louieops/admin-logins.json: the admin-login watch (files/scripts/admin-logins)."""
    return {
        "log": layout.ADMIN_LOGIN_LOG,
        "days": s.security_admin_address_days,
        "state": f"{layout.MAINTENANCE_STATE_DIR}/admin-logins.json",
        "send_alert": layout.send_alert(s),
    }


#: How long a release must stay healthy (and its pm2 instances online) to pass the gate.
RELEASE_SETTLE_SECONDS = 5


def backup_kinds(placement: Placement) -> list[str]:
    """The backups made on a host: the database on the primary, uploads and logs where the app runs."""
    kinds = []
    if placement.has(topology.DB):
        kinds.append("db")
    if placement.has(topology.APP):
        kinds += ["uploads", "logs"]
    return [kind for kind in layout.BACKUP_KINDS if kind in kinds]


def release_config(s: Settings, placement: Placement = SINGLE, app_env: dict | None = None) -> dict:
    """/etc/louieops/release.json: how louie-release builds, checks, switches and gates the app's releases.
    ``app_env`` is the app's non-secret environment (as in the ecosystem file): the candidate runs with it. Without
    nginx on the host the gate checks the app's /health directly; with other app hosts behind the lb, the
    release is gated out of the lb's rotation (``drain``)."""
    p = layout.app_paths(s)
    return {
        "app_root": s.app_root,
        "releases_dir": p.releases,
        "current": p.current,
        "app_dir": s.app_dir,
        "app_user": s.app_user,
        "node_env": s.app_node_env,
        "build_command": s.app_build_command,
        "git_url": s.app_git_url,
        "git_mirror": p.git_mirror,
        # linked into every release's app directory: state that outlives releases
        "shared": {"uploads": s.app_uploads_dir, "logs": s.app_log_dir, ".env": p.env_file},
        "pm2": {
            "binary": p.pm2,
            "home": p.pm2_home,
            "unit": layout.pm2_unit(s),
            "process": layout.pm2_process(s),
            "ecosystem": p.ecosystem,
            "cwd": p.code,
            "instances": s.app_instances,
        },
        "candidate": {
            "process": f"{layout.pm2_process(s)}-candidate",
            "port": s.app_candidate_port,
            "script": s.app_entry,
            "env": app_env or {},
            "smoke_paths": list(s.app_smoke_paths),
            "log": f"{s.app_log_dir}/candidate.log",
        },
        "health": {
            "scheme": layout.scheme(s),
            "domain": s.domain_api,
            "path": "/health",
            "verify_tls": s.health_api_tls_verify,
            **({"url": placement.app_health_url} if placement.app_health_url else {}),
        },
        "drain": placement.drain,
        "deadline_seconds": s.app_health_deadline_seconds,
        "settle_seconds": RELEASE_SETTLE_SECONDS,
        "keep_releases": s.app_keep_releases,
        "send_alert": layout.send_alert(s),
    }


def status_config(s: Settings, placement: Placement = SINGLE) -> dict:
    """/etc/louieops/status.json: what `louie-status` shows (the rows of this host's roles)."""
    method = layout.log_shipping_method(s)
    return {
        "app_name": s.app_name,
        "roles": [] if placement.single_server else sorted(placement.roles),
        "app": placement.has(topology.APP),
        "app_user": s.app_user,
        "pm2": layout.app_paths(s).pm2,
        "pm2_home": layout.app_paths(s).pm2_home,
        "current": layout.app_paths(s).current,
        "releases_dir": layout.app_paths(s).releases,
        "services": status_services(s, placement),
        "disk_mounts": s.health_disk_mounts,
        "cert_domains": layout.checked_cert_domains(s) if placement.nginx_here else [],
        "health_state": layout.HEALTH_LAST,
        "alert_state": layout.ALERT_STATE,
        "alert_log": layout.ALERT_LOG,
        "backup_status_dir": layout.BACKUP_STATUS_DIR,
        "backup_kinds": backup_kinds(placement),
        "log_method": method,
        "log_host": s.papertrail_host,
        "log_port": s.papertrail_port,
        "rsyslog_queue_files": f"{RSYSLOG_WORK_DIR}/{RSYSLOG_QUEUE}.*",
    }


def logs_config(s: Settings, placement: Placement = SINGLE) -> dict:
    """/etc/louieops/logs.json: the log files `louie-logs` reads here (the journal is read on every host)."""
    files: dict[str, list[str]] = {}
    if placement.has(topology.APP):
        files["app"] = [f"{s.app_log_dir}/out.log", f"{s.app_log_dir}/error.log"]  # templates/app/ecosystem
    if placement.nginx_here:
        files["nginx"] = [layout.NGINX_ACCESS_LOG, layout.NGINX_ERROR_LOG]
    return {"files": files}


def status_services(s: Settings, placement: Placement = SINGLE) -> list[str]:
    """The units `louie-status` reports on (the ones of this host's roles)."""
    units = [
        *(["nginx.service"] if placement.nginx_here else []),
        *(["postgresql.service"] if placement.database_here else []),
        *([layout.pm2_unit(s)] if placement.has(topology.APP) else []),
        "cron.service",
        "fail2ban.service",
    ]
    shipping = layout.log_shipping_unit(layout.log_shipping_method(s))
    return units + ([shipping] if shipping else [])


def render(config: dict) -> str:
    """The JSON text of a config, with the managed header as its first key."""
    return json.dumps({"_managed": managed("louieops/server_scripts.py"), **config}, indent=2) + "\n"


def put_config(dest: str, config: dict, *, mode: str = "0644", user: str = "root", group: str = "root"):
    """Upload a script's config (``files.put`` of the rendered JSON)."""
    return files.put(name=f"Upload {dest}", src=StringIO(render(config)), dest=dest, user=user, group=group, mode=mode)


def checkin_config(s: Settings, dsn: str | None, host_name: str | None = None) -> dict:
    """/etc/louieops/cron-checkin.json: where and as which monitor each job of sentry_cron_jobs checks in
    (``url`` None without a DSN: the jobs then run without check-ins); ``host_name`` with several servers (each
    host's jobs check in to monitors of their own: checkins.slug)."""
    url, key = checkins.ingest_url(dsn) if dsn else (None, None)
    return {
        "url": url,
        "key": key,
        "environment": s.sentry_environment or "production",
        "monitors": {
            job: {"slug": checkins.slug(s, job, host_name), "monitor_config": checkins.monitor_config(s, job)}
            for job in s.sentry_cron_jobs
        },
    }


def uptime_config(s: Settings, read_key: str) -> dict:
    """/etc/louieops/uptime.json: the daily summary's uptime report (files/scripts/louieops_uptime.py), with
    the UptimeRobot read-only key: root:<health_user> 0640."""
    return {
        "api_url": s.uptimerobot_api_url,
        "api_key": read_key,
        "tag": s.uptimerobot_managed_tag,
        "days": s.maintenance_uptime_report_days,
        "levels": s.kpi_thresholds["uptime_pct"],
        "tiers": s.health_tiers["uptime_pct"],
    }
