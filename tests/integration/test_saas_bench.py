"""The SaaS benchmark's figures come from real requests to the stand-ins (the table `make bench` prints)."""

from __future__ import annotations

from benchmarks import saas_bench


def test_the_saas_rows_count_requests_and_the_rate_limited_creation():
    rows = {row.measure: row for row in saas_bench.rows([])}
    noop = int(rows["UptimeRobot no-op reconcile"].figure.split()[0])
    assert 0 < noop < int(rows["UptimeRobot no-op reconcile"].note.rsplit(" ", 1)[1])
    hundred = rows[f"{saas_bench.MONITORS} monitors created at {saas_bench.FREE_PLAN_PER_MINUTE} requests/min"]
    assert float(hundred.figure.split()[0]) >= (saas_bench.MONITORS - 1) // saas_bench.FREE_PLAN_PER_MINUTE
    assert "0 answered 429" in hundred.note
