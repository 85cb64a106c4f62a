"""The complaint lifecycle generator: every version a source would export, day by day.

A complaint is submitted on a local day and then moves through the admin flow of DOMAIN.md:
verified -> forwarded (disposisi) -> first response -> followed up -> closed, or is archived
(A3/A4) at verification. Delays are drawn in working days (``numpy.busday_offset`` over the
Indonesian calendar) so that most milestones meet their SLA and some breach.

A source exports a complaint again on each local day on which its status changed: one *version*
per (complaint, local day) carrying the status and milestones as of that day's last event, with
``updated_at`` = that event's time. All times are naive local times of the source's time zone.

Determinism: the complaints submitted on a day come from a generator seeded with
(seed, source id, day), and every event happens within ``LIFECYCLE_DAYS`` of submission, so the
versions of a given source-day are the same whatever range or subset of sources is simulated.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from functools import lru_cache

import holidays
import numpy as np
import pandas as pd

from complaints.canonical import MILESTONES
from complaints.simulate.damage import BROKEN_KINDS, plant_broken
from complaints.simulate.distributions import (
    CATEGORIES,
    CATEGORY_P,
    CENTRAL_SIZES,
    CHANNEL_P,
    CHANNELS,
    CLASSIFICATION_P,
    CLASSIFICATIONS,
    CLOSE_WD,
    COMPLETION_WD,
    EVENT_STATUS,
    EVENTS,
    FIRST_RESPONSE_WD,
    FORWARD_WD,
    HOLIDAY_FACTOR,
    LIFECYCLE_DAYS,
    P_ANONIM,
    P_ARCHIVED,
    P_COMPLETION_ON_TIME,
    P_MARKED_RAHASIA,
    P_NEVER_VERIFIED,
    P_NOT_CLOSED,
    P_PENGAWASAN,
    P_RAHASIA,
    P_RATED,
    P_STALL_FIRST_RESPONSE,
    P_STALL_FOLLOW_UP,
    PER_CAPITA,
    RATING_P,
    VERIFY_WD,
    WEEKDAY_FACTOR,
)

# columns of the uniform matrix drawn per complaint
(
    U_TOD,
    U_CLASS,
    U_PENGAWASAN,
    U_CATEGORY,
    U_CHANNEL,
    U_RAHASIA,
    U_ANONIM,
    U_VERIFY_OUTCOME,
    U_VERIFY_WD,
    U_FORWARD_WD,
    U_FIRST_WD,
    U_ON_TIME,
    U_COMPLETION,
    U_CLOSE_WD,
    U_STALL_FIRST,
    U_STALL_FOLLOW,
    U_NOT_CLOSED,
    U_RATED,
    U_RATING,
    U_T_VERIFY,
    U_T_FORWARD,
    U_T_FIRST,
    U_T_FOLLOW,
    U_T_CLOSE,
    U_NAME1,
    U_NAME2,
    U_PHONE,
    U_NIK,
    U_TITLE,
    U_PII,
    U_BODY,
    U_EMAIL,
    U_REGION,
    U_VARIANT,
) = range(34)
N_UNIFORMS = 34

DAY_S = 86400


def source_hash(source_id: str) -> int:
    """A stable 63-bit integer for a source id (seeds, format rotation)."""
    return int.from_bytes(hashlib.sha256(source_id.encode()).digest()[:8], "big") >> 1


def day_rng(seed: int, source_id: str, day: dt.date, stream: int = 0) -> np.random.Generator:
    return np.random.Generator(
        np.random.PCG64(
            np.random.SeedSequence([seed, source_hash(source_id), day.toordinal(), stream])
        )
    )


@lru_cache(maxsize=16)
def holiday_dates(first_year: int, last_year: int) -> tuple[dt.date, ...]:
    """Indonesian public holidays and cuti bersama (holidays package, ID, public+government)."""
    years = list(range(first_year, last_year + 1))
    found = holidays.country_holidays("ID", years=years, categories=("public", "government"))
    return tuple(sorted(found))


@lru_cache(maxsize=16)
def busday_calendar(first_year: int, last_year: int) -> np.busdaycalendar:
    return np.busdaycalendar(
        weekmask="1111100", holidays=list(holiday_dates(first_year, last_year))
    )


def daily_rate(source) -> float:
    """Expected complaints on an ordinary weekday at scale 1.0."""
    level = source.level
    if level in PER_CAPITA:
        return max(2.0, float(source.population or 0) * PER_CAPITA[level])
    sizes = CENTRAL_SIZES.get(level, CENTRAL_SIZES["lembaga"])
    return sizes[source_hash(source.id) % len(sizes)]


def day_factor(day: dt.date, holiday_set) -> float:
    factor = WEEKDAY_FACTOR[day.weekday()]
    return factor * HOLIDAY_FACTOR if day in holiday_set else factor


def _pick(u: np.ndarray, probs) -> np.ndarray:
    """Inverse CDF of a discrete distribution: indices into probs."""
    cdf = np.cumsum(np.asarray(probs, dtype=float))
    return np.minimum(np.searchsorted(cdf / cdf[-1], u, side="right"), len(cdf) - 1)


def _submissions(source, start: dt.date, end: dt.date, seed: int, scale: float):
    """Uniform matrix and submission day of every complaint submitted in [start, end]."""
    hol = set(holiday_dates(start.year, end.year))
    rate = daily_rate(source) * scale
    blocks, days, seqs = [], [], []
    for offset in range((end - start).days + 1):
        day = start + dt.timedelta(days=offset)
        rng = day_rng(seed, source.id, day)
        n = int(rng.poisson(rate * day_factor(day, hol)))
        block = rng.random((n, N_UNIFORMS))
        blocks.append(block[np.argsort(block[:, U_TOD], kind="stable")])  # ids in time order
        days.append(np.full(n, (day - dt.date(1970, 1, 1)).days, dtype=np.int64))
        seqs.append(np.arange(1, n + 1))
    if not blocks:
        return np.empty((0, N_UNIFORMS)), np.empty(0, np.int64), np.empty(0, np.int64)
    return np.vstack(blocks), np.concatenate(days), np.concatenate(seqs)


def _place(day: np.ndarray, u: np.ndarray, prev: np.ndarray) -> np.ndarray:
    """Office-hours time on `day` (epoch days), never before `prev` (seconds) on the same day."""
    t = day * DAY_S + 8 * 3600 + np.floor(u * 8.5 * 3600)
    gap = 60 + np.floor(np.modf(u * 997.0)[0] * 3540)
    t = np.maximum(t, prev + gap)
    return np.minimum(t, day * DAY_S + DAY_S - 1)


def lifecycles(source, start: dt.date, end: dt.date, seed: int = 42, scale: float = 1.0):
    """(U, sub_seq, E): uniforms, per-day sequence numbers and the event matrix.

    E has one row per complaint submitted in [start - LIFECYCLE_DAYS, end] and one column per
    EVENTS entry: naive local seconds since 1970, NaN where the event does not happen.
    """
    first = start - dt.timedelta(days=LIFECYCLE_DAYS)
    U, sub_day, seq = _submissions(source, first, end, seed, scale)
    n = len(sub_day)
    cal = busday_calendar(first.year, end.year + 1)
    E = np.full((n, len(EVENTS)), np.nan)
    if n == 0:
        return U, seq, E
    # submission: mostly daytime, some in the evening or night
    tod = np.floor((5.5 + U[:, U_TOD] ** 1.15 * 18.4) * 3600) % DAY_S
    E[:, 0] = sub_day * DAY_S + tod
    sub_d = sub_day.astype("datetime64[D]")

    def offset(days, probs, u):
        return np.busday_offset(days, _pick(u, probs), roll="forward", busdaycal=cal)

    def epoch_days(d):
        return d.astype(np.int64)

    limit = (sub_day + LIFECYCLE_DAYS + 1) * DAY_S

    def keep(t, present):
        return np.where(present & (t < limit), t, np.nan)

    outcome = U[:, U_VERIFY_OUTCOME]
    never = outcome < P_NEVER_VERIFIED
    archived = (outcome >= P_NEVER_VERIFIED) & (outcome < P_NEVER_VERIFIED + P_ARCHIVED)
    v_day = offset(sub_d, VERIFY_WD, U[:, U_VERIFY_WD])
    t_v = _place(epoch_days(v_day), U[:, U_T_VERIFY], E[:, 0])
    E[:, 1] = keep(t_v, ~never & ~archived)
    E[:, 6] = keep(t_v, archived)

    f_day = offset(v_day, FORWARD_WD, U[:, U_FORWARD_WD])
    E[:, 2] = keep(_place(epoch_days(f_day), U[:, U_T_FORWARD], E[:, 1]), ~np.isnan(E[:, 1]))

    first_wd = _pick(U[:, U_FIRST_WD], FIRST_RESPONSE_WD)
    r_day = np.busday_offset(f_day, first_wd, roll="forward", busdaycal=cal)
    E[:, 3] = keep(
        _place(epoch_days(r_day), U[:, U_T_FIRST], E[:, 2]),
        ~np.isnan(E[:, 2]) & (U[:, U_STALL_FIRST] >= P_STALL_FIRST_RESPONSE),
    )

    classification = np.asarray(CLASSIFICATIONS)[_pick(U[:, U_CLASS], CLASSIFICATION_P)]
    pengawasan = (classification == "pengaduan") & (U[:, U_PENGAWASAN] < P_PENGAWASAN)
    limit_wd = np.select(
        [pengawasan, classification == "pengaduan"],
        [COMPLETION_WD["pengaduan_pengawasan"], COMPLETION_WD["pengaduan"]],
        COMPLETION_WD["aspirasi"],
    )
    on_time = U[:, U_ON_TIME] < P_COMPLETION_ON_TIME
    share = np.where(on_time, 0.2 + 0.8 * U[:, U_COMPLETION], 1.05 + U[:, U_COMPLETION])
    follow_wd = np.maximum(first_wd, np.ceil(limit_wd * share).astype(np.int64))
    u_day = np.busday_offset(f_day, follow_wd, roll="forward", busdaycal=cal)
    E[:, 4] = keep(
        _place(epoch_days(u_day), U[:, U_T_FOLLOW], E[:, 3]),
        ~np.isnan(E[:, 3]) & (U[:, U_STALL_FOLLOW] >= P_STALL_FOLLOW_UP),
    )

    c_day = offset(u_day, CLOSE_WD, U[:, U_CLOSE_WD])
    E[:, 5] = keep(
        _place(epoch_days(c_day), U[:, U_T_CLOSE], E[:, 4]),
        ~np.isnan(E[:, 4]) & (U[:, U_NOT_CLOSED] >= P_NOT_CLOSED),
    )
    return U, seq, E


def version_index(E: np.ndarray, start: dt.date, end: dt.date, now_s: float | None = None):
    """(rows, event columns) of the versions whose local day is in [start, end].

    A version is the last event of a local day; events after ``now_s`` have not happened yet.
    """
    if now_s is not None:
        E = np.where(E <= now_s, E, np.nan)
        # an event that has not happened hides every later one
        for j in range(1, 6):
            E[:, j] = np.where(np.isnan(E[:, j - 1]), np.nan, E[:, j])
    present = ~np.isnan(E)
    day = np.where(present, np.floor(np.nan_to_num(E) / DAY_S), -1).astype(np.int64)
    next_day = np.full_like(day, -2)
    following = np.full(len(E), -2, dtype=np.int64)
    for j in range(E.shape[1] - 1, -1, -1):
        next_day[:, j] = following
        following = np.where(present[:, j], day[:, j], following)
    lo = (start - dt.date(1970, 1, 1)).days
    hi = (end - dt.date(1970, 1, 1)).days
    emit = present & (day != next_day) & (day >= lo) & (day <= hi)
    rows, cols = np.nonzero(emit)
    order = np.lexsort((rows, E[rows, cols]))
    return rows[order], cols[order], E


def milestone_values(E: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> dict[str, np.ndarray]:
    """Milestone seconds as of each version (NaN for what has not happened by then)."""
    out = {}
    archived = cols == 6
    for m, name in enumerate(MILESTONES):
        values = E[rows, m]
        known = (m <= cols) & ~archived
        out[name] = np.where(known, values, np.nan)
    out["submitted_at"] = E[rows, 0]
    out["verified_at"] = np.where(archived, E[rows, 6], out["verified_at"])
    return out


@lru_cache(maxsize=1)
def _regions() -> pd.DataFrame:
    from complaints.config import REFERENCE_REGIONS

    return pd.read_csv(REFERENCE_REGIONS, dtype={"code": str, "province_code": str})


def _region_names() -> dict[str, str]:
    frame = _regions()
    return dict(zip(frame["code"], frame["name"], strict=True))


def _complaint_regions(source, u: np.ndarray) -> np.ndarray:
    """The source's own region; central institutions hear from every kabupaten/kota."""
    if source.region_code:
        return np.full(len(u), source.region_code, dtype=object)
    local = _regions()
    local = local[local["level"] != "provinsi"]
    return local["code"].to_numpy()[_pick(u, local["population"].to_numpy())]


