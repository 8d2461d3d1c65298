"""Where things live on the server, and the names derived from the settings: one home for each.

Every task, template variable and server-script config takes its paths and names from here, so a file
found on the server leads back to one definition. Paths that only one task writes and nothing else
reads (an nginx snippet, a fail2ban filter) stay as constants of that task.
"""

from __future__ import annotations

from dataclasses import dataclass

from .settings import Settings

# --- louieops' own directories ------------------------------------------------------------------------

#: Configuration of the server-side scripts (JSON and KEY=VALUE files written by the deploy).
CONFIG_DIR = "/etc/louieops"
#: State the server-side scripts keep between runs, one subdirectory per job.
STATE_ROOT = "/var/lib/louieops"
ALERT_STATE_DIR = f"{STATE_ROOT}/alerts"
HEALTH_STATE_DIR = f"{STATE_ROOT}/health"
MAINTENANCE_STATE_DIR = f"{STATE_ROOT}/maintenance"
#: The monthly load tests' results, one JSON line per run (the newest LOAD_TEST_HISTORY_KEEP).
LOAD_TEST_HISTORY = f"{MAINTENANCE_STATE_DIR}/load-test-history.jsonl"
LOAD_TEST_HISTORY_KEEP = 36
#: The last good run of each backup kind (<kind>.json), written by the backup jobs, read by the reports.
BACKUP_STATUS_DIR = f"{STATE_ROOT}/backup-status"
#: Home of the monitor user (health check, maintenance jobs): npm's cache for `npm audit` lives here.
MONITOR_HOME = f"{STATE_ROOT}/monitor"

# --- configuration files of the server-side scripts ---------------------------------------------------

ALERTS_CONFIG = f"{CONFIG_DIR}/alerts.json"
ALERTS_SECRETS = f"{CONFIG_DIR}/alerts-secrets.json"
HEALTH_CONFIG = f"{CONFIG_DIR}/health.json"
MAINTENANCE_CONFIG = f"{CONFIG_DIR}/maintenance.json"
STATUS_CONFIG = f"{CONFIG_DIR}/status.json"
#: Which log files `louie-logs` reads on this host (the ones of its roles).
LOGS_CONFIG = f"{CONFIG_DIR}/logs.json"
RELEASE_CONFIG = f"{CONFIG_DIR}/release.json"
BACKUP_CONFIG = f"{CONFIG_DIR}/backup.conf"
BACKUP_S3_CREDENTIALS = f"{CONFIG_DIR}/backup-s3-credentials"
# LOUIE_BACKUP_PASSPHRASE for the uploads and log archives sent to S3 (0600, the backup user)
BACKUP_PASSPHRASE = f"{CONFIG_DIR}/backup-passphrase"
#: pgBackRest's configuration: the S3 repository, its keys and cipher passphrase (postgres 0600).
PITR_CONFIG = "/etc/pgbackrest/pgbackrest.conf"
#: The point-in-time restore's settings (the database, its owner, the port a restored copy starts on).
PITR_RESTORE_CONFIG = f"{CONFIG_DIR}/restore-db.json"
#: The last good pgBackRest backup (time, type), written by louie-pitr-backup, read by the health check.
PITR_STATUS = f"{BACKUP_STATUS_DIR}/pitr.json"
#: The last `pgbackrest check` (time, when it last passed, the error), by louie-pitr-backup check (hourly, as
#: root); the health check, which has no access to the repository's keys, reads it (pitr_check_age_hours).
PITR_CHECK_STATUS = f"{BACKUP_STATUS_DIR}/pitr-check.json"
#: Where the scheduled jobs check in to Sentry Crons (holds the DSN's public key: root:<alert_group> 0640).
CHECKIN_CONFIG = f"{CONFIG_DIR}/cron-checkin.json"
#: The daily uptime report's UptimeRobot read-only key and levels (root:<health_user> 0640).
UPTIME_CONFIG = f"{CONFIG_DIR}/uptime.json"
#: The daily Stripe webhook check's API and restricted key (root:<health_user> 0640).
STRIPE_CONFIG = f"{CONFIG_DIR}/stripe.json"
#: The health check's secrets: the app's admin token for its websocket count (root:<health_user> 0640).
HEALTH_SECRETS = f"{CONFIG_DIR}/health-secrets.json"

