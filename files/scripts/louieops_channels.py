# Managed by louieops (files/scripts/louieops_channels.py); local edits are overwritten on the next deploy.
"""The channels send-alert delivers on (seed §4): Slack incoming webhooks, e-mail through the relay the deploy
sets up (the sendmail of msmtp-mta: it answers only once the smarthost took the message, so "ok" means the
mail left this server), SMS through Twilio's Messages API.

``deliver`` returns one (channel, outcome) pair per channel of the tier's route; the outcome is "ok",
"skipped (why)" or "failed (why)". ``delivered`` is the rule send-alert keeps: at least one channel took it.
Standard library only.
"""

from __future__ import annotations

import base64
import email.message
import email.utils
import http.client
import json
import subprocess
import urllib.error
import urllib.parse
import urllib.request

TIMEOUT = 10
#: The relay itself gives up connecting after TIMEOUT (msmtprc); this also covers a slow DATA phase.
SENDMAIL_TIMEOUT = 60
HTTP_ERRORS = (OSError, urllib.error.URLError, http.client.HTTPException, ValueError)


def delivered(results):
    """True when at least one channel took the message (skipped and failed channels do not count)."""
    return any(outcome == "ok" for _, outcome in results)


def post(url, body, headers, auth=None):
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    if auth:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        response.read()
        return response.status


def send_slack(url, channel, text, slack):
    """One message to an incoming webhook, with the seed's channel, name and icon."""
    payload = {"channel": f"#{channel}", "username": slack["username"], "icon_emoji": slack["icon_emoji"], "text": text}
    post(url, json.dumps(payload).encode(), {"Content-Type": "application/json"})


def mail_message(mail, subject, text):
    message = email.message.EmailMessage()
    message["From"], message["To"], message["Subject"] = mail["from"], mail["to"], subject
    message["Date"] = email.utils.formatdate(localtime=False)
    message["Message-ID"] = email.utils.make_msgid(domain=mail["from"].rpartition("@")[2])
    message.set_content(text + "\n")
    return message


def send_email(mail, subject, text):
    """Hand the message to the relay; raises unless the relay answered that the smarthost took it."""
    done = subprocess.run(
        [mail["sendmail"], "-t", "-oi", "-f", mail["from"]],
        input=mail_message(mail, subject, text).as_bytes(),
        capture_output=True,
        timeout=SENDMAIL_TIMEOUT,
    )
    if done.returncode != 0:
        why = (done.stderr.decode(errors="replace").strip().splitlines() or [f"exit {done.returncode}"])[-1]
        raise OSError(f"{mail['sendmail']} exit {done.returncode}: {why[:200]}")


def send_sms(api_url, twilio, to, text):
    sid = twilio["twilio_account_sid"]
    url = f"{api_url.rstrip('/')}/2010-04-01/Accounts/{urllib.parse.quote(sid)}/Messages.json"
    body = urllib.parse.urlencode({"To": to, "From": twilio["twilio_from_number"], "Body": text[:1500]}).encode()
    post(url, body, {"Content-Type": "application/x-www-form-urlencoded"}, auth=(sid, twilio["twilio_auth_token"]))


def _attempt(channel, errors, send, *arguments):
    try:
        send(*arguments)
        return channel, "ok"
    except errors as exc:
        return channel, f"failed ({type(exc).__name__}: {exc})"


def deliver(config, secrets, tier, text, sms=False, only=None):
    """Send ``text`` along the route of ``tier`` (``sms``: by SMS too, an escalation); (channel, outcome) pairs.
    ``only``: just these channels of the route (a retry of the channels that did not take it), the others are
    neither tried nor reported."""
    route = dict(config["routes"][tier])
    if only is not None:
        route = {
            "slack": [c for c in route.get("slack", []) if f"slack:{c}" in only],
            "email": route.get("email") and "email" in only,
            "sms": "sms" in only,
        }
        sms = False
    results = []
    for channel in route.get("slack", []):
        url = secrets.get("slack", {}).get(channel)
        if not url:
            results.append((f"slack:{channel}", "skipped (no webhook configured)"))
            continue
        results.append(_attempt(f"slack:{channel}", HTTP_ERRORS, send_slack, url, channel, text, config["slack"]))
    if route.get("email"):
        mail = config.get("email")
        if not mail:
            results.append(("email", "skipped (no e-mail relay: alert_smtp_host or alert_email_to not set)"))
        else:
            subject = text.split("\n")[0][:150]
            results.append(_attempt("email", (OSError, subprocess.SubprocessError), send_email, mail, subject, text))
    if route.get("sms") or sms:
        to, twilio = config.get("sms_to"), secrets.get("twilio") or {}
        if not to:
            results.append(("sms", "skipped (alert_sms_to not set)"))
        elif not all(twilio.get(k) for k in ("twilio_account_sid", "twilio_auth_token", "twilio_from_number")):
            results.append(("sms", "skipped (TWILIO_* credentials not configured)"))
        else:
            api_url = config.get("twilio_api_url", "https://api.twilio.com")
            results.append(_attempt("sms", HTTP_ERRORS, send_sms, api_url, twilio, to, text))
    return results
