"""Health check (seed §3) against the KPI thresholds (seed §5), every few minutes from cron.

Settings read: health_user, health_schedule, health_websocket_metrics_path. The KPI history's config
(louieops/server_scripts.py, history_config) reads health_history_days and kpi_thresholds, and whether the
System Health page is served here (health_page_served) health_page_user and certbot_enabled.
Secret read (only with health_websocket_metrics_path): LOUIE_ADMIN_TOKEN, for the app's websocket count.

The check runs as health_user (created by tasks/alerts.py): a system user without a shell or sudo, member
of alert_group (so it may call send-alert) and of Debian's log-reading group adm (the app's logs are
<app_user>:adm 0640, nginx's access log www-data:adm 0640).
It reaches PostgreSQL as a role of the same name by peer authentication over the
Unix socket: a login role with no grants beyond PUBLIC's CONNECT, enough for `SELECT 1` and nothing
else, and no password anywhere. The same user runs the maintenance jobs (tasks/maintenance.py).
What it checks and against which levels: /etc/louieops/health.json (louieops/server_scripts.py): what the
host's roles serve (the API through nginx on the lb, the app's own /health on an app host, PostgreSQL on a
database host), and disk, memory and CPU everywhere; its alerts name the host. The database role is created
on the primary only (a standby has it by replication). The app's admin token, which the websocket count
needs, is in /etc/louieops/health-secrets.json (root:<health_user> 0640) on an app host, readable by the
check and nobody else but root.
Each complete run appends the KPIs to their history (files/scripts/louieops_history.py); on the host serving
the admin domain it also writes the System Health page's data into <health_user>:www-data 0750, beside the
page's static files (files/health-page/), which nginx serves behind the admin login (tasks/nginx.py).
"""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import files, postgres

from louieops import checkins, layout, placement, secrets, topology
from louieops.resources import put_file, put_template
from louieops.server_scripts import health_config, health_page_served, put_config
from louieops.settings import for_host

AS_POSTGRES = {"_sudo": True, "_sudo_user": "postgres"}
PAGE_FILES = ("index.html", "health.js", "health.css")


@deploy("Health check")
def install_health_check():
    s = for_host(host)
    script = layout.script(s, "health-check")

    # install: the monitor user's state (tasks/alerts.py creates the user) and its database role
    files.directory(
        name=f"Create {layout.HEALTH_STATE_DIR}",
        path=layout.HEALTH_STATE_DIR,
        user=s.health_user,
        group=s.health_user,
        mode="755",
    )
    where = placement.of(host)
    if where.has(topology.DB):
        postgres.role(
            name=f"Create PostgreSQL login role {s.health_user} (peer authentication, no grants)",
            role=s.health_user,
            login=True,
            **AS_POSTGRES,
        )
    put_file(f"scripts/{layout.KPIS_LIBRARY}", layout.script(s, layout.KPIS_LIBRARY))
    put_file(f"scripts/{layout.HISTORY_LIBRARY}", layout.script(s, layout.HISTORY_LIBRARY))
    _health_page(s, page_here=health_page_served(s) and where.nginx_here)
    put_file("scripts/health-check", script, mode="0755")

    # configure
    put_config(layout.HEALTH_CONFIG, health_config(s, where))
    if s.health_websocket_metrics_path and where.has(topology.APP):  # the app answers the count
        secret = {"admin_token": secrets.require("LOUIE_ADMIN_TOKEN")}
        put_config(layout.HEALTH_SECRETS, secret, mode="0640", group=s.health_user)
    else:
        files.file(name=f"Remove {layout.HEALTH_SECRETS}", path=layout.HEALTH_SECRETS, present=False)

    # activate (cron reads /etc/cron.d itself)
    put_template(
        "health/louieops-health-check.j2",
        layout.HEALTH_CRON,
        name=f"Upload {layout.HEALTH_CRON}",
        health_schedule=s.health_schedule,
        health_user=s.health_user,
        state_dir=layout.HEALTH_STATE_DIR,
        script=script,
        checkin=checkins.wrapped(s, "health-check"),
    )


def _health_page(s, page_here: bool) -> None:
    """The System Health page's files and the directory of its data (nginx reads it as www-data), or neither."""
    if not page_here:
        for path in (layout.HEALTH_PAGE_DATA_DIR, layout.HEALTH_PAGE_FILES):
            files.directory(name=f"Remove {path}", path=path, present=False)
        return
    files.directory(
        name=f"Create {layout.HEALTH_PAGE_DATA_DIR}",
        path=layout.HEALTH_PAGE_DATA_DIR,
        user=s.health_user,
        group="www-data",
        mode="750",
    )
    files.directory(
        name=f"Create {layout.HEALTH_PAGE_FILES}", path=layout.HEALTH_PAGE_FILES, user="root", group="root", mode="755"
    )
    for name in PAGE_FILES:
        put_file(f"health-page/{name}", f"{layout.HEALTH_PAGE_FILES}/{name}")
