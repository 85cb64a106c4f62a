"""Volume: is the day's row count plausible given the source's recent history?

Policy (factor, minimum history) lives in ``include/expectations/complaints_volume.json``'s meta;
callers may override the factor. The band is ``[median / factor, max(median, 1) * factor]`` of
``rows_read`` over the source's recent published days; with fewer than ``min_history`` days there
is no band and every count passes. A source that suddenly sends 0 rows or 20 times its usual
volume is flagged, not silently accepted.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from complaints.quality.suites import VOLUME_SUITE, suite_meta


def volume_policy() -> tuple[float, int]:
    """(factor, min_history) from the volume suite file."""
    meta = suite_meta(VOLUME_SUITE)
    return float(meta.get("factor", 10.0)), int(meta.get("min_history", 7))


def volume_band(
    recent_counts: Sequence[int], factor: float | None = None, min_history: int | None = None
) -> tuple[float, float] | None:
    """The accepted [low, high] row count, or None while the history is too short."""
    default_factor, default_history = volume_policy()
    factor = default_factor if factor is None else float(factor)
    min_history = default_history if min_history is None else int(min_history)
    if factor < 1:
        raise ValueError(f"volume factor must be >= 1, not {factor}")
    if len(recent_counts) < max(min_history, 1):
        return None
    median = float(statistics.median(recent_counts))
    return median / factor, max(median, 1.0) * factor


def check_volume(
    rows_read: int,
    recent_counts: Sequence[int],
    factor: float | None = None,
    min_history: int | None = None,
) -> tuple[bool, str | None, dict]:
    """(ok, reason, details) for the day's row count; reason starts with 'volume'."""
    band = volume_band(recent_counts, factor, min_history)
    details: dict = {"rows_read": int(rows_read), "history_days": len(recent_counts)}
    if band is None:
        details["band"] = None
        return True, None, details
    low, high = band
    median = float(statistics.median(recent_counts))
    details.update(band=[low, high], median=median)
    if low <= rows_read <= high:
        return True, None, details
    reason = (
        f"volume {rows_read} rows outside [{low:g}, {high:g}] "
        f"(median {median:g} of the last {len(recent_counts)} days)"
    )
    return False, reason, details
