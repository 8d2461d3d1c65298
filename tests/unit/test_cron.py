"""How old a backup may get before the daily check complains: the longest gap of its cron schedule."""

from __future__ import annotations

import pytest

from louieops.cron import cron_max_gap_minutes
from tasks.backups import MAX_AGE_MARGIN_MINUTES, max_age_minutes
from tests.unit.helpers import default_settings


@pytest.mark.parametrize(
    ("schedule", "minutes"),
    [
        ("0 */6 * * *", 6 * 60),
        ("30 3 * * *", 24 * 60),
        ("45 4 * * 0", 7 * 24 * 60),
        ("0 5 1 * *", 31 * 24 * 60),  # the longest month
        ("*/5 * * * *", 5),
        ("0 1,23 * * *", 22 * 60),  # uneven gaps: the longest one counts
        ("0 0 * * 1-5", 3 * 24 * 60),  # Friday to Monday
        ("0 12 1 * 1", 7 * 24 * 60),  # day-of-month OR day-of-week, as cron does
    ],
)
def test_cron_max_gap_is_the_longest_interval_between_runs(schedule, minutes):
    assert cron_max_gap_minutes(schedule) == minutes


def test_a_schedule_that_runs_once_in_two_years_is_rejected():
    with pytest.raises(ValueError, match="runs less than twice"):
        cron_max_gap_minutes("0 0 29 2 *", days=366)


def test_max_age_adds_the_margin_to_each_kind():
    s = default_settings(
        backup_db_schedule="0 */6 * * *",
        backup_uploads_schedule="30 3 * * *",
        backup_logs_schedule="45 4 * * 0",
        backup_verify_schedule="15 7 * * *",
        backup_restore_drill_schedule="0 5 1 * *",
    )
    assert max_age_minutes(s) == {
        "db": 360 + MAX_AGE_MARGIN_MINUTES,
        "uploads": 1440 + MAX_AGE_MARGIN_MINUTES,
        "logs": 10080 + MAX_AGE_MARGIN_MINUTES,
    }
