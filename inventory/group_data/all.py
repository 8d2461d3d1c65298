# Every setting of the deploy, with its default. This file is the single list: other group files
# (e.g. testbed.py, production.py) and host data only override. Unknown names are rejected, so a
# typo fails the run instead of being ignored. Secrets are never set here: they come from
# environment variables (see docs/settings.md "Secrets").
#
# pyinfra loads this file for every host; `louieops.settings` validates it before anything runs.

# --- Application -------------------------------------------------------------------------------

# Short name of the service; used for the pm2 process (<app_name>-api), log and backup names.
app_name = "simplylouie"
# Unprivileged system user that owns and runs the app (pm2 runs under it, never root).
app_user = "simplylouie"
# Where the app's releases live: <app_root>/releases/<UTC time>-<short sha>/ and the <app_root>/current link.
app_root = "/var/www/simplylouie"
# Where the app writes its log files (pm2 out/error logs, shipped to Papertrail).
app_log_dir = "/var/log/simplylouie"
# User-uploaded files (backed up daily); linked into each release as <app_dir>/uploads.
app_uploads_dir = "/var/www/simplylouie/uploads"
# Port the app listens on, loopback only; nginx proxies to it.
app_port = 3000
# NODE_ENV of the app.
app_node_env = "production"
# Git URL of the real app (https://, ssh://, git:// or user@host:path); None deploys the small reference app
# shipped in files/app/. The server fetches it as app_user: give that user the deploy key for a private repo.
app_git_url = None
# What to deploy from app_git_url: a branch (its newest commit on each deploy), a tag or a full 40-character
# commit (exactly that, so the next deploy changes nothing).
app_git_ref = "main"
# Directory inside the repository that holds package.json ("" for the repository root; "backend" for the seed's app).
app_dir = ""
# The app's entry file, relative to app_dir.
app_entry = "server.js"
# Command run in app_dir after `npm ci --omit=dev`, as app_user (e.g. "npm run build"); None runs nothing.
app_build_command = None
# Releases kept on the server (the live one included); older ones are removed after a successful switch.
app_keep_releases = 5
# Seconds a new release has to answer /health through nginx (and stay online in pm2) before it is rolled back.
app_health_deadline_seconds = 60
# Loopback port a new release listens on while it is checked, beside the live one, before any request reaches it.
app_candidate_port = 3100
# Paths a new release must answer with 2xx (GET, on app_candidate_port) besides /health before it takes traffic,
# e.g. ["/api/claude/status"].
app_smoke_paths = []
# Seconds an old release has to finish its requests in flight and close its websockets once it is replaced
# (pm2's kill_timeout); then it is stopped.
app_drain_seconds = 5
# Share of requests the app traces to Sentry (seed §2.2: 0.1); used when SENTRY_DSN is set.
app_sentry_traces_sample_rate = 0.1
# Number of pm2 instances (cluster mode when > 1: releases switch without a dropped request).
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
# Seconds the deploy waits for another apt or dpkg run (unattended-upgrades, a cancelled deploy's apt-get that
# goes on) to release its locks before it gives up; it says whom it waits for.
apt_lock_wait_seconds = 600
# Install and enable unattended security upgrades.
base_unattended_upgrades = True
# Extra Debian packages to install on the server.
base_extra_packages = []
# nftables firewall: drop every inbound connection except SSH (22), HTTP (80) and HTTPS (443).
base_firewall_enabled = True
# Shown before every login (SSH banner, /etc/issue, /etc/issue.net): who may use the server and that it is watched.
base_login_banner = "Authorised access only. Activity on this system is logged and monitored."
# Apply the pending Debian security updates during the deploy (unattended-upgrade), not only at the next daily run.
base_apply_security_updates = True

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
# How a major upgrade (a new Debian release's PostgreSQL, docs/upgrades.md) moves the data: pg_upgradecluster's
# "upgrade" (pg_upgrade, a copy: the old cluster stays intact until the new one passed), "dump" (slowest) or
# "link" (hard links: fastest and no second copy on disk, but no way back but the backup once it started).
postgresql_upgrade_method = "upgrade"

# --- Node.js and pm2 ---------------------------------------------------------------------------

