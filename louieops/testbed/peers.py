"""Controller-side peers of a test server: pebble, pebble-challtestsrv, moto (S3), the webhook recorder, the
SMTP recorder (the alert e-mail's smarthost), the TLS syslog receiver (Papertrail's log destination), the
SaaS API stand-ins, and git daemon serving the app's repository (apprepo.py).

Each peer is a :class:`PeerSpec`: a command line, the TCP port to poll for readiness, and optional
environment. Every peer listens on the host side of the veth only (``10.231.N.1``), so the same ports
serve every instance. Adding a stand-in is one line in :func:`default_peers` (or pass ``extra_peers`` to
:class:`~louieops.testbed.server.Testbed`), e.g.::

    PeerSpec.python_module("uptimerobot", "tests.standins.uptimerobot", addr, 9300)
"""

from __future__ import annotations

import json
import ssl
import sys
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .apprepo import REPOSITORY
from .paths import REPO_ROOT

#: Non-default ports, on the peer address only.
PEBBLE_ACME_PORT = 14100
PEBBLE_MANAGEMENT_PORT = 15100
CHALLTESTSRV_DNS_PORT = 8153
CHALLTESTSRV_MANAGEMENT_PORT = 8155
MOTO_PORT = 5100
#: The same S3 stand-in (one store) over TLS, by louieops.testbed.tls_proxy: pgBackRest speaks S3 over https only.
MOTO_TLS_PORT = 5101
RECORDER_PORT = 9180
UPTIMEROBOT_PORT = 9300
SENTRY_PORT = 9301
NPM_AUDIT_PORT = 9303
PAPERTRAIL_API_PORT = 9304
STRIPE_PORT = 9305
GIT_PORT = 9418
SMTP_PORT = 2525
SYSLOG_PORT = 6514
#: The name the server knows the peer address by (its /etc/hosts): the listener certificate carries it, so
#: the e-mail relay and the log shipper verify the peer's certificate as they would a real smarthost's.
PEER_HOSTNAME = "peer.testbed.test"
#: The login the SMTP recorder asks for (test values, not secrets).
SMTP_USER, SMTP_PASSWORD = "louieops", "testbed-smtp-password"
#: Bearer token the UptimeRobot and Sentry stand-ins accept (a test value, not a secret).
SAAS_TOKEN = "test-token"
#: The restricted key the Stripe stand-in accepts: a key of its own, as the server holds it beside the others.
STRIPE_KEY = "rk_test_louieops_testbed"
#: The public key of the test DSN: Sentry's SDK accepts only word characters there (no '-').
SENTRY_PUBLIC_KEY = "0123456789abcdef0123456789abcdef"

DEFAULT_DOMAINS = (
    "simplylouie.test",
    "api.simplylouie.test",
    "louiesystem.test",
    "ws.simplylouie.test",
)


@dataclass(frozen=True)
class PeerSpec:
    """One managed peer process: started detached, logged to ``<instance>/logs/<name>.log``."""

    name: str
    argv: tuple[str, ...]
    port: int
    host: str
    env: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def python_module(
        cls, name: str, module: str, host: str, port: int, *extra: str, env: Mapping[str, str] | None = None
    ) -> PeerSpec:
        """A stand-in run as ``python -m MODULE --host H --port P [extra...]`` from the repository root."""
        return cls(
            name,
            (sys.executable, "-m", module, "--host", host, "--port", str(port), *extra),
            port,
            host,
            {"PYTHONPATH": str(REPO_ROOT), **(env or {})},
        )


def pebble_config(peer: str, cert: Path, key: Path) -> dict[str, object]:
    return {
        "pebble": {
            "listenAddress": f"{peer}:{PEBBLE_ACME_PORT}",
            "managementListenAddress": f"{peer}:{PEBBLE_MANAGEMENT_PORT}",
            "certificate": str(cert),
            "privateKey": str(key),
            "httpPort": 80,
            "tlsPort": 443,
            "ocspResponderURL": "",
            "externalAccountBindingRequired": False,
        }
    }


