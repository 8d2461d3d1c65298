"""UptimeRobot maintenance windows, public status pages and their announcements: desired objects, the
objects as read back (normalised), and request bodies.

Both windows and status pages name their monitors by monitor name; the ids are filled in once the monitors
are listed or created. Read-back quirks: names HTML-escaped, ``monitorIds`` in any order, an announcement's
``status`` in any case (``Published`` is sent, ``PUBLISHED`` is what the list filter spells).
A recurring window's start ``date`` is only sent on create (today): the API requires one, and comparing it
would rewrite the window every day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .models import as_int, unescape


@dataclass(frozen=True)
class WindowSpec:
    """A recurring maintenance window: alerts of its monitors are held for ``duration`` minutes from ``time``
    (HH:MM:SS in the account's time zone) every day, or on ``days`` (weekly: 1 Monday ... 7 Sunday; monthly:
    days of the month)."""

    name: str
    interval: str
    time: str
    duration: int
    days: tuple[int, ...] = ()
    monitors: tuple[str, ...] = ()  # monitor names

    def comparable(self, monitor_ids) -> dict[str, Any]:
        return {
            "interval": self.interval,
            "time": self.time,
            "duration": self.duration,
            "days": tuple(sorted(self.days)),
            "monitors": frozenset(monitor_ids),
            "status": "active",
        }


@dataclass(frozen=True)
class MaintenanceWindow:
    id: str
    name: str
    interval: str
    time: str
    duration: int
    days: tuple[int, ...]
    monitor_ids: frozenset
    status: str

    @classmethod
    def from_api(cls, data: dict) -> MaintenanceWindow:
        return cls(
            id=str(data["id"]),
            name=unescape(data.get("name")),
            interval=str(data.get("interval") or "").lower(),
            time=str(data.get("time") or ""),
            duration=as_int(data.get("duration")),
            days=tuple(sorted(as_int(d) for d in data.get("days") or ())),
            monitor_ids=frozenset(as_int(m) for m in data.get("monitorIds") or ()),
            status=str(data.get("status") or "").lower(),
        )

    def comparable(self) -> dict[str, Any]:
        return {
            "interval": self.interval,
            "time": self.time,
            "duration": self.duration,
            "days": self.days,
            "monitors": self.monitor_ids,
            "status": self.status,
        }


def window_body(spec: WindowSpec, monitor_ids, date: str | None) -> dict[str, Any]:
    """POST (with ``date``) or PATCH body of a window; every managed field (a PATCH overwrites them)."""
    body: dict[str, Any] = {
        "name": spec.name,
        "interval": spec.interval,
        "time": spec.time,
        "duration": spec.duration,
        "monitorIds": sorted(monitor_ids),
    }
    if spec.interval != "daily":
        body["days"] = sorted(spec.days)
    if date is not None:
        body["date"] = date
    else:
        body["status"] = "active"
    return body


@dataclass(frozen=True)
class StatusPageSpec:
    """A public status page showing ``monitors`` (names), published; ``homepage_link``: where its logo leads."""

    name: str
    monitors: tuple[str, ...]
    homepage_link: str | None = None

    def comparable(self, monitor_ids) -> dict[str, Any]:
        out: dict[str, Any] = {"monitors": frozenset(monitor_ids), "status": "ENABLED"}
        if self.homepage_link:
            out["homepage_link"] = self.homepage_link
        return out


@dataclass(frozen=True)
class StatusPage:
    id: str
    name: str
    monitor_ids: frozenset
    status: str
    homepage_link: str | None
    url_key: str = field(default="", compare=False)

    @classmethod
    def from_api(cls, data: dict) -> StatusPage:
        return cls(
            id=str(data["id"]),
            name=unescape(data.get("friendlyName")),
            monitor_ids=frozenset(as_int(m) for m in data.get("monitorIds") or ()),
            status=str(data.get("status") or "").upper(),
            homepage_link=data.get("homepageLink"),
            url_key=str(data.get("urlKey") or ""),
        )

    def comparable(self) -> dict[str, Any]:
        return {"monitors": self.monitor_ids, "status": self.status, "homepage_link": self.homepage_link}


def status_page_body(spec: StatusPageSpec, monitor_ids) -> dict[str, Any]:
    """POST or PATCH body (JSON: the document lists multipart/form-data "when uploading a logo"; the official
    Terraform provider sends JSON otherwise)."""
    body: dict[str, Any] = {"friendlyName": spec.name, "monitorIds": sorted(monitor_ids), "status": "ENABLED"}
    if spec.homepage_link:
        body["homepageLink"] = spec.homepage_link
    return body


@dataclass(frozen=True)
class Announcement:
    id: str
    title: str
    content: str
    status: str  # lower case: offline, pending, published, archived
    type: str
    start: str | None
    end: str | None

    @classmethod
    def from_api(cls, data: dict) -> Announcement:
        return cls(
            id=str(data["id"]),
            title=unescape(data.get("title")),
            content=unescape(data.get("content")),
            status=str(data.get("status") or "").lower(),
            type=str(data.get("type") or "").lower(),
            start=data.get("startDate"),
            end=data.get("endDate"),
        )
