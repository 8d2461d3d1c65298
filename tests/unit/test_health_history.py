"""The health check's KPI history and the System Health page's data (files/scripts/louieops_history.py), and
the page's login line (tasks/nginx.py): what a run appends, what is kept, what the page is given."""

from __future__ import annotations

import base64
import hashlib
import json
import os

import pytest

from louieops import server_scripts
from louieops.resources import file
from tests.unit.helpers import default_settings, load_script

NOW = 1_796_000_000


@pytest.fixture(scope="module")
def history_module():
    return load_script(file("scripts/louieops_history.py"), "louieops_history")


def finding(check, value, key=None):
    return {"check": check, "key": key or check, "level": "ok", "message": "", "value": value}


@pytest.fixture
def config(tmp_path):
    history = server_scripts.history_config(default_settings())
    status = tmp_path / "backup-status"
    status.mkdir()
    (status / "db.json").write_text(json.dumps({"time": NOW - 7200, "size": 4096, "file": "db.dump"}))
    releases = tmp_path / "releases"
    (releases / "20261207T080000Z-abc1234").mkdir(parents=True)
    (releases / "20261207T080000Z-abc1234" / ".louieops-release.json").write_text(
        json.dumps({"commit": "abc1234def5678", "ref": "main", "gate": "passed"})
    )
    os.symlink(releases / "20261207T080000Z-abc1234", tmp_path / "current")
    alerts = tmp_path / "alerts.json"
    alerts.write_text(
        json.dumps(
            {
                "health:disk_pct:/": {
                    "tier": "P3",
                    "message": "WARNING: disk / 81% used",
                    "first": NOW - 60,
                    "kind": "alert",
                },
                "daily": {"tier": "P4", "message": "Daily summary", "first": NOW - 30, "kind": "report"},
                "health:api": {"tier": "P1", "message": "down", "first": NOW - 600, "kind": "alert", "resolved": True},
            }
        )
    )
    history.update(
        path=str(tmp_path / "kpi-history.jsonl"),
        page_data=str(tmp_path / "data.json"),
        alert_state=str(alerts),
        backup_status_dir=str(status),
        releases_dir=str(releases),
        current=str(tmp_path / "current"),
        pitr_status=None,
    )
    return history


def test_a_run_appends_its_kpis_and_the_history_keeps_its_days(history_module, config):
    results = [
        finding("cpu_pct", 12.5),
        finding("memory_pct", 40.0),
        finding("disk_pct", 30.0, "disk_pct:/"),
        finding("disk_pct", 81.0, "disk_pct:/var"),
        finding("api_p50_ms", None),  # not judged: too few requests
        finding("database", None),
        finding("db_query_ms", 1.7),
    ]
    old = {"time": NOW - 8 * 86400, "cpu_pct": 1}
    with open(config["path"], "w") as fh:
        fh.write(json.dumps(old) + "\n")

    line = history_module.record(config, results, None, now=NOW)

    assert line == {
        "time": NOW,
        "api_p50_ms": None,
        "api_p99_ms": None,
        "error_rate_pct": None,
        "cpu_pct": 12.5,
        "memory_pct": 40.0,
        "db_query_ms": 1.7,
        "disk_pct": 81.0,  # the fullest mount
        "db_connections": None,  # no database on this host
        "backup_age_hours": 2.0,
    }
    history_module.record(config, results, None, now=NOW + 300)
    kept = [json.loads(x) for x in open(config["path"])]
    assert [x["time"] for x in kept] == [NOW, NOW + 300]  # older than health_history_days (7) is dropped


def test_the_page_data_has_the_history_levels_open_alerts_release_and_backups(history_module, config):
    history_module.record(config, [finding("cpu_pct", 5.0)], None, now=NOW)
    data = json.loads(open(config["page_data"]).read())
    assert [x["cpu_pct"] for x in data["history"]] == [5.0] and data["generated"] == NOW
    assert data["levels"]["cpu_pct"] == default_settings().kpi_thresholds["cpu_pct"]
    assert "db_connections" not in data["levels"]  # a KPI without levels is plotted without lines
    assert data["alerts"] == [
        {
            "key": "health:disk_pct:/",
            "tier": "P3",
            "message": "WARNING: disk / 81% used",
            "since": NOW - 60,
            "acked": False,
        }
    ]  # not the report, not the resolved one
    assert data["release"] == {"id": "20261207T080000Z-abc1234", "commit": "abc1234def5678", "ref": "main",
                               "gate": "passed", "time": None}  # fmt: skip
    assert data["backups"][0] == {"kind": "db", "time": NOW - 7200, "size": 4096}


def test_no_page_data_where_the_page_is_not_served(history_module, config):
    history_module.record({**config, "page_data": None}, [], None, now=NOW)
    assert not os.path.exists(config["page_data"]) and os.path.exists(config["path"])


def test_the_page_data_goes_only_where_nginx_serves_the_page_over_tls_with_its_password(monkeypatch):
    from louieops import topology
    from louieops.placement import Placement

    assert server_scripts.history_config(default_settings())["page_data"] is None  # no password: no page
    monkeypatch.setenv("LOUIE_HEALTH_PAGE_PASSWORD", "a-long-random-password")
    assert server_scripts.history_config(default_settings())["page_data"] == "/var/lib/louieops/health-page/data.json"
    assert server_scripts.history_config(default_settings(health_page_user=None))["page_data"] is None
    assert server_scripts.history_config(default_settings(certbot_enabled=False))["page_data"] is None
    db_host = Placement(roles=frozenset({topology.DB}), single_server=False)
    assert server_scripts.history_config(default_settings(), db_host)["page_data"] is None


def test_the_login_line_is_ssha_of_the_token_and_the_same_on_every_deploy():
    from tasks.nginx import htpasswd_line

    line = htpasswd_line("admin", "s3cret-token")
    assert line == htpasswd_line("admin", "s3cret-token") and line.endswith("\n")
    user, _, hashed = line.strip().partition(":")
    assert user == "admin" and hashed.startswith("{SSHA}")
    raw = base64.b64decode(hashed[len("{SSHA}") :])
    digest, salt = raw[:20], raw[20:]
    assert len(salt) == 8 and digest == hashlib.sha1(b"s3cret-token" + salt).digest()  # what nginx computes
    assert htpasswd_line("admin", "another") != line


def test_a_line_cut_short_is_left_out_not_fatal(history_module, config):
    with open(config["path"], "w") as fh:
        fh.write(json.dumps({"time": NOW - 60, "cpu_pct": 3}) + '\n{"time": 17960\n[1, 2]\n')
    history_module.record(config, [finding("cpu_pct", 4.0)], None, now=NOW)
    assert [json.loads(x)["cpu_pct"] for x in open(config["path"])] == [3, 4.0]
