"""SLA outcomes counted by hand.

Calendar facts used: Fri 1 Mar 2024 + 3 wd = Wed 6 Mar; Mon 4 Mar + 5 wd = Wed 13 Mar (Mon 11
Nyepi, Tue 12 cuti bersama), = Tue 12 Mar without cuti bersama; Thu 2 Jan 2025 + 60 wd = Thu 10 Apr
2025; Fri 5 Apr 2024 + 5 wd = Mon 22 Apr (8-15 Apr closed: 16, 17, 18, 19, 22).
WIT = UTC+9, WIB = UTC+7.
"""

from __future__ import annotations

import pandas as pd
import pytest
from metrics_support import complaint, connect, day, source

from complaints.calendar import CalendarError, WorkingCalendar
from complaints.metrics import compute_metrics

PAPUA = "Asia/Jayapura"
SOURCES = [
    source("kota-jayapura", "kota", "91", timezone=PAPUA, population=400000),
    source("prov-91", "provinsi", "91", timezone=PAPUA, population=1000000),
    source("kemen", "kementerian"),
]
FRI_EVENING_WIT = "2024-03-01 10:00"  # 19:00 WIT Friday 1 Mar


def _outcomes(con) -> dict[tuple[str, str], str]:
    frame = con.table("complaint_milestones").df()
    return {(r.complaint_id, r.milestone): r.outcome for r in frame.itertuples()}


CALENDARS = {True: WorkingCalendar(), False: WorkingCalendar(cuti_bersama=False)}


def _run(rows, as_of, cuti_bersama=True):
    con = connect(rows, SOURCES)
    out = compute_metrics(con, day(as_of), calendar=CALENDARS[cuti_bersama])
    return con, out


def test_deadline_day_is_met_the_day_after_is_breached():
    rows = [
        # verified 14:30 UTC Wed 6 Mar = 23:30 WIT, still the deadline day
        complaint(
            "on-time",
            "kota-jayapura",
            FRI_EVENING_WIT,
            timezone=PAPUA,
            status="verified",
            verified_at="2024-03-06 14:30",
            # forwarded 15:30 UTC Wed 6 Mar = 00:30 WIT Thu 7 Mar: one day late
            forwarded_at="2024-03-06 15:30",
        ),
    ]
    con, out = _run(rows, "2024-03-29")
    outcomes = _outcomes(con)
    assert outcomes[("on-time", "verification")] == "met"
    assert outcomes[("on-time", "forwarding")] == "breached"
    deadlines = con.table("complaint_milestones").df().set_index("milestone").deadline
    assert deadlines["verification"].date() == day("2024-03-06")


def test_open_complaint_pending_until_deadline_then_breached():
    rows = [complaint("open", "kota-jayapura", FRI_EVENING_WIT, timezone=PAPUA)]
    con, out = _run(rows, "2024-03-06")
    assert _outcomes(con)[("open", "verification")] == "pending"
    assert out["overdue_complaints"].empty
    month = out["institution_metrics"].query("period == 'month'").iloc[0]
    assert (month.sla_verification_met, month.sla_verification_pending) == (0, 1)
    assert pd.isna(month.sla_verification_pct)  # pending is outside the denominator

    con, out = _run(rows, "2024-03-08")
    assert _outcomes(con)[("open", "verification")] == "breached"
    overdue = out["overdue_complaints"].set_index("milestone")
    assert sorted(overdue.index) == ["forwarding", "verification"]
    # deadline Wed 6 Mar, as of Fri 8 Mar: Thu 7 and Fri 8 -> 2 working days overdue
    assert overdue.loc["verification", "days_overdue"] == 2
    assert "title" not in overdue.columns and "reporter_key" not in overdue.columns
    # never forwarded: first response and completion are not counted at all
    assert ("open", "first_response") not in _outcomes(con)
    assert ("open", "completion") not in _outcomes(con)


def test_saturday_utc_instant_in_papua_vs_friday_in_jakarta():
    # 15:30 UTC Thu 29 Feb = 00:30 WIT Fri 1 Mar (deadline Wed 6) = 22:30 WIB Thu (deadline Tue 5)
    rows = [
        complaint(
            "wit",
            "kota-jayapura",
            "2024-02-29 15:30",
            timezone=PAPUA,
            status="verified",
            verified_at="2024-03-06 03:00",
        ),
        complaint(
            "wib", "kemen", "2024-02-29 15:30", status="verified", verified_at="2024-03-06 03:00"
        ),
    ]
    con, _ = _run(rows, "2024-03-29")
    outcomes = _outcomes(con)
    assert outcomes[("wit", "verification")] == "met"
    assert outcomes[("wib", "verification")] == "breached"


