"""Cron check-ins (Sentry Crons): the scheduled jobs report each run, so a run that is missed, hangs or fails
raises a Sentry issue, routed like the others (seed §4, §6).

Settings read: alert_group. The config (louieops/server_scripts.py, louieops/checkins.py) reads
sentry_cron_jobs, sentry_cron_checkin_margin_minutes, sentry_cron_max_runtime_minutes, sentry_environment,
base_timezone, app_name and the schedules of the jobs.
Secret read: SENTRY_DSN (optional: without it the jobs run without check-ins).

On the server:
- {scripts_dir}/cron-checkin: the wrapper the cron lines of the jobs in sentry_cron_jobs run them through
  (tasks/health.py, tasks/backups.py put it in front of the job's command);
- /etc/louieops/cron-checkin.json, root:<alert_group> 0640: the check-in URL and the DSN's public key (a key
  that can only send events), the environment and each job's monitor slug and schedule. The jobs' users (the
  backup user, the monitor user, root) can read it; the app user cannot.
The Sentry side (one cron monitor per job; with several servers one per job and host that runs it) is
registered by tasks/saas.py.
"""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import deploy

from louieops import checkins, layout, placement, secrets
from louieops.resources import put_file
from louieops.server_scripts import checkin_config, put_config
from louieops.settings import for_host


@deploy("Cron check-ins")
def install_cron_checkins():
    s = for_host(host)

    # install
    put_file(f"scripts/{checkins.WRAPPER}", layout.script(s, checkins.WRAPPER), mode="0755")

    # configure
    host_name = None if placement.of(host).single_server else host.name  # with several: a monitor per host
    config = checkin_config(s, secrets.get("SENTRY_DSN"), host_name)
    put_config(layout.CHECKIN_CONFIG, config, mode="0640", group=s.alert_group)
