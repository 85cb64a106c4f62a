"""Which periods a day's load makes stale, and which report periods a day closes."""

from __future__ import annotations

from datetime import date

import duckdb

from complaints.daily import closed_periods, earliest_touched_day


def _history(rows):
    con = duckdb.connect()
    con.execute(
        "create table complaint_history (seen_day date, timezone varchar, submitted_at timestamptz)"
    )
    for row in rows:
        con.execute("insert into complaint_history values (?, ?, ?)", row)
    return con


def test_a_late_update_reopens_the_period_of_its_submission_day():
    con = _history(
        [
            # submitted 30 Sep 23:30 WIT = 30 Sep 14:30 UTC, updated (seen) on 3 Oct
            (date(2026, 10, 3), "Asia/Jayapura", "2026-09-30 14:30:00+00"),
            (date(2026, 10, 3), "Asia/Jakarta", "2026-10-02 03:00:00+00"),
            (date(2026, 10, 2), "Asia/Jakarta", "2026-09-01 03:00:00+00"),  # another day's load
        ]
    )
    assert earliest_touched_day(con, date(2026, 10, 3)) == date(2026, 9, 30)


def test_local_date_decides_not_the_utc_date():
    # 15:30 UTC on 30 Sep is already 1 Oct in WIT (UTC+9)
    con = _history([(date(2026, 10, 3), "Asia/Jayapura", "2026-09-30 15:30:00+00")])
    assert earliest_touched_day(con, date(2026, 10, 3)) == date(2026, 10, 1)


def test_a_day_without_loads_only_recomputes_itself():
    assert earliest_touched_day(_history([]), date(2026, 10, 3)) == date(2026, 10, 3)


def test_closed_periods():
    assert closed_periods(date(2026, 11, 1)) == [("week", date(2026, 10, 26))]  # a Sunday
    assert closed_periods(date(2026, 10, 31)) == [("month", date(2026, 10, 1))]  # a Saturday
    assert closed_periods(date(2026, 5, 31)) == [
        ("week", date(2026, 5, 25)),
        ("month", date(2026, 5, 1)),
    ]
    assert closed_periods(date(2026, 10, 28)) == []
