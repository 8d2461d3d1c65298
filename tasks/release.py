"""The app itself: its secrets file, its pm2 ecosystem file, and its releases (seed §7).

Each deploy of a new commit builds <app_root>/releases/<UTC time>-<short sha>/ (git: app_git_url at
app_git_ref; without it, the reference app of files/app) and checks it before it takes any request: run
beside the live release as its own pm2 process on app_candidate_port, it must answer /health and
app_smoke_paths (else it is marked failed with a P1 and the live release goes on serving). Then it switches
<app_root>/current to it, reloads pm2 (old workers drain for up to app_drain_seconds) and gates it again:
/health through nginx and every pm2 instance online within app_health_deadline_seconds, else it switches
back and sends a P1. All of that is `louie-release deploy` on the server (files/scripts/louie-release), the
same program an operator runs for `louie-release list` and `louie-release rollback`. The deploy decides at
plan time, from the releases' metadata and the commit the ref names, whether there is anything to do: the
same commit again plans nothing.

Runs after nginx, TLS and the alert routing: the gate checks the app through nginx and alerts through
send-alert.

Runs on the ``app`` hosts. With several, the release rolls out one host at a time (pyinfra's ``_serial``),
each behind its own gate (the app's /health on the host, out of the lb's rotation meanwhile:
louie-release); a host whose release fails is rolled back by louie-release and the hosts not released yet stay
on the release they run (louieops/rollout.py). The app reaches PostgreSQL where the topology says: on
loopback on the database host, else the ``db`` host's private address over TLS (verify-full, the deploy's
database CA).

Settings read: app_user, app_git_url, app_git_ref, app_entry, app_instances, app_max_memory_restart,
app_drain_seconds,
app_log_dir, app_node_env, app_port, app_sentry_traces_sample_rate, app_root, postgresql_role,
postgresql_database, domain_admin, sentry_environment, sentry_api_url, sentry_org, sentry_project. The
database CA's name: louieops.dbtls.cluster_label.
Secrets: LOUIE_DB_PASSWORD, LOUIE_ADMIN_TOKEN, SENTRY_DSN (optional); LOUIE_CLUSTER_SECRET (database on
another host); SENTRY_AUTH_TOKEN (optional: each new release is marked in Sentry, a release and a deploy).
"""

from __future__ import annotations

import hashlib
from io import StringIO
from urllib.parse import quote

from pyinfra import host
from pyinfra.api import QuoteString, StringCommand, deploy
from pyinfra.api.exceptions import DeployError
from pyinfra.facts.server import Which
from pyinfra.operations import apt, files, server

from louieops import dbtls, layout, placement, rollout, secrets, topology
from louieops.facts.release import AppReleases, GitRemoteCommit
from louieops.facts.system import NftTableExists
from louieops.layout import AppPaths, app_paths, pm2_process
from louieops.operations import pm2, saas
from louieops.placement import SINGLE, Placement
from louieops.resources import FILES, managed, put_file, put_template
from louieops.server_scripts import put_config, release_config
from louieops.settings import Settings, for_host

REFERENCE_APP = FILES / "app"
REFERENCE_REF = "reference-app"
#: ms a new pm2 worker may take to listen before pm2 moves on (and, in a rolling reload, stops an old one).
LISTEN_TIMEOUT_MS = 10000


