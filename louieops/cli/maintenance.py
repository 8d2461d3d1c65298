"""``louieops maintenance``: planned work behind a 503 page, with no false alert (issue 22.3; docs/releases.md).

    louieops maintenance on --message "Upgrading the database" [--until 2026-12-06T18:00:00+00:00]
    louieops maintenance off [--message "Every service is back."]
    louieops maintenance status

``on``, in this order, so no monitor ever sees the page outside a window:
  1. an UptimeRobot maintenance window of its own ("<app_name> maintenance mode", once, starting now, for
     the minutes to --until or uptimerobot_maintenance_mode_minutes) over every monitor of the settings;
  2. an announcement of type Maintenance on the status page (when uptimerobot_status_page is set);
  3. ``louie-maintenance-mode on`` through pyinfra on the host that serves the public names (the lb, or the one
     server, or --host): nginx answers 503 with Retry-After while /health and the admin API keep working.
If step 3 fails, steps 1 and 2 are undone. ``on`` again changes the message and the end. ``off`` runs them the
other way round: the server first, then the announcement is archived and the window deleted.

The settings are those of --inventory (default inventory/production.py); the API key is UPTIMEROBOT_API_KEY,
never printed. Exit status: 0 done, 1 a step failed (one line says which; what was undone), 2 usage or
configuration (nothing changed).
"""

from __future__ import annotations

import argparse
import datetime
import logging
import math
import sys
import types
import zoneinfo

from .. import layout, resources, secrets
from ..clients import uptimerobot
from ..clients.http import ApiError
from ..clients.plan import Action, PlanError, Settle, match_by_name, write_with_relist
from ..clients.uptimerobot.pages import MaintenanceWindow, StatusPage
from ..settings import Settings, SettingsError
from ..settings.inventory import host_settings
from ..settings.placeholders import expand
from . import remote, statuspage

DEFAULT_INVENTORY = "inventory/production.py"
ANNOUNCEMENT_TITLE = "Planned maintenance"
BACK_MESSAGE = "The maintenance is over: every service is back."
WINDOW_SETTLE = Settle(120, "look at the maintenance windows before opening one again")
log = logging.getLogger("louieops.maintenance")


class MaintenanceError(Exception):
    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


def register(commands) -> None:
    """Add ``maintenance`` to the subcommands of the ``louieops`` command (an argparse subparsers object)."""
    parser = commands.add_parser("maintenance", help="planned work: 503 page, monitor window, status page")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--inventory", default=DEFAULT_INVENTORY, help=f"hosts and settings ({DEFAULT_INVENTORY})")
    common.add_argument("--host", help="the host serving the public names (default: the lb group, or the one server)")
    actions = parser.add_subparsers(dest="action", required=True)
    on = actions.add_parser("on", parents=[common], help="answer 503 (HTML, JSON) with Retry-After; hold alerts")
    on.add_argument("--message", required=True, help="what users read on the page and the status page")
    on.add_argument("--until", help="when it should end, with its offset: 2026-12-06T18:00:00+00:00")
    off = actions.add_parser("off", parents=[common], help="serve every site again; close the window")
    off.add_argument("--message", default=BACK_MESSAGE, help=f"the status page's closing text ({BACK_MESSAGE!r})")
    actions.add_parser("status", parents=[common], help="the server's state and the window")


def run(args: argparse.Namespace) -> int:
    try:
        if args.action == "on":
            message, until = checked_message(args.message), checked_until(args.until, _now())
            print(turn_on(args.inventory, args.host, message, until))
        elif args.action == "off":
            print(turn_off(args.inventory, args.host, checked_message(args.message)))
        else:
            return status(args.inventory, args.host)
    except MaintenanceError as exc:
        print(f"louieops maintenance {args.action}: {exc}", file=sys.stderr)
        return exc.status
    except (ApiError, PlanError) as exc:
        print(f"louieops maintenance {args.action}: {exc}", file=sys.stderr)
        return 1
    return 0


# --- input ------------------------------------------------------------------------------------------------


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def checked_message(text: str) -> str:
    message = " ".join(text.split())
    if not message:
        raise MaintenanceError("--message is empty: say what users should read", 2)
    return message


