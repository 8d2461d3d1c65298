"""TLS certificate (certbot) settings."""

from __future__ import annotations

from ..rules import boolean, email, url

HEADING = "TLS certificates (certbot)"
RULES = {
    "certbot_enabled": boolean,
    "certbot_email": email,
    "certbot_acme_server": url,
}
