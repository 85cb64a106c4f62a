"""The figures a report shows, read from the metrics views in DuckDB.

Views (built by ``metrics``): institution_metrics, national_metrics, region_metrics,
overdue_complaints, sources, ingest_runs. Every query here is parameterised; when a period has
been computed more than once (several ``as_of`` dates) the latest computation wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from .formatting import period_end

#: share of SLA-judged complaints that must meet their deadline (one place to change it)
SLA_TARGET_PCT = 90.0
#: (metric key, label, deadline text) in the order of the complaint's life
SLA_MILESTONES = (
    ("verification", "Verifikasi admin", "3 hari kerja sejak pengaduan masuk"),
    ("forwarding", "Disposisi ke instansi", "3 hari kerja sejak pengaduan masuk"),
    ("first_response", "Tanggapan pertama", "5 hari kerja sejak disposisi"),
    (
        "completion",
        "Penyelesaian",
        "5 (informasi, aspirasi) / 14 / 60 (berkadar pengawasan) hari kerja sejak disposisi",
    ),
)
MILESTONE_LABELS = {key: label for key, label, _ in SLA_MILESTONES}
CLASSIFICATION_LABELS = {
    "pengaduan": "Pengaduan",
    "aspirasi": "Aspirasi",
    "permintaan_informasi": "Permintaan informasi",
}
LEVEL_LABELS = {
    "provinsi": "provinsi",
    "kabupaten": "kabupaten",
    "kota": "kota",
    "kementerian": "kementerian",
    "lembaga": "lembaga",
    "unit": "unit kerja",
}
#: the only columns of overdue_complaints a report may show (no personal data, no text)
OVERDUE_COLUMNS = ("complaint_id", "classification", "milestone", "deadline", "days_overdue")
PERIODS = ("week", "month")
NATIONAL_ID = "nasional"


@dataclass(frozen=True)
class ReportFiles:
    pdf: Path
    xlsx: Path
    institution_id: str = ""
    period: str = ""
    period_start: date | None = None
    name: str = ""


@dataclass
class InstitutionData:
    institution_id: str
    name: str
    level: str
    period: str
    period_start: date
    period_end: date
    metrics: dict
    trend: pd.DataFrame
    rank: int | None
    rank_of: int
    overdue: pd.DataFrame
    completeness: dict
    extra: dict = field(default_factory=dict)


def _check_period(period: str) -> None:
    if period not in PERIODS:
        raise ValueError(f"period must be one of {PERIODS}, not {period!r}")


def institution_period(con, period: str, period_start: date) -> pd.DataFrame:
    """Every institution's latest row for one period."""
    return con.execute(
        "SELECT * FROM institution_metrics WHERE period = ? AND period_start = ? "
        "QUALIFY row_number() OVER (PARTITION BY institution_id ORDER BY as_of DESC) = 1",
        [period, period_start],
    ).df()


def institution_metrics(con, institution_id: str, period: str, period_start: date) -> dict:
    df = con.execute(
        "SELECT * FROM institution_metrics WHERE institution_id = ? AND period = ? "
        "AND period_start = ? ORDER BY as_of DESC LIMIT 1",
        [institution_id, period, period_start],
    ).df()
    if df.empty:
        raise LookupError(f"no metrics for {institution_id} {period} {period_start}")
    return df.iloc[0].to_dict()


def institution_trend(
    con, institution_id: str, period: str, period_start: date, n: int = 12
) -> pd.DataFrame:
    """The last ``n`` periods of this kind up to and including ``period_start``, oldest first."""
    df = con.execute(
        "SELECT period_start, total, forwarded, followed_up_pct, in_process_pct, "
        "not_followed_up_pct, rating_avg, rating_count, rating_smoothed, sla_completion_pct "
        "FROM institution_metrics WHERE institution_id = ? AND period = ? AND period_start <= ? "
        "QUALIFY row_number() OVER (PARTITION BY period_start ORDER BY as_of DESC) = 1 "
        "ORDER BY period_start DESC LIMIT ?",
        [institution_id, period, period_start, n],
    ).df()
    df = df.sort_values("period_start").reset_index(drop=True)
    df["period_start"] = pd.to_datetime(df["period_start"]).dt.date
    return df


def level_size(con, level: str, period: str, period_start: date) -> int:
    return con.execute(
        "SELECT count(DISTINCT institution_id) FROM institution_metrics "
        "WHERE level = ? AND period = ? AND period_start = ?",
        [level, period, period_start],
    ).fetchone()[0]


def overdue(con, institution_id: str, as_of: date | None = None) -> pd.DataFrame:
    """The institution's overdue complaints as of the report's date, worst first.

    ``overdue_complaints`` keeps one snapshot per ``as_of`` day, written by the same metrics run
    as the figures of that day; the report shows the snapshot of its own as-of date (without one,
    the newest). An institution with nothing overdue that day has no rows in it, and its list is
    empty: an earlier day's list would show complaints it has since answered. Only the allowed
    columns (no personal data, no text).
    """
    df = con.execute(
        "SELECT complaint_id, classification, milestone, deadline, days_overdue "
        "FROM overdue_complaints WHERE institution_id = ? AND as_of = "
        "coalesce(?, (SELECT max(as_of) FROM overdue_complaints)) "
        "ORDER BY days_overdue DESC, complaint_id",
        [institution_id, as_of],
    ).df()
    if not df.empty:
        df["deadline"] = pd.to_datetime(df["deadline"]).dt.date
    return df


