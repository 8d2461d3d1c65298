"""Papertrail settings API calls (root ``https://papertrailapp.com/api/v1``, token in ``X-Papertrail-Token``).

Only what Papertrail documents is used: ``GET searches.json`` lists the saved searches (an array; the call
papertrail-cli, Papertrail's own client, makes to find a search by name) and ``POST searches.json`` saves
one (the documented example: ``search[name]`` and ``search[query]``; JSON bodies are documented for POST).
"""

from __future__ import annotations

from ..http import HttpClient
from .models import Search, SearchSpec


class PapertrailClient:
    def __init__(self, http: HttpClient):
        self.http = http

    def list_searches(self) -> list[Search]:
        return [Search.from_api(item) for item in self.http.json("GET", "/searches.json") or []]

    def create_search(self, spec: SearchSpec) -> Search:
        return Search.from_api(self.http.json("POST", "/searches.json", json_body=spec.create_body()))
