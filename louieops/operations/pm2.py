"""pm2 operations: keep an app of an ecosystem file online without touching it when it is.

Reloading after a change of code or ecosystem file is not this operation's job: guard a
``pm2 startOrReload`` with ``_if=any_changed(...)`` on the ops that changed them. This operation
covers the other case: the app is missing from the daemon (first run, deleted by hand, lost dump).
Run as the app user (``_sudo=True, _sudo_user=<app user>``) after the pm2 systemd unit is running.
"""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import OperationValueError, QuoteString, StringCommand, operation

from louieops.facts.pm2 import Pm2Apps


@operation()
def app(app: str, ecosystem: str, pm2_home: str):
    """
    Ensure the pm2 app ``app`` is online; if not, ``pm2 startOrReload`` its ecosystem file and
    ``pm2 save`` so it comes back after a reboot.

    + app: app name in the ecosystem file, e.g. ``simplylouie-api``
    + ecosystem: absolute path of the ecosystem file (must end in ``.config.js``)
    + pm2_home: PM2_HOME of the daemon (``<home of the app user>/.pm2``)

    **Example:**

    .. code:: python

        pm2.app(
            name="Ensure pm2 app simplylouie-api is online",
            app="simplylouie-api",
            ecosystem="/var/www/simplylouie/ecosystem.config.js",
            pm2_home="/home/simplylouie/.pm2",
            _sudo=True,
            _sudo_user="simplylouie",
        )
    """
    if not ecosystem.startswith("/") or not ecosystem.endswith(".config.js"):
        raise OperationValueError(f"pm2 ecosystem file {ecosystem!r} must be an absolute path ending in .config.js")

    current = host.get_fact(Pm2Apps, pm2_home=pm2_home).get(app)
    if current and current["status"] == "online":
        host.noop(f"pm2 app {app} is online")
        return
    yield from start_commands(ecosystem, pm2_home)


def start_commands(ecosystem: str, pm2_home: str) -> list[StringCommand]:
    """``pm2 startOrReload`` (with the ecosystem's current env) then ``pm2 save``."""
    env = StringCommand("PM2_HOME=", QuoteString(pm2_home), _separator="")
    return [
        StringCommand(env, "pm2", "startOrReload", QuoteString(ecosystem), "--update-env"),
        StringCommand(env, "pm2", "save"),
    ]
