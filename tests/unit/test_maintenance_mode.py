"""louie-maintenance-mode, the server's half of maintenance mode: the snippets it writes, what it refuses and
how it puts things back when nginx refuses a change (the real nginx answers are in tests/e2e/test_maintenance.py)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import pytest

from louieops.resources import FILES

SCRIPT = str(FILES / "scripts" / "louie-maintenance-mode")


def run(directory, *argv, reload="true"):
    env = {**os.environ, "LOUIE_MAINTENANCE_DIR": str(directory), "LOUIE_NGINX_RELOAD": reload}
    return subprocess.run([sys.executable, SCRIPT, *argv], capture_output=True, text=True, env=env, timeout=30)


def later(minutes: int) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)).isoformat(timespec="seconds")


def nginx_body(snippet: str) -> str:
    """The body of the snippet's `return 503 '...'`, as nginx reads the single-quoted string."""
    line = next(line for line in snippet.splitlines() if line.startswith("return 503 "))
    quoted = line[len("return 503 ") : -1]
    assert quoted[0] == quoted[-1] == "'"
    return quoted[1:-1].replace("\\\\", "\\")


def test_on_writes_a_json_and_an_html_503_with_retry_after_and_the_sites_headers(tmp_path):
    done = run(tmp_path, "on", "--message", "Upgrading the database", "--until", later(30))
    assert done.returncode == 0, done.stderr
    assert "maintenance mode on until" in done.stdout
    api, page = (tmp_path / "json.conf").read_text(), (tmp_path / "html.conf").read_text()
    for snippet in (api, page):
        assert "include snippets/louieops-headers.conf;" in snippet
        retry = int(next(x for x in snippet.splitlines() if x.startswith("add_header Retry-After")).split()[2])
        assert 29 * 60 <= retry <= 30 * 60
    assert "default_type application/json;" in api and "default_type text/html;" in page
    body = json.loads(nginx_body(api))
    assert body["status"] == "maintenance" and body["message"] == "Upgrading the database"
    assert dt.datetime.fromisoformat(body["until"]) > dt.datetime.now(dt.UTC)
    assert "<p>Upgrading the database</p>" in nginx_body(page)
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["message"] == "Upgrading the database"
    assert "on since" in run(tmp_path, "status").stdout


def test_a_message_nginx_or_html_would_read_as_code_arrives_as_written(tmp_path):
    message = "Costs $5 'today' \\ <b>bold</b> {a; b}"
    assert run(tmp_path, "on", "--message", message).returncode == 0
    api, page = (tmp_path / "json.conf").read_text(), (tmp_path / "html.conf").read_text()
    for snippet in (api, page):
        body_line = next(line for line in snippet.splitlines() if line.startswith("return 503 "))
        assert "$" not in body_line and body_line.count("'") == 2  # nothing for nginx to expand or end early
    assert json.loads(nginx_body(api))["message"] == message
    assert "&lt;b&gt;bold&lt;/b&gt;" in nginx_body(page) and "<b>" not in nginx_body(page)
    assert "Retry-After 120 " in api  # no end given: look again in two minutes


def test_on_again_keeps_since_and_changes_the_message_and_off_removes_everything(tmp_path):
    run(tmp_path, "on", "--message", "first")
    since = json.loads((tmp_path / "state.json").read_text())["since"]
    run(tmp_path, "on", "--message", "second")
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["since"] == since and state["message"] == "second"
    done = run(tmp_path, "off")
    assert done.returncode == 0 and "maintenance mode off" in done.stdout
    assert list(tmp_path.iterdir()) == []
    assert run(tmp_path, "status").stdout.strip() == "maintenance mode: off"
    assert "it was not on" in run(tmp_path, "off").stdout


def test_a_refused_reload_puts_the_files_back_as_they_were(tmp_path):
    run(tmp_path, "on", "--message", "first")
    before = {p.name: p.read_text() for p in tmp_path.iterdir()}
    refused = run(tmp_path, "on", "--message", "second", reload="echo 'nginx: [emerg] no' >&2; false")
    assert refused.returncode == 1
    assert "nginx refused the maintenance page, nothing changed: nginx: [emerg] no" in refused.stderr
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == before
    still_on = run(tmp_path, "off", reload="false")
    assert still_on.returncode == 1 and "still on" in still_on.stderr
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == before


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["on", "--message", "   "], "--message is empty"),
        (["on", "--message", "x", "--until", "tomorrow"], "expected a time such as"),
        (["on", "--message", "x", "--until", "2026-12-06T18:00:00"], "has no UTC offset"),
        (["on", "--message", "x", "--until", "2020-01-01T00:00:00+00:00"], "is not in the future"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_changes_nothing(tmp_path, argv, says):
    done = run(tmp_path, *argv)
    assert done.returncode == 2 and says in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_a_host_the_deploy_has_not_prepared_is_told_so(tmp_path):
    done = run(tmp_path / "missing", "on", "--message", "x")
    assert done.returncode == 2 and "run the deploy first" in done.stderr
