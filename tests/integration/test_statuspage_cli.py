"""`louieops statuspage` against the UptimeRobot stand-in: an announcement posted by the command is visible on the
status page the deploy made, an update changes it, resolving archives it; errors are one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from louieops.cli import statuspage
from tests.standins.fixtures import project_settings, run, uptimerobot_reconciler

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def standin(uptimerobot_standin):
    return uptimerobot_standin


@pytest.fixture
def inventory(uptimerobot_inventory):
    return uptimerobot_inventory


@pytest.fixture
def page(standin, clock):
    run(uptimerobot_reconciler(standin, clock, project_settings(uptimerobot_api_url=standin.url)))
    [record] = standin.psps.values()
    return record


def cli(inventory, *args):
    return statuspage.main(["--inventory", inventory, *args])


def test_an_announcement_is_posted_updated_and_resolved(inventory, standin, page, capsys):
    assert cli(inventory, "post", "--title", "Login errors", "--message", "We are looking into it.") == 0
    [shown] = standin.visible_announcements(page["id"])
    assert (shown["title"], shown["content"], shown["type"]) == ("Login errors", "We are looking into it.", "Issue")
    assert f"posted announcement {shown['id']} on status page 'SimplyLouie status'" in capsys.readouterr().out

    assert cli(inventory, "update", "--message", "A fix is being deployed.") == 0
    assert [a["content"] for a in standin.visible_announcements(page["id"])] == ["A fix is being deployed."]

    assert cli(inventory, "resolve", "--message", "Logins work again.") == 0
    assert standin.visible_announcements(page["id"]) == []
    resolved = standin.announcements[shown["id"]]
    assert (resolved["status"], resolved["content"]) == ("Archived", "Logins work again.")
    assert resolved["endDate"]
    assert cli(inventory, "list") == 0
    assert f"{shown['id']}  archived" in capsys.readouterr().out


def test_a_post_whose_answer_is_lost_is_found_not_sent_twice(inventory, standin, page):
    standin.faults.add("store_then_500", method="POST", path="/psps/{pspId}/announcements")
    assert cli(inventory, "post", "--title", "Slow API", "--message", "Investigating.") == 0
    assert len(standin.announcements) == 1


def test_errors_are_one_line_with_the_fix(inventory, standin, capsys, monkeypatch):
    assert cli(inventory, "update", "--message", "x") == 1
    assert capsys.readouterr().err.strip() == (
        "louieops statuspage: no status page named 'SimplyLouie status' in the UptimeRobot account: "
        "run the deploy first"
    )
    monkeypatch.delenv("UPTIMEROBOT_API_KEY")
    assert cli(inventory, "list") == 2
    assert "UPTIMEROBOT_API_KEY is not set" in capsys.readouterr().err


def test_nothing_to_update_says_so(inventory, standin, page, capsys):
    assert cli(inventory, "resolve") == 1
    assert "shows no published announcement: post one first" in capsys.readouterr().err


def test_the_inventory_may_follow_the_action_as_the_runbook_writes_it(inventory, standin, page, capsys):
    assert statuspage.main(["list", "--inventory", inventory]) == 0
    assert statuspage.main(["post", "--inventory", inventory, "--title", "API errors", "--message", "Looking."]) == 0
