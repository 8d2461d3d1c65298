"""The Node.js app under pm2: Node.js, pm2 (pinned), the app code, its secrets file, the ecosystem
file, the pm2 systemd unit of the app user, log rotation, and a reload only when something changed.

Settings read: nodejs_source, nodejs_nodesource_major, pm2_version, app_name, app_user,
app_log_dir, app_port, app_node_env, app_git_url, app_git_ref, app_instances, app_max_memory_restart,
postgresql_role, postgresql_database, domain_admin. Secrets: LOUIE_DB_PASSWORD, LOUIE_ADMIN_TOKEN,
SENTRY_DSN (optional).
"""

from __future__ import annotations

from io import StringIO
from urllib.parse import quote

from pyinfra import host
from pyinfra.api import QuoteString, StringCommand, deploy
from pyinfra.facts.files import FileContents, Sha256File
from pyinfra.operations import apt, files, git, gpg, server, systemd
from pyinfra.operations.util import any_changed

from louieops import secrets
from louieops.layout import AppPaths, app_paths, home_of, pm2_process, pm2_unit
from louieops.operations import npm, pm2
from louieops.resources import managed, put_file, put_template
from louieops.settings import Settings, for_host

NODESOURCE_KEY_URL = "https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key"
NODESOURCE_KEYRING = "/etc/apt/keyrings/nodesource.gpg"
REFERENCE_APP_FILES = ("server.js", "package.json")
LOG_ROTATE_DAYS = 14
# In node_modules (emptied by `npm ci`): sha256 of the package-lock.json the dependencies were installed from.
NPM_STAMP = "node_modules/.louieops-lock-sha256"


def env_file_content(values: dict[str, str | None], header: str) -> str:
    """KEY=value lines of the app's secrets file; unset (None) values are left out."""
    lines = [f"# {header}"]
    for key, value in values.items():
        if value is None:
            continue
        if "\n" in value or "\r" in value:
            raise ValueError(f"secret {key} contains a line break")
        lines.append(f"{key}={value}")
    return "\n".join(lines) + "\n"


def app_env(s: Settings, p: AppPaths) -> dict:
    """Non-secret environment of the app, written into the ecosystem file."""
    return {
        "NODE_ENV": s.app_node_env,
        "HOST": "127.0.0.1",
        "PORT": str(s.app_port),
        "APP_ENV_FILE": p.env_file,
        "PGHOST": "127.0.0.1",
        "PGPORT": "5432",
        "PGUSER": s.postgresql_role,
        "PGDATABASE": s.postgresql_database,
        "ADMIN_DOMAIN": s.domain_admin,
    }


@deploy("Node.js app under pm2")
def provision_app():
    s = for_host(host)
    p = app_paths(s)
    as_app_user = {"_sudo": True, "_sudo_user": s.app_user}

    # install: Node.js and the pinned pm2
    install_nodejs(s)
    pm2_install = npm.global_package(name=f"Install pm2 {s.pm2_version} with npm", package="pm2", version=s.pm2_version)

    # configure: code, secrets, ecosystem file
    code_changes = deploy_code(s, p)
    files.directory(name=f"Create {p.env_dir}", path=p.env_dir, user="root", group=s.app_user, mode="0750")
    db_password = secrets.require("LOUIE_DB_PASSWORD")
    env_file = files.put(
        name=f"Upload {p.env_file}",
        dest=p.env_file,
        user=s.app_user,
        group=s.app_user,
        mode="0600",
        src=StringIO(
            env_file_content(
                {
                    "LOUIE_DB_PASSWORD": db_password,
                    "LOUIE_ADMIN_TOKEN": secrets.require("LOUIE_ADMIN_TOKEN"),
                    "DATABASE_URL": f"postgresql://{s.postgresql_role}:{quote(db_password, safe='')}@127.0.0.1:5432/"
                    f"{s.postgresql_database}",
                    "SENTRY_DSN": secrets.get("SENTRY_DSN"),
                },
                managed("tasks/app.py"),
            )
        ),
    )
    ecosystem = put_template(
        "app/ecosystem.config.js.j2", p.ecosystem, name=f"Upload {p.ecosystem}", **ecosystem_variables(s, p)
    )
    put_template(
        "app/logrotate.j2",
        f"/etc/logrotate.d/{s.app_name}",
        name=f"Upload /etc/logrotate.d/{s.app_name}",
        app_log_dir=s.app_log_dir,
        app_user=s.app_user,
        pm2_home=p.pm2_home,
        rotate_days=LOG_ROTATE_DAYS,
    )

    # configure: the pm2 daemon of the app user, started by systemd at boot
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
    )
    systemd.daemon_reload(name=f"Reload systemd for {unit_name}", _if=unit.did_change)
    started = systemd.service(name=f"Enable and start {unit_name}", service=unit_name, running=True, enabled=True)
    # a new pm2 on disk only runs once its daemon restarts: restart the unit (it kills the daemon and
    # resurrects the saved apps with the new pm2), unless it was only just started by the new pm2
    systemd.service(
        name=f"Restart {unit_name} for pm2 {s.pm2_version}",
        service=unit_name,
        running=True,
        restarted=True,
        _if=lambda: pm2_install.did_change() and not started.did_change(),
    )

    # activate: reload only when code, secrets or ecosystem changed; start if the app is not online
    process = pm2_process(s)
    server.shell(
        name=f"Start or reload pm2 app {process} and save the process list",
        commands=pm2.start_commands(p.ecosystem, p.pm2_home),
        _if=any_changed(ecosystem, env_file, *code_changes),
        _chdir="/",
        **as_app_user,
    )
    pm2.app(
        name=f"Ensure pm2 app {process} is online",
        app=process,
        ecosystem=p.ecosystem,
        pm2_home=p.pm2_home,
        _chdir="/",
        **as_app_user,
    )


