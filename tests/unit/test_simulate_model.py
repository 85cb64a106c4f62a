"""The complaint lifecycle generator: volumes, rhythm, lifecycles, determinism, planted damage."""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from complaints.canonical import CHANNELS, CLASSIFICATIONS, MILESTONES, STATUSES
from complaints.simulate import model
from complaints.simulate.damage import BROKEN_KINDS

MONDAY = dt.date(2026, 3, 2)  # no holiday that week
STATUS_RANK = {s: i for i, s in enumerate(STATUSES)}


def source(
    sid="kab-3201", level="kabupaten", region="32.01", pop=5_400_000, tz="Asia/Jakarta", kind="sql"
):
    return SimpleNamespace(
        id=sid,
        level=level,
        region_code=region,
        timezone=tz,
        population=pop,
        connector=SimpleNamespace(kind=kind, options={}),
    )


@pytest.fixture(scope="module")
def week():
    return model.versions(
        source(), MONDAY, MONDAY + dt.timedelta(days=6), scale=0.5, broken_share=0.0
    )


def test_same_seed_same_versions_and_subset_ranges_agree():
    src = source(pop=900_000)
    a = model.versions(src, MONDAY, MONDAY + dt.timedelta(days=3), seed=5, broken_share=0.05)
    b = model.versions(src, MONDAY, MONDAY + dt.timedelta(days=3), seed=5, broken_share=0.05)
    pd.testing.assert_frame_equal(a, b)
    # one day alone is the same as that day inside a longer range
    day = MONDAY + dt.timedelta(days=2)
    alone = model.versions(src, day, day, seed=5, broken_share=0.05).reset_index(drop=True)
    inside = a[a["local_day"] == day].reset_index(drop=True)
    pd.testing.assert_frame_equal(alone, inside)
    c = model.versions(src, MONDAY, MONDAY + dt.timedelta(days=3), seed=6, broken_share=0.05)
    assert not a["complaint_id"].equals(c["complaint_id"]) or not a["updated_at"].equals(
        c["updated_at"]
    )


def test_volume_follows_population_and_weekends_are_lower():
    big = source("prov-32", "provinsi", "32", 49_000_000)
    small = source("kab-9999", "kabupaten", "91.01", 90_000, tz="Asia/Jayapura")
    end = MONDAY + dt.timedelta(days=6)
    n_big = model.versions(big, MONDAY, end, scale=0.2, broken_share=0)
    n_small = model.versions(small, MONDAY, end, scale=0.2, broken_share=0)
    assert len(n_big) > 5 * len(n_small)
    first = n_big.drop_duplicates("complaint_id")
    per_day = first.groupby(first["submitted_at"].dt.date).size()
    weekday = per_day[[MONDAY + dt.timedelta(days=i) for i in range(5)]].mean()
    weekend = per_day[[MONDAY + dt.timedelta(days=5), MONDAY + dt.timedelta(days=6)]].mean()
    assert weekend < 0.6 * weekday


def test_holidays_are_quieter():
    # 2026-08-17 (Monday) is Independence Day; compare with the Monday before
    src = source("prov-32", "provinsi", "32", 49_000_000)
    rate = model.daily_rate(src)
    hol = set(model.holiday_dates(2026, 2026))
    assert dt.date(2026, 8, 17) in hol
    assert model.day_factor(dt.date(2026, 8, 17), hol) < model.day_factor(dt.date(2026, 8, 10), hol)
    assert rate > 400


def test_default_volume_is_demo_sized():
    regions = [source(f"kab-{i}", pop=p) for i, p in enumerate((150_000, 500_000, 1_200_000))]
    central = [source("kemenkes", "kementerian", None, None), source("bpjs", "lembaga", None, None)]
    rates = [model.daily_rate(s) for s in regions + central]
    assert all(2 <= r <= 120 for r in rates)


def test_statuses_progress_and_milestones_are_ordered(week):
    assert set(week["status"]) <= set(STATUSES)
    assert set(week["classification"]) <= set(CLASSIFICATIONS)
    assert set(week["channel"]) <= set(CHANNELS)
    multi = week.groupby("complaint_id")["local_day"].nunique()
    assert (multi > 1).sum() > 20  # exported again on later days
    for _cid, g in week.sort_values("updated_at").groupby("complaint_id"):
        ranks = [STATUS_RANK[s] for s in g["status"]]
        if "archived" not in set(g["status"]):
            assert ranks == sorted(ranks)
        assert g["local_day"].is_unique  # one version per local day
    stamps = week[list(MILESTONES)]
    for a, b in zip(MILESTONES, MILESTONES[1:], strict=False):
        both = stamps[a].notna() & stamps[b].notna()
        assert (stamps.loc[both, a] <= stamps.loc[both, b]).all(), (a, b)
    latest = stamps.max(axis=1)
    assert (latest <= week["updated_at"]).all()
    assert (week["updated_at"].dt.date == week["local_day"]).all()


