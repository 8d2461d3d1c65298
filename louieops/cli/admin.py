"""The app's admin API from the operator's machine: feature toggles and killswitches (seed §7).

The bearer token comes from LOUIE_ADMIN_TOKEN and is never printed; every failure is one line that says
what to check. Exit status: 0 done (or shown with --dry-run), 2 usage or configuration, 3 the token was
refused, 4 the endpoint is not there, 5 no answer (connection or timeout), 6 TLS verification failed,
7 the API refused the request (its message is printed).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
import urllib3.util.connection

TOKEN_ENV = "LOUIE_ADMIN_TOKEN"
URL_ENV = "LOUIE_API_URL"
RESOLVE_ENV = "LOUIE_API_RESOLVE"  # HOST:ADDRESS[,HOST:ADDRESS...]: --resolve for every command


class AdminError(Exception):
    """One line for the operator, and the exit status of the command."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Target:
    url: str  # the API's base URL, e.g. https://api.simplylouie.com
    resolve: dict[str, str]  # host -> address to connect to instead of DNS (curl's --resolve)
    ca_bundle: str | None
    timeout: float


def target_from(url: str | None, resolve: list[str], ca_bundle: str | None, timeout: float) -> Target:
    url = url or os.environ.get(URL_ENV)
    if not url:
        raise AdminError(f"no API URL: pass --url or set {URL_ENV} (e.g. https://api.simplylouie.com)", 2)
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        raise AdminError(f"--url {url!r} is not an http(s) URL such as https://api.simplylouie.com", 2)
    mapping = {}
    for item in resolve or [i for i in os.environ.get(RESOLVE_ENV, "").split(",") if i]:
        host, sep, address = item.partition(":")
        if not sep or not host or not address:
            raise AdminError(f"--resolve {item!r}: expected HOST:ADDRESS, e.g. api.simplylouie.com:203.0.113.10", 2)
        mapping[host] = address
    return Target(url.rstrip("/"), mapping, ca_bundle, timeout)


def token() -> str:
    value = os.environ.get(TOKEN_ENV, "")
    if not value:
        raise AdminError(f"{TOKEN_ENV} is not set: export the app's admin token first", 2)
    return value


@contextlib.contextmanager
def _resolved(mapping: dict[str, str]) -> Iterator[None]:
    """Connect to the given addresses for the given host names; TLS still checks the host name."""
    original = urllib3.util.connection.create_connection

    def create_connection(address, *args, **kwargs):
        host, port = address
        return original((mapping.get(host, host), port), *args, **kwargs)

    urllib3.util.connection.create_connection = create_connection
    try:
        yield
    finally:
        urllib3.util.connection.create_connection = original


def call(target: Target, method: str, path: str, body: dict | None = None) -> dict:
    """One request to the admin API; the decoded JSON answer, or AdminError with the line to print."""
    url = target.url + path
    headers = {"Authorization": f"Bearer {token()}", "Accept": "application/json"}
    verify = target.ca_bundle or True
    try:
        with _resolved(target.resolve):
            response = requests.request(method, url, json=body, headers=headers, timeout=target.timeout, verify=verify)
    except requests.exceptions.SSLError as exc:
        raise AdminError(
            f"TLS verification of {urlsplit(url).hostname} failed ({_reason(exc)}): check the URL, or pass "
            "--ca-bundle for a private CA",
            6,
        ) from exc
    except requests.exceptions.Timeout as exc:
        raise AdminError(f"no answer from {url} within {target.timeout:g} s", 5) from exc
    except (OSError, requests.exceptions.ConnectionError) as exc:
        raise AdminError(f"cannot connect to {url} ({_reason(exc)}): check --url and that the server is up", 5) from exc
    if response.status_code == 401:
        raise AdminError(f"the admin API refused the token in {TOKEN_ENV} (401): check it is the server's", 3)
    if response.status_code == 404:
        raise AdminError(f"{url} does not exist (404): is --url the API of an app with admin toggles?", 4)
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    if not response.ok:
        raise AdminError(
            f"{method} {url} answered {response.status_code}: {answer.get('error', response.text[:200])}", 7
        )
    return answer.get("data", answer)


def _reason(exc: Exception) -> str:
    text = str(exc.args[0] if exc.args else exc)
    return text.rsplit(": ", 1)[-1][:160] if len(text) > 160 else text


def describe(data: dict) -> str:
    """The toggles view as lines: one per feature, then the killswitches in force."""
    lines = []
    for feature, state in sorted(data.get("features", {}).items()):
        text = "on" if state.get("enabled") else "OFF"
        lines.append(f"{feature:<14} {text}" + (f"  ({state['reason']})" if state.get("reason") else ""))
    for target, kill in sorted(data.get("killswitch", {}).items()):
        lines.append(f"killswitch {target}: since {kill.get('at', '?')}, reason: {kill.get('reason', '')}")
    return "\n".join(lines)


def request_line(target: Target, method: str, path: str, body: dict | None) -> str:
    """What --dry-run prints: the request without the token."""
    return f"would {method} {target.url}{path}" + (f" {json.dumps(body, sort_keys=True)}" if body else "")
