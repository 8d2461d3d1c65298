"""Pure parts of the health check and maintenance scripts, and the rendered observability templates."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jinja2
import pytest
import yaml

from louieops import server_scripts
from louieops.resources import file, template
from louieops.settings import SettingsError, defaults, validate
from tests.unit.helpers import default_settings, load_script, send_alert_recorder


def _script(relative):
    return load_script(file(relative), relative.replace("/", "_").replace("-", "_"))


@pytest.fixture(scope="module")
def health():
    return _script("scripts/health-check")


@pytest.fixture(scope="module")
def maintenance():
    return _script("scripts/louieops-maintenance")


@pytest.fixture(scope="module")
def common():
    return _script("scripts/louieops_common.py")


def _defaults():
    return defaults.load()


def _render(relative, **variables):
    return jinja2.Template(open(template(relative)).read(), undefined=jinja2.StrictUndefined).render(
        managed="Managed by louieops (test)", **variables
    )


# --- health check ---------------------------------------------------------------------------------------

HEALTH_CONFIG = server_scripts.health_config(default_settings())
THRESHOLDS = HEALTH_CONFIG["thresholds"]


@pytest.mark.parametrize(
    "kpi,value,level",
    [
        ("disk_pct", 79.9, "ok"),
        ("disk_pct", 85, "warning"),
        ("disk_pct", 90.1, "critical"),
        ("api_p50_ms", 150, "ok"),
        ("api_p50_ms", 600, "warning"),
        ("api_p50_ms", 1500, "critical"),
        ("cert_expiry_days", 60, "ok"),
        ("cert_expiry_days", 10, "warning"),
        ("cert_expiry_days", 3, "critical"),
    ],
)
def test_classify_against_the_kpi_table(health, kpi, value, level):
    assert health.classify(HEALTH_CONFIG, kpi, value) == level


def test_memory_used_pct_uses_mem_available(common):
    assert common.memory_used_pct(common.meminfo("MemTotal: 1000 kB\nMemFree: 100 kB\nMemAvailable: 250 kB\n")) == 75.0


class _Health(BaseHTTPRequestHandler):
    body = b'{"status":"healthy"}'

    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


def test_curl_health_reads_status_and_time(common):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        ok, detail, seconds = common.curl_health(f"http://127.0.0.1:{server.server_address[1]}/health")
        assert ok and detail == "healthy" and seconds >= 0
    finally:
        server.shutdown()
        server.server_close()


class _Metrics(BaseHTTPRequestHandler):
    """The reference app's /admin/metrics/system behind its bearer token."""

    token, connections = "admin-token", 1200

    def do_GET(self):  # noqa: N802
        allowed = self.headers.get("Authorization") == f"Bearer {self.token}"
        payload = {"success": True, "data": {"websocketConnections": self.connections}}
        body = json.dumps(payload if allowed else {"error": "unauthorized"}).encode()
        self.send_response(200 if allowed else 401)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("count, level", [(999, "ok"), (1200, "warning"), (6000, "critical")])
def test_websocket_connections_are_read_with_the_admin_token_and_classified(health, tmp_path, count, level):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Metrics)
    server.RequestHandlerClass.connections = count
    threading.Thread(target=server.serve_forever, daemon=True).start()
    secrets = tmp_path / "health-secrets.json"
    secrets.write_text(json.dumps({"admin_token": _Metrics.token}))
    config = {
        **HEALTH_CONFIG,
        "websocket": {
            "url": f"http://127.0.0.1:{server.server_address[1]}/admin/metrics/system",
            "secrets": str(secrets),
        },
    }
    try:
        [found] = health.check_websockets(config)
        assert (found["key"], found["level"], found["value"]) == ("websocket_connections", level, count)
        secrets.write_text(json.dumps({"admin_token": "wrong"}))
        with pytest.raises(OSError, match="401"):  # a refused token: the check could not run (P3)
            health.check_websockets(config)
    finally:
        server.shutdown()
        server.server_close()
    assert health.check_websockets(config) == []  # the app does not answer: the api check says so, not this one
    assert health.check_websockets({**config, "websocket": None}) == []


