"""``louieops``: the operator's commands on the controller.

    louieops toggles                          the app's feature toggles and killswitches
    louieops toggle FEATURE on|off            switch a feature (alerts P3 on the server)
    louieops killswitch TARGET --reason WHY   stop a feature at once (alerts P2); --enable lifts it
    louieops rollback INVENTORY [RELEASE]     roll the app back through pyinfra (same health gate as on the server)
    louieops releases|details|logs INVENTORY  what every host says: releases, status screen, logs (through pyinfra)
    louieops statuspage post|update|resolve|list   incident announcements on the public status page
    louieops maintenance on|off|status        planned work: 503 page, UptimeRobot window, announcement
    louieops restore-db INVENTORY ...         the point-in-time restore on the database host, through pyinfra
    louieops rebuild INVENTORY --from-s3      a fresh server from the bucket alone (--drill: a copy beside it)
    louieops os-upgrade INVENTORY --to R      the Debian release upgrade, then the deploy (PostgreSQL's too)
    louieops plan INVENTORY [--report FILE]   what a deploy would change: exit 0 none, 2 some, 1 error (CI)
    louieops apply INVENTORY [--report FILE]  deploy: exit 0 only when every host converged

The admin commands take --url (or LOUIE_API_URL), --resolve (or LOUIE_API_RESOLVE) and the token from
LOUIE_ADMIN_TOKEN; see ``admin``.
"""

from __future__ import annotations

import argparse
import sys

from . import admin, deploy, logs, maintenance, osupgrade, rebuild, restore, rollback, statuspage


