"""tasks/release.py decides at plan time whether a new release is needed: the same commit again plans
nothing; another commit, a failed live release, no release yet or the in-place layout plan `louie-release
deploy` of exactly the commit the ref names."""

from __future__ import annotations

import pytest
from pyinfra.api.exceptions import DeployError
from pyinfra.facts.server import Which

from louieops.facts.pm2 import Pm2Apps
from louieops.facts.release import AppReleases, GitRemoteCommit
from tasks import release
from tests.unit.helpers import fact_key
from tests.unit.planning import plan

URL = "git://10.231.0.1:9418/app.git"
SHA_A, SHA_B = "a" * 40, "b" * 40
DEPLOY = "Deploy {} as a new release, behind the health gate"
RELOAD = "Reload pm2 app simplylouie-api for its new settings, behind the health gate"
ONLINE = {fact_key(Pm2Apps, {"pm2_home": "/home/simplylouie/.pm2"}): {"simplylouie-api": {"status": "online"}}}


@pytest.fixture(autouse=True)
def secrets(monkeypatch):
    monkeypatch.setenv("LOUIE_DB_PASSWORD", "pencil")
    monkeypatch.setenv("LOUIE_ADMIN_TOKEN", "token")


def releases(live_commit=None, gate="passed", legacy=False):
    if live_commit is None:
        state = {"live": None, "releases": {}, "legacy": legacy}
    else:
        live = f"20261130T120000Z-{live_commit[:7]}"
        state = {"live": live, "releases": {live: {"id": live, "commit": live_commit, "gate": gate}}, "legacy": legacy}
    return {fact_key(AppReleases, {"app_root": "/var/www/simplylouie"}): state}


def git(commit, installed=True):
    return {
        fact_key(GitRemoteCommit, {"url": URL, "ref": "main"}): commit,
        fact_key(Which, {"command": "git"}): "/usr/bin/git" if installed else None,
    }


def planned_git(facts):
    return plan(release.deploy_app, {**ONLINE, **facts}, app_git_url=URL, app_dir="backend")


def test_the_same_commit_again_plans_no_release():
    planned = planned_git({**git(SHA_A), **releases(SHA_A)})
    assert not any(name.startswith("Deploy ") for name in planned.operations)
    assert RELOAD in planned.operations  # only when the ecosystem or the secrets change (decided when it runs)


def test_a_new_commit_plans_a_release_of_exactly_that_commit():
    planned = planned_git({**git(SHA_B), **releases(SHA_A)})
    (command,) = planned.commands[DEPLOY.format(f"{URL} at main")]
    assert command == f"/usr/local/bin/louie-release deploy --ref main --commit {SHA_B}"
    assert RELOAD not in planned.operations  # the release reloads pm2 itself


@pytest.mark.parametrize("state", [releases(None), releases(SHA_A, gate="failed"), releases(None, legacy=True)])
def test_no_release_a_failed_one_or_the_in_place_layout_plan_a_release(state):
    planned = planned_git({**git(SHA_A), **state})
    assert DEPLOY.format(f"{URL} at main") in planned.operations
    # the in-place code goes once a release is live (the operation is reached only after the release)
    assert planned.operations.index("Remove the in-place app /var/www/simplylouie/app") > planned.operations.index(
        DEPLOY.format(f"{URL} at main")
    )


def test_before_git_is_installed_the_commit_is_resolved_when_the_release_runs():
    planned = planned_git({**git(None, installed=False), **releases(None)})
    (command,) = planned.commands[DEPLOY.format(f"{URL} at main")]
    assert command == "/usr/local/bin/louie-release deploy --ref main"


def test_a_ref_the_remote_does_not_have_stops_the_plan_with_the_fix():
    with pytest.raises(DeployError, match="app_git_ref 'main' is not a branch or tag of git://"):
        planned_git({**git(None), **releases(SHA_A)})


def test_the_reference_app_is_released_from_its_uploaded_files_under_a_content_id():
    commit = release.reference_commit()
    fresh = plan(release.deploy_app, {**ONLINE, **releases(None)})
    (command,) = fresh.commands[DEPLOY.format("the reference app (files/app)")]
    assert command == (
        f"/usr/local/bin/louie-release deploy --ref reference-app --commit {commit} "
        "--source /var/www/simplylouie/source"
    )
    assert "Upload /var/www/simplylouie/source/server.js" in fresh.operations
    same = plan(release.deploy_app, {**ONLINE, **releases(commit)})
    assert not any(name.startswith("Deploy ") for name in same.operations)


def test_the_reference_apps_id_changes_with_its_files(tmp_path, monkeypatch):
    (tmp_path / "server.js").write_text("one")
    monkeypatch.setattr(release, "REFERENCE_APP", tmp_path)
    first = release.reference_commit()
    (tmp_path / "server.js").write_text("two")
    assert release.reference_commit() != first and len(first) == 40


def test_the_remote_commit_of_a_branch_a_tag_or_a_commit():
    from louieops.facts.release import GitRemoteCommit, pick_commit

    command = GitRemoteCommit().command(url=URL, ref="v1.2").get_raw_value()
    assert command.endswith(f"ls-remote -- {URL} v1.2 'v1.2^{{}}'")  # the peeled line is listed only when asked
    tag, commit = "1" * 40, "2" * 40
    assert pick_commit(["#ref:v1.2", f"{tag}\trefs/tags/v1.2", f"{commit}\trefs/tags/v1.2^{{}}"]) == commit
    assert pick_commit(["#ref:main", f"{SHA_A}\trefs/heads/feature/main", f"{SHA_B}\trefs/heads/main"]) == SHA_B
    assert pick_commit(["#ref:main"]) is None
    assert pick_commit([SHA_A]) == SHA_A
