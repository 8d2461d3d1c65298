"""UptimeRobot API v3 stand-in: monitors, alert contacts and integrations (status pages, announcements,
maintenance windows and uptime stats in ``uptimerobot_pages``), answering as the official OpenAPI document
allows and, where it is silent, in the least convenient legal way.

- lists: ``{"data": [...], "nextLink": ...}``; cursor = id of the last item; ``nextLink`` after every
  *full* page, so the last page may be empty; ``limit`` (monitors only) default 50, max 200 (400 above) and,
  being a maximum, served as at most ``page_cap`` (50) items: more than 50 monitors take several pages;
  monitors filter by ``tags`` and ``name``.
- ``POST /monitors`` (201), ``PATCH /monitors/{id}`` (200), ``DELETE /monitors/{id}`` (200, no body); an
  unknown id: 404 ``{"message": "Monitor not found", "code": "000-004"}``.
- read-back quirks: names and URLs HTML-escaped, the keyword HTML-escaped, PORT/PING URLs host-only,
  ``keywordCaseType`` 0/1 (create takes the string enum, update the number), ``httpMethodType`` null until a
  PATCH sets it, alert contacts in reverse order; alert contacts and integrations with numeric ``type``,
  ``status`` and ``enableNotificationsFor`` (the document leaves them untyped; v2 numbered them); every
  optional field left out.
- the account's own e-mail is its first alert contact and cannot be added again (400).
- optional rate limit (``rate_limit`` per 60-s window from the first counted request): 429 with the plain-text
  body ``ThrottlerException: Too Many Requests`` and ``Retry-After``.
- ``read_token``: a second key that may only read (any write answers 401); default ``READ_TOKEN``.
- ``POST /_admin/uptime`` ``{"name": monitor name, "uptime": percent}``: what the uptime stats report.
"""

from __future__ import annotations

import html
import re

from .base import Reply, StandIn, main
from .uptimerobot_pages import PAGE_ROUTES, PagesMixin

_TYPES = ("HTTP", "KEYWORD", "PING", "PORT", "HEARTBEAT", "DNS", "API", "UDP", "VISUAL_COMPARISON")
_REQUIRED = {
    "HTTP": ["url", "timeout"],
    "KEYWORD": ["url", "timeout", "keywordType", "keywordCaseType", "keywordValue"],
    "PORT": ["url", "port", "timeout"],
    "PING": ["url"],
}
#: v2's alert-contact type numbers (reference/uptimerobot-api.md §1.4), as the read-back may give them.
CONTACT_TYPES = {"Email": 2, "Webhook": 5, "Slack": 11, "Telegram": 18, "MSTeams": 20, "Discord": 23}
ACCOUNT_EMAIL = "owner@simplylouie.com"
#: The read-only key the stand-in accepts by default (the server's key for the uptime report).
READ_TOKEN = "test-read-token"