# --- state files read by more than one script ---------------------------------------------------------

ALERT_STATE = f"{ALERT_STATE_DIR}/state.json"
ALERT_LOG = f"{ALERT_STATE_DIR}/alerts.log"
HEALTH_LAST = f"{HEALTH_STATE_DIR}/last.json"
#: The health check's KPIs, one JSON line per run (health_history_days of them).
HEALTH_HISTORY = f"{HEALTH_STATE_DIR}/kpi-history.jsonl"
#: The System Health page (seed §1) on the admin domain: its static files (root's), the data the health check
#: writes for it (<health_user>:www-data 0750), the URL path, and the admin login nginx asks for.
HEALTH_PAGE_FILES = "/usr/local/share/louieops/health-page"
HEALTH_PAGE_DATA_DIR = f"{STATE_ROOT}/health-page"
HEALTH_PAGE_DATA = f"{HEALTH_PAGE_DATA_DIR}/data.json"
HEALTH_PAGE_PATH = "/system-health/"
HEALTH_PAGE_HTPASSWD = "/etc/nginx/louieops-health-page.htpasswd"
#: The health check's last /proc/stat sample: the CPU KPI is the busy share since then.
HEALTH_CPU_SAMPLE = f"{HEALTH_STATE_DIR}/cpu.json"

# --- nginx ---------------------------------------------------------------------------------------------

#: nginx's access log, in the "louieops" format (templates/nginx/nginx.conf.j2) the API's KPIs are read from.
NGINX_ACCESS_LOG = "/var/log/nginx/access.log"

# --- scripts (installed in scripts_dir) and what they are reached by -----------------------------------

#: The standard-library module every server-side Python script imports (files/scripts/).
SCRIPT_LIBRARY = "louieops_common.py"
#: send-alert's channels (Slack, e-mail, SMS), installed next to it.
CHANNELS_LIBRARY = "louieops_channels.py"
#: The health check's KPI measurements (access log, /proc/stat, psql's timing), installed next to it.
KPIS_LIBRARY = "louieops_kpis.py"
#: The health check's KPI history and the System Health page's data (files/scripts/louieops_history.py).
HISTORY_LIBRARY = "louieops_history.py"
#: The sendmail of the e-mail relay (msmtp-mta), which send-alert hands alert e-mail to.
SENDMAIL = "/usr/sbin/sendmail"
STATUS_COMMAND = "/usr/local/bin/louie-status"
RELEASE_COMMAND = "/usr/local/bin/louie-release"
#: This host's logs in one stream (files/scripts/louie-logs); `louieops logs` runs it on every host of a role.
LOGS_COMMAND = "/usr/local/bin/louie-logs"
#: nginx's 503 page for planned work (files/scripts/louie-maintenance-mode), on the host serving the public names.
MAINTENANCE_MODE_COMMAND = "/usr/local/bin/louie-maintenance-mode"
#: Where it writes the snippets the closed locations include (the deploy makes the directory, never its files).
MAINTENANCE_MODE_DIR = "/etc/nginx/louieops-maintenance"
BACKUP_KINDS = ("db", "uploads", "logs")
#: Restore the database to a point in time from the pgBackRest repository (backup_pitr).
PITR_RESTORE_COMMAND = "/usr/local/bin/louie-restore-db"
#: A PostgreSQL major upgrade in maintenance mode (files/scripts/louie-pg-upgrade), run by the deploy when the
#: Debian release's PostgreSQL is newer than the cluster (tasks/postgresql.py).
PG_UPGRADE_COMMAND = "/usr/local/bin/louie-pg-upgrade"
#: The Debian release upgrade's server half (files/scripts/louie-os-upgrade), run by `louieops os-upgrade`.
OS_UPGRADE_COMMAND = "/usr/local/bin/louie-os-upgrade"
#: The load balancer's upstreams: the app hosts (tasks/nginx.py writes it; os-upgrade marks a host "down" in it).
NGINX_UPSTREAMS = "/etc/nginx/conf.d/louieops-upstreams.conf"
#: One pgBackRest backup (full|diff|incr) or verify, with its alert and status record (cron, the first deploy).
PITR_BACKUP_COMMAND = "/usr/local/bin/louie-pitr-backup"
#: The pgBackRest stanza: one PostgreSQL cluster per inventory (its repository path carries cluster_name).
PITR_STANZA = "main"
#: Set by `louieops rebuild` for its deploys: the bucket's repository belongs to the server being rebuilt, and
#: the restore reads it next (tasks/pitr.py neither creates a stanza nor backs the fresh cluster up into it).
REBUILD_ENV = "LOUIEOPS_REBUILD"
#: PostgreSQL's archive_command with backup_pitr: the segment to pgBackRest (asynchronous, from its spool).
PITR_ARCHIVE_COMMAND = f"pgbackrest --stanza={PITR_STANZA} archive-push %p"
#: pgBackRest's spool (asynchronous archive-push queue) and logs.
PITR_SPOOL_DIR = "/var/spool/pgbackrest"
PITR_LOG_DIR = "/var/log/pgbackrest"
#: pgBackRest's TLS with a hot standby (backups read from it, tasks/pitr.py): the database CA, the standby's
#: server pair (its pgbackrest.service) and the primary's client pair. postgres reads them; keys 0600.
PITR_TLS_DIR = "/etc/pgbackrest/tls"
PITR_TLS_CA = f"{PITR_TLS_DIR}/ca.crt"
PITR_TLS_SERVER_CERT = f"{PITR_TLS_DIR}/server.crt"
PITR_TLS_SERVER_KEY = f"{PITR_TLS_DIR}/server.key"
PITR_TLS_CLIENT_CERT = f"{PITR_TLS_DIR}/client.crt"
PITR_TLS_CLIENT_KEY = f"{PITR_TLS_DIR}/client.key"

