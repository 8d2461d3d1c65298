"""Maintenance jobs and security monitoring settings (seed §6, §9)."""

from __future__ import annotations

from ..rules import cron_schedule, integer, list_of, optional, string, url

HEADING = "Maintenance jobs and security monitoring (seed §6, §9)"

_fail2ban_time = string(r"[0-9]+[smhdw]?", "a fail2ban time such as 600, 10m, 1h or 1d")
_address = string(r"[0-9a-fA-F.:]+(/[0-9]{1,3})?", "an IP address or network such as 192.0.2.7 or 10.0.0.0/8")

RULES = {
    "maintenance_daily_summary_schedule": cron_schedule,
    "maintenance_log_check_schedule": cron_schedule,
    "maintenance_npm_audit_schedule": cron_schedule,
    "maintenance_npm_audit_registry": optional(url),
    "maintenance_exposure_scan_schedule": cron_schedule,
    "maintenance_cert_report_schedule": cron_schedule,
    "maintenance_quarterly_reminder_schedule": cron_schedule,
    "maintenance_uptime_report_days": integer(1, 90),
    "maintenance_load_test_schedule": cron_schedule,
    "maintenance_load_test_path": string(r"/[A-Za-z0-9._~/-]*", "an absolute URL path such as /api/claude/status"),
    "maintenance_load_test_requests": integer(10, 1_000_000),
    "maintenance_load_test_concurrency": integer(1, 1000),
    "maintenance_load_test_max_seconds": integer(5, 3600),
    "maintenance_stripe_webhooks_schedule": optional(cron_schedule),
    "maintenance_stripe_api_url": url,
    "fail2ban_maxretry": integer(1, 1000),
    "fail2ban_rate_limit_maxretry": integer(1, 10000),
    "fail2ban_findtime": _fail2ban_time,
    "fail2ban_bantime": _fail2ban_time,
    "fail2ban_ignoreip": list_of(_address),
    "security_admin_login_paths": list_of(string(r"/[A-Za-z0-9._~/-]*", "a URL path such as /login"), min_items=1),
    "security_admin_address_days": integer(1, 3650),
    "security_rate_limit_alert_count": integer(1, 10000),
}
