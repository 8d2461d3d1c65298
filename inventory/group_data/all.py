# Every setting of the deploy, with its default. This file is the single list: other group files
# (e.g. testbed.py, production.py) and host data only override. Unknown names are rejected, so a
# typo fails the run instead of being ignored. Secrets are never set here: they come from
# environment variables (see README "Secrets").
#
# pyinfra loads this file for every host; `louieops.settings` validates it before anything runs.

# --- Application -------------------------------------------------------------------------------

# Short name of the service; used for the pm2 process (<app_name>-api), log and backup names.
app_name = "simplylouie"
# Unprivileged system user that owns and runs the app (pm2 runs under it, never root).
app_user = "simplylouie"
# Where the app's code lives.
app_root = "/var/www/simplylouie"
# Where the app writes its log files (pm2 out/error logs, shipped to Papertrail).
app_log_dir = "/var/log/simplylouie"
# User-uploaded files (backed up daily).
app_uploads_dir = "/var/www/simplylouie/uploads"
# Port the app listens on, loopback only; nginx proxies to it.
app_port = 3000
# NODE_ENV of the app.
app_node_env = "production"
# Git URL of the real app; None deploys the small reference app shipped in files/app/.
app_git_url = None
# Branch, tag or commit of app_git_url to deploy.
app_git_ref = "main"
# Number of pm2 instances (cluster mode when > 1).
app_instances = 1
# pm2 restarts the app when its memory passes this.
app_max_memory_restart = "400M"
# Where health, backup and maintenance scripts are installed.
scripts_dir = "/opt/scripts"

# --- Domains -----------------------------------------------------------------------------------

# Public homepage.
domain_homepage = "simplylouie.com"
# API (serves /health).
domain_api = "api.simplylouie.com"
# Admin dashboard.
domain_admin = "louiesystem.com"
# WebSocket endpoint.
domain_websocket = "ws.simplylouie.com"

# --- Base system -------------------------------------------------------------------------------

# System timezone.
base_timezone = "UTC"
# System locale.
base_locale = "en_US.UTF-8"
# Seconds an apt package list stays fresh before the deploy runs apt-get update again.
apt_cache_time = 86400
# Install and enable unattended security upgrades.
base_unattended_upgrades = True
# Extra Debian packages to install on the server.
base_extra_packages = []

# --- PostgreSQL --------------------------------------------------------------------------------

# Database of the app.
postgresql_database = "simplylouie"
# Login role of the app (password from LOUIE_DB_PASSWORD).
postgresql_role = "simplylouie"
# Share of the host's RAM given to shared_buffers (effective_cache_size gets 3x this).
postgresql_shared_buffers_ratio = 0.25
# work_mem in MB.
postgresql_work_mem_mb = 16
# max_connections.
postgresql_max_connections = 100

# --- Node.js and pm2 ---------------------------------------------------------------------------

# Where Node.js comes from: "debian" (Debian's own package) or "nodesource" (signed upstream repo).
nodejs_source = "debian"
# Node.js major version when nodejs_source = "nodesource".
nodejs_nodesource_major = 22
# pm2 version installed with npm (pinned).
pm2_version = "7.0.4"

# --- nginx -------------------------------------------------------------------------------------

# Sustained request rate allowed per client IP on the API (nginx limit_req rate).
nginx_api_rate_limit = "10r/s"
# Requests above the rate that are queued before nginx answers 429.
nginx_api_rate_burst = 20
# Seconds nginx keeps an idle proxied connection (websockets) open.
nginx_proxy_read_timeout = 3600
# HSTS max-age in seconds (2 years).
nginx_hsts_max_age = 63072000
# Largest accepted request body.
nginx_client_max_body_size = "10m"

# --- TLS certificates (certbot) ----------------------------------------------------------------

# Issue certificates with certbot; False serves plain HTTP only (not for production).
certbot_enabled = True
# Account e-mail for the ACME server (expiry notices).
certbot_email = "ops@simplylouie.com"
# ACME directory URL (Let's Encrypt production; the test server points this at Pebble).
certbot_acme_server = "https://acme-v02.api.letsencrypt.org/directory"

# --- Backups -----------------------------------------------------------------------------------

# Where local backups are kept.
backup_dir = "/backups"
# System user that runs the backup jobs.
backup_user = "backup-runner"
# Cron schedule of the database backup (every 6 hours).
backup_db_schedule = "0 */6 * * *"
# Cron schedule of the uploads backup (daily).
backup_uploads_schedule = "30 3 * * *"
# Cron schedule of the logs backup (weekly).
backup_logs_schedule = "45 4 * * 0"
# Cron schedule of the daily backup freshness check.
backup_verify_schedule = "15 7 * * *"
# Cron schedule of the monthly restore drill.
backup_restore_drill_schedule = "0 5 1 * *"
# Days local backup copies are kept.
backup_local_retention_days = 7
# S3 bucket receiving the backups; None keeps backups local only.
backup_s3_bucket = "simplylouie-backups"
# S3 endpoint URL for S3-compatible stores; None means AWS.
backup_s3_endpoint_url = None
# S3 region.
backup_s3_region = "us-east-1"
# Days each kind of backup is kept in S3 (bucket lifecycle rules).
backup_s3_retention_days = {"db": 30, "uploads": 90, "logs": 90}

