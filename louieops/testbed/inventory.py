"""Render the pyinfra inventory and the secrets file for one test server (pure functions + writers)."""

from __future__ import annotations

import os
import runpy
import secrets
import shlex
from collections.abc import Mapping
from pathlib import Path

from . import peers
from .apprepo import APP_DIR
from .paths import REPO_ROOT

INVENTORY_FILE = "inventory.py"
ENV_FILE = "env"
GROUP_DATA_DIR = "group_data"
#: Relative link from ``.testbed/<name>/group_data`` to the project's group data.
GROUP_DATA_LINK = "../../inventory/group_data"


def host_data(
    *,
    name: str,
    peer_address: str,
    ssh_key: Path,
    known_hosts: Path,
    acme_directory_url: str,
    s3_endpoint_url: str,
    recorder_url: str,
    uptimerobot_url: str,
    sentry_url: str,
    app_git_url: str,
) -> dict[str, object]:
    """Connection settings and the dynamic peer settings of one test server."""
    return {
        "ssh_user": "deploy",
        "ssh_key": str(ssh_key),
        "ssh_known_hosts_file": str(known_hosts),
        "ssh_strict_host_key_checking": "yes",
        "_sudo": True,
        "certbot_acme_server": acme_directory_url,
        "backup_s3_endpoint_url": s3_endpoint_url,
        # pgBackRest's repository (with backup_pitr on): the S3 stand-in over TLS, verified by name
        "backup_pitr_s3_endpoint_url": peers.s3_tls_endpoint_url(peer_address),
        "uptimerobot_api_url": uptimerobot_url,
        "sentry_api_url": sentry_url,
        # the app from its git remote on the peer, in the seed's layout (apprepo.py)
        "app_git_url": app_git_url,
        "app_dir": APP_DIR,
        # alert e-mail through the SMTP recorder, logs to the syslog receiver: both verified by name over TLS
        "alert_smtp_host": peers.PEER_HOSTNAME,
        "alert_smtp_port": peers.SMTP_PORT,
        "alert_smtp_user": peers.SMTP_USER,
        "papertrail_host": peers.PEER_HOSTNAME,
        "papertrail_port": peers.SYSLOG_PORT,
        "papertrail_permitted_peer": peers.PEER_HOSTNAME,
        "papertrail_api_url": peers.papertrail_api_url(peer_address),
        # the registry these servers reach refuses npm audit's POST: recorded advisories instead
        "maintenance_npm_audit_registry": peers.npm_audit_url(peer_address),
        "maintenance_stripe_api_url": peers.stripe_url(peer_address),
        "testbed_name": name,
        "testbed_peer_address": peer_address,
        "testbed_recorder_url": recorder_url,
        "kpi_thresholds": kpi_thresholds_without_cpu(),
    }


def kpi_thresholds_without_cpu() -> dict[str, dict]:
    """all.py's KPI thresholds with no CPU levels: a test server's load average is its host's (containers
    share the kernel), so on a busy CI machine the CPU check would report the other test servers' work and
    alert at random moments."""
    defaults = runpy.run_path(str(REPO_ROOT / "inventory" / "group_data" / "all.py"))
    return {**defaults["kpi_thresholds"], "cpu_pct": {"target": None, "warning": None, "critical": None}}


def render_inventory(name: str, address: str, data: Mapping[str, object]) -> str:
    """Python source of the inventory file: one group ``testbed`` holding the server."""
    items = "".join(f"            {key!r}: {value!r},\n" for key, value in data.items())
    return (
        f'"""pyinfra inventory of test server {name!r}: written by `python -m louieops.testbed up`.\n\n'
        "Regenerated on every `up`; edits are lost. Group data comes from ./group_data\n"
        '(a link to the project\'s inventory/group_data, including testbed.py)."""\n\n'
        f"testbed = [\n    (\n        {address!r},\n        {{\n{items}        }},\n    ),\n]\n"
    )


def generate_secrets(recorder: str, saas_token: str, sentry_dsn: str) -> dict[str, str]:
    """Fresh random secrets for the deploy's environment; Slack webhooks and Sentry's DSN point at the recorder,
    the SMTP password is the SMTP recorder's."""
    return {
        "LOUIE_DB_PASSWORD": secrets.token_urlsafe(24),
        "LOUIE_ADMIN_TOKEN": secrets.token_urlsafe(32),
        "AWS_ACCESS_KEY_ID": "testbed" + secrets.token_hex(6).upper(),
        "AWS_SECRET_ACCESS_KEY": secrets.token_urlsafe(30),
        "LOUIE_BACKUP_PASSPHRASE": secrets.token_urlsafe(32),
        "SLACK_WEBHOOK_CRITICAL": f"{recorder}/slack/critical",
        "SLACK_WEBHOOK_HIGH": f"{recorder}/slack/high",
        "SLACK_WEBHOOK_GENERAL": f"{recorder}/slack/general",
        "UPTIMEROBOT_API_KEY": saas_token,
        "SENTRY_AUTH_TOKEN": saas_token,
        "PAPERTRAIL_API_TOKEN": saas_token,
        "STRIPE_RESTRICTED_KEY": peers.STRIPE_KEY,
        "LOUIE_HEALTH_PAGE_PASSWORD": secrets.token_urlsafe(24),
        "SENTRY_DSN": sentry_dsn,
        "ALERT_SMTP_PASSWORD": peers.SMTP_PASSWORD,
    }


def render_env(env: Mapping[str, str]) -> str:
    lines = ["# Secrets for the test server's deploy: `. ./env` (generated; mode 0600)."]
    lines += [f"export {key}={shlex.quote(value)}" for key, value in env.items()]
    return "\n".join(lines) + "\n"


def parse_env(text: str) -> dict[str, str]:
    """Read back a file written by :func:`render_env`."""
    env = {}
    for line in text.splitlines():
        if line.startswith("export "):
            key, _, value = line[len("export ") :].partition("=")
            env[key] = shlex.split(value)[0] if value else ""
    return env


class InventoryFiles:
    """The inventory and env files a test server or a cluster writes into its ``workdir``."""

    workdir: Path

    @property
    def inventory_path(self) -> Path:
        return self.workdir / INVENTORY_FILE

    @property
    def env_path(self) -> Path:
        return self.workdir / ENV_FILE

    @property
    def env(self) -> dict[str, str]:
        """The secrets written to the env file (for ``subprocess.run(..., env={**os.environ, **tb.env})``)."""
        return parse_env(self.env_path.read_text())


def write_workdir(
    workdir: Path,
    *,
    name: str,
    address: str | None,
    data: Mapping[str, object],
    env: Mapping[str, str],
    text: str | None = None,
) -> tuple[Path, Path]:
    """Write inventory.py (``text``, or the one-server inventory of ``address``), env (0600) and the group_data
    link into ``workdir``; return both paths."""
    workdir.mkdir(parents=True, exist_ok=True)
    inventory = workdir / INVENTORY_FILE
    inventory.write_text(text if text is not None else render_inventory(name, str(address), data))
    env_path = workdir / ENV_FILE
    fd = os.open(env_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(render_env(env))
    os.chmod(env_path, 0o600)
    link = workdir / GROUP_DATA_DIR
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(GROUP_DATA_LINK)
    return inventory, env_path
