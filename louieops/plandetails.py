"""What the external-monitor operations plan, field by field, for the CI report (`louieops plan`).

pyinfra's JSON plan names the operations that would change; for the UptimeRobot and Sentry operations the
report also needs what they would create, update or delete, and which fields differ. When the environment
variable below names a file, those operations append one JSON line per planned action to it while they plan.
Nothing secret goes there: object kinds, names, ids and the fields that differ.
"""

from __future__ import annotations

import json
import os

ENV = "LOUIEOPS_PLAN_DETAILS"


def record(service: str, actions) -> None:
    """Append the planned ``actions`` (louieops.clients.plan.Action) of ``service``, if a report is wanted."""
    path = os.environ.get(ENV)
    if not path:
        return
    with open(path, "a") as fh:
        for action in actions:
            entry = {
                "service": service,
                "verb": action.verb,
                "kind": action.kind,
                "name": action.name,
                "id": action.object_id,
                "changes": list(action.changes),
            }
            fh.write(json.dumps(entry, sort_keys=True) + "\n")


def read(path: str) -> list[dict]:
    try:
        with open(path) as fh:
            return [json.loads(line) for line in fh if line.strip()]
    except FileNotFoundError:
        return []