# Where Node.js comes from: "debian" (Debian's own package) or "nodesource" (signed upstream repo).
nodejs_source = "debian"
# Node.js major version when nodejs_source = "nodesource".
nodejs_nodesource_major = 22
# pm2 version installed with npm (pinned).
pm2_version = "7.0.4"

# --- nginx -------------------------------------------------------------------------------------

# Sustained request rate allowed per client IP on the API (nginx limit_req rate); requests from the host itself
# (the monthly load test) are not limited.
nginx_api_rate_limit = "10r/s"
# Requests above the rate that are queued before nginx answers 429.
nginx_api_rate_burst = 20
# Seconds nginx keeps an idle proxied connection (websockets) open.
nginx_proxy_read_timeout = 3600
# HSTS max-age in seconds (2 years).
nginx_hsts_max_age = 63072000
# Largest accepted request body.
nginx_client_max_body_size = "10m"
# Failed attempts (refused, timed out, 502/503/504) that take an app host out of the lb's rotation (passive check).
nginx_upstream_max_fails = 1
# Seconds an app host stays out of rotation after nginx_upstream_max_fails failures, before nginx tries it again.
nginx_upstream_fail_timeout = 10

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
# Days local backups are kept (database dumps always; uploads and logs archives only without a bucket).
backup_local_retention_days = 7
# S3 bucket receiving the backups; the deploy creates it when missing and sets its lifecycle rules.
# None keeps backups local only.
backup_s3_bucket = "simplylouie-backups"
# S3 endpoint URL for S3-compatible stores; None means AWS.
backup_s3_endpoint_url = None
# S3 region.
backup_s3_region = "us-east-1"
# Days each kind of backup is kept in S3 (bucket lifecycle rules on the db/, uploads/, logs/ prefixes).
backup_s3_retention_days = {"db": 30, "uploads": 90, "logs": 90}
# Point-in-time recovery with pgBackRest (docs/backups.md): PostgreSQL's WAL archived to the bucket as it is
# written, full and differential backups on the schedules below, the repository encrypted with
# LOUIE_BACKUP_PASSPHRASE; `louie-restore-db --to TIME` restores to any moment since the oldest full backup.
# Turning it on restarts PostgreSQL once (archive_mode).
backup_pitr = False
# Seconds after which a partly filled WAL segment is archived anyway: at most this much committed data is lost.
backup_pitr_archive_timeout = 60
# Cron schedule of the full pgBackRest backup (weekly).
backup_pitr_full_schedule = "30 1 * * 0"
# Cron schedule of the differential pgBackRest backup (every 6 hours).
backup_pitr_diff_schedule = "0 */6 * * *"
# Cron schedule of `pgbackrest verify`, which reads back every backup and WAL file of the repository (weekly).
backup_pitr_verify_schedule = "30 4 * * 6"
# Cron schedule of `pgbackrest check` (hourly): the configuration, the repository and the archive end to end
# (it switches to a new WAL segment and waits until that is archived); the health check alerts when it has not
# passed for a while (pitr_check_age_hours).
backup_pitr_check_schedule = "17 * * * *"
# Cron schedule of the monthly restore drill (`louie-restore-db --drill --alert`): two rows written around a
# moment in its own database, the cluster restored to that moment into a scratch copy (free disk for one copy
# needed), the row before it back and the one after it not; a P4 report, or a P2 when it fails. None: no drill.
backup_pitr_drill_schedule = "0 5 2 * *"
# Full backups kept (with their differentials and the WAL to replay them); the recoverable range starts at
# the oldest one.
backup_pitr_retention_full = 4
# With a hot standby (db_standby): the backups read the database's files from it, not from the primary
# (pgBackRest's TLS server on the standby, port 8432, open to the primary only); the primary only starts and
# stops them. Not with standby_apply_delay_minutes, and a standby that does not answer leaves them to the primary.
backup_pitr_from_standby = True
# S3 endpoint of the pgBackRest repository when it differs from backup_s3_endpoint_url (None: the same).
# pgBackRest speaks S3 over https only.
backup_pitr_s3_endpoint_url = None
# CA bundle that verifies that endpoint (None: the system's).
backup_pitr_s3_ca_file = None

