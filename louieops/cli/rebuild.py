"""``louieops rebuild INVENTORY --from-s3``: a fresh server from the bucket alone (docs/backups.md, "Rebuilding").

The disaster-recovery rebuild, step by step, each step an existing command with its own checks:

1. the deploy of INVENTORY (the new server: packages, configuration, certificates, the app's release);
2. ``louie-restore-db --latest --force`` on the database host: the point-in-time repository (backup_pitr)
   restored to its newest archived WAL over the server's fresh cluster (kept as a pg_dumpall first);
3. ``restore-files uploads --from s3 --force latest`` on the app hosts (checksum verified, decrypted);
4. (not with ``--drill``) a full pgBackRest backup of the rebuilt cluster and the deploy again, which now
   finds it the repository's database;
5. ``health-check --no-alert --only api,database`` on every host: /health through nginx, the database query.

It prints the time each step took and the time to recover. The configuration is the inventory's and the
environment's (the deploy writes it); what lives only on the server (the database, the uploads) comes from S3.

Without ``--drill`` the rebuilt server takes over the repository: its database continues the stanza on a new
timeline, so the old server must be gone (a second primary archiving into one stanza would mix timelines).
With ``--drill`` (the quarterly drill, the old server still serving) the copy archives no WAL and its backup
jobs are removed: it never writes into the bucket it was restored from. Tear the drill server down after.
"""

from __future__ import annotations

import os
import shlex

from .. import layout
from ..settings import SettingsError
from ..settings.inventory import host_settings
from . import deploy, remote, restore, steps
from .admin import AdminError

#: The checks that say the rebuilt service serves (health-check's names).
VERIFY_CHECKS = "api,database"
#: The jobs a drill's copy must not run: they write into the bucket it was restored from.
DRILL_REMOVED_CRON = (layout.PITR_CRON, layout.BACKUP_CRON)


def preflight(inventory: str) -> str:
    """The scripts directory of the inventory's servers; refuses (exit 2, one line) an inventory that cannot
    be rebuilt from S3."""
    remote.hosts(inventory)  # one line when the file is missing
    try:
        settings = host_settings(inventory, None)
    except (OSError, ValueError, SettingsError) as exc:
        raise AdminError(str(exc), 2) from exc
    if not settings.backup_pitr:  # (the settings refuse backup_pitr without a backup_s3_bucket)
        raise AdminError(
            f"{inventory} has backup_pitr off: the rebuild restores the database from the point-in-time "
            "repository (set backup_pitr = True, as on the server it replaces)",
            2,
        )
    return settings.scripts_dir


def on(inventory: str, group: str | None, words: list[str]) -> int:
    """``words`` on the hosts of ``group`` (every host when the inventory has no such group, or for None)."""
    return remote.run(remote.command(inventory, words, only=remote.limit(inventory, group)))


def run(inventory: str, drill: bool, yes: bool) -> int:
    scripts_dir = preflight(inventory)
    what = "a drill copy (archives nothing)" if drill else "the server that takes over the repository"
    if not steps.confirm(yes, f"provision {inventory} as {what} and restore it from S3?"):
        return 2
    run_step = steps.Steps("rebuild", "the steps before it stand")
    step = run_step.run

    def rebuild_deploy() -> int:
        """The deploy, keeping the bucket's repository for the restore (tasks/pitr.py reads REBUILD_ENV)."""
        os.environ[layout.REBUILD_ENV] = "1"
        try:
            return deploy.run("apply", inventory, None)
        finally:
            del os.environ[layout.REBUILD_ENV]

    restore_db = ["--latest", "--force", *(["--no-archive"] if drill else [])]
    step("deploy", rebuild_deploy)
    step(
        "restore the database (newest archived WAL)",
        lambda: remote.run(restore.command(inventory, None, [*restore_db, "--yes"])),
    )
    step(
        "restore the uploads",
        lambda: on(inventory, "app", [f"{scripts_dir}/restore-files", "uploads", "--from", "s3", "--force"]),
    )
    if drill:
        step("remove the drill copy's backup jobs", lambda: on(inventory, None, ["rm", "-f", *DRILL_REMOVED_CRON]))
    else:
        step(
            "full backup of the rebuilt database",
            lambda: on(inventory, "db", [layout.PITR_BACKUP_COMMAND, "full"]),
        )
        step("deploy again", rebuild_deploy)
    step(
        "verify",
        lambda: on(inventory, None, [f"{scripts_dir}/health-check", "--no-alert", "--only", VERIFY_CHECKS]),
    )
    run_step.print_timings()
    kind = "drill copy" if drill else "server"
    print(f"louieops rebuild: {kind} {shlex.quote(inventory)} recovered from S3 in {run_step.seconds:.0f} s")
    return 0
