"""UptimeRobot API v3 calls. Auth is ``Authorization: Bearer``; lists follow ``nextLink`` to the end.

Objects: monitors, personal alert contacts (``/alert-contacts``: e-mail, ...) and integrations
(``/integrations``: Slack, ...; both are what ``assignedAlertContacts`` names), maintenance windows, public
status pages (``/psps``) and their announcements, and per-monitor uptime stats.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from ..http import ApiError, HttpClient
from .contacts import AlertContact
from .models import Monitor
from .pages import Announcement, MaintenanceWindow, StatusPage

PAGE_LIMIT = 200  # the API's maximum page size of /monitors: fewer requests against a 10/minute budget
MAX_PAGES = 500  # loop guard: 100k monitors


class UptimeRobotClient:
    def __init__(self, http: HttpClient):
        self.http = http

    # --- monitors ---------------------------------------------------------------------------------

    def list_monitors(self, **filters: str) -> list[Monitor]:
        """Every monitor (``filters``: the list's query filters, e.g. ``tags="louieops"``)."""
        return [Monitor.from_api(item) for item in self._pages("/monitors", {"limit": PAGE_LIMIT, **filters})]

    def create_monitor(self, body: dict[str, Any]) -> Monitor:
        return Monitor.from_api(self.http.json("POST", "/monitors", json_body=body))

    def update_monitor(self, monitor_id: str, body: dict[str, Any]) -> Monitor:
        return Monitor.from_api(self.http.json("PATCH", f"/monitors/{monitor_id}", json_body=body))

    def delete_monitor(self, monitor_id: str) -> None:
        self._delete(f"/monitors/{monitor_id}")

    def monitor_uptime(self, monitor_id: str, start: str, end: str) -> float:
        """Uptime percentage (0-100) of one monitor between two ISO 8601 times (at most 90 days apart)."""
        answer = self.http.json("GET", f"/monitors/{monitor_id}/stats/uptime", params={"from": start, "to": end})
        return float(answer["uptime"])

    # --- alert contacts ---------------------------------------------------------------------------

    def list_alert_contacts(self) -> list[AlertContact]:
        """Personal contacts (e-mail, SMS, ...) and integrations (Slack, webhooks, ...): both can be
        assigned to a monitor through ``assignedAlertContacts``."""
        personal = [AlertContact.from_api(item, "/alert-contacts") for item in self._pages("/alert-contacts", {})]
        return personal + [AlertContact.from_api(item, "/integrations") for item in self._pages("/integrations", {})]

    def create_alert_contact(self, path: str, body: dict[str, Any]) -> AlertContact:
        """POST to ``/alert-contacts`` (personal) or ``/integrations``."""
        return AlertContact.from_api(self.http.json("POST", path, json_body=body), path)

    # --- maintenance windows ----------------------------------------------------------------------

    def list_windows(self) -> list[MaintenanceWindow]:
        return [MaintenanceWindow.from_api(item) for item in self._pages("/maintenance-windows", {})]

    def create_window(self, body: dict[str, Any]) -> MaintenanceWindow:
        return MaintenanceWindow.from_api(self.http.json("POST", "/maintenance-windows", json_body=body))

    def update_window(self, window_id: str, body: dict[str, Any]) -> MaintenanceWindow:
        return MaintenanceWindow.from_api(self.http.json("PATCH", f"/maintenance-windows/{window_id}", json_body=body))

    def delete_window(self, window_id: str) -> None:
        self._delete(f"/maintenance-windows/{window_id}")

    # --- status pages and announcements -----------------------------------------------------------

    def list_status_pages(self) -> list[StatusPage]:
        return [StatusPage.from_api(item) for item in self._pages("/psps", {})]

    def create_status_page(self, body: dict[str, Any]) -> StatusPage:
        return StatusPage.from_api(self.http.json("POST", "/psps", json_body=body))

    def update_status_page(self, page_id: str, body: dict[str, Any]) -> StatusPage:
        return StatusPage.from_api(self.http.json("PATCH", f"/psps/{page_id}", json_body=body))

    def delete_status_page(self, page_id: str) -> None:
        self._delete(f"/psps/{page_id}")

    def list_announcements(self, page_id: str) -> list[Announcement]:
        return [Announcement.from_api(item) for item in self._pages(f"/psps/{page_id}/announcements", {})]

    def create_announcement(self, page_id: str, body: dict[str, Any]) -> Announcement:
        return Announcement.from_api(self.http.json("POST", f"/psps/{page_id}/announcements", json_body=body))

    def update_announcement(self, page_id: str, announcement_id: str, body: dict[str, Any]) -> Announcement:
        path = f"/psps/{page_id}/announcements/{announcement_id}"
        return Announcement.from_api(self.http.json("PATCH", path, json_body=body))

    # --- helpers ----------------------------------------------------------------------------------

    def _delete(self, path: str) -> None:
        try:
            self.http.request("DELETE", path)
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
