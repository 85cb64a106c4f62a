"""Indonesian working days (hari kerja), vectorised.

A working day is Monday-Friday that is neither a public holiday nor, unless switched off, a
cuti bersama (joint leave) day. Holidays come from the ``holidays`` package (country "ID",
category "public"; cuti bersama is its "government" category) plus
``include/calendar_overrides.yaml`` for decrees published after the package's release.

All day arithmetic uses ``numpy.busday_offset`` / ``numpy.busday_count`` with one
``numpy.busdaycalendar``; nothing loops per row. DOMAIN.md's counting rule:
day 0 is the local date of the start event and a deadline of N working days is the N-th
working day after day 0 (submitted Friday, 3 working days -> Wednesday when no holiday).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import holidays
import numpy as np
import pandas as pd
import yaml

from complaints.config import INCLUDE_DIR

DEFAULT_OVERRIDES = INCLUDE_DIR / "calendar_overrides.yaml"
WEEKMASK = "1111100"


class CalendarError(ValueError):
    """A date outside the calendar's years, or a malformed override file."""


def _as_days(dates) -> np.ndarray:
    """Anything date-like (scalar, list, Series, array) -> numpy datetime64[D] array."""
    if isinstance(dates, pd.Series | pd.Index):
        values = pd.to_datetime(dates).to_numpy()
    else:
        values = np.asarray(dates)
        if values.dtype == object:
            values = pd.to_datetime(values.ravel()).to_numpy().reshape(values.shape)
    return values.astype("datetime64[D]")


