"""A stand-in for the part of Stripe's API the daily webhook check reads: ``GET /v1/webhook_endpoints`` and
``GET /v1/events``, as Stripe's OpenAPI document describes them (tests/standins/openapi/
stripe-openapi-subset.json, from stripe/openapi), and the least convenient answers it allows:

- objects carry the document's required fields only (no ``api_version``, ``account``, ``request``, ``secret``);
- lists are Stripe's envelope (``object: list``, ``data``, ``has_more``, ``url``), newest first, ``limit``
  10 when not given, at most 100 (more is a 400), ``starting_after`` the id of the last object seen (an
  unknown id is a 400), ``created[gt|gte|lt|lte]`` and ``delivery_success`` filter the events;
- every request carries the key as ``Authorization: Bearer <key>`` (a wrong one: 401); a key can be denied
  a path (403, as a restricted key without that permission); errors are Stripe's ``{"error": {...}}``;
- ``rate_limit(times)`` answers the next requests 429 with Stripe's error and no ``Retry-After`` (Stripe
  does not promise one).
State is set in-process (``add_endpoint``, ``add_event``) or from another process (``POST
/_admin/webhook_endpoints`` {url, status} or {id, status}; ``/_admin/events`` {type, count, age, delivered}
or {deliver: [ids]}; ``/_admin/rate_limit`` {times}; ``/_admin/deny`` {paths}).

    python -m tests.standins.stripe --host 10.231.0.1 --port 9305 --token test-token
"""

from __future__ import annotations

import itertools

from .base import Reply, StandIn, main

MAX_LIMIT = 100
DEFAULT_LIMIT = 10


def _error(status: int, message: str, **extra) -> Reply:
    return Reply(status, {"error": {"type": "invalid_request_error", "message": message, **extra}})


