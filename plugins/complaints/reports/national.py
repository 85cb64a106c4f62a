"""The national report for KemenPAN-RB: league tables, rating distribution, worst SLA breaches,
followed-up share by province, and the sources that did not report."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from . import charts, data, pdf, xlsx
from . import formatting as f
from .data import NATIONAL_ID, ReportFiles
from .institution import report_dir, report_stem, write_meta
from .xlsx import Col

LEAGUE_SIZE = 10  # top and bottom rows of each league table
GROUPS = (
    ("ministries", "Kementerian, lembaga dan unit kerja", ("kementerian", "lembaga", "unit")),
    ("provinces", "Pemerintah provinsi", ("provinsi",)),
    ("regencies", "Pemerintah kabupaten dan kota", ("kabupaten", "kota")),
)
SLA_KEYS = [k for k, _, _ in data.SLA_MILESTONES]


RANK_BY = ["rating_smoothed", "followed_up_pct"]


def _ranked(df: pd.DataFrame, levels: tuple[str, ...]) -> pd.DataFrame:
    """Institutions of these levels ranked as ``rank_in_level`` ranks within one level: by the
    published smoothed rating, then followed-up share; equal in both, equal rank (SQL RANK())."""
    part = df[df["level"].isin(levels) & (df["total"] > 0)].copy()
    part = part.sort_values(
        [*RANK_BY, "name"], ascending=[False, False, True], na_position="last"
    ).reset_index(drop=True)
    keys = part[RANK_BY].astype("float64").fillna(float("-inf"))  # NULLs equal one another
    new_key = keys.ne(keys.shift()).any(axis=1)
    part["rank"] = pd.Series(range(1, len(part) + 1)).where(new_key).ffill().astype("int64")
    return part


def _league(part: pd.DataFrame) -> dict:
    rows = part.to_dict("records")
    if len(rows) <= 2 * LEAGUE_SIZE:
        return {"top": rows, "bottom": [], "size": len(rows)}
    return {"top": rows[:LEAGUE_SIZE], "bottom": rows[-LEAGUE_SIZE:], "size": len(rows)}


def load_national(
    con, period: str, period_start: date, shared: data.PeriodShared | None = None
) -> dict:
    if period not in data.PERIODS:
        raise ValueError(f"period must be one of {data.PERIODS}, not {period!r}")
    inst = data.institution_period(con, period, period_start)
    nat = con.execute(
        "SELECT * FROM national_metrics WHERE period = ? AND period_start = ? "
        "ORDER BY as_of DESC LIMIT 1",
        [period, period_start],
    ).df()
    m = nat.iloc[0].to_dict() if not nat.empty else {}
    regions = con.execute(
        "SELECT province_code, province_name, followed_up_pct, rating_avg, total "
        "FROM region_metrics WHERE scope = 'all' AND period = ? AND period_start = ? "
        "QUALIFY row_number() OVER (PARTITION BY province_code ORDER BY as_of DESC) = 1 "
        "ORDER BY province_name",
        [period, period_start],
    ).df()
    inst["sla_breached"] = sum(inst[f"sla_{k}_breached"].fillna(0) for k in SLA_KEYS)
    worst = inst[inst["sla_breached"] > 0].sort_values(
        ["sla_breached", "name"], ascending=[False, True]
    )
    as_of = pd.Timestamp(m["as_of"]).date() if m.get("as_of") is not None else None
    if as_of is None and not inst.empty:
        as_of = pd.Timestamp(inst["as_of"].max()).date()
    if shared is None:
        shared = data.PeriodShared(con, period, period_start)
    comp = shared.completeness(as_of)
    return {
        "metrics": m,
        "institutions": inst,
        "leagues": {key: _ranked(inst, levels) for key, _, levels in GROUPS},
        "regions": regions,
        "worst": worst.head(LEAGUE_SIZE),
        "silent": comp[comp["days_missing"] > 0],
        "as_of": as_of,
    }


def _context(n: dict, period: str, period_start: date) -> dict:
    m = n["metrics"]
    label = f.period_label(period, period_start)
    inst = n["institutions"]
    return {
        "doc_title": f"Laporan kinerja nasional SP4N-LAPOR! - {label}",
        "period_label": label,
        "as_of_label": f.fmt_date(n["as_of"]) if n["as_of"] else f.MISSING,
        "footer_note": "Untuk Kementerian PANRB",
        "headline": f.headline(
            m.get("followed_up_pct"),
            m.get("not_followed_up_pct"),
            m.get("in_process_pct"),
            m.get("rating_avg"),
        ),
        "m": m,
        "institution_count": int((inst["total"] > 0).sum()) if not inst.empty else 0,
        "leagues": [(title, _league(n["leagues"][key]), levels) for key, title, levels in GROUPS],
        "level_labels": data.LEVEL_LABELS,
        "hist_png": pdf.png_data_uri(charts.rating_histogram(inst["rating_avg"].tolist())),
        "province_png": (
            pdf.png_data_uri(
                charts.province_bars(
                    n["regions"]["province_name"].tolist(),
                    n["regions"]["followed_up_pct"].tolist(),
                )
            )
            if not n["regions"].empty
            else None
        ),
        "worst": n["worst"].to_dict("records"),
        "silent": n["silent"].to_dict("records"),
        "sla_keys": SLA_KEYS,
        "milestone_labels": data.MILESTONE_LABELS,
        "target": data.SLA_TARGET_PCT,
    }


LEAGUE_COLS = (
    Col("Peringkat", "rank", xlsx.INT, width=10),
    Col("Kode", "institution_id", width=16),
    Col("Instansi", "name", width=44),
    Col("Tingkat", "level", width=12),
    Col("Pengaduan masuk", "total", xlsx.INT),
    Col("Ditindaklanjuti", "followed_up_pct", xlsx.PCT, scale=0.01),
    Col("Rating rata-rata", "rating_avg", xlsx.DEC2),
    Col("Jumlah penilaian", "rating_count", xlsx.INT),
    Col("Skor terkoreksi", "rating_smoothed", xlsx.DEC2),
    Col("Kepatuhan SLA penyelesaian", "sla_completion_pct", xlsx.PCT, scale=0.01),
)
SLA_COLS = (
    Col("Kode", "institution_id", width=16),
    Col("Instansi", "name", width=44),
    Col("Total terlambat", "sla_breached", xlsx.INT),
    *(
        Col(f"Terlambat: {data.MILESTONE_LABELS[k]}", f"sla_{k}_breached", xlsx.INT)
        for k in SLA_KEYS
    ),
)
SILENT_COLS = (
    Col("Sumber", "source_id", width=18),
    Col("Nama", "name", width=44),
    Col("Tingkat", "level", width=12),
    Col("Hari dalam periode", "days", xlsx.INT),
    Col("Hari tanpa data terbit", "days_missing", xlsx.INT),
    Col("Hari gagal diproses", "days_failed", xlsx.INT),
)
REGION_COLS = (
    Col("Kode", "province_code", xlsx.TEXT, width=8),
    Col("Provinsi", "province_name", width=30),
    Col("Pengaduan masuk", "total", xlsx.INT),
    Col("Ditindaklanjuti", "followed_up_pct", xlsx.PCT, scale=0.01),
    Col("Rating rata-rata", "rating_avg", xlsx.DEC2),
)


def write_national_xlsx(n: dict, ctx: dict, path: Path) -> Path:
    m = n["metrics"]
    wb = xlsx.new_workbook("Ringkasan")
    ws = wb["Ringkasan"]
    start = xlsx.add_title(
        ws, "SP4N-LAPOR! \u2014 Laporan Kinerja Nasional", f"Periode {ctx['period_label']}"
    )
    pairs = [
        ("Periode", ctx["period_label"], None),
        ("Data per", n["as_of"], xlsx.DATE),
        ("Ringkasan", ctx["headline"], None),
        ("Pengaduan masuk", m.get("total"), xlsx.INT),
        ("Diteruskan", m.get("forwarded"), xlsx.INT),
        *xlsx.share_rows(m),
        ("Instansi dengan pengaduan", ctx["institution_count"], xlsx.INT),
        ("Sumber diharapkan", m.get("sources_expected"), xlsx.INT),
        ("Sumber melapor", m.get("sources_reported"), xlsx.INT),
        ("Sumber terlambat", m.get("sources_late"), xlsx.INT),
        ("Sumber gagal", m.get("sources_failed"), xlsx.INT),
    ]
    pairs += [
        (f"Kepatuhan SLA: {data.MILESTONE_LABELS[k]}", xlsx.pct_fraction(m.get(f"sla_{k}_pct")),
         xlsx.PCT)
        for k in SLA_KEYS
    ]  # fmt: skip
    xlsx.add_pairs(ws, pairs, start)
    sheets = (("Kementerian", "ministries"), ("Provinsi", "provinces"), ("Kab-Kota", "regencies"))
    for title, key in sheets:
        xlsx.add_table(wb.create_sheet(title), LEAGUE_COLS, n["leagues"][key].to_dict("records"))
    xlsx.add_table(wb.create_sheet("Per provinsi"), REGION_COLS, n["regions"].to_dict("records"))
    xlsx.add_table(wb.create_sheet("SLA"), SLA_COLS, n["worst"].to_dict("records"))
    xlsx.add_table(wb.create_sheet("Sumber"), SILENT_COLS, n["silent"].to_dict("records"))
    return xlsx.save(wb, path, ctx["doc_title"])


def build_national_report(
    con,
    period: str,
    period_start: date,
    outbox: Path,
    shared: data.PeriodShared | None = None,
) -> ReportFiles:
    """Build ``<outbox>/<period>/<start>/nasional/nasional_<period>_<start>.pdf|.xlsx``."""
    n = load_national(con, period, period_start, shared)
    ctx = _context(n, period, period_start)
    folder = report_dir(outbox, period, period_start, NATIONAL_ID)
    stem = report_stem(NATIONAL_ID, period, period_start)
    pdf_path = pdf.write_pdf("national.html", ctx, folder / f"{stem}.pdf")
    xlsx_path = write_national_xlsx(n, ctx, folder / f"{stem}.xlsx")
    name = "Nasional (KemenPAN-RB)"
    write_meta(
        folder,
        institution_id=NATIONAL_ID,
        name=name,
        level="nasional",
        period=period,
        period_start=period_start.isoformat(),
        period_label=ctx["period_label"],
        headline=ctx["headline"],
        pdf=pdf_path.name,
        xlsx=xlsx_path.name,
    )
    return ReportFiles(pdf_path, xlsx_path, NATIONAL_ID, period, period_start, name)
