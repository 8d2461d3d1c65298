"""`louieops maintenance` against the UptimeRobot stand-in: the window and the announcement it opens and closes,
the order (window before the page goes up, page down before the window closes), the undo when the server refuses,
and bad input refused before anything opens. The server's half runs on a booted server in
tests/e2e/test_maintenance.py; here the pyinfra run is recorded instead (its exit status chosen by the test)."""

from __future__ import annotations

import datetime as dt
import shlex
from pathlib import Path

import pytest

from louieops.cli import main as louieops
from louieops.cli import maintenance, remote
from tests.standins.fixtures import project_settings, run, uptimerobot_reconciler

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def standin(uptimerobot_standin):
    return uptimerobot_standin


@pytest.fixture
def inventory(uptimerobot_inventory):
    return uptimerobot_inventory


@pytest.fixture
def deployed(standin, clock):
    """What the deploy made: the monitors, the recurring window, the status page."""
    run(uptimerobot_reconciler(standin, clock, project_settings(uptimerobot_api_url=standin.url)))
    [page] = standin.psps.values()
    return page


class Server:
    """Stands in for the pyinfra run: records each server command line and what the stand-in held then."""

    def __init__(self, standin):
        self.standin, self.calls, self.status = standin, [], 0

    def __call__(self, line: list[str]) -> int:
        words = shlex.split(" ".join(line[line.index("--") + 1 :]))
        windows = [w for w in self.standin.windows.values() if w["interval"] == "once"]
        self.calls.append((words, windows))
        return self.status


@pytest.fixture
def server(monkeypatch, standin):
    recorder = Server(standin)
    monkeypatch.setattr(remote, "run", recorder)
    return recorder


def once_windows(standin):
    return [w for w in standin.windows.values() if w["interval"] == "once"]


def later(minutes: int) -> dt.datetime:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)).replace(microsecond=0)


def test_on_opens_a_window_over_every_monitor_and_an_announcement_before_the_page_goes_up(
    inventory, standin, deployed, server, capsys
):
    until = later(45)
    argv = ["maintenance", "on", "--inventory", inventory, "--message", "Upgrading the database"]
    assert louieops([*argv, "--until", until.isoformat()]) == 0
    [(words, windows_then)] = server.calls
    assert words == [
        "sudo", "/usr/local/bin/louie-maintenance-mode", "on",
        "--message", "Upgrading the database", "--until", until.isoformat(),
    ]  # fmt: skip
    [window] = windows_then  # open before the server answered 503
    assert window["name"] == "simplylouie maintenance mode"
    assert sorted(window["monitorIds"]) == sorted(int(m) for m in standin.monitors)
    assert 44 <= window["duration"] <= 46
    start = dt.datetime.fromisoformat(f"{window['date']}T{window['time']}+00:00")  # uptimerobot_timezone: UTC
    assert abs((start - dt.datetime.now(dt.UTC)).total_seconds()) < 120
    [shown] = standin.visible_announcements(deployed["id"])
    assert (shown["type"], shown["title"]) == ("Maintenance", "Planned maintenance")
    assert shown["content"].startswith("Upgrading the database Expected back by ")
    assert (
        "maintenance mode on: opened UptimeRobot maintenance window 'simplylouie maintenance mode'"
        in capsys.readouterr().out
    )
    recurring = [w for w in standin.windows.values() if w["interval"] != "once"]
    assert [w["name"] for w in recurring] == ["Monthly maintenance"]  # the deploy's own window is left alone


def test_on_again_moves_the_same_window_and_changes_the_same_announcement(inventory, standin, deployed, server):
    assert louieops(["maintenance", "on", "--inventory", inventory, "--message", "First"]) == 0
    assert louieops(["maintenance", "on", "--inventory", inventory, "--message", "Second"]) == 0
    [window] = once_windows(standin)
    assert window["duration"] == 60  # uptimerobot_maintenance_mode_minutes without --until
    assert [a["content"] for a in standin.visible_announcements(deployed["id"])] == ["Second"]


def test_off_serves_the_sites_first_then_archives_the_announcement_and_deletes_the_window(
    inventory, standin, deployed, server, capsys
):
    assert louieops(["maintenance", "on", "--inventory", inventory, "--message", "Restoring"]) == 0
    [posted] = standin.visible_announcements(deployed["id"])
    assert louieops(["maintenance", "off", "--inventory", inventory]) == 0
    words, windows_then = server.calls[-1]
    assert words[1:] == ["/usr/local/bin/louie-maintenance-mode", "off"] and len(windows_then) == 1
    assert once_windows(standin) == [] and standin.visible_announcements(deployed["id"]) == []
    archived = standin.announcements[posted["id"]]
    assert (archived["status"], archived["content"]) == ("Archived", maintenance.BACK_MESSAGE)
    assert "maintenance mode off: every site is served again" in capsys.readouterr().out


