"""The Sentry stand-in's cron monitors ("Sentry Crons"): the organization API that registers them
(``/organizations/{org}/monitors/``, in the official document) and the check-in ingestion endpoint jobs
report to (``/api/{project_id}/cron/{monitor_slug}/{public_key}/``, authenticated by the DSN's public key;
not in the document, format from Sentry's Crons HTTP guide: POST JSON or GET query, always 202 without a
body, ``monitor_config`` upserts the monitor).

What Sentry derives from the check-ins is computed when they are read, on the stand-in's clock: a schedule
tick after the first check-in with no check-in within ``checkin_margin`` minutes is ``missed``; an
``in_progress`` check-in older than ``max_runtime`` minutes that never closed is ``timeout``.

Each cron monitor gets a detector (type ``monitor_check_in_failure``, one data source of type
``cron_monitor`` whose ``sourceId`` is the monitor's id), which alerts connect to; it goes with its monitor.
"""

from __future__ import annotations

import datetime
import re
import uuid
import zoneinfo

from louieops.cron import cron_values

from .base import Reply

ORG_PATH = "/api/0/organizations/{organization_id_or_slug}"
CRON_ROUTES = {
    ("GET", ORG_PATH + "/monitors/"): "list_cron_monitors",
    ("POST", ORG_PATH + "/monitors/"): "create_cron_monitor",
    ("GET", ORG_PATH + "/monitors/{monitor_id_or_slug}/"): "get_cron_monitor",
    ("PUT", ORG_PATH + "/monitors/{monitor_id_or_slug}/"): "update_cron_monitor",
    ("DELETE", ORG_PATH + "/monitors/{monitor_id_or_slug}/"): "delete_cron_monitor",
    ("GET", ORG_PATH + "/monitors/{monitor_id_or_slug}/checkins/"): "list_checkins",
    ("POST", "/api/{project_id}/cron/{monitor_slug}/{sentry_key}/"): "checkin",
    ("GET", "/api/{project_id}/cron/{monitor_slug}/{sentry_key}/"): "checkin",
}
#: The public key of the project's DSN the stand-in accepts check-ins with.
DSN_KEY = "dsn-public-key"
_SLUG = re.compile(r"(?![0-9]+$)[a-z0-9_\-]{1,50}")
_PROJECT_FLAGS = (
    "hasAccess hasFeedbacks hasFlags hasInsightsAgentMonitoring hasInsightsAppStart hasInsightsAssets "
    "hasInsightsCaches hasInsightsDb hasInsightsHttp hasInsightsMCP hasInsightsQueues hasInsightsScreenLoad "
    "hasInsightsVitals hasLogs hasMinifiedStackTrace hasMonitors hasNewFeedbacks hasProfiles hasReplays "
    "hasSessions hasTraceMetrics isBookmarked isInternal isMember isPublic"
).split()


