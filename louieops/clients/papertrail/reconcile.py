"""Papertrail saved searches: listed once, matched by exact name, missing ones created (an unclear create is
never repeated: the searches are listed again until it shows up, louieops/clients/plan.py). A same-named
search that exists is adopted as it is; one whose query differs from the settings is reported as a note:
Papertrail documents no way to change or delete a saved search through its API."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from ..plan import Action, Plan, Settle, match_by_name, write_with_relist
from .client import PapertrailClient
from .models import Search, SearchSpec

log = logging.getLogger("louieops.papertrail")
SEARCH = "Papertrail saved search"


def plan(specs: Sequence[SearchSpec], current: Sequence[Search]) -> Plan:
    by_name, notes = match_by_name(current, lambda s: s.name, [s.name for s in specs], SEARCH)
    result = Plan(current=by_name, notes=notes)
    for spec in specs:
        existing = by_name.get(spec.name)
        if existing is None:
            result.actions.append(Action("create", SEARCH, spec.name, desired=spec))
            continue
        result.unchanged.append(spec.name)
        if existing.query != spec.query:
            result.notes.append(
                f"{SEARCH} {spec.name!r} (id {existing.id}) searches {existing.query!r}, the settings say "
                f"{spec.query!r}: Papertrail's API cannot change a saved search; edit it in Papertrail "
                "(Searches, then the search's edit link) or delete it there and the next deploy creates it"
            )
    return result


class Reconciler:
    def __init__(self, client: PapertrailClient, searches: Sequence[SearchSpec], *, settle: Settle):
        self.client, self.searches, self.settle = client, list(searches), settle

    def plan(self) -> Plan:
        return plan(self.searches, self.client.list_searches())

    def apply(self, action: Action) -> None:
        log.info("Papertrail: %s", action.describe())
        spec = action.desired

        def write(current: Search | None) -> bool:
            self.client.create_search(spec)
            return True

        def find() -> Search | None:
            return match_by_name(self.client.list_searches(), lambda s: s.name, [spec.name], SEARCH)[0].get(spec.name)

        write_with_relist(
            action,
            write,
            find,
            lambda search: True,
            current=None,
            sleep=self.client.http.sleep,
            log=log,
            settle=self.settle,
        )