def test_a_server_that_refuses_leaves_no_window_or_announcement_behind(inventory, standin, deployed, server, capsys):
    server.status = 1
    assert louieops(["maintenance", "on", "--inventory", inventory, "--message", "Upgrading"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == (
        "louieops maintenance on: louie-maintenance-mode on failed on the server (its line is above); "
        "undone: announcement withdrawn, window deleted"
    )
    assert once_windows(standin) == [] and standin.visible_announcements(deployed["id"]) == []


def test_off_that_the_server_refuses_keeps_the_window(inventory, standin, deployed, server, capsys):
    assert louieops(["maintenance", "on", "--inventory", inventory, "--message", "Upgrading"]) == 0
    server.status = 1
    assert louieops(["maintenance", "off", "--inventory", inventory]) == 1
    assert "still on" in capsys.readouterr().err
    assert len(once_windows(standin)) == 1 and len(standin.visible_announcements(deployed["id"])) == 1


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--message", "  "], "--message is empty: say what users should read"),
        (["--message", "x", "--until", "soon"], "expected a time such as 2026-12-06T18:00:00+00:00"),
        (["--message", "x", "--until", "2026-12-06T18:00:00"], "has no UTC offset"),
        (["--message", "x", "--until", "2020-01-01T00:00:00+00:00"], "is not in the future"),
        (["--message", "x", "--host", "203.0.113.99"], "has no host '203.0.113.99'"),
    ],
)
def test_bad_input_is_one_line_and_opens_nothing(inventory, standin, deployed, server, capsys, extra, says):
    assert louieops(["maintenance", "on", "--inventory", inventory, *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert says in err and len(err.splitlines()) == 1 and err.startswith("louieops maintenance on: ")
    assert server.calls == [] and once_windows(standin) == [] and standin.visible_announcements(deployed["id"]) == []


def test_a_missing_key_is_named_before_anything_opens(inventory, standin, deployed, server, capsys, monkeypatch):
    monkeypatch.delenv("UPTIMEROBOT_API_KEY")
    assert louieops(["maintenance", "on", "--inventory", inventory, "--message", "x"]) == 2
    assert "UPTIMEROBOT_API_KEY is not set" in capsys.readouterr().err
    assert server.calls == [] and once_windows(standin) == []


def test_without_the_deploys_monitors_it_says_deploy_first(inventory, standin, server, capsys):
    assert louieops(["maintenance", "on", "--inventory", inventory, "--message", "x"]) == 1
    assert "is in the UptimeRobot account: deploy first" in capsys.readouterr().err
    assert server.calls == [] and once_windows(standin) == []


def test_several_servers_put_the_page_up_on_the_lb(tmp_path, standin, deployed, server):
    (tmp_path / "group_data").symlink_to(REPO / "inventory" / "group_data")
    data = {"uptimerobot_api_url": standin.url, "uptimerobot_requests_per_minute": 1000}
    path = tmp_path / "multihost.py"
    path.write_text(f"db = [('10.0.0.4', {data!r})]\napp = [('10.0.0.2', {data!r})]\nlb = [('10.0.0.1', {data!r})]\n")
    line = maintenance.server_command(str(path), None, ["status"])
    assert line[1:4] == ["-y", "--limit", "lb"]


# --- an in-place restore runs in maintenance mode ----------------------------------------------------------


class RestoreFails(Server):
    """The server's louie-restore-db ends with ``status``; every other command works."""

    def __call__(self, line: list[str]) -> int:
        super().__call__(line)
        restoring = "/usr/local/bin/louie-restore-db" in self.calls[-1][0] and "--yes" in self.calls[-1][0]
        return self.status if restoring else 0


def test_an_in_place_restore_runs_between_maintenance_on_and_off(inventory, standin, deployed, server, capsys):
    assert louieops(["restore-db", inventory, "--latest", "--force", "--yes"]) == 0
    commands = [words[1:3] for words, _ in server.calls]
    assert commands == [
        ["/usr/local/bin/louie-restore-db", "--range"],
        ["/usr/local/bin/louie-maintenance-mode", "on"],
        ["/usr/local/bin/louie-restore-db", "--latest"],
        ["/usr/local/bin/louie-maintenance-mode", "off"],
    ]
    assert server.calls[2][0][-2:] == ["--force", "--yes"]
    assert len(server.calls[2][1]) == 1  # the monitors' window was open while the database was restored
    assert once_windows(standin) == []  # and closed after
    assert "maintenance mode off" in capsys.readouterr().out


def test_a_failed_in_place_restore_leaves_maintenance_on_and_says_how_to_end_it(
    inventory, standin, deployed, monkeypatch, capsys
):
    recorder = RestoreFails(standin)
    recorder.status = 1
    monkeypatch.setattr(remote, "run", recorder)
    assert louieops(["restore-db", inventory, "--latest", "--force", "--yes"]) == 1
    assert [words[2] for words, _ in recorder.calls][-1] == "--latest"  # no "off" after it
    assert len(once_windows(standin)) == 1
    assert f"louieops maintenance off --inventory {inventory}" in capsys.readouterr().err


def test_without_the_uptimerobot_key_an_in_place_restore_is_refused_unless_told_to_skip_maintenance(
    inventory, standin, deployed, server, monkeypatch, capsys
):
    monkeypatch.delenv("UPTIMEROBOT_API_KEY")
    assert louieops(["restore-db", inventory, "--latest", "--force", "--yes"]) == 2
    assert "--no-maintenance" in capsys.readouterr().err
    assert [words[2] for words, _ in server.calls] == ["--range"]  # nothing restored
    assert louieops(["restore-db", inventory, "--latest", "--force", "--yes", "--no-maintenance"]) == 0
    assert [words[1] for words, _ in server.calls][-1] == "/usr/local/bin/louie-restore-db"
    # into a new database the live one keeps serving: no maintenance mode either
    assert louieops(["restore-db", inventory, "--latest", "--yes"]) == 0
    assert not any("louie-maintenance-mode" in words[1] for words, _ in server.calls)


def test_a_restore_the_server_refuses_ends_maintenance_mode_again(inventory, standin, deployed, monkeypatch):
    recorder = RestoreFails(standin)
    recorder.status = 2  # e.g. --to outside the recoverable range: nothing changed
    monkeypatch.setattr(remote, "run", recorder)
    assert louieops(["restore-db", inventory, "--to", "2000-01-01 00:00:00+00", "--force", "--yes"]) == 2
    assert [words[1:3] for words, _ in recorder.calls][-1] == ["/usr/local/bin/louie-maintenance-mode", "off"]
    assert once_windows(standin) == []
