"""Logs, health checks, alert routing, maintenance jobs and fail2ban on the deployed test server.

Needs the shared ``deployed`` fixture (tests/e2e/conftest.py): the booted server after the full deploy.
Tests that need other settings (log shipping to the TLS receiver, an extra disk mount) re-run one task
with ``pyinfra --data`` overrides and restore the server by re-running it without them.

Traffic goes only to the test server and the peer address (10.231.N.1) where the test's own TLS syslog
receiver listens.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import os
import shlex
import ssl
import subprocess
import tarfile
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests

from louieops.layout import LOAD_TEST_HISTORY
from louieops.testbed import peers
from louieops.testbed.syslog_receiver import SyslogReceiver, write_pki
from tests.e2e.helpers import channel_paths, health_run, redeploy, redeploy_ok, slack_since

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(os.geteuid() != 0, reason="the test server needs root (netns, nftables, nspawn)"),
]

LOG_HOST = "logs.papertrail.test"
TEST_CA_DIR = "/etc/ssl/louieops-test"
DISK_TEST_MOUNT = "/mnt/louieops-disk-test"


# --- helpers --------------------------------------------------------------------------------------------


def root(deployed, command: str, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess:
    """Run a shell command as root on the server."""
    return deployed.testbed.ssh(f"sudo sh -c {shlex.quote(command)}", check=check, input=input)


def poll(predicate, timeout: float, interval: float = 1.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def app_healthy(deployed) -> bool:
    port = deployed.settings.app_port
    return root(deployed, f"curl -fsS -m 5 http://127.0.0.1:{port}/health", check=False).returncode == 0


@pytest.fixture(scope="module")
def observed(deployed):
    """The deployed server. The testbed trusts the test ACME server's root, so the health check verifies
    the API's certificate exactly as in production."""
    return deployed


@pytest.fixture()
def log_receiver(observed, tmp_path):
    """A TLS syslog receiver on the peer address, its CA on the server and its name in /etc/hosts."""
    pki = write_pki(tmp_path / "pki", LOG_HOST)
    root(observed, f"install -d -m 755 {TEST_CA_DIR} && cat > {TEST_CA_DIR}/syslog-ca.pem", input=pki.ca.read_text())
    root(observed, f"grep -q ' {LOG_HOST}$' /etc/hosts || echo '{observed.peer_address} {LOG_HOST}' >> /etc/hosts")
    with SyslogReceiver(observed.peer_address, 0, pki.cert, pki.key) as receiver:
        receiver.pki = pki
        yield receiver
    root(observed, f"sed -i '/ {LOG_HOST}$/d' /etc/hosts; rm -rf {TEST_CA_DIR}", check=False)


def shipping_overrides(receiver, ca_file: str) -> dict:
    return {
        "papertrail_method": "rsyslog",
        "papertrail_host": LOG_HOST,
        "papertrail_port": receiver.port,
        "papertrail_permitted_peer": LOG_HOST,
        "papertrail_ca_file": ca_file,
    }


def app_login_failure(deployed, user: str, ip: str | None = None) -> None:
    """Make the app itself write "Login failed for USER from IP" (a request to its port on the server)."""
    header = f"-H 'X-Real-IP: {ip}' " if ip else ""
    root(
        deployed,
        f"curl -sS -m 5 -o /dev/null {header}-H 'Content-Type: application/json' "
        f'-d \'{{"username":"{user}","password":"wrong"}}\' http://127.0.0.1:{deployed.settings.app_port}/login',
    )


# --- log shipping ---------------------------------------------------------------------------------------


