"""pyinfra operations that register the external monitors (UptimeRobot) and alerts (Sentry).

Each operation lists the remote objects once, diffs them against the settings and either calls
``host.noop`` (nothing to do: the results table shows "No change") or logs one line per planned action and
yields one ``FunctionCommand`` per action, which applies it when pyinfra executes the operation. With
``--dry`` the plan lines are printed and nothing is written; with ``-y`` the listing happens at execute time.
Run them with ``_run_once=True``: the accounts are global, not per host.

    + settings: the validated settings (``louieops.settings.for_host(host)``)

Errors of the APIs or of the plan (an alert contact missing in the account, a removed API) become
``OperationError`` with one readable line; API keys come from the environment and are never printed.
"""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import FunctionCommand, OperationError, operation

from .. import secrets
from ..clients import sentry, uptimerobot
from ..clients.http import ApiError
from ..clients.plan import PlanError


def _checked(function, *args):
    try:
        return function(*args)
    except (ApiError, PlanError) as exc:
        raise OperationError(str(exc)) from exc


def _log_plan(plan) -> None:
    """All lines before the first command: pyinfra's change detection stops at the first one."""
    for line in plan.lines():
        host.log(f"will {line}")


def _apply(apply, action):
    _checked(apply, action)


@operation()
def uptimerobot_monitors(settings):
    """Create, update and (with uptimerobot_prune) delete the UptimeRobot monitors of the settings.

    **Example:**

    .. code:: python

        saas.uptimerobot_monitors(name="Register the UptimeRobot monitors", settings=s, _run_once=True)
    """
    client = uptimerobot.make_client(
        settings.uptimerobot_api_url, secrets.require("UPTIMEROBOT_API_KEY"), settings.uptimerobot_requests_per_minute
    )
    plan = _checked(uptimerobot.reconcile_plan, client, settings)
    if not plan:
        host.noop(f"UptimeRobot monitors are up to date ({len(plan.unchanged)} checked)")
        return
    executor = uptimerobot.Executor(client, settings.uptimerobot_managed_tag, plan.current)
    _log_plan(plan)
    for action in plan.actions:
        yield FunctionCommand(_apply, (executor.apply, action), {})


@operation()
def sentry_alerts(settings):
    """Create, update and (with sentry_prune) delete the Sentry alerts and metric monitors of the settings.

    **Example:**

    .. code:: python

        saas.sentry_alerts(name="Register the Sentry alerts and metric monitors", settings=s, _run_once=True)
    """
    client = sentry.make_client(
        settings.sentry_api_url, secrets.require("SENTRY_AUTH_TOKEN"), settings.sentry_org, settings.sentry_project
    )
    reconciler = sentry.Reconciler(client, settings)
    plan = _checked(reconciler.plan)
    if not plan:
        host.noop(f"Sentry alerts and metric monitors are up to date ({len(plan.unchanged)} checked)")
        return
    _log_plan(plan)
    for action in plan.actions:
        yield FunctionCommand(_apply, (reconciler.apply, action), {})
