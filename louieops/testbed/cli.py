"""Command line: ``python -m louieops.testbed up|down|status|ssh|cleanup|logs|cluster-up|cluster-down``."""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import sys
import time
from pathlib import Path

from . import cleanup, peers
from .cluster import MEMBERS, Cluster
from .errors import AlreadyRunning, TestbedError
from .paths import DEFAULT_RELEASE, RELEASES, REPO_ROOT, check_name
from .server import Testbed
from .state import list_instances

log = logging.getLogger(__name__)


def _rel(path: object) -> str:
    try:
        return os.path.relpath(str(path))
    except ValueError:
        return str(path)


def cmd_up(args: argparse.Namespace) -> int:
    tb = Testbed(args.name, args.release)
    try:
        tb.up()
    except AlreadyRunning as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    inv, env = _rel(tb.inventory_path), _rel(tb.env_path)
    print(f"""test server {tb.name!r} ({tb.release}) is up at {tb.address}; boot to SSH {tb.boot_seconds:.1f} s

  ssh:        {shlex.join(tb.ssh_argv())}
              (or: python -m louieops.testbed ssh --name {tb.name} [command])
  inventory:  {inv}
  secrets:    {env}
  deploy:     cd {REPO_ROOT} && . {env} && pyinfra -y {inv} deploy.py

  peers on {tb.peer_address}:
    ACME (pebble)   {tb.acme_directory_url}   (listener CA: {tb.listener_ca})
    DNS             {tb.peer_address}:{peers.CHALLTESTSRV_DNS_PORT} (pebble-challtestsrv: {", ".join(tb.domains)})
    S3 (moto)       {tb.s3_endpoint}
    recorder        {tb.recorder.url}/_recorded
    SMTP (alerts)   {peers.PEER_HOSTNAME}:{peers.SMTP_PORT} (STARTTLS; accepted mail in {tb.mail.log_path})
    syslog (logs)   {peers.PEER_HOSTNAME}:{peers.SYSLOG_PORT} (TLS; `python -m louieops.testbed logs --name {tb.name}`)
  logs:       {tb.log_dir}

  stop:       python -m louieops.testbed down --name {tb.name}""")
    return 0


def cmd_cluster_up(args: argparse.Namespace) -> int:
    members = {m: r for m, r in MEMBERS.items() if args.standby or m != "standby"}
    cluster = Cluster(args.name, members, args.release).up()
    inv, env = _rel(cluster.inventory_path), _rel(cluster.env_path)
    lines = [f"  {m:8} {tb.name:20} {tb.address:12} {', '.join(members[m])}" for m, tb in cluster.servers.items()]
    print(f"""test cluster {args.name!r} ({args.release}) is up:
{chr(10).join(lines)}

  inventory:  {inv}
  secrets:    {env}
  deploy:     cd {REPO_ROOT} && . {env} && .venv/bin/pyinfra -y {inv} deploy.py
  ssh:        python -m louieops.testbed ssh --name {args.name}-db [command]
  stop:       python -m louieops.testbed cluster-down --name {args.name}""")
    return 0


def cmd_cluster_down(args: argparse.Namespace) -> int:
    try:
        cluster = Cluster.attach(args.name)
    except FileNotFoundError:
        cluster = Cluster(args.name)  # no record: the default members
    cluster.down()
    print(f"test cluster {args.name!r} is down")
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    Testbed(args.name).down()
    print(f"test server {args.name!r} is down")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    names = list_instances()
    if not names:
        print("no test servers")
        return 0
    for name in names:
        try:
            tb = Testbed.attach(name)
        except TestbedError:
            print(f"{name:20} (incomplete; `down --name {name}` removes it)")
            continue
        if tb.is_running():
            state = "running"
        elif "supervisor" not in tb.state:
            state = "starting"
        else:
            state = "stopped"
        print(
            f"{name:20} {state:8} {tb.state['release']:9} {tb.address:12} boots={tb.boots} "
            f"inventory={_rel(tb.inventory_path)}"
        )
    return 0


def cmd_ssh(args: argparse.Namespace) -> int:
    tb = Testbed.attach(args.name)
    argv = tb.ssh_argv(" ".join(args.command) if args.command else None)  # like ssh(1)
    if not args.command:
        argv.insert(1, "-t")
    os.execvp(argv[0], argv)
    return 0  # not reached