# --- Log shipping (Papertrail) -----------------------------------------------------------------

# How logs reach Papertrail: "rsyslog" (Debian's rsyslog over TLS), "remote_syslog2", or "none".
papertrail_method = "rsyslog"
# Papertrail log destination host.
papertrail_host = "logs.papertrailapp.com"
# Papertrail log destination port (from your Papertrail account); None disables log shipping.
papertrail_port = None
# CA bundle on the server used to verify the Papertrail TLS endpoint (put papertrail-bundle.pem there if needed).
papertrail_ca_file = "/etc/ssl/certs/ca-certificates.crt"
# Certificate name rsyslog accepts from the endpoint (x509/name); Papertrail's own setup uses "*.papertrailapp.com".
# None means exactly papertrail_host.
papertrail_permitted_peer = "*.papertrailapp.com"
# Most disk space rsyslog may use to buffer lines while Papertrail is unreachable (disk-assisted queue).
papertrail_queue_max_disk = "1g"
# Papertrail's API (saved searches; the token comes from PAPERTRAIL_API_TOKEN).
papertrail_api_url = "https://papertrailapp.com/api/v1"
# Saved searches kept in Papertrail (seed §2.3, §9), matched by exact name: missing ones are created, existing
# ones adopted (a different query is reported: the API cannot change one). nginx's access log is shipped too
# and marks 5xx answers with http_5xx and requests slower than kpi_thresholds.api_p99_ms's warning level with
# slow_request. Papertrail's API cannot create the alerts on them: docs/monitors.md "Logs in Papertrail"
# says what to click.
papertrail_saved_searches = [
    {"name": "Login failed", "query": '"Login failed"'},
    {"name": "5xx", "query": "http_5xx"},
    {"name": "Slow requests", "query": "slow_request"},
    {"name": "ECONNREFUSED", "query": "ECONNREFUSED"},
]
# How long a saved search whose create got no clear answer is looked for before the run stops (never sent twice).
papertrail_settle_minutes = 10
# remote_syslog2 release to install when papertrail_method = "remote_syslog2".
remote_syslog2_version = "0.21"
# sha256 of the remote_syslog2 linux amd64 tarball; the install refuses any other file. No default on purpose:
# required when papertrail_method = "remote_syslog2" (take it from a tarball you verified; `sha256sum FILE`).
remote_syslog2_sha256 = None
# Where to get the tarball: an https URL ({version} is substituted) or an absolute path on the controller.
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
# The name alert messages carry in Slack (seed §4); each message also names its channel (#<channel>).
alert_slack_username = "SimplyLouie Alerts"
# The icon of alert messages in Slack (an emoji code, seed §4).
alert_slack_icon_emoji = ":dog:"
# Recipient of e-mail alerts; None disables e-mail.
alert_email_to = "ops@simplylouie.com"
# Sender address of e-mail alerts (the smarthost must accept it as the envelope and header sender).
alert_email_from = "alerts@simplylouie.com"
# SMTP smarthost the server relays alert e-mail through (msmtp-mta: an alert counts as e-mailed only once the
# smarthost took it); None sends no e-mail.
alert_smtp_host = None
# Port of the smarthost (587: submission with STARTTLS; 465: TLS from the first byte).
alert_smtp_port = 587
# TLS to the smarthost: "starttls", "tls" (port 465 style) or "none" (only for a relay on this host).
alert_smtp_tls = "starttls"
# Login at the smarthost (password from ALERT_SMTP_PASSWORD); None sends without logging in.
alert_smtp_user = None
# CA bundle on the server that verifies the smarthost's certificate.
alert_smtp_ca_file = "/etc/ssl/certs/ca-certificates.crt"
# Recipient phone number of SMS alerts (E.164), None disables SMS.
alert_sms_to = None
# Twilio API base URL (SMS alerts; credentials from TWILIO_* environment variables).
alert_twilio_api_url = "https://api.twilio.com"
# An alert raised without a key (it cannot be resolved) is not sent again within this many minutes. Alerts
# with a key stay open until they resolve and are repeated only as alert_escalation says.
alert_dedup_minutes = 60
# Open alerts repeated until they resolve or someone runs `send-alert ack KEY` (seed §4 response times):
# minutes between repeats, and whether the repeats also go by SMS (needs alert_sms_to and TWILIO_*). Tiers
# not listed (P3, P4) are sent once.
alert_escalation = {
    "P1": {"repeat_minutes": 15, "sms": True},
    "P2": {"repeat_minutes": 60, "sms": False},
}
# Group whose members may run send-alert (read the webhook secrets, write the alert state).
alert_group = "alerts"

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
    # backup_pitr only: minutes WAL archiving has been failing (0 while it works); hours since the last good
    # pgBackRest backup (the defaults suit differentials every 6 hours)
    "wal_archive_failing_minutes": {"target": 0, "warning": 5, "critical": 15},
    "pitr_backup_age_hours": {"target": 6, "warning": 7, "critical": 13},
    "pitr_check_age_hours": {"target": 1, "warning": 2, "critical": 3},
}
# Alert tier of each health check (seed §4: P1 site down ... P4 warnings): the up/down checks (api, database)
# have only a critical tier, every KPI a warning and a critical one. uptime_pct is checked by the daily
# summary (UptimeRobot's uptime ratios), the others by the health check every few minutes.
health_tiers = {
    "api": {"critical": "P1"},
    "database": {"critical": "P1"},
    "api_p50_ms": {"warning": "P3", "critical": "P2"},
    "api_p99_ms": {"warning": "P3", "critical": "P2"},
    "error_rate_pct": {"warning": "P3", "critical": "P2"},
    "db_query_ms": {"warning": "P3", "critical": "P2"},
    "disk_pct": {"warning": "P3", "critical": "P2"},
    "memory_pct": {"warning": "P4", "critical": "P2"},
    "cpu_pct": {"warning": "P4", "critical": "P3"},
    "cert_expiry_days": {"warning": "P3", "critical": "P2"},
    "websocket_connections": {"warning": "P4", "critical": "P3"},
    "wal_archive_failing_minutes": {"warning": "P3", "critical": "P2"},
    "pitr_backup_age_hours": {"warning": "P3", "critical": "P2"},
    "pitr_check_age_hours": {"warning": "P3", "critical": "P2"},
    "uptime_pct": {"warning": "P3", "critical": "P2"},
}
# Cron schedule of the health check.
health_schedule = "*/5 * * * *"
# Unprivileged system user that runs the health check and the maintenance jobs.
health_user = "louie-monitor"
# Mount points whose usage the health check compares with kpi_thresholds.disk_pct.
health_disk_mounts = ["/"]
# API requests the health check must find in nginx's access log for the last check interval before it judges
# api_p50_ms, api_p99_ms and error_rate_pct (with fewer, one slow or failed request would decide).
health_api_min_requests = 20
# Verify the API's TLS certificate in the health check (off only where the CA is not trusted, e.g. test ACME).
health_api_tls_verify = True
# App endpoint whose JSON reports websocketConnections (compared with kpi_thresholds.websocket_connections),
# read on the app port with LOUIE_ADMIN_TOKEN; None skips the check (an app without it).
health_websocket_metrics_path = "/admin/metrics/system"
# Days of the health check's KPIs kept on each server (one line per run: 2016 a week at */5), which the
# System Health page plots.
health_history_days = 7
# Login name of the System Health page (https://{domain_admin}/system-health/: the KPI history's plots, open
# alerts, the live release, the last backups), served with HTTP basic auth over TLS only (certbot_enabled), its
# password LOUIE_HEALTH_PAGE_PASSWORD (unset: no page); without the login it answers 401. None: no page.
health_page_user = "admin"

