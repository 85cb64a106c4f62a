"""Turning an Airflow run's context into the partition it works on."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

WIB = ZoneInfo("Asia/Jakarta")


def run_day(params: dict | None, data_interval_start: datetime | None, logical_date=None) -> date:
    """The complaint day a daily run covers.

    ``params["day"]`` (YYYY-MM-DD) wins, so a day can be re-run by hand; otherwise the start of
    the run's data interval in WIB: the daily timetable's interval is one WIB calendar day, which
    closes after every zone's day has closed (WIT and WITA close earlier).
    """
    if params and params.get("day"):
        return date.fromisoformat(str(params["day"]))
    moment = data_interval_start or logical_date
    if moment is None:
        raise ValueError("a daily run needs params.day or a data interval")
    return moment.astimezone(WIB).date()


def triggered_days(triggering_asset_events, params: dict | None) -> list[date]:
    """Days named by the asset events that triggered this run (or params.day for a manual run)."""
    days: set[date] = set()
    if params and params.get("day"):
        days.add(date.fromisoformat(str(params["day"])))
    if triggering_asset_events:
        for events in triggering_asset_events.values():
            for event in events:
                extra = getattr(event, "extra", None) or {}
                for d in extra.get("days", []) or ([extra["day"]] if extra.get("day") else []):
                    days.add(date.fromisoformat(d))
    return sorted(days)