def _first_response_rows():
    return [
        # forwarded Mon 4 Mar 10:00 WIB; no first_response_at, so followed_up_at counts:
        # 16:00 UTC Wed 13 Mar = 23:00 WIB Wed 13 Mar
        complaint(
            "fr",
            "kemen",
            "2024-03-01 03:00",
            status="followed_up",
            verified_at="2024-03-04 02:00",
            forwarded_at="2024-03-04 03:00",
            followed_up_at="2024-03-13 16:00",
        ),
    ]


def test_first_response_falls_back_to_follow_up_and_respects_cuti_bersama():
    con, _ = _run(_first_response_rows(), "2024-03-29")
    assert _outcomes(con)[("fr", "first_response")] == "met"  # deadline Wed 13 Mar
    con, _ = _run(_first_response_rows(), "2024-03-29", cuti_bersama=False)
    assert _outcomes(con)[("fr", "first_response")] == "breached"  # deadline Tue 12 Mar


def test_completion_limits_by_classification():
    rows = [
        # pengaduan berkadar pengawasan: 60 wd from Thu 2 Jan 2025 -> Thu 10 Apr 2025
        complaint(
            "b-met",
            "kemen",
            "2025-01-02 02:00",
            status="followed_up",
            berkadar=True,
            forwarded_at="2025-01-02 03:00",
            followed_up_at="2025-04-10 09:00",
        ),
        complaint(
            "b-late",
            "kemen",
            "2025-01-02 02:00",
            status="closed",
            berkadar=True,
            forwarded_at="2025-01-02 03:00",
            closed_at="2025-04-11 09:00",
        ),
        # the same dates as a plain pengaduan (14 wd) are long breached
        complaint(
            "p-late",
            "kemen",
            "2025-01-02 02:00",
            status="followed_up",
            forwarded_at="2025-01-02 03:00",
            followed_up_at="2025-04-10 09:00",
        ),
        # aspirasi, forwarded Fri 5 Apr 2024: 5 wd -> Mon 22 Apr 2024; answered then: met
        complaint(
            "a-met",
            "kemen",
            "2024-04-05 02:00",
            status="closed",
            classification="aspirasi",
            forwarded_at="2024-04-05 03:00",
            closed_at="2024-04-22 09:00",
        ),
        # archived: no milestone at all
        complaint(
            "arch", "kemen", "2025-01-02 02:00", status="archived", forwarded_at="2025-01-02 03:00"
        ),
    ]
    con, out = _run(rows, "2025-04-30")
    outcomes = _outcomes(con)
    assert outcomes[("b-met", "completion")] == "met"
    assert outcomes[("b-late", "completion")] == "breached"
    assert outcomes[("p-late", "completion")] == "breached"
    assert outcomes[("a-met", "completion")] == "met"
    assert not any(key[0] == "arch" for key in outcomes)
    table = out["institution_metrics"]
    jan = table[(table.period == "month") & (table.period_start == pd.Timestamp("2025-01-01"))]
    row = jan.iloc[0]
    assert (row.sla_completion_met, row.sla_completion_breached) == (1, 2)
    assert row.sla_completion_pct == pytest.approx(33.33, abs=1e-9)
    # working days from forwarding: b-met and p-late 2 Jan -> 10 Apr = 60, b-late -> 11 Apr = 61
    assert row.median_wd_to_followup == pytest.approx(60.0)
    # quantile_cont over [60, 60, 61]: p90 = 60 + 0.8 x 1 = 60.8
    assert row.p90_wd_to_followup == pytest.approx(60.8)


def test_event_after_as_of_has_not_happened_yet():
    rows = [
        complaint(
            "later", "kemen", "2024-03-01 03:00", status="verified", verified_at="2024-03-05 03:00"
        )
    ]
    con, _ = _run(rows, "2024-03-04")
    assert _outcomes(con)[("later", "verification")] == "pending"
    con, _ = _run(rows, "2024-03-05")
    assert _outcomes(con)[("later", "verification")] == "met"