# --- Maintenance jobs and security monitoring (seed §6, §9) -------------------------------------

# Cron schedule of the daily summary to Slack (app errors, last backup, open alerts).
maintenance_daily_summary_schedule = "0 8 * * *"
# Cron schedule of the weekly log check (sizes, rotation coverage).
maintenance_log_check_schedule = "0 6 * * 1"
# Cron schedule of the weekly `npm audit` of the live release (its package-lock.json).
maintenance_npm_audit_schedule = "30 6 * * 1"
# Registry `npm audit` asks for advisories (POST /-/npm/v1/security/advisories/bulk) and the affected packages'
# metadata; None: npm's own (registry.npmjs.org). For a mirror that serves the audit endpoint.
maintenance_npm_audit_registry = None
# Cron schedule of the weekly exposure scan (/.env, /.git, HSTS).
maintenance_exposure_scan_schedule = "0 7 * * 1"
# Cron schedule of the monthly certificate expiry report.
maintenance_cert_report_schedule = "0 9 1 * *"
# Cron schedule of the quarterly reminder of the manual tasks (seed §6.4).
maintenance_quarterly_reminder_schedule = "0 9 1 1,4,7,10 *"
# Days of UptimeRobot uptime the daily summary compares with kpi_thresholds.uptime_pct (1-90), per managed
# monitor; needs UPTIMEROBOT_READ_API_KEY (a read-only key: the server never holds the main key).
maintenance_uptime_report_days = 30
# Cron schedule of the monthly load test of the API through nginx, from the host serving the public names (ApacheBench
# against nginx on 127.0.0.1, which the API's rate limit leaves out); its p50, p99 and error rate are judged by
# kpi_thresholds and health_tiers, posted to Slack and kept in the load-test history.
maintenance_load_test_schedule = "30 4 1 * *"
# The API path the load test requests (GET); it must answer 2xx without a login.
maintenance_load_test_path = "/api/claude/status"
# Requests of one load test (it stops earlier at maintenance_load_test_max_seconds).
maintenance_load_test_requests = 2000
# Requests the load test keeps in flight at once.
maintenance_load_test_concurrency = 10
# Seconds one load test may run at most (ApacheBench's -t).
maintenance_load_test_max_seconds = 60
# Cron schedule of the daily check of Stripe's webhook delivery (seed §6.1), from the host serving the public
# names: a disabled webhook endpoint raises a P1, events Stripe could not deliver since the last run a P2 (their
# count and types). Needs STRIPE_RESTRICTED_KEY, else it alerts that it could not check; None: no check (a
# service without Stripe).
maintenance_stripe_webhooks_schedule = "15 7 * * *"
# Stripe's API, which the webhook check reads (GET /v1/webhook_endpoints, /v1/events).
maintenance_stripe_api_url = "https://api.stripe.com"
# fail2ban: failures within fail2ban_findtime that ban an address (app logins, sshd, injection probes).
fail2ban_maxretry = 5
# fail2ban: nginx rate-limit rejections (429) within fail2ban_findtime that ban an address.
fail2ban_rate_limit_maxretry = 30
# fail2ban: window in which failures are counted (fail2ban time syntax: 10m, 1h, 1d).
fail2ban_findtime = "10m"
# fail2ban: how long an address stays banned.
fail2ban_bantime = "1h"
# Addresses/networks fail2ban never bans (e.g. your office); loopback is always ignored.
fail2ban_ignoreip = []
# Login paths of the admin dashboard: a successful POST to one of them on domain_admin is an admin login
# (seed §9: a login from an address not seen within security_admin_address_days is sent as a P1).
security_admin_login_paths = ["/login", "/api/login"]
# Days an address that logged in to the admin dashboard stays known (no P1 for its next login).
security_admin_address_days = 30
# Rate-limit rejections of one address within a minute that raise a P3 (seed §9: "rate limit exceeded 3x").
security_rate_limit_alert_count = 3