def completeness(
    con, period: str, period_start: date, as_of: date | None, institution_id: str | None = None
) -> pd.DataFrame:
    """Per source: days in the period (up to as_of) without a published run, and failed days.

    Columns: source_id, institution_id, name, level, owner_email, days, days_missing,
    days_failed. ``institution_id=None`` gives every source.
    """
    end = period_end(period, period_start)
    if as_of is not None and as_of < end:
        end = as_of
    if end < period_start:
        end = period_start
    params = [period_start, end, institution_id, institution_id]
    return con.execute(
        """
        WITH days AS (
            SELECT CAST(d AS DATE) AS day FROM range(CAST(? AS DATE),
                CAST(? AS DATE) + INTERVAL 1 DAY, INTERVAL 1 DAY) t(d)
        ),
        runs AS (
            SELECT source_id, day,
                   bool_or(status = 'published') AS published,
                   bool_or(status IN ('failed', 'rejected')) AS failed
            FROM ingest_runs GROUP BY source_id, day
        )
        SELECT s.source_id, s.institution_id, s.name, s.level, s.owner_email,
               count(*) AS days,
               count(*) FILTER (WHERE NOT coalesce(r.published, false)) AS days_missing,
               count(*) FILTER (WHERE coalesce(r.failed, false)
                                AND NOT coalesce(r.published, false)) AS days_failed
        FROM sources s CROSS JOIN days d
        LEFT JOIN runs r ON r.source_id = s.source_id AND r.day = d.day
        WHERE CAST(? AS VARCHAR) IS NULL OR s.institution_id = ?
        GROUP BY ALL ORDER BY days_missing DESC, s.source_id
        """,
        params,
    ).df()


def recipients(con, institution_id: str) -> list[str]:
    rows = con.execute(
        "SELECT DISTINCT owner_email FROM sources WHERE institution_id = ? "
        "AND owner_email IS NOT NULL AND trim(owner_email) <> '' ORDER BY 1",
        [institution_id],
    ).fetchall()
    return [r[0].strip() for r in rows]


class PeriodShared:
    """What every report of one period reads alike, read once for all of them: the
    completeness of every source (per as-of date; ``ingest_runs`` is one small file per
    source-day, so reading it took ~0.26 s of each report's ~0.34 s of queries) and the number
    of institutions per level. For one ``build_reports`` call, whose connection sees no new
    runs meanwhile."""

    def __init__(self, con, period: str, period_start: date):
        self.con, self.period, self.period_start = con, period, period_start
        self._completeness: dict[date | None, pd.DataFrame] = {}
        self._level_size: dict[str, int] = {}

    def completeness(self, as_of: date | None, institution_id: str | None = None) -> pd.DataFrame:
        """``completeness(...)``: of every source, or of one institution's."""
        if as_of not in self._completeness:
            self._completeness[as_of] = completeness(
                self.con, self.period, self.period_start, as_of
            )
        every = self._completeness[as_of]
        if institution_id is None:
            return every
        return every[every["institution_id"] == institution_id].reset_index(drop=True)

    def level_size(self, level: str) -> int:
        if level not in self._level_size:
            self._level_size[level] = level_size(self.con, level, self.period, self.period_start)
        return self._level_size[level]


def load_institution(
    con,
    institution_id: str,
    period: str,
    period_start: date,
    shared: PeriodShared | None = None,
) -> InstitutionData:
    """One institution's report data; ``shared`` carries what the period's other reports read
    too (``build_reports`` passes one for all of them)."""
    _check_period(period)
    if shared is None:
        shared = PeriodShared(con, period, period_start)
    m = institution_metrics(con, institution_id, period, period_start)
    as_of = pd.Timestamp(m["as_of"]).date() if m.get("as_of") is not None else None
    comp = shared.completeness(as_of, institution_id)
    days = int(comp["days"].max()) if not comp.empty else 0
    summary = {
        "sources": len(comp),
        "days": days,
        "days_missing": int(comp["days_missing"].max()) if not comp.empty else 0,
        "days_failed": int(comp["days_failed"].max()) if not comp.empty else 0,
        "as_of": as_of,
    }
    rank = m.get("rank_in_level")
    return InstitutionData(
        institution_id=institution_id,
        name=str(m["name"]),
        level=str(m["level"]),
        period=period,
        period_start=period_start,
        period_end=period_end(period, period_start),
        metrics=m,
        trend=institution_trend(con, institution_id, period, period_start),
        rank=None if rank is None or pd.isna(rank) else int(rank),
        rank_of=shared.level_size(m["level"]),
        overdue=overdue(con, institution_id, as_of),
        completeness=summary,
    )


def sla_rows(m: dict) -> list[dict]:
    """One row per milestone: met, breached, pending, pct and whether the target is reached."""
    rows = []
    for key, label, deadline in SLA_MILESTONES:
        pct = m.get(f"sla_{key}_pct")
        pct = None if pct is None or pd.isna(pct) else float(pct)
        rows.append(
            {
                "key": key,
                "label": label,
                "deadline": deadline,
                "met": int(m.get(f"sla_{key}_met") or 0),
                "breached": int(m.get(f"sla_{key}_breached") or 0),
                "pending": int(m.get(f"sla_{key}_pending") or 0),
                "pct": pct,
                "target": SLA_TARGET_PCT,
                "ok": None if pct is None else pct >= SLA_TARGET_PCT,
            }
        )
    return rows
