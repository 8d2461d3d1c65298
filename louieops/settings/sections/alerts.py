"""Alert routing settings (seed §4)."""

from __future__ import annotations

from ..errors import SettingsError
from ..rules import (
    absolute_path,
    boolean,
    domain,
    email,
    env_name,
    identifier,
    integer,
    list_of,
    mapping_of,
    one_of,
    optional,
    record,
    string,
    url,
)

HEADING = "Alert routing"
TIERS = ("P1", "P2", "P3", "P4")
#: An alert tier (seed §4): P1 site down ... P4 warnings. Other sections route by it too.
alert_tier = one_of(*TIERS)

RULES = {
    "alert_slack_webhooks": mapping_of(identifier, env_name),
    "alert_routes": mapping_of(alert_tier, record({"slack": list_of(identifier), "email": boolean, "sms": boolean})),
    "alert_slack_username": string(r"[^\n]{1,80}", "a display name of at most 80 characters"),
    "alert_slack_icon_emoji": string(r":[a-z0-9_+-]+:", "an emoji code such as :dog:"),
    "alert_email_to": optional(email),
    "alert_email_from": email,
    "alert_smtp_host": optional(domain),
    "alert_smtp_port": integer(1, 65535),
    "alert_smtp_tls": one_of("starttls", "tls", "none"),
    "alert_smtp_user": optional(string(r"[^\s'\"]{1,256}", "a login name without spaces or quotes")),
    "alert_smtp_ca_file": absolute_path,
    "alert_sms_to": optional(string(r"\+[1-9][0-9]{6,14}", "a phone number in E.164 form such as +4915112345678")),
    "alert_twilio_api_url": url,
    "alert_dedup_minutes": integer(0, 10080),
    "alert_escalation": mapping_of(alert_tier, record({"repeat_minutes": integer(1, 1440), "sms": boolean})),
    "alert_group": identifier,
}


def _check_routes(settings):
    missing = [tier for tier in TIERS if tier not in settings.alert_routes]
    if missing:
        raise SettingsError("alert_routes", settings.alert_routes, f"a route for every tier (missing {missing[0]})")
    for tier, route in settings.alert_routes.items():
        for channel in route["slack"]:
            if channel not in settings.alert_slack_webhooks:
                raise SettingsError(
                    f"alert_routes[{tier!r}].slack",
                    channel,
                    f"a channel listed in alert_slack_webhooks ({', '.join(settings.alert_slack_webhooks)})",
                )


CHECKS = [_check_routes]
