"""Indonesian formatting of numbers, percentages, dates and report periods.

Decimal comma, thousands dot ("1.234,56"); month names in Bahasa Indonesia. A missing value
(None or NaN) is shown as an em dash, never as "nan".
"""

from __future__ import annotations

import calendar
import math
from datetime import date, timedelta

MONTHS = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)  # fmt: skip
MONTHS_SHORT = (
    "Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des",
)  # fmt: skip
MISSING = "\u2014"


def is_missing(value) -> bool:
    if value is None:
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def fmt_num(value, decimals: int = 2) -> str:
    """1234.5 -> '1.234,50' (decimals fixed)."""
    if is_missing(value):
        return MISSING
    text = f"{float(value):,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def fmt_int(value) -> str:
    """1234 -> '1.234'."""
    if is_missing(value):
        return MISSING
    return fmt_num(round(float(value)), 0)


def fmt_pct(value, decimals: int = 2) -> str:
    """A percentage already on the 0-100 scale: 95.07 -> '95,07%'."""
    if is_missing(value):
        return MISSING
    return fmt_num(value, decimals) + "%"


def fmt_date(day: date) -> str:
    """date(2026, 10, 26) -> '26 Oktober 2026'."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def fmt_date_short(day: date) -> str:
    return f"{day.day} {MONTHS_SHORT[day.month - 1]} {day.year}"


def period_end(period: str, start: date) -> date:
    """Last day (inclusive) of a week or month period starting at ``start``."""
    if period == "week":
        return start + timedelta(days=6)
    if period == "month":
        return start.replace(day=calendar.monthrange(start.year, start.month)[1])
    if period == "day":
        return start
    if period == "rolling_30d":
        return start + timedelta(days=29)
    raise ValueError(f"unknown period {period!r}")


def period_label(period: str, start: date) -> str:
    """'Oktober 2026' or 'Minggu 44, 26 Okt - 1 Nov 2026'."""
    if period == "month":
        return f"{MONTHS[start.month - 1]} {start.year}"
    if period == "week":
        end = period_end(period, start)
        first = f"{start.day} {MONTHS_SHORT[start.month - 1]}"
        if start.year != end.year:
            first += f" {start.year}"
        last = f"{end.day} {MONTHS_SHORT[end.month - 1]} {end.year}"
        return f"Minggu {start.isocalendar()[1]}, {first} - {last}"
    if period == "day":
        return fmt_date(start)
    end = period_end(period, start)
    return f"{fmt_date_short(start)} - {fmt_date_short(end)}"


def period_short(period: str, start: date) -> str:
    """Axis label for trend charts: 'Okt 26' or 'M44'."""
    if period == "month":
        return f"{MONTHS_SHORT[start.month - 1]} {start.year % 100:02d}"
    if period == "week":
        return f"M{start.isocalendar()[1]}"
    return f"{start.day}/{start.month}"


def headline(followed_up_pct, not_followed_up_pct, in_process_pct, rating_avg) -> str:
    """The seed's shape: '95,07% ditindaklanjuti, 2,25% belum ditindaklanjuti, 2,68% dalam
    proses; rating 4,22 dari 5'."""
    if is_missing(followed_up_pct):
        shares = "belum ada pengaduan yang diteruskan"
    else:
        shares = (
            f"{fmt_pct(followed_up_pct)} ditindaklanjuti, "
            f"{fmt_pct(not_followed_up_pct)} belum ditindaklanjuti, "
            f"{fmt_pct(in_process_pct)} dalam proses"
        )
    rating = (
        "belum ada rating" if is_missing(rating_avg) else f"rating {fmt_num(rating_avg)} dari 5"
    )
    return f"{shares}; {rating}"
