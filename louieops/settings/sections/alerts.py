"""Alert routing settings (seed §4)."""

from __future__ import annotations

from ..errors import SettingsError
from ..rules import (
    boolean,
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
    "alert_email_to": optional(email),
    "alert_sms_to": optional(string(r"\+[1-9][0-9]{6,14}", "a phone number in E.164 form such as +4915112345678")),
    "alert_twilio_api_url": url,
    "alert_dedup_minutes": integer(0, 10080),
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
