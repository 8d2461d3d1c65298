"""TLS certificates with certbot (Debian's package): one certificate for the four public names,
issued over HTTP-01 through nginx's webroot, renewed by Debian's certbot.timer, with a deploy hook
that reloads nginx. Then the HTTPS site is enabled (see tasks/nginx.py for the bootstrap order).

Why one certificate for all four names: one issuance, one renewal, one deploy hook and one pair of
files for nginx, and it counts once against the ACME server's rate limits. The cost: the names are
visible to each other in the certificate (they are public anyway), and one name that stops
validating (DNS moved) blocks the renewal of all; the expiry check alerts on that weeks ahead.

Settings read: certbot_enabled, certbot_email, certbot_acme_server, app_name, domain_*.
"""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import QuoteString, StringCommand, deploy
from pyinfra.operations import apt, server, systemd

from louieops.facts.system import CertbotCertificate
from louieops.settings import for_host
from tasks import nginx
from tasks.base import put_template

DEPLOY_HOOK = "/etc/letsencrypt/renewal-hooks/deploy/louieops-reload-nginx"


def certificate_domains(s) -> list[str]:
    """The names on the certificate, in settings order, without duplicates."""
    return list(dict.fromkeys(site["domain"] for site in nginx.sites(s)))


def needs_issuing(current: dict, domains: list[str], acme_server: str) -> bool:
    """True when the lineage is missing, names other domains, or comes from another ACME server."""
    return not current or current.get("domains") != sorted(domains) or current.get("server") != acme_server


def certonly_command(s, domains: list[str]) -> StringCommand:
    bits = ["certbot", "certonly", "--webroot", "-w", nginx.ACME_WEBROOT, "--cert-name", QuoteString(s.app_name)]
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
        nginx.enable_https_sites()  # removes the HTTPS site
        return
    domains = certificate_domains(s)

    # install (Debian's package enables certbot.timer, which renews twice a day when due)
    apt.packages(name="Install certbot", packages=["certbot"])
    put_template(
        "certbot/cli.ini.j2",
        "/etc/letsencrypt/cli.ini",
        name="Upload /etc/letsencrypt/cli.ini",
        acme_server=s.certbot_acme_server,
    )
    put_template("certbot/louieops-reload-nginx.j2", DEPLOY_HOOK, name=f"Upload {DEPLOY_HOOK}", mode="0755")
    systemd.service(name="Enable certbot.timer", service="certbot.timer", running=True, enabled=True)

    # issue: only when the lineage is missing or differs (checked when the operation runs)
    def certificate_differs() -> bool:
        current = host.get_fact(CertbotCertificate, cert_name=s.app_name, _sudo=True)
        return needs_issuing(current, domains, s.certbot_acme_server)

    server.shell(
        name=f"Issue the certificate {s.app_name} for {', '.join(domains)}",
        commands=[certonly_command(s, domains)],
        _if=certificate_differs,
    )

    # activate: the HTTPS site, now that the certificate exists
    nginx.enable_https_sites()
