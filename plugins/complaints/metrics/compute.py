"""compute_metrics: register the calendar, run the SQL models in order, return the tables."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd

from complaints.calendar import CalendarError, WorkingCalendar
from complaints.metrics.sql_files import run_sql_file

PERIODS = ("day", "week", "month", "rolling_30d")

#: the SQL files in dependency order (each creates the temp macro or table it is named after)
SQL_MODELS = (
    "largest_remainder_pct",
    "half_up_pct",
    "t975",
    "complaint_milestones",
    "complaint_facts",
    "complaint_periods",
    "group_metrics",
    "institution_metrics",
    "region_metrics",
    "source_day_status",
    "national_metrics",
    "overdue_complaints",
)
#: the tables compute_metrics returns
METRIC_TABLES = ("institution_metrics", "region_metrics", "national_metrics", "overdue_complaints")
#: the longest SLA limit; the calendar must reach this far past the last day 0
_LONGEST_LIMIT_WD = 60


def _register_calendar(con: duckdb.DuckDBPyConnection, calendar: WorkingCalendar) -> None:
    table = calendar.calendar_table(calendar.start, calendar.end)
    con.register("calendar_frame", table)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE calendar AS SELECT CAST(date AS DATE) AS date, "
        "is_working_day, CAST(holiday_name AS VARCHAR) AS holiday_name, wd_index "
        "FROM calendar_frame"
    )
    con.unregister("calendar_frame")


def _check_dates(con: duckdb.DuckDBPyConnection, as_of: dt.date, calendar: WorkingCalendar) -> None:
    """Every day 0 and deadline must lie inside the calendar, or rows would silently vanish.

    Only events up to ``as_of`` count, so every day 0 lies between the first submission and
    ``as_of``, and every deadline at most the longest limit after ``as_of``. Complaints
    submitted after ``as_of`` (a day computed again after later days were loaded) are left out
    by the milestones' query and need no calendar."""
    ((first,),) = con.execute(
        "SELECT min(CAST(timezone(timezone, submitted_at) AS DATE)) FROM complaint_current"
    ).fetchall()
    calendar.deadline([np.datetime64(as_of, "D")], _LONGEST_LIMIT_WD)  # raises if out
    if first is not None and np.datetime64(first, "D") < calendar.start:
        raise CalendarError(f"complaints from {first} predate the calendar ({calendar.start})")


def compute_metrics(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    *,
    calendar: WorkingCalendar,
    prior_weight: float = 10.0,
    periods: tuple[str, ...] = PERIODS,
    since: dt.date | None = None,
) -> dict[str, pd.DataFrame]:
    """Compute the metric tables as of ``as_of``.

    ``con`` must hold the relations ``complaint_current``, ``sources`` and ``ingest_runs``
    (see docs/metrics.md). The function adds the temp table ``calendar`` and the intermediate
    temp tables of ``include/sql/`` to ``con`` and returns ``METRIC_TABLES`` as DataFrames.
    ``since`` restricts day/week/month periods to those starting on or after the period that
    contains it (rolling_30d is always computed).
    """
    unknown = set(periods) - set(PERIODS)
    if unknown:
        raise ValueError(f"unknown periods {sorted(unknown)}; choose from {PERIODS}")
    if prior_weight < 0:
        raise ValueError("prior_weight must not be negative")
    _check_dates(con, as_of, calendar)
    _register_calendar(con, calendar)
    params = {
        "as_of": as_of,
        "prior_weight": float(prior_weight),
        "since": since,
        "periods": list(periods),
    }
    for name in SQL_MODELS:
        run_sql_file(con, name, params)
    return {name: con.table(name).df() for name in METRIC_TABLES}
