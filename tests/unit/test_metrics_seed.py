"""The seed article's month for Ditjen Dukcapil, rebuilt row by row and recomputed.

10,000 forwarded complaints: 9,507 followed up (9,000 followed_up + 507 closed), 268 in process,
225 not yet (verified); plus 40 received and 30 archived that stay out of the denominator.
1,000 ratings: 500 x 5, 300 x 4, 120 x 3, 80 x 2 -> 4,220 stars / 1,000 = 4.22.
"""

from __future__ import annotations

import itertools

import pandas as pd
import pytest
from metrics_support import complaint, connect, day, source

from complaints.calendar import WorkingCalendar
from complaints.metrics import compute_metrics

STATUS_COUNTS = {
    "followed_up": 9000,
    "closed": 507,
    "in_process": 268,
    "verified": 225,
    "received": 40,
    "archived": 30,
}
RATINGS = [5] * 500 + [4] * 300 + [3] * 120 + [2] * 80


def _rows():
    rows = []
    ratings = iter(RATINGS)
    number = itertools.count()
    for status, count in STATUS_COUNTS.items():
        for _ in range(count):
            n = next(number)
            rated = status in ("followed_up", "closed")
            rows.append(
                complaint(
                    f"dk-{n}",
                    "dukcapil",
                    f"2022-06-{1 + n % 30:02d} 03:00",
                    status=status,
                    rating=next(ratings, None) if rated else None,
                )
            )
    # a second central institution: 10 ratings of 3 stars, 10 forwarded, 5 followed up
    for n in range(10):
        rows.append(
            complaint(
                f"ot-{n}",
                "other",
                "2022-06-15 03:00",
                status="closed" if n < 5 else "verified",
                rating=3,
            )
        )
    return rows


@pytest.fixture(scope="module")
def result():
    sources = [
        source("dukcapil", "unit", name="Ditjen Dukcapil"),
        source("other", "unit", name="Other unit"),
    ]
    con = connect(_rows(), sources)
    return compute_metrics(con, day("2022-07-31"), calendar=WorkingCalendar())


def _month(table, institution_id):
    rows = table[(table.institution_id == institution_id) & (table.period == "month")]
    assert len(rows) == 1
    return rows.iloc[0]


def test_seed_shares(result):
    row = _month(result["institution_metrics"], "dukcapil")
    assert row.total == 10070
    assert row.forwarded == 10000
    assert (row.received, row.archived) == (40, 30)
    assert row.followed_up_pct == pytest.approx(95.07, abs=1e-9)
    assert row.in_process_pct == pytest.approx(2.68, abs=1e-9)
    assert row.not_followed_up_pct == pytest.approx(2.25, abs=1e-9)


def test_seed_rating_and_interval(result):
    row = _month(result["institution_metrics"], "dukcapil")
    assert row.rating_count == 1000
    assert row.rating_sum == 4220
    assert row.rating_avg == pytest.approx(4.22, abs=1e-9)
    # sample variance (18,700 - 1,000 x 4.22^2) / 999 = 0.892492, sd 0.944718;
    # t(0.975, 999) = 1.96234 -> half width 0.058624 -> [4.1614, 4.2786]
    assert row.rating_ci_low == pytest.approx(4.16, abs=1e-9)
    assert row.rating_ci_high == pytest.approx(4.28, abs=1e-9)


def test_smoothed_rating_uses_the_national_mean(result):
    # national mean = (4,220 + 30) / 1,010 = 4.2079208
    # dukcapil: (10 x 4.2079208 + 4,220) / 1,010 = 4.21988 -> 4.22
    # other:    (10 x 4.2079208 + 30) / 20 = 3.60396 -> 3.60
    table = result["institution_metrics"]
    assert _month(table, "dukcapil").rating_smoothed == pytest.approx(4.22, abs=1e-9)
    assert _month(table, "other").rating_smoothed == pytest.approx(3.60, abs=1e-9)
    assert _month(table, "other").rating_avg == pytest.approx(3.0, abs=1e-9)
    # ten identical ratings: the interval collapses onto the mean
    assert _month(table, "other").rating_ci_low == pytest.approx(3.0, abs=1e-9)
    assert _month(table, "dukcapil").rank_in_level == 1
    assert _month(table, "other").rank_in_level == 2
    # central institutions have no population: no per-100k figure
    assert pd.isna(_month(table, "dukcapil").complaints_per_100k)


def test_national_month_adds_both_institutions(result):
    national = result["national_metrics"]
    row = national[national.period == "month"].iloc[0]
    assert row.total == 10080
    assert row.forwarded == 10010
    # followed up (9,507 + 5) / 10,010 = 95.0250 % ; in process 268 / 10,010 = 2.6773 %;
    # not yet (225 + 5) / 10,010 = 2.2977 % -> floors 9502 + 267 + 229 = 9998 basis points,
    # the 2 missing go to the largest remainders (.77 and .73) -> 95.02, 2.68, 2.30
    assert row.followed_up_pct == pytest.approx(95.02, abs=1e-9)
    assert row.in_process_pct == pytest.approx(2.68, abs=1e-9)
    assert row.not_followed_up_pct == pytest.approx(2.30, abs=1e-9)
    assert row.rating_smoothed == pytest.approx(4.21, abs=1e-9)  # the national mean 4.2079
