"""pyinfra operations that register the external monitors (UptimeRobot) and alerts (Sentry).

Each operation lists the remote objects once, diffs them against its arguments and either calls
``host.noop`` (nothing to do: the results table shows "No change") or logs one line per planned action and
yields one ``FunctionCommand`` per action, which applies it when pyinfra executes the operation. With
``--dry`` the plan lines are printed and nothing is written; with ``-y`` the listing happens at execute time.
Run them with ``_run_once=True``: the accounts are global, not per host.

The desired objects are typed specs (``louieops.clients.uptimerobot.MonitorSpec``,
``louieops.clients.sentry.IssueAlertSpec`` / ``MetricMonitorSpec``); ``tasks/saas.py`` builds them
from the settings.

Errors of the APIs or of the plan (an alert contact missing in the account, a removed API) become
``OperationError`` with one readable line; API keys come from the environment and are never printed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pyinfra import host
from pyinfra.api import FunctionCommand, OperationError, OperationValueError, operation

from .. import plandetails, secrets
from ..clients import sentry, uptimerobot
from ..clients.http import ApiError
from ..clients.plan import PlanError


def _checked(function, *args):
    try:
        return function(*args)
    except (ApiError, PlanError) as exc:
        raise OperationError(str(exc)) from exc


def _log_plan(service: str, plan) -> None:
    """All lines before the first command: pyinfra's change detection stops at the first one."""
    for line in plan.lines():
        host.log(f"will {line}")
    plandetails.record(service, plan.actions)


def _apply(apply, action):
    _checked(apply, action)


@operation()
def uptimerobot_monitors(
    monitors: Sequence[uptimerobot.MonitorSpec],
    alert_contacts: Mapping[str, uptimerobot.ContactRef],
    *,
    managed_tag: str,
    prune: bool = False,
    # the UptimeRobot API
    api_url: str,
    requests_per_minute: int,
):
    """
    Create, update and (with ``prune``) delete UptimeRobot monitors; the API key is UPTIMEROBOT_API_KEY.

    + monitors: the desired monitors, matched by exact name; each names its alert contacts by their key in
      ``alert_contacts`` (``contact_keys``)
    + alert_contacts: the alert contacts to find in the account (type and exact name and/or value), by key;
      they are referenced, never created, and each must match exactly one contact
    + managed_tag: tag marking the monitors this operation manages (a same-named untagged monitor is adopted)
    + prune: delete tagged monitors that are not in ``monitors``
    + api_url: base URL of the UptimeRobot v3 API
    + requests_per_minute: client-side rate limit of the account's plan

    **Example:**

    .. code:: python

        saas.uptimerobot_monitors(
            name="Register the UptimeRobot monitors",
            monitors=[MonitorSpec(name="Homepage", type="HTTP", url="https://example.com", interval=300,
                                  timeout=30, contact_keys=("email",))],
            alert_contacts={"email": ContactRef(type="email", value="ops@example.com")},
            managed_tag="louieops",
            api_url="https://api.uptimerobot.com/v3",
            requests_per_minute=10,
            _run_once=True,
        )
    """
    for spec in monitors:
        unknown = [key for key in spec.contact_keys if key not in alert_contacts]
        if unknown:
            raise OperationValueError(
                f"UptimeRobot monitor {spec.name!r} names alert contact {unknown[0]!r}, which is not a key of "
                f"alert_contacts ({', '.join(alert_contacts) or 'none given'})"
            )
    client = uptimerobot.make_client(api_url, secrets.require("UPTIMEROBOT_API_KEY"), requests_per_minute)
    plan = _checked(uptimerobot.reconcile_plan, client, monitors, alert_contacts, managed_tag, prune)
    if not plan:
        host.noop(f"UptimeRobot monitors are up to date ({len(plan.unchanged)} checked)")
        return
    executor = uptimerobot.Executor(client, managed_tag, plan.current)
    _log_plan("UptimeRobot", plan)
    for action in plan.actions:
        yield FunctionCommand(_apply, (executor.apply, action), {})


@operation()
def sentry_alerts(
    issue_alerts: Sequence[sentry.IssueAlertSpec],
    metric_monitors: Sequence[sentry.MetricMonitorSpec],
    *,
    name_prefix: str,
    prune: bool = False,
    # the Sentry project and API
    api_url: str,
    org: str,
    project: str,
    api_mode: str = "auto",
):
    """
    Create, update and (with ``prune``) delete Sentry alerts and metric monitors of one project; the token
    is SENTRY_AUTH_TOKEN.

    + issue_alerts: the desired issue alerts, matched by exact name
    + metric_monitors: the desired metric monitors (each also gets an alert that routes its levels)
    + name_prefix: the prefix every managed name starts with; only prefixed objects are ever pruned
    + prune: delete prefixed objects that are not in ``issue_alerts`` or ``metric_monitors``
    + api_url: base URL of Sentry (sentry.io or a self-hosted instance)
    + org, project: slugs of the organization and the project
    + api_mode: ``workflows`` (detectors and workflows), ``legacy`` (``/rules/`` and ``/alert-rules/`` of an
      older self-hosted Sentry) or ``auto`` (workflows, legacy when the workflows API answers 404)

    **Example:**

    .. code:: python

        saas.sentry_alerts(
            name="Register the Sentry alerts and metric monitors",
            issue_alerts=[IssueAlertSpec(name="[ops] New error type", trigger="new_issue", frequency_minutes=5,
                                         environment="production", route=Route((), True, None))],
            metric_monitors=[],
            name_prefix="[ops] ",
            api_url="https://sentry.io",
            org="example",
            project="example-api",
            _run_once=True,
        )
    """
    if api_mode not in sentry.API_MODES:
        raise OperationValueError(f"Sentry api_mode {api_mode!r} is not one of {', '.join(sentry.API_MODES)}")
    for spec in [*issue_alerts, *metric_monitors]:
        if not spec.name.startswith(name_prefix):
            raise OperationValueError(
                f"Sentry object {spec.name!r} does not start with name_prefix {name_prefix!r} (it would not be "
                "recognised as managed on the next run)"
            )
    client = sentry.make_client(api_url, secrets.require("SENTRY_AUTH_TOKEN"), org, project)
    reconciler = sentry.Reconciler(
        client, issue_alerts, metric_monitors, api_mode=api_mode, name_prefix=name_prefix, prune=prune
    )
    plan = _checked(reconciler.plan)
    if not plan:
        host.noop(f"Sentry alerts and metric monitors are up to date ({len(plan.unchanged)} checked)")
        return
    _log_plan("Sentry", plan)
    for action in plan.actions:
        yield FunctionCommand(_apply, (reconciler.apply, action), {})
