"""A bad setting stops the real pyinfra CLI before anything is planned, with one readable line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PYINFRA = Path(sys.executable).with_name("pyinfra")


def run_deploy_with(tmp_path: Path, extra: str, *flags: str) -> subprocess.CompletedProcess:
    shutil.copytree(REPO / "inventory" / "group_data", tmp_path / "group_data")
    (tmp_path / "group_data" / "local.py").write_text(extra)
    (tmp_path / "local.py").write_text('local = ["@local"]\n')
    return subprocess.run(
        [str(PYINFRA), *(flags or ("-y",)), str(tmp_path / "local.py"), "deploy.py"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_bad_value_stops_the_run_with_one_line(tmp_path):
    result = run_deploy_with(tmp_path, 'backup_db_schedule = "0 */6 * *"\n')
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "setting backup_db_schedule = '0 */6 * *' is invalid: expected a 5-field cron schedule" in output
    assert "Traceback" not in output
    assert "Beginning operation run" not in output


def test_mistyped_setting_name_stops_the_run(tmp_path):
    result = run_deploy_with(tmp_path, "nginx_use_ppa = True\n")
    assert result.returncode != 0
    assert "setting nginx_use_ppa = True is invalid: expected a known setting name" in result.stdout + result.stderr


def test_diff_is_refused_because_it_would_print_secret_files(tmp_path):
    # --dry: even if the guard were missing, nothing would be executed on this machine.
    result = run_deploy_with(tmp_path, "", "--dry", "--diff")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "--diff would print the secret files" in output
