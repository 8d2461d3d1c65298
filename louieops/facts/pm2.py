"""pm2 facts. Read them as the user that owns the pm2 daemon (``_sudo_user=<app user>``)."""

from __future__ import annotations

import json

from pyinfra.api import FactBase, QuoteString, StringCommand
from pyinfra.api.exceptions import FactProcessError


class Pm2Apps(FactBase[dict]):
    """
    Apps of the pm2 daemon of ``pm2_home`` and their status; empty dict when that daemon is not
    running. The daemon is checked first because ``pm2 jlist`` would otherwise start a new one
    outside systemd (pm2 issue #3924).

    .. code:: python

        {"simplylouie-api": {"status": "online", "instances": 1}}
    """

    def requires_command(self, pm2_home: str) -> str:
        return "pm2"

    def command(self, pm2_home: str) -> StringCommand:
        pid_file = f"{pm2_home}/pm2.pid"
        return StringCommand(
            "if test -f",
            QuoteString(pid_file),
            '&& kill -0 "$(cat',
            QuoteString(pid_file),
            ')" 2>/dev/null;',
            "then",
            StringCommand("PM2_HOME=", QuoteString(pm2_home), _separator=""),
            "pm2 jlist; fi",
        )

    @staticmethod
    def default() -> dict:
        return {}

    def process(self, output: list[str]) -> dict:
        return parse_jlist(output)


def parse_jlist(lines: list[str]) -> dict:
    """``pm2 jlist`` output -> ``{name: {"status": ..., "instances": n}}`` (worst status wins)."""
    processes, error = None, None
    for index, line in enumerate(lines):  # skip "[PM2] ..." notices printed before the JSON
        if line.lstrip().startswith("["):
            try:
                processes = json.loads("\n".join(lines[index:]))
                break
            except ValueError as exc:
                error = exc
    if processes is None:
        if error is not None:
            raise FactProcessError(f"pm2 jlist printed no JSON list: {error}")
        return {}
    apps: dict = {}
    for proc in processes:
        name = proc.get("name")
        status = (proc.get("pm2_env") or {}).get("status", "unknown")
        entry = apps.setdefault(name, {"status": status, "instances": 0})
        entry["instances"] += 1
        if status != "online":
            entry["status"] = status
    return apps
