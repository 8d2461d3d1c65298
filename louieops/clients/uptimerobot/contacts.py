"""UptimeRobot alert contacts as code: the desired contact, the contact as read back, how they match, and
the create bodies.

E-mail contacts are personal contacts (``POST /alert-contacts``, type ``Email``); Slack contacts are
integrations (``POST /integrations``, type ``Slack`` with the channel's incoming-webhook URL): the official
document has no Slack type in ``/alert-contacts``. Other types are only looked up (made in the dashboard).
A contact matches by type and exact name and/or value (an e-mail address case-insensitively); the read-back
may number the type (v2's codes) and HTML-escape the name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..secret import Secret
from .models import as_int, unescape

#: Where each creatable type is created (and listed).
CREATE_PATHS = {"email": "/alert-contacts", "slack": "/integrations"}
#: v2's type numbers (reference/uptimerobot-api.md §1.4; the official provider maps the same), lower case.
_TYPE_NUMBERS = {
    1: "emailtosms",
    2: "email",
    5: "webhook",
    6: "pushbullet",
    7: "zapier",
    8: "prosms",
    9: "pushover",
    11: "slack",
    14: "voice",
    15: "splunk",
    16: "pagerduty",
    17: "opsgenie",
    18: "telegram",
    20: "msteams",
    21: "googlechat",
    23: "discord",
    24: "mattermost",
}


@dataclass(frozen=True)
class ContactRef:
    """A desired alert contact: its type and the exact name and/or value to find it by. ``webhook_url``: the
    Slack incoming-webhook URL that creates a missing Slack contact."""

    type: str  # lower case: email, slack, ...
    name: str | None = None
    value: str | None = None
    webhook_url: Secret | None = None

    def label(self) -> str:
        return self.value if self.type == "email" and self.value else (self.name or self.value or "")

    def creatable(self) -> bool:
        if self.type == "email":
            return bool(self.value)
        return self.type == "slack" and bool(self.name) and self.webhook_url is not None

    def matches(self, contact: AlertContact) -> bool:
        if contact.type != self.type:
            return False
        if self.name is not None and contact.name != self.name:
            return False
        if self.value is None:
            return True
        if self.type == "email":
            return contact.value.lower() == self.value.lower()
        return contact.value == self.value


@dataclass(frozen=True)
class AlertContact:
    """A contact as listed (personal contact or integration), normalised."""

    id: int
    type: str  # lower case: email, slack, ...
    name: str
    value: str = field(repr=False)  # a Slack integration's value is its webhook URL
    path: str = "/alert-contacts"

    @classmethod
    def from_api(cls, data: dict, path: str) -> AlertContact:
        kind = data.get("type")
        kind = _TYPE_NUMBERS.get(as_int(kind), str(kind)) if isinstance(kind, (int, float)) else str(kind or "")
        return cls(
            id=as_int(data["id"]),
            type=kind.lower(),
            name=unescape(data.get("friendlyName")),
            value=unescape(data.get("value")),
            path=path,
        )


def create_body(ref: ContactRef) -> dict[str, Any]:
    """POST body of a missing contact (CreatePersonalAlertContactDto / CreateSlackIntegrationDto)."""
    if ref.type == "email":
        return {"type": "Email", "value": ref.value, "friendlyName": ref.name or ref.value}
    return {
        "type": "Slack",
        "data": {
            "friendlyName": ref.name,
            "webhookURL": ref.webhook_url.reveal(),
            "customValue": "",
            "enableNotificationsFor": "UpAndDown",
        },
    }
