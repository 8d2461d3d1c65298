"""Alert routing: one `send-alert` script that every server-side job calls (seed §4), its e-mail relay, and the
minute tick that delivers what no channel took yet and repeats open alerts.

Settings read: alert_slack_webhooks, alert_routes, alert_group, alert_smtp_host, alert_smtp_port,
alert_smtp_tls, alert_smtp_user, alert_smtp_ca_file, alert_email_from, health_user. The routing table
(louieops/server_scripts.py) also reads alert_slack_username, alert_slack_icon_emoji, alert_email_to,
alert_sms_to, alert_twilio_api_url, alert_dedup_minutes and alert_escalation.
Secrets read: the SLACK_WEBHOOK_* variables named in alert_slack_webhooks, TWILIO_ACCOUNT_SID,
TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER, ALERT_SMTP_PASSWORD (with alert_smtp_user).

On the server:
- {scripts_dir}/send-alert (Python 3, standard library only), root-owned 0755, its channels
  (louieops_channels.py) and the library every server-side Python script imports, louieops_common.py
  (this step installs both first);
- /etc/louieops/alerts.json: the routing table (no secrets), 0644;
- /etc/louieops/alerts-secrets.json: webhook URLs and Twilio credentials, root:<alert_group> 0640 —
  readable by the members of alert_group (the users that run jobs: health/maintenance user, backup user),
  not by the app user or anyone else;
- /var/lib/louieops/alerts/: the alert state and log (alerts.log, root:<alert_group> 0660), root:<alert_group>
  2770 (setgid, so every member can update the state the others wrote);
- the e-mail relay, with alert_smtp_host: Debian's msmtp-mta (/usr/sbin/sendmail) and /etc/msmtprc,
  root:<alert_group> 0640 (it holds the smarthost password). msmtp, not a queueing MTA such as exim4 or
  dma: it hands each message straight to the smarthost and answers only then, so send-alert counts an
  e-mail as sent only when it left the server, and nothing waits unseen in a local queue. It runs no
  daemon and listens on no port. Without alert_smtp_host the file is removed and e-mail is skipped;
- health_user, the unprivileged system user of the scheduled checks (health check, maintenance jobs and
  this tick), member of alert_group and of Debian's log-reading group adm;
- /etc/cron.d/louieops-alerts: `send-alert tick` every minute as health_user.
"""

from __future__ import annotations

import json
from io import StringIO

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.api.exceptions import DeployError
from pyinfra.operations import apt, files, server

from louieops import layout, secrets
from louieops.resources import put_file, put_template
from louieops.server_scripts import alerts_config, put_config
from louieops.settings import Settings, for_host

TWILIO = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER")
MSMTP_CONFIG = "/etc/msmtprc"
#: Seconds msmtp waits for the smarthost before send-alert counts the e-mail as failed.
SMTP_TIMEOUT = 15


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


def msmtp_quote(value: str) -> str:
    """An msmtprc argument: msmtp strips one pair of enclosing double quotes and reads the rest as it is
    (spaces and quotes included; it knows no escapes), so only a line break cannot be written."""
    if "\n" in value or "\r" in value:
        raise DeployError("ALERT_SMTP_PASSWORD holds a line break, which msmtprc cannot hold: use another password")
    return f'"{value}"'


@deploy("Alert routing")
def install_alert_routing():
    s = for_host(host)

    # install
    server.user(
        name=f"Create system user {s.health_user} (the scheduled checks: health, maintenance, alert tick)",
        user=s.health_user,
        system=True,
        home=layout.MONITOR_HOME,
        shell="/usr/sbin/nologin",
        groups=[s.alert_group, "adm"],
        create_home=True,
    )
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
    put_file(f"scripts/{layout.CHANNELS_LIBRARY}", layout.script(s, layout.CHANNELS_LIBRARY))
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
    _email_relay(s)

    # activate (cron reads /etc/cron.d itself)
    put_template(
        "alerts/louieops-alerts.j2",
        layout.ALERT_CRON,
        name=f"Upload {layout.ALERT_CRON}",
        health_user=s.health_user,
        state_dir=layout.ALERT_STATE_DIR,
        send_alert=layout.send_alert(s),
    )


def _email_relay(s: Settings) -> None:
    """msmtp-mta and its configuration, or no configuration without a smarthost."""
    if s.alert_smtp_host is None:
        files.file(name=f"Remove {MSMTP_CONFIG}", path=MSMTP_CONFIG, present=False)
        return
    password = None
    if s.alert_smtp_user:
        password = secrets.require("ALERT_SMTP_PASSWORD", f"password of {s.alert_smtp_user} at {s.alert_smtp_host}")
    apt.packages(name="Install the e-mail relay msmtp-mta", packages=["msmtp-mta"])
    put_template(
        "alerts/msmtprc.j2",
        MSMTP_CONFIG,
        name=f"Upload {MSMTP_CONFIG}",
        mode="0640",
        group=s.alert_group,
        alert_smtp_host=s.alert_smtp_host,
        alert_smtp_port=s.alert_smtp_port,
        alert_smtp_tls=s.alert_smtp_tls,
        alert_smtp_user=s.alert_smtp_user,
        alert_smtp_ca_file=s.alert_smtp_ca_file,
        alert_email_from=s.alert_email_from,
        password=msmtp_quote(password) if password else None,
        timeout=SMTP_TIMEOUT,
    )
