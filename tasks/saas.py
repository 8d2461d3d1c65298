"""External monitors: UptimeRobot uptime monitors, alert contacts, maintenance windows and the status page,
Sentry alerts, metric monitors and cron monitors, and Papertrail's saved searches (seed §2.1, §2.2, §2.3,
§5, §7, §9).

Runs once per deploy (not per host), after the server tasks. A missing API key skips that service with
one line; the server deploy is unaffected. The desired objects are built here from the validated settings
(pure functions: the placeholders, the routes per tier, the KPI thresholds and their direction, the jobs'
schedules); the API clients take these typed specs and know nothing of the settings.

Settings read: uptimerobot_api_url, uptimerobot_requests_per_minute, uptimerobot_prune, uptimerobot_managed_tag,
uptimerobot_settle_minutes, uptimerobot_alert_contacts, uptimerobot_monitors, uptimerobot_maintenance_windows,
uptimerobot_status_page, alert_slack_webhooks, sentry_api_url, sentry_org, sentry_project, sentry_api_mode,
sentry_prune, sentry_name_prefix, sentry_settle_minutes, sentry_environment, sentry_slack_integration_id,
sentry_slack_channel_ids, sentry_issue_alerts, sentry_metric_monitors, sentry_cron_jobs,
sentry_cron_checkin_margin_minutes, sentry_cron_max_runtime_minutes, sentry_cron_tier, base_timezone, alert_routes,
kpi_thresholds, papertrail_api_url, papertrail_saved_searches, papertrail_settle_minutes. The jobs' schedules
and monitor slugs come from louieops.checkins; the {placeholders} in names and URLs read the settings they
name (domain_api, ...).
Secrets: UPTIMEROBOT_API_KEY, SENTRY_AUTH_TOKEN, PAPERTRAIL_API_TOKEN; the SLACK_WEBHOOK_* of a Slack alert
contact to create.
"""

from __future__ import annotations

import logging

from pyinfra import host
from pyinfra.api import deploy

from louieops import checkins, secrets, topology
from louieops.clients.papertrail import SearchSpec
from louieops.clients.secret import Secret
from louieops.clients.sentry import CronAlertSpec, CronMonitorSpec, IssueAlertSpec, MetricMonitorSpec, Route
from louieops.clients.uptimerobot import ContactRef, MonitorSpec, StatusPageSpec, WindowSpec
from louieops.clients.uptimerobot.models import keyword_type
from louieops.operations import saas
from louieops.settings import Settings, for_host
from louieops.settings.placeholders import expand
from louieops.settings.sections.kpis import LOWER_IS_WORSE
from louieops.settings.sections.uptimerobot import window_recurrence
from louieops.topology import Topology

logger = logging.getLogger("pyinfra")
_SKIP_NOTED: set[str] = set()


def _skip(secret: str, what: str) -> None:
    if secret not in _SKIP_NOTED:  # one line per deploy, not one per host
        _SKIP_NOTED.add(secret)
        logger.warning(f"Skipping the {what}: {secret} is not set.")


@deploy("External monitors")
def register_external_monitors():
    settings = for_host(host)
    if secrets.get("UPTIMEROBOT_API_KEY"):
        saas.uptimerobot_monitors(
            name="Register the UptimeRobot monitors",
            monitors=uptimerobot_monitors(settings),
            alert_contacts=uptimerobot_alert_contacts(settings),
            managed_tag=settings.uptimerobot_managed_tag,
            prune=settings.uptimerobot_prune,
            maintenance_windows=uptimerobot_windows(settings),
            status_pages=uptimerobot_status_pages(settings),
            settle_minutes=settings.uptimerobot_settle_minutes,
            api_url=settings.uptimerobot_api_url,
            requests_per_minute=settings.uptimerobot_requests_per_minute,
            _run_once=True,
        )
    else:
        _skip("UPTIMEROBOT_API_KEY", "UptimeRobot monitors")
    if secrets.get("SENTRY_AUTH_TOKEN"):
        saas.sentry_alerts(
            name="Register the Sentry alerts and metric monitors",
            issue_alerts=sentry_issue_alerts(settings),
            metric_monitors=sentry_metric_monitors(settings),
            name_prefix=settings.sentry_name_prefix,
            prune=settings.sentry_prune,
            cron_monitors=sentry_cron_monitors(settings, topology.of(host)),
            cron_alert=sentry_cron_alert(settings),
            settle_minutes=settings.sentry_settle_minutes,
            api_url=settings.sentry_api_url,
            org=settings.sentry_org,
            project=settings.sentry_project,
            api_mode=settings.sentry_api_mode,
            _run_once=True,
        )
    else:
        _skip("SENTRY_AUTH_TOKEN", "Sentry alerts and metric monitors")
    if secrets.get("PAPERTRAIL_API_TOKEN"):
        saas.papertrail_searches(
            name="Register the Papertrail saved searches",
            searches=papertrail_searches(settings),
            settle_minutes=settings.papertrail_settle_minutes,
            api_url=settings.papertrail_api_url,
            _run_once=True,
        )
    else:
        _skip("PAPERTRAIL_API_TOKEN", "Papertrail saved searches")


# --- the desired state, from the settings ----------------------------------------------------------


# --- UptimeRobot -----------------------------------------------------------------------------------


def uptimerobot_alert_contacts(settings: Settings) -> dict[str, ContactRef]:
    """The contacts by their key in uptimerobot_alert_contacts; a Slack contact carries the webhook URL of its
    channel when it is set (to create the contact if it is missing)."""
    refs = {}
    for key, item in settings.uptimerobot_alert_contacts.items():
        webhook = None
        if item["type"] == "slack":
            value = secrets.get(settings.alert_slack_webhooks[item.get("channel", item["name"])])
            webhook = Secret(value) if value else None
        refs[key] = ContactRef(type=item["type"], name=item.get("name"), value=item.get("value"), webhook_url=webhook)
    return refs