def test_region_rollup_scopes():
    rows = [
        complaint(
            "k1", "kota-jayapura", FRI_EVENING_WIT, timezone=PAPUA, status="closed", rating=5
        ),
        complaint("k2", "kota-jayapura", FRI_EVENING_WIT, timezone=PAPUA, status="in_process"),
        complaint("p1", "prov-91", FRI_EVENING_WIT, timezone=PAPUA, status="verified", rating=2),
        complaint("c1", "kemen", "2024-03-01 03:00", status="closed"),
    ]
    _, out = _run(rows, "2024-03-29")
    region = out["region_metrics"].query("period == 'month'").set_index("scope")
    assert sorted(region.index) == ["all", "own_desk", "regencies"]
    assert region.loc["regencies", "total"] == 2
    assert region.loc["own_desk", "total"] == 1
    assert region.loc["all", "total"] == 3
    # all: 1 followed up, 1 in process, 1 not yet -> 33.34 / 33.33 / 33.33 (tie -> first)
    assert region.loc["all", "followed_up_pct"] == pytest.approx(33.34, abs=1e-9)
    assert region.loc["all", "in_process_pct"] == pytest.approx(33.33, abs=1e-9)
    assert region.loc["all", "rating_avg"] == pytest.approx(3.5, abs=1e-9)
    # 2 complaints / 400,000 inhabitants of the kota x 100,000 = 0.5; all: 3 / 1,000,000 -> 0.3
    assert region.loc["regencies", "complaints_per_100k"] == pytest.approx(0.5)
    assert region.loc["all", "complaints_per_100k"] == pytest.approx(0.3)


def test_since_limits_the_recomputed_periods():
    rows = [
        complaint("a", "kemen", "2024-02-27 03:00"),
        complaint("b", "kemen", "2024-03-05 03:00"),
    ]
    con = connect(rows, SOURCES)
    out = compute_metrics(con, day("2024-03-10"), calendar=CALENDARS[True], since=day("2024-03-05"))
    national = out["national_metrics"]
    starts = {(r.period, r.period_start.date().isoformat()) for r in national.itertuples()}
    # the week of 5 Mar starts Mon 4 Mar; the month 1 Mar; rolling_30d is always there
    assert starts == {
        ("day", "2024-03-05"),
        ("week", "2024-03-04"),
        ("month", "2024-03-01"),
        ("rolling_30d", "2024-02-10"),
    }
    assert national.set_index("period").loc["rolling_30d", "total"] == 2


def test_source_coverage_counts_source_days():
    runs = [
        # on time: finished 2 Mar WIB for day 1 Mar
        dict(
            run_id="r1",
            source_id="kemen",
            day="2024-03-01",
            status="published",
            started_at="2024-03-01 20:00",
            finished_at="2024-03-01 20:10",
        ),
        # late: day 1 Mar, published 3 Mar 09:00 WIB (02:00 UTC)
        dict(
            run_id="r2",
            source_id="prov-91",
            day="2024-03-01",
            status="failed",
            started_at="2024-03-01 20:00",
            finished_at="2024-03-01 20:01",
        ),
        dict(
            run_id="r3",
            source_id="prov-91",
            day="2024-03-01",
            status="published",
            started_at="2024-03-03 01:50",
            finished_at="2024-03-03 02:00",
        ),
        # failed: latest run rejected, nothing published
        dict(
            run_id="r4",
            source_id="kota-jayapura",
            day="2024-03-01",
            status="rejected",
            started_at="2024-03-01 20:00",
            finished_at="2024-03-01 20:05",
        ),
    ]
    con = connect([complaint("x", "kemen", "2024-03-01 03:00")], SOURCES, runs)
    out = compute_metrics(con, day("2024-03-01"), calendar=CALENDARS[True])
    row = out["national_metrics"].set_index("period").loc["day"]
    assert (row.sources_expected, row.sources_reported) == (3, 2)
    assert (row.sources_late, row.sources_failed) == (1, 1)
    month = out["national_metrics"].set_index("period").loc["month"]
    assert month.sources_expected == 3  # 3 sources x 1 day of March up to as_of


def test_a_complaint_closed_without_a_follow_up_timestamp_was_answered_when_it_closed():
    """Closing answers a complaint: its first response cannot be a breach while its
    completion, timed by the same closing, is met."""

    def closed_on(cid, closed_at):  # an aspirasi forwarded Mon 5 Jan 2026, no follow-up time
        return complaint(cid, "kemen", "2026-01-05 01:00", classification="aspirasi",
                         status="closed", verified_at="2026-01-05 02:00",
                         forwarded_at="2026-01-05 03:00", closed_at=closed_at)  # fmt: skip

    # closed Tue 6 Jan; closed Fri 16 Jan, after the 5-wd deadline (Mon 12 Jan) of both
    rows = [closed_on("closed", "2026-01-06 03:00"), closed_on("late", "2026-01-16 03:00")]
    outcomes = _outcomes(_run(rows, "2026-02-02")[0])
    assert outcomes[("closed", "first_response")] == outcomes[("closed", "completion")] == "met"
    assert outcomes[("late", "first_response")] == outcomes[("late", "completion")] == "breached"


