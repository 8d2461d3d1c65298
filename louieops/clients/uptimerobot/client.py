"""UptimeRobot API v3 calls: list (every page), create, update, delete. Auth is ``Authorization: Bearer``."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from ..http import ApiError, HttpClient
from .models import AlertContact, Monitor

PAGE_LIMIT = 200  # the API's maximum page size: fewer requests against a 10/minute budget
MAX_PAGES = 500  # loop guard: 100k monitors


class UptimeRobotClient:
    def __init__(self, http: HttpClient):
        self.http = http

    def list_monitors(self) -> list[Monitor]:
        return [Monitor.from_api(item) for item in self._pages("/monitors", {"limit": PAGE_LIMIT})]

    def list_alert_contacts(self) -> list[AlertContact]:
        """Personal contacts (e-mail, SMS, ...) and integrations (Slack, webhooks, ...): both can be
        assigned to a monitor through ``assignedAlertContacts``."""
        items = list(self._pages("/alert-contacts", {})) + list(self._pages("/integrations", {}))
        return [AlertContact.from_api(item) for item in items]

    def create_monitor(self, body: dict[str, Any]) -> Monitor:
        return Monitor.from_api(self.http.json("POST", "/monitors", json_body=body))

    def update_monitor(self, monitor_id: str, body: dict[str, Any]) -> Monitor:
        return Monitor.from_api(self.http.json("PATCH", f"/monitors/{monitor_id}", json_body=body))

    def delete_monitor(self, monitor_id: str) -> None:
        try:
            self.http.request("DELETE", f"/monitors/{monitor_id}")
        except ApiError as exc:
            if not exc.is_not_found:  # already gone: the desired state
                raise

    def _pages(self, path: str, params: dict[str, Any]):
        """Follow ``nextLink`` to the end. The API announces a next page after every full page, so the
        last page may be empty; a repeated cursor or more than MAX_PAGES pages is an error."""
        seen: set[str] = set()
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            page = self.http.json("GET", path, params={**params, **({"cursor": cursor} if cursor else {})})
            if isinstance(page, list):  # un-paginated list endpoints
                yield from page
                return
            data = page.get("data") or []
            yield from data
            cursor = _cursor(page.get("nextLink"))
            if not data or not cursor:
                return
            if cursor in seen:
                raise ApiError("GET", path, 200, f"pagination loops (cursor {cursor} repeated)")
            seen.add(cursor)
        raise ApiError("GET", path, 200, f"more than {MAX_PAGES} pages")


def _cursor(next_link: str | None) -> str | None:
    if not next_link:
        return None
    values = parse_qs(urlsplit(next_link).query).get("cursor")
    return values[0] if values else None
