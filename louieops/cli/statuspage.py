"""``louieops statuspage``: incident updates on the public status page (seed §7 "Update status page").

    louieops statuspage post --title "API errors" --message "We are looking into failing logins."
    louieops statuspage update --message "A fix is being deployed."
    louieops statuspage resolve --message "Logins work again."
    louieops statuspage list

The page is the one of uptimerobot_status_page, found by name in the UptimeRobot account the settings of
``--inventory`` point at (default inventory/production.py); the deploy creates it. ``post`` publishes an
announcement of type Issue (``--type maintenance`` or ``info`` for others); ``update`` changes the text of
the newest published announcement (or ``--id``); ``resolve`` posts the closing text and archives it, so the
page no longer shows it. The API key is UPTIMEROBOT_API_KEY and is never printed. A post whose answer does
not come back is looked for on the page before anything is sent again (no duplicate announcement).

Exit status: 0 done, 1 the API failed (one line says what), 2 usage or configuration.
"""

from __future__ import annotations

import argparse
import datetime
import logging
import sys

from .. import secrets
from ..clients import uptimerobot
from ..clients.http import ApiError
from ..clients.plan import Action, PlanError, Settle, match_by_name, write_with_relist
from ..clients.uptimerobot.pages import Announcement, StatusPage
from ..settings import SettingsError
from ..settings.inventory import host_settings
from ..settings.placeholders import expand

DEFAULT_INVENTORY = "inventory/production.py"
TYPES = {"issue": "Issue", "maintenance": "Maintenance", "info": "Info"}
POST_SETTLE = Settle(120, "look at the status page before posting again")
KIND = "status page announcement"
log = logging.getLogger("louieops.statuspage")


class StatusPageError(Exception):
    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


def register(commands) -> None:
    """Add ``statuspage`` to the subcommands of the ``louieops`` command (an argparse subparsers object)."""
    page = commands.add_parser("statuspage", help="post, update and resolve incident updates on the status page")
    add_arguments(page)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    inventory_help = f"whose settings (default {DEFAULT_INVENTORY})"
    parser.add_argument("--inventory", default=DEFAULT_INVENTORY, help=inventory_help)
    # --inventory also after the action (`statuspage post --inventory X`), as the runbook writes it
    after = argparse.ArgumentParser(add_help=False)
    after.add_argument("--inventory", default=argparse.SUPPRESS, help=inventory_help)
    actions = parser.add_subparsers(dest="action", required=True)
    post = actions.add_parser("post", help="publish a new announcement", parents=[after])
    post.add_argument("--title", required=True)
    post.add_argument("--message", required=True)
    post.add_argument("--type", choices=sorted(TYPES), default="issue")
    for name, text in (("update", "change the text"), ("resolve", "post the closing text and archive")):
        action = actions.add_parser(
            name, help=f"{text} of the newest published announcement (or --id)", parents=[after]
        )
        action.add_argument("--message", required=name == "update", default="Resolved.")
        action.add_argument("--title")
        action.add_argument("--id", help="the announcement (default: the newest published one)")
    actions.add_parser("list", help="show the page's announcements", parents=[after])


def run(args: argparse.Namespace) -> int:
    try:
        client, page = _page(args.inventory)
        print(ACTIONS[args.action](client, page, args))
    except StatusPageError as exc:
        print(f"louieops statuspage: {exc}", file=sys.stderr)
        return exc.status
    except (ApiError, PlanError) as exc:
        print(f"louieops statuspage: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="louieops statuspage", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


# --- the page ---------------------------------------------------------------------------------------------


def _page(inventory: str) -> tuple[uptimerobot.UptimeRobotClient, StatusPage]:
    try:
        settings = host_settings(inventory)
        key = secrets.require("UPTIMEROBOT_API_KEY")
    except (OSError, ValueError, SettingsError, secrets.MissingSecret) as exc:
        raise StatusPageError(str(exc), 2) from exc
    if settings.uptimerobot_status_page is None:
        raise StatusPageError("uptimerobot_status_page is None in these settings: there is no status page", 2)
    name = expand(settings.uptimerobot_status_page["name"], settings)
    client = uptimerobot.make_client(settings.uptimerobot_api_url, key, settings.uptimerobot_requests_per_minute)
    page = match_by_name(client.list_status_pages(), lambda p: p.name, [name], "status page")[0].get(name)
    if page is None:
        raise StatusPageError(f"no status page named {name!r} in the UptimeRobot account: run the deploy first")
    return client, page


def _now(client) -> str:
    return datetime.datetime.fromtimestamp(client.http.wall_clock(), datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _newest_published(client, page: StatusPage, announcement_id: str | None) -> Announcement:
    announcements = client.list_announcements(page.id)
    if announcement_id is not None:
        found = [a for a in announcements if a.id == announcement_id]
        if not found:
            raise StatusPageError(f"status page {page.name!r} has no announcement {announcement_id}")
        return found[0]
    published = sorted((a for a in announcements if a.status == "published"), key=lambda a: -int(a.id))
    if not published:
        raise StatusPageError(f"status page {page.name!r} shows no published announcement: post one first")
    return published[0]


# --- actions ----------------------------------------------------------------------------------------------


def post(client, page: StatusPage, args) -> str:
    body = {
        "title": args.title,
        "content": args.message,
        "type": TYPES[args.type],
        "status": "Published",
        "startDate": _now(client),
    }
    posted: list[Announcement] = []

    def write(current) -> bool:
        posted.append(current or client.create_announcement(page.id, body))
        return True

    def find():
        same = [a for a in client.list_announcements(page.id) if (a.title, a.content) == (args.title, args.message)]
        found = max(same, key=lambda a: int(a.id), default=None)
        if found is not None:
            posted.append(found)
        return found

    write_with_relist(
        Action("create", KIND, args.title),
        write,
        find,
        lambda found: True,
        current=None,
        sleep=client.http.sleep,
        log=log,
        settle=POST_SETTLE,
    )
    return f"posted announcement {posted[-1].id} on status page {page.name!r}{_link(page)}"


def update(client, page: StatusPage, args) -> str:
    current = _newest_published(client, page, args.id)
    body = {"content": args.message, **({"title": args.title} if args.title else {})}
    client.update_announcement(page.id, current.id, body)
    return f"updated announcement {current.id} on status page {page.name!r}"


def resolve(client, page: StatusPage, args) -> str:
    current = _newest_published(client, page, args.id)
    body = {"content": args.message, "status": "Archived", "endDate": _now(client)}
    if args.title:
        body["title"] = args.title
    client.update_announcement(page.id, current.id, body)
    return f"resolved announcement {current.id} on status page {page.name!r} (archived: the page no longer shows it)"


def show(client, page: StatusPage, args) -> str:
    lines = [f"status page {page.name!r}{_link(page)}"]
    for item in sorted(client.list_announcements(page.id), key=lambda a: -int(a.id)):
        lines.append(f"  {item.id}  {item.status:9}  {item.type:11}  {item.title}: {item.content}")
    return "\n".join(lines)


def _link(page: StatusPage) -> str:
    return f" (https://stats.uptimerobot.com/{page.url_key})" if page.url_key else ""


ACTIONS = {"post": post, "update": update, "resolve": resolve, "list": show}


if __name__ == "__main__":
    sys.exit(main())