def test_an_earlier_day_computes_again_after_months_of_later_complaints():
    """A backfilled or re-run day: complaints submitted after as_of are left out, and need no
    calendar however far past as_of (+60 wd) they lie; the figures are as without them."""
    early = complaint("jan", "kemen", "2026-01-05 01:00", status="verified",
                      verified_at="2026-01-05 02:00")  # fmt: skip
    june = complaint("jun", "kemen", "2026-06-01 01:00")
    as_of = day("2026-01-06")
    with_june = compute_metrics(connect([early, june], SOURCES), as_of, calendar=CALENDARS[True])
    alone = compute_metrics(connect([early], SOURCES), as_of, calendar=CALENDARS[True])
    for name, frame in alone.items():
        pd.testing.assert_frame_equal(with_june[name], frame, obj=name)
    month = with_june["institution_metrics"].query("period == 'month'").iloc[0]
    assert (month.total, month.sla_verification_met) == (1, 1)
    # the calendar's end still bounds as_of: its deadlines must lie inside it
    short = WorkingCalendar(start_year=2020, end_year=2026)
    with pytest.raises(CalendarError):
        compute_metrics(connect([early], SOURCES), day("2026-12-01"), calendar=short)


def _rated(cid, institution, stars):
    return complaint(cid, institution, "2024-03-01 03:00", status="closed", rating=stars)


def test_smoothed_rating_is_rounded_half_up_exactly():
    """X: ten ratings summing to 13; Y: two ratings of 1; national mean 15 / 12 = 1.25. With
    C = 10, X's smoothed rating is (12.5 + 13) / 20 = 1.275 exactly: 1.28, where rounding the
    float (1.2749999...) gives 1.27."""
    stars = [4] + [1] * 9
    rows = [_rated(f"x{i}", "kemen", n) for i, n in enumerate(stars)]
    rows += [_rated("y0", "kota-jayapura", 1), _rated("y1", "kota-jayapura", 1)]
    out = compute_metrics(connect(rows, SOURCES), day("2024-03-29"), calendar=CALENDARS[True])
    month = out["institution_metrics"].query("period == 'month'").set_index("institution_id")
    assert month.loc["kemen", "rating_smoothed"] == 1.28
    assert month.loc["kota-jayapura", "rating_smoothed"] == 1.21  # (12.5 + 2) / 12 = 1.2083..


def test_with_no_prior_an_institution_nobody_rated_has_no_score_and_ranks_last():
    """C = 0: (0 x mean + 0) / (0 + 0) is no score (NULL), not NaN ranked above every score."""
    sources = [source(i, "kementerian") for i in ("k1", "k2", "k3")]
    rows = [
        _rated("a", "k1", 5),
        _rated("b", "k2", 3),
        complaint("c", "k3", "2024-03-01 03:00", status="closed"),  # nobody rated k3
    ]
    out = compute_metrics(
        connect(rows, sources), day("2024-03-29"), calendar=CALENDARS[True], prior_weight=0
    )
    month = out["institution_metrics"].query("period == 'month'").set_index("institution_id")
    assert (month.loc["k1", "rating_smoothed"], month.loc["k2", "rating_smoothed"]) == (5.0, 3.0)
    assert pd.isna(month.loc["k3", "rating_smoothed"])
    assert month.loc[["k1", "k2", "k3"], "rank_in_level"].tolist() == [1, 2, 3]


def test_ranks_follow_the_published_score_then_the_followed_up_share():
    """X: one rating of 1, nothing followed up; Y: two of 2, all closed; Z (another level): ten
    summing to 37, so the national mean is 42 / 13. Unrounded, X (433 / 143 = 3.0280) is above
    Y (472 / 156 = 3.0256); both publish 3.03, and Y's followed-up share (100 % against 0 %)
    ranks it first: what a reader of the published columns finds."""
    sources = [source("x", "kementerian"), source("y", "kementerian"), source("z", "lembaga")]
    rows = [
        complaint("x1", "x", "2024-03-01 03:00", status="verified", rating=1,
                  verified_at="2024-03-01 04:00", forwarded_at="2024-03-01 05:00"),
        _rated("y1", "y", 2),
        _rated("y2", "y", 2),
    ]  # fmt: skip
    rows += [_rated(f"z{i}", "z", 4 if i < 7 else 3) for i in range(10)]
    out = compute_metrics(connect(rows, sources), day("2024-03-29"), calendar=CALENDARS[True])
    month = out["institution_metrics"].query("period == 'month'").set_index("institution_id")
    assert month.loc[["x", "y"], "rating_smoothed"].tolist() == [3.03, 3.03]
    assert month.loc[["y", "x"], "rank_in_level"].tolist() == [1, 2]
