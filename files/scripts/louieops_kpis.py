# Managed by louieops (files/scripts/louieops_kpis.py); local edits are overwritten on the next deploy.
"""The KPIs the health check measures on the server (seed §5), from what really happened:

- API latency (p50, p99) and error rate of the requests nginx served for the API over the last check
  interval, read from its access log (the deploy's "louieops" log format: the combined format plus
  host=, t= (the time, $msec), rt= ($request_time) and us= ($upstream_status));
- CPU use from two samples of /proc/stat (the share of non-idle time between them);
- the database query time that psql's \\timing reports for the probe query.

Pure functions over text, plus the one reader of the access log's tail. Standard library only.
"""

from __future__ import annotations

import math
import re

#: One access log line of the "louieops" format (templates/nginx/nginx.conf.j2); nginx writes a '"' inside
#: a field as \\x22, so a quoted field never holds one.
ACCESS_LINE = re.compile(
    r'^\S+ - \S+ \[[^\]]*\] "[^"]*" (?P<status>\d{3}) \S+ "[^"]*" "(?P<agent>[^"]*)" '
    r"host=(?P<host>\S+) t=(?P<time>[0-9.]+) rt=(?P<seconds>[0-9.]+) us=(?P<upstream>\S+)"
)
BLOCK = 64 * 1024
PSQL_TIME = re.compile(r"^Time: ([0-9.]+) ms", re.M)


def parse_access(line):
    """{"status", "agent", "host", "time", "seconds", "upstream"} of one access log line, or None."""
    match = ACCESS_LINE.match(line)
    if not match:
        return None
    entry = match.groupdict()
    entry.update(status=int(entry["status"]), time=float(entry["time"]), seconds=float(entry["seconds"]))
    return entry


def tail_since(path, since):
    """The lines of ``path`` logged at or after ``since`` (epoch seconds), read backwards from the end in
    blocks until a line is older or not in the louieops format (a busy day's log is never read whole)."""
    with open(path, "rb") as fh:
        fh.seek(0, 2)
        position, data = fh.tell(), b""
        while position > 0:
            step = min(BLOCK, position)
            position -= step
            fh.seek(position)
            data = fh.read(step) + data
            lines = data.split(b"\n")
            if len(lines) < 2 and position:
                continue  # not one whole line yet
            first = parse_access(lines[1 if position else 0].decode(errors="replace"))
            if first is None or first["time"] < since:  # older, or written before the louieops format
                break
    text = data.decode(errors="replace")
    return [line for line in text.splitlines() if (entry := parse_access(line)) and entry["time"] >= since]


def percentile(values, pct):
    """The nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def maintenance_page(entry):
    """A 503 that never reached the app: louie-maintenance-mode's planned page, not the API's traffic."""
    return entry["status"] == 503 and entry["upstream"] == "-"


def api_stats(lines, host, skip_agent):
    """{"requests", "p50_ms", "p99_ms", "error_rate_pct"} of the requests to ``host`` among ``lines`` (not
    those of ``skip_agent``: this server's own probes are not the API's traffic, nor the maintenance page); None
    values without one."""
    entries = [
        e
        for e in map(parse_access, lines)
        if e and e["host"] == host and e["agent"] != skip_agent and not maintenance_page(e)
    ]
    if not entries:
        return {"requests": 0, "p50_ms": None, "p99_ms": None, "error_rate_pct": None}
    millis = [e["seconds"] * 1000 for e in entries]
    errors = sum(e["status"] >= 500 for e in entries)
    return {
        "requests": len(entries),
        "p50_ms": round(percentile(millis, 50)),
        "p99_ms": round(percentile(millis, 99)),
        "error_rate_pct": round(100.0 * errors / len(entries), 2),
    }


def cpu_sample(text=None):
    """(busy, total) clock ticks of all CPUs from the first line of /proc/stat (guest time is already part
    of user time, so it is not added again)."""
    if text is None:
        with open("/proc/stat") as fh:
            text = fh.readline()
    fields = [int(x) for x in text.split()[1:9]]  # user nice system idle iowait irq softirq steal
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def cpu_pct(earlier, later):
    """Non-idle share of the time between two samples, in percent (None when no time passed)."""
    busy, total = later[0] - earlier[0], later[1] - earlier[1]
    return round(100.0 * busy / total, 1) if total > 0 else None


def psql_millis(output):
    """The query time psql's \\timing printed, in ms (ValueError when there is none)."""
    match = PSQL_TIME.search(output)
    if not match:
        raise ValueError(f"psql printed no timing: {output.strip()[:120]!r}")
    return float(match.group(1))
