"""The UptimeRobot stand-in's public status pages (``/psps``), their announcements, maintenance windows and
per-monitor uptime stats (mixed into ``UptimeRobotStandIn``).

- ``POST /psps`` / ``PATCH /psps/{id}`` take a JSON body with the fields of the document's multipart schema
  (the document only lists multipart/form-data, "when uploading a logo"; the official Terraform provider
  sends JSON otherwise); ``monitorIds`` read back in reverse order, ``customSettings`` null.
- announcements list newest first; their ``status`` reads back in capitals (``PUBLISHED``: the list filter's
  spelling) although a create takes ``Published``. ``visible_announcements(psp_id)``: what the public page
  shows (published, not ended).
- maintenance windows: ``DELETE`` answers 204; ``monitorIds`` read back in reverse order.
- ``uptime[monitor_id]``: the uptime percentage ``GET /monitors/{id}/stats/uptime`` reports (default 100).
"""

from __future__ import annotations

import datetime
import html
import re

from .base import Reply

PAGE_ROUTES = {
    ("GET", "/monitors/{id}/stats/uptime"): "monitor_uptime",
    ("GET", "/psps"): "list_psps",
    ("POST", "/psps"): "create_psp",
    ("GET", "/psps/{id}"): "get_psp",
    ("PATCH", "/psps/{id}"): "update_psp",
    ("DELETE", "/psps/{id}"): "delete_psp",
    ("GET", "/psps/{pspId}/announcements"): "list_announcements",
    ("POST", "/psps/{pspId}/announcements"): "create_announcement",
    ("GET", "/psps/{pspId}/announcements/{id}"): "get_announcement",
    ("PATCH", "/psps/{pspId}/announcements/{id}"): "update_announcement",
    ("GET", "/maintenance-windows"): "list_windows",
    ("POST", "/maintenance-windows"): "create_window",
    ("GET", "/maintenance-windows/{id}"): "get_window",
    ("PATCH", "/maintenance-windows/{id}"): "update_window",
    ("DELETE", "/maintenance-windows/{id}"): "delete_window",
}
_PSP_FIELDS = ("friendlyName", "monitorIds", "status", "homepageLink", "customDomain")
_ANNOUNCEMENT_FIELDS = ("title", "content", "status", "type", "startDate", "endDate")
_WINDOW_FIELDS = ("name", "interval", "date", "time", "duration", "monitorIds", "days", "autoAddMonitors", "status")
_TIME = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d")
_DATE = re.compile(r"(19|20)\d\d-\d\d-\d\d")
_NOW = "2026-11-26T12:00:00.000Z"


