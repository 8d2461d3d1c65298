"""nginx in front of the app: nginx.conf (Mozilla intermediate TLS, websocket map, API rate limit),
the port-80 site, and the HTTPS site, enabled once the certificate exists.

Bootstrap order on a bare server: this step serves the ACME challenge on port 80 (and redirects the
rest to HTTPS); the certbot step issues the certificate and only then ``enable_https_sites`` writes the
HTTPS site, so `nginx -t` never sees a missing certificate. With certbot_enabled False the port-80 site
proxies to the app instead (plain HTTP).

The access log is in the "louieops" format: the health check reads the API's latency and error rate from
it, and it marks 5xx answers (http_5xx) and requests slower than kpi_thresholds.api_p99_ms's warning level
(slow_request, in whole seconds) for Papertrail's saved searches.

Settings read: app_name, app_port, certbot_enabled, nginx_api_rate_limit, nginx_api_rate_burst,
nginx_proxy_read_timeout, nginx_hsts_max_age, nginx_client_max_body_size, kpi_thresholds, domain_admin,
security_admin_login_paths.
The last two make conf.d/louieops-admin-logins.conf: the log of admin logins.
"""

from __future__ import annotations

import math
import re

from jinja2 import FileSystemLoader
from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import apt, files, server, systemd
from pyinfra.operations.util import any_changed

from louieops import resources
from louieops.layout import ACME_WEBROOT, ADMIN_LOGIN_LOG, NGINX_ACCESS_LOG, sites
from louieops.resources import put_template
from louieops.settings import Settings, for_host

PROXY_SNIPPET = "/etc/nginx/snippets/louieops-proxy.conf"
ADMIN_LOGINS = "/etc/nginx/conf.d/louieops-admin-logins.conf"


def slow_request_seconds(s: Settings) -> int:
    """Whole seconds from which the access log calls a request slow: api_p99_ms's warning level (else its
    critical level), rounded up; nginx compares the seconds of $request_time."""
    levels = s.kpi_thresholds.get("api_p99_ms", {})
    millis = levels.get("warning") or levels.get("critical") or 1000
    return max(1, math.ceil(millis / 1000))


def site_variables(s: Settings, tls: bool) -> dict:
    """Variables of templates/nginx/http.conf.j2 and https.conf.j2 (and the _server.conf.j2 they include)."""
    return {
        "sites": sites(s),
        "tls": tls,
        "cert_name": s.app_name,
        "acme_webroot": ACME_WEBROOT,
        "nginx_hsts_max_age": s.nginx_hsts_max_age,
        "nginx_api_rate_burst": s.nginx_api_rate_burst,
        "nginx_proxy_read_timeout": s.nginx_proxy_read_timeout,
        # the site templates include _server.conf.j2 from their own folder
        "jinja_env_kwargs": {"loader": FileSystemLoader(resources.TEMPLATES / "nginx")},
    }


def site(s: Settings, kind: str, tls: bool, present: bool = True) -> list:
    """/etc/nginx/sites-available/<app>-<kind>.conf and its link in sites-enabled; returns both ops."""
    available = f"/etc/nginx/sites-available/{s.app_name}-{kind}.conf"
    enabled = f"/etc/nginx/sites-enabled/{s.app_name}-{kind}.conf"
    if not present:
        return [
            files.link(name=f"Remove {enabled}", path=enabled, present=False),
            files.file(name=f"Remove {available}", path=available, present=False),
        ]
    conf = put_template(f"nginx/{kind}.conf.j2", available, name=f"Upload {available}", **site_variables(s, tls))
    link = files.link(name=f"Enable {available}", path=enabled, target=available)
    return [conf, link]


def check_and_reload(name: str, changes: list):
    """`nginx -t`, then reload: only when one of ``changes`` changed something."""
    server.shell(name=name, commands=["nginx -t -q", "systemctl reload nginx"], _if=any_changed(*changes))


@deploy("nginx")
def provision_nginx():
    s = for_host(host)

    # install
    apt.packages(name="Install nginx", packages=["nginx"])

    # configure
    changes = [
        put_template(
            "nginx/nginx.conf.j2",
            "/etc/nginx/nginx.conf",
            name="Upload /etc/nginx/nginx.conf",
            nginx_client_max_body_size=s.nginx_client_max_body_size,
            nginx_api_rate_limit=s.nginx_api_rate_limit,
            access_log=NGINX_ACCESS_LOG,
            slow_request_seconds=slow_request_seconds(s),
        ),
        put_template(
            "nginx/louieops-proxy.conf.j2", PROXY_SNIPPET, name=f"Upload {PROXY_SNIPPET}", app_port=s.app_port
        ),
        files.link(name="Disable the Debian default site", path="/etc/nginx/sites-enabled/default", present=False),
        put_template(
            "nginx/louieops-admin-logins.conf.j2",
            ADMIN_LOGINS,
            name=f"Upload {ADMIN_LOGINS}",
            domain=s.domain_admin,
            paths=s.security_admin_login_paths,
            domain_pattern=re.escape(s.domain_admin),
            path_patterns=[re.escape(path) for path in s.security_admin_login_paths],
            log=ADMIN_LOGIN_LOG,
        ),
    ]
    files.directory(
        name=f"Create the ACME webroot {ACME_WEBROOT}", path=ACME_WEBROOT, user="root", group="root", mode="0755"
    )
    changes += site(s, "http", tls=s.certbot_enabled)

    # activate
    systemd.service(name="Enable and start nginx", service="nginx.service", running=True, enabled=True)
    check_and_reload("Check the nginx configuration and reload nginx", changes)


@deploy("nginx HTTPS sites")
def enable_https_sites():
    """Run after the certbot step: the HTTPS site once the certificate exists (removed without certbot)."""
    s = for_host(host)
    changes = site(s, "https", tls=True, present=s.certbot_enabled)
    check_and_reload("Check the nginx configuration and reload nginx for HTTPS", changes)