def checked_until(text: str | None, now: datetime.datetime) -> datetime.datetime | None:
    """--until by the server's own rule (louie-maintenance-mode), checked here before anything is opened."""
    if text is None:
        return None
    try:
        return resources.server_script("louie-maintenance-mode").parse_until(text, now)
    except ValueError as exc:
        raise MaintenanceError(str(exc), 2) from None


def _settings(inventory: str, host: str | None) -> Settings:
    try:
        return host_settings(inventory, host)
    except (OSError, ValueError, SettingsError) as exc:
        raise MaintenanceError(str(exc), 2) from exc


def _client(settings: Settings) -> uptimerobot.UptimeRobotClient:
    try:
        key = secrets.require("UPTIMEROBOT_API_KEY")
    except secrets.MissingSecret as exc:
        raise MaintenanceError(f"{exc} Maintenance mode holds the monitors' alerts with it.", 2) from exc
    return uptimerobot.make_client(settings.uptimerobot_api_url, key, settings.uptimerobot_requests_per_minute)


# --- the UptimeRobot window -------------------------------------------------------------------------------


def window_name(settings: Settings) -> str:
    return f"{settings.app_name} maintenance mode"


def window_body(settings: Settings, monitor_ids: list[int], now: datetime.datetime, until) -> dict:
    """A one-off window from ``now`` (date and time in the account's time zone) to ``until``, or for
    uptimerobot_maintenance_mode_minutes."""
    local = now.astimezone(zoneinfo.ZoneInfo(settings.uptimerobot_timezone))
    minutes = math.ceil((until - now).total_seconds() / 60) if until else settings.uptimerobot_maintenance_mode_minutes
    return {
        "name": window_name(settings),
        "interval": "once",
        "date": local.date().isoformat(),
        "time": local.strftime("%H:%M:%S"),
        "duration": max(1, minutes),
        "monitorIds": sorted(monitor_ids),
    }


def monitor_ids(client, settings: Settings) -> list[int]:
    names = [expand(item["name"], settings) for item in settings.uptimerobot_monitors]
    found, _ = match_by_name(client.list_monitors(), lambda m: m.name, names, "monitor")
    if not found:
        raise MaintenanceError(f"none of the monitors {', '.join(names)} is in the UptimeRobot account: deploy first")
    return [int(found[name].id) for name in names if name in found]


def find_window(client, settings: Settings) -> MaintenanceWindow | None:
    name = window_name(settings)
    return match_by_name(client.list_windows(), lambda w: w.name, [name], "maintenance window")[0].get(name)


def open_window(client, settings: Settings, until) -> tuple[MaintenanceWindow | None, bool]:
    """Open (or move) the window; (the window as listed before, whether it was created now)."""
    body = window_body(settings, monitor_ids(client, settings), _wall(client), until)
    before = find_window(client, settings)

    def write(current) -> bool:
        if current is None:
            client.create_window(body)
        else:
            client.update_window(current.id, {**body, "status": "active"})
        return True

    def matches(window) -> bool:
        return (window.interval, window.time, window.duration) == ("once", body["time"], body["duration"])

    write_with_relist(
        Action("update" if before else "create", "UptimeRobot maintenance window", body["name"]),
        write,
        lambda: find_window(client, settings),
        matches,
        current=before,
        sleep=client.http.sleep,
        log=log,
        settle=WINDOW_SETTLE,
        create_404_unclear=True,
    )
    return before, before is None


def close_window(client, settings: Settings) -> str:
    window = find_window(client, settings)
    if window is None:
        return "no maintenance window was open"
    client.delete_window(window.id)
    return f"deleted UptimeRobot maintenance window {window.name!r}"


def _wall(client) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(client.http.wall_clock(), datetime.UTC)


# --- the status page --------------------------------------------------------------------------------------


def _page(client, settings: Settings) -> StatusPage | None:
    if settings.uptimerobot_status_page is None:
        return None
    name = expand(settings.uptimerobot_status_page["name"], settings)
    page = match_by_name(client.list_status_pages(), lambda p: p.name, [name], "status page")[0].get(name)
    if page is None:
        raise MaintenanceError(f"no status page named {name!r} in the UptimeRobot account: run the deploy first")
    return page


def _published_maintenance(client, page: StatusPage):
    return [
        a
        for a in client.list_announcements(page.id)
        if a.status == "published" and a.type == "maintenance" and a.title == ANNOUNCEMENT_TITLE
    ]