# --- cron files ------------------------------------------------------------------------------------------

HEALTH_CRON = "/etc/cron.d/louieops-health-check"
ALERT_CRON = "/etc/cron.d/louieops-alerts"
MAINTENANCE_CRON = "/etc/cron.d/louieops-maintenance"
BACKUP_CRON = "/etc/cron.d/louieops-backup"
PITR_CRON = "/etc/cron.d/louieops-pitr"

ACME_WEBROOT = "/var/www/letsencrypt"

# --- logs the security monitoring reads (nginx writes them: templates/nginx/; the access log above) ------

#: limit_req rejections ("limiting requests, excess: ... client: <ip>") land here.
NGINX_ERROR_LOG = "/var/log/nginx/error.log"
#: One line per successful admin-dashboard login (templates/nginx/louieops-admin-logins.conf.j2).
ADMIN_LOGIN_LOG = "/var/log/nginx/admin-logins.log"
ADMIN_LOGINS_CONFIG = f"{CONFIG_DIR}/admin-logins.json"


def script(settings: Settings, name: str) -> str:
    """Where the server-side script ``name`` (send-alert, health-check, ...) is installed."""
    return f"{settings.scripts_dir}/{name}"


def fresh_backup_command(settings: Settings, pitr: bool) -> list[str]:
    """The backup taken before an upgrade (os-upgrade, louie-pg-upgrade): an incremental pgBackRest backup with
    backup_pitr, else the backup-db dump as the backup user (as its cron job runs it)."""
    if pitr:
        return [PITR_BACKUP_COMMAND, "incr"]
    return ["runuser", "-u", settings.backup_user, "--", script(settings, "backup-db")]


def health_gate_command(settings: Settings, checks: str) -> list[str]:
    """The health check's named checks, no alert sent: the gate after an upgrade."""
    return [script(settings, "health-check"), "--no-alert", "--only", checks]


def send_alert(settings: Settings) -> str:
    return script(settings, "send-alert")


def home_of(user: str) -> str:
    """Home directory of a login-less service user created with a home (pm2 keeps its state there)."""
    return f"/home/{user}"