def _as_local(seconds: np.ndarray) -> pd.Series:
    return pd.Series(pd.to_datetime(seconds, unit="s")).astype("datetime64[s]")


def versions(
    source,
    start: dt.date,
    end: dt.date,
    *,
    seed: int = 42,
    broken_share: float = 0.01,
    broken_kinds: tuple[str, ...] = BROKEN_KINDS,
    text_values: bool = True,
    scale: float = 1.0,
    now: dt.datetime | None = None,
) -> pd.DataFrame:
    """Every complaint version of ``source`` updated on a local day in [start, end].

    Canonical values (status words are canonical, timestamps naive local ``datetime64``),
    plus ``event`` (the EVENTS entry behind the version), ``local_day``, ``variant`` (a uniform
    exports use to pick among synonyms) and the planted damage: ``broken`` (a BROKEN_KINDS entry
    or ""), ``broken_field`` and ``broken_value`` (what an export writes instead of the value).
    ``text_values=False`` (typed SQL columns) plants no unparseable dates and no "lima" rating.
    """
    U, seq, E = lifecycles(source, start, end, seed=seed, scale=scale)
    now_s = None
    if now is not None:
        from zoneinfo import ZoneInfo

        local_now = now.astimezone(ZoneInfo(source.timezone)).replace(tzinfo=None)
        now_s = (local_now - dt.datetime(1970, 1, 1)).total_seconds()
    rows, cols, E = version_index(E, start, end, now_s)
    Uv = U[rows]
    sub_day = (E[rows, 0] // DAY_S).astype(np.int64)
    cls_idx = _pick(Uv[:, U_CLASS], CLASSIFICATION_P)
    classification = np.asarray(CLASSIFICATIONS)[cls_idx]
    category = np.asarray(CATEGORIES)[_pick(Uv[:, U_CATEGORY], CATEGORY_P)]
    frame = pd.DataFrame(
        {
            "complaint_id": [
                f"{source.id.upper()}-{(dt.date(1970, 1, 1) + dt.timedelta(int(d))):%Y%m%d}"
                f"-{int(s):04d}"
                for d, s in zip(sub_day, seq[rows], strict=True)
            ],
            "region_code": _complaint_regions(source, Uv[:, U_REGION]),
            "classification": classification,
            "berkadar_pengawasan": (classification == "pengaduan")
            & (Uv[:, U_PENGAWASAN] < P_PENGAWASAN),
            "category": category,
            "channel": np.asarray(CHANNELS)[_pick(Uv[:, U_CHANNEL], CHANNEL_P)],
            "is_rahasia": (Uv[:, U_RAHASIA] < P_RAHASIA)
            | (
                (Uv[:, U_RAHASIA] < P_RAHASIA + P_MARKED_RAHASIA)
                & (cols >= EVENTS.index("verified"))
            ),
            "is_anonim": Uv[:, U_ANONIM] < P_ANONIM,
            "status": np.asarray(EVENT_STATUS)[cols],
            "event": np.asarray(EVENTS)[cols],
        }
    )
    rated = (cols == 5) & (Uv[:, U_RATED] < P_RATED)
    stars = _pick(Uv[:, U_RATING], RATING_P) + 1
    frame["rating"] = pd.array(np.where(rated, stars, 0), dtype="Int64")
    frame.loc[~rated, "rating"] = pd.NA
    _add_people(frame, source, Uv)
    for name, values in milestone_values(E, rows, cols).items():
        frame[name] = _as_local(values)
    frame["updated_at"] = _as_local(E[rows, cols])
    frame["local_day"] = frame["updated_at"].dt.date
    frame["variant"] = Uv[:, U_VARIANT]
    frame["broken"] = ""
    frame["broken_field"] = ""
    frame["broken_value"] = ""
    plant_broken(frame, source.id, seed, broken_share, broken_kinds, text_values)
    return frame


def _add_people(frame: pd.DataFrame, source, Uv: np.ndarray) -> None:
    from complaints.simulate import texts

    names = _region_names()
    province = source.region_code[:2] if source.region_code else None
    people, titles, bodies = [], [], []
    regions = frame["region_code"].tolist()
    categories = frame["category"].tolist()
    for u, region, category in zip(Uv.tolist(), regions, categories, strict=True):
        person = texts.reporter(
            u[U_NAME1], u[U_NAME2], u[U_PHONE], u[U_NIK], u[U_EMAIL], province or region[:2]
        )
        title, body = texts.complaint_text(
            category,
            u[U_TITLE],
            u[U_BODY],
            u[U_PII],
            person["reporter_phone"],
            person["reporter_nik"],
            names.get(region, region),
        )
        people.append(person)
        titles.append(title)
        bodies.append(body)
    frame["title"] = titles
    frame["body"] = bodies
    for key in ("reporter_nik", "reporter_name", "reporter_phone", "reporter_email"):
        frame[key] = [p[key] for p in people]