def load_overrides(path: Path) -> tuple[dict[dt.date, tuple[str, bool]], set[dt.date]]:
    """Read the override file: ({date: (name, is_cuti_bersama)} added, {dates} removed)."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    added: dict[dt.date, tuple[str, bool]] = {}
    removed: set[dt.date] = set()
    for entry in data.get("add") or []:
        day = entry.get("date")
        if not isinstance(day, dt.date) or not entry.get("name") or not entry.get("note"):
            raise CalendarError(f"{path}: an 'add' entry needs date, name and note: {entry!r}")
        kind = entry.get("kind", "public")
        if kind not in ("public", "cuti_bersama"):
            raise CalendarError(f"{path}: kind must be public or cuti_bersama: {entry!r}")
        added[day] = (str(entry["name"]), kind == "cuti_bersama")
    for entry in data.get("remove") or []:
        day = entry.get("date")
        if not isinstance(day, dt.date) or not entry.get("note"):
            raise CalendarError(f"{path}: a 'remove' entry needs date and note: {entry!r}")
        removed.add(day)
    return added, removed


class WorkingCalendar:
    """Working days for Indonesia between ``start_year`` and ``end_year`` inclusive."""

    def __init__(
        self,
        cuti_bersama: bool = True,
        overrides: Path | None = DEFAULT_OVERRIDES,
        start_year: int = 2015,
        end_year: int = 2035,
    ) -> None:
        self.cuti_bersama = cuti_bersama
        self.start = np.datetime64(f"{start_year}-01-01", "D")
        self.end = np.datetime64(f"{end_year}-12-31", "D")
        years = range(start_year, end_year + 1)
        names: dict[dt.date, str] = dict(
            holidays.country_holidays("ID", years=years, categories=("public",))
        )
        if cuti_bersama:
            joint = holidays.country_holidays("ID", years=years, categories=("government",))
            for day, name in joint.items():
                names[day] = f"{names[day]}; {name}" if day in names else name
        if overrides is not None and Path(overrides).exists():
            added, removed = load_overrides(Path(overrides))
            for day, (name, is_joint) in added.items():
                if cuti_bersama or not is_joint:
                    names[day] = name
            for day in removed:
                names.pop(day, None)
        self.holiday_names = dict(sorted(names.items()))
        self.holidays = np.array(sorted(names), dtype="datetime64[D]")
        self.busdaycal = np.busdaycalendar(weekmask=WEEKMASK, holidays=self.holidays)

    # -- checks ------------------------------------------------------------------------------
    def _check_range(self, days: np.ndarray) -> None:
        valid = days[~np.isnat(days)]
        if valid.size and (valid.min() < self.start or valid.max() > self.end):
            raise CalendarError(
                f"dates {valid.min()}..{valid.max()} fall outside the calendar "
                f"{self.start}..{self.end}"
            )

    # -- vectorised day arithmetic -----------------------------------------------------------
    def is_working_day(self, dates) -> np.ndarray:
        """Boolean array: is each date a working day? NaT -> False."""
        days = _as_days(dates)
        self._check_range(days)
        out = np.zeros(days.shape, dtype=bool)
        ok = ~np.isnat(days)
        out[ok] = np.is_busday(days[ok], busdaycal=self.busdaycal)
        return out

    def deadline(self, day0_dates, n) -> np.ndarray:
        """The N-th working day after each day 0 (datetime64[D]; NaT where day 0 is NaT).

        A day 0 that is not a working day rolls back to the previous working day first, so
        Saturday + 1 working day = Monday, the same as Friday + 1.
        """
        days = _as_days(day0_dates)
        self._check_range(days)
        n_arr = np.broadcast_to(np.asarray(n, dtype=np.int64), days.shape)
        out = np.full(days.shape, np.datetime64("NaT"), dtype="datetime64[D]")
        ok = ~np.isnat(days)
        out[ok] = np.busday_offset(days[ok], n_arr[ok], roll="backward", busdaycal=self.busdaycal)
        self._check_range(out)
        return out

    def working_days_between(self, start_dates, end_dates) -> np.ndarray:
        """Working days in (start, end]: 0 for the same day, negative when end < start.

        Float array so that NaT on either side gives NaN.
        """
        start = _as_days(start_dates)
        end = _as_days(end_dates)
        start, end = np.broadcast_arrays(start, end)
        self._check_range(start)
        self._check_range(end)
        out = np.full(start.shape, np.nan)
        ok = ~(np.isnat(start) | np.isnat(end))
        one = np.timedelta64(1, "D")
        out[ok] = np.busday_count(start[ok] + one, end[ok] + one, busdaycal=self.busdaycal)
        return out

    def calendar_table(self, start, end) -> pd.DataFrame:
        """One row per date: date, is_working_day, holiday_name, wd_index.

        ``wd_index`` counts working days from the calendar's first year up to and including the
        date, so in SQL the N-th working day after day 0 is the working day whose wd_index is
        wd_index(day 0) + N, and working days in (a, b] = wd_index(b) - wd_index(a).
        """
        first, last = _as_days([start, end])
        self._check_range(np.array([first, last]))
        days = np.arange(first, last + np.timedelta64(1, "D"), dtype="datetime64[D]")
        working = np.is_busday(days, busdaycal=self.busdaycal)
        before = np.busday_count(self.start, first, busdaycal=self.busdaycal)
        names = pd.Series(self.holiday_names, dtype=object)
        names.index = pd.to_datetime(names.index)
        holiday_name = names.reindex(pd.to_datetime(days))
        return pd.DataFrame(
            {
                "date": pd.to_datetime(days).date,
                "is_working_day": working,
                "holiday_name": holiday_name.where(holiday_name.notna(), None).to_numpy(),
                "wd_index": before + np.cumsum(working, dtype=np.int64),
            }
        )


def local_dates(ts_utc, tz) -> np.ndarray:
    """Local calendar dates (datetime64[D]) of UTC instants, each in its own IANA time zone.

    ``ts_utc`` is anything pandas reads as timestamps (naive values are taken as UTC); ``tz``
    is one zone name for all or one per row. Loops over the distinct zones, never over rows.
    """
    ts = pd.Series(pd.to_datetime(pd.Series(ts_utc), utc=True)).reset_index(drop=True)
    zones = (
        pd.Series([tz] * len(ts)) if isinstance(tz, str) else pd.Series(tz).reset_index(drop=True)
    )
    if len(zones) != len(ts):
        raise ValueError(f"{len(ts)} timestamps but {len(zones)} time zones")
    out = np.full(len(ts), np.datetime64("NaT"), dtype="datetime64[D]")
    for zone in zones.dropna().unique():
        rows = (zones == zone).to_numpy()
        local = ts[rows].dt.tz_convert(str(zone)).dt.tz_localize(None)
        out[rows] = local.to_numpy().astype("datetime64[D]")
    return out
