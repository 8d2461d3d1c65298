"""Pure helpers for 5-field cron schedules (no I/O): which values a field covers, how far apart runs are."""

from __future__ import annotations

import calendar
import datetime


def cron_values(field: str, low: int, high: int) -> set[int]:
    values: set[int] = set()
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if base == "*":
            start, end = low, high
        elif "-" in base:
            start, end = (int(x) for x in base.split("-"))
        else:
            start = int(base)
            end = high if step_text else start
        values.update(range(start, end + 1, step))
    return values


def cron_max_gap_minutes(schedule: str, days: int = 2 * 366) -> int:
    """Longest interval, in minutes, between two consecutive runs of a 5-field cron schedule (over two
    years from a fixed date, which covers monthly and leap-year patterns). Follows cron's rule that a
    restricted day-of-month and a restricted day-of-week match when either does."""
    minute_f, hour_f, dom_f, month_f, dow_f = schedule.split()
    minutes = sorted(cron_values(minute_f, 0, 59))
    hours = sorted(cron_values(hour_f, 0, 23))
    doms, months = cron_values(dom_f, 1, 31), cron_values(month_f, 1, 12)
    dows = {d % 7 for d in cron_values(dow_f, 0, 7)}
    dom_any, dow_any = dom_f.startswith("*"), dow_f.startswith("*")
    start = datetime.date(2025, 1, 1)
    runs: list[int] = []
    for offset in range(days):
        day = start + datetime.timedelta(days=offset)
        cron_dow = (day.weekday() + 1) % 7  # cron: 0 = Sunday
        dom_ok, dow_ok = day.day in doms, cron_dow in dows
        matches = (dom_ok and dow_ok) if (dom_any or dow_any) else (dom_ok or dow_ok)
        if day.month in months and matches and day.day <= calendar.monthrange(day.year, day.month)[1]:
            runs.extend(offset * 1440 + h * 60 + m for h in hours for m in minutes)
    if len(runs) < 2:
        raise ValueError(f"cron schedule {schedule!r} runs less than twice in {days} days")
    return max(b - a for a, b in zip(runs, runs[1:], strict=False))