def _admin_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help=f"the API's base URL (default: ${admin.URL_ENV})")
    parser.add_argument(
        "--resolve",
        action="append",
        default=[],
        metavar="HOST:ADDRESS",
        help=f"connect to ADDRESS for HOST, before DNS points there (default: ${admin.RESOLVE_ENV})",
    )
    parser.add_argument(
        "--ca-bundle", help="CA certificates to verify the API with (default: $REQUESTS_CA_BUNDLE, else the system's)"
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for an answer (default 10)")
    parser.add_argument("--dry-run", action="store_true", help="print the request, send nothing")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="louieops", description=__doc__.splitlines()[0])
    commands = top.add_subparsers(dest="command", required=True)
    toggles = commands.add_parser("toggles", help="show the feature toggles and killswitches")
    _admin_options(toggles)
    toggle = commands.add_parser("toggle", help="switch a feature on or off")
    toggle.add_argument("feature")
    toggle.add_argument("state", choices=("on", "off"))
    _admin_options(toggle)
    kill = commands.add_parser("killswitch", help="stop a feature (or 'all') at once, with a reason")
    kill.add_argument("target")
    kill.add_argument("--reason", help="why (required to stop; shown in the 503 answer and the alert)")
    kill.add_argument("--enable", action="store_true", help="lift the killswitch instead")
    _admin_options(kill)
    back = commands.add_parser("rollback", help="roll the app back on the inventory's hosts, through pyinfra")
    back.add_argument("inventory", help="the pyinfra inventory, e.g. inventory/production.py")
    back.add_argument("release", nargs="?", help="the release to go back to (default: the previous good one)")
    for name, text in (
        ("releases", "the app's releases on every app host (louie-release list), through pyinfra"),
        ("details", "the status screen of every host (louie-status), through pyinfra"),
    ):
        view = commands.add_parser(name, help=text)
        view.add_argument("inventory", help="the pyinfra inventory, e.g. inventory/production.py")
        view.add_argument("--host", help="only this host of the inventory")
    log = commands.add_parser("logs", help="every host's app, nginx and system logs (louie-logs), through pyinfra")
    log.add_argument("inventory", help="the pyinfra inventory, e.g. inventory/production.py")
    log.add_argument("--role", choices=logs.ROLES, help="only the hosts of this role (default: every host)")
    log.add_argument("--host", help="only this host of the inventory")
    log.add_argument("--source", action="append", choices=("app", "nginx", "system"), help="default: all three")
    log.add_argument("--since", help="from this moment: 2026-12-06T18:00:00+00:00, or 30m, 2h, 1d ago")
    log.add_argument("--grep", help="only lines matching this regular expression")
    log.add_argument("--lines", type=int, default=200, help="the newest N lines of each host (default 200)")
    log.add_argument("--follow", "-f", action="store_true", help="then print new lines until interrupted")
    restore_db = commands.add_parser(
        "restore-db", help="restore the database to a point in time on its host (backup_pitr), through pyinfra"
    )
    restore_db.add_argument("inventory", help="the pyinfra inventory, e.g. inventory/production.py")
    restore_db.add_argument("--host", help="the host to restore on (default: the db group, or the one server)")
    which = restore_db.add_mutually_exclusive_group(required=True)
    which.add_argument("--to", help='a moment with its time zone, "2026-12-05 10:31:00+00"')
    which.add_argument("--latest", action="store_true", help="as of the newest archived WAL")
    which.add_argument("--range", action="store_true", help="print the recoverable range and exit")
    restore_db.add_argument("--into", help="name of the new database (default <db>_at_<time>)")
    restore_db.add_argument("--force", action="store_true", help="restore the whole cluster in place")
    restore_db.add_argument("--yes", action="store_true", help="do not ask")
    restore_db.add_argument(
        "--no-maintenance", action="store_true", help="with --force: restore without maintenance mode around it"
    )
    build = commands.add_parser("rebuild", help="provision a fresh server and restore it from S3 alone, timed")
    build.add_argument("inventory", help="the new server's inventory (the settings and bucket of the one it replaces)")
    build.add_argument(
        "--from-s3", action="store_true", required=True, help="restore from the bucket (the only source)"
    )
    build.add_argument("--drill", action="store_true", help="a copy beside the live server: it writes nothing to S3")
    build.add_argument("--yes", action="store_true", help="do not ask")
    statuspage.register(commands)
    osupgrade.register(commands)
    maintenance.register(commands)
    for name, text in (("plan", "what a deploy would change (exit 0 none, 2 some, 1 error)"), ("apply", "deploy")):
        step = commands.add_parser(name, help=text)
        step.add_argument("inventory", help="the pyinfra inventory, e.g. inventory/production.py")
        step.add_argument("--report", help="write the JSON report here (louieops/schemas/deploy-report.schema.json)")
        step.add_argument("--verbose", "-v", action="store_true", help="show pyinfra's own output too")
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "rollback":
            return rollback.run(args.inventory, args.release)
        if args.command == "releases":
            return rollback.releases(args.inventory, args.host)
        if args.command == "details":
            return rollback.details(args.inventory, args.host)
        if args.command == "logs":
            return logs.run(
                args.inventory, args.role, args.host, args.source, args.since, args.grep, args.lines, args.follow
            )
        if args.command == "restore-db":
            return restore.run(
                args.inventory,
                args.host,
                args.to,
                args.latest,
                args.into,
                args.force,
                args.yes,
                args.range,
                with_maintenance=not args.no_maintenance,
            )
        if args.command == "rebuild":
            return rebuild.run(args.inventory, args.drill, args.yes)
        if args.command == "os-upgrade":
            return osupgrade.run(args.inventory, args.host, args.to, args.check, args.yes)
        if args.command == "statuspage":
            return statuspage.run(args)
        if args.command == "maintenance":
            return maintenance.run(args)
        if args.command in ("plan", "apply"):
            return deploy.run(args.command, args.inventory, args.report, args.verbose)
        return _admin(args)
    except admin.AdminError as exc:
        print(f"louieops {args.command}: {exc}", file=sys.stderr)
        return exc.status


def _admin(args: argparse.Namespace) -> int:
    target = admin.target_from(args.url, args.resolve, args.ca_bundle, args.timeout)
    if args.command == "toggles":
        method, path, body = "GET", "/admin/toggles", None
    elif args.command == "toggle":
        method, path, body = "POST", "/admin/toggles", {"feature": args.feature, "enabled": args.state == "on"}
    else:
        if not args.enable and not (args.reason or "").strip():
            raise admin.AdminError("a killswitch needs --reason: it is shown to users and sent with the alert", 2)
        body = {"target": args.target, "action": "enable" if args.enable else "disable", "reason": args.reason or ""}
        method, path = "POST", "/admin/killswitch"
    if args.dry_run:
        admin.token()  # a dry run still checks the token is there, so the real run does not fail on it
        print(admin.request_line(target, method, path, body))
        return 0
    print(admin.describe(admin.call(target, method, path, body)))
    return 0
