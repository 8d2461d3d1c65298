# Managed by louieops (files/scripts/louieops_uptime.py); local edits are overwritten on the next deploy.
"""The uptime part of the daily summary (seed §5 KPI "Uptime"): UptimeRobot's uptime percentage of every
monitor the deploy manages (its tag), over the last ``days``, against kpi_thresholds.uptime_pct.

A monitor below the warning level alerts at health_tiers.uptime_pct's warning tier, below the critical level
at its critical tier (send-alert key ``uptime:<monitor>``); back at or above the warning level resolves it.
A report that cannot run (no answer, a refused key) alerts under ``uptime:report`` (P3) until it runs again.

Config: /etc/louieops/uptime.json (louieops/server_scripts.py, root:<monitor user> 0640): the API, a
read-only API key (the server never holds the key that can change monitors), the tag, the days, the levels
and the tiers. Without it the summary says the uptime is not checked. Standard library only.
"""

from __future__ import annotations

import datetime
import html
import json
import urllib.error
import urllib.parse
import urllib.request

import louieops_common as common

REPORT_KEY = "uptime:report"
REPORT_TIER = "P3"  # like a health check that could not run: nobody knows whether it is fine
MAX_PAGES = 50


def _get(config, path, params):
    url = f"{config['api_url']}{path}?{urllib.parse.urlencode(params)}"
    request = urllib.request.Request(
        url, headers={"Authorization": f"Bearer {config['api_key']}", "Accept": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=config.get("timeout", 20)) as answer:
        return json.load(answer)


def managed_monitors(config):
    """(id, name) of every monitor with the managed tag, following ``nextLink`` pages."""
    found, cursor = [], None
    for _ in range(MAX_PAGES):
        params = {"tags": config["tag"], "limit": 200, **({"cursor": cursor} if cursor else {})}
        page = _get(config, "/monitors", params)
        data = page.get("data") or []
        found += [(item["id"], html.unescape(str(item.get("friendlyName") or ""))) for item in data]
        next_link = page.get("nextLink")
        cursor = (urllib.parse.parse_qs(urllib.parse.urlsplit(next_link).query).get("cursor") or [None])[0]
        if not data or not cursor:
            return found
    raise ValueError(f"more than {MAX_PAGES} pages of monitors")


def uptime_pct(config, monitor_id, now):
    start = now - datetime.timedelta(days=config["days"])
    params = {"from": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "to": now.strftime("%Y-%m-%dT%H:%M:%SZ")}
    return float(_get(config, f"/monitors/{monitor_id}/stats/uptime", params)["uptime"])


def report(config, send, now=None):
    """One text for the summary; alerts and recoveries go through ``send(tier, message, key, resolve)``."""
    if not config:
        return "not checked (no read-only UptimeRobot key on this server)"
    now = now or datetime.datetime.now(datetime.UTC)
    try:
        ratios = [(name, uptime_pct(config, monitor_id, now)) for monitor_id, name in managed_monitors(config)]
    except (OSError, ValueError, KeyError, urllib.error.URLError) as exc:
        send(REPORT_TIER, f"Uptime report could not run: {exc}", REPORT_KEY, False)
        return f"unknown ({exc})"
    send(REPORT_TIER, "Uptime report runs again", REPORT_KEY, True)
    parts = []
    for name, ratio in ratios:
        level = common.classify(ratio, config["levels"], lower_is_worse=True)
        key = f"uptime:{name}"
        text = f"{name} {ratio:.2f}% over {config['days']} d (target {config['levels']['target']}%)"
        if level == "ok":
            send("P4", f"recovered: {text}", key, True)
        else:
            send(config["tiers"][level], f"{level.upper()}: uptime of {text}", key, False)
        parts.append(f"{name} {ratio:.2f}%" + ("" if level == "ok" else f" ({level})"))
    return f"{config['days']} d: " + (", ".join(parts) or "no managed monitors")
