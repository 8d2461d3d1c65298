"""Templates and helpers of the server stack: rendered with the variables the tasks pass."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from louieops import layout, resources
from tasks import app, certbot, nginx, release
from tests.unit.helpers import default_settings

SETTINGS = default_settings(
    app_name="louie",
    app_user="louie",
    app_root="/var/www/louie",
    app_log_dir="/var/log/louie",
    app_uploads_dir="/var/www/louie/uploads",
    app_port=3000,
    app_instances=2,
    postgresql_role="louie",
    postgresql_database="louie",
    domain_homepage="louie.test",
    domain_api="api.louie.test",
    domain_admin="admin.test",
    domain_websocket="ws.louie.test",
    certbot_acme_server="https://acme.test/dir",
    certbot_email="ops@louie.test",
)


def render(relative: str, **data) -> str:
    folder, name = relative.split("/")
    env = Environment(
        undefined=StrictUndefined, keep_trailing_newline=True, loader=FileSystemLoader(resources.TEMPLATES / folder)
    )
    return env.get_template(name).render(managed="Managed by louieops (test)", **data)


def site(tls_on_80: bool, kind: str) -> str:
    data = nginx.site_variables(SETTINGS, tls_on_80)
    data.pop("jinja_env_kwargs")
    return render(f"nginx/{kind}.conf.j2", **data)


def server_blocks(text: str) -> dict[str, str]:
    blocks = re.split(r"\nserver \{", text)[1:]
    return {re.search(r"server_name ([^;]+);", b).group(1): b for b in blocks}


def test_https_site_has_tls_hsts_dotfile_denial_and_per_role_locations():
    blocks = server_blocks(site(True, "https"))
    assert set(blocks) == {"louie.test", "api.louie.test", "admin.test", "ws.louie.test"}
    for block in blocks.values():
        assert "listen 443 ssl http2;" in block
        assert "ssl_certificate /etc/letsencrypt/live/louie/fullchain.pem;" in block
        assert "include snippets/louieops-headers.conf;" in block
        assert "location ~ /\\. {\n\t\treturn 404;" in block
        assert "location ^~ /.well-known/acme-challenge/ {" in block
    assert blocks["api.louie.test"].count("limit_req zone=api burst=20 nodelay;") == 2  # / and /admin/
    assert "location = /health {" in blocks["api.louie.test"]
    assert "limit_req" not in blocks["louie.test"] + blocks["ws.louie.test"] + blocks["admin.test"]
    assert "proxy_read_timeout 3600s;" in blocks["ws.louie.test"]


def test_the_headers_snippet_sends_hsts_only_with_tls():
    with_tls = render("nginx/louieops-headers.conf.j2", tls=True, nginx_hsts_max_age=63072000)
    assert 'add_header Strict-Transport-Security "max-age=63072000; includeSubDomains" always;' in with_tls
    assert 'add_header X-Content-Type-Options "nosniff" always;' in with_tls
    plain = render("nginx/louieops-headers.conf.j2", tls=False, nginx_hsts_max_age=63072000)
    assert "Strict-Transport-Security" not in plain and "nosniff" in plain


def locations(block: str) -> dict[str, str]:
    """Each `location X {...}` of a server block by X (locations here do not nest)."""
    return {m.group(1): m.group(2) for m in re.finditer(r"location ([^{]+?) \{(.*?)\n\t\}", block, re.S)}


def test_maintenance_mode_closes_the_public_locations_but_not_health_admin_or_acme():
    maintenance = layout.MAINTENANCE_MODE_DIR
    blocks = server_blocks(site(True, "https"))
    api = locations(blocks["api.louie.test"])
    assert f"include {maintenance}/json*.conf;" in api["/"]
    for open_location in ("= /health", "^~ /admin/", "^~ /.well-known/acme-challenge/"):
        assert maintenance not in api[open_location], open_location
    assert "limit_req zone=api" in api["^~ /admin/"]
    assert f"include {maintenance}/json*.conf;" in locations(blocks["ws.louie.test"])["/"]
    assert f"include {maintenance}/html*.conf;" in locations(blocks["louie.test"])["/"]
    assert maintenance not in blocks["admin.test"]


def test_port_80_site_redirects_when_tls_is_on_and_proxies_when_it_is_off():
    with_tls = site(True, "http")
    assert "return 301 https://$host$request_uri;" in with_tls and "proxy" not in with_tls
    assert "root /var/www/letsencrypt;" in with_tls
    plain = server_blocks(site(False, "http"))
    assert len(plain) == 4
    for block in plain.values():
        assert "listen 80;" in block and "ssl_certificate" not in block and "Strict-Transport-Security" not in block
        assert "include snippets/louieops-proxy.conf;" in block


def test_nginx_conf_has_mozilla_intermediate_tls_websocket_map_and_429():
    text = render(
        "nginx/nginx.conf.j2",
        nginx_client_max_body_size="10m",
        nginx_api_rate_limit="10r/s",
        access_log="/var/log/nginx/access.log",
        slow_request_seconds=2,
    )
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in text and "ssl_prefer_server_ciphers off;" in text
    assert "map $http_upgrade $connection_upgrade" in text
    assert (
        "limit_req_zone $louieops_rate_limit_key zone=api:10m rate=10r/s;" in text and "limit_req_status 429;" in text
    )
    # every client address is limited but this host's own (the load test): an empty key is not counted
    assert "default $binary_remote_addr;" in text and "127.0.0.1 0;" in text and "::1 0;" in text
    assert text.startswith("# Managed by louieops")


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to load the ecosystem file")
def test_ecosystem_file_loads_in_node_with_the_pm2_fields(tmp_path):
    text = render("app/ecosystem.config.js.j2", **release.ecosystem_variables(SETTINGS, layout.app_paths(SETTINGS)))
    path = tmp_path / "ecosystem.config.js"
    path.write_text(text)
    out = subprocess.run(
        ["node", "-e", f"console.log(JSON.stringify(require({json.dumps(str(path))})))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    (entry,) = json.loads(out)["apps"]
    assert entry["name"] == "louie-api" and entry["exec_mode"] == "cluster" and entry["instances"] == 2
    # the link, never its target: pm2 keeps this path, so a reload starts the release the link points to
    assert entry["cwd"] == "/var/www/louie/current" and entry["script"] == "server.js"
    assert entry["env"]["APP_RELEASE"] == ""  # no release on this machine; on the server: the live one's id
    assert entry["env"]["APP_STATE_DIR"] == "/var/lib/louie"
    assert entry["out_file"] == "/var/log/louie/out.log" and entry["error_file"] == "/var/log/louie/error.log"
    assert entry["env"]["APP_ENV_FILE"] == "/etc/louie/app.env" and entry["env"]["PORT"] == "3000"
    assert not any("PASSWORD" in key or "TOKEN" in key for key in entry["env"])


def test_env_file_leaves_out_unset_secrets_and_refuses_line_breaks():
    text = release.env_file_content({"A": "1", "B": None}, "header")
    assert text == "# header\nA=1\n"
    with pytest.raises(ValueError):
        release.env_file_content({"A": "x\nB=2"}, "header")


def test_certificate_is_issued_only_when_missing_or_different():
    domains = layout.public_domains(SETTINGS)
    assert domains == ["louie.test", "api.louie.test", "admin.test", "ws.louie.test"]
    current = {"domains": sorted(domains), "server": "https://acme.test/dir"}
    assert not certbot.needs_issuing(current, domains, "https://acme.test/dir")
    assert certbot.needs_issuing({}, domains, "https://acme.test/dir")
    assert certbot.needs_issuing(current, domains[:3], "https://acme.test/dir")
    assert certbot.needs_issuing(current, domains, "https://other.test/dir")


def test_certonly_command_uses_the_webroot_and_every_name():
    command = certbot.certonly_command(SETTINGS, layout.public_domains(SETTINGS)).get_raw_value()
    assert command.startswith("certbot certonly --webroot -w /var/www/letsencrypt --cert-name louie")
    assert command.count(" -d ") == 4 and "--server https://acme.test/dir" in command
    assert "--non-interactive" in command and "--agree-tos" in command


def test_nodesource_repository_is_signed_and_pinned():
    sources = render("app/nodesource.sources.j2", nodejs_nodesource_major=22, keyring=app.NODESOURCE_KEYRING)
    assert "URIs: https://deb.nodesource.com/node_22.x" in sources
    assert f"Signed-By: {app.NODESOURCE_KEYRING}" in sources
    assert "Pin: origin deb.nodesource.com" in render("app/nodesource.pref.j2")


def test_pm2_unit_runs_as_the_app_user_and_resurrects_the_saved_apps():
    unit = render(
        "app/pm2.service.j2",
        app_user="louie",
        home="/home/louie",
        pm2_home="/home/louie/.pm2",
        pm2="/usr/local/bin/pm2",
        node_bin_dir="/usr/bin",
        writable=["/var/log/louie", "/var/www/louie/uploads", "/var/lib/louie"],
    )
    assert "User=louie" in unit and "Environment=PM2_HOME=/home/louie/.pm2" in unit
    assert "PIDFile=/home/louie/.pm2/pm2.pid" in unit and "ExecStart=/usr/local/bin/pm2 resurrect" in unit
    assert "WantedBy=multi-user.target" in unit
    # sandboxed: read-only system, writable only where the app keeps logs, uploads and state; no core dumps
    assert "ProtectSystem=strict" in unit and "BindPaths=/home/louie" in unit
    assert "ReadWritePaths=-/var/log/louie -/var/www/louie/uploads -/var/lib/louie" in unit
    assert "LimitCORE=0" in unit and "\nMemoryDenyWriteExecute" not in unit  # V8's JIT needs W+X memory