def test_the_websocket_check_reads_the_app_port_and_the_kpi_table():
    assert HEALTH_CONFIG["websocket"] == {
        "url": "http://127.0.0.1:3000/admin/metrics/system",
        "secrets": "/etc/louieops/health-secrets.json",
    }
    assert THRESHOLDS["websocket_connections"] == {"target": None, "warning": 1000, "critical": 5000}
    no_path = server_scripts.health_config(default_settings().replace(health_websocket_metrics_path=None))
    assert no_path["websocket"] is None


def test_curl_health_reports_a_refused_connection(common):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ok, detail, _ = common.curl_health(f"http://127.0.0.1:{port}/health", timeout=3)
    assert not ok and ("refused" in detail.lower() or "connect" in detail.lower())


def test_alert_commands_carry_a_key_per_check(health, tmp_path):
    calls = tmp_path / "calls"
    fake = tmp_path / "send-alert"
    fake.write_text(f'#!/bin/sh\necho "$@" >> {calls}\n')
    fake.chmod(0o755)
    config = {"send_alert": str(fake), "tiers": _defaults()["health_tiers"]}
    health.alert(config, health.finding("disk_pct", "disk_pct:/", "warning", "disk / 85% used"))
    health.alert(config, health.finding("api", "api", "ok", "API healthy"))
    health.alert(config, health.finding("cert_expiry_days", "cert_expiry_days:x", "unknown", "?"))
    assert calls.read_text().splitlines() == [
        "--key health:disk_pct:/ P3 WARNING: disk / 85% used",
        "--resolve --key health:api P4 recovered: API healthy",
        "--key health:cert_expiry_days:x P3 UNKNOWN: ?",
    ]


def _health_config(tmp_path, send_alert):
    path = tmp_path / "health.json"
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "send_alert": send_alert,
                "tiers": _defaults()["health_tiers"],
                "thresholds": THRESHOLDS,
                "lower_is_worse": HEALTH_CONFIG["lower_is_worse"],
                "last_result": str(state / "last.json"),
            }
        )
    )
    return path


def test_a_check_that_cannot_run_alerts_p3_and_recovers(health, tmp_path, monkeypatch):
    send_alert, calls = send_alert_recorder(tmp_path)
    monkeypatch.setattr(health, "CONFIG", str(_health_config(tmp_path, send_alert)))
    broken = {"yes": True}

    def check_disks(config):
        if broken["yes"]:
            raise PermissionError("statvfs denied")
        return [health.finding("disk_pct", "disk_pct:/", "ok", "disk / 10% used", 10)]

    def check_cpu(config):
        return [health.finding("cpu_pct", "cpu_pct", "ok", "CPU 1%", 1)]

    monkeypatch.setattr(health, "CHECKS", (("disk_pct", check_disks), ("cpu_pct", check_cpu)))
    assert health.main([]) == 3
    assert calls() == [
        "--key health:disk_pct P3 UNKNOWN: disk_pct check could not run: PermissionError: statvfs denied",
        "--resolve --key health:cpu_pct P4 recovered: CPU 1%",
        "--resolve --key health:self P4 recovered: health-check runs again",
    ]
    assert json.loads((tmp_path / "state" / "last.json").read_text())["worst"] == "unknown"
    broken["yes"] = False
    assert health.main([]) == 0
    assert calls()[3:] == [
        "--resolve --key health:disk_pct:/ P4 recovered: disk / 10% used",
        "--resolve --key health:cpu_pct P4 recovered: CPU 1%",
        "--resolve --key health:disk_pct P4 recovered: the disk_pct check runs again",
        "--resolve --key health:self P4 recovered: health-check runs again",
    ]


def test_a_broken_config_sends_one_p2_and_the_next_good_run_resolves_it(health, tmp_path, monkeypatch):
    send_alert, calls = send_alert_recorder(tmp_path)
    config = tmp_path / "health.json"
    config.write_text("{not json")
    monkeypatch.setattr(health, "CONFIG", str(config))
    monkeypatch.setattr(health, "FALLBACK_SEND_ALERT", send_alert)
    monkeypatch.setattr(health, "CHECKS", ())
    assert health.main([]) == 3
    assert len(calls()) == 1
    assert calls()[0].startswith("--key health:self P2 health-check itself failed: JSONDecodeError")
    _health_config(tmp_path, send_alert)
    assert health.main([]) == 0
    assert calls()[1:] == ["--resolve --key health:self P4 recovered: health-check runs again"]


