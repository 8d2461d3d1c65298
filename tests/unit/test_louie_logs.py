"""louie-logs (one host's logs in one stream) and `louieops logs` (every host's, from the controller): the
order, --since, --grep, --lines and --follow on real files in nginx's and pm2's formats, and the input refused
with one line. The journal and a deployed host's files are read in tests/e2e/test_stack.py."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import threading
import time

import pytest

from louieops.cli import logs
from louieops.cli import main as louieops
from louieops.resources import FILES

SCRIPT = str(FILES / "scripts" / "louie-logs")


@pytest.fixture
def host(tmp_path):
    """A host's log files as pm2 (time: true, local time) and nginx write them, and logs.json naming them."""

    def local(seconds_ago):
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(time.time() - seconds_ago))

    def access(seconds_ago, path):
        stamp = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(time.time() - seconds_ago))
        return f'203.0.113.9 - - [{stamp}] "GET {path} HTTP/1.1" 200 5 "-" "curl" api.test 1.0 0.001 200 - -'

    (tmp_path / "out.log").write_text(
        f"{local(7200)}: started old\n{local(30)}: order 17 paid\n{local(10)}: listening\n"
    )
    (tmp_path / "error.log").write_text(f"{local(20)}: Error: boom\n    at handler (server.js:1)\n")
    (tmp_path / "access.log").write_text(access(3600, "/old") + "\n" + access(25, "/api/orders/17") + "\n")
    error_stamp = time.strftime("%Y/%m/%d %H:%M:%S", time.localtime(time.time() - 5))
    (tmp_path / "nginx-error.log").write_text(f"{error_stamp} [error] 12#12: *3 upstream timed out\n")
    config = {
        "files": {
            "app": [str(tmp_path / "out.log"), str(tmp_path / "error.log")],
            "nginx": [str(tmp_path / "access.log"), str(tmp_path / "nginx-error.log")],
        }
    }
    (tmp_path / "logs.json").write_text(json.dumps(config))
    return tmp_path


def louie_logs(host, *argv, **kwargs):
    env = {**os.environ, "LOUIE_LOGS_CONFIG": str(host / "logs.json")}
    return subprocess.run(
        [sys.executable, SCRIPT, "--source", "app", "--source", "nginx", *argv],
        capture_output=True, text=True, env=env, timeout=30, **kwargs,
    )  # fmt: skip


def test_every_source_in_time_order_with_where_it_came_from(host):
    done = louie_logs(host)
    assert done.returncode == 0, done.stderr
    where = [line.split(" ", 1)[0] for line in done.stdout.splitlines()]
    assert where == [
        "app/out", "nginx/access", "app/out", "nginx/access", "app/error", "app/error", "app/out", "nginx/nginx-error",
    ]  # fmt: skip
    assert done.stdout.splitlines()[5] == "app/error     at handler (server.js:1)"  # a trace keeps its line's time


def test_since_grep_and_lines_narrow_it(host):
    recent = louie_logs(host, "--since", "1m").stdout
    assert "started old" not in recent and "/old" not in recent and "order 17 paid" in recent
    assert [line.split(" ", 1)[0] for line in louie_logs(host, "--grep", "orders?.17").stdout.splitlines()] == [
        "app/out", "nginx/access",
    ]  # fmt: skip
    assert louie_logs(host, "--lines", "2").stdout.splitlines()[-1].endswith("upstream timed out")
    assert len(louie_logs(host, "--lines", "2").stdout.splitlines()) == 2
    since = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 60))
    assert louie_logs(host, "--since", since).stdout == recent


def test_follow_prints_new_lines_as_they_are_written(host):
    env = {**os.environ, "LOUIE_LOGS_CONFIG": str(host / "logs.json")}
    argv = [sys.executable, SCRIPT, "--source", "app", "--grep", "checkout", "--follow"]
    written = threading.Event()

    def write_until_read():  # tail -F may start after a first write: write again until the line comes back
        while not written.wait(0.2):
            with open(host / "out.log", "a") as fh:
                fh.write("2026-12-06T19:00:00: ignored line\n2026-12-06T19:00:00: checkout 99\n")

    with subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=env) as process:
        writer = threading.Thread(target=write_until_read, daemon=True)
        writer.start()
        try:
            timer = threading.Timer(20, process.kill)  # a follow that never prints fails instead of hanging
            timer.start()
            seen = process.stdout.readline()
            timer.cancel()
            assert seen == "app/out 2026-12-06T19:00:00: checkout 99\n"
        finally:
            written.set()
            process.terminate()
        assert process.wait(timeout=10) == 0


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--since", "yesterday"], "expected a time such as 2026-12-06T18:00:00+00:00, or 30m, 2h, 1d"),
        (["--since", "2026-12-06T18:00:00"], "has no UTC offset"),
        (["--grep", "order ("], "is not a regular expression"),
        (["--lines", "0"], "at least 1"),
    ],
)
def test_bad_input_is_one_line(host, argv, says):
    done = louie_logs(host, *argv)
    assert done.returncode == 2 and says in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_a_host_without_the_deploys_config_is_told_so(tmp_path):
    done = louie_logs(tmp_path)
    assert done.returncode == 2 and "run the deploy first" in done.stderr


# --- from the controller ----------------------------------------------------------------------------------


@pytest.fixture
def several(tmp_path):
    path = tmp_path / "multihost.py"
    path.write_text("db = ['10.0.0.4']\napp = ['10.0.0.2', '10.0.0.3']\nlb = [('10.0.0.1', {'x': 1})]\n")
    return str(path)


def test_the_controller_runs_louie_logs_on_every_host_of_the_role_with_each_word_quoted(several):
    line = logs.command(several, "app", None, logs.server_arguments(["nginx"], "2h", "order (17|18)", 50, True))
    assert line[1:4] == ["-y", "--limit", "app"]
    words = shlex.split(" ".join(line[line.index("--") + 1 :]))
    assert words == [
        "sudo", "/usr/local/bin/louie-logs", "--source=nginx", "--since=2h", "--grep=order (17|18)",
        "--lines=50", "--follow",
    ]  # fmt: skip
    assert "--limit" not in logs.command(several, None, None, [])
    assert logs.command(several, "app", "10.0.0.1", [])[2:4] == ["--limit", "10.0.0.1"]


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--since", "soon"], "--since 'soon': expected a time such as"),
        (["--grep", "("], "--grep '(' is not a regular expression"),
        (["--host", "10.9.9.9"], "has no host '10.9.9.9' (its hosts: 10.0.0.4, 10.0.0.2, 10.0.0.3, 10.0.0.1)"),
        (["--role", "db_standby"], "has no db_standby group (its roles: app, db, lb)"),
    ],
)
def test_bad_input_on_the_controller_is_one_line_before_anything_connects(several, capsys, extra, says):
    assert louieops(["logs", several, *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert says in err and err.startswith("louieops logs: ") and len(err.splitlines()) == 1
