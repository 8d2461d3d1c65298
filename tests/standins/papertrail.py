"""A stand-in for the part of Papertrail's HTTP API (v1) the deploy uses: saved searches.

It follows what Papertrail documents (help "HTTP API" and "Settings API"; Papertrail publishes no OpenAPI
document, and the settings API page's saved-search section could not be read here, so only this is
modelled):
- every request carries the API token in ``X-Papertrail-Token``; a wrong or missing one gets 401;
- ``GET /api/v1/searches.json``: every saved search, as an array (``id``, ``name``, ``query``,
  ``group_id``), the call Papertrail's own papertrail-cli makes to find a search by name;
- ``POST /api/v1/searches.json``: save a search from ``search[name]`` and ``search[query]`` (URL-encoded
  form, the documented example) or the same as JSON (``Content-Type: application/json``); the answer is the
  saved search. Without a name or a query: 400 with ``{"message": ...}``, the documented error shape.
Names are not unique in Papertrail: the stand-in stores what it is sent, like the service would.

    python -m tests.standins.papertrail --host 10.231.0.1 --port 9304 --token test-token
"""

from __future__ import annotations

import itertools
import json
from urllib.parse import parse_qs

from .base import Reply, StandIn, main

#: Every Papertrail account has a default group every system is in; searches without a group use it.
DEFAULT_GROUP_ID = 31


class Papertrail(StandIn):
    ROUTES = {
        ("GET", "/api/v1/searches.json"): "list_searches",
        ("POST", "/api/v1/searches.json"): "create_search",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.searches: list[dict] = []
        self._ids = itertools.count(4001)

    def authorized(self, headers, method: str) -> bool:
        return headers.get("X-Papertrail-Token") == self.token

    def parse_body(self, headers, body_bytes: bytes):
        if not body_bytes:
            return {}
        if (headers.get("Content-Type") or "").startswith("application/json"):
            return json.loads(body_bytes)
        form = parse_qs(body_bytes.decode())
        fields = {key[len("search[") : -1]: values[0] for key, values in form.items() if key.startswith("search[")}
        return {"search": fields}

    def list_searches(self, params, query, body):
        return Reply(
            200, [{k: v for k, v in s.items() if not k.startswith("_")} for s in self.searches if self.visible(s)]
        )

    def create_search(self, params, query, body):
        fields = (body or {}).get("search") or {}
        name, text = fields.get("name"), fields.get("query")
        if not name or not text:
            return Reply(400, {"message": "search[name] and search[query] are required"})
        group = int(fields.get("group_id") or DEFAULT_GROUP_ID)
        search = self.stamp({"id": next(self._ids), "name": name, "query": text, "group_id": group})
        self.searches.append(search)
        return Reply(200, {k: v for k, v in search.items() if not k.startswith("_")})


if __name__ == "__main__":
    main(Papertrail, __doc__.splitlines()[0])
