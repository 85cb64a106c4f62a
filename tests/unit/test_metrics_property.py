"""Property test: the SQL metrics equal a plain-Python reference on random complaints.

The reference uses only the numpy calendar (WorkingCalendar.deadline, local_dates) and the rules
of docs/metrics.md, written independently of the SQL.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from metrics_support import complaint, connect, source

from complaints.calendar import WorkingCalendar, local_dates
from complaints.canonical import STATUSES
from complaints.metrics import compute_metrics

CAL = WorkingCalendar()
AS_OF = dt.date(2024, 4, 20)
START = dt.datetime(2024, 3, 1)  # March-April 2024: Nyepi and Idul Fitri with cuti bersama
SOURCES = [
    source("kota-a", "kota", "91", timezone="Asia/Jayapura", population=300000),
    source("prov-b", "provinsi", "73", timezone="Asia/Makassar", population=900000),
    source("kemen-c", "kementerian"),
]
TZ = {s["institution_id"]: s["timezone"] for s in SOURCES}
LATER = ("verified_at", "forwarded_at", "first_response_at", "followed_up_at", "closed_at")
MILESTONES = ("verification", "forwarding", "first_response", "completion")


@st.composite
def complaints(draw):
    n = draw(st.integers(min_value=1, max_value=40))
    rows = []
    for i in range(n):
        institution = draw(st.sampled_from(sorted(TZ)))
        hour = draw(st.integers(min_value=0, max_value=55 * 24))
        submitted = START + dt.timedelta(hours=hour, minutes=draw(st.sampled_from([0, 30])))
        stamps, at = {}, submitted
        for name in LATER:
            if draw(st.booleans()):
                at = at + dt.timedelta(hours=draw(st.integers(min_value=0, max_value=300)))
                stamps[name] = at.strftime("%Y-%m-%d %H:%M")
        rows.append(
            complaint(
                f"c{i}",
                institution,
                submitted.strftime("%Y-%m-%d %H:%M"),
                timezone=TZ[institution],
                status=draw(st.sampled_from(STATUSES)),
                classification=draw(
                    st.sampled_from(["pengaduan", "aspirasi", "permintaan_informasi"])
                ),
                berkadar=draw(st.sampled_from([True, False, None])),
                rating=draw(st.one_of(st.none(), st.integers(min_value=1, max_value=5))),
                **stamps,
            )
        )
    return rows


def _day(ts: str | None, tz: str):
    if ts is None:
        return None
    return local_dates(pd.Series([ts]), tz)[0].astype(object)


def _largest_remainder(counts: list[int], total: int) -> list[float] | None:
    if total == 0:
        return None
    bp = [10000 * c // total for c in counts]
    order = sorted(range(len(counts)), key=lambda i: (-(10000 * counts[i] % total), i))
    for i in order[: 10000 - sum(bp)]:
        bp[i] += 1
    return [b / 100 for b in bp]


def _outcome(day0, limit, event, as_of):
    if day0 is None or day0 > as_of:
        return None
    deadline = CAL.deadline([day0], limit)[0].astype(object)
    if event is not None and event > as_of:
        event = None
    if event is not None:
        return "met" if event <= deadline else "breached"
    return "breached" if as_of > deadline else "pending"


def reference(rows, as_of):
    """{(institution, month start): figures} computed row by row."""
    groups = defaultdict(lambda: {"status": Counter(), "ratings": [], "sla": Counter()})
    for row in rows:
        tz = row["timezone"]
        submitted = _day(row["submitted_at"], tz)
        if submitted > as_of:
            continue
        g = groups[(row["institution_id"], submitted.replace(day=1))]
        g["status"][row["status"]] += 1
        if row["rating"] is not None:
            g["ratings"].append(row["rating"])
        if row["status"] == "archived":
            continue
        d = {name: _day(row[name], tz) for name in LATER}
        d = {k: (v if v is not None and v <= as_of else None) for k, v in d.items()}
        if row["classification"] == "pengaduan":
            limit = 60 if row["berkadar_pengawasan"] else 14
        else:
            limit = 5
        first = d["first_response_at"] or d["followed_up_at"] or d["closed_at"]
        done = d["followed_up_at"] or d["closed_at"]
        for milestone, day0, n, event in (
            ("verification", submitted, 3, d["verified_at"]),
            ("forwarding", submitted, 3, d["forwarded_at"]),
            ("first_response", d["forwarded_at"], 5, first),
            ("completion", d["forwarded_at"], limit, done),
        ):
            outcome = _outcome(day0, n, event, as_of)
            if outcome:
                g["sla"][(milestone, outcome)] += 1
    return groups


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=complaints(), as_of_offset=st.integers(min_value=-30, max_value=10))
def test_sql_matches_python_reference(rows, as_of_offset):
    as_of = AS_OF + dt.timedelta(days=as_of_offset)
    con = connect(rows, SOURCES)
    out = compute_metrics(con, as_of, calendar=CAL, periods=("month",))
    table = out["institution_metrics"]
    expected = reference(rows, as_of)
    assert len(table) == len(expected)
    for r in table.itertuples():
        g = expected[(r.institution_id, r.period_start.date())]
        status = g["status"]
        assert [getattr(r, s) for s in STATUSES] == [status[s] for s in STATUSES]
        forwarded = sum(status[s] for s in ("verified", "in_process", "followed_up", "closed"))
        assert r.forwarded == forwarded
        shares = _largest_remainder(
            [status["followed_up"] + status["closed"], status["in_process"], status["verified"]],
            forwarded,
        )
        got = [r.followed_up_pct, r.in_process_pct, r.not_followed_up_pct]
        if shares is None:
            assert all(pd.isna(x) for x in got)
        else:
            assert got == shares
            assert round(sum(round(x * 100) for x in got)) == 10000
        assert r.rating_count == len(g["ratings"])
        if g["ratings"]:
            n, total = len(g["ratings"]), sum(g["ratings"])
            assert r.rating_avg == ((200 * total + n) // (2 * n)) / 100  # half-up, 2 decimals
        else:
            assert pd.isna(r.rating_avg)
        for m in MILESTONES:
            for outcome in ("met", "breached", "pending"):
                assert getattr(r, f"sla_{m}_{outcome}") == g["sla"][(m, outcome)], (m, outcome)
