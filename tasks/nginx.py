"""nginx in front of the app: nginx.conf (Mozilla intermediate TLS, websocket map, API rate limit),
the port-80 site, and the HTTPS site, enabled once the certificate exists.

Bootstrap order on a bare server: this step serves the ACME challenge on port 80 (and redirects the
rest to HTTPS); the certbot step issues the certificate and only then ``enable_https_sites`` writes the
HTTPS site, so `nginx -t` never sees a missing certificate. With certbot_enabled False the port-80 site
proxies to the app instead (plain HTTP).

Runs on the ``lb`` host. On one server nginx proxies to the app on loopback; with several servers to an
upstream of the app hosts (louieops/topology.py), each at its own app_port, with passive health checks.

The access log is in the "louieops" format: the health check reads the API's latency and error rate from
it, and it marks 5xx answers (http_5xx) and requests slower than kpi_thresholds.api_p99_ms's warning level
(slow_request, in whole seconds) for Papertrail's saved searches.

Settings read: app_name, app_port, certbot_enabled, nginx_api_rate_limit, nginx_api_rate_burst,
nginx_proxy_read_timeout, nginx_hsts_max_age, nginx_client_max_body_size, nginx_upstream_max_fails,
nginx_upstream_fail_timeout, kpi_thresholds, domain_admin, security_admin_login_paths, health_page_user.
domain_admin and security_admin_login_paths make conf.d/louieops-admin-logins.conf: the log of admin logins.
health_page_user: the System Health page at domain_admin's /system-health/ (tasks/health.py puts its files),
over TLS only, behind HTTP basic auth with that login and LOUIE_HEALTH_PAGE_PASSWORD (salted SHA-1 in an
htpasswd file, root:www-data 0640; the password is random and long, so a fast hash is no weakness), no-store,
and a Content-Security-Policy that lets the page load nothing but its own files.

Maintenance mode: louie-maintenance-mode (in scripts_dir, linked into /usr/local/bin) writes the snippets
that the homepage's, the API's (but /health and /admin/) and the websocket's locations include, and reloads
nginx; the deploy makes their directory and never touches what is in it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
from io import StringIO

from jinja2 import FileSystemLoader
from pyinfra import host, logger
from pyinfra.api import deploy
from pyinfra.facts.files import File
from pyinfra.operations import apt, files, server, systemd
from pyinfra.operations.util import any_changed

from louieops import layout, resources, secrets, topology
from louieops.layout import ACME_WEBROOT, ADMIN_LOGIN_LOG, NGINX_ACCESS_LOG, sites
from louieops.resources import put_file, put_template
from louieops.server_scripts import health_page_served
from louieops.settings import Settings, for_host

PROXY_SNIPPET = "/etc/nginx/snippets/louieops-proxy.conf"
HEADERS_SNIPPET = "/etc/nginx/snippets/louieops-headers.conf"
ADMIN_LOGINS = "/etc/nginx/conf.d/louieops-admin-logins.conf"
UPSTREAMS = layout.NGINX_UPSTREAMS
APP_UPSTREAM, WEBSOCKET_UPSTREAM = "louieops_app", "louieops_websocket"
#: Seconds the lb waits for an app host to accept a connection before it tries the next one.
UPSTREAM_CONNECT_TIMEOUT = 2
_NOTED: set[str] = set()  # deploy-wide notes already printed (one line per deploy, not one per host)


def slow_request_seconds(s: Settings) -> int:
    """Whole seconds from which the access log calls a request slow: api_p99_ms's warning level (else its
    critical level), rounded up; nginx compares the seconds of $request_time."""
    levels = s.kpi_thresholds.get("api_p99_ms", {})
    millis = levels.get("warning") or levels.get("critical") or 1000
    return max(1, math.ceil(millis / 1000))


def htpasswd_line(user: str, password: str) -> str:
    """One htpasswd line in RFC 2307's {SSHA} scheme (nginx reads it): its salt is derived from the password,
    so the file is the same on every deploy and the next one reports no change."""
    salt = hmac.new(password.encode(), b"louieops health page", hashlib.sha256).digest()[:8]
    digest = hashlib.sha1(password.encode() + salt).digest()
    return f"{user}:{{SSHA}}{base64.b64encode(digest + salt).decode()}\n"


def health_page(s: Settings) -> dict | None:
    """Where the System Health page is served from (None: not served, server_scripts.health_page_served)."""
    if not health_page_served(s):
        if s.health_page_user and "health page" not in _NOTED:
            _NOTED.add("health page")
            why = "certbot_enabled is False" if not s.certbot_enabled else "LOUIE_HEALTH_PAGE_PASSWORD is not set"
            logger.warning(f"Skipping the System Health page: {why} (health_page_user = None says no page).")
        return None
    return {
        "path": layout.HEALTH_PAGE_PATH,
        "files": layout.HEALTH_PAGE_FILES,
        "data": layout.HEALTH_PAGE_DATA,
        "htpasswd": layout.HEALTH_PAGE_HTPASSWD,
    }


def health_page_login(s: Settings):
    """The page's htpasswd file (the admin login), or none."""
    path = layout.HEALTH_PAGE_HTPASSWD
    if not health_page(s):
        return files.file(name=f"Remove {path}", path=path, present=False)
    line = htpasswd_line(s.health_page_user, secrets.require("LOUIE_HEALTH_PAGE_PASSWORD"))
    return files.put(name=f"Upload {path}", src=StringIO(line), dest=path, user="root", group="www-data", mode="0640")


