"""UptimeRobot v3 monitor models: the desired monitor, the monitor as read back (normalised), and the request
bodies. snake_case here, API camelCase only in ``*_body`` and ``from_api``.

Read-back quirks normalised so a stored monitor compares equal to its spec (reference/uptimerobot-api.md
§2.5): names, URLs and keywords may come back HTML-escaped; PORT/PING URLs come back host-only;
``keywordCaseType`` is a string enum on create but 0/1 on update and read; ``httpMethodType`` reads back
null on new monitors (so it is compared only when the API reports it); ``type`` may be a v2-style number;
alert contacts come back in any order.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

TYPES = ("HTTP", "KEYWORD", "PORT", "PING")
_V2_TYPES = {1: "HTTP", 2: "KEYWORD", 3: "PING", 4: "PORT"}
_KEYWORD_TYPES = {"exists": "ALERT_EXISTS", "not_exists": "ALERT_NOT_EXISTS"}
_CASE_NAMES = {0: "CaseSensitive", 1: "CaseInsensitive"}


@dataclass(frozen=True)
class MonitorSpec:
    """One desired monitor (threshold/recurrence 0: free plan). ``contact_keys`` name alert contacts by their
    key in the ``alert_contacts`` of the reconcile; their ids are only known once the account is listed (or
    the contact created) and are added to ``contacts`` (alert-contact ids) then."""

    name: str
    type: str
    url: str
    interval: int
    timeout: int
    contacts: frozenset[int] = frozenset()
    contact_keys: tuple[str, ...] = ()
    port: int | None = None
    keyword: str | None = None
    keyword_type: str | None = None  # ALERT_EXISTS / ALERT_NOT_EXISTS
    keyword_case: int | None = None  # 0 case sensitive, 1 insensitive
    http_method: str | None = None

    def comparable(self, managed_tag: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": self.type,
            "url": _url_for(self.type, self.url),
            "interval": self.interval,
            "timeout": self.timeout,
            "alert_contacts": self.contacts,
            "managed_tag": managed_tag,
        }
        if self.type == "PORT":
            out["port"] = self.port
        if self.type == "KEYWORD":
            out.update(keyword=self.keyword, keyword_type=self.keyword_type, keyword_case=self.keyword_case)
        if self.http_method:
            out["http_method"] = self.http_method
        return out


@dataclass(frozen=True)
class Monitor:
    """A monitor as listed by the API, normalised."""

    id: str
    name: str
    type: str
    url: str
    interval: int
    timeout: int | None
    contacts: frozenset[int]
    tags: frozenset[str]
    port: int | None = None
    keyword: str | None = None
    keyword_type: str | None = None
    keyword_case: int | None = None
    http_method: str | None = None
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_api(cls, data: dict) -> Monitor:
        kind = data.get("type")
        kind = _V2_TYPES.get(kind, kind) if isinstance(kind, int) else str(kind or "").upper()
        case = data.get("keywordCaseType")
        if isinstance(case, str):
            case = {v.lower(): k for k, v in _CASE_NAMES.items()}.get(case.lower(), case)
        return cls(
            id=str(data["id"]),
            name=unescape(data.get("friendlyName")),
            type=kind,
            url=_url_for(kind, unescape(data.get("url"))),
            interval=as_int(data.get("interval")),
            timeout=as_int(data.get("timeout")),
            contacts=frozenset(as_int(c.get("alertContactId")) for c in data.get("assignedAlertContacts") or ()),
            tags=frozenset(unescape(t.get("name") if isinstance(t, dict) else t) for t in data.get("tags") or ()),
            port=as_int(data.get("port")) or None,
            keyword=unescape(data.get("keywordValue")).strip() or None,
            keyword_type=data.get("keywordType") or None,
            keyword_case=as_int(case) if case is not None else None,
            http_method=data.get("httpMethodType") or None,
            raw=data,
        )

    def comparable(self, desired: MonitorSpec, managed_tag: str) -> dict[str, Any]:
        """The same keys as ``desired.comparable``; fields the API does not report are taken as desired."""
        out: dict[str, Any] = {
            "type": self.type,
            "url": self.url,
            "interval": self.interval,
            "timeout": self.timeout,
            "alert_contacts": self.contacts,
            "managed_tag": managed_tag if managed_tag in self.tags else None,
        }
        if desired.type == "PORT":
            out["port"] = self.port
        if desired.type == "KEYWORD":
            out.update(keyword=self.keyword, keyword_type=self.keyword_type, keyword_case=self.keyword_case)
        if desired.http_method:
            out["http_method"] = self.http_method or desired.http_method  # null read-back: not asserted
        return out


def keyword_type(alert_when: str) -> str:
    return _KEYWORD_TYPES[alert_when]


def create_body(spec: MonitorSpec, tags: list[str]) -> dict[str, Any]:
    """POST /monitors body, in the per-type shape of the OpenAPI document (Create<Type>MonitorDto)."""
    body: dict[str, Any] = {
        "friendlyName": spec.name,
        "type": spec.type,
        "url": spec.url,
        "interval": spec.interval,
        "timeout": spec.timeout,
        "assignedAlertContacts": _contacts(spec.contacts),
        "tagNames": tags,
    }
    if spec.type == "PORT":
        body["port"] = spec.port
    if spec.type == "KEYWORD":
        body.update(
            keywordType=spec.keyword_type,
            keywordValue=spec.keyword,
            keywordCaseType=_CASE_NAMES[spec.keyword_case or 0],
        )
    if spec.http_method and spec.type in ("HTTP", "KEYWORD"):
        body["httpMethodType"] = spec.http_method
    return body


def update_body(spec: MonitorSpec, current: Monitor, managed_tag: str, changed: set[str]) -> dict[str, Any]:
    """PATCH /monitors/{id} body (UpdateMonitorDto) with the drifted fields only."""
    body: dict[str, Any] = {}
    if current.name != spec.name:
        body["friendlyName"] = spec.name
    simple = {
        "url": "url",
        "interval": "interval",
        "timeout": "timeout",
        "port": "port",
        "keyword": "keywordValue",
        "keyword_type": "keywordType",
        "keyword_case": "keywordCaseType",
        "http_method": "httpMethodType",
    }
    for key, api_key in simple.items():
        if key in changed:
            body[api_key] = getattr(spec, key)
    if "alert_contacts" in changed:
        body["assignedAlertContacts"] = _contacts(spec.contacts)
    if "managed_tag" in changed:
        body["tagNames"] = sorted(current.tags | {managed_tag})
    return body


def _contacts(ids) -> list[dict[str, int]]:
    return [{"alertContactId": i, "threshold": 0, "recurrence": 0} for i in sorted(ids)]


def _url_for(kind: str, url: str) -> str:
    """PORT and PING monitors check a host: compare host-only (the API strips a scheme and path)."""
    if kind in ("PORT", "PING"):
        url = re.sub(r"^[a-z][a-z0-9+.-]*://", "", url, flags=re.I).split("/", 1)[0]
        return url.rsplit(":", 1)[0] if re.search(r":[0-9]+$", url) else url
    return url


def unescape(value: Any) -> str:
    """HTML-unescape (twice: double escaping was seen) a possibly-null string."""
    return html.unescape(html.unescape(str(value))) if value is not None else ""


def as_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None