def _iso(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def ticks(schedule: str, timezone: str, start: float, end: float) -> list[float]:
    """Times (epoch seconds) in (start, end] at which a 5-field cron schedule runs in ``timezone``."""
    minute_f, hour_f, dom_f, month_f, dow_f = schedule.split()
    minutes, hours = cron_values(minute_f, 0, 59), cron_values(hour_f, 0, 23)
    doms, months = cron_values(dom_f, 1, 31), cron_values(month_f, 1, 12)
    dows = {d % 7 for d in cron_values(dow_f, 0, 7)}
    either = not (dom_f.startswith("*") or dow_f.startswith("*"))
    zone = zoneinfo.ZoneInfo(timezone or "UTC")
    found, moment = [], (int(start) // 60 + 1) * 60
    while moment <= end:
        local = datetime.datetime.fromtimestamp(moment, zone)
        dom_ok, dow_ok = local.day in doms, (local.weekday() + 1) % 7 in dows
        day_ok = (dom_ok or dow_ok) if either else (dom_ok and dow_ok)
        if local.minute in minutes and local.hour in hours and local.month in months and day_ok:
            found.append(float(moment))
        moment += 60
    return found


class CronsMixin:
    CRONS = frozenset(CRON_ROUTES.values())
    PUBLIC = frozenset({"checkin"})

    def init_crons(self) -> None:
        self.cron_monitors: dict[str, dict] = {}  # by slug
        self.checkins: dict[str, list[dict]] = {}  # by slug, oldest first
        self.dsn_key = DSN_KEY

    # --- monitors ---------------------------------------------------------------------------------

    def _config(self, config: dict) -> dict | str:
        schedule = config.get("schedule")
        if config.get("schedule_type", "crontab") != "crontab" or not isinstance(schedule, str):
            return "only crontab schedules are supported here"
        if len(schedule.split()) != 5:
            return "Schedule was not parseable"
        for key in ("checkin_margin", "max_runtime"):
            value = config.get(key)
            if value is not None and not (isinstance(value, int) and 1 <= value <= 40320):
                return f"{key}: Ensure this value is between 1 and 40320."
        return {
            "schedule_type": "crontab",
            "schedule": schedule,
            "checkin_margin": config.get("checkin_margin"),
            "max_runtime": config.get("max_runtime"),
            "timezone": config.get("timezone") or "UTC",
            "failure_issue_threshold": config.get("failure_issue_threshold"),
            "recovery_threshold": config.get("recovery_threshold"),
            "alert_rule_id": None,
        }

    def _new_cron_monitor(self, slug: str, name: str, config: dict, status: str) -> dict:
        record = self._store(self.cron_monitors, {"slug": slug, "name": name, "config": config, "status": status})
        self.cron_monitors[slug] = self.cron_monitors.pop(record["id"])
        if not self.make_cron_detectors:
            return record
        source = {"id": self._id(), "organizationId": "1", "type": "cron_monitor", "sourceId": record["id"]}
        detector = {"name": name, "type": "monitor_check_in_failure", "enabled": True, "config": {}}
        self._store(self.detectors, {**detector, "conditionGroup": None, "dataSources": [source]})
        return record

    def _cron_monitor(self, slug: str) -> dict | None:
        for record in self.cron_monitors.values():
            if slug in (record["slug"], record["id"]) and self.visible(record):
                return record
        return None

    def list_cron_monitors(self, params, query, body):
        items = sorted(self.cron_monitors.values(), key=lambda m: int(m["id"]))
        path = f"/api/0/organizations/{params['organization_id_or_slug']}/monitors/"
        return self.page(items, query, path, self.render_cron_monitor)

    def create_cron_monitor(self, params, query, body):
        body = body or {}
        if body.get("project") not in ("simplylouie-api", "4501"):
            return Reply(400, {"project": ["Invalid project"]})
        if not body.get("name") or "config" not in body:
            return Reply(400, {"name": ["This field is required."]})
        slug = body.get("slug") or re.sub(r"[^a-z0-9_-]+", "-", body["name"].lower()).strip("-")
        if not _SLUG.fullmatch(slug):
            return Reply(400, {"slug": ["Invalid monitor slug."]})
        if slug in self.cron_monitors:
            return Reply(400, {"slug": [f'The slug "{slug}" is already in use.']})
        config = self._config(body["config"])
        if isinstance(config, str):
            return Reply(400, {"config": [config]})
        record = self._new_cron_monitor(slug, body["name"], config, body.get("status", "active"))
        return Reply(201, self.render_cron_monitor(record))

    def get_cron_monitor(self, params, query, body):
        record = self._cron_monitor(params["monitor_id_or_slug"])
        return Reply(200, self.render_cron_monitor(record)) if record else self._missing()

    def update_cron_monitor(self, params, query, body):
        record = self._cron_monitor(params["monitor_id_or_slug"])
        if record is None:
            return self._missing()
        body = body or {}
        if "config" in body:
            config = self._config(body["config"])
            if isinstance(config, str):
                return Reply(400, {"config": [config]})
            record["config"] = config
        record.update({k: body[k] for k in ("name", "status") if k in body})
        return Reply(200, self.render_cron_monitor(record))

    def delete_cron_monitor(self, params, query, body):
        record = self._cron_monitor(params["monitor_id_or_slug"])
        if record is None:
            return self._missing()
        del self.cron_monitors[record["slug"]]
        for key, detector in list(self.detectors.items()):
            if any(source.get("sourceId") == record["id"] for source in detector.get("dataSources") or ()):
                del self.detectors[key]
        return Reply(202)

    def render_cron_monitor(self, record: dict) -> dict:
        """The document's required fields (alertRule, optional, left out; ``environments`` an object as the
        document has it)."""
        seen = [c["added"] for c in self.checkins.get(record["slug"], [])]
        last = _iso(seen[-1]) if seen else record["dateCreated"]
        return {
            "id": record["id"],
            "name": record["name"],
            "slug": record["slug"],
            "status": record["status"],
            "isMuted": False,
            "isUpserting": False,
            "config": dict(record["config"]),
            "dateCreated": record["dateCreated"],
            "project": {
                "id": "4501",
                "slug": "simplylouie-api",
                "name": "simplylouie-api",
                "platform": "node",
                "dateCreated": "2026-01-01T00:00:00.000000Z",
                "features": [],
                "firstEvent": None,
                "firstTransactionEvent": False,
                "access": [],
                "avatar": {},
                "color": "#3f70b3",
                "status": "active",
                **dict.fromkeys(_PROJECT_FLAGS, False),
            },
            "environments": {
                "name": "production",
                "status": self.checkin_statuses(record["slug"])[-1:][0] if seen else "active",
                "isMuted": False,
                "dateCreated": record["dateCreated"],
                "lastCheckIn": last,
                "nextCheckIn": last,
                "nextCheckInLatest": last,
                "activeIncident": None,
            },
            "owner": {"type": "user", "id": "1", "name": "deploy token"},
        }

    # --- check-ins ----------------------------------------------------------------------------------

    def checkin(self, params, query, body):
        if params["sentry_key"] != self.dsn_key or params["project_id"] != "4501":
            return Reply(403, {"detail": "invalid DSN"})
        data = dict(body or {}, **{k: v[0] for k, v in query.items()})
        if data.get("status") not in ("in_progress", "ok", "error"):
            return Reply(400, {"detail": "status must be in_progress, ok or error"})
        slug = params["monitor_slug"]
        upsert = data.get("monitor_config")
        if isinstance(upsert, dict):
            schedule = upsert.get("schedule") or {}
            config = self._config({**upsert, "schedule_type": schedule.get("type"), "schedule": schedule.get("value")})
            if isinstance(config, str):
                return Reply(400, {"detail": config})
            monitor = self._cron_monitor(slug)
            if monitor is None:
                self._new_cron_monitor(slug, slug, config, "active")
            else:
                monitor["config"] = config
        if self._cron_monitor(slug) is None:
            return Reply(202)  # no such monitor: Sentry drops the check-in
        entries = self.checkins.setdefault(slug, [])
        checkin_id = data.get("check_in_id")
        previous = next((c for c in entries if checkin_id and c["checkInId"] == checkin_id), None)
        if previous is not None:
            previous.update(status=data["status"], duration=data.get("duration"), closed=self.clock())
        else:
            entries.append(
                {
                    "id": uuid.uuid4().hex,
                    "checkInId": checkin_id,
                    "status": data["status"],
                    "duration": data.get("duration"),
                    "environment": data.get("environment") or "production",
                    "added": self.clock(),
                }
            )
        return Reply(202)

    def derived_checkins(self, slug: str) -> list[dict]:
        """The check-ins of a monitor as Sentry shows them now: with timeouts and missed runs filled in."""
        monitor = self._cron_monitor(slug)
        stored = self.checkins.get(slug, [])
        if monitor is None or not stored:
            return []
        config, now = monitor["config"], self.clock()
        margin = (config["checkin_margin"] or 1) * 60
        runtime = (config["max_runtime"] or 30) * 60
        result = []
        for entry in stored:
            if entry["status"] == "in_progress" and now - entry["added"] > runtime:
                entry = dict(entry, status="timeout")
            result.append(entry)
        for tick in ticks(config["schedule"], config["timezone"], stored[0]["added"] + 60, now - margin):
            if not any(tick - 60 <= entry["added"] <= tick + margin for entry in stored):
                result.append({"id": uuid.uuid4().hex, "status": "missed", "duration": None, "added": tick + margin})
        return sorted(result, key=lambda entry: entry["added"])

    def checkin_statuses(self, slug: str) -> list[str]:
        return [entry["status"] for entry in self.derived_checkins(slug)]

    def list_checkins(self, params, query, body):
        monitor = self._cron_monitor(params["monitor_id_or_slug"])
        if monitor is None:
            return self._missing()
        config = self.render_cron_monitor(monitor)["config"]

        def render(entry: dict) -> dict:
            added = _iso(entry["added"])
            return {
                "id": entry["id"],
                "environment": entry.get("environment", "production"),
                "status": entry["status"],
                "duration": entry.get("duration"),
                "dateCreated": added,
                "dateAdded": added,
                "dateUpdated": _iso(entry.get("closed", entry["added"])),
                "dateInProgress": added if entry.get("checkInId") else None,
                "dateClock": added,
                "expectedTime": _iso(entry["added"] // 60 * 60),
                "monitorConfig": config,
            }

        items = list(reversed(self.derived_checkins(monitor["slug"])))  # newest first
        path = f"/api/0/organizations/{params['organization_id_or_slug']}/monitors/{monitor['slug']}/checkins/"
        return self.page([{**entry, "id": entry["id"]} for entry in items], query, path, render)