# --- UptimeRobot ---------------------------------------------------------------------------------

# UptimeRobot API base URL (v3).
uptimerobot_api_url = "https://api.uptimerobot.com/v3"
# Requests per minute allowed by your plan (free plan: 10); the client never sends more.
uptimerobot_requests_per_minute = 10
# Delete monitors that carry uptimerobot_managed_tag but are no longer listed below.
uptimerobot_prune = False
# Tag put on every monitor this deploy manages; only tagged monitors are ever pruned.
uptimerobot_managed_tag = "louieops"
# How long a create that got no clear answer (timeout, 5xx) is looked for before the run stops; it is never
# sent twice (docs/monitors.md "No duplicates").
uptimerobot_settle_minutes = 10
# Alert contacts the monitors use: type plus the exact name and/or value they are found by. Missing ones are
# created: e-mail (personal contact, needs value) and slack (integration named `name`, created with the
# incoming webhook of alert_slack_webhooks[channel]; channel defaults to name). Other types (webhook,
# msteams, discord, telegram, pagerduty, googlechat) must exist in the account.
uptimerobot_alert_contacts = {
    "email": {"type": "email", "value": "ops@simplylouie.com"},
    "slack": {"type": "slack", "name": "alerts-critical"},
}
# Monitors to keep registered (seed §2.1), matched by exact name. type: http, keyword, port or ping;
# interval and timeout in seconds; {domain_*} placeholders in name/url are filled from the domain settings.
# keyword monitors: keyword, keyword_alert_when ("not_exists": down when the text is missing),
# keyword_case_sensitive (default True); port monitors: port, and a bare host as url.
# The API keyword is '"status":"healthy"', not the seed's '{"status":"healthy"}': /health answers
# {"status":"healthy","timestamp":...}, which never contains the closing brace right after "healthy".
uptimerobot_monitors = [
    {"name": "simplylouie.com - Homepage", "type": "http", "url": "https://{domain_homepage}",
     "interval": 300, "timeout": 30, "alert_contacts": ["email", "slack"]},
    {"name": "API Health Check", "type": "keyword", "url": "https://{domain_api}/health",
     "keyword": '"status":"healthy"', "keyword_alert_when": "not_exists",
     "interval": 300, "timeout": 30, "alert_contacts": ["email", "slack"]},
    {"name": "Admin Dashboard", "type": "http", "url": "https://{domain_admin}",
     "interval": 300, "timeout": 30, "alert_contacts": ["email", "slack"]},
    {"name": "WebSocket Endpoint", "type": "port", "url": "{domain_websocket}", "port": 443,
     "interval": 300, "timeout": 30, "alert_contacts": ["email", "slack"]},
]
# Planned maintenance (seed §6.3) as UptimeRobot maintenance windows, so it pages no one: a cron-style
# schedule (minute hour day-of-month month day-of-week; daily, weekly on some days or monthly on some days,
# in the account's time zone), duration_minutes and, optionally, monitors (names; default: all of the above).
uptimerobot_maintenance_windows = [
    {"name": "Monthly maintenance", "schedule": "0 5 1 * *", "duration_minutes": 60},
]
# Time zone of your UptimeRobot account (its settings page): the windows' times are read in it.
uptimerobot_timezone = "UTC"
# Minutes of the UptimeRobot window `louieops maintenance on` opens without --until (`off` closes it earlier).
uptimerobot_maintenance_mode_minutes = 60
# Public status page showing the monitors (seed §7 "Update status page"); None keeps no page. monitors
# (names) defaults to all of the above; {domain_*} placeholders in name and homepage_link are filled in.
# Post incident updates on it with `louieops statuspage` (README).
uptimerobot_status_page = {"name": "SimplyLouie status", "homepage_link": "https://{domain_homepage}"}

