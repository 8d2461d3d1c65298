"""Alert routing: one `send-alert` script that every server-side job calls (seed §4).

Settings read: alert_slack_webhooks, alert_routes, alert_group.
Secrets read: the SLACK_WEBHOOK_* variables named in alert_slack_webhooks, TWILIO_ACCOUNT_SID,
TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER.

On the server:
- {scripts_dir}/send-alert (Python 3, standard library only), root-owned 0755, and the library every
  server-side Python script imports, {scripts_dir}/louieops_common.py (this step installs it first);
- /etc/louieops/alerts.json: the routing table (no secrets), 0644 (louieops/server_scripts.py);
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

from louieops import layout, secrets
from louieops.resources import put_file
from louieops.server_scripts import alerts_config, put_config
from louieops.settings import Settings, for_host

TWILIO = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER")


def alert_secrets(settings: Settings) -> dict:
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
    files.directory(
        name=f"Create {layout.ALERT_STATE_DIR}",
        path=layout.ALERT_STATE_DIR,
        user="root",
        group=s.alert_group,
        mode="2770",
    )
    # Present before the first alert, so that the runbook's `tail` of it works on a quiet server. No owner:
    # send-alert, run by any member of the group, may have created it (0660 under its umask).
    files.file(name=f"Create {layout.ALERT_LOG}", path=layout.ALERT_LOG, group=s.alert_group, mode="0660", touch=False)
    put_file(f"scripts/{layout.SCRIPT_LIBRARY}", layout.script(s, layout.SCRIPT_LIBRARY))
    put_file("scripts/send-alert", layout.send_alert(s), mode="0755")

    # configure
    put_config(layout.ALERTS_CONFIG, alerts_config(s))
    files.put(
        name=f"Upload {layout.ALERTS_SECRETS}",
        src=StringIO(json.dumps(alert_secrets(s), indent=1, sort_keys=True) + "\n"),
        dest=layout.ALERTS_SECRETS,
        user="root",
        group=s.alert_group,
        mode="640",
    )