def default_peers(peer: str, instance_dir: Path, cert: Path, key: Path) -> list[PeerSpec]:
    """The standard peers of one instance (config files are written into ``instance_dir``)."""
    config = instance_dir / "pebble-config.json"
    config.write_text(json.dumps(pebble_config(peer, cert, key), indent=2))
    return [
        PeerSpec(
            "challtestsrv",
            (
                "pebble-challtestsrv",
                "-defaultIPv4",
                "",
                "-defaultIPv6",
                "",
                "-dns01",
                f"{peer}:{CHALLTESTSRV_DNS_PORT}",
                "-http01",
                "",
                "-https01",
                "",
                "-tlsalpn01",
                "",
                "-management",
                f"{peer}:{CHALLTESTSRV_MANAGEMENT_PORT}",
            ),
            CHALLTESTSRV_MANAGEMENT_PORT,
            peer,
        ),
        PeerSpec(
            "pebble",
            ("pebble", "-config", str(config), "-dnsserver", f"{peer}:{CHALLTESTSRV_DNS_PORT}"),
            PEBBLE_ACME_PORT,
            peer,
            {"PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0"},
        ),
        PeerSpec(
            "moto",
            (sys.executable, "-m", "moto.server", "-H", peer, "-p", str(MOTO_PORT)),
            MOTO_PORT,
            peer,
            # reached by name through s3-tls too: pgBackRest sends Host without the port, and moto would read
            # "peer" in peer.testbed.test as a bucket (virtual-host style) unless the name is a custom endpoint
            {"MOTO_S3_CUSTOM_ENDPOINTS": s3_tls_endpoint_url(peer)},
        ),
        PeerSpec.python_module(
            "s3-tls",
            "louieops.testbed.tls_proxy",
            peer,
            MOTO_TLS_PORT,
            *("--cert", str(cert), "--key", str(key), "--upstream", f"{peer}:{MOTO_PORT}"),
        ),
        PeerSpec.python_module(
            "recorder",
            "louieops.testbed.recorder",
            peer,
            RECORDER_PORT,
            "--log",
            str(instance_dir / "recorded.jsonl"),
        ),
        # Stand-ins for the UptimeRobot and Sentry APIs (tests/standins), so the demo registers monitors too.
        PeerSpec.python_module(
            "uptimerobot", "tests.standins.uptimerobot", peer, UPTIMEROBOT_PORT, "--token", SAAS_TOKEN
        ),
        PeerSpec.python_module("sentry", "tests.standins.sentry", peer, SENTRY_PORT, "--token", SAAS_TOKEN),
        PeerSpec.python_module(
            "papertrail", "tests.standins.papertrail", peer, PAPERTRAIL_API_PORT, "--token", SAAS_TOKEN
        ),
        PeerSpec.python_module("npm-audit", "tests.standins.npm_audit", peer, NPM_AUDIT_PORT),
        PeerSpec.python_module("stripe", "tests.standins.stripe", peer, STRIPE_PORT, "--token", STRIPE_KEY),
        PeerSpec.python_module(
            "smtp",
            "louieops.testbed.smtp_recorder",
            peer,
            SMTP_PORT,
            *("--cert", str(cert), "--key", str(key), "--user", SMTP_USER, "--password", SMTP_PASSWORD),
            *("--log", str(mail_log(instance_dir))),
        ),
        PeerSpec.python_module(
            "syslog",
            "louieops.testbed.syslog_receiver",
            peer,
            SYSLOG_PORT,
            *("--cert", str(cert), "--key", str(key), "--log", str(shipped_log(instance_dir))),
        ),
        PeerSpec(
            "git",
            (
                "git",
                "daemon",
                "--reuseaddr",
                f"--base-path={instance_dir / 'git'}",
                f"--listen={peer}",
                f"--port={GIT_PORT}",
                str(instance_dir / "git"),
            ),
            GIT_PORT,
            peer,
        ),
    ]


def mail_log(instance_dir: Path) -> Path:
    """The messages the SMTP recorder accepted (JSON lines)."""
    return instance_dir / "logs" / "mail.jsonl"


def shipped_log(instance_dir: Path) -> Path:
    """The log lines the syslog receiver got from the server (JSON lines)."""
    return instance_dir / "logs" / "shipped-logs.jsonl"


def add_dns_records(peer: str, domains: Iterable[str], address: str) -> None:
    """Make pebble-challtestsrv answer A ``address`` (alone) for each domain (no AAAA: default answers are
    off). Its add-a adds to what a domain had: the old address is cleared first (a rebuilt server's names)."""
    for domain in domains:
        for action, body in (("clear-a", {"host": domain}), ("add-a", {"host": domain, "addresses": [address]})):
            url = f"http://{peer}:{CHALLTESTSRV_MANAGEMENT_PORT}/{action}"
            req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
            with urllib.request.urlopen(req, timeout=5) as resp:
                resp.read()


def pebble_root_pem(peer: str, listener_ca: Path, index: int = 0) -> str:
    """PEM of pebble's issuing root (management API ``/roots/<index>``); it changes on every start."""
    url = f"https://{peer}:{PEBBLE_MANAGEMENT_PORT}/roots/{index}"
    context = ssl.create_default_context(cafile=str(listener_ca))
    with urllib.request.urlopen(url, context=context, timeout=10) as resp:
        return resp.read().decode()


def acme_directory_url(peer: str) -> str:
    return f"https://{peer}:{PEBBLE_ACME_PORT}/dir"


def s3_endpoint_url(peer: str) -> str:
    return f"http://{peer}:{MOTO_PORT}"


def s3_tls_endpoint_url(peer: str, *, by_name: bool = True) -> str:
    """The TLS S3 stand-in: by the name its certificate carries (as the server reaches it) or by address."""
    return f"https://{PEER_HOSTNAME if by_name else peer}:{MOTO_TLS_PORT}"


def recorder_url(peer: str) -> str:
    return f"http://{peer}:{RECORDER_PORT}"


def uptimerobot_url(peer: str) -> str:
    return f"http://{peer}:{UPTIMEROBOT_PORT}"


def sentry_url(peer: str) -> str:
    return f"http://{peer}:{SENTRY_PORT}"


def papertrail_api_url(peer: str) -> str:
    return f"http://{peer}:{PAPERTRAIL_API_PORT}/api/v1"


def stripe_url(peer: str) -> str:
    return f"http://{peer}:{STRIPE_PORT}"


def npm_audit_url(peer: str) -> str:
    return f"http://{peer}:{NPM_AUDIT_PORT}"


def app_git_url(peer: str) -> str:
    return f"git://{peer}:{GIT_PORT}/{REPOSITORY}"


def sentry_dsn(peer: str) -> str:
    """A DSN whose envelopes the recorder keeps (``POST /api/1/envelope/``): Sentry in the app, observed."""
    return f"http://{SENTRY_PUBLIC_KEY}@{peer}:{RECORDER_PORT}/1"