class Stripe(StandIn):
    ROUTES = {
        ("GET", "/v1/webhook_endpoints"): "list_endpoints",
        ("GET", "/v1/events"): "list_events",
    }

    def __init__(self, *args, seed: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.endpoints: list[dict] = []
        self.events: list[dict] = []  # each with "_delivered": whether every delivery succeeded
        self.denied: set[str] = set()
        self.limited = 0
        self._ids = itertools.count(1)
        if seed:  # the test server's account: one endpoint that takes the service's events
            self.add_endpoint("https://api.simplylouie.test/webhooks/stripe")

    # --- state -----------------------------------------------------------------------------------

    def _id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids):024d}"

    def add_endpoint(self, url: str, status: str = "enabled", created: int | None = None) -> dict:
        with self.lock:
            endpoint = {
                "id": self._id("we"),
                "object": "webhook_endpoint",
                "created": int(created or self.clock()),
                "enabled_events": ["*"],
                "livemode": False,
                "status": status,
                "url": url,
            }
            self.endpoints.append(endpoint)
            return endpoint

    def set_status(self, endpoint_id: str, status: str) -> None:
        with self.lock:
            next(e for e in self.endpoints if e["id"] == endpoint_id)["status"] = status

    def add_event(self, type_: str, *, delivered: bool, created: int | None = None) -> dict:
        with self.lock:
            event = {
                "id": self._id("evt"),
                "object": "event",
                "created": int(created or self.clock()),
                "data": {"object": {"id": self._id("obj"), "object": type_.split(".")[0]}},
                "livemode": False,
                "pending_webhooks": 0 if delivered else 1,
                "type": type_,
                "_delivered": delivered,
            }
            self.events.append(event)
            return event

    def rate_limit(self, method: str, template: str) -> Reply | None:
        with self.lock:
            if self.limited <= 0:
                return None
            self.limited -= 1
        return _error(429, "Request rate limit exceeded. Learn more about rate limits here: "
                      "https://stripe.com/docs/rate-limits.", code="rate_limit")  # fmt: skip

    # --- answers ---------------------------------------------------------------------------------

    def authorized(self, headers, method: str) -> bool:
        return headers.get("Authorization") == f"Bearer {self.token}"

    def unauthorized(self) -> Reply:
        return _error(401, "Invalid API Key provided: rk_test_****")

    def not_found(self, method: str, path: str) -> Reply:
        return _error(404, f"Unrecognized request URL ({method}: {path}).")

    def gate(self, handler: str) -> Reply | None:
        path = next(template for (_, template), name in self.ROUTES.items() if name == handler)
        if path in self.denied:
            return _error(403, f"The provided key does not have the required permissions for this endpoint ({path}).")
        return None

    def _page(self, path: str, objects: list[dict], query: dict) -> Reply:
        try:
            limit = int(query.get("limit", [DEFAULT_LIMIT])[0])
        except ValueError:
            return _error(400, "Invalid integer: limit", param="limit")
        if not 1 <= limit <= MAX_LIMIT:
            return _error(400, f"This value must be between 1 and {MAX_LIMIT}.", param="limit")
        ordered = sorted(objects, key=lambda o: (o["created"], o["id"]), reverse=True)  # newest first
        after = query.get("starting_after", [None])[0]
        if after is not None:
            ids = [o["id"] for o in ordered]
            if after not in ids:
                return _error(400, f"No such object: '{after}'", param="starting_after")
            ordered = ordered[ids.index(after) + 1 :]
        page = ordered[:limit]
        return Reply(
            200,
            {
                "object": "list",
                "data": [{k: v for k, v in o.items() if not k.startswith("_")} for o in page],
                "has_more": len(ordered) > limit,
                "url": path,
            },
        )

    def list_endpoints(self, params, query, body):
        return self._page("/v1/webhook_endpoints", list(self.endpoints), query)

    def list_events(self, params, query, body):
        events = list(self.events)
        for bound, keep in (
            ("gt", lambda c, v: c > v),
            ("gte", lambda c, v: c >= v),
            ("lt", lambda c, v: c < v),
            ("lte", lambda c, v: c <= v),
        ):
            value = query.get(f"created[{bound}]", [None])[0]
            if value is not None:
                try:
                    number = int(value)
                except ValueError:
                    return _error(400, f"Invalid integer: created[{bound}]", param=f"created[{bound}]")
                events = [e for e in events if keep(e["created"], number)]
        success = query.get("delivery_success", [None])[0]
        if success is not None:
            if success not in ("true", "false"):
                return _error(400, "Invalid boolean: delivery_success", param="delivery_success")
            events = [e for e in events if e["_delivered"] == (success == "true")]
        return self._page("/v1/events", events, query)

    # --- another process's admin -----------------------------------------------------------------

    def admin(self, method: str, path: str, body) -> Reply:
        body = body or {}
        if method == "POST" and path == "/_admin/webhook_endpoints":
            if "id" in body:
                self.set_status(body["id"], body["status"])
                return Reply(204)
            return Reply(200, self.add_endpoint(body["url"], body.get("status", "enabled")))
        if method == "POST" and path == "/_admin/events" and "deliver" in body:  # Stripe's retry went through
            for event in self.events:
                if event["id"] in body["deliver"]:
                    event.update(_delivered=True, pending_webhooks=0)
            return Reply(204)
        if method == "POST" and path == "/_admin/events":
            created = int(self.clock() - body.get("age", 0))
            made = [
                self.add_event(body["type"], delivered=body.get("delivered", False), created=created)
                for _ in range(int(body.get("count", 1)))
            ]
            return Reply(200, {"ids": [e["id"] for e in made]})
        if method == "POST" and path == "/_admin/rate_limit":
            self.limited = int(body.get("times", 1))
            return Reply(204)
        if method == "POST" and path == "/_admin/deny":
            self.denied = set(body.get("paths", []))
            return Reply(204)
        return super().admin(method, path, body)


def seeded(**kwargs) -> Stripe:
    return Stripe(seed=True, **kwargs)


if __name__ == "__main__":
    main(seeded, __doc__.splitlines()[0])
