"""Planted damage: the broken rows the quality checks must catch, counted per source-day.

About ``share`` of each day's versions get one kind of damage. ``updated_at`` is never damaged
(it decides the window a version is read in), so every planted row is read on its own day.
"""

from __future__ import annotations

import pandas as pd

from complaints.canonical import MILESTONES

BROKEN_KINDS = (
    "unknown_status",  # a status word no mapping knows
    "bad_rating",  # 0, 6 or "lima"
    "bad_date",  # an unparseable milestone
    "missing_id",  # no complaint id
    "unknown_region",  # a region code that does not exist
    "future_timestamp",  # the latest milestone is moved 400-900 days past updated_at
    "milestone_out_of_order",  # the latest milestone is moved before its predecessor
)
UNKNOWN_STATUS_WORDS = ("DITUNDA", "MENUNGGU", "PENDING", "Sedang Dicek")
BAD_RATINGS = ("0", "6", "lima")
BAD_DATES = ("32/13/2022 25:61", "kemarin sore", "tgl tidak diketahui")
UNKNOWN_REGIONS = ("99.99", "00", "98.76")


def plant_broken(
    frame: pd.DataFrame,
    source_id: str,
    seed: int,
    share: float,
    kinds: tuple[str, ...],
    text_values: bool = True,
) -> None:
    """Damage about ``share`` of each day's versions in place; ``broken`` says how.

    Kinds that need a milestone the version lacks fall back to ``unknown_status``. The
    ``updated_at`` of a broken row is never touched (it decides the window it is read in).
    """
    from complaints.simulate.model import day_rng

    if not text_values:
        kinds = tuple(k for k in kinds if k != "bad_date")
    if share <= 0 or frame.empty or not kinds:
        return
    for day, idx in frame.groupby("local_day", sort=True).indices.items():
        rng = day_rng(seed, source_id, day, stream=1)
        hit = idx[rng.random(len(idx)) < share]
        picks = rng.integers(0, len(kinds), len(hit))
        extra = rng.random((len(hit), 2))
        for i, k, (u1, u2) in zip(hit, picks, extra, strict=True):
            _break_row(frame, int(i), kinds[int(k)], u1, u2, text_values)


def _break_row(frame, i, kind, u1, u2, text_values) -> None:
    col = frame.columns.get_loc
    present = [m for m in MILESTONES if not pd.isna(frame.iat[i, col(m)])]
    if kind == "milestone_out_of_order" and len(present) < 2:
        kind = "unknown_status"
    if kind == "unknown_status":
        frame.iat[i, col("broken_field")] = "status"
        frame.iat[i, col("broken_value")] = UNKNOWN_STATUS_WORDS[int(u1 * 4)]
    elif kind == "bad_rating":
        choices = BAD_RATINGS if text_values else BAD_RATINGS[:2]
        frame.iat[i, col("broken_field")] = "rating"
        frame.iat[i, col("broken_value")] = choices[int(u1 * len(choices))]
    elif kind == "bad_date":
        frame.iat[i, col("broken_field")] = present[-1]
        frame.iat[i, col("broken_value")] = BAD_DATES[int(u1 * len(BAD_DATES))]
    elif kind == "missing_id":
        frame.iat[i, col("complaint_id")] = None
    elif kind == "unknown_region":
        frame.iat[i, col("region_code")] = UNKNOWN_REGIONS[int(u1 * len(UNKNOWN_REGIONS))]
    elif kind == "future_timestamp":
        shift = pd.Timedelta(days=400 + int(u2 * 500), minutes=int(u1 * 600))
        frame.iat[i, col(present[-1])] = frame.iat[i, col("updated_at")] + shift
    elif kind == "milestone_out_of_order":
        before = frame.iat[i, col(present[-2])]
        frame.iat[i, col(present[-1])] = before - pd.Timedelta(days=1 + int(u2 * 4), hours=1)
    frame.iat[i, col("broken")] = kind
