"""Secrets come from environment variables only: never from settings files, never printed.

``SECRETS`` is the single list of them (docs/settings.md mirrors it). Values handed to pyinfra commands
must be wrapped in ``MaskString`` so they do not appear in ``--dry``/``-v`` output or logs; on the
server they live in files with mode 0600.
"""

from __future__ import annotations

import os

SECRETS = {
    "LOUIE_DB_PASSWORD": "password of the app's PostgreSQL role (required)",
    "LOUIE_ADMIN_TOKEN": "bearer token that protects the app's /admin endpoints (required)",
    "LOUIE_CLUSTER_SECRET": "seed of the database's TLS certificates and of the replication role's password "
    "(required when the database is on a server of its own; see 'Several servers')",
    "SENTRY_DSN": "DSN the app reports errors to and the scheduled jobs check in with (optional; empty disables both)",
    "AWS_ACCESS_KEY_ID": "S3 access key for backups (required when backup_s3_bucket is set)",
    "AWS_SECRET_ACCESS_KEY": "S3 secret key for backups (required when backup_s3_bucket is set)",
    "LOUIE_BACKUP_PASSPHRASE": "passphrase that encrypts the uploads and log archives and the database's "
    "point-in-time repository (pgBackRest) before they leave the server (required when backup_s3_bucket is "
    "set). Keep a copy off the server: without it those backups cannot be read",
    "SLACK_WEBHOOK_CRITICAL": "Slack incoming-webhook URL of #alerts-critical (see alert_slack_webhooks)",
    "SLACK_WEBHOOK_HIGH": "Slack incoming-webhook URL of #alerts-high",
    "SLACK_WEBHOOK_GENERAL": "Slack incoming-webhook URL of #alerts-general",
    "ALERT_SMTP_PASSWORD": "password of alert_smtp_user at the e-mail smarthost (required when alert_smtp_user is set)",
    "TWILIO_ACCOUNT_SID": "Twilio account for P1 SMS alerts (optional)",
    "TWILIO_AUTH_TOKEN": "Twilio auth token for P1 SMS alerts (optional)",
    "TWILIO_FROM_NUMBER": "Twilio sender number for P1 SMS alerts (optional)",
    "UPTIMEROBOT_API_KEY": "UptimeRobot API key; unset skips registering the uptime monitors",
    "UPTIMEROBOT_READ_API_KEY": "UptimeRobot read-only API key for the daily uptime report on the server (optional)",
    "LOUIE_HEALTH_PAGE_PASSWORD": "password of the System Health page's login (health_page_user; a long random "
    "string, typed into a browser: not the admin API's token); unset: no page",
    "STRIPE_RESTRICTED_KEY": "restricted Stripe key (rk_live_...) with Read on Webhook Endpoints and Events and "
    "nothing else, for the daily webhook check on the server (maintenance_stripe_webhooks_schedule; without it "
    "the check alerts that it could not check)",
    "SENTRY_AUTH_TOKEN": "Sentry auth token (alerts:write, org:read); unset skips registering the alerts",
    "PAPERTRAIL_API_TOKEN": "Papertrail API token (your profile); unset skips registering the saved searches",
}


class MissingSecret(RuntimeError):
    def __init__(self, name: str, purpose: str | None = None):
        purpose = purpose or SECRETS.get(name, "a secret")
        super().__init__(
            f"environment variable {name} is not set: it holds the {purpose}. "
            f"Export it before running the deploy (docs/settings.md, 'Secrets')."
        )


def get(name: str) -> str | None:
    """The secret's value, or None when unset or empty."""
    value = os.environ.get(name, "")
    return value or None


def require(name: str, purpose: str | None = None) -> str:
    value = get(name)
    if value is None:
        raise MissingSecret(name, purpose)
    return value