@deploy("The app's releases")
def deploy_app():
    s = for_host(host)
    p = app_paths(s)
    where = placement.of(host)
    database = for_host(topology.host_of(host, topology.of(host).db))  # its name and role are the db host's

    # install: the release tool, git for the real app
    put_file("scripts/louie-release", layout.script(s, "louie-release"), mode="0755")
    files.link(
        name=f"Link {layout.RELEASE_COMMAND}", path=layout.RELEASE_COMMAND, target=layout.script(s, "louie-release")
    )
    if s.app_git_url:
        apt.packages(name="Install git", packages=["git"])

    # configure: state that outlives releases, secrets, pm2's ecosystem, the release tool's config
    files.directory(name=f"Create {p.releases}", path=p.releases, user="root", group="root", mode="0755")
    files.directory(name=f"Create {p.env_dir}", path=p.env_dir, user="root", group=s.app_user, mode="0750")
    env_file = files.put(
        name=f"Upload {p.env_file}",
        dest=p.env_file,
        user=s.app_user,
        group=s.app_user,
        mode="0600",
        src=StringIO(env_file_content(app_secrets(database, where), managed("tasks/release.py"))),
    )
    ca = database_ca(s) if where.database_tls else None
    ecosystem = put_template(
        "app/ecosystem.config.js.j2",
        p.ecosystem,
        name=f"Upload {p.ecosystem}",
        **ecosystem_variables(s, p, where, database),
    )
    put_config(layout.RELEASE_CONFIG, release_config(s, where, app_env(s, p, where, database)))
    sources = reference_source(s, p)

    # activate: a new release when the live one is not the wanted commit, else a reload for new settings
    # (several app hosts: one at a time, and not after a host whose release failed)
    serial = rollout.arguments(host)
    command = release_command(s, p)
    if command is not None:
        released = server.shell(
            name=f"Deploy {describe_source(s)} as a new release, behind the health gate",
            commands=[command],
            **serial,
        )
        rollout.track(host, released)
        if secrets.get("SENTRY_AUTH_TOKEN"):  # errors tied to the release that caused them
            saas.sentry_deploy_marker(
                name="Mark the new release in Sentry (release and deploy)",
                environment=s.sentry_environment or "production",
                release_command=layout.RELEASE_COMMAND,
                api_url=s.sentry_api_url,
                org=s.sentry_org,
                project=s.sentry_project,
                _if=released.did_change,
            )
    else:
        changed = [ecosystem, env_file, *sources, *([ca] if ca else [])]
        rollout.track(
            host,
            server.shell(
                name=f"Reload pm2 app {pm2_process(s)} for its new settings, behind the health gate",
                commands=[f"{layout.RELEASE_COMMAND} reload"],
                **rollout.arguments(host, also=lambda: any(op.did_change() for op in changed)),
            ),
        )
        if where.drain and host.get_fact(NftTableExists, family="inet", table=DRAIN_TABLE, _sudo=True):
            server.shell(
                name="Put this app host back in the load balancer's rotation (left out by a stopped release)",
                commands=[f"{layout.RELEASE_COMMAND} rejoin"],
            )
    # the code of deploys before releases, no longer run once a release is live (reached only then)
    files.directory(name=f"Remove the in-place app {p.legacy_code}", path=p.legacy_code, present=False)
    pm2.app(
        name=f"Ensure pm2 app {pm2_process(s)} is online",
        app=pm2_process(s),
        ecosystem=p.ecosystem,
        pm2_home=p.pm2_home,
        _chdir="/",
        _sudo=True,
        _sudo_user=s.app_user,
    )


DRAIN_TABLE = "louieops_drain"  # files/scripts/louie-release


def database_ca(s: Settings):
    """The database CA's certificate, for verify-full (an app host whose database is on another host)."""
    authority = dbtls.ca(secrets.require(dbtls.SECRET_ENV), dbtls.cluster_label(s))
    files.directory(name=f"Create {layout.DB_TLS_DIR}", path=layout.DB_TLS_DIR, user="root", group="root", mode="0755")
    return files.put(name=f"Upload {layout.DB_TLS_CA}", src=StringIO(authority.certificate), dest=layout.DB_TLS_CA)


def app_secrets(s: Settings, where: Placement = SINGLE) -> dict[str, str | None]:
    """The app's secrets file; ``s`` holds the database host's settings (the database's name and role)."""
    password = secrets.require("LOUIE_DB_PASSWORD")
    tls = f"?sslmode=verify-full&sslrootcert={quote(layout.DB_TLS_CA, safe='/')}" if where.database_tls else ""
    address = f"[{where.database_host}]" if ":" in where.database_host else where.database_host
    return {
        "LOUIE_DB_PASSWORD": password,
        "LOUIE_ADMIN_TOKEN": secrets.require("LOUIE_ADMIN_TOKEN"),
        "DATABASE_URL": f"postgresql://{s.postgresql_role}:{quote(password, safe='')}@{address}:5432/"
        f"{s.postgresql_database}{tls}",
        "SENTRY_DSN": secrets.get("SENTRY_DSN"),
    }


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


