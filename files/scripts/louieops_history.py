# Managed by louieops (files/scripts/louieops_history.py); local edits are overwritten on the next deploy.
"""The health check's KPI history and the System Health page's data (seed §1 "System Health").

After each complete run the health check calls :func:`record`: one line of this host's KPIs (API latency and
error rate, CPU, memory, the fullest disk, database connections, the age of the last database backup) is
appended to the history (JSON lines), which keeps ``days`` of them. Where nginx serves the admin domain, the
page's data (``page_data``: the history, the KPI levels, open alerts, the live release, the last backups) is
written for the page (files/health-page/), which nginx serves behind the admin login.

Config: the ``history`` entry of /etc/louieops/health.json (louieops/server_scripts.py). Standard library only.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time

import louieops_common as common

#: Days of history the page is given (its longest window); the history itself keeps health_history_days.
PAGE_DAYS = 7
#: The plotted KPIs (the config's "plots") worked out here; the others are the health check's findings of the
#: same (check) name, taken as they are.
DERIVED = ("disk_pct", "db_connections", "backup_age_hours")
#: Sessions connected to a database, every role's: pg_stat_database is readable by any role, while
#: pg_stat_activity hides other roles' sessions' details from the monitor's unprivileged one.
CONNECTIONS_QUERY = "SELECT sum(numbackends) FROM pg_stat_database"


def db_connections(database):
    """Sessions connected to PostgreSQL's databases (this probe's own included), or None."""
    if not database:
        return None
    command = ["psql", "-X", "-w", "-A", "-t", "-d", database["name"], "-c", CONNECTIONS_QUERY]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=15)
        return int(done.stdout.strip()) if done.returncode == 0 else None
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None


def backup_age_hours(history, now):
    """Hours since the last good database backup on this host (the dump, or pgBackRest's), or None."""
    times = []
    if "db" in history["backup_kinds"]:
        try:
            status = common.backup_status(history["backup_status_dir"], "db")
        except (OSError, ValueError):
            status = None
        if status:
            times.append(status["time"])
    pitr = common.load_json(history["pitr_status"], default=None) if history.get("pitr_status") else None
    if isinstance(pitr, dict) and pitr.get("time"):
        times.append(pitr["time"])
    return round((now - max(times)) / 3600, 2) if times else None


def entry(results, history, database, now):
    """One history line: {"time", <kpi>: value or None, ...} from a run's findings and two more reads."""
    values = {r["check"]: r["value"] for r in results if r.get("value") is not None}
    disks = [r["value"] for r in results if r["check"] == "disk_pct" and r.get("value") is not None]
    line = {"time": round(now)}
    line.update({kpi: values.get(kpi) for kpi, _title, _unit in history.get("plots", ()) if kpi not in DERIVED})
    line["disk_pct"] = max(disks) if disks else None
    line["db_connections"] = db_connections(database)
    line["backup_age_hours"] = backup_age_hours(history, now)
    return line


def open_alerts(state_path):
    """The alerts send-alert holds open: [{"key", "tier", "message", "since", "acked"}], most urgent first."""
    state = common.load_json(state_path, default={}) or {}
    opened = [
        {"key": k, "tier": v["tier"], "message": v["message"], "since": v["first"], "acked": bool(v.get("acked"))}
        for k, v in state.items()
        if v.get("kind") != "report" and not v.get("resolved")
    ]
    return sorted(opened, key=lambda a: (a["tier"], a["since"]))


def live_release(history):
    try:
        live = os.path.basename(os.readlink(history["current"]))
    except OSError:
        return None
    meta = common.load_json(os.path.join(history["releases_dir"], live, ".louieops-release.json"), default={})
    return {"id": live, **{k: meta.get(k) for k in ("commit", "ref", "gate", "time")}}


def last_backups(history):
    found = []
    for kind in history["backup_kinds"]:
        try:
            status = common.backup_status(history["backup_status_dir"], kind)
        except (OSError, ValueError):
            status = None
        found.append({"kind": kind, "time": status and status.get("time"), "size": status and status.get("size")})
    return found


def page_data(lines, history, now):
    return {
        "generated": round(now),
        "host": socket.gethostname(),
        "history": [line for line in lines if line.get("time", 0) >= now - PAGE_DAYS * 86400],
        "plots": history.get("plots", []),
        "levels": history["levels"],
        "alerts": open_alerts(history["alert_state"]),
        "release": live_release(history),
        "backups": last_backups(history),
    }


def record(history, results, database, now=None):
    """Append this run to the history (keeping ``days``), and write the page's data where it is served."""
    now = time.time() if now is None else now
    oldest = now - history["days"] * 86400
    lines = [line for line in common.read_json_lines(history["path"]) if line.get("time", 0) >= oldest]
    lines.append(entry(results, history, database, now))
    common.write_json_lines(history["path"], lines)
    if history.get("page_data"):
        common.write_json(history["page_data"], page_data(lines, history, now))
    return lines[-1]
