"""The Sentry stand-in's releases and their deploys (deploy markers), as Sentry's published OpenAPI document
gives them (getsentry/sentry-api-schema: paths/releases/organization-releases.json, deploys.json; schemas
OrganizationRelease and Deploy):

- ``POST /organizations/{org}/releases/`` needs ``version`` and ``projects`` (400 naming the field otherwise);
  a version that exists answers 208 with the release, as Sentry does for a repeated create (the document lists
  only 201: the least convenient legal reading is that a client must accept both);
- ``POST /organizations/{org}/releases/{version}/deploys/`` needs ``environment``; an unknown version is 404;
- answers carry only the schemas' fields (OrganizationRelease: authors, commitCount, data, dateCreated,
  dateReleased, deployCount, firstEvent, lastCommit, lastDeploy, lastEvent, newGroups, owner, projects, ref,
  shortVersion, version, url; Deploy: environment, name, dateStarted, dateFinished, url, id).
"""

from __future__ import annotations

from .base import Reply

ORG_PATH = "/api/0/organizations/{organization_id_or_slug}"
RELEASE_ROUTES = {
    ("GET", ORG_PATH + "/releases/"): "list_releases",
    ("POST", ORG_PATH + "/releases/"): "create_release",
    ("GET", ORG_PATH + "/releases/{version}/deploys/"): "list_deploys",
    ("POST", ORG_PATH + "/releases/{version}/deploys/"): "create_deploy",
}
NOW = "2026-11-26T12:00:00.000000Z"
PROJECTS = {"simplylouie-api": "SimplyLouie API"}


class ReleasesMixin:
    RELEASES = frozenset(RELEASE_ROUTES.values())

    def init_releases(self) -> None:
        self.releases: dict[str, dict] = {}  # by version
        self.deploys: dict[str, list[dict]] = {}  # by version, oldest first

    def list_releases(self, params, query, body):
        path = f"/api/0/organizations/{params['organization_id_or_slug']}/releases/"
        return self.page(list(reversed(self.releases.values())), query, path)  # newest first

    def create_release(self, params, query, body):
        body = body or {}
        for field in ("version", "projects"):
            if not body.get(field):
                return Reply(400, {field: ["This field is required."]})
        unknown = [p for p in body["projects"] if p not in PROJECTS]
        if unknown:
            return Reply(400, {"projects": [f"Invalid project ids or slugs: {', '.join(unknown)}"]})
        version = str(body["version"])
        if version in self.releases:
            return Reply(208, self.releases[version])
        release = {
            "authors": [],
            "commitCount": 0,
            "data": {},
            "dateCreated": NOW,
            "dateReleased": body.get("dateReleased"),
            "deployCount": 0,
            "firstEvent": None,
            "lastCommit": None,
            "lastDeploy": None,
            "lastEvent": None,
            "newGroups": 0,
            "owner": None,
            "projects": [{"name": PROJECTS[p], "slug": p} for p in body["projects"]],
            "ref": body.get("ref"),
            "shortVersion": version[:12],
            "version": version,
            "url": body.get("url"),
        }
        self.releases[version] = release
        self.deploys[version] = []
        return Reply(201, release)

    def list_deploys(self, params, query, body):
        version = params["version"]
        if version not in self.releases:
            return self._missing()
        return Reply(200, list(reversed(self.deploys[version])))

    def create_deploy(self, params, query, body):
        version = params["version"]
        if version not in self.releases:
            return self._missing()
        body = body or {}
        if not body.get("environment"):
            return Reply(400, {"environment": ["This field is required."]})
        deploy = {
            "environment": body["environment"],
            "name": body.get("name"),
            "url": body.get("url"),
            "dateStarted": body.get("dateStarted"),
            "dateFinished": body.get("dateFinished") or NOW,
            "id": self._id(),
        }
        self.deploys[version].append(deploy)
        release = self.releases[version]
        release["deployCount"] += 1
        release["lastDeploy"] = deploy["dateFinished"]
        return Reply(201, deploy)