# --- Sentry ------------------------------------------------------------------------------------

# Sentry base URL (sentry.io or your self-hosted instance).
sentry_api_url = "https://sentry.io"
# Sentry organization slug.
sentry_org = "simplylouie"
# Sentry project slug.
sentry_project = "simplylouie-api"
# Which alert API to use: "auto" (detect), "workflows" (current) or "legacy" (/rules/, /alert-rules/).
sentry_api_mode = "auto"
# Delete alerts/monitors that carry sentry_name_prefix but are no longer listed.
sentry_prune = False
# Prefix of the name of every alert and monitor this deploy manages (marks them as managed).
sentry_name_prefix = "[louieops] "
# How long a create that got no clear answer is looked for before the run stops; it is never sent twice.
sentry_settle_minutes = 10
# Environment the alerts and monitors watch; None watches all environments.
sentry_environment = "production"
# Id of Sentry's Slack integration (Settings > Integrations > Slack); None sends Sentry alerts by e-mail only.
sentry_slack_integration_id = None
# Slack channel ids of the channels in alert_routes (e.g. "alerts-critical": "C0123ABCD"); needed with Slack.
sentry_slack_channel_ids = {}
# Issue alerts (seed §2.2), routed by tier through alert_routes. trigger: new_issue (first seen),
# spike (more than `events` events within `interval`), unhandled (new/regressed issue, unhandled error).
# frequency_minutes: at most one notification per issue in this time (0, 5, 10, 30, 60, 180, 720, 1440).
sentry_issue_alerts = [
    {"name": "New error type", "trigger": "new_issue", "frequency_minutes": 5, "tier": "P2"},
    {"name": "Error spike", "trigger": "spike", "events": 10, "interval": "5m", "frequency_minutes": 5,
     "tier": "P1"},
    {"name": "Unhandled error", "trigger": "unhandled", "frequency_minutes": 5, "tier": "P2"},
]
# Metric monitors on KPIs (seed §5): warning/critical levels come from kpi_thresholds[kpi] times `scale`
# (optional, default 1; failure_rate() is a 0-1 ratio, the KPI a percentage). Each gets an alert that sends
# critical to critical_tier and warning to warning_tier (a warning tier that routes only to Slack is not
# notified while sentry_slack_integration_id is None; the issue still shows in Sentry).
# window_minutes: 1, 5, 10, 15, 30, 60, 120, 240 or 1440.
sentry_metric_monitors = [
    {"name": "API p50 latency", "kpi": "api_p50_ms", "aggregate": "p50(span.duration)",
     "query": "is_transaction:true", "window_minutes": 5, "warning_tier": "P4", "critical_tier": "P2"},
    {"name": "API p99 latency", "kpi": "api_p99_ms", "aggregate": "p99(span.duration)",
     "query": "is_transaction:true", "window_minutes": 5, "warning_tier": "P4", "critical_tier": "P2"},
    {"name": "API error rate", "kpi": "error_rate_pct", "aggregate": "failure_rate()",
     "query": "is_transaction:true", "scale": 0.01, "window_minutes": 5, "warning_tier": "P3",
     "critical_tier": "P2"},
    {"name": "Database query time", "kpi": "db_query_ms", "aggregate": "p50(span.duration)",
     "query": "span.category:db", "window_minutes": 5, "warning_tier": "P4", "critical_tier": "P2"},
]
# Scheduled jobs that check in to Sentry Crons, so a run that is missed, hangs or fails raises an issue
# (routed like every Sentry issue); [] for none. The deploy keeps one cron monitor per job with the job's
# schedule (backup_*_schedule, health_schedule); the jobs check in with the project's DSN (SENTRY_DSN).
sentry_cron_jobs = ["backup-db", "backup-uploads", "backup-logs", "backup-verify", "restore-drill", "health-check"]
# Minutes after its scheduled time before a run that has not checked in counts as missed.
sentry_cron_checkin_margin_minutes = 5
# Minutes a run may take before it counts as hung (timeout).
sentry_cron_max_runtime_minutes = 120
# Alert tier of a job that was missed, hung or failed (an alert on the cron monitors' issues, like the others).
sentry_cron_tier = "P2"

