"""pyinfra operations that register the external monitors (UptimeRobot), alerts (Sentry) and saved log
searches (Papertrail).

Each operation lists the remote objects once, diffs them against its arguments and either calls
``host.noop`` (nothing to do: the results table shows "No change") or logs one line per planned action and
yields one ``FunctionCommand`` per action, which applies it when pyinfra executes the operation. With
``--dry`` the plan lines are printed and nothing is written; with ``-y`` the listing happens at execute time.
Run them with ``_run_once=True``: the accounts are global, not per host.

The desired objects are typed specs (``louieops.clients.uptimerobot.MonitorSpec`` ...,
``louieops.clients.sentry.IssueAlertSpec`` ...); ``tasks/saas.py`` builds them from the settings.

Errors of the APIs or of the plan (a removed API, a create that got no clear answer) end the operation with
one readable line, when planning as when applying; the chained traceback is logged only with ``-v`` or
``--debug``. Findings that need no write (a duplicate left alone) are logged as warnings. API keys come
from the environment and are never printed.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Mapping, Sequence

from pyinfra import host
from pyinfra.api import FunctionCommand, OperationError, OperationValueError, operation

from .. import plandetails, secrets
from ..clients import papertrail, sentry, uptimerobot
from ..clients.http import ApiError
from ..clients.plan import PlanError, Settle

logger = logging.getLogger("pyinfra")


def _explain(exc: Exception, state) -> None:
    """The chained traceback, for -v and --debug only: the one line says what is wrong."""
    if logger.isEnabledFor(logging.DEBUG) or getattr(state, "print_noop_info", False):
        logger.warning("".join(traceback.format_exception(exc)).rstrip())


def _planned(plan_function):
    """The plan, or None when planning failed while executing (``-y``): the error is then logged as one line
    and the caller fails the operation. While planning (``--dry``) the error stops the run as pyinfra's own
    one-line "Operation error"."""
    try:
        return plan_function()
    except (ApiError, PlanError) as exc:
        _explain(exc, host.state)
        if not host.state.is_executing:
            raise OperationError(str(exc)) from None
        host.log_styled(f"Error: {exc}", fg="red", log_func=logger.error)
        return None


def _failed(state, host) -> bool:
    """A command that fails its operation (its error line is already logged)."""
    return False


def _log_plan(service: str, plan) -> None:
    """All lines before the first command: pyinfra's change detection stops at the first one."""
    for note in plan.notes:
        host.log_styled(f"note: {note}", fg="yellow", log_func=logger.warning)
    for line in plan.lines():
        host.log(f"will {line}")
    plandetails.record(service, plan.actions)


def _apply(state, host, apply, action) -> bool:
    """Run one action; on an API or plan error log one line and fail the operation (no traceback)."""
    try:
        apply(action)
    except (ApiError, PlanError) as exc:
        _explain(exc, state)
        host.log_styled(f"Error: {exc}", fg="red", log_func=logger.error)
        return False
    return True


def _settle(minutes: float, setting: str) -> Settle:
    return Settle(minutes * 60, f"to wait longer than {minutes:g} minutes, raise {setting}")