def announce(client, page: StatusPage, text: str) -> tuple[str, bool]:
    """Post the announcement, or change the text of the one already published; (what was done, created)."""
    published = _published_maintenance(client, page)
    if published:
        newest = max(published, key=lambda a: int(a.id))
        client.update_announcement(page.id, newest.id, {"content": text})
        return f"updated announcement {newest.id} on status page {page.name!r}", False
    post = types.SimpleNamespace(title=ANNOUNCEMENT_TITLE, message=text, type="maintenance")
    said = statuspage.post(client, page, post)
    return said, True


def withdraw(client, page: StatusPage, text: str) -> list[str]:
    done = []
    for item in _published_maintenance(client, page):
        done.append(statuspage.resolve(client, page, types.SimpleNamespace(id=item.id, message=text, title=None)))
    return done


def announcement_text(message: str, until) -> str:
    return f"{message} Expected back by {until.strftime('%Y-%m-%d %H:%M UTC')}." if until else message


# --- the server -------------------------------------------------------------------------------------------


def server_command(inventory: str, host: str | None, arguments: list[str]) -> list[str]:
    """pyinfra's command line: louie-maintenance-mode on ``host``, else the lb group (one server: all)."""
    only = remote.limit(inventory, "lb", host)
    return remote.command(inventory, [layout.MAINTENANCE_MODE_COMMAND, *arguments], only=only)


def server_arguments(message: str, until) -> list[str]:
    return ["on", "--message", message, *(["--until", until.isoformat()] if until else [])]


# --- actions ----------------------------------------------------------------------------------------------


def turn_on(inventory: str, host: str | None, message: str, until) -> str:
    settings = _settings(inventory, host)
    remote.groups(inventory)  # a missing inventory is told before anything opens
    client = _client(settings)
    done: list[str] = []
    created_window = posted = False
    page = None
    try:
        _, created_window = open_window(client, settings, until)
        verb = "opened" if created_window else "moved"
        done.append(f"{verb} UptimeRobot maintenance window {window_name(settings)!r}")
        page = _page(client, settings)
        if page is not None:
            said, posted = announce(client, page, announcement_text(message, until))
            done.append(said)
        if remote.run(server_command(inventory, host, server_arguments(message, until))) != 0:
            raise MaintenanceError("louie-maintenance-mode on failed on the server (its line is above)")
    except (MaintenanceError, ApiError, PlanError) as exc:
        undone = _undo(client, settings, page, created_window, posted)
        raise MaintenanceError(f"{exc}; {undone}", getattr(exc, "status", 1)) from exc
    done.append("the public sites answer 503 with Retry-After; /health and the admin API are served")
    return "maintenance mode on: " + "; ".join(done)


def _undo(client, settings: Settings, page, created_window: bool, posted: bool) -> str:
    """Close what this run opened (a window or announcement that was there before stays: a run that only
    changed the message must not end a maintenance that is on)."""
    undone = []
    try:
        if posted and page is not None:
            withdraw(client, page, "Cancelled.")
            undone.append("announcement withdrawn")
        if created_window:
            close_window(client, settings)
            undone.append("window deleted")
    except (ApiError, PlanError) as exc:
        return f"undoing it failed too ({exc}): check the window and the status page"
    return f"undone: {', '.join(undone)}" if undone else "nothing else was changed"


def turn_off(inventory: str, host: str | None, message: str) -> str:
    settings = _settings(inventory, host)
    remote.groups(inventory)
    client = _client(settings)
    if remote.run(server_command(inventory, host, ["off"])) != 0:
        raise MaintenanceError("louie-maintenance-mode off failed on the server (its line is above): still on")
    done = ["every site is served again"]
    try:
        page = _page(client, settings)
        if page is not None:
            done += withdraw(client, page, message)
        done.append(close_window(client, settings))
    except (ApiError, PlanError) as exc:
        raise MaintenanceError(f"the sites are served again, but {exc}: close the window and announcement") from exc
    return "maintenance mode off: " + "; ".join(done)


def status(inventory: str, host: str | None) -> int:
    settings = _settings(inventory, host)
    remote.groups(inventory)
    shown = remote.run(server_command(inventory, host, ["status"]))
    window = find_window(_client(settings), settings)
    print(
        f"UptimeRobot maintenance window {window_name(settings)!r}: "
        + (f"{window.status}, {window.duration} min from {window.time}" if window else "none")
    )
    return shown