# --- Deploys (one at a time, CI) ----------------------------------------------------------------

# Seconds a deploy waits for another deploy to the same server to finish before it gives up, naming who holds
# the lock and since when (0: give up at once).
deploy_lock_wait_seconds = 600
# A deploy holding the lock proves it is alive every third of this; silent longer (a killed or cut-off deploy),
# its lock is released and the next deploy takes it.
deploy_lock_stale_seconds = 90

# --- Several servers (roles) -----------------------------------------------------------------------

# The inventory's groups give each host its roles: db (the PostgreSQL primary), db_standby (a hot standby),
# app (the app under pm2) and lb (nginx, TLS, the public names); see inventory/multihost.py. An inventory
# without role groups is one server with every role. Both settings below matter only with several servers.

# This host's address on the private network between the servers: PostgreSQL, the app and replication listen
# there and the firewalls open it to the other roles (set it in the host data); None: the inventory address.
private_address = None
# Name of this cluster in places several clusters may share: backups go to s3://<bucket>/<kind>/<cluster_name>/
# (required with several servers and a bucket); None: one cluster per bucket (s3://<bucket>/<kind>/).
cluster_name = None
# Minutes the hot standby waits before it applies what the primary wrote (recovery_min_apply_delay): time to
# stop a destructive statement before the standby has it too (promote-db ends the wait). 0: at once.
standby_apply_delay_minutes = 0
