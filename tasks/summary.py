"""The short summary printed after a deploy: what was provisioned, where, and its URLs.

Settings read: app_user, domain_homepage, domain_api, domain_admin, domain_websocket.
"""

from __future__ import annotations

import atexit
import sys

from pyinfra import host
from pyinfra.context import ctx_state

from louieops import factcache, topology
from louieops.layout import pm2_process, scheme
from louieops.settings import for_host

_LINES: list[tuple[str, str]] = []  # (host name, its line)


def print_summary_at_exit() -> None:
    """Collect this host's line now (planning time); print all lines once pyinfra has finished."""
    s = for_host(host)
    web = scheme(s)
    me = topology.me(host)
    urls = (
        f"{web}://{s.domain_homepage} {web}://{s.domain_api}/health {web}://{s.domain_admin} wss://{s.domain_websocket}"
    )
    if topology.of(host).single_server:
        _LINES.append((host.name, f"{host.name}: app {pm2_process(s)} under pm2 as {s.app_user}; {urls}"))
    else:
        parts = [f"{host.name} ({', '.join(role for role in topology.ROLES if role in me.roles)}):"]
        if me.has(topology.DB):
            parts.append("PostgreSQL primary;")
        if me.has(topology.STANDBY):
            parts.append(f"PostgreSQL hot standby of {topology.of(host).db.name};")
        if me.has(topology.APP):
            parts.append(f"app {pm2_process(s)} under pm2 as {s.app_user};")
        if me.has(topology.LB):
            parts.append(urls)
        _LINES.append((host.name, " ".join(parts).rstrip(";")))
    if len(_LINES) == 1:
        atexit.register(_print, ctx_state.get())


def _print(state) -> None:
    # stderr, like pyinfra's own progress output, so `pyinfra --json` keeps stdout pure JSON.
    if not state.is_executing:
        return  # --dry or stopped before execution: nothing was provisioned
    failed = {h.name for h in state.failed_hosts}
    caches = factcache.stats(state)
    print("\n--> Summary:", file=sys.stderr)
    for host_name, line in _LINES:
        print("    " + ("FAILED " if host_name in failed else "") + line, file=sys.stderr)
        cache = caches.get(host_name)
        if cache:
            print(
                f"    {host_name}: {cache.commands} remote commands; {cache.requests} fact reads, "
                f"{cache.hits} answered from the cache",
                file=sys.stderr,
            )
