"""Saved searches as the deploy wants them (``SearchSpec``) and as Papertrail lists them (``Search``).

Papertrail's documents show a saved search with a name, a query and the group it searches (``group_id``);
the id is how every object of its API is known. Unknown keys of an answer are ignored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SearchSpec:
    name: str
    query: str

    def create_body(self) -> dict[str, Any]:
        """The body of ``POST searches.json`` (JSON with the documented ``search[...]`` parameters)."""
        return {"search": {"name": self.name, "query": self.query}}


@dataclass(frozen=True)
class Search:
    id: int
    name: str
    query: str
    group_id: int | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Search:
        return cls(
            id=data["id"], name=str(data["name"]), query=str(data.get("query") or ""), group_id=data.get("group_id")
        )