@operation()
def uptimerobot_monitors(
    monitors: Sequence[uptimerobot.MonitorSpec],
    alert_contacts: Mapping[str, uptimerobot.ContactRef],
    *,
    managed_tag: str,
    prune: bool = False,
    maintenance_windows: Sequence[uptimerobot.WindowSpec] = (),
    status_pages: Sequence[uptimerobot.StatusPageSpec] = (),
    settle_minutes: float = 10,
    # the UptimeRobot API
    api_url: str,
    requests_per_minute: int,
):
    """
    Create, update and (with ``prune``) delete UptimeRobot monitors, with their alert contacts, maintenance
    windows and status pages; the API key is UPTIMEROBOT_API_KEY.

    + monitors: the desired monitors, matched by exact name; each names its alert contacts by their key in
      ``alert_contacts`` (``contact_keys``)
    + alert_contacts: the alert contacts by key (type and exact name and/or value); a missing e-mail contact
      is created, a missing Slack contact too when it carries its webhook URL; others must exist
    + managed_tag: tag marking the monitors this operation manages (a same-named untagged monitor is adopted)
    + prune: delete tagged monitors that are not in ``monitors``
    + maintenance_windows: recurring windows that hold the alerts of the named monitors (never deleted)
    + status_pages: public status pages showing the named monitors (never deleted)
    + settle_minutes: how long a create that got no clear answer is looked for before the run stops (setting
      uptimerobot_settle_minutes); it is never sent twice
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
    names = {spec.name for spec in monitors}
    for spec in monitors:
        unknown = [key for key in spec.contact_keys if key not in alert_contacts]
        if unknown:
            raise OperationValueError(
                f"UptimeRobot monitor {spec.name!r} names alert contact {unknown[0]!r}, which is not a key of "
                f"alert_contacts ({', '.join(alert_contacts) or 'none given'})"
            )
    for spec in [*maintenance_windows, *status_pages]:
        strangers = [name for name in spec.monitors if name not in names]
        if strangers:
            raise OperationValueError(
                f"UptimeRobot {spec.name!r} names monitor {strangers[0]!r}, which is not one of the monitors"
            )
    client = uptimerobot.make_client(api_url, secrets.require("UPTIMEROBOT_API_KEY"), requests_per_minute)
    reconciler = uptimerobot.Reconciler(
        client,
        monitors,
        alert_contacts,
        managed_tag=managed_tag,
        prune=prune,
        settle=_settle(settle_minutes, "uptimerobot_settle_minutes"),
        windows=maintenance_windows,
        status_pages=status_pages,
    )
    plan = _planned(reconciler.plan)
    if plan is None:
        yield FunctionCommand(_failed, (), {})
        return
    _log_plan("UptimeRobot", plan)
    if not plan:
        host.noop(f"UptimeRobot monitors are up to date ({len(plan.unchanged)} checked)")
        return
    for action in plan.actions:
        yield FunctionCommand(_apply, (reconciler.apply, action), {})


@operation()
def sentry_alerts(
    issue_alerts: Sequence[sentry.IssueAlertSpec],
    metric_monitors: Sequence[sentry.MetricMonitorSpec],
    *,
    name_prefix: str,
    prune: bool = False,
    cron_monitors: Sequence[sentry.CronMonitorSpec] = (),
    cron_alert: sentry.CronAlertSpec | None = None,
    settle_minutes: float = 10,
    # the Sentry project and API
    api_url: str,
    org: str,
    project: str,
    api_mode: str = "auto",
):
    """
    Create, update and (with ``prune``) delete Sentry alerts, metric monitors and cron monitors of one
    project; the token is SENTRY_AUTH_TOKEN.

    + issue_alerts: the desired issue alerts, matched by exact name
    + metric_monitors: the desired metric monitors (each also gets an alert that routes its levels)
    + name_prefix: the prefix every managed name starts with; only prefixed objects are ever pruned
    + prune: delete prefixed objects that are not in ``issue_alerts``, ``metric_monitors`` or ``cron_monitors``
    + cron_monitors: Sentry Crons monitors of scheduled jobs, matched by slug (the jobs check in with it)
    + cron_alert: the alert that routes the cron monitors' issues (current API only: it connects to the
      detectors Sentry makes for them)
    + settle_minutes: how long a create that got no clear answer is looked for before the run stops (setting
      sentry_settle_minutes); it is never sent twice
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
    for spec in [*issue_alerts, *metric_monitors, *cron_monitors, *([cron_alert] if cron_alert else [])]:
        if not spec.name.startswith(name_prefix):
            raise OperationValueError(
                f"Sentry object {spec.name!r} does not start with name_prefix {name_prefix!r} (it would not be "
                "recognised as managed on the next run)"
            )
    client = sentry.make_client(api_url, secrets.require("SENTRY_AUTH_TOKEN"), org, project)
    reconciler = sentry.Reconciler(
        client,
        issue_alerts,
        metric_monitors,
        api_mode=api_mode,
        name_prefix=name_prefix,
        prune=prune,
        settle=_settle(settle_minutes, "sentry_settle_minutes"),
        cron_monitors=cron_monitors,
        cron_alert=cron_alert,
    )
    plan = _planned(reconciler.plan)
    if plan is None:
        yield FunctionCommand(_failed, (), {})
        return
    _log_plan("Sentry", plan)
    if not plan:
        host.noop(f"Sentry alerts and monitors are up to date ({len(plan.unchanged)} checked)")
        return
    for action in plan.actions:
        yield FunctionCommand(_apply, (reconciler.apply, action), {})


