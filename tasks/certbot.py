"""TLS certificates with certbot (Debian's package): one certificate for the four public names,
issued over HTTP-01 through nginx's webroot, renewed by Debian's certbot.timer, with a deploy hook
that reloads nginx. deploy.py then enables the HTTPS site (see tasks/nginx.py for the bootstrap order).

Why one certificate for all four names: one issuance, one renewal, one deploy hook and one pair of
files for nginx, and it counts once against the ACME server's rate limits. The cost: the names are
visible to each other in the certificate (they are public anyway), and one name that stops
validating (DNS moved) blocks the renewal of all; the expiry check alerts on that weeks ahead.

Settings read: certbot_enabled, certbot_email, certbot_acme_server, app_name.
"""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import QuoteString, StringCommand, deploy
from pyinfra.operations import apt, server, systemd

from louieops.facts.system import CertbotCertificate
from louieops.layout import ACME_WEBROOT, public_domains
from louieops.resources import put_template
from louieops.settings import Settings, for_host

DEPLOY_HOOK = "/etc/letsencrypt/renewal-hooks/deploy/louieops-reload-nginx"


def needs_issuing(current: dict, domains: list[str], acme_server: str) -> bool:
    """True when the lineage is missing, names other domains, or comes from another ACME server."""
    return not current or current.get("domains") != sorted(domains) or current.get("server") != acme_server


def certonly_command(s: Settings, domains: list[str]) -> StringCommand:
    bits = ["certbot", "certonly", "--webroot", "-w", ACME_WEBROOT, "--cert-name", QuoteString(s.app_name)]
    for domain in domains:
        bits += ["-d", QuoteString(domain)]
    bits += [
        "--server",
        QuoteString(s.certbot_acme_server),
        "-m",
        QuoteString(s.certbot_email),
        "--agree-tos",
        "--no-eff-email",
        "--non-interactive",
        "--force-renewal",
    ]
    return StringCommand(*bits)


@deploy("TLS certificates")
def provision_certificates():
    s = for_host(host)
    if not s.certbot_enabled:
        return
    domains = public_domains(s)

    # install (Debian's package enables certbot.timer, which renews twice a day when due)
    apt.packages(name="Install certbot", packages=["certbot"])
    put_template(
        "certbot/cli.ini.j2",
        "/etc/letsencrypt/cli.ini",
        name="Upload /etc/letsencrypt/cli.ini",
        certbot_acme_server=s.certbot_acme_server,
    )
    put_template("certbot/louieops-reload-nginx.j2", DEPLOY_HOOK, name=f"Upload {DEPLOY_HOOK}", mode="0755")
    systemd.service(name="Enable certbot.timer", service="certbot.timer", running=True, enabled=True)

    # issue: only when the lineage is missing or differs (decided when planning: the plan shows it)
    current = host.get_fact(CertbotCertificate, cert_name=s.app_name, _sudo=True)
    if needs_issuing(current, domains, s.certbot_acme_server):
        server.shell(
            name=f"Issue the certificate {s.app_name} for {', '.join(domains)}", commands=[certonly_command(s, domains)]
        )
