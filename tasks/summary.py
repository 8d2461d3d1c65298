"""The short summary printed after a deploy: what was provisioned, where, and its URLs."""

from __future__ import annotations

import atexit

from pyinfra import host

from louieops.settings import for_host

_LINES: list[str] = []


def print_summary_at_exit() -> None:
    settings = for_host(host)
    scheme = "https" if settings.certbot_enabled else "http"
    _LINES.append(
        f"{host.name}: app {settings.app_name}-api under pm2 as {settings.app_user}; "
        f"{scheme}://{settings.domain_homepage} {scheme}://{settings.domain_api}/health "
        f"{scheme}://{settings.domain_admin} wss://{settings.domain_websocket}"
    )
    if len(_LINES) == 1:
        atexit.register(_print)


def _print() -> None:
    print("\n--> Summary:")
    for line in _LINES:
        print("    " + line)