# --- Log shipping (Papertrail) -----------------------------------------------------------------

# How logs reach Papertrail: "rsyslog" (Debian's rsyslog over TLS), "remote_syslog2", or "none".
papertrail_method = "rsyslog"
# Papertrail log destination host.
papertrail_host = "logs.papertrailapp.com"
# Papertrail log destination port (from your Papertrail account); None disables log shipping.
papertrail_port = None
# CA bundle used to verify the Papertrail TLS endpoint.
papertrail_ca_file = "/etc/ssl/certs/ca-certificates.crt"
# remote_syslog2 release to install when papertrail_method = "remote_syslog2".
remote_syslog2_version = "0.21"
# sha256 of the remote_syslog2 linux amd64 tarball; the install refuses any other file.
remote_syslog2_sha256 = "ed8a0b5a8bd8ed2c6a8c49d6b9b0a2a9e67b8d0bbe3b4cc6e5d3e3a9b19f2d2a"
# Where to get the tarball: an https URL ({version} is substituted) or an absolute local path.
remote_syslog2_source = (
    "https://github.com/papertrail/remote_syslog2/releases/download/v{version}/remote_syslog_linux_amd64.tar.gz"
)

# --- Alert routing -----------------------------------------------------------------------------

# Slack channels and the environment variable holding each channel's incoming-webhook URL.
alert_slack_webhooks = {
    "alerts-critical": "SLACK_WEBHOOK_CRITICAL",
    "alerts-high": "SLACK_WEBHOOK_HIGH",
    "alerts-general": "SLACK_WEBHOOK_GENERAL",
}
# Where each alert tier goes (seed §4): Slack channels, e-mail, SMS (Twilio, P1 only by default).
alert_routes = {
    "P1": {"slack": ["alerts-critical"], "email": True, "sms": True},
    "P2": {"slack": ["alerts-high"], "email": True, "sms": False},
    "P3": {"slack": ["alerts-general"], "email": False, "sms": False},
    "P4": {"slack": ["alerts-general"], "email": False, "sms": False},
}
# Recipient of e-mail alerts.
alert_email_to = "ops@simplylouie.com"
# Recipient phone number of SMS alerts (E.164), None disables SMS.
alert_sms_to = None
# The same alert is not resent within this many minutes.
alert_dedup_minutes = 60

# --- KPI thresholds (seed §5) ------------------------------------------------------------------

# Target, warning and critical level of each KPI; None where the seed gives none.
kpi_thresholds = {
    "uptime_pct": {"target": 99.9, "warning": 99.5, "critical": 99.0},
    "api_p50_ms": {"target": 200, "warning": 500, "critical": 1000},
    "api_p99_ms": {"target": 1000, "warning": 2000, "critical": 5000},
    "error_rate_pct": {"target": 0.1, "warning": 1, "critical": 5},
    "db_query_ms": {"target": 50, "warning": 100, "critical": 500},
    "memory_pct": {"target": 70, "warning": 85, "critical": 95},
    "cpu_pct": {"target": 50, "warning": 80, "critical": 95},
    "websocket_connections": {"target": None, "warning": 1000, "critical": 5000},
    "disk_pct": {"target": 70, "warning": 80, "critical": 90},
    "cert_expiry_days": {"target": 30, "warning": 14, "critical": 7},
}
# Cron schedule of the health check.
health_schedule = "*/5 * * * *"

# --- UptimeRobot -------------------------------------------------------------------------------

# UptimeRobot API base URL (v3).
uptimerobot_api_url = "https://api.uptimerobot.com/v3"
# Requests per minute allowed by your plan (free plan: 10).
uptimerobot_requests_per_minute = 10
# Delete monitors that this deploy manages but that are no longer listed below.
uptimerobot_prune = False
# Monitors to keep registered. {domain_*} placeholders are filled from the domain settings.
uptimerobot_monitors = [
    {"name": "simplylouie.com - Homepage", "type": "http", "url": "https://{domain_homepage}",
     "interval": 300, "alert_contacts": ["email", "slack"]},
    {"name": "API Health Check", "type": "keyword", "url": "https://{domain_api}/health",
     "keyword": '{"status":"healthy"}', "keyword_alert_when": "not_exists",
     "interval": 300, "alert_contacts": ["email", "slack"]},
    {"name": "Admin Dashboard", "type": "http", "url": "https://{domain_admin}",
     "interval": 300, "alert_contacts": ["email", "slack"]},
    {"name": "WebSocket Endpoint", "type": "port", "url": "{domain_websocket}", "port": 443,
     "interval": 300, "alert_contacts": ["email", "slack"]},
]

# --- Sentry ------------------------------------------------------------------------------------

# Sentry base URL (sentry.io or your self-hosted instance).
sentry_api_url = "https://sentry.io"
# Sentry organization slug.
sentry_org = "simplylouie"
# Sentry project slug.
sentry_project = "simplylouie-api"
# Which alert API to use: "auto" (detect), "workflows" (current) or "legacy" (/rules/, /alert-rules/).
sentry_api_mode = "auto"
# Delete alerts/monitors that this deploy manages but that are no longer listed.
sentry_prune = False