def test_app_log_lines_reach_the_tls_receiver_and_a_wrong_ca_is_refused(observed, log_receiver, tmp_path):
    s = observed.settings
    hostname = root(observed, "hostname").stdout.strip()
    try:
        right, wrong_ca = f"{TEST_CA_DIR}/syslog-ca.pem", f"{TEST_CA_DIR}/wrong-ca.pem"
        redeploy_ok(observed, tmp_path, "logs", **shipping_overrides(log_receiver, right))
        again = redeploy_ok(observed, tmp_path, "logs", **shipping_overrides(log_receiver, right))
        assert again.changed_operations == [], again.changed_operations
        marker = f"obs{uuid.uuid4().hex[:12]}"
        app_login_failure(observed, marker)
        message = log_receiver.wait_for(lambda m: f"Login failed for {marker} from" in m.message, timeout=90)
        assert message is not None, f"no app line with {marker} arrived; received {len(log_receiver.snapshot())} lines"
        assert message.hostname == hostname
        assert message.tag == s.app_name
        assert message.message.rstrip().endswith(f"Login failed for {marker} from 127.0.0.1")
        # the system log is shipped too: sudo logged the command that carried the marker
        system = log_receiver.wait_for(lambda m: m.tag == "sudo" and marker in m.message, timeout=30)
        assert system is not None and system.hostname == hostname

        # another CA on the server: the connection is refused, nothing arrives, and `status` says why
        wrong = write_pki(tmp_path / "wrong", LOG_HOST, label="wrong")
        root(observed, f"cat > {TEST_CA_DIR}/wrong-ca.pem", input=wrong.ca.read_text())
        redeploy_ok(observed, tmp_path, "logs", **shipping_overrides(log_receiver, wrong_ca))
        redeploy_ok(observed, tmp_path, "maintenance", **shipping_overrides(log_receiver, wrong_ca))
        hidden = f"obs{uuid.uuid4().hex[:12]}"
        app_login_failure(observed, hidden)

        def status_shows_tls_error():
            out = root(observed, "louie-status", check=False).stdout
            return out if "NOT connected" in out and ("not permitted" in out or "certificate" in out) else None

        status = poll(status_shows_tls_error, timeout=120, interval=3, what="the TLS failure in louie-status")
        assert "recent errors" in status
        assert not any(hidden in m.message for m in log_receiver.snapshot())

        # the right CA again: the line held in rsyslog's queue (kept across the restart) is delivered
        redeploy_ok(observed, tmp_path, "logs", **shipping_overrides(log_receiver, right))
        held = log_receiver.wait_for(lambda m: f"Login failed for {hidden} from" in m.message, timeout=90)
        assert held is not None, "the line written during the TLS failure was lost"
    finally:
        redeploy_ok(observed, tmp_path, "logs")
        redeploy_ok(observed, tmp_path, "maintenance")


def _fake_remote_syslog_tarball(path: Path) -> str:
    """A stand-in for remote_syslog_linux_amd64.tar.gz: same layout, a shell script as the binary."""
    script = b'#!/bin/sh\necho "fake remote_syslog $*" >&2\nexec sleep infinity\n'
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("remote_syslog/remote_syslog")
        info.size, info.mode = len(script), 0o755
        tar.addfile(info, io.BytesIO(script))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_remote_syslog2_is_installed_only_with_the_pinned_checksum(observed, tmp_path):
    tarball = tmp_path / "remote_syslog_linux_amd64.tar.gz"
    digest = _fake_remote_syslog_tarball(tarball)
    overrides = {
        "papertrail_method": "remote_syslog2",
        "papertrail_host": LOG_HOST,
        "papertrail_port": 6514,
        "papertrail_ca_file": "/etc/ssl/certs/ca-certificates.crt",
        "remote_syslog2_source": str(tarball),
    }
    try:
        refused = redeploy(observed, tmp_path, "logs", remote_syslog2_sha256="ab" * 32, **overrides)
        assert refused.returncode != 0
        assert "refusing to install" in refused.stdout + refused.stderr
        assert root(observed, "test -e /usr/local/bin/remote_syslog", check=False).returncode != 0

        redeploy_ok(observed, tmp_path, "logs", remote_syslog2_sha256=digest, **overrides)
        config = root(observed, "cat /etc/log_files.yml").stdout
        assert "protocol: tls" in config and f"host: {LOG_HOST}" in config and "port: 6514" in config
        assert root(observed, "systemctl is-active remote_syslog").stdout.strip() == "active"
        command = root(observed, "systemctl show -p ExecStart remote_syslog").stdout
        assert "/usr/local/bin/remote_syslog" in command and "-D" in command
        assert digest[:12] in root(observed, "readlink -f /usr/local/bin/remote_syslog").stdout
        again = redeploy_ok(observed, tmp_path, "logs", remote_syslog2_sha256=digest, **overrides)
        assert again.changed_operations == [], again.changed_operations
    finally:
        redeploy_ok(observed, tmp_path, "logs")
    assert root(observed, "systemctl is-active remote_syslog", check=False).stdout.strip() != "active"
    assert root(observed, "test -e /etc/log_files.yml -o -e /opt/remote_syslog2", check=False).returncode != 0


