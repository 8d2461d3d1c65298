"""The parts of louie-release that decide: which releases exist, which one a rollback picks, what is kept,
and the listing an operator reads. (Building, switching and gating run on the test server: tests/e2e.)"""

from __future__ import annotations

import json
import os

import pytest

from louieops.resources import file
from tests.unit.helpers import load_script


@pytest.fixture(scope="module")
def tool():
    return load_script(file("scripts/louie-release"), "louie_release")


def make_release(root, release_id, commit, gate):
    directory = root / "releases" / release_id
    directory.mkdir(parents=True)
    (directory / ".louieops-release.json").write_text(
        json.dumps({"id": release_id, "commit": commit, "ref": "main", "created": "2026-11-30T12:00:00Z", "gate": gate})
    )


@pytest.fixture
def config(tmp_path):
    return {
        "app_root": str(tmp_path),
        "releases_dir": str(tmp_path / "releases"),
        "current": str(tmp_path / "current"),
        "keep_releases": 2,
    }


A, B, C = "20261130T100000Z-aaaaaaa", "20261130T110000Z-bbbbbbb", "20261130T120000Z-ccccccc"


@pytest.fixture
def three(tmp_path, config, tool):
    make_release(tmp_path, A, "a" * 40, "passed")
    make_release(tmp_path, B, "b" * 40, "failed")
    make_release(tmp_path, C, "c" * 40, "passed")
    (tmp_path / "releases" / ".build-20261130T130000Z-ddddddd").mkdir()  # a build a killed deploy left
    (tmp_path / "releases" / "not-a-release").mkdir()
    tool.switch(config, C)
    return config


def test_releases_are_listed_oldest_first_without_unfinished_builds(tool, three):
    assert [r.id for r in tool.releases(three)] == [A, B, C]
    assert tool.live_id(three) == C
    assert os.readlink(three["current"]) == f"releases/{C}"


def test_a_rollback_picks_the_newest_earlier_release_that_passed_its_gate(tool, three):
    assert tool.newest_passed(three, before=C).id == A  # B failed: never chosen
    assert tool.newest_passed(three, before=A) is None
    assert tool.newest_passed(three).id == C


def test_prune_keeps_the_newest_and_the_live_release_and_drops_stale_builds(tool, three, tmp_path):
    tool.switch(three, A)  # rolled back: the live release is the oldest
    tool.prune(three)
    assert sorted(os.listdir(tmp_path / "releases")) == sorted([A, B, C, "not-a-release"])
    tool.switch(three, C)
    tool.prune(three)
    assert sorted(os.listdir(tmp_path / "releases")) == sorted([B, C, "not-a-release"])


def test_the_listing_marks_the_live_release_and_shows_each_gate(tool, three, capsys):
    class Args:
        json = False

    tool.cmd_list(three, Args())
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["RELEASE", "COMMIT", "REF", "CREATED", "GATE"]
    assert lines[1].startswith(f"  {A}") and lines[1].rstrip().endswith("passed")
    assert lines[2].rstrip().endswith("failed") and lines[3].startswith(f"* {C}")


def test_metadata_is_one_json_line_per_release(tool, three, tmp_path):
    release = tool.Release.read(three["releases_dir"], B)
    release.gate, release.detail = "failed", "GET https://api/health: HTTP 500"
    release.write(three["releases_dir"])
    text = (tmp_path / "releases" / B / ".louieops-release.json").read_text()
    assert text.count("\n") == 1 and json.loads(text)["detail"].endswith("HTTP 500")


def test_release_ids_are_utc_time_and_the_short_commit(tool):
    assert tool.RELEASE_ID.fullmatch(tool.new_id("0123456789abcdef" * 2 + "01234567"))
    assert tool.new_id("0123456789" * 4).endswith("-0123456")


def candidate_config(config, port, smoke_paths=()):
    return {
        **config,
        "app_dir": "backend",
        "candidate": {
            "process": "simplylouie-api-candidate",
            "port": port,
            "script": "server.js",
            "env": {"HOST": "10.0.0.5", "PORT": "3000", "NODE_ENV": "production"},
            "smoke_paths": list(smoke_paths),
            "log": "/var/log/simplylouie/candidate.log",
        },
    }


def test_the_candidate_runs_its_own_release_alone_on_the_loopback_candidate_port(tool, three):
    target = tool.Release.read(three["releases_dir"], C)
    app = tool.candidate_process_file(candidate_config(three, 3100), target)["apps"][0]
    assert app["name"] == "simplylouie-api-candidate" and app["cwd"] == f"{three['releases_dir']}/{C}/backend"
    assert app["env"] == {"HOST": "127.0.0.1", "PORT": "3100", "NODE_ENV": "production", "APP_RELEASE": C}
    assert (app["exec_mode"], app["instances"], app["autorestart"]) == ("fork", 1, False)


@pytest.fixture
def app_server():
    """A real HTTP server on loopback standing in for a release: /health and two smoke paths."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    answers = {"/health": (200, {"status": "healthy"}), "/api/ok": (200, {}), "/api/broken": (500, {})}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            status, body = answers.get(self.path, (404, {}))
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], answers
    server.shutdown()


def test_the_candidate_passes_only_when_health_and_every_smoke_path_answer(tool, config, app_server):
    port, answers = app_server
    assert tool.candidate_problem(candidate_config(config, port, ["/api/ok"])) == ""
    assert tool.candidate_problem(candidate_config(config, port, ["/api/ok", "/api/broken"])) == (
        "GET /api/broken on the candidate: HTTP 500"
    )
    answers["/health"] = (200, {"status": "starting"})  # 200 is not enough: it must say healthy
    assert tool.candidate_problem(candidate_config(config, port)) == (
        "GET /health on the candidate: HTTP 200, status 'starting'"
    )


def test_a_candidate_that_does_not_listen_is_named(tool, config):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    problem = tool.candidate_problem(candidate_config(config, port))
    assert problem.startswith("GET /health on the candidate: ") and "refused" in problem.lower()