def upstream_servers(topo: topology.Topology) -> list[str] | None:
    """address:port of each app host (its own app_port), or None on one server (nginx proxies to loopback)."""
    if topo.single_server:
        return None
    return [topo.upstream_server(app, for_host(topology.host_of(host, app)).app_port) for app in topo.apps]


def site_variables(s: Settings, tls: bool, upstreams: list[str] | None = None) -> dict:
    """Variables of templates/nginx/http.conf.j2 and https.conf.j2 (and the _server.conf.j2 they include)."""
    local = f"http://127.0.0.1:{s.app_port}"
    return {
        "app_upstream": f"http://{APP_UPSTREAM}" if upstreams else local,
        "websocket_upstream": f"http://{WEBSOCKET_UPSTREAM}" if upstreams else local,
        "sites": sites(s),
        "tls": tls,
        "cert_name": s.app_name,
        "acme_webroot": ACME_WEBROOT,
        "maintenance_dir": layout.MAINTENANCE_MODE_DIR,
        "nginx_hsts_max_age": s.nginx_hsts_max_age,
        "nginx_api_rate_burst": s.nginx_api_rate_burst,
        "nginx_proxy_read_timeout": s.nginx_proxy_read_timeout,
        "health_page": health_page(s),
        # the site templates include _server.conf.j2 from their own folder
        "jinja_env_kwargs": {"loader": FileSystemLoader(resources.TEMPLATES / "nginx")},
    }


def site(s: Settings, kind: str, tls: bool, present: bool = True, upstreams: list[str] | None = None) -> list:
    """/etc/nginx/sites-available/<app>-<kind>.conf and its link in sites-enabled; returns both ops."""
    available = f"/etc/nginx/sites-available/{s.app_name}-{kind}.conf"
    enabled = f"/etc/nginx/sites-enabled/{s.app_name}-{kind}.conf"
    if not present:
        return [
            files.link(name=f"Remove {enabled}", path=enabled, present=False),
            files.file(name=f"Remove {available}", path=available, present=False),
        ]
    conf = put_template(
        f"nginx/{kind}.conf.j2", available, name=f"Upload {available}", **site_variables(s, tls, upstreams)
    )
    link = files.link(name=f"Enable {available}", path=enabled, target=available)
    return [conf, link]


