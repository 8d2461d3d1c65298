"""Alert routing: one `send-alert` script that every server-side job calls (seed §4).

Settings read: alert_slack_webhooks, alert_routes, alert_email_to, alert_sms_to, alert_twilio_api_url,
alert_dedup_minutes, alert_group, app_name, scripts_dir.
Secrets read: the SLACK_WEBHOOK_* variables named in alert_slack_webhooks, TWILIO_ACCOUNT_SID,
TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER.

On the server:
- {scripts_dir}/send-alert (Python 3, standard library only), root-owned 0755;
- /etc/louieops/alerts.json: the routing table (no secrets), 0644;
- /etc/louieops/alerts-secrets.json: webhook URLs and Twilio credentials, root:<alert_group> 0640 —
  readable by the members of alert_group (the users that run jobs: health/maintenance user, backup user),
  not by the app user or anyone else;
- /var/lib/louieops/alerts/: dedup state and the alert log, root:<alert_group> 2770 (setgid, so every
  member can update the state the others wrote).

E-mail goes through /usr/sbin/sendmail when an MTA is installed; this deploy installs none (a relay
needs site-specific credentials), so without one send-alert logs "email skipped (no MTA ...)".
"""

from __future__ import annotations

import json
from io import StringIO

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import files, server

from louieops import secrets
from louieops.resources import MANAGED_HEADER, file, template
from louieops.settings import for_host

CONFIG_DIR = "/etc/louieops"
ROUTES_FILE = f"{CONFIG_DIR}/alerts.json"
SECRETS_FILE = f"{CONFIG_DIR}/alerts-secrets.json"
STATE_DIR = "/var/lib/louieops/alerts"
TWILIO = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER")


def send_alert_path(settings) -> str:
    """Where the send-alert script lives (other tasks build their commands with this)."""
    return f"{settings.scripts_dir}/send-alert"


def alert_secrets(settings) -> dict:
    """The secret part of the routing table, from the environment.

    The webhook of every channel a route uses is required: a deploy run without it would otherwise
    overwrite a working file and silence the alerts. Twilio credentials are optional (SMS is skipped)."""
    used = {channel for route in settings.alert_routes.values() for channel in route["slack"]}
    slack = {}
    for channel, env_name in sorted(settings.alert_slack_webhooks.items()):
        if channel in used:
            slack[channel] = secrets.require(env_name, f"Slack incoming-webhook URL of #{channel} (alert_routes)")
        elif secrets.get(env_name):
            slack[channel] = secrets.get(env_name)
    twilio = {name.lower(): secrets.get(name) for name in TWILIO if secrets.get(name)}
    return {"slack": slack, "twilio": twilio}


@deploy("Alert routing")
def install_alert_routing():
    s = for_host(host)

    # install
    server.group(name=f"Create group {s.alert_group}", group=s.alert_group, system=True)
    for path in (CONFIG_DIR, s.scripts_dir, "/var/lib/louieops"):
        files.directory(name=f"Create {path}", path=path, user="root", group="root", mode="755")
    files.directory(
        name=f"Create {STATE_DIR}",
        path=STATE_DIR,
        user="root",
        group=s.alert_group,
        mode="2770",
    )
    files.put(
        name=f"Upload {send_alert_path(s)}",
        src=file("alerts/send-alert"),
        dest=send_alert_path(s),
        user="root",
        group="root",
        mode="755",
    )

    # configure
    files.template(
        name=f"Upload {ROUTES_FILE}",
        src=template("alerts/alerts.json.j2"),
        dest=ROUTES_FILE,
        user="root",
        group="root",
        mode="644",
        managed=MANAGED_HEADER.format(source="templates/alerts/alerts.json.j2"),
        label=s.app_name,
        username=f"{s.app_name} alerts",
        routes=s.alert_routes,
        email_to=s.alert_email_to,
        sms_to=s.alert_sms_to,
        twilio_api_url=s.alert_twilio_api_url,
        dedup_minutes=s.alert_dedup_minutes,
    )
    files.put(
        name=f"Upload {SECRETS_FILE}",
        src=StringIO(json.dumps(alert_secrets(s), indent=1, sort_keys=True) + "\n"),
        dest=SECRETS_FILE,
        user="root",
        group=s.alert_group,
        mode="640",
    )
