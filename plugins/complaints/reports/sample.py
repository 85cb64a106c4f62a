"""A deterministic sample of the metrics views, for tests, demos and timing the reports.

``sample_connection()`` returns an in-memory DuckDB connection with the views the reports read
(institution_metrics, national_metrics, region_metrics, overdue_complaints, sources,
ingest_runs), registered from pandas DataFrames with exactly the contract's columns.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import duckdb
import pandas as pd

from .formatting import period_end

MILESTONES = ("verification", "forwarding", "first_response", "completion")
INSTITUTION_COLS = ["institution_id", "name", "level"]
SOURCE_COLS = [
    "source_id", "institution_id", "name", "level", "parent", "region_code", "province_code",
    "timezone", "population", "connector_kind", "owner_email",
]  # fmt: skip


def metric_row(rng: random.Random, total: int) -> dict:
    """One period's metric columns, internally consistent (shares sum to 100)."""
    received = rng.randint(0, total // 20)
    archived = rng.randint(0, total // 20)
    forwarded = total - received - archived
    verified = rng.randint(0, forwarded // 10) if forwarded else 0
    in_process = rng.randint(0, (forwarded - verified) // 10) if forwarded else 0
    done = forwarded - verified - in_process
    closed = done // 2
    followed_up = done - closed
    row = {
        "received": received, "verified": verified, "in_process": in_process,
        "followed_up": followed_up, "closed": closed, "archived": archived, "total": total,
        "forwarded": forwarded,
    }  # fmt: skip
    if forwarded:
        nf = round(verified / forwarded * 100, 2)
        ip = round(in_process / forwarded * 100, 2)
        row.update(
            followed_up_pct=round(100 - nf - ip, 2), in_process_pct=ip, not_followed_up_pct=nf
        )
    else:
        row.update(followed_up_pct=None, in_process_pct=None, not_followed_up_pct=None)
    count = rng.randint(0, max(1, done // 3))
    avg = round(rng.uniform(2.5, 4.9), 2) if count else None
    row.update(
        rating_avg=avg,
        rating_count=count,
        rating_smoothed=None if avg is None else round((avg * count + 4.0 * 10) / (count + 10), 2),
        rating_ci_low=None if avg is None else round(max(1, avg - 0.3), 2),
        rating_ci_high=None if avg is None else round(min(5, avg + 0.3), 2),
    )
    for m in MILESTONES:
        met = rng.randint(0, forwarded)
        breached = rng.randint(0, max(0, forwarded - met) // 3)
        row[f"sla_{m}_met"] = met
        row[f"sla_{m}_breached"] = breached
        row[f"sla_{m}_pending"] = forwarded - met - breached
        row[f"sla_{m}_pct"] = round(met / (met + breached) * 100, 2) if met + breached else None
    row.update(
        median_wd_to_followup=round(rng.uniform(1, 8), 1),
        p90_wd_to_followup=round(rng.uniform(8, 30), 1),
    )
    return row


def _periods(period: str, start: date, n: int) -> list[date]:
    out = [start]
    for _ in range(n - 1):
        prev = out[-1]
        if period == "week":
            out.append(prev - timedelta(days=7))
        else:
            out.append((prev - timedelta(days=1)).replace(day=1))
    return sorted(out)


def sample_frames(
    institutions: list[dict] | None = None,
    period: str = "month",
    period_start: date = date(2026, 10, 1),
    history: int = 12,
    seed: int = 7,
) -> dict[str, pd.DataFrame]:
    """DataFrames for every view. ``institutions``: dicts with institution_id, name, level,
    owner_email and optionally province_code, population, total."""
    rng = random.Random(seed)
    if institutions is None:
        institutions = default_institutions(12)
    as_of = period_end(period, period_start) + timedelta(days=2)
    inst_rows, src_rows, overdue_rows = [], [], []
    for inst in institutions:
        for ps in _periods(period, period_start, history):
            total = inst.get("total", rng.randint(40, 900)) if ps == period_start else None
            total = rng.randint(40, 900) if total is None else total
            row = {k: inst[k] for k in INSTITUTION_COLS}
            row.update(period=period, period_start=ps, as_of=as_of, **metric_row(rng, total))
            row["complaints_per_100k"] = round(total / inst.get("population", 1e6) * 1e5, 2)
            inst_rows.append(row)
        src_rows.append(
            {
                "source_id": inst["institution_id"],
                "institution_id": inst["institution_id"],
                "name": inst["name"],
                "level": inst["level"],
                "parent": None,
                "region_code": inst.get("province_code"),
                "province_code": inst.get("province_code"),
                "timezone": "Asia/Jakarta",
                "population": inst.get("population"),
                "connector_kind": "http",
                "owner_email": inst.get("owner_email"),
            }
        )
        for i in range(rng.randint(0, 4)):
            overdue_rows.append(
                {
                    "complaint_id": f"LAP-{inst['institution_id'].upper()}-{i:04d}",
                    "institution_id": inst["institution_id"],
                    "classification": rng.choice(["pengaduan", "aspirasi", "permintaan_informasi"]),
                    "milestone": rng.choice(MILESTONES),
                    "deadline": as_of - timedelta(days=5 + i),
                    "days_overdue": 5 + i * 3,
                    "as_of": as_of,
                }
            )
    inst_df = pd.DataFrame(inst_rows)
    inst_df["rank_in_level"] = (
        inst_df.groupby(["level", "period", "period_start"])["rating_smoothed"]
        .rank(ascending=False, method="min")
        .astype("Int64")
    )
    nat = []
    for ps in _periods(period, period_start, history):
        row = {"period": period, "period_start": ps, "as_of": as_of}
        row.update(metric_row(rng, rng.randint(5000, 20000)))
        row.update(
            complaints_per_100k=12.5, sources_reported=len(institutions) - 1, sources_late=1,
            sources_failed=1, sources_expected=len(institutions),
        )  # fmt: skip
        nat.append(row)
    regions = []
    provinces = {i["province_code"]: i for i in institutions if i.get("province_code")}
    for code, inst in provinces.items():
        for scope in ("own_desk", "regencies", "all"):
            row = {
                "province_code": code,
                "province_name": inst.get("province_name", inst["name"]),
                "scope": scope,
                "period": period,
                "period_start": period_start,
                "as_of": as_of,
            }
            row.update(metric_row(rng, rng.randint(100, 2000)))
            row["complaints_per_100k"] = 10.0
            regions.append(row)
    runs = []
    end = period_end(period, period_start)
    for n, inst in enumerate(institutions):
        day = period_start
        while day <= end:
            status = "published"
            if n == 1 and day.day in (3, 4):
                status = "failed"
            if not (n == 2 and day.day == 5):  # one source silent for a day
                runs.append(
                    {"source_id": inst["institution_id"], "day": day, "status": status,
                     "rows_read": 100}
                )  # fmt: skip
            day += timedelta(days=1)
    return {
        "institution_metrics": inst_df,
        "national_metrics": pd.DataFrame(nat),
        "region_metrics": pd.DataFrame(
            regions,
            columns=None
            if regions
            else [
                "province_code",
                "province_name",
                "scope",
                "period",
                "period_start",
                "as_of",
                *metric_row(random.Random(0), 10),
                "complaints_per_100k",
            ],
        ),  # fmt: skip
        "overdue_complaints": pd.DataFrame(
            overdue_rows,
            columns=[
                "complaint_id",
                "institution_id",
                "classification",
                "milestone",
                "deadline",
                "days_overdue",
                "as_of",
            ],
        ),  # fmt: skip
        "sources": pd.DataFrame(src_rows, columns=SOURCE_COLS),
        "ingest_runs": pd.DataFrame(runs),
    }


def default_institutions(n: int) -> list[dict]:
    base = [
        ("kemendagri", "Kementerian Dalam Negeri", "kementerian", None),
        ("dukcapil", "Ditjen Kependudukan dan Pencatatan Sipil", "unit", None),
        ("bpjs-kes", "BPJS Kesehatan", "lembaga", None),
        ("prov-31", "Pemerintah Provinsi DKI Jakarta", "provinsi", "31"),
        ("prov-32", "Pemerintah Provinsi Jawa Barat", "provinsi", "32"),
        ("prov-94", "Pemerintah Provinsi Papua", "provinsi", "94"),
        ("kab-3201", "Pemerintah Kabupaten Bogor", "kabupaten", None),
        ("kota-3273", "Pemerintah Kota Bandung", "kota", None),
    ]
    out = []
    for i in range(n):
        if i < len(base):
            iid, name, level, prov = base[i]
        else:
            iid, name, level, prov = (
                f"kab-{9000 + i}",
                f"Pemerintah Kabupaten Contoh {i}",
                "kabupaten",
                None,
            )  # noqa: E501
        out.append(
            {"institution_id": iid, "name": name, "level": level, "province_code": prov,
             "province_name": name.replace("Pemerintah Provinsi ", ""),
             "owner_email": f"pengaduan@{iid}.go.id", "population": 2_000_000}
        )  # fmt: skip
    return out


def register(con, frames: dict[str, pd.DataFrame]) -> None:
    for name, df in frames.items():
        con.register(f"_{name}_df", df)
        sql = f'CREATE OR REPLACE VIEW {name} AS SELECT * FROM "_{name}_df"'  # noqa: S608
        con.execute(sql)


def sample_connection(**kwargs) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    register(con, sample_frames(**kwargs))
    return con
