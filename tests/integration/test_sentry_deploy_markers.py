"""Deploy markers against the Sentry stand-in over real HTTP on 127.0.0.1: the client creates a release (201,
then 208 for the same version: both are fine) and a deploy to the environment, and what the stand-in answers
has only the fields of Sentry's published schemas (OrganizationRelease, Deploy)."""

from __future__ import annotations

import pytest

from louieops.clients import sentry
from louieops.clients.http import ApiError
from tests.standins.sentry import SentryStandIn

RELEASE = "20261206T120000Z-6ba09a7"  # a louie-release id, the version the app reports errors with
COMMIT = "6ba09a7c53235ee8a8fa5ee4c1ca8ca886e7fdbb"
RELEASE_FIELDS = {
    "authors", "commitCount", "data", "dateCreated", "dateReleased", "deployCount", "firstEvent", "lastCommit",
    "lastDeploy", "lastEvent", "newGroups", "owner", "projects", "ref", "shortVersion", "version", "url",
}  # fmt: skip
DEPLOY_FIELDS = {"environment", "name", "dateStarted", "dateFinished", "url", "id"}


@pytest.fixture
def standin():
    with SentryStandIn() as server:
        yield server


def client(standin, project="simplylouie-api"):
    return sentry.make_client(standin.url, SentryStandIn.TOKEN, "simplylouie", project)


def test_a_release_and_its_deploy_are_recorded_once_per_deploy(standin):
    api = client(standin)
    created = api.create_release(RELEASE, ref=COMMIT)
    again = api.create_release(RELEASE, ref=COMMIT)  # a second host, or a re-run: the same release
    assert set(created) <= RELEASE_FIELDS and created["ref"] == COMMIT and again["version"] == RELEASE
    deploy = api.create_deploy(RELEASE, "production", name="app1")
    assert set(deploy) <= DEPLOY_FIELDS and deploy["environment"] == "production"
    assert list(standin.releases) == [RELEASE] and standin.releases[RELEASE]["deployCount"] == 1
    assert [d["name"] for d in standin.deploys[RELEASE]] == ["app1"]


def test_a_deploy_of_an_unknown_release_or_project_is_an_error_naming_it(standin):
    with pytest.raises(ApiError, match="404"):
        client(standin).create_deploy("f" * 40, "production")
    with pytest.raises(ApiError, match="Invalid project"):
        client(standin, project="another-project").create_release(RELEASE)