def _iso(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _seconds(text: str | None) -> float | None:
    if not text:
        return None
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class PagesMixin:
    def init_pages(self) -> None:
        self.psps: dict[int, dict] = {}
        self.announcements: dict[int, dict] = {}
        self.windows: dict[int, dict] = {}
        self.uptime: dict[int, float] = {}

    # --- what the monitors show of them --------------------------------------------------------------

    def windows_of(self, monitor_id: int) -> list[dict]:
        return [self.render_window(w) for w in self.windows.values() if monitor_id in w["monitorIds"]]

    def psps_of(self, monitor_id: int) -> list[dict]:
        return [self.render_psp(p) for p in self.psps.values() if monitor_id in p["monitorIds"]]

    def forget_monitor(self, monitor_id: int) -> None:
        for record in [*self.windows.values(), *self.psps.values()]:
            if monitor_id in record["monitorIds"]:
                record["monitorIds"].remove(monitor_id)

    def visible_announcements(self, psp_id: int) -> list[dict]:
        now = self.clock()
        return [
            a
            for a in self.announcements.values()
            if a["pspId"] == psp_id
            and a.get("status") == "Published"
            and (_seconds(a.get("endDate")) or now + 1) > now
            and (_seconds(a.get("startDate")) or now) <= now
        ]

    # --- uptime stats ------------------------------------------------------------------------------

    def monitor_uptime(self, params, query, body):
        monitor = self.monitor(params["id"])
        if monitor is None:
            return self._missing()
        now = self.clock()
        ratio = self.uptime.get(monitor["id"], 100.0)
        start = _seconds(query.get("from", [None])[0]) or now - 86400
        end = _seconds(query.get("to", [None])[0]) or now
        down = round((end - start) * (100.0 - ratio) / 100.0)
        return Reply(
            200,
            {
                "uptime": ratio,
                "total_downtime_seconds": down,
                "incident_count": 1 if down else 0,
                "mtbf": None,
                "from": _iso(start),
                "to": _iso(end),
            },
        )

    # --- status pages ------------------------------------------------------------------------------

    def _psp_errors(self, body: dict, create: bool) -> list[str]:
        errors = [f"property {k} should not exist" for k in body if k not in (*_PSP_FIELDS, "sort", "password")]
        if create and not body.get("friendlyName"):
            errors.append("friendlyName should not be empty")
        if "status" in body and body["status"] not in ("ENABLED", "PAUSED"):
            errors.append("status must be one of the following values: PAUSED, ENABLED")
        known = {m for m in self.monitors}
        errors += [f"monitor {m} not found" for m in body.get("monitorIds") or () if m not in known]
        return errors

    def list_psps(self, params, query, body):
        return self.page(list(self.psps.values()), query, "/psps", self.render_psp)

    def create_psp(self, params, query, body):
        errors = self._psp_errors(body or {}, create=True)
        if errors:
            return Reply(400, {"message": errors})
        psp_id = self._new_id()
        record = {
            "id": psp_id,
            "friendlyName": body["friendlyName"],
            "monitorIds": list(body.get("monitorIds") or []),
            "status": body.get("status", "ENABLED"),
            "homepageLink": body.get("homepageLink", "https://uptimerobot.com"),
            "customDomain": body.get("customDomain"),
            "urlKey": f"k{psp_id:x}",
        }
        self.psps[psp_id] = self.stamp(record)
        return Reply(201, self.render_psp(record))

    def psp(self, psp_id) -> dict | None:
        record = self.psps.get(int(psp_id))
        return record if record and self.visible(record) else None

    def get_psp(self, params, query, body):
        record = self.psp(params["id"])
        return Reply(200, self.render_psp(record)) if record else self._missing_psp()

    def update_psp(self, params, query, body):
        record = self.psp(params["id"])
        if record is None:
            return self._missing_psp()
        errors = self._psp_errors(body or {}, create=False)
        if errors:
            return Reply(400, {"message": errors})
        record.update({k: v for k, v in body.items() if k in _PSP_FIELDS})
        return Reply(200, self.render_psp(record))

    def delete_psp(self, params, query, body):
        if self.psp(params["id"]) is None:
            return self._missing_psp()
        del self.psps[int(params["id"])]
        return Reply(200)

    def render_psp(self, record: dict) -> dict:
        """PspDto: every required field."""
        return {
            "id": record["id"],
            "friendlyName": html.escape(record["friendlyName"], quote=False),
            "customDomain": record.get("customDomain"),
            "isPasswordSet": False,
            "monitorIds": list(reversed(record["monitorIds"])),
            "tagIds": [],
            "monitorsCount": len(record["monitorIds"]),
            "status": record["status"],
            "urlKey": record["urlKey"],
            "homepageLink": record.get("homepageLink"),
            "gaCode": None,
            "shareAnalyticsConsent": False,
            "useSmallCookieConsentModal": False,
            "icon": None,
            "noIndex": False,
            "logo": None,
            "hideUrlLinks": False,
            "subscription": False,
            "showCookieBar": False,
            "pinnedAnnouncementId": None,
            "customSettings": None,
        }

    @staticmethod
    def _missing_psp() -> Reply:
        return Reply(404, {"message": "PSP not found", "code": "000-004"})

    # --- announcements -----------------------------------------------------------------------------

    def _announcement_errors(self, body: dict) -> list[str]:
        errors = [f"property {k} should not exist" for k in body if k not in _ANNOUNCEMENT_FIELDS]
        if body.get("status") not in (None, "Offline", "Pending", "Published", "Archived"):
            errors.append("status must be one of the following values: Offline, Pending, Published, Archived")
        if body.get("type") not in (None, "Info", "Maintenance", "Issue"):
            errors.append("type must be one of the following values: Info, Maintenance, Issue")
        for key in ("startDate", "endDate"):
            try:
                _seconds(body.get(key))
            except ValueError:
                errors.append(f"{key} must be a valid ISO 8601 date string")
        return errors

    def list_announcements(self, params, query, body):
        if self.psp(params["pspId"]) is None:
            return self._missing_psp()
        wanted = query.get("status", [None])[0]
        items = [
            a
            for a in sorted(self.announcements.values(), key=lambda a: -a["id"])
            if a["pspId"] == int(params["pspId"])
            and self.visible(a)
            and (wanted is None or a["status"].upper() == wanted)
        ]
        cursor = int(query.get("cursor", ["0"])[0])
        rest = [a for a in items if not cursor or a["id"] < cursor]
        page = rest[:10]
        path = f"/psps/{params['pspId']}/announcements"
        next_link = f"{self.url}{path}?cursor={page[-1]['id']}" if len(page) == 10 else None
        return Reply(200, {"data": [self.render_announcement(a) for a in page], "nextLink": next_link})

    def create_announcement(self, params, query, body):
        if self.psp(params["pspId"]) is None:
            return self._missing_psp()
        errors = self._announcement_errors(body or {})
        if errors:
            return Reply(400, {"message": errors})
        record = {
            "id": self._new_id(),
            "pspId": int(params["pspId"]),
            "title": None,
            "content": None,
            "status": "Offline",
            "type": "Info",
            "startDate": None,
            "endDate": None,
            "creationDate": _iso(self.clock()),
            **body,
        }
        self.announcements[record["id"]] = self.stamp(record)
        return Reply(201, self.render_announcement(record))

    def _announcement(self, params) -> dict | None:
        record = self.announcements.get(int(params["id"]))
        if record and record["pspId"] == int(params["pspId"]) and self.visible(record):
            return record
        return None

    def get_announcement(self, params, query, body):
        record = self._announcement(params)
        return Reply(200, self.render_announcement(record)) if record else self._missing_psp()

    def update_announcement(self, params, query, body):
        record = self._announcement(params)
        if record is None:
            return self._missing_psp()
        errors = self._announcement_errors(body or {})
        if errors:
            return Reply(400, {"message": errors})
        record.update(body)
        return Reply(200, self.render_announcement(record))

    @staticmethod
    def render_announcement(record: dict) -> dict:
        """PspAnnouncementResponseDto: every required field."""
        return {
            "id": record["id"],
            "pspId": record["pspId"],
            "userId": 1,
            "title": record["title"],
            "content": record["content"],
            "status": record["status"].upper(),
            "type": record["type"],
            "deliveryStatus": "CantSend",
            "startDate": record["startDate"],
            "endDate": record["endDate"],
            "creationDate": record["creationDate"],
            "submitDate": None,
            "sentCount": 0,
        }

    # --- maintenance windows -----------------------------------------------------------------------

    def _window_errors(self, body: dict, create: bool) -> list[str]:
        errors = [f"property {k} should not exist" for k in body if k not in _WINDOW_FIELDS]
        if create:
            errors += [
                f"{k} should not be empty" for k in ("name", "interval", "date", "time", "duration") if k not in body
            ]
        if "interval" in body and body["interval"] not in ("once", "daily", "weekly", "monthly"):
            errors.append("interval must be one of the following values: once, daily, weekly, monthly")
        if "time" in body and not _TIME.fullmatch(str(body["time"])):
            errors.append("time must be in HH:mm:ss format")
        if "date" in body and not _DATE.fullmatch(str(body["date"])):
            errors.append("date must be in YYYY-MM-DD format")
        if "duration" in body and not (isinstance(body["duration"], int) and body["duration"] >= 1):
            errors.append("duration must not be less than 1")
        if body.get("interval") in ("weekly", "monthly") and not body.get("days"):
            errors.append("days should not be empty for weekly and monthly windows")
        errors += [f"monitor {m} not found" for m in body.get("monitorIds") or () if m not in self.monitors]
        return errors

    def list_windows(self, params, query, body):
        return self.page(list(self.windows.values()), query, "/maintenance-windows", self.render_window)

    def create_window(self, params, query, body):
        errors = self._window_errors(body or {}, create=True)
        if errors:
            return Reply(400, {"message": errors})
        record = {
            "id": self._new_id(),
            "monitorIds": [],
            "days": [],
            "autoAddMonitors": False,
            "status": "active",
            **body,
        }
        record["monitorIds"] = list(record["monitorIds"])
        self.windows[record["id"]] = self.stamp(record)
        return Reply(201, self.render_window(record))

    def window(self, window_id) -> dict | None:
        record = self.windows.get(int(window_id))
        return record if record and self.visible(record) else None

    def get_window(self, params, query, body):
        record = self.window(params["id"])
        return Reply(200, self.render_window(record)) if record else self._missing_window()

    def update_window(self, params, query, body):
        record = self.window(params["id"])
        if record is None:
            return self._missing_window()
        errors = self._window_errors(body or {}, create=False)
        if errors:
            return Reply(400, {"message": errors})
        record.update(body)
        return Reply(200, self.render_window(record))

    def delete_window(self, params, query, body):
        if self.window(params["id"]) is None:
            return self._missing_window()
        del self.windows[int(params["id"])]
        return Reply(204)

    @staticmethod
    def render_window(record: dict) -> dict:
        """MaintenanceWindowDto: every required field."""
        return {
            "id": record["id"],
            "userId": 1,
            "name": html.escape(record["name"], quote=False),
            "interval": record["interval"],
            "date": record.get("date"),
            "time": record["time"],
            "duration": record["duration"],
            "autoAddMonitors": record["autoAddMonitors"],
            "monitorIds": list(reversed(record["monitorIds"])),
            "days": list(record["days"]),
            "status": record["status"],
            "created": _NOW,
        }

    @staticmethod
    def _missing_window() -> Reply:
        return Reply(404, {"message": "Maintenance window not found", "code": "000-004"})