def app_env(s: Settings, p: AppPaths, where: Placement = SINGLE, database: Settings | None = None) -> dict:
    """Non-secret environment of the app, written into the ecosystem file (``database``: the database host's
    settings, default ``s``)."""
    database = database or s
    env = {
        "NODE_ENV": s.app_node_env,
        "HOST": where.app_listen,
        "PORT": str(s.app_port),
        "APP_ENV_FILE": p.env_file,
        "APP_STATE_DIR": p.state_dir,
        "PGHOST": where.database_host,
        "PGPORT": "5432",
        "PGUSER": database.postgresql_role,
        "PGDATABASE": database.postgresql_database,
        "ADMIN_DOMAIN": s.domain_admin,
        "SENTRY_ENVIRONMENT": s.sentry_environment or s.app_node_env,
        "SENTRY_TRACES_SAMPLE_RATE": str(s.app_sentry_traces_sample_rate),
        # how long the app may take to stop once pm2 asks it to (pm2 kills it after app_drain_seconds)
        "APP_DRAIN_MS": str(s.app_drain_seconds * 1000),
    }
    if where.database_tls:
        env.update({"PGSSLMODE": "verify-full", "PGSSLROOTCERT": layout.DB_TLS_CA})
    if where.trusted_proxies:
        env["TRUSTED_PROXIES"] = ",".join(where.trusted_proxies)
    return env


def ecosystem_variables(s: Settings, p: AppPaths, where: Placement = SINGLE, database: Settings | None = None) -> dict:
    """Variables of templates/app/ecosystem.config.js.j2."""
    return {
        "process": pm2_process(s),
        "app_entry": s.app_entry,
        "current": p.current,
        "cwd": p.code,
        "app_instances": s.app_instances,
        "app_max_memory_restart": s.app_max_memory_restart,
        "app_log_dir": s.app_log_dir,
        "listen_timeout": LISTEN_TIMEOUT_MS,
        "kill_timeout": s.app_drain_seconds * 1000,
        "env": app_env(s, p, where, database),
    }


def reference_commit() -> str:
    """A stable id of the reference app's files (its 'commit'): the sha1 of their names and contents."""
    digest = hashlib.sha1()
    for path in sorted(f for f in REFERENCE_APP.rglob("*") if f.is_file()):
        digest.update(path.relative_to(REFERENCE_APP).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def reference_source(s: Settings, p: AppPaths) -> list:
    """The reference app's files in <app_root>/source (only without app_git_url); their upload operations."""
    if s.app_git_url:
        files.directory(name=f"Remove {p.source}", path=p.source, present=False)
        return []
    files.directory(name=f"Create {p.source}", path=p.source, user="root", group="root", mode="0755")
    return [
        put_file(f"app/{path.relative_to(REFERENCE_APP).as_posix()}", f"{p.source}/{path.relative_to(REFERENCE_APP)}")
        for path in sorted(REFERENCE_APP.rglob("*"))
        if path.is_file()
    ]


def describe_source(s: Settings) -> str:
    return f"{s.app_git_url} at {s.app_git_ref}" if s.app_git_url else "the reference app (files/app)"


def wanted_commit(s: Settings) -> str | None:
    """The commit to run: the reference app's id, or what app_git_ref names on the remote now (None when
    that cannot be known before git is installed: louie-release resolves it then)."""
    if not s.app_git_url:
        return reference_commit()
    commit = host.get_fact(GitRemoteCommit, url=s.app_git_url, ref=s.app_git_ref, _sudo=True, _sudo_user=s.app_user)
    if commit is None and host.get_fact(Which, command="git"):
        raise DeployError(
            f"app_git_ref {s.app_git_ref!r} is not a branch or tag of {s.app_git_url} (or the server cannot reach "
            f"it as {s.app_user}): fix app_git_ref, or give {s.app_user} access to the repository"
        )
    return commit


def release_command(s: Settings, p: AppPaths) -> StringCommand | None:
    """`louie-release deploy ...` when the live release is not the wanted commit (or failed), else None."""
    commit = wanted_commit(s)
    state = host.get_fact(AppReleases, app_root=s.app_root, _sudo=True)
    live = state["releases"].get(state["live"] or "")
    if commit and live and live.get("commit") == commit and live.get("gate") == "passed":
        return None
    bits = [layout.RELEASE_COMMAND, "deploy", "--ref", QuoteString(s.app_git_ref if s.app_git_url else REFERENCE_REF)]
    if commit:
        bits += ["--commit", commit]
    if not s.app_git_url:
        bits += ["--source", QuoteString(p.source)]
    return StringCommand(*bits)
