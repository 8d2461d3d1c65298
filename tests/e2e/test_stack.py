"""The server stack on the deployed test server: services, HTTPS through nginx with a certificate from
the test ACME server (pebble), hardening headers, websocket, rate limit, PostgreSQL exposure, renewal,
and all of it again after a reboot.

Needs the shared ``deployed`` fixture (tests/e2e/conftest.py). Traffic goes only to the test server's
address; TLS names are sent as SNI/Host while connecting to that address.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import ssl
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import pytest
import urllib3
import websocket

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(os.geteuid() != 0, reason="the test server needs root (netns, nftables, nspawn)"),
]


# --- helpers --------------------------------------------------------------------------------------------


def root(deployed, command: str, check: bool = True):
    return deployed.ssh(f"sudo sh -c {shlex.quote(command)}", check=check)


def wait_for(predicate, timeout: float, what: str, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            result = predicate()
            if result:
                return result
        except Exception as exc:  # noqa: BLE001 - keep polling, report the last error
            last = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last error: {last!r})")


@pytest.fixture(scope="module")
def pebble_root(deployed, tmp_path_factory):
    path = tmp_path_factory.mktemp("pebble") / "root.pem"
    path.write_text(deployed.testbed.pebble_root_pem())
    return str(path)


def https(
    deployed,
    pebble_root: str,
    domain: str,
    path: str,
    method: str = "GET",
    headers=None,
    body=None,
    redirect: bool = False,
):
    """Request https://<domain><path> from the server's address, verifying the certificate for <domain>
    against pebble's root."""
    pool = urllib3.HTTPSConnectionPool(
        deployed.address,
        443,
        server_hostname=domain,
        assert_hostname=domain,
        cert_reqs="CERT_REQUIRED",
        ca_certs=pebble_root,
        timeout=urllib3.Timeout(connect=5, read=15),
        retries=False,
    )
    try:
        return pool.request(method, path, headers={"Host": domain, **(headers or {})}, body=body, redirect=redirect)
    finally:
        pool.close()


def https_api(deployed, pebble_root: str, path: str, **kwargs):
    """Like https() on the API domain, but waits out a 429 left by the rate-limit test (bounded)."""
    return wait_for(
        lambda: (lambda r: r if r.status != 429 else None)(
            https(deployed, pebble_root, deployed.settings.domain_api, path, **kwargs)
        ),
        20,
        f"{path} without 429",
    )


def http(deployed, domain: str, path: str):
    pool = urllib3.HTTPConnectionPool(deployed.address, 80, timeout=10, retries=False)
    try:
        return pool.request("GET", path, headers={"Host": domain}, redirect=False)
    finally:
        pool.close()


def domains(deployed) -> list[str]:
    s = deployed.settings
    return [s.domain_homepage, s.domain_api, s.domain_admin, s.domain_websocket]


def assert_services_active(deployed):
    s = deployed.settings
    units = ["nginx", "postgresql", f"pm2-{s.app_user}", "nftables", "certbot.timer"]
    out = deployed.ssh("systemctl is-active " + " ".join(units), check=False).stdout.split()
    assert out == ["active"] * len(units), dict(zip(units, out, strict=False))
    jlist = root(deployed, f"sudo -u {s.app_user} -H env PM2_HOME=/home/{s.app_user}/.pm2 pm2 jlist").stdout
    apps = {p["name"]: p["pm2_env"]["status"] for p in json.loads(jlist[jlist.index("[") :])}
    assert apps.get(f"{s.app_name}-api") == "online", apps


def assert_health_over_https(deployed, pebble_root):
    response = https(deployed, pebble_root, deployed.settings.domain_api, "/health")
    assert response.status == 200
    body = json.loads(response.data)
    assert body["status"] == "healthy" and body["timestamp"]
    assert f"max-age={deployed.settings.nginx_hsts_max_age}" in response.headers.get("Strict-Transport-Security", "")


def assert_postgresql_on_loopback_only(deployed):
    s = deployed.settings
    password = deployed.env["LOUIE_DB_PASSWORD"]
    out = deployed.ssh(
        f"PGPASSWORD={shlex.quote(password)} psql -X -h 127.0.0.1 -U {s.postgresql_role} "
        f"-d {s.postgresql_database} -Atc 'SELECT current_user'"
    ).stdout.strip()
    assert out == s.postgresql_role
    listeners = [line.split()[3] for line in root(deployed, "ss -Hltn 'sport = :5432'").stdout.splitlines()]
    assert listeners and all(addr.rsplit(":", 1)[0] in ("127.0.0.1", "[::1]") for addr in listeners), listeners
    with pytest.raises(OSError):
        socket.create_connection((deployed.address, 5432), timeout=3).close()


# --- tests ----------------------------------------------------------------------------------------------


def test_nginx_postgresql_pm2_and_the_app_are_active(deployed):
    assert_services_active(deployed)


def test_api_health_answers_over_https_with_a_certificate_from_the_test_acme_server(deployed, pebble_root):
    assert_health_over_https(deployed, pebble_root)


def test_every_domain_is_served_over_https_with_hsts_and_redirected_from_http(deployed, pebble_root):
    for domain in domains(deployed):
        response = https(deployed, pebble_root, domain, "/")
        assert response.status == 200, domain
        assert "Strict-Transport-Security" in response.headers, domain
        redirect = http(deployed, domain, "/some/page?x=1")
        assert redirect.status == 301, domain
        assert redirect.headers["Location"] == f"https://{domain}/some/page?x=1"