class _Tarball(http.server.BaseHTTPRequestHandler):
    payload = b""

    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.payload)))
        self.end_headers()
        self.wfile.write(self.payload)

    def log_message(self, *args):
        pass


def test_remote_syslog2_download_is_checked_against_the_pinned_checksum(observed, tmp_path):
    """The URL source over HTTPS (served on the peer address with the testbed's listener certificate,
    which the server trusts): a wrong checksum fails the deploy before anything is unpacked."""
    tarball = tmp_path / "remote_syslog_linux_amd64.tar.gz"
    digest = _fake_remote_syslog_tarball(tarball)
    handler = type("Handler", (_Tarball,), {"payload": tarball.read_bytes()})
    server = http.server.ThreadingHTTPServer((observed.peer_address, 0), handler)
    pki = observed.testbed.listener_ca.parent
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(pki / "cert.pem"), str(pki / "key.pem"))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"https://{observed.peer_address}:{server.server_address[1]}/v{{version}}/remote_syslog_linux_amd64.tar.gz"
    overrides = {
        "papertrail_method": "remote_syslog2",
        "papertrail_host": LOG_HOST,
        "papertrail_port": 6514,
        "papertrail_ca_file": "/etc/ssl/certs/ca-certificates.crt",
        "remote_syslog2_source": url,
    }
    try:
        refused = redeploy(observed, tmp_path, "logs", remote_syslog2_sha256="ab" * 32, **overrides)
        assert refused.returncode != 0
        assert "SHA256 did not match" in refused.stdout + refused.stderr
        assert root(observed, "test -e /usr/local/bin/remote_syslog", check=False).returncode != 0

        redeploy_ok(observed, tmp_path, "logs", remote_syslog2_sha256=digest, **overrides)
        assert root(observed, "systemctl is-active remote_syslog").stdout.strip() == "active"
    finally:
        server.shutdown()
        server.server_close()
        redeploy_ok(observed, tmp_path, "logs")


# --- health check and alert routing ---------------------------------------------------------------------


def test_app_down_alerts_once_and_recovery_is_sent_once(observed):
    s = observed.settings
    baseline = health_run(observed)
    assert "API healthy" in baseline.stdout, f"the API is not healthy before the test:\n{baseline.stdout}"
    since = time.time()
    unit = f"pm2-{s.app_user}.service"
    try:
        root(observed, f"systemctl stop {unit}")
        poll(lambda: not app_healthy(observed), timeout=30, what="the app to stop")
        first = health_run(observed)
        assert first.returncode == 2, first.stdout
        alerts = slack_since(observed, since, "API down")
        assert len(alerts) == 1, alerts
        critical_tier = s.health_tiers["api"]["critical"]
        assert f"[{critical_tier}]" in alerts[0]["body"]
        assert alerts[0]["path"] in channel_paths(observed, critical_tier)
        assert "RESOLVED" not in alerts[0]["body"]

        health_run(observed)
        assert len(slack_since(observed, since, "API down")) == 1
    finally:
        root(observed, f"systemctl start {unit}")
        poll(lambda: app_healthy(observed), timeout=60, what="the app to answer again")
    health_run(observed)
    recovered = poll(
        lambda: slack_since(observed, since, "RESOLVED", "API healthy"), timeout=30, what="the recovery message"
    )
    assert len(recovered) == 1 and "was: CRITICAL: API down" in recovered[0]["body"]
    health_run(observed)
    assert len(slack_since(observed, since, "RESOLVED", "API healthy")) == 1