def ecosystem_variables(s: Settings, p: AppPaths) -> dict:
    """Variables of templates/app/ecosystem.config.js.j2."""
    return {
        "process": pm2_process(s),
        "script": "server.js",
        "cwd": p.code,
        "app_instances": s.app_instances,
        "app_max_memory_restart": s.app_max_memory_restart,
        "app_log_dir": s.app_log_dir,
        "env": app_env(s, p),
    }


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


def deploy_code(s: Settings, p: AppPaths) -> list:
    """The reference app (files/app) or a checkout of app_git_url; returns the ops that change the code."""
    if s.app_git_url is None:
        files.directory(name=f"Create {p.code}", path=p.code, user="root", group="root", mode="0755")
        return [put_file(f"app/{filename}", f"{p.code}/{filename}") for filename in REFERENCE_APP_FILES]
    as_app_user = {"_sudo": True, "_sudo_user": s.app_user}
    apt.packages(name="Install git", packages=["git"])
    # the checkout belongs to the app user, so that `npm ci` (and the install scripts of the
    # dependencies) run as that user, not root; git runs as its owner (git refuses a repository
    # owned by another user)
    files.directory(
        name=f"Create {p.code}", path=p.code, user=s.app_user, group=s.app_user, mode="0755", recursive=True
    )
    checkout = git.repo(
        name=f"Check out {s.app_git_url} ({s.app_git_ref}) into {p.code}",
        src=s.app_git_url,
        dest=p.code,
        branch=s.app_git_ref,
        **as_app_user,
    )
    lock, stamp = f"{p.code}/package-lock.json", f"{p.code}/{NPM_STAMP}"
    dependencies = server.shell(
        name=f"Install the app's npm dependencies in {p.code}",
        commands=[npm_ci_command(stamp)],
        _if=lambda: npm_dependencies_stale(lock, stamp),
        _chdir=p.code,
        _env={"HOME": home_of(s.app_user)},
        **as_app_user,
    )
    return [checkout, dependencies]


def npm_ci_command(stamp: str) -> StringCommand:
    """``npm ci`` then, only if it succeeded, the stamp with the sha256 of the lock file it installed."""
    return StringCommand(
        "npm ci --omit=dev --no-audit --no-fund --no-update-notifier && mkdir -p node_modules &&",
        "sha256sum package-lock.json | cut -d ' ' -f 1 >",
        QuoteString(stamp),
    )


def npm_dependencies_stale(lock: str, stamp: str) -> bool:
    """True when package-lock.json exists and the stamp does not hold its sha256 (read when the
    operation runs: a failed or interrupted `npm ci` leaves no matching stamp, so it runs again)."""
    wanted = host.get_fact(Sha256File, path=lock)
    if not wanted:
        return False  # no lock file: `npm ci` has nothing to install from
    stamped = host.get_fact(FileContents, path=stamp)
    return not stamped or stamped[0].strip() != wanted