def test_a_missing_curl_is_a_failure_of_the_health_check_itself(health, tmp_path, monkeypatch):
    send_alert, calls = send_alert_recorder(tmp_path)
    monkeypatch.setattr(health, "CONFIG", str(_health_config(tmp_path, send_alert)))
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert health.main([]) == 3
    assert calls() == ["--key health:self P2 health-check itself failed: RuntimeError: curl is not installed"]
    assert health.main(["--no-alert"]) == 3
    assert len(calls()) == 1


# --- maintenance ----------------------------------------------------------------------------------------


def test_new_lines_follow_appends_and_rotation(common, tmp_path):
    log = tmp_path / "out.log"
    log.write_text("a\nb\n")
    offsets = {}
    assert common.new_lines(str(log), offsets) == ["a", "b"]
    with open(log, "a") as fh:
        fh.write("c\n")
    assert common.new_lines(str(log), offsets) == ["c"]
    log.unlink()
    log.write_text("d\n")  # rotated: new inode, starts over
    assert common.new_lines(str(log), offsets) == ["d"]


def test_daily_summary_reports_backup_ages_from_the_status_files(maintenance, tmp_path):
    send_alert, calls = send_alert_recorder(tmp_path)
    status_dir, logs, state = tmp_path / "backup-status", tmp_path / "logs", tmp_path / "state"
    for d in (status_dir, logs, state):
        d.mkdir()
    now = time.time()
    (status_dir / "db.json").write_text(
        json.dumps(
            {"kind": "db", "time": now - 2 * 3600, "file": "louie_db_x.dump.zst", "size": 10, "sha256": "0" * 64}
        )
    )
    (status_dir / "logs.json").write_text("{broken")
    (logs / "app-err.log").write_text("boom\n")
    (logs / "out.log").write_text("Rate limit exceeded (the app's own words: not what nginx rejected)\n")
    nginx_error_log = tmp_path / "nginx-error.log"
    rejection = (
        '2026/11/30 19:07:34 [error] 12#12: *5 limiting requests, excess: 20.040 by zone "api", client: 192.0.2.7, '
        'server: api.example.com, request: "GET /api/x HTTP/1.1", host: "api.example.com"\n'
    )
    nginx_error_log.write_text(rejection * 2 + "2026/11/30 19:07:35 [error] 12#12: *6 open() failed\n")
    config = {
        "send_alert": send_alert,
        "state_dir": str(state),
        "app_log_dir": str(logs),
        "backup_dir": str(tmp_path / "unreadable"),
        "backup_status_dir": str(status_dir),
        "backup_kinds": ["db", "uploads", "logs"],
        "alert_state": str(tmp_path / "none.json"),
        "health_state": str(tmp_path / "none.json"),
        "nginx_error_log": str(nginx_error_log),
    }
    assert maintenance.daily_summary(config) == 0
    (message,) = calls()
    assert message.startswith("--report P4 Daily summary ")
    assert "app error-log lines 1," in message
    assert "rate-limit hits 2;" in message  # counted in nginx's error log, where nginx records its 429s
    assert (
        "backup: db 2.0 h old (louie_db_x.dump.zst), uploads none yet, "
        f"logs unknown ({status_dir}/logs.json: JSONDecodeError);"
    ) in message


def test_status_shows_the_last_backup_of_each_kind(tmp_path, capsys):
    status = _script("scripts/status")
    (tmp_path / "db.json").write_text(
        json.dumps(
            {"kind": "db", "time": time.time() - 90 * 60, "file": "louie_db_x.dump.zst", "size": 3 * 1024 * 1024}
        )
    )
    (tmp_path / "uploads.json").write_text(
        json.dumps(
            {"kind": "uploads", "time": time.time() - 3 * 86400, "file": "louie_uploads_x.tar.zst", "size": 2048}
        )
    )
    (tmp_path / "logs.json").write_text("{broken")
    assert status.backup(
        {"backup_status_dir": str(tmp_path), "backup_kinds": ["db", "uploads", "logs"]}
    ).splitlines() == [
        "db: louie_db_x.dump.zst, 1.5h ago, 3.0 MB",
        "uploads: louie_uploads_x.tar.zst, 3.0d ago, 2.0 KB",
        f"logs: unreadable status {tmp_path}/logs.json",
    ]