def test_a_filling_disk_raises_a_warning_tier_alert(observed, tmp_path):
    root(observed, f"mkdir -p {DISK_TEST_MOUNT} && mount -t tmpfs -o size=10m louieops-disk-test {DISK_TEST_MOUNT}")
    try:
        redeploy_ok(observed, tmp_path, "health", health_disk_mounts=["/", DISK_TEST_MOUNT])
        since = time.time()
        root(observed, f"fallocate -l 8700K {DISK_TEST_MOUNT}/fill")
        run = health_run(observed)
        assert f"WARNING  disk {DISK_TEST_MOUNT}" in run.stdout, run.stdout
        warning_tier = observed.settings.health_tiers["disk_pct"]["warning"]
        posts = slack_since(observed, since, DISK_TEST_MOUNT)
        assert len(posts) == 1 and f"[{warning_tier}]" in posts[0]["body"] and "WARNING" in posts[0]["body"]
        assert posts[0]["path"] in channel_paths(observed, warning_tier)

        root(observed, f"rm -f {DISK_TEST_MOUNT}/fill")
        health_run(observed)
        assert len(slack_since(observed, since, "RESOLVED", DISK_TEST_MOUNT)) == 1
    finally:
        redeploy_ok(observed, tmp_path, "health")
        root(observed, f"umount {DISK_TEST_MOUNT}; rmdir {DISK_TEST_MOUNT}", check=False)


# --- maintenance, security monitoring and status --------------------------------------------------------