def cmd_logs(args: argparse.Namespace) -> int:
    """The log lines the server shipped to the syslog receiver (Papertrail's stand-in), as Papertrail lists them."""
    tb = Testbed.attach(args.name)
    path = tb.shipped_log
    print(
        f"# lines {tb.name} shipped over TLS to {peers.PEER_HOSTNAME}:{peers.SYSLOG_PORT}, kept in {path}", flush=True
    )
    lines, offset = shipped_lines(path, 0)
    print("\n".join(lines[-args.lines :]), flush=True)
    while args.follow:
        time.sleep(1)
        lines, offset = shipped_lines(path, offset)
        for line in lines:
            print(line, flush=True)
    return 0


def shipped_lines(path: Path, offset: int) -> tuple[list[str], int]:
    """The received messages after byte ``offset`` of the receiver's log, as "time host tag: message" lines."""
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            data = fh.read()
    except FileNotFoundError:
        return [], offset
    complete = data[: data.rfind(b"\n") + 1]
    lines = []
    for raw in complete.decode(errors="replace").splitlines():
        message = json.loads(raw)
        stamp = time.strftime("%H:%M:%S", time.localtime(message["received"]))
        lines.append(f"{stamp} {message['hostname']} {message['tag']}: {message['message']}")
    return lines, offset + len(complete)


def cleanup_all() -> dict[str, list[str]]:
    """Tear down every instance, then sweep anything left; return what the sweep had to remove."""
    for name in list_instances():
        try:
            Testbed(name).down()
        except Exception as exc:  # the sweep handles what down() could not
            log.warning("down %s: %s", name, exc)
    return cleanup.sweep()


def cmd_cleanup(args: argparse.Namespace) -> int:
    swept = cleanup_all()
    left = {k: v for k, v in cleanup.leftovers().items() if v}
    for kind, items in swept.items():
        print(f"removed stray {kind}: {', '.join(items)}")
    if left:
        print(f"still present: {left}", file=sys.stderr)
        return 1
    print("no test server leftovers")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m louieops.testbed", description="Local test servers.")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="boot a test server and its peers")
    up.add_argument("--name", default="demo", type=check_name)
    up.add_argument("--release", default=DEFAULT_RELEASE, choices=RELEASES)
    up.set_defaults(func=cmd_up)
    down = sub.add_parser("down", help="stop a test server and remove everything it made")
    down.add_argument("--name", default="demo", type=check_name)
    down.set_defaults(func=cmd_down)
    sub.add_parser("status", help="list test servers").set_defaults(func=cmd_status)
    ssh = sub.add_parser("ssh", help="ssh to a test server as deploy")
    ssh.add_argument("--name", default="demo", type=check_name)
    ssh.add_argument("command", nargs=argparse.REMAINDER)
    ssh.set_defaults(func=cmd_ssh)
    sub.add_parser("cleanup", help="remove every test server and leftover").set_defaults(func=cmd_cleanup)
    logs = sub.add_parser("logs", help="the log lines a test server shipped to its syslog receiver")
    logs.add_argument("--name", default="demo", type=check_name)
    logs.add_argument("-n", "--lines", type=int, default=50, help="how many of the newest lines (default 50)")
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    logs.set_defaults(func=cmd_logs)
    cluster_up = sub.add_parser("cluster-up", help="boot a cluster: lb, app1, app2, db (and a standby)")
    cluster_up.add_argument("--name", default="cluster", type=check_name)
    cluster_up.add_argument("--release", default=DEFAULT_RELEASE, choices=RELEASES)
    cluster_up.add_argument("--no-standby", dest="standby", action="store_false", help="four servers, no standby")
    cluster_up.set_defaults(func=cmd_cluster_up)
    cluster_down = sub.add_parser("cluster-down", help="stop a cluster and remove everything it made")
    cluster_down.add_argument("--name", default="cluster", type=check_name)
    cluster_down.set_defaults(func=cmd_cluster_down)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(message)s")
    if os.geteuid() != 0:
        print("error: the testbed needs root (network namespaces, nftables, systemd-nspawn)", file=sys.stderr)
        return 1
    try:
        return args.func(args)
    except TestbedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