def test_lifecycle_shares_are_plausible():
    src = source(pop=3_000_000)
    U, _seq, E = model.lifecycles(src, MONDAY, MONDAY + dt.timedelta(days=30), scale=1.0)
    n = len(E)
    assert n > 5000
    archived = ~np.isnan(E[:, 6])
    assert 0.04 < archived.mean() < 0.11
    closed = ~np.isnan(E[:, 5])
    assert 0.6 < closed.mean() < 0.9
    # verification within 3 working days for most, not all
    cal = model.busday_calendar(2025, 2026)
    sub = (E[:, 0] // 86400).astype("datetime64[D]")
    ver = ~np.isnan(E[:, 1])
    ver_day = (E[ver, 1] // 86400).astype("datetime64[D]")
    wd = np.busday_count(sub[ver], ver_day, busdaycal=cal)
    assert 0.8 < (wd <= 3).mean() < 0.99
    # pengaduan is the big class
    classes = np.asarray(model.CLASSIFICATIONS)[
        model._pick(U[:, model.U_CLASS], model.CLASSIFICATION_P)
    ]
    assert 0.65 < (classes == "pengaduan").mean() < 0.75


def test_ratings_flags_and_people(week):
    closed = week[week["status"] == "closed"]
    rated = closed["rating"].dropna().astype(int)
    assert 0.25 < len(rated) / len(closed) < 0.55
    assert rated.between(1, 5).all()
    assert (rated == 5).sum() > (rated == 2).sum() and (rated == 1).sum() > 0
    assert week.loc[week["status"] != "closed", "rating"].isna().all()
    assert 0.01 < week["is_rahasia"].mean() < 0.12
    # some complaints are marked rahasia by the admin at verification, never before
    flags = week.groupby("complaint_id")["is_rahasia"]
    marked = flags.transform("any") & ~flags.transform("all")
    assert marked.any()
    assert not week.loc[marked & week["is_rahasia"], "event"].eq("submitted").any()
    assert week.loc[marked & ~week["is_rahasia"], "event"].eq("submitted").all()
    assert 0.08 < week["is_anonim"].mean() < 0.25
    assert week["reporter_nik"].str.fullmatch(r"\d{16}").all()
    assert week["reporter_nik"].str.startswith("32").all()
    assert week["reporter_phone"].str.fullmatch(r"08\d{8,11}").all()
    with_phone = week.apply(lambda r: r["reporter_phone"] in (r["body"] + r["title"]), axis=1)
    with_nik = week.apply(lambda r: r["reporter_nik"] in r["body"], axis=1)
    assert with_phone.any() and with_nik.any()
    assert week["complaint_id"].str.match(r"^KAB-3201-\d{8}-\d{4}$").all()


def test_central_institutions_hear_from_many_regions():
    frame = model.versions(
        source("kemenkes", "kementerian", None, None),
        MONDAY,
        MONDAY + dt.timedelta(days=2),
        broken_share=0,
    )
    assert frame["region_code"].nunique() > 10
    assert frame["region_code"].str.match(r"^\d\d\.\d\d$").all()


def test_future_events_are_hidden_by_now():
    src = source(pop=2_000_000)
    now = dt.datetime(2026, 3, 3, 5, 0, tzinfo=dt.UTC)  # 12:00 WIB
    frame = model.versions(src, MONDAY, MONDAY + dt.timedelta(days=3), now=now, broken_share=0)
    assert frame["updated_at"].max() <= pd.Timestamp("2026-03-03 12:00:00")


def test_broken_rows_are_planted_and_counted():
    src = source(pop=3_000_000)
    frame = model.versions(src, MONDAY, MONDAY + dt.timedelta(days=4), scale=0.5, broken_share=0.1)
    broken = frame[frame["broken"] != ""]
    assert 0.05 < len(broken) / len(frame) < 0.15
    assert set(broken["broken"]) == set(BROKEN_KINDS)
    assert broken.loc[broken["broken"] == "missing_id", "complaint_id"].isna().all()
    assert frame.loc[frame["broken"] != "missing_id", "complaint_id"].notna().all()
    region = broken.loc[broken["broken"] == "unknown_region", "region_code"]
    assert not region.eq("32.01").any()
    rating = broken[broken["broken"] == "bad_rating"]
    assert (rating["broken_field"] == "rating").all()
    assert set(rating["broken_value"]) <= {"0", "6", "lima"}
    status = broken[broken["broken"] == "unknown_status"]
    assert (status["broken_field"] == "status").all()
    dates = broken[broken["broken"] == "bad_date"]
    assert dates["broken_field"].isin(MILESTONES).all()
    for text in dates["broken_value"]:
        with pytest.raises(ValueError):
            dt.datetime.strptime(text, "%d/%m/%Y %H:%M")
    future = broken[broken["broken"] == "future_timestamp"]
    assert (
        future[list(MILESTONES)].max(axis=1) > future["updated_at"] + pd.Timedelta(days=300)
    ).all()
    order = broken[broken["broken"] == "milestone_out_of_order"]
    for _, row in order.iterrows():
        present = [row[m] for m in MILESTONES if pd.notna(row[m])]
        assert present != sorted(present)
    # a clean row has none of the damage
    clean = frame[frame["broken"] == ""]
    assert (clean["broken_field"] == "").all()
    stamps = clean[list(MILESTONES)]
    assert (stamps.max(axis=1) <= clean["updated_at"]).all()


def test_typed_sql_gets_no_text_damage():
    frame = model.versions(
        source(pop=3_000_000),
        MONDAY,
        MONDAY + dt.timedelta(days=4),
        scale=0.5,
        broken_share=0.2,
        text_values=False,
    )
    assert "bad_date" not in set(frame["broken"])
    assert "lima" not in set(frame["broken_value"])
    assert re.fullmatch(
        r"\d+", "".join(frame.loc[frame["broken"] == "bad_rating", "broken_value"]) or "0"
    )
