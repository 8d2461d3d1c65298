"""The short summary printed after a deploy: what was provisioned, where, and its URLs.

Settings read: app_user, domain_homepage, domain_api, domain_admin, domain_websocket.
"""

from __future__ import annotations

import atexit
import sys

from pyinfra import host
from pyinfra.context import ctx_state

from louieops import factcache
from louieops.layout import pm2_process, scheme
from louieops.settings import for_host

_LINES: list[str] = []


def print_summary_at_exit() -> None:
    """Collect this host's line now (planning time); print all lines once pyinfra has finished."""
    s = for_host(host)
    web = scheme(s)
    _LINES.append(
        f"{host.name}: app {pm2_process(s)} under pm2 as {s.app_user}; "
        f"{web}://{s.domain_homepage} {web}://{s.domain_api}/health "
        f"{web}://{s.domain_admin} wss://{s.domain_websocket}"
    )
    if len(_LINES) == 1:
        atexit.register(_print, ctx_state.get())


def _print(state) -> None:
    # stderr, like pyinfra's own progress output, so `pyinfra --json` keeps stdout pure JSON.
    if not state.is_executing:
        return  # --dry or stopped before execution: nothing was provisioned
    failed = {h.name for h in state.failed_hosts}
    caches = factcache.stats(state)
    print("\n--> Summary:", file=sys.stderr)
    for line in _LINES:
        host_name = line.split(":", 1)[0]
        print("    " + ("FAILED " if host_name in failed else "") + line, file=sys.stderr)
        cache = caches.get(host_name)
        if cache:
            print(
                f"    {host_name}: {cache.commands} remote commands; {cache.requests} fact reads, "
                f"{cache.hits} answered from the cache",
                file=sys.stderr,
            )
