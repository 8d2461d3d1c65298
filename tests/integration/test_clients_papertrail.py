"""Papertrail's saved searches as code, against the stand-in (tests/standins/papertrail.py): plan, create, adopt,
no duplicate when a create gets no clear answer, drift reported (the API documents no update), a refused
token as one readable error. The stand-in and the client share a fake clock: the settle waits take no time."""

from __future__ import annotations

import pytest

from louieops.clients import papertrail
from louieops.clients.http import ApiError
from louieops.clients.plan import PlanError, Settle
from tests.standins.fixtures import FakeClock, project_settings, run
from tests.standins.papertrail import Papertrail

SEARCHES = project_settings().papertrail_saved_searches


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def standin(clock):
    with Papertrail(clock=clock) as server:
        yield server


def reconciler(standin, clock, token=Papertrail.TOKEN, read_timeout=2.0, settle_minutes=10):
    from tasks import saas

    client = papertrail.make_client(
        f"{standin.url}/api/v1", token, clock=clock, sleep=clock.sleep, timeout=(2.0, read_timeout)
    )
    settings = project_settings()
    return papertrail.Reconciler(client, saas.papertrail_searches(settings), settle=Settle(settle_minutes * 60))


def names(standin):
    return [s["name"] for s in standin.searches]


def test_the_seeds_searches_are_created_once_then_nothing_changes(standin, clock):
    plan = run(reconciler(standin, clock))
    assert [a.describe() for a in plan.actions] == [f"create Papertrail saved search {s['name']!r}" for s in SEARCHES]
    assert [(s["name"], s["query"]) for s in standin.searches] == [(s["name"], s["query"]) for s in SEARCHES]
    again = run(reconciler(standin, clock))
    assert not again and len(again.unchanged) == 4 and again.notes == []
    assert standin.counts()["POST /api/v1/searches.json"] == 4


def test_a_search_made_by_hand_is_adopted_and_a_different_query_is_reported(standin, clock):
    standin.searches.append({"id": 17, "name": "Login failed", "query": '"Login failed"', "group_id": 31})
    standin.searches.append({"id": 18, "name": "5xx", "query": "status=500", "group_id": 31})
    plan = run(reconciler(standin, clock))
    assert [a.name for a in plan.actions] == ["Slow requests", "ECONNREFUSED"]
    assert names(standin).count("Login failed") == 1 and names(standin).count("5xx") == 1
    [note] = plan.notes
    assert "'5xx' (id 18) searches 'status=500', the settings say 'http_5xx'" in note
    assert "cannot change a saved search" in note


def test_two_searches_of_one_name_manage_the_oldest_and_leave_the_other(standin, clock):
    for search_id in (40, 12):
        standin.searches.append({"id": search_id, "name": "ECONNREFUSED", "query": "ECONNREFUSED", "group_id": 31})
    plan = run(reconciler(standin, clock))
    assert any(
        "2 Papertrail saved searches are named 'ECONNREFUSED': managing the oldest (id 12)" in n for n in plan.notes
    )
    assert names(standin).count("ECONNREFUSED") == 2  # nothing deleted, nothing added


def test_a_create_stored_but_answered_500_is_adopted_not_sent_again(standin, clock):
    standin.faults.add("store_then_500", method="POST", path="/api/v1/searches.json")
    run(reconciler(standin, clock))
    assert sorted(names(standin)) == sorted(s["name"] for s in SEARCHES)
    assert standin.counts()["POST /api/v1/searches.json"] == 4


def test_a_create_that_shows_up_late_is_waited_for(standin, clock):
    standin.faults.add("stall", method="POST", path="/api/v1/searches.json", delay=0.5, visible_after=40)
    run(reconciler(standin, clock, read_timeout=0.2))
    assert sorted(names(standin)) == sorted(s["name"] for s in SEARCHES)
    assert standin.counts()["POST /api/v1/searches.json"] == 4 and sum(clock.sleeps) >= 40


def test_a_create_that_never_shows_up_stops_the_run_without_a_second_post(standin, clock):
    standin.faults.add("stall", method="POST", path="/api/v1/searches.json", delay=0.5, visible_after=3600)
    with pytest.raises(PlanError, match="Nothing was created twice.*look for a Papertrail saved search named"):
        run(reconciler(standin, clock, read_timeout=0.2, settle_minutes=1))
    assert standin.counts()["POST /api/v1/searches.json"] == 1


def test_the_token_goes_in_papertrails_header_and_a_wrong_one_is_refused(standin, clock):
    with pytest.raises(ApiError, match="HTTP 401"):
        reconciler(standin, clock, token="wrong").plan()
    assert standin.searches == []


def test_the_form_body_of_papertrails_example_is_understood_too(standin):
    import requests

    answer = requests.post(
        f"{standin.url}/api/v1/searches.json",
        data="search[name]=Important+stuff&search[query]=very+important",
        headers={"X-Papertrail-Token": Papertrail.TOKEN, "Content-Type": "application/x-www-form-urlencoded"},
        timeout=5,
    )
    assert answer.status_code == 200 and answer.json()["name"] == "Important stuff"
    missing = requests.post(
        f"{standin.url}/api/v1/searches.json",
        json={"search": {"name": "x"}},
        headers={"X-Papertrail-Token": "test-token"},
    )
    assert missing.status_code == 400 and "required" in missing.json()["message"]


def test_the_deploy_step_plans_creates_and_then_changes_nothing_without_printing_the_token(tmp_path):
    import os
    import re
    import subprocess
    import sys
    from pathlib import Path

    from tests.integration.test_saas_deploy import DEPLOY, REPO

    token = "pt-token-d0-not-print-4242"
    with Papertrail(token=token) as standin:
        (tmp_path / "group_data").symlink_to(REPO / "inventory" / "group_data")
        (tmp_path / "inventory.py").write_text(
            f"hosts = [('@local', {{'papertrail_api_url': '{standin.url}/api/v1'}})]\n"
        )
        (tmp_path / "deploy.py").write_text(DEPLOY)
        env = {k: v for k, v in os.environ.items() if k not in ("UPTIMEROBOT_API_KEY", "SENTRY_AUTH_TOKEN")}
        env.update(PYTHONPATH=str(REPO), PAPERTRAIL_API_TOKEN=token)

        def pyinfra(*args):
            done = subprocess.run(
                [str(Path(sys.executable).with_name("pyinfra")), *args, "inventory.py", "deploy.py"],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            output = done.stdout + done.stderr
            assert done.returncode == 0 and token not in output, output
            return output

        dry = pyinfra("--dry")
        assert len(re.findall(r"will create Papertrail saved search '", dry)) == 4 and standin.searches == []
        applied = pyinfra("-y")
        assert re.search(r"Register the Papertrail saved searches\s+1\s+1\s+-\s+-", applied), applied
        standin.reset_records()
        again = pyinfra("-y")
        assert re.search(r"Register the Papertrail saved searches\s+1\s+-\s+-\s+1", again), again
        assert [f"{r.method} {r.template}" for r in standin.recorded] == ["GET /api/v1/searches.json"]
