"""The app's runtime: Node.js, pm2 (pinned) and the systemd unit that runs the app user's pm2 daemon at
boot, and the rotation of the app's logs. The app itself (its releases, secrets and pm2 process) is
tasks/release.py. Runs on the ``app`` hosts; one without the database gets PostgreSQL's client (psql) only.

Settings read: nodejs_source, nodejs_nodesource_major, pm2_version, app_name, app_user, app_log_dir,
app_uploads_dir, alert_group.
"""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.files import Directory
from pyinfra.operations import apt, files, gpg, systemd
from pyinfra.operations.util import any_changed

from louieops import topology
from louieops.layout import app_paths, home_of, pm2_unit
from louieops.operations import npm
from louieops.resources import put_template
from louieops.settings import Settings, for_host

NODESOURCE_KEY_URL = "https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key"
NODESOURCE_KEYRING = "/etc/apt/keyrings/nodesource.gpg"
LOG_ROTATE_DAYS = 14


@deploy("Node.js and pm2")
def provision_runtime():
    s = for_host(host)
    p = app_paths(s)

    # install: Node.js and the pinned pm2 (and psql where the database is on another host)
    install_nodejs(s)
    if not topology.me(host).has(topology.DB, topology.STANDBY):
        apt.packages(name="Install the PostgreSQL client", packages=["postgresql-client"])
    pm2_install = npm.global_package(name=f"Install pm2 {s.pm2_version} with npm", package="pm2", version=s.pm2_version)

    # configure: log rotation, and the pm2 daemon of the app user, started by systemd at boot
    put_template(
        "app/logrotate.j2",
        f"/etc/logrotate.d/{s.app_name}",
        name=f"Upload /etc/logrotate.d/{s.app_name}",
        app_log_dir=s.app_log_dir,
        app_user=s.app_user,
        pm2_home=p.pm2_home,
        rotate_days=LOG_ROTATE_DAYS,
    )
    # the toggles and their audit log: the app writes them, the alerting jobs (alert_group) read the log. Made
    # before the daemon starts: its sandbox (ProtectSystem=strict) lets it write only to paths that existed then.
    files.directory(name=f"Create {p.state_dir}", path=p.state_dir, user=s.app_user, group=s.alert_group, mode="2750")
    unit_name = pm2_unit(s)
    unit = put_template(
        "app/pm2.service.j2",
        f"/etc/systemd/system/{unit_name}",
        name=f"Upload /etc/systemd/system/{unit_name}",
        app_user=s.app_user,
        home=home_of(s.app_user),
        pm2_home=p.pm2_home,
        pm2=p.pm2,
        node_bin_dir="/usr/bin",
        writable=[s.app_log_dir, s.app_uploads_dir, p.state_dir],
    )

    # activate
    systemd.daemon_reload(name=f"Reload systemd for {unit_name}", _if=unit.did_change)
    started = systemd.service(name=f"Enable and start {unit_name}", service=unit_name, running=True, enabled=True)
    # a new pm2 on disk, or a new unit (its sandbox is set when the daemon starts), only counts once the
    # daemon restarts: restart the unit (it kills the daemon and resurrects the saved apps), unless it was only
    # just started anyway. A server still running the in-place app of deploys before releases gets the new
    # unit when the release step starts the app anew (louie-release restarts the daemon in that gap).
    moving_to_releases = host.get_fact(Directory, path=p.legacy_code) is not None
    restart_for = [pm2_install] if moving_to_releases else [pm2_install, unit]
    systemd.service(
        name=f"Restart {unit_name} for pm2 {s.pm2_version} and its unit",
        service=unit_name,
        running=True,
        restarted=True,
        _if=lambda: any_changed(*restart_for)() and not started.did_change(),
    )


def install_nodejs(s: Settings):
    if s.nodejs_source == "debian":
        apt.packages(name="Install Node.js and npm from Debian", packages=["nodejs", "npm"])
        return
    key = gpg.key(name="Install the NodeSource signing key", src=NODESOURCE_KEY_URL, dest=NODESOURCE_KEYRING)
    repo = put_template(
        "app/nodesource.sources.j2",
        "/etc/apt/sources.list.d/nodesource.sources",
        name="Upload /etc/apt/sources.list.d/nodesource.sources",
        nodejs_nodesource_major=s.nodejs_nodesource_major,
        keyring=NODESOURCE_KEYRING,
    )
    pin = put_template(
        "app/nodesource.pref.j2", "/etc/apt/preferences.d/nodesource", name="Upload /etc/apt/preferences.d/nodesource"
    )
    apt.update(name="Update the package lists for NodeSource", _if=any_changed(key, repo, pin))
    apt.packages(name=f"Install Node.js {s.nodejs_nodesource_major} from NodeSource", packages=["nodejs"])