def uptimerobot_monitors(settings: Settings) -> list[MonitorSpec]:
    specs = []
    for item in settings.uptimerobot_monitors:
        kind = item["type"].upper()
        keyword = kind == "KEYWORD"
        specs.append(
            MonitorSpec(
                name=expand(item["name"], settings),
                type=kind,
                url=expand(item["url"], settings),
                interval=item["interval"],
                timeout=item["timeout"],
                contact_keys=tuple(item["alert_contacts"]),
                port=item.get("port"),
                keyword=item.get("keyword"),
                keyword_type=keyword_type(item["keyword_alert_when"]) if keyword else None,
                keyword_case=(0 if item.get("keyword_case_sensitive", True) else 1) if keyword else None,
                http_method="GET" if keyword else None,  # HEAD (the default) cannot see the body
            )
        )
    return specs


def uptimerobot_windows(settings: Settings) -> list[WindowSpec]:
    all_names = [item["name"] for item in settings.uptimerobot_monitors]
    specs = []
    for item in settings.uptimerobot_maintenance_windows:
        minute, hour = item["schedule"].split()[:2]
        interval, days = window_recurrence(item["schedule"])
        specs.append(
            WindowSpec(
                name=item["name"],
                interval=interval,
                time=f"{int(hour):02d}:{int(minute):02d}:00",
                duration=item["duration_minutes"],
                days=days,
                monitors=tuple(expand(name, settings) for name in item.get("monitors", all_names)),
            )
        )
    return specs


def uptimerobot_status_pages(settings: Settings) -> list[StatusPageSpec]:
    page = settings.uptimerobot_status_page
    if page is None:
        return []
    names = page.get("monitors", [item["name"] for item in settings.uptimerobot_monitors])
    link = page.get("homepage_link")
    return [
        StatusPageSpec(
            name=expand(page["name"], settings),
            monitors=tuple(expand(name, settings) for name in names),
            homepage_link=expand(link, settings) if link else None,
        )
    ]


# --- Sentry ----------------------------------------------------------------------------------------


def sentry_route(settings: Settings, tier: str) -> Route:
    """Where alerts of ``tier`` go: its alert_routes entry; Slack only with sentry_slack_integration_id."""
    route = settings.alert_routes[tier]
    integration = settings.sentry_slack_integration_id
    channels = settings.sentry_slack_channel_ids
    slack = tuple((name, channels[name]) for name in route["slack"]) if integration else ()
    return Route(slack=slack, email=route["email"], integration_id=integration)


def sentry_issue_alerts(settings: Settings) -> list[IssueAlertSpec]:
    prefix, env = settings.sentry_name_prefix, settings.sentry_environment
    return [
        IssueAlertSpec(
            name=prefix + item["name"],
            trigger=item["trigger"],
            frequency_minutes=item["frequency_minutes"],
            environment=env,
            route=sentry_route(settings, item["tier"]),
            events=item.get("events"),
            interval=item.get("interval"),
        )
        for item in settings.sentry_issue_alerts
    ]


def sentry_metric_monitors(settings: Settings) -> list[MetricMonitorSpec]:
    """One monitor per KPI entry: the warning/critical levels of kpi_thresholds times ``scale``."""
    prefix, env = settings.sentry_name_prefix, settings.sentry_environment
    specs = []
    for item in settings.sentry_metric_monitors:
        levels, scale = settings.kpi_thresholds[item["kpi"]], item.get("scale", 1)
        specs.append(
            MetricMonitorSpec(
                name=prefix + item["name"],
                aggregate=item["aggregate"],
                query=item["query"],
                window_minutes=item["window_minutes"],
                below=item["kpi"] in LOWER_IS_WORSE,
                warning=levels["warning"] * scale,
                critical=levels["critical"] * scale,
                environment=env,
                warning_route=sentry_route(settings, item["warning_tier"]),
                critical_route=sentry_route(settings, item["critical_tier"]),
            )
        )
    return specs


def sentry_cron_monitors(settings: Settings, topo: Topology | None = None) -> list[CronMonitorSpec]:
    """One Sentry Crons monitor per job of sentry_cron_jobs, on the job's own schedule; with several servers one
    per job and host that runs it (``topo``; checkins.monitors)."""
    schedules = checkins.schedules(settings)
    pairs = checkins.monitors(settings, topo) if topo else [(job, None) for job in settings.sentry_cron_jobs]
    return [
        CronMonitorSpec(
            slug=checkins.slug(settings, job, host_name),
            name=f"{settings.sentry_name_prefix}cron {job}" + (f" on {host_name}" if host_name else ""),
            schedule=schedules[job],
            checkin_margin=settings.sentry_cron_checkin_margin_minutes,
            max_runtime=settings.sentry_cron_max_runtime_minutes,
            timezone=settings.base_timezone,
        )
        for job, host_name in pairs
    ]


def sentry_cron_alert(settings: Settings) -> CronAlertSpec | None:
    """The alert that routes missed, hung and failed runs to sentry_cron_tier (none without cron jobs)."""
    if not settings.sentry_cron_jobs:
        return None
    name = f"{settings.sentry_name_prefix}Cron job missed or failed"
    return CronAlertSpec(name, sentry_route(settings, settings.sentry_cron_tier), settings.sentry_environment)


# --- Papertrail ------------------------------------------------------------------------------------


def papertrail_searches(settings: Settings) -> list[SearchSpec]:
    return [SearchSpec(name=item["name"], query=item["query"]) for item in settings.papertrail_saved_searches]
