"""The validated settings as a typed, read-only object: ``settings.app_port`` is an ``int``.

One attribute per setting, grouped and ordered like the headings of ``inventory/group_data/all.py``.
Defaults live only in all.py and the rules only in ``sections/``; a test keeps the names, their order and
the types here in step with both (every default of all.py must type-check against its annotation).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal, NotRequired, TypedDict

Tier = Literal["P1", "P2", "P3", "P4"]


class BackupRetention(TypedDict):
    db: int
    uploads: int
    logs: int


class AlertRoute(TypedDict):
    slack: list[str]
    email: bool
    sms: bool


class Escalation(TypedDict):
    repeat_minutes: int
    sms: bool


class KpiLevels(TypedDict):
    target: float | None
    warning: float | None
    critical: float | None


class TierLevels(TypedDict):
    critical: Tier
    warning: NotRequired[Tier]  # KPIs only: the up/down checks have none


class AlertContact(TypedDict):
    type: str
    name: NotRequired[str]
    value: NotRequired[str]
    channel: NotRequired[str]


class UptimeMonitor(TypedDict):
    name: str
    type: Literal["http", "keyword", "port", "ping"]
    url: str
    interval: int
    timeout: int
    alert_contacts: list[str]
    port: NotRequired[int]
    keyword: NotRequired[str]
    keyword_alert_when: NotRequired[Literal["exists", "not_exists"]]
    keyword_case_sensitive: NotRequired[bool]


class MaintenanceWindow(TypedDict):
    name: str
    schedule: str
    duration_minutes: int
    monitors: NotRequired[list[str]]


class StatusPage(TypedDict):
    name: str
    homepage_link: NotRequired[str]
    monitors: NotRequired[list[str]]


class IssueAlert(TypedDict):
    name: str
    trigger: Literal["new_issue", "spike", "unhandled"]
    frequency_minutes: int
    tier: Tier
    events: NotRequired[int]
    interval: NotRequired[str]


class SavedSearch(TypedDict):
    name: str
    query: str


class MetricMonitor(TypedDict):
    name: str
    kpi: str
    aggregate: str
    query: str
    window_minutes: int
    warning_tier: Tier
    critical_tier: Tier
    scale: NotRequired[float]


@dataclass(frozen=True)
class Settings:
    # --- Application
    app_name: str
    app_user: str
    app_root: str
    app_log_dir: str
    app_uploads_dir: str
    app_port: int
    app_node_env: Literal["production", "staging", "development"]
    app_git_url: str | None
    app_git_ref: str
    app_dir: str
    app_entry: str
    app_build_command: str | None
    app_keep_releases: int
    app_health_deadline_seconds: int
    app_candidate_port: int
    app_smoke_paths: list[str]
    app_drain_seconds: int
    app_sentry_traces_sample_rate: float
    app_instances: int
    app_max_memory_restart: str
    scripts_dir: str
    # --- Domains
    domain_homepage: str
    domain_api: str
    domain_admin: str
    domain_websocket: str
    # --- Base system
    base_timezone: str
    base_locale: str
    apt_cache_time: int
    apt_lock_wait_seconds: int
    base_unattended_upgrades: bool
    base_extra_packages: list[str]
    base_firewall_enabled: bool
    base_login_banner: str
    base_apply_security_updates: bool
    # --- PostgreSQL
    postgresql_database: str
    postgresql_role: str
    postgresql_shared_buffers_ratio: float
    postgresql_work_mem_mb: int
    postgresql_max_connections: int
    postgresql_upgrade_method: Literal["upgrade", "dump", "link"]
    # --- Node.js and pm2
    nodejs_source: Literal["debian", "nodesource"]
    nodejs_nodesource_major: int
    pm2_version: str
    # --- nginx
    nginx_api_rate_limit: str
    nginx_api_rate_burst: int
    nginx_proxy_read_timeout: int
    nginx_hsts_max_age: int
    nginx_client_max_body_size: str
    nginx_upstream_max_fails: int
    nginx_upstream_fail_timeout: int
    # --- TLS certificates (certbot)
    certbot_enabled: bool
    certbot_email: str
    certbot_acme_server: str
    # --- Backups
    backup_dir: str
    backup_user: str
    backup_db_schedule: str
    backup_uploads_schedule: str
    backup_logs_schedule: str
    backup_verify_schedule: str
    backup_restore_drill_schedule: str
    backup_local_retention_days: int
    backup_s3_bucket: str | None
    backup_s3_endpoint_url: str | None
    backup_s3_region: str
    backup_s3_retention_days: BackupRetention
    backup_pitr: bool
    backup_pitr_archive_timeout: int
    backup_pitr_full_schedule: str
    backup_pitr_diff_schedule: str
    backup_pitr_verify_schedule: str
    backup_pitr_check_schedule: str
    backup_pitr_drill_schedule: str | None
    backup_pitr_retention_full: int
    backup_pitr_from_standby: bool
    backup_pitr_s3_endpoint_url: str | None
    backup_pitr_s3_ca_file: str | None
    # --- Log shipping (Papertrail)
    papertrail_method: Literal["rsyslog", "remote_syslog2", "none"]
    papertrail_host: str
    papertrail_port: int | None
    papertrail_ca_file: str
    papertrail_permitted_peer: str | None
    papertrail_queue_max_disk: str
    papertrail_api_url: str
    papertrail_saved_searches: list[SavedSearch]
    papertrail_settle_minutes: float
    remote_syslog2_version: str
    remote_syslog2_sha256: str | None
    remote_syslog2_source: str
    # --- Alert routing
    alert_slack_webhooks: dict[str, str]
    alert_routes: dict[Tier, AlertRoute]
    alert_slack_username: str
    alert_slack_icon_emoji: str
    alert_email_to: str | None
    alert_email_from: str
    alert_smtp_host: str | None
    alert_smtp_port: int
    alert_smtp_tls: Literal["starttls", "tls", "none"]
    alert_smtp_user: str | None
    alert_smtp_ca_file: str
    alert_sms_to: str | None
    alert_twilio_api_url: str
    alert_dedup_minutes: int
    alert_escalation: dict[Tier, Escalation]
    alert_group: str
    # --- KPI thresholds (seed §5)
    kpi_thresholds: dict[str, KpiLevels]
    health_tiers: dict[str, TierLevels]
    health_schedule: str
    health_user: str
    health_disk_mounts: list[str]
    health_api_min_requests: int
    health_api_tls_verify: bool
    health_websocket_metrics_path: str | None
    health_history_days: int
    health_page_user: str | None
    # --- Maintenance jobs and security monitoring (seed §6, §9)
    maintenance_daily_summary_schedule: str
    maintenance_log_check_schedule: str
    maintenance_npm_audit_schedule: str
    maintenance_npm_audit_registry: str | None
    maintenance_exposure_scan_schedule: str
    maintenance_cert_report_schedule: str
    maintenance_quarterly_reminder_schedule: str
    maintenance_uptime_report_days: int
    maintenance_load_test_schedule: str
    maintenance_load_test_path: str
    maintenance_load_test_requests: int
    maintenance_load_test_concurrency: int
    maintenance_load_test_max_seconds: int
    maintenance_stripe_webhooks_schedule: str | None
    maintenance_stripe_api_url: str
    fail2ban_maxretry: int
    fail2ban_rate_limit_maxretry: int
    fail2ban_findtime: str
    fail2ban_bantime: str
    fail2ban_ignoreip: list[str]
    security_admin_login_paths: list[str]
    security_admin_address_days: int
    security_rate_limit_alert_count: int
    # --- UptimeRobot
    uptimerobot_api_url: str
    uptimerobot_requests_per_minute: int
    uptimerobot_prune: bool
    uptimerobot_managed_tag: str
    uptimerobot_settle_minutes: float
    uptimerobot_alert_contacts: dict[str, AlertContact]
    uptimerobot_monitors: list[UptimeMonitor]
    uptimerobot_maintenance_windows: list[MaintenanceWindow]
    uptimerobot_timezone: str
    uptimerobot_maintenance_mode_minutes: int
    uptimerobot_status_page: StatusPage | None
    # --- Sentry
    sentry_api_url: str
    sentry_org: str
    sentry_project: str
    sentry_api_mode: Literal["auto", "workflows", "legacy"]
    sentry_prune: bool
    sentry_name_prefix: str
    sentry_settle_minutes: float
    sentry_environment: str | None
    sentry_slack_integration_id: str | None
    sentry_slack_channel_ids: dict[str, str]
    sentry_issue_alerts: list[IssueAlert]
    sentry_metric_monitors: list[MetricMonitor]
    sentry_cron_jobs: list[str]
    sentry_cron_checkin_margin_minutes: int
    sentry_cron_max_runtime_minutes: int
    sentry_cron_tier: Tier
    # --- Deploys (one at a time, CI)
    deploy_lock_wait_seconds: int
    deploy_lock_stale_seconds: int
    # --- Several servers (roles)
    private_address: str | None
    cluster_name: str | None
    standby_apply_delay_minutes: int

    def replace(self, **changes) -> Settings:
        """A copy with some settings changed (not validated again: for tests and derived views)."""
        return Settings(**{**self.as_dict(), **changes})

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


SETTING_NAMES = tuple(f.name for f in fields(Settings))