def https_site_in_place(s: Settings) -> bool:
    """Whether an earlier deploy left the HTTPS site (and so its certificate) in place, as the plan finds it.
    Such a site is rewritten with the HTTP site and the proxy snippet, before the one reload: a reload between
    them would pair the old site with the new snippet (a release of this project that moved proxy_pass from
    the snippet into the sites served 404s for two seconds that way)."""
    return s.certbot_enabled and bool(host.get_fact(File, path=f"/etc/nginx/sites-available/{s.app_name}-https.conf"))


def check_and_reload(name: str, changes: list):
    """`nginx -t`, then reload: only when one of ``changes`` changed something."""
    server.shell(name=name, commands=["nginx -t -q", "systemctl reload nginx"], _if=any_changed(*changes))


def upstream_file(s: Settings, upstreams: list[str] | None):
    """The app hosts' upstreams (several servers), or no such file (one server)."""
    if not upstreams:
        return files.file(name=f"Remove {UPSTREAMS}", path=UPSTREAMS, present=False)
    return put_template(
        "nginx/louieops-upstreams.conf.j2",
        UPSTREAMS,
        name=f"Upload {UPSTREAMS}",
        app_upstream_name=APP_UPSTREAM,
        websocket_upstream_name=WEBSOCKET_UPSTREAM,
        servers=upstreams,
        nginx_upstream_max_fails=s.nginx_upstream_max_fails,
        nginx_upstream_fail_timeout=s.nginx_upstream_fail_timeout,
        connect_timeout=UPSTREAM_CONNECT_TIMEOUT,
    )


@deploy("nginx")
def provision_nginx():
    s = for_host(host)
    upstreams = upstream_servers(topology.of(host))

    # install (ApacheBench from apache2-utils: the monthly load test through this nginx, tasks/maintenance.py)
    apt.packages(name="Install nginx", packages=["nginx", "apache2-utils"])

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
        put_template("nginx/louieops-proxy.conf.j2", PROXY_SNIPPET, name=f"Upload {PROXY_SNIPPET}"),
        put_template(
            "nginx/louieops-headers.conf.j2",
            HEADERS_SNIPPET,
            name=f"Upload {HEADERS_SNIPPET}",
            tls=s.certbot_enabled,
            nginx_hsts_max_age=s.nginx_hsts_max_age,
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
        upstream_file(s, upstreams),
        health_page_login(s),
    ]
    files.directory(
        name=f"Create the ACME webroot {ACME_WEBROOT}", path=ACME_WEBROOT, user="root", group="root", mode="0755"
    )
    _maintenance_mode(s)
    changes += site(s, "http", tls=s.certbot_enabled, upstreams=upstreams)
    if https_site_in_place(s):
        changes += site(s, "https", tls=True, upstreams=upstreams)

    # activate
    systemd.service(name="Enable and start nginx", service="nginx.service", running=True, enabled=True)
    check_and_reload("Check the nginx configuration and reload nginx", changes)


def _maintenance_mode(s: Settings) -> None:
    """louie-maintenance-mode and the directory of its snippets: made here, their content never touched (a
    deploy during planned work keeps the 503 page on)."""
    files.directory(
        name=f"Create {layout.MAINTENANCE_MODE_DIR}",
        path=layout.MAINTENANCE_MODE_DIR,
        user="root",
        group="root",
        mode="0755",
    )
    script = layout.script(s, "louie-maintenance-mode")
    put_file("scripts/louie-maintenance-mode", script, mode="0755")
    files.link(name=f"Link {layout.MAINTENANCE_MODE_COMMAND}", path=layout.MAINTENANCE_MODE_COMMAND, target=script)


@deploy("nginx HTTPS sites")
def enable_https_sites():
    """Run after the certbot step: the HTTPS site once the certificate exists (removed without certbot)."""
    s = for_host(host)
    if https_site_in_place(s):
        return  # rewritten with the HTTP site
    changes = site(s, "https", tls=True, present=s.certbot_enabled, upstreams=upstream_servers(topology.of(host)))
    check_and_reload("Check the nginx configuration and reload nginx for HTTPS", changes)
