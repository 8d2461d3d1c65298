"""UptimeRobot API v3 stand-in: monitors, alert contacts and integrations, with the real API's behaviours.

- ``GET /monitors``: ``limit`` default 50, max 200 (400 above); cursor = id of the last item; ``nextLink`` is
  set after every *full* page, so the last page may be empty.
- ``POST /monitors`` (201), ``PATCH /monitors/{id}`` (200), ``DELETE /monitors/{id}`` (200, no body); unknown
  id: 404 ``{"message": "Monitor not found", "code": "000-004"}``.
- read-back quirks: names and URLs HTML-escaped, the keyword HTML-escaped, PORT/PING URLs host-only,
  ``keywordCaseType`` 0/1 (create takes the string enum, update the number), ``httpMethodType`` null until a
  PATCH sets it, alert contacts in reverse order.
- optional rate limit (``rate_limit`` per 60-s window from the first counted request): 429 with the plain-text
  body ``ThrottlerException: Too Many Requests`` and ``Retry-After``.
"""

from __future__ import annotations

import html
import re
import time

from .base import Reply, StandIn, main

_TYPES = ("HTTP", "KEYWORD", "PING", "PORT", "HEARTBEAT", "DNS", "API", "UDP", "VISUAL_COMPARISON")
_REQUIRED = {
    "HTTP": ["url", "timeout"],
    "KEYWORD": ["url", "timeout", "keywordType", "keywordCaseType", "keywordValue"],
    "PORT": ["url", "port", "timeout"],
    "PING": ["url"],
}


class UptimeRobotStandIn(StandIn):
    ROUTES = {
        ("GET", "/monitors"): "list_monitors",
        ("POST", "/monitors"): "create_monitor",
        ("GET", "/monitors/{id}"): "get_monitor",
        ("PATCH", "/monitors/{id}"): "update_monitor",
        ("DELETE", "/monitors/{id}"): "delete_monitor",
        ("GET", "/alert-contacts"): "list_alert_contacts",
        ("GET", "/integrations"): "list_integrations",
    }

    def __init__(self, *args, rate_limit: int | None = None, clock=time.monotonic, **kwargs):
        super().__init__(*args, **kwargs)
        self.monitors: dict[int, dict] = {}
        self.next_id = 800000001
        self.alert_contacts = [
            {"id": 1001, "friendlyName": "Ops e-mail", "type": "Email", "value": "ops@simplylouie.com"},
            {"id": 1002, "friendlyName": "Someone else", "type": "Email", "value": "other@example.com"},
        ]
        self.integrations = [
            {"id": 2001, "friendlyName": "alerts-critical", "type": "Slack", "value": "https://hooks.slack.test/x"},
            {"id": 2002, "friendlyName": "alerts-general", "type": "Slack", "value": "https://hooks.slack.test/y"},
        ]
        self.requests_per_minute, self.clock = rate_limit, clock
        self._window_start, self._window_count = None, 0

    # --- test helpers -----------------------------------------------------------------------------

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
        record["id"] = self.next_id
        self.next_id += 1
        self.monitors[record["id"]] = record
        return record

    def by_name(self, name: str) -> list[dict]:
        return [m for m in self.monitors.values() if m["friendlyName"] == name]

    # --- behaviour --------------------------------------------------------------------------------

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

    def _page(self, items: list[dict], query: dict, path: str, render) -> Reply:
        try:
            limit = int(query.get("limit", ["50"])[0])
            cursor = int(float(query.get("cursor", ["0"])[0]))
        except ValueError:
            return Reply(400, {"message": ["limit and cursor must be numbers"]})
        if not 1 <= limit <= 200:
            return Reply(400, {"message": ["limit must not be greater than 200"]})
        rest = [item for item in sorted(items, key=lambda i: i["id"]) if item["id"] > cursor]
        page = rest[:limit]
        next_link = f"{self.url}{path}?limit={limit}&cursor={page[-1]['id']}" if len(page) == limit else None
        return Reply(200, {"data": [render(item) for item in page], "nextLink": next_link})

    def list_monitors(self, params, query, body):
        return self._page(list(self.monitors.values()), query, "/monitors", self._render)

    def list_alert_contacts(self, params, query, body):
        return self._page(self.alert_contacts, query, "/alert-contacts", self._contact)

    def list_integrations(self, params, query, body):
        return self._page(self.integrations, query, "/integrations", self._contact)

    def get_monitor(self, params, query, body):
        monitor = self.monitors.get(int(params["id"]))
        return Reply(200, self._render(monitor)) if monitor else self._missing()

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
        return Reply(201, self._render(record))

    def update_monitor(self, params, query, body):
        monitor = self.monitors.get(int(params["id"]))
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
        return Reply(200, self._render(monitor))

    def delete_monitor(self, params, query, body):
        if self.monitors.pop(int(params["id"]), None) is None:
            return self._missing()
        return Reply(200)

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
        known = {c["id"] for c in self.alert_contacts + self.integrations}
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

    def _render(self, monitor: dict) -> dict:
        out = dict(monitor)
        out["friendlyName"] = html.escape(monitor["friendlyName"], quote=False)
        out["url"] = html.escape(monitor["url"], quote=False)
        if monitor.get("keywordValue"):
            out["keywordValue"] = html.escape(monitor["keywordValue"])
        out["assignedAlertContacts"] = list(reversed(monitor["assignedAlertContacts"]))
        out.update(
            status="STARTED",
            sslBrand=None,
            checkSSLErrors=False,
            followRedirections=True,
            authType="HTTP_BASIC",
            customHttpHeaders={},
            successHttpResponseCodes=["2xx", "3xx"],
            responseTimeThreshold=0,
            config={},
            userId=1,
            createDateTime="2026-01-01T00:00:00.000Z",
            lastDayUptimes={},
            apiKey=None,
            maintenanceWindows=[],
            psps=[],
            gracePeriod=0,
            regionalData={},
            currentStateDuration=0,
            lastIncidentId=None,
            postValueData=None,
            postValueType=None,
            sslExpiryDateTime=None,
            domainExpireDate=None,
            sslExpirationReminder=False,
            domainExpirationReminder=False,
        )
        return out

    @staticmethod
    def _contact(contact: dict) -> dict:
        return {
            **contact,
            "status": "Active",
            "customValue": None,
            "enableNotificationsFor": 3,
            "sslExpirationReminder": False,
            "httpUsername": None,
            "httpPassword": None,
            "authType": None,
            "mobileProviderId": None,
            "orgAlertContactId": None,
        }

    @staticmethod
    def _missing() -> Reply:
        return Reply(404, {"message": "Monitor not found", "code": "000-004"})


if __name__ == "__main__":
    main(UptimeRobotStandIn, "UptimeRobot API v3 stand-in")