@operation()
def papertrail_searches(
    searches: Sequence[papertrail.SearchSpec],
    *,
    settle_minutes: float = 10,
    # the Papertrail API
    api_url: str,
):
    """
    Create the Papertrail saved searches that are missing; the token is PAPERTRAIL_API_TOKEN.

    + searches: the desired saved searches, matched by exact name; an existing one is adopted as it is (a
      different query is reported as a note: the API documents no update)
    + settle_minutes: how long a create that got no clear answer is looked for before the run stops (setting
      papertrail_settle_minutes); it is never sent twice
    + api_url: base URL of Papertrail's API (https://papertrailapp.com/api/v1)

    **Example:**

    .. code:: python

        saas.papertrail_searches(
            name="Register the Papertrail saved searches",
            searches=[SearchSpec(name="Login failed", query='"Login failed"')],
            api_url="https://papertrailapp.com/api/v1",
            _run_once=True,
        )
    """
    names = [spec.name for spec in searches]
    if len(set(names)) != len(names):
        raise OperationValueError(f"Papertrail saved search names must be unique: {names}")
    client = papertrail.make_client(api_url, secrets.require("PAPERTRAIL_API_TOKEN"))
    reconciler = papertrail.Reconciler(client, searches, settle=_settle(settle_minutes, "papertrail_settle_minutes"))
    plan = _planned(reconciler.plan)
    if plan is None:
        yield FunctionCommand(_failed, (), {})
        return
    _log_plan("Papertrail", plan)
    if not plan:
        host.noop(f"Papertrail saved searches are up to date ({len(plan.unchanged)} checked)")
        return
    for action in plan.actions:
        yield FunctionCommand(_apply, (reconciler.apply, action), {})


def _mark_release(state, host, client, environment: str, release_command: str) -> bool:
    """Read the live release off the server (louie-release list --json), then create its Sentry release and
    a deploy. A Sentry that does not answer is a warning, not a failed deploy: the release itself is live."""
    _, output = host.run_shell_command(f"{release_command} list --json", _sudo=True)
    try:
        listing = json.loads("\n".join(output.stdout_lines))
        live = next(r for r in listing["releases"] if r["id"] == listing["live"])
    except (ValueError, KeyError, StopIteration, TypeError):
        host.log_styled("Warning: no live release to mark in Sentry", fg="yellow", log_func=logger.warning)
        return True
    try:
        # the version the app reports its errors with (APP_RELEASE: the release id), the commit as its ref
        client.create_release(live["id"], ref=live["commit"])
        client.create_deploy(live["id"], environment, name=host.name)
    except ApiError as exc:
        _explain(exc, state)
        host.log_styled(f"Warning: Sentry deploy marker not recorded: {exc}", fg="yellow", log_func=logger.warning)
        return True
    host.log(f"Sentry: release {live['id']} deployed to {environment}")
    return True


@operation(is_idempotent=False)
def sentry_deploy_marker(*, environment: str, release_command: str, api_url: str, org: str, project: str):
    """
    Mark the release that just went live on this host in Sentry: a release of its id, the version the app
    reports errors with (they are tied to it), with its commit as ref, and a deploy to ``environment``; the
    token is SENTRY_AUTH_TOKEN. Run it only when a release changed (``_if``): every run records a deploy.

    + environment: the Sentry environment (sentry_environment, else production)
    + release_command: louie-release on the server, which lists the live release
    + api_url, org, project: the Sentry API and the slugs of the organization and the project
    """
    client = sentry.make_client(api_url, secrets.require("SENTRY_AUTH_TOKEN"), org, project)
    yield FunctionCommand(_mark_release, (client, environment, release_command), {})