def test_parse_audit_counts_by_severity(maintenance):
    output = json.dumps({"metadata": {"vulnerabilities": {"critical": 1, "high": 2, "moderate": 0, "low": 3}}})
    assert maintenance.parse_audit(output) == {"critical": 1, "high": 2, "moderate": 0, "low": 3, "info": 0}


def test_logrotate_coverage(maintenance, tmp_path):
    conf = tmp_path / "app"
    conf.write_text("/var/log/simplylouie/*.log {\n daily\n}\n")
    assert maintenance.logrotate_covers("/var/log/simplylouie", [str(conf)]) == str(conf)
    assert maintenance.logrotate_covers("/var/log/other", [str(conf)]) is None


def test_unknown_job_is_a_usage_error():
    result = subprocess.run([sys.executable, file("scripts/louieops-maintenance"), "nope"], capture_output=True)
    assert result.returncode == 2


# --- templates and settings -----------------------------------------------------------------------------


def test_rsyslog_forwarding_checks_certificate_and_name():
    conf = _render(
        "rsyslog/60-louieops-papertrail.conf.j2",
        papertrail_host="logs5.papertrailapp.com",
        papertrail_port=12345,
        papertrail_ca_file="/etc/ssl/certs/ca-certificates.crt",
        permitted_peer="*.papertrailapp.com",
        papertrail_queue_max_disk="1g",
        queue_name=server_scripts.RSYSLOG_QUEUE,
        app_log_dir="/var/log/simplylouie",
        app_name="simplylouie",
        nginx_access_log="/var/log/nginx/access.log",
    )
    for directive in (
        'StreamDriverMode="1"',
        'StreamDriverAuthMode="x509/name"',
        'StreamDriverPermittedPeers="*.papertrailapp.com"',
        'Target="logs5.papertrailapp.com"',
        'Port="12345"',
        'queue.filename="louieops_papertrail"',
        'queue.saveOnShutdown="on"',
        'File="/var/log/simplylouie/*.log"',
        'File="/var/log/nginx/access.log" Tag="nginx:"',
    ):
        assert directive in conf
    assert "anon" not in conf


def test_remote_syslog2_config_is_tls():
    rendered = _render(
        "remote_syslog2/log_files.yml.j2",
        app_log_dir="/var/log/simplylouie",
        app_name="simplylouie",
        nginx_access_log="/var/log/nginx/access.log",
        papertrail_host="logs5.papertrailapp.com",
        papertrail_port=12345,
    )
    config = yaml.safe_load(rendered)
    assert config["destination"] == {"host": "logs5.papertrailapp.com", "port": 12345, "protocol": "tls"}
    assert config["files"] == [
        {"path": "/var/log/simplylouie/*.log", "tag": "simplylouie"},
        {"path": "/var/log/nginx/access.log", "tag": "nginx"},
    ]


def test_cron_files_are_deterministic_and_list_each_job_once():
    from tasks.maintenance import jobs

    settings = validate(_defaults())
    rendered = [
        _render(
            "maintenance/louieops-maintenance.j2",
            jobs=jobs(settings),
            health_user="louie-monitor",
            state_dir="/var/lib/louieops/maintenance",
            script="/opt/scripts/louieops-maintenance",
        )
        for _ in range(2)
    ]
    assert rendered[0] == rendered[1]
    lines = [line for line in rendered[0].splitlines() if line and not line.startswith(("#", "SHELL", "PATH"))]
    assert len(lines) == 8 and len({line.split()[10] for line in lines}) == 8
    assert all(line.split()[5] == "louie-monitor" for line in lines)


def test_script_configs_are_json_with_the_managed_header_first():
    settings = default_settings()
    for build in (
        server_scripts.alerts_config,
        server_scripts.health_config,
        server_scripts.maintenance_config,
        server_scripts.status_config,
    ):
        config = json.loads(server_scripts.render(build(settings)))
        assert next(iter(config)) == "_managed" and "louieops/server_scripts.py" in config["_managed"]