def scheme(settings: Settings) -> str:
    """How the public names are served: https once certbot issues the certificate, else plain http."""
    return "https" if settings.certbot_enabled else "http"


def public_domains(settings: Settings) -> list[str]:
    """The four public names in settings order, without duplicates (nginx, certbot, checks, reports)."""
    names = (settings.domain_homepage, settings.domain_api, settings.domain_admin, settings.domain_websocket)
    return list(dict.fromkeys(names))


def sites(settings: Settings) -> list[dict]:
    """The public names and what each one serves (the nginx server blocks)."""
    return [
        {"domain": settings.domain_homepage, "role": "homepage"},
        {"domain": settings.domain_api, "role": "api"},
        {"domain": settings.domain_admin, "role": "admin"},
        {"domain": settings.domain_websocket, "role": "websocket"},
    ]


def checked_cert_domains(settings: Settings) -> list[str]:
    """Names whose served certificate the health check and reports watch (none when TLS is off)."""
    return sorted(public_domains(settings)) if settings.certbot_enabled else []


def pm2_process(settings: Settings) -> str:
    """The app's process name in pm2."""
    return f"{settings.app_name}-api"


def pm2_unit(settings: Settings) -> str:
    """The systemd unit that runs the app user's pm2 daemon."""
    return f"pm2-{settings.app_user}.service"


@dataclass(frozen=True)
class AppPaths:
    """Where the pieces of the app live on the server."""

    releases: str  # releases/<UTC time>-<short sha>/, one tree per deployed commit (root-owned)
    current: str  # the link to the live release, replaced by an atomic rename
    code: str  # the live app: current/<app_dir>, where pm2 runs it (pm2 keeps this path, not its target)
    git_mirror: str  # a mirror of app_git_url, fetched before each build (app user)
    source: str  # the reference app's files, uploaded by the deploy when app_git_url is None
    legacy_code: str  # where deploys before releases kept the code in place; removed once a release is live
    ecosystem: str  # pm2's ecosystem file
    env_dir: str
    env_file: str  # the app's secrets (0600, app user)
    state_dir: str  # the app's own state that outlives releases (feature toggles, their audit log)
    pm2_home: str
    pm2: str  # the pm2 binary


def app_paths(settings: Settings) -> AppPaths:
    root = settings.app_root
    current = f"{root}/current"
    return AppPaths(
        releases=f"{root}/releases",
        current=current,
        code=f"{current}/{settings.app_dir}" if settings.app_dir else current,
        git_mirror=f"{root}/repo.git",
        source=f"{root}/source",
        legacy_code=f"{root}/app",
        ecosystem=f"{root}/ecosystem.config.js",
        env_dir=f"/etc/{settings.app_name}",
        env_file=f"/etc/{settings.app_name}/app.env",
        state_dir=f"/var/lib/{settings.app_name}",
        pm2_home=f"{home_of(settings.app_user)}/.pm2",
        # Debian's npm installs global packages under /usr/local, NodeSource's under /usr.
        pm2="/usr/local/bin/pm2" if settings.nodejs_source == "debian" else "/usr/bin/pm2",
    )


def app_audit_log(settings: Settings) -> str:
    """Where the app records each feature-toggle and killswitch change (the maintenance job alerts on it)."""
    return f"{app_paths(settings).state_dir}/audit.log"


def log_shipping_method(settings: Settings) -> str:
    """The effective method: "none" when no Papertrail port is configured."""
    return "none" if settings.papertrail_port is None else settings.papertrail_method


def log_shipping_unit(method: str) -> str | None:
    return {"rsyslog": "rsyslog.service", "remote_syslog2": "remote_syslog.service"}.get(method)


# --- the database's TLS (several servers: louieops/dbtls.py) --------------------------------------------

#: The database CA's certificate (every database host and client) and a database server's own pair.
DB_TLS_DIR = f"{CONFIG_DIR}/db-tls"
DB_TLS_CA = f"{DB_TLS_DIR}/ca.crt"
DB_TLS_CERT = f"{DB_TLS_DIR}/server.crt"
DB_TLS_KEY = f"{DB_TLS_DIR}/server.key"
