"""Sentry API calls (``{api_url}/api/0/...``): workflows and detectors, cron monitors, and the legacy rule
endpoints.

Lists follow the ``Link`` header (``rel="next"; results="true"; cursor="..."``) to the end, with a loop
guard. Creates answer 201 (legacy issue rules 200/201, or 202 when Sentry looks a Slack channel up in the
background: then the caller lists again instead of trusting the answer); deletes answer 204 (202 legacy).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ..http import ApiError, HttpClient

PER_PAGE = 100
MAX_PAGES = 200


class SentryClient:
    def __init__(self, http: HttpClient, org: str, project: str):
        self.http, self.org, self.project = http, org, project

    # --- current API ------------------------------------------------------------------------------

    def list_workflows(self) -> list[dict]:
        return self._pages(f"/api/0/organizations/{self.org}/workflows/", {"project": self.project})

    def create_workflow(self, body: dict) -> dict:
        return self.http.json("POST", f"/api/0/organizations/{self.org}/workflows/", json_body=body)

    def update_workflow(self, workflow_id: str, body: dict) -> dict:
        return self.http.json("PUT", f"/api/0/organizations/{self.org}/workflows/{workflow_id}/", json_body=body)

    def delete_workflow(self, workflow_id: str) -> None:
        self._delete(f"/api/0/organizations/{self.org}/workflows/{workflow_id}/")

    def list_detectors(self) -> list[dict]:
        return self._pages(f"/api/0/organizations/{self.org}/detectors/", {"project": self.project})

    def create_detector(self, body: dict) -> dict:
        path = f"/api/0/organizations/{self.org}/projects/{self.project}/detectors/"
        return self.http.json("POST", path, json_body=body)

    def update_detector(self, detector_id: str, body: dict) -> dict:
        return self.http.json("PUT", f"/api/0/organizations/{self.org}/detectors/{detector_id}/", json_body=body)

    def delete_detector(self, detector_id: str) -> None:
        self._delete(f"/api/0/organizations/{self.org}/detectors/{detector_id}/")

    # --- cron monitors (Sentry Crons) ---------------------------------------------------------------

    def list_cron_monitors(self) -> list[dict]:
        return self._pages(f"/api/0/organizations/{self.org}/monitors/", {"project": self.project})

    def create_cron_monitor(self, body: dict) -> dict:
        return self.http.json("POST", f"/api/0/organizations/{self.org}/monitors/", json_body=body)

    def update_cron_monitor(self, slug: str, body: dict) -> dict:
        return self.http.json("PUT", f"/api/0/organizations/{self.org}/monitors/{slug}/", json_body=body)

    def delete_cron_monitor(self, slug: str) -> None:
        self._delete(f"/api/0/organizations/{self.org}/monitors/{slug}/")

    # --- legacy API (older self-hosted) -----------------------------------------------------------

    def list_rules(self) -> list[dict]:
        return self._pages(f"/api/0/projects/{self.org}/{self.project}/rules/", {})

    def create_rule(self, body: dict) -> dict | None:
        return self._created(
            self.http.request("POST", f"/api/0/projects/{self.org}/{self.project}/rules/", json_body=body)
        )

    def update_rule(self, rule_id: str, body: dict) -> dict | None:
        path = f"/api/0/projects/{self.org}/{self.project}/rules/{rule_id}/"
        return self._created(self.http.request("PUT", path, json_body=body))

    def delete_rule(self, rule_id: str) -> None:
        self._delete(f"/api/0/projects/{self.org}/{self.project}/rules/{rule_id}/")

    def list_alert_rules(self) -> list[dict]:
        rules = self._pages(f"/api/0/organizations/{self.org}/alert-rules/", {"project": self.project})
        return [r for r in rules if not r.get("projects") or self.project in r["projects"]]

    def create_alert_rule(self, body: dict) -> dict | None:
        return self._created(self.http.request("POST", f"/api/0/organizations/{self.org}/alert-rules/", json_body=body))

    def update_alert_rule(self, rule_id: str, body: dict) -> dict | None:
        path = f"/api/0/organizations/{self.org}/alert-rules/{rule_id}/"
        return self._created(self.http.request("PUT", path, json_body=body))

    def delete_alert_rule(self, rule_id: str) -> None:
        self._delete(f"/api/0/organizations/{self.org}/alert-rules/{rule_id}/")

    # --- releases and their deploys (deploy markers) ----------------------------------------------------

    def create_release(self, version: str, ref: str | None = None) -> dict:
        """Create the release of this project (201), or get the one that exists (Sentry answers 208 then)."""
        body = {"version": version, "projects": [self.project], **({"ref": ref} if ref else {})}
        return self.http.json("POST", f"/api/0/organizations/{self.org}/releases/", json_body=body)

    def create_deploy(self, version: str, environment: str, name: str | None = None) -> dict:
        """Record that ``version`` went live in ``environment`` now (a deploy marker)."""
        body = {"environment": environment, **({"name": name} if name else {})}
        path = f"/api/0/organizations/{self.org}/releases/{quote(version, safe='')}/deploys/"
        return self.http.json("POST", path, json_body=body)

    # --- helpers ----------------------------------------------------------------------------------

    @staticmethod
    def _created(response) -> dict | None:
        """The object, or None for 202 (saved later by a background task, maybe never)."""
        return None if response.status_code == 202 else response.json()

    def _delete(self, path: str) -> None:
        try:
            self.http.request("DELETE", path)
        except ApiError as exc:
            if not exc.is_not_found:
                raise

    def _pages(self, path: str, params: dict[str, Any]) -> list[dict]:
        items: list[dict] = []
        seen: set[str] = set()
        cursor = None
        for _ in range(MAX_PAGES):
            query = {**params, "per_page": PER_PAGE, **({"cursor": cursor} if cursor else {})}
            response = self.http.request("GET", path, params=query)
            page = response.json()
            if not isinstance(page, list):
                raise ApiError("GET", path, response.status_code, "expected a JSON list")
            items.extend(page)
            following = response.links.get("next") or {}
            cursor = following.get("cursor") if following.get("results") == "true" else None
            if not cursor:
                return items
            if cursor in seen:
                raise ApiError("GET", path, response.status_code, f"pagination loops (cursor {cursor} repeated)")
            seen.add(cursor)
        raise ApiError("GET", path, 200, f"more than {MAX_PAGES} pages")