def test_remote_syslog2_needs_a_checksum_when_chosen():
    data = {**_defaults(), "papertrail_method": "remote_syslog2", "papertrail_port": 12345}
    with pytest.raises(SettingsError, match="remote_syslog2_sha256"):
        validate(data)
    validate({**data, "remote_syslog2_sha256": "0" * 64})


def test_health_tiers_must_cover_every_check():
    data = _defaults()
    tiers = dict(data["health_tiers"])
    del tiers["disk_pct"]
    with pytest.raises(SettingsError, match="health_tiers"):
        validate({**data, "health_tiers": tiers})


def test_alert_secrets_require_the_webhooks_routes_use(monkeypatch):
    from louieops.secrets import MissingSecret
    from tasks.alerts import alert_secrets

    settings = validate(_defaults())
    for name in ("SLACK_WEBHOOK_CRITICAL", "SLACK_WEBHOOK_HIGH", "SLACK_WEBHOOK_GENERAL", "TWILIO_ACCOUNT_SID"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(MissingSecret, match="SLACK_WEBHOOK_CRITICAL"):
        alert_secrets(settings)
    monkeypatch.setenv("SLACK_WEBHOOK_CRITICAL", "https://hooks.example.test/c")
    monkeypatch.setenv("SLACK_WEBHOOK_HIGH", "https://hooks.example.test/h")
    monkeypatch.setenv("SLACK_WEBHOOK_GENERAL", "https://hooks.example.test/g")
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC1")
    assert alert_secrets(settings) == {
        "slack": {
            "alerts-critical": "https://hooks.example.test/c",
            "alerts-general": "https://hooks.example.test/g",
            "alerts-high": "https://hooks.example.test/h",
        },
        "twilio": {"twilio_account_sid": "AC1"},
    }


def test_parse_audit_refuses_an_error_answer_instead_of_calling_it_clean(maintenance):
    output = json.dumps({"error": {"code": "ENOTFOUND", "summary": "request to the registry failed"}})
    with pytest.raises(ValueError, match="npm audit gave no result"):
        maintenance.parse_audit(output)


# --- npm audit of the live release ----------------------------------------------------------------------

# `npm audit --json --omit=dev` (npm 9) of a release that pins minimist 1.2.5, against the advisory of
# tests/standins/npm_audit.py (shortened to what the job reads), and of the reference app as it is.
VULNERABLE_AUDIT = {
    "auditReportVersion": 2,
    "vulnerabilities": {
        "minimist": {
            "name": "minimist",
            "severity": "critical",
            "isDirect": True,
            "via": [{"source": 1179, "name": "minimist", "title": "Prototype Pollution in minimist"}],
            "range": "1.0.0 - 1.2.5",
            "nodes": ["node_modules/minimist"],
            "fixAvailable": True,
        }
    },
    "metadata": {"vulnerabilities": {"info": 0, "low": 0, "moderate": 0, "high": 0, "critical": 1, "total": 1}},
}
CLEAN_AUDIT = {
    "auditReportVersion": 2,
    "vulnerabilities": {},
    "metadata": {"vulnerabilities": {"info": 0, "low": 0, "moderate": 0, "high": 0, "critical": 0, "total": 0}},
}


def _npm_audit_job(tmp_path, monkeypatch, answer: dict, status: int):
    """The job's config, with a fake npm on PATH that prints ``answer`` and notes the registry it was given."""
    release = tmp_path / "release"
    release.mkdir(exist_ok=True)
    (release / "package-lock.json").write_text("{}")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (tmp_path / "answer.json").write_text(json.dumps(answer))
    npm = bin_dir / "npm"
    npm.write_text(
        f'#!/bin/sh\necho "$npm_config_registry $*" > {tmp_path}/npm-args\ncat {tmp_path}/answer.json\nexit {status}\n'
    )
    npm.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    send_alert, calls = send_alert_recorder(tmp_path)
    config = {"app_root": str(release), "home": str(tmp_path), "send_alert": send_alert}
    return {**config, "npm_audit_registry": "http://10.231.9.1:9303"}, calls


def test_npm_audit_fails_on_a_vulnerable_release_naming_the_package(maintenance, tmp_path, monkeypatch):
    config, calls = _npm_audit_job(tmp_path, monkeypatch, VULNERABLE_AUDIT, 1)
    assert maintenance.npm_audit(config) == maintenance.AUDIT_FAILED
    assert (tmp_path / "npm-args").read_text().split() == ["http://10.231.9.1:9303", "audit", "--json", "--omit=dev"]
    assert calls()[-1] == (
        f"--key maintenance:npm-audit P2 npm audit of {config['app_root']}: 1 critical, 0 high, 0 moderate, 0 low, "
        "0 info: minimist (critical)"
    )


def test_npm_audit_passes_on_a_clean_release_and_resolves(maintenance, tmp_path, monkeypatch):
    config, calls = _npm_audit_job(tmp_path, monkeypatch, CLEAN_AUDIT, 0)
    assert maintenance.npm_audit(config) == 0
    assert calls()[-2].startswith("--key maintenance:npm-audit --resolve P3 npm audit of ")
    assert calls()[-1].startswith("--report P4 Weekly npm audit of ") and "0 critical, 0 high" in calls()[-1]


def test_npm_audit_without_a_lock_file_or_an_answer_could_not_run(maintenance, tmp_path, monkeypatch):
    config, calls = _npm_audit_job(tmp_path, monkeypatch, {"error": {"code": "E405", "summary": "405"}}, 1)
    assert maintenance.npm_audit(config) == maintenance.AUDIT_COULD_NOT_RUN
    assert calls()[-1].startswith("--key maintenance:npm-audit-run P3 npm audit of ") and "no result" in calls()[-1]
    (tmp_path / "release" / "package-lock.json").unlink()
    assert maintenance.npm_audit(config) == maintenance.AUDIT_COULD_NOT_RUN
    assert "no package-lock.json" in calls()[-1]


def test_status_shows_undelivered_alerts_first_and_in_red_on_a_terminal(tmp_path, monkeypatch):
    status = _script("scripts/status")
    now = time.time()
    state = {
        "health:api": {"tier": "P1", "message": "API down", "first": now, "last_sent": now, "repeats": 2,
                       "acked": {"time": now, "by": "alice"}, "explicit": True},
        "db": {"tier": "P2", "message": "database slow", "first": now, "last_sent": None, "pending": "alert",
               "attempts": 3, "explicit": True},
    }  # fmt: skip
    (tmp_path / "state.json").write_text(json.dumps(state))
    config = {"alert_state": str(tmp_path / "state.json"), "alert_log": str(tmp_path / "alerts.log")}
    lines = status.alerts(config).splitlines()
    assert lines[0] == "open: 2, NOT DELIVERED: 1 (`send-alert tick` retries every minute)"
    assert lines[1].startswith("  P2 db since ") and lines[1].endswith(
        "<- alert NOT DELIVERED (3 tries: no channel took it)"
    )
    assert "P1 health:api" in lines[2] and "repeated 2x, acknowledged by alice" in lines[2]
    monkeypatch.setattr(status.sys.stdout, "isatty", lambda: True)
    assert status.alerts(config).splitlines()[1].startswith("\x1b[1;31m")


def test_status_shows_which_channel_has_not_taken_an_alert_yet(tmp_path):
    status = _script("scripts/status")
    now = time.time()
    state = {
        "disk": {"tier": "P2", "message": "disk 91%", "first": now, "last_sent": now, "pending": None,
                 "explicit": True, "owed": {"email": {"kind": "alert", "attempts": 4, "since": now}}},
        "api": {"tier": "P1", "message": "API down", "first": now, "last_sent": now, "explicit": True,
                "resolved": True, "resolve_message": "API healthy",
                "owed": {"slack:alerts-critical": {"kind": "resolve", "attempts": 1, "since": now}}},
    }  # fmt: skip
    (tmp_path / "state.json").write_text(json.dumps(state))
    config = {"alert_state": str(tmp_path / "state.json"), "alert_log": str(tmp_path / "alerts.log")}
    lines = status.alerts(config).splitlines()
    assert lines[0] == "open: 1, not yet on every channel: 2 (`send-alert tick` retries those channels)"
    assert lines[1] == "  P1 api resolved: API healthy  <- not yet taken by slack:alerts-critical (recovery, 1 tries)"
    assert lines[2].startswith("  P2 disk since ") and lines[2].endswith("<- not yet taken by email (alert, 4 tries)")