def test_every_scheduled_job_is_installed_exactly_once(observed):
    s = observed.settings
    cron = root(observed, "cat /etc/cron.d/* /var/spool/cron/crontabs/* 2>/dev/null", check=False).stdout
    entries = [line for line in cron.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert sum(f"{s.scripts_dir}/health-check" in line for line in entries) == 1
    jobs = (
        "daily-summary",
        "log-check",
        "npm-audit",
        "exposure-scan",
        "cert-report",
        "quarterly-reminder",
        "load-test",
        "stripe-webhooks",
    )
    for job in jobs:
        assert sum(f"louieops-maintenance {job}" in line for line in entries) == 1, job
    assert f"{s.health_schedule} {s.health_user} " in cron


# Each job's report must contain all of these (app logs readable, log files found, scan clean, ...).
MAINTENANCE_REPORTS = {
    "daily-summary": ("Daily summary", "app error-log lines"),
    "log-check": ("Weekly log check OK", "out.log"),
    "npm-audit": ("Weekly npm audit of", "0 critical, 0 high"),
    "exposure-scan": ("Weekly exposure scan: no .env or .git served, HSTS sent on every domain",),
    "cert-report": ("Monthly certificate report: ", " days"),
    "quarterly-reminder": ("Quarterly maintenance", "louieops rebuild DRILL_INVENTORY --from-s3 --drill"),
}


@pytest.mark.parametrize("job", MAINTENANCE_REPORTS)
def test_maintenance_job_reports_to_slack(observed, job):
    s = observed.settings
    since = time.time()
    result = root(observed, f"runuser -u {s.health_user} -- {s.scripts_dir}/louieops-maintenance {job}", check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    reports = slack_since(observed, since, *MAINTENANCE_REPORTS[job])
    assert len(reports) == 1, f"{job}: {result.stdout}"
    assert reports[0]["path"] in channel_paths(observed, "P4")


def test_the_monthly_load_test_runs_through_nginx_past_the_api_rate_limit_and_is_kept(observed, figure):
    """`louieops-maintenance load-test` as cron runs it: maintenance_load_test_requests requests through nginx
    (far more than the API's rate limit lets any other address send), none failed or rejected, the report in
    Slack with its p50/p99/error rate, a line in the load-test history. Exit 1 would be a KPI past its warning
    level on a busy machine: the report then goes out as that KPI's alert, and the figures are still kept."""
    s = observed.settings
    since = time.time()
    done = root(observed, f"runuser -u {s.health_user} -- {s.scripts_dir}/louieops-maintenance load-test", check=False)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    url = f"https://{s.domain_api}{s.maintenance_load_test_path}"
    [report] = slack_since(observed, since, f"Monthly load test of {url} through nginx")
    history = root(observed, f"tail -n 1 {LOAD_TEST_HISTORY}").stdout
    last = json.loads(history)
    assert last["requests"] == s.maintenance_load_test_requests and last["errors"] == 0, last
    assert "errors 0.0% (0)" in report["body"], report["body"]
    figure(
        f"monthly load test through nginx: {last['requests']} requests in {last['seconds']:.1f} s, "
        f"p50 {last['api_p50_ms']:.0f} ms, p99 {last['api_p99_ms']:.0f} ms, {last['rps']:.0f}/s"
    )


def test_the_daily_stripe_check_alerts_a_disabled_endpoint_and_failed_deliveries_then_resolves(observed):
    """`louieops-maintenance stripe-webhooks` as cron runs it, against the Stripe stand-in on the peer (the
    test server's STRIPE_RESTRICTED_KEY and maintenance_stripe_api_url): a disabled endpoint is a P1 naming
    its URL, the events Stripe could not deliver a P2 with their count and types; once the endpoint is enabled
    again and Stripe's retries went through, the next run resolves both."""
    s = observed.settings
    stripe = peers.stripe_url(observed.testbed.peer_address)
    job = f"cd / && runuser -u {s.health_user} -- {s.scripts_dir}/louieops-maintenance stripe-webhooks"
    root(observed, "rm -f /var/lib/louieops/maintenance/stripe-webhooks.json")  # a first run: the last day
    since = time.time()
    url = "https://api.simplylouie.test/webhooks/stripe-legacy"
    endpoint = requests.post(f"{stripe}/_admin/webhook_endpoints", json={"url": url, "status": "disabled"}, timeout=10)
    made = []
    for kind, count in (("invoice.paid", 3), ("charge.refunded", 1)):  # 20 minutes old: past their first attempt
        answer = requests.post(f"{stripe}/_admin/events", json={"type": kind, "count": count, "age": 1200}, timeout=10)
        assert answer.status_code == 200, answer.text
        made += answer.json()["ids"]
    try:
        found = root(observed, job, check=False)
        assert found.returncode == 1, found.stdout + found.stderr
        [disabled] = slack_since(observed, since, f"Stripe webhook endpoint {url}", "is disabled")
        assert disabled["path"] in channel_paths(observed, "P1")
        [failed] = slack_since(observed, since, "4 new event(s)", "(3 invoice.paid, 1 charge.refunded)")
        assert failed["path"] in channel_paths(observed, "P2")
    finally:
        enable = {"id": endpoint.json()["id"], "status": "enabled"}
        requests.post(f"{stripe}/_admin/webhook_endpoints", json=enable, timeout=10)
        requests.post(f"{stripe}/_admin/events", json={"deliver": made}, timeout=10)  # the retries went through
    resolved_since = time.time()
    again = root(observed, job, check=False)
    assert again.returncode == 0, again.stdout + again.stderr
    assert slack_since(observed, resolved_since, "RESOLVED P1", "is no longer disabled"), again.stdout
    assert slack_since(observed, resolved_since, "RESOLVED P2", "every webhook delivery"), again.stdout


def test_fail2ban_bans_an_address_after_five_failed_logins(observed):
    address = "203.0.113.77"  # TEST-NET-3: never routed; the ban only lands in the server's own nftables
    jail = "louieops-app-auth"
    try:
        for _ in range(observed.settings.fail2ban_maxretry):
            app_login_failure(observed, "mallory", ip=address)
        poll(
            lambda: address in root(observed, f"fail2ban-client status {jail}").stdout,
            timeout=60,
            what=f"{address} to be banned by {jail}",
        )
        assert address in root(observed, "nft list ruleset").stdout
    finally:
        root(observed, f"fail2ban-client set {jail} unbanip {address}", check=False)


def test_status_shows_every_item(observed):
    out = root(observed, "louie-status").stdout
    for label in ("Services", "pm2", "Disk", "Memory", "Certs", "Backup", "Health", "Alerts", "Logs", "fail2ban"):
        assert any(line.startswith(label) for line in out.splitlines()), f"{label} missing:\n{out}"
    assert f"{observed.settings.app_name}-api online" in out
    assert "louieops-app-auth" in out and "sshd" in out