class UptimeRobotStandIn(PagesMixin, StandIn):
    ROUTES = {
        ("GET", "/monitors"): "list_monitors",
        ("POST", "/monitors"): "create_monitor",
        ("GET", "/monitors/{id}"): "get_monitor",
        ("PATCH", "/monitors/{id}"): "update_monitor",
        ("DELETE", "/monitors/{id}"): "delete_monitor",
        ("GET", "/alert-contacts"): "list_alert_contacts",
        ("POST", "/alert-contacts"): "create_alert_contact",
        ("GET", "/integrations"): "list_integrations",
        ("POST", "/integrations"): "create_integration",
        **PAGE_ROUTES,
    }
    page_cap = 50

    def __init__(self, *args, rate_limit: int | None = None, read_token: str | None = READ_TOKEN, **kwargs):
        super().__init__(*args, **kwargs)
        self.read_token = read_token
        self.monitors: dict[int, dict] = {}
        self.next_id = 800000001
        self.alert_contacts: list[dict] = []
        self.integrations: list[dict] = []
        self.add_contact(friendlyName=ACCOUNT_EMAIL, type="Email", value=ACCOUNT_EMAIL)
        self.requests_per_minute = rate_limit
        self._window_start, self._window_count = None, 0
        self.init_pages()

    # --- test helpers -----------------------------------------------------------------------------

    def _new_id(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def add_monitor(self, **fields) -> dict:
        """Store a monitor directly (as if made in the dashboard); returns the stored record."""
        record = {
            "friendlyName": "m",
            "type": "HTTP",
            "url": "https://example.com",
            "interval": 300,
            "timeout": 30,
            "assignedAlertContacts": [],
            "tags": [],
            "httpMethodType": None,
            "keywordType": None,
            "keywordCaseType": None,
            "keywordValue": None,
            "port": None,
        }
        record.update(fields)
        record["id"] = self._new_id()
        self.monitors[record["id"]] = self.stamp(record)
        return record

    def add_contact(self, **fields) -> dict:
        """A personal alert contact (type Email, ...) as made in the dashboard."""
        record = self.stamp({"id": self._new_id(), **fields})
        self.alert_contacts.append(record)
        return record

    def add_integration(self, **fields) -> dict:
        """An integration (type Slack, ...) as made in the dashboard."""
        record = self.stamp({"id": self._new_id(), "customValue": "", **fields})
        self.integrations.append(record)
        return record

    def by_name(self, name: str) -> list[dict]:
        return [m for m in self.monitors.values() if m["friendlyName"] == name]

    # --- behaviour --------------------------------------------------------------------------------

    def admin(self, method, path, body):
        if method == "POST" and path == "/_admin/uptime":
            monitors = self.by_name(body["name"])
            if not monitors:
                return Reply(404, {"message": f"no monitor named {body['name']!r}"})
            for monitor in monitors:
                self.uptime[monitor["id"]] = float(body["uptime"])
            return Reply(204)
        return super().admin(method, path, body)

    def authorized(self, headers, method: str) -> bool:
        read_only = self.read_token is not None and headers.get("Authorization") == f"Bearer {self.read_token}"
        return super().authorized(headers, method) or (read_only and method == "GET")

    def gate(self, handler):
        return None

    def rate_limit(self, method, template):
        if not self.requests_per_minute:
            return None
        now = self.clock()
        if self._window_start is None or now - self._window_start >= 60:
            self._window_start, self._window_count = now, 0
        self._window_count += 1
        reset = max(1, int(60 - (now - self._window_start)))
        if self._window_count > self.requests_per_minute:
            return Reply(
                429,
                "ThrottlerException: Too Many Requests",
                {
                    "Retry-After": str(reset),
                    "X-RateLimit-Limit": str(self.requests_per_minute),
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": str(reset),
                },
            )
        return None

    def page(self, items: list[dict], query: dict, path: str, render, default_limit: int = 50) -> Reply:
        try:
            limit = int(query.get("limit", [str(default_limit)])[0])
            cursor = int(float(query.get("cursor", ["0"])[0]))
        except ValueError:
            return Reply(400, {"message": ["limit and cursor must be numbers"]})
        if not 1 <= limit <= 200:
            return Reply(400, {"message": ["limit must not be greater than 200"]})
        size = min(limit, self.page_cap)
        rest = [item for item in sorted(items, key=lambda i: i["id"]) if item["id"] > cursor and self.visible(item)]
        page = rest[:size]
        next_link = f"{self.url}{path}?limit={limit}&cursor={page[-1]['id']}" if len(page) == size else None
        return Reply(200, {"data": [render(item) for item in page], "nextLink": next_link})

    def list_monitors(self, params, query, body):
        """The document's ``tags`` (comma-separated, any of them, case-sensitive) and ``name`` (case-insensitive
        part of the name) filters."""
        items = list(self.monitors.values())
        if query.get("tags"):
            wanted = set(query["tags"][0].split(","))
            items = [m for m in items if wanted & {t["name"] for t in m["tags"]}]
        if query.get("name"):
            items = [m for m in items if query["name"][0].lower() in m["friendlyName"].lower()]
        return self.page(items, query, "/monitors", self.render_monitor)

    def list_alert_contacts(self, params, query, body):
        return self.page(self.alert_contacts, query, "/alert-contacts", self._contact)

    def list_integrations(self, params, query, body):
        return self.page(self.integrations, query, "/integrations", self._integration)

    def monitor(self, monitor_id) -> dict | None:
        monitor = self.monitors.get(int(monitor_id))
        return monitor if monitor and self.visible(monitor) else None

    def get_monitor(self, params, query, body):
        monitor = self.monitor(params["id"])
        return Reply(200, self.render_monitor(monitor)) if monitor else self._missing()

    def create_monitor(self, params, query, body):
        if not isinstance(body, dict):
            return Reply(400, {"message": ["body must be an object"]})
        kind = str(body.get("type", "")).upper()
        errors = self._check(body, kind, create=True)
        if errors:
            return Reply(400, {"message": errors})
        case = body.get("keywordCaseType")
        record = self.add_monitor(
            friendlyName=body["friendlyName"],
            type=kind,
            url=self._url(kind, body["url"]),
            interval=body["interval"],
            timeout=body.get("timeout"),
            port=body.get("port"),
            keywordType=body.get("keywordType"),
            keywordValue=(body.get("keywordValue") or "").strip() or None,
            keywordCaseType={"CaseSensitive": 0, "CaseInsensitive": 1}.get(case, case),
            assignedAlertContacts=list(body.get("assignedAlertContacts") or []),
            tags=self._tags(body.get("tagNames") or []),
            httpMethodType=None,  # quirk: new monitors read back null whatever was sent
        )
        return Reply(201, self.render_monitor(record))

    def update_monitor(self, params, query, body):
        monitor = self.monitor(params["id"])
        if monitor is None:
            return self._missing()
        errors = self._check(body or {}, monitor["type"], create=False)
        if errors:
            return Reply(400, {"message": errors})
        for key in (
            "friendlyName",
            "interval",
            "timeout",
            "port",
            "keywordType",
            "keywordCaseType",
            "httpMethodType",
            "assignedAlertContacts",
        ):
            if key in body:
                monitor[key] = body[key]
        if "url" in body:
            monitor["url"] = self._url(monitor["type"], body["url"])
        if "keywordValue" in body:
            monitor["keywordValue"] = (body["keywordValue"] or "").strip() or None
        if "tagNames" in body:
            monitor["tags"] = self._tags(body["tagNames"])
        return Reply(200, self.render_monitor(monitor))

    def delete_monitor(self, params, query, body):
        if self.monitor(params["id"]) is None:
            return self._missing()
        del self.monitors[int(params["id"])]
        self.forget_monitor(int(params["id"]))
        return Reply(200)

    def create_alert_contact(self, params, query, body):
        body = body or {}
        if body.get("type") != "Email":
            return Reply(400, {"message": ["only Email contacts can be created in this stand-in"]})
        if not body.get("value"):
            return Reply(400, {"message": ["value should not be empty"]})
        if body["value"].lower() == ACCOUNT_EMAIL:
            return Reply(400, {"message": ["You can not add your e-mail as alert contact."]})
        record = self.add_contact(type="Email", value=body["value"], friendlyName=body.get("friendlyName"))
        return Reply(201, self._contact(record))

    def create_integration(self, params, query, body):
        data = (body or {}).get("data") or {}
        if (body or {}).get("type") != "Slack" or "webhookURL" not in data or "customValue" not in data:
            return Reply(400, {"message": ["type Slack needs data.webhookURL and data.customValue"]})
        record = self.add_integration(
            type="Slack",
            friendlyName=data.get("friendlyName"),
            value=data["webhookURL"],
            customValue=data["customValue"],
        )
        return Reply(201, self._integration(record))

    # --- helpers ----------------------------------------------------------------------------------

    def _check(self, body: dict, kind: str, create: bool) -> list[str]:
        errors = []
        if create:
            if kind not in _TYPES:
                return [f"type must be one of the following values: {', '.join(_TYPES)}"]
            for key in ["friendlyName", "interval"] + _REQUIRED.get(kind, []):
                if key not in body:
                    errors.append(f"{key} should not be empty")
            if "keywordCaseType" in body and body["keywordCaseType"] not in ("CaseSensitive", "CaseInsensitive"):
                errors.append("keywordCaseType must be one of the following values: CaseSensitive, CaseInsensitive")
        elif "keywordCaseType" in body and body["keywordCaseType"] not in (0, 1):
            errors.append("keywordCaseType must be one of the following values: 0, 1")
        if "interval" in body and not (isinstance(body["interval"], int) and body["interval"] >= 30):
            errors.append("interval must not be less than 30")
        known = {c["id"] for c in self.alert_contacts + self.integrations if self.visible(c)}
        for contact in body.get("assignedAlertContacts") or []:
            if set(contact) != {"alertContactId", "threshold", "recurrence"}:
                errors.append("each assignedAlertContacts item needs alertContactId, threshold, recurrence")
            elif contact["alertContactId"] not in known:
                errors.append(f"alert contact {contact['alertContactId']} not found")
        if kind == "KEYWORD" and body.get("httpMethodType") == "HEAD":
            errors.append("HEAD requests cannot match body content")
        return errors

    @staticmethod
    def _url(kind: str, url: str) -> str:
        if kind in ("PORT", "PING"):  # "A protocol prefix is stripped if provided"
            return re.sub(r"^[a-z]+://", "", url)
        return url

    def _tags(self, names: list[str]) -> list[dict]:
        return [{"id": 5000 + index, "name": name, "color": "#00AA00"} for index, name in enumerate(names)]

    def render_monitor(self, monitor: dict) -> dict:
        """MonitorDto: every required field, no optional one."""
        keyword = monitor.get("keywordValue")
        return {
            "id": monitor["id"],
            "friendlyName": html.escape(monitor["friendlyName"], quote=False),
            "type": monitor["type"],
            "url": html.escape(monitor["url"], quote=False),
            "interval": monitor["interval"],
            "timeout": monitor.get("timeout"),
            "port": monitor.get("port"),
            "keywordValue": html.escape(keyword) if keyword else keyword,
            "keywordType": monitor.get("keywordType"),
            "keywordCaseType": monitor.get("keywordCaseType"),
            "httpMethodType": monitor.get("httpMethodType"),
            "assignedAlertContacts": list(reversed(monitor["assignedAlertContacts"])),
            "tags": monitor["tags"],
            "status": "STARTED",
            "sslBrand": None,
            "sslExpiryDateTime": None,
            "domainExpireDate": None,
            "checkSSLErrors": False,
            "sslExpirationReminder": False,
            "domainExpirationReminder": False,
            "followRedirections": True,
            "authType": "HTTP_BASIC",  # quirk: new monitors read back HTTP_BASIC with empty credentials
            "customHttpHeaders": {},
            "successHttpResponseCodes": ["2xx", "3xx"],
            "postValueData": None,
            "postValueType": None,
            "gracePeriod": 0,
            "responseTimeThreshold": 0,
            "config": None,
            "regionalData": {"REGION": ["na"]},
            "maintenanceWindows": self.windows_of(monitor["id"]),
            "psps": self.psps_of(monitor["id"]),
            "currentStateDuration": 0,
            "lastIncidentId": None,
            "userId": 1,
            "lastDayUptimes": {"bucketSize": 3600, "histogram": []},
            "createDateTime": "2026-01-01T00:00:00.000Z",
            "apiKey": None,
        }

    @staticmethod
    def _common_contact(contact: dict) -> dict:
        name = contact.get("friendlyName")
        return {
            "id": contact["id"],
            "friendlyName": html.escape(name, quote=False) if name else name,
            "type": CONTACT_TYPES[contact["type"]],
            "value": contact["value"],
            "customValue": contact.get("customValue"),
            "enableNotificationsFor": 0,
            "sslExpirationReminder": False,
            "status": 2,
        }

    def _contact(self, contact: dict) -> dict:
        """AlertContactDto: every required field, no optional one."""
        return {
            **self._common_contact(contact),
            "httpUsername": None,
            "httpPassword": None,
            "authType": None,
            "mobileProviderId": None,
            "orgAlertContactId": None,
        }

    def _integration(self, integration: dict) -> dict:
        """IntegrationDto: every required field, no optional one."""
        return {**self._common_contact(integration), "customValue2": None, "customValue3": None, "customValue4": None}

    @staticmethod
    def _missing() -> Reply:
        return Reply(404, {"message": "Monitor not found", "code": "000-004"})


if __name__ == "__main__":
    main(UptimeRobotStandIn, "UptimeRobot API v3 stand-in")