def test_only_tls_1_2_and_1_3_are_offered(deployed, pebble_root):
    domain = deployed.settings.domain_api
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        context = ssl.create_default_context(cafile=pebble_root)
        context.minimum_version = context.maximum_version = version
        with socket.create_connection((deployed.address, 443), timeout=5) as raw:
            with context.wrap_socket(raw, server_hostname=domain) as tls:
                assert tls.version() == version.name.replace("_", ".")
    # TLS 1.0/1.1 offered by the client: the server itself must refuse (a protocol_version alert).
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version, context.maximum_version = ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1
    context.set_ciphers("ALL:@SECLEVEL=0")
    with socket.create_connection((deployed.address, 443), timeout=5) as raw:
        with pytest.raises(ssl.SSLError) as refused:
            context.wrap_socket(raw, server_hostname=domain)
    assert refused.value.reason == "TLSV1_ALERT_PROTOCOL_VERSION", refused.value


@pytest.mark.parametrize("path", ["/.env", "/.git/config", "/.git/HEAD", "/app/.env"])
def test_dotfiles_are_not_served(deployed, pebble_root, path):
    for domain in domains(deployed):
        assert https(deployed, pebble_root, domain, path).status in (403, 404), (domain, path)


def test_websocket_echo_round_trip_through_nginx(deployed, pebble_root):
    domain = deployed.settings.domain_websocket
    ws = websocket.create_connection(
        f"wss://{deployed.address}/ws",
        host=domain,
        timeout=10,
        sslopt={"ca_certs": pebble_root, "server_hostname": domain, "check_hostname": True},
    )
    try:
        for message in ("hello louie", "x" * 70000):
            ws.send(message)
            assert ws.recv() == message
    finally:
        ws.close()


def test_api_answers_429_under_a_burst(deployed, pebble_root):
    s = deployed.settings
    # Fewer rejections than fail2ban's rate-limit jail bans for: this is the controller, which every later
    # test (and pebble's HTTP-01 check) needs unbanned. test_security bans a client host of its own.
    total = s.nginx_api_rate_burst + min(40, s.fail2ban_rate_limit_maxretry - 10)
    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(
            pool.map(lambda _: https(deployed, pebble_root, s.domain_api, "/api/claude/status").status, range(total))
        )
    assert statuses.count(429) > 0, statuses
    assert statuses.count(200) > s.nginx_api_rate_burst // 2, statuses
    # leave the limiter drained for the other tests
    wait_for(
        lambda: https(deployed, pebble_root, s.domain_api, "/api/claude/status").status == 200,
        30,
        "the API rate limit to recover",
    )


def test_app_routes_admin_metrics_behind_the_bearer_token(deployed, pebble_root):
    s = deployed.settings
    status = https_api(deployed, pebble_root, "/api/claude/status")
    assert json.loads(status.data) == {"success": True, "data": {"status": "operational", "version": "1.0.0"}}
    assert https(deployed, pebble_root, s.domain_admin, "/admin/metrics/system").status == 401
    response = https(
        deployed,
        pebble_root,
        s.domain_admin,
        "/admin/metrics/system",
        headers={"Authorization": f"Bearer {deployed.env['LOUIE_ADMIN_TOKEN']}"},
    )
    data = json.loads(response.data)
    assert response.status == 200 and data["success"] is True
    assert {"uptime", "memory", "cpu", "activeConnections", "requestsPerMinute"} <= set(data["data"])


def test_failed_login_is_logged_with_the_client_address(deployed, pebble_root):
    s = deployed.settings
    user = f"nobody{int(time.time())}"
    response = https_api(
        deployed,
        pebble_root,
        "/login",
        method="POST",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"username": user, "password": "wrong"}),
    )
    assert response.status == 401
    expected = f"Login failed for {user} from {deployed.peer_address}"
    wait_for(lambda: expected in root(deployed, f"cat {s.app_log_dir}/out.log").stdout, 10, expected)


def test_app_secrets_file_is_private_to_the_app_user(deployed):
    s = deployed.settings
    out = root(deployed, f"stat -c '%a %U' /etc/{s.app_name}/app.env /etc/{s.app_name}").stdout.split("\n")
    assert out[0] == f"600 {s.app_user}"
    assert out[1].split()[0] == "750"


def test_postgresql_takes_the_app_password_on_loopback_and_is_not_exposed(deployed):
    assert_postgresql_on_loopback_only(deployed)


def test_firewall_and_sshd_are_hardened(deployed):
    ruleset = root(deployed, "nft list table inet louieops_filter").stdout
    assert "policy drop" in ruleset and "22, 80, 443" in ruleset
    sshd = root(deployed, "sshd -T").stdout.lower().splitlines()
    assert "permitrootlogin no" in sshd and "passwordauthentication no" in sshd


def test_certbot_renew_dry_run_succeeds(deployed):
    out = root(deployed, "certbot renew --dry-run --no-random-sleep-on-renew 2>&1")
    assert "all simulated renewals succeeded" in out.stdout.lower()


def test_zz_reboot_brings_the_whole_stack_back_without_a_manual_step(deployed, pebble_root):
    deployed.testbed.reboot()
    wait_for(
        lambda: https(deployed, pebble_root, deployed.settings.domain_api, "/health").status == 200,
        120,
        "the API health through nginx after the reboot",
    )
    wait_for(lambda: assert_services_active(deployed) is None, 60, "all services active after the reboot")
    assert_health_over_https(deployed, pebble_root)
    test_websocket_echo_round_trip_through_nginx(deployed, pebble_root)
    assert_postgresql_on_loopback_only(deployed)
    assert "policy drop" in root(deployed, "nft list table inet louieops_filter").stdout
